"""HdfsCLI (`hdfs` on PyPI), unmodified, against the namenode's WebHDFS."""
import pytest
from hdfs import HdfsError, InsecureClient

from conftest import BLOCK_SIZE, SUPERUSER, URL, cli, cli_get, cli_stat, data


@pytest.fixture
def client():
    return InsecureClient(URL, user=SUPERUSER)


@pytest.mark.parametrize("size", [0, 1, 3 * BLOCK_SIZE + 17])
def test_upload_and_download_are_byte_identical(client, base, size):
    path = f"{base}/f{size}"
    payload = data(size, seed=size)
    client.write(path, data=payload)
    with client.read(path) as r:
        assert r.read() == payload
    assert cli_get(path) == payload
    st = client.status(path)
    assert st["length"] == size and st["type"] == "FILE"
    if size > 2 * BLOCK_SIZE:
        assert int(cli_stat(path)["Blocks"]) == 4


def test_streamed_generator_upload_is_chunked(client, base):
    path = f"{base}/gen"
    parts = [data(100_000, seed=i) for i in range(30)]
    client.write(path, data=(p for p in parts))
    assert cli_get(path) == b"".join(parts)


def test_upload_and_download_local_files(client, base, tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(data(2 * BLOCK_SIZE + 5, seed=7))
    client.upload(f"{base}/up.bin", str(src))
    dst = tmp_path / "dst.bin"
    client.download(f"{base}/up.bin", str(dst))
    assert dst.read_bytes() == src.read_bytes() == cli_get(f"{base}/up.bin")


def test_offset_and_length_reads(client, base):
    payload = data(3 * BLOCK_SIZE, seed=3)
    client.write(f"{base}/r", data=payload)
    for offset, length in [(0, 10), (BLOCK_SIZE - 5, 10), (2 * BLOCK_SIZE + 1, None), (len(payload), None)]:
        with client.read(f"{base}/r", offset=offset, length=length) as r:
            got = r.read()
        end = len(payload) if length is None else offset + length
        assert got == payload[offset:end], (offset, length)


def test_append_twice(client, base):
    path = f"{base}/log"
    client.write(path, data=b"one\n")
    client.write(path, data=b"two\n", append=True)
    client.write(path, data=b"three\n", append=True)
    assert cli_get(path) == b"one\ntwo\nthree\n"
    assert client.status(path)["length"] == 14


def test_status_list_and_summary_match_the_cli(client, base):
    client.makedirs(f"{base}/d/sub")
    client.write(f"{base}/d/a", data=b"x" * 1000, replication=2)
    client.write(f"{base}/d/b", data=b"y" * 10)
    st = client.status(f"{base}/d/a")
    cst = cli_stat(f"{base}/d/a")
    assert st["length"] == int(cst["Size"].split()[0]) == 1000
    assert st["replication"] == int(cst["Replication"]) == 2
    assert st["blockSize"] == int(cst["Block size"])
    assert st["owner"] == cst["Owner"] and st["group"] == cst["Group"]
    assert cst["Permission"].endswith(f"(0{st['permission']})")
    assert st["pathSuffix"] == "" and st["fileId"] > 0
    names = client.list(f"{base}/d")
    assert names == ["a", "b", "sub"]
    ls = cli("fs", "ls", f"{base}/d").stdout.decode().splitlines()
    assert ls[0] == "Found 3 items"
    assert [line.split()[-1].rsplit("/", 1)[1] for line in ls[1:]] == names
    d = client.status(f"{base}/d")
    assert d["type"] == "DIRECTORY" and d["childrenNum"] == 3
    summary = client.content(f"{base}/d")
    du = cli("fs", "du", "-s", f"{base}/d").stdout.decode().split()
    assert summary["length"] == int(du[0]) == 1010
    assert summary["spaceConsumed"] == int(du[1])
    assert (summary["fileCount"], summary["directoryCount"]) == (2, 2)
    assert summary["quota"] == -1 and summary["spaceQuota"] == -1


def test_rename_delete_mkdir_and_setrep(client, base):
    client.write(f"{base}/a", data=b"a")
    client.rename(f"{base}/a", f"{base}/b")
    assert client.status(f"{base}/a", strict=False) is None
    assert cli_get(f"{base}/b") == b"a"
    client.makedirs(f"{base}/dir", permission="750")
    assert cli_stat(f"{base}/dir")["Permission"].endswith("(0750)")
    # Into an existing directory: keeps the name.
    client.rename(f"{base}/b", f"{base}/dir")
    assert cli_get(f"{base}/dir/b") == b"a"
    client.set_replication(f"{base}/dir/b", 1)
    assert cli_stat(f"{base}/dir/b")["Replication"] == "1"
    assert client.delete(f"{base}/dir/b") is True
    assert client.delete(f"{base}/dir/b") is False
    with pytest.raises(HdfsError):
        client.rename(f"{base}/missing", f"{base}/x")
    client.write(f"{base}/dir/c", data=b"c")
    with pytest.raises(HdfsError):
        client.delete(f"{base}/dir")
    assert client.delete(f"{base}/dir", recursive=True) is True
    assert cli("fs", "stat", f"{base}/dir", check=False).returncode != 0


def test_set_permission_owner_and_times(client, base):
    path = f"{base}/p"
    client.write(path, data=b"p", permission="600")
    assert client.status(path)["permission"] == "600"
    client.set_permission(path, "640")
    assert cli_stat(path)["Permission"].endswith("(0640)")
    client.set_owner(path, owner="alice", group="staff")
    st = cli_stat(path)
    assert (st["Owner"], st["Group"]) == ("alice", "staff")
    client.set_times(path, modification_time=1_600_000_000_000, access_time=1_600_000_001_000)
    s = client.status(path)
    assert s["modificationTime"] == 1_600_000_000_000
    assert s["accessTime"] == 1_600_000_001_000
    assert cli_stat(path)["Modified"].startswith("2020-09-13")


def test_checksums_follow_the_bytes(client, base):
    payload = data(2 * BLOCK_SIZE + 3, seed=9)
    client.write(f"{base}/c1", data=payload)
    client.write(f"{base}/c2", data=payload)
    client.write(f"{base}/c3", data=payload[:-1] + b"!")
    c1, c2, c3 = (client.checksum(f"{base}/{n}") for n in ("c1", "c2", "c3"))
    assert c1 == c2 and c1["bytes"] != c3["bytes"]
    assert c1["algorithm"] == f"MD5-of-{BLOCK_SIZE // 65536}MD5-of-65536CRC32C"
    assert c1["length"] == 28 and len(c1["bytes"]) == 56


def test_errors_are_hdfs_errors_with_hadoops_exception(client, base):
    with pytest.raises(HdfsError) as e:
        client.status(f"{base}/missing")
    assert e.value.exception == "FileNotFoundException"
    with pytest.raises(HdfsError) as e:
        with client.read(f"{base}/missing") as r:
            r.read()
    assert e.value.exception == "FileNotFoundException"
    client.write(f"{base}/once", data=b"1")
    with pytest.raises(HdfsError) as e:
        client.write(f"{base}/once", data=b"2")
    assert e.value.exception == "FileAlreadyExistsException"
    assert cli_get(f"{base}/once") == b"1"
    client.write(f"{base}/once", data=b"2", overwrite=True)
    assert cli_get(f"{base}/once") == b"2"


def test_permission_denied_is_an_access_control_exception(client, base):
    client.makedirs(f"{base}/private", permission="700")
    client.write(f"{base}/private/f", data=b"secret")
    mallory = InsecureClient(URL, user="mallory")
    for attempt in (
        lambda: mallory.list(f"{base}/private"),
        lambda: mallory.write(f"{base}/private/g", data=b"x"),
        lambda: mallory.delete(f"{base}/private/f"),
        lambda: mallory.read(f"{base}/private/f").__enter__().read(),
    ):
        with pytest.raises(HdfsError) as e:
            attempt()
        assert e.value.exception == "AccessControlException", e.value
        assert "Permission denied: user=mallory" in str(e.value)
    assert cli_get(f"{base}/private/f") == b"secret"
    assert client.list(f"{base}/private") == ["f"]


def test_home_and_trash_root(client):
    assert client.resolve("x") == f"/user/{SUPERUSER}/x"
    r = client._get_trash_root("/").json()
    assert r == {"Path": f"/user/{SUPERUSER}/.Trash"}
