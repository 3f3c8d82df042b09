"""vigild --console driven through a pty: keys, history, completion, every
command, login with its growing delay, noise, a stalled and a vanishing
terminal.  The pty is never given a size (a resize-less terminal)."""
import json
import os
import random
import signal
import time

import pytest

from console import PROMPT, Console

# sha256$00112233$SHA-256(bytes 00 11 22 33 || "s3cret")
HASH = ("sha256$00112233$"
        "8794b0eac6ee067f43fd796e50bd4d66d5bfb13bd73a1dc5246a1c677e9cb740")


@pytest.fixture
def console(dev_config, tmp_path):
    consoles = []

    def start(extra="", prompt=True):
        c = Console(dev_config(extra), tmp_path / f"log{len(consoles)}")
        consoles.append(c)
        if prompt:
            c.expect(PROMPT)
        return c

    yield start
    for c in consoles:
        c.close()


def test_banner_prompt_and_crlf(console):
    c = console()
    out = c.cmd("help")
    assert "\r\n" in out
    assert "\n" not in out.replace("\r\n", "")
    for name in ("help", "version", "uptime", "status", "health", "backup",
                 "conns", "probe", "config", "log", "wdt", "metrics", "reboot",
                 "exit"):
        assert f"  {name}" in out


@pytest.mark.parametrize("keys", [
    "Xversion\x01\x1b[3~",          # ^A, Delete (CSI 3~)
    "Xversion\x1b[H\x04",           # Home (CSI H), ^D deletes under cursor
    "ersion\x01v\x05",              # ^A, insert, ^E
    "ersion\x1bOHv\x1bOF",          # SS3 Home/End
    "ersion\x1b[1~v\x1b[4~",        # VT220 Home/End
    "versionx\x1b[D\x1b[3~",        # Left, Delete
    "versionx\x1bOD\x06\x7f",       # SS3 Left, ^F, DEL
    "vresion\x02\x02\x02\x02\x02\x08\x06r",  # ^B x5, BS, ^F, insert
    "zzz\x15version",               # ^U
    "version junk\x17",             # ^W
    "versionjunk\x02\x02\x02\x02\x0b",  # ^K
])
def test_editing_keys(console, keys):
    c = console()
    assert "vigild 0.1" in c.cmd(keys)


def test_ctrl_c_drops_line_and_ctrl_l_redraws(console):
    c = console()
    c.send("reboot now\x03")
    out = c.expect(PROMPT).decode()
    assert "^C" in out and "not available" not in out
    c.send("vers\x0c")
    c.expect(b"\x1b[H\x1b[2J")
    c.expect(b"vigil> vers")
    assert "vigild 0.1" in c.cmd("ion")


def test_history_up_down(console):
    c = console()
    c.cmd("version")
    c.cmd("uptime")
    assert "vigild 0.1" in c.cmd("\x1b[A\x1b[A")
    # history, newest first: version uptime version
    assert "agent up" in c.cmd("\x1b[A\x1b[A\x1b[A\x1b[B")
    assert "vigild 0.1" in c.cmd("\x10\x10\x10\x0e")   # ^P x3, ^N


def test_tab_completion(console):
    c = console()
    assert "vigild 0.1" in c.cmd("ver\t")
    assert "log.level = info" in c.cmd("config get log.le\t")
    assert "config: usage" not in c.cmd("config sa\t")
    c.send("co\t\t\t")
    listing = c.expect(b"vigil> con").decode()
    assert "config" in listing and "conns" in listing
    c.cmd("\x15")
    c.send("backup \t\t")
    listing = c.expect(b"vigil> backup ").decode()
    for sub in ("now", "jobs", "cancel"):
        assert sub in listing
    assert "backup: 0 jobs cancelled" in c.cmd("\x15backup cancel a\t")


EXPECTED = [
    ("help status", "usage: status [--json]"),
    ("version", "vigild 0.1"),
    ("uptime", "agent up 0d 00:00:"),
    ("status", "config:  "),
    ("status", "health:  starting; boot 1, last reset power_on"),
    ("health", "check        kind     state"),
    ("health", "storage      required"),
    ("health", "liveness     required"),
    ("backup now", "backup: no backup.server configured"),
    ("backup jobs", "backup: offline, server (none), last success never"),
    ("backup cancel 7 wrong file", "backup: no job 7"),
    ("backup cancel all maintenance", "backup: 0 jobs cancelled"),
    ("backup", "backup: usage: backup now|jobs|cancel <id>|all [reason]"),
    ("conns", "conns: no connections"),
    ("probe", "probe: no backup.server configured"),
    ("config get watchdog.timeout", "watchdog.timeout = 30s"),
    ("config get console.password_hash", "console.password_hash = \r\n"),
    ("config get nope", "config: unknown key `nope`"),
    ("config set watchdog.timeout 0", "config: watchdog.timeout"),
    ("config set console.password_hash bad", "not sha256$"),
    ("log 3", "INFO main: running"),
    ("log x", "log: usage: log [n]"),
    ("wdt", "wdt: no watchdog (watchdog.device = none)"),
    ("metrics", "metric                        count        sum     mean    p50<=    p99<="),
    ("metrics", "backup_job                        0          0        0        -        -  ms"),
    ("metrics", "health_check/liveness "),
    ("reboot testing", "reboot: refused on this board (a development machine)"),
    ("frobnicate", "unknown command `frobnicate` (`help` lists commands)"),
    ("cofnig", "unknown command `cofnig`; did you mean `config`?"),
]


def test_every_command(console):
    c = console()
    for line, want in EXPECTED:
        out = c.cmd(line)
        assert want in out, (line, out)
    out = c.cmd("status --json")
    doc = json.loads(out[out.index("{"):out.rindex("}") + 1])
    assert doc["board"] == "host"
    assert doc["health"]["overall"] == "starting"
    assert doc["health"]["boot_count"] == 1
    assert doc["health"]["last_reset"] == "power_on"
    assert doc["backup"] == {"state": "offline", "server": None,
                             "last_success_ago_s": None,
                             "last_error": None, "jobs": 0, "active": 0}
    assert doc["console"]["login"] is False


def test_probe_reachable_and_refused(console):
    """`probe` connects once to backup.server and prints the verdict when
    it comes; a listening port is reachable, a closed one refused."""
    import socket
    with socket.socket() as srv, socket.socket() as closed:
        srv.bind(("127.0.0.1", 0))
        srv.listen(4)
        closed.bind(("127.0.0.1", 0))    # bound, never listening: refused
        port, dead = srv.getsockname()[1], closed.getsockname()[1]
        c = console(f"backup.server = tcp://127.0.0.1:{port}\n")
        c.send("probe\r")
        out = c.expect(" ms\r\n").decode()
        assert f"probe: reachable 127.0.0.1:{port} in " in out, out
        assert out.startswith("probe\r\nvigil> \r\x1b[K"), out
        c.expect(PROMPT)                 # redrawn after the verdict
        srv.settimeout(2)
        conn, _ = srv.accept()           # the one attempt arrived ...
        assert conn.recv(16) == b""      # ... and closed without a byte
        conn.close()
        doc = c.cmd("status --json")
        doc = json.loads(doc[doc.index("{"):doc.rindex("}") + 1])
        assert doc["backup"]["server"] == f"127.0.0.1:{port}"
        assert doc["backup"]["state"] in ("standby", "offline")
        assert doc["backup"]["jobs"] == 0

        c = console(f"backup.server = tcp://127.0.0.1:{dead}\n")
        c.send("probe\r")
        out = c.expect(" ms\r\n").decode()
        assert (f"probe: unreachable 127.0.0.1:{dead}: Connection refused "
                "after ") in out, out
        c.expect(PROMPT)


def test_probe_keeps_the_console_answering(console):
    """A server that never answers (a full accept queue: Linux drops the
    SYN): the verdict comes after 0.5 s; commands run meanwhile."""
    import socket
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(0)
    fill = [socket.socket() for _ in range(3)]
    try:
        for f in fill:
            f.setblocking(False)
            f.connect_ex(srv.getsockname())
        time.sleep(0.1)
        port = srv.getsockname()[1]
        c = console(f"backup.server = tcp://127.0.0.1:{port}\n")
        t0 = time.monotonic()
        assert "probe:" not in c.cmd("probe")
        out = c.cmd("version")
        assert "vigild 0.1" in out and "probe:" not in out
        assert "probe: one is under way" in c.cmd("probe")
        out = c.expect(" ms\r\n", timeout=5).decode()
        assert time.monotonic() - t0 >= 0.45
        assert f"probe: unreachable 127.0.0.1:{port}: " in out, out
        assert "timed out after 5" in out, out     # 500 .. 599 ms
        c.expect(PROMPT)
    finally:
        for f in fill + [srv]:
            f.close()


def test_config_set_save_reload(console, tmp_path):
    c = console()
    assert "log.level = debug" in c.cmd("config set log.level debug")
    out = c.cmd("config save")
    assert "written to" in out
    assert "log.level = debug" in (tmp_path / "vigil.conf").read_text()
    with open(tmp_path / "vigil.conf", "a") as f:
        f.write("watchdog.timeout = 45s\n")
    out = c.cmd("config reload")
    assert "watchdog.timeout: 30s -> 45s" in out
    assert "config reload: applied" in out
    with open(tmp_path / "vigil.conf", "a") as f:
        f.write("log.level = shouting\n")
    out = c.cmd("config reload")
    assert "refused; running configuration kept" in out
    assert "watchdog.timeout = 45s" in c.cmd("config get watchdog.timeout")


def test_long_line_and_wide_line(console):
    c = console()
    c.send("x" * 300)
    c.expect("line too long")
    assert "line longer than 255 characters ignored" in c.cmd("")
    # wider than any terminal, within the limit: still one command
    assert "INFO" in c.cmd("log" + " " * 200 + "1")


def test_garbage_and_paste_never_wedge(console):
    c = console()
    rnd = random.Random(8)
    junk = bytes(b if b not in (3, 4, 10, 13) else 0
                 for b in rnd.randbytes(10 * 1024))
    c.send(junk)
    c.send(b"\x00" * 100 + b"\x1b[" + b"9" * 50 + b"\r")
    c.drain()
    out = c.cmd("version", timeout=10)
    assert "vigild 0.1" in out
    assert c.proc.poll() is None


def test_stalled_terminal_drops_output_and_loop_runs(console):
    c = console()
    c.send("help\r" * 120)  # ~190 KiB of output nobody reads
    time.sleep(1.0)
    c.proc.send_signal(signal.SIGHUP)  # the loop still runs
    deadline = time.monotonic() + 5
    while "reloaded" not in c.log() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "reloaded" in c.log()
    c.expect("bytes of output dropped]", timeout=10)
    c.drain()
    assert "vigild 0.1" in c.cmd("\x15version")


def test_exit_and_eof_stop_vigild(console):
    c = console()
    c.send("exit\r")
    assert c.wait_exit() == 0
    assert "exit: stopping vigild" in c.log()
    c = console()
    c.send("\x04")  # ^D on an empty line
    assert c.wait_exit() == 0


def test_vanished_terminal_stops_cleanly(console):
    c = console()
    os.close(c.master)
    assert c.wait_exit() == 0
    assert "stopped cleanly" in c.log()


def test_login_lockout_delay_grows(console):
    c = console(f"console.password_hash = {HASH}\n", prompt=False)
    c.expect("Password: ")
    c.send("wrong\r")
    t0 = time.monotonic()
    out = c.expect("Password: ").decode()
    assert "wrong" not in out and "wait 1 s" in out
    assert time.monotonic() - t0 >= 0.9
    c.send("s3cret\r")
    c.expect("Welcome")
    c.expect(PROMPT)
    c.send("exit\r")  # --console: exit stops vigild, login or not
    assert c.wait_exit() == 0


def test_login_second_failure_waits_longer(console):
    c = console(f"console.password_hash = {HASH}\n", prompt=False)
    c.expect("Password: ")
    c.send("one\r")
    c.expect("Password: ")
    c.send("two\r")
    t0 = time.monotonic()
    c.expect("wait 2 s")
    c.send("s3cret\r")  # typed while locked: dropped
    out = c.expect("Password: ").decode()
    assert time.monotonic() - t0 >= 1.9
    assert "Welcome" not in out
    c.drain(quiet=0.2)
    c.send("s3cret\r")
    out = c.expect("Welcome").decode()
    assert "s3cret" not in out
    c.expect(PROMPT)
    assert '"login":true' in c.cmd("status --json")
    assert "console.password_hash = (set)" in c.cmd(
        "config get console.password_hash")
    assert "login failed (2 in a row)" in c.log()


def test_idle_logout(console):
    c = console(f"console.password_hash = {HASH}\n"
                "console.idle_logout = 1\n", prompt=False)
    c.expect("Password: ")
    c.send("s3cret\r")
    c.expect(PROMPT)
    t0 = time.monotonic()
    c.expect("idle: logged out", timeout=5)
    assert time.monotonic() - t0 >= 0.9
    c.expect("Password: ")
