"""tls:// with a pre-shared key instead of certificates, and TLS 1.2 when
configured (tls.min_version), vigild backup against vigil-backupd: what is
negotiated, that a PSK client never accepts a certificate handshake, and
the errors an operator sees."""
import hashlib
import os
import subprocess

import pytest

from conftest import binary
from backupd import TIMEOUT_MS, Server, tls_args

KEY = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"


def psk_file(tmp_path, text):
    p = tmp_path / "keys"
    p.write_text(text)
    return p


def server(tmp_path, *args):
    return Server(["--data", str(tmp_path / "data"), "--timeout-ms",
                   str(TIMEOUT_MS), "--tls", "127.0.0.1:0"] + list(args)).start()


def backup(srv, tmp_path, conf_lines, *extra):
    conf = tmp_path / "vigil.conf"
    conf.write_text("\n".join(conf_lines) + "\n")
    f = tmp_path / "payload.bin"
    if not f.exists():
        f.write_bytes(os.urandom(300_000))
    args = [str(binary("vigild")), "backup", "--config", str(conf), "--server",
            f"tls://127.0.0.1:{srv.tls_port}", "--state", str(tmp_path / "state"),
            "--name", "psk-box", "--timeout", "5000", "--retry-cap", "100"]
    r = subprocess.run(args + list(extra) + [str(f)], capture_output=True,
                       text=True, timeout=60)
    return r, f


def stored_sha(tmp_path):
    data = tmp_path / "data"
    (client,) = [d for d in os.listdir(data) if len(d) == 32]
    out = []
    for root, _, files in os.walk(data / client):
        for n in files:
            with open(os.path.join(root, n), "rb") as f:
                out.append(hashlib.sha256(f.read()).hexdigest())
    return out


def test_psk_tls13_with_ecdhe(tmp_path):
    srv = server(tmp_path, "--tls-psk",
                 str(psk_file(tmp_path, f"# devices\n\nbox-1:{KEY}\n  other:abcd  \n")))
    try:
        r, f = backup(srv, tmp_path, [f"tls.psk = box-1:{KEY}"])
        assert r.returncode == 0, r.stderr
        srv.wait_for(r"TLSv1\.3 TLS1-3-.*client psk:box-1")
        assert stored_sha(tmp_path) == [hashlib.sha256(f.read_bytes()).hexdigest()]
    finally:
        srv.stop()


def test_psk_unknown_identity_or_wrong_key(tmp_path, pki):
    # the server also has certificates: the PSK client must not fall back
    srv = server(tmp_path, "--tls-psk", str(psk_file(tmp_path, f"box-1:{KEY}\n")),
                 *tls_args(pki))
    try:
        r, _ = backup(srv, tmp_path, [f"tls.psk = nobody:{KEY}",
                                      f"tls.ca = {pki / 'ca.crt'}"])
        assert r.returncode == 1
        assert "unknown tls.psk identity or key?" in r.stderr.strip().splitlines()[-1]
        srv.wait_for("unknown PSK identity")
        r, _ = backup(srv, tmp_path, ["tls.psk = box-1:" + "ab" * 32])
        assert r.returncode == 1
        assert "tls.psk" in r.stderr.strip().splitlines()[-1], r.stderr
        assert not [d for d in os.listdir(tmp_path / "data") if len(d) == 32]
    finally:
        srv.stop()


def test_tls12_only_when_configured(tmp_path, pki):
    srv = server(tmp_path, "--tls-max-version", "1.2", *tls_args(pki))
    certs = [f"tls.ca = {pki / 'ca.crt'}", f"tls.cert = {pki / 'client.crt'}",
             f"tls.key = {pki / 'client.key'}"]
    try:
        r, _ = backup(srv, tmp_path, certs)
        assert r.returncode == 1
        assert "TLS 1.2 only? see tls.min_version" in r.stderr, r.stderr
        r, f = backup(srv, tmp_path, certs + ["tls.min_version = 1.2"])
        assert r.returncode == 0, r.stderr
        srv.wait_for(r"TLSv1\.2 TLS-ECDHE-ECDSA-WITH-(AES-128-GCM|CHACHA20)")
        assert stored_sha(tmp_path) == [hashlib.sha256(f.read_bytes()).hexdigest()]
    finally:
        srv.stop()


def test_tls12_psk_uses_ephemeral_suites(tmp_path):
    srv = server(tmp_path, "--tls-max-version", "1.2",
                 "--tls-psk", str(psk_file(tmp_path, f"box-1:{KEY}\n")))
    try:
        r, _ = backup(srv, tmp_path, [f"tls.psk = box-1:{KEY}", "tls.min_version = 1.2"])
        assert r.returncode == 0, r.stderr
        srv.wait_for(r"TLSv1\.2 TLS-ECDHE-PSK-WITH-.*client psk:box-1")
    finally:
        srv.stop()


def test_tls13_server_refuses_tls12_only_client_settings(tmp_path, pki):
    """A TLS 1.3-only server (the default) still serves a client that
    allows 1.2: 1.3 is offered first."""
    srv = server(tmp_path, *tls_args(pki))
    try:
        r, _ = backup(srv, tmp_path, [f"tls.ca = {pki / 'ca.crt'}",
                                      f"tls.cert = {pki / 'client.crt'}",
                                      f"tls.key = {pki / 'client.key'}",
                                      "tls.min_version = 1.2"])
        assert r.returncode == 0, r.stderr
        srv.wait_for(r"TLSv1\.3 TLS1-3-")
    finally:
        srv.stop()


@pytest.mark.parametrize("lines,why", [
    ([f"tls.psk = box-1:{KEY}", "tls.cert = /c.pem", "tls.key = /k.pem"],
     "tls.psk and tls.cert are two ways to authenticate"),
    (["tls.psk = box-1:abc"], "tls.psk is not identity:hexkey"),
])
def test_client_psk_setting_errors(tmp_path, lines, why):
    srv = server(tmp_path, "--tls-psk", str(psk_file(tmp_path, f"box-1:{KEY}\n")))
    try:
        r, _ = backup(srv, tmp_path, lines)
        assert r.returncode != 0
        assert why in r.stderr, r.stderr
    finally:
        srv.stop()


@pytest.mark.parametrize("text,why", [
    ("box-1:abc\n", "keys:1: not identity:hexkey"),
    (f"a:{KEY}\n# x\na:{KEY}\n", "keys:3: identity `a` given twice"),
    ("# only a comment\n", "has no keys"),
])
def test_server_psk_file_errors(tmp_path, text, why):
    p = subprocess.run([str(binary("vigil-backupd")), "--data", str(tmp_path / "d"),
                        "--tls", "127.0.0.1:0", "--tls-psk", str(psk_file(tmp_path, text))],
                       capture_output=True, text=True, timeout=10)
    assert p.returncode == 1
    assert why in p.stderr, p.stderr
