"""vigil-backupd --status: per-connection health of a running server as
CBOR (and JSON), read over <data>/status.sock while real clients are
connected: an idle plain client, one in the middle of a file, a TLS
client in its handshake, and the connections that already closed."""
import json
import os
import socket
import subprocess
import sys
import time

import pytest

from conftest import binary

sys.path.insert(0, "/usr/lib/python3/dist-packages")
import cbor2  # noqa: E402  (Debian's python3-cbor2)

from backupd import Server  # noqa: E402
from v3_client import connect_retry  # noqa: E402

KEY = "00112233445566778899aabbccddeeff"


def status(data, fmt=None):
    args = [str(binary("vigil-backupd")), "--data", str(data),
            "--status" + (f"={fmt}" if fmt else "")]
    r = subprocess.run(args, capture_output=True, timeout=10)
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.fixture
def server(tmp_path):
    keys = tmp_path / "keys"
    keys.write_text(f"box:{KEY}\n")
    # 30 s, not TIMEOUT_MS: the first test holds an idle and a
    # half-open TLS connection while it sets up two more, which on a
    # loaded machine took longer than 2 s, and the server closed them
    s = Server(["--data", str(tmp_path / "data"), "--timeout-ms", "30000",
                "--plain", "127.0.0.1:0", "--tls", "127.0.0.1:0",
                "--tls-psk", str(keys)]).start()
    yield s
    s.stop()


def by_peer(doc, sock):
    host, port = sock.getsockname()[:2]
    (c,) = [c for c in doc["conns"] if c["peer"] == f"{host}:{port}"]
    return c


def test_status_shows_live_and_closed_connections(server, tmp_path):
    data = tmp_path / "data"
    idle = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    hs = socket.create_connection(("127.0.0.1", server.tls_port), timeout=5)
    busy = connect_retry(server.addr, "status-box")
    busy.register()
    busy.send_key()
    blob = os.urandom(200_000)
    packets = busy.file_packets("big file.bin", blob)
    busy.send(packets[0])               # packet 1 of 4: transfer open
    done = connect_retry(server.addr, "done-box")
    done.register()
    done.send_key()
    done.backup("small.txt", b"hello\n")
    done.sock.close()
    # the status is read until it shows done-box's close and the idle
    # connection 300 ms old: no fixed sleep that a loaded machine outruns
    deadline = time.monotonic() + 10
    while True:
        doc = cbor2.loads(status(data))
        closed = [k for k in doc["closed"] if k["reason"] == "peer closed"]
        if (closed and len(doc["conns"]) == 3 and
                by_peer(doc, idle)["idle_ms"] >= 300):
            break
        assert time.monotonic() < deadline, doc
        time.sleep(0.05)
    assert doc["server"] == "vigil-backupd"
    assert doc["listen"]["plain"] == f"127.0.0.1:{server.port}"
    assert doc["listen"]["tls"] == f"127.0.0.1:{server.tls_port}"
    assert doc["conns_open"] == 3 == len(doc["conns"])
    assert doc["accepted"] == 4 and doc["refused"] == 0
    assert doc["files_stored"] == 1

    c = by_peer(doc, idle)
    assert (c["transport"], c["state"], c["client_id"], c["bytes_in"]) == \
        ("tcp", "idle", None, 0)
    assert c["last_read_ms_ago"] is None and c["file"] is None
    assert c["uptime_ms"] >= c["idle_ms"] >= 300

    c = by_peer(doc, hs)
    assert (c["transport"], c["state"], c["tls_version"]) == ("tls", "handshake", None)

    c = by_peer(doc, busy.sock)
    assert c["state"] == "file" and c["client_name"] == "status-box"
    assert c["client_id"] == busy.id.hex()
    assert c["file"]["name"] == "big file.bin"
    assert (c["file"]["packet"], c["file"]["packets"]) == (2, len(packets))
    assert c["file"]["received"] == 65536
    assert c["bytes_in"] > 65536 and c["bytes_out"] > 0
    assert c["last_read_ms_ago"] is not None and c["last_write_ms_ago"] is not None

    (k,) = [k for k in doc["closed"] if k["reason"] == "peer closed"]
    assert k["files_stored"] == 1 and k["tls"] is None and len(k["client_id"]) == 32

    # JSON is the same document; a dropped mid-file client shows its
    # cleared partial state in the counters afterwards
    assert json.loads(status(data, "json"))["conns_open"] == 3
    busy.sock.close()
    server.wait_for("peer closed mid-request")
    time.sleep(0.2)
    doc = cbor2.loads(status(data))
    assert doc["partial_cleared"] == 1 and doc["conns_open"] == 2
    assert doc["closed"][0]["reason"] == "peer closed mid-request"
    idle.close()
    hs.close()


def test_status_without_server_and_second_server(server, tmp_path):
    r = subprocess.run([str(binary("vigil-backupd")), "--data", str(tmp_path / "nothing"),
                        "--status"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 1 and "no server answers on" in r.stderr
    r = subprocess.run([str(binary("vigil-backupd")), "--data", str(tmp_path / "data"),
                        "--plain", "127.0.0.1:0"], capture_output=True, text=True,
                       timeout=10)
    assert r.returncode == 1 and "another vigil-backupd serves" in r.stderr
    r = subprocess.run([str(binary("vigil-backupd")), "--data", str(tmp_path / "data"),
                        "--status=xml"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 2


def test_status_socket_is_private_and_removed(server, tmp_path):
    sock = tmp_path / "data" / "status.sock"
    assert oct(os.stat(sock).st_mode & 0o777) == "0o600"
    # the catalog names every device and file: private too
    db = tmp_path / "data" / "backupd.sqlite"
    assert oct(os.stat(db).st_mode & 0o777) == "0o600"
    server.stop()
    assert not sock.exists()


def test_status_long_data_path(tmp_path):
    """A data directory whose socket path does not fit sun_path (108)."""
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.parent.mkdir()
    s = Server(["--data", str(deep), "--plain", "127.0.0.1:0"]).start()
    try:
        assert cbor2.loads(status(deep))["conns_open"] == 0
    finally:
        s.stop()
