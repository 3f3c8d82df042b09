"""Issue 14: file names the deployed v3 servers accept.

vigild backup --server tcp://... backs up files whose paths hold '_',
spaces, '%', '..' inside a name, UTF-8, control bytes and device names
(CON, NUL, COM1, ...), in a register run and then a reconnect run, to
  - the Python reference server, whose name check is the deployed rule
    exactly (v3_names.name_ok), as the older deployed revision (162-byte
    keys, OAEP-SHA1) and as 3.0;
  - vigil-backupd --plain, which applies the same rule;
and every stored file's sha256 equals its source's.

A device name is only a device name as the whole v3 name, so only a
one-component path ("/con.txt") hits it: vigild runs chrooted into a
directory that holds those files at its top (chroot as root, else inside
"unshare -r", a user namespace of its own; same network, 127.0.0.1)."""
import hashlib
import os
import shutil
import subprocess

import pytest

from conftest import binary
from backup_cli import sha
from backupd import TIMEOUT_MS, Server
from v3_names import name_ok, v3_name
from v3_refserver import RefServer

# paths inside the chroot, and their sizes (plus a few bytes of salt)
FILES = {
    "/con.txt": 10, "/NUL": 1, "/aux.tar.gz": 100, "/com1": 0, "/LPT9.log": 5,
    "/a..b": 17, "/x_y": 3, "/100%": 2,
    "/src/one_mib.bin": 1 << 20,
    "/src/my_app/data_v2.db": 70000,
    "/src/a b/c d .txt": 33,
    "/src/100% done.txt": 4,
    "/src/%5F": 5,
    "/src/a..b": 6, "/src/x...y.tar": 7, "/src/..hidden": 8, "/src/dir..x/y": 9,
    "/src/café/résumé.txt": 1000,
    "/src/日本語 ファイル": 12,
    "/src/-dash/-x": 13,
    "/src/con.txt": 14, "/src/NUL": 15, "/src/Com1": 16,
    "/src/tab\there": 18,
    "/src/ctl\x01\x7fbyte": 19,
    "/src/_-41": 20,
}

# docs/protocol/cyberbackup-v3.md's table, for the paths above
DOCUMENTED = {
    "/con.txt": "_-63on.txt",
    "/NUL": "_-4EUL",
    "/a..b": "a._-2Eb",
    "/src/one_mib.bin": "src_one_-5Fmib.bin",
    "/src/100% done.txt": "src_100_-25 done.txt",
    "/src/café/résumé.txt": "src_caf_-C3_-A9_r_-C3_-A9sum_-C3_-A9.txt",
    "/src/-dash/-x": "src__-2Ddash__-2Dx",
}


@pytest.fixture
def jail(tmp_path):
    """A chroot holding vigild and FILES; returns (root, run) where run(url)
    backs up every FILES path with the state kept in /state."""
    root = tmp_path / "root"
    root.mkdir()
    shutil.copy(binary("vigild"), root / "vigild")
    prefix = ["chroot"] if os.geteuid() == 0 else ["unshare", "-r", "chroot"]

    def run(url):
        return subprocess.run(
            prefix + [str(root), "/vigild", "backup", "--server", url, "--state",
                      "/state", "--name", "box", "--timeout", str(TIMEOUT_MS),
                      *FILES],
            capture_output=True, timeout=120)
    return root, run


def write_files(root, salt):
    """(Re)writes FILES under root, new bytes each time; {path: sha256}."""
    digests = {}
    for p, size in FILES.items():
        host = root / os.fsdecode(os.fsencode(p)[1:])
        host.parent.mkdir(parents=True, exist_ok=True)
        data = salt + os.urandom(size)
        host.write_bytes(data)
        digests[p] = hashlib.sha256(data).hexdigest()
    return digests


def test_names_are_the_documented_ones():
    for p, name in DOCUMENTED.items():
        assert v3_name(p) == name, p
    names = {v3_name(p) for p in FILES}
    assert len(names) == len(FILES)
    assert all(name_ok(n) for n in names)
    # the names the earlier %XX mapping sent are refused by the rule
    assert not name_ok("src_one%5Fmib.bin") and not name_ok("a..b")
    assert not name_ok("con.txt") and not name_ok("NUL")


def check_run(r):
    err = r.stderr.decode(errors="replace")
    assert r.returncode == 0, err
    assert f"{len(FILES)} files verified, 0 skipped" in err, err


@pytest.mark.parametrize("variant", ["old", "3.0"])
def test_refserver_register_then_reconnect(jail, tmp_path, variant):
    root, run = jail
    srv = RefServer(tmp_path / "srv", variant).start()
    try:
        for attempt, first in ((b"register", 1025), (b"reconnect", 1027)):
            want = write_files(root, attempt)
            srv.log.clear()
            check_run(run(srv.url))
            codes = [c for c, _ in srv.log]
            assert codes[0] == first and (1025 in codes) == (first == 1025)
            assert 1607 not in codes
            assert sorted(srv.verified) == sorted(v3_name(p) for p in FILES)
            for p, digest in want.items():
                assert sha(srv.verified[v3_name(p)]) == digest, p
    finally:
        srv.stop()


def test_backupd_plain_register_then_reconnect(jail, tmp_path):
    root, run = jail
    data = tmp_path / "data"
    srv = Server(["--data", str(data), "--timeout-ms", str(TIMEOUT_MS),
                  "--plain", "127.0.0.1:0"]).start()
    try:
        wants = []
        for attempt in (b"register", b"reconnect"):
            wants.append(write_files(root, attempt))
            check_run(run(f"tcp://127.0.0.1:{srv.port}"))
        srv.wait_for(r"session key sent \(1605\)")
    finally:
        assert srv.stop() == 0
    assert not [line for line in srv.lines if "1607" in line]
    (client,) = [d for d in os.listdir(data) if len(d) == 32]
    assert sorted(os.listdir(data / client)) == sorted(v3_name(p) for p in FILES)
    for p in FILES:
        vdir = data / client / v3_name(p)
        assert sorted(os.listdir(vdir)) == ["v1", "v2"], p
        assert [sha(vdir / v) for v in ("v1", "v2")] == [w[p] for w in wants], p
