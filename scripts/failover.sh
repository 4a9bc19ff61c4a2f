#!/usr/bin/env bash
# Failover time of the metadata group, as a distribution over several kills: start a 3-member group
# (`basalt local --namenodes 3`), then repeatedly kill -9 the leader and time until the first write
# succeeds (the client library retries on its own), and, in parallel, until a file written before the kill
# reads back (the new leader must know its block locations: datanodes report to every member); restart
# the killed member and wait until it has caught up (every member up, none lagging) before the next
# round, so that each round measures one fault. Reports percentiles (nearest rank) and how many terms
# (elections) each failover took. Then, for STABLE_SECS (default 600; 0 skips it), a healthy group under
# load (nnbench at 64 clients and dfsio, over and over) must not elect anyone: the leader's term at the
# end is its term at the start.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-20}
start_local ${PORT:-19300} 3 3
trap stop_local EXIT
"$BIN" fs mkdir -p /failover
head -c 1000000 /dev/urandom > "$DATA/probe"
"$BIN" fs put "$DATA/probe" /failover/probe
times=()
reads=()
terms=()
term() { { "$BIN" admin raft status 2>/dev/null || true; } | awk '$3=="leader"{print $4}'; }
for r in $(seq 1 "$ROUNDS"); do
  leader=$("$BIN" admin raft status | awk '$3=="leader"{print $1}')
  term0=$(term)
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
  terms+=($(( $(term) - term0 )))
  times+=($(( (t1 - t0) / 1000000 )))
  reads+=($(( ($(cat "$DATA/read-done") - t0) / 1000000 )))
  rm -f "$DATA/read-done"
  "${cmd[@]}" >>"$DATA/logs/restarted.log" 2>&1 &
  for _ in $(seq 1 300); do
    "$BIN" admin raft status 2>/dev/null |
      awk '$3=="leader"||$3=="follower"{up++; if ($7==0) caught++} END{exit !(up==3 && caught==3)}' && break
    sleep 0.1
  done
done
report() {
  local sorted; sorted=$(printf '%s\n' "${@:2}" | sort -n)
  echo "$1, ms, $ROUNDS rounds:"
  echo "  all: $(echo $sorted | tr '\n' ' ')"
  local n=$ROUNDS; rank() { echo "$sorted" | sed -n "$(( ($1 * n + 99) / 100 ))p"; }
  echo "  min $(echo "$sorted" | head -1)  p50 $(rank 50)  p90 $(rank 90)  p99 $(rank 99)  max $(echo "$sorted" | tail -1)"
}
report "failover (leader kill -9 -> first acknowledged write)" "${times[@]}"
report "failover (leader kill -9 -> a file written before reads back)" "${reads[@]}"
echo "elections per failover (terms): $(printf '%s\n' "${terms[@]}" | sort -n | uniq -c | awk '{printf "%s x%s  ", $2, $1}')"

STABLE_SECS=${STABLE_SECS:-600}
if [ "$STABLE_SECS" -gt 0 ]; then
  term0=$(term)
  end=$(( $(date +%s) + STABLE_SECS ))
  loops=0
  while [ "$(date +%s)" -lt "$end" ]; do
    "$BIN" bench nnbench --ops 2000 --concurrency 64 >/dev/null &
    nnbench=$!
    "$BIN" bench dfsio --files 2 --size 64MiB --replication 3 >/dev/null
    wait $nnbench
    loops=$((loops + 1))
  done
  echo "healthy group under load for ${STABLE_SECS} s ($loops rounds of nnbench -c 64 + dfsio): term $term0 -> $(term), $(( $(term) - term0 )) elections"
fi

