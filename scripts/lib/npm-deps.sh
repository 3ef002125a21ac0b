# ensure_node_modules: `npm ci` when node_modules is missing or older than package-lock.json.
# Sourced after common.sh (Node 22 first on PATH).
ensure_node_modules() {
  local stamp=node_modules/.cdc-lock-sha256 want
  want=$(sha256sum package-lock.json | cut -d' ' -f1)
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && return 0
  npm ci --no-audit --no-fund
  echo "$want" >"$stamp"
}
