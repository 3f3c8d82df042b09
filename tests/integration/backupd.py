"""vigil-backupd as the tests run it: a process whose log is read line by
line, the TLS arguments and client context for a PKI from
tests/toolchain/make-certs.sh, and what the server stored on disk."""
import re
import signal
import ssl
import subprocess
import time

from conftest import TIME_SCALE, binary
from proclog import StderrLines

TIMEOUT_MS = 2000


class Server(StderrLines):
    """A vigil-backupd whose log (stderr) is read line by line."""

    def __init__(self, args, prefix=(), exe=None):
        """exe: another vigil-backupd than VIGIL_BIN_DIR's."""
        self.proc = subprocess.Popen(
            list(prefix) + [str(exe or binary("vigil-backupd"))] + args,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE)
        super().__init__()
        self.port = None
        self.tls_port = None

    def wait_for(self, pattern, timeout=5.0, start=0):
        """The first log line (from index start) matching regex pattern."""
        deadline = time.monotonic() + timeout * TIME_SCALE
        while True:
            for line in self.lines[start:]:
                if re.search(pattern, line):
                    return line
            left = deadline - time.monotonic()
            if left <= 0 or not self._read_some(min(left, 0.05)):
                break
        for line in self.lines[start:]:
            if re.search(pattern, line):
                return line
        raise AssertionError(f"no log line matching {pattern!r}; got:\n" + "\n".join(self.lines))

    def start(self):
        try:
            self.wait_for("ready:")
        except BaseException:
            # the caller never gets the object to stop: a fixture's
            # `Server(...).start()` that failed left the server running
            # (seen under valgrind, where the start took longer)
            self.proc.kill()
            self.proc.wait()
            raise
        for line in self.lines:
            m = re.search(r"listening (plain|TLS) v3 on 127\.0\.0\.1:(\d+)", line)
            if m and m.group(1) == "plain":
                self.port = int(m.group(2))
            elif m:
                self.tls_port = int(m.group(2))
        return self

    @property
    def addr(self):
        return ("127.0.0.1", self.port)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=5 * TIME_SCALE)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        while self._read_some(0):
            pass
        return rc


def stored(data_dir, client, fname):
    """{version: bytes} of a stored file, from the directory layout."""
    d = data_dir / client.id.hex() / fname
    if not d.exists():
        return {}
    return {int(p.name[1:]): p.read_bytes() for p in d.iterdir()}


def tls_args(pki_dir):
    return ["--tls", "127.0.0.1:0", "--tls-cert", str(pki_dir / "server.crt"),
            "--tls-key", str(pki_dir / "server.key"), "--tls-ca", str(pki_dir / "ca.crt")]


def tls_context(pki_dir, client_dir=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_verify_locations(str(pki_dir / "ca.crt"))
    if client_dir is not None:
        ctx.load_cert_chain(str(client_dir / "client.crt"), str(client_dir / "client.key"))
    return ctx
