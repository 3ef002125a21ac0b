#!/usr/bin/env bash
# Runs a command in the environment the project's scripts run the Pulumi CLI in (Node 22 and the CLI built
# by scripts/services.sh install first on PATH, offline settings, the file state backend and passphrase of
# scripts/lib/pulumi-env.sh), for the local stacks. Example:
#   scripts/harness-env.sh npm run drift -- --stack local
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/common.sh
source "$here/lib/common.sh"
# shellcheck source=lib/pulumi-env.sh
source "$here/lib/pulumi-env.sh"
if ! command -v pulumi >/dev/null || [ "$(command -v pulumi)" != "$PULUMI_ROOT/bin/pulumi" ]; then
  say "The Pulumi CLI is not installed yet: run scripts/services.sh install"
  exit 1
fi
cd "$project_dir"
exec "$@"
