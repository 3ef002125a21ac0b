#!/usr/bin/env bash
# Everything the project tests, in order: lint, formatting and types, unit tests, then integration and
# end-to-end tests against the harness (started here when it is not running, and stopped again
# afterwards unless CDC_KEEP_SERVICES=1). Ends with one line "tests: N passed, N failed, N skipped".
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/common.sh
source "$here/lib/common.sh"
# shellcheck source=lib/npm-deps.sh
source "$here/lib/npm-deps.sh"
cd "$here/.."

results=$(mktemp -d)
started_harness=0
finish() {
  local rc=$?
  if [ "$started_harness" = 1 ] && [ "${CDC_KEEP_SERVICES:-0}" != 1 ]; then
    bash scripts/services.sh down || rc=1
  fi
  if [ -n "$(ls "$results")" ]; then
    node scripts/lib/summarize-vitest.ts "$results"/*.json || rc=1
  fi
  rm -rf "$results"
  exit "$rc"
}
trap finish EXIT

bash scripts/services.sh install
run_step "npm ci" "$LOG_DIR/npm-ci.log" ensure_node_modules

say "==> lint, format, types"
npx eslint .
npx prettier --check --log-level warn .
npx tsc --noEmit

say "==> unit tests"
npx vitest run --project unit --reporter=default --reporter=json --outputFile="$results/unit.json"

if ! bash scripts/services.sh status >/dev/null; then
  started_harness=1
fi
bash scripts/services.sh up

say "==> integration and end-to-end tests"
npx vitest run --project integration --project e2e --reporter=default --reporter=json \
  --outputFile="$results/services.json"
