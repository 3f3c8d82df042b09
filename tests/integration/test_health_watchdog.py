"""vigild's health loop driving a watchdog: a plain file stands in for the
device (hal/linux/wdt.c writes one 'k' per kick and 'V' for the magic
close), so the file is the record of every kick.

Timings are shortened through the config: watchdog.timeout 2 s (a kick
every 1 s), checks every 300 ms, 2 results to change state, grace 1 s."""
import os
import shutil
import signal
import subprocess
import time

import pytest

from conftest import Agent, binary

FAST = (
    "watchdog.timeout = 2s\n"
    "health.interval = 300ms\n"
    "health.timeout = 300ms\n"
    "health.start_period = 0\n"
    "health.retries = 2\n"
    "health.debounce = 2\n"
    "health.grace = 1s\n"
)


def wdt_config(dev_config, tmp_path, extra=""):
    dev = tmp_path / "wdt"
    dev.write_bytes(b"")
    path = dev_config(FAST + extra)
    # dev_config writes watchdog.device = none; point it at the file
    text = path.read_text().replace("watchdog.device = none",
                                    f"watchdog.device = {dev}")
    path.write_text(text)
    return path, dev


def kicks(dev):
    return dev.read_bytes()


def test_kicks_are_recorded_and_magic_close_comes_last(agent_factory, dev_config, tmp_path):
    conf, dev = wdt_config(dev_config, tmp_path)
    a = agent_factory(["--config", str(conf)])
    a.wait_for("running")
    a.wait_for("storage: starting -> healthy")
    time.sleep(3.2)
    seen = kicks(dev)
    # one kick at open, then one per timeout/2 = 1 s
    assert set(seen) == {ord("k")}
    assert 3 <= len(seen) <= 6, seen
    assert a.stop() == 0
    record = kicks(dev)
    assert record.endswith(b"V")
    assert set(record[:-1]) == {ord("k")}
    a.wait_for("closed and disarmed")
    # the next start knows the last run was stopped on purpose
    b = agent_factory(["--config", str(conf)])
    b.wait_for("start 2, last reset: requested (vigild stopped)")
    assert b.stop() == 0


def stopped_kicking(a, dev):
    """Waits for the stop, then proves no kick follows for 2.5 s."""
    a.wait_for("stopping kicks", timeout=8)
    before = kicks(dev)
    time.sleep(2.5)  # 2.5 kick periods
    assert kicks(dev) == before
    assert a.proc.poll() is None  # the agent itself keeps running
    return before


def test_kicks_stop_after_grace_when_storage_fails(agent_factory, dev_config, tmp_path):
    # more free space required than any disk has: storage fails every run
    conf, dev = wdt_config(dev_config, tmp_path,
                           "health.min_free = 1125899906842624\n")
    a = agent_factory(["--config", str(conf)])
    a.wait_for("running")
    t0 = time.monotonic()
    a.wait_for("storage: starting -> unhealthy")
    line = a.wait_for("stopping kicks", timeout=8)
    took = time.monotonic() - t0
    # 2 failed runs 300 ms apart, then the 1 s grace, then the next tick
    assert 1.0 <= took <= 4.0, took
    assert "storage unhealthy for 1 s" in line
    assert "bytes free, minimum 1125899906842624" in line
    before = stopped_kicking(a, dev)
    assert before.count(b"k") >= 1
    # a graceful stop still disarms the device
    assert a.stop() == 0
    assert kicks(dev) == before + b"V"
    # the marker survives the stop and names the reason at the next start
    b = agent_factory(["--config", str(dev_config(FAST))])
    line = b.wait_for("last reset: watchdog")
    assert "storage unhealthy for 1 s" in line
    assert b.stop() == 0


def test_read_only_data_dir_stops_kicks(agent_factory, dev_config, tmp_path):
    """data.dir becomes read-only under the running agent: a read-only
    bind mount in a private mount namespace (chmod does not stop root)."""
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("nsenter"):
        pytest.skip("needs root, unshare and nsenter for a private mount")
    conf, dev = wdt_config(dev_config, tmp_path)
    data = tmp_path / "data"
    data.mkdir()
    vigild = binary("vigild")
    # unshare and sh exec in place: the pid is vigild's, in the namespace
    cmd = ["unshare", "-m", "--propagation", "private", "sh", "-c",
           f'mount --bind "{data}" "{data}" && exec "{vigild}" --config "{conf}"']
    a = NsAgent(cmd)
    try:
        read_only_run(a, data, dev)
    finally:
        if a.proc.poll() is None:
            a.proc.kill()
            a.proc.wait()


class NsAgent(Agent):
    """An Agent whose vigild is started through another command."""

    def __init__(self, cmd):
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.lines = []
        self._partial = b""


def read_only_run(a, data, dev):
    a.wait_for("storage: starting -> healthy")
    subprocess.run(["nsenter", "-t", str(a.proc.pid), "-m", "mount", "-o",
                    "remount,bind,ro", str(data)], check=True, timeout=5)
    line = a.wait_for("storage: healthy -> unhealthy")
    assert "Read-only file system" in line
    line = a.wait_for("stopping kicks", timeout=8)
    # the reset reason cannot be saved on a read-only data dir, and says so
    assert "reset reason not saved" in line
    stopped_kicking(a, dev)
    a.signal(signal.SIGTERM)
    assert a.stop() == 0
    assert kicks(dev).endswith(b"V")


def test_backup_link_check_opens_no_connection(agent_factory, dev_config, tmp_path):
    """The backup-link check judges the link passively: with a server
    configured and no backup job, many check runs reach the server zero
    times (it counts every connection it accepts)."""
    import socket
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    srv.setblocking(False)
    port = srv.getsockname()[1]
    src = tmp_path / "src"
    src.mkdir()
    (src / "f").write_text("x")
    try:
        conf = dev_config(FAST + f"backup.server = tcp://127.0.0.1:{port}\n"
                          f"backup.paths = {src}\nbackup.interval = 0\n")
        a = agent_factory(["--config", str(conf)])
        a.wait_for("running")
        time.sleep(4)  # a dozen runs of every check at health.interval
        line = a.wait_for("backup_link")  # the check ran and logged
        accepted = 0
        while True:
            try:
                c, _ = srv.accept()
            except BlockingIOError:
                break
            accepted += 1
            c.close()
        assert accepted == 0, line
        assert a.stop() == 0
    finally:
        srv.close()
