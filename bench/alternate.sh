#!/usr/bin/env bash
# Compares two Kefu builds on a machine whose speed drifts (a shared VM's can move by a third within minutes): runs
# them in turn, ROUNDS times each, with the same generator flags, so that both see the same drift, and prints one
# line per run. A and B are directories each holding a `kefu` and a `kefu-bench` (copy them out of
# target/release after building each version).
#   bench/alternate.sh 4 /tmp/before /tmp/after --visitors 2000 --agents 20 --rate 1000 --duration 15
# KEFU_BENCH_DATABASE_URL works as in run.sh (a fresh PostgreSQL database per run). Server settings for one side
# only: KEFU_BENCH_ENV_A / KEFU_BENCH_ENV_B, e.g. KEFU_BENCH_ENV_B="KEFU_WORKER_THREADS=2".
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 3 ]; then
  sed -n '2,8p' "$0" >&2
  exit 2
fi
rounds=$1 a=$2 b=$3
shift 3
for i in $(seq "$rounds"); do
  for side in A B; do
    if [ "$side" = A ]; then dir=$a extra=${KEFU_BENCH_ENV_A:-}; else dir=$b extra=${KEFU_BENCH_ENV_B:-}; fi
    stage="$(mktemp -d)"
    mkdir -p "$stage/release"
    ln -s "$(realpath "$dir/kefu")" "$stage/release/kefu"
    ln -s "$(realpath "$dir/kefu-bench")" "$stage/release/kefu-bench"
    # shellcheck disable=SC2086 # $extra is a list of NAME=value words
    env $extra CARGO_TARGET_DIR="$stage" KEFU_BENCH_NO_BUILD=1 bench/run.sh "$@" > "$stage/report.json"
    python3 - "$stage/report.json" "$side" "$i" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
l = r["latency_ms"]
e = r["errors"]
print(f"round {sys.argv[3]} {sys.argv[2]}: {r['server_cpu_ms_per_delivered_message']} ms CPU per delivered message, "
      f"p50 {l['p50']} ms, p99 {l['p99']} ms, {r['persisted_messages_per_sec']:.0f} persisted msg/s, "
      f"errors {e['connect']}/{e['send']}/{e['reply']}/{e['undelivered']}")
PY
    rm -rf "$stage"
  done
done
