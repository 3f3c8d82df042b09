#!/usr/bin/env python3
"""Figures of the last campaign run (tests/campaign/ledger.py's runs.jsonl)
as a Markdown table.  With --write FILE the table replaces what stands
between the campaign markers in FILE (docs/reliability.md); without it
the table goes to stdout.

    report.py [--ledger runs.jsonl] [--write docs/reliability.md]
              [--duration SECONDS] [--fuzz build/fuzz/long]
              [--power-cuts build/e2e/power-cuts.jsonl]"""
import argparse
import datetime
import os
import pathlib
import re
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ledger  # noqa: E402

BEGIN = "<!-- campaign figures: written by tests/campaign/report.py -->"
END = "<!-- end of campaign figures -->"

FAULT = {
    "cut_tls_resume": "tls:// (vigil/2 resume): the first 1-10 connections cut at random offsets",
    "cut_plain": "tcp:// plain v3: the first 1-2 connections cut at random offsets",
    "corrupt_tls": "one byte flipped at a random offset inside TLS (either direction)",
    "corrupt_plain": "one byte flipped at a random offset of plain v3 (either direction)",
    "blackhole": "the first connection goes silent at a random offset: the proxy stops "
                 "reading (window closes) or drops all it reads; I/O timeout 1 s",
    "server_restart": "vigil-backupd kill -9 at a random size of its temp file, down 0-2.5 s",
    "partition": "nftables drops the agent's TLS port in a netns for 2-4 s (full: 5-30 s)",
    "disk_full": "the server's tmpfs filled to leave less than the file, then freed",
    "agent_kill_writes": "vigild kill -9 0-400 ms after start, 12 (full: 40) times per run, "
                         "during boot record / config save / me.info writes",
    "clock": "the agent's CLOCK_MONOTONIC (time namespace) crosses {} 2 s into the run; "
             "jobs every 1 s",
    "clock just booted": "the agent's CLOCK_MONOTONIC (time namespace) reads ~2 s at start "
                         "(a fresh boot); jobs every 1 s",
    "wall_jumps": "the agent's CLOCK_REALTIME (test clock offset) jumps +1 d, back, -1 d, "
                  "-10 y, +20 y, back, while it backs up every 1 s (plain v3)",
    "wall_tls": "the agent starts with its CLOCK_REALTIME before the certificates' notBefore "
                "(-1 d, -10 y) or after their notAfter (+20 y), then it is set right (TLS)",
    "wall_window": "the agent's CLOCK_REALTIME jumps out of an open backup.window (local time "
                   "+05:30) and back in, jobs every 1 s",
    "coap_flood": "20,000 CoAP requests/s (NON GET /health, 64 source ports) at the agent "
                  "during a backup, 4 s (full: 60 s)",
    "dtls_flood": "20,000 DTLS ClientHellos/s without a cookie at the agent's DTLS port "
                  "during a backup, 4 s (full: 60 s)",
    "load": "{}: `vigild backup` processes at once against one vigil-backupd (plain v3), "
            "each its own identity and file",
}


def fault_of(scenario):
    if scenario in FAULT:
        return FAULT[scenario]
    head, _, rest = scenario.partition(" ")
    return FAULT.get(head, "").format(rest)


def git_rev():
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, cwd=ledger.ROOT, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def rows(runs):
    by = {}
    for r in runs:
        by.setdefault(r["scenario"], []).append(r)
    out = []
    for name in sorted(by, key=lambda n: (list(FAULT).index(n.split()[0])
                                          if n.split()[0] in FAULT else 99, n)):
        rs = by[name]
        rec = [r["recovery_s"] for r in rs if r.get("recovery_s") is not None]
        out.append({
            "scenario": name, "fault": fault_of(name), "runs": len(rs),
            "failures": sum(1 for r in rs if not r["ok"]),
            "lost": sum(r.get("lost", 0) for r in rs),
            "max_recovery": max(rec) if rec else None,
            "median_recovery": statistics.median(rec) if rec else None,
            "seeds": [r["seed"] for r in rs if not r["ok"]],
            "note": note(name, rs),
        })
    return out


POWER_CUTS = ledger.ROOT / "build/e2e/power-cuts.jsonl"


def power_cut_row(path):
    """The qemu power cuts (tests/e2e/test_power_cut_x86_64.py) as a row,
    or None when they have not run."""
    lines = ledger.load(path) if pathlib.Path(path).exists() else []
    cuts = [c for c in lines if "cut" in c]
    final = [c for c in lines if c.get("final")]
    if not cuts:
        return None
    by = {}
    for c in cuts:
        by[c["phase"]] = by.get(c["phase"], 0) + 1
    ident = [c["cut"] for c in cuts if c["identity"]]
    f = final[0] if final else {}
    note = ("cuts: " + ", ".join(f"{n} {p}" for p, n in sorted(by.items())) +
            f"; e2fsck preened {sum(1 for c in cuts if c['fsck'] == 1)} times; "
            + (f"me.info on disk from cut {ident[0]} on, never changed" if ident
               else "me.info written only after the cuts")
            + (f"; {f['clients']} client on the server at the end" if f else
               "; the run did not finish"))
    boot = f.get("boot_s")
    return {"scenario": "power_cut_qemu", "runs": len(cuts),
            "fault": "qemu-x86_64 killed (SIGKILL) 0-12 s after init starts vigild, which "
                     "backs up every 1 s (boot.state, me.info, manifest writes); booted again "
                     "from the same disk",
            "failures": sum(1 for c in cuts if not c["ok"]) + (0 if f.get("ok", False) else 1),
            "lost": 0, "max_recovery": boot, "median_recovery": boot,
            "seeds": [], "note": note + (f"; power-on to prompt {boot} s after the last"
                                         if boot else "")}


def fuzz_rows(fuzz_dir):
    """(target, execs, seconds, crashes) from `make fuzz-long` logs."""
    out = []
    if not fuzz_dir or not pathlib.Path(fuzz_dir).is_dir():
        return out
    for log in sorted(pathlib.Path(fuzz_dir).glob("*.log")):
        text = log.read_text(errors="replace")
        execs = re.findall(r"stat::number_of_executed_units:\s*(\d+)", text)
        secs = re.findall(r"stat::total_time_s?:?\s*(\d+)", text) or \
            re.findall(r"Done \d+ runs in (\d+) second", text)
        # one artifact per crash, leak, timeout or out-of-memory (a crash's
        # report names it twice: the sanitizer's SUMMARY and libFuzzer's)
        # (a build whose UBSan only printed: its distinct reports count)
        crashes = len(re.findall(r"Test unit written to", text)) or \
            len(set(re.findall(r"(\S+:\d+:\d+): runtime error", text)))
        out.append((log.stem, int(execs[-1]) if execs else 0,
                    int(secs[-1]) if secs else None, crashes))
    return out


def note(name, rs):
    """What the faults of a scenario's runs actually did."""
    ok = [r for r in rs if r["ok"]]
    s = lambda k: sum(r.get(k) or 0 for r in rs)  # noqa: E731
    head = name.split()[0]
    if head.startswith("cut"):
        return f"{s('cuts')} cuts made over {s('conns')} connections"
    if head.startswith("corrupt"):
        flipped = s("flipped")
        crc = sum(1 for r in rs if r.get("crc_path"))
        return f"{flipped} of {len(rs)} runs flipped a byte" + \
            (f", {crc} caught by the cksum (1030)" if head == "corrupt_plain" else "")
    if head == "blackhole":
        return f"{s('silenced')} of {len(rs)} runs went silent " \
            f"({sum(1 for r in rs if r.get('kind') == 'stall')} stalls)"
    if head == "server_restart":
        return f"down {min(r.get('down_s', 0) for r in rs):.1f}-" \
            f"{max(r.get('down_s', 0) for r in rs):.1f} s"
    if head == "partition":
        return f"partitions of {min(r.get('partition_s', 0) for r in rs):.1f}-" \
            f"{max(r.get('partition_s', 0) for r in rs):.1f} s"
    if head == "disk_full":
        failed = sum(1 for r in rs if " failed" in (r.get("first_job") or ""))
        return f"the job on the full disk failed cleanly in {failed} of {len(rs)} runs"
    if head == "agent_kill_writes":
        return f"{s('kills')} kill -9s; identity written in " \
            f"{sum(1 for r in rs if r.get('identity_written'))} runs"
    if head == "clock":
        return f"{s('jobs_after')} jobs after the crossing"
    if head == "wall_jumps":
        return f"{6 * len(rs)} jumps, {s('jobs')} jobs; the clock check changed state " \
            f"{s('clock_changes')} times (a wall clock before the build date: degraded)"
    if head == "wall_tls":
        return f"{s('clean_failures')} of {3 * len(rs)} starts with the clock wrong failed " \
            "with the reason, none sent a file; max recovery: clock set right to a job done"
    if head == "wall_window":
        return f"{4 * len(rs)} jumps; outside the window no job started and the next " \
            "opening was told from the new clock"
    if head in ("coap_flood", "dtls_flood") and ok:
        sent = s("sent")
        grow = max(r["rss_kib"][1] - r["rss_kib"][0] for r in ok)
        return (f"{sent:,} requests at {min(r['rate'] for r in ok):,}-"
                f"{max(r['rate'] for r in ok):,}/s, {s('answered') / max(sent, 1):.0%} answered; "
                f"VmRSS growth at most {grow} KiB; first coap-client answer after the flood "
                f"within {max(r['answer_after_s'] for r in ok):.3f} s"
                + (f"; {s('verify_requests'):,} HelloVerifyRequests, a PSK handshake during "
                   f"the flood within {max(r['answer_during_s'] for r in ok):.2f} s"
                   if head == "dtls_flood" else ""))
    if head == "load" and ok:
        r = max(ok, key=lambda r: r.get("server_hwm_kib", 0))
        return (f"{r['agents']} agents, {r['mib']} MiB in {r['wall_s']} s; vigil-backupd "
                f"VmHWM {r['server_hwm_kib'] / 1024:.1f} MiB, {r['cpu_s_per_gib']} CPU s/GiB")
    return ""


def fmt_s(v):
    return "—" if v is None else f"{v:.2f} s"


def extra_lines(extras):
    """One line per other ledger (the campaign against ASan builds, under
    valgrind), if it exists."""
    out = []
    for name, path in extras:
        p = pathlib.Path(path)
        runs = ledger.load(p)
        if not runs:
            continue
        when = datetime.datetime.fromtimestamp(p.stat().st_mtime).date().isoformat()
        scen = len({r["scenario"] for r in runs})
        fails = [r for r in runs if not r["ok"]]
        out.append(f"- {name} ({when}, short form): {len(runs)} runs of {scen} scenarios, "
                   f"{len(fails)} failures, {sum(r.get('lost', 0) for r in runs)} files lost"
                   + ("" if not fails else "; " + "; ".join(
                       f"{r['scenario']} seed {r['seed']}: {r['violations'][0].splitlines()[0][:150]}"
                       for r in fails[:3])))
    return out


def table(runs, duration=None, fuzz_dir=None, extras=(), power_cuts=POWER_CUTS):
    full = any(r.get("full") for r in runs)
    lines = [BEGIN, "",
             f"Last run: {datetime.date.today().isoformat()}, commit {git_rev()}, "
             f"{'full campaign (`make soak`)' if full else 'short campaign (`make check`)'}"
             + (f", {duration / 60:.1f} min" if duration else "") + ".",
             "",
             "| scenario | fault | runs | failures | data lost | max recovery | median "
             "| what the faults did |",
             "|---|---|---|---|---|---|---|---|"]
    total = {"runs": 0, "failures": 0, "lost": 0}
    pc = power_cut_row(power_cuts)
    for r in rows(runs) + ([pc] if pc else []):
        lines.append(f"| {r['scenario']} | {r['fault']} | {r['runs']} | {r['failures']} | "
                     f"{r['lost']} | {fmt_s(r['max_recovery'])} | "
                     f"{fmt_s(r['median_recovery'])} | {r['note']} |")
        for k in total:
            total[k] += r[k]
    lines.append(f"| **all** | | **{total['runs']}** | **{total['failures']}** | "
                 f"**{total['lost']}** | | | |")
    failed = [r for r in runs if not r["ok"]]
    if failed:
        lines += ["", "Runs that broke the invariant (replay with "
                  "`VIGIL_CAMPAIGN_SEED=<seed> VIGIL_CAMPAIGN_RUNS=1`):", ""]
        lines += [f"- {r['scenario']} seed {r['seed']}: "
                  + "; ".join(v.splitlines()[0][:200] for v in r["violations"][:3])
                  + (f" (and {len(r['violations']) - 3} more)" if len(r["violations"]) > 3 else "")
                  for r in failed]
    ex = extra_lines(extras)
    if ex:
        lines += ["", "The same scenarios against vigild and vigil-backupd built with "
                  "ASan + UBSan (`make campaign VIGIL_BIN=asan`) and under valgrind's memcheck "
                  "(`VIGIL_BIN=valgrind`); any report fails the run:", ""] + ex
    fz = fuzz_rows(fuzz_dir)
    if fz:
        lines += ["", "| fuzz target | execs | seconds | crashes |", "|---|---|---|---|"]
        lines += [f"| `{n}` | {e:,} | {s if s is not None else '—'} | {c} |"
                  for n, e, s, c in fz]
    lines += ["", END]
    return "\n".join(lines)


def write(path, text):
    doc = pathlib.Path(path).read_text()
    if BEGIN in doc and END in doc:
        doc = doc[:doc.index(BEGIN)] + text + doc[doc.index(END) + len(END):]
    else:
        doc = doc.rstrip("\n") + "\n\n" + text + "\n"
    pathlib.Path(path).write_text(doc)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ledger")
    ap.add_argument("--write")
    ap.add_argument("--duration", type=float)
    ap.add_argument("--fuzz")
    ap.add_argument("--power-cuts", default=str(POWER_CUTS),
                    help="the qemu power cuts' ledger (tests/e2e/test_power_cut_x86_64.py)")
    ap.add_argument("--extra", action="append", default=[],
                    help="NAME=LEDGER: a one-line summary of another campaign run")
    a = ap.parse_args()
    runs = ledger.load(a.ledger)
    if not runs:
        print(f"no campaign runs in {a.ledger or ledger.path()}", file=sys.stderr)
        return 1
    text = table(runs, a.duration, a.fuzz, [x.split("=", 1) for x in a.extra], a.power_cuts)
    if a.write:
        write(a.write, text)
        print(f"wrote {a.write}")
    print(text)
    return 0 if all(r["ok"] for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
