# Shared by the benchmark scripts (sourced): the machine's limits, and a `basalt local` cluster.
BIN=${BASALT_BIN:-basalt}
LIMITS=${LIMITS_SH:-$(dirname "${BASH_SOURCE[0]}")/../../shared/tools/limits/limits.sh}

# limits.sh (disk with fsync, loopback TCP, ...) when present: figures to compare the benchmarks with.
run_limits() {
  if [ -f "$LIMITS" ]; then
    echo "== machine limits (limits.sh)"; bash "$LIMITS" || echo "limits.sh failed (needs fio, iperf3)"
  fi
}

# start_local PORT NAMENODES DATANODES: starts `basalt local`, sets LOCAL and DATA, exports
# BASALT_NAMENODE (every member), and waits until it reports the cluster up (every datanode live, safe
# mode off).
start_local() {
  local port=$1 namenodes=$2 datanodes=$3
  if BASALT_NAMENODE=127.0.0.1:$port "$BIN" cluster status >/dev/null 2>&1; then
    echo "a metadata member already answers on 127.0.0.1:$port (a cluster left running?)" >&2; exit 1
  fi
  DATA=$(mktemp -d /tmp/basalt-bench.XXXXXX)
  BASALT_NAMENODE=127.0.0.1:$port
  for i in $(seq 1 $((namenodes - 1))); do BASALT_NAMENODE=$BASALT_NAMENODE,127.0.0.1:$((port + i)); done
  export BASALT_NAMENODE
  "$BIN" local --data-dir "$DATA" --namenodes "$namenodes" --datanodes "$datanodes" \
    --listen 127.0.0.1:$port --cql "${BENCH_CQL:-127.0.0.1:0}" --http "${BENCH_HTTP:-127.0.0.1:0}" >"$DATA/local.out" 2>&1 &
  LOCAL=$!
  # `basalt local` says so once every datanode is live and safe mode is off; until then it treats a role
  # that exits as a failed start and stops them all, so nothing may be killed before this line.
  for _ in $(seq 1 600); do
    grep -q "cluster is up" "$DATA/local.out" && return
    sleep 0.1
  done
  echo "the local cluster did not start (logs in $DATA/logs)" >&2; exit 1
}

# Stops the cluster (and any member a script restarted by hand) and removes its data (KEEP_DATA=1 keeps
# it, logs included, and prints where).
stop_local() {
  kill -INT "$LOCAL" 2>/dev/null; wait "$LOCAL" 2>/dev/null || true
  pkill -f "$DATA" 2>/dev/null || true
  for _ in $(seq 1 100); do pgrep -f "$DATA" >/dev/null || break; sleep 0.1; done
  pkill -9 -f "$DATA" 2>/dev/null || true
  if [ "${KEEP_DATA:-0}" = 1 ]; then echo "data and logs kept in $DATA" >&2; else rm -rf "$DATA"; fi
}
