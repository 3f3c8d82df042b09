"""`vigild backup` (the one-shot CyberBackup v3 client) against the
reference server v3_refserver.py in both field variants, with faults."""
import base64
import math
import os
import subprocess
import sys
import time

import pytest
from Cryptodome.PublicKey import RSA

from conftest import binary

sys.path.insert(0, os.path.dirname(__file__))
from backup_cli import assert_stored, sha, vigild_backup  # noqa: E402
from v3_refserver import RefServer  # noqa: E402
from v3_names import v3_name  # noqa: E402


@pytest.fixture
def server(tmp_path):
    servers = []

    def start(variant="3.0"):
        s = RefServer(tmp_path / f"srv{len(servers)}", variant).start()
        servers.append(s)
        return s
    yield start
    for s in servers:
        s.stop()


@pytest.fixture
def tree(tmp_path):
    src = tmp_path / "src"
    (src / "sub" / "deeper").mkdir(parents=True)
    (src / "empty").write_bytes(b"")
    (src / "one").write_bytes(b"x")
    (src / "a b.txt").write_bytes(b"spaces in the name\n")
    (src / "sub" / "kib").write_bytes(os.urandom(1024))
    (src / "sub" / "deeper" / "mib").write_bytes(os.urandom(1 << 20))
    (src / "sub" / "blocks").write_bytes(os.urandom(65536))
    (src / "link").symlink_to(src / "one")
    return src


def regular_files(root):
    return [p for p in root.rglob("*") if p.is_file() and not p.is_symlink()]


@pytest.mark.parametrize("variant", ["3.0", "old"])
def test_tree_is_stored_verified_in_both_variants(server, tree, tmp_path,
                                                  variant):
    srv = server(variant)
    r, _ = vigild_backup(srv.url, tmp_path, [tree])
    assert r.returncode == 0, r.stderr
    files = regular_files(tree)
    for f in files:
        assert_stored(srv, f)
    assert len(srv.verified) == len(files)          # the symlink skipped
    assert "1 skipped" in r.stderr
    # key format: 160 only for 3.0; 160 refused then 162 for the old one
    assert srv.key_sizes == ([160] if variant == "3.0" else [160, 162])
    lines = (tmp_path / "me.info").read_text().split("\n")
    assert lines[0] == "box" and len(lines) == 4 and lines[3] == ""
    assert len(lines[1]) == 32 and int(lines[1], 16) >= 0
    key = RSA.import_key(base64.b64decode(lines[2]))
    assert key.has_private() and key.size_in_bits() == 1024
    assert key.e == (17 if variant == "3.0" else 65537)
    assert (tmp_path / "me.info").stat().st_mode & 0o777 == 0o600


def test_reconnect_uses_saved_identity(server, tree, tmp_path):
    srv = server()
    r, _ = vigild_backup(srv.url, tmp_path, [tree / "one"])
    assert r.returncode == 0, r.stderr
    before = (tmp_path / "me.info").read_text()
    srv.log.clear()
    r, _ = vigild_backup(srv.url, tmp_path, [tree / "a b.txt"])
    assert r.returncode == 0, r.stderr
    assert srv.log[0][0] == 1027 and 1025 not in [c for c, _ in srv.log]
    assert (tmp_path / "me.info").read_text() == before
    assert_stored(srv, tree / "a b.txt")


def test_50mib_goes_as_many_packets_of_one_stream(server, tmp_path):
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(50 << 20))
    srv = server()
    r, _ = vigild_backup(srv.url, tmp_path / "st", [big], timeout=120)
    assert r.returncode == 0, r.stderr
    total = math.ceil(((50 << 20) // 16 + 1) * 16 / 65536)
    pk = [d for c, d in srv.log if c == 1028]
    assert len(pk) == total and pk[-1].endswith(f" {total}/{total}")
    assert_stored(srv, big)


def test_one_crc_mismatch_is_resent(server, tree, tmp_path):
    srv = server()
    srv.wrong_crc = 1
    r, _ = vigild_backup(srv.url, tmp_path, [tree / "sub" / "kib"])
    assert r.returncode == 0, r.stderr
    codes = [c for c, _ in srv.log]
    assert codes == [1025, 1026, 1028, 1030, 1028, 1029]
    assert_stored(srv, tree / "sub" / "kib")


def test_third_crc_mismatch_aborts_with_1031(server, tree, tmp_path):
    srv = server()
    srv.wrong_crc = 3
    r, _ = vigild_backup(srv.url, tmp_path, [tree / "sub" / "kib"])
    assert r.returncode == 1
    codes = [c for c, _ in srv.log]
    assert codes == [1025, 1026, 1028, 1030, 1028, 1030, 1028, 1031]
    assert "cksum mismatch 3 times" in r.stderr
    assert srv.verified == {}
    assert r.stderr.strip().splitlines()[-1].startswith("vigild backup: 1 of 1")


def test_server_down_backs_off_then_fails_clearly(tmp_path):
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()                                     # nobody listens there
    r, took = vigild_backup(f"tcp://127.0.0.1:{port}", tmp_path,
                            [tmp_path])
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 3, r.stderr
    assert "connect 127.0.0.1" in lines[-1] and "refused" in lines[-1], r.stderr
    # 3 attempts, waits 500 ms +-25 % and 1 s +-25 %, each logged
    import re
    waits = [re.search(r"refused; retrying in (\d+) ms \(attempt (\d) of 3\)", l)
             for l in lines[:2]]
    assert all(waits), lines
    assert [int(m.group(2)) for m in waits] == [2, 3]
    assert 375 <= int(waits[0].group(1)) <= 625
    assert 750 <= int(waits[1].group(1)) <= 1250
    assert 1.1 <= took < 4.0, took


def test_retry_cap_bounds_the_waits(tmp_path):
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    r, took = vigild_backup(f"tcp://127.0.0.1:{port}", tmp_path, [tmp_path],
                            extra=["--retry-cap", "100"])
    assert r.returncode == 1 and took < 1.0, took


def test_1607_is_retried_then_fails_after_3_attempts(server, tree, tmp_path):
    srv = server()
    srv.err_1607 = {1025: 2}
    r, _ = vigild_backup(srv.url, tmp_path, [tree / "one"])
    assert r.returncode == 0, r.stderr
    assert [c for c, _ in srv.log].count(1025) == 3
    srv2 = server()
    srv2.err_1607 = {1025: 3}
    r, _ = vigild_backup(srv2.url, tmp_path / "other", [tree / "one"])
    assert r.returncode == 1
    assert [c for c, _ in srv2.log].count(1025) == 3
    assert "answered 1607 to 1025" in r.stderr


def test_dropped_connection_mid_file_is_retried(server, tree, tmp_path):
    srv = server()
    srv.drop_mid_file = 1
    mib = tree / "sub" / "deeper" / "mib"
    r, _ = vigild_backup(srv.url, tmp_path, [mib])
    assert r.returncode == 0, r.stderr
    assert srv.connections == 2
    assert [c for c, _ in srv.log][:3] == [1025, 1026, 1028]
    assert 1027 in [c for c, _ in srv.log]        # the new session
    assert_stored(srv, mib)


def test_silent_server_times_out_and_is_retried(server, tree, tmp_path):
    srv = server()
    srv.stall = 1
    r, took = vigild_backup(srv.url, tmp_path, [tree / "one"])
    assert r.returncode == 0, r.stderr
    assert took >= 2.0                             # the 2 s I/O timeout
    assert srv.connections == 2
    assert_stored(srv, tree / "one")


def peak_rss_kib(args):
    """VmHWM of one `vigild backup` run, sampled from /proc every ms until
    it exits (wait4's ru_maxrss would include the forking Python's pages
    from before exec)."""
    p = subprocess.Popen([str(binary("vigild"))] + args,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    hwm = 0
    while p.poll() is None:
        try:
            with open(f"/proc/{p.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        hwm = max(hwm, int(line.split()[1]))
        except OSError:
            pass
        time.sleep(0.001)
    err = p.stderr.read().decode()
    assert p.returncode == 0, err
    assert hwm > 0
    return hwm


def test_peak_rss_does_not_grow_with_file_size(server, tmp_path):
    small = tmp_path / "small.bin"
    small.write_bytes(os.urandom(1 << 20))
    big = tmp_path / "big.bin"
    with open(big, "wb") as f:
        for _ in range(200):
            f.write(os.urandom(1 << 20))
    srv = server()
    common = ["backup", "--server", srv.url, "--state", str(tmp_path),
              "--name", "rss"]
    rss_small = peak_rss_kib(common + [str(small)])
    rss_big = peak_rss_kib(common + [str(big)])
    print(f"\nvigild backup peak RSS: 1 MiB file {rss_small} KiB, "
          f"200 MiB file {rss_big} KiB")
    assert rss_big <= rss_small + 256, (rss_small, rss_big)
    assert rss_big < 2048          # static musl binary: well under 2 MiB
    assert_stored(srv, big)


def test_usage_errors_exit_2(tmp_path):
    r = subprocess.run([str(binary("vigild")), "backup", str(tmp_path)],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 2 and "--server" in r.stderr
    r = subprocess.run([str(binary("vigild")), "backup", "--server",
                        "http://x:1", str(tmp_path)],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 2 and "bad server URL" in r.stderr
    # numbers are whole strings of digits (strtoul took "5s" as 5)
    for opt, val in (("--timeout", "5s"), ("--max-rate", "-1"),
                     ("--retry-cap", "4294967296"), ("--segment-max", "")):
        r = subprocess.run([str(binary("vigild")), "backup", "--server",
                            "tcp://127.0.0.1:1", opt, val, str(tmp_path)],
                           capture_output=True, text=True, timeout=10)
        assert r.returncode == 2 and f"bad number '{val}'" in r.stderr, \
            (opt, r.stderr)


def test_against_vigil_backupd(tree, tmp_path):
    """vigild backup -> vigil-backupd (plain): every file stored as v1,
    byte-identical; a second run reconnects and adds v2."""
    import re
    import select
    data = tmp_path / "bd"
    srv = subprocess.Popen([str(binary("vigil-backupd")), "--data", str(data),
                            "--plain", "127.0.0.1:0"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        port, buf, deadline = None, b"", time.monotonic() + 10
        while port is None and time.monotonic() < deadline:
            if select.select([srv.stderr], [], [], 0.2)[0]:
                buf += os.read(srv.stderr.fileno(), 4096)
                m = re.search(rb"listening plain v3 on 127\.0\.0\.1:(\d+)",
                              buf)
                port = int(m.group(1)) if m else None
        assert port, buf
        url = f"tcp://127.0.0.1:{port}"
        r, _ = vigild_backup(url, tmp_path, [tree])
        assert r.returncode == 0, r.stderr
        uid = (tmp_path / "me.info").read_text().split("\n")[1]
        files = regular_files(tree)
        for f in files:
            stored = data / uid / v3_name(f) / "v1"
            assert sha(stored) == sha(f), f
        r, _ = vigild_backup(url, tmp_path, [tree / "one"])
        assert r.returncode == 0, r.stderr
        assert (data / uid / v3_name(tree / "one") / "v2").read_bytes() == b"x"
    finally:
        srv.terminate()
        srv.wait(timeout=10)
