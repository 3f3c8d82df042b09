"""Incremental snapshots (docs/backup.md, "Incremental runs";
docs/protocol/cyberbackup-v3.md, "Incremental runs: 1046"; docs/backupd.md,
"Content-addressed store"): vigild keeps its last manifest, offers
unchanged files by SHA-256 over vigil/2, and vigil-backupd stores every
content once.  Real vigild and vigil-backupd processes on 127.0.0.1; byte
counts are read from the server's --status (wire bytes of the closed
connections) and its store counters."""
import hashlib
import os
import subprocess

import cbor2
import pytest

import metadb
from conftest import binary, make_certs
from backupd import Server, TIMEOUT_MS, tls_args
from test_restore import config, make_leaf, restored_root, run, tree_state


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = make_certs(tmp_path_factory.mktemp("pki"))
    for name in ("board-a", "board-b"):
        make_leaf(d, name)
    return d


@pytest.fixture
def srv(pki, tmp_path, backend):
    s = Server(["--data", str(tmp_path / "data"), "--timeout-ms", str(TIMEOUT_MS),
                "--plain", "127.0.0.1:0"] + tls_args(pki)).start()
    yield s
    s.stop()


def status(tmp_path):
    r = subprocess.run([str(binary("vigil-backupd")), "--data", str(tmp_path / "data"),
                        "--status"], capture_output=True, timeout=10)
    assert r.returncode == 0, r.stderr
    return cbor2.loads(r.stdout)


def backup(conf, *paths):
    """One `vigild backup` run; returns its summary line."""
    r = run("backup", "--config", conf, *paths)
    assert r.returncode == 0, r.stderr
    return r.stderr


def make_files(root, n, size):
    files = {}
    for i in range(n):
        p = root / f"d{i % 4}" / f"f{i:03d}.bin"
        p.parent.mkdir(parents=True, exist_ok=True)
        data = os.urandom(size)
        p.write_bytes(data)
        files[p] = data
    return files


def closed_runs(srv):
    return [ln for ln in srv.lines if ": closed (" in ln]


def wait_closed(srv, n):
    """Until n connections have closed (each run is one)."""
    while len(closed_runs(srv)) < n:
        srv.wait_for(r": closed \(", start=len(srv.lines))
    return closed_runs(srv)


def test_second_run_sends_only_the_changed_files(srv, pki, tmp_path):
    src = tmp_path / "src"
    files = make_files(src, 20, 50_000)
    conf = config(tmp_path, pki, srv, "board-a")
    out = backup(conf, src)
    assert "20 files verified" in out and "0 unchanged" in out, out
    wait_closed(srv, 1)
    s1 = status(tmp_path)
    assert s1["files_by_hash"] == 0
    assert s1["bytes_in"] > 20 * 50_000
    # two files change (same size, new bytes and mtime), one is new
    changed = sorted(files)[:2]
    for p in changed:
        p.write_bytes(os.urandom(50_000))
        os.utime(p, ns=(1_700_000_000_000_000_000,) * 2)
    (src / "new.txt").write_bytes(b"n" * 30_000)
    out = backup(conf, src)
    assert "21 files verified" in out, out
    assert "18 unchanged (900000 bytes) recorded by the server" in out, out
    wait_closed(srv, 2)
    s2 = status(tmp_path)
    sent = s2["bytes_in"] - s1["bytes_in"]
    # the changed and the new file's bytes, and per unchanged file a 1046
    # (23 + 311 bytes) inside TLS records, plus the session: nowhere near
    # one more 50 KB file
    payload = 2 * 50_000 + 30_000
    print("second run: payload", payload, "wire", sent)
    assert payload < sent < payload + 18 * 400 + 20_000, sent
    assert s2["files_by_hash"] == 18
    st = s2["store"]
    assert st["snapshots"] == 2 and st["versions"] == 20 + 21
    assert st["contents"] == 20 + 3
    assert st["bytes_stored"] == 20 * 50_000 + 2 * 50_000 + 30_000
    assert st["bytes_logical"] == 20 * 50_000 + 20 * 50_000 + 30_000
    # every snapshot restores as it was backed up
    d2 = tmp_path / "d2"
    r = run("restore", "--config", conf, d2)
    assert r.returncode == 0, r.stderr
    assert tree_state(restored_root(d2, src)) == tree_state(src)


def test_unchanged_run_stores_nothing_new(srv, pki, tmp_path):
    src = tmp_path / "src"
    make_files(src, 12, 20_000)
    (src / "empty").write_bytes(b"")
    conf = config(tmp_path, pki, srv, "board-a")
    backup(conf, src)
    wait_closed(srv, 1)
    s1 = status(tmp_path)
    manifest = tmp_path / "state-board-a" / "manifest"
    assert manifest.stat().st_size == 8 + 13 * 72
    out = backup(conf, src)
    assert "13 files verified" in out and "13 unchanged (240000 bytes)" in out, out
    wait_closed(srv, 2)
    s2 = status(tmp_path)
    assert s2["store"]["bytes_stored"] == s1["store"]["bytes_stored"] == 12 * 20_000
    assert s2["store"]["contents"] == s1["store"]["contents"] == 13
    assert s2["store"]["snapshots"] == 2
    # the confirmations are committed in batches, at the latest when the
    # run's connection closes: another process sees every version now
    assert metadb.rows(tmp_path / "data", "SELECT COUNT(*) FROM versions") == [(26,)]
    # only requests: 13 * (1046 + 1646) and the session, no file bytes
    print("unchanged run: wire", s2["bytes_in"] - s1["bytes_in"])
    assert s2["bytes_in"] - s1["bytes_in"] < 13 * 400 + 20_000
    assert not list((tmp_path / "data" / ".tmp").iterdir())


def test_a_damaged_manifest_sends_everything_once(srv, pki, tmp_path):
    src = tmp_path / "src"
    make_files(src, 3, 10_000)
    conf = config(tmp_path, pki, srv, "board-a")
    backup(conf, src)
    manifest = tmp_path / "state-board-a" / "manifest"
    manifest.write_bytes(manifest.read_bytes()[:-1])
    r = run("backup", "--config", conf, src)
    assert r.returncode == 0, r.stderr
    assert "manifest unusable; sending every file" in r.stderr, r.stderr
    assert "0 unchanged" in r.stderr
    # the server still stores the content once
    assert status(tmp_path)["store"]["contents"] == 3
    assert manifest.stat().st_size == 8 + 3 * 72
    assert "3 unchanged" in backup(conf, src)


def test_shared_content_is_stored_once(srv, pki, tmp_path):
    """Two paths of one device and a second device with the same bytes:
    one content; the second device sends its bytes (it cannot claim
    content by hash that it never had) but the store keeps them once."""
    blob = os.urandom(64_000)
    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        d.mkdir()
    (a / "one.bin").write_bytes(blob)
    (a / "two.bin").write_bytes(blob)
    (b / "same.bin").write_bytes(blob)
    backup(config(tmp_path, pki, srv, "board-a"), a)
    conf_b = config(tmp_path, pki, srv, "board-b")
    backup(conf_b, b)
    st = status(tmp_path)["store"]
    assert st["contents"] == 1 and st["bytes_stored"] == 64_000
    assert st["bytes_logical"] == 3 * 64_000 and st["versions"] == 3
    content = list((tmp_path / "data" / ".content").rglob("*"))
    files = [p for p in content if p.is_file()]
    assert len(files) == 1
    assert hashlib.sha256(files[0].read_bytes()).digest() == hashlib.sha256(blob).digest()
    assert os.stat(files[0]).st_nlink == 4      # .content + three versions
    d = tmp_path / "rb"
    r = run("restore", "--config", conf_b, d)
    assert r.returncode == 0, r.stderr
    assert (restored_root(d, b) / "same.bin").read_bytes() == blob


def test_retention_frees_exactly_the_unreferenced_content(srv, pki, tmp_path):
    """Three runs: a file changes in each, a second file is the same
    throughout and a third has the first run's bytes of the first again
    in run 3.  keep-last 1 drops runs 1 and 2: their versions go, and
    only the content no kept version references is freed."""
    src = tmp_path / "src"
    src.mkdir()
    conf = config(tmp_path, pki, srv, "board-a")
    same = os.urandom(7_000)
    gens = [os.urandom(1000 * (i + 1)) for i in range(3)]
    (src / "same.bin").write_bytes(same)
    for i, g in enumerate(gens):
        (src / "a.bin").write_bytes(g)
        os.utime(src / "a.bin", ns=(1_600_000_000_000_000_000 + i,) * 2)
        if i == 2:
            (src / "back.bin").write_bytes(gens[0])
        backup(conf, src)
    st = status(tmp_path)["store"]
    assert st["contents"] == 4 and st["snapshots"] == 3
    assert st["bytes_stored"] == 7_000 + 1000 + 2000 + 3000
    p = subprocess.run([str(binary("vigil-backupd")), "prune", "--data",
                        str(tmp_path / "data"), "--keep-last", "1"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    # runs 1, 2 hold a.bin v1, v2 and same.bin v1, v2; only gens[1]'s
    # content is referenced by nothing kept (gens[0] lives on as back.bin)
    assert "board-a: 3 snapshots, 1 kept, 2 pruned, 4 versions deleted, " \
           "2000 bytes freed" in p.stdout, p.stdout
    st = status(tmp_path)["store"]
    assert st["contents"] == 3 and st["bytes_freed"] == 2000
    assert st["bytes_stored"] == 7_000 + 1000 + 3000
    paths = [r[0] for r in metadb.rows(tmp_path / "data", "SELECT path FROM content")]
    on_disk = sorted(str(q.relative_to(tmp_path / "data"))
                     for q in (tmp_path / "data" / ".content").rglob("*") if q.is_file())
    assert on_disk == sorted(paths)
    d = tmp_path / "d"
    r = run("restore", "--config", conf, d)
    assert r.returncode == 0, r.stderr
    assert tree_state(restored_root(d, src)) == tree_state(src)


@pytest.mark.parametrize("transport", ["tls", "tcp"])
def test_every_snapshot_restores_through_both_transports(srv, pki, tmp_path, transport):
    """Snapshots made over tls (incremental) and tcp (pure v3, every
    file sent) restore equal to the source as it was at each run."""
    src = tmp_path / "src"
    files = make_files(src, 6, 3_000)
    conf = config(tmp_path, pki, srv, "board-a", transport)
    states = []
    for i in range(3):
        p = sorted(files)[i]
        p.write_bytes(os.urandom(3_000 + i))
        os.chmod(p, 0o600 + i)
        os.utime(p, ns=(1_650_000_000_000_000_123 + i,) * 2)
        backup(conf, src)
        states.append(tree_state(src))
    snaps = [r[0] for r in metadb.rows(
        tmp_path / "data", "SELECT DISTINCT session_id FROM versions ORDER BY session_id")]
    assert len(snaps) == 3
    tls_conf = config(tmp_path, pki, srv, "board-a")
    for snap, want in zip(snaps, states):
        d = tmp_path / f"r{snap}"
        r = run("restore", "--config", tls_conf, "--snapshot", snap, d)
        assert r.returncode == 0, r.stderr
        got = tree_state(restored_root(d, src))
        if transport == "tcp":  # plain v3 keeps no mode or mtime
            got = {k: v[0] for k, v in got.items()}
            want = {k: v[0] for k, v in want.items()}
        assert got == want, snap
