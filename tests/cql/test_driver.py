"""The unmodified python cassandra-driver against Basalt's CQL native protocol server."""

import datetime
import decimal
import ipaddress
import uuid

import pytest
from cassandra import AlreadyExists, ConsistencyLevel, InvalidRequest
from cassandra.policies import RoundRobinPolicy, TokenAwarePolicy
from cassandra.protocol import SyntaxException
from cassandra.query import BatchStatement, BatchType, SimpleStatement
from cassandra.util import Date, Time, uuid_from_time

from conftest import connect, hosts, wait_until


def test_connect_steps_down_to_v4_and_finds_every_node(cluster_session):
    cluster, session = cluster_session
    assert cluster.protocol_version == 4
    found = sorted((h.endpoint.address, h.endpoint.port) for h in cluster.metadata.all_hosts())
    assert found == sorted(hosts())
    assert all(h.is_up for h in cluster.metadata.all_hosts())
    assert all(h.datacenter == "datacenter1" and h.rack for h in cluster.metadata.all_hosts())
    assert cluster.metadata.partitioner == "org.apache.cassandra.dht.Murmur3Partitioner"
    assert len({t for h in cluster.metadata.all_hosts() for t in cluster.metadata.token_map.token_to_host_owner}) > 0
    local = session.execute("SELECT release_version, cql_version, cluster_name FROM system.local").one()
    assert local.release_version.startswith("4.")


def test_ddl_shows_in_the_driver_metadata(cluster_session, keyspace):
    cluster, session = cluster_session
    session.execute(
        f"CREATE TABLE {keyspace}.events (day text, at timestamp, id uuid, body text, "
        "PRIMARY KEY ((day), at, id)) WITH CLUSTERING ORDER BY (at DESC, id ASC)"
    )
    ks = cluster.metadata.keyspaces[keyspace]
    assert ks.replication_strategy.replication_factor == 3
    t = ks.tables["events"]
    assert [c.name for c in t.partition_key] == ["day"]
    assert [c.name for c in t.clustering_key] == ["at", "id"]
    assert t.columns["body"].cql_type == "text"
    assert "CREATE TABLE %s.events" % keyspace in t.export_as_string()
    session.execute(f"ALTER TABLE {keyspace}.events ADD extra int")
    wait_until(lambda: "extra" in cluster.metadata.keyspaces[keyspace].tables["events"].columns, "ALTER in metadata")
    session.execute(f"DROP TABLE {keyspace}.events")
    assert "events" not in cluster.metadata.keyspaces[keyspace].tables
    with pytest.raises(AlreadyExists) as e:
        session.execute(f"CREATE KEYSPACE {keyspace} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}}")
    assert e.value.keyspace == keyspace


ROW = {
    "k": 7,
    "ti": -8,
    "si": 1234,
    "bi": 2**40 + 3,
    "f": 1.5,
    "d": 2.25,
    "dec": decimal.Decimal("12345.6789"),
    "b": True,
    "t": "héllo wörld",
    "a": "ascii only",
    "bl": b"\x00\x01\xff",
    "ts": datetime.datetime(2024, 5, 6, 7, 8, 9, 123000),
    "dt": Date(datetime.date(2023, 12, 31)),
    "tm": Time(datetime.time(13, 14, 15, 16)),
    "u": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "tu": uuid_from_time(1_700_000_000),
    "ip": "192.168.1.20",
    "li": [3, 1, 2],
    "st": {"x", "y"},
    "mp": {"one": 1, "two": 2},
}

TYPES = (
    "k int PRIMARY KEY, ti tinyint, si smallint, bi bigint, f float, d double, dec decimal, b boolean, "
    "t text, a ascii, bl blob, ts timestamp, dt date, tm time, u uuid, tu timeuuid, ip inet, "
    "li list<int>, st set<text>, mp map<text, int>"
)


def check_row(r):
    for name, want in ROW.items():
        got = getattr(r, name)
        if name == "st":
            assert set(got) == want, name
        elif name == "mp":
            assert dict(got) == want, name
        elif name == "li":
            assert list(got) == want, name
        elif name == "ip":
            assert ipaddress.ip_address(got) == ipaddress.ip_address(want), name
        else:
            assert got == want, name


def test_every_type_through_prepared_and_simple_statements(session, keyspace):
    session.execute(f"CREATE TABLE {keyspace}.all_types ({TYPES})")
    names = list(ROW)
    insert = session.prepare(
        f"INSERT INTO {keyspace}.all_types ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    )
    session.execute(insert, [ROW[n] for n in names])
    check_row(session.execute(f"SELECT * FROM {keyspace}.all_types WHERE k = 7").one())
    # Simple statements with values (the driver inlines them as literals), then named values.
    session.execute(
        f"INSERT INTO {keyspace}.all_types ({', '.join(names)}) VALUES ({', '.join(['%s'] * len(names))})",
        [8 if n == "k" else ROW[n] for n in names],
    )
    r = session.execute(f"SELECT * FROM {keyspace}.all_types WHERE k = %s", (8,)).one()
    check_row(r._replace(k=7))
    named = session.prepare(f"SELECT t, mp FROM {keyspace}.all_types WHERE k = :key")
    r = session.execute(named, {"key": 7}).one()
    assert r.t == ROW["t"] and dict(r.mp) == ROW["mp"]
    # Nulls and deletes.
    session.execute(f"UPDATE {keyspace}.all_types SET t = null, li = li + [9] WHERE k = 7")
    r = session.execute(f"SELECT t, li FROM {keyspace}.all_types WHERE k = 7").one()
    assert r.t is None and list(r.li) == [3, 1, 2, 9]
    session.execute(f"DELETE FROM {keyspace}.all_types WHERE k = 8")
    assert session.execute(f"SELECT * FROM {keyspace}.all_types WHERE k = 8").one() is None


def test_prepared_statements_are_stable_across_coordinators(keyspace):
    # Prepared on one node only: another node answers UNPREPARED, and the driver re-prepares there.
    cluster, session = connect(prepare_on_all_hosts=False)
    try:
        session.execute(f"CREATE TABLE {keyspace}.kv (k int PRIMARY KEY, v text)")
        p = session.prepare(f"INSERT INTO {keyspace}.kv (k, v) VALUES (?, ?)")
        for h in cluster.metadata.all_hosts():
            session.execute(p, (h.endpoint.port, "on %d" % h.endpoint.port), host=h)
        rows = session.execute(f"SELECT k, v FROM {keyspace}.kv")
        assert sorted(r.k for r in rows) == sorted(port for _, port in hosts())
    finally:
        cluster.shutdown()


def test_paging_through_ten_thousand_rows(session, keyspace):
    session.execute(f"CREATE TABLE {keyspace}.big (p int, c int, v text, PRIMARY KEY (p, c))")
    insert = session.prepare(f"INSERT INTO {keyspace}.big (p, c, v) VALUES (?, ?, ?)")
    # Loaded as unlogged single-partition batches of 100 rows, 100 batches at once.
    batches = []
    for p in range(10):
        for start in range(p, 10_000, 1000):
            b = BatchStatement(batch_type=BatchType.UNLOGGED)
            for c in range(start, start + 1000, 10):
                b.add(insert, (p, c, "v%d" % c))
            batches.append(b)
    for f in [session.execute_async(b) for b in batches]:
        f.result()
    # The whole table across partitions, 700 rows a page.
    stmt = SimpleStatement(f"SELECT p, c FROM {keyspace}.big", fetch_size=700)
    result = session.execute(stmt)
    pages, seen = 1, []
    while True:
        seen.extend((r.p, r.c) for r in result.current_rows)
        if not result.has_more_pages:
            break
        result = session.execute(stmt, paging_state=result.paging_state)
        pages += 1
    assert len(seen) == 10_000 and len(set(seen)) == 10_000
    assert pages >= 10_000 // 700
    # One partition, with the driver's own page iteration.
    rows = list(session.execute(SimpleStatement(f"SELECT c FROM {keyspace}.big WHERE p = 3", fetch_size=100)))
    assert [r.c for r in rows] == list(range(3, 10_000, 10))


def counters(session, cluster):
    out = {}
    for h in cluster.metadata.all_hosts():
        rows = session.execute("SELECT name, value FROM system.basalt_requests", host=h)
        out[h.endpoint.port] = {r.name: r.value for r in rows}
    return out


def test_token_aware_policy_sends_each_request_to_a_replica(cluster_session):
    cluster, session = cluster_session
    ks = "ks_rf1_" + uuid.uuid4().hex[:8]
    session.execute(f"CREATE KEYSPACE {ks} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}}")
    session.execute(f"CREATE TABLE {ks}.kv (k int PRIMARY KEY, v text)")
    insert = session.prepare(f"INSERT INTO {ks}.kv (k, v) VALUES (?, ?)")
    select = session.prepare(f"SELECT v FROM {ks}.kv WHERE k = ?")
    before = counters(session, cluster)
    for i in range(200):
        session.execute(insert, (i, str(i)))
        assert session.execute(select, (i,)).one().v == str(i)
    after = counters(session, cluster)
    on_replica = sum(after[n]["replica_coordinated"] - before[n]["replica_coordinated"] for n in after)
    off_replica = sum(after[n]["non_replica_coordinated"] - before[n]["non_replica_coordinated"] for n in after)
    assert on_replica >= 400, (before, after)
    assert off_replica == 0, (before, after)
    # Every node coordinated some: the keys spread over the ring.
    assert all(after[n]["replica_coordinated"] > before[n]["replica_coordinated"] for n in after), (before, after)
    # Round robin without token awareness lands on non-replicas (RF=1 of 3 nodes).
    rr_cluster, rr = connect(lbp=RoundRobinPolicy())
    try:
        before = counters(session, cluster)
        for i in range(60):
            rr.execute(f"SELECT v FROM {ks}.kv WHERE k = {i}")
        after = counters(session, cluster)
        assert sum(after[n]["non_replica_coordinated"] - before[n]["non_replica_coordinated"] for n in after) > 0
    finally:
        rr_cluster.shutdown()


def test_errors_are_the_driver_exception_types(session, keyspace):
    with pytest.raises(SyntaxException):
        session.execute("SELEC * FRM nowhere")
    with pytest.raises(InvalidRequest):
        session.execute(f"SELECT * FROM {keyspace}.no_such_table")
    with pytest.raises(InvalidRequest):
        session.execute("SELECT * FROM system.peers_v2")
    session.execute(f"CREATE TABLE {keyspace}.t (k int PRIMARY KEY)")
    with pytest.raises(AlreadyExists) as e:
        session.execute(f"CREATE TABLE {keyspace}.t (k int PRIMARY KEY)")
    assert (e.value.keyspace, e.value.table) == (keyspace, "t")
    with pytest.raises(InvalidRequest):
        session.execute(f"INSERT INTO {keyspace}.t (k, nope) VALUES (1, 2)")


def test_batches_use_and_consistency(session, keyspace):
    session.execute(f"CREATE TABLE {keyspace}.b (k int, c int, v text, PRIMARY KEY (k, c))")
    p = session.prepare(f"INSERT INTO {keyspace}.b (k, c, v) VALUES (?, ?, ?)")
    logged = BatchStatement(batch_type=BatchType.LOGGED, consistency_level=ConsistencyLevel.QUORUM)
    logged.add(p, (1, 1, "a"))
    logged.add(SimpleStatement(f"INSERT INTO {keyspace}.b (k, c, v) VALUES (%s, %s, %s)"), (2, 1, "b"))
    logged.add(p, (3, 1, "c"))
    session.execute(logged)
    unlogged = BatchStatement(batch_type=BatchType.UNLOGGED)
    for c in range(2, 6):
        unlogged.add(p, (1, c, "u%d" % c))
    session.execute(unlogged)
    cluster, other = connect()
    try:
        other.execute(f"USE {keyspace}")
        assert other.keyspace == keyspace
        rows = other.execute(SimpleStatement("SELECT c, v FROM b WHERE k = 1", consistency_level=ConsistencyLevel.ALL))
        assert [(r.c, r.v) for r in rows] == [(1, "a"), (2, "u2"), (3, "u3"), (4, "u4"), (5, "u5")]
        one = other.execute(SimpleStatement("SELECT v FROM b WHERE k = 3", consistency_level=ConsistencyLevel.ONE)).one()
        assert one.v == "c"
        # A prepared statement without a keyspace resolves in the session's.
        q = other.prepare("SELECT v FROM b WHERE k = ? AND c = ?")
        assert other.execute(q, (2, 1)).one().v == "b"
    finally:
        cluster.shutdown()


def test_schema_change_events_reach_a_second_session(session, keyspace):
    watcher, _ = connect()
    try:
        wait_until(lambda: keyspace in watcher.metadata.keyspaces, "the keyspace in the watcher's metadata")
        assert "late" not in watcher.metadata.keyspaces[keyspace].tables
        # Made through another node than the watcher's control connection.
        writer, ws = connect(lbp=RoundRobinPolicy())
        try:
            ws.execute(f"CREATE TABLE {keyspace}.late (k int PRIMARY KEY, v int)")
        finally:
            writer.shutdown()
        wait_until(lambda: "late" in watcher.metadata.keyspaces[keyspace].tables, "the new table in the watcher's metadata")
        t = watcher.metadata.keyspaces[keyspace].tables["late"]
        assert sorted(t.columns) == ["k", "v"]
    finally:
        watcher.shutdown()


@pytest.mark.parametrize("algorithm", ["lz4", "snappy"])
def test_compressed_connections(keyspace, algorithm):
    cluster, session = connect(compression=algorithm)
    try:
        compressor = cluster.control_connection._connection.compressor
        assert compressor is not None and algorithm in compressor.__module__ + compressor.__name__, compressor
        table = f"{keyspace}.blobs_{algorithm}"
        session.execute(f"CREATE TABLE {table} (k int PRIMARY KEY, v text)")
        big = "x" * 200_000 + "y"
        session.execute(f"INSERT INTO {table} (k, v) VALUES (1, %s)", (big,))
        assert session.execute(f"SELECT v FROM {table} WHERE k = 1").one().v == big
    finally:
        cluster.shutdown()
