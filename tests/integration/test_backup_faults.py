"""Backup faults (issue 5): vigil-backupd killed mid-transfer, and a proxy
that cuts the connection at chosen offsets.

Server killed (SIGKILL) while it receives a 128 MiB file:
  - restarted within the agent's backoff window (tcp:// and tls://): the
    same job finishes, and the agent's log shows the two retries with
    growing delays (about 0.5 s, then 1 s);
  - restarted after the window: the job fails after 3 attempts with the
    reason, and the next scheduled job finishes;
  - the one-shot `vigild backup` retries the same way and exits 0.
In every case the client's directory on the server only ever holds whole
versions (watched while it runs); the killed run's temp file stays in
<data>/.tmp until the restarted server removes it.

Proxy cuts: a threaded TCP proxy on 127.0.0.1 forwards both directions
and, on its first two connections, stops at an offset drawn from a seed,
then closes both sides: inside the first request header, inside the key
exchange (the server's 1600, the 1026/1027 payload, the server's
1602/1605), inside a 1028, between two 1028 packets, right before the 1029; over tls:// (the
proxy is plain TCP under it) inside the TLS handshake and inside the file
data.  The agent retries and finishes, each file has exactly one version,
equal to the source, and the server logs the partial state it cleared."""
import hashlib
import os
import random
import re
import signal
import socket
import struct
import subprocess
import threading
import time

import pytest

import v3_client as v3
from conftest import binary
from backup_cli import sha
from backupd import Server
from console import Console, wait_job
from netutil import free_port
from v3_names import v3_name

BIG = 128 << 20          # ~0.5 s over loopback: killed well inside it
KILL_AT = 8 << 20        # bytes of the temp file when the server is killed
RETRY_RE = re.compile(r"job (\d+): retrying in (\d+) ms \(attempt (\d) of 3\)")
CLOSED_RE = (r"127\.0\.0\.1:{port}: closed \((peer closed|peer closed "
             r"mid-request|receive error|TLS handshake failed)\): (\d+) file\(s\) stored, "
             r"(\d+) partial cleared")


@pytest.fixture(scope="module")
def big_src(tmp_path_factory):
    """A directory with a 128 MiB random file and a small one: {path: sha}."""
    src = tmp_path_factory.mktemp("bigsrc")
    big, small = src / "big.bin", src / "small.txt"
    h = hashlib.sha256()
    with open(big, "wb") as f:
        for _ in range(BIG >> 20):
            chunk = os.urandom(1 << 20)
            h.update(chunk)
            f.write(chunk)
    small.write_bytes(b"a small file next to a big one\n")
    return src, {big: h.hexdigest(), small: sha(small)}


@pytest.fixture
def backupd(tmp_path, pki):
    """Starts vigil-backupd on 127.0.0.1:port (0: any) for tcp or tls."""
    running = []

    def start(transport, port=0, timeout_ms=3000):
        args = ["--data", str(tmp_path / "data"), "--timeout-ms", str(timeout_ms)]
        if transport == "tcp":
            args += ["--plain", f"127.0.0.1:{port}"]
        else:
            args += ["--tls", f"127.0.0.1:{port}",
                     "--tls-cert", str(pki / "server.crt"),
                     "--tls-key", str(pki / "server.key"),
                     "--tls-ca", str(pki / "ca.crt")]
        s = Server(args).start()
        s.listen = s.port if transport == "tcp" else s.tls_port
        running.append(s)
        return s
    yield start
    for s in running:
        if s.proc.poll() is None:
            s.proc.kill()
            s.proc.wait()


@pytest.fixture
def agent(tmp_path, pki):
    """vigild --console backing up to url (tls:// gets our PKI)."""
    started = []

    def start(url, paths, extra=""):
        conf = tmp_path / f"vigil{len(started)}.conf"
        tls = ""
        if url.startswith("tls://"):
            tls = (f"tls.ca = {pki / 'ca.crt'}\ntls.cert = {pki / 'client.crt'}\n"
                   f"tls.key = {pki / 'client.key'}\n")
        conf.write_text(
            f"data.dir = {tmp_path}/agentdata\n"
            "watchdog.device = none\nconsole.device = none\nlog.syslog = false\n"
            "coap.listen = none\ncoap.dtls_listen = none\n"
            f"backup.server = {url}\nbackup.paths = {paths}\n" + tls + extra)
        c = Console(conf, tmp_path / f"agent{len(started)}.log")
        started.append(c)
        c.expect(b"vigil> ")
        return c
    yield start
    for c in started:
        c.close()


def client_dir(data):
    dirs = [d for d in os.listdir(data) if len(d) == 32]
    assert len(dirs) <= 1, dirs
    return data / dirs[0] if dirs else None


def versions(data, path):
    """Sorted version names of path's file on the server ([] if none)."""
    d = client_dir(data)
    if d is None or not (d / v3_name(path)).exists():
        return []
    return sorted(os.listdir(d / v3_name(path)))


def assert_stored_once(data, files):
    for path, digest in files.items():
        assert versions(data, path) == ["v1"], (path, versions(data, path))
        assert sha(client_dir(data) / v3_name(path) / "v1") == digest, path
    assert os.listdir(data / ".tmp") == []


class LayoutWatch(threading.Thread):
    """Lists <data>/<uuid>/<name>/ every few ms while a test runs and keeps
    every size seen for each version file: a reader of the client's
    directory must only ever see whole files."""

    def __init__(self, data):
        super().__init__(daemon=True)
        self.data = data
        self.seen = {}
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set():
            try:
                for d in os.listdir(self.data):
                    if len(d) != 32:
                        continue
                    for name in os.listdir(self.data / d):
                        for v in os.listdir(self.data / d / name):
                            size = os.stat(self.data / d / name / v).st_size
                            self.seen.setdefault(name, set()).add(size)
            except FileNotFoundError:
                pass            # created or removed while listing
            time.sleep(0.003)

    def check(self, files):
        self.halt.set()
        self.join(5)
        sizes = {v3_name(p): {p.stat().st_size} for p in files}
        assert self.seen, "the watcher never saw a stored version"
        for name, seen in self.seen.items():
            assert seen == sizes[name], (name, seen, sizes[name])


@pytest.fixture
def watch(tmp_path):
    """A LayoutWatch of this test's server data, running."""
    w = LayoutWatch(tmp_path / "data")
    w.start()
    yield w
    w.halt.set()
    w.join(5)


def wait_part(data, at_least, timeout=20):
    """The temp file under <data>/.tmp once it holds at_least bytes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            for p in (data / ".tmp").iterdir():
                if p.stat().st_size >= at_least:
                    return p
        except FileNotFoundError:
            pass
        time.sleep(0.002)
    raise AssertionError(f"no temp file of {at_least} bytes in {data}/.tmp")


def kill(srv, data, big):
    """SIGKILLs the server mid-file; the partial file is in .tmp only."""
    part = wait_part(data, KILL_AT)
    srv.proc.kill()
    srv.proc.wait()
    size = part.stat().st_size          # the kill left it behind
    assert KILL_AT <= size < BIG, f"killed too late: {size} bytes"
    assert versions(data, big) == []
    return part


def restart(start, transport, port, part):
    """The server again on the same port and data: the leftover goes."""
    srv = start(transport, port)
    assert srv.listen == port
    srv.wait_for(r"startup: removed 1 partial file\(s\) of a previous run")
    assert not part.exists()
    return srv


def wait_log(c, pattern, count=1, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.findall(pattern, c.log())
        if len(found) >= count:
            return found
        time.sleep(0.01)
    raise AssertionError(f"{count} x {pattern!r} not in the log:\n{c.log()}")


# ---- the server killed mid-transfer ------------------------------------------

@pytest.mark.parametrize("transport", ["tcp", "tls"])
def test_server_killed_restarted_in_backoff_job_finishes(
        transport, backupd, agent, big_src, watch, tmp_path):
    src, files = big_src
    data = tmp_path / "data"
    port = free_port()
    srv = backupd(transport, port)
    c = agent(f"{transport}://127.0.0.1:{port}", src,
              "backup.timeout = 5\nbackup.retry_cap = 30\n")
    assert "job 1 queued" in c.cmd("backup now")
    part = kill(srv, data, src / "big.bin")
    # the agent waits ~0.5 s, finds nothing listening, waits ~1 s: the
    # server comes back before the third attempt.  The agent is stopped
    # while the server restarts, so a start-up slower than that second
    # (a loaded CI machine) cannot make the third attempt find the port
    # closed too; its timer is monotonic, so it fires at once on SIGCONT.
    retries = wait_log(c, RETRY_RE, count=2)
    c.proc.send_signal(signal.SIGSTOP)
    try:
        srv = restart(backupd, transport, port, part)
    finally:
        c.proc.send_signal(signal.SIGCONT)
    out = wait_job(c, 1, timeout=30)
    assert "job 1 done" in out and "2/2 files" in out, out
    watch.check(files)
    assert_stored_once(data, files)
    log = c.log()
    assert re.search(rf"job 1: connect 127\.0\.0\.1:{port}: Connection refused",
                     log), log
    delays = [int(ms) for _, ms, _ in retries]
    assert [a for _, _, a in retries] == ["2", "3"], retries
    assert 375 <= delays[0] <= 625 and 750 <= delays[1] <= 1250, delays
    # one session after the restart, on the identity registered before
    srv.wait_for(r"session key sent \(1605\)")


def test_server_down_past_backoff_next_scheduled_run_finishes(
        backupd, agent, big_src, watch, tmp_path):
    src, files = big_src
    big = src / "big.bin"
    data = tmp_path / "data"
    port = free_port()
    srv = backupd("tcp", port)
    c = agent(f"tcp://127.0.0.1:{port}", big,
              "backup.interval = 3\nbackup.timeout = 5\n")
    part = kill(srv, data, big)
    out = wait_job(c, 1, timeout=10)
    assert re.search(r"job 1 failed \(scheduled\)", out), out
    assert re.search(rf"connect 127\.0\.0\.1:{port}: Connection refused "
                     r"\(3 attempts\)", out), out
    assert versions(data, big) == [] and part.exists()
    restart(backupd, "tcp", port, part)
    # the schedule goes on: the next tick's job sends the file whole
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        out = c.cmd("backup jobs")
        if re.search(r"job \d+ done \(scheduled\)", out):
            break
        time.sleep(0.1)
    assert re.search(r"job \d+ done \(scheduled\)", out), out
    c.close()                           # no third run meanwhile
    watch.check({big: files[big]})
    assert_stored_once(data, {big: files[big]})


def test_one_shot_cli_retries_after_server_restart(backupd, big_src, watch,
                                                  tmp_path):
    src, files = big_src
    data = tmp_path / "data"
    port = free_port()
    srv = backupd("tcp", port)
    proc = subprocess.Popen(
        [str(binary("vigild")), "backup", "--server", f"tcp://127.0.0.1:{port}",
         "--state", str(tmp_path / "state"), "--name", "cli-box",
         "--timeout", "5000", str(src)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        part = kill(srv, data, src / "big.bin")
        killed = time.monotonic()
        # the second attempt comes 375-625 ms after the failure and finds
        # nothing listening; the third comes 750-1250 ms later
        time.sleep(0.7)
        restart(backupd, "tcp", port, part)
        assert time.monotonic() - killed < 1.1, "restart too slow for the test"
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "2 files verified" in err, err
    watch.check(files)
    assert_stored_once(data, files)


# ---- a proxy that cuts connections ---------------------------------------------

REQ_HDR, RESP_HDR = 23, 7
FILE_HEAD = REQ_HDR + 4 + 4 + 2 + 2 + 255     # 1028 header + fixed part


class Stream:
    """Follows one direction of a plain v3 connection message by message,
    so that a cut rule can set `limit` (the stream offset after which
    nothing more is forwarded) from what it has seen."""

    def __init__(self, hdr, rule, side, parse=True):
        self.hdr, self.rule, self.side, self.parse = hdr, rule, side, parse
        self.pos = self.start = 0
        self.head = b""
        self.code = self.end = None
        self.limit = None

    def _head_size(self):
        return FILE_HEAD if self.code == 1028 else self.hdr

    def feed(self, data):
        """Follows data; returns how many of its bytes may be forwarded."""
        before, i = self.pos, 0
        if not self.parse:              # TLS records: offsets only
            self.pos += len(data)
            i = len(data)
        while i < len(data):
            if self.code is None or len(self.head) < self._head_size():
                want = (self.hdr if self.code is None else FILE_HEAD) - len(self.head)
                take = data[i:i + want]
                self.head += take
                i += len(take)
                self.pos += len(take)
                if self.code is None and len(self.head) == self.hdr:
                    self._on_header()
                elif self.code == 1028 and len(self.head) == FILE_HEAD:
                    packet, total = struct.unpack_from("<HH", self.head, REQ_HDR + 8)
                    name = self.head[REQ_HDR + 12:].rstrip(b"\0").decode(errors="replace")
                    self.rule.on_file(self, packet, total, name)
            else:
                n = min(len(data) - i, self.end - self.pos)
                i += n
                self.pos += n
            if self.code is not None and self.pos == self.end:
                self.start, self.head, self.code = self.pos, b"", None
        if self.limit is None:
            return len(data)
        return max(0, min(len(data), self.limit - before))

    def _on_header(self):
        if self.hdr == REQ_HDR:
            self.code, size = struct.unpack_from("<HI", self.head, 17)
        else:
            self.code, size = struct.unpack_from("<HI", self.head, 1)
        self.end = self.start + self.hdr + size
        self.rule.on_header(self)


class Cut:
    """Where one connection is cut, drawn from rng when the place is seen.

    kind: header      inside the first request's header
          reg_reply   inside the server's 1600 (the new client's id)
          key         inside the 1026 (new client) or 1027 payload
          key_reply   inside the server's 1602/1605 (the wrapped AES key)
          mid1028     inside a 1028 of the big file, past its fixed part
          between     after a 1028 of the big file that is not the last
          before1029  after the big file's last 1028: when the 1029 comes
          tls_hs      (tls) 1-250 bytes client->server, or 1-700 back
          tls_data    (tls) inside the file data, client->server
    """

    PARTIAL = {"header": 0, "reg_reply": 0, "key": 0, "key_reply": 0, "mid1028": 1,
               "between": 1, "before1029": 1, "tls_hs": 0, "tls_data": 1}

    def __init__(self, kind, rng, big_name):
        self.kind, self.rng, self.big = kind, rng, big_name
        self.at = None          # (side, offset) once placed

    def place(self, stream, offset):
        if self.at is None:
            stream.limit = offset
            self.at = (stream.side, offset)

    def begin(self, up, down):
        if self.kind == "header":
            self.place(up, self.rng.randint(1, REQ_HDR - 1))
        elif self.kind == "tls_hs":
            if self.rng.random() < 0.5:
                self.place(up, self.rng.randint(1, 250))
            else:
                self.place(down, self.rng.randint(1, 700))
        elif self.kind == "tls_data":
            self.place(up, self.rng.randint(100_000, 250_000))

    def on_header(self, s):
        if self.kind == "key" and s.side == "up" and s.code in (1026, 1027):
            self.place(s, s.start + self.rng.randint(REQ_HDR, s.end - s.start - 1))
        if self.kind == "reg_reply" and s.side == "down" and s.code == 1600:
            self.place(s, s.start + self.rng.randint(RESP_HDR, s.end - s.start - 1))
        if self.kind == "key_reply" and s.side == "down" and s.code in (1602, 1605):
            self.place(s, s.start + self.rng.randint(RESP_HDR, s.end - s.start - 1))

    def on_file(self, s, packet, total, name):
        if name != self.big:
            return
        if self.kind == "mid1028" and packet == self.rng.randint(packet, total):
            self.place(s, s.start + self.rng.randint(FILE_HEAD + 1, s.end - s.start - 1))
        elif self.kind == "between" and packet < total and \
                packet == self.rng.randint(packet, total - 1):
            self.place(s, s.end)
        elif self.kind == "before1029" and packet == total:
            self.place(s, s.end)


class Pipe:
    """One proxied connection: agent side a, server side b."""

    def __init__(self, a, b, cut, tls):
        self.a, self.b, self.cut = a, b, cut
        self.lock = threading.Lock()
        self.cut_done = False
        self.local_port = b.getsockname()[1]   # the server logs this peer
        self.up = Stream(REQ_HDR, cut, "up", not tls) if cut else None
        self.down = Stream(RESP_HDR, cut, "down", not tls) if cut else None
        if cut:
            cut.begin(self.up, self.down)
        self.threads = [threading.Thread(target=self._pump, args=x, daemon=True)
                        for x in ((a, b, self.up), (b, a, self.down))]
        for t in self.threads:
            t.start()

    def _pump(self, src, dst, stream):
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                break
            if not data:
                break
            with self.lock:
                if self.cut_done:
                    continue            # cut: the rest is dropped
                n = stream.feed(data) if stream else len(data)
                if n < len(data):
                    self.cut_done = True
            try:
                dst.sendall(data[:n])
            except OSError:
                pass
            if n < len(data):
                self._close_both()
        self._shut(dst)

    @staticmethod
    def _shut(s):
        try:
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def _close_both(self):
        """FIN to both peers; each pump drains its side until the peer
        closes too."""
        self._shut(self.a)
        self._shut(self.b)

    def close(self):
        for s in (self.a, self.b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for t in self.threads:
            t.join(5)
        self.a.close()
        self.b.close()


class CutProxy:
    """127.0.0.1 proxy to target; connection i is cut by cuts[i], later
    ones pass untouched."""

    def __init__(self, target, cuts, tls):
        self.target, self.cuts, self.tls = target, list(cuts), tls
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.pipes = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                a, _ = self.sock.accept()
            except OSError:
                return
            i = len(self.pipes)
            try:
                b = socket.create_connection(self.target, timeout=5)
            except OSError:
                a.close()
                continue
            b.settimeout(None)
            self.pipes.append(Pipe(a, b, self.cuts[i] if i < len(self.cuts) else None,
                                   self.tls))

    def close(self):
        self.sock.shutdown(socket.SHUT_RDWR)    # wakes accept() (Linux)
        self.sock.close()
        self.thread.join(5)
        assert not self.thread.is_alive()
        for p in self.pipes:
            p.close()


# every kind once on the first connection (a new client registers) and
# once on the second (it reconnects with its identity, or sends its key
# again); the seed places the cuts.  reg_reply needs a client without an
# id, so it only follows a cut before the 1600.
PLAIN_KINDS = ["header", "reg_reply", "key", "key_reply", "mid1028", "between",
               "before1029"]
PLAIN_CASES = {s: (k, PLAIN_KINDS[(s + 1) % 7]) for s, k in enumerate(PLAIN_KINDS)}
TLS_CASES = {0: ("tls_hs", "tls_data"), 1: ("tls_data", "tls_hs"),
             2: ("tls_hs", "tls_hs")}
CASES = [("tcp", s) for s in PLAIN_CASES] + [("tls", s) for s in TLS_CASES]


@pytest.mark.parametrize("transport,seed", CASES)
def test_proxy_cuts_retried_and_nothing_partial(transport, seed, backupd, agent,
                                                tmp_path):
    kinds = (PLAIN_CASES if transport == "tcp" else TLS_CASES)[seed]
    src = tmp_path / "src"
    src.mkdir()
    big, small = src / "big.bin", src / "small.txt"
    big.write_bytes(os.urandom(5 * 65536 - 100))    # 5 packets
    small.write_bytes(b"small\n")
    files = {big: sha(big), small: sha(small)}
    cuts = [Cut(k, random.Random(seed * 10 + i), v3_name(big))
            for i, k in enumerate(kinds)]
    srv = backupd(transport)
    proxy = CutProxy(("127.0.0.1", srv.listen), cuts, transport == "tls")
    try:
        c = agent(f"{transport}://127.0.0.1:{proxy.port}", src,
                  "backup.timeout = 3\nbackup.retry_cap = 500ms\n")
        assert "job 1 queued" in c.cmd("backup now")
        out = wait_job(c, 1, timeout=30)
        assert "job 1 done" in out and "2/2 files" in out, (kinds, out)
        assert len(proxy.pipes) == len(cuts) + 1, (kinds, len(proxy.pipes))
        for cut, pipe in zip(cuts, proxy.pipes):
            assert cut.at is not None and pipe.cut_done, (cut.kind, cut.at)
            line = srv.wait_for(CLOSED_RE.format(port=pipe.local_port))
            partial = int(re.search(r"(\d+) partial cleared", line).group(1))
            # a vigil/2 upload cut by the network is kept for a resume
            # (test_backup_resume.py), any other partial file is cleared
            kept = int(re.search(r"(\d+) kept", line).group(1))
            assert partial + kept == Cut.PARTIAL[cut.kind], (cut.kind, cut.at, line)
            assert kept == 0 or transport == "tls", line
        # a handshake cut while offering the session saved from an
        # earlier connection drops it and reconnects at once for a full
        # handshake: no retry, no backoff (docs/backup.md)
        dropped = sum(1 for i, k in enumerate(kinds)
                      if k == "tls_hs" and "tls_data" in kinds[:i])
        assert c.log().count("session dropped") == dropped, (kinds, c.log())
        # a 1604 between the cuts starts the count again
        retries = re.findall(RETRY_RE, c.log())
        assert len(retries) == 2 - dropped, (kinds, retries)
        assert {a for _, _, a in retries} <= {"2", "3"}, (kinds, retries)
        assert_stored_once(tmp_path / "data", files)
    finally:
        proxy.close()


def test_lost_1600_and_1602_do_not_lock_a_client_out(backupd):
    """The server side of reg_reply and key_reply, with the Python client:
    a name registered without a key is registered again with the same id,
    and the key a client already has may be sent again from another
    connection; a different key, or a name with a key, is still refused."""
    srv = backupd("tcp")
    addr = ("127.0.0.1", srv.listen)
    first = v3.Client(addr, "lossy")
    first_id = first.register()          # the 1600 "never arrives"
    again = v3.Client(addr, "lossy")
    assert again.register() == first_id
    srv.wait_for(r"register lossy again: no key was ever sent, same id")
    again.send_key()                     # the 1602 "never arrives"
    other = v3.Client(addr, "lossy")
    other.id, other.key = again.id, again.key
    other.send_key()                     # the same key: taken again
    other.backup("f", b"after two lost replies")
    # now the client has a key: the name is taken, and the connections
    # that registered it again cannot put another key in
    with pytest.raises(v3.ServerError) as e:
        v3.Client(addr, "lossy").register()
    assert e.value.args[0] == v3.R_REG_FAIL
    thief = v3.Client(addr, "lossy")
    thief.id = first_id
    with pytest.raises(v3.ServerError) as e:
        thief.send_key()
    assert e.value.args[0] == v3.R_ERROR
    srv.wait_for("1026 for lossy: client has a key, not registered on this connection")
    again.key = thief.key               # nor the one that registered again
    with pytest.raises(v3.ServerError) as e:
        again.send_key()
    assert e.value.args[0] == v3.R_ERROR
    # the client's own key still works
    back = v3.Client(addr, "lossy")
    back.id, back.key = other.id, other.key
    assert back.reconnect() == v3.R_RECON_OK
    for c in (first, again, other, thief, back):
        c.close()
