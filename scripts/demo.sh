#!/usr/bin/env bash
# The demo: start `basalt local` (a namenode and three datanodes, each its own process), write and read
# back a few files (one larger than a block), show ls, du, the table token ring; then tables: a keyspace
# and a table, a CSV loaded with `basalt table load`, a few CQL queries, `basalt table status`, an export;
# then cluster status, and stop the cluster.
set -euo pipefail
BIN=${BASALT_BIN:-basalt}
DATA=${DEMO_DIR:-$(mktemp -d /tmp/basalt-demo.XXXXXX)}
WORK=$(mktemp -d /tmp/basalt-demo-files.XXXXXX)
export BASALT_NAMENODE=${BASALT_NAMENODE:-127.0.0.1:8020}
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { say "$*"; "$@"; }

echo "Starting: $BIN local --data-dir $DATA --block-size 4MiB"
"$BIN" local --data-dir "$DATA" --block-size 4MiB --listen "$BASALT_NAMENODE" &
LOCAL=$!
cleanup() { kill -INT "$LOCAL" 2>/dev/null || true; wait "$LOCAL" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
for _ in $(seq 1 600); do
  if "$BIN" cluster status 2>/dev/null | grep -q "Datanodes: 3 live"; then break; fi
  kill -0 "$LOCAL" 2>/dev/null || { echo "basalt local exited; logs in $DATA/logs" >&2; exit 1; }
  sleep 0.1
done

printf 'hello, basalt\n' > "$WORK/hello.txt"
head -c 10485760 /dev/urandom > "$WORK/big.bin"   # 10 MiB: three 4 MiB blocks
run "$BIN" fs mkdir -p /demo/data
run "$BIN" fs put "$WORK/hello.txt" "$WORK/big.bin" /demo/data
run "$BIN" fs cat /demo/data/hello.txt
run "$BIN" fs get /demo/data/big.bin "$WORK/big.back"
cmp "$WORK/big.bin" "$WORK/big.back" && echo "big.bin read back byte-identical (10 MiB, 3 blocks, 3 replicas each)"
run "$BIN" fs mv /demo/data/hello.txt /demo/hello.txt
printf 'and again\n' > "$WORK/more.txt"
run "$BIN" fs append "$WORK/more.txt" /demo/hello.txt
run "$BIN" fs cat /demo/hello.txt
run "$BIN" fs ls -R /demo
run "$BIN" fs stat /demo/data/big.bin
run "$BIN" fs du -h /demo
run "$BIN" fs fsck /demo
run "$BIN" admin raft snapshot
# Each datanode got 16 ring tokens when it registered; ownership is balanced (about a third each).
run "$BIN" table ring --summary
"$BIN" table ring | sed -n '6,12p'
echo "..."

# Tables: a keyspace at RF=3, a table, a small CSV loaded in batches, queries, status, an export.
run "$BIN" cql -e "CREATE KEYSPACE shop WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}; CREATE TABLE shop.orders (customer text, id int, amount double, items list<text>, PRIMARY KEY ((customer), id))"
{
  echo "customer,id,amount,items"
  for i in $(seq 1 200); do
    echo "c$((i % 7)),$i,$((i * 3)).5,\"['item$i', 'gift']\""
  done
} > "$WORK/orders.csv"
run "$BIN" table load --consistency QUORUM shop.orders "$WORK/orders.csv"
run "$BIN" cql --consistency QUORUM -e "SELECT COUNT(*) FROM shop.orders"
run "$BIN" cql -e "SELECT customer, id, amount, items FROM shop.orders WHERE customer = 'c3' LIMIT 4"
run "$BIN" cql --format csv -e "SELECT id, amount FROM shop.orders WHERE customer = 'c1' AND id < 30"
run "$BIN" table status
run "$BIN" table export shop.orders "$WORK/orders.parquet"
run "$BIN" table export shop.orders basalt:/demo/orders.csv
run "$BIN" fs ls /demo
run "$BIN" cluster status
echo
echo "Demo done; stopping the cluster (data stays in $DATA)."
