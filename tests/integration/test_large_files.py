"""Files of 4 GiB and more (docs/protocol/cyberbackup-v3.md, "Files of
4 GiB and more: 1047"): over vigil/2 a file larger than a segment goes
as several 1028 transfers, each announced by a 1047 and acknowledged by
a 1647, the last one by the 1603 of the whole file.

make check runs the path with small segments (`vigild backup
--segment-max`); `make soak` sets VIGIL_LARGE_BYTES to a real file over
4 GiB at the default 2 GiB segments (VIGIL_LARGE_SEGMENT=0).  Real
vigild and vigil-backupd on 127.0.0.1."""
import hashlib
import os
import random
import subprocess

import pytest

from conftest import binary, make_certs
from backupd import Server, TIMEOUT_MS, tls_args
from test_backup_resume import CountingCutProxy
from test_restore import config, make_leaf, restored_root, run

SIZE = int(os.environ.get("VIGIL_LARGE_BYTES", str((3 << 20) + 5)))
SEGMENT = int(os.environ.get("VIGIL_LARGE_SEGMENT", str(1 << 20)))
SEG_MAX = SEGMENT or 1 << 31
# the server's idle timeout: a real 4 GiB file (make soak) is read from a
# disk whose cache it overflows, and a resume reads the kept bytes again
# for the cksum while the connection is quiet
SRV_TIMEOUT_MS = int(os.environ.get("VIGIL_LARGE_TIMEOUT_MS", str(TIMEOUT_MS)))


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = make_certs(tmp_path_factory.mktemp("pki"))
    make_leaf(d, "board-a")
    return d


@pytest.fixture
def srv(pki, tmp_path):
    s = Server(["--data", str(tmp_path / "data"), "--timeout-ms", str(SRV_TIMEOUT_MS),
                "--plain", "127.0.0.1:0"] + tls_args(pki)).start()
    yield s
    s.stop()


def write_big(path, size):
    """size bytes: a random MiB repeated, its last copy cut short."""
    block = os.urandom(1 << 20)
    with open(path, "wb") as f:
        left = size
        while left > 0:
            f.write(block[:min(left, len(block))])
            left -= min(left, len(block))
    os.chmod(path, 0o640)
    os.utime(path, ns=(1_650_000_000_000_000_007,) * 2)


def sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def segments(size):
    return (size + SEG_MAX - 1) // SEG_MAX


def test_large_file_goes_in_segments_and_restores(srv, pki, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    big = src / "big.img"
    write_big(big, SIZE)
    conf = config(tmp_path, pki, srv, "board-a")
    args = ["--segment-max", str(SEGMENT)] if SEGMENT else []
    r = run("backup", "--config", conf, *args, big, timeout=3600)
    assert r.returncode == 0, r.stderr + "\n".join(srv.lines)
    assert "1 files verified" in r.stderr, r.stderr
    assert segments(SIZE) >= 2
    srv.wait_for(r"stored \(clear payload\) ")
    st = subprocess.run([str(binary("vigil-backupd")), "--data", str(tmp_path / "data"),
                         "--status"], capture_output=True, timeout=10)
    import cbor2
    store = cbor2.loads(st.stdout)["store"]
    assert store["bytes_stored"] == SIZE and store["contents"] == 1
    d = tmp_path / "restored"
    r = run("restore", "--config", conf, d, timeout=3600)
    assert r.returncode == 0, r.stderr
    got = restored_root(d, src) / "big.img"
    assert got.stat().st_size == SIZE
    assert sha(got) == sha(big)
    assert got.stat().st_mode & 0o7777 == 0o640
    assert got.stat().st_mtime_ns == 1_650_000_000_000_000_007
    # unchanged: the second run sends no segment at all
    r = run("backup", "--config", conf, *args, big, timeout=3600)
    assert r.returncode == 0 and f"1 unchanged ({SIZE} bytes)" in r.stderr, r.stderr


def test_plain_v3_refuses_what_it_cannot_carry(srv, pki, tmp_path):
    """Over tcp (pure v3) the same small-segment file goes whole: the
    segments are a vigil/2 matter, not a size every peer must know."""
    src = tmp_path / "src"
    src.mkdir()
    big = src / "big.img"
    write_big(big, SIZE if SIZE < (1 << 32) - 17 else 5 << 20)
    conf = config(tmp_path, pki, srv, "board-a", "tcp")
    r = run("backup", "--config", conf, "--segment-max", "65536", big,
            timeout=3600)
    assert r.returncode == 0, r.stderr
    srv.wait_for(r"stored [0-9a-f]{32}/")


def test_cut_segments_resume_where_the_server_stopped(pki, tmp_path):
    """Cut 4 times at random points of a 6 MiB file sent in 1 MiB
    segments: each reconnect asks for the offset (1045), sends the
    segments from there (1047 at that offset), and what crossed the link
    is the file once and little more."""
    srv = Server(["--data", str(tmp_path / "data"), "--timeout-ms", str(TIMEOUT_MS)]
                 + tls_args(pki)).start()
    size = (6 << 20) + 11
    rng = random.Random(5)
    limits = [rng.randint(size // 8, size // 6) for _ in range(4)]
    proxy = CountingCutProxy(("127.0.0.1", srv.tls_port), limits)
    try:
        src = tmp_path / "src"
        src.mkdir()
        big = src / "big.img"
        write_big(big, size)
        conf = tmp_path / "vigil.conf"
        conf.write_text("\n".join([
            f"backup.server = tls://127.0.0.1:{proxy.port}",
            "device.name = board-a", f"data.dir = {tmp_path / 'state'}",
            f"tls.ca = {pki / 'ca.crt'}", f"tls.cert = {pki / 'board-a.crt'}",
            f"tls.key = {pki / 'board-a.key'}"]) + "\n")
        r = subprocess.run([str(binary("vigild")), "backup", "--config", str(conf),
                            "--timeout", "5000", "--retry-cap", "100",
                            "--segment-max", str(1 << 20), str(big)],
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        assert proxy.cuts_done == 4 and proxy.conns == 5
        srv.wait_for(r"stored \(clear payload\) ")
        resumed = [ln for ln in srv.lines if "resumed at" in ln]
        assert len(resumed) == 4, "\n".join(srv.lines)
        assert proxy.up_bytes <= size * 1.10, (proxy.up_bytes, size)
        data = tmp_path / "data"
        stored = [p for p in (data / ".content").rglob("*") if p.is_file()]
        assert len(stored) == 1 and sha(stored[0]) == sha(big)
        assert os.listdir(data / ".resume") == []
    finally:
        proxy.close()
        srv.stop()
