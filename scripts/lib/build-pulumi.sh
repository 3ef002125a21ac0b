#!/usr/bin/env bash
# Builds the Pulumi CLI and its Node.js language host from Go modules into $1, each piece only when it is
# missing or out of date:
#   bin/pulumi                      the CLI
#   libexec/pulumi-language-nodejs  the Node.js language host
#   bin/pulumi-language-nodejs      the wrapper the CLI runs in front of it (scripts/pulumi-nodejs-host)
# Usage: build-pulumi.sh ROOT CLI_VERSION NODEJS_HOST_SDK_VERSION
# The official installer downloads from a host this machine cannot reach; the Go module proxy serves the
# sources. `go install` refuses pkg/v3 (its go.mod has replace directives), so wrapper modules are used.
# The Node.js language host has been a module of its own since v3.69, and the proxy serves none of its
# versions; up to v3.68 it was a package of sdk/v3, which the proxy does serve, so it is built from there.
# That host speaks the same gRPC protocol; the CLI falls back for the few calls it does not implement, except
# RunPlugin, which starts policy packs: the wrapper implements it (see its main.go).
# Each binary is built as NAME.tmp and renamed last, so an interrupted build is never mistaken for a finished
# one, and a CLI in use never finds a file missing or half-written. A cache from before the wrapper
# (bin/pulumi-language-nodejs being the host itself, no libexec/) keeps its CLI and gets the other two.
set -euo pipefail
root=$1 version=$2 nodehost_version=$3
wrapper_src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../pulumi-nodejs-host" && pwd)
mkdir -p "$root/bin" "$root/libexec"
export CGO_ENABLED=0

if [ ! -x "$root/bin/pulumi" ]; then
  cli="$root/build-cli"
  mkdir -p "$cli" && cd "$cli"
  [ -f go.mod ] || go mod init local/pulumibuild
  go mod edit -replace github.com/atotto/clipboard=github.com/tgummerer/clipboard@v0.0.0-20241001131231-d02d263e614e
  go get "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@v$version" "github.com/pulumi/pulumi/sdk/v3@v$version"
  go build -trimpath -tags osusergo,grpcnotrace \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$version" \
    -o "$root/bin/pulumi.tmp" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
  mv "$root/bin/pulumi.tmp" "$root/bin/pulumi"
fi

# Before the wrapper, which needs it.
if [ ! -x "$root/libexec/pulumi-language-nodejs" ]; then
  host="$root/build-nodejs-host"
  mkdir -p "$host" && cd "$host"
  [ -f go.mod ] || go mod init local/pulumihostbuild
  go get "github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs@v$nodehost_version"
  go build -trimpath -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$nodehost_version" \
    -o "$root/libexec/pulumi-language-nodejs.tmp" github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs
  mv "$root/libexec/pulumi-language-nodejs.tmp" "$root/libexec/pulumi-language-nodejs"
fi

# The wrapper's dependencies are pinned by its go.sum (-mod=readonly: never rewritten). It is rebuilt
# whenever its sources change: the stamp holds the checksums of those it was built from.
stamp="$root/libexec/pulumi-language-nodejs-wrapper.sha256"
sources=$(cd "$wrapper_src" && sha256sum go.mod go.sum main.go)
if [ ! -x "$root/bin/pulumi-language-nodejs" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$sources" ]; then
  cd "$wrapper_src"
  go build -mod=readonly -buildvcs=false -trimpath -ldflags "-s -w" -o "$root/bin/pulumi-language-nodejs.tmp" .
  mv "$root/bin/pulumi-language-nodejs.tmp" "$root/bin/pulumi-language-nodejs"
  printf '%s\n' "$sources" >"$stamp"
fi
