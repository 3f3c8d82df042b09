"""vigild's CoAP status server against libcoap's coap-client (libcoap3-bin):
/status, /.well-known/core, Observe, Block2, authorisation, malformed
datagrams, and tshark's dissection of a capture.  Every CBOR payload is
decoded with cbor2 and validated against docs/status.cddl by the small
CDDL validator in cddl.py (the subset of RFC 8610 that file uses)."""
import io
import re
import shutil
import signal
import socket
import subprocess
import time

import cbor2
import pytest

from cddl import CDDL, Cddl

CLIENT = shutil.which("coap-client-notls") or "/usr/bin/coap-client-notls"


@pytest.fixture(scope="module")
def schema():
    return Cddl(CDDL.read_text())


# ------------------------------------------------------------- helpers --

def coap(url, *args, method="get", timeout=20):
    """Runs coap-client-notls; returns (stdout bytes, stderr text)."""
    p = subprocess.run([CLIENT, "-m", method, "-B", "5", *args, url],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    return p.stdout, p.stderr.decode(errors="replace")


def get_cbor(url, tmp_path, *args):
    out = tmp_path / f"out{time.monotonic_ns()}.cbor"
    _, err = coap(url, "-o", str(out), *args)
    assert out.exists() and out.stat().st_size > 0, err
    return out.read_bytes()


@pytest.fixture
def server(coap_server):
    return coap_server


# --------------------------------------------------------------- tests --

def test_validator_accepts_and_rejects(schema):
    good = {"total": 1, "available": 0}
    schema.validate(good, "memory")
    for bad in ({"total": 1}, {"total": 1, "available": -1},
                {"total": 1, "available": 0, "x": 1}, [1, 0],
                {"total": True, "available": 0}):
        with pytest.raises(AssertionError):
            schema.validate(bad, "memory")
    with pytest.raises(AssertionError):
        schema.validate({"overall": "fine", "checks": {}}, "health")
    with pytest.raises(AssertionError):
        schema.validate({"overall": "healthy", "checks": {"a": 1}}, "health")
    schema.validate({"overall": "healthy", "checks": {}}, "health")


def test_get_status_core_and_parts(server, schema, tmp_path):
    a, port, _ = server()
    base = f"coap://127.0.0.1:{port}"
    doc = cbor2.loads(get_cbor(base + "/status", tmp_path))
    schema.validate(doc, "status")
    assert doc["device"]["id"] == "before"
    assert f"127.0.0.1:{port}" in doc["network"]["coap"]["listen"]
    assert abs(doc["time"] - time.time()) < 5
    # a wrong document fails: the validator is not a rubber stamp
    for mutate in (lambda d: d.pop("boot"),
                   lambda d: d["health"].update(overall="fine"),
                   lambda d: d["system"]["load"].append(1),
                   lambda d: d.update(extra=1),
                   lambda d: d["watchdog"].update(kicks="0")):
        wrong = cbor2.loads(cbor2.dumps(doc))
        mutate(wrong)
        with pytest.raises(AssertionError):
            schema.validate(wrong, "status")
    for path, rule in (("/health", "health"), ("/backup", "backup"),
                       ("/conns", "conns"), ("/metrics", "metrics")):
        schema.validate(cbor2.loads(get_cbor(base + path, tmp_path)), rule)
    # the histograms are a resource of their own, counting: the requests
    # above were served and timed
    m = cbor2.loads(get_cbor(base + "/metrics", tmp_path))
    assert m["coap_service"]["count"] >= 5, m["coap_service"]
    assert m["coap_service"]["buckets"][-1] <= m["coap_service"]["count"]
    # IPv6 too
    doc6 = cbor2.loads(get_cbor(f"coap://[::1]:{port}/health", tmp_path))
    schema.validate(doc6, "health")
    core, err = coap(base + "/.well-known/core")
    core = core.decode()
    assert '</status>;rt="vigil.status";ct=60;obs' in core, err
    assert '</health>;rt="vigil.health";ct=60;obs' in core
    for p in ("/backup", "/backup/cancel", "/conns", "/metrics", "/probe", "/reload"):
        assert f"<{p}>" in core
    out, err = coap(base + "/nowhere")
    assert "4.04" in out.decode() + err


def test_block2_small_blocks_and_tshark(server, schema, tmp_path):
    a, port, _ = server()
    cap = tmp_path / "coap.pcap"
    ts = subprocess.Popen(["tshark", "-q", "-i", "lo", "-f",
                           f"udp port {port}", "-a", "duration:60",
                           "-w", str(cap)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # capture starts when tshark says so (its start-up time varies)
    deadline = time.monotonic() + 30
    started = b""
    while b"Capture started" not in started and \
            time.monotonic() < deadline:
        line = ts.stderr.readline()
        if not line:
            break
        started += line
    assert b"Capture started" in started, started
    time.sleep(0.2)
    body = get_cbor(f"coap://127.0.0.1:{port}/status", tmp_path, "-b", "64")
    schema.validate(cbor2.loads(body), "status")
    coap(f"coap://127.0.0.1:{port}/.well-known/core")
    coap(f"coap://127.0.0.1:{port}/reload", method="post")
    time.sleep(0.5)
    ts.send_signal(signal.SIGINT)
    ts.wait(timeout=20)
    assert cap.exists(), ts.stderr.read().decode(errors="replace")
    v = subprocess.run(["tshark", "-r", str(cap), "-d",
                        f"udp.port=={port},coap", "-V"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=60).stdout.decode(errors="replace")
    assert "Constrained Application Protocol" in v
    assert "Malformed" not in v and "Expert Info (Error" not in v
    # the blocks were 64 bytes, and the first one announced the size
    assert "Block2: NUM:0, M:1, SZX:64" in v
    assert re.search(r"Block2: NUM:\d+, M:0, SZX:64", v)
    assert f"Size2: {len(body)}" in v


def cbor_docs(path):
    """The complete CBOR documents in PATH so far (a document still being
    written is left out)."""
    data = path.read_bytes() if path.exists() else b""
    dec = cbor2.CBORDecoder(io.BytesIO(data))
    docs = []
    while dec.fp.tell() < len(data):
        try:
            docs.append(dec.decode())
        except cbor2.CBORDecodeError:
            break
    return docs


def wait_docs(path, want, proc, timeout=20):
    """Waits until PATH holds WANT complete documents (coap-client writes
    each one when its last block arrived)."""
    deadline = time.monotonic() + timeout
    while len(cbor_docs(path)) < want:
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < deadline, (want, cbor_docs(path))
        time.sleep(0.05)
    return cbor_docs(path)


def test_observe_notifies_on_reload(server, schema, tmp_path):
    a, port, cfg = server()
    out = tmp_path / "obs.cbor"
    # -s 60: observe long enough for any machine; stopped below once the
    # notification has arrived
    obs = subprocess.Popen([CLIENT, "-m", "get", "-s", "60", "-o", str(out),
                            f"coap://127.0.0.1:{port}/status"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # the first document complete, so the reload's notification is a
        # document of its own (not merged into a transfer in progress)
        a.wait_for("of /status registered", timeout=10)
        wait_docs(out, 1, obs)
        cfg.write_text(cfg.read_text().replace("device.name = before",
                                               "device.name = after"))
        a.signal(signal.SIGHUP)
        a.wait_for("reloaded")
        docs = wait_docs(out, 2, obs)
    finally:
        obs.terminate()
        obs.wait(timeout=10)
    for d in docs:
        schema.validate(d, "status")
    assert docs[0]["device"]["id"] == "before"
    assert docs[-1]["device"]["id"] == "after"
    # the observer is gone once the client stopped (RST or timeout)
    doc = cbor2.loads(get_cbor(f"coap://127.0.0.1:{port}/status", tmp_path))
    assert doc["network"]["coap"]["observers"] <= 1


def test_post_needs_authorisation(server, tmp_path):
    a, port, _ = server()
    url = f"coap://127.0.0.1:{port}/reload"
    out, err = coap(url, method="post")
    assert "4.01" in out.decode() + err
    with pytest.raises(AssertionError):
        a.wait_for("reloading", timeout=0.5)
    for path in ("/backup", "/probe", "/backup/cancel"):
        out, err = coap(f"coap://127.0.0.1:{port}{path}", method="post")
        assert "4.01" in out.decode() + err, path


def test_post_open_control(server, tmp_path):
    a, port, _ = server("coap.open_control = true\n")
    out, err = coap(f"coap://127.0.0.1:{port}/reload", method="post")
    a.wait_for("reloaded")
    out, err = coap(f"coap://127.0.0.1:{port}/backup", method="post")
    assert "5.01" in out.decode() + err
    bad = tmp_path / "bad.cbor"
    bad.write_bytes(cbor2.dumps({"job": "some"}))
    out, err = coap(f"coap://127.0.0.1:{port}/backup/cancel", "-t", "60",
                    "-f", str(bad), method="post")
    assert "4.00" in out.decode() + err
    good = tmp_path / "good.cbor"
    good.write_bytes(cbor2.dumps({"job": "all", "reason": "test"}))
    out, _ = coap(f"coap://127.0.0.1:{port}/backup/cancel", "-t", "60",
                  "-f", str(good), method="post")
    assert cbor2.loads(out) == {"cancelled": 0}


def full_listener():
    """A listening socket whose accept queue is full: a further connect
    gets no answer (Linux drops the SYN), so a probe times out.  Returns
    (socket, the connections that fill it)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(0)
    fill = []
    for _ in range(3):
        c = socket.socket()
        c.setblocking(False)
        c.connect_ex(srv.getsockname())
        fill.append(c)
    time.sleep(0.1)
    return srv, fill


def test_post_probe(server, tmp_path):
    """POST /probe: one connection attempt to backup.server, answered
    2.04 {"reachable", "latency_ms", "error"} when it ends."""
    a, port, _ = server("coap.open_control = true\n")
    out, err = coap(f"coap://127.0.0.1:{port}/probe", method="post")
    assert "5.01" in out.decode(errors="replace") + err   # no server
    a.stop()
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(4)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))   # bound, not listening: refused
    full, fill = full_listener()
    try:
        for sock, reachable, error in ((lst, True, ""),
                                       (closed, False, "Connection refused"),
                                       (full, False, "timed out")):
            target = sock.getsockname()[1]
            a2, port2, _ = server("coap.open_control = true\n"
                                  f"backup.server = tcp://127.0.0.1:{target}\n")
            t0 = time.monotonic()
            out, err = coap(f"coap://127.0.0.1:{port2}/probe", method="post")
            took = time.monotonic() - t0
            doc = cbor2.loads(out)
            assert doc["reachable"] is reachable, (doc, err)
            # strerror text: glibc "Connection timed out", musl
            # "Operation timed out"
            assert doc["error"].endswith(error), doc
            assert isinstance(doc["latency_ms"], int)
            if error == "timed out":
                assert 500 <= doc["latency_ms"] < 1000
            assert took < 10
            a2.stop()   # the next target gets an agent of its own
    finally:
        for s in [lst, closed, full, *fill]:
            s.close()


def test_malformed_burst_leaves_server_answering(server, schema, tmp_path):
    a, port, _ = server()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1.0)
    dest = ("127.0.0.1", port)
    junk = [b"\x40\x01\x00",                           # truncated header
            b"\x40\x01\x11\x11\xf1",                   # reserved nibble
            b"\x40\x01\x11\x12\xd1",                   # ext. delta cut off
            b"\x49\x01\x22\x22" + bytes(9),            # token length 9
            b"\x40\x01\x33\x33" + b"\xff",             # marker, no payload
            b"\x40\x01\x44\x44" + bytes(3000),         # oversized
            b"\x80\x01\x55\x55",                       # version 2
            b"\x40\x00\x66\x66",                       # ping
            bytes(range(256)),
            b""]
    for _ in range(20):
        for d in junk:
            s.sendto(d, dest)
    # once the burst is through (the kernel may drop some of it: UDP),
    # a token-9 message gets an RST echoing its id
    time.sleep(0.5)
    s.sendto(b"\x49\x01\x77\x77" + bytes(9), dest)
    seen = []
    try:
        while True:
            seen.append(s.recv(2048))
    except socket.timeout:
        pass
    assert b"\x70\x00\x77\x77" in seen
    assert all(len(p) <= 1152 for p in seen)
    doc = cbor2.loads(get_cbor(f"coap://127.0.0.1:{port}/status", tmp_path))
    schema.validate(doc, "status")
    assert doc["network"]["coap"]["rejected"] > 100
    assert a.proc.poll() is None


def request(mid, code, path, block0=False):
    """A CON request with a 2-byte token: Uri-Path options (segments
    under 13 bytes), Block2 num 0 size 1024 when block0."""
    out = bytes([0x42, code]) + mid.to_bytes(2, "big") + b"tk"
    last = 0
    for seg in path.strip("/").split("/"):
        out += bytes([(11 - last) << 4 | len(seg)]) + seg.encode()
        last = 11
    if block0:
        out += bytes([(23 - last) << 4 | 1, 0x06])
    return out


def answer_parts(msg):
    """(code, ETag or None, payload) of a CoAP message."""
    pos, num, etag = 4 + (msg[0] & 0x0F), 0, None
    while pos < len(msg) and msg[pos] != 0xFF:
        delta, length = msg[pos] >> 4, msg[pos] & 0x0F
        pos += 1
        for nib in ("delta", "length"):
            v = delta if nib == "delta" else length
            if v == 13:
                v, pos = msg[pos] + 13, pos + 1
            elif v == 14:
                v, pos = int.from_bytes(msg[pos:pos + 2], "big") + 269, pos + 2
            if nib == "delta":
                delta = v
            else:
                length = v
        num += delta
        if num == 4:
            etag = msg[pos:pos + length]
        pos += length
    return msg[1], etag, msg[pos + 1:]


def exchange(s, dest, msgs, timeout=20):
    """Sends msgs back to back; returns {mid: answer} once each is
    answered (loopback: nothing is lost; bounded by timeout)."""
    for m in msgs:
        s.sendto(m, dest)
    want = {int.from_bytes(m[2:4], "big") for m in msgs}
    got = {}
    deadline = time.monotonic() + timeout
    while want - got.keys():
        assert time.monotonic() < deadline, (want, got.keys())
        try:
            d = s.recv(2048)
        except socket.timeout:
            continue
        got[int.from_bytes(d[2:4], "big")] = d
    return got


def test_get_after_change_in_one_burst_is_fresh(server, tmp_path):
    """GET /status, POST /reload (a new device id), GET /status sent back
    to back: the server reads such a burst in one go and keeps the
    status's change key for the burst until a request that is not a GET
    (coap_srv_burst), so the second GET must show the reloaded state
    with a new ETag, not the snapshot the first one used.  No address
    verification (coap.amplification = off): every GET is answered at
    once, in order."""
    a, port, cfg = server("coap.open_control = true\n"
                          "coap.amplification = off\n")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1.0)
    dest = ("127.0.0.1", port)
    try:
        first = exchange(s, dest, [request(1, 1, "/status", True)])[1]
        code, etag1, body = answer_parts(first)
        assert code == 0x45 and etag1 and b"before" in body, first
        cfg.write_text(cfg.read_text().replace("device.name = before",
                                               "device.name = after"))
        got = exchange(s, dest, [request(2, 1, "/status", True),
                                 request(3, 2, "/reload"),
                                 request(4, 1, "/status", True)])
    finally:
        s.close()
    code, _, body = answer_parts(got[2])
    assert code == 0x45 and b"before" in body
    assert answer_parts(got[3])[0] == 0x44           # 2.04 Changed
    code, etag4, body = answer_parts(got[4])
    assert code == 0x45 and b"after" in body and b"before" not in body
    assert etag4 != etag1 and etag4 != answer_parts(got[2])[1]
    a.wait_for("reloaded")
