#!/usr/bin/env bash
# Benchmarks next to the machine's physical limits, measured in the same run:
# limits.sh (disk with fsync, loopback TCP; from ../shared/tools/limits when present), then a local
# cluster with dfsio and nnbench. Prints figures; compare them as ratios.
set -euo pipefail
BIN=${BASALT_BIN:-basalt}
LIMITS=${LIMITS_SH:-$(dirname "$0")/../../shared/tools/limits/limits.sh}
DATA=$(mktemp -d /tmp/basalt-bench.XXXXXX)
export BASALT_NAMENODE=${BASALT_NAMENODE:-127.0.0.1:18020}
if [ -x "$LIMITS" ] || [ -f "$LIMITS" ]; then
  echo "== machine limits (limits.sh)"; bash "$LIMITS" || echo "limits.sh failed (needs fio, iperf3)"
fi
"$BIN" local --data-dir "$DATA" --listen "$BASALT_NAMENODE" >/dev/null &
LOCAL=$!
trap 'kill -INT $LOCAL 2>/dev/null; wait $LOCAL 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 1 600); do
  "$BIN" cluster status 2>/dev/null | grep -q "Datanodes: 3 live" && break
  sleep 0.1
done
echo "== dfsio"; "$BIN" bench dfsio --files ${DFSIO_FILES:-4} --size ${DFSIO_SIZE:-256MiB} --replication 3
echo "== nnbench"
for c in 1 16 64; do "$BIN" bench nnbench --ops ${NN_OPS:-3000} --concurrency $c; done
