#!/usr/bin/env bash
# The demo: start `basalt local` (a namenode and three datanodes, each its own process), write and read
# back a few files (one larger than a block), show ls, du, the table token ring; then tables: a keyspace
# and a table, a CSV loaded with `basalt table load`, a few CQL queries, `basalt table status`, an export;
# then jobs (a word count and a Hadoop Streaming job on the executors), cluster status, the web UI's URL
# and a few lines of the namenode's /metrics, and stop the cluster.
set -euo pipefail
BIN=${BASALT_BIN:-basalt}
DATA=${DEMO_DIR:-$(mktemp -d /tmp/basalt-demo.XXXXXX)}
WORK=$(mktemp -d /tmp/basalt-demo-files.XXXXXX)
export BASALT_NAMENODE=${BASALT_NAMENODE:-127.0.0.1:8020}
# The first datanode's CQL address (cqlsh, Cassandra drivers); the others take the next ports.
CQL=${DEMO_CQL:-127.0.0.1:9042}
# The namenode's HTTP address (WebHDFS, web UI, /metrics).
HTTP=${DEMO_HTTP:-127.0.0.1:9870}
PYENV=${BASALT_PYENV:-$HOME/.cache/basalt/pyenv}
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { say "$*"; "$@"; }

echo "Starting: $BIN local --data-dir $DATA --block-size 4MiB --cql $CQL --http $HTTP"
"$BIN" local --data-dir "$DATA" --block-size 4MiB --listen "$BASALT_NAMENODE" --cql "$CQL" --http "$HTTP" &
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
# WebHDFS, the REST API of HDFS clients (hdfs, fsspec, curl), on the namenode's HTTP port: a listing,
# then a file up and down through the namenode's 307 to a datanode.
WEB="http://$HTTP/webhdfs/v1"
ME=$(id -un)
run curl -sS "$WEB/demo?op=LISTSTATUS&user.name=$ME"
echo
say "curl -i -L -T hello.txt '$WEB/demo/web.txt?op=CREATE&user.name=$ME'"
curl -sS -i -L -T "$WORK/hello.txt" "$WEB/demo/web.txt?op=CREATE&user.name=$ME" | grep -E '^(HTTP|Location)'
run curl -sS -L "$WEB/demo/web.txt?op=OPEN&user.name=$ME"
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

# The same table through the CQL native protocol: cqlsh and the python driver, unmodified (from the
# virtualenv scripts/deps.sh makes for the tests).
echo
echo "CQL native protocol v4 on every datanode, the first at $CQL (cqlsh ${CQL%:*} ${CQL##*:})"
if [ -x "$PYENV/bin/cqlsh" ]; then
  run "$PYENV/bin/cqlsh" "${CQL%:*}" "${CQL##*:}" -e "SELECT customer, id, amount FROM shop.orders WHERE customer = 'c2' LIMIT 3"
  say "python: Cluster(['${CQL%:*}'], port=${CQL##*:}).connect()"
  "$PYENV/bin/python" - "${CQL%:*}" "${CQL##*:}" <<'PY'
import sys
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
from cassandra.policies import RoundRobinPolicy, TokenAwarePolicy
profile = ExecutionProfile(load_balancing_policy=TokenAwarePolicy(RoundRobinPolicy()))
cluster = Cluster([sys.argv[1]], port=int(sys.argv[2]), execution_profiles={EXEC_PROFILE_DEFAULT: profile})
session = cluster.connect("shop")
print("protocol v%d, nodes: %s" % (cluster.protocol_version, ", ".join(sorted(str(h.endpoint) for h in cluster.metadata.all_hosts()))))
print("tables of shop:", sorted(cluster.metadata.keyspaces["shop"].tables))
total = session.prepare("SELECT COUNT(*) FROM orders WHERE customer = ?")
print("orders of c4:", session.execute(total, ["c4"]).one()[0])
cluster.shutdown()
PY
else
  echo "(cqlsh and cassandra-driver not installed in $PYENV: scripts/deps.sh installs them)"
fi

# Jobs: a word count over a text file on Basalt (one map task per block, on the executor next to the
# block), then its output and status; a Hadoop Streaming job with shell tools.
for i in $(seq 1 20000); do echo "the quick brown fox $((i % 13)) jumps over the lazy dog $((i % 7))"; done > "$WORK/words.txt"
run "$BIN" fs put "$WORK/words.txt" /demo/words.txt
run "$BIN" job wordcount /demo/words.txt /demo/wc
run "$BIN" fs ls /demo/wc
say "$BIN fs cat /demo/wc/part-00000 /demo/wc/part-00001 | sort -k2 -n -r | head"
"$BIN" fs cat /demo/wc/part-00000 /demo/wc/part-00001 | sort -t "$(printf '\t')" -k2 -n -r | head
run "$BIN" job streaming -input /demo/words.txt -output /demo/lines -mapper "cut -d' ' -f5" -reducer "uniq -c" -numReduceTasks 1
run "$BIN" fs cat /demo/lines/part-00000
run "$BIN" job list
run "$BIN" job status job_1
run "$BIN" cluster status
echo
echo "Web UI: http://$HTTP/ui/ (overview, datanodes, files, healing, jobs; live values refresh every 2 s)"
say "curl -s http://$HTTP/metrics | grep -E '^basalt_(raft_commit_index|datanodes|rpc_requests_total.*ClientProtocol.*Create|process_resident_memory_bytes)'"
curl -s "http://$HTTP/metrics" | grep -E '^basalt_(raft_commit_index|datanodes|rpc_requests_total.*ClientProtocol.*Create|process_resident_memory_bytes)' || true
echo "(every role serves /metrics: deploy/monitoring has a Prometheus config and a Grafana dashboard)"
echo
echo "Demo done; stopping the cluster (data stays in $DATA)."
