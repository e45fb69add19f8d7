#!/usr/bin/env bash
# Runs Kefu's load benchmark by hand: builds release binaries, starts a fresh server (SQLite in a temp dir, or
# PostgreSQL when KEFU_BENCH_DATABASE_URL is set), and drives it with the load generator on loopback.
#   bench/run.sh [generator flags...]     e.g. bench/run.sh --visitors 10000 --agents 20 --rate 1000 --duration 20
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p kefu -p kefu-bench
target="${CARGO_TARGET_DIR:-target}/release"
ulimit -n 20000
data="$(mktemp -d)"
port="${KEFU_BENCH_PORT:-18200}"
env_db=()
if [ -n "${KEFU_BENCH_DATABASE_URL:-}" ]; then env_db=(KEFU_DATABASE_URL="$KEFU_BENCH_DATABASE_URL"); fi
env KEFU_LOG=warn KEFU_ADMIN_EMAIL=bench@kefu.test KEFU_ADMIN_PASSWORD=bench-password "${env_db[@]}" \
  "$target/kefu" serve --listen "127.0.0.1:$port" --data-dir "$data" > "$data/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 50); do
  grep -q "Kefu listening" "$data/server.log" 2>/dev/null && break
  sleep 0.1
done
"$target/kefu-bench" --addr "127.0.0.1:$port" --server-pid "$server" "$@"
