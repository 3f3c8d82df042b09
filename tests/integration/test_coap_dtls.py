"""vigild's CoAP server over DTLS 1.2 with a pre-shared key (coap.dtls_listen,
coap.psk) against libcoap's coap-client-openssl and vigilctl: GET /status
decodes and validates, POST /reload is allowed for a known identity and
refused without DTLS, a wrong key or identity fails the handshake with
nothing executed, keys change on reload without being logged, and a burst
of garbage at the DTLS port leaves the server answering."""
import json
import os
import shutil
import signal
import socket
import subprocess
import time

import cbor2
import pytest

from conftest import TIME_SCALE, binary
from cddl import CDDL, Cddl
from netutil import free_port

CLIENT = shutil.which("coap-client-openssl") or "/usr/bin/coap-client-openssl"
PLAIN = shutil.which("coap-client-notls") or "/usr/bin/coap-client-notls"
ID, KEY = "ops", "secretkey123"           # coap-client -k takes the bytes
KEY_HEX = KEY.encode().hex()
OTHER_KEY = "another-key-456"


def coaps(url, *args, method="get", ident=ID, key=KEY, timeout=20):
    """Runs coap-client-openssl; returns (stdout bytes, stderr text)."""
    p = subprocess.run([CLIENT, "-m", method, "-B", "5", "-u", ident,
                        "-k", key, *args, url], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    return p.stdout, p.stderr.decode(errors="replace")


def count(agent, text, settle=0.3):
    """Log lines containing text once the agent has been quiet a moment."""
    end = time.monotonic() + settle
    while time.monotonic() < end:
        agent._read_some(0.05)
    return sum(text in line for line in agent.lines)


@pytest.fixture
def server(agent_factory, dev_config):
    """vigild with plain CoAP on one free port and DTLS on another;
    returns (agent, plain port, dtls port, config path)."""
    def start(extra="", psk=f"{ID}:{KEY_HEX}"):
        port, dport = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM)
        cfg = dev_config(f"coap.listen = 127.0.0.1:{port}\n"
                         f"coap.dtls_listen = 127.0.0.1:{dport},"
                         f"[::1]:{dport}\n"
                         f"coap.psk = {psk}\n" + extra)
        a = agent_factory(["-c", str(cfg)])
        a.wait_for(f"listening on dtls [::1]:{dport}")
        a.wait_for("running")
        return a, port, dport, cfg
    return start


def test_get_status_over_dtls(server, tmp_path):
    a, _, dport, _ = server()
    out = tmp_path / "status.cbor"
    for host in ("127.0.0.1", "[::1]"):
        _, err = coaps(f"coaps://{host}:{dport}/status", "-o", str(out))
        assert out.exists() and out.stat().st_size > 0, err
        doc = cbor2.loads(out.read_bytes())
        Cddl(CDDL.read_text()).validate(doc, "status")
        assert doc["network"]["coap"]["dtls"] is True
        out.unlink()
    line = a.wait_for("dtls: session with 127.0.0.1")
    assert f"identity `{ID}`" in line and "TLS-PSK-WITH-AES-128" in line
    # over DTLS there is no amplification cut: the document comes whole
    # (the 1.5 KiB document needs Block2 only for its size)
    _, err = coaps(f"coaps://127.0.0.1:{dport}/health", "-o", str(out))
    assert "overall" in cbor2.loads(out.read_bytes())


def test_post_reload_over_dtls(server):
    a, port, dport, _ = server()
    out, err = coaps(f"coaps://127.0.0.1:{dport}/reload", method="post")
    assert cbor2.loads(out) == {"reloads": 1}, err
    a.wait_for(f"control request from {ID}: 2.04")
    a.wait_for("reloaded")
    # plain UDP: still refused, nothing runs
    p = subprocess.run([PLAIN, "-m", "post", "-B", "5",
                        f"coap://127.0.0.1:{port}/reload"],
                       capture_output=True, timeout=20)
    assert b"4.01" in p.stdout + p.stderr
    assert count(a, "reloaded") == 1


def failed_get(url, tmp_path, **kw):
    """A request whose handshake must fail: no payload; the client's
    stdout (its log) names the alert."""
    out = tmp_path / f"out{time.monotonic_ns()}"
    log, _ = coaps(url, "-o", str(out), **kw)
    assert not out.exists() or out.stat().st_size == 0
    return log.decode(errors="replace")


def test_wrong_key_or_identity_fails_handshake(server, tmp_path):
    a, _, dport, _ = server()
    url = f"coaps://127.0.0.1:{dport}/reload"
    log = failed_get(url, tmp_path, method="post", key="wrong-key")
    assert "bad record mac" in log
    a.wait_for("dtls: handshake with 127.0.0.1")
    log = failed_get(url, tmp_path, method="post", ident="nobody")
    assert "unknown psk identity" in log.lower()
    a.wait_for("unknown psk identity `nobody`")
    assert count(a, "reloaded") == 0
    assert count(a, "control request") == 0
    assert count(a, "dtls: session with") == 0


def test_vigilctl_status_over_dtls(server):
    a, _, dport, _ = server()
    ctl = str(binary("vigilctl"))
    p = subprocess.run([ctl, "status", f"coaps://127.0.0.1:{dport}",
                        "--psk-identity", ID, "--psk-key", KEY, "--json"],
                       capture_output=True, timeout=30)
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["network"]["coap"]["dtls"] is True
    p = subprocess.run([ctl, "status", f"coaps://127.0.0.1:{dport}",
                        "--psk-identity", ID, "--psk-key", "bad", "--json"],
                       capture_output=True, timeout=60)
    assert p.returncode == 1 and p.stdout == b"", p.stderr


def test_keys_change_on_reload_and_stay_secret(server, tmp_path):
    a, _, dport, cfg = server()
    new_hex = OTHER_KEY.encode().hex()
    text = cfg.read_text().replace(f"{ID}:{KEY_HEX}", f"lab:{new_hex}")
    cfg.write_text(text)
    a.signal(signal.SIGHUP)
    a.wait_for("reloaded")
    url = f"coaps://127.0.0.1:{dport}/status"
    out, err = coaps(url, ident="lab", key=OTHER_KEY)
    assert cbor2.loads(out)["network"]["coap"]["dtls"] is True, err
    failed_get(url, tmp_path)             # the old identity is gone
    a.wait_for(f"unknown psk identity `{ID}`")
    count(a, "")
    log = "".join(a.lines)
    assert KEY_HEX not in log and new_hex not in log


def test_no_psk_no_dtls_listener(agent_factory, dev_config):
    port, dport = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM)
    cfg = dev_config(f"coap.listen = 127.0.0.1:{port}\n"
                     f"coap.dtls_listen = 127.0.0.1:{dport}\n")
    a = agent_factory(["-c", str(cfg)])
    a.wait_for("coap.psk is empty: no DTLS listener")
    a.wait_for("running")
    assert count(a, "listening on dtls") == 0


def test_garbage_burst_at_dtls_port(server, tmp_path):
    a, _, dport, _ = server()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    dest = ("127.0.0.1", dport)
    hello = bytes([22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 60, 1]) + \
        bytes(59)                           # a ClientHello of zeros
    junk = [b"", b"\x16", b"\x17\xfe\xfd" + bytes(20),   # app data, epoch 0
            b"\x17\xfe\xfd\x00\x01" + bytes(8) + b"\x00\x30" + bytes(48),
            hello, hello[:30], bytes(range(256)), os.urandom(1200),
            os.urandom(3000)]                 # oversized
    for _ in range(30):
        for d in junk:
            s.sendto(d, dest)
    out = tmp_path / "status.cbor"
    _, err = coaps(f"coaps://127.0.0.1:{dport}/status", "-o", str(out))
    assert cbor2.loads(out.read_bytes())["network"]["coap"]["dtls"], err
    assert a.proc.poll() is None


def test_bad_psk_stops_start_and_is_refused_on_reload(server, agent_factory,
                                                       dev_config, tmp_path):
    port, dport = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM)
    cfg = dev_config(f"coap.listen = 127.0.0.1:{port}\n"
                     f"coap.dtls_listen = 127.0.0.1:{dport}\n"
                     "coap.psk = ops:abc\n", name="bad.conf")
    bad = agent_factory(["-c", str(cfg)])
    assert bad.wait_exit(timeout=5) != 0
    bad.wait_for("coap.psk does not parse")
    # on reload: logged, and the keys in use stay
    a, _, dport, cfg = server()
    cfg.write_text(cfg.read_text().replace(f"{ID}:{KEY_HEX}", "ops:abc"))
    a.signal(signal.SIGHUP)
    a.wait_for("coap.psk: expected identity:hexkey pairs")
    out = tmp_path / "status.cbor"
    _, err = coaps(f"coaps://127.0.0.1:{dport}/status", "-o", str(out))
    assert cbor2.loads(out.read_bytes())["network"]["coap"]["dtls"], err


# ---- TLS 1.3-style ClientHellos (vigild links no TLS 1.3 server:
# firmware/agent/mbedtls_no_tls13_server.c) ----

SUITES_13 = (0x1301, 0x1302, 0x1303)       # TLS 1.3's own suites only


def client_hello(version, suites, supported=None):
    """One DTLS ClientHello record: record version 0xfefd (DTLS 1.2),
    the hello's own version field `version`, and a supported_versions
    extension listing `supported` (DTLS 1.3 is 0xfefc)."""
    ext = b""
    if supported:
        body = bytes([2 * len(supported)]) + b"".join(
            v.to_bytes(2, "big") for v in supported)
        ext = (0x002b).to_bytes(2, "big") + len(body).to_bytes(2, "big") + body
    body = (version.to_bytes(2, "big") + os.urandom(32) +
            b"\x00\x00" +                   # no session id, no cookie
            (2 * len(suites)).to_bytes(2, "big") +
            b"".join(s.to_bytes(2, "big") for s in suites) + b"\x01\x00" +
            len(ext).to_bytes(2, "big") + ext)
    n = len(body).to_bytes(3, "big")
    hs = b"\x01" + n + b"\x00\x00" + b"\x00\x00\x00" + n + body
    return (b"\x16\xfe\xfd\x00\x00" + bytes(6) +
            len(hs).to_bytes(2, "big") + hs)


def answer(s):
    """The next record from the server: (content type, payload)."""
    s.settimeout(10 * TIME_SCALE)
    data = s.recv(2048)
    assert len(data) >= 13 and len(data) == 13 + int.from_bytes(
        data[11:13], "big"), data.hex()
    return data[0], data[13:]


def test_tls13_client_hellos_refused_cleanly(server, tmp_path):
    """vigild serves only DTLS 1.2: a hello that claims DTLS 1.3 in its
    version field gets a protocol_version alert, and a DTLS 1.3 client's
    hello (1.2 in the version field, 1.3 in supported_versions, only
    TLS 1.3 suites) a handshake_failure alert (no suite in common, found
    before the cookie is asked for); each failure is logged, and the
    server keeps serving."""
    a, _, dport, _ = server()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect(("127.0.0.1", dport))
    try:
        s.sendall(client_hello(0xfefc, SUITES_13, supported=[0xfefc]))
        assert answer(s) == (21, bytes([2, 70]))    # fatal protocol_version
        a.wait_for("dtls: handshake with 127.0.0.1")
        s.sendall(client_hello(0xfefd, SUITES_13, supported=[0xfefc]))
        assert answer(s) == (21, bytes([2, 40]))    # fatal handshake_failure
    finally:
        s.close()
    out = tmp_path / "status.cbor"
    _, err = coaps(f"coaps://127.0.0.1:{dport}/status", "-o", str(out))
    assert cbor2.loads(out.read_bytes())["network"]["coap"]["dtls"], err
    assert a.proc.poll() is None
    assert count(a, "dtls: handshake with 127.0.0.1") == 2
