#!/usr/bin/env bash
# Re-replication after a node loss, next to the disk limit measured in the same run:
# limits.sh, then `basalt local` with 4 datanodes, SIZE_MIB x FILES of RF-3 files, kill -9 of one
# datanode, and `basalt bench heal` timing detection and repair.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
FILES=${FILES:-4}
SIZE_MIB=${SIZE_MIB:-512}
run_limits
start_local ${PORT:-18030} 1 4
trap stop_local EXIT
head -c $((SIZE_MIB << 20)) /dev/urandom > "$DATA/payload"
for i in $(seq 1 "$FILES"); do "$BIN" fs put -r 3 "$DATA/payload" "/heal-$i"; done
echo "== wrote $FILES x $SIZE_MIB MiB at RF 3"
"$BIN" cluster status | sed -n '/Datanodes:/,$p'
VICTIM=$(pgrep -f -- "--data-dir $DATA/datanode-4" | head -1)
kill -9 "$VICTIM"
echo "== killed datanode-4 (pid $VICTIM)"
"$BIN" bench heal
"$BIN" fs fsck / | tail -2
