"""Bounded resources (a node started with --cql-max-connections 3 --cql-max-in-flight 2): a
connection over the limit, and a request over a connection's limit, are answered Overloaded
(0x1001), never queued."""

import os
import struct

from conftest import wait_until
from test_protocol import (
    OPTIONS, QUERY, READY, RESULT, ERROR, STARTUP, SUPPORTED, closed, conn, error, frame, long_string, read_frame,
    ready, string_map,
)

OVERLOADED, INVALID = 0x1001, 0x2200


def test_one_connection_too_many_is_overloaded_then_closed():
    limit = int(os.environ["BASALT_MAX_CONNECTIONS"])
    held = [conn() for _ in range(limit)]
    for s in held:
        ready(s)
    extra = conn()
    extra.sendall(frame(OPTIONS, stream=5))
    _, stream, opcode, body = read_frame(extra)
    assert (stream, opcode) == (5, ERROR) and error(body)[0] == OVERLOADED
    assert closed(extra)
    extra.close()
    # A slot freed is a connection served again.
    held.pop().close()

    def served():
        with conn() as s:
            s.sendall(frame(OPTIONS))
            return read_frame(s)[2] == SUPPORTED

    wait_until(served, "a connection to be served after one closed")
    for s in held:
        s.close()


def ready_conn():
    """A connection past STARTUP. The connection slots of a test that just closed its connections are
    freed a moment after the close reaches the server, so an attempt refused as Overloaded is retried."""

    def attempt():
        s = conn()
        s.sendall(frame(STARTUP, string_map({"CQL_VERSION": "3.0.0"})))
        if read_frame(s)[2] == READY:
            return s
        s.close()
        return None

    return wait_until(attempt, "a connection slot to be free")


def test_requests_over_the_in_flight_limit_are_overloaded():
    with ready_conn() as s:
        # A table no one has: each statement asks the metadata group before it fails (a network round
        # trip, while the next frames are read off the socket in microseconds), so the two slots are
        # taken when the rest arrive.
        query = long_string("SELECT * FROM nowhere.nothing") + struct.pack(">HB", 1, 0)
        n = 64
        s.sendall(b"".join(frame(QUERY, query, stream=i) for i in range(1, n + 1)))
        answers = {}
        for _ in range(n):
            _, stream, opcode, body = read_frame(s)
            assert stream not in answers
            assert opcode in (RESULT, ERROR)
            answers[stream] = error(body)[0] if opcode == ERROR else RESULT
        assert sorted(answers) == list(range(1, n + 1))
        assert set(answers.values()) <= {INVALID, OVERLOADED}, answers
        assert OVERLOADED in answers.values() and INVALID in answers.values(), answers
