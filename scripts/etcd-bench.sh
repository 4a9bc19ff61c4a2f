#!/usr/bin/env bash
# The etcd reference for `basalt bench nnbench` (issue 5): a 3-member etcd (Debian's etcd-server) on
# loopback, puts of distinct ~40-byte keys with 16-byte values at concurrency 1, 16 and 64, driven by
# wrk through etcd's JSON gateway (scripts/etcd-put.lua). Needs etcd-server and wrk (apt).
set -euo pipefail
DIR=$(mktemp -d /tmp/etcd-bench.XXXXXX)
CLUSTER=e1=http://127.0.0.1:23801,e2=http://127.0.0.1:23802,e3=http://127.0.0.1:23803
PIDS=()
trap 'kill ${PIDS[@]} 2>/dev/null; wait 2>/dev/null; rm -rf "$DIR"' EXIT
for i in 1 2 3; do
  etcd --name e$i --data-dir "$DIR/e$i" \
    --listen-client-urls http://127.0.0.1:2379$i --advertise-client-urls http://127.0.0.1:2379$i \
    --listen-peer-urls http://127.0.0.1:2380$i --initial-advertise-peer-urls http://127.0.0.1:2380$i \
    --initial-cluster "$CLUSTER" --initial-cluster-state new --log-level error >"$DIR/e$i.log" 2>&1 &
  PIDS+=($!)
done
for _ in $(seq 1 300); do
  ETCDCTL_API=3 etcdctl --endpoints http://127.0.0.1:23791 endpoint health >/dev/null 2>&1 && break
  sleep 0.1
done
for c in 1 16 64; do
  echo "== etcd puts, concurrency $c"
  wrk -t $(( c < 2 ? 1 : 2 )) -c $c -d ${SECS:-8}s --latency -s "$(dirname "$0")/etcd-put.lua" http://127.0.0.1:23791 \
    | grep -E "Requests/sec|50%|99%"
done
