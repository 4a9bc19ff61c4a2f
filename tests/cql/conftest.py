"""Fixtures of the CQL client suite: a running Basalt cluster whose datanodes serve CQL, named by
BASALT_CQL_HOSTS ("host:port,host:port,..."; the Rust test tests/cluster/cql_clients.rs starts the
cluster and sets it), and sessions of the real python driver on it."""

import os
import time
import uuid

import pytest
from cassandra import ConsistencyLevel
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
from cassandra.policies import RoundRobinPolicy, TokenAwarePolicy

DEADLINE = 60.0


def hosts():
    raw = os.environ.get("BASALT_CQL_HOSTS")
    assert raw, "BASALT_CQL_HOSTS is not set: run this suite through `cargo test --test cluster cql_clients`"
    out = []
    for h in raw.split(","):
        host, port = h.rsplit(":", 1)
        out.append((host, int(port)))
    return out


def wait_until(cond, what, deadline=DEADLINE, pause=0.05):
    """Polls `cond` until it is truthy or `deadline` seconds pass (then fails saying `what`)."""
    end = time.monotonic() + deadline
    last = None
    while time.monotonic() < end:
        try:
            v = cond()
            if v:
                return v
        except Exception as e:  # noqa: BLE001 - the last error is reported on timeout
            last = e
        time.sleep(pause)
    raise AssertionError(f"timed out after {deadline}s waiting for {what} (last error: {last!r})")


def connect(lbp=None, **kw):
    host, port = hosts()[0]
    # QUORUM writes and reads: read-your-writes (the driver's default, LOCAL_ONE, may read a replica
    # the write has not reached yet, as on Cassandra).
    profile = ExecutionProfile(
        load_balancing_policy=lbp or TokenAwarePolicy(RoundRobinPolicy()),
        consistency_level=ConsistencyLevel.QUORUM,
        request_timeout=30,
    )
    cluster = Cluster([host], port=port, execution_profiles={EXEC_PROFILE_DEFAULT: profile}, **kw)
    return cluster, cluster.connect()


@pytest.fixture(scope="session")
def cluster_session():
    cluster, session = connect()
    yield cluster, session
    cluster.shutdown()


@pytest.fixture(scope="session")
def session(cluster_session):
    return cluster_session[1]


@pytest.fixture
def keyspace(session):
    """A new RF=3 keyspace for one test."""
    name = "ks_" + uuid.uuid4().hex[:12]
    session.execute(
        f"CREATE KEYSPACE {name} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 3}}"
    )
    return name
