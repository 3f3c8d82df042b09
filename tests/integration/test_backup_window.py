"""backup.window and time.zone (docs/backup.md, "Backup window"): a real
vigild with a schedule every second, its window placed around the real
wall clock in a zone of +05:30 (so local time is not UTC); what the
console's `backup jobs` and CoAP /status (read with libcoap's
coap-client, validated against docs/status.cddl) say about it; and
`vigild --check-config` on broken values.  The window logic at its edges
(opening, closing mid-job, DST, an unset clock) is in the unit tests
(tests/unit/backup_window_test.c, tz_test.c), on the sim clock."""
import re
import shutil
import socket
import subprocess
import time

import cbor2
import pytest

from cddl import CDDL, Cddl
from conftest import binary
from console import wait_job
from netutil import free_port

CLIENT = shutil.which("coap-client-notls") or "/usr/bin/coap-client-notls"
ZONE = "<+0530>-5:30"
OFFSET = 5 * 3600 + 1800


def window_from_now(start_min, end_min):
    """'HH:MM-HH:MM' in ZONE's local time, start_min..end_min minutes
    from now (whole minutes), and the UTC epoch seconds of both ends."""
    now = int(time.time()) // 60 * 60
    a, b = now + start_min * 60, now + end_min * 60

    def hhmm(t):
        lt = (t + OFFSET) % 86400
        return f"{lt // 3600:02d}:{lt // 60 % 60:02d}"
    return f"{hhmm(a)}-{hhmm(b)}", a, b


def coap_get(port, path, tmp_path):
    out = tmp_path / f"get{time.monotonic_ns()}.cbor"
    p = subprocess.run([CLIENT, "-m", "get", "-B", "5", "-o", str(out),
                        f"coap://127.0.0.1:{port}{path}"],
                       capture_output=True, timeout=20)
    assert out.exists() and out.stat().st_size > 0, p.stderr
    return cbor2.loads(out.read_bytes())


def wait_log(c, pattern, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = re.search(pattern, c.log())
        if m:
            return m
        time.sleep(0.05)
    raise AssertionError(f"no {pattern!r} in the log:\n{c.log()}")


@pytest.fixture
def plain_server(server_factory):
    return server_factory()


def test_closed_window_holds_the_schedule_and_says_when_it_opens(
        agent, plain_server, tmp_path):
    spec, opens, _ = window_from_now(120, 180)
    (tmp_path / "f").write_bytes(b"data\n")
    port = free_port(socket.SOCK_DGRAM)
    c = agent(f"tcp://127.0.0.1:{plain_server.port}", tmp_path / "f",
              extra=f"backup.interval = 1s\nbackup.window = {spec}\n"
                    f"time.zone = {ZONE}\ncoap.listen = 127.0.0.1:{port}\n")
    wait_log(c, rf"scheduled run waits for the backup window {spec}")
    out = c.cmd("backup jobs")
    t = time.gmtime(opens)
    assert f"window {spec} (local time) closed, opens " \
        f"{time.strftime('%Y-%m-%d %H:%M', t)} UTC (in 1 h 59 min); " \
        "a scheduled run waits for it" in out or \
        f"window {spec} (local time) closed, opens " \
        f"{time.strftime('%Y-%m-%d %H:%M', t)} UTC (in 2 h 0 min); " \
        "a scheduled run waits for it" in out, out
    assert "no jobs" in out, out
    doc = coap_get(port, "/status", tmp_path)
    Cddl(CDDL.read_text()).validate(doc, "status")
    assert doc["backup"]["window"] == {
        "spec": spec, "open": False, "next_open": opens, "next_close": None,
        "waiting": True}
    # a manual backup ignores the window
    out = c.cmd("backup now")
    assert "job 1 queued" in out, out
    out = wait_job(c, 1)
    assert "job 1 done" in out and "(scheduled)" not in out, out
    # reload without the window: the run that waited starts
    conf = next(tmp_path.glob("vigil*.conf"))
    conf.write_text(re.sub(r"backup\.window = .*\n", "", conf.read_text()))
    assert "config reload: applied" in c.cmd("config reload")
    out = wait_job(c, 2)
    assert "job 2 done (scheduled)" in out, out
    doc = coap_get(port, "/backup", tmp_path)
    assert "window" not in doc


def test_open_window_runs_the_schedule(agent, plain_server, tmp_path):
    spec, _, closes = window_from_now(-60, 60)
    (tmp_path / "f").write_bytes(b"data\n")
    port = free_port(socket.SOCK_DGRAM)
    c = agent(f"tcp://127.0.0.1:{plain_server.port}", tmp_path / "f",
              extra=f"backup.interval = 1s\nbackup.window = {spec}\n"
                    f"time.zone = {ZONE}\ncoap.listen = 127.0.0.1:{port}\n")
    out = wait_job(c, 1)
    assert "job 1 done (scheduled)" in out, out
    assert f"window {spec} (local time) open, closes " \
        f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime(closes))} UTC" in out, out
    w = coap_get(port, "/backup", tmp_path)["window"]
    assert w["open"] is True and w["next_close"] == closes, w
    assert w["next_open"] == closes + 22 * 3600, w   # tomorrow's opening


@pytest.mark.parametrize("line, message", [
    ("backup.window = 25:00-05:30",
     "backup.window: `25:00-05:30`: expected HH:MM-HH:MM"),
    ("backup.window = 01:00-01:00", "start and end are the same time"),
    ("time.zone = Europe/Berlin", "time.zone: no zoneinfo names"),
    ("time.zone = CET-1CEST", "time.zone: daylight time needs its rules"),
    ("time.zone = CET-1CEST,M3.5.0,M13.5.0",
     "time.zone: number out of range at `13.5.0`"),
])
def test_check_config_explains_a_broken_value(tmp_path, line, message):
    conf = tmp_path / "vigil.conf"
    conf.write_text(line + "\n")
    r = subprocess.run([str(binary("vigild")), "--check-config", str(conf)],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 1
    assert f"{conf}:1: " in r.stderr and message in r.stderr, r.stderr
