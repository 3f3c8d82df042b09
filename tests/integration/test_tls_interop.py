"""TLS against peers no one here wrote: Debian's OpenSSL as `openssl
s_server` / `s_client`, socat and stunnel4.

vigild's client against OpenSSL servers: a TLS terminator (stunnel, socat)
in front of the Python v3 reference server in its "old" variant (the
deployed revision), with client certificates from `vigilctl pki`; one
terminator (socat: no session id context) breaks resumption with a fatal
alert, and vigild must drop the session and go on with a full handshake.
Then TLS 1.2-only servers, PSK (stunnel, `openssl s_server -psk`), a wrong
CA, an expired certificate and a name that does not match.

vigil-backupd against OpenSSL clients: certificates (a whole backup through
socat's OpenSSL client), no certificate (a readable certificate_required
alert), the wrong CA, TLS 1.2 only when enabled, PSK, the cipher suite
(the client's order), ticket resumption and a ticket from before a restart.

Every case asserts its concrete outcome: files stored with equal sha256,
or the specific error text.  Source files are named with letters, digits,
'-' and '.' only, in a directory whose path has nothing else, so the names
are accepted by the strictest deployed servers.
"""
import hashlib
import itertools
import json
import os
import re
import select
import shutil
import subprocess
import time

import pytest

from conftest import binary
from backupd import TIMEOUT_MS, Server
from console import Console, wait_job
from netutil import free_port
from v3_refserver import RefServer

KEY_TEXT = "vigil-interop-secret"           # stunnel wants >= 16 characters
KEY_HEX = KEY_TEXT.encode().hex()
_src_seq = itertools.count()


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def listening(port):
    """True when a TCP socket listens on port (IPv4 or IPv6)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                    return True
    return False


class Peer:
    """A third-party program whose output (stdout and stderr merged) is
    read as it comes, with select: waits are for its text, bounded."""

    def __init__(self, args, stdin=subprocess.DEVNULL):
        self.proc = subprocess.Popen(args, stdin=stdin, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self.out = ""

    def _read(self, timeout):
        fd = self.proc.stdout.fileno()
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            return True
        chunk = os.read(fd, 65536)
        self.out += chunk.decode(errors="replace")
        return bool(chunk)

    def wait_for(self, pattern, timeout=10.0):
        deadline = time.monotonic() + timeout
        while not re.search(pattern, self.out):
            left = deadline - time.monotonic()
            if left <= 0 or not self._read(min(left, 0.2)):
                break
        m = re.search(pattern, self.out)
        assert m, f"no {pattern!r} in the output of {self.proc.args[0]}:\n{self.out}"
        return m

    def wait_listening(self, port, timeout=10.0):
        deadline = time.monotonic() + timeout
        while not listening(port):
            assert self.proc.poll() is None, f"{self.proc.args[0]} exited:\n{self.out}"
            assert time.monotonic() < deadline, f"nothing listens on {port}:\n{self.out}"
            self._read(0.05)
        return self

    def finish(self, timeout=10.0):
        """Reads to the end of the output (the process exits)."""
        deadline = time.monotonic() + timeout
        while self._read(max(0.0, min(deadline - time.monotonic(), 0.2))):
            if time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"{self.proc.args[0]} did not exit:\n{self.out}")
        self.proc.wait(timeout=5)
        return self.out

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        while self.proc.stdout and self._read(0):
            pass


@pytest.fixture
def peers():
    started = []

    def start(args, port=None, **kw):
        p = Peer(args, **kw)
        started.append(p)
        return p.wait_listening(port) if port else p
    yield start
    for p in started:
        p.stop()


# ---- PKI: vigilctl's, an unrelated one, and odd server certificates ----

def openssl_leaf(ca_dir, out, subject, san, days):
    """A server certificate signed by ca_dir's CA; days -1: expired."""
    key, csr, ext = out + ".key", out + ".csr", out + ".ext"
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-out", key], check=True,
                   capture_output=True)
    subprocess.run(["openssl", "req", "-new", "-key", key, "-subj", subject,
                    "-out", csr], check=True, capture_output=True)
    with open(ext, "w") as f:
        f.write(f"basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
                f"subjectAltName={san}\n")
    subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA",
                    f"{ca_dir}/ca.crt", "-CAkey", f"{ca_dir}/ca.key",
                    "-CAcreateserial", "-sha256", "-days", str(days),
                    "-extfile", ext, "-out", out + ".crt"],
                   check=True, capture_output=True)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("interop-pki")
    for tag in ("pki", "other"):
        subprocess.run([str(binary("vigilctl")), "pki", "init", str(d / tag),
                        "--device", "box1"], check=True, capture_output=True,
                       timeout=60)
    openssl_leaf(d / "pki", str(d / "expired"), "/CN=localhost",
                 "DNS:localhost,IP:127.0.0.1", -1)
    openssl_leaf(d / "pki", str(d / "elsewhere"), "/CN=backup.example",
                 "DNS:backup.example", 30)
    return d


@pytest.fixture
def src():
    """A source tree whose path is letters, digits, '-' and '.' only."""
    d = f"/tmp/vigil-interop-{os.getpid()}-{next(_src_seq)}"
    os.makedirs(d + "/sub")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def fill(src, seed):
    """Writes four files with contents unique to seed; their sha256s."""
    files = {"alpha.txt": b"alpha " + seed.encode(), "beta-2.bin":
             os.urandom(70000), "gamma": b"", "sub/delta.log": os.urandom(4096)}
    for name, data in files.items():
        with open(os.path.join(src, name), "wb") as f:
            f.write(data)
    return sorted(hashlib.sha256(d).hexdigest() for d in files.values())


def vigild_backup(url, state, pki_dir, *paths, cert=True, ca=None,
                  config=(), timeout_ms=5000):
    args = [str(binary("vigild")), "backup", "--server", url, "--state",
            str(state), "--name", "box1", "--timeout", str(timeout_ms),
            "--retry-cap", "200"]
    if config:
        conf = state.parent / f"{state.name}.conf"
        conf.write_text("".join(line + "\n" for line in config))
        args += ["--config", str(conf)]
    if ca is not False:
        args += ["--tls-ca", str(ca or pki_dir / "pki" / "ca.crt")]
    if cert:
        args += ["--tls-cert", str(pki_dir / "pki/devices/box1.crt"),
                 "--tls-key", str(pki_dir / "pki/devices/box1.key")]
    return subprocess.run(args + [str(p) for p in paths], capture_output=True,
                          text=True, timeout=90)


def refserver_hashes(ref):
    return sorted(sha(p) for p in ref.verified.values())


# ---- vigild -> TLS terminator -> the deployed (old) v3 server ----

def socat_terminator(peers, pki, backend, port, *extra):
    p = pki / "pki"
    return peers(["socat", "-d", "-d",
                  f"OPENSSL-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork,"
                  f"cert={p}/server.crt,key={p}/server.key,cafile={p}/ca.crt,"
                  "verify=1,min-version=TLS1.3" + "".join("," + e for e in extra),
                  f"TCP:127.0.0.1:{backend}"], port)


def stunnel_terminator(peers, pki, backend, port, tmp_path, *lines):
    p = pki / "pki"
    conf = tmp_path / f"stunnel-{port}.conf"
    conf.write_text("\n".join([
        "foreground = yes", "pid =", "debug = info", "[v3]",
        f"accept = 127.0.0.1:{port}", f"connect = 127.0.0.1:{backend}",
        f"cert = {p}/server.crt", f"key = {p}/server.key",
        f"CAfile = {p}/ca.crt", "verifyChain = yes", "requireCert = yes",
        *lines]) + "\n")
    return peers(["stunnel4", str(conf)], port)


def register_and_reconnect(url, ref, pki, src, tmp_path):
    """The register run (the old server answers 1607 to the 160-byte key:
    a second connection in that run) and a reconnect run that loses its
    connection in the middle of a file (a third).  Returns both stderrs."""
    state = tmp_path / "state"
    want = fill(src, "register")
    r1 = vigild_backup(url, state, pki, src)
    assert r1.returncode == 0, r1.stderr
    assert "4 files verified" in r1.stderr
    assert refserver_hashes(ref) == want
    want = fill(src, "reconnect")
    ref.drop_mid_file = 1
    r2 = vigild_backup(url, state, pki, src)
    assert r2.returncode == 0, r2.stderr
    assert "4 files verified" in r2.stderr
    assert refserver_hashes(ref) == want
    return r1.stderr, r2.stderr


def explain(err, ref, term):
    """A failure message with all three sides: vigild's stderr, what the
    reference server accepted and answered, and socat's connection log."""
    term.stop()
    return (err + "\nreference server (client ports " + repr(ref.peers) +
            "):\n" + "\n".join(map(str, ref.log)) + "\nsocat:\n" + term.out)


def test_terminator_that_breaks_resumption(peers, pki, src, tmp_path):
    """The issue's setup, for real: socat sets no session id context, so
    its OpenSSL refuses every resumption with a fatal alert."""
    ref = RefServer(tmp_path / "ref", "old").start()
    try:
        port = free_port()
        term = socat_terminator(peers, pki, ref.port, port)
        e1, e2 = register_and_reconnect(f"tls://localhost:{port}", ref, pki,
                                        src, tmp_path)
    finally:
        ref.stop()
    term.wait_for(r"session id context uninitialized")
    for err in (e1, e2):
        drops = [x for x in err.splitlines() if "session dropped" in x]
        assert len(drops) == 1, explain(err, ref, term)
        assert "the handshake resuming the saved session failed (the server " \
            "refused the TLS connection (internal_error))" in drops[0], err
    assert "160-byte key refused (1607)" in e1


def test_agent_through_the_breaking_terminator(peers, pki, src, tmp_path):
    """The agent's event-loop client: job 1's retry offers the saved ticket;
    socat refuses it, the agent reconnects at once with a full handshake
    and `conns` counts it.  Job 2 on new connections: no ticket was kept
    after the refusal (the 24 h pause), so no resumption fails again."""
    ref = RefServer(tmp_path / "ref", "old").start()
    c = None
    try:
        port = free_port()
        socat_terminator(peers, pki, ref.port, port)
        p = pki / "pki"
        conf = tmp_path / "vigil.conf"
        conf.write_text(
            f"data.dir = {tmp_path}/agentdata\nwatchdog.device = none\n"
            "console.device = none\nlog.syslog = false\ncoap.listen = none\n"
            "coap.dtls_listen = none\nbackup.retry_cap = 500ms\n"
            f"backup.server = tls://localhost:{port}\nbackup.paths = {src}\n"
            f"tls.ca = {p}/ca.crt\ntls.cert = {p}/devices/box1.crt\n"
            f"tls.key = {p}/devices/box1.key\n")
        c = Console(conf, tmp_path / "agent.log")
        c.expect(b"vigil> ")
        want = fill(src, "agent-1")
        assert "job 1 queued" in c.cmd("backup now")
        assert "job 1 done" in wait_job(c, 1)
        assert refserver_hashes(ref) == want
        conns = c.cmd("conns")
        assert "TLSv1.3" in conns and "failed resumptions 1 " in conns, conns
        ref.drop_mid_file = 1           # the next job reconnects mid-file
        want = fill(src, "agent-2")
        assert "job 2 queued" in c.cmd("backup now")
        assert "job 2 done" in wait_job(c, 2)
        assert refserver_hashes(ref) == want
        conns = c.cmd("conns")
        assert "failed resumptions 1 " in conns and "resumed" not in conns, \
            conns
        assert c.log().count("session dropped") == 1, c.log()
        # one retry each, for the 1607 and for the lost connection; the
        # dropped sessions took none
        for job in (1, 2):
            assert len(re.findall(rf"job {job}: retrying in", c.log())) == 1
    finally:
        if c is not None:
            c.close()
        ref.stop()


def test_terminator_with_session_id_context_resumes(peers, pki, src, tmp_path):
    """stunnel sets a session id context (sessionIdContext, by default
    the service name): the reconnects of both runs resume."""
    ref = RefServer(tmp_path / "ref", "old").start()
    try:
        port = free_port()
        term = stunnel_terminator(peers, pki, ref.port, port, tmp_path,
                                  "sslVersionMin = TLSv1.3")
        e1, e2 = register_and_reconnect(f"tls://localhost:{port}", ref, pki,
                                        src, tmp_path)
    finally:
        ref.stop()
    assert "session dropped" not in e1 + e2
    term.wait_for(r"(?s)(TLS accepted: previous session reused.*){2}")
    assert "TLSv1.3" in term.wait_for(r"TLSv1\.\d").group(0)


def test_tls12_only_server(peers, pki, src, tmp_path):
    ref = RefServer(tmp_path / "ref", "3.0").start()
    try:
        port = free_port()
        stunnel_terminator(peers, pki, ref.port, port, tmp_path,
                           "sslVersionMax = TLSv1.2")
        url = f"tls://127.0.0.1:{port}"
        r = vigild_backup(url, tmp_path / "st", pki, src)
        assert r.returncode == 1
        assert "the server refused the TLS connection (protocol_version)" in \
            r.stderr.strip().splitlines()[-1], r.stderr
        want = fill(src, "tls12")
        r = vigild_backup(url, tmp_path / "st", pki, src,
                          config=["tls.min_version = 1.2"])
        assert r.returncode == 0, r.stderr
        assert refserver_hashes(ref) == want
    finally:
        ref.stop()


def test_psk_through_stunnel(peers, pki, src, tmp_path):
    """stunnel's PSKsecrets (the secret is the text itself) in TLS 1.3."""
    ref = RefServer(tmp_path / "ref", "3.0").start()
    secrets = tmp_path / "psk.txt"
    secrets.write_text(f"box1:{KEY_TEXT}\n")
    secrets.chmod(0o600)
    try:
        port = free_port()
        conf = tmp_path / "stunnel-psk.conf"
        conf.write_text("\n".join([
            "foreground = yes", "pid =", "debug = info", "[v3]",
            f"accept = 127.0.0.1:{port}", f"connect = 127.0.0.1:{ref.port}",
            f"PSKsecrets = {secrets}", "sslVersionMin = TLSv1.3"]) + "\n")
        term = peers(["stunnel4", str(conf)], port)
        want = fill(src, "psk")
        r = vigild_backup(f"tls://127.0.0.1:{port}", tmp_path / "st", pki, src,
                          cert=False, ca=False,
                          config=[f"tls.psk = box1:{KEY_HEX}"])
        assert r.returncode == 0, r.stderr
        assert refserver_hashes(ref) == want
        term.wait_for(r"TLS accepted: new session negotiated")
        term.wait_for(r"TLSv1\.3 ciphersuite: TLS_AES_128_GCM_SHA256")
    finally:
        ref.stop()


def s_server(peers, port, *args):
    return peers(["openssl", "s_server", "-accept", f"127.0.0.1:{port}",
                  *args], port, stdin=subprocess.PIPE)


@pytest.mark.parametrize("suites,ok", [
    ("TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256", True),
    # OpenSSL's TLS 1.3 PSK hash follows the suite; vigild offers SHA-256
    # suites only (its mbedTLS has no SHA-384 suites): no common suite
    ("TLS_AES_256_GCM_SHA384", False),
])
def test_psk_against_openssl_s_server(peers, pki, src, tmp_path, suites, ok):
    port = free_port()
    srv = s_server(peers, port, "-nocert", "-tls1_3", "-psk_identity", "box1",
                   "-psk", KEY_HEX, "-ciphersuites", suites)
    with open(os.path.join(src, "alpha.txt"), "wb") as f:
        f.write(b"x")
    conf = tmp_path / "c.conf"
    conf.write_text(f"tls.psk = box1:{KEY_HEX}\n")
    cli = subprocess.Popen(
        [str(binary("vigild")), "backup", "--server", f"tls://127.0.0.1:{port}",
         "--state", str(tmp_path / "st"), "--name", "psk-interop", "--timeout",
         "3000", "--retry-cap", "100", "--config", str(conf),
         src + "/alpha.txt"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        if ok:
            # the handshake completes and the 1025 register request (with
            # the client name) arrives as application data
            srv.wait_for(r"CIPHER is TLS_AES_128_GCM_SHA256")
            srv.wait_for(r"psk-interop")
        else:
            _, err = cli.communicate(timeout=30)
            assert "TLS handshake failed: no common suite or key exchange" in err \
                or "the server refused the TLS connection (handshake_failure" in err, err
    finally:
        cli.kill()
        cli.wait()


@pytest.mark.parametrize("cert,ca,host,why", [
    ("pki/server", "other/ca.crt", "127.0.0.1", "not signed by a CA in tls.ca"),
    ("expired", "pki/ca.crt", "localhost", "it has expired"),
    ("elsewhere", "pki/ca.crt", "localhost",
     "its name does not match the server address"),
])
def test_server_certificate_errors(peers, pki, src, tmp_path, cert, ca, host, why):
    port = free_port()
    s_server(peers, port, "-cert", str(pki / f"{cert}.crt"), "-key",
             str(pki / f"{cert}.key"), "-tls1_3")
    with open(os.path.join(src, "alpha.txt"), "wb") as f:
        f.write(b"x")
    r = vigild_backup(f"tls://{host}:{port}", tmp_path / "st", pki,
                      src + "/alpha.txt", ca=pki / ca)
    assert r.returncode == 1
    assert f"server certificate verification failed: {why}" in \
        r.stderr.strip().splitlines()[-1], r.stderr


# ---- vigil-backupd <- OpenSSL clients ----

def backupd(pki, tmp_path, *extra):
    p = pki / "pki"
    return Server(["--data", str(tmp_path / "data"), "--timeout-ms", str(TIMEOUT_MS),
                   "--tls", "127.0.0.1:0", "--tls-cert", str(p / "server.crt"),
                   "--tls-key", str(p / "server.key"), "--tls-ca", str(p / "ca.crt"),
                   *extra]).start()


def s_client(port, *args, until=None, timeout=15.0):
    """Runs openssl s_client; with until, closes its input once that text
    appeared (else when the server ends the connection).  Its output."""
    c = Peer(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", *args],
             stdin=subprocess.PIPE)
    try:
        if until:
            c.wait_for(until, timeout)
            c.proc.stdin.close()
        return c.finish(timeout)
    finally:
        c.stop()


def client_cert(pki, tag="pki"):
    return ["-cert", str(pki / tag / "devices/box1.crt"),
            "-key", str(pki / tag / "devices/box1.key")]


def status(tmp_path):
    out = subprocess.run([str(binary("vigil-backupd")), "--data", str(tmp_path / "data"),
                          "--status=json"], capture_output=True, text=True, timeout=10)
    return json.loads(out.stdout)


def test_backupd_through_an_openssl_client(peers, pki, src, tmp_path):
    """A whole backup through socat's OpenSSL client (no ALPN: pure v3)."""
    srv = backupd(pki, tmp_path)
    try:
        port = free_port()
        p = pki / "pki"
        peers(["socat", f"TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork",
               f"OPENSSL:127.0.0.1:{srv.tls_port},cert={p}/devices/box1.crt,"
               f"key={p}/devices/box1.key,cafile={p}/ca.crt,min-version=TLS1.3"],
              port)
        want = fill(src, "backupd")
        r = vigild_backup(f"tcp://127.0.0.1:{port}", tmp_path / "st", pki, src,
                          cert=False, ca=False)
        assert r.returncode == 0, r.stderr
        srv.wait_for(r"TLSv1\.3 TLS1-3-\S+ alpn none, client .*CN=box1")
        data = tmp_path / "data"
        (client,) = [d for d in os.listdir(data) if len(d) == 32]
        got = sorted(sha(os.path.join(root, f))
                     for root, _, names in os.walk(data / client) for f in names)
        assert got == want
    finally:
        srv.stop()


def test_backupd_no_client_certificate_gets_a_readable_alert(pki, tmp_path):
    srv = backupd(pki, tmp_path)
    try:
        out = s_client(srv.tls_port, "-CAfile", str(pki / "pki/ca.crt"))
        assert "tlsv13 alert certificate required" in out, out
        assert "bad record mac" not in out
        srv.wait_for(r"TLS handshake failed: no client certificate")
        # the session of a refused client gets no ticket to come back with
        assert "Post-Handshake New Session Ticket" not in out
    finally:
        srv.stop()


def test_backupd_wrong_ca_client(pki, tmp_path):
    srv = backupd(pki, tmp_path)
    try:
        out = s_client(srv.tls_port, "-CAfile", str(pki / "pki/ca.crt"),
                       *client_cert(pki, "other"))
        assert "tlsv1 alert unknown ca" in out, out
        srv.wait_for(r"TLS handshake failed: client certificate verification failed")
    finally:
        srv.stop()


def test_backupd_tls12_refused_unless_enabled(pki, tmp_path):
    args = ["-CAfile", str(pki / "pki/ca.crt"), "-tls1_2", *client_cert(pki)]
    srv = backupd(pki, tmp_path)
    try:
        out = s_client(srv.tls_port, *args)
        assert "alert protocol version" in out, out
        srv.wait_for(r"protocol version not accepted \(see --tls-min-version\)")
    finally:
        srv.stop()
    (tmp_path / "b").mkdir()
    srv = backupd(pki, tmp_path / "b", "--tls-min-version", "1.2")
    try:
        out = s_client(srv.tls_port, *args, until=r"Verify return code: 0")
        assert re.search(r"Protocol *: TLSv1\.2", out), out
        srv.wait_for(r"TLSv1\.2 TLS-ECDHE-ECDSA-WITH-\S+ alpn none, client .*CN=box1")
    finally:
        srv.stop()


def test_backupd_psk_client(pki, tmp_path):
    psk = tmp_path / "psk"
    psk.write_text(f"box1:{KEY_HEX}\n")
    psk.chmod(0o600)
    srv = Server(["--data", str(tmp_path / "data"), "--tls", "127.0.0.1:0",
                  "--tls-psk", str(psk)]).start()
    try:
        # OpenSSL calls an external PSK handshake "Reused"; the suite is
        # the client's first common one (see the suite order test)
        out = s_client(srv.tls_port, "-psk_identity", "box1", "-psk", KEY_HEX,
                       until=r"Verify return code")
        assert "Reused, TLSv1.3, Cipher is TLS_CHACHA20_POLY1305_SHA256" in out, out
        srv.wait_for(r"TLSv1\.3 TLS1-3-CHACHA20-POLY1305-SHA256 alpn none, "
                     r"client psk:box1")
        out = s_client(srv.tls_port, "-psk_identity", "nobody", "-psk", KEY_HEX)
        # mbedTLS goes on to a certificate handshake it cannot finish (no
        # server certificate): a handshake_failure alert
        assert "alert handshake failure" in out, out
        srv.wait_for(r"unknown PSK identity")
    finally:
        srv.stop()


def test_backupd_takes_the_clients_suite_order(pki, tmp_path):
    """TLS 1.3 suites in the client's order (mbedTLS's TLS 1.3 server): the
    client knows whether its CPU has AES instructions.  OpenSSL's default
    list starts with AES-256-GCM-SHA384, which this mbedTLS build lacks, so
    its next, ChaCha20-Poly1305, is chosen."""
    srv = backupd(pki, tmp_path)
    cert = ["-CAfile", str(pki / "pki/ca.crt"), *client_cert(pki)]
    try:
        for suites, want in (
                (None, "TLS_CHACHA20_POLY1305_SHA256"),
                ("TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256",
                 "TLS_AES_128_GCM_SHA256"),
                ("TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256",
                 "TLS_CHACHA20_POLY1305_SHA256")):
            extra = ["-ciphersuites", suites] if suites else []
            out = s_client(srv.tls_port, *cert, *extra,
                           until=r"Verify return code: 0")
            assert f"Cipher is {want}" in out, out
    finally:
        srv.stop()


def test_backupd_resumption_and_a_ticket_from_before_a_restart(pki, tmp_path):
    sess = str(tmp_path / "sess.pem")
    cert = ["-CAfile", str(pki / "pki/ca.crt"), *client_cert(pki)]
    srv = backupd(pki, tmp_path)
    try:
        s_client(srv.tls_port, *cert, "-sess_out", sess,
                 until=r"Post-Handshake New Session Ticket arrived")
        out = s_client(srv.tls_port, *cert, "-sess_in", sess,
                       until=r"Verify return code")
        assert "Reused, TLSv1.3" in out, out
        srv.wait_for(r"client .*CN=.*\(resumed session\)")
        assert status(tmp_path)["tls_resumed"] == 1
    finally:
        srv.stop()
    srv = backupd(pki, tmp_path)      # a new ticket key
    try:
        out = s_client(srv.tls_port, *cert, "-sess_in", sess,
                       until=r"Verify return code")
        assert "New, TLSv1.3" in out, out
        srv.wait_for(r"session ticket not accepted \(expired, or issued before "
                     r"a restart\): full handshake")
        srv.wait_for(r"client .*CN=box1")
        doc = status(tmp_path)
        assert doc["tls_tickets_refused"] == 1 and doc["tls_resumed"] == 0
    finally:
        srv.stop()
