"""A datanode joins while clients are connected. Run by the Rust test, which adds the node once
this prints "connected" (BASALT_CQL_HOSTS names the first three).

A connection registered for TOPOLOGY_CHANGE gets NEW_NODE with the new node's CQL address, and the
driver finds the node in system.peers and connects to it. (The python driver looks an event's
address up by IP alone, so on one host, where datanodes differ by port, the event does not make it
refresh by itself: the test refreshes the node list, as the driver does on its own at reconnects.)"""

import socket
import struct

from conftest import connect, hosts, wait_until
from test_protocol import conn, frame, read_frame, ready, string

REGISTER, EVENT = 0x0B, 0x0C


def test_a_new_datanode_is_announced_and_found():
    events = conn()
    ready(events)
    events.sendall(frame(REGISTER, struct.pack(">H", 1) + string("TOPOLOGY_CHANGE"), stream=2))
    assert read_frame(events)[2] == 0x02
    cluster, session = connect()
    try:
        assert len(cluster.metadata.all_hosts()) == len(hosts())
        print("connected", flush=True)
        # The Rust side starts a fourth datanode now.
        events.settimeout(90)
        while True:
            _, stream, opcode, body = read_frame(events)
            if opcode != EVENT:
                continue
            words, at = [], 0
            for _ in range(2):
                (n,) = struct.unpack_from(">H", body, at)
                words.append(body[at + 2 : at + 2 + n].decode())
                at += 2 + n
            size = body[at]
            ip = socket.inet_ntop(socket.AF_INET if size == 4 else socket.AF_INET6, body[at + 1 : at + 1 + size])
            (port,) = struct.unpack_from(">i", body, at + 1 + size)
            if words == ["TOPOLOGY_CHANGE", "NEW_NODE"]:
                break
        assert stream == -1 and (ip, port) not in hosts()

        def found():
            cluster.refresh_nodes(force_token_rebuild=True)
            return [h for h in cluster.metadata.all_hosts() if (h.endpoint.address, h.endpoint.port) == (ip, port)]

        new = wait_until(found, "the new node in system.peers")[0]
        wait_until(lambda: new.is_up, "the driver connected to the new node")
        assert session.execute("SELECT key FROM system.local", host=new).one().key == "local"
    finally:
        events.close()
        cluster.shutdown()
