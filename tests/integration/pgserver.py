"""A real PostgreSQL 15 (Debian's postgresql-15) for the tests: initdb and
pg_ctl in a temp directory, its unix socket in that directory, TCP on
127.0.0.1 at a free port; every wait is bounded and the server is always
stopped.  initdb refuses to run as root: as root the cluster belongs to
the `postgres` user the package creates and its programs run through
runuser.  One server serves a whole test module; each test gets its own
database (PgServer.new_db)."""
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile

from netutil import free_port

PG_BIN = "/usr/lib/postgresql/15/bin"
USER = "vigil"
_names = itertools.count()


class PgServer:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="vigil-pg-")
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "pg.log")
        self.port = free_port()
        self.owner = None
        if os.getuid() == 0:
            self.owner = pwd.getpwnam("postgres")
            os.chown(self.dir, self.owner.pw_uid, self.owner.pw_gid)
        self._run([f"{PG_BIN}/initdb", "-D", self.data, "-U", USER,
                   "-A", "trust", "--no-sync", "-E", "UTF8"], timeout=120)

    def _run(self, argv, timeout=60, check=True):
        if self.owner is not None:
            argv = ["runuser", "-u", "postgres", "--"] + argv
        return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=timeout, check=check)

    def start(self):
        # fsync off: a test's data need not survive the machine, only
        # the server (a restart, or a crash with -m immediate)
        opts = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1"
                " -c fsync=off -c max_connections=60")
        self._run([f"{PG_BIN}/pg_ctl", "-D", self.data, "-l", self.log, "-w",
                   "-t", "60", "-o", opts, "start"], timeout=90)
        return self

    def stop(self, mode="fast"):
        self._run([f"{PG_BIN}/pg_ctl", "-D", self.data, "-w", "-t", "60",
                   "-m", mode, "stop"], timeout=90, check=False)

    def running(self):
        return self._run([f"{PG_BIN}/pg_ctl", "-D", self.data, "status"],
                         check=False).returncode == 0

    def destroy(self):
        try:
            if self.running():
                self.stop("immediate")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def conninfo(self, db):
        """A libpq URI (TCP) for database db."""
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{db}"

    def psql(self, db, sql):
        """Rows of sql on db, over the unix socket, as lists of strings."""
        out = subprocess.run(
            ["psql", "-X", "-q", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1",
             "-h", self.dir, "-p", str(self.port), "-U", USER, "-d", db, "-c", sql],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
            check=True).stdout
        return [line.split("\t") for line in out.splitlines() if line != ""]

    def new_db(self):
        name = f"t{os.getpid()}_{next(_names)}"
        self.psql("postgres", f"CREATE DATABASE {name}")
        return name
