"""vigilctl status/backup/probe: the CoAP client against real servers.

Three kinds of server:
- a scripted CoAP server in this file (raw UDP on 127.0.0.1, one thread,
  bounded), for client behaviour a real server will not show on demand:
  loss, RST, separate responses, Block2 edge cases, Observe reordering;
- libcoap's coap-server-notls (libcoap3-bin), an independent
  implementation;
- vigild itself (see test_vigild_* at the end).
"""
import os
import signal
import socket
import struct
import subprocess
import threading
import time

import cbor2
import pytest

from conftest import binary

CON, NON, ACK, RST = range(4)
GET, POST = 1, 2
OBSERVE, URI_PATH, CONTENT_FORMAT, MAX_AGE, ETAG = 6, 11, 12, 14, 4
URI_QUERY, BLOCK2, SIZE2 = 15, 23, 28


def code(c, dd):
    return c << 5 | dd


# ---- a minimal CoAP codec (RFC 7252 §3), independent of protocol/coap.c ----

def _ext(v):
    if v < 13:
        return v, b""
    if v < 269:
        return 13, bytes([v - 13])
    return 14, struct.pack(">H", v - 269)


def encode(t, c, mid, token=b"", opts=(), payload=b""):
    out = bytearray([0x40 | t << 4 | len(token), c]) + struct.pack(">H", mid) + token
    last = 0
    for num, val in sorted(opts, key=lambda o: o[0]):
        d, dx = _ext(num - last)
        n, nx = _ext(len(val))
        out += bytes([d << 4 | n]) + dx + nx + val
        last = num
    if payload:
        out += b"\xff" + payload
    return bytes(out)


def uint(v):
    return v.to_bytes((v.bit_length() + 7) // 8, "big")


def decode(b):
    t, tkl = b[0] >> 4 & 3, b[0] & 15
    m = {"type": t, "code": b[1], "mid": struct.unpack(">H", b[2:4])[0],
         "token": b[4:4 + tkl], "opts": [], "payload": b""}
    i, num = 4 + tkl, 0
    while i < len(b):
        if b[i] == 0xFF:
            m["payload"] = b[i + 1:]
            break
        d, n = b[i] >> 4, b[i] & 15
        i += 1
        vals = []
        for x in (d, n):
            if x == 13:
                vals.append(b[i] + 13)
                i += 1
            elif x == 14:
                vals.append(struct.unpack(">H", b[i:i + 2])[0] + 269)
                i += 2
            else:
                vals.append(x)
        num += vals[0]
        m["opts"].append((num, b[i:i + vals[1]]))
        i += vals[1]
    return m


def opt(m, num):
    return [v for n, v in m["opts"] if n == num]


def opt_uint(m, num):
    v = opt(m, num)
    return int.from_bytes(v[0], "big") if v else None


def path(m):
    return "/" + "/".join(v.decode() for v in opt(m, URI_PATH))


def block(v):
    n = int.from_bytes(v, "big")
    return n >> 4, bool(n & 8), n & 7


def block_opt(num, more, szx):
    return uint(num << 4 | (8 if more else 0) | szx)


def reply(req, c, opts=(), payload=b"", t=ACK):
    return encode(t, c, req["mid"], req["token"], opts, payload)


class Server:
    """Scripted CoAP server: handler(server, msg, addr) sends what it likes
    through server.send(); every datagram received is kept in .log."""

    def __init__(self, handler, family=socket.AF_INET, host="127.0.0.1"):
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.uri = f"coap://{host if family == socket.AF_INET else '[' + host + ']'}:{self.port}"
        self.handler, self.log, self.state = handler, [], {}
        self.stop_ev = threading.Event()
        self.errors = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def send(self, data, addr):
        self.sock.sendto(data, addr)

    def _run(self):
        while not self.stop_ev.is_set():
            try:
                data, addr = self.sock.recvfrom(70000)
            except socket.timeout:
                continue
            m = decode(data)
            self.log.append(m)
            try:
                self.handler(self, m, addr)
            except Exception as e:  # reported by close()
                self.errors.append(repr(e))

    def close(self):
        self.stop_ev.set()
        self.thread.join(2)
        self.sock.close()
        assert not self.errors, self.errors

    def requests(self):
        return [m for m in self.log if m["code"] != 0]


@pytest.fixture
def server():
    made = []

    def make(handler, **kw):
        s = Server(handler, **kw)
        made.append(s)
        return s
    yield make
    for s in made:
        s.close()


def run(args, timeout=30, **kw):
    return subprocess.run([str(binary("vigilctl"))] + args, capture_output=True,
                          timeout=timeout, **kw)


# Shaped like docs/status.cddl (abridged).
DOC = {"schema": 1, "time": 1795432440,
       "device": {"id": "appliance-7", "board": "host", "arch": "x86_64",
                  "firmware": {"version": "0.1.0", "build": "abc", "date": "2026-11-23"}},
       "uptime": {"agent": 273906, "system": 59},
       "boot": {"count": 12, "last_reset": "watchdog", "reason": "no kicks",
                "reset_time": 1763900000, "safe_mode": False},
       "health": {"overall": "degraded",
                  "checks": {"disk": {"state": "healthy", "result": "pass", "error": "",
                                      "since": 1795432400, "runs": 3},
                             "backup_link": {"state": "unhealthy", "result": "fail",
                                             "error": "timeout", "since": 1795432410,
                                             "runs": 12}}},
       "watchdog": {"device": None, "timeout": 30, "last_kick": None},
       "backup": {"state": "offline", "server": None, "last_error": None,
                  "jobs": [{"id": 7, "trace": "9f2c01d4a7b3e655", "state": "running",
                            "bytes": 5 << 20, "bytes_done": 512, "started": 1795432000}]},
       "conns": [],
       "system": {"load": [500, 250, 1125], "memory": {"total": 3 << 20, "available": 1000},
                  "temperature": -1500, "procs": 9},
       "network": {"interfaces": None, "coap": {"listen": ["127.0.0.1:5683", "[::1]:5683"]}}}
DOC_CBOR = cbor2.dumps(DOC)


TABLE = """\
schema                  1
time                    2026-11-23 11:14:00 UTC (1795432440)
device
  id                    appliance-7
  board                 host
  arch                  x86_64
  firmware
    version             0.1.0
    build               abc
    date                2026-11-23
uptime
  agent                 3d 04:05:06 (273906 s)
  system                0d 00:00:59 (59 s)
boot
  count                 12
  last_reset            watchdog
  reason                no kicks
  reset_time            2025-11-23 12:13:20 UTC (1763900000)
  safe_mode             false
health
  overall               degraded
  checks
                 state      result  error    since                runs
    disk         healthy    pass    -        2026-11-23 11:13:20  3
    backup_link  unhealthy  fail    timeout  2026-11-23 11:13:30  12
watchdog
  device                -
  timeout               30 s
  last_kick             -
backup
  state                 offline
  server                -
  last_error            -
  jobs
    id  trace             state    bytes    bytes_done  started
    7   9f2c01d4a7b3e655  running  5.0 MiB  512 B       2026-11-23 11:06:40
conns                   (none)
system
  load                  0.500, 0.250, 1.125
  memory
    total               3145728 (3.0 MiB)
    available           1000
  temperature           -1.500 °C
  procs                 9
network
  interfaces            -
  coap
    listen              127.0.0.1:5683, [::1]:5683
"""


def content(req, body=DOC_CBOR, cf=60, extra=()):
    return reply(req, code(2, 5), [(CONTENT_FORMAT, uint(cf))] + list(extra), body)


# ---- command line ----

def test_help_lists_commands_and_options():
    r = run(["--help"])
    assert r.returncode == 0
    for c in (b"status [OPTION]... URI", b"backup [OPTION]... URI now|cancel",
              b"probe [OPTION]... URI"):
        assert c in r.stdout
    r = run(["status", "--help"])
    assert r.returncode == 0 and r.stdout.startswith(b"Usage: vigilctl status")
    for o in (b"--observe", b"--json", b"--cbor", b"--timeout", b"--block-size",
              b"--psk-identity", b"Exit status"):
        assert o in r.stdout
    assert b"--reason TEXT" in run(["backup", "-h"]).stdout
    assert run(["probe", "--help"]).stdout.startswith(b"Usage: vigilctl probe")


@pytest.mark.parametrize("args,msg", [
    (["status"], "no URI given"),
    (["status", "http://x/"], "not a coap:// or coaps:// URI"),
    (["status", "coap://[::1/"], "missing ']'"),
    (["status", "coap://h:0/"], "bad port"),
    (["status", "coap://h:99999/"], "bad port"),
    (["status", "coap:///status"], "no host"),
    (["status", "coap://h/#frag"], "fragment"),
    (["status", "--json", "--cbor", "coap://h/"], "exclude each other"),
    (["status", "--count", "2", "coap://h/"], "--count needs --observe"),
    (["status", "--block-size", "100", "coap://h/"], "bad value '100'"),
    (["status", "--timeout", "0", "coap://h/"], "bad value '0'"),
    (["status", "--timeout"], "--timeout needs a value"),
    (["status", "--frob", "coap://h/"], "unknown option '--frob'"),
    (["status", "--psk-key", "k", "coap://h/"], "need a coaps:// URI"),
    (["status", "coaps://h/"], "coaps:// needs --psk-identity and --psk-key"),
    (["status", "coap://h/", "extra"], "unexpected argument 'extra'"),
    (["backup", "coap://127.0.0.1/"], "expected 'now'"),
    (["backup", "coap://127.0.0.1/", "later"], "expected 'now'"),
    (["backup", "coap://127.0.0.1/", "cancel"], "expected 'now'"),
    (["backup", "coap://127.0.0.1/", "cancel", "x7"], "job ID"),
    (["backup", "coap://127.0.0.1/", "now", "--reason", "r"], "--reason goes with cancel"),
    (["backup", "coap://127.0.0.1/", "cancel", "all", "--reason", "x" * 129], "bad value"),
    (["backup", "coap://127.0.0.1/backup", "now"], "names a path"),
    (["probe", "coap://127.0.0.1/", "now"], "unexpected argument 'now'"),
])
def test_usage_errors_exit_2(args, msg):
    r = run(args)
    assert r.returncode == 2, (args, r)
    assert msg in r.stderr.decode(), r.stderr
    assert b"--help" in r.stderr and r.stdout == b""


def test_coaps_needs_both_psk_options():
    for extra in ([], ["--psk-identity", "a"], ["--psk-key", "b"]):
        r = run(["status", "coaps://127.0.0.1/"] + extra)
        assert r.returncode == 2 and b"needs --psk-identity and --psk-key" in r.stderr
    r = run(["status", "coaps://127.0.0.1/", "--psk-identity", "a", "--psk-key", "k" * 65])
    assert r.returncode == 1 and b"1-64 bytes" in r.stderr


def test_unresolvable_host_fails():
    r = run(["status", "coap://no-such-host.invalid/"])
    assert r.returncode == 1 and b"no-such-host.invalid" in r.stderr


# ---- request/response basics against the scripted server ----

def test_table_json_and_cbor_output(server):
    s = server(lambda s, m, a: s.send(content(m), a))
    r = run(["status", s.uri])
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode() == TABLE
    req = s.requests()[0]
    assert req["type"] == CON and req["code"] == GET and path(req) == "/status"
    assert 1 <= len(req["token"]) <= 8
    r = run(["status", "--json", s.uri])
    assert r.returncode == 0 and r.stdout.endswith(b"\n")
    import json
    assert json.loads(r.stdout) == DOC
    r = run(["status", "--cbor", s.uri])
    assert r.returncode == 0 and r.stdout == DOC_CBOR
    # Each run uses fresh message ids and tokens.
    mids = {m["mid"] for m in s.requests()}
    toks = {m["token"] for m in s.requests()}
    assert len(mids) == 3 and len(toks) == 3


def test_uri_path_and_query_are_sent(server):
    s = server(lambda s, m, a: s.send(content(m), a))
    assert run(["status", s.uri + "/health?x=1&y=a%20b"]).returncode == 0
    req = s.requests()[0]
    assert path(req) == "/health"
    assert opt(req, URI_QUERY) == [b"x=1", b"y=a b"]


def test_text_payload_prints_as_text(server):
    s = server(lambda s, m, a: s.send(content(m, b"hello\x1b[2Jworld", cf=0), a))
    r = run(["status", s.uri])
    assert r.returncode == 0 and r.stdout == b"hello?[2Jworld\n"
    r = run(["status", "--json", s.uri])
    assert r.returncode == 1 and b"not CBOR (Content-Format 0)" in r.stderr


def test_malformed_cbor_is_an_error_and_prints_nothing(server):
    s = server(lambda s, m, a: s.send(content(m, b"\xa2\x61a"), a))
    r = run(["status", s.uri])
    assert r.returncode == 1 and r.stdout == b""
    assert b"not well-formed CBOR" in r.stderr


@pytest.mark.parametrize("c,text", [((4, 4), "4.04 Not Found"), ((4, 1), "4.01 Unauthorized"),
                                    ((5, 3), "5.03 Service Unavailable"), ((4, 30), "4.30")])
def test_error_codes_print_code_and_diagnostic(server, c, text):
    s = server(lambda s, m, a: s.send(reply(m, code(*c), payload=b"no such resource"), a))
    r = run(["status", s.uri])
    assert r.returncode == 1 and r.stdout == b""
    assert r.stderr.decode() == f"vigilctl: status: {s.uri}: {text}: no such resource\n"


def test_cbor_diagnostic_payload_prints_as_diag(server):
    body = cbor2.dumps({"error": "bad body", "at": 3})
    s = server(lambda s, m, a: s.send(reply(m, code(4, 0), [(CONTENT_FORMAT, uint(60))], body), a))
    r = run(["status", s.uri])
    assert r.returncode == 1
    assert r.stderr.decode().endswith('4.00 Bad Request: {"error": "bad body", "at": 3}\n')


def test_reset_exits_4(server):
    s = server(lambda s, m, a: s.send(encode(RST, 0, m["mid"]), a))
    r = run(["status", s.uri])
    assert r.returncode == 4
    assert b"Reset" in r.stderr


def test_rst_with_other_mid_is_ignored(server):
    def h(s, m, a):
        s.send(encode(RST, 0, (m["mid"] + 1) & 0xFFFF), a)
        s.send(reply(m, code(2, 5), [(CONTENT_FORMAT, b"\x3c")], cbor2.dumps(1)), a)
    s = server(h)
    r = run(["status", s.uri])
    assert r.returncode == 0 and r.stdout == b"1\n"


def test_timeout_retransmits_per_rfc_then_exits_3(server):
    s = server(lambda s, m, a: None)
    t0 = time.monotonic()
    r = run(["status", "--ack-timeout", "0.1", "--timeout", "3", s.uri])
    took = time.monotonic() - t0
    assert r.returncode == 3
    assert b"no response" in r.stderr and b"5 transmission(s)" in r.stderr
    # 1 + MAX_RETRANSMIT(4), all the same message, then silence until 3 s.
    assert len(s.log) == 5
    assert len({(m["mid"], m["token"]) for m in s.log}) == 1
    assert 2.9 < took < 5


def test_retransmission_timing(server):
    times = []
    s = server(lambda s, m, a: times.append(time.monotonic()))
    run(["status", "--ack-timeout", "0.2", "--timeout", "5", s.uri])
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert len(gaps) == 4
    # initial timeout in [0.2, 0.3] s, doubling each time
    # (bounds leave room for a loaded machine's late wake-ups)
    assert 0.19 < gaps[0] < 0.6, gaps
    for a, b in zip(gaps, gaps[1:]):
        assert 1.5 < b / a < 3.0, gaps


def test_short_timeout_bounds_total_time(server):
    s = server(lambda s, m, a: None)
    t0 = time.monotonic()
    r = run(["status", "--timeout", "0.5", s.uri])
    assert r.returncode == 3 and time.monotonic() - t0 < 2
    assert len(s.log) == 1


def test_lost_request_is_retransmitted(server):
    def h(s, m, a):
        if len(s.log) > 1:          # drop the first transmission
            s.send(content(m), a)
    s = server(h)
    r = run(["status", "--ack-timeout", "0.2", "--json", s.uri])
    assert r.returncode == 0, r.stderr
    assert len(s.log) == 2 and s.log[0]["mid"] == s.log[1]["mid"]


def test_closed_port_times_out(server):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()                    # ICMP port unreachable on every send
    r = run(["status", "--ack-timeout", "0.1", "--timeout", "1", f"coap://127.0.0.1:{port}/"])
    assert r.returncode == 3, r.stderr


def test_separate_response_is_acked(server):
    def h(s, m, a):
        if m["code"] == GET:
            s.send(encode(ACK, 0, m["mid"]), a)          # empty ACK first
            time.sleep(0.3)
            s.state["mid"] = 0x4242
            s.send(encode(CON, code(2, 5), 0x4242, m["token"],
                          [(CONTENT_FORMAT, uint(60))], DOC_CBOR), a)
    s = server(h)
    r = run(["status", "--cbor", "--ack-timeout", "0.1", s.uri])
    assert r.returncode == 0 and r.stdout == DOC_CBOR
    time.sleep(0.1)
    acks = [m for m in s.log if m["type"] == ACK]
    assert [(a["code"], a["mid"]) for a in acks] == [(0, 0x4242)]
    # The empty ACK stopped the retransmissions (0.3 s > 0.1-0.15 s).
    assert len(s.requests()) == 1


def test_separate_non_response_and_foreign_messages(server):
    def h(s, m, a):
        if m["code"] == GET:
            s.send(encode(ACK, 0, m["mid"]), a)
            s.send(encode(CON, code(2, 5), 0x1111, b"other", [], b"x"), a)  # not ours
            s.send(encode(NON, code(2, 5), 0x2222, m["token"],
                          [(CONTENT_FORMAT, uint(60))], cbor2.dumps("ok")), a)
    s = server(h)
    r = run(["status", s.uri])
    assert r.returncode == 0 and r.stdout == b"ok\n"
    time.sleep(0.1)
    rst = [m for m in s.log if m["type"] == RST]
    assert [m["mid"] for m in rst] == [0x1111]


def test_separate_response_that_never_comes_times_out(server):
    s = server(lambda s, m, a: s.send(encode(ACK, 0, m["mid"]), a))
    r = run(["status", "--ack-timeout", "0.1", "--timeout", "1", s.uri])
    assert r.returncode == 3
    assert len(s.log) == 1      # acknowledged: never retransmitted


def test_malformed_datagrams_are_survived(server):
    def h(s, m, a):
        for junk in (b"\x40", b"\x80\x45\x00\x01", b"\x49\x45" + struct.pack(">H", m["mid"]),
                     encode(ACK, code(2, 5), m["mid"], b"zz")):
            s.send(junk, a)
        s.send(content(m, cbor2.dumps("fine")), a)
    s = server(h)
    r = run(["status", s.uri])
    assert r.returncode == 0 and r.stdout == b"fine\n"


def test_ipv6_literal(server):
    if not socket.has_ipv6:
        pytest.fail("no IPv6 on loopback")
    s = server(lambda s, m, a: s.send(content(m), a), family=socket.AF_INET6, host="::1")
    r = run(["status", "--cbor", s.uri + "/status"])
    assert r.returncode == 0 and r.stdout == DOC_CBOR


# ---- Block2 ----

def block_server(doc, szx_default=2, etag_of=lambda s: b"\x01", size2=False):
    def h(s, m, a):
        b2 = opt(m, BLOCK2)
        num, _, szx = block(b2[0]) if b2 else (0, False, szx_default)
        szx = min(szx, szx_default)
        size = 16 << szx
        piece = doc[num * size:(num + 1) * size]
        more = (num + 1) * size < len(doc)
        opts = [(CONTENT_FORMAT, uint(60)), (BLOCK2, block_opt(num, more, szx)),
                (ETAG, etag_of(s))]
        if size2 and num == 0:
            opts.append((SIZE2, uint(len(doc))))
        s.send(reply(m, code(2, 5), opts, piece), a)
    return h


def test_block2_reassembly(server):
    doc = cbor2.dumps({"blob": bytes(range(256)) * 12, "n": 1})
    s = server(block_server(doc))
    r = run(["status", "--cbor", s.uri])
    assert r.returncode == 0, r.stderr
    assert r.stdout == doc
    reqs = s.requests()
    assert len(reqs) == (len(doc) + 63) // 64
    assert [block(opt(m, BLOCK2)[0])[0] for m in reqs[1:]] == list(range(1, len(reqs)))
    assert len({m["token"] for m in reqs}) == len(reqs)


def test_block2_early_negotiation(server):
    doc = cbor2.dumps(list(range(100)))
    s = server(block_server(doc, szx_default=6))
    r = run(["status", "--cbor", "--block-size", "32", s.uri])
    assert r.returncode == 0 and r.stdout == doc
    assert all(block(opt(m, BLOCK2)[0])[2] == 1 for m in s.requests())
    assert block(opt(s.requests()[0], BLOCK2)[0])[0] == 0


def test_block2_server_lowers_block_size(server):
    doc = cbor2.dumps("y" * 700)
    s = server(block_server(doc, szx_default=3))      # 128-byte blocks
    r = run(["status", "--cbor", "--block-size", "1024", s.uri])
    assert r.returncode == 0 and r.stdout == doc


def test_block2_over_64k_is_refused(server):
    doc = b"\x5a" + struct.pack(">I", 70000) + b"\0" * 70000
    s = server(block_server(doc, szx_default=6))
    r = run(["status", "--cbor", s.uri])
    assert r.returncode == 1 and b"larger than 65536 bytes" in r.stderr
    assert r.stdout == b""
    # Without Size2 the client stops when the buffer is full (64 blocks).
    assert len(s.requests()) == 65
    s2 = server(block_server(doc, szx_default=6, size2=True))
    r = run(["status", "--cbor", s2.uri])
    assert r.returncode == 1 and len(s2.requests()) == 1


def test_block2_restarts_when_etag_changes(server):
    doc = cbor2.dumps("z" * 300)

    def etag(s):
        s.state["n"] = s.state.get("n", 0) + 1
        return b"\x01" if s.state["n"] != 3 else b"\x02"  # block 2 changed once
    s = server(block_server(doc, etag_of=etag))
    r = run(["status", "--cbor", s.uri])
    assert r.returncode == 0 and r.stdout == doc
    nums = [block(opt(m, BLOCK2)[0])[0] if opt(m, BLOCK2) else 0 for m in s.requests()]
    assert nums[:4] == [0, 1, 2, 0]


def test_block2_etag_always_changing_gives_up(server):
    doc = cbor2.dumps("z" * 300)

    def etag(s):
        s.state["n"] = s.state.get("n", 0) + 1
        return bytes([s.state["n"] & 0xFF])
    s = server(block_server(doc, etag_of=etag))
    r = run(["status", "--cbor", s.uri])
    assert r.returncode == 1 and b"kept changing" in r.stderr


def test_block2_out_of_order_block_is_an_error(server):
    def h(s, m, a):
        b2 = opt(m, BLOCK2)
        num = block(b2[0])[0] if b2 else 0
        s.send(reply(m, code(2, 5), [(CONTENT_FORMAT, uint(60)),
                                     (BLOCK2, block_opt(num + 1 if num else 0, True, 0))],
                     b"\x01" * 16), a)
    s = server(h)
    r = run(["status", s.uri])
    assert r.returncode == 1 and b"Block2" in r.stderr


# ---- Observe ----

def observe_handler(seqs, max_age=60, doc=lambda i: cbor2.dumps({"n": i})):
    """Registration answered with seqs[0]; each later entry (seq, type) is
    sent as a notification; deregistration answered plainly."""
    def h(s, m, a):
        if m["code"] != GET:
            return
        if opt_uint(m, OBSERVE) == 1:
            s.state["dereg"] = m
            s.send(content(m, doc(-1)), a)
            return
        s.state["token"] = m["token"]
        s.send(content(m, doc(0), extra=[(OBSERVE, uint(seqs[0])), (MAX_AGE, uint(max_age))]), a)
        for i, (seq, t) in enumerate(seqs[1:], 1):
            time.sleep(0.05)
            s.send(encode(t, code(2, 5), 0x7000 + i, m["token"],
                          [(CONTENT_FORMAT, uint(60)), (OBSERVE, uint(seq)),
                           (MAX_AGE, uint(max_age))], doc(i)), a)
    return h


def test_observe_orders_acks_and_deregisters(server):
    # seq 7 (CON), 6 (stale: dropped), 7 again (duplicate), 9 (NON)
    s = server(observe_handler([5, (7, CON), (6, NON), (7, CON), (9, NON)]))
    r = run(["status", "--observe", "--count", "3", "--json", s.uri], timeout=10)
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().splitlines() == ['{"n": 0}', '{"n": 1}', '{"n": 4}']
    time.sleep(0.2)
    acked = sorted(m["mid"] for m in s.log if m["type"] == ACK)
    assert acked == [0x7001, 0x7003]
    reg = s.requests()[0]
    assert opt_uint(reg, OBSERVE) == 0 and path(reg) == "/status"
    dereg = s.state["dereg"]
    assert dereg["token"] == reg["token"] and opt_uint(dereg, OBSERVE) == 1


def test_observe_table_marks_each_document(server):
    s = server(observe_handler([1, (2, NON)]))
    r = run(["status", "--observe", "--count", "2", s.uri], timeout=10)
    assert r.returncode == 0
    assert r.stdout.decode() == "# Observe 1\nn                       0\n# Observe 2\nn                       1\n"


def test_observe_sequence_wraps(server):
    s = server(observe_handler([0xFFFFFE, (0xFFFFFF, NON), (3, NON), (0xFFFFF0, NON), (4, NON)]))
    r = run(["status", "--observe", "--count", "4", "--json", s.uri], timeout=10)
    assert r.returncode == 0
    assert r.stdout.decode().splitlines() == ['{"n": 0}', '{"n": 1}', '{"n": 2}', '{"n": 4}']


def test_observe_ctrl_c_deregisters(server):
    s = server(observe_handler([1]))
    p = subprocess.Popen([str(binary("vigilctl")), "status", "--observe", "--json", s.uri],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 5
        while not s.requests() and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.2)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=5)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 0, err
    assert out == b'{"n": 0}\n'
    assert opt_uint(s.state["dereg"], OBSERVE) == 1


def test_observe_reregisters_after_max_age(server):
    s = server(observe_handler([1], max_age=1))
    t0 = time.monotonic()
    r = run(["status", "--observe", "--count", "2", "--json", s.uri], timeout=15)
    assert r.returncode == 0
    regs = [m for m in s.requests() if opt_uint(m, OBSERVE) == 0]
    assert len(regs) == 2 and regs[0]["token"] == regs[1]["token"]
    assert 1.0 < time.monotonic() - t0 < 10


def test_observe_refuses_foreign_notifications(server):
    def h(s, m, a):
        if m["code"] != GET or opt_uint(m, OBSERVE) != 0:
            return
        # one during the registration exchange, one while observing
        s.send(encode(CON, code(2, 5), 0x5150, b"\x99\x98", [(OBSERVE, b"\x05")], b"x"), a)
        s.send(content(m, cbor2.dumps(0), extra=[(OBSERVE, b"\x01")]), a)
        time.sleep(0.05)
        s.send(encode(CON, code(2, 5), 0x5151, b"\x99\x98", [(OBSERVE, b"\x06")], b"x"), a)
        time.sleep(0.05)
        s.send(encode(NON, code(2, 5), 0x5152, m["token"], [(OBSERVE, b"\x02"),
                                                          (CONTENT_FORMAT, b"\x3c")],
                      cbor2.dumps(1)), a)
    s = server(h)
    r = run(["status", "--observe", "--count", "2", "--json", s.uri], timeout=15)
    assert r.returncode == 0 and r.stdout == b"0\n1\n"
    time.sleep(0.1)
    assert [m["mid"] for m in s.log if m["type"] == RST] == [0x5150, 0x5151]


def test_observe_not_offered(server):
    s = server(lambda s, m, a: s.send(content(m, cbor2.dumps(1)), a))
    r = run(["status", "--observe", "--json", s.uri])
    assert r.returncode == 1 and r.stdout == b"1\n"
    assert b"does not offer Observe" in r.stderr


def test_observe_ended_by_error_notification(server):
    def h(s, m, a):
        observe_handler([1])(s, m, a)
        if opt_uint(m, OBSERVE) == 0:
            time.sleep(0.05)
            s.send(encode(CON, code(4, 4), 0x6001, m["token"], [], b"gone"), a)
    s = server(h)
    r = run(["status", "--observe", "--json", s.uri], timeout=10)
    assert r.returncode == 1
    assert b"4.04 Not Found: gone" in r.stderr and r.stdout == b'{"n": 0}\n'


def test_observe_block2_notification(server):
    big = lambda i: cbor2.dumps({"n": i, "pad": "p" * 200})

    def h(s, m, a):
        if m["code"] != GET:
            return
        b2 = opt(m, BLOCK2)
        num = block(b2[0])[0] if b2 else 0
        i = 1 if (s.state.get("notified") and opt_uint(m, OBSERVE) is None) else 0
        doc = big(i)
        more = (num + 1) * 64 < len(doc)
        opts = [(CONTENT_FORMAT, uint(60)), (BLOCK2, block_opt(num, more, 2)), (ETAG, bytes([i + 1]))]
        if opt_uint(m, OBSERVE) == 0:
            opts.append((OBSERVE, b"\x01"))
        s.send(reply(m, code(2, 5), opts, doc[num * 64:(num + 1) * 64]), a)
        if opt_uint(m, OBSERVE) == 0:
            s.state["tok"] = m["token"]
        elif not s.state.get("notified") and not more:
            s.state["notified"] = True
            d = big(1)
            s.send(encode(NON, code(2, 5), 0x3000, s.state["tok"],
                          [(OBSERVE, b"\x02"), (CONTENT_FORMAT, uint(60)),
                           (BLOCK2, block_opt(0, True, 2)), (ETAG, b"\x02")], d[:64]), a)
    s = server(h)
    r = run(["status", "--observe", "--count", "2", "--cbor", s.uri], timeout=10)
    assert r.returncode == 0, r.stderr
    assert r.stdout == big(0) + big(1)


# ---- backup and probe ----

def post_handler(s, m, a):
    if m["code"] == POST:
        body = cbor2.dumps({"job": 7, "state": "queued"}) if path(m) == "/backup" else b""
        s.send(reply(m, code(2, 4), [(CONTENT_FORMAT, uint(60))] if body else [], body), a)


def test_backup_now_and_cancel_bodies(server):
    s = server(post_handler)
    r = run(["backup", s.uri, "now"])
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"job                     7\nstate                   queued\n"
    r = run(["backup", s.uri + "/", "cancel", "7", "--reason", "disk full"])
    assert r.returncode == 0 and r.stdout == b"2.04 Changed\n"
    r = run(["backup", "--json", s.uri, "cancel", "all"])
    assert r.returncode == 0 and r.stdout == b""
    reqs = s.requests()
    assert [(path(m), m["code"]) for m in reqs] == [("/backup", POST), ("/backup/cancel", POST),
                                                    ("/backup/cancel", POST)]
    assert reqs[0]["payload"] == b"" and reqs[0]["type"] == CON
    assert opt_uint(reqs[1], CONTENT_FORMAT) == 60
    assert cbor2.loads(reqs[1]["payload"]) == {"job": 7, "reason": "disk full"}
    assert cbor2.loads(reqs[2]["payload"]) == {"job": "all"}


def test_backup_refused_prints_reason(server):
    s = server(lambda s, m, a: s.send(reply(m, code(4, 1), payload=b"control needs DTLS-PSK"), a))
    r = run(["backup", s.uri, "now"])
    assert r.returncode == 1
    assert b"4.01 Unauthorized: control needs DTLS-PSK" in r.stderr


def test_probe(server):
    body = cbor2.dumps({"ok": True, "ms": 12})
    s = server(lambda s, m, a: s.send(reply(m, code(2, 5), [(CONTENT_FORMAT, uint(60))], body), a))
    r = run(["probe", "--json", s.uri])
    assert r.returncode == 0 and r.stdout == b'{"ok": true, "ms": 12}\n'
    assert path(s.requests()[0]) == "/probe" and s.requests()[0]["code"] == POST


# ---- libcoap's coap-server-notls as an independent server ----

def free_udp_port():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


@pytest.fixture
def libcoap():
    exe = "/usr/bin/coap-server-notls"
    if not os.path.exists(exe):
        pytest.fail("coap-server-notls missing (apt-get install libcoap3-bin)")
    port = free_udp_port()
    p = subprocess.Popen([exe, "-A", "::", "-p", str(port)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    uri = f"coap://127.0.0.1:{port}"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if run(["status", "--timeout", "0.3", uri + "/.well-known/core"]).returncode == 0:
            break
    yield uri, port
    p.terminate()
    p.wait(5)


def test_libcoap_well_known_core(libcoap):
    uri, port = libcoap
    r = run(["status", uri + "/.well-known/core"])
    assert r.returncode == 0, r.stderr
    assert b'</time>;if="clock";rt="ticks"' in r.stdout
    r = run(["status", f"coap://[::1]:{port}/.well-known/core"])
    assert r.returncode == 0 and b"</time>" in r.stdout


def test_libcoap_not_found(libcoap):
    uri, _ = libcoap
    r = run(["status", uri + "/nothing-here"])
    assert r.returncode == 1 and b"4.04 Not Found" in r.stderr
    r = run(["probe", uri])     # libcoap has no /probe
    assert r.returncode == 1 and b"4.04 Not Found" in r.stderr


def test_libcoap_observe_time(libcoap):
    uri, _ = libcoap
    r = run(["status", "--observe", "--count", "2", uri + "/time"], timeout=15)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.decode().splitlines()
    assert len(lines) == 4 and lines[0].startswith("# Observe ") and lines[2].startswith("# Observe ")
    assert int(lines[2].split()[2]) > int(lines[0].split()[2])


# ---- the real vigild ----

def vigild_doc_ok(doc):
    """The top-level shape of docs/status.cddl (test_coap_* of the server
    validate the whole schema; here: what the table relies on)."""
    assert set(doc) == {"schema", "time", "device", "uptime", "boot", "health", "watchdog",
                        "backup", "conns", "system", "network", "metrics"}, set(doc)
    assert doc["schema"] == 1
    assert doc["health"]["overall"] in ("starting", "healthy", "degraded", "unhealthy")
    assert isinstance(doc["health"]["checks"], dict) and doc["health"]["checks"]


@pytest.fixture
def vigild(agent_factory, dev_config):
    def start(extra=""):
        port = free_udp_port()
        conf = dev_config(f"coap.listen = 127.0.0.1:{port},[::1]:{port}\n" + extra)
        a = agent_factory(["--config", str(conf)])
        a.wait_for(f"listening on udp 127.0.0.1:{port}")
        return a, f"coap://127.0.0.1:{port}", port
    return start


def test_vigild_status_table_json_cbor(vigild):
    a, uri, port = vigild()
    r = run(["status", uri])
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    for line in ("schema                  1\n", "device\n  id ", "uptime\n  agent ", "boot\n",
                 "health\n  overall ", "watchdog\n", "backup\n  state                 offline\n",
                 "system\n  load ", "network\n"):
        assert line in out, line
    # checks as a grid: a header row, then one row per check
    assert "\n  checks\n" in out and "    liveness " in out and " state " in out
    r = run(["status", "--json", f"coap://[::1]:{port}/status"])
    assert r.returncode == 0, r.stderr
    import json
    doc = json.loads(r.stdout)
    vigild_doc_ok(doc)
    assert doc["network"]["coap"]["listen"] == [f"127.0.0.1:{port}", f"[::1]:{port}"]
    r = run(["status", "--cbor", "--block-size", "64", uri])
    assert r.returncode == 0
    doc2 = cbor2.loads(r.stdout)
    vigild_doc_ok(doc2)
    assert doc2["device"] == doc["device"] and doc2["health"]["checks"].keys() == doc["health"]["checks"].keys()
    assert len(r.stdout) > 1024        # really block-wise
    assert a.proc.poll() is None


def test_vigild_parts_core_and_errors(vigild):
    a, uri, _ = vigild()
    r = run(["status", "--json", uri + "/health"])
    assert r.returncode == 0 and "overall" in cbor2.loads(run(["status", "--cbor", uri + "/health"]).stdout)
    r = run(["status", uri + "/.well-known/core"])
    assert r.returncode == 0 and b'</status>;rt="vigil.status";ct=60;obs' in r.stdout
    r = run(["status", uri + "/nothing"])
    assert r.returncode == 1 and b": 4.04 Not Found" in r.stderr
    r = run(["status", uri + "/probe"])      # POST only
    assert r.returncode == 1 and b": 4.05 Method Not Allowed" in r.stderr


def test_vigild_control_needs_authorisation(vigild):
    a, uri, _ = vigild()
    for args in (["backup", uri, "now"], ["backup", uri, "cancel", "all"], ["probe", uri]):
        r = run(args)
        assert r.returncode == 1 and b"4.01 Unauthorized" in r.stderr, (args, r.stderr)


def test_vigild_open_control(vigild):
    a, uri, _ = vigild("coap.open_control = true\n")
    r = run(["backup", uri, "cancel", "all", "--reason", "test"])
    assert r.returncode == 0, r.stderr
    r = run(["backup", uri, "cancel", "7"])
    assert r.returncode == 1 and b"4.04 Not Found: no such job" in r.stderr
    r = run(["backup", uri, "now"])     # no backup client in vigild yet
    assert r.returncode == 1 and b"5.01 Not Implemented" in r.stderr
    r = run(["probe", uri])             # no backup.server
    assert r.returncode == 1 and b"5.01 Not Implemented" in r.stderr
    assert b"no backup.server configured" in r.stderr


def test_vigild_probe_reachable_and_refused(vigild):
    """vigild makes one connection attempt to backup.server and answers
    {"reachable", "latency_ms", "error"} (2.04) when it ends."""
    import json
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(4)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))       # bound, not listening: refused
    try:
        for sock, reachable, error in ((lst, True, ""),
                                       (closed, False, "Connection refused")):
            a, uri, _ = vigild("coap.open_control = true\nbackup.server = "
                               f"tcp://127.0.0.1:{sock.getsockname()[1]}\n")
            r = run(["probe", "--json", uri])
            assert r.returncode == 0, r.stderr
            doc = json.loads(r.stdout)
            assert doc["reachable"] is reachable and doc["error"] == error
            assert isinstance(doc["latency_ms"], int) and doc["latency_ms"] < 500
            a.stop()
    finally:
        lst.close()
        closed.close()


def test_vigild_observe_notifies_on_reload(vigild):
    a, uri, _ = vigild()
    p = subprocess.Popen([str(binary("vigilctl")), "status", "--observe", "--count", "2",
                          "--json", uri], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        first = p.stdout.readline()
        assert first, p.stderr.read()
        a.signal(signal.SIGHUP)       # a reload is a change of the document
        out, err = p.communicate(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 0, err
    import json
    docs = [json.loads(first)] + [json.loads(x) for x in out.splitlines()]
    assert len(docs) == 2
    for d in docs:
        vigild_doc_ok(d)
    # the observer was deregistered on exit (the server re-renders its
    # snapshot of the document at most once a second)
    deadline = time.monotonic() + 3
    while True:
        doc = json.loads(run(["status", "--json", uri]).stdout)
        if doc["network"]["coap"]["observers"] == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert doc["network"]["coap"]["observers"] == 0


# ---- DTLS-PSK against libcoap's OpenSSL server (vigild's is not built yet) ----

@pytest.fixture
def libcoap_dtls():
    exe = "/usr/bin/coap-server-openssl"
    if not os.path.exists(exe):
        pytest.fail("coap-server-openssl missing (apt-get install libcoap3-bin)")
    port = free_udp_port()
    while port == 65535:
        port = free_udp_port()
    p = subprocess.Popen([exe, "-A", "127.0.0.1", "-p", str(port), "-k", "sesame"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    uri = f"coaps://127.0.0.1:{port + 1}"
    psk = ["--psk-identity", "vigil-test", "--psk-key", "sesame"]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if run(["status", "--timeout", "0.5"] + psk + [uri + "/.well-known/core"]).returncode == 0:
            break
    yield uri, psk
    p.terminate()
    p.wait(5)


def test_dtls_psk_get_and_observe(libcoap_dtls):
    uri, psk = libcoap_dtls
    r = run(["status"] + psk + [uri + "/.well-known/core"])
    assert r.returncode == 0, r.stderr
    assert b'</time>;if="clock"' in r.stdout
    r = run(["status", "--observe", "--count", "2"] + psk + [uri + "/time"], timeout=15)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count(b"# Observe ") == 2
    r = run(["probe"] + psk + [uri])
    assert r.returncode == 1 and b"4.04 Not Found" in r.stderr


def test_dtls_wrong_key_fails_bounded(libcoap_dtls):
    uri, _ = libcoap_dtls
    t0 = time.monotonic()
    r = run(["status", "--timeout", "2", "--psk-identity", "vigil-test", "--psk-key", "wrong",
             uri + "/.well-known/core"])
    assert r.returncode in (1, 3), r
    assert b"DTLS handshake" in r.stderr and r.stdout == b""
    assert time.monotonic() - t0 < 6


def test_dtls_no_server_times_out():
    port = free_udp_port()
    r = run(["status", "--timeout", "1", "--psk-identity", "a", "--psk-key", "b",
             f"coaps://127.0.0.1:{port}/"])
    assert r.returncode == 3 and b"DTLS handshake did not complete" in r.stderr
