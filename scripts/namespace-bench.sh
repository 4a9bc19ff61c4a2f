#!/usr/bin/env bash
# Namenode memory per file and per block: an empty namenode's RSS, then N files (B blocks each) created
# through `basalt bench namespace`, then the namenode restarted (snapshot + log replayed) and its RSS
# and peak RSS read from /proc. One namenode and one datanode, each its own process.
#
#   FILES=1000000 BLOCKS=0 scripts/namespace-bench.sh      (BASALT_BIN: the binary, release recommended)
set -euo pipefail
BIN=${BASALT_BIN:-basalt}
FILES=${FILES:-100000}
BLOCKS=${BLOCKS:-0}
PORT=${PORT:-18120}
DATA=$(mktemp -d /tmp/basalt-nsbench.XXXXXX)
export BASALT_NAMENODE=127.0.0.1:$PORT
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$DATA"' EXIT

start_nn() {
  "$BIN" namenode --data-dir "$DATA/nn" --listen "$BASALT_NAMENODE" --replication 1 >>"$DATA/nn.log" 2>&1 &
  NN=$!
}
wait_up() {
  for _ in $(seq 1 6000); do
    "$BIN" cluster status 2>/dev/null | grep -q "Datanodes: 1 live" && \
      ! "$BIN" cluster status 2>/dev/null | grep -qi "safe mode: on" && return
    sleep 0.1
  done
  echo "cluster did not come up; see $DATA/nn.log" >&2; exit 1
}
kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }

start_nn
"$BIN" datanode --data-dir "$DATA/dn" --listen 127.0.0.1:0 >"$DATA/dn.log" 2>&1 &
wait_up
EMPTY=$(kb $NN VmRSS)
"$BIN" bench namespace --files "$FILES" --blocks-per-file "$BLOCKS" --keep
LOADED=$(kb $NN VmRSS); LOADED_PEAK=$(kb $NN VmHWM)
# The request dedup window holds the last 2 minutes of requests (a constant, not a per-file cost): let
# it age out (the idle leader's clock ticks every 30 s) before the restart, unless SETTLE=0.
SETTLE=${SETTLE:-160}
[ "$SETTLE" -gt 0 ] && { echo "waiting ${SETTLE}s for the retry window to age out"; sleep "$SETTLE"; }
SETTLED=$(kb $NN VmRSS)
"$BIN" admin raft snapshot
kill -INT $NN; wait $NN || true
T0=$(date +%s.%N)
start_nn
wait_up
T1=$(date +%s.%N)
RESTART=$(kb $NN VmRSS); RESTART_PEAK=$(kb $NN VmHWM)
"$BIN" cluster status | sed -n '1,12p'
SNAP=$(stat -c %s "$DATA/nn/snapshots/snapshot.bin" 2>/dev/null || echo 0)
awk -v e="$EMPTY" -v l="$LOADED" -v lp="$LOADED_PEAK" -v s="$SETTLED" -v r="$RESTART" -v rp="$RESTART_PEAK" \
    -v f="$FILES" -v b="$BLOCKS" -v t0="$T0" -v t1="$T1" -v snap="$SNAP" 'BEGIN {
  printf "namenode RSS: empty %.1f MB; after %d files x %d blocks: %.1f MB (peak %.1f MB), settled %.1f MB\n", e/1024, f, b, l/1024, lp/1024, s/1024
  printf "after restart: %.1f MB (peak during start-up %.1f MB = %.2fx steady), up in %.1f s, snapshot %.1f MB\n", r/1024, rp/1024, rp/r, t1-t0, snap/1e6
  printf "per file (restart RSS - empty) / files: %.0f B", (r-e)*1024/f
  if (b > 0) printf "; per file+its %d blocks: %.0f B", b, (r-e)*1024/f
  printf "\n"
}'
