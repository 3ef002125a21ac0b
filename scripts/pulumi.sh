#!/usr/bin/env bash
# Runs the project's Pulumi CLI (v3.259.0, built by scripts/services.sh install) in the project's
# environment: Node 22 on PATH, offline settings, the file state backend and passphrase of
# scripts/lib/pulumi-env.sh (each overridable from the caller's environment). Example:
#   scripts/pulumi.sh preview --stack local --expect-no-changes
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
exec pulumi "$@"
