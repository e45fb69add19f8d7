#!/usr/bin/env bash
# One benchmark scenario against three servers in a row, with the same generator flags: the Node socket.io 4.8
# reference (in memory), Kefu on SQLite, and Kefu on PostgreSQL (a fresh database made next to
# KEFU_BENCH_DATABASE_URL for the run; skipped when unset). Prints each report, then a table with Kefu's figures beside the reference's.
#   bench/compare.sh --visitors 10000 --agents 20 --rate 2000 --duration 20
#   KEFU_BENCH_DATABASE_URL=postgres://root@127.0.0.1:5432/postgres bench/compare.sh --visitors 10000 ...
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p kefu -p kefu-bench >&2
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
pg="${KEFU_BENCH_DATABASE_URL:-}"
echo "== node reference" >&2
KEFU_BENCH_NO_BUILD=1 KEFU_BENCH_SERVER=node KEFU_BENCH_DATABASE_URL= bench/run.sh "$@" | tee "$out/node.json" >&2
echo "== kefu on SQLite" >&2
KEFU_BENCH_NO_BUILD=1 KEFU_BENCH_DATABASE_URL= bench/run.sh "$@" | tee "$out/sqlite.json" >&2
if [ -n "$pg" ]; then
  echo "== kefu on PostgreSQL" >&2
  KEFU_BENCH_NO_BUILD=1 KEFU_BENCH_DATABASE_URL="$pg" bench/run.sh "$@" | tee "$out/postgres.json" >&2
fi
python3 - "$out" <<'PY'
import json, os, sys
d = sys.argv[1]
runs = [json.load(open(os.path.join(d, f))) for f in ("node.json", "sqlite.json", "postgres.json") if os.path.exists(os.path.join(d, f))]
ref = runs[0]
rows = [
    ("connections held", lambda r: r["connections_held"], "{:,}"),
    ("errors (connect/send/reply/undelivered)", lambda r: "/".join(str(r["errors"][k]) for k in ("connect", "send", "reply", "undelivered")), "{}"),
    ("persisted (relayed) msg/s", lambda r: r["persisted_messages_per_sec"], "{:,.0f}"),
    ("p50 ms", lambda r: r["latency_ms"]["p50"], "{:.2f}"),
    ("p95 ms", lambda r: r["latency_ms"]["p95"], "{:.2f}"),
    ("p99 ms", lambda r: r["latency_ms"]["p99"], "{:.2f}"),
    ("RSS per visitor KB", lambda r: r["server_rss_per_visitor_kb"], "{:.1f}"),
    ("server CPU s during load", lambda r: r["server_cpu_seconds_during_load"], "{:.2f}"),
    ("CPU ms per delivered message", lambda r: r["server_cpu_ms_per_delivered_message"], "{:.3f}"),
    ("idle RSS MB", lambda r: r["idle_rss_kb"] / 1024, "{:.1f}"),
    ("cold start ms", lambda r: r["cold_start_ms"], "{}"),
]
print("| figure | " + " | ".join(r["server"] for r in runs) + " |")
print("|---" * (len(runs) + 1) + "|")
for name, get, fmt in rows:
    cells = []
    for r in runs:
        try:
            v = get(r)
            cell = fmt.format(v)
            base = get(ref)
            if r is not ref and isinstance(v, (int, float)) and isinstance(base, (int, float)) and base:
                cell += f" ({v / base:.2f}x)"
        except (TypeError, ValueError, KeyError):
            cell = "-"
        cells.append(cell)
    print(f"| {name} | " + " | ".join(cells) + " |")
PY
