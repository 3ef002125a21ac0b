#!/usr/bin/env bash
# Runs the project's Pulumi CLI (v3.259.0, built by scripts/services.sh install) in the project's
# environment (scripts/harness-env.sh), each setting overridable from the caller's environment. Example:
#   scripts/pulumi.sh preview --stack local --expect-no-changes
set -euo pipefail
exec bash "$(dirname "${BASH_SOURCE[0]}")/harness-env.sh" pulumi "$@"
