"""vigil-backupd's S3 content store (docs/backupd.md, "S3 store") against
a real Ceph RADOS Gateway (tests/integration/radosgw.py; one per module):
what vigild backs up comes back from the bucket by `vigild restore` and
`vigil-backupd export`; the same bytes are one object; a cut upload
resumes and no object ever holds part of a file; prune deletes the
objects no version references; with the gateway down a file is refused,
never acknowledged, and goes again once it is back.

Real processes on 127.0.0.1: radosgw + ceph-mon + ceph-osd, vigil-backupd
(SQLite metadata, --store s3://BUCKET), vigild backup/restore over TLS."""
import hashlib
import itertools
import os
import pathlib
import re
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

from conftest import binary, make_certs, make_leaf
from backupd import Server, TIMEOUT_MS, tls_args
from netutil import free_port
from test_restore import config, restored_root, run, tree_state

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "campaign"))
from faults import Fault, FaultProxy  # noqa: E402

# 12 MiB: more than one 8 MiB part, so the tree's large file goes as a
# multipart upload.
BIG = 12 << 20
PART = 8 << 20      # backupd_blob.h BD_BLOB_PART
_buckets = itertools.count(1)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = make_certs(tmp_path_factory.mktemp("pki"))
    for name in ("board-a", "board-b"):
        make_leaf(d, name)
    return d


class S3Backupd:
    """A vigil-backupd on SQLite + a fresh bucket of rgw (on a fixed TLS
    port, so a restarted one is found where the first was)."""

    def __init__(self, rgw, pki, tmp_path):
        self.rgw, self.tmp, self.pki = rgw, tmp_path, pki
        self.bucket = rgw.make_bucket(f"vigil-{next(_buckets)}")
        self.data = tmp_path / "data"
        self.store = ["--store", f"s3://{self.bucket}", "--s3-endpoint",
                      rgw.endpoint, "--s3-credentials",
                      rgw.credentials_file(tmp_path / "s3.cred")]
        self.tls_port = free_port()
        self.srv = self.start()
        # config() of test_restore reads the ports from a Server
        self.port = self.srv.port

    def srv_args(self):
        args = tls_args(self.pki)
        args[args.index("--tls") + 1] = f"127.0.0.1:{self.tls_port}"
        return ["--data", str(self.data), "--timeout-ms", str(TIMEOUT_MS),
                "--plain", "127.0.0.1:0", "--log-level", "debug"] \
            + self.store + args

    def start(self, prefix=()):
        return Server(self.srv_args(), prefix=prefix).start()

    def objects(self):
        """{key: size} of the bucket."""
        _, body = self.rgw.s3("GET", f"/{self.bucket}?list-type=2")
        return {k: int(s) for k, s in re.findall(
            r"<Key>([^<]*)</Key>.*?<Size>(\d+)</Size>", body.decode())}

    def contents(self):
        db = sqlite3.connect(self.data / "backupd.sqlite", timeout=10)
        try:
            return dict(db.execute("SELECT sha256, path FROM content"))
        finally:
            db.close()


@pytest.fixture
def s3d(rgw, pki, tmp_path):
    s = S3Backupd(rgw, pki, tmp_path)
    yield s
    s.srv.stop()


def sha(data):
    return hashlib.sha256(data).hexdigest()


def make_tree(root):
    """Empty, small, UTF-8-named, deep and multipart-sized files with
    modes and mtimes that differ."""
    files = {
        "plain.txt": b"hello\n",
        "empty": b"",
        "caf\u00e9/\u2603.txt": "\u2603 snow\n".encode(),
        "/".join(f"d{i}" for i in range(8)) + "/deep.bin": os.urandom(70_000),
        "big/large.bin": os.urandom(BIG),
    }
    modes = [0o644, 0o600, 0o755, 0o640, 0o444]
    for i, (rel, data) in enumerate(files.items()):
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        p.chmod(modes[i])
        os.utime(p, ns=(1_600_000_000_123_456_789 + i * 86_400_000_000_000,) * 2)
    return files


def test_backup_restore_and_export_from_the_bucket(s3d, pki, tmp_path):
    src = tmp_path / "src"
    files = make_tree(src)
    conf = config(tmp_path, pki, s3d, "board-a")
    r = run("backup", "--config", conf, src)
    assert r.returncode == 0, r.stderr
    # each content once, named by its hash, whole; nothing on local disk
    want = {f"content/{sha(d)}": len(d) for d in files.values()}
    assert s3d.objects() == want
    assert set(s3d.contents().values()) == {"s3:" + k for k in want}
    assert os.listdir(s3d.data / ".content") == []
    assert not [d for d in os.listdir(s3d.data) if len(d) == 32]
    dest = tmp_path / "dest"
    r = run("restore", "--config", conf, dest)
    assert r.returncode == 0, r.stderr
    assert "5 files restored and verified, 0 failed" in r.stderr, r.stderr
    assert tree_state(restored_root(dest, src)) == tree_state(src)
    out = tmp_path / "export"
    p = subprocess.run([str(binary("vigil-backupd")), "export", "--data",
                        str(s3d.data), "--device", "board-a", *s3d.store,
                        str(out)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    got = tree_state(restored_root(out, src))
    assert {k: v[0] for k, v in got.items()} == \
        {k: v[0] for k, v in tree_state(src).items()}


def test_same_bytes_are_one_object(s3d, pki, tmp_path):
    """Two devices with the same files, and a second run of one of them:
    one object per distinct content."""
    src = tmp_path / "src"
    src.mkdir()
    same = os.urandom(300_000)
    for i in range(3):
        (src / f"copy{i}.bin").write_bytes(same)
    (src / "other.bin").write_bytes(b"x" * 5000)
    for dev in ("board-a", "board-b", "board-a"):
        r = run("backup", "--config", config(tmp_path, pki, s3d, dev), src)
        assert r.returncode == 0, r.stderr
    assert s3d.objects() == {f"content/{sha(same)}": len(same),
                             f"content/{sha(b'x' * 5000)}": 5000}
    db = sqlite3.connect(s3d.data / "backupd.sqlite", timeout=10)
    assert db.execute("SELECT COUNT(*) FROM versions").fetchone()[0] == 12
    db.close()


def test_cut_upload_resumes_and_no_object_holds_a_part(s3d, pki, tmp_path):
    """The connection is cut twice mid-file, each time after a part went
    to the store; vigild resumes at what the store holds (whole 8 MiB
    parts); a watcher listing the bucket all along sees only the whole
    file's object, and no upload is left in progress."""
    big = tmp_path / "big.bin"
    data = os.urandom(3 * PART)
    big.write_bytes(data)
    cut = Fault(cut_at=("up", PART + (2 << 20)))
    proxy = FaultProxy(("127.0.0.1", s3d.tls_port), [cut, cut])
    seen, stop = {}, threading.Event()

    def watch():
        while not stop.is_set():
            seen.update(s3d.objects())
    w = threading.Thread(target=watch, daemon=True)
    w.start()
    try:
        conf = tmp_path / "vigil.conf"
        conf.write_text("\n".join([
            f"backup.server = tls://127.0.0.1:{proxy.port}",
            "device.name = board-a", f"data.dir = {tmp_path / 'state'}",
            f"tls.ca = {pki / 'ca.crt'}", f"tls.cert = {pki / 'board-a.crt'}",
            f"tls.key = {pki / 'board-a.key'}"]) + "\n")
        r = run("backup", "--config", conf, "--timeout", "5000",
                "--retry-cap", "100", big, timeout=180)
        assert r.returncode == 0, r.stderr
    finally:
        stop.set()
        w.join(timeout=60)
        proxy.close()
    assert proxy.cuts == 2
    s3d.srv.wait_for(r"stored \(clear payload\) ")
    resumed = [int(m.group(1)) for m in (re.search(r"resumed at (\d+) ", ln)
                                         for ln in s3d.srv.lines) if m]
    assert resumed == [PART, 2 * PART], "\n".join(s3d.srv.lines)
    # a completed upload/<random> object (the whole file, before it is
    # copied to its content name) may show for a moment: never a part
    assert all(size == len(data) for size in seen.values()), seen
    assert f"content/{sha(data)}" in seen
    assert s3d.objects() == {f"content/{sha(data)}": len(data)}
    assert s3d.rgw.uploads(s3d.bucket) == []
    dest = tmp_path / "dest"
    r = run("restore", "--config", board_conf(tmp_path, pki, s3d.tls_port),
            dest)
    assert r.returncode == 0, r.stderr
    assert (restored_root(dest, big)).read_bytes() == data


def test_prune_deletes_unreferenced_objects(s3d, pki, tmp_path):
    """prune --keep-last 1 deletes the objects only pruned versions
    referenced; with --orphan-age 0 also objects no row names (what a
    crash between upload and commit leaves), and nothing else."""
    orphans = [f"content/{sha(b'orphan')}", "upload/0123456789abcdef"]
    for key in orphans:
        s3d.rgw.s3("PUT", f"/{s3d.bucket}/{key}", data=b"orphan")
    put_at = time.time()
    src = tmp_path / "src"
    src.mkdir()
    a, b = src / "a.txt", src / "b.txt"
    b.write_bytes(b"b" * 777)
    conf = config(tmp_path, pki, s3d, "board-a")
    for i in range(1, 4):
        a.write_bytes(bytes([64 + i]) * (1000 * i))
        r = run("backup", "--config", conf, src if i == 1 else a)
        assert r.returncode == 0, r.stderr
    assert len(s3d.objects()) == 4 + len(orphans)
    # S3 times have whole seconds: every object must be older than now
    while time.time() < put_at + 1.1:
        time.sleep(0.05)
    p = subprocess.run([str(binary("vigil-backupd")), "prune", "--data",
                        str(s3d.data), "--keep-last", "1", "--orphan-age",
                        "0", *s3d.store],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert "bucket: 2 unreferenced object(s) older than 0 s deleted" \
        in p.stdout, p.stdout
    assert s3d.objects() == {f"content/{sha(b'C' * 3000)}": 3000,
                             f"content/{sha(b'b' * 777)}": 777}


def test_gateway_down_refuses_and_loses_nothing(s3d, pki, tmp_path):
    """radosgw stopped: the upload is refused with a clear error in the
    server's log and no version is recorded; once it is back, the next
    run stores the file and it restores."""
    src = tmp_path / "src"
    src.mkdir()
    f = src / "f.bin"
    f.write_bytes(os.urandom(100_000))
    conf = config(tmp_path, pki, s3d, "board-a")
    s3d.rgw.stop_rgw()
    try:
        r = run("backup", "--config", conf, "--retry-cap", "100", src,
                timeout=120)
        assert r.returncode != 0, r.stderr
        s3d.srv.wait_for(r"ERROR s3: (HEAD|PUT) [^ ]+/content/[0-9a-f]{64}: "
                         r"Couldn't connect to server")
    finally:
        s3d.rgw.start_rgw()
    db = sqlite3.connect(s3d.data / "backupd.sqlite", timeout=10)
    assert db.execute("SELECT COUNT(*) FROM versions").fetchone()[0] == 0
    db.close()
    r = run("backup", "--config", conf, src)
    assert r.returncode == 0, r.stderr
    dest = tmp_path / "dest"
    r = run("restore", "--config", conf, dest)
    assert r.returncode == 0, r.stderr
    assert (restored_root(dest, f)).read_bytes() == f.read_bytes()


def board_conf(tmp_path, pki, port, rate=None):
    conf = tmp_path / "vigil.conf"
    conf.write_text("\n".join([
        f"backup.server = tls://127.0.0.1:{port}",
        "device.name = board-a", f"data.dir = {tmp_path / 'state'}",
        f"tls.ca = {pki / 'ca.crt'}", f"tls.cert = {pki / 'board-a.crt'}",
        f"tls.key = {pki / 'board-a.key'}"]
        + ([f"backup.max_rate = {rate}"] if rate else [])) + "\n")
    return conf


def test_instance_killed_mid_transfer_next_one_resumes(s3d, pki, tmp_path):
    """SIGKILL once the first part is in the store: a new instance on the
    same metadata offers the resume at that part (the row the part
    wrote), and the file is stored whole."""
    big = tmp_path / "big.bin"
    data = os.urandom(4 * PART)
    big.write_bytes(data)
    conf = board_conf(tmp_path, pki, s3d.tls_port, rate=8 << 20)
    agent = subprocess.Popen(
        [str(binary("vigild")), "backup", "--config", str(conf),
         "--timeout", "5000", "--retry-cap", "200", str(big)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True)
    try:
        s3d.srv.wait_for(r"1 part\(s\), 8388608 bytes in the store",
                         timeout=60)
        s3d.srv.proc.kill()
        s3d.srv.stop()
        s3d.srv = s3d.start()
        _, err = agent.communicate(timeout=180)
        assert agent.returncode == 0, err
    finally:
        if agent.poll() is None:
            agent.kill()
            agent.wait()
    line = s3d.srv.wait_for(r"resumed at \d+ of", timeout=30)
    assert f"resumed at {PART} of {len(data)} bytes" in line, line
    s3d.srv.wait_for(r"stored \(clear payload\) ")
    assert s3d.objects() == {f"content/{sha(data)}": len(data)}
    assert s3d.rgw.uploads(s3d.bucket) == []
    dest = tmp_path / "dest"
    r = run("restore", "--config", conf, dest)
    assert r.returncode == 0, r.stderr
    assert restored_root(dest, big).read_bytes() == data


def test_large_upload_needs_little_local_disk(s3d, pki, tmp_path):
    """The data directory on a 24 MiB tmpfs (a private mount namespace):
    a 64 MiB file is stored, because each part sent is punched out of
    the temp file."""
    s3d.srv.stop()
    s3d.data.mkdir(exist_ok=True)
    s3d.srv = s3d.start(prefix=[
        "unshare", "-m", "--propagation", "private", "sh", "-c",
        'mount -t tmpfs -o size=24m vigil-s3-test "$0" && exec "$@"',
        str(s3d.data)])
    big = tmp_path / "big.bin"
    data = os.urandom(8 * PART)
    big.write_bytes(data)
    conf = board_conf(tmp_path, pki, s3d.tls_port)
    r = run("backup", "--config", conf, "--timeout", "10000", big,
            timeout=180)
    assert r.returncode == 0, r.stderr
    assert s3d.objects() == {f"content/{sha(data)}": len(data)}


def test_expired_partial_aborts_its_upload(s3d, pki, tmp_path):
    """A cut upload whose partial expires (--partial-expiry 1, the sweep
    a new instance runs at start) has its multipart upload aborted: no
    parts stay in the bucket, and the file then starts from byte 0."""
    big = tmp_path / "big.bin"
    data = os.urandom(2 * PART)
    big.write_bytes(data)
    # the first connection is cut after a part, every later one at once
    proxy = FaultProxy(("127.0.0.1", s3d.tls_port), lambda i: Fault(
        cut_at=("up", PART + (2 << 20) if i == 0 else 1)))
    try:
        r = run("backup", "--config", board_conf(tmp_path, pki, proxy.port),
                "--timeout", "5000", "--retry-cap", "100", big, timeout=60)
        assert r.returncode != 0, r.stderr
    finally:
        proxy.close()
    s3d.srv.wait_for(r"kept 8388608 of 16777216 bytes")
    s3d.srv.stop()
    assert len(s3d.rgw.uploads(s3d.bucket)) == 1
    db = sqlite3.connect(s3d.data / "backupd.sqlite", timeout=10)
    (updated,) = db.execute("SELECT updated_ms FROM partials").fetchone()
    db.close()
    # the row must be older than the expiry when the new instance starts
    while time.time() * 1000 < updated + 1500:
        time.sleep(0.05)
    s3d.srv = Server(s3d.srv_args() + ["--partial-expiry", "1"]).start()
    s3d.srv.wait_for(r"expired 1 partial upload\(s\)")
    assert s3d.rgw.uploads(s3d.bucket) == []
    r = run("backup", "--config", board_conf(tmp_path, pki, s3d.tls_port),
            big, timeout=60)
    assert r.returncode == 0, r.stderr
    assert s3d.objects() == {f"content/{sha(data)}": len(data)}


@pytest.mark.parametrize("case", ["no-endpoint", "no-credentials",
                                  "no-bucket", "wrong-secret"])
def test_startup_refuses_an_unusable_store(rgw, tmp_path, case):
    """Each way --store s3:// cannot work ends the start with exit 1 and
    one line that says why; the secret never shows in the log."""
    cred = rgw.credentials_file(tmp_path / "s3.cred")
    args = {
        "no-endpoint": ["--store", "s3://vigil-none"],
        "no-credentials": ["--store", "s3://vigil-none", "--s3-endpoint",
                           rgw.endpoint],
        "no-bucket": ["--store", "s3://vigil-none", "--s3-endpoint",
                      rgw.endpoint, "--s3-credentials", str(cred)],
        "wrong-secret": ["--store", f"s3://{rgw.make_bucket('vigil-secret')}",
                         "--s3-endpoint", rgw.endpoint, "--s3-credentials",
                         str(tmp_path / "bad.cred")],
    }[case]
    (tmp_path / "bad.cred").write_text(
        f"access_key = {rgw.access_key}\nsecret_key = not-the-secret\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIL_S3_")}
    p = subprocess.run([str(binary("vigil-backupd")), "--data",
                        str(tmp_path / "data"), "--plain", "127.0.0.1:0",
                        *args], capture_output=True, text=True, timeout=60,
                       env=env)
    assert p.returncode == 1, p.stderr
    want = {"no-endpoint": "--store s3://vigil-none needs --s3-endpoint URL",
            "no-credentials": "no credentials: give --s3-credentials FILE",
            "no-bucket": "bucket vigil-none at http://127.0.0.1:"
                         f"{rgw.rgw_port}: no such bucket",
            "wrong-secret": ": Permission denied"}[case]
    assert want in p.stderr, p.stderr
    if case == "wrong-secret":
        assert "HTTP 403 (access denied: check the credentials" in p.stderr
    assert rgw.secret_key not in p.stderr and "not-the-secret" not in p.stderr


def test_gateway_down_mid_stream_refuses_and_the_file_goes_again(s3d, pki, tmp_path):
    """radosgw stops after the first part of a streamed file went: the
    server refuses the file with a clear error (nothing acknowledged);
    with the gateway back, the next run stores the file whole, and a
    restore while it is down is refused as the store's fault."""
    big = tmp_path / "big.bin"
    data = os.urandom(4 * PART)
    big.write_bytes(data)
    # 4 MiB/s: the gateway is gone long before the file's last part
    conf = board_conf(tmp_path, pki, s3d.tls_port, rate=4 << 20)
    agent = subprocess.Popen(
        [str(binary("vigild")), "backup", "--config", str(conf),
         "--timeout", "5000", "--retry-cap", "100", str(big)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True)
    try:
        s3d.srv.wait_for(r"1 part\(s\), 8388608 bytes in the store",
                         timeout=60)
        s3d.rgw.stop_rgw()
        # (the 1607 line itself may be cut short by a long file name)
        s3d.srv.wait_for(r"ERROR s3: PUT [^ ]+/upload/[0-9a-f]{32}: "
                         r"Couldn't connect to server", timeout=60)
        s3d.srv.wait_for(r"1607 and close: ", timeout=60)
        _, err = agent.communicate(timeout=120)
    finally:
        if agent.poll() is None:
            agent.kill()
            agent.wait()
        if "rgw" not in s3d.rgw.procs:
            s3d.rgw.start_rgw()
    assert agent.returncode != 0, err
    db = sqlite3.connect(s3d.data / "backupd.sqlite", timeout=10)
    assert db.execute("SELECT COUNT(*) FROM versions").fetchone()[0] == 0
    db.close()
    r = run("backup", "--config", conf, "--timeout", "5000", big, timeout=120)
    assert r.returncode == 0, r.stderr
    assert s3d.objects() == {f"content/{sha(data)}": len(data)}
    s3d.rgw.stop_rgw()
    try:
        r = run("restore", "--config", conf, tmp_path / "dest", timeout=120)
        assert r.returncode != 0
        assert "server refused: server error" in r.stderr, r.stderr
        s3d.srv.wait_for(r"refused \(1649 \d+\): store unavailable")
    finally:
        s3d.rgw.start_rgw()


def test_gateway_slower_than_the_timeout_keeps_the_connection(s3d, pki, tmp_path):
    """Every S3 call blocks the server's loop: a commit whose HEAD + PUT
    take longer than --timeout-ms (2 s here: 1 s per proxied chunk) must
    not count that time as the client's silence.  Before the sweep knew
    about the loop's own stalls it closed the connection it had just
    answered, and the client saw 'connection closed by the server'."""
    slow = []

    def fault(_):
        f = Fault(delay=slow[0] if slow else 0.0)
        faults.append(f)
        return f

    faults = []
    proxy = FaultProxy(("127.0.0.1", s3d.rgw.rgw_port), fault)
    try:
        s3d.srv.stop()
        i = s3d.store.index("--s3-endpoint")
        s3d.store[i + 1] = f"http://127.0.0.1:{proxy.port}"
        s3d.srv = s3d.start()
        slow.append(1.0)
        for f in faults:     # curl may keep its start-up connection
            f.delay = 1.0
        files = [tmp_path / f"f{n}.bin" for n in range(2)]
        for f in files:
            f.write_bytes(os.urandom(100_000))
        conf = board_conf(tmp_path, pki, s3d.tls_port)
        r = run("backup", "--config", conf, "--timeout", "20000",
                "--retry-cap", "1", *files, timeout=120)
        assert r.returncode == 0, r.stderr + "\n".join(s3d.srv.lines)
        s3d.srv.stop()
        log = "\n".join(ln for ln in s3d.srv.lines if "DEBUG" not in ln)
        assert "closed by the server" not in r.stderr, \
            r.stderr + "\n".join(s3d.srv.lines)                  # with DEBUG
        assert "timeout:" not in log, "\n".join(s3d.srv.lines)   # with DEBUG
    finally:
        proxy.close()
    assert s3d.objects() == {f"content/{sha(f.read_bytes())}": 100_000
                             for f in files}
