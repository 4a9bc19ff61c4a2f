"""The wire itself, byte by byte: version negotiation, SUPPORTED, UNPREPARED, and malformed frames
(each closes only its own connection, after a protocol error)."""

import socket
import struct

from conftest import hosts

OPTIONS, STARTUP, QUERY, EXECUTE, READY, SUPPORTED, RESULT, ERROR = 0x05, 0x01, 0x07, 0x0A, 0x02, 0x06, 0x08, 0x00
PROTOCOL_ERROR, UNPREPARED = 0x000A, 0x2500


def conn():
    host, port = hosts()[0]
    s = socket.create_connection((host, port), timeout=10)
    return s


def frame(opcode, body=b"", version=4, stream=1, flags=0):
    return struct.pack(">BBhBi", version, flags, stream, opcode, len(body)) + body


def read_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError(f"closed after {len(buf)} of {n} bytes")
        buf += chunk
    return buf


def read_frame(s):
    version, flags, stream, opcode, length = struct.unpack(">BBhBi", read_exact(s, 9))
    return version, stream, opcode, read_exact(s, length)


def string(s):
    b = s.encode()
    return struct.pack(">H", len(b)) + b


def long_string(s):
    b = s.encode()
    return struct.pack(">i", len(b)) + b


def string_map(m):
    return struct.pack(">H", len(m)) + b"".join(string(k) + string(v) for k, v in m.items())


def read_string(body, at):
    (n,) = struct.unpack_from(">H", body, at)
    return body[at + 2 : at + 2 + n].decode(), at + 2 + n


def error(body):
    (code,) = struct.unpack_from(">i", body, 0)
    message, _ = read_string(body, 4)
    return code, message


def ready(s):
    s.sendall(frame(STARTUP, string_map({"CQL_VERSION": "3.0.0"})))
    assert read_frame(s)[2] == READY


def closed(s):
    s.settimeout(10)
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True


def still_serving():
    with conn() as s:
        ready(s)
        s.sendall(frame(QUERY, long_string("SELECT key FROM system.local") + struct.pack(">HB", 1, 0)))
        assert read_frame(s)[2] == RESULT


def test_newer_versions_are_refused_with_the_words_drivers_look_for():
    for version in (5, 65, 66, 3):
        with conn() as s:
            s.sendall(frame(OPTIONS, version=version))
            _, stream, opcode, body = read_frame(s)
            assert opcode == ERROR and stream == 1
            code, message = error(body)
            assert code == PROTOCOL_ERROR
            assert "unsupported protocol version" in message.lower(), message


def test_options_lists_cql_version_and_compression():
    with conn() as s:
        s.sendall(frame(OPTIONS))
        version, _, opcode, body = read_frame(s)
        assert (version, opcode) == (0x84, SUPPORTED)
        (n,) = struct.unpack_from(">H", body, 0)
        at, options = 2, {}
        for _ in range(n):
            key, at = read_string(body, at)
            (m,) = struct.unpack_from(">H", body, at)
            at += 2
            values = []
            for _ in range(m):
                v, at = read_string(body, at)
                values.append(v)
            options[key] = values
        assert options["CQL_VERSION"] and options["CQL_VERSION"][0].startswith("3.")
        assert "COMPRESSION" in options


def test_an_unknown_prepared_id_is_unprepared():
    with conn() as s:
        ready(s)
        pid = b"\x01\x02\x03\x04"
        s.sendall(frame(EXECUTE, struct.pack(">H", len(pid)) + pid + struct.pack(">HB", 1, 0), stream=9))
        _, stream, opcode, body = read_frame(s)
        assert (stream, opcode) == (9, ERROR)
        code, _ = error(body)
        assert code == UNPREPARED
        _, at = read_string(body, 4)
        (n,) = struct.unpack_from(">H", body, at)
        assert body[at + 2 : at + 2 + n] == pid


def test_a_request_before_startup_is_a_protocol_error():
    with conn() as s:
        s.sendall(frame(QUERY, long_string("SELECT * FROM system.local") + struct.pack(">HB", 1, 0)))
        _, _, opcode, body = read_frame(s)
        assert opcode == ERROR and error(body)[0] == PROTOCOL_ERROR


MALFORMED = {
    "unknown opcode": lambda: frame(0x7F),
    "a response opcode": lambda: frame(RESULT),
    "negative length": lambda: struct.pack(">BBhBi", 4, 0, 1, QUERY, -5),
    "over the max frame size": lambda: struct.pack(">BBhBi", 4, 0, 1, QUERY, 0x7FFFFFF0),
    "truncated body": lambda: frame(QUERY, struct.pack(">i", 1000) + b"SELECT"),
    "response direction": lambda: frame(QUERY, long_string("SELECT 1") + struct.pack(">HB", 1, 0), version=0x84),
    "compressed without agreement": lambda: frame(QUERY, b"\x00\x00\x00\x05hello", flags=0x01),
}


def test_malformed_frames_close_only_their_connection():
    bystander = conn()
    ready(bystander)
    for name, make in MALFORMED.items():
        with conn() as s:
            ready(s)
            s.sendall(make())
            _, _, opcode, body = read_frame(s)
            assert opcode == ERROR, name
            assert error(body)[0] == PROTOCOL_ERROR, name
            assert closed(s), name
        # The bystander, and new connections, are served.
        bystander.sendall(frame(OPTIONS, stream=3))
        assert read_frame(bystander)[2] == SUPPORTED, name
        still_serving()
    bystander.close()
