"""Bad HTTP input gets Hadoop's RemoteException with a 4xx status (never a hang or a crash)."""
import socket

import pytest
import requests

from conftest import SUPERUSER, URL, cli, data
from urllib.parse import urlparse

API = f"{URL}/webhdfs/v1"
HOST = urlparse(URL)


def call(method, path, **params):
    params.setdefault("user.name", SUPERUSER)
    return requests.request(method, f"{API}{path}", params=params, allow_redirects=False, timeout=30)


def remote(r, status, exception):
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()["RemoteException"]
    assert body["exception"] == exception, body
    assert body["javaClassName"].endswith(exception)
    assert body["message"]
    return body["message"]


@pytest.fixture
def file(base):
    cli("fs", "put", "-", f"{base}/f", input=data(1000))
    return f"{base}/f"


def test_unknown_op_and_wrong_method(base):
    assert "NOSUCHOP" in remote(call("GET", base, op="NOSUCHOP"), 400, "IllegalArgumentException")
    remote(call("GET", base), 400, "IllegalArgumentException")
    remote(call("GET", base, op="MKDIRS"), 400, "IllegalArgumentException")
    remote(call("POST", base, op="LISTSTATUS"), 400, "IllegalArgumentException")


def test_missing_and_bad_parameters(base, file):
    assert "destination" in remote(call("PUT", file, op="RENAME"), 400, "IllegalArgumentException")
    remote(call("PUT", file, op="RENAME", destination="relative"), 400, "IllegalArgumentException")
    remote(call("PUT", file, op="SETREPLICATION"), 400, "IllegalArgumentException")
    remote(call("PUT", file, op="SETOWNER"), 400, "IllegalArgumentException")
    for bad in [{"offset": "-1"}, {"offset": "abc"}, {"length": "-5"}, {"offset": "1001"}, {"buffersize": "0"}]:
        remote(call("GET", file, op="OPEN", **bad), 400, "IllegalArgumentException")
    for bad in ["8", "12345", "rwx"]:
        remote(call("PUT", f"{base}/n", op="MKDIRS", permission=bad), 400, "IllegalArgumentException")
    for bad in ["0", "-1", "x", "100000"]:
        remote(call("PUT", file, op="SETREPLICATION", replication=bad), 400, "IllegalArgumentException")
    remote(call("DELETE", file, op="DELETE", recursive="maybe"), 400, "IllegalArgumentException")
    remote(call("PUT", f"{base}/n", op="CREATE", blocksize="0"), 400, "IllegalArgumentException")
    remote(call("GET", base, op="LISTSTATUS", **{"user.name": "a b"}), 400, "IllegalArgumentException")
    # Nothing was made by the refused requests.
    assert cli("fs", "stat", f"{base}/n", check=False).returncode != 0


def test_booleans_in_any_case(base):
    cli("fs", "mkdir", "-p", f"{base}/x/y")
    r = call("DELETE", f"{base}/x", op="DELETE", recursive="True")
    assert r.status_code == 200 and r.json() == {"boolean": True}


def test_bad_paths(base):
    # Encoded: requests would resolve a plain "/a/../b" itself.
    remote(call("GET", "/a%2F..%2Fb", op="GETFILESTATUS"), 400, "IllegalArgumentException")
    remote(call("GET", "/a%00b", op="GETFILESTATUS"), 400, "IllegalArgumentException")
    remote(call("GET", "/" + "x" * 300, op="GETFILESTATUS"), 400, "IllegalArgumentException")
    remote(call("GET", f"{base}/missing", op="GETFILESTATUS"), 404, "FileNotFoundException")
    remote(call("GET", base, op="OPEN"), 404, "FileNotFoundException")


def test_doas_needs_the_superuser(base):
    r = call("GET", base, op="GETHOMEDIRECTORY", **{"user.name": "mallory", "doas": "alice"})
    remote(r, 403, "AccessControlException")
    r = call("GET", base, op="GETHOMEDIRECTORY", doas="alice")
    assert r.status_code == 200 and r.json() == {"Path": "/user/alice"}


def test_noredirect_answers_the_location(base):
    r = call("PUT", f"{base}/nr", op="CREATE", noredirect="true")
    assert r.status_code == 200
    loc = r.json()["Location"]
    assert "/webhdfs/v1" in loc and "op=CREATE" in loc and "namenoderpcaddress=" in loc
    up = requests.put(loc, data=b"hello", timeout=30)
    assert up.status_code == 201, up.text
    assert up.headers["Location"].startswith("hdfs://")
    r = call("GET", f"{base}/nr", op="OPEN")
    assert r.status_code == 307
    assert requests.get(r.headers["Location"], timeout=30).content == b"hello"


def raw(request, timeout=30):
    """Sends raw bytes and returns what came back before the server closed (or b"" on a reset)."""
    s = socket.create_connection((HOST.hostname, HOST.port), timeout=timeout)
    try:
        try:
            s.sendall(request)
        except (BrokenPipeError, ConnectionResetError):
            pass
        chunks = []
        while True:
            try:
                c = s.recv(65536)
            except ConnectionResetError:
                break
            if not c:
                break
            chunks.append(c)
            if b"\r\n\r\n" in b"".join(chunks):
                break
        return b"".join(chunks)
    finally:
        s.close()


def test_huge_headers_and_queries_are_refused(base):
    big = b"a" * (100 * 1024)
    got = raw(b"GET /webhdfs/v1/?op=LISTSTATUS HTTP/1.1\r\nHost: x\r\nX-Big: " + big + b"\r\n\r\n")
    assert got.startswith(b"HTTP/1.1 431"), got[:200]
    huge = b"a" * (2 * 1024 * 1024)
    got = raw(b"GET /webhdfs/v1/?op=LISTSTATUS HTTP/1.1\r\nHost: x\r\nX-Big: " + huge + b"\r\n\r\n")
    # hyper refuses a head past its buffer: 431, or a closed connection; never a hang.
    assert got == b"" or got.split(b" ")[1] in (b"431", b"400"), got[:200]
    for n in (40 * 1024, 100 * 1024):
        long_query = "x" * n
        r = requests.get(f"{API}/?op=LISTSTATUS&pad={long_query}", timeout=30)
        assert r.status_code in (414, 431), (n, r.status_code)
    # The server still answers.
    assert call("GET", base, op="GETFILESTATUS").status_code == 200
