# The environment every command of the project runs the Pulumi CLI in: offline, with a file state
# backend in the project directory and a passphrase secrets provider. Sourced after common.sh, with the
# command it prepares as its arguments (harness-env.sh passes its own), which decide the passphrase below.
project_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export PULUMI_HOME="${PULUMI_HOME:-$CDC_CACHE/pulumi-home}"
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$project_dir/.pulumi-state}"
# Programs run transpiled, not type-checked (`npm test` type-checks them with tsc). A current CLI takes this from
# Pulumi.yaml's `tsconfig: tsconfig.pulumi.json`; the harness's Node.js host (v3.68, scripts/lib/build-pulumi.sh)
# ignores that option, and this is what it amounts to. It also covers the test programs under test/e2e.
export PULUMI_NODEJS_TRANSPILE_ONLY="${PULUMI_NODEJS_TRANSPILE_ONLY:-true}"

# The harness's own stacks hold nothing but the harness's throwaway passwords, encrypted with a passphrase
# that is public (it is right here): the project's `local` and `local-dr` (their salt is in Pulumi.local.yaml
# and Pulumi.local-dr.yaml), `site-primary` and `site-dr` (the two-site drill's, scripts/sites.sh), and any
# stack of the test and benchmark programs under test/ and bench/ (run with --cwd, in private backends). Only a command on those stacks gets it, and only when the caller set
# neither PULUMI_CONFIG_PASSPHRASE nor PULUMI_CONFIG_PASSPHRASE_FILE: any other stack (`dev`, `dr`) needs the
# caller's own, and without it the CLI stops and asks for PULUMI_CONFIG_PASSPHRASE.
HARNESS_STACKS="local local-dr site-primary site-dr"
HARNESS_PASSPHRASE=local-harness-passphrase

# command_stacks CMD...: the stacks a command line names, one a line: --stack/-s NAME (or --stack=NAME), the
# ops commands' --primary/--dr NAME, and `stack init|select|rm NAME`. Of an npm or npx command, only the
# arguments after `--` count (npm's own -s is --silent).
command_stacks() {
  local arg prev="" prev2="" scan=1
  case ${1:-} in npm | npx) scan=0 ;; esac
  for arg in "$@"; do
    if [ "$scan" = 0 ]; then
      [ "$arg" = -- ] && scan=1
      continue
    fi
    case $prev in --stack | -s | --primary | --dr) printf '%s\n' "$arg" ;; esac
    case $arg in --stack=* | --primary=* | --dr=*) printf '%s\n' "${arg#*=}" ;; esac
    if [ "$prev2" = stack ]; then
      case $prev in init | select | rm) case $arg in -*) ;; *) printf '%s\n' "$arg" ;; esac ;; esac
    fi
    prev2=$prev prev=$arg
  done
}

# command_cwd CMD...: the directory a command line names with --cwd/-C (the CLI's), if any.
command_cwd() {
  local arg prev=""
  for arg in "$@"; do
    case $prev in --cwd | -C) printf '%s\n' "$arg" ;; esac
    case $arg in --cwd=*) printf '%s\n' "${arg#*=}" ;; esac
    prev=$arg
  done
}

# harness_command CMD...: whether CMD works on the harness's stacks only. A command that names no stack works
# on the selected one (`pulumi stack --show-name`). Without a command (test/harness.ts, which prepares the
# Automation API's environment for local and local-dr) it does.
harness_command() {
  [ $# -eq 0 ] && return 0
  local cwd stacks stack
  cwd=$(command_cwd "$@" | tail -n 1)
  if [ -n "$cwd" ]; then
    # Relative to the project directory, where harness-env.sh runs the command.
    cwd=$(cd "$project_dir" && cd "$cwd" 2>/dev/null && pwd) || return 1
    case $cwd/ in "$project_dir"/test/* | "$project_dir"/bench/*) return 0 ;; esac
  fi
  stacks=$(command_stacks "$@")
  if [ -z "$stacks" ] && [ "$1" = pulumi ] && command -v pulumi >/dev/null; then
    stacks=$(cd "$project_dir" && pulumi ${cwd:+--cwd "$cwd"} stack --show-name --non-interactive 2>/dev/null) || return 1
  fi
  [ -n "$stacks" ] || return 1
  for stack in $stacks; do
    case " $HARNESS_STACKS " in *" $stack "*) ;; *) return 1 ;; esac
  done
}

if [ -z "${PULUMI_CONFIG_PASSPHRASE+set}${PULUMI_CONFIG_PASSPHRASE_FILE+set}" ] && harness_command "$@"; then
  export PULUMI_CONFIG_PASSPHRASE=$HARNESS_PASSPHRASE
fi
export PULUMI_SKIP_UPDATE_CHECK=true
# Provider plugins cannot be downloaded here; the local stack needs none but the dynamic-provider host.
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
mkdir -p "${PULUMI_BACKEND_URL#file://}"
