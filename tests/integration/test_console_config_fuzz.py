"""Random input to a real vigild (the ASan + UBSan build, make asan-bins):
its console on a pty gets random command lines, editing keys, escape
sequences, bytes and pastes, and keeps answering; random configuration
files (mutated valid ones and noise) are either accepted, and then vigild
runs with them, or refused with one clear `FILE:LINE: reason` per fault,
both by --check-config and at start.  Nothing crashes and no sanitizer
reports.  issue 19, docs/reliability.md.

VIGIL_CONSOLE_FUZZ_ROUNDS (default 80) and VIGIL_CONFIG_FUZZ_FILES
(default 40) size the runs, VIGIL_FUZZ_SEED replays one."""
import os
import pathlib
import random
import re
import subprocess
import time

import pytest

from console import PROMPT, Console

ROOT = pathlib.Path(__file__).resolve().parents[2]
ASAN_VIGILD = ROOT / "build/asan/bin/vigild"
SANITIZER = re.compile(rb"AddressSanitizer|LeakSanitizer|runtime error|"
                       rb"Assertion .* failed|SUMMARY: ")
ERRORS_MAX = 16

# keys a random value could point outside the test (a listener on every
# address, a server to connect to, a command to run, a device to write):
# pinned to safe values, never drawn
PINNED = {"data.dir": None, "watchdog.device": "none", "console.device": "none",
          "log.syslog": "false", "coap.listen": "none", "coap.dtls_listen": "none",
          "backup.server": '""', "health.command": '""', "led.status": "none",
          "console.password_hash": '""', "health.interface": '""'}
VALUES = {
    "log.level": ["err", "warn", "info", "debug"], "log.stderr": ["true", "no", "on"],
    "log.format": ["text", "json"], "device.name": ["pump-7.site_a", "x", "a" * 63],
    "watchdog.timeout": ["1s", "30s", "1h", "0s", "2h"], "console.baud": ["9600", "115200"],
    "console.idle_logout": ["0", "10m", "1d"], "system.thermal_zone": ["none", "/nonexistent"],
    "health.interval": ["1s", "30s"], "health.timeout": ["1s", "10s"],
    "health.start_period": ["0s", "40s"], "health.grace": ["1m", "0s"],
    "health.retries": ["0", "3", "100"], "health.debounce": ["1", "3"],
    "health.min_free": ["0", "1048576"], "health.min_memory": ["0", "4194304"],
    "health.max_load_milli": ["0", "8000"], "health.max_temp_c": ["0", "85", "150"],
    "watchdog.safe_after": ["0", "3"], "health.command_timeout": ["1s", "10s"],
    "coap.open_control": ["false", "true"], "coap.amplification": ["echo", "off"],
    "coap.psk": ["", "00112233", "zz"], "backup.paths": ["", "/etc/hostname", "/a,/b"],
    "backup.interval": ["0s", "1h"], "backup.name": ["", "box-1"],
    "backup.retry_cap": ["1s", "30s"], "backup.max_rate": ["0", "1000000"],
    "backup.window": ["", "22:00-04:00", "24:00-01:00"], "backup.timeout": ["1s", "30s"],
    "tls.ca": ["none", "/nonexistent"], "tls.cert": ["none"], "tls.key": ["none"],
    "tls.psk": ["", "id:00112233"], "time.zone": ["UTC0", "CET-1CEST,M3.5.0,M10.5.0/3",
                                                  "<+09p>24:30", "EST5EDT"],
    "tls.min_version": ["1.2", "1.3", "1.4"],
}
NOISE = ["", "-1", "0", "18446744073709551616", "1e9", "9" * 40, "\"quoted\"", "\"open",
         "a b", "#c", "\\", "x" * 600, "\t", "1s2m", "-0s", "0x10", "none", "ÿ", "1 s"]


def sanitizer_free(text):
    bad = [ln for ln in text.splitlines() if SANITIZER.search(ln)]
    assert not bad, b"\n".join(bad[:20]).decode(errors="replace")


@pytest.fixture(scope="module")
def asan_vigild():
    if not ASAN_VIGILD.exists():
        pytest.fail(f"{ASAN_VIGILD} not built (make asan-bins)")
    return ASAN_VIGILD


def base_config(tmp_path):
    return "".join(f"{k} = {v if v is not None else tmp_path / 'data'}\n"
                   for k, v in PINNED.items())


# ---- the console -----------------------------------------------------------

COMMANDS = ["help", "version", "uptime", "status", "status --json", "health", "conns",
            "probe", "log", "wdt", "metrics", "backup jobs", "backup now", "backup cancel",
            "backup cancel all", "restore status", "restore cancel", "config get",
            "config reload", "config save", "config", "help config", "help nosuch"]
KEYS = [b"\x01", b"\x05", b"\x15", b"\x0b", b"\x17", b"\x0c", b"\t", b"\t\t", b"\x7f",
        b"\x08", b"\x1b[A", b"\x1b[B", b"\x1b[C", b"\x1b[D", b"\x1b[H", b"\x1b[F",
        b"\x1b[3~", b"\x1bOA", b"\x1b", b"\x1b[", b"\x1b[999999999999~", b"\x1b[1;5C",
        b"\x1b]0;title\x07", b"\x1b[" + b"9" * 40]


def random_line(rng):
    """A command line: a command with odd arguments, a config change of a
    safe key, or words that are no command."""
    pick = rng.random()
    if pick < 0.45:
        line = rng.choice(COMMANDS)
        for _ in range(rng.choice([0, 0, 1, 2])):
            line += " " + rng.choice(NOISE + ["7", "all", "--json", "latest"])
    elif pick < 0.75:
        key = rng.choice(list(VALUES))
        line = f"config {rng.choice(['set', 'get'])} {key} " + \
            rng.choice(VALUES[key] + NOISE)
    else:
        line = rng.choice(["frob", "stauts", "backup nowish", "config set", "log -5",
                           "log 99999999999", "help " + "h" * 300, "exitx"])
    return line.encode()


def random_input(rng):
    """One round: lines, keys, escape sequences and bytes, never ^D (EOF on
    an empty line stops vigild) and never exit or reboot."""
    out = b""
    for _ in range(rng.randint(1, 8)):
        r = rng.random()
        if r < 0.4:
            out += random_line(rng)
        elif r < 0.7:
            out += rng.choice(KEYS)
        elif r < 0.85:
            out += bytes(b for b in rng.randbytes(rng.randint(1, 64)) if b != 4)
        elif r < 0.95:
            out += b"x" * rng.randint(200, 1200)         # past the line limit
        else:
            out += b"\r".join(random_line(rng) for _ in range(rng.randint(2, 6)))
        if rng.random() < 0.5:
            out += b"\r"
    return out + b"\r"


def answers(c, line, want, timeout=30.0):
    """line runs and its output holds want: prompts left over from the
    random input (output still on its way) are read past."""
    c.send(line.encode() + b"\r")
    deadline = time.monotonic() + timeout
    out = ""
    while want not in out:
        out += c.expect(PROMPT, max(deadline - time.monotonic(), 0.1)).decode(errors="replace")
    return True


def test_random_console_input_keeps_it_answering(asan_vigild, tmp_path):
    seed = int(os.environ.get("VIGIL_FUZZ_SEED", random.randrange(1 << 32)))
    rounds = int(os.environ.get("VIGIL_CONSOLE_FUZZ_ROUNDS", "80"))
    rng = random.Random(seed)
    conf = tmp_path / "vigil.conf"
    conf.write_text(base_config(tmp_path))
    c = Console(conf, tmp_path / "log", exe=asan_vigild)
    sent = 0
    try:
        c.expect(PROMPT, timeout=20)
        for i in range(rounds):
            data = random_input(rng)
            c.send(data)
            sent += len(data)
            c.drain(quiet=0.1)
            if i % 10 == 9 or i == rounds - 1:
                c.send(b"\x03")
                assert c.proc.poll() is None, f"seed {seed}: vigild exited"
                assert answers(c, "version", "vigild 0."), f"seed {seed}"
                word = "nosuch%d" % rng.randrange(1000)
                assert answers(c, word, f"unknown command `{word}`"), f"seed {seed}"
        c.send(b"\x03")
        c.drain(quiet=0.1)
        c.send(b"exit\r")
        assert c.wait_exit(20) == 0, f"seed {seed}"
    finally:
        c.close()
    sanitizer_free(open(tmp_path / "log", "rb").read())
    print(f"console fuzz: seed {seed}, {rounds} rounds, {sent} bytes")


# ---- configuration files -----------------------------------------------------

def random_config(rng, tmp_path):
    """A mutated valid file: pinned keys, random values of other keys,
    and line faults (duplicates, junk, control bytes, long lines)."""
    lines = [ln.encode() for ln in base_config(tmp_path).splitlines()]
    for key in rng.sample(list(VALUES), rng.choice([0, 1, 2, 4, 12])):
        value = rng.choice(VALUES[key] + (NOISE if rng.random() < 0.15 else []))
        lines.append(f"{key} = {value}".encode())
    for _ in range(rng.choice([0, 0, 0, 1, 3])):
        fault = rng.choice(["dup", "noeq", "junk", "ctrl", "long", "comment", "nokey",
                            "unknown", "quote"])
        at = rng.randrange(len(lines) + 1)
        if fault == "dup" and lines:
            lines.insert(at, rng.choice(lines))
        elif fault == "noeq":
            lines.insert(at, b"log.level info")
        elif fault == "junk":
            lines.insert(at, rng.randbytes(rng.randint(1, 80)).replace(b"\n", b""))
        elif fault == "ctrl":
            lines.insert(at, b"log.level = in\x01fo")
        elif fault == "long":
            lines.insert(at, b"device.name = " + b"a" * rng.choice([497, 498, 2000]))
        elif fault == "comment":
            lines.insert(at, b"# " + rng.randbytes(20).replace(b"\n", b""))
        elif fault == "nokey":
            lines.insert(at, b" = 1")
        elif fault == "unknown":
            lines.insert(at, b"log.levle = info")
        else:
            lines.insert(at, b"device.name = \"a")
    sep = b"\r\n" if rng.random() < 0.2 else b"\n"
    text = (b"\xef\xbb\xbf" if rng.random() < 0.1 else b"") + sep.join(lines)
    return text + (sep if rng.random() < 0.8 else b"")


def check_refusal(path, err, data):
    """stderr of a refused file: one printable `FILE:LINE: reason` per
    fault (LINE within the file), at most ERRORS_MAX and a count of the rest."""
    lines = err.decode(errors="replace").splitlines()
    assert 1 <= len(lines) <= ERRORS_MAX + 1, err
    nlines = data.count(b"\n") + (not data.endswith(b"\n"))
    for ln in lines:
        assert re.fullmatch(r"[\x20-\x7e]+", ln), ln
        m = re.fullmatch(re.escape(str(path)) + r":(\d+): .+", ln)
        if m:
            assert 1 <= int(m.group(1)) <= nlines, ln
        else:
            assert re.fullmatch(re.escape(str(path)) + r": \d+ more errors not shown", ln), ln


def test_random_config_files_run_or_are_refused_clearly(asan_vigild, tmp_path):
    seed = int(os.environ.get("VIGIL_FUZZ_SEED", random.randrange(1 << 32)))
    files = int(os.environ.get("VIGIL_CONFIG_FUZZ_FILES", "40"))
    rng = random.Random(seed)
    ok = refused = 0
    for i in range(files):
        path = tmp_path / f"c{i}.conf"
        data = random_config(rng, tmp_path) if rng.random() < 0.8 else \
            rng.randbytes(rng.randint(0, 3000))
        path.write_bytes(data)
        r = subprocess.run([str(asan_vigild), "--check-config", str(path)],
                           capture_output=True, timeout=30)
        sanitizer_free(r.stderr)
        assert r.returncode in (0, 1), (seed, i, r)
        if r.returncode == 0:
            assert (r.stdout, r.stderr) == (f"{path}: ok\n".encode(), b""), (seed, i)
            ok += 1
        else:
            assert r.stdout == b"", (seed, i)
            check_refusal(path, r.stderr, data)
            refused += 1
        if i % 4:
            continue
        # and at start: the same file runs (only files whose pinned keys
        # stayed pinned) or is refused with the same errors
        c = Console(path, tmp_path / f"log{i}", exe=asan_vigild)
        try:
            if r.returncode == 0:
                if b"data.dir" in data and str(tmp_path).encode() in data:
                    c.expect(PROMPT, timeout=20)
                    assert "vigild 0." in c.cmd("version", timeout=20)
                    assert "log.level = " in c.cmd("config get", timeout=20)
                    c.send(b"exit\r")
                    assert c.wait_exit(20) == 0
            else:
                assert c.wait_exit(20) == 1, (seed, i)
                log = open(tmp_path / f"log{i}", "rb").read()
                # the same first fault (the log cuts long lines)
                first = r.stderr.splitlines()[0].split(b": ")[0] + b": "
                assert b"ERROR config: " + first in log, (seed, i, first, log[-2000:])
        finally:
            c.close()
        sanitizer_free(open(tmp_path / f"log{i}", "rb").read())
    print(f"config fuzz: seed {seed}, {files} files, {ok} accepted, {refused} refused")
    assert ok and refused, (seed, ok, refused)
