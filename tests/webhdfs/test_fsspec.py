"""fsspec's webhdfs file system, unmodified, against the namenode's WebHDFS."""
from urllib.parse import urlparse

import pytest
import requests
from fsspec.implementations.webhdfs import WebHDFS

from conftest import BLOCK_SIZE, SUPERUSER, URL, cli, cli_get, cli_stat, data

HOST = urlparse(URL)


def fs_as(user):
    return WebHDFS(HOST.hostname, port=HOST.port, user=user, skip_instance_cache=True)


@pytest.fixture
def fs():
    return fs_as(SUPERUSER)


@pytest.mark.parametrize("size", [0, 1, 3 * BLOCK_SIZE + 17])
def test_write_and_read_are_byte_identical(fs, base, size):
    path = f"{base}/f{size}"
    payload = data(size, seed=size + 1)
    with fs.open(path, "wb") as f:
        f.write(payload)
    assert cli_get(path) == payload
    with fs.open(path, "rb") as f:
        assert f.read() == payload
    assert fs.cat_file(path) == payload
    assert fs.info(path)["size"] == size


def test_ranged_reads(fs, base):
    payload = data(2 * BLOCK_SIZE + 100, seed=5)
    cli("fs", "put", "-", f"{base}/r", input=payload)
    with fs.open(f"{base}/r", "rb", block_size=4096) as f:
        f.seek(BLOCK_SIZE - 10)
        assert f.read(20) == payload[BLOCK_SIZE - 10 : BLOCK_SIZE + 10]
    assert fs.cat_file(f"{base}/r", start=7, end=1000) == payload[7:1000]


def test_a_file_written_in_many_posts(fs, base):
    # fsspec writes a file as CREATE (empty), then one APPEND POST per buffered block, all to the
    # same datanode location. (Its own "ab" mode never sets that location, so is not tried here.)
    path = f"{base}/many"
    payload = data(3 * BLOCK_SIZE + 5, seed=11)
    with fs.open(path, "wb", block_size=BLOCK_SIZE) as f:
        for i in range(0, len(payload), 100_000):
            f.write(payload[i : i + 100_000])
    assert cli_get(path) == payload
    assert fs.info(path)["size"] == len(payload)


def test_namespace_ops_match_the_cli(fs, base):
    fs.mkdir(f"{base}/d")
    fs.pipe_file(f"{base}/d/x", b"12345")
    fs.makedirs(f"{base}/d/e", exist_ok=True)
    ls = fs.ls(f"{base}/d", detail=True)
    assert [(i["name"], i["type"]) for i in ls] == [(f"{base}/d/e", "directory"), (f"{base}/d/x", "file")]
    assert fs.info(f"{base}/d/x")["size"] == int(cli_stat(f"{base}/d/x")["Size"].split()[0]) == 5
    assert fs.content_summary(f"{base}/d")["length"] == 5
    fs.mv(f"{base}/d/x", f"{base}/d/y")
    assert not fs.exists(f"{base}/d/x") and cli_get(f"{base}/d/y") == b"12345"
    fs.chmod(f"{base}/d/y", "600")
    assert cli_stat(f"{base}/d/y")["Permission"].endswith("(0600)")
    fs.set_replication(f"{base}/d/y", 2)
    assert cli_stat(f"{base}/d/y")["Replication"] == "2"
    fs.rm(f"{base}/d", recursive=True)
    assert not fs.exists(f"{base}/d")
    assert cli("fs", "stat", f"{base}/d", check=False).returncode != 0
    assert fs.home_directory() == f"/user/{SUPERUSER}"


def test_checksum_keys(fs, base):
    fs.pipe_file(f"{base}/k1", b"same")
    fs.pipe_file(f"{base}/k2", b"same")
    fs.pipe_file(f"{base}/k3", b"diff")
    assert fs.ukey(f"{base}/k1") == fs.ukey(f"{base}/k2") != fs.ukey(f"{base}/k3")


def test_errors_are_python_exceptions(fs, base):
    with pytest.raises(FileNotFoundError):
        fs.info(f"{base}/missing")
    with pytest.raises(FileNotFoundError):
        fs.cat_file(f"{base}/missing")
    fs.mkdir(f"{base}/exists")
    with pytest.raises(FileExistsError):
        fs.makedirs(f"{base}/exists", exist_ok=False)
    with pytest.raises(ValueError):
        fs._call("NOSUCHOP", path=base)
    fs.mkdir(f"{base}/locked")
    fs.pipe_file(f"{base}/locked/kept", b"k")
    fs.chmod(f"{base}/locked", "700")
    other = fs_as("mallory")
    with pytest.raises(PermissionError):
        other.ls(f"{base}/locked")
    # A create is refused by the datanode fsspec was redirected to; fsspec raises that answer as
    # requests' HTTPError (it maps only the namenode's answers to Python exceptions).
    with pytest.raises(requests.HTTPError) as e:
        other.pipe_file(f"{base}/locked/f", b"x")
    assert e.value.response.status_code == 403
    assert e.value.response.json()["RemoteException"]["exception"] == "AccessControlException"
    with pytest.raises(PermissionError):
        other.rm(f"{base}/locked", recursive=True)
    # (A recursive delete needs write access inside the directory too.)
    assert fs.ls(f"{base}/locked") == [f"{base}/locked/kept"]
