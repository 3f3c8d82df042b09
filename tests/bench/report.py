#!/usr/bin/env python3
"""tests/bench/report.py — make bench: runs every benchmark and writes
docs/benchmarks.md from one run.

    tests/bench/report.py OUT.md BENCH...

Figures, each with the reference measured in the same run and the ratio:
  - vigild's stripped size per board (tests/size.py; reference: the same
    sources linked without LTO, and the board's budget);
  - idle: vigild and libcoap's coap-server-notls side by side for
    BENCH_IDLE_S seconds (default 60), each with one observer of a
    resource (coap-client-notls -s), counting voluntary context switches
    (/proc/PID/status: every wakeup from poll is one) and CPU ticks;
  - idle VmHWM of the same two processes;
  - every line "bench ..." that each benchmark program prints (they
    measure their own references in the same run; their output is kept
    verbatim in the page as well);
  - tests/bench/agent_bench.py last: vigild the daemon backing up 1 GiB
    with five CoAP observers of /status (VmHWM and where it is, CPU per
    GiB of both ends against backup_bench's raw AES-128-GCM rate, tcp and
    tls, medians of 5); its headline figures go into the table;
  - tests/bench/s3_bench.py: vigil-backupd's backup and restore
    throughput with content in S3 (a real radosgw) against local disk.
The page also names the machine (CPU model, cores) and the commit.

Exit status: 1 only when a figure could not be measured (a program that
printed no "bench" line, a process that would not start); never because
of a timing or a verdict.  A benchmark's own non-zero exit is shown.
"""
import os
import re
import socket
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("VIGIL_BIN_DIR", os.path.join(ROOT, "build", "host", "bin"))
SIZE_BOARDS = ("qemu-aarch64", "rpi4", "host", "bbb")
IDLE_S = int(os.environ.get("BENCH_IDLE_S", "60"))


def sh(cmd):
    return subprocess.run(cmd, shell=True, text=True, capture_output=True,
                          cwd=ROOT).stdout.strip()


def machine():
    model = "?"
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    commit = sh("git rev-parse --short=12 HEAD") or "unknown"
    if sh("git status --porcelain --untracked-files=no"):
        commit += "-dirty"
    return model, os.cpu_count(), commit


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_field(pid, name):
    with open(f"/proc/{pid}/status", encoding="utf-8") as f:
        for line in f:
            if line.startswith(name + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {name} for {pid}")


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def wait_udp(port, timeout=5.0):
    """Until something answers a CoAP ping on port (an empty CON)."""
    end = time.monotonic() + timeout
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.2)
        while time.monotonic() < end:
            s.sendto(bytes([0x40, 0, 0x12, 0x34]), ("127.0.0.1", port))
            try:
                s.recvfrom(64)
                return
            except OSError:
                continue
    raise RuntimeError(f"nothing answers on udp {port}")


def idle_pair(tmp):
    """vigild and coap-server-notls, each with one observer, side by side."""
    vport, lport = free_port(), free_port()
    os.makedirs(f"{tmp}/data", exist_ok=True)
    with open(f"{tmp}/vigil.conf", "w", encoding="utf-8") as f:
        f.write(f"data.dir = {tmp}/data\nwatchdog.device = none\n"
                "console.device = none\nlog.syslog = false\n"
                f"coap.listen = 127.0.0.1:{vport}\ncoap.dtls_listen = none\n")
    procs = []
    try:
        vig = subprocess.Popen([f"{BIN}/vigild", "-c", f"{tmp}/vigil.conf"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(vig)
        lib = subprocess.Popen(["coap-server-notls", "-A", "127.0.0.1", "-p", str(lport)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(lib)
        wait_udp(vport)
        wait_udp(lport)
        for port, path in ((vport, "status"), (lport, "time")):
            procs.append(subprocess.Popen(
                ["coap-client-notls", "-s", str(IDLE_S + 30), "-m", "get",
                 f"coap://127.0.0.1:{port}/{path}"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(3)  # registered, first notifications out
        before = {p.pid: (proc_field(p.pid, "voluntary_ctxt_switches"), cpu_ticks(p.pid))
                  for p in (vig, lib)}
        time.sleep(IDLE_S)
        out = {}
        for name, p in (("vigild", vig), ("coap-server", lib)):
            w0, c0 = before[p.pid]
            out[name] = ((proc_field(p.pid, "voluntary_ctxt_switches") - w0) / IDLE_S,
                         cpu_ticks(p.pid) - c0, proc_field(p.pid, "VmHWM"))
        return out
    finally:
        for p in procs:
            p.kill()
            p.wait()


def agent_rows(text):
    """The table rows of agent_bench's headline lines."""
    rows = []
    for m in re.finditer(r"^bench agent (\w+) (vigild|vigil-backupd) CPU: ([0-9.]+) s/GiB "
                         r"\(reference raw AES-128-GCM ([0-9.]+) s/GiB, ratio ([0-9.]+)\)", text, re.M):
        rows.append((f"backup CPU per GiB, {m.group(2)}, {m.group(1)}, 5 observers (median of 5)",
                     f"{m.group(3)} s", f"{m.group(4)} s raw AES-128-GCM", m.group(5)))
    for m in re.finditer(r"^bench agent (\w+) vigild VmHWM: (\d+) KiB", text, re.M):
        rows.append((f"vigild VmHWM, 1 GiB {m.group(1)} backup, 5 observers (since start)", f"{m.group(2)} KiB",
                     "512 KiB target", ratio(int(m.group(2)), 512)))
    for m in re.finditer(r"^bench agent (\w+) vigild peak of the timed jobs: (\d+) KiB", text, re.M):
        rows.append((f"vigild peak RSS of the timed 1 GiB {m.group(1)} backups, 5 observers",
                     f"{m.group(2)} KiB", "512 KiB target", ratio(int(m.group(2)), 512)))
    for m in re.finditer(r"^bench agent (\w+): .*median of \d+: ([0-9.]+) s, ([0-9.]+) MiB/s", text, re.M):
        rows.append((f"backup throughput, {m.group(1)}, 5 observers (median of 5)",
                     f"{m.group(3)} MiB/s", "-", "-"))
    return rows


def ratio(v, r):
    return f"{v / r:.2f}" if r else "-"


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    out_md, benches = argv[1], argv[2:]
    missing = []
    model, cores, commit = machine()
    rows = []

    # sizes
    budgets = {}
    with open(os.path.join(ROOT, "tests", "size-budget.txt"), encoding="utf-8") as f:
        for line in f:
            w = line.split("#", 1)[0].split()
            if len(w) == 2:
                budgets[w[0]] = int(w[1])
    for b in SIZE_BOARDS:
        path = os.path.join(ROOT, "build", b, "bin", "vigild")
        plain = os.path.join(ROOT, "build", b, "nolto", "vigild")
        if not (os.path.exists(path) and os.path.exists(plain)):
            missing.append(f"size {b}")
            continue
        v, p = os.path.getsize(path), os.path.getsize(plain)
        rows.append((f"vigild size, {b} (stripped, LTO)", f"{v} B",
                     f"{p} B without LTO", ratio(v, p)))
        rows.append((f"vigild size, {b}, vs budget", f"{v} B",
                     f"{budgets.get(b, 0)} B budget", ratio(v, budgets.get(b, 0))))

    # idle
    tmp = sh("mktemp -d")
    try:
        idle = idle_pair(tmp)
        vw, vc, vh = idle["vigild"]
        lw, lc, lh = idle["coap-server"]
        rows.append((f"idle wakeups/s, one observer, {IDLE_S} s", f"{vw:.2f}",
                     f"{lw:.2f} coap-server-notls", ratio(vw, lw)))
        rows.append((f"idle CPU ticks in {IDLE_S} s", f"{vc}",
                     f"{lc} coap-server-notls", ratio(vc, lc)))
        rows.append(("idle VmHWM, one observer", f"{vh} kB",
                     f"{lh} kB coap-server-notls", ratio(vh, lh)))
    except (OSError, RuntimeError) as e:
        missing.append(f"idle: {e}")
    finally:
        sh(f"rm -rf {tmp}")

    # the benchmark programs
    outputs = []
    for b in benches:
        name = os.path.basename(b)
        print(f"=== {name}", flush=True)
        r = subprocess.run([b], cwd=ROOT, text=True, capture_output=True,
                           env=dict(os.environ, VIGIL_BIN_DIR=BIN))
        print(r.stdout, end="", flush=True)
        lines = [l for l in r.stdout.splitlines() if l.startswith("bench ")]
        if not lines:
            missing.append(f"{name} (exit {r.returncode}, no figure)")
        outputs.append((name, r.returncode, r.stdout + r.stderr[-2000:]))

    # the daemon with observers, against the raw GCM rate measured above
    gcm = ""
    for _, _, text in outputs:
        m = re.search(r"AES-128-GCM encrypt.*?([0-9.]+)\s*$", text, re.M)
        gcm = m.group(1) if m else gcm
    print("=== agent_bench", flush=True)
    r = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "bench", "agent_bench.py")]
                       + ([gcm] if gcm else []), cwd=ROOT, text=True,
                       capture_output=True, env=dict(os.environ, VIGIL_BIN_DIR=BIN))
    print(r.stdout, end="", flush=True)
    if not gcm:
        missing.append("raw AES-128-GCM rate (backup_bench): no CPU ratio")
    if r.returncode != 0 or "bench agent" not in r.stdout:
        missing.append(f"agent_bench (exit {r.returncode})")
    outputs.append(("agent_bench", r.returncode, r.stdout + r.stderr[-2000:]))
    rows += agent_rows(r.stdout)

    # vigil-backupd's S3 content store against its local one (radosgw)
    print("=== s3_bench", flush=True)
    # Debian's python3: s3_bench uses the integration tests' helpers,
    # which import pytest (python3-pytest); python3 on PATH may be a
    # separate build without Debian's packages
    r = subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "tests", "bench", "s3_bench.py")],
                       cwd=ROOT, text=True, capture_output=True,
                       env=dict(os.environ, VIGIL_BIN_DIR=BIN))
    print(r.stdout, end="", flush=True)
    if r.returncode != 0 or "bench s3" not in r.stdout:
        missing.append(f"s3_bench (exit {r.returncode})")
    outputs.append(("s3_bench", r.returncode, r.stdout + r.stderr[-2000:]))
    for m in re.finditer(r"^bench s3 (\w+) (\d+) MiB .*: S3 store \(radosgw, same host\) "
                         r"([0-9.]+) MiB/s, local disk ([0-9.]+) MiB/s, ratio ([0-9.]+)",
                         r.stdout, re.M):
        rows.append((f"vigil-backupd {m.group(1)} throughput, S3 store (radosgw), "
                     f"{m.group(2)} MiB over tls", f"{m.group(3)} MiB/s",
                     f"{m.group(4)} MiB/s local disk", m.group(5)))

    with open(out_md, "w", encoding="utf-8") as f:
        f.write("# Benchmarks\n\n")
        f.write("Written by `make bench` (tests/bench/report.py) from one run; "
                "do not edit.\n\n")
        f.write(f"- machine: {model}, {cores} cores (shared: other work "
                "ran at the same time, so timings vary between runs)\n")
        f.write(f"- commit: {commit}\n")
        f.write(f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n\n")
        f.write("## Figures measured here\n\n| figure | value | reference (same run) | ratio |\n"
                "|---|---|---|---|\n")
        for r in rows:
            f.write("| " + " | ".join(r) + " |\n")
        f.write("\n## The benchmark programs\n\nEach prints its own figures "
                "against references measured in the same run.\n")
        for name, rc, text in outputs:
            f.write(f"\n### {name} (exit {rc})\n\n```\n{text.rstrip()}\n```\n")
        if missing:
            f.write("\n## Not measured\n\n")
            for m in missing:
                f.write(f"- {m}\n")
    for r in rows:
        print(" | ".join(r))
    if missing:
        print("not measured: " + "; ".join(missing))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
