#!/usr/bin/env python3
"""tests/bench/agent_bench.py — vigild the daemon backing up a big file to
vigil-backupd on loopback while five CoAP observers watch /status (make
bench; tests/bench/report.py runs it and puts its lines in the page).

    tests/bench/agent_bench.py [GCM_MIBS]

Set-up: a PKI from `vigilctl pki init`; `vigil-backupd --tls` (and
`--plain` for tcp://) on free ports; vigild with the file as
backup.paths, CoAP on a free port with open control, no console or
watchdog; five `coap-client-notls -s` observers of /status, each
registered once it has printed its first notification.  A first job
registers the device (RSA key generation) and is not counted.

Each round: `vigilctl backup coap://.../ now`, timed to the log's "job N
done" line.  Measured per round: the wall time, vigild's and
vigil-backupd's CPU (user + sys, /proc/PID/stat); over all rounds:
vigild's VmHWM, and at the sample where its VmRSS was highest
(every BENCH_AGENT_SAMPLE_S), where those pages are: text (file pages of
the binary), .data, .bss by symbol (the link map's -fdata-sections
names, resident pages from /proc/PID/pagemap), the stack, the rest.
The kernel maps up to fault_around_bytes (64 KiB) of page-cache pages
around each fault of a file mapping, so the text is resident far beyond
the code that runs: the link puts the functions a backup runs first
(firmware/agent/hot.ld, its size from the link map is printed) and
vigild drops its code mapping after start-up and after each job
(hal_mem_drop_code).  smaps "Referenced" cannot tell run code from the
pages mapped around it (on x86 those are mapped young), so it is not
used.  VmHWM counts from the process's start (start-up and the first
job's registration included); the peak of the timed jobs alone is
printed too (/proc/PID/clear_refs 5 resets VmHWM before the first).
Figures are medians of BENCH_AGENT_ROUNDS rounds (default 5) per mode:
tls:// (the suite vigild picks: AES-128-GCM where the CPU has AES
instructions) and tcp://.

GCM_MIBS: the raw AES-128-GCM rate measured in the same run
(backup_bench's line); with it, the CPU per GiB of each end is printed
as a ratio to the cipher's own CPU per GiB.

Exit status 1 only when something could not be measured (a process that
would not start, a job that failed or never ended); never on a timing.
"""
import os
import re
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("VIGIL_BIN_DIR", os.path.join(ROOT, "build", "host", "bin"))
MIB = 1 << 20
SIZE = int(os.environ.get("BENCH_AGENT_MIB", "1024")) * MIB
ROUNDS = int(os.environ.get("BENCH_AGENT_ROUNDS", "5"))
OBSERVERS = 5
SAMPLE_S = float(os.environ.get("BENCH_AGENT_SAMPLE_S", "0.05"))
JOB_TIMEOUT_S = 300
PAGE = os.sysconf("SC_PAGE_SIZE")
TICK = os.sysconf("SC_CLK_TCK")


def free_port(kind=socket.SOCK_DGRAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(cond, what, timeout=20.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = cond()
        if v:
            return v
        time.sleep(0.02)
    raise RuntimeError(f"timed out waiting for {what}")


def read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def status_kb(pid, key):
    m = re.search(rf"^{key}:\s+(\d+)", read(f"/proc/{pid}/status"), re.M)
    return int(m.group(1)) if m else 0


def cpu_s(pid):
    fields = read(f"/proc/{pid}/stat").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


# ---- where the resident pages are ----

def bss_symbols(map_path):
    """[(start, end, name)] of the .data/.bss input sections in the map."""
    syms = []
    pending = None
    pat = re.compile(r"^ (\.(?:bss|data|tbss|tdata)\.?(\S*))?\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s")
    for line in read(map_path).split("Linker script and memory map", 1)[-1].splitlines():
        m = re.match(r"^ (\.(?:bss|data)\.?\S*)$", line)
        if m:
            pending = m.group(1)
            continue
        m = pat.match(line)
        if m:
            name = m.group(1) or pending
            pending = None
            start, size = int(m.group(3), 16), int(m.group(4), 16)
            if name and size:
                syms.append((start, start + size, name))
            continue
        pending = None
    return sorted(syms)


def present_pages(pid, start, end):
    """Addresses of the resident pages of this process alone in [start,
    end): present (bit 63) and mapped exclusively (bit 56).  A page of
    .bss that was only read maps the kernel's shared zero page, which
    pagemap shows as present but the resident set does not count."""
    first, last = start // PAGE, (end + PAGE - 1) // PAGE
    with open(f"/proc/{pid}/pagemap", "rb") as f:
        f.seek(first * 8)
        raw = f.read((last - first) * 8)
    out = []
    for i in range(len(raw) // 8):
        (v,) = struct.unpack_from("<Q", raw, i * 8)
        if v >> 63 and (v >> 56) & 1:
            out.append((first + i) * PAGE)
    return out


def account(pid, syms):
    """{part: KiB} of the resident set now."""
    parts = {}
    exe = os.path.realpath(f"/proc/{pid}/exe")
    cur = None
    maps = []
    for line in read(f"/proc/{pid}/smaps").splitlines():
        m = re.match(r"^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$", line)
        if m:
            cur = [int(m.group(1), 16), int(m.group(2), 16), m.group(3),
                   m.group(4), 0]
            maps.append(cur)
        elif line.startswith("Rss:") and cur:
            cur[4] = int(line.split()[1])
    for start, end, perms, path, rss in maps:
        if path == exe and "x" in perms:
            parts["text (binary, file pages)"] = parts.get("text (binary, file pages)", 0) + rss
        elif path == exe:
            parts["rodata/relro (binary)"] = parts.get("rodata/relro (binary)", 0) + rss
        elif path == "[stack]":
            parts["stack"] = rss
        elif path in ("[vvar]", "[vdso]", "[vsyscall]"):
            parts["vdso/vvar"] = parts.get("vdso/vvar", 0) + rss
        elif path in ("", "[heap]"):
            # .data/.bss (and the C heap): by symbol
            pages = present_pages(pid, start, end)
            parts.update(by_symbol(pages, syms, parts))
        else:
            parts[path] = parts.get(path, 0) + rss
    return parts


def by_symbol(pages, syms, parts):
    """Charges each resident page to the symbols it holds (a page shared
    by several small ones goes to the largest)."""
    out = dict(parts)
    i = 0
    for p in pages:
        best, size = "other (.data/.bss small, C heap)", 0
        while i < len(syms) and syms[i][1] <= p:
            i += 1
        j = i
        while j < len(syms) and syms[j][0] < p + PAGE:
            s, e, n = syms[j]
            part = min(e, p + PAGE) - max(s, p)
            if part > size:
                best, size = n, part
            j += 1
        key = short(best)
        out[key] = out.get(key, 0) + PAGE // 1024
    return out


def hot_block(map_path):
    """Bytes of the .text.hot output section (firmware/agent/hot.ld), 0
    when the link has none."""
    m = re.search(r"^\.text\.hot\s+0x[0-9a-f]+\s+0x([0-9a-f]+)", read(map_path), re.M)
    return int(m.group(1), 16) if m else 0


def short(section):
    return re.sub(r"^\.(bss|data)\.", r".\1 ", section)


# ---- the processes ----

class Bench:
    def __init__(self, tmp, gcm_mibs):
        self.tmp = tmp
        self.gcm = gcm_mibs
        self.procs = []
        self.syms = bss_symbols(os.path.join(BIN, "vigild.map"))
        self.hot = hot_block(os.path.join(BIN, "vigild.map"))

    def spawn(self, argv, log):
        p = subprocess.Popen(argv, cwd=self.tmp, stdin=subprocess.DEVNULL,
                             stdout=open(os.path.join(self.tmp, log), "wb"),
                             stderr=subprocess.STDOUT)
        self.procs.append(p)
        return p

    def stop(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.kill()
            p.wait()

    def setup(self):
        t = self.tmp
        subprocess.run([f"{BIN}/vigilctl", "pki", "init", "pki"], cwd=t,
                       check=True, capture_output=True, timeout=120)
        block = os.urandom(MIB)
        with open(f"{t}/big", "wb") as f:
            for i in range(SIZE // MIB):
                f.write(struct.pack("<I", i) + block[4:])
        self.tport = free_port(socket.SOCK_STREAM)
        self.pport = free_port(socket.SOCK_STREAM)
        self.server = self.spawn([
            f"{BIN}/vigil-backupd", "--data", "data",
            "--tls", f"127.0.0.1:{self.tport}", "--plain", f"127.0.0.1:{self.pport}",
            "--tls-cert", "pki/server.crt", "--tls-key", "pki/server.key",
            "--tls-ca", "pki/ca.crt"], "backupd.log")
        wait_for(lambda: "ready:" in read(f"{t}/backupd.log"), "vigil-backupd")

    def start_agent(self, url):
        t = self.tmp
        self.cport = free_port()
        os.makedirs(f"{t}/state", exist_ok=True)
        with open(f"{t}/vigil.conf", "w", encoding="utf-8") as f:
            f.write(f"data.dir = {t}/state\nwatchdog.device = none\n"
                    "console.device = none\nlog.syslog = false\n"
                    f"coap.listen = 127.0.0.1:{self.cport}\n"
                    "coap.dtls_listen = none\ncoap.open_control = true\n"
                    f"backup.server = {url}\nbackup.paths = {t}/big\n"
                    "backup.name = bench\n"
                    f"tls.ca = {t}/pki/ca.crt\n"
                    f"tls.cert = {t}/pki/devices/device1.crt\n"
                    f"tls.key = {t}/pki/devices/device1.key\n")
        self.log = f"{t}/vigild-{len(self.procs)}.log"
        self.agent = self.spawn([f"{BIN}/vigild", "-c", f"{t}/vigil.conf"],
                                os.path.basename(self.log))
        wait_for(lambda: "running" in read(self.log), "vigild")
        self.jobs = 0
        for i in range(OBSERVERS):
            out = f"observer-{self.cport}-{i}.out"
            self.spawn(["coap-client-notls", "-s", "3600", "-m", "get",
                        f"coap://127.0.0.1:{self.cport}/status"], out)
            wait_for(lambda o=out: os.path.getsize(f"{t}/{o}") > 0,
                     f"observer {i}'s first notification")

    def job(self, sample):
        """One backup job; returns (wall s, vigild CPU s, server CPU s)."""
        self.jobs += 1
        n = self.jobs
        # a full send each time: without the last run's manifest the
        # agent cannot skip the unchanged file (1046)
        if os.path.exists(f"{self.tmp}/state/manifest"):
            os.unlink(f"{self.tmp}/state/manifest")
        c0, s0 = cpu_s(self.agent.pid), cpu_s(self.server.pid)
        t0 = time.monotonic()
        subprocess.run([f"{BIN}/vigilctl", "backup",
                        f"coap://127.0.0.1:{self.cport}", "now"],
                       check=True, capture_output=True, timeout=30)
        end = time.monotonic() + JOB_TIMEOUT_S
        while True:
            log = read(self.log)
            if re.search(rf"job {n} done", log):
                break
            if re.search(rf"job {n} (failed|cancelled)", log) or time.monotonic() > end:
                raise RuntimeError(f"job {n} did not finish: {log[-600:]}")
            if sample:
                self.sample()
            time.sleep(SAMPLE_S)
        wall = time.monotonic() - t0
        cpu_c, cpu_srv = cpu_s(self.agent.pid) - c0, cpu_s(self.server.pid) - s0
        self.drop_stored()
        return wall, cpu_c, cpu_srv

    def sample(self):
        rss = status_kb(self.agent.pid, "VmRSS")
        if rss > self.peak_rss:
            self.peak_rss = rss
            self.peak_parts = account(self.agent.pid, self.syms)

    def drop_stored(self):
        """The stored versions' names go; the content they link to stays
        (.content/, one copy: the server links the next version to it)."""
        for d, _, files in os.walk(f"{self.tmp}/data"):
            if "/.content" in d:
                continue
            for name in files:
                path = os.path.join(d, name)
                if os.path.getsize(path) == SIZE:
                    os.unlink(path)

    def mode(self, name, url):
        self.start_agent(url)
        self.job(False)                 # registration, not counted
        self.peak_rss, self.peak_parts = 0, {}
        hwm_start = status_kb(self.agent.pid, "VmHWM")
        with open(f"/proc/{self.agent.pid}/clear_refs", "w") as f:
            f.write("5")                # VmHWM := VmRSS: the timed jobs' peak
        rounds = [self.job(True) for _ in range(ROUNDS)]
        hwm_jobs = status_kb(self.agent.pid, "VmHWM")
        self.report(name, rounds, max(hwm_start, hwm_jobs), hwm_jobs)
        for p in self.procs[-OBSERVERS - 1:]:
            p.kill()
            p.wait()

    def report(self, name, rounds, hwm, hwm_jobs):
        gib = SIZE / (1 << 30)
        wall = statistics.median(r[0] for r in rounds)
        cli = statistics.median(r[1] for r in rounds) / gib
        srv = statistics.median(r[2] for r in rounds) / gib
        print(f"bench agent {name}: {SIZE // MIB} MiB with {OBSERVERS} "
              f"observers of /status, median of {ROUNDS}: {wall:.2f} s, "
              f"{SIZE / MIB / wall:.1f} MiB/s (rounds: "
              + ", ".join(f"{r[0]:.2f}" for r in rounds) + " s)")
        if self.gcm:
            raw = 1024 / self.gcm       # CPU s per GiB of AES-128-GCM alone
            print(f"bench agent {name} vigild CPU: {cli:.2f} s/GiB "
                  f"(reference raw AES-128-GCM {raw:.2f} s/GiB, ratio {cli / raw:.2f})")
            print(f"bench agent {name} vigil-backupd CPU: {srv:.2f} s/GiB "
                  f"(reference raw AES-128-GCM {raw:.2f} s/GiB, ratio {srv / raw:.2f})")
        else:
            print(f"bench agent {name} CPU: vigild {cli:.2f} s/GiB, "
                  f"vigil-backupd {srv:.2f} s/GiB (no raw GCM reference given)")
        print(f"bench agent {name} vigild VmHWM: {hwm} KiB "
              f"(reference 512 KiB target, ratio {hwm / 512:.2f}; since start: "
              "start-up and the registration included)")
        print(f"bench agent {name} vigild peak of the timed jobs: {hwm_jobs} KiB "
              f"(reference 512 KiB target, ratio {hwm_jobs / 512:.2f}; VmHWM reset "
              "before the first)")
        print(f"  vigild resident at its highest sample ({self.peak_rss} KiB), by part:")
        for part, kb in sorted(self.peak_parts.items(), key=lambda kv: -kv[1]):
            if kb:
                print(f"    {kb:6} KiB  {part}")
        if self.hot:
            print(f"  the hot block at the start of the text (firmware/agent/hot.ld): "
                  f"{self.hot // 1024} KiB; the text resident beyond it is the "
                  "64 KiB windows the kernel maps around a fault (fault_around_bytes)")


def main(argv):
    gcm = float(argv[1]) if len(argv) > 1 else 0.0
    tmp = tempfile.mkdtemp(prefix="agent_bench.")
    b = Bench(tmp, gcm)
    try:
        b.setup()
        b.mode("tls", f"tls://127.0.0.1:{b.tport}")
        b.mode("tcp", f"tcp://127.0.0.1:{b.pport}")
    except (OSError, RuntimeError, subprocess.SubprocessError) as e:
        print(f"agent_bench: {e}", file=sys.stderr)
        return 1
    finally:
        b.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
