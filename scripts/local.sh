#!/usr/bin/env bash
# The main job on the embedded default: installs the dependencies, brings the harness up, and deploys the
# local stack with the real Pulumi CLI (file state backend, passphrase secrets), then prints its outputs.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/common.sh
source "$here/lib/common.sh"
# shellcheck source=lib/npm-deps.sh
source "$here/lib/npm-deps.sh"
cd "$here/.."

bash scripts/services.sh up
run_step "npm ci" "$LOG_DIR/npm-ci.log" ensure_node_modules
run_step "pulumi stack select local" "$LOG_DIR/pulumi-local.log" bash scripts/pulumi.sh stack select local --create
say "==> pulumi up --stack local --yes"
bash scripts/pulumi.sh up --stack local --yes
say "==> stack outputs"
bash scripts/pulumi.sh stack output --stack local
