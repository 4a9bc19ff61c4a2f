#!/usr/bin/env bash
# Failover time of the metadata group, as a distribution over several kills: start a 3-member group
# (`basalt local --namenodes 3`), then repeatedly kill -9 the leader and time until the first write
# succeeds (the client library retries on its own), and, in parallel, until a file written before the kill
# reads back (the new leader must know its block locations: datanodes report to every member); restart
# the killed member before the next round.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-10}
start_local ${PORT:-19300} 3 3
trap stop_local EXIT
"$BIN" fs mkdir -p /failover
head -c 1000000 /dev/urandom > "$DATA/probe"
"$BIN" fs put "$DATA/probe" /failover/probe
times=()
reads=()
for r in $(seq 1 "$ROUNDS"); do
  leader=$("$BIN" admin raft status | awk '$3=="leader"{print $1}')
  pid=$(pgrep -f "namenode --id $leader .*$DATA" | head -1)
  mapfile -d '' cmd < /proc/$pid/cmdline
  echo "round $r: leader $leader pid $pid: $(tr "\0" " " < /proc/$pid/cmdline)" >&2
  t0=$(date +%s%N)
  kill -9 "$pid"
  ( "$BIN" fs cat /failover/probe | cmp -s - "$DATA/probe" && date +%s%N > "$DATA/read-done" ) &
  reader=$!
  "$BIN" fs mkdir /failover/r$r
  t1=$(date +%s%N)
  wait $reader
  times+=($(( (t1 - t0) / 1000000 )))
  reads+=($(( ($(cat "$DATA/read-done") - t0) / 1000000 )))
  rm -f "$DATA/read-done"
  "${cmd[@]}" >>"$DATA/logs/restarted.log" 2>&1 &
  for _ in $(seq 1 300); do
    [ "$("$BIN" admin raft status 2>/dev/null | grep -c -E 'leader|follower')" = 3 ] && break; sleep 0.1
  done
done
report() {
  local sorted; sorted=$(printf '%s\n' "${@:2}" | sort -n)
  echo "$1, ms, $ROUNDS rounds:"
  echo "  all: $(echo $sorted | tr '\n' ' ')"
  echo "  min $(echo "$sorted" | head -1)  p50 $(echo "$sorted" | sed -n "$(( (ROUNDS+1)/2 ))p")  max $(echo "$sorted" | tail -1)"
}
report "failover (leader kill -9 -> first acknowledged write)" "${times[@]}"
report "failover (leader kill -9 -> a file written before reads back)" "${reads[@]}"

