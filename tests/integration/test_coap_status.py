"""vigild's CoAP status server against libcoap's coap-client (libcoap3-bin):
/status, /.well-known/core, Observe, Block2, authorisation, malformed
datagrams, and tshark's dissection of a capture.  Every CBOR payload is
decoded with cbor2 and validated against docs/status.cddl by the small
CDDL validator below (the subset of RFC 8610 that file uses)."""
import io
import os
import re
import shutil
import signal
import socket
import subprocess
import time

import cbor2
import pytest

from conftest import ROOT

CLIENT = shutil.which("coap-client-notls") or "/usr/bin/coap-client-notls"
CDDL = ROOT / "docs/status.cddl"


# ---------------------------------------------------------------- CDDL --

TOKEN = re.compile(r'\s*(?:(;[^\n]*)|("(?:[^"\\]|\\.)*")|(-?\d+)|'
                   r'([A-Za-z_][A-Za-z0-9_.-]*)|(=>|[{}\[\](),:/?*+=]))')
PRELUDE = {
    "uint": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
    "nint": lambda v: isinstance(v, int) and not isinstance(v, bool) and v < 0,
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "tstr": lambda v: isinstance(v, str),
    "text": lambda v: isinstance(v, str),
    "bstr": lambda v: isinstance(v, bytes),
    "bool": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "float": lambda v: isinstance(v, float),
    "any": lambda v: True,
}


class Cddl:
    """Rules `name = type`; types are choices (/) of prelude names, rule
    names, text/integer literals, maps {...} and arrays [...]; map entries
    `"key": type` or `type => type`, array entries `type`; occurrence
    indicators ?, *, +, n*m."""

    def __init__(self, text):
        self.toks = []
        pos = 0
        while pos < len(text):
            m = TOKEN.match(text, pos)
            if not m or m.end() == pos:
                if text[pos:].strip() == "":
                    break
                raise ValueError(f"CDDL syntax at {text[pos:pos + 20]!r}")
            pos = m.end()
            if m.group(1):
                continue
            for kind, g in zip(("str", "int", "name", "punct"), m.groups()[1:]):
                if g is not None:
                    self.toks.append((kind, g))
        self.i = 0
        self.rules = {}
        while self.i < len(self.toks):
            name = self.expect("name")
            self.expect("punct", "=")
            self.rules[name] = self.type_()

    def peek(self, off=0):
        j = self.i + off
        return self.toks[j] if j < len(self.toks) else (None, None)

    def expect(self, kind, val=None):
        k, v = self.peek()
        if k != kind or (val is not None and v != val):
            raise ValueError(f"CDDL: expected {val or kind}, got {v!r}")
        self.i += 1
        return v

    def type_(self):
        alts = [self.type1()]
        while self.peek() == ("punct", "/"):
            self.i += 1
            alts.append(self.type1())
        return ("choice", alts) if len(alts) > 1 else alts[0]

    def type1(self):
        k, v = self.peek()
        self.i += 1
        if k == "str":
            return ("lit", v[1:-1])
        if k == "int":
            return ("lit", int(v))
        if k == "name":
            # a rule name not followed by '=' (that would start a rule)
            return ("ref", v)
        if v == "{":
            return ("map", self.entries("}", is_map=True))
        if v == "[":
            return ("array", self.entries("]", is_map=False))
        if v == "(":
            t = self.type_()
            self.expect("punct", ")")
            return t
        raise ValueError(f"CDDL: unexpected {v!r}")

    def occurrence(self):
        k, v = self.peek()
        if v == "?":
            self.i += 1
            return (0, 1)
        if v == "+":
            self.i += 1
            return (1, None)
        if v == "*":
            self.i += 1
            if self.peek()[0] == "int":
                return (0, int(self.expect("int")))
            return (0, None)
        if k == "int" and self.peek(1) == ("punct", "*"):
            lo = int(v)
            self.i += 2
            hi = int(self.expect("int")) if self.peek()[0] == "int" else None
            return (lo, hi)
        return (1, 1)

    def entries(self, close, is_map):
        out = []
        while self.peek() != ("punct", close):
            occ = self.occurrence()
            if is_map and self.peek()[0] == "str" and self.peek(1) == ("punct", ":"):
                key = ("lit", self.expect("str")[1:-1])
                self.i += 1
                val = self.type_()
            elif is_map:
                key = self.type1()
                self.expect("punct", "=>")
                val = self.type_()
            else:
                key, val = None, self.type_()
            out.append((occ, key, val))
            if self.peek() == ("punct", ","):
                self.i += 1
        self.i += 1
        return out

    # -- validation: raises AssertionError with a path on a mismatch --

    def validate(self, value, rule):
        self.check(value, ("ref", rule), rule)

    def matches(self, value, t, path):
        try:
            self.check(value, t, path)
            return True
        except AssertionError:
            return False

    def check(self, v, t, path):
        kind = t[0]
        if kind == "ref":
            name = t[1]
            if name in self.rules:
                return self.check(v, self.rules[name], f"{path}")
            if name not in PRELUDE:
                raise ValueError(f"CDDL: unknown type {name}")
            assert PRELUDE[name](v), f"{path}: {v!r} is not {name}"
        elif kind == "lit":
            assert type(v) is type(t[1]) and v == t[1], \
                f"{path}: {v!r} is not {t[1]!r}"
        elif kind == "choice":
            assert any(self.matches(v, a, path) for a in t[1]), \
                f"{path}: {v!r} matches none of the choices"
        elif kind == "map":
            self.check_map(v, t[1], path)
        elif kind == "array":
            self.check_array(v, t[1], path)

    def check_map(self, v, entries, path):
        assert isinstance(v, dict), f"{path}: not a map"
        left = dict(v)
        for (lo, hi), key, val in entries:
            if key[0] == "lit":
                if key[1] in left:
                    self.check(left.pop(key[1]), val, f"{path}.{key[1]}")
                else:
                    assert lo == 0, f"{path}: key {key[1]!r} missing"
                continue
            taken = [k for k in left if self.matches(k, key, path)]
            assert len(taken) >= lo and (hi is None or len(taken) <= hi), \
                f"{path}: {len(taken)} entries for a {lo}..{hi} group"
            for k in taken:
                self.check(left.pop(k), val, f"{path}.{k}")
        assert not left, f"{path}: unexpected keys {sorted(map(str, left))}"

    def check_array(self, v, entries, path):
        assert isinstance(v, list), f"{path}: not an array"
        i = 0
        for (lo, hi), _, val in entries:
            n = 0
            while i < len(v) and (hi is None or n < hi) and \
                    self.matches(v[i], val, f"{path}[{i}]"):
                i += 1
                n += 1
            assert n >= lo, f"{path}: {n} items, at least {lo} wanted"
        assert i == len(v), f"{path}[{i}]: does not match the array's type"


@pytest.fixture(scope="module")
def schema():
    return Cddl(CDDL.read_text())


# ------------------------------------------------------------- helpers --

def free_port():
    """A UDP port that is free on 127.0.0.1 and ::1 right now."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        try:
            with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s6:
                s6.bind(("::1", port))
            return port
        except OSError:
            continue
    raise AssertionError("no free UDP port")


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
def server(agent_factory, dev_config):
    """A running vigild with CoAP on a free port; returns (agent, port,
    config writer)."""
    def start(extra=""):
        port = free_port()
        cfg = dev_config(f"coap.listen = 127.0.0.1:{port},[::1]:{port}\n"
                         "device.name = before\n" + extra)
        a = agent_factory(["-c", str(cfg)])
        a.wait_for(f"listening on udp [::1]:{port}")
        a.wait_for("running")
        return a, port, cfg
    return start


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
