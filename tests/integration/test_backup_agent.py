"""The backup client inside vigild's event loop (docs/backup.md, "In the
agent") against the reference v3 server: on-demand jobs over the console
and CoAP, the backup.interval schedule, cancel mid-file (nothing
committed), a server that is down (the job fails with a reason, the
schedule and the console go on), the health backup_link check."""
import cbor2
import os
import re
import socket
import subprocess
import sys
import time

import pytest

from conftest import binary

sys.path.insert(0, os.path.dirname(__file__))
from backup_cli import sha  # noqa: E402
from cddl import CDDL, Cddl  # noqa: E402
from console import Console, wait_job  # noqa: E402
from netutil import free_port  # noqa: E402
from v3_refserver import RefServer  # noqa: E402
from v3_names import v3_name  # noqa: E402


class SlowServer(RefServer):
    """Takes `delay` seconds per 1028 packet: a slow link."""
    delay = 0.05

    def _file_packet(self, conn, cid, size, st):
        time.sleep(self.delay)
        return super()._file_packet(conn, cid, size, st)


@pytest.fixture
def tree(tmp_path):
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "empty").write_bytes(b"")
    (src / "a b.txt").write_bytes(b"spaces in the name\n")
    (src / "sub" / "kib").write_bytes(os.urandom(1024))
    (src / "sub" / "mib").write_bytes(os.urandom(1 << 20))
    (src / "link").symlink_to(src / "empty")
    return src


def files_of(root):
    return [p for p in root.rglob("*") if p.is_file() and not p.is_symlink()]


@pytest.fixture
def servers(tmp_path):
    made = []

    def start(cls=RefServer):
        s = cls(tmp_path / f"srv{len(made)}").start()
        made.append(s)
        return s
    yield start
    for s in made:
        s.stop()


def test_backup_now_over_console(agent, servers, tree):
    srv = servers()
    c = agent(srv.url, tree)
    assert "backup: job 1 queued" in c.cmd("backup now")
    out = wait_job(c, 1)
    assert "job 1 done" in out and "4/4 files" in out, out
    for f in files_of(tree):
        stored = srv.verified[v3_name(f)]
        assert sha(stored) == sha(f)
    assert v3_name(tree / "link") not in srv.verified  # not followed
    conns = c.cmd("conns")
    assert f"127.0.0.1:{srv.port} tcp client" in conns, conns
    assert "keepalive on" in conns
    # the connection is reused by the next job (no new registration)
    assert "job 2 queued" in c.cmd("backup now")
    assert "job 2 done" in wait_job(c, 2)
    assert srv.connections == 1
    assert os.stat(c.log_path).st_size > 0
    me = (c.log_path.parent / "data" / "me.info")
    assert me.exists() and (me.stat().st_mode & 0o777) == 0o600


def test_health_link_after_connection(agent, servers, tree):
    srv = servers()
    c = agent(srv.url, tree / "sub" / "kib",
              "health.interval = 200ms\nhealth.timeout = 100ms\n"
              "health.start_period = 0\n")
    time.sleep(0.5)
    line = [x for x in c.cmd("health").splitlines() if "backup_link" in x]
    assert line and " fail " in line[0] and "down" in line[0], line
    c.cmd("backup now")
    wait_job(c, 1)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        line = [x for x in c.cmd("health").splitlines()
                if "backup_link" in x]
        if line and "pass" in line[0]:
            break
        time.sleep(0.2)
    assert line and "pass" in line[0], line


def test_interval_schedule(agent, servers, tree):
    srv = servers()
    c = agent(srv.url, tree / "a b.txt", "backup.interval = 1\n")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        out = c.cmd("backup jobs")
        if len(re.findall(r"job \d+ done \(scheduled\)", out)) >= 2:
            break
        time.sleep(0.2)
    assert len(re.findall(r"job \d+ done \(scheduled\)", out)) >= 2, out
    assert v3_name(tree / "a b.txt") in srv.verified


def test_cancel_mid_file_commits_nothing(agent, servers, tmp_path):
    srv = servers(SlowServer)
    big = tmp_path / "big" / "blob"
    big.parent.mkdir()
    big.write_bytes(os.urandom(8 << 20))   # 128 packets x 50 ms
    c = agent(srv.url, big)
    c.cmd("backup now")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        out = c.cmd("backup jobs")
        m = re.search(r"(\d+)/\d+ bytes", out)
        if "sending" in out and m and int(m.group(1)) > 1 << 20:
            break
        time.sleep(0.1)
    assert "sending" in out, out
    assert "job 1 cancelled" in c.cmd("backup cancel 1 power work")
    out = c.cmd("backup jobs")
    assert "job 1 cancelled" in out and "cancel reason: power work" in out
    # the server drains what the socket buffers held, sees the close
    # and discards the partial file
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        leftovers = [p for p in (tmp_path / "srv0").rglob("*")
                     if p.is_file()]
        if not leftovers:
            break
        time.sleep(0.2)
    assert leftovers == [], leftovers
    assert v3_name(big) not in srv.verified
    assert (1029, v3_name(big)) not in srv.log
    # the agent is still fine: a new job runs to the end
    assert "job 2 queued" in c.cmd("backup now")
    SlowServer.delay = 0
    try:
        assert "job 2 done" in wait_job(c, 2, timeout=30)
    finally:
        SlowServer.delay = 0.05
    assert sha(srv.verified[v3_name(big)]) == sha(big)


def test_cancel_all_and_errors(agent, servers, tree):
    srv = servers(SlowServer)
    c = agent(srv.url, tree)
    c.cmd("backup now")
    c.cmd("backup now")
    out = c.cmd("backup jobs")
    assert "job 2 queued" in out, out
    assert "2 jobs cancelled" in c.cmd("backup cancel all")
    assert "has already ended" in c.cmd("backup cancel 1")
    assert "no job 9" in c.cmd("backup cancel 9")
    assert "not a job id" in c.cmd("backup cancel x")
    out = c.cmd("backup jobs")
    assert out.count("cancel reason: cancelled") == 2, out


def test_server_down_fails_schedule_goes_on(agent, tree):
    port = free_port()          # nothing listens there
    c = agent(f"tcp://127.0.0.1:{port}", tree, "backup.interval = 3\n")
    c.cmd("backup now")
    # the console answers at once while the job backs off and retries
    for _ in range(5):
        t0 = time.monotonic()
        assert "vigild " in c.cmd("version")
        assert time.monotonic() - t0 < 0.5
        time.sleep(0.1)
    out = wait_job(c, 1, timeout=15)
    assert "job 1 failed" in out, out
    assert re.search(rf"connect 127\.0\.0\.1:{port}: .*refused.*"
                     r"\(3 attempts\)", out), out
    # the schedule goes on: a scheduled job comes after the failure
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        out = c.cmd("backup jobs")
        if re.search(r"job \d+ (running|failed|queued) \(scheduled\)", out):
            break
        time.sleep(0.2)
    assert "(scheduled)" in out, out
    assert "offline" in c.cmd("status") or "busy" in c.cmd("status")


def test_tls_without_ca_fails_clearly(agent, tree):
    # tls:// itself: tests/integration/test_backup_tls.py
    c = agent("tls://127.0.0.1:1257", tree)
    c.cmd("backup now")
    out = wait_job(c, 1)
    assert "tls:// needs a CA file" in out, out


def test_backup_over_coap(agent, servers, tree):
    srv = servers()
    port = free_port(socket.SOCK_DGRAM)
    c = agent(srv.url, tree, f"coap.listen = 127.0.0.1:{port}\n"
              "coap.open_control = true\n")
    uri = f"coap://127.0.0.1:{port}"
    r = subprocess.run([str(binary("vigilctl")), "backup", uri, "now"],
                       capture_output=True, text=True, timeout=20)
    assert r.returncode == 0, r.stderr
    wait_job(c, 1)
    for f in files_of(tree):
        assert sha(srv.verified[v3_name(f)]) == sha(f)
    r = subprocess.run([str(binary("vigilctl")), "backup", uri, "cancel",
                        "7"], capture_output=True, text=True, timeout=20)
    assert r.returncode != 0
    schema = Cddl(CDDL.read_text())
    docs = {}
    for part in ("status", "backup", "conns"):
        r = subprocess.run([str(binary("vigilctl")), "status",
                            f"{uri}/{part}", "--cbor"], capture_output=True,
                           timeout=20)
        assert r.returncode == 0, r.stderr
        docs[part] = cbor2.loads(r.stdout)
        schema.validate(docs[part], part)
    b = docs["backup"]
    assert b["state"] == "connected" and b["link"] == "up"
    assert b["server"] == {"address": f"127.0.0.1:{srv.port}",
                           "transport": "tcp"}
    assert b["last_success"] is not None
    job = b["jobs"][0]
    assert job["id"] == 1 and job["state"] == "done"
    assert job["files"] == job["files_done"] == 4
    assert job["bytes"] == job["bytes_done"] == sum(
        f.stat().st_size for f in files_of(tree))
    (conn,) = docs["conns"]
    assert conn["peer"] == f"127.0.0.1:{srv.port}"
    assert conn["bytes_out"] > (1 << 20) and conn["bytes_in"] > 0
    assert conn["transport"] == "tcp" and len(conn["client"]) == 32
    assert docs["status"]["backup"]["jobs"][0]["id"] == 1


def test_faults_retry_resend_and_abort(agent, servers, tree):
    srv = servers()
    srv.drop_mid_file = 1      # the connection dies after packet 2 once
    srv.wrong_crc = 1          # one 1603 mismatch: 1030 and resend
    c = agent(srv.url, tree / "sub")
    c.cmd("backup now")
    out = wait_job(c, 1)
    assert "job 1 done" in out, out
    assert srv.connections == 2
    assert any(code == 1030 for code, _ in srv.log)
    for f in files_of(tree / "sub"):
        assert sha(srv.verified[v3_name(f)]) == sha(f)
    srv.wrong_crc = 3          # three mismatches: 1031, the file fails
    (tree / "sub" / "kib").write_bytes(b"changed")
    c.cmd("backup now")
    out = wait_job(c, 2)
    assert "job 2 failed" in out and "cksum mismatch 3 times" in out, out
    assert any(code == 1031 for code, _ in srv.log)
    srv.stall = 1              # no 1603: backup.timeout (2 s), then retry
    c.cmd("backup now")
    out = wait_job(c, 3, timeout=40)
    assert "job 3 done" in out, out
    assert "timed out (2000 ms without progress)" in c.log()


def test_reload_applies_to_the_next_job(agent, servers, tree, tmp_path):
    srv = servers()
    c = agent(srv.url, tree / "a b.txt")
    c.cmd("backup now")
    assert "job 1 done" in wait_job(c, 1)
    conf = tmp_path / "vigil0.conf"
    conf.write_text(conf.read_text().replace(
        f"backup.paths = {tree / 'a b.txt'}",
        f"backup.paths = {tree / 'sub' / 'kib'}"))
    assert "reload" in c.cmd("config reload").lower()
    c.cmd("backup now")
    out = wait_job(c, 2)
    assert "job 2 done" in out and "1/1 files" in out, out
    assert sha(srv.verified[v3_name(tree / "sub" / "kib")]) == \
        sha(tree / "sub" / "kib")
