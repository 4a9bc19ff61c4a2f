"""A datanode killed with SIGKILL under the driver: run by the Rust test with BASALT_VICTIM_PID (a
datanode that is not the contact point; BASALT_VICTIM_CQL its CQL address). Writes at QUORUM go on through the driver's retries and
every acknowledged row stays readable; an ALL read fails with Unavailable (3 required, 2 alive)
while QUORUM succeeds; a connection registered for STATUS_CHANGE hears it go DOWN."""

import os
import signal
import socket
import struct
import uuid

import pytest
from cassandra import ConsistencyLevel, Unavailable
from cassandra.query import SimpleStatement

from conftest import wait_until
from test_protocol import conn, frame, read_frame, ready, string

REGISTER, EVENT = 0x0B, 0x0C


def status_events():
    """A raw connection to the contact point registered for STATUS_CHANGE."""
    s = conn()
    ready(s)
    s.sendall(frame(REGISTER, struct.pack(">H", 1) + string("STATUS_CHANGE"), stream=2))
    assert read_frame(s)[2] == 0x02  # READY
    return s


def wait_down_event(s, addr):
    """The first STATUS_CHANGE DOWN event for `addr` (host:port), within the socket's timeout."""
    host, port = addr.rsplit(":", 1)
    s.settimeout(60)
    while True:
        _, stream, opcode, body = read_frame(s)
        if opcode != EVENT:
            continue
        assert stream == -1
        at, words = 0, []
        for _ in range(2):
            (n,) = struct.unpack_from(">H", body, at)
            words.append(body[at + 2 : at + 2 + n].decode())
            at += 2 + n
        size = body[at]
        ip = socket.inet_ntop(socket.AF_INET if size == 4 else socket.AF_INET6, body[at + 1 : at + 1 + size])
        (p,) = struct.unpack_from(">i", body, at + 1 + size)
        if words == ["STATUS_CHANGE", "DOWN"] and (ip, p) == (host, int(port)):
            return


def test_kill_during_load_then_all_is_unavailable_and_quorum_succeeds(session):
    ks = "ks_down_" + uuid.uuid4().hex[:8]
    session.execute(f"CREATE KEYSPACE {ks} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 3}}")
    session.execute(f"CREATE TABLE {ks}.kv (k int PRIMARY KEY, v text)")
    insert = session.prepare(f"INSERT INTO {ks}.kv (k, v) VALUES (?, ?)")
    insert.is_idempotent = True  # the driver retries it on another node when its node dies
    select = session.prepare(f"SELECT v FROM {ks}.kv WHERE k = ?")
    acked, failed = [], []
    victim = int(os.environ["BASALT_VICTIM_PID"])
    events = status_events()
    for k in range(300):
        if k == 100:
            os.kill(victim, signal.SIGKILL)
        futures = [session.execute_async(insert, (k * 4 + j, "v%d" % (k * 4 + j))) for j in range(4)]
        for j, f in enumerate(futures):
            try:
                f.result()
                acked.append(k * 4 + j)
            except Exception as e:  # noqa: BLE001 - counted: only unacknowledged writes may fail
                failed.append((k * 4 + j, repr(e)))
    # Failures, if any, only around the kill.
    assert len(failed) <= 40, failed[:5]
    assert len(acked) >= 1200 - 40
    for k in acked:
        r = session.execute(select, (k,)).one()
        assert r is not None and r.v == "v%d" % k, k

    # The contact point, a coordinator of that load, saw the victim go down and told its clients.
    wait_down_event(events, os.environ["BASALT_VICTIM_CQL"])
    events.close()

    all_read = SimpleStatement(f"SELECT v FROM {ks}.kv WHERE k = 1", consistency_level=ConsistencyLevel.ALL)

    def unavailable():
        try:
            session.execute(all_read)
        except Unavailable as e:
            return e
        return None

    e = wait_until(unavailable, "an ALL read to fail with Unavailable")
    assert e.consistency == ConsistencyLevel.ALL
    assert (e.required_replicas, e.alive_replicas) == (3, 2)
    quorum = SimpleStatement(f"SELECT v FROM {ks}.kv WHERE k = 1", consistency_level=ConsistencyLevel.QUORUM)
    assert session.execute(quorum).one().v == "v1"
    with pytest.raises(Unavailable):
        session.execute(
            SimpleStatement(f"INSERT INTO {ks}.kv (k, v) VALUES (1, 'x')", consistency_level=ConsistencyLevel.ALL)
        )
