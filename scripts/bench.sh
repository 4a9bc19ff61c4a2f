#!/usr/bin/env bash
# Benchmarks next to the machine's physical limits, measured in the same run:
# limits.sh (disk with fsync, loopback TCP; from ../shared/tools/limits when present); a local cluster
# (1 metadata member) with dfsio and nnbench; nnbench against a 3-member metadata group; and the etcd
# reference (scripts/etcd-bench.sh) when etcd and wrk are installed. Prints figures; compare them as ratios.
set -euo pipefail
BIN=${BASALT_BIN:-basalt}
HERE=$(dirname "$0")
LIMITS=${LIMITS_SH:-$HERE/../../shared/tools/limits/limits.sh}
PORT=${PORT:-18020}
if [ -f "$LIMITS" ]; then
  echo "== machine limits (limits.sh)"; bash "$LIMITS" || echo "limits.sh failed (needs fio, iperf3)"
fi

# Starts `basalt local` with N metadata members; sets LOCAL, DATA and BASALT_NAMENODE.
start_local() {
  DATA=$(mktemp -d /tmp/basalt-bench.XXXXXX)
  BASALT_NAMENODE=127.0.0.1:$PORT
  for i in $(seq 1 $(($1 - 1))); do BASALT_NAMENODE=$BASALT_NAMENODE,127.0.0.1:$((PORT + i)); done
  export BASALT_NAMENODE
  "$BIN" local --data-dir "$DATA" --namenodes "$1" --listen 127.0.0.1:$PORT >/dev/null 2>&1 &
  LOCAL=$!
  for _ in $(seq 1 600); do
    "$BIN" cluster status 2>/dev/null | grep -q "Datanodes: 3 live" && return
    sleep 0.1
  done
  echo "the local cluster did not start" >&2; exit 1
}
stop_local() { kill -INT "$LOCAL" 2>/dev/null; wait "$LOCAL" 2>/dev/null || true; rm -rf "$DATA"; }
trap 'stop_local 2>/dev/null || true' EXIT

start_local 1
# nnbench first: dfsio ends by deleting its files, and the datanodes' deletes load the disk for a while.
echo "== nnbench, 1 metadata member"
for c in 1 16 64; do "$BIN" bench nnbench --ops ${NN_OPS:-3000} --concurrency $c; done
echo "== dfsio"; "$BIN" bench dfsio --files ${DFSIO_FILES:-4} --size ${DFSIO_SIZE:-256MiB} --replication 3
stop_local

start_local 3
echo "== nnbench, 3 metadata members"
for c in 1 16 64; do "$BIN" bench nnbench --ops ${NN_OPS:-3000} --concurrency $c; done
stop_local
trap - EXIT

if command -v etcd >/dev/null && command -v wrk >/dev/null; then
  bash "$HERE/etcd-bench.sh"
else
  echo "== etcd reference skipped (apt install etcd-server etcd-client wrk)"
fi
