#!/usr/bin/env bash
# Runs Kefu's load benchmark by hand: builds release binaries, starts a fresh server and drives it with the load
# generator on loopback. The server is Kefu on SQLite in a temp dir (default), Kefu on a fresh PostgreSQL database
# made next to KEFU_BENCH_DATABASE_URL (and dropped after) when that is set, or the Node socket.io 4.8 reference (bench/node-reference) when
# KEFU_BENCH_SERVER=node. Prints the generator's JSON report with "server", "cold_start_ms" and "idle_rss_kb" added.
#   bench/run.sh [generator flags...]     e.g. bench/run.sh --visitors 10000 --agents 20 --rate 1000 --duration 20
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}/release"
if [ -z "${KEFU_BENCH_NO_BUILD:-}" ]; then
  cargo build --release -p kefu -p kefu-bench >&2
fi
# One process may open at most 20,000 files here: the server holds every visitor's socket, and the generator's
# workers hold theirs (9,000 each by default).
ulimit -n 20000
data="$(mktemp -d)"
port="${KEFU_BENCH_PORT:-18200}"
server_kind="${KEFU_BENCH_SERVER:-kefu}"
started=$(date +%s%N)
if [ "$server_kind" = node ]; then
  if [ ! -d bench/node-reference/node_modules ]; then npm ci --prefix bench/node-reference --no-audit --no-fund >&2; fi
  label="node-socket.io-$(node -p 'require("./bench/node-reference/node_modules/socket.io/package.json").version')"
  node bench/node-reference/server.mjs --listen "127.0.0.1:$port" > "$data/server.log" 2>&1 &
  ready="Reference listening"
else
  env_db=()
  label="kefu-sqlite"
  if [ -n "${KEFU_BENCH_DATABASE_URL:-}" ]; then
    # A fresh database for this run, next to the one named (which must exist: it is only used to connect).
    # Its options (after '?', such as sslmode=disable) go with the fresh database's URL.
    fresh="kefu_bench_$(date +%s%N)"
    psql -q "$KEFU_BENCH_DATABASE_URL" -c "CREATE DATABASE $fresh" >&2
    base="${KEFU_BENCH_DATABASE_URL%%\?*}"
    options="${KEFU_BENCH_DATABASE_URL#"$base"}"
    env_db=(KEFU_DATABASE_URL="${base%/*}/$fresh$options")
    label="kefu-postgres"
  fi
  env KEFU_LOG=warn KEFU_ADMIN_EMAIL=bench@kefu.test KEFU_ADMIN_PASSWORD=bench-password "${env_db[@]}" \
    "$target/kefu" serve --listen "127.0.0.1:$port" --data-dir "$data" > "$data/server.log" 2>&1 &
  ready="Kefu listening"
fi
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -rf "$data"
  if [ -n "${fresh:-}" ]; then psql -q "$KEFU_BENCH_DATABASE_URL" -c "DROP DATABASE IF EXISTS $fresh WITH (FORCE)" >&2; fi
}
trap cleanup EXIT
for _ in $(seq 1000); do
  grep -q "$ready" "$data/server.log" 2>/dev/null && break
  sleep 0.005
done
cold_ms=$(( ($(date +%s%N) - started) / 1000000 ))
sleep 1
idle_kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$server/status")
"$target/kefu-bench" --addr "127.0.0.1:$port" --server-pid "$server" "$@" > "$data/report.json"
python3 - "$data/report.json" "$label" "$cold_ms" "$idle_kb" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
out = {"server": sys.argv[2], "cold_start_ms": int(sys.argv[3]), "idle_rss_kb": int(sys.argv[4])}
out.update(report)
print(json.dumps(out, indent=2, ensure_ascii=False))
PY
