#!/usr/bin/env bash
# Everything the project tests, in order: lint, formatting and types, unit tests, then integration and
# end-to-end tests against the harness (started here when it is not running, and stopped again
# afterwards unless CDC_KEEP_SERVICES=1). Prints how long each test file and each phase took (the budget:
# 25 minutes warm, 45 cold), and ends with one line "tests: N passed, N failed, N skipped".
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/common.sh
source "$here/lib/common.sh"
# shellcheck source=lib/npm-deps.sh
source "$here/lib/npm-deps.sh"
cd "$here/.."

results=$(mktemp -d)
started_harness=0

# phase NAME: ends the running phase, writing its wall time to $results/phases.tsv ("<seconds>\t<name>"),
# and starts NAME; `phase ""` only ends it.
phase_name="" phase_start=0
phase() {
  if [ -n "$phase_name" ]; then
    awk -v end="$EPOCHREALTIME" -v start="$phase_start" -v name="$phase_name" \
      'BEGIN { printf "%.1f\t%s\n", end - start, name }' >>"$results/phases.tsv"
  fi
  phase_name=$1 phase_start=$EPOCHREALTIME
}

# Stops the one-site harness if this run started it (and CDC_KEEP_SERVICES is not 1); fails if it could not.
stop_harness() {
  [ "$started_harness" = 1 ] && [ "${CDC_KEEP_SERVICES:-0}" != 1 ] || return 0
  phase "harness down"
  started_harness=0
  bash scripts/services.sh down
}

finish() {
  local rc=$?
  stop_harness || rc=1
  phase ""
  # Each run's JSON report (counts) and JUnit report (each file's whole duration, hooks included).
  local reports
  shopt -s nullglob
  reports=("$results"/*.json "$results"/*.xml)
  if compgen -G "$results/*.json" >/dev/null; then
    node scripts/lib/summarize-vitest.ts --phases "$results/phases.tsv" "${reports[@]}" || rc=1
  fi
  rm -rf "$results"
  exit "$rc"
}
trap finish EXIT

# vitest with the console's reporter, and the JSON and JUnit reports of the run as $results/NAME.json/.xml.
vitest_run() {
  local name=$1
  shift
  npx vitest run "$@" --reporter=default --reporter=json --reporter=junit \
    --outputFile.json="$results/$name.json" --outputFile.junit="$results/$name.xml"
}

phase "installs, npm ci"
bash scripts/services.sh install
run_step "npm ci" "$LOG_DIR/npm-ci.log" ensure_node_modules

phase "lint, format, types"
say "==> lint, format, types"
npx eslint .
npx prettier --check --log-level warn .
npx tsc --noEmit

phase "unit tests"
say "==> unit tests"
vitest_run unit --project unit

phase "harness up"
if ! bash scripts/services.sh status >/dev/null; then
  started_harness=1
fi
bash scripts/services.sh up
# The harness's endpoints, the S3 server's placeholder credentials and the PostgreSQL programs, for the tests
# and for the commands they run in-process (a backup's S3 client uses the AWS SDK's usual credentials).
eval "$(bash scripts/services.sh env)"

phase "integration and end-to-end tests"
say "==> integration and end-to-end tests"
vitest_run services --project integration --project e2e

# The two sites run services of their own (scripts/sites.sh): the one-site harness leaves them the machine.
stop_harness
phase "two-site tests"
say "==> two-site tests"
vitest_run sites --project sites
