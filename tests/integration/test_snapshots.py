"""Sealed snapshots (docs/backup.md, "Sealed snapshots"; docs/protocol/
cyberbackup-v3.md, "Sealed snapshots: 1049"; docs/backupd.md,
"Snapshots"): a run over the whole configured tree seals its snapshot,
so a file deleted on the device is not in it, while earlier snapshots
keep it; a file the run could not read stays; a cut or partial run is
not sealed.  Real vigild and vigil-backupd processes on 127.0.0.1."""
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

import metadb
from backupd import Server, TIMEOUT_MS, tls_args
from conftest import binary, make_certs
from console import wait_job
from test_console_restore import board, wait_restore  # noqa: F401 (fixture)
from test_incremental import status
from test_restore import config, make_leaf, restored_root, run


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = make_certs(tmp_path_factory.mktemp("pki"))
    make_leaf(d, "board-a")
    return d


def start_server(pki, tmp_path):
    return Server(["--data", str(tmp_path / "data"), "--timeout-ms", str(TIMEOUT_MS),
                   "--plain", "127.0.0.1:0"] + tls_args(pki)).start()


@pytest.fixture
def srv(pki, tmp_path, backend):
    s = start_server(pki, tmp_path)
    yield s
    s.stop()


def tree_conf(tmp_path, pki, srv, paths, transport="tls"):
    """The board's configuration with backup.paths: `vigild backup
    --config` without PATH backs that tree up and seals the run."""
    conf = config(tmp_path, pki, srv, "board-a", transport)
    with open(conf, "a") as f:
        f.write(f"backup.paths = {','.join(str(p) for p in paths)}\n")
    return conf


def whole_run(conf, ok=True):
    r = run("backup", "--config", conf)
    assert (r.returncode == 0) == ok, r.stderr
    return r.stderr


def sealed(out):
    m = re.search(r"snapshot (\d+) sealed: (\d+) files", out)
    assert m, out
    return int(m.group(1)), int(m.group(2))


def restore(conf, dest, snapshot="latest"):
    r = run("restore", "--config", conf, "--snapshot", snapshot, dest)
    assert r.returncode == 0, r.stderr
    return r.stderr


def files_under(root):
    out = {}
    for dirpath, _, names in os.walk(root):
        for n in names:
            p = os.path.join(dirpath, n)
            with open(p, "rb") as f:
                out[os.path.relpath(p, root)] = f.read()
    return out


def write(root, rel, data):
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return p


def test_deleted_file_leaves_the_sealed_snapshot(srv, pki, tmp_path):
    src = tmp_path / "src"
    keep = {"a.txt": b"a" * 100, "sub/b.bin": os.urandom(5000), "c": b""}
    for rel, data in keep.items():
        write(src, rel, data)
    write(src, "sub/gone.bin", b"x" * 3000)
    conf = tree_conf(tmp_path, pki, srv, [src])
    s1, n1 = sealed(whole_run(conf))
    assert n1 == 4
    (src / "sub" / "gone.bin").unlink()
    s2, n2 = sealed(whole_run(conf))
    assert s2 > s1 and n2 == 3
    srv.wait_for(rf"snapshot {s2} sealed: 3 files, a run of 1 session")
    d2 = tmp_path / "d2"
    assert f"(snapshot {s2})" in restore(conf, d2)
    assert files_under(restored_root(d2, src)) == keep
    d1 = tmp_path / "d1"
    restore(conf, d1, str(s1))
    assert files_under(restored_root(d1, src)) == dict(keep, **{"sub/gone.bin": b"x" * 3000})
    # the operator's export follows the same membership
    ex = tmp_path / "ex"
    r = subprocess.run([str(binary("vigil-backupd")), "export", "--data",
                        str(tmp_path / "data"), "--device", "board-a", ex],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert files_under(restored_root(ex, src)) == keep
    st = status(tmp_path)["store"]
    assert st["snapshots"] == 2 and st["sealed"] == 2
    # a sealed session is closed; the connection's close went to a new row
    rows = metadb.rows(tmp_path / "data", "SELECT id, sealed FROM sessions ORDER BY id")
    assert (s1, s1) in rows and (s2, s2) in rows


def test_a_sub_tree_run_is_not_sealed(srv, pki, tmp_path):
    """`vigild backup --config F DIR` backs up part of the tree: no seal,
    and the snapshot still holds the rest (nothing vanishes)."""
    src = tmp_path / "src"
    write(src, "one/a", b"1")
    write(src, "two/b", b"2")
    conf = tree_conf(tmp_path, pki, srv, [src])
    sealed(whole_run(conf))
    write(src, "one/a", b"changed")
    (src / "two" / "b").unlink()
    r = run("backup", "--config", conf, src / "one")
    assert r.returncode == 0 and "sealed" not in r.stderr, r.stderr
    d = tmp_path / "d"
    restore(conf, d)
    # the new version of one/a; two/b stays until a whole run
    assert files_under(restored_root(d, src)) == {"one/a": b"changed", "two/b": b"2"}
    sealed(whole_run(conf))
    d = tmp_path / "d3"
    restore(conf, d)
    assert files_under(restored_root(d, src)) == {"one/a": b"changed"}


def test_a_cut_run_is_not_sealed(srv, pki, tmp_path):
    """A run killed mid-file seals nothing.  Its snapshot (the latest) is
    the last sealed one's files plus what it stored: a file deleted
    before it is still there (its deletion is only known after a whole
    run), a file gone from the last sealed snapshot does not come back,
    and the changed file it stored is in at its new version."""
    # backup.paths holds 127 characters: two short roots
    short = tempfile.mkdtemp(prefix="vs", dir="/tmp")
    try:
        cut_run(srv, pki, tmp_path, Path(short))
    finally:
        shutil.rmtree(short)


def cut_run(srv, pki, tmp_path, short):
    first, second = short / "first", short / "second"
    write(first, "small.txt", b"v1")
    write(first, "old.txt", b"old")
    write(first, "doomed.txt", b"doomed")
    write(second, "big.bin", os.urandom(1 << 20))
    # the list's order is the walk's: first/ before second/
    conf = tree_conf(tmp_path, pki, srv, [first, second])
    sealed(whole_run(conf))
    (first / "old.txt").unlink()
    sealed(whole_run(conf))                     # old.txt leaves
    (first / "doomed.txt").unlink()
    write(first, "small.txt", b"v2")
    write(second, "big.bin", os.urandom(1 << 20))
    mark = len(srv.lines)
    p = subprocess.Popen([str(binary("vigild")), "backup", "--config", str(conf),
                          "--max-rate", "100000"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        srv.wait_for(r"stored \(clear payload\) .*small\.txt v3 ", start=mark)
        p.send_signal(signal.SIGKILL)
        _, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert "sealed" not in err, err
    srv.wait_for(r": closed \(", start=mark)
    d = tmp_path / "d"
    out = restore(conf, d)
    got = files_under(restored_root(d, first))
    assert got == {"small.txt": b"v2", "doomed.txt": b"doomed"}, out
    # the next whole run seals again, and the deletion shows
    sealed(whole_run(conf))
    d = tmp_path / "d2"
    restore(conf, d)
    assert files_under(restored_root(d, first)) == {"small.txt": b"v2"}


@pytest.mark.skipif(os.geteuid() != 0 or not os.path.exists("/usr/bin/setpriv"),
                    reason="needs root and setpriv to drop CAP_DAC_OVERRIDE")
def test_an_unreadable_file_stays_in_the_sealed_snapshot(srv, pki, tmp_path):
    """A file vigild cannot read in run 2 fails that run, but it is kept
    at its stored version (1049 keep) and the run is still sealed: it is
    not gone from the device.  vigild runs without CAP_DAC_OVERRIDE (as
    root, chmod alone would not stop it)."""
    src = tmp_path / "src"
    write(src, "ok.txt", b"fine")
    locked = write(src, "locked.db", b"secret v1")
    write(src, "gone.txt", b"bye")
    conf = tree_conf(tmp_path, pki, srv, [src])
    sealed(whole_run(conf))
    locked.write_bytes(b"secret v2, unreadable")
    locked.chmod(0)
    (src / "gone.txt").unlink()
    r = subprocess.run(["setpriv", "--inh-caps=-all",
                        "--bounding-set=-dac_override,-dac_read_search",
                        str(binary("vigild")), "backup", "--config", str(conf)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1, r.stderr
    assert "locked.db: Permission denied" in r.stderr, r.stderr
    _, n = sealed(r.stderr)
    assert n == 2
    srv.wait_for(r"src_locked\.db kept in the run's snapshot")
    d = tmp_path / "d"
    restore(conf, d)
    assert files_under(restored_root(d, src)) == {"ok.txt": b"fine",
                                                  "locked.db": b"secret v1"}


def test_plain_v3_runs_are_unchanged(srv, pki, tmp_path):
    """Over tcp:// (pure v3) nothing is sealed: a deleted file stays in
    every later snapshot, as before."""
    src = tmp_path / "src"
    write(src, "a", b"a")
    write(src, "b", b"b")
    conf = tree_conf(tmp_path, pki, srv, [src], transport="tcp")
    out = whole_run(conf)
    assert "sealed" not in out, out
    (src / "b").unlink()
    write(src, "a", b"a2")
    assert "sealed" not in whole_run(conf)
    conf_tls = config(tmp_path, pki, srv, "board-a")
    d = tmp_path / "d"
    restore(conf_tls, d)
    assert files_under(restored_root(d, src)) == {"a": b"a2", "b": b"b"}
    assert status(tmp_path)["store"]["sealed"] == 0


def prune(tmp_path, *args):
    p = subprocess.run([str(binary("vigil-backupd")), "prune", "--data",
                        str(tmp_path / "data")] + list(args),
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_retention_frees_what_no_sealed_snapshot_holds(srv, pki, tmp_path):
    """Run 1 holds a (unchanged throughout) and gone (deleted before run
    2).  keep-last 1 keeps only sealed run 2, which does not hold gone:
    its 3000 bytes are freed (before sealing, run 2 held them and they
    stayed).  a's content, recorded by hash in run 2, stays."""
    src = tmp_path / "src"
    a = os.urandom(7000)
    write(src, "a.bin", a)
    write(src, "gone.bin", os.urandom(3000))
    conf = tree_conf(tmp_path, pki, srv, [src])
    sealed(whole_run(conf))
    (src / "gone.bin").unlink()
    sealed(whole_run(conf))
    out = prune(tmp_path, "--keep-last", "1")
    assert "board-a: 2 snapshots, 1 kept, 1 pruned, 2 versions deleted, " \
           "3000 bytes freed" in out, out
    st = status(tmp_path)["store"]
    assert st["bytes_freed"] == 3000 and st["bytes_stored"] == 7000
    assert st["snapshots"] == 1 and st["contents"] == 1
    d = tmp_path / "d"
    restore(conf, d)
    assert files_under(restored_root(d, src)) == {"a.bin": a}


def test_an_old_database_upgrades(pki, tmp_path):
    """A database from before sealed snapshots (no sessions.sealed, no
    kept table) gets the column at startup; its sessions are unsealed
    and list as before."""
    src = tmp_path / "src"
    write(src, "a", b"a")
    write(src, "b", b"b")
    s = start_server(pki, tmp_path)
    try:
        conf = config(tmp_path, pki, s, "board-a")
        r = run("backup", "--config", conf, src)    # a sub-tree: unsealed
        assert r.returncode == 0, r.stderr
    finally:
        s.stop()
    db = sqlite3.connect(tmp_path / "data" / "backupd.sqlite")
    db.execute("DROP INDEX sessions_client")
    db.execute("ALTER TABLE sessions DROP COLUMN sealed")
    db.execute("DROP TABLE kept")
    db.commit()
    db.close()
    s = start_server(pki, tmp_path)
    try:
        s.wait_for(r"database: added sessions\.sealed \(existing sessions: unsealed\)")
        (src / "b").unlink()
        conf = tree_conf(tmp_path, pki, s, [src])
        d = tmp_path / "d"
        restore(conf, d)
        assert files_under(restored_root(d, src)) == {"a": b"a", "b": b"b"}
        sealed(whole_run(conf))
        d = tmp_path / "d2"
        restore(conf, d)
        assert files_under(restored_root(d, src)) == {"a": b"a"}
    finally:
        s.stop()


def job_done(c, state="done"):
    out = c.cmd("backup now")
    m = re.search(r"job (\d+) queued", out)
    assert m, out
    out = wait_job(c, m.group(1), timeout=60)
    assert f"job {m.group(1)} {state}" in out, out
    return int(m.group(1))


def test_agent_jobs_seal_and_a_cancelled_job_does_not(srv, board, tmp_path):
    """The agent's jobs cover backup.paths: each seals its snapshot.  A
    job cancelled mid-file seals nothing: `latest` then still holds a
    file deleted before it (only a whole run shows a deletion), and the
    next whole job drops it."""
    src = tmp_path / "src"
    write(src, "a.txt", b"a")
    write(src, "gone.txt", b"gone")
    write(src, "later.txt", b"later")
    c = board("board-a", srv.tls_port, src, extra="backup.max_rate = 200000\n")
    j = job_done(c)
    m = re.search(rf"job {j}: snapshot (\d+) sealed: 3 files", c.log())
    assert m, c.log()
    first = m.group(1)
    (src / "gone.txt").unlink()
    j = job_done(c)
    assert re.search(rf"job {j}: snapshot \d+ sealed: 2 files", c.log()), c.log()
    dest = tmp_path / "d1"
    assert "restore 1 started" in c.cmd(f"restore {dest}")
    assert "2 restored and verified" in wait_restore(c, 1)
    assert files_under(restored_root(dest, src)) == {"a.txt": b"a", "later.txt": b"later"}
    dest = tmp_path / "d0"
    assert "restore 2 started" in c.cmd(f"restore --snapshot {first} {dest}")
    assert "3 restored and verified" in wait_restore(c, 2)
    # deleted, then a job cancelled while it sends 4 MiB at 200 KB/s
    (src / "later.txt").unlink()
    write(src, "big.bin", os.urandom(4 << 20))
    out = c.cmd("backup now")
    j = re.search(r"job (\d+) queued", out).group(1)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        out = c.cmd("backup jobs")
        m = re.search(rf"job {j} running[^\n]*sending[^\n]* (\d+)/\d+ bytes", out)
        if m and int(m.group(1)) > 1 << 20:
            break
        time.sleep(0.1)
    assert f"job {j} cancelled" in c.cmd(f"backup cancel {j}")
    assert f"job {j}: snapshot" not in c.log()
    dest = tmp_path / "d2"
    out = c.cmd(f"restore {dest}")
    rid = re.search(r"restore (\d+) started", out).group(1)
    wait_restore(c, rid)
    assert files_under(restored_root(dest, src)) == {"a.txt": b"a", "later.txt": b"later"}
    (src / "big.bin").unlink()                  # (no 20 s at 200 KB/s)
    j = job_done(c)
    assert re.search(rf"job {j}: snapshot \d+ sealed: 1 files", c.log()), c.log()
    dest = tmp_path / "d3"
    out = c.cmd(f"restore {dest}")
    rid = re.search(r"restore (\d+) started", out).group(1)
    wait_restore(c, rid)
    assert files_under(restored_root(dest, src)) == {"a.txt": b"a"}
