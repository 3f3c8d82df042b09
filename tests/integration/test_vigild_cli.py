"""vigild's command line: help, version, usage errors, --check-config."""
import os
import random
import re
import subprocess

import pytest

from conftest import BUILD_DIR, binary


def run(args, **kw):
    return subprocess.run([str(binary("vigild"))] + args, capture_output=True,
                          text=True, timeout=10, **kw)


def test_help_lists_options_and_exits_0():
    r = run(["--help"])
    assert r.returncode == 0
    assert r.stdout.startswith("Usage: vigild")
    for opt in ("--config", "--check-config", "--version", "--help"):
        assert opt in r.stdout


def test_version_names_version_git_board_and_date():
    r = run(["--version"])
    assert r.returncode == 0
    assert re.fullmatch(
        r"vigild \d+\.\d+\.\d+ \(git ([0-9a-f]{12}(-dirty)?|unknown), "
        r"board host, x86_64, built \d{4}-\d\d-\d\d\)\n", r.stdout), r.stdout


def test_unknown_option_is_a_usage_error():
    r = run(["--frobnicate"])
    assert r.returncode == 2
    assert "unknown option '--frobnicate'" in r.stderr
    assert "--help" in r.stderr


def test_option_without_its_argument_is_a_usage_error():
    r = run(["--check-config"])
    assert r.returncode == 2
    assert "needs a FILE" in r.stderr


def test_check_config_accepts_a_valid_file(dev_config):
    path = dev_config("log.level = debug\nwatchdog.timeout = 20s\n")
    r = run(["--check-config", str(path)])
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"{path}: ok\n"


def test_check_config_reports_every_error_with_its_line(tmp_path):
    path = tmp_path / "broken.conf"
    path.write_text(
        "# comment\n"
        "log.level = loud\n"          # line 2: bad enum
        "\n"
        "watchdog.timeout = 0\n"      # line 4: below minimum
        "this line has no equals\n"   # line 5: syntax
        "log.levle = info\n"          # line 6: unknown key, hint
        "log.stderr = true\n")
    r = run(["--check-config", str(path)])
    assert r.returncode == 1
    lines = r.stderr.splitlines()
    assert len(lines) == 4, r.stderr
    for line, key in zip(lines, ("2", "4", "5", "6")):
        assert line.startswith(f"{path}:{key}: "), line
    assert "log.level" in lines[0]
    assert "did you mean" in lines[3] and "log.level" in lines[3]


def test_check_config_on_a_missing_file_fails(tmp_path):
    r = run(["--check-config", str(tmp_path / "nope.conf")])
    assert r.returncode == 1
    assert "nope.conf" in r.stderr


def test_check_config_never_crashes_on_garbage(tmp_path):
    rng = random.Random(1234)
    path = tmp_path / "garbage.conf"
    seeds = [b"log.level = info\n", b"watchdog.timeout = 30s\n",
             b'device.name = "a\\"b"\n', b"# c\n", b"=\n", b"\"\n"]
    for i in range(300):
        if i % 2:
            data = bytes(rng.randrange(256) for _ in range(rng.randrange(200)))
        else:
            data = b"".join(rng.choice(seeds) for _ in range(rng.randrange(8)))
            data = bytearray(data)
            for _ in range(rng.randrange(4)):
                if data:
                    data[rng.randrange(len(data))] = rng.randrange(256)
            data = bytes(data)
        path.write_bytes(data)
        r = subprocess.run([str(binary("vigild")), "--check-config", str(path)],
                           capture_output=True, timeout=10)
        assert r.returncode in (0, 1), (data, r.returncode, r.stderr)


@pytest.mark.parametrize("board,qemu,arch", [
    ("qemu-aarch64", "qemu-aarch64-static", "aarch64"),
    ("rpi4", "qemu-aarch64-static", "aarch64"),
    ("bbb", "qemu-arm-static", "armv7"),
    ("qemu-x86_64", None, "x86_64"),
])
def test_board_binaries_run_and_name_their_board(board, qemu, arch):
    exe = BUILD_DIR / board / "bin" / "vigild"
    assert exe.exists(), f"{exe} not built (make check builds every board)"
    cmd = ([qemu] if qemu else []) + [str(exe), "--version"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert f"board {board}, {arch}," in r.stdout
