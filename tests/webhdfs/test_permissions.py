"""HDFS permission semantics through WebHDFS: a table of operations per user and mode, each allowed or
denied (403 AccessControlException), and nothing changed by a denied one.

The tree of every case: /CASE (owner alice, group staff, mode DIR) holding f (owner alice, mode FILE,
contents b"data"). Users: alice (the owner), bob (neither owner nor in staff: test users have no OS
groups), the superuser (bypasses every check).
"""
import uuid

import pytest
import requests

from conftest import SUPERUSER, URL, cli_get

API = f"{URL}/webhdfs/v1"


def call(method, path, user, data=None, **params):
    params["user.name"] = user
    r = requests.request(method, f"{API}{path}", params=params, allow_redirects=False, timeout=30)
    if r.status_code == 307:
        r = requests.request(method, r.headers["Location"], data=data, timeout=30)
    return r


def as_super(method, path, **params):
    r = call(method, path, SUPERUSER, **params)
    assert r.ok, r.text
    return r


def snapshot(d):
    """What a denied operation must leave as it was: the listing and statuses below d, f's bytes."""
    ls = as_super("GET", d, op="LISTSTATUS").json()["FileStatuses"]["FileStatus"]
    keep = ("pathSuffix", "owner", "group", "permission", "length", "replication")
    state = [{k: s[k] for k in keep} for s in ls]
    top = as_super("GET", d, op="GETFILESTATUS").json()["FileStatus"]
    return state, {k: top[k] for k in keep}, cli_get(f"{d}/f") if any(s["pathSuffix"] == "f" for s in ls) else None


# (name, user, dir mode, file mode, operation, allowed)
# An operation is (method, path under the case dir, params).
CASES = [
    ("owner lists 700", "alice", "700", "600", ("GET", "", {"op": "LISTSTATUS"}), True),
    ("other lists 700", "bob", "700", "600", ("GET", "", {"op": "LISTSTATUS"}), False),
    ("other lists 755", "bob", "755", "600", ("GET", "", {"op": "LISTSTATUS"}), True),
    ("owner lists 300", "alice", "300", "600", ("GET", "", {"op": "LISTSTATUS"}), False),
    ("other stats through 700", "bob", "700", "644", ("GET", "/f", {"op": "GETFILESTATUS"}), False),
    ("other reads 600", "bob", "755", "600", ("GET", "/f", {"op": "OPEN"}), False),
    ("other reads 644", "bob", "755", "644", ("GET", "/f", {"op": "OPEN"}), True),
    ("owner reads 200", "alice", "755", "200", ("GET", "/f", {"op": "OPEN"}), False),
    ("other creates in 755", "bob", "755", "644", ("PUT", "/g", {"op": "CREATE"}), False),
    ("other creates in 777", "bob", "777", "644", ("PUT", "/g", {"op": "CREATE"}), True),
    ("owner creates in 500", "alice", "500", "644", ("PUT", "/g", {"op": "CREATE"}), False),
    ("other mkdirs in 755", "bob", "755", "644", ("PUT", "/sub", {"op": "MKDIRS"}), False),
    ("other appends to 644", "bob", "777", "644", ("POST", "/f", {"op": "APPEND"}), False),
    ("other appends to 666", "bob", "755", "666", ("POST", "/f", {"op": "APPEND"}), True),
    ("other deletes in 755", "bob", "755", "666", ("DELETE", "/f", {"op": "DELETE"}), False),
    ("other deletes in 777", "bob", "777", "644", ("DELETE", "/f", {"op": "DELETE"}), True),
    ("other deletes in sticky 1777", "bob", "1777", "666", ("DELETE", "/f", {"op": "DELETE"}), False),
    ("owner deletes in sticky 1777", "alice", "1777", "600", ("DELETE", "/f", {"op": "DELETE"}), True),
    ("other renames in 755", "bob", "755", "644", ("PUT", "/f", {"op": "RENAME", "destination": "{dir}/h"}), False),
    ("other chmods a file", "bob", "777", "666", ("PUT", "/f", {"op": "SETPERMISSION", "permission": "777"}), False),
    ("owner chmods a file", "alice", "755", "600", ("PUT", "/f", {"op": "SETPERMISSION", "permission": "640"}), True),
    ("owner gives a file away", "alice", "755", "644", ("PUT", "/f", {"op": "SETOWNER", "owner": "bob"}), False),
    ("other sets replication", "bob", "777", "644", ("PUT", "/f", {"op": "SETREPLICATION", "replication": "2"}), False),
    ("other sets times", "bob", "777", "644", ("PUT", "/f", {"op": "SETTIMES", "modificationtime": "5"}), False),
    ("superuser reads 000", SUPERUSER, "000", "000", ("GET", "/f", {"op": "OPEN"}), True),
    ("superuser deletes in sticky", SUPERUSER, "1777", "600", ("DELETE", "/f", {"op": "DELETE"}), True),
]


@pytest.mark.parametrize("name,user,dmode,fmode,op,allowed", CASES, ids=[c[0] for c in CASES])
def test_permission_case(name, user, dmode, fmode, op, allowed):
    d = f"/perm-{uuid.uuid4().hex[:10]}"
    as_super("PUT", d, op="MKDIRS")
    made = call("PUT", f"{d}/f", SUPERUSER, data=b"data", op="CREATE")
    assert made.status_code == 201, made.text
    as_super("PUT", f"{d}/f", op="SETOWNER", owner="alice", group="staff")
    as_super("PUT", d, op="SETOWNER", owner="alice", group="staff")
    as_super("PUT", f"{d}/f", op="SETPERMISSION", permission=fmode)
    as_super("PUT", d, op="SETPERMISSION", permission=dmode)
    before = snapshot(d)
    method, sub, params = op
    params = {k: v.replace("{dir}", d) for k, v in params.items()}
    r = call(method, f"{d}{sub}", user, data=b"more", **params)
    if allowed:
        assert r.ok, (name, r.status_code, r.text)
    else:
        assert r.status_code == 403, (name, r.status_code, r.text)
        body = r.json()["RemoteException"]
        assert body["exception"] == "AccessControlException"
        # Hadoop's wording, which varies by check (bits, sticky bit, owner, superuser).
        assert f"user={user}" in body["message"] or f"User {user} " in body["message"], body["message"]
        assert snapshot(d) == before, name
