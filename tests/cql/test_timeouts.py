"""Replicas that stop answering (SIGSTOP: their sockets stay open, so the coordinator cannot tell them
from slow ones) make the coordinator answer Cassandra's ReadTimeout and WriteTimeout, which the python
driver raises as its own exceptions with the counts Cassandra gives. Run by the Rust test with
BASALT_STOP_PIDS (two datanodes that are not the contact point) and datanodes started with short
table read and write timeouts. Once the replicas run again, writes and reads at ALL succeed."""

import os
import signal
import uuid
from contextlib import contextmanager

import pytest
from cassandra import ConsistencyLevel, ReadTimeout, WriteTimeout
from cassandra.policies import HostDistance, RoundRobinPolicy, WriteType
from cassandra.query import SimpleStatement

from conftest import connect, hosts, wait_until


class ContactPointOnly(RoundRobinPolicy):
    """Every request to the contact point. (The datanodes share one IP, so the driver's
    WhiteListRoundRobinPolicy, which matches addresses, cannot tell them apart: this matches ports.)"""

    def __init__(self, port):
        super().__init__()
        self.port = port

    def distance(self, host):
        return HostDistance.LOCAL if host.endpoint.port == self.port else HostDistance.IGNORED

    def make_query_plan(self, working_keyspace=None, query=None):
        return (h for h in super().make_query_plan(working_keyspace, query) if h.endpoint.port == self.port)


@pytest.fixture(scope="module")
def pinned():
    """A session whose every request is coordinated by the contact point (the node left running)."""
    _, port = hosts()[0]
    cluster, session = connect(lbp=ContactPointOnly(port))
    yield session
    cluster.shutdown()


@contextmanager
def stopped(pids):
    for p in pids:
        os.kill(p, signal.SIGSTOP)
    try:
        yield
    finally:
        for p in pids:
            os.kill(p, signal.SIGCONT)


def at(cl, query):
    return SimpleStatement(query, consistency_level=cl)


def test_stopped_replicas_give_read_and_write_timeouts(pinned):
    pids = [int(p) for p in os.environ["BASALT_STOP_PIDS"].split(",")]
    ks = "ks_timeout_" + uuid.uuid4().hex[:8]
    pinned.execute(f"CREATE KEYSPACE {ks} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 3}}")
    pinned.execute(f"CREATE TABLE {ks}.kv (k int PRIMARY KEY, v text)")
    pinned.execute(at(ConsistencyLevel.ALL, f"INSERT INTO {ks}.kv (k, v) VALUES (1, 'before')"))

    with stopped(pids):
        with pytest.raises(ReadTimeout) as read:
            pinned.execute(at(ConsistencyLevel.QUORUM, f"SELECT v FROM {ks}.kv WHERE k = 1"))
    # The coordinator's own replica answered; the quorum needs two.
    assert read.value.consistency == ConsistencyLevel.QUORUM, read.value
    assert (read.value.received_responses, read.value.required_responses) == (1, 2), read.value

    # Running again, the replicas are seen up (the coordinator probes the nodes it marked down).
    write_all = at(ConsistencyLevel.ALL, f"INSERT INTO {ks}.kv (k, v) VALUES (2, 'between')")
    wait_until(lambda: pinned.execute(write_all) is not None, "writes at ALL after SIGCONT")

    with stopped(pids):
        with pytest.raises(WriteTimeout) as write:
            pinned.execute(at(ConsistencyLevel.QUORUM, f"INSERT INTO {ks}.kv (k, v) VALUES (3, 'during')"))
    assert write.value.consistency == ConsistencyLevel.QUORUM, write.value
    assert (write.value.received_responses, write.value.required_responses) == (1, 2), write.value
    assert write.value.write_type == WriteType.SIMPLE, write.value

    # A write that timed out may still have been applied (as on Cassandra); the others are all there.
    read_all = at(ConsistencyLevel.ALL, f"SELECT k, v FROM {ks}.kv")
    rows = wait_until(lambda: {r.k: r.v for r in pinned.execute(read_all)}, "a read at ALL after SIGCONT")
    assert {1: "before", 2: "between"}.items() <= rows.items(), rows
