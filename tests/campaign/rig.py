"""One campaign run's set-up: source files, a vigil-backupd (plain and TLS
listeners), an agent (vigild --console) backing up to it, directly or
through a fault, a watcher of the server's files and another client.
Scenarios (tests/integration/test_campaign.py) drive the fault; the
Rig gives them the pieces and checks the invariant at the end."""
import os
import pathlib
import random
import re
import threading
import time

import invariant
from backupd import Server
from console import Console
from v3_names import v3_name

VALGRIND = ("valgrind", "-q", "--leak-check=full", "--errors-for-leak-kinds=definite",
            "--show-leak-kinds=definite")


class Rig:
    """files: {path: sha256} of what the agent backs up (one file of
    `size` bytes and two small ones, random from the seed)."""

    def __init__(self, tmp, seed, pki, size, transport="tls"):
        self.tmp, self.seed, self.pki = tmp, seed, pki
        self.rng = random.Random(seed)
        self.transport = transport
        self.src = tmp / "src"
        self.src.mkdir(parents=True)
        self.files = {}
        for name, n in (("big.bin", size), ("a.txt", self.rng.randint(0, 4000)),
                        ("b.bin", self.rng.randint(60_000, 140_000))):
            p = self.src / name
            with open(p, "wb") as f:
                left = n
                while left:
                    k = min(left, 1 << 20)
                    f.write(self.rng.randbytes(k))
                    left -= k
            self.files[p] = invariant.sha256(p)
        self.big = self.src / "big.bin"
        self.server = self.agent = self.prober = self.watch = None
        self.data = tmp / "data"          # where vigil-backupd writes
        self.data_view = self.data        # where this process reads it
        # VIGIL_CAMPAIGN_VALGRIND=server|agent|both: those run under
        # valgrind's memcheck, whose reports fail the run (CRASH)
        vg = os.environ.get("VIGIL_CAMPAIGN_VALGRIND", "")
        self.server_prefix = VALGRIND if vg in ("server", "both") else ()
        self.agent_prefix = VALGRIND if vg in ("agent", "both") else ()
        self.down_windows = []
        self.servers = []
        self.drains = []
        self.secrets = {}                 # name: text that must never be shown
        self.started = time.monotonic()

    # ---- the server ----------------------------------------------------------
    def server_args(self, plain="127.0.0.1:0", tls="127.0.0.1:0", extra=()):
        return ["--data", str(self.data), "--timeout-ms", "2000",
                "--plain", plain, "--tls", tls,
                "--tls-cert", str(self.pki / "server.crt"),
                "--tls-key", str(self.pki / "server.key"),
                "--tls-ca", str(self.pki / "ca.crt"), *extra]

    def start_server(self, plain="127.0.0.1:0", tls="127.0.0.1:0", extra=()):
        self.server = Server(self.server_args(plain, tls, extra), self.server_prefix)
        self.servers.append(self.server)
        self.server.wait_for("ready:", timeout=60)    # slow under valgrind
        self.server.start()
        # from here on a thread reads the log: a server whose stderr pipe
        # fills up blocks in write(2), and the run would measure that
        t = threading.Thread(target=self._drain, args=(self.server,), daemon=True)
        t.start()
        self.drains.append(t)
        return self.server

    @staticmethod
    def _drain(server):
        while server._read_some(0.2):    # False at the end of the pipe
            pass

    # ---- the agent -----------------------------------------------------------
    def agent_conf(self, url, extra=""):
        """The agent's configuration; `extra` lines ("key = value") add
        keys or replace these defaults."""
        keys = {
            "data.dir": f"{self.tmp}/agentdata", "device.name": "campaign",
            "watchdog.device": "none", "console.device": "none", "log.syslog": "false",
            "coap.listen": "none", "coap.dtls_listen": "none",
            "health.interval": "500ms", "health.start_period": "0",
            "backup.server": url, "backup.paths": str(self.src),
            "backup.timeout": "2", "backup.retry_cap": "1",
        }
        if url.startswith("tls://"):
            keys.update({"tls.ca": self.pki / "ca.crt", "tls.cert": self.pki / "client.crt",
                         "tls.key": self.pki / "client.key"})
        for line in extra.splitlines():
            if line.strip():
                k, v = line.split("=", 1)
                keys[k.strip()] = v.strip()
        conf = self.tmp / "vigil.conf"
        conf.write_text("".join(f"{k} = {v}\n" for k, v in keys.items()))
        return conf

    def start_agent(self, url, extra=""):
        conf = self.agent_conf(url, extra)
        n = len(list(self.tmp.glob("agent*.log")))
        self.agent = Console(conf, self.tmp / f"agent{n}.log", self.agent_prefix)
        try:
            self.agent.expect(b"vigil> ", timeout=15)
        except AssertionError as e:
            raise AssertionError(f"{e}\nagent log:\n{self.agent.log()[-2000:]}") from None
        return self.agent

    def agent_url(self, port, host="127.0.0.1"):
        return f"{self.transport}://{host}:{port}"

    def server_port(self):
        return self.server.port if self.transport == "tcp" else self.server.tls_port

    # ---- watching -----------------------------------------------------------
    def watch_start(self, prober_prefix=(), prober_addr=None):
        self.watch = invariant.LayoutWatch(str(self.data_view))
        addr = prober_addr or ("127.0.0.1", self.server.port)
        self.prober = invariant.Prober(addr, prefix=prober_prefix)

    def down(self):
        """The server is meant to be down (or unable to store) from now."""
        self.down_windows.append([time.monotonic(), None])

    def up(self):
        self.down_windows[-1][1] = time.monotonic()

    # ---- what the agent did -------------------------------------------------
    SENT = re.compile(r"job \d+: sent (.+?) \(\d+ bytes")
    DONE = re.compile(r"job (\d+) done: (\d+) files")

    def reported(self):
        """Source paths the agent logged as sent (1604 received)."""
        return {self.src / os.path.basename(p) for p in self.SENT.findall(self.agent.log())}

    def wait_done(self, after_job=0, timeout=60, mark=0):
        """Waits for the log line of a job id > after_job done with every
        file, logged past offset `mark` of the agent's log; returns (job
        id, when it was seen)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for job, n in self.DONE.findall(self.agent.log()[mark:]):
                if int(job) > after_job and int(n) == len(self.files):
                    return int(job), time.monotonic()
            time.sleep(0.02)
        raise AssertionError(f"no job after {after_job} done with every file:\n"
                             + self.agent.log()[-3000:])

    def agent_clients(self):
        """The server's client directories holding the agent's big file
        (one: the identity was never lost; the prober has its own)."""
        name = v3_name(self.big)
        return [d for d in invariant.client_dirs(str(self.data_view))
                if os.path.isdir(os.path.join(d, name))]

    # ---- the end ----------------------------------------------------------------
    CRASH = re.compile(r"AddressSanitizer|LeakSanitizer|runtime error:|Assertion .* failed|"
                       r"SIGSEGV|SIGABRT|==\d+== (Invalid|Conditional jump|Syscall param|"
                       r"Use of uninitialised|Mismatched free|\d[\d,]* bytes in [\d,]+ blocks "
                       r"are definitely lost)")

    def check(self, server_alive=True):
        """Violations of the invariant and files lost."""
        bad, lost = invariant.check(str(self.data_view), self.files, self.reported(),
                                    self.watch, self.agent, self.prober,
                                    self.down_windows)
        bad += self.security()
        if server_alive and self.server.proc.poll() is not None:
            bad.append(f"vigil-backupd exited ({self.server.proc.returncode})")
        # a clean stop: what a sanitizer finds at exit (leaks) is logged
        for srv in self.servers:
            if srv.proc.poll() is None:
                srv.proc.terminate()
                try:
                    srv.proc.wait(20)
                except Exception:  # noqa: BLE001 - reported, then killed in close()
                    bad.append("vigil-backupd did not stop on SIGTERM within 20 s")
        for t in self.drains:
            t.join(10)
        texts = {f"vigil-backupd {i}": s.lines for i, s in enumerate(self.servers)}
        texts.update({p.name: p.read_text(errors="replace").splitlines()
                      for p in sorted(self.tmp.glob("agent*.log"))})
        for name, lines in texts.items():
            crash = [ln for ln in lines if self.CRASH.search(ln)]
            if crash:
                bad.append(f"{name}: {crash[:3]}")
        return bad, lost

    def security(self):
        """No secret in a log or in the status; me.info mode 0600."""
        bad = []
        me = self.tmp / "agentdata" / "me.info"
        secrets = dict(self.secrets)
        # the agent's state and the stored copies are its owner's only
        # (the server's directory is 0700: what is in it is no one else's)
        for f in [*(self.tmp / "agentdata").glob("*"),
                  *(pathlib.Path(v) for p in self.files
                    for v in invariant.versions_of(str(self.data_view), v3_name(p)))]:
            if f.is_file() and f.stat().st_mode & 0o077:
                bad.append(f"{f} mode {f.stat().st_mode & 0o777:o}: open to others")
        if self.data_view.is_dir() and self.data_view.stat().st_mode & 0o077:
            bad.append(f"the server's data directory mode {self.data_view.stat().st_mode & 0o777:o}")
        if me.exists():
            secrets["the agent's RSA key (me.info)"] = "".join(me.read_text().split()[2:])
        secrets["the client's TLS key"] = invariant.pem_body(self.pki / "client.key")
        secrets["the server's TLS key"] = invariant.pem_body(self.pki / "server.key")
        texts = {f"vigil-backupd log {i}": "\n".join(s.lines)
                 for i, s in enumerate(self.servers)}
        if self.agent is not None:
            texts["the agent's log"] = self.agent.log()
            if self.agent.proc.poll() is None:
                texts["status --json"] = self.agent.cmd("status --json", timeout=10)
        return bad + invariant.secret_leaks(texts, secrets)

    def close(self):
        if self.prober is not None:
            self.prober.stop()
        if self.watch is not None:
            self.watch.stop()
        if self.agent is not None:
            self.agent.close()
        for i, s in enumerate(self.servers):
            if s.proc.poll() is None:
                s.proc.kill()
                s.proc.wait()
            # kept with the run's directory when the run failed
            (self.tmp / f"server{i}.log").write_text("\n".join(s.lines) + "\n")
