"""cqlsh (from PyPI, unmodified) against Basalt: DESCRIBE, SELECT output, COPY FROM a CSV file."""

import os
import subprocess
import sys

from conftest import hosts


def cqlsh(*args, stdin=None):
    host, port = hosts()[0]
    exe = os.path.join(os.path.dirname(sys.executable), "cqlsh")
    out = subprocess.run(
        [exe, host, str(port), "--request-timeout=30", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, f"cqlsh {args}: exit {out.returncode}\n{out.stdout}\n{out.stderr}"
    assert "Error" not in out.stderr, out.stderr
    return out.stdout


def test_describe_keyspaces_and_table(session, keyspace):
    session.execute(f"CREATE TABLE {keyspace}.users (id int PRIMARY KEY, name text, tags set<text>)")
    assert keyspace in cqlsh("-e", "DESCRIBE KEYSPACES").split()
    out = cqlsh("-e", f"DESCRIBE TABLE {keyspace}.users")
    assert f"CREATE TABLE {keyspace}.users" in out
    assert "id int PRIMARY KEY" in out and "tags set<text>" in out


def test_select_output(session, keyspace):
    session.execute(f"CREATE TABLE {keyspace}.kv (k int PRIMARY KEY, v text)")
    for k in range(3):
        session.execute(f"INSERT INTO {keyspace}.kv (k, v) VALUES (%s, %s)", (k, "value-%d" % k))
    out = cqlsh("-e", f"SELECT k, v FROM {keyspace}.kv WHERE k IN (0, 1, 2)")
    lines = [l.strip() for l in out.splitlines()]
    assert any(l.replace(" ", "") == "k|v" for l in lines), out
    for k in range(3):
        assert any(l.replace(" ", "") == "%d|value-%d" % (k, k) for l in lines), out
    assert "(3 rows)" in out
    # System tables too (cqlsh finds them in system_schema, as on Cassandra).
    out = cqlsh("-e", "SELECT key, partitioner FROM system.local")
    assert "org.apache.cassandra.dht.Murmur3Partitioner" in out and "(1 rows)" in out, out


def test_copy_from_csv(session, keyspace, tmp_path):
    session.execute(f"CREATE TABLE {keyspace}.people (id int PRIMARY KEY, name text, age int)")
    csv = tmp_path / "people.csv"
    csv.write_text("id,name,age\n" + "".join("%d,person %d,%d\n" % (i, i, 20 + i % 50) for i in range(500)))
    out = cqlsh("-e", f"COPY {keyspace}.people (id, name, age) FROM '{csv}' WITH HEADER = true")
    assert "500 rows imported" in out, out
    rows = {r.id: (r.name, r.age) for r in session.execute(f"SELECT id, name, age FROM {keyspace}.people")}
    assert len(rows) == 500
    assert rows[123] == ("person 123", 20 + 123 % 50)


def test_statements_from_stdin(keyspace):
    out = cqlsh(
        stdin=f"USE {keyspace};\nCREATE TABLE s (k int PRIMARY KEY, v int);\nINSERT INTO s (k, v) VALUES (1, 2);\n"
        "SELECT * FROM s;\n"
    )
    assert "(1 rows)" in out, out
