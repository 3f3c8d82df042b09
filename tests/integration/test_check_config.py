"""vigild --check-config FILE: exit codes and the exact "FILE: ok" /
"FILE:LINE: reason" output on good, broken, binary, empty, missing and
oversized files (docs/config.md lists every message)."""
import os
import random
import re
import subprocess

import pytest

from conftest import binary

FILE_MAX = 16384
LINE_MAX = 512
ERRORS_MAX = 16

FULL = (
    "# every key\n"
    "log.level = debug\n"
    "log.stderr = true   # trailing comment\n"
    "log.syslog = no\n"
    "device.name = pump-7.site_a\n"
    "data.dir = /var/lib/vigil\n"
    "watchdog.device = /dev/watchdog0\n"
    "watchdog.timeout = 30s\n"
    "console.device = \"/dev/tty#0\"\n"
    "console.baud = 115200\n"
    "led.status = none\n"
    "system.thermal_zone = /sys/class/thermal/thermal_zone0\n")


def check(path):
    """Runs --check-config on path; returns (rc, stdout, stderr) as bytes."""
    r = subprocess.run([str(binary("vigild")), "--check-config", str(path)],
                       capture_output=True, timeout=10)
    return r.returncode, r.stdout, r.stderr


def expect_ok(path):
    rc, out, err = check(path)
    assert (rc, err) == (0, b""), err
    assert out == f"{path}: ok\n".encode()


def expect_errors(path, *msgs):
    """Exit 1, nothing on stdout, exactly these lines on stderr; each msg is
    "LINE: reason" or ": reason" (a whole-file error)."""
    rc, out, err = check(path)
    assert rc == 1
    assert out == b""
    want = "".join(f"{path}{':' if m[0] != ':' else ''}{m}\n" for m in msgs)
    assert err.decode() == want


def test_full_valid_file_is_ok(tmp_path):
    path = tmp_path / "vigil.conf"
    path.write_text(FULL)
    expect_ok(path)


def test_crlf_and_byte_order_mark_are_accepted(tmp_path):
    path = tmp_path / "dos.conf"
    path.write_bytes(b"\xef\xbb\xbf" + FULL.replace("\n", "\r\n").encode())
    expect_ok(path)


def test_empty_file_is_ok(tmp_path):
    path = tmp_path / "empty.conf"
    path.write_bytes(b"")
    expect_ok(path)


def test_every_error_class_with_its_line(tmp_path):
    path = tmp_path / "broken.conf"
    path.write_bytes(
        b"# broken on purpose\n"                        # 1
        b"log.level = loud\n"                           # 2
        b"watchdog.timeout = 0\n"                       # 3
        b"watchdog.timeout = 1500ms\n"                  # 4 duplicate
        b"this line has no equals\n"                    # 5
        b"log.levle = info\n"                           # 6
        b" = 5\n"                                       # 7
        b"log.stderr =   # nothing\n"                   # 8
        b"console.baud = 1234\n"                        # 9
        b"data.dir = var/lib\n"                         # 10
        b"device.name = a/b\n"                          # 11
        b"led.status = \"/sys/x\n"                      # 12
        b"log.syslog = maybe\r\n"                       # 13 (CRLF is fine)
        b"console.device = /dev/tty\x00S0\n"            # 14
        b"# " + b"x" * (LINE_MAX - 1) + b"\n"           # 15
        b"frobnicate = 1\n")                            # 16
    expect_errors(
        path,
        "2: log.level: `loud` is not one of err, warn, info, debug",
        "3: watchdog.timeout: `0` is out of range 1s..1h",
        "4: watchdog.timeout: already set on line 3",
        "5: missing `=` (expected `key = value`)",
        "6: unknown key `log.levle` (did you mean `log.level`?)",
        "7: missing key before `=`",
        "8: log.stderr: no value after `=` (expected a boolean: "
        "true/false, yes/no, on/off, 1/0)",
        "9: console.baud: `1234` is not one of 9600, 19200, 38400, 57600, "
        "115200, 230400, 460800, 921600, 1000000, 1500000, 2000000, "
        "3000000, 4000000",
        "10: data.dir: `var/lib` is not an absolute path",
        "11: device.name: `/` is not allowed (only A-Z a-z 0-9 ._-)",
        "12: led.status: no closing `\"`",
        "13: log.syslog: `maybe` is not a boolean: true/false, yes/no, "
        "on/off, 1/0",
        "14: control byte 0x00 in column 26 (only tab is allowed)",
        "15: line has 513 bytes; at most 512 are allowed",
        "16: unknown key `frobnicate`")


def test_duration_step_and_units(tmp_path):
    path = tmp_path / "t.conf"
    path.write_text("watchdog.timeout = 1500ms\n")
    expect_errors(path, "1: watchdog.timeout: `1500ms` is not a whole "
                  "multiple of 1s")
    path.write_text("watchdog.timeout = 1h\n")
    expect_ok(path)
    path.write_text("watchdog.timeout = 61m\n")
    expect_errors(path, "1: watchdog.timeout: `61m` is out of range 1s..1h")


def test_longest_line_is_fine_one_more_is_an_error(tmp_path):
    path = tmp_path / "long.conf"
    path.write_bytes(b"#" * LINE_MAX + b"\r\n")
    expect_ok(path)
    path.write_bytes(b"#" * (LINE_MAX + 1) + b"\n")
    expect_errors(path, "1: line has 513 bytes; at most 512 are allowed")


def test_errors_beyond_the_bound_are_counted(tmp_path):
    path = tmp_path / "many.conf"
    path.write_text("".join(f"bogus{i} = 1\n" for i in range(ERRORS_MAX + 4)))
    rc, out, err = check(path)
    assert rc == 1
    lines = err.decode().splitlines()
    assert len(lines) == ERRORS_MAX + 1
    for i, line in enumerate(lines[:-1]):
        assert line.startswith(f"{path}:{i + 1}: unknown key `bogus{i}`")
    assert lines[-1] == f"{path}: 4 more errors not shown"


def test_binary_garbage_gives_bounded_clean_errors(tmp_path):
    rng = random.Random(20261123)
    path = tmp_path / "garbage.bin"
    for _ in range(20):
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 4096)))
        path.write_bytes(data)
        rc, out, err = check(path)
        lines = err.split(b"\n")
        assert lines.pop() == b""
        assert rc in (0, 1)
        assert (rc == 0) == (lines == [])
        assert len(lines) <= ERRORS_MAX + 1
        nlines = data.count(b"\n") + (not data.endswith(b"\n"))
        prefix = str(path).encode()
        for line in lines:
            # printable ASCII only: the input's bytes never reach a terminal
            assert re.fullmatch(rb"[\x20-\x7e]+", line), line
            m = re.fullmatch(re.escape(prefix) + rb":(\d+): .+", line)
            if m:
                assert 1 <= int(m.group(1)) <= nlines
            else:
                assert re.fullmatch(re.escape(prefix) +
                                    rb": \d+ more errors not shown", line)


def test_missing_file(tmp_path):
    expect_errors(tmp_path / "absent.conf",
                  ": cannot read: No such file or directory")


def test_directory(tmp_path):
    expect_errors(tmp_path, ": cannot read: Is a directory")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path):
    path = tmp_path / "secret.conf"
    path.write_text("log.level = info\n")
    path.chmod(0)
    expect_errors(path, ": cannot read: Permission denied")


def test_largest_file_is_read_one_byte_more_is_refused(tmp_path):
    path = tmp_path / "max.conf"
    tail = b"log.level = warn\n"
    path.write_bytes(b"\n" * (FILE_MAX - len(tail)) + tail)
    expect_ok(path)
    path.write_bytes(b"\n" * (FILE_MAX + 1))
    expect_errors(path, ": file is larger than 16384 bytes")


def test_ten_megabyte_file_is_refused_quickly(tmp_path):
    path = tmp_path / "huge.conf"
    with open(path, "wb") as f:
        f.write((b"# " + b"x" * 1021 + b"\n") * (10 * 1024))
    assert path.stat().st_size == 10 * 1024 * 1024
    expect_errors(path, ": file is larger than 16384 bytes")
