"""Fault tools for the reliability campaign (issue 19), reusable by any
test: a TCP proxy that delays, throttles, cuts, corrupts or blackholes;
kill -9 at a moment chosen by an event; a size-limited tmpfs in a
private mount namespace; a network namespace with nftables partitions;
a time namespace with CLOCK_MONOTONIC offsets; the host vigild's test
wall-clock offset (CLOCK_REALTIME jumps).

Everything here runs on 127.0.0.1 or in namespaces it creates, and every
process or thread it starts is stopped by close()."""
import os
import signal
import socket
import subprocess
import threading
import time


# ---- the TCP proxy -------------------------------------------------------------

class Fault:
    """What the proxy does to one connection.  Offsets count the bytes of
    the direction they name (up: client to server, down: back).

    delay      seconds each chunk waits before it is forwarded (latency)
    rate       bytes per second per direction (throttle), None: no limit
    cut_at     (dir, n): after n bytes of dir, both sides get a FIN and
               nothing more is forwarded
    corrupt_at (dir, n): byte n of dir is XORed with `mask` (one byte)
    hole_at    (dir, n): after n bytes of dir nothing more is forwarded
               either way, and the sockets stay open (a blackhole: the
               peers see silence, not a close; what they send is read
               and dropped)
    stall_at   (dir, n): after n bytes of dir the proxy stops reading
               that direction: the sender's window closes and its
               writes block, as behind a stuck peer or a link that
               drops every packet"""

    def __init__(self, delay=0.0, rate=None, cut_at=None, corrupt_at=None,
                 hole_at=None, stall_at=None, mask=0x01):
        self.delay, self.rate, self.mask = delay, rate, mask
        self.cut_at, self.corrupt_at, self.hole_at = cut_at, corrupt_at, hole_at
        self.stall_at = stall_at

    def __repr__(self):
        parts = [f"{k}={v}" for k, v in vars(self).items()
                 if v not in (None, 0.0) and k != "mask"]
        return "Fault(" + ", ".join(parts) + ")"


class _Conn:
    """One proxied connection: client socket a, server socket b."""

    def __init__(self, proxy, a, b, fault):
        self.proxy, self.a, self.b, self.fault = proxy, a, b, fault
        self.count = {"up": 0, "down": 0}
        self.cut = self.holed = self.corrupted = False
        self.lock = threading.Lock()
        self.closing = threading.Event()
        self.threads = [threading.Thread(target=self._pump, args=(src, dst, d), daemon=True)
                        for src, dst, d in ((a, b, "up"), (b, a, "down"))]
        for t in self.threads:
            t.start()

    def _limit(self, d, at):
        """Bytes of this chunk direction d may pass before offset `at`."""
        if at is None or at[0] != d:
            return None
        return max(0, at[1] - self.count[d])

    def _shape(self, d, data):
        """(bytes to forward now, what happens after them)."""
        f = self.fault
        with self.lock:
            if self.cut or self.holed or self.proxy.holed:
                return b"", "drop"
            then = None
            n = len(data)
            for at, what in ((f.cut_at, "cut"), (f.hole_at, "hole"), (f.stall_at, "stall")):
                lim = self._limit(d, at)
                if lim is not None and lim < n:
                    n, then = lim, what
            out = bytearray(data[:n])
            lim = self._limit(d, f.corrupt_at)
            if lim is not None and lim < n and not self.corrupted:
                out[lim] ^= f.mask
                self.corrupted = True
                self.proxy.corrupted += 1
                self.proxy.last_fault_at = time.monotonic()
            self.count[d] += n
            self.proxy.bytes[d] += n
            if then:
                self.proxy.last_fault_at = time.monotonic()
            if then == "cut":
                self.cut = True
                self.proxy.cuts += 1
            elif then == "hole":
                self.holed = True
                self.proxy.holes += 1
            elif then == "stall":
                self.proxy.stalls += 1
            return bytes(out), then

    def _pump(self, src, dst, d):
        f = self.fault
        while True:
            try:
                data = src.recv(65536 if f.rate is None else min(65536, max(1, f.rate // 20)))
            except OSError:
                break
            if not data:
                break
            out, then = self._shape(d, data)
            if f.delay:
                time.sleep(f.delay)
            if f.rate:
                time.sleep(len(out) / f.rate)
            if out:
                try:
                    dst.sendall(out)
                except OSError:
                    break
            if then == "cut":
                self._fin(self.a)
                self._fin(self.b)
            if then == "stall":
                self.closing.wait()     # read nothing more until close()
                return
            # after a cut or in a hole: read and drop until the peer closes
        self._fin(dst)

    @staticmethod
    def _fin(s):
        try:
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self):
        self.closing.set()
        for s in (self.a, self.b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for t in self.threads:
            t.join(5)
        self.a.close()
        self.b.close()


class FaultProxy:
    """A TCP proxy on 127.0.0.1 to target.  plan(i) (or plan[i]) is the
    Fault of connection i (None or past the list: forwarded untouched).
    blackhole(True) holds every connection, new and open, silent."""

    def __init__(self, target, plan=()):
        self.target, self.plan = target, plan
        self.bytes = {"up": 0, "down": 0}
        self.cuts = self.holes = self.stalls = self.corrupted = 0
        self.holed = False
        self.last_fault_at = None       # CLOCK_MONOTONIC of the last cut/hole/flip
        self.conns = []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def fault_for(self, i):
        if callable(self.plan):
            return self.plan(i)
        return self.plan[i] if i < len(self.plan) else None

    def blackhole(self, on):
        self.holed = on

    def _accept(self):
        while True:
            try:
                a, _ = self.sock.accept()
            except OSError:
                return
            try:
                b = socket.create_connection(self.target, timeout=5)
            except OSError:
                a.close()           # nothing listening: the client sees a close
                continue
            b.settimeout(None)
            fault = self.fault_for(len(self.conns)) or Fault()
            self.conns.append(_Conn(self, a, b, fault))

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)    # wakes accept()
        except OSError:
            pass
        self.sock.close()
        self.thread.join(5)
        for c in self.conns:
            c.close()


# ---- kill -9 at a chosen moment ----------------------------------------------

def wait_until(pred, timeout, step=0.002, what="condition"):
    """Polls pred() until it returns a true value (returned), or fails."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def kill9(proc):
    """SIGKILL and reap; True if it was still running."""
    if proc.poll() is not None:
        return False
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    return True


def kill9_when(proc, pred, timeout=30, what="kill point"):
    """kill -9 of proc as soon as pred() is true (a file size reached, a
    log line seen): a random point is a random threshold."""
    wait_until(pred, timeout, what=what)
    return kill9(proc)


def file_size_at_least(path_glob_dir, n):
    """pred: some file directly in directory path_glob_dir has >= n bytes."""
    def pred():
        try:
            for p in os.scandir(path_glob_dir):
                if p.is_file() and p.stat().st_size >= n:
                    return p.path
        except FileNotFoundError:
            pass
        return None
    return pred


# ---- namespaces -----------------------------------------------------------------

class _Holder:
    """A process that only keeps namespaces alive; others enter them with
    nsenter -t pid."""

    def __init__(self, unshare_args, setup=""):
        # the holder prints its pid once setup is done, then waits on
        # stdin: closing stdin (or the test dying) ends it
        script = (setup + "; echo ready; exec cat >/dev/null") if setup else \
            "echo ready; exec cat >/dev/null"
        self.proc = subprocess.Popen(
            ["unshare", *unshare_args, "sh", "-c", script],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        line = self.proc.stdout.readline()
        if line.strip() != b"ready":
            err = self.proc.stderr.read().decode(errors="replace")
            self.close()
            raise AssertionError(f"unshare {unshare_args}: {err}")
        self.pid = self.proc.pid

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                kill9(self.proc)


class NetNs(_Holder):
    """A network namespace of the test's own with lo up; `prefix` runs a
    command inside it.  partition(port) drops every TCP segment to or
    from port (nftables, so neither side sees a reset: the link is
    silent); heal() removes the rules."""

    TABLE = "campaign"

    def __init__(self):
        super().__init__(["-n"], "ip link set lo up")
        self.prefix = ["nsenter", "-t", str(self.pid), "-n", "--"]
        self.nft(f"add table inet {self.TABLE}")
        self.nft(f"add chain inet {self.TABLE} out "
                 "{ type filter hook output priority 0; policy accept; }")

    def run(self, *cmd, **kw):
        return subprocess.run([*self.prefix, *cmd], capture_output=True, text=True,
                              timeout=10, **kw)

    def nft(self, rule):
        r = self.run("nft", rule)
        assert r.returncode == 0, (rule, r.stderr)

    def partition(self, port):
        """Drops every TCP segment to or from `port` (either side)."""
        self.nft(f"add rule inet {self.TABLE} out tcp dport {port} drop")
        self.nft(f"add rule inet {self.TABLE} out tcp sport {port} drop")

    def heal(self):
        self.nft(f"flush chain inet {self.TABLE} out")

    def dropped_rules(self):
        return self.run("nft", "list", "chain", "inet", self.TABLE, "out").stdout


class TmpfsNs(_Holder):
    """A tmpfs of `size` bytes at `path`, in a private mount namespace
    (nothing is mounted on the host).  Processes run inside with
    `prefix`; the test reaches the files at `self.root` (the mount seen
    through /proc/PID/root of the holder)."""

    def __init__(self, path, size):
        path = os.path.abspath(path)
        os.makedirs(path, exist_ok=True)
        super().__init__(["-m", "--propagation", "private"],
                         f"mount -t tmpfs -o size={size},mode=0700 campaign {path}")
        self.prefix = ["nsenter", "-t", str(self.pid), "-m", "--"]
        self.root = f"/proc/{self.pid}/root{path}"

    def free(self):
        st = os.statvfs(self.root)
        return st.f_bavail * st.f_frsize

    def fill(self, leave=0, name=".campaign-filler"):
        """Fills the tmpfs up to `leave` free bytes with one file."""
        path = os.path.join(self.root, name)
        with open(path, "ab") as f:
            chunk = b"\0" * (1 << 20)
            while self.free() > leave:
                n = min(len(chunk), self.free() - leave)
                try:
                    f.write(chunk[:max(n, 4096)])
                    f.flush()
                except OSError:
                    break
        return path

    def unfill(self, name=".campaign-filler"):
        try:
            os.unlink(os.path.join(self.root, name))
        except FileNotFoundError:
            pass


def timens_prefix(monotonic_s):
    """A command prefix that runs a program in a new time namespace whose
    CLOCK_MONOTONIC and CLOCK_BOOTTIME are shifted by monotonic_s seconds
    (negative: back, but never below zero)."""
    return ["unshare", "-fT", "--kill-child", "--monotonic", str(int(monotonic_s)),
            "--boottime", str(int(monotonic_s)), "--"]


def monotonic_now():
    return time.clock_gettime(time.CLOCK_MONOTONIC)


class WallClock:
    """The host board's test wall-clock offset (hal/linux/clock.c,
    docs/testing.md "Wall-clock jumps"): vigild started with env() reads
    its CLOCK_REALTIME as the real one plus the offset in `path`, which
    set() changes while it runs (a jump forward or back).  The file is
    replaced whole, so vigild reads the old offset or the new one."""

    def __init__(self, path, seconds=0):
        self.path = str(path)
        self.offset = None
        self.set(seconds)

    def env(self):
        """A command prefix that starts a program with the offset."""
        return ["env", f"VIGIL_TEST_WALL_OFFSET_FILE={self.path}"]

    def set(self, seconds):
        tmp = self.path + ".new"
        with open(tmp, "w") as f:
            f.write(f"{int(seconds * 1000)}\n")
        os.replace(tmp, self.path)
        self.offset = seconds

    def now(self):
        """The agent's wall clock, in epoch seconds."""
        return time.time() + self.offset
