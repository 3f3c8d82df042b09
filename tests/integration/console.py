"""vigild --console on a pty, as an operator's terminal drives it, and
waiting for a backup job to end through its `backup jobs` command."""
import os
import re
import select
import subprocess
import time

from conftest import TIME_SCALE, binary

PROMPT = b"vigil> "


class Console:
    """vigild --console on a pty; the log (stderr) goes to a file."""

    def __init__(self, config, log_path, prefix=(), exe=None):
        """exe: another vigild than VIGIL_BIN_DIR's."""
        self.master, slave = os.openpty()
        self.log_path = log_path
        self.proc = subprocess.Popen(
            [*prefix, str(exe or binary("vigild")), "--console", "--config", str(config)],
            stdin=slave, stdout=slave, stderr=open(log_path, "wb"),
            start_new_session=True)
        os.close(slave)
        self.buf = b""

    def _read(self, timeout):
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return True
        try:
            chunk = os.read(self.master, 65536)
        except OSError:  # EIO: the slave side is closed
            return False
        self.buf += chunk
        return bool(chunk)

    def expect(self, text, timeout=5.0):
        """Everything up to and including text; fails after timeout."""
        text = text.encode() if isinstance(text, str) else text
        deadline = time.monotonic() + timeout * TIME_SCALE
        while text not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or not self._read(min(left, 0.1)):
                if text in self.buf:
                    break
                raise AssertionError(f"no {text!r} in {self.buf[-2000:]!r}")
        i = self.buf.index(text) + len(text)
        got, self.buf = self.buf[:i], self.buf[i:]
        return got

    def drain(self, quiet=0.3, limit=10.0):
        """Reads until nothing arrives for `quiet` s; forgets it all."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            n = len(self.buf)
            if not self._read(quiet) or len(self.buf) == n:
                break
        self.buf = b""

    def send(self, data):
        data = data.encode() if isinstance(data, str) else data
        for i in range(0, len(data), 512):
            os.write(self.master, data[i:i + 512])

    def cmd(self, line, timeout=5.0):
        """Runs line and returns the output up to the next prompt."""
        self.send(line + "\r")
        return self.expect(PROMPT, timeout).decode(errors="replace")

    def log(self):
        return open(self.log_path, errors="replace").read()

    def wait_exit(self, timeout=5.0):
        try:
            return self.proc.wait(timeout * TIME_SCALE)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("vigild did not exit")

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        try:
            os.close(self.master)
        except OSError:
            pass


def wait_job(c, job, states=("done", "failed", "cancelled"), timeout=30):
    """Polls `backup jobs` until job reaches one of states."""
    deadline = time.monotonic() + timeout * TIME_SCALE
    pat = re.compile(rf"job {job} (\w+)")
    out = ""
    while time.monotonic() < deadline:
        out = c.cmd("backup jobs")
        m = pat.search(out)
        if m and m.group(1) in states:
            return out
        time.sleep(0.1)
    raise AssertionError(f"job {job} not in {states}: {out}")
