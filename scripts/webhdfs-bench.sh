#!/usr/bin/env bash
# WebHDFS throughput next to the native client on the same file: `basalt fs put/get` and `curl -L -T` /
# `curl -L` through the namenode's WebHDFS (307 to a datanode, which streams through the client
# library), on a local cluster (1 metadata member, 3 datanodes, replication 3). Prints MiB/s of each,
# the WebHDFS/native ratios, and the peak RSS of the datanodes during the WebHDFS transfers (VmHWM,
# reset first through /proc/PID/clear_refs).
#
# Environment: SIZE (default 1G; numfmt --from=iec: 512M, 4G), PORT (default 18120), BASALT_BIN.
set -euo pipefail
HERE=$(dirname "$0")
source "$HERE/lib.sh"
PORT=${PORT:-18120}
SIZE=${SIZE:-1G}
BYTES=$(numfmt --from=iec "$SIZE")
WORK=$(mktemp -d /tmp/basalt-webhdfs-bench.XXXXXX)
USER_NAME=$(id -un)
trap 'stop_local 2>/dev/null || true; rm -rf "$WORK"' EXIT

start_local "$PORT" 1 3
HTTP=$(sed -n 's|^HTTP (WebHDFS[^:]*: http://\([^ ,]*\).*|\1|p' "$DATA/local.out" | head -1)
[ -n "$HTTP" ] || { echo "no HTTP address in $DATA/local.out" >&2; exit 1; }
API="http://$HTTP/webhdfs/v1"
DN_PIDS=$(pgrep -f "datanode --data-dir $DATA" || true)

echo "== $SIZE ($BYTES bytes) file, WebHDFS at $API"
head -c "$BYTES" /dev/urandom >"$WORK/file"
now() { date +%s.%N; }
rate() { awk -v b="$BYTES" -v s="$1" -v e="$2" 'BEGIN { printf "%.1f", b / 1048576 / (e - s) }'; }
peak_reset() {
  base=$(for p in $DN_PIDS; do awk '/VmRSS/ { printf "%d ", $2 / 1024 }' "/proc/$p/status" 2>/dev/null || true; done)
  for p in $DN_PIDS; do echo 5 >"/proc/$p/clear_refs" 2>/dev/null || true; done
}
peak_mib() {
  for p in $DN_PIDS; do awk '/VmHWM/ { printf "%d ", $2 / 1024 }' "/proc/$p/status" 2>/dev/null || true; done
}

"$BIN" fs mkdir -p /bench
t0=$(now); "$BIN" fs put "$WORK/file" /bench/native; t1=$(now)
native_put=$(rate "$t0" "$t1")
peak_reset
t0=$(now)
curl -sS -f -L -T "$WORK/file" "$API/bench/web?op=CREATE&user.name=$USER_NAME" -o /dev/null
t1=$(now)
web_put=$(rate "$t0" "$t1")
put_peak="$(peak_mib)(before: $base)"

t0=$(now); "$BIN" fs get /bench/native "$WORK/native.back"; t1=$(now)
native_get=$(rate "$t0" "$t1")
peak_reset
t0=$(now)
curl -sS -f -L "$API/bench/web?op=OPEN&user.name=$USER_NAME" -o "$WORK/web.back"
t1=$(now)
web_get=$(rate "$t0" "$t1")
get_peak="$(peak_mib)(before: $base)"

cmp "$WORK/file" "$WORK/native.back"
cmp "$WORK/file" "$WORK/web.back"
echo "upload:   basalt fs put $native_put MiB/s   WebHDFS (curl -L -T) $web_put MiB/s   ratio $(awk -v a="$web_put" -v b="$native_put" 'BEGIN { printf "%.2f", a / b }')"
echo "download: basalt fs get $native_get MiB/s   WebHDFS (curl -L)    $web_get MiB/s   ratio $(awk -v a="$web_get" -v b="$native_get" 'BEGIN { printf "%.2f", a / b }')"
echo "datanode peak RSS (MiB, each datanode): during the WebHDFS upload $put_peak; during the download $get_peak"
echo "both copies byte-identical to the source"
