"""vigild under a service manager: a Python AF_UNIX datagram socket stands
in for systemd's NOTIFY_SOCKET and records READY=1, WATCHDOG=1 (every
WATCHDOG_USEC / 2, gated like the hardware kick) and STOPPING=1.

watchdog.device = none throughout: WATCHDOG_USEC alone turns the
notifications on.  Health timings as in test_health_watchdog.py."""
import os
import signal
import socket
import subprocess
import time

from conftest import Agent, binary

FAST = (
    "health.interval = 300ms\n"
    "health.timeout = 300ms\n"
    "health.start_period = 0\n"
    "health.retries = 2\n"
    "health.debounce = 2\n"
    "health.grace = 1s\n"
)


class EnvAgent(Agent):
    """An Agent started with extra environment variables."""

    def __init__(self, args, env):
        self.proc = subprocess.Popen([str(binary("vigild"))] + args,
                                     stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE,
                                     env={**os.environ, **env})
        self.lines = []
        self._partial = b""


class Manager:
    """The service manager's end: a bound datagram socket, with the
    arrival time of every message."""

    def __init__(self, addr):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(addr)
        self.msgs = []  # (monotonic time, text)

    def collect(self, seconds):
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                return
            self.msgs.append((time.monotonic(), data.decode()))

    def wait_for(self, text, timeout=5.0):
        deadline = time.monotonic() + timeout
        while True:
            for t, m in self.msgs:
                if m == text:
                    return t
            left = deadline - time.monotonic()
            assert left > 0, f"no {text!r}; got {self.msgs}"
            self.collect(min(left, 0.2))

    def times(self, text):
        return [t for t, m in self.msgs if m == text]

    def close(self):
        self.sock.close()


def start(dev_config, tmp_path, env, extra=""):
    conf = dev_config(FAST + extra)
    return EnvAgent(["--config", str(conf)], env)


def test_ready_watchdog_and_stopping(dev_config, tmp_path):
    path = str(tmp_path / "notify")
    mgr = Manager(path)
    a = start(dev_config, tmp_path,
              {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "1000000"})
    try:
        a.wait_for("watchdog notifications on")
        mgr.wait_for("READY=1")
        mgr.collect(2.6)
        beats = mgr.times("WATCHDOG=1")
        # every 0.5 s (half of WATCHDOG_USEC), on a tick of 250 ms
        assert 4 <= len(beats) <= 7, mgr.msgs
        gaps = [b - a_ for a_, b in zip(beats, beats[1:])]
        assert all(0.3 <= g <= 0.9 for g in gaps), gaps
        assert a.stop() == 0
        mgr.wait_for("STOPPING=1")
        assert mgr.msgs[-1][1] == "STOPPING=1"
        assert [m for _, m in mgr.msgs][0] in ("READY=1", "WATCHDOG=1")
    finally:
        if a.proc.poll() is None:
            a.proc.kill()
            a.proc.wait()
        mgr.close()


def test_abstract_socket_without_watchdog(dev_config, tmp_path):
    name = f"vigil-test-notify-{os.getpid()}"
    mgr = Manager("\0" + name)
    a = start(dev_config, tmp_path, {"NOTIFY_SOCKET": "@" + name})
    try:
        a.wait_for("service manager at @" + name)
        mgr.wait_for("READY=1")
        mgr.collect(1.5)
        # no WATCHDOG_USEC: no WATCHDOG=1
        assert mgr.times("WATCHDOG=1") == [], mgr.msgs
        a.signal(signal.SIGINT)
        assert a.wait_exit() == 0
        mgr.wait_for("STOPPING=1")
    finally:
        if a.proc.poll() is None:
            a.proc.kill()
            a.proc.wait()
        mgr.close()


def test_watchdog_notifications_stop_with_the_verdict(dev_config, tmp_path):
    path = str(tmp_path / "notify")
    mgr = Manager(path)
    # more free space required than any disk has: storage fails every run
    a = start(dev_config, tmp_path,
              {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "1000000"},
              "health.min_free = 1125899906842624\n")
    try:
        mgr.wait_for("READY=1")
        line = a.wait_for("stopping WATCHDOG=1", timeout=8)
        assert "storage unhealthy for 1 s" in line
        mgr.collect(0.3)
        before = len(mgr.times("WATCHDOG=1"))
        assert before >= 2  # they came while the check was inside grace
        mgr.collect(2.0)  # four notify periods
        assert len(mgr.times("WATCHDOG=1")) == before, mgr.msgs
        status = [m for _, m in mgr.msgs if m.startswith("STATUS=")]
        assert len(status) == 1 and "storage unhealthy for 1 s" in status[0]
        assert a.proc.poll() is None  # vigild keeps running; systemd acts
    finally:
        a.stop()
        mgr.close()
    # the marker names the reason at the next start (a systemd restart)
    b = EnvAgent(["--config", str(dev_config(FAST))], {})
    try:
        line = b.wait_for("last reset: watchdog")
        assert "storage unhealthy for 1 s" in line
        assert b.stop() == 0
    finally:
        if b.proc.poll() is None:
            b.proc.kill()
            b.proc.wait()
