"""The external check command (health.command) in a real vigild: exit
codes become results with the first stdout line as the reason, a command
that outlives health.command_timeout is killed with what it started, and
the loop goes on meanwhile.  Checks every 300 ms, 2 results to change."""
import os
import pathlib
import shutil
import tempfile
import time

import pytest

FAST = (
    "health.interval = 300ms\n"
    "health.timeout = 300ms\n"
    "health.start_period = 0\n"
    "health.retries = 2\n"
    "health.debounce = 2\n"
)


def command(cmd):
    """The health.command line for cmd: a double-quoted config value."""
    assert len(cmd) <= 127, cmd
    return 'health.command = "' + cmd.replace('"', '\\"') + '"\n'


@pytest.fixture
def short_tmp():
    """A directory with a short path: the commands below name files in it,
    and health.command holds at most 127 characters (pytest's tmp_path is
    longer under pytest-xdist)."""
    d = pathlib.Path(tempfile.mkdtemp(prefix="vh", dir="/tmp"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_exit_codes_and_first_line(agent_factory, dev_config, short_tmp):
    flag = short_tmp / "state"
    flag.write_text("1")
    # the exit code comes from a file the test changes while vigild runs
    cmd = f'echo "disk 91% full"; echo second line; exit $(cat {flag})'
    a = agent_factory(["--config", str(dev_config(FAST + command(cmd)))])
    line = a.wait_for("command: starting -> degraded")
    assert line.rstrip().endswith(": disk 91% full")
    flag.write_text("0")
    a.wait_for("command: degraded -> healthy")
    flag.write_text("3")
    line = a.wait_for("command: healthy -> unhealthy")
    assert line.rstrip().endswith(": disk 91% full")
    assert a.stop() == 0


def test_timeout_kills_the_command_and_its_children(agent_factory, dev_config, short_tmp):
    pids = short_tmp / "pids"
    # a background child and the shell itself, both sleeping far too long
    cmd = f"sleep 60 & echo $! $$ > {pids}; wait"
    a = agent_factory(["--config", str(dev_config(
        FAST + command(cmd) + "health.command_timeout = 500ms\n"))])
    t0 = time.monotonic()
    line = a.wait_for("timed out after 500 ms: killed")
    took = time.monotonic() - t0
    assert took < 3.0, took
    # meanwhile the loop went on: the other checks turned healthy
    a.wait_for("storage: starting -> healthy")
    started = [int(p) for p in pids.read_text().split()]
    a.wait_for("command: starting -> unhealthy: timed out after 500 ms")
    time.sleep(0.5)
    for pid in started:
        # gone, or at most a zombie of the shell (its parent was killed)
        try:
            with open(f"/proc/{pid}/stat") as f:
                assert f.read().split(") ")[1][0] == "Z", pid
        except FileNotFoundError:
            pass
    assert a.stop() == 0
    del line


def test_command_does_not_inherit_notify_socket(agent_factory, dev_config, short_tmp):
    out = short_tmp / "env"
    # appended, not truncated: the check runs again and again, and a run
    # that has just truncated the file must not hide the earlier lines
    cmd = f'echo "${{NOTIFY_SOCKET:-unset}}" >> {out}'
    conf = dev_config(FAST + command(cmd))
    os.environ["NOTIFY_SOCKET"] = "@vigil-test-none"
    try:
        a = agent_factory(["--config", str(conf)])
    finally:
        del os.environ["NOTIFY_SOCKET"]
    a.wait_for("command: starting -> healthy")
    lines = out.read_text().splitlines()
    assert lines and set(lines) == {"unset"}, lines
    assert a.stop() == 0
