#!/usr/bin/env bash
# Runs a command in the environment the project's scripts run the Pulumi CLI in (Node 22 and the CLI built
# by scripts/services.sh install first on PATH, offline settings, the file state backend of
# scripts/lib/pulumi-env.sh, and the harness's passphrase only for a command on the harness's own stacks,
# local and local-dr). Example:
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
# The harness's S3 server (moto) takes any credentials; the AWS SDK wants some (rpo, status --s3-endpoint).
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-harness} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-harness}
# restore --at runs a private PostgreSQL cluster: pg_ctl and postgres are in the harness's PostgreSQL's bin.
export CDC_PG_BIN=${CDC_PG_BIN:-$PG_BIN}
cd "$project_dir"
exec "$@"
