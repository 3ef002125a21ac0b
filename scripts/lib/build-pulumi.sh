#!/usr/bin/env bash
# Builds the Pulumi CLI and its Node.js language host from Go modules into $1/bin.
# Usage: build-pulumi.sh ROOT CLI_VERSION NODEJS_HOST_SDK_VERSION
# The official installer downloads from a host this machine cannot reach; the Go module proxy serves the
# sources. `go install` refuses pkg/v3 (its go.mod has replace directives), so wrapper modules are used.
# The Node.js language host has been a module of its own since v3.69, and the proxy serves none of its
# versions; up to v3.68 it was a package of sdk/v3, which the proxy does serve, so it is built from there.
# That host speaks the same gRPC protocol; the CLI falls back for the few calls it does not implement.
set -euo pipefail
root=$1 version=$2 nodehost_version=$3
mkdir -p "$root/bin"
export CGO_ENABLED=0

cli="$root/build-cli"
mkdir -p "$cli" && cd "$cli"
[ -f go.mod ] || go mod init local/pulumibuild
go mod edit -replace github.com/atotto/clipboard=github.com/tgummerer/clipboard@v0.0.0-20241001131231-d02d263e614e
go get "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@v$version" "github.com/pulumi/pulumi/sdk/v3@v$version"
go build -trimpath -tags osusergo,grpcnotrace \
  -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$version" \
  -o "$root/bin/pulumi.tmp" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi

host="$root/build-nodejs-host"
mkdir -p "$host" && cd "$host"
[ -f go.mod ] || go mod init local/pulumihostbuild
go get "github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs@v$nodehost_version"
go build -trimpath -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$nodehost_version" \
  -o "$root/bin/pulumi-language-nodejs.tmp" github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs

# Renamed last so an interrupted build is never mistaken for a finished one.
mv "$root/bin/pulumi-language-nodejs.tmp" "$root/bin/pulumi-language-nodejs"
mv "$root/bin/pulumi.tmp" "$root/bin/pulumi"
