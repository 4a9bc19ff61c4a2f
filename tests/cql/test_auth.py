"""PasswordAuthenticator: a node started with --cql-users (BASALT_CQL_USER / BASALT_CQL_PASSWORD
name one of its users). The driver's PlainTextAuthProvider logs in; bad or missing credentials are
refused with the driver's AuthenticationFailed."""

import os
import subprocess
import sys

import pytest
from cassandra import AuthenticationFailed
from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import NoHostAvailable

from conftest import connect, hosts

USER, PASSWORD = os.environ["BASALT_CQL_USER"], os.environ["BASALT_CQL_PASSWORD"]


def refused(**kw):
    with pytest.raises(NoHostAvailable) as e:
        connect(**kw)
    errors = list(e.value.errors.values())
    assert errors and all(isinstance(x, AuthenticationFailed) for x in errors), errors
    return str(errors[0])


def test_the_right_password_logs_in():
    cluster, session = connect(auth_provider=PlainTextAuthProvider(USER, PASSWORD))
    try:
        assert session.execute("SELECT release_version FROM system.local").one().release_version.startswith("4.")
        session.execute("CREATE KEYSPACE IF NOT EXISTS authed WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}")
    finally:
        cluster.shutdown()


def test_a_wrong_password_or_user_is_refused():
    assert "incorrect" in refused(auth_provider=PlainTextAuthProvider(USER, PASSWORD + "x"))
    assert "incorrect" in refused(auth_provider=PlainTextAuthProvider("nobody", PASSWORD))


def test_no_credentials_is_refused():
    refused()


def test_cqlsh_logs_in():
    host, port = hosts()[0]
    exe = os.path.join(os.path.dirname(sys.executable), "cqlsh")
    ok = subprocess.run(
        [exe, host, str(port), "-u", USER, "-p", PASSWORD, "-e", "SELECT key FROM system.local"],
        capture_output=True, text=True, timeout=120,
    )
    assert ok.returncode == 0 and "local" in ok.stdout, ok.stdout + ok.stderr
    bad = subprocess.run(
        [exe, host, str(port), "-u", USER, "-p", "wrong", "-e", "SELECT key FROM system.local"],
        capture_output=True, text=True, timeout=120,
    )
    assert bad.returncode != 0 and "incorrect" in bad.stderr, bad.stdout + bad.stderr
