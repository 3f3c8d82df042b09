"""The vigil/2 extension, "clear payload inside TLS"
(docs/protocol/cyberbackup-v3.md): vigild and vigil-backupd negotiate it by
ALPN and then send 1028 slices as plaintext in version-4 requests.

Both vigild clients (the one-shot CLI and the agent's loop) negotiate it
over certificates, PSK, TLS 1.2 and a resumed session, and files arrive
intact; a v3 peer (plain TCP, or TLS that chose vigil/1) sending version 4
gets 1607 and a close; a Python client checks the wire format on its own."""
import hashlib
import os
import socket
import ssl
import struct
import subprocess
import time

import cbor2
import pytest

import v3_client as v3
from conftest import binary
from backupd import TIMEOUT_MS, Server, stored, tls_args, tls_context
from console import wait_job
from v3_names import v3_name

PSK = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
CLEAR = 4
SIZES = [0, 1, 16, 65537, 3 << 20]


@pytest.fixture
def srv(pki, tmp_path):
    keys = tmp_path / "keys"
    keys.write_text(f"box-1:{PSK}\n")
    s = Server(["--data", str(tmp_path / "data"), "--timeout-ms", str(TIMEOUT_MS),
                "--plain", "127.0.0.1:0", "--tls-psk", str(keys)]
               + tls_args(pki)).start()
    yield s
    s.stop()


def status(tmp_path):
    r = subprocess.run([str(binary("vigil-backupd")), "--data", str(tmp_path / "data"),
                        "--status"], capture_output=True, timeout=10)
    assert r.returncode == 0, r.stderr
    return cbor2.loads(r.stdout)


def make_files(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    files = {}
    for n in SIZES:
        p = src / f"f{n}"
        p.write_bytes(os.urandom(n))
        files[p] = p.read_bytes()
    return src, files


def check_stored(tmp_path, files, versions=("v1",)):
    data = tmp_path / "data"
    (client,) = [d for d in os.listdir(data) if len(d) == 32]
    for p, d in files.items():
        vdir = data / client / v3_name(p)
        assert sorted(os.listdir(vdir)) == list(versions), p
        for v in versions:
            assert hashlib.sha256((vdir / v).read_bytes()).digest() == \
                hashlib.sha256(d).digest(), (p, v)


def vigild_backup(srv, tmp_path, conf_lines, paths):
    conf = tmp_path / "vigil.conf"
    conf.write_text("\n".join(conf_lines) + "\n")
    args = [str(binary("vigild")), "backup", "--config", str(conf), "--server",
            f"tls://127.0.0.1:{srv.tls_port}", "--state", str(tmp_path / "state"),
            "--name", "clear-box", "--timeout", "5000", "--retry-cap", "100"]
    return subprocess.run(args + [str(p) for p in paths], capture_output=True,
                          text=True, timeout=60)


def clear_stores(srv, want):
    """The number of files the server stored from plaintext 1028s, once it
    reaches want or the wait ends (long names cut the log line, so only
    the mode before the name is counted)."""
    deadline = time.monotonic() + 5
    while True:
        n = len([ln for ln in srv.lines if "stored (clear payload) " in ln])
        if n >= want or time.monotonic() > deadline:
            return n
        srv._read_some(0.05)


def certs(pki):
    return [f"tls.ca = {pki / 'ca.crt'}", f"tls.cert = {pki / 'client.crt'}",
            f"tls.key = {pki / 'client.key'}"]


# ---- vigild <-> vigil-backupd -------------------------------------------------

def test_cli_negotiates_vigil2_and_files_arrive(srv, pki, tmp_path):
    src, files = make_files(tmp_path)
    r = vigild_backup(srv, tmp_path, certs(pki), [src])
    assert r.returncode == 0, r.stderr
    assert f"{len(files)} files verified" in r.stderr
    srv.wait_for(r"TLSv1\.3 TLS1-3-\S+ alpn vigil/2 \(clear payload\), client .*CN=")
    srv.wait_for(r"closed \(peer closed\): 5 file\(s\) stored")
    assert clear_stores(srv, 5) == 5
    assert not [ln for ln in srv.lines if "1607" in ln], srv.lines
    check_stored(tmp_path, files)


@pytest.mark.parametrize("tls12", [False, True], ids=["tls13", "tls12"])
def test_cli_psk_negotiates_vigil2(pki, tmp_path, tls12):
    keys = tmp_path / "keys"
    keys.write_text(f"box-1:{PSK}\n")
    s = Server(["--data", str(tmp_path / "data"), "--timeout-ms", str(TIMEOUT_MS),
                "--tls", "127.0.0.1:0", "--tls-psk", str(keys)]
               + (["--tls-max-version", "1.2"] if tls12 else [])).start()
    try:
        f = tmp_path / "payload.bin"
        f.write_bytes(os.urandom(100_000))
        lines = [f"tls.psk = box-1:{PSK}"] + (["tls.min_version = 1.2"] if tls12 else [])
        r = vigild_backup(s, tmp_path, lines, [f])
        assert r.returncode == 0, r.stderr
        s.wait_for(r"TLSv1\.%d \S+ alpn vigil/2 \(clear payload\), client psk:box-1"
                   % (2 if tls12 else 3))
        s.wait_for(r"stored \(clear payload\) ")
        check_stored(tmp_path, {f: f.read_bytes()})
    finally:
        s.stop()


def test_agent_negotiates_vigil2_also_when_resumed(srv, tls_agent, pki, tmp_path):  # noqa: F811
    src, files = make_files(tmp_path)
    c = tls_agent(srv.tls_port, src, pki, pki)
    assert "backup: job 1 queued" in c.cmd("backup now")
    assert "job 1 done" in wait_job(c, 1)
    conns = c.cmd("conns")
    assert "TLSv1.3 TLS1-3-" in conns and "alpn vigil/2" in conns, conns
    assert "(resumed)" not in conns
    srv.wait_for(r"alpn vigil/2 \(clear payload\), client .*CN=")
    # the server drops the idle connection; the next job resumes with the
    # ticket, and the resumed handshake negotiates vigil/2 again
    srv.wait_for(r"closed \(timeout", timeout=TIMEOUT_MS / 1000 + 5)
    time.sleep(0.3)
    c.cmd("backup now")
    assert "job 2 done" in wait_job(c, 2)
    conns = c.cmd("conns")
    assert "alpn vigil/2 (resumed)" in conns, conns
    srv.wait_for(r"alpn vigil/2 \(clear payload\), client .*\(resumed session\)")
    # job 2's files are unchanged: recorded by hash (1046, vigil/2 only)
    assert clear_stores(srv, len(files)) == len(files)
    srv.wait_for(r"closed \(timeout\): %d file\(s\) stored, .* %d by hash"
                 % (len(files), len(files)), timeout=TIMEOUT_MS / 1000 + 5)
    assert not [ln for ln in srv.lines if "1607" in ln], srv.lines
    check_stored(tmp_path, files, ("v1", "v2"))


# ---- v3 peers and the wire format, from Python ---------------------------------

def send_v4_register(c):
    """A 1025 with version byte 4; returns the answer's code and payload."""
    c.send(v3.req(c.id, v3.REGISTER, v3.name_field(c.name), version=CLEAR))
    return c.recv_resp()


def test_plain_tcp_version4_gets_1607(srv):
    c = v3.connect_retry(srv.addr, "plain-v4")
    try:
        assert send_v4_register(c)[0] == v3.R_ERROR
        assert c.closed_by_server()
    finally:
        c.close()
    srv.wait_for(r"1607 and close: header: bad version \(version 4, code 1025")


class AlpnClient(v3.Client):
    """v3_client over Python's ssl with the given ALPN offer, certificates
    from make-certs.sh."""

    def __init__(self, srv, pki, name, alpn):
        ctx = tls_context(pki, pki)
        ctx.set_alpn_protocols(alpn)
        self.key = v3.rsa_key(17)
        raw = socket.create_connection(("127.0.0.1", srv.tls_port), timeout=10)
        self.sock = ctx.wrap_socket(raw, server_hostname="localhost")
        self.name = name
        self.id = b"\0" * 16
        self.aes = None

    def clear_packets(self, fname, data, slice_size):
        """Version-4 1028s: plaintext slices, content size = size."""
        slices = [data[i:i + slice_size] for i in range(0, len(data), slice_size)] or [b""]
        out = []
        for k, s in enumerate(slices, 1):
            head = struct.pack("<IIHH", len(data), len(data), k, len(slices))
            out.append(v3.req(self.id, v3.FILE, head + v3.name_field(fname) + s,
                              version=CLEAR))
        return out


def test_tls_vigil1_version4_gets_1607(srv, pki):
    c = AlpnClient(srv, pki, "v1-box", ["vigil/1"])
    try:
        assert c.sock.selected_alpn_protocol() == "vigil/1"
        c.register()
        c.send_key()
        c.send(c.clear_packets("f", b"hello", 65536)[0])
        code, _ = c.recv_resp()
        assert code == v3.R_ERROR
        assert c.closed_by_server()
    finally:
        c.close()
    srv.wait_for(r"alpn vigil/1, client .*CN=")
    srv.wait_for(r"1607 and close: header: bad version \(version 4, code 1028")


def test_tls_without_alpn_is_pure_v3(srv, pki):
    c = AlpnClient(srv, pki, "noalpn-box", [])
    try:
        assert c.sock.selected_alpn_protocol() is None
        assert send_v4_register(c)[0] == v3.R_ERROR
        assert c.closed_by_server()
    finally:
        c.close()
    srv.wait_for(r"alpn none, client .*CN=")


def test_python_vigil2_wire_format(srv, pki, tmp_path):
    c = AlpnClient(srv, pki, "py-clear", ["vigil/2", "vigil/1"])
    try:
        assert c.sock.selected_alpn_protocol() == "vigil/2"
        # small requests may carry version 4 too (responses stay version
        # 3: recv_resp checks), and mix with version 3 ones
        code, payload = send_v4_register(c)
        assert code == v3.R_REG_OK and len(payload) == 16
        c.id = payload
        c.send_key()
        st = status(tmp_path)
        (conn,) = [k for k in st["conns"] if k["client_name"] == "py-clear"]
        assert conn["alpn"] == "vigil/2" and conn["transport"] == "tls"
        for size, slice_size in [(0, 65536), (1, 65536), (16, 16),
                                 (65537, 65536), (3 << 20, 1 << 20)]:
            data = os.urandom(size)
            name = f"clear-{size}"
            for p in c.clear_packets(name, data, slice_size):
                c.send(p)
            code, payload = c.recv_resp()
            assert code == v3.R_CRC, code
            cid, content, fname, crc = struct.unpack("<16sI255sI", payload)
            assert cid == c.id and content == size
            assert fname.rstrip(b"\0").decode() == name
            want = v3.cksum_fast(data) if size > 65536 else v3.posix_cksum(data)
            assert crc == want
            c.send(v3.req(c.id, v3.CRC_OK, v3.name_field(name), version=CLEAR))
            assert c.recv_resp()[0] == v3.R_ACK
            assert stored(tmp_path / "data", c, name) == {1: data}
        # a version-3 (CBC) file on the same connection still works
        c.backup("cbc", b"classic v3 inside vigil/2")
        assert stored(tmp_path / "data", c, "cbc") == {1: b"classic v3 inside vigil/2"}
        # the size rules stay strict: content size must be the size
        bad = struct.pack("<IIHH", 32, 20, 1, 1) + v3.name_field("bad") + b"x" * 32
        c.send(v3.req(c.id, v3.FILE, bad, version=CLEAR))
        assert c.recv_resp()[0] == v3.R_ERROR
        assert c.closed_by_server()
    finally:
        c.close()
    srv.wait_for(r"1607 and close: 1028: content size")
    srv.wait_for(r"stored \(clear payload\) \w+/clear-0 v1 \(0 bytes\)")
    srv.wait_for(r"stored \w+/cbc v1 \(25 bytes\)$")
