"""vigild backup over tls:// (TLS 1.3, mutual certificates) against
vigil-backupd's TLS listener: files arrive and verify; a wrong CA and a
missing client certificate fail with a clear reason and exit 1."""
import hashlib
import os
import subprocess

import pytest

from backupd import TIMEOUT_MS, Server, tls_args
from conftest import binary
from console import wait_job
from v3_names import v3_name


@pytest.fixture(scope="module")
def pki(pki, pki_other):
    """Our PKI, and a second, unrelated one (its CA does not sign ours)."""
    return [pki, pki_other]


@pytest.fixture
def tls_server(pki, tmp_path):
    s = Server(["--data", str(tmp_path / "data"), "--timeout-ms", str(TIMEOUT_MS)]
               + tls_args(pki[0])).start()
    yield s
    s.stop()


def backup(srv, tmp_path, paths, ca, cert_dir, *extra):
    args = [str(binary("vigild")), "backup", "--server",
            f"tls://127.0.0.1:{srv.tls_port}", "--state", str(tmp_path / "state"),
            "--name", "tls-box", "--timeout", "5000", "--retry-cap", "200",
            "--tls-ca", str(ca / "ca.crt")]
    if cert_dir is not None:
        args += ["--tls-cert", str(cert_dir / "client.crt"),
                 "--tls-key", str(cert_dir / "client.key")]
    return subprocess.run(args + list(extra) + [str(p) for p in paths],
                          capture_output=True, text=True, timeout=60)


def test_files_arrive_and_verify_over_tls(tls_server, pki, tmp_path):
    ca = pki[0]
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    files = {src / "empty": b"", src / "one": b"x", src / "a b.txt": b"spaces\n",
             src / "sub" / "mib": os.urandom((1 << 20) + 7)}
    for p, d in files.items():
        p.write_bytes(d)
    for _ in (1, 2):  # register, then reconnect with the saved identity
        r = backup(tls_server, tmp_path, [src], ca, ca)
        assert r.returncode == 0, r.stderr
        assert "4 files verified" in r.stderr
    tls_server.wait_for(r"TLSv1\.3 TLS1-3-.*client .*CN=")
    tls_server.wait_for(r"session key sent \(1605\)")
    data = tmp_path / "data"
    (client,) = [d for d in os.listdir(data) if len(d) == 32]
    for p, d in files.items():
        vdir = data / client / v3_name(p)
        assert sorted(os.listdir(vdir)) == ["v1", "v2"]
        for v in ("v1", "v2"):
            assert hashlib.sha256((vdir / v).read_bytes()).digest() == \
                hashlib.sha256(d).digest()


def test_wrong_ca_is_a_clear_verification_error(tls_server, pki, tmp_path):
    ours, other = pki
    f = tmp_path / "f"
    f.write_bytes(b"data")
    r = backup(tls_server, tmp_path, [f], other, ours)
    assert r.returncode == 1, r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert "server certificate verification failed" in last, r.stderr
    assert "not signed by a CA in tls.ca" in last
    assert not (tmp_path / "state" / "me.info").exists()


def test_missing_client_certificate_is_refused(tls_server, pki, tmp_path):
    f = tmp_path / "f"
    f.write_bytes(b"data")
    r = backup(tls_server, tmp_path, [f], pki[0], None)
    assert r.returncode == 1, r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert "the server refused the TLS connection" in last, r.stderr
    assert "no client certificate configured" in last
    tls_server.wait_for(r"TLS handshake failed: no client certificate")


def test_untrusted_client_certificate_is_refused(tls_server, pki, tmp_path):
    ours, other = pki
    f = tmp_path / "f"
    f.write_bytes(b"data")
    r = backup(tls_server, tmp_path, [f], ours, other)
    assert r.returncode == 1, r.stderr
    assert "the server refused the TLS connection" in r.stderr.strip().splitlines()[-1]
    tls_server.wait_for(r"client certificate verification failed")


def test_tls_option_errors(pki, tmp_path):
    f = tmp_path / "f"
    f.write_bytes(b"x")
    vigild = str(binary("vigild"))
    r = subprocess.run([vigild, "backup", "--server", "tls://127.0.0.1:9", str(f)],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 2 and "needs --tls-ca" in r.stderr
    r = subprocess.run([vigild, "backup", "--server", "tls://127.0.0.1:9", "--state",
                        str(tmp_path / "st"), "--tls-ca", str(tmp_path / "nope.crt"), str(f)],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 1
    assert "cannot read tls.ca" in r.stderr and "nope.crt" in r.stderr
    r = subprocess.run([vigild, "backup", "--server", "tls://127.0.0.1:9", "--state",
                        str(tmp_path / "st"), "--tls-ca", str(pki[0] / "ca.crt"),
                        "--tls-cert", str(pki[0] / "client.crt"), str(f)],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 1 and "give both or neither" in r.stderr


# ---- the agent's event-loop client over tls:// ---------------------------------

def test_agent_backup_now_over_tls(tls_server, tls_agent, pki, tmp_path):
    ca = pki[0]
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    files = {src / "empty": b"", src / "a b.txt": b"spaces\n",
             src / "sub" / "mib": os.urandom((1 << 20) + 3)}
    for p, d in files.items():
        p.write_bytes(d)
    c = tls_agent(tls_server.tls_port, src, ca, ca)
    assert "backup: job 1 queued" in c.cmd("backup now")
    out = wait_job(c, 1)
    assert "job 1 done" in out, out
    conns = c.cmd("conns")
    assert "tls client" in conns and "TLSv1.3 TLS1-3-" in conns, conns
    # a second job reuses the open TLS session
    assert "backup: job 2 queued" in c.cmd("backup now")
    assert "job 2 done" in wait_job(c, 2)
    data = tmp_path / "data"
    (client,) = [d for d in os.listdir(data) if len(d) == 32]
    for p, d in files.items():
        vdir = data / client / v3_name(p)
        assert sorted(os.listdir(vdir)) == ["v1", "v2"]
        assert (vdir / "v2").read_bytes() == d
    tls_server.wait_for(r"TLSv1\.3 TLS1-3-.*client .*CN=")
    assert "(resumed)" not in conns


def test_agent_reconnect_resumes_with_ticket(tls_server, tls_agent, pki, tmp_path):
    import time
    (tmp_path / "f").write_bytes(b"resume me")
    c = tls_agent(tls_server.tls_port, tmp_path / "f", pki[0], pki[0])
    c.cmd("backup now")
    assert "job 1 done" in wait_job(c, 1)
    # the server closes connections idle for TIMEOUT_MS; the next job
    # reconnects and offers the session ticket it got
    tls_server.wait_for(r"closed \(timeout", timeout=TIMEOUT_MS / 1000 + 5)
    time.sleep(0.3)
    c.cmd("backup now")
    assert "job 2 done" in wait_job(c, 2)
    conns = c.cmd("conns")
    assert "TLSv1.3" in conns and "(resumed)" in conns, conns


def test_agent_wrong_ca_fails_job_clearly(tls_server, tls_agent, pki, tmp_path):
    ours, other = pki
    (tmp_path / "f").write_bytes(b"x")
    c = tls_agent(tls_server.tls_port, tmp_path / "f", other, ours)
    c.cmd("backup now")
    out = wait_job(c, 1)
    assert "job 1 failed" in out, out
    assert "server certificate verification failed: not signed by a CA in tls.ca" in out, out
    assert "(3 attempts)" in out


def test_agent_without_client_cert_is_refused(tls_server, tls_agent, pki, tmp_path):
    (tmp_path / "f").write_bytes(b"x")
    c = tls_agent(tls_server.tls_port, tmp_path / "f", pki[0], None)
    c.cmd("backup now")
    out = wait_job(c, 1)
    assert "job 1 failed" in out, out
    assert "the server refused the TLS connection" in out, out
    tls_server.wait_for(r"TLS handshake failed: no client certificate")


def test_handshake_timeout(pki, tmp_path):
    import socket
    f = tmp_path / "f"
    f.write_bytes(b"x")
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)   # accepts (backlog) but never answers the ClientHello
    try:
        r = subprocess.run([str(binary("vigild")), "backup", "--server",
                            f"tls://127.0.0.1:{silent.getsockname()[1]}", "--state",
                            str(tmp_path / "st"), "--timeout", "300", "--retry-cap", "100",
                            "--tls-ca", str(pki[0] / "ca.crt"), str(f)],
                           capture_output=True, text=True, timeout=20)
    finally:
        silent.close()
    assert r.returncode == 1
    assert "TLS handshake not complete after 300 ms" in r.stderr.strip().splitlines()[-1], r.stderr
