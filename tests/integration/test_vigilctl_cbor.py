"""vigilctl's command line and its `cbor diag` / `cbor json` subcommands."""
import json
import re
import struct
import subprocess

import cbor2

from conftest import binary


def run(args, data=b"", **kw):
    return subprocess.run([str(binary("vigilctl"))] + args, input=data,
                          capture_output=True, timeout=30, **kw)


def text(r):
    return r.stdout.decode("utf-8")


def enc(v):
    return cbor2.dumps(v)


# A status-like document, keys in this order, "free" as a single float.
STATUS = (b"\xa5" + enc("health") + b"\xa1" + enc("disk") + b"\xa2"
          + enc("ok") + enc(True) + enc("free") + b"\xfa" + struct.pack(">f", 1.5e9)
          + enc("name") + enc("b\u00fcro") + enc("key") + enc(b"\x00\xff")
          + enc("up") + enc(2**32) + enc("t") + enc(cbor2.CBORTag(1, 1363896240.5)))


def test_help_and_version():
    r = run(["--help"])
    assert r.returncode == 0 and text(r).startswith("Usage: vigilctl")
    assert "cbor diag|json" in text(r)
    r = run(["cbor", "--help"])
    assert r.returncode == 0 and text(r).startswith("Usage: vigilctl cbor")
    assert "--ascii" in text(r) and "16 MiB" in text(r)
    assert run(["cbor", "json", "-h"]).stdout == r.stdout
    r = run(["--version"])
    assert r.returncode == 0
    assert re.fullmatch(r"vigilctl \d+\.\d+\.\d+ \(git ([0-9a-f]{12}(-dirty)?|unknown), "
                        r"built \d{4}-\d\d-\d\d\)\n", text(r)), text(r)


def test_usage_errors_exit_2():
    for args, msg in ((["cbor"], "diag or json expected"),
                      (["cbor", "yaml"], "unknown mode 'yaml'"),
                      (["cbor", "diag", "--frob"], "unknown option '--frob'"),
                      (["cbor", "diag", "a", "b"], "more than one FILE"),
                      ([], "no command given"),
                      (["frobnicate"], "unknown command 'frobnicate'"),
                      (["--frob"], "unknown option '--frob'")):
        r = run(args)
        assert r.returncode == 2, args
        assert msg in r.stderr.decode() and "--help" in r.stderr.decode(), r.stderr
        assert r.stdout == b""


def test_diag_of_a_status_document():
    r = run(["cbor", "diag"], STATUS)
    assert r.returncode == 0, r.stderr
    assert text(r) == (
        '{"health": {"disk": {"ok": true, "free": 1500000000.0}}, '
        '"name": "b\u00fcro", "key": h\'00ff\', "up": 4294967296, '
        '"t": 1(1363896240.5)}\n')
    r = run(["cbor", "diag", "--ascii"], STATUS)
    assert '"name": "b\\u00fcro"' in text(r) and r.stdout.isascii()


def test_json_of_a_status_document():
    r = run(["cbor", "json"], STATUS)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {
        "health": {"disk": {"ok": True, "free": 1500000000.0}},
        "name": "b\u00fcro", "key": "AP8", "up": 4294967296, "t": 1363896240.5}
    assert text(r).count("\n") == 1


def test_sequence_prints_one_item_per_line(tmp_path):
    seq = bytes.fromhex("01" "820203" "6161" "9f f6 ff" "f97e00")
    r = run(["cbor", "diag"], seq)
    assert r.returncode == 0, r.stderr
    assert text(r) == '1\n[2, 3]\n"a"\n[_ null]\nNaN\n'
    path = tmp_path / "seq.cbor"
    path.write_bytes(seq[:-3])
    r = run(["cbor", "json", str(path)])
    assert r.returncode == 0 and text(r) == '1\n[2, 3]\n"a"\n[null]\n'
    assert run(["cbor", "json", "-"], seq[:-3]).stdout == r.stdout


def test_empty_input_is_an_empty_sequence():
    for mode in ("diag", "json"):
        r = run(["cbor", mode], b"")
        assert r.returncode == 0 and r.stdout == b"" and r.stderr == b""


def test_malformed_input_reports_offset_and_reason():
    cases = [
        # good items before the bad one are printed; the bad one is not
        ("01 8301026568", "1\n", "offset 4: truncated string"),
        ("1a0000", "", "offset 0: truncated head"),
        ("82 01", "", "offset 2: truncated item"),
        ("ff", "", "offset 0: break outside an indefinite item"),
        ("f818", "", "offset 0: two-byte simple value below 32"),
        ("62c328", "", "offset 0: invalid UTF-8"),
        ("81" * 17 + "00", "", "offset 16: nesting too deep"),
    ]
    for hexs, out, err in cases:
        for mode in ("diag", "json"):
            r = run(["cbor", mode], bytes.fromhex(hexs.replace(" ", "")))
            assert r.returncode == 1, (hexs, mode)
            assert text(r) == out, (hexs, mode)
            assert r.stderr.decode().startswith("vigilctl: cbor: " + err), r.stderr


def test_json_impossible_values_exit_1():
    cases = [
        ("a10102", "offset 1: map key is not text (JSON)"),
        ("8201f97c00", "offset 2: NaN or Infinity (JSON)"),
        ("fb7ff8000000000000", "offset 0: NaN or Infinity (JSON)"),
        ("a16161f7", "offset 3: undefined (JSON)"),
        ("f0", "offset 0: simple value (JSON)"),
    ]
    for hexs, err in cases:
        r = run(["cbor", "json"], bytes.fromhex(hexs))
        assert r.returncode == 1 and r.stdout == b"", hexs
        assert r.stderr.decode() == f"vigilctl: cbor: {err}\n"
        assert run(["cbor", "diag"], bytes.fromhex(hexs)).returncode == 0


def test_file_errors_and_the_size_limit(tmp_path):
    r = run(["cbor", "diag", str(tmp_path / "missing.cbor")])
    assert r.returncode == 1
    assert "missing.cbor: No such file or directory" in r.stderr.decode()
    bad = tmp_path / "bad.cbor"
    bad.write_bytes(bytes.fromhex("8201"))
    r = run(["cbor", "diag", str(bad)])
    assert r.returncode == 1
    assert r.stderr.decode() == f"vigilctl: cbor: {bad}: offset 2: " \
        "truncated item (missing content or break)\n"
    # 16 MiB is the limit: a byte string of exactly that size is read ...
    n = (16 << 20) - 5
    big = b"\x5a" + n.to_bytes(4, "big") + b"\x00" * n
    r = run(["cbor", "json"], big)
    assert r.returncode == 0, r.stderr
    assert len(r.stdout) == (n * 4 + 2) // 3 + 3
    # ... one byte more is refused
    r = run(["cbor", "json"], big + b"\x00")
    assert r.returncode == 1 and r.stdout == b""
    assert "input larger than 16777216 bytes" in r.stderr.decode()


def test_diag_output_is_utf8_for_any_input():
    for hexs in ("7f61c361bcff", "63eda080", "64f4908080"):  # not UTF-8
        r = run(["cbor", "diag"], bytes.fromhex(hexs))
        assert r.returncode == 1 and "invalid UTF-8" in r.stderr.decode()
