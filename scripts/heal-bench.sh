#!/usr/bin/env bash
# Re-replication after a node loss, next to the disk limit measured in the same run:
# limits.sh, then `basalt local` with 4 datanodes, SIZE_MIB x FILES of RF-3 files, kill -9 of one
# datanode, and `basalt bench heal` timing detection and repair.
set -euo pipefail
BIN=${BASALT_BIN:-basalt}
LIMITS=${LIMITS_SH:-$(dirname "$0")/../../shared/tools/limits/limits.sh}
FILES=${FILES:-4}
SIZE_MIB=${SIZE_MIB:-512}
DATA=$(mktemp -d /tmp/basalt-heal.XXXXXX)
export BASALT_NAMENODE=${BASALT_NAMENODE:-127.0.0.1:18030}
if [ -f "$LIMITS" ]; then
  echo "== machine limits (limits.sh)"; bash "$LIMITS" || echo "limits.sh failed (needs fio, iperf3)"
fi
"$BIN" local --data-dir "$DATA" --listen "$BASALT_NAMENODE" --datanodes 4 >/dev/null &
LOCAL=$!
trap 'kill -INT $LOCAL 2>/dev/null; wait $LOCAL 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 1 600); do
  "$BIN" cluster status 2>/dev/null | grep -q "Datanodes: 4 live" && break
  sleep 0.1
done
head -c $((SIZE_MIB << 20)) /dev/urandom > "$DATA/payload"
for i in $(seq 1 "$FILES"); do "$BIN" fs put -r 3 "$DATA/payload" "/heal-$i"; done
echo "== wrote $FILES x $SIZE_MIB MiB at RF 3"
"$BIN" cluster status | sed -n '/Datanodes:/,$p'
VICTIM=$(pgrep -f -- "--data-dir $DATA/datanode-4" | head -1)
kill -9 "$VICTIM"
echo "== killed datanode-4 (pid $VICTIM)"
"$BIN" bench heal
"$BIN" fs fsck / | tail -2
