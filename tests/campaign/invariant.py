"""The campaign's invariant (issue 19), checked after every run:

  1. every file the agent reported as backed up exists on the server with
     the same sha256;
  2. no partial file is visible (a watcher lists the server's client
     directories every few ms during the run: every version file it ever
     sees has the source's size, and every version stored has the
     source's content);
  3. the agent ends healthy without a restart (same process, answering
     its console, no check failing);
  4. other clients were served throughout (a prober backs up a small
     file on its own connection again and again, and each attempt made
     while the server was meant to be up succeeded).

The server's layout (<data>/<32 hex client id>/<v3 name>/vN) is known
here only, in versions_of()."""
import hashlib
import json
import os
import re
import subprocess
import sys
import threading
import time

from v3_names import v3_name


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def client_dirs(data):
    try:
        return [os.path.join(data, d) for d in os.listdir(data) if len(d) == 32]
    except FileNotFoundError:
        return []


def versions_of(data, name):
    """[(path of version file)] of v3 name `name` over every client."""
    out = []
    for d in client_dirs(data):
        try:
            out += [os.path.join(d, name, v) for v in sorted(os.listdir(os.path.join(d, name)))]
        except FileNotFoundError:
            pass
    return out


class LayoutWatch(threading.Thread):
    """Every size ever seen of each version file under the clients'
    directories: a reader must only ever see whole files."""

    def __init__(self, data):
        super().__init__(daemon=True)
        self.data = data
        self.seen = {}
        self.halt = threading.Event()
        self.start()

    def run(self):
        while not self.halt.is_set():
            for d in client_dirs(self.data):
                try:
                    names = os.listdir(d)
                except FileNotFoundError:
                    continue
                for name in names:
                    try:
                        for v in os.listdir(os.path.join(d, name)):
                            size = os.stat(os.path.join(d, name, v)).st_size
                            self.seen.setdefault(name, set()).add(size)
                    except (FileNotFoundError, NotADirectoryError):
                        pass
            time.sleep(0.005)

    def stop(self):
        self.halt.set()
        self.join(5)


class Prober:
    """Another client (tests/campaign/prober.py, run after `prefix`, so it
    may sit in the test's network namespace): a small backup on a new
    connection every `every` s.  Attempts that overlap a window in which
    the server was meant to be down (killed, its disk full) may fail."""

    def __init__(self, addr, name="other-client", every=0.2, prefix=()):
        here = os.path.dirname(os.path.abspath(__file__))
        self.proc = subprocess.Popen(
            [*prefix, sys.executable, os.path.join(here, "prober.py"), addr[0],
             str(addr[1]), name, str(every)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        self.results = []
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            self.results.append(json.loads(line))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.thread.join(5)

    def failures(self, down_windows=()):
        def excused(r):
            return any(r["t1"] >= t0 and (t1 is None or r["t0"] <= t1 + 0.5)
                       for t0, t1 in down_windows)
        return [r for r in self.results if not r["ok"] and not excused(r)]

    def served(self):
        return sum(1 for r in self.results if r["ok"])


def check(data, files, reported, watch=None, agent=None, prober=None,
          down_windows=()):
    """Violations of the invariant (a list of strings; empty: it holds)
    and the count of files lost (reported but missing or different).

    data      the server's data directory (as this process sees it)
    files     {source path: sha256} of every file the agent backs up
    reported  the source paths the agent reported as backed up"""
    bad, lost = [], 0
    for path in reported:
        vs = versions_of(data, v3_name(path))
        if not vs or sha256(vs[-1]) != files[path]:
            lost += 1
            bad.append(f"reported but not stored intact: {path} ({vs})")
    for path, digest in files.items():
        size = os.path.getsize(path)
        for v in versions_of(data, v3_name(path)):
            if os.path.getsize(v) != size or sha256(v) != digest:
                bad.append(f"stored version differs from the source: {v}")
    names = {v3_name(p) for p in files}
    for d in client_dirs(data):
        entries = set(os.listdir(d))
        if entries & names and entries - names:
            bad.append(f"stray names next to the agent's files: {sorted(entries - names)}")
    if watch is not None:
        watch.stop()
        sizes = {v3_name(p): os.path.getsize(p) for p in files}
        for name, seen in watch.seen.items():
            if name in sizes and seen != {sizes[name]}:
                bad.append(f"partial file visible: {name} sizes {sorted(seen)}")
    if agent is not None:
        bad += agent_health(agent)
    if prober is not None:
        prober.stop()
        fails = prober.failures(down_windows)
        if fails:
            bad.append(f"other client not served {len(fails)} times: {fails[:3]}")
        if prober.served() == 0:
            bad.append("the other client was never served")
    return bad, lost


def health_rows(out):
    """({check: (kind, state)}, overall state) from the console's health."""
    m = re.search(r"health:\s+(\w+)", out)
    rows = dict((name, (kind, state)) for name, kind, state in
                re.findall(r"^(\w+)\s+(required|wanted)\s+(\w+)", out, re.M))
    return rows, (m.group(1) if m else None)


def link_idled_out(log):
    """The server closed the agent's connection after its last job was
    done (its idle timeout): the `backup_link` check then reads `down`
    by design (docs/health.md), which is no fault."""
    done = log.rfind(" done: ")
    return done >= 0 and "the server closed the idle connection" in log[done:]


def agent_health(agent, timeout=15):
    """The agent (a console.Console) is the process it was, answers its
    console, and within timeout is healthy: no required check unhealthy
    and the backup link healthy again, or down only because the server
    closed it idle after the last job was done (load may make the agent
    `degraded` on a busy machine; that is not a fault of the agent)."""
    deadline = time.monotonic() + timeout
    out = ""
    while True:
        if agent.proc.poll() is not None:
            return [f"agent exited ({agent.proc.returncode})"]
        try:
            out = agent.cmd("health", timeout=10)
        except AssertionError as e:
            return [f"agent console does not answer: {e}"]
        rows, overall = health_rows(out)
        bad_required = [n for n, (k, st) in rows.items() if k == "required" and st != "healthy"]
        link = rows.get("backup_link", ("", ""))[1]
        if overall in ("healthy", "degraded") and not bad_required and \
                (link == "healthy" or link_idled_out(agent.log())):
            return []
        if time.monotonic() > deadline:
            return [f"agent not healthy after {timeout} s:\n{out}"]
        time.sleep(0.25)


def pem_body(path):
    """The base64 lines of a PEM file joined (a private key's secret)."""
    lines = open(path).read().splitlines()
    return "".join(ln for ln in lines if ln and not ln.startswith("-----"))


def secret_leaks(texts, secrets, window=24):
    """Which secrets show up in any of texts: a run of `window` characters
    of a secret (its base64 or hex form) is enough to count."""
    found = []
    for name, secret in secrets.items():
        if len(secret) < window:
            probes = [secret]
        else:
            probes = {secret[i:i + window] for i in range(0, len(secret) - window + 1, window)}
        for label, text in texts.items():
            if any(p in text for p in probes):
                found.append(f"{name} appears in {label}")
    return found
