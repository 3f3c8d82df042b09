"""Amplification protection with verification (docs/coap.md,
"Amplification"), counted on the wire by a UDP proxy of our own:

- libcoap's coap-client-notls and coap-client-openssl (plain coap://) and
  node-coap 1.5.0 (npm `coap`, pinned in tests/interop/node-coap) read
  /status in at most 3 exchanges with the default coap.amplification =
  echo: the ping/RST round trip, then 1024-byte blocks;
- libcoap repeats a request that drew 4.01 + Echo (RFC 9175), shown by
  filling the pending table first;
- an Observe through Block2 by node-coap (which repeats Observe: 0 in
  every block request) takes one sequence number per notification;
- a spoofed-source style burst (many source ports, nobody answers the
  pings) draws at most 3x its bytes (or the 64-byte-block floor);
- coap.amplification is validated and reloadable."""
import json
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time

import pytest

from conftest import ROOT


@pytest.fixture
def server(coap_server):
    return coap_server

NOTLS = shutil.which("coap-client-notls") or "/usr/bin/coap-client-notls"
OPENSSL = shutil.which("coap-client-openssl") or "/usr/bin/coap-client-openssl"
NODE_DIR = ROOT / "tests/interop/node-coap"
FLOOR = 64 + 48          # COAP_SRV_AMP_FLOOR


def options(buf):
    """{number: [values]} of a CoAP message (strict enough for ours)."""
    tkl = buf[0] & 15
    p, num, out = 4 + tkl, 0, {}
    while p < len(buf) and buf[p] != 0xFF:
        d, n = buf[p] >> 4, buf[p] & 15
        p += 1
        vals = []
        for x in (d, n):
            if x == 13:
                x = buf[p] + 13
                p += 1
            elif x == 14:
                x = (buf[p] << 8 | buf[p + 1]) + 269
                p += 2
            vals.append(x)
        num += vals[0]
        out.setdefault(num, []).append(buf[p:p + vals[1]])
        p += vals[1]
    return out


class Proxy:
    """Relays datagrams between one client and the server at 127.0.0.1:
    port, recording each as (direction, bytes); 'c' client to server."""

    def __init__(self, port):
        self.down = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.down.bind(("127.0.0.1", 0))
        self.port = self.down.getsockname()[1]
        self.up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.up.connect(("127.0.0.1", port))
        self.log = []
        self.client = None
        self.stop = False
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while not self.stop:
            r, _, _ = select.select([self.down, self.up], [], [], 0.05)
            if self.down in r:
                buf, self.client = self.down.recvfrom(2048)
                self.log.append(("c", buf))
                self.up.send(buf)
            if self.up in r:
                buf = self.up.recv(2048)
                self.log.append(("s", buf))
                if self.client:
                    self.down.sendto(buf, self.client)

    def close(self):
        self.stop = True
        self.t.join()
        self.down.close()
        self.up.close()

    def count(self, d):
        return sum(1 for x, _ in self.log if x == d)

    def three_exchanges(self):
        """At most 3 datagrams from the client (requests, the RST), each
        drawing one answer; the server's only extra datagrams are its
        ping sent again (libcoap's client leaves one unanswered now and
        then: the RST then answers the repeat)."""
        pings = {b for d, b in self.log if d == "s" and len(b) == 4}
        answers = [b for d, b in self.log if d == "s" and len(b) > 4]
        assert self.count("c") <= 3, self.log
        assert len(answers) <= 3 and len(pings) <= 1, self.log


@pytest.fixture(scope="module")
def node_modules():
    """node-coap installed (once, cached outside git) by its script."""
    assert shutil.which("node"), "node missing (Debian: nodejs)"
    t0 = time.monotonic()
    p = subprocess.run([str(NODE_DIR / "install.sh")], capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    print(f"node-coap ready in {time.monotonic() - t0:.1f} s")
    return p.stdout.strip() + "/node_modules"


def node(node_modules, *args, timeout=20):
    env = dict(os.environ, NODE_PATH=node_modules)
    p = subprocess.run(["node", str(NODE_DIR / "client.js"), *args],
                       capture_output=True, text=True, timeout=timeout,
                       env=env)
    assert p.returncode == 0, p.stderr
    return [json.loads(line) for line in p.stdout.splitlines()]


def libcoap_get(client, url, out):
    p = subprocess.run([client, "-m", "get", "-B", "10", "-o", str(out), url],
                       capture_output=True, timeout=20)
    assert out.exists() and out.stat().st_size > 1024, p.stderr
    return out.read_bytes()


@pytest.mark.parametrize("client", [NOTLS, OPENSSL])
def test_libcoap_reads_status_in_three_exchanges(server, client, tmp_path):
    a, port, _ = server()
    px = Proxy(port)
    try:
        doc = libcoap_get(client, f"coap://127.0.0.1:{px.port}/status",
                          tmp_path / "s.cbor")
    finally:
        px.close()
    px.three_exchanges()
    # the first answer is the 4-byte ping; the blocks are 1024 bytes
    assert px.log[1][0] == "s" and len(px.log[1][1]) == 4
    assert px.log[1][1][0] >> 4 == 0x4 and px.log[1][1][1] == 0
    assert len(doc) > 1024
    blocks = [b for d, b in px.log if d == "s" and 23 in options(b)]
    assert blocks and blocks[0][0] >> 4 == 0x6   # ACK
    assert options(blocks[0])[23][0][-1] & 7 == 6


def test_node_coap_reads_status_in_three_exchanges(server, node_modules):
    a, port, _ = server()
    px = Proxy(port)
    try:
        res = node(node_modules, "get", f"coap://127.0.0.1:{px.port}/status")
    finally:
        px.close()
    assert res[0]["code"] == "2.05"
    assert len(bytes.fromhex(res[0]["hex"])) > 1024
    px.three_exchanges()


@pytest.mark.parametrize("client", [NOTLS, OPENSSL])
def test_node_coap_ignores_echo_libcoap_repeats(server, node_modules, tmp_path,
                                                client):
    """With the pending table full (4 silent sources), vigild answers 4.01
    with Echo: libcoap repeats with it and reads, node-coap does not."""
    a, port, _ = server()
    silent = []
    get = bytes([0x40, 1, 0, 0]) + bytes([0xB6]) + b"status"
    for i in range(4):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.sendto(get[:2] + struct.pack(">H", i) + get[4:], ("127.0.0.1", port))
        silent.append(s)
    for s in silent:                       # each got its ping
        s.settimeout(2)
        assert len(s.recv(2048)) == 4
    px = Proxy(port)
    try:
        doc = libcoap_get(client, f"coap://127.0.0.1:{px.port}/status",
                          tmp_path / "e.cbor")
    finally:
        px.close()
    first = px.log[1][1]
    assert first[1] == 0x81 and 252 in options(first), px.log  # 4.01+Echo
    echo = options(first)[252][0]
    assert options(px.log[2][1])[252] == [echo]   # repeated with it
    assert len(doc) > 1024
    px.three_exchanges()
    # node-coap hands the 4.01 to the application: fill the table anew
    # (new sources; the first ones were answered when their wait ended)
    for s in silent:                       # the limited answer at 1.5 s
        n = 4
        while n == 4:                      # pings again meanwhile
            n = len(s.recv(2048))
        assert n <= FLOOR
        s.close()
    silent = []
    for i in range(4):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(2)
        s.sendto(get[:2] + struct.pack(">H", 100 + i) + get[4:],
                 ("127.0.0.1", port))
        assert len(s.recv(2048)) == 4
        silent.append(s)
    res = node(node_modules, "get", f"coap://127.0.0.1:{port}/status")
    assert res[0]["code"] == "4.01"
    for s in silent:
        s.close()


def test_node_coap_observe_through_block2_one_number_each(server,
                                                         node_modules):
    a, port, cfg = server()
    px = Proxy(port)
    env = dict(os.environ, NODE_PATH=node_modules)
    p = subprocess.Popen(["node", str(NODE_DIR / "client.js"), "observe",
                          f"coap://127.0.0.1:{px.port}/status", "2"],
                         stdout=subprocess.PIPE, text=True, env=env)
    try:
        a.wait_for("observer 127.0.0.1")
        first = p.stdout.readline()
        assert json.loads(first)["len"] > 1024
        cfg.write_text(cfg.read_text().replace("device.name = before",
                                               "device.name = after"))
        a.signal(signal.SIGHUP)
        t0 = time.monotonic()
        second = json.loads(p.stdout.readline())
        assert second["len"] > 1024
        assert time.monotonic() - t0 < 10   # not node-coap's 128 s rule
        p.wait(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
        px.close()
    # one number per notification, not one per block (node-coap repeats
    # Observe: 0 in its block requests): later blocks repeat the number
    # of their block 0, and block-0 numbers rise by one
    firsts, blocks = [], 0
    for d, b in px.log:
        o = options(b)
        if d != "s" or 23 not in o:
            continue
        num = int.from_bytes(o[23][0], "big") >> 4
        seq = int.from_bytes(o[6][0], "big")
        if num == 0:
            firsts.append(seq)
        else:
            assert seq == firsts[-1], px.log
            blocks += 1
    assert len(firsts) >= 2 and blocks >= len(firsts) - 1
    assert firsts == list(range(firsts[0], firsts[0] + len(firsts)))
    again = [b for d, b in px.log if d == "c" and 23 in options(b)]
    assert again and all(6 in options(b) for b in again)


def test_spoofed_burst_gets_small_answers(server):
    a, port, _ = server()
    socks = []
    sent = got = 0
    get = bytes([0x50, 1, 0, 0]) + bytes([0xB6]) + b"status"
    for i in range(60):                    # 60 source ports, no RSTs
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setblocking(False)
        msg = get[:2] + struct.pack(">H", i) + get[4:]
        s.sendto(msg, ("127.0.0.1", port))
        sent += len(msg)
        socks.append(s)
    deadline = time.monotonic() + 3        # pings end after 1.5 s
    answers = 0
    while time.monotonic() < deadline:
        r, _, _ = select.select(socks, [], [], 0.2)
        for s in r:
            n = len(s.recv(2048))
            assert n <= FLOOR
            got += n
            answers += 1
    for s in socks:
        s.close()
    assert answers >= 60                   # everyone got something small
    assert got <= 3 * sent, (got, sent)


def test_amplification_key_validated_and_reloadable(server, agent_factory,
                                                    dev_config, tmp_path):
    bad = dev_config("coap.amplification = maybe\n", name="bad.conf")
    b = agent_factory(["-c", str(bad)])
    assert b.wait_exit() != 0
    assert any("coap.amplification" in line for line in b.lines)
    a, port, cfg = server("coap.amplification = limit\n")
    out = tmp_path / "l.cbor"
    px = Proxy(port)
    try:
        libcoap_get(NOTLS, f"coap://127.0.0.1:{px.port}/status", out)
    finally:
        px.close()
    assert px.count("c") > 10               # 64-byte blocks, no ping
    cfg.write_text(cfg.read_text().replace("coap.amplification = limit",
                                           "coap.amplification = off"))
    a.signal(signal.SIGHUP)
    a.wait_for("coap.amplification")
    px = Proxy(port)
    try:
        libcoap_get(NOTLS, f"coap://127.0.0.1:{px.port}/status", out)
    finally:
        px.close()
    assert px.count("c") == 2 and len(px.log[1][1]) > 1000
