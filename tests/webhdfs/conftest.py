"""Fixtures of the WebHDFS client tests (run by tests/cluster/webhdfs_clients.rs).

Environment: BASALT_WEBHDFS (http://HOST:PORT of the namenode's HTTP server), BASALT_NAMENODE (its gRPC
address, for the CLI), BASALT_BIN (the basalt binary), BASALT_BLOCK_SIZE (the cluster's block size in
bytes), BASALT_SUPERUSER (the user the namenode runs as).
"""
import os
import random
import subprocess
import uuid

import pytest

URL = os.environ["BASALT_WEBHDFS"]
NAMENODE = os.environ["BASALT_NAMENODE"]
BIN = os.environ["BASALT_BIN"]
BLOCK_SIZE = int(os.environ.get("BASALT_BLOCK_SIZE", "1048576"))
SUPERUSER = os.environ.get("BASALT_SUPERUSER", "root")


def cli(*args, user=None, input=None, check=True):
    """Runs `basalt ARGS...` against the cluster; returns the completed process (stdout as bytes)."""
    env = dict(os.environ, BASALT_NAMENODE=NAMENODE, BASALT_CONNECT_TIMEOUT_MS="1500")
    if user:
        env["BASALT_USER"] = user
    r = subprocess.run([BIN, *args], input=input, capture_output=True, env=env, timeout=120)
    if check and r.returncode != 0:
        raise AssertionError(f"basalt {args} failed: {r.stderr.decode()}")
    return r


def cli_stat(path):
    """`basalt fs stat PATH` as a dict of its `Key: value` lines."""
    out = cli("fs", "stat", path).stdout.decode()
    fields = {}
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("Owner:"):
            owner, group = line.split("Group:")
            fields["Owner"] = owner.split(":", 1)[1].strip()
            fields["Group"] = group.strip()
        elif ":" in line:
            k, v = line.split(":", 1)
            fields[k.strip()] = v.strip()
    return fields


def cli_get(path):
    return cli("fs", "get", path, "-").stdout


def data(n, seed=0):
    return random.Random(seed).randbytes(n)


@pytest.fixture
def base():
    """A fresh directory for one test, made by the superuser and open to everyone."""
    d = f"/t-{uuid.uuid4().hex[:10]}"
    cli("fs", "mkdir", "-p", d)
    cli("fs", "chmod", "777", d, check=False)
    return d
