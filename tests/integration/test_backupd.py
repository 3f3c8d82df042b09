"""vigil-backupd, plain CyberBackup v3: the whole flow with a Python client
(v3_client.py), versions, reconnect, hostile clients next to well-behaved
ones, partial state cleared on disconnect, disk full, startup errors."""
import hashlib
import os
import shutil
import socket
import struct
import subprocess
import threading
import time

import pytest

import metadb
import v3_client as v3
from backupd import TIMEOUT_MS, stored, tls_args, tls_context
from conftest import binary
from v3_names import v3_name


@pytest.fixture
def server(server_factory, backend):
    return server_factory()


def new_client(srv, name, exponent=17):
    c = v3.Client(srv.addr, name, exponent=exponent)
    c.register()
    c.send_key()
    return c


# ---- the normal flow ---------------------------------------------------------

@pytest.mark.parametrize("size", [0, 1, 1024, 65536, 1 << 20])
def test_stored_plaintext_identical(server, tmp_path, size):
    data = os.urandom(size)
    c = new_client(server, f"client-{size}")
    assert c.backup("data.bin", data, slice_size=40000) == v3.R_ACK
    c.close()
    got = stored(tmp_path / "data", c, "data.bin")
    assert list(got) == [1]
    assert hashlib.sha256(got[1]).digest() == hashlib.sha256(data).digest()
    assert not os.listdir(tmp_path / "data/.tmp")


def test_two_versions_both_kept_and_in_sqlite(server, tmp_path):
    c = new_client(server, "versions")
    c.backup("notes.txt", b"first version\n")
    c.backup("notes.txt", b"second, longer version\n")
    c.close()
    assert stored(tmp_path / "data", c, "notes.txt") == {
        1: b"first version\n", 2: b"second, longer version\n"}
    server.stop()
    data = tmp_path / "data"
    rows = metadb.rows(data,
        "SELECT v.version, v.size, v.cksum FROM versions v JOIN files f ON f.id = v.file_id"
        " JOIN clients c ON c.id = f.client_id WHERE c.name = 'versions' ORDER BY 1")
    assert rows == [(1, 14, v3.posix_cksum(b"first version\n")),
                    (2, 23, v3.posix_cksum(b"second, longer version\n"))]
    assert metadb.rows(data, "SELECT length(spki) FROM keys") == [(160,)]
    sess = metadb.rows(data, "SELECT files_ok, partial_cleared, end_reason FROM sessions")
    assert sess == [(2, 0, "peer closed")]


def test_name_taken_gets_1601(server):
    new_client(server, "dup").close()
    c = v3.Client(server.addr, "dup")
    with pytest.raises(v3.ServerError) as e:
        c.register()
    assert e.value.args[0] == v3.R_REG_FAIL
    server.wait_for("register dup: name taken")


def test_key_e65537_accepted(server, tmp_path):
    c = new_client(server, "old-style", exponent=65537)
    assert len(c.spki()) == 162
    c.backup("f", b"x" * 100)
    assert stored(tmp_path / "data", c, "f") == {1: b"x" * 100}


def test_reconnect_ok_and_denied(server, tmp_path):
    c = new_client(server, "roamer")
    c.close()
    c2 = v3.Client(server.addr, "roamer")
    c2.id, c2.key = c.id, c.key
    assert c2.reconnect() == v3.R_RECON_OK
    c2.backup("after-reconnect", b"hello again")
    c2.close()
    assert stored(tmp_path / "data", c, "after-reconnect") == {1: b"hello again"}
    # a wrong id for the name, and an unknown name, are denied (1606)
    c3 = v3.Client(server.addr, "roamer")
    c3.id = bytes(16)
    assert c3.reconnect() == v3.R_RECON_DENIED
    c3.name = "nobody"
    assert c3.reconnect() == v3.R_RECON_DENIED
    c3.close()


def test_key_not_replaced_from_another_connection(server):
    victim = new_client(server, "victim")
    thief = v3.Client(server.addr, "victim")
    thief.id = victim.id
    thief.send(v3.req(thief.id, v3.PUBKEY, v3.name_field("victim") + thief.spki()))
    assert thief.recv_resp() == (v3.R_ERROR, b"")
    server.wait_for("1026 for victim: client has a key, not registered on this connection")
    # the victim's own key still works
    v = v3.Client(server.addr, "victim")
    v.id, v.key = victim.id, victim.key
    assert v.reconnect() == v3.R_RECON_OK
    # a client registered without 1026 (crash after 1600) may send it later
    c = v3.Client(server.addr, "late-key")
    c.register()
    c.close()
    c2 = v3.Client(server.addr, "late-key")
    c2.id = c.id
    c2.send_key()
    c2.backup("f", b"late")


def test_connection_table_full(server_factory):
    srv = server_factory(extra=["--max-conns", "2"])
    a, b = new_client(srv, "a"), new_client(srv, "b")
    extra = socket.create_connection(srv.addr)
    srv.wait_for(r"refused: connection table full \(2\)")
    assert v3.Client.closed_by_server(_Wrap(extra))
    a.backup("f", b"a")
    a.close()
    srv.wait_for(r"#\d+ .*closed \(peer closed\)")
    c = new_client(srv, "c")
    c.backup("f", b"c")
    b.backup("f", b"b")


def test_crc_retry_then_abort_keeps_nothing(server, tmp_path):
    c = new_client(server, "retry")
    c.send_file("r", b"abc")
    c.verdict(v3.CRC_RETRY, "r")
    c.send_file("r", b"abc")
    assert c.verdict(v3.CRC_ABORT, "r") == v3.R_ACK
    c.send_file("r", b"abc")
    c.verdict(v3.CRC_OK, "r")
    c.close()
    assert stored(tmp_path / "data", c, "r") == {1: b"abc"}


def test_many_clients_at_once(server, tmp_path):
    errors = []

    def run(i):
        try:
            c = new_client(server, f"many-{i}")
            for k in range(3):
                c.backup(f"f{k}", bytes([i]) * (1000 * k + i), slice_size=512)
            c.close()
        except Exception as e:  # reported below
            errors.append((i, repr(e)))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert len([d for d in os.listdir(tmp_path / "data") if len(d) == 32]) == 20


# ---- hostile clients, with well-behaved ones served meanwhile ----------------

def _spam_good_clients(srv, stop, results, tag):
    i = 0
    while not stop.is_set():
        try:
            c = new_client(srv, f"good-{tag}-{threading.get_ident()}-{i}")
            data = os.urandom(100_000 + i)
            c.backup("payload", data, slice_size=32768)
            c.close()
            results.append(True)
        except Exception as e:  # the assertion below shows it
            results.append(repr(e))
        i += 1


def _session(srv, name="bad"):
    return new_client(srv, name + str(time.monotonic_ns()))


# Names the deployed servers refuse (v3_names.name_ok), and the reason
# vigil-backupd logs: the same rule for every peer.
BAD_NAMES = {
    "absolute": ("/etc/passwd", "path separator"),
    "dotdot": ("..", r'"\.\." in file name'),
    "dotdot_inside": ("a..b", r'"\.\." in file name'),
    "dot": (".", r'the name "\."'),
    "control": ("a\x01b", "control byte in name"),
    "separator": ("a/../../b", "path separator"),
    "percent_escape": ("srv_my%5Fapp", r"character outside \[A-Za-z0-9\._-\]"),
    "colon": ("c:x", "character outside"),
    "device": ("con.txt", "Windows device name"),
    "device_no_dot": ("NUL", "Windows device name"),
}


def _hostile(kind, srv):
    """Runs one misbehaviour; returns the log pattern that must appear."""
    if kind == "truncated_header":
        s = socket.create_connection(srv.addr)
        s.sendall(b"\x01" * 10)
        s.close()
        return r"closed \(peer closed mid-request\)"
    if kind == "truncated_header_silent":
        s = socket.create_connection(srv.addr)
        s.sendall(b"\x01" * 10)
        assert v3.Client.closed_by_server(_Wrap(s), timeout=TIMEOUT_MS / 1000 * 4)
        return r"timeout: .*(mid-request|slow client)"
    if kind == "wrong_version":
        c = v3.Client(srv.addr, "x")
        c.send(v3.req(c.id, v3.REGISTER, v3.name_field("x"), version=2))
        assert c.recv_resp() == (v3.R_ERROR, b"")
        assert c.closed_by_server()
        return r"1607 and close: header: bad version \(version 2"
    if kind == "wrong_version_huge_payload":
        # refused on the header: the payload is never waited for
        c = v3.Client(srv.addr, "x")
        c.send(v3.req(c.id, v3.FILE, b"", version=9, size=1 << 30))
        assert c.recv_resp() == (v3.R_ERROR, b"")
        assert c.closed_by_server()
        return r"header: bad version \(version 9"
    if kind == "unknown_code":
        c = v3.Client(srv.addr, "x")
        c.send(v3.req(c.id, 1099, v3.name_field("x")))
        assert c.recv_resp() == (v3.R_ERROR, b"")
        return r"header: unknown code \(version 3, code 1099"
    if kind == "over_cap":
        c = _session(srv)
        c.send(v3.req(c.id, v3.FILE, b"", size=17 * 1024 * 1024))
        assert c.recv_resp() == (v3.R_ERROR, b"")
        return r"header: payload over cap"
    if kind == "layout":
        c = v3.Client(srv.addr, "x")
        c.send(v3.req(c.id, v3.REGISTER, b"abc\0"))
        assert c.recv_resp() == (v3.R_ERROR, b"")
        return r"header: payload size does not fit the code"
    if kind in BAD_NAMES:
        name, pattern = BAD_NAMES[kind]
        c = _session(srv)
        for p in c.file_packets(name, b"evil"):
            c.send(p)
        assert c.recv_resp() == (v3.R_ERROR, b"")
        assert c.closed_by_server()
        return pattern
    if kind == "slow_loris":
        c = v3.Client(srv.addr, "x")
        msg = v3.req(c.id, v3.REGISTER, v3.name_field("slow"))
        t0 = time.monotonic()
        try:
            for b in msg:
                c.send(bytes([b]))
                time.sleep(0.2)
                if time.monotonic() - t0 > 10:
                    raise AssertionError("slow client never cut off")
        except (BrokenPipeError, ConnectionResetError):
            pass
        return r"timeout: request header not complete after \d+ ms \(slow client\)"
    if kind == "file_before_key":
        c = v3.Client(srv.addr, "x")
        c.aes = bytes(32)
        c.send(c.file_packets("f", b"data")[0])
        assert c.recv_resp() == (v3.R_ERROR, b"")
        return r"1028 before 1026/1027 gave a session key"
    if kind == "packet_order":
        c = _session(srv)
        pk = c.file_packets("f", os.urandom(5000), slice_size=1024)
        c.send(pk[0])
        c.send(pk[2])
        assert c.recv_resp() == (v3.R_ERROR, b"")
        return r"packet 3/5: packet out of order"
    if kind == "bad_key":
        c = v3.Client(srv.addr, "badkey")
        c.register()
        c.send(v3.req(c.id, v3.PUBKEY, v3.name_field("badkey") + b"\x30" + b"\0" * 159))
        assert c.recv_resp() == (v3.R_ERROR, b"")
        return r"1607 and close: 1026 payload: public key not RSA-1024 DER"
    if kind == "other_id":
        c = _session(srv)
        c.id = bytes(range(16))
        c.send(c.file_packets("f", b"data")[0])
        assert c.recv_resp() == (v3.R_ERROR, b"")
        return r"1028 with another client's id"
    raise AssertionError(kind)


class _Wrap:
    """Lets Client.closed_by_server run on a bare socket."""

    def __init__(self, s):
        self.sock = s


HOSTILE = ["truncated_header", "truncated_header_silent", "wrong_version",
           "wrong_version_huge_payload", "unknown_code", "over_cap", "layout",
           *BAD_NAMES, "slow_loris",
           "file_before_key", "packet_order", "bad_key", "other_id"]


@pytest.mark.parametrize("kind", HOSTILE)
def test_hostile_client_others_served(server_factory, kind):
    server = server_factory()   # the protocol's defences: SQLite is enough
    stop = threading.Event()
    results = []
    workers = [threading.Thread(target=_spam_good_clients, args=(server, stop, results, i))
               for i in range(3)]
    for w in workers:
        w.start()
    try:
        start = len(server.lines)
        pattern = _hostile(kind, server)
        server.wait_for(pattern, timeout=5, start=start)
        time.sleep(0.2)
    finally:
        stop.set()
        for w in workers:
            w.join(30)
    bad = [r for r in results if r is not True]
    assert bad == [] and len(results) >= 3, results
    # the server still takes new clients after the incident
    c = new_client(server, f"after-{kind}")
    c.backup("ok", b"still fine")
    c.close()


# ---- partial state -------------------------------------------------------------

def test_partial_cleared_on_disconnect_and_counted(server, tmp_path):
    c = _session(server, "partial")
    packets = c.file_packets("big", os.urandom(300_000), slice_size=65536)
    for p in packets[:3]:
        c.send(p)
    time.sleep(0.2)
    tmp = tmp_path / "data/.tmp"
    assert len(os.listdir(tmp)) == 1          # being received, outside the client dir
    assert not (tmp_path / "data" / c.id.hex()).exists()
    c.close()
    server.wait_for(r"closed \(peer closed mid-request\): 0 file\(s\) stored, 1 partial cleared")
    assert os.listdir(tmp) == []
    # a received file whose verdict never came is partial state too
    c = _session(server, "partial2")
    c.send_file("waiting", b"abc")
    c.close()
    server.wait_for(r"closed \(peer closed\): 0 file\(s\) stored, 1 partial cleared")
    assert os.listdir(tmp) == []
    assert not (tmp_path / "data" / c.id.hex()).exists()


def test_sigterm_clears_partial_and_exits_zero(server, tmp_path):
    c = _session(server, "term")
    c.send(c.file_packets("big", os.urandom(200_000))[0])
    time.sleep(0.2)
    assert server.stop() == 0
    server.wait_for(r"closed \(server shutdown\): 0 file\(s\) stored, 1 partial cleared")
    server.wait_for(r"stopped: 1 partial file\(s\) cleared")
    assert os.listdir(tmp_path / "data/.tmp") == []


# ---- disk full -------------------------------------------------------------------

def _can_unshare():
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("nsenter"):
        return False
    r = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    return r.returncode == 0


@pytest.mark.skipif(not _can_unshare(), reason="needs root and unshare -m")
def test_disk_full_1607_nothing_partial(server_factory, tmp_path):
    data = tmp_path / "full"
    data.mkdir()
    wrap = ["unshare", "-m", "--propagation", "private", "sh", "-c",
            f"mount -t tmpfs -o size=1m vigil-test {data} && exec \"$0\" \"$@\""]
    srv = server_factory(data=data, prefix=wrap)
    c = new_client(srv, "filler")
    for p in c.file_packets("huge", os.urandom(3 << 20), slice_size=65536):
        try:
            c.send(p)
        except (BrokenPipeError, ConnectionResetError):
            break
    code, _ = c.recv_resp()
    assert code == v3.R_ERROR
    srv.wait_for(r"1607 and close: huge: cannot write: disk full")
    srv.wait_for(r"1 partial cleared")
    ls = subprocess.run(["nsenter", "-t", str(srv.proc.pid), "-m", "find", str(data)],
                        capture_output=True, text=True, check=True).stdout
    assert ".part" not in ls and "/huge" not in ls, ls
    # space is back: the next client is served
    c2 = new_client(srv, "after-full")
    c2.backup("small", b"fits")
    assert srv.stop() == 0


# ---- startup errors -----------------------------------------------------------------

def test_port_in_use_is_a_clear_startup_error(tmp_path):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    port = s.getsockname()[1]
    r = subprocess.run([str(binary("vigil-backupd")), "--data", str(tmp_path / "d"),
                        "--plain", f"127.0.0.1:{port}"], capture_output=True, text=True,
                       timeout=10)
    s.close()
    assert r.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in r.stderr


def test_bad_options_and_unusable_data_dir(tmp_path):
    exe = str(binary("vigil-backupd"))
    r = subprocess.run([exe, "--plain", "0"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 2 and "--data DIR is required" in r.stderr
    r = subprocess.run([exe, "--data", str(tmp_path), "--timeout-ms", "x", "--plain", "0"],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 2 and "bad value" in r.stderr
    (tmp_path / "file").write_text("not a directory")
    r = subprocess.run([exe, "--data", str(tmp_path / "file"), "--plain", "127.0.0.1:0"],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 1 and "cannot create" in r.stderr
    r = subprocess.run([exe, "--data", str(tmp_path / "d")], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 1 and "no listener enabled" in r.stderr


# ---- vigild backup -> vigil-backupd ------------------------------------------------

def test_vigild_backup_to_backupd(server, tmp_path):
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    files = {src / "empty": b"", src / "one": b"x", src / "a b.txt": b"spaces\n",
             src / "sub" / "kib": os.urandom(1024), src / "sub" / "mib": os.urandom(1 << 20)}
    for p, d in files.items():
        p.write_bytes(d)

    def run():
        return subprocess.run([str(binary("vigild")), "backup", "--server",
                               f"tcp://127.0.0.1:{server.port}", "--state",
                               str(tmp_path / "state"), "--name", "box", str(src)],
                              capture_output=True, text=True, timeout=60)

    for attempt in (1, 2):  # register, then reconnect: two versions each
        r = run()
        assert r.returncode == 0, r.stderr
    data = tmp_path / "data"
    (client,) = [d for d in os.listdir(data) if len(d) == 32]
    for p, d in files.items():
        name = v3_name(p)
        versions = sorted(os.listdir(data / client / name))
        assert versions == ["v1", "v2"]
        for v in versions:
            assert hashlib.sha256((data / client / name / v).read_bytes()).digest() == \
                hashlib.sha256(d).digest()
    server.wait_for(r"session key sent \(1605\)")


# ---- TLS 1.3 with mutual authentication ----------------------------------------------

@pytest.fixture(scope="module")
def pki(pki, pki_other):
    """Our PKI, and a second, unrelated one (its CA does not sign ours)."""
    return pki, pki_other


class TlsClient(v3.Client):
    def __init__(self, addr, name, ctx, exponent=17):
        self.key = v3.rsa_key(exponent)
        raw = socket.create_connection(addr, timeout=10)
        self.sock = ctx.wrap_socket(raw, server_hostname="localhost")
        self.name = name
        self.id = b"\0" * 16
        self.aes = None


def test_tls_full_flow_and_plain_side_by_side(server_factory, pki, tmp_path):
    ca, _ = pki
    srv = server_factory(extra=tls_args(ca))
    ctx = tls_context(ca, ca)
    c = TlsClient(("127.0.0.1", srv.tls_port), "tls-box", ctx)
    assert c.sock.version() == "TLSv1.3"
    c.register()
    c.send_key()
    data = os.urandom(3 << 20)
    c.backup("big", data, slice_size=1 << 20)
    c.backup("big", b"v2")
    c.close()
    srv.wait_for(r"TLSv1\.3 TLS1-3-.*client .*CN=")
    got = stored(tmp_path / "data", c, "big")
    assert hashlib.sha256(got[1]).digest() == hashlib.sha256(data).digest()
    assert got[2] == b"v2"
    # the same identity reconnects over TLS; plain clients meanwhile work
    p = new_client(srv, "plain-box")
    c2 = TlsClient(("127.0.0.1", srv.tls_port), "tls-box", ctx)
    c2.id, c2.key = c.id, c.key
    assert c2.reconnect() == v3.R_RECON_OK
    c2.backup("after", b"resumed")
    p.backup("p", b"plain")
    srv.wait_for(r"closed \(peer closed\): 2 file\(s\) stored")
    assert srv.stop() == 0   # with c2 and p still open: clean shutdown
    srv.wait_for(r"closed \(server shutdown\)")


def test_tls_refuses_clients_without_trusted_certificate(server_factory, pki):
    import ssl
    ca, other = pki
    srv = server_factory(extra=tls_args(ca))
    stop, results = threading.Event(), []
    worker = threading.Thread(target=_spam_good_clients, args=(srv, stop, results, "tls"))
    worker.start()
    try:
        _tls_refusals(srv, ca, other)
    finally:
        stop.set()
        worker.join(30)
    assert [r for r in results if r is not True] == [] and results


def _tls_refusals(srv, ca, other):
    import ssl
    for client_dir, why in ((None, "no client certificate"),
                            (other, "client certificate verification failed")):
        start = len(srv.lines)
        with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
            c = TlsClient(("127.0.0.1", srv.tls_port), "nocert", tls_context(ca, client_dir))
            c.register()   # TLS 1.3: the refusal shows on first use
        srv.wait_for(r"TLS handshake failed: .*" + why, start=start)
    # plain bytes to the TLS port
    s = socket.create_connection(("127.0.0.1", srv.tls_port))
    s.sendall(v3.req(bytes(16), v3.REGISTER, v3.name_field("plain-on-tls")))
    assert v3.Client.closed_by_server(_Wrap(s))
    srv.wait_for(r"TLS handshake failed: ")
    # a silent TLS connection is cut at the timeout
    s = socket.create_connection(("127.0.0.1", srv.tls_port))
    assert v3.Client.closed_by_server(_Wrap(s), timeout=TIMEOUT_MS / 1000 * 4)
    srv.wait_for(r"timeout: TLS handshake not complete")


def test_tls_startup_errors(pki, tmp_path):
    ca, other = pki
    exe = str(binary("vigil-backupd"))
    args = [exe, "--data", str(tmp_path / "d")]

    def run(extra):
        return subprocess.run(args + extra, capture_output=True, text=True, timeout=10)

    r = run(["--tls", "127.0.0.1:0", "--tls-cert", str(ca / "server.crt"),
             "--tls-key", str(tmp_path / "missing.key"), "--tls-ca", str(ca / "ca.crt")])
    assert r.returncode == 1 and "cannot read key" in r.stderr and "No such file" in r.stderr
    unreadable = tmp_path / "unreadable.key"
    unreadable.write_bytes(b"-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n")
    r = run(["--tls", "127.0.0.1:0", "--tls-cert", str(ca / "server.crt"),
             "--tls-key", str(unreadable), "--tls-ca", str(ca / "ca.crt")])
    assert r.returncode == 1 and "cannot parse key" in r.stderr
    r = run(["--tls", "127.0.0.1:0", "--tls-cert", str(ca / "server.crt"),
             "--tls-key", str(other / "server.key"), "--tls-ca", str(ca / "ca.crt")])
    assert r.returncode == 1 and "key does not match" in r.stderr
    r = run(["--tls", "127.0.0.1:0"])
    assert r.returncode == 1 and "--tls needs --tls-cert, --tls-key and --tls-ca" in r.stderr
