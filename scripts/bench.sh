#!/usr/bin/env bash
# Benchmarks next to the machine's physical limits, measured in the same run:
# limits.sh (disk with fsync, loopback TCP; from ../shared/tools/limits when present); a local cluster
# (1 metadata member) with dfsio and nnbench; nnbench against a 3-member metadata group; and the etcd
# reference (scripts/etcd-bench.sh) when etcd and wrk are installed; tables through gRPC and through
# CQL (bench/cql, ScyllaDB's driver). Prints figures; compare them as ratios.
set -euo pipefail
HERE=$(dirname "$0")
source "$HERE/lib.sh"
PORT=${PORT:-18020}
run_limits
trap 'stop_local 2>/dev/null || true' EXIT

start_local $PORT 1 3
# nnbench first: dfsio ends by deleting its files, and the datanodes' deletes load the disk for a while.
echo "== nnbench, 1 metadata member"
for c in 1 16 64; do "$BIN" bench nnbench --ops ${NN_OPS:-3000} --concurrency $c; done
echo "== dfsio"; "$BIN" bench dfsio --files ${DFSIO_FILES:-4} --size ${DFSIO_SIZE:-256MiB} --replication 3
stop_local

# Tables: the native gRPC path and the CQL native protocol (ScyllaDB's Rust driver, built apart in
# bench/cql) on the same table, QUORUM at RF=3, side by side at each concurrency.
start_local $PORT 1 3
CQL_HOSTS=$(grep -h " cql on " "$DATA"/logs/datanode-*.log | sed 's/.* cql on //' | paste -sd, -)
if cargo build --quiet --release --manifest-path "$HERE/../bench/cql/Cargo.toml"; then
  echo "== tables, QUORUM at RF=3: basalt bench table (gRPC) vs basalt bench cql (CQL, scylla driver)"
  for w in write read mixed; do
    for c in 1 16 64 256; do
      "$BIN" bench table $w --ops ${TABLE_OPS:-100000} --concurrency $c
      "$BIN" bench cql $w --hosts "$CQL_HOSTS" --ops ${TABLE_OPS:-100000} --concurrency $c
    done
  done
else
  echo "== CQL bench skipped: bench/cql did not build"
fi
stop_local

start_local $PORT 3 3
echo "== nnbench, 3 metadata members"
for c in 1 16 64; do "$BIN" bench nnbench --ops ${NN_OPS:-3000} --concurrency $c; done
stop_local
trap - EXIT

if command -v etcd >/dev/null && command -v wrk >/dev/null; then
  bash "$HERE/etcd-bench.sh"
else
  echo "== etcd reference skipped (apt install etcd-server etcd-client wrk)"
fi
