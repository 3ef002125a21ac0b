# The environment every command of the project runs the Pulumi CLI in: offline, with a file state
# backend in the project directory and a passphrase secrets provider. Sourced after common.sh.
project_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export PULUMI_HOME="${PULUMI_HOME:-$CDC_CACHE/pulumi-home}"
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$project_dir/.pulumi-state}"
# The local stack's secrets (the harness's throwaway passwords) are encrypted with this passphrase;
# set PULUMI_CONFIG_PASSPHRASE yourself for any stack holding real secrets.
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-local-harness-passphrase}"
export PULUMI_SKIP_UPDATE_CHECK=true
# Provider plugins cannot be downloaded here; the local stack needs none but the dynamic-provider host.
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
mkdir -p "${PULUMI_BACKEND_URL#file://}"
