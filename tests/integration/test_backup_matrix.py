"""The backup matrix (issue 5): files of 0 B to 200 MiB, named with spaces
and UTF-8, over three pairs that share no code on one side —
  vigild backup (tcp://) -> the Python reference server (v3_refserver.py),
  the Python client (v3_client.py) -> vigil-backupd --plain,
  vigild backup (tls://) -> vigil-backupd --tls —
each checked by the sha256 of what the server stored; and 20 vigild backup
processes at once against one vigil-backupd over TLS.

The 200 MiB file goes only over the two vigild paths (the Python client
would hold it, and its ciphertext, in memory)."""
import hashlib
import os
import re
import sqlite3
import subprocess
import time

import pytest

import v3_client as v3
from conftest import binary
from backup_cli import sha as sha_file
from backupd import Server, tls_args
from v3_names import v3_name
from v3_refserver import RefServer

# 64 KiB is vigild's slice of ciphertext: 65535 B encrypts to exactly one
# slice, 65536 B to one slice and a 16-byte packet of padding, 65537 B to
# one slice and a block; 16 B and 1 MiB are whole blocks (a padding-only
# last block).
SIZES = [0, 1, 16, 1024, 65535, 65536, 65537, 1 << 20]
BIG = 200 << 20
STYLES = ["résumé 2026.txt", "日本語 ファイル", "emoji 🙂 x", "100% done_v2.bin"]
SUBDIR = "sous-dossier été"     # one file sits here: '/' in the v3 name
AGENTS = 20
# vigil-backupd's connections have fixed buffers (rx slice, replies) plus
# mbedTLS's record buffers: about 40 KiB each measured, so 128 KiB each
# over its idle peak RSS is a generous bound that buffering whole files
# (265 KB and more per agent here) would break
CONN_RSS_KIB = 128

def write_random(path, size):
    """Writes size random bytes to path; returns their sha256."""
    h = hashlib.sha256()
    with open(path, "wb") as f:
        left = size
        while left:
            chunk = os.urandom(min(left, 1 << 20))
            h.update(chunk)
            f.write(chunk)
            left -= len(chunk)
    return h.hexdigest()


@pytest.fixture(scope="session")
def big_file(tmp_path_factory):
    """(path, sha256) of one 200 MiB random file, written once."""
    path = tmp_path_factory.mktemp("big") / "gros fichier é 200 MiB.bin"
    return path, write_random(path, BIG)


@pytest.fixture(scope="module")
def matrix(tmp_path_factory):
    """(source directory, {path: sha256}) of the size matrix, every name
    with spaces, most with UTF-8; the 1 MiB file in a UTF-8 subdirectory."""
    src = tmp_path_factory.mktemp("matrix") / "src"
    (src / SUBDIR).mkdir(parents=True)
    files = {}
    for i, size in enumerate(SIZES):
        where = src / SUBDIR if size == 1 << 20 else src
        path = where / f"{size} {STYLES[i % len(STYLES)]}"
        files[path] = write_random(path, size)
    return src, files


@pytest.fixture
def backupd(tmp_path):
    servers = []

    def start(args):
        s = Server(["--data", str(tmp_path / "data"), "--timeout-ms", "20000"]
                   + args).start()
        servers.append(s)
        # the TLS listener's log line names the TLS versions it offers,
        # which change with the build: only "TLS" is relied on here
        for line in s.lines:
            m = re.search(r"listening TLS.* on 127\.0\.0\.1:(\d+)", line)
            if m:
                s.tls_port = int(m.group(1))
        return s
    yield start
    for s in servers:
        if s.proc.poll() is None:
            s.proc.kill()
            s.proc.wait()


def vigild_backup_cmd(url, state, name, paths, pki_dir=None):
    args = [str(binary("vigild")), "backup", "--server", url, "--state",
            str(state), "--name", name, "--timeout", "20000",
            "--retry-cap", "500"]
    if pki_dir is not None:
        args += ["--tls-ca", str(pki_dir / "ca.crt"),
                 "--tls-cert", str(pki_dir / "client.crt"),
                 "--tls-key", str(pki_dir / "client.key")]
    return args + [str(p) for p in paths]


def backupd_versions(data_dir):
    """{(client name, file name): [(version, size, sha256 of the stored
    file)]} from backupd.sqlite, each file found by its versions.path;
    the path must be the documented <client uuid>/<file name>/v<N>."""
    db = sqlite3.connect(f"file:{data_dir / 'backupd.sqlite'}?mode=ro", uri=True)
    rows = db.execute(
        "SELECT c.name, hex(c.id), f.name, v.version, v.size, v.path"
        " FROM versions v JOIN files f ON f.id = v.file_id"
        " JOIN clients c ON c.id = f.client_id ORDER BY v.version").fetchall()
    db.close()
    out = {}
    for client, cid, fname, version, size, path in rows:
        assert path == f"{cid.lower()}/{fname}/v{version}"
        out.setdefault((client, fname), []).append(
            (version, size, sha_file(data_dir / path)))
    return out


def assert_backupd_has(data_dir, client, files):
    """Each source file is version 1 of its v3 name, size and sha256 equal;
    and the client has nothing else."""
    got = {f: v for (c, f), v in backupd_versions(data_dir).items() if c == client}
    want = {v3_name(p): [(1, os.path.getsize(p), sha)] for p, sha in files.items()}
    assert got == want


# ---- the size and name matrix over the three paths ---------------------------

def test_vigild_tcp_to_reference_server(matrix, big_file, tmp_path):
    src, files = matrix
    files = dict(files, **{str(big_file[0]): big_file[1]})
    srv = RefServer(tmp_path / "srv").start()
    try:
        r = subprocess.run(vigild_backup_cmd(srv.url, tmp_path / "state", "matrix-tcp",
                                             [src, big_file[0]]),
                           capture_output=True, text=True, timeout=120)
    finally:
        srv.stop()
    assert r.returncode == 0, r.stderr
    assert f"{len(files)} files verified, 0 skipped" in r.stderr
    assert sorted(srv.verified) == sorted(v3_name(p) for p in files)
    for p, sha in files.items():
        assert sha_file(srv.verified[v3_name(p)]) == sha, p


def test_python_client_to_backupd_plain(matrix, backupd, tmp_path):
    _, files = matrix
    srv = backupd(["--plain", "127.0.0.1:0"])
    c = v3.Client(srv.addr, "matrix-py")
    c.register()
    c.send_key()
    for p in files:
        with open(p, "rb") as f:
            assert c.backup(v3_name(p), f.read()) == v3.R_ACK, p
    c.close()
    srv.wait_for(rf"closed \(peer closed\): {len(files)} file\(s\) stored")
    assert_backupd_has(tmp_path / "data", "matrix-py", files)


def test_backupd_refuses_a_raw_utf8_name(backupd, tmp_path):
    """v3 names are ASCII: a client that sends UTF-8 unmapped gets 1607
    and the connection closed, and nothing is stored."""
    srv = backupd(["--plain", "127.0.0.1:0"])
    c = v3.Client(srv.addr, "raw-utf8")
    c.register()
    c.send_key()
    for p in c.file_packets("résumé 2026.txt", b"data"):
        c.send(p)
    assert c.recv_resp() == (v3.R_ERROR, b"")
    assert c.closed_by_server()
    srv.wait_for("non-ASCII name")
    assert srv.stop() == 0
    assert backupd_versions(tmp_path / "data") == {}


def test_vigild_tls_to_backupd(matrix, big_file, pki, backupd, tmp_path):
    src, files = matrix
    files = dict(files, **{str(big_file[0]): big_file[1]})
    srv = backupd(tls_args(pki))
    r = subprocess.run(vigild_backup_cmd(f"tls://127.0.0.1:{srv.tls_port}",
                                         tmp_path / "state", "matrix-tls",
                                         [src, big_file[0]], pki),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert f"{len(files)} files verified, 0 skipped" in r.stderr
    assert srv.stop() == 0
    assert_backupd_has(tmp_path / "data", "matrix-tls", files)


# ---- 20 agents at once -----------------------------------------------------------

def agent_files(root, i):
    """A few files of agent i: sizes around the slice edge, UTF-8 names."""
    d = root / f"agent {i:02d} données"
    d.mkdir(parents=True)
    files = {}
    for size, name in ((100 + i, "notes été.txt"), (65537, "日本語 blob"),
                       (200_000 + i, "plain name.bin")):
        files[d / name] = write_random(d / name, size)
    return d, files


def peak_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM")


def test_twenty_agents_at_once_over_tls(pki, backupd, tmp_path):
    srv = backupd(tls_args(pki))
    url = f"tls://127.0.0.1:{srv.tls_port}"
    sources = [agent_files(tmp_path / "src", i) for i in range(AGENTS)]
    idle_hwm = peak_rss_kib(srv.proc.pid)
    t0 = time.monotonic()
    procs = [subprocess.Popen(vigild_backup_cmd(url, tmp_path / f"state{i}",
                                                f"agent-{i:02d}", [d], pki),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True)
             for i, (d, _) in enumerate(sources)]
    results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
    elapsed = time.monotonic() - t0
    for i, (rc, err) in enumerate(results):
        assert rc == 0, f"agent {i}: {err}"
        assert "3 files verified, 0 skipped" in err, f"agent {i}: {err}"
    hwm = peak_rss_kib(srv.proc.pid)
    assert srv.stop() == 0
    assert hwm - idle_hwm < AGENTS * CONN_RSS_KIB, \
        f"vigil-backupd peak RSS {idle_hwm} KiB idle, {hwm} KiB with {AGENTS} agents"
    data = tmp_path / "data"
    db = sqlite3.connect(f"file:{data / 'backupd.sqlite'}?mode=ro", uri=True)
    names = sorted(n for (n,) in db.execute("SELECT name FROM clients"))
    sessions = db.execute("SELECT started_ms, ended_ms FROM sessions").fetchall()
    db.close()
    assert names == [f"agent-{i:02d}" for i in range(AGENTS)]
    for i, (_, files) in enumerate(sources):
        assert_backupd_has(data, f"agent-{i:02d}", files)
    # "at once": the server had sessions open side by side
    overlap = max(sum(1 for s, e in sessions if s <= t < e) for t, _ in sessions)
    assert overlap >= 2, sessions
    print(f"{AGENTS} agents: {elapsed:.1f} s, up to {overlap} sessions at once, "
          f"vigil-backupd VmHWM {idle_hwm} KiB idle, {hwm} KiB peak")
