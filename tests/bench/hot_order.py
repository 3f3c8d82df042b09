#!/usr/bin/env python3
"""tests/bench/hot_order.py — writes firmware/agent/hot.ld, the list of
the functions vigild runs while it backs up (make hot-order; run it again
when the backup, TLS or CoAP paths change much).

    tests/bench/hot_order.py [OUT]

Why: the kernel maps a program's code in 64 KiB windows around each page
fault (fault_around_bytes), so a function that runs maps the 64 KiB around
it.  With the code in link order, the few functions a backup runs are
spread over every window and all of vigild's text stays resident (344 KiB
on x86_64, of which ~186 KiB run in a backup).  hot.ld puts them first and together;
vigild drops its code mapping after start-up and after each job
(hal_mem_drop_code), so only the windows of that hot block come back.

How: per transport (tls://, tcp://), build/host/bin/vigild (the LTO
build and its link map) registers, stops, and starts again under
valgrind --tool=callgrind; what runs until it is running (a first dump)
is start-up; after it: a job with a fresh connection (full handshake),
one after the server closed the idle connection (resumption), one with
the manifest (the unchanged files are not sent), five CoAP observers of /status all along, the health checks'
first state changes (the end of their start period) and a tick after.
Every function with an executed instruction is hot (the link map names
the section each address is in).  Missing a function costs one 64 KiB
window when it runs, never correctness: the list only orders code.
"""
import bisect
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

# the content does not change which code runs: 8 MiB (under callgrind)
os.environ.setdefault("BENCH_AGENT_MIB", "8")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agent_bench as ab  # noqa: E402  (the bench's processes and set-up)

ROOT = ab.ROOT
OUT = os.path.join(ROOT, "firmware", "agent", "hot.ld")
IDLE_CLOSE_MS = 2000


def executed(path):
    """Instruction addresses with a cost in a callgrind --dump-instr file."""
    addrs, last = set(), 0
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if not line or line[0] not in "0123456789+-*":
                continue
            tok = line.split()[0]
            if tok == "*":
                a = last
            elif tok[0] in "+-":
                a = last + int(tok)
            else:
                a = int(tok, 16)
            last = a
            addrs.add(a)
    return addrs


def text_sections(map_path):
    """[(start, end, section, object)] of the .text input sections."""
    secs, pending = [], None
    with open(map_path, encoding="utf-8", errors="replace") as f:
        body = f.read().split("Linker script and memory map", 1)[1]
    for line in body.splitlines():
        m = re.match(r"^ (\.text\S*)\s*$", line)
        if m:
            pending = m.group(1)
            continue
        m = re.match(r"^ (\.text\S*)?\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S+)", line)
        if m and (m.group(1) or pending):
            start, size = int(m.group(2), 16), int(m.group(3), 16)
            if size:
                secs.append((start, start + size, m.group(1) or pending, m.group(4)))
        pending = None
    return sorted(secs)


def patterns(hot):
    """Linker-script input patterns for the hot sections, in address
    order: a function by its name with any suffix GCC adds (.lto_priv.N,
    .constprop.N, ...); musl's assembly files by archive member."""
    out = []
    for start, end, sec, obj in hot:
        if sec == ".text":
            m = re.search(r"\(([^)]+)\)$", obj)
            if m:
                out.append(f"*libc.a:{m.group(1)}(.text)")
            continue
        base = re.match(r"^(\.text\.(?:startup\.|unlikely\.|hot\.)?[A-Za-z0-9_]+)", sec).group(1)
        out.append(f"*({base} {base}.*)")
    return list(dict.fromkeys(out))


class Profile(ab.Bench):
    """agent_bench's set-up; vigild under callgrind once it has registered."""
    profiled = False

    def spawn(self, argv, log):
        if os.path.basename(argv[0]) == "vigild" and self.profiled:
            argv = ["valgrind", "--tool=callgrind", "--dump-instr=yes",
                    f"--callgrind-out-file={self.tmp}/cg.out.%p"] + argv
        if os.path.basename(argv[0]) == "vigil-backupd":
            argv = argv + ["--timeout-ms", str(IDLE_CLOSE_MS)]
        return super().spawn(argv, log)

    def start_agent(self, url):
        """Bench.start_agent with a directory tree beside the big file (a
        walk of directories, and the manifest's skips)."""
        tree = f"{self.tmp}/tree/sub"
        os.makedirs(tree, exist_ok=True)
        for i in range(20):
            with open(f"{tree}/f{i}", "w", encoding="utf-8") as f:
                f.write("x" * (100 * i + 1))

        def spawn(argv, log):
            if os.path.basename(argv[0]) == "vigild":
                conf = argv[-1]
                with open(conf, encoding="utf-8") as f:
                    text = f.read()
                with open(conf, "w", encoding="utf-8") as f:
                    f.write(text.replace("backup.paths = ",
                                         f"backup.paths = {self.tmp}/tree,"))
            return Profile.spawn(self, argv, log)
        self.spawn = spawn              # what Bench.start_agent calls
        try:
            super().start_agent(url)
        finally:
            del self.spawn

    def dump(self, n):
        """Callgrind's dump n (1, 2, ...) of the running vigild."""
        pid = self.agent.pid
        subprocess.run(["callgrind_control", "-d", str(pid)], check=True,
                       capture_output=True)
        path = f"{self.tmp}/cg.out.{pid}.{n}"
        ab.wait_for(lambda: os.path.exists(path), "callgrind's dump", 60)
        return path

    def stop_agent(self):
        for p in self.procs[-ab.OBSERVERS - 1:]:
            p.kill()
            p.wait()

    def run_mode(self, url):
        """The path of the dump that holds the steady state."""
        self.start_agent(url)
        self.job(False)                     # registration: cold, not profiled
        self.stop_agent()
        self.profiled = True                # a new process: full handshake
        self.start_agent(url)
        self.dump(1)                        # start-up: cold
        self.job(False)
        time.sleep(IDLE_CLOSE_MS / 1000 * 2)   # the server closes the idle link
        self.job(False)                     # resumption
        self.jobs += 1                      # with the manifest job() deletes
        subprocess.run([f"{ab.BIN}/vigilctl", "backup",
                        f"coap://127.0.0.1:{self.cport}", "now"],
                       check=True, capture_output=True, timeout=30)
        ab.wait_for(lambda: re.search(rf"job {self.jobs} (done|failed)",
                                      ab.read(self.log)), "the manifest job", 600)
        # the health checks' start period ends: their first state changes
        # (log, status, notifications), then a tick of each
        ab.wait_for(lambda: re.search(r"health: \w+: starting ->", ab.read(self.log)),
                    "the health checks' first results", 180)
        time.sleep(35)
        path = self.dump(2)
        self.stop_agent()
        return path


def write_ld(out, hot, total):
    hot_bytes = sum(e - s for s, e, _, _ in hot)
    with open(out, "w", encoding="utf-8") as f:
        f.write(f"""/*
 * firmware/agent/hot.ld — written by tests/bench/hot_order.py; do not edit.
 *
 * The functions vigild runs during backups with CoAP observers (measured
 * under callgrind on x86_64: {len(hot)} of the link's text sections,
 * {hot_bytes} of {total} bytes), first and together, so that the 64 KiB
 * windows the kernel maps around a code fault hold hot code (vigild drops
 * its code mapping after start-up and after each job: hal_mem_drop_code).
 * Only order: a function missing here runs as well, from the rest of
 * .text.  Added to the default linker script (INSERT), vigild only.
 */
SECTIONS
{{
  .text.hot : {{
""")
        for p in patterns(hot):
            f.write(f"    {p}\n")
        f.write("  }\n}\nINSERT BEFORE .text;\n")


def main(argv):
    out = argv[1] if len(argv) > 1 else OUT
    addrs = set()
    orig = ab.wait_for
    ab.wait_for = lambda c, w, timeout=20.0: orig(c, w, max(timeout, 120.0))
    for mode in ("tls", "tcp"):
        tmp = tempfile.mkdtemp(prefix="hot_order.")
        p = Profile(tmp, 0)
        try:
            p.setup()
            addrs |= executed(p.run_mode(f"tls://127.0.0.1:{p.tport}" if mode == "tls"
                                         else f"tcp://127.0.0.1:{p.pport}"))
        finally:
            p.stop()
            shutil.rmtree(tmp, ignore_errors=True)
    ab.wait_for = orig
    secs = text_sections(os.path.join(ab.BIN, "vigild.map"))
    starts = [s[0] for s in secs]
    hot = set()
    for a in addrs:
        i = bisect.bisect_right(starts, a) - 1
        if i >= 0 and secs[i][0] <= a < secs[i][1]:
            hot.add(secs[i])
    hot = sorted(hot)
    write_ld(out, hot, sum(e - s for s, e, _, _ in secs))
    print(f"hot_order: {len(hot)} hot sections, "
          f"{sum(e - s for s, e, _, _ in hot)} B -> {out}")
    return 0 if hot else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
