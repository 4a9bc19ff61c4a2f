#!/usr/bin/env bash
# Tables benchmark (issue "partitioned tables"), every figure next to its references measured in the
# same run, so that ratios survive a noisy shared machine:
#   1. limits.sh (loopback TCP, disk with fsync) and redis-benchmark (in memory, one copy: a ceiling
#      for any networked key-value store on this machine), 100-byte values, 64 clients, pipelining off;
#   2. a local cluster of 3 datanodes, keyspace RF=3: `bench table` write, read and mixed at QUORUM at
#      concurrency 1, 16, 64 and 256;
#   3. the same write and read paced at half the best rate measured in 2, for the p99 at half load;
#   4. a bulk load of the events Parquet file (gen_data.py table) and a full Arrow scan of it.
#
# Environment: BASALT_BIN (a release build), OPS (per run, default 100000), TABLE_ROWS (events rows,
# default 20000000, the size), BENCH_WORK (where gen_data.py writes, default
# /tmp/basalt-bench), PORT.
# Needs: redis-server (apt install redis-server) for the reference; numpy and pyarrow for gen_data.py
# (created on first use in a virtualenv under ~/.cache/basalt/bench-venv).
set -euo pipefail
HERE=$(dirname "$0")
source "$HERE/lib.sh"
PORT=${PORT:-18120}
OPS=${OPS:-100000}
TABLE_ROWS=${TABLE_ROWS:-20000000}
export BENCH_WORK=${BENCH_WORK:-/tmp/basalt-bench}
GEN=${GEN_DATA:-$HERE/../../shared/data/gen_data.py}

run_limits

if command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null; then
  echo "== redis-benchmark (reference: in memory, unreplicated), 100 B values, 64 clients"
  rdir=$(mktemp -d)
  redis-server --version | head -1
  rport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no >"$rdir/log" 2>&1 &
  rpid=$!
  for _ in $(seq 1 100); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.05; done
  redis-benchmark -p "$rport" -q -n "$OPS" -c 64 -d 100 -r 100000 -t set,get
  kill $rpid; wait $rpid 2>/dev/null || true
  rm -rf "$rdir"
else
  echo "== redis reference skipped (apt install redis-server)"
fi

trap 'stop_local 2>/dev/null || true' EXIT
start_local $PORT 1 3
best=0
for w in write read mixed; do
  echo "== bench table $w, QUORUM, RF=3, 3 datanodes"
  for c in 1 16 64 256; do
    ops=$OPS
    [ $c -eq 1 ] && ops=$((OPS / 10))
    out=$("$BIN" bench table $w --ops $ops --concurrency $c --keys 100000)
    echo "$out"
    if [ $w = write ]; then
      rate=$(echo "$out" | sed -n 's/^ *\([0-9]*\) ops\/s.*/\1/p')
      [ "${rate:-0}" -gt "$best" ] && best=$rate
    fi
  done
done
half=$((best / 2))
echo "== paced at half the best write rate ($half ops/s), concurrency 256"
"$BIN" bench table write --ops $OPS --concurrency 256 --keys 100000 --rate $half
"$BIN" bench table read --ops $OPS --concurrency 256 --keys 100000 --rate $half

echo "== bulk load and scan of the events table ($TABLE_ROWS rows)"
if ! python3 -c 'import numpy, pyarrow' 2>/dev/null; then
  venv=$HOME/.cache/basalt/bench-venv
  [ -x "$venv/bin/python" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q numpy pyarrow; }
  PY=$venv/bin/python
else
  PY=python3
fi
"$PY" "$GEN" table --table-rows "$TABLE_ROWS"
"$BIN" bench table --bulk-load "$BENCH_WORK/data/events.parquet" --concurrency 16
stop_local
trap - EXIT
