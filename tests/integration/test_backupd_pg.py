"""vigil-backupd with its metadata in PostgreSQL (docs/backupd.md,
"Metadata backends" and "Several instances"): a real PostgreSQL 15
(pgserver.py, one per module, a database per test), real vigil-backupd
and vigild processes on 127.0.0.1.

The store's behaviour on PostgreSQL (backup, restore, incremental dedup,
grants, prune, export) and what sharing brings: two instances on one
database and one data directory, a backup through one restored through
the other, a cut upload resumed by the other instance, 20 agents over
two instances, prune from two instances at once, and PostgreSQL
restarted under a running server."""
import hashlib
import os
import re
import subprocess
import threading

import cbor2
import pytest

from backupd import Server, TIMEOUT_MS, tls_args
from conftest import binary, make_certs, make_leaf
from holdproxy import HoldProxy
from test_restore import config, make_tree, restored_root, run, tree_state


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = make_certs(tmp_path_factory.mktemp("pki"))
    for name in ("board-a", "board-b"):
        make_leaf(d, name)
    return d


class Cluster:
    """Instances of vigil-backupd sharing one PostgreSQL database and one
    data directory; every one started is stopped at the end."""

    def __init__(self, pg, pki, tmp_path):
        self.pg, self.pki = pg, pki
        self.db = pg.new_db()
        self.conninfo = pg.conninfo(self.db)
        self.data = tmp_path / "data"
        self.servers = []

    def start(self, name, extra=()):
        s = Server(["--data", str(self.data), "--db", self.conninfo,
                    "--instance", name, "--timeout-ms", str(TIMEOUT_MS),
                    "--plain", "127.0.0.1:0"] + tls_args(self.pki) + list(extra))
        self.servers.append(s)
        return s.start()

    def cli(self, *args, timeout=60):
        """vigil-backupd ARGS --data DATA --db CONNINFO (a subcommand's
        options follow it)."""
        argv = [str(binary("vigil-backupd"))] + [str(a) for a in args]
        argv += ["--data", str(self.data), "--db", self.conninfo]
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)

    def status(self, instance):
        r = subprocess.run([str(binary("vigil-backupd")), "--data", str(self.data),
                            "--instance", instance, "--status"],
                           capture_output=True, timeout=10)
        assert r.returncode == 0, r.stderr
        return cbor2.loads(r.stdout)

    def sql(self, query):
        return self.pg.psql(self.db, query)

    def stop(self):
        for s in self.servers:
            s.stop()


@pytest.fixture
def cluster(pg, pki, tmp_path):
    c = Cluster(pg, pki, tmp_path)
    yield c
    c.stop()


def backup(conf, *paths, ok=True):
    r = run("backup", "--config", conf, *paths)
    if ok:
        assert r.returncode == 0, r.stderr
    return r


def restore_equals(tmp_path, conf, src, dest_name, *extra):
    dest = tmp_path / dest_name
    r = run("restore", "--config", conf, *extra, dest)
    assert r.returncode == 0, r.stderr
    assert tree_state(restored_root(dest, src)) == tree_state(src)
    return r


# ---- one instance: the store's behaviour on PostgreSQL ---------------------

def test_backup_restore_incremental_and_status(cluster, tmp_path):
    a = cluster.start("a")
    src = tmp_path / "src"
    files = make_tree(src)
    conf = config(tmp_path, cluster.pki, a, "board-a")
    backup(conf, src)
    restore_equals(tmp_path, conf, src, "dest1")
    # the second run sends only the changed file; the rest is recorded
    # from stored content (1046) in the shared database
    (src / "plain.txt").write_bytes(b"changed\n")
    backup(conf, src)
    st = cluster.status("a")["store"]
    assert st["snapshots"] == 2 and st["files"] == len(files)
    assert st["versions"] == 2 * len(files)
    assert st["bytes_stored"] == sum(len(d) for d in files.values()) + len(b"changed\n")
    assert cluster.sql("SELECT count(*) FROM content") == [[str(len(
        {hashlib.sha256(d).hexdigest() for d in files.values()}) + 1)]]
    restore_equals(tmp_path, conf, src, "dest2")


def test_grant_export_and_prune(cluster, tmp_path):
    a = cluster.start("a")
    src = tmp_path / "src"
    src.mkdir()
    f = src / "a.txt"
    for i in range(1, 4):
        f.write_bytes(bytes([64 + i]) * (1000 * i))
        backup(config(tmp_path, cluster.pki, a, "board-a"), src)
    conf_b = config(tmp_path, cluster.pki, a, "board-b")
    r = run("restore", "--config", conf_b, "--device", "board-a", tmp_path / "d0")
    assert r.returncode == 1 and "access denied" in r.stderr, r.stderr
    g = cluster.cli("--grant", "board-a=board-b")
    assert g.returncode == 0, g.stderr
    restore_equals(tmp_path, conf_b, src, "d1", "--device", "board-a")
    g = cluster.cli("--revoke", "board-a=board-b")
    assert g.returncode == 0, g.stderr
    r = run("restore", "--config", conf_b, "--device", "board-a", tmp_path / "d2")
    assert r.returncode == 1 and "access denied" in r.stderr, r.stderr
    x = cluster.cli("export", "--device", "board-a", tmp_path / "export")
    assert x.returncode == 0 and "1 files exported, 0 failed" in x.stderr, x.stderr
    assert tree_state(restored_root(tmp_path / "export", src)) == tree_state(src)
    p = cluster.cli("prune", "--keep-last", "1")
    assert p.returncode == 0, p.stderr
    assert "board-a: 3 snapshots, 1 kept, 2 pruned, 2 versions deleted, " \
           "3000 bytes freed" in p.stdout, p.stdout
    assert cluster.status("a")["store"]["bytes_freed"] == 3000
    restore_equals(tmp_path, config(tmp_path, cluster.pki, a, "board-a"), src, "d3")


def test_bad_db_is_a_clear_startup_error(pg, tmp_path):
    s = Server(["--data", str(tmp_path / "data"), "--db",
                pg.conninfo("no_such_database"), "--plain", "127.0.0.1:0"])
    assert s.proc.wait(timeout=30) == 1
    s.stop()
    assert any("cannot connect to the PostgreSQL database" in ln and
               "no_such_database" in ln for ln in s.lines), s.lines


def test_db_and_instance_options_are_checked(tmp_path):
    backupd = str(binary("vigil-backupd"))
    data = ["--data", str(tmp_path / "data"), "--plain", "127.0.0.1:0"]
    for bad in (["--db", str(tmp_path / "x.sqlite")], ["--instance", "a/b"],
                ["--instance", ""], ["--instance", "x" * 33]):
        r = subprocess.run([backupd] + data + bad, capture_output=True, text=True,
                           timeout=10)
        assert r.returncode == 2 and "bad value for option" in r.stderr, (bad, r.stderr)
    r = subprocess.run([backupd] + data, capture_output=True, text=True, timeout=10,
                       env=dict(os.environ, VIGIL_BACKUPD_DB="/var/lib/x.sqlite"))
    assert r.returncode == 2 and "VIGIL_BACKUPD_DB" in r.stderr, r.stderr
    assert not (tmp_path / "data").exists()


# ---- two instances ------------------------------------------------------------

def test_backup_through_one_restore_through_the_other(cluster, tmp_path):
    a, b = cluster.start("a"), cluster.start("b")
    src = tmp_path / "src"
    make_tree(src)
    backup(config(tmp_path, cluster.pki, a, "board-a"), src)
    conf_b = config(tmp_path, cluster.pki, b, "board-a")
    restore_equals(tmp_path, conf_b, src, "dest")
    # incremental across instances: the next run through b sends nothing
    r = backup(conf_b, src)
    assert cluster.status("b")["store"]["versions"] == 2 * 7, r.stderr
    assert not [ln for ln in b.lines if "stored (clear payload)" in ln]
    # each instance's connections are its own
    sa, sb = cluster.status("a"), cluster.status("b")
    assert sa != sb
    ids = cluster.sql("SELECT id FROM sessions ORDER BY id")
    assert len(ids) == len({i[0] for i in ids}) >= 2


def test_instance_stopped_mid_transfer_the_other_serves_the_resume(cluster, tmp_path):
    a, b = cluster.start("a"), cluster.start("b")
    size = 16 << 20
    src = tmp_path / "src"
    src.mkdir()
    big = src / "big.bin"
    big.write_bytes(os.urandom(size))
    proxy = HoldProxy([("127.0.0.1", a.tls_port), ("127.0.0.1", b.tls_port)],
                      hold_after=6 << 20)
    try:
        conf = config(tmp_path, cluster.pki, a, "board-a")
        conf.write_text(conf.read_text().replace(f":{a.tls_port}", f":{proxy.port}"))
        agent = subprocess.Popen([str(binary("vigild")), "backup", "--config", str(conf),
                                  "--timeout", "5000", "--retry-cap", "100", str(src)],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, text=True)
        try:
            assert proxy.held.wait(120), "the upload never reached 6 MiB"
            assert a.stop() == 0        # SIGTERM mid-transfer
            _, err = agent.communicate(timeout=300)
        finally:
            if agent.poll() is None:
                agent.kill()
                agent.wait()
        assert agent.returncode == 0, err
        kept = [ln for ln in a.lines if re.search(r"kept \d+ of \d+ bytes", ln)]
        assert kept, "\n".join(a.lines)
        b.wait_for(r"stored \(clear payload\) ", timeout=30)
        # the rest only: b resumed where a stopped (its "resumed at" line
        # names the file first and may be cut short; this one is not)
        closed = b.wait_for(r"closed \(.*\): 1 file\(s\) stored", timeout=30)
        got = int(re.search(r" in (\d+) B", closed).group(1))
        assert got < size - (6 << 20) + (1 << 20), closed
    finally:
        proxy.close()
    restore_equals(tmp_path, config(tmp_path, cluster.pki, b, "board-a"), src, "dest")
    assert cluster.sql("SELECT count(*) FROM partials") == [["0"]]
    assert os.listdir(cluster.data / ".resume") == []


def test_twenty_agents_over_two_instances(cluster, tmp_path):
    a, b = cluster.start("a"), cluster.start("b")
    common = os.urandom(50_000)         # the same bytes on every device
    trees = {}
    procs = []
    for i in range(20):
        src = tmp_path / f"src{i}"
        src.mkdir()
        files = {"common.bin": common, "own.bin": os.urandom(20_000 + i),
                 "small.txt": f"device {i}\n".encode()}
        for n, d in files.items():
            (src / n).write_bytes(d)
        trees[i] = src
        port = (a if i % 2 == 0 else b).port
        procs.append(subprocess.Popen(
            [str(binary("vigild")), "backup", "--server", f"tcp://127.0.0.1:{port}",
             "--state", str(tmp_path / f"state{i}"), "--name", f"dev-{i:02d}", str(src)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True))
    try:
        for i, p in enumerate(procs):
            _, err = p.communicate(timeout=300)
            assert p.returncode == 0, (i, err)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert cluster.sql("SELECT count(*), count(DISTINCT name) FROM clients") == \
        [["20", "20"]]
    assert cluster.sql("SELECT count(*) FROM versions") == [["60"]]
    # the common content once, each device's own bytes once
    assert cluster.sql("SELECT count(*) FROM content") == [[str(1 + 20 + 20)]]
    sessions = cluster.sql("SELECT id FROM sessions")
    assert len(sessions) == len({s[0] for s in sessions}) >= 20
    a.wait_for(r": stored [0-9a-f]{32}/")  # each instance served its half
    b.wait_for(r": stored [0-9a-f]{32}/")
    for i in (0, 7, 19):             # any instance's data, by export
        dest = tmp_path / f"export{i}"
        x = cluster.cli("export", "--device", f"dev-{i:02d}", dest)
        assert x.returncode == 0 and "3 files exported, 0 failed" in x.stderr, x.stderr
        got = tree_state(restored_root(dest, trees[i]))   # plain v3: no mtimes
        assert {k: v[0] for k, v in got.items()} == \
            {k: v[0] for k, v in tree_state(trees[i]).items()}


def test_prune_from_two_processes_at_once(cluster, tmp_path):
    a, b = cluster.start("a"), cluster.start("b")
    src = tmp_path / "src"
    src.mkdir()
    f = src / "a.txt"
    for i in range(1, 7):
        f.write_bytes(bytes([64 + i]) * (1000 * i))
        backup(config(tmp_path, cluster.pki, a if i % 2 else b, "board-a"), src)
    argv = [str(binary("vigil-backupd")), "prune", "--data", str(cluster.data),
            "--db", cluster.conninfo, "--keep-last", "2"]
    procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    # the pruning happened once: four snapshots, their bytes counted once
    assert cluster.status("a")["store"]["bytes_freed"] == 1000 + 2000 + 3000 + 4000
    assert cluster.sql("SELECT count(*) FROM pruned") == [["4"]]
    restore_equals(tmp_path, config(tmp_path, cluster.pki, b, "board-a"), src, "dest")


def test_postgresql_restarted_under_a_running_server(cluster, pg, tmp_path):
    a = cluster.start("a")
    src = tmp_path / "src"
    src.mkdir()
    for i in range(120):     # the log (a pipe read at wait_for) holds it
        (src / f"f{i:03d}.bin").write_bytes(os.urandom(4000 + i))
    conf = config(tmp_path, cluster.pki, a, "board-a")
    agent = subprocess.Popen([str(binary("vigild")), "backup", "--config", str(conf),
                              "--timeout", "5000", str(src)],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
    try:
        a.wait_for(r"stored \(clear payload\) ", timeout=60)
        pg.stop("immediate")             # a crash, mid-run, and back
        pg.start()
        _, err = agent.communicate(timeout=300)
    finally:
        if agent.poll() is None:
            agent.kill()
            agent.wait()
    assert a.proc.poll() is None, "the server died with its database"
    a.wait_for(r"database: connection lost", timeout=10)
    # after the outage: a new run completes, and the restore holds every
    # file (what the first run had stored and what it had not)
    backup(conf, src)
    a.wait_for(r"database: connected again", timeout=10)
    restore_equals(tmp_path, conf, src, "dest")
    st = cluster.status("a")["store"]
    assert st["files"] == 120
    print(f"first run: {agent.returncode}; {err.strip().splitlines()[-1:]}")


def test_same_name_registered_through_both_instances_at_once(cluster, tmp_path):
    """The unique name settles the race: both connections get the one id
    (a registered client without a key gets its id again), the database
    holds one client, and once it has a key the name is taken on both."""
    import v3_client as v3
    a, b = cluster.start("a"), cluster.start("b")
    key = v3.rsa_key(17)
    for i in range(10):
        name = f"twin-{i}"
        clients = [v3.Client(s.addr, name, key=key) for s in (a, b)]
        go = threading.Barrier(2)
        ids = [None, None]

        def reg(k):
            go.wait(timeout=10)
            ids[k] = clients[k].register()

        threads = [threading.Thread(target=reg, args=(k,)) for k in (0, 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert ids[0] is not None and ids[0] == ids[1], (name, ids)
        assert cluster.sql(f"SELECT count(*) FROM clients WHERE name = '{name}'") == [["1"]]
        clients[1].send_key()
        clients[1].backup("f.txt", name.encode())
        for c in clients:
            c.close()
        late = v3.Client(a.addr, name, key=key)
        with pytest.raises(v3.ServerError) as e:
            late.register()
        assert e.value.args[0] == 1601
        late.close()


def test_refused_statements_do_not_spoil_a_batch(cluster, tmp_path):
    """A name already taken (a constraint the database refuses) while
    another device's unchanged files are being recorded in a batch: on
    PostgreSQL a failed statement would abort its whole transaction, so
    each runs in a savepoint; the 1601s and the recorded files both
    hold."""
    import v3_client as v3
    a = cluster.start("a")
    src = tmp_path / "src"
    src.mkdir()
    for i in range(150):
        (src / f"f{i:03d}.txt").write_bytes(b"%d\n" % i)
    conf = config(tmp_path, cluster.pki, a, "board-a")
    backup(conf, src)
    taker = v3.Client(a.addr, "taken")
    taker.register()
    taker.send_key()
    taker.close()
    key = v3.rsa_key(17)
    stop = threading.Event()
    refused = []

    def register_taken():
        while not stop.is_set():
            c = v3.Client(a.addr, "taken", key=key)
            try:
                c.register()
            except v3.ServerError as e:
                refused.append(e.args[0])
            finally:
                c.close()
            a._read_some(0)     # the log's pipe must not fill meanwhile

    t = threading.Thread(target=register_taken)
    t.start()
    try:
        r = backup(conf, src)       # 150 files recorded by hash (1046)
    finally:
        stop.set()
        t.join(timeout=30)
    assert "150 unchanged" in r.stderr, r.stderr
    assert refused and set(refused) == {1601}
    assert cluster.sql("SELECT count(*) FROM versions") == [["300"]]
