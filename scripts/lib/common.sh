# Shared helpers for the harness scripts: where things live, and how a step reports failure.
# Sourced, not run.

# Downloads and builds are cached outside the repository so fresh clones reuse them.
CDC_CACHE="${CDC_CACHE:-$HOME/.cache/cdc-pipeline}"
# Versions pinned by the project (issue 2).
NODE_VERSION=22.23.3
PULUMI_VERSION=3.259.0
# The last sdk/v3 release that still held the Node.js language host (see lib/build-pulumi.sh).
PULUMI_NODEJS_HOST_VERSION=3.68.0
KAFKA_VERSION=4.3.1
DEBEZIUM_VERSION=3.6.1.Final
# Maven Central has no 3.6.1 release of the JDBC sink; 3.6.0 is the newest one it serves.
DEBEZIUM_JDBC_VERSION=3.6.0.Final
MOTO_VERSION=5.2.5
# The GitHub Actions workflows' linter (the tests check .github/workflows with it).
ACTIONLINT_VERSION=1.7.12
# The metrics push gateway the project's containers run (prom/pushgateway in components/pipeline-containers.ts).
PUSHGATEWAY_VERSION=1.11.0
PG_MAJOR=15

NODE_HOME="$CDC_CACHE/node-$NODE_VERSION"
PULUMI_ROOT="$CDC_CACHE/pulumi-$PULUMI_VERSION"
KAFKA_HOME="$CDC_CACHE/kafka-$KAFKA_VERSION"
CONNECT_PLUGINS="$CDC_CACHE/debezium-$DEBEZIUM_VERSION"
MOTO_VENV="$CDC_CACHE/moto-$MOTO_VERSION"
ACTIONLINT="$CDC_CACHE/actionlint-$ACTIONLINT_VERSION/actionlint"
PUSHGATEWAY="$CDC_CACHE/pushgateway-$PUSHGATEWAY_VERSION/pushgateway"
PG_BIN="/usr/lib/postgresql/$PG_MAJOR/bin"
# Install and start logs; scripts/sites.sh gives each site a directory of its own (they start at once).
LOG_DIR="${CDC_LOG_DIR:-$CDC_CACHE/logs}"
mkdir -p "$CDC_CACHE" "$LOG_DIR"

# The toolchain the project runs with: Node 22 and the Pulumi CLI first on PATH.
export PATH="$NODE_HOME/bin:$PULUMI_ROOT/bin:$PATH"

say() { printf '%s\n' "$*" >&2; }

# run_step NAME LOG CMD...: runs CMD with its output appended to LOG; on failure names the step,
# the command and the log, prints the tail of what this step wrote there (not an earlier run's) and exits
# non-zero.
# The step runs in a subshell with errexit on: under `if` or `||` bash would ignore errexit inside it and
# report a half-done step as a success.
run_step() {
  local name=$1 log=$2 rc errexit written
  shift 2
  say "==> $name"
  written=$(stat -c %s "$log" 2>/dev/null || echo 0)
  case $- in *e*) errexit=1 ;; *) errexit=0 ;; esac
  set +e
  (
    set -eo pipefail
    "$@"
  ) >>"$log" 2>&1
  rc=$?
  [ "$errexit" = 1 ] && set -e
  if [ "$rc" != 0 ]; then
    say "FAILED: step '$name'"
    say "  command: $*"
    say "  log:     $log"
    tail -c "+$((written + 1))" "$log" | tail -n 15 | sed 's/^/  | /' >&2
    exit 1
  fi
}
