# Start, stop and health checks of the harness's services. Sourced by services.sh after common.sh.
# Every service keeps its data, config, log and pid file under $RUN_DIR/<service>/.

# Runtime data lives outside the repository and outside /root, which the postgres user cannot enter.
RUN_DIR="${CDC_RUN_DIR:-/tmp/cdc-pipeline-harness}"
# Where every service listens and is checked: loopback, or a site's own address (scripts/sites.sh).
HARNESS_ADDR="${CDC_HARNESS_ADDR:-127.0.0.1}"
# The network namespace the services' processes run in (a site of scripts/sites.sh); none: the machine's.
HARNESS_NETNS="${CDC_HARNESS_NETNS:-}"
NS_EXEC=()
[ -n "$HARNESS_NETNS" ] && NS_EXEC=(ip netns exec "$HARNESS_NETNS")
# Kafka Connect workers of the one cluster (group), on consecutive ports from CONNECT_PORT: connect,
# connect-2, ... A departed worker's tasks wait CONNECT_REBALANCE_DELAY_MS for it to come back before they
# are reassigned (scheduled.rebalance.max.delay.ms; Kafka's default is 5 minutes).
CONNECT_WORKERS="${CDC_CONNECT_WORKERS:-1}"
CONNECT_REBALANCE_DELAY_MS="${CDC_CONNECT_REBALANCE_DELAY_MS:-0}"
# JVM heaps: a site of scripts/sites.sh runs a broker and two workers beside the other site's.
KAFKA_HEAP="${CDC_KAFKA_HEAP:-768m}"
CONNECT_HEAP="${CDC_CONNECT_HEAP:-1g}"
PG_SOURCE_PORT="${CDC_PG_SOURCE_PORT:-55432}"
PG_TARGET_PORT="${CDC_PG_TARGET_PORT:-55433}"
KAFKA_PORT="${CDC_KAFKA_PORT:-59092}"
KAFKA_CONTROLLER_PORT="${CDC_KAFKA_CONTROLLER_PORT:-59093}"
CONNECT_PORT="${CDC_CONNECT_PORT:-58083}"
S3_PORT="${CDC_S3_PORT:-55000}"
PUSHGATEWAY_PORT="${CDC_PUSHGATEWAY_PORT:-59091}"
# The backup buckets of the local stacks (primary and DR site), each with the replica S3 replication fills.
S3_BACKUP_BUCKETS="cdc-local-backups cdc-local-backups-replica cdc-local-dr-backups cdc-local-dr-backups-replica"
S3_BACKUP_BUCKETS="${CDC_S3_BACKUP_BUCKETS:-$S3_BACKUP_BUCKETS}"
# What the stand-in for S3 replication copies (SOURCE:DESTINATION,...), and how often, in seconds.
S3_REPLICATION_PAIRS=cdc-local-backups:cdc-local-backups-replica,cdc-local-dr-backups:cdc-local-dr-backups-replica
S3_REPLICATION_PAIRS="${CDC_S3_REPLICATION_PAIRS:-$S3_REPLICATION_PAIRS}"
S3_REPLICATION_INTERVAL="${CDC_S3_REPLICATION_INTERVAL:-2}"
# A throwaway credential for loopback-only test databases; Pulumi.local.yaml holds it encrypted.
HARNESS_PG_PASSWORD="harness-only-pg-pw"
PG_PASSWORD_FILE="$RUN_DIR/pg-password"
# Started in this order and stopped in reverse: the stand-in for S3 replication needs the S3 server.
CONNECT_SERVICES="connect$(for ((i = 2; i <= CONNECT_WORKERS; i++)); do printf ' connect-%s' "$i"; done)"
SERVICES="pg-source pg-target kafka $CONNECT_SERVICES s3 s3-replication pushgateway"
# This file's directory, which holds the stand-in for S3 replication; the repository is two levels up.
HARNESS_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Bounded like every probe here: an unanswered SYN would otherwise block for the kernel's two minutes, past the
# deadline of the start that probes.
port_open() { timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$HARNESS_ADDR" "$1" 2>/dev/null; }
http_ok() { curl -fs -o /dev/null --max-time 3 "$1"; }
pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# wait_until SECONDS CMD...: polls CMD every half second.
wait_until() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.5
  done
}

# initdb refuses to run as root, so as root the clusters belong to the postgres user.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_dir() { echo "$RUN_DIR/$1"; }
pg_port() { if [ "$1" = pg-source ]; then echo "$PG_SOURCE_PORT"; else echo "$PG_TARGET_PORT"; fi; }
pg_database() { if [ "$1" = pg-source ]; then echo cdc_source; else echo cdc_target; fi; }

pg_healthy() {
  "$PG_BIN/pg_isready" -q -h $HARNESS_ADDR -p "$(pg_port "$1")" -d "$(pg_database "$1")" -U postgres
}

pg_start() {
  local svc=$1 dir port
  dir=$(pg_dir "$svc") port=$(pg_port "$svc")
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    rm -rf "$dir/data"
    as_pg cp "$PG_PASSWORD_FILE" "$dir/pwfile"
    as_pg "$PG_BIN/initdb" -D "$dir/data" -U postgres --pwfile="$dir/pwfile" \
      --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8
    rm -f "$dir/pwfile"
    echo "include = 'harness.conf'" | as_pg tee -a "$dir/data/postgresql.conf" >/dev/null
  fi
  # Rewritten at every start, so a changed setting reaches existing clusters too. Logical decoding on
  # the CDC source only: the target is an ordinary database, and tests check that CDC refuses it.
  {
    echo "listen_addresses = '$HARNESS_ADDR'"
    echo "port = $port"
    echo "unix_socket_directories = '$dir'"
    if [ "$svc" = pg-source ]; then echo "wal_level = logical"; else echo "wal_level = replica"; fi
    echo "max_replication_slots = 20"
    echo "max_wal_senders = 10"
  } | as_pg tee "$dir/data/harness.conf" >/dev/null
  # Off loopback (a site of scripts/sites.sh), clients come from the machine's end of the site's link.
  if [ "$HARNESS_ADDR" != 127.0.0.1 ] && ! grep -q "^host all all samenet" "$dir/data/pg_hba.conf"; then
    printf 'host all all samenet scram-sha-256\nhost replication all samenet scram-sha-256\n' |
      as_pg tee -a "$dir/data/pg_hba.conf" >/dev/null
  fi
  # In the harness's namespace: the postmaster listens there.
  if [ "$(id -u)" = 0 ]; then
    "${NS_EXEC[@]}" runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start
  else
    "${NS_EXEC[@]}" "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start
  fi
}

# pg_prepare SERVICE: the cluster's databases and demo tables, created when missing (at every `up`, so a
# cluster that is already running gets what a newer harness adds).
pg_prepare() {
  local svc=$1
  pg_create_database "$svc" "$(pg_database "$svc")"
  # The target cluster also holds the DR site's target database (the DR drill's second site).
  [ "$svc" = pg-target ] && pg_create_database "$svc" cdc_target_dr
  [ "$svc" = pg-source ] && seed_source "$(pg_dir "$svc")" "$(pg_port "$svc")"
  return 0
}

pg_psql() {
  local svc=$1
  shift
  as_pg "$PG_BIN/psql" -h "$(pg_dir "$svc")" -p "$(pg_port "$svc")" -U postgres -v ON_ERROR_STOP=1 -qtA "$@"
}

pg_create_database() {
  pg_psql "$1" -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$2'" | grep -q 1 ||
    as_pg "$PG_BIN/createdb" -h "$(pg_dir "$1")" -p "$(pg_port "$1")" -U postgres "$2"
}

# The demo source tables the local stack captures (what a user's database would hold). A source fenced by
# `cdc-pipeline fence` is read-only to its applications, not to the harness's own setup.
seed_source() {
  as_pg "$PG_BIN/psql" -h "$1" -p "$2" -U postgres -d cdc_source -v ON_ERROR_STOP=1 -q <<'SQL'
SET default_transaction_read_only = off;
CREATE SCHEMA IF NOT EXISTS inventory;
CREATE TABLE IF NOT EXISTS inventory.customers (
  id integer PRIMARY KEY,
  name text NOT NULL,
  email text
);
CREATE TABLE IF NOT EXISTS inventory.orders (
  id integer PRIMARY KEY,
  customer_id integer NOT NULL REFERENCES inventory.customers (id),
  amount numeric(10,2) NOT NULL,
  ordered_at timestamp with time zone NOT NULL DEFAULT now()
);
SQL
}

pg_stop() {
  pg_running "$1" || return 0
  as_pg "$PG_BIN/pg_ctl" -D "$(pg_dir "$1")/data" -m fast -w -t 60 stop
}

# By pg_ctl status, not by the pid file alone: a postmaster killed outright (a killed run's, or one that
# scripts/sites.sh removed with its namespace) leaves its pid file behind, which the next start copes with.
pg_running() {
  [ -f "$(pg_dir "$1")/data/postmaster.pid" ] && as_pg "$PG_BIN/pg_ctl" -D "$(pg_dir "$1")/data" status >/dev/null 2>&1
}

# java_args HEAP: sets JAVA_ARGS to a java command line with Kafka's classpath (an array, so the
# classpath wildcard reaches java unexpanded).
java_args() {
  JAVA_ARGS=(java "-Xmx$1" -XX:+UseSerialGC "-Dlog4j2.configurationFile=$RUN_DIR/log4j2.properties"
    -cp "$KAFKA_HOME/libs/*")
}

write_log4j_config() {
  cat >"$RUN_DIR/log4j2.properties" <<CONF
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
appender.stdout.type = Console
# stderr, so that tools run for their output (StorageTool random-uuid) print nothing else on stdout
appender.stdout.target = SYSTEM_ERR
appender.stdout.name = STDOUT
appender.stdout.layout.type = PatternLayout
appender.stdout.layout.pattern = [%d] %p %m (%c)%n
logger.kafka.name = org.apache.kafka
logger.kafka.level = WARN
logger.connect.name = org.apache.kafka.connect
logger.connect.level = INFO
logger.reflections.name = org.reflections
logger.reflections.level = ERROR
CONF
}

# await_healthy SERVICE SECONDS: waits for the health check, giving up early when the process died; on failure
# the end of the service's own log, which says why, goes into the start step's log.
await_healthy() {
  local svc=$1 deadline=$((SECONDS + $2)) failure=""
  until svc_healthy "$svc"; do
    if ! pid_alive "$RUN_DIR/$svc/pid"; then
      failure="$svc exited during start-up"
    elif [ "$SECONDS" -ge "$deadline" ]; then
      failure="$svc not healthy after $2 s"
    fi
    if [ -n "$failure" ]; then
      { tail -n 10 "$(svc_log "$svc")" 2>/dev/null || true; } | sed "s/^/$svc.log: /" >&2
      echo "$failure" >&2
      return 1
    fi
    sleep 0.5
  done
}

# spawn SERVICE CMD...: starts CMD detached, output to the service's log, pid to its pid file.
spawn() {
  local svc=$1
  shift
  mkdir -p "$RUN_DIR/$svc"
  nohup setsid "${NS_EXEC[@]}" "$@" >>"$RUN_DIR/$svc/$svc.log" 2>&1 </dev/null &
  echo $! >"$RUN_DIR/$svc/pid"
}

kafka_healthy() { grep -q "Kafka Server started" "$RUN_DIR/kafka/kafka.log" 2>/dev/null && port_open "$KAFKA_PORT"; }

kafka_start() {
  local dir="$RUN_DIR/kafka"
  mkdir -p "$dir"
  cat >"$dir/server.properties" <<CONF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HARNESS_ADDR:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$HARNESS_ADDR:$KAFKA_PORT,CONTROLLER://$HARNESS_ADDR:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HARNESS_ADDR:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data
num.partitions=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
CONF
  java_args 256m
  if [ ! -f "$dir/data/meta.properties" ]; then
    "${JAVA_ARGS[@]}" kafka.tools.StorageTool format -c "$dir/server.properties" \
      -t "$("${JAVA_ARGS[@]}" kafka.tools.StorageTool random-uuid)"
  fi
  : >"$dir/kafka.log"
  java_args "$KAFKA_HEAP"
  spawn kafka "${JAVA_ARGS[@]}" kafka.Kafka "$dir/server.properties"
  await_healthy kafka 90
}

# connect_worker SERVICE: the worker's number (connect is 1, connect-2 is 2) and so its port.
connect_worker() { if [ "$1" = connect ]; then echo 1; else echo "${1#connect-}"; fi; }
connect_port() { echo $((CONNECT_PORT + $(connect_worker "$1") - 1)); }

# Healthy once the plugins are loaded and the worker has joined its group (GET /connectors answers).
connect_healthy() {
  local port
  port=$(connect_port "$1")
  curl -fsS --max-time 3 "http://$HARNESS_ADDR:$port/connector-plugins" 2>/dev/null | grep -q JdbcSinkConnector &&
    http_ok "http://$HARNESS_ADDR:$port/connectors"
}

connect_start() {
  local svc=$1 dir="$RUN_DIR/$1" port
  port=$(connect_port "$svc")
  mkdir -p "$dir"
  cat >"$dir/connect.properties" <<CONF
bootstrap.servers=$HARNESS_ADDR:$KAFKA_PORT
group.id=cdc-harness-connect
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
config.storage.topic=_connect-configs
offset.storage.topic=_connect-offsets
status.storage.topic=_connect-status
config.storage.replication.factor=1
offset.storage.replication.factor=1
status.storage.replication.factor=1
offset.storage.partitions=5
status.storage.partitions=1
offset.flush.interval.ms=1000
listeners=http://$HARNESS_ADDR:$port
rest.advertised.host.name=$HARNESS_ADDR
rest.advertised.port=$port
plugin.path=$CONNECT_PLUGINS
# How long a departed worker's tasks wait for it before they are reassigned (one worker: no wait).
scheduled.rebalance.max.delay.ms=$CONNECT_REBALANCE_DELAY_MS
CONF
  : >"$dir/$svc.log"
  java_args "$CONNECT_HEAP"
  spawn "$svc" "${JAVA_ARGS[@]}" org.apache.kafka.connect.cli.ConnectDistributed "$dir/connect.properties"
  await_healthy "$svc" 180
}

# Not /moto-api/data.json: moto 5.2.5 answers it 500 while the store holds a multipart object.
s3_healthy() { http_ok "http://$HARNESS_ADDR:$S3_PORT/moto-api/config"; }

s3_start() {
  spawn s3 "$MOTO_VENV/bin/moto_server" -H $HARNESS_ADDR -p "$S3_PORT"
  await_healthy s3 60
}

# s3_prepare: the backup buckets, versioned and under a lifecycle, created when missing (at every `up`: moto keeps its buckets
# in memory, and a server that is already running gets what a newer harness adds).
s3_prepare() {
  local bucket url ns=http://s3.amazonaws.com/doc/2006-03-01/
  for bucket in $S3_BACKUP_BUCKETS; do
    url="http://$HARNESS_ADDR:$S3_PORT/$bucket"
    # moto takes unsigned requests. HEAD first, so that a second `up` does not depend on how a store answers
    # the creation of a bucket one owns already (200 in us-east-1, 409 BucketAlreadyOwnedByYou elsewhere).
    curl -fs -o /dev/null --max-time 10 -I "$url" || curl -fsS -o /dev/null --max-time 10 -X PUT "$url"
    # As XML: moto answers 404 to the same body sent as a form (curl -d).
    curl -fsS -o /dev/null --max-time 10 -X PUT -H "Content-Type: application/xml" "$url?versioning" \
      --data-binary "<VersioningConfiguration xmlns=\"$ns\"><Status>Enabled</Status></VersioningConfiguration>"
    # A lifecycle, as BackupStorage gives its buckets, so that `rpo` finds the bucket protected.
    curl -fsS -o /dev/null --max-time 10 -X PUT -H "Content-Type: application/xml" "$url?lifecycle" \
      --data-binary "<LifecycleConfiguration xmlns=\"$ns\"><Rule><ID>backups</ID><Filter><Prefix></Prefix></Filter><Status>Enabled</Status><Expiration><Days>365</Days></Expiration><AbortIncompleteMultipartUpload><DaysAfterInitiation>7</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule></LifecycleConfiguration>"
  done
  # The replication rule BackupStorage declares (with Replication Time Control), on each source bucket. moto
  # stores it and does nothing with it: the stand-in (s3-replication) is what copies.
  local pair
  for pair in ${S3_REPLICATION_PAIRS//,/ }; do
    curl -fsS -o /dev/null --max-time 10 -X PUT -H "Content-Type: application/xml" \
      "http://$HARNESS_ADDR:$S3_PORT/${pair%%:*}?replication" --data-binary \
      "<ReplicationConfiguration xmlns=\"$ns\"><Role>arn:aws:iam::123456789012:role/harness-replication-stand-in</Role><Rule><ID>to-dr</ID><Status>Enabled</Status><Priority>1</Priority><Filter><Prefix></Prefix></Filter><DeleteMarkerReplication><Status>Enabled</Status></DeleteMarkerReplication><Destination><Bucket>arn:aws:s3:::${pair#*:}</Bucket><ReplicationTime><Status>Enabled</Status><Time><Minutes>15</Minutes></Time></ReplicationTime><Metrics><Status>Enabled</Status><EventThreshold><Minutes>15</Minutes></EventThreshold></Metrics></Destination></Rule></ReplicationConfiguration>"
  done
}

# The stand-in for S3 Cross-Region Replication (see its header): healthy once it has logged its start.
s3_replication_healthy() {
  pid_alive "$RUN_DIR/s3-replication/pid" && grep -q " replicating " "$RUN_DIR/s3-replication/s3-replication.log"
}

s3_replication_start() {
  local repo
  repo=$(dirname "$(dirname "$HARNESS_LIB")")
  if [ ! -d "$repo/node_modules/@aws-sdk/client-s3" ]; then
    echo "s3-replication needs $repo/node_modules/@aws-sdk/client-s3: run npm ci in $repo first" >&2
    return 1
  fi
  mkdir -p "$RUN_DIR/s3-replication"
  : >"$RUN_DIR/s3-replication/s3-replication.log"
  spawn s3-replication env CDC_S3_ENDPOINT="http://$HARNESS_ADDR:$S3_PORT" \
    CDC_S3_REPLICATION_PAIRS="$S3_REPLICATION_PAIRS" CDC_S3_REPLICATION_INTERVAL="$S3_REPLICATION_INTERVAL" \
    "$NODE_HOME/bin/node" "$HARNESS_LIB/s3-replication-standin.cjs"
  await_healthy s3-replication 30
}

pushgateway_healthy() { http_ok "http://$HARNESS_ADDR:$PUSHGATEWAY_PORT/-/ready"; }

# Metrics are kept in memory only, as by the containers' pushgateway (no --persistence.file).
pushgateway_start() {
  spawn pushgateway "$PUSHGATEWAY" "--web.listen-address=$HARNESS_ADDR:$PUSHGATEWAY_PORT"
  await_healthy pushgateway 30
}

# Generic dispatch by service name.
svc_healthy() {
  case $1 in
  pg-*) pg_healthy "$1" ;;
  kafka) kafka_healthy ;;
  connect*) connect_healthy "$1" ;;
  s3) s3_healthy ;;
  s3-replication) s3_replication_healthy ;;
  pushgateway) pushgateway_healthy ;;
  esac
}

svc_running() {
  case $1 in
  pg-*) pg_running "$1" ;;
  *) pid_alive "$RUN_DIR/$1/pid" ;;
  esac
}

svc_start() {
  case $1 in
  pg-*) pg_start "$1" ;;
  kafka) kafka_start ;;
  connect*) connect_start "$1" ;;
  s3) s3_start ;;
  s3-replication) s3_replication_start ;;
  pushgateway) pushgateway_start ;;
  esac
}

svc_stop() {
  case $1 in
  pg-*) pg_stop "$1" ;;
  *)
    local pidfile="$RUN_DIR/$1/pid" pid
    [ -f "$pidfile" ] || return 0
    pid=$(cat "$pidfile")
    # setsid made the service a process-group leader: stop the whole group.
    kill -TERM -- "-$pid" 2>/dev/null || true
    wait_until 30 bash -c "! kill -0 $pid 2>/dev/null" || kill -KILL -- "-$pid" 2>/dev/null || true
    rm -f "$pidfile"
    ;;
  esac
}

svc_log() {
  case $1 in
  pg-*) echo "$(pg_dir "$1")/postgres.log" ;;
  *) echo "$RUN_DIR/$1/$1.log" ;;
  esac
}

svc_endpoint() {
  case $1 in
  pg-source) echo "postgres://postgres@$HARNESS_ADDR:$PG_SOURCE_PORT/cdc_source (wal_level=logical)" ;;
  pg-target) echo "postgres://postgres@$HARNESS_ADDR:$PG_TARGET_PORT/cdc_target (wal_level=replica)" ;;
  kafka) echo "$HARNESS_ADDR:$KAFKA_PORT (KRaft, controller $HARNESS_ADDR:$KAFKA_CONTROLLER_PORT)" ;;
  connect*) echo "http://$HARNESS_ADDR:$(connect_port "$1") (plugins: $CONNECT_PLUGINS)" ;;
  s3) echo "http://$HARNESS_ADDR:$S3_PORT (moto)" ;;
  s3-replication)
    local pairs=${S3_REPLICATION_PAIRS//:/ -> }
    echo "${pairs//,/, } every $S3_REPLICATION_INTERVAL s (stand-in for S3 replication)"
    ;;
  pushgateway) echo "http://$HARNESS_ADDR:$PUSHGATEWAY_PORT (Prometheus Pushgateway $PUSHGATEWAY_VERSION)" ;;
  esac
}
