"""The console's `restore` (docs/console.md): a board pulls files back from
vigil-backupd inside vigild's event loop, with progress in `restore
status`, cancel, and the result in the log; one transfer at a time.

Real processes on 127.0.0.1: vigil-backupd with TLS (client certificates
whose CN is the device), vigild --console driven on a pty (console.py)."""
import os
import re
import socket
import subprocess
import threading
import time

import pytest

from backupd import Server, TIMEOUT_MS, tls_args
from conftest import binary, make_certs, make_leaf
from console import Console, wait_job
from test_restore import restored_root, tree_state


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """conftest's PKI plus two board certificates of this module's own."""
    d = make_certs(tmp_path_factory.mktemp("pki"))
    for name in ("board-a", "board-b"):
        make_leaf(d, name)
    return d


@pytest.fixture
def srv(pki, tmp_path):
    s = Server(["--data", str(tmp_path / "data"), "--timeout-ms", str(TIMEOUT_MS)]
               + tls_args(pki)).start()
    yield s
    s.stop()


@pytest.fixture
def board(pki, tmp_path):
    """Starts vigild --console as a board (its certificate, its name)."""
    started = []

    def start(device, port, paths, timeout=5, extra=""):
        state = tmp_path / f"state-{device}-{len(started)}"
        conf = tmp_path / f"{device}-{len(started)}.conf"
        conf.write_text("\n".join([
            f"data.dir = {state}",
            "watchdog.device = none", "console.device = none",
            "log.syslog = false", "coap.listen = none",
            "coap.dtls_listen = none",
            f"backup.server = tls://127.0.0.1:{port}",
            f"backup.paths = {paths}",
            f"backup.timeout = {timeout}", "backup.retry_cap = 1",
            f"device.name = {device}",
            f"tls.ca = {pki / 'ca.crt'}",
            f"tls.cert = {pki / (device + '.crt')}",
            f"tls.key = {pki / (device + '.key')}",
        ]) + "\n" + extra)
        c = Console(conf, tmp_path / f"{device}-{len(started)}.log")
        started.append(c)
        c.expect(b"vigil> ")
        return c
    yield start
    for c in started:
        c.close()


def make_tree(root):
    """UTF-8 names, empty files, a file of several 64 KiB chunks, deep
    directories, modes and mtimes that differ from file to file."""
    files = {
        "plain.txt": b"hello\n",
        "empty": b"",
        "caf\u00e9/\u00fcn\u00efc\u00f8d\u00e9 \u2603.txt": "\u2603\n".encode(),
        "/".join(f"d{i}" for i in range(10)) + "/deep.bin": os.urandom(70_000),
        "big/large.bin": os.urandom(3 << 20),
    }
    modes = [0o644, 0o600, 0o755, 0o640, 0o444]
    for i, (rel, data) in enumerate(files.items()):
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        p.chmod(modes[i % len(modes)])
        os.utime(p, ns=(1_600_000_000_123_456_789 + i * 86_400_000_000_000,) * 2)
    return files


def wait_restore(c, rid, states=("done", "failed", "cancelled"), timeout=60):
    """Polls `restore status` until restore rid reaches one of states."""
    deadline = time.monotonic() + timeout
    pat = re.compile(rf"restore {rid} (\w+):")
    out = ""
    while time.monotonic() < deadline:
        out = c.cmd("restore status")
        m = pat.search(out)
        if m and m.group(1) in states:
            return out
        time.sleep(0.1)
    raise AssertionError(f"restore {rid} not in {states}: {out}")


def backup_now(c):
    out = c.cmd("backup now")
    m = re.search(r"job (\d+) queued", out)
    assert m, out
    out = wait_job(c, m.group(1), timeout=60)
    assert f"job {m.group(1)} done" in out, out


def test_console_restore_equals_the_source(srv, board, tmp_path):
    src = tmp_path / "src"
    make_tree(src)
    c = board("board-a", srv.tls_port, src)
    backup_now(c)
    dest = tmp_path / "dest"
    out = c.cmd(f"restore {dest}")
    assert "restore 1 started" in out, out
    out = wait_restore(c, 1)
    assert "5 restored and verified, 0 failed, 0 skipped" in out, out
    want, got = tree_state(src), tree_state(restored_root(dest, src))
    assert got == want      # sha256, modes and mtimes
    assert sorted(os.listdir(restored_root(dest, src) / "big")) == ["large.bin"]
    log = c.log()
    assert re.search(r"restore 1 done: 5 files restored and verified, 0 failed, "
                     r"0 skipped, 3215738 bytes \(snapshot 1\)", log), log
    # the restore resumed the backup's session, and the server knew whose
    srv.wait_for(r"client .*CN=board-a.*\(resumed session\)")
    # the agent still backs up afterwards (its session was reopened)
    backup_now(c)


def test_console_restore_keeps_existing_files_unless_overwrite(srv, board, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_bytes(b"from the backup\n")
    (src / "b.txt").write_bytes(b"b\n")
    c = board("board-a", srv.tls_port, src)
    backup_now(c)
    dest = tmp_path / "dest"
    a = restored_root(dest, src) / "a.txt"
    a.parent.mkdir(parents=True)
    a.write_bytes(b"local edit\n")
    c.cmd(f"restore {dest}")
    out = wait_restore(c, 1)
    assert "1 restored and verified, 0 failed, 1 skipped" in out, out
    assert a.read_bytes() == b"local edit\n"
    assert "a.txt: exists (kept; --overwrite replaces it)" in c.log()
    c.cmd(f"restore --overwrite --path {src}/a.txt {dest}")
    out = wait_restore(c, 2)
    assert "restore 2 done" in out and "1 restored and verified" in out, out
    assert a.read_bytes() == b"from the backup\n"


def test_console_restore_of_another_device_needs_a_grant(srv, board, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "data.db").write_bytes(os.urandom(5000))
    a = board("board-a", srv.tls_port, src)
    backup_now(a)
    b = board("board-b", srv.tls_port, tmp_path / "nothing")
    dest = tmp_path / "dest"
    b.cmd(f"restore --device board-a {dest}")
    out = wait_restore(b, 1)
    assert "restore 1 failed" in out and "access denied" in out, out
    assert not dest.exists() or not any(dest.rglob("*"))
    assert re.search(r"restore 1 failed: .*access denied", b.log()), b.log()
    srv.wait_for(r"1041 for board-a refused \(1649 1\): board-b")
    g = subprocess.run([str(binary("vigil-backupd")), "--data", str(tmp_path / "data"),
                        "--grant", "board-a=board-b"],
                       capture_output=True, text=True, timeout=10)
    assert g.returncode == 0, g.stderr
    b.cmd(f"restore --device board-a {dest}")
    out = wait_restore(b, 2)
    assert "restore 2 done" in out, out
    assert (restored_root(dest, src) / "data.db").read_bytes() == \
        (src / "data.db").read_bytes()


@pytest.fixture
def silent_server():
    """A TCP listener that accepts and never answers: a transfer to it
    stays in "connecting" (the TLS handshake) until backup.timeout."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    yield s.getsockname()[1]
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    s.close()


def test_one_transfer_at_a_time_and_cancel(board, silent_server, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "f").write_bytes(b"x")
    c = board("board-a", silent_server, src, timeout=60)
    dest = tmp_path / "dest"
    assert "restore 1 started" in c.cmd(f"restore {dest}")
    out = c.cmd("restore status")
    assert "restore 1 running: connecting" in out, out
    out = c.cmd("backup now")
    assert "refused: a restore is running" in out, out
    assert "restore: refused: a restore is running" in c.cmd(f"restore {dest}")
    # a reload waits for the restore's end (it keeps its connection)
    assert "config reload: applied" in c.cmd("config reload")
    assert "restore 1 running" in c.cmd("restore status")
    out = c.cmd("restore cancel board swap postponed")
    assert "restore 1 cancelled" in out, out
    out = c.cmd("restore status")
    assert "restore 1 cancelled" in out and \
        "cancel reason: board swap postponed" in out, out
    assert "restore 1 cancelled: board swap postponed" in c.log()
    assert "restore: none is running" in c.cmd("restore cancel")
    # and the other way round: no restore while a backup job runs
    out = c.cmd("backup now")
    assert "job 1 queued" in out, out
    out = c.cmd(f"restore {dest}")
    assert "refused: a backup job is running" in out, out
    assert "job 1 cancelled" in c.cmd("backup cancel 1")
    assert not dest.exists()


def test_console_restore_refuses_bad_arguments(board, silent_server, tmp_path):
    c = board("board-a", silent_server, tmp_path)
    assert "DEST must be an absolute path" in c.cmd("restore relative/dir")
    assert "bad snapshot `x1`" in c.cmd("restore --snapshot x1 /tmp/x")
    assert "unknown option `--paht`" in c.cmd("restore --paht a /tmp/x")
    assert "give exactly one DEST" in c.cmd("restore --overwrite")
    assert "restore: none since start" in c.cmd("restore status")


class StallProxy:
    """127.0.0.1 proxy to target: the first connection is passed through;
    on later ones, the server's bytes stop after `limit` (held, not cut),
    so a restore stays in the middle of a file for as long as the test
    wants."""

    def __init__(self, target, limit):
        self.target, self.limit = target, limit
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.socks = []
        self.conns = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                a, _ = self.sock.accept()
            except OSError:
                return
            b = socket.create_connection(self.target, timeout=5)
            b.settimeout(None)
            self.socks += [a, b]
            left = self.limit if self.conns > 0 else None
            self.conns += 1
            threading.Thread(target=self._pump, args=(a, b, None), daemon=True).start()
            threading.Thread(target=self._pump, args=(b, a, left), daemon=True).start()

    @staticmethod
    def _pump(src, dst, left):
        while True:
            try:
                data = src.recv(65536)
                if not data:
                    break
                if left is not None:
                    data = data[:left]
                    left -= len(data)
                if data:
                    dst.sendall(data)
                if left == 0:
                    break           # hold: nothing more downstream
            except OSError:
                break

    def stop(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        for s in self.socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()


def test_cancel_mid_file_leaves_no_partial_file(srv, board, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "large.bin").write_bytes(os.urandom(3 << 20))
    proxy = StallProxy(("127.0.0.1", srv.tls_port), 1 << 20)
    try:
        c = board("board-a", proxy.port, src, timeout=60)
        backup_now(c)
        dest = tmp_path / "dest"
        assert "restore 1 started" in c.cmd(f"restore {dest}")
        target = restored_root(dest, src) / "large.bin"
        deadline = time.monotonic() + 30
        out = ""
        while time.monotonic() < deadline:
            out = c.cmd("restore status")
            if f"file: {src}/large.bin" in out and \
                    (target.parent / "large.bin.tmp").exists():
                break
            time.sleep(0.1)
        assert "restore 1 running: receiving" in out, out
        assert (target.parent / "large.bin.tmp").stat().st_size < 3 << 20
        out = c.cmd("restore cancel")
        assert "restore 1 cancelled" in out, out
        assert sorted(os.listdir(target.parent)) == [], os.listdir(target.parent)
        assert "restore 1 cancelled: cancelled" in c.log()
    finally:
        proxy.stop()
