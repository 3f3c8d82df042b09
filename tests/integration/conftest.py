"""Shared fixtures: where the built binaries are, a running vigild (with
CoAP, or on a console), vigil-backupd processes, and test PKIs.  Helper
classes live in modules of their own (backupd.py, console.py, cddl.py,
netutil.py, proclog.py, backup_cli.py, v3_*.py); no test module imports
from another."""
import os
import pathlib
import signal
import socket
import subprocess
import time

import pytest

from proclog import StderrLines

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN_DIR = pathlib.Path(os.environ.get("VIGIL_BIN_DIR", ROOT / "build/host/bin"))
BUILD_DIR = BIN_DIR.parents[1]
# Waits for a program's events are multiplied by this: the suite under
# valgrind (tests/campaign/suite_under.sh) runs the programs ~20x slower.
TIME_SCALE = float(os.environ.get("VIGIL_TEST_TIME_SCALE", "1"))


def binary(name):
    path = BIN_DIR / name
    if not path.exists():
        # A missing binary is a build defect, never a reason to skip.
        pytest.fail(f"{path} not built (run make check)")
    return path


class Agent(StderrLines):
    """A vigild process whose stderr (the log) is read line by line."""

    newline = "\n"

    def __init__(self, args):
        self.proc = subprocess.Popen(
            [str(binary("vigild"))] + args,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)
        super().__init__()

    def wait_for(self, text, timeout=5.0):
        """Returns the first log line containing text, or fails."""
        deadline = time.monotonic() + timeout * TIME_SCALE
        seen = 0
        while True:
            for line in self.lines[seen:]:
                if text in line:
                    return line
            seen = len(self.lines)
            left = deadline - time.monotonic()
            if left <= 0 or not self._read_some(min(left, 0.1)):
                break
        for line in self.lines[seen:]:
            if text in line:
                return line
        raise AssertionError(f"no log line with {text!r}; got:\n" + "".join(self.lines))

    def signal(self, sig):
        self.proc.send_signal(sig)

    def _drain(self):
        while self._read_some(0):
            pass

    def wait_exit(self, timeout=5.0):
        """The exit status of a process expected to stop on its own."""
        deadline = time.monotonic() + timeout * TIME_SCALE
        while self.proc.poll() is None and time.monotonic() < deadline:
            self._read_some(0.05)
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("vigild did not exit on its own")
        self._drain()
        return self.proc.returncode

    def stop(self, timeout=5.0):
        """SIGTERM, then the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.wait_exit(timeout)


@pytest.fixture
def agent_factory():
    agents = []

    def start(args):
        a = Agent(args)
        agents.append(a)
        return a

    yield start
    for a in agents:
        if a.proc.poll() is None:
            a.proc.kill()
            a.proc.wait()


@pytest.fixture
def dev_config(tmp_path):
    """A minimal valid configuration for a host run in tmp_path."""
    def write(extra="", name="vigil.conf"):
        path = tmp_path / name
        path.write_text(
            "# test configuration\n"
            f"data.dir = {tmp_path}/data\n"
            "watchdog.device = none\n"
            "console.device = none\n"
            "log.syslog = false\n" + extra)
        return path
    return write


@pytest.fixture
def coap_server(agent_factory, dev_config):
    """A running vigild with CoAP on a free port; returns (agent, port,
    config writer)."""
    from netutil import free_port

    def start(extra=""):
        port = free_port(socket.SOCK_DGRAM)
        cfg = dev_config(f"coap.listen = 127.0.0.1:{port},[::1]:{port}\n"
                         "device.name = before\n" + extra)
        a = agent_factory(["-c", str(cfg)])
        a.wait_for(f"listening on udp [::1]:{port}")
        a.wait_for("running")
        return a, port, cfg
    return start


def make_certs(out):
    """CA, server and client certificates (tests/toolchain/make-certs.sh)."""
    subprocess.run(["bash", str(ROOT / "tests/toolchain/make-certs.sh"), str(out)],
                   check=True, capture_output=True, timeout=60)
    return out


def make_leaf(pki, name):
    """A client certificate with CN=name, signed by the test CA."""
    if (pki / f"{name}.crt").exists():
        return
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-out", str(pki / f"{name}.key")],
                   check=True, capture_output=True, timeout=30)
    subprocess.run(["openssl", "req", "-new", "-key", str(pki / f"{name}.key"),
                    "-subj", f"/O=vigil test/CN={name}", "-out", str(pki / f"{name}.csr")],
                   check=True, capture_output=True, timeout=30)
    ext = pki / f"{name}.ext"
    ext.write_text("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                   "extendedKeyUsage=clientAuth\n")
    subprocess.run(["openssl", "x509", "-req", "-in", str(pki / f"{name}.csr"), "-CA",
                    str(pki / "ca.crt"), "-CAkey", str(pki / "ca.key"), "-CAcreateserial",
                    "-sha256", "-days", "30", "-extfile", str(ext),
                    "-out", str(pki / f"{name}.crt")],
                   check=True, capture_output=True, timeout=30)


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    """A PKI for TLS tests; tests read it and never change it."""
    return make_certs(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def pki_other(tmp_path_factory):
    """A second, unrelated PKI: its CA does not sign pki's certificates."""
    return make_certs(tmp_path_factory.mktemp("pki-other"))


@pytest.fixture
def server_factory(tmp_path):
    """Starts vigil-backupd processes (backupd.Server) in tmp_path."""
    from backupd import TIMEOUT_MS, Server
    servers = []

    def start(extra=(), data=None, prefix=(), plain=True):
        s = Server(["--data", str(data or tmp_path / "data"), "--timeout-ms", str(TIMEOUT_MS)]
                   + (["--plain", "127.0.0.1:0"] if plain else []) + list(extra), prefix)
        servers.append(s)
        return s.start()

    yield start
    for s in servers:
        if s.proc.poll() is None:
            s.proc.kill()
            s.proc.wait()


@pytest.fixture
def tls_agent(tmp_path):
    """Starts vigild on a console with backups to tls://127.0.0.1:port."""
    from console import Console
    started = []

    def start(port, paths, ca, cert_dir, extra=""):
        conf = tmp_path / f"vigil{len(started)}.conf"
        tls = f"tls.ca = {ca / 'ca.crt'}\n"
        if cert_dir is not None:
            tls += f"tls.cert = {cert_dir / 'client.crt'}\ntls.key = {cert_dir / 'client.key'}\n"
        conf.write_text(
            f"data.dir = {tmp_path}/agentdata\n"
            "watchdog.device = none\nconsole.device = none\nlog.syslog = false\n"
            "coap.listen = none\ncoap.dtls_listen = none\n"
            f"backup.server = tls://127.0.0.1:{port}\nbackup.paths = {paths}\n"
            "backup.timeout = 3\nbackup.retry_cap = 1\n" + tls + extra)
        c = Console(conf, tmp_path / f"log{len(started)}")
        started.append(c)
        c.expect(b"vigil> ")
        return c
    yield start
    for c in started:
        c.close()


@pytest.fixture
def agent(tmp_path):
    """Starts vigild on a console with backups to server_url (tcp:// or
    tls://), the given paths and extra configuration lines."""
    from console import Console
    started = []

    def start(server_url, paths, extra=""):
        conf = tmp_path / f"vigil{len(started)}.conf"
        conf.write_text(
            f"data.dir = {tmp_path}/data\n"
            "watchdog.device = none\nconsole.device = none\n"
            "log.syslog = false\n" +
            ("" if "coap.listen" in extra else "coap.listen = none\n") +
            f"backup.server = {server_url}\nbackup.paths = {paths}\n"
            "backup.timeout = 2\nbackup.retry_cap = 1\n" + extra)
        c = Console(conf, tmp_path / f"log{len(started)}")
        started.append(c)
        c.expect(b"vigil> ")
        return c
    yield start
    for c in started:
        c.close()


@pytest.fixture(scope="module")
def pg():
    """A real PostgreSQL 15 for the module (pgserver.py), always stopped."""
    from pgserver import PgServer
    server = PgServer()
    try:
        server.start()
        yield server
    finally:
        server.destroy()


@pytest.fixture(scope="module")
def rgw(tmp_path_factory):
    """A real single-node Ceph RADOS Gateway for the module (radosgw.py),
    always stopped."""
    from radosgw import RadosGW
    g = RadosGW(tmp_path_factory.mktemp("rgw"))
    g.start()
    try:
        yield g
    finally:
        g.stop()


@pytest.fixture(params=["sqlite", "pg"])
def backend(request, monkeypatch):
    """vigil-backupd's metadata backend for the test: SQLite in the data
    directory, or a fresh database on the module's PostgreSQL, named by
    VIGIL_BACKUPD_DB for every vigil-backupd the test starts."""
    if request.param == "pg":
        pg = request.getfixturevalue("pg")
        monkeypatch.setenv("VIGIL_BACKUPD_DB", pg.conninfo(pg.new_db()))
    return request.param
