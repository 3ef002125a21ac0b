#!/usr/bin/env bash
# Two sites on one machine, for the two-site disaster drill: `primary` and `dr`, each in a network namespace of
# its own with an address of its own, holding what lib/harness.sh runs (a PostgreSQL source and target, a
# Kafka broker and a Kafka Connect cluster of two workers). Outside both, on an address both reach: an S3
# server with each site's backup bucket and its replica, and the stand-in for S3 replication between them.
# The Pulumi state backend (a directory) and the CLI stay on the machine.
#
#   scripts/sites.sh up              create the namespaces and start everything (first removing what a
#                                    killed run left); idempotent: starts only what is not running
#   scripts/sites.sh down            stop everything and remove the namespaces, links and routes it made
#   scripts/sites.sh status          one line per service of each site; exit 0 only when all are healthy
#   scripts/sites.sh env             the endpoints as shell variables: eval "$(scripts/sites.sh env)"
#   scripts/sites.sh cut SITE        cut SITE off: every packet in or out of its namespace dropped (nftables),
#                                    its processes left running, as in a network partition
#   scripts/sites.sh heal SITE       let SITE's packets through again
#
# Addresses: $CDC_SITE_NET.0.0/16 (default 10.77): the shared services on $NET.0.1 (on lo), site N on
# $NET.N.2 behind a veth pair whose machine end is $NET.N.1. The whole /16 has an `unreachable` route, so
# packets for a site that is gone, or cut off, never leave the machine. Needs root (ip netns, nft).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/common.sh
source "$here/lib/common.sh"

NET="${CDC_SITE_NET:-10.77}"
# Absolute and without symlinks, so that the same directory is always recognised as the sites' owner.
SITES_DIR=$(realpath -m "${CDC_SITES_DIR:-/tmp/cdc-pipeline-sites}")
SITES="primary dr"
SHARED_ADDR="$NET.0.1"
# A site's buckets: the stacks' backup bucket and the replica the stand-in copies it to.
BUCKETS="cdc-site-primary-backups cdc-site-primary-backups-replica cdc-site-dr-backups cdc-site-dr-backups-replica"
PAIRS="cdc-site-primary-backups:cdc-site-primary-backups-replica,cdc-site-dr-backups:cdc-site-dr-backups-replica"
# The services of a site, in start order (lib/harness.sh's names; two Connect workers).
SITE_SERVICES="${CDC_SITES_SERVICES:-pg-source pg-target kafka connect connect-2}"
# How long a departed worker's tasks wait before they are reassigned, and the JVM heaps of a site.
REBALANCE_DELAY_MS="${CDC_SITES_REBALANCE_DELAY_MS:-5000}"
# The CDC_SITES_DIR whose sites these are. The namespaces and addresses are the machine's, so sites left by a run
# with another directory (one killed before its `down`, its services still running) are removed whole by `up`.
OWNER_FILE=/run/cdc-pipeline-sites.owner

site_index() { case $1 in primary) echo 1 ;; dr) echo 2 ;; *) say "unknown site '$1': expected one of $SITES" && exit 2 ;; esac; }
site_ns() { echo "cdc-site-$1"; }
site_addr() { echo "$NET.$(site_index "$1").2"; }
host_addr() { echo "$NET.$(site_index "$1").1"; }
# The machine's end of the site's veth pair, and the site's end (renamed eth0 inside its namespace).
site_link() { echo "cdc-$1-h"; }

# harness SITE|shared CMD...: lib/harness.sh's services.sh for one site (or the shared services), with the
# site's address, namespace, run directory (under $HARNESS_SITES_DIR, by default $SITES_DIR) and standard ports.
harness() {
  local where=$1 dir=${HARNESS_SITES_DIR:-$SITES_DIR}
  shift
  if [ "$where" = shared ]; then
    CDC_RUN_DIR="$dir/shared" CDC_HARNESS_ADDR="$SHARED_ADDR" CDC_HARNESS_NETNS="" \
      CDC_S3_PORT=9000 CDC_S3_BACKUP_BUCKETS="$BUCKETS" CDC_S3_REPLICATION_PAIRS="$PAIRS" \
      bash "$here/services.sh" "$@"
  else
    CDC_RUN_DIR="$dir/$where" CDC_LOG_DIR="$LOG_DIR/site-$where" \
      CDC_HARNESS_ADDR="$(site_addr "$where")" CDC_HARNESS_NETNS="$(site_ns "$where")" \
      CDC_PG_SOURCE_PORT=5432 CDC_PG_TARGET_PORT=5433 CDC_KAFKA_PORT=9092 CDC_KAFKA_CONTROLLER_PORT=9093 \
      CDC_CONNECT_PORT=8083 CDC_CONNECT_WORKERS=2 CDC_CONNECT_REBALANCE_DELAY_MS="$REBALANCE_DELAY_MS" \
      CDC_KAFKA_HEAP=384m CDC_CONNECT_HEAP=512m \
      bash "$here/services.sh" "$@"
  fi
}

# Removes everything a run may have made, whatever state it was left in and whichever directory it ran in: each
# site's processes (by namespace, so a process whose pid file is gone goes too), the namespaces, links, route
# and nftables tables, and the shared services (by pid file, then by what still holds the shared address).
remove_all() {
  local site ns pid owner
  owner=$(cat "$OWNER_FILE" 2>/dev/null || true)
  for site in $SITES; do
    ns=$(site_ns "$site")
    if [[ $'\n'$(ip netns list)$'\n' == *$'\n'"$ns"[$' \n']* ]]; then
      harness "$site" down >/dev/null 2>&1 || true
      for pid in $(ip netns pids "$ns"); do kill -KILL "$pid" 2>/dev/null || true; done
      ip netns delete "$ns"
    fi
    ip link delete "$(site_link "$site")" 2>/dev/null || true
  done
  harness shared down >/dev/null 2>&1 || true
  [ -n "$owner" ] && [ "$owner" != "$SITES_DIR" ] && { HARNESS_SITES_DIR=$owner harness shared down >/dev/null 2>&1 || true; }
  # A socket keeps its address after the address is gone: a killed run's S3 server would hold it for the next.
  for pid in $(ss -Hltnp "src $SHARED_ADDR" | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); do
    kill -KILL "$pid" 2>/dev/null || true
  done
  # And its stand-in for S3 replication, which would go on copying between the next run's buckets.
  for pid in $(pgrep -f s3-replication-standin.cjs || true); do
    if grep -qx "CDC_S3_ENDPOINT=http://$SHARED_ADDR:9000" < <(tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null); then
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  ip addr delete "$SHARED_ADDR/32" dev lo 2>/dev/null || true
  ip route delete unreachable "$NET.0.0/16" 2>/dev/null || true
  rm -f "$OWNER_FILE"
}

make_site() {
  local site=$1 ns link
  ns=$(site_ns "$site") link=$(site_link "$site")
  ip netns add "$ns"
  ip link add "$link" type veth peer name "$link-n"
  ip link set "$link-n" netns "$ns"
  ip netns exec "$ns" ip link set "$link-n" name eth0
  ip addr add "$(host_addr "$site")/24" dev "$link"
  ip link set "$link" up
  ip netns exec "$ns" ip addr add "$(site_addr "$site")/24" dev eth0
  ip netns exec "$ns" ip link set lo up
  ip netns exec "$ns" ip link set eth0 up
  # The shared services are reached through the machine; nothing else is routed.
  ip netns exec "$ns" ip route add "$NET.0.0/16" via "$(host_addr "$site")"
}

# Whether the namespaces, links, addresses and route are all there, as make_site and cmd_up make them. (The
# outputs are captured first: `ip ... | grep -q` fails under pipefail when grep stops reading early.)
network_made() {
  local site out
  out=$(ip route show)
  [[ $out == *"unreachable $NET.0.0/16"* ]] || return 1
  out=$(ip -o addr show dev lo)
  [[ $out == *" $SHARED_ADDR/32 "* ]] || return 1
  for site in $SITES; do
    out=$(ip -o addr show dev "$(site_link "$site")" 2>/dev/null) || return 1
    [[ $out == *" $(host_addr "$site")/24 "* ]] || return 1
    out=$(ip netns exec "$(site_ns "$site")" ip -o addr show dev eth0 2>/dev/null) || return 1
    [[ $out == *" $(site_addr "$site")/24 "* ]] || return 1
  done
}

cmd_up() {
  local started=$SECONDS site
  [ "$(id -u)" = 0 ] || { say "scripts/sites.sh needs root (ip netns, nft)"; exit 2; }
  run_step "install nftables (Debian)" "$LOG_DIR/install-nftables.log" install_nftables
  if network_made && [ "$(cat "$OWNER_FILE" 2>/dev/null)" = "$SITES_DIR" ]; then
    say "==> the sites' network is there"
  else
    # Anything short of the whole network, or another directory's sites, is what a killed run left: removed,
    # processes and all, and made anew.
    remove_all
    # Packets for the sites' range go to a site's veth, or nowhere: never to a default route.
    ip route add unreachable "$NET.0.0/16"
    # On the machine's loopback (no dummy links in every kernel): reached by each site through its veth.
    ip addr add "$SHARED_ADDR/32" dev lo
    for site in $SITES; do make_site "$site"; done
    echo "$SITES_DIR" >"$OWNER_FILE"
  fi
  # Each starts what is not running (a killed worker, say) and leaves what is healthy alone. The machine does
  # not forward between the sites (ip_forward is left as it is): each site reaches the machine's addresses
  # only, the shared S3 server among them; the CLI on the machine reaches both sites.
  harness shared up s3 s3-replication
  # Both sites at once (their JVMs start in about half the time of one after the other); a site that fails
  # to start fails `up` once both are done, each having named its failed step.
  local pids=() rc=0 pid
  for site in $SITES; do
    harness "$site" up $SITE_SERVICES &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || rc=1; done
  [ "$rc" = 0 ] || { say "sites up: a site did not start (above)"; exit 1; }
  say "sites up in $((SECONDS - started)) s"
}

install_nftables() {
  command -v nft >/dev/null && return 0
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nftables
}

cmd_down() {
  remove_all
  say "sites down"
}

cmd_status() {
  local site rc=0
  say "shared ($SHARED_ADDR):"
  harness shared status s3 s3-replication || rc=1
  for site in $SITES; do
    say "$site ($(site_addr "$site"), namespace $(site_ns "$site")$(is_cut "$site" && echo ", CUT OFF")):"
    harness "$site" status $SITE_SERVICES || rc=1
  done
  return $rc
}

is_cut() { ip netns exec "$(site_ns "$1")" nft list table inet cdc-cut >/dev/null 2>&1; }

cmd_cut() {
  local ns
  ns=$(site_ns "$1")
  is_cut "$1" && return 0
  # Dropped, not refused: a client of the site sees no answer at all, as across a failed link or region.
  ip netns exec "$ns" nft -f - <<NFT
table inet cdc-cut {
  chain input { type filter hook input priority 0; policy accept; iifname "eth0" drop; }
  chain output { type filter hook output priority 0; policy accept; oifname "eth0" drop; }
}
NFT
  say "$1 cut off"
}

cmd_heal() {
  is_cut "$1" || return 0
  ip netns exec "$(site_ns "$1")" nft delete table inet cdc-cut
  say "$1 healed"
}

cmd_env() {
  local site upper
  cat <<ENV
export CDC_SITES_S3_ENDPOINT=http://$SHARED_ADDR:9000
export CDC_SITES_DIR="$SITES_DIR"
export CDC_KAFKA_LIBS="$KAFKA_HOME/libs"
ENV
  for site in $SITES; do
    upper=$(echo "$site" | tr '[:lower:]' '[:upper:]')
    cat <<ENV
export CDC_SITE_${upper}_ADDR=$(site_addr "$site")
export CDC_SITE_${upper}_NETNS=$(site_ns "$site")
export CDC_SITE_${upper}_CONNECT_URLS="http://$(site_addr "$site"):8083 http://$(site_addr "$site"):8084"
ENV
  done
}

command=${1:-}
shift || true
case "$command" in
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
env) cmd_env ;;
cut) site_index "${1:?cut SITE}" >/dev/null && cmd_cut "$1" ;;
heal) site_index "${1:?heal SITE}" >/dev/null && cmd_heal "$1" ;;
*)
  sed -n '2,/^[^#]/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
  exit 2
  ;;
esac
