"""Issue 20's acceptance for vigil-backupd with shared state: two
instances on different ports sharing one PostgreSQL database (metadata)
and one bucket of a real Ceph RADOS Gateway (content), docs/backupd.md
"Several instances" and "S3 store".  A device backs up through one and
restores through the other, incrementally across them; an instance
stopped in the middle of an upload leaves it for the other to resume.

Real processes on 127.0.0.1: PostgreSQL 15 (pgserver.py) and radosgw +
ceph-mon + ceph-osd (radosgw.py), one of each per module; vigil-backupd
twice; vigild backup/restore over TLS."""
import hashlib
import itertools
import os
import re
import subprocess
import time

import pytest

from backupd import Server, TIMEOUT_MS, tls_args
from conftest import binary, make_certs, make_leaf
from holdproxy import HoldProxy
from test_restore import config, make_tree, restored_root, run, tree_state

BIG = 12 << 20          # more than one 8 MiB part: a multipart upload
PART = 8 << 20          # what the store keeps of a cut upload: whole parts
_buckets = itertools.count(1)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = make_certs(tmp_path_factory.mktemp("pki"))
    make_leaf(d, "board-a")
    return d


class Fleet:
    """vigil-backupd instances on one PostgreSQL database, one bucket and
    one data directory (temp and resume files)."""

    def __init__(self, pg, rgw, pki, tmp_path):
        self.pg, self.rgw, self.pki = pg, rgw, pki
        self.db = pg.new_db()
        self.bucket = rgw.make_bucket(f"fleet-{os.getpid()}-{next(_buckets)}")
        self.data = tmp_path / "data"
        self.shared = ["--data", str(self.data), "--db", pg.conninfo(self.db),
                       "--store", f"s3://{self.bucket}", "--s3-endpoint",
                       rgw.endpoint, "--s3-credentials",
                       str(rgw.credentials_file(tmp_path / "s3.cred"))]
        self.servers = []

    def start(self, name):
        s = Server(self.shared + ["--instance", name, "--timeout-ms", str(TIMEOUT_MS),
                                  "--plain", "127.0.0.1:0"] + tls_args(self.pki))
        self.servers.append(s)
        return s.start()

    def objects(self):
        _, body = self.rgw.s3("GET", f"/{self.bucket}?list-type=2")
        return {k: int(s) for k, s in re.findall(
            r"<Key>([^<]*)</Key>.*?<Size>(\d+)</Size>", body.decode())}

    def sql(self, query):
        return self.pg.psql(self.db, query)

    def stop(self):
        for s in self.servers:
            s.stop()


@pytest.fixture
def fleet(pg, rgw, pki, tmp_path):
    f = Fleet(pg, rgw, pki, tmp_path)
    yield f
    f.stop()


def wait_row(fleet, query, timeout=60.0):
    """Waits until query (a count) is non-zero."""
    deadline = time.monotonic() + timeout
    while fleet.sql(query) == [["0"]]:
        assert time.monotonic() < deadline, f"never: {query}"
        time.sleep(0.1)


def sha(data):
    return hashlib.sha256(data).hexdigest()


def test_backup_through_one_restore_through_the_other(fleet, tmp_path, monkeypatch):
    a, b = fleet.start("a"), fleet.start("b")
    monkeypatch.setattr("test_restore.LARGE", BIG)
    src = tmp_path / "src"
    files = make_tree(src)
    r = run("backup", "--config", config(tmp_path, fleet.pki, a, "board-a"), src)
    assert r.returncode == 0, r.stderr
    want = {f"content/{sha(d)}": len(d) for d in files.values()}
    assert fleet.objects() == want
    assert {row[0] for row in fleet.sql("SELECT path FROM content")} == \
        {"s3:" + k for k in want}
    conf_b = config(tmp_path, fleet.pki, b, "board-a")
    dest = tmp_path / "dest"
    r = run("restore", "--config", conf_b, dest)
    assert r.returncode == 0, r.stderr
    assert "7 files restored and verified, 0 failed" in r.stderr, r.stderr
    assert tree_state(restored_root(dest, src)) == tree_state(src)
    # the next run through b sends no file: a's content is b's content
    (src / "plain.txt").write_bytes(b"changed\n")
    r = run("backup", "--config", conf_b, src)
    assert r.returncode == 0, r.stderr
    assert "6 unchanged" in r.stderr, r.stderr
    assert len(fleet.objects()) == len(want) + 1
    dest2 = tmp_path / "dest2"
    r = run("restore", "--config", config(tmp_path, fleet.pki, a, "board-a"), dest2)
    assert r.returncode == 0, r.stderr
    assert tree_state(restored_root(dest2, src)) == tree_state(src)


@pytest.mark.parametrize("how", ["sigterm", "sigkill"])
def test_instance_stopped_mid_transfer_the_other_serves_the_resume(fleet, tmp_path, how):
    """SIGTERM: the instance records what it holds as it closes; SIGKILL:
    the row the last whole part wrote is all there is, and enough."""
    a, b = fleet.start("a"), fleet.start("b")
    src = tmp_path / "src"
    src.mkdir()
    size = 3 * PART
    data = os.urandom(size)
    (src / "big.bin").write_bytes(data)
    proxy = HoldProxy([("127.0.0.1", a.tls_port), ("127.0.0.1", b.tls_port)],
                      hold_after=PART + (4 << 20))
    try:
        conf = config(tmp_path, fleet.pki, a, "board-a")
        conf.write_text(conf.read_text().replace(f":{a.tls_port}", f":{proxy.port}"))
        agent = subprocess.Popen([str(binary("vigild")), "backup", "--config", str(conf),
                                  "--timeout", "5000", "--retry-cap", "100", str(src)],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, text=True)
        try:
            assert proxy.held.wait(120), "the upload never reached 12 MiB"
            if how == "sigterm":
                assert a.stop() == 0    # in the middle of the file
            else:
                wait_row(fleet, "SELECT count(*) FROM partials WHERE received > 0")
                a.proc.kill()
                a.proc.wait(timeout=10)
            _, err = agent.communicate(timeout=300)
        finally:
            if agent.poll() is None:
                agent.kill()
                agent.wait()
        assert agent.returncode == 0, err
        # (the log line ends cut short when the name is long)
        if how == "sigterm":
            assert [ln for ln in a.lines if re.search(r"kept \d+ of \d+ bytes", ln)], \
                "\n".join(a.lines)
        b.wait_for(r"stored \(clear payload\) ", timeout=30)
        # the rest only: b resumed where a stopped (its "resumed at" line
        # names the file first and may be cut short; this one is not)
        closed = b.wait_for(r"closed \(.*\): 1 file\(s\) stored", timeout=30)
        got = int(re.search(r" in (\d+) B", closed).group(1))
        assert got < size - PART + (1 << 20), closed   # one part kept
    finally:
        proxy.close()
    # one whole object, no upload left open, nothing kept any more
    assert fleet.objects() == {f"content/{sha(data)}": size}
    assert fleet.rgw.uploads(fleet.bucket) == []
    assert fleet.sql("SELECT count(*) FROM partials") == [["0"]]
    dest = tmp_path / "dest"
    r = run("restore", "--config", config(tmp_path, fleet.pki, b, "board-a"), dest)
    assert r.returncode == 0, r.stderr
    assert (restored_root(dest, src) / "big.bin").read_bytes() == data
