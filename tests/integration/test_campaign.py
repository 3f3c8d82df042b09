"""The reliability campaign (issue 19, docs/reliability.md "Campaign"):
each scenario runs several times with random seeds, each run injects its
fault with the tools of tests/campaign/faults.py into a real vigild agent
and a real vigil-backupd, and after every run the invariant
(tests/campaign/invariant.py) is checked: every file the agent reported
as sent is stored with the same sha256, no partial file was ever
visible, the agent ends healthy without a restart, another client was
served throughout.  Each run is recorded (tests/campaign/ledger.py) and a
scenario fails if any of its runs broke the invariant, listing the
seeds.

`make check` runs the short form (VIGIL_CAMPAIGN=short: a few runs of
each, 4 MiB files); `make soak` the full one (VIGIL_CAMPAIGN=full: 50 MiB,
many runs) and writes the figures into docs/reliability.md.  A failing
run is replayed with VIGIL_CAMPAIGN_SEED=<seed> VIGIL_CAMPAIGN_RUNS=1."""
import datetime
import json
import os
import pathlib
import random
import re
import shutil
import socket
import subprocess
import sys
import time

import cbor2

import pytest

from netutil import free_port

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "campaign"))
import faults  # noqa: E402
import ledger  # noqa: E402
from faults import Fault, FaultProxy  # noqa: E402
from rig import Rig  # noqa: E402

FULL = os.environ.get("VIGIL_CAMPAIGN", "short") == "full"
SIZE = (50 if FULL else 4) << 20
# runs per scenario: (short, full)
RUNS = {
    "cut_tls_resume": (2, 100), "cut_plain": (2, 20),
    "corrupt_tls": (2, 20), "corrupt_plain": (2, 20), "blackhole": (2, 20),
    "server_restart": (2, 20), "partition": (1, 8),
    "disk_full": (2, 20), "agent_kill_writes": (1, 8), "clock": (1, 3), "load": (1, 2),
    "wall_jumps": (1, 5), "wall_tls": (1, 5), "wall_window": (1, 5),
    "coap_flood": (1, 1), "dtls_flood": (1, 1),
}


def runs(scenario):
    n = os.environ.get("VIGIL_CAMPAIGN_RUNS")
    return int(n) if n else RUNS[scenario.split()[0]][FULL]


def campaign(scenario, tmp_path, body):
    """Runs body(rig-less tmp dir, seed) runs(scenario) times; records
    each run; fails listing the runs that broke the invariant."""
    base = int(os.environ.get("VIGIL_CAMPAIGN_SEED", random.randrange(1 << 31)))
    failed = []
    for i in range(runs(scenario)):
        seed = base + i
        t = tmp_path / f"run{i}"
        t.mkdir()
        t0 = time.monotonic()
        info = {}
        try:
            bad, lost = body(t, seed, info)
        except Exception as e:  # a run that could not finish is a failure
            bad, lost = [f"{type(e).__name__}: {e}"], info.get("lost", 0)
        ledger.record(scenario=scenario, seed=seed, ok=not bad, lost=lost,
                      seconds=round(time.monotonic() - t0, 3),
                      recovery_s=info.get("recovery_s"), full=FULL,
                      violations=[str(b)[:2000] for b in bad[:20]],
                      **{k: v for k, v in info.items() if k not in ("recovery_s", "lost")})
        if bad:
            failed.append((seed, bad))
        else:
            shutil.rmtree(t, ignore_errors=True)
    assert not failed, f"{scenario}: {len(failed)} of {runs(scenario)} runs broke " \
        "the invariant (replay: VIGIL_CAMPAIGN_SEED=<seed> VIGIL_CAMPAIGN_RUNS=1):\n" + \
        "\n".join(f"seed {s}: " + "\n  ".join(str(v)[:1500] for v in b[:5])
                  + (f"\n  ... and {len(b) - 5} more" if len(b) > 5 else "")
                  for s, b in failed)


def rate_for(seconds):
    """backup.max_rate that makes the big file take about `seconds`: the
    fault then lands inside the transfer even on an idle machine."""
    return f"backup.max_rate = {int(SIZE / seconds)}\n"


# ---- connection cut at random offsets --------------------------------------------

@pytest.mark.parametrize("transport", ["tls", "tcp"])
def test_cut_at_random_offsets(transport, pki, tmp_path):
    """The first k connections are cut at random byte offsets (over tls://,
    vigil/2 resumes: up to 10 cuts; plain v3 resends the file: up to 2,
    within its 3 attempts).  One job finishes with every file."""
    scenario = "cut_tls_resume" if transport == "tls" else "cut_plain"

    def body(t, seed, info):
        rig = Rig(t, seed, pki, SIZE, transport)
        proxy = None
        try:
            rig.start_server()
            k = rig.rng.randint(1, 10 if transport == "tls" else 2)
            plan = [Fault(cut_at=("up", rig.rng.randint(1, SIZE // k))) for _ in range(k)]
            proxy = FaultProxy(("127.0.0.1", rig.server_port()), plan)
            rig.watch_start()
            rig.start_agent(rig.agent_url(proxy.port), "backup.timeout = 3\n")
            rig.agent.cmd("backup now")
            _, done = rig.wait_done(timeout=120)
            info.update(cuts=proxy.cuts, conns=len(proxy.conns),
                        recovery_s=round(done - proxy.last_fault_at, 3)
                        if proxy.last_fault_at else 0.0)
            return rig.check()
        finally:
            if proxy:
                proxy.close()
            rig.close()
    campaign(scenario, tmp_path, body)


# ---- one corrupted byte ----------------------------------------------------------

@pytest.mark.parametrize("transport", ["tls", "tcp"])
def test_one_corrupted_byte(transport, pki, tmp_path):
    """One byte of the first connection is flipped, at a random offset of
    either direction.  Over TLS the record fails its authentication and
    the connection ends (retried); over plain v3 a flip in the file data
    is caught by the cksum (1603 differs: 1030 and the file again), a
    flip in a header by the server's checks.  The job still finishes and
    nothing wrong is ever stored."""
    scenario = f"corrupt_{'tls' if transport == 'tls' else 'plain'}"

    def body(t, seed, info):
        rig = Rig(t, seed, pki, SIZE, transport)
        proxy = None
        try:
            rig.start_server()
            if rig.rng.random() < 0.75:
                at = ("up", rig.rng.randint(0, SIZE))
            else:
                at = ("down", rig.rng.randint(0, 2500 if transport == "tls" else 200))
            proxy = FaultProxy(("127.0.0.1", rig.server_port()),
                               [Fault(corrupt_at=at, mask=rig.rng.randint(1, 255))])
            rig.watch_start()
            rig.start_agent(rig.agent_url(proxy.port))
            rig.agent.cmd("backup now")
            _, done = rig.wait_done(timeout=60)
            info.update(at=at, flipped=proxy.corrupted, conns=len(proxy.conns),
                        recovery_s=round(done - proxy.last_fault_at, 3)
                        if proxy.last_fault_at else 0.0)
            bad, lost = rig.check()
            if proxy.corrupted and transport == "tls" and at[0] == "up" and \
                    at[1] < proxy.conns[0].count["up"] - 64 and len(proxy.conns) < 2:
                bad.append("a corrupted TLS record was accepted (no new connection)")
            if transport == "tcp" and proxy.corrupted:
                info["crc_path"] = "cksum mismatch" in rig.agent.log()
            return bad, lost
        finally:
            if proxy:
                proxy.close()
            rig.close()
    campaign(scenario, tmp_path, body)


# ---- a peer that goes silent ------------------------------------------------------------

def test_blackhole_mid_transfer(pki, tmp_path):
    """At a random offset of the upload the first connection goes silent:
    either the proxy stops reading (the agent's window closes and its
    writes block, as behind a stuck server or a link that drops every
    packet) or it reads and drops everything (the agent's bytes vanish
    and no reply comes).  The agent's I/O timeout (1 s here) ends the
    connection and the job finishes on the next one."""

    def body(t, seed, info):
        rig = Rig(t, seed, pki, SIZE, "tls" if seed % 2 else "tcp")
        proxy = None
        try:
            rig.start_server()
            at = ("up", rig.rng.randint(1, SIZE))
            kind = rig.rng.choice(["stall", "hole"])
            proxy = FaultProxy(("127.0.0.1", rig.server_port()),
                               [Fault(**{f"{kind}_at": at})])
            rig.watch_start()
            rig.start_agent(rig.agent_url(proxy.port), "backup.timeout = 1\n")
            rig.agent.cmd("backup now")
            info.update(kind=kind, at=at, transport=rig.transport)
            _, done = rig.wait_done(timeout=60)
            info.update(silenced=proxy.stalls + proxy.holes, conns=len(proxy.conns),
                        recovery_s=round(done - proxy.last_fault_at, 3)
                        if proxy.last_fault_at else 0.0)
            return rig.check()
        finally:
            if proxy:
                proxy.close()
            rig.close()
    campaign("blackhole", tmp_path, body)


# ---- server restart mid-transfer ---------------------------------------------------

def test_server_killed_and_restarted(pki, tmp_path):
    """vigil-backupd gets kill -9 when its temp file reaches a random size,
    stays down for a random 0-2.5 s and comes back on the same ports.
    The job retries (or fails and the schedule's next job runs): a job
    finishes with every file, and the stored files are whole."""

    def body(t, seed, info):
        transport = "tls" if seed % 2 else "tcp"
        rig = Rig(t, seed, pki, SIZE, transport)
        try:
            plain, tls = free_port(), free_port()
            rig.start_server(f"127.0.0.1:{plain}", f"127.0.0.1:{tls}")
            rig.watch_start()
            port = plain if transport == "tcp" else tls
            rig.start_agent(rig.agent_url(port), rate_for(1.0) + "backup.interval = 2\n")
            rig.agent.cmd("backup now")
            at = rig.rng.randint(64 << 10, SIZE * 9 // 10)
            rig.down()
            faults.kill9_when(rig.server.proc,
                              faults.file_size_at_least(rig.data / ".tmp", at),
                              timeout=30, what=f"a temp file of {at} bytes")
            pause = rig.rng.uniform(0, 2.5)
            time.sleep(pause)           # the fault's length, not a wait for an event
            mark = len(rig.agent.log())
            rig.start_server(f"127.0.0.1:{plain}", f"127.0.0.1:{tls}")
            back = time.monotonic()
            rig.up()
            _, done = rig.wait_done(timeout=60, mark=mark)
            info.update(transport=transport, killed_at=at, down_s=round(pause, 3),
                        recovery_s=round(done - back, 3))
            return rig.check()
        finally:
            rig.close()
    campaign("server_restart", tmp_path, body)


# ---- partition, then heal --------------------------------------------------------

def test_partition_then_heal(pki, tmp_path):
    """In a network namespace of the test's own, nftables drops every
    segment of the agent's TLS connection (port) for a random time while
    a file is on its way (the issue's 5 minutes compressed: 2 s I/O
    timeout, 1 s retry cap, a job every 3 s).  Another client on the
    server's plain port is served all along.  After the heal a job
    finishes with every file."""

    def body(t, seed, info):
        ns = faults.NetNs()
        rig = Rig(t, seed, pki, SIZE, "tls")
        try:
            rig.server_prefix = (*ns.prefix, *rig.server_prefix)
            rig.agent_prefix = (*ns.prefix, *rig.agent_prefix)
            rig.start_server("127.0.0.1:1256", "127.0.0.1:1257")
            rig.watch_start(prober_prefix=ns.prefix)
            rig.start_agent(rig.agent_url(1257), rate_for(2.0) + "backup.interval = 3\n")
            rig.agent.cmd("backup now")
            faults.wait_until(lambda: "job 1: sent" in rig.agent.log() or
                              rig.data_view.joinpath(".tmp").exists() and
                              any(rig.data_view.joinpath(".tmp").iterdir()),
                              30, what="the transfer to start")
            time.sleep(rig.rng.uniform(0, 1.0))     # a random point of it
            ns.partition(1257)
            held = rig.rng.uniform(2, 4) if not FULL else rig.rng.uniform(5, 30)
            time.sleep(held)                        # the partition's length
            mark = len(rig.agent.log())
            ns.heal()
            healed = time.monotonic()
            _, done = rig.wait_done(timeout=60, mark=mark)
            info.update(partition_s=round(held, 3), recovery_s=round(done - healed, 3))
            return rig.check()
        finally:
            rig.close()
            ns.close()
    campaign("partition", tmp_path, body)


# ---- the server's disk full, then freed ---------------------------------------------

def test_server_disk_full_then_freed(pki, tmp_path):
    """vigil-backupd's data on a tmpfs (private mount namespace) filled
    to leave less than the big file: the job fails cleanly (nothing
    partial stored, the server keeps running); the space is freed and
    the schedule's next job finishes."""

    def body(t, seed, info):
        mnt = t / "data"
        ns = faults.TmpfsNs(mnt, SIZE * 3 + (16 << 20))
        rig = Rig(t, seed, pki, SIZE, "tls" if seed % 2 else "tcp")
        try:
            rig.server_prefix = (*ns.prefix, *rig.server_prefix)
            rig.data, rig.data_view = mnt, pathlib.Path(ns.root)
            rig.start_server()
            rig.watch_start()
            leave = rig.rng.randint(0, SIZE // 2)
            ns.fill(leave)
            rig.down()
            rig.start_agent(rig.agent_url(rig.server_port()), "backup.interval = 2\n")
            rig.agent.cmd("backup now")
            faults.wait_until(lambda: re.search(r"job \d+ (failed|done)", rig.agent.log()),
                              60, step=0.05, what="the first job to end")
            mark = len(rig.agent.log())
            ns.unfill()
            freed = time.monotonic()
            rig.up()
            _, done = rig.wait_done(timeout=60, mark=mark)
            first = re.search(r"job \d+ (failed|done)[^\n]*", rig.agent.log()).group(0)
            info.update(left_free=leave, first_job=first[:200],
                        recovery_s=round(done - freed, 3))
            return rig.check()
        finally:
            rig.close()
            ns.close()
    campaign("disk_full", tmp_path, body)


# ---- the agent killed while it writes its state -----------------------------------------

ME_INFO = re.compile(r"\A[A-Za-z0-9._-]+\r?\n[0-9a-f]{32}\r?\n[A-Za-z0-9+/=\r\n]+\Z")
START = re.compile(r"boot: start (\d+), last reset: (\w+)")


def test_agent_killed_during_state_writes(pki, tmp_path):
    """vigild gets kill -9 at a random moment 0-400 ms after it starts,
    again and again, while it writes its boot record (at start), its
    configuration (`config save`) and, on the first backup, its identity
    (me.info).  After every kill: me.info is absent (never written) or
    complete, and once written it never changes; the boot count goes on
    (no "unreadable"); the saved configuration still loads.  Finally a
    backup over the same identity finishes."""

    def body(t, seed, info):
        rig = Rig(t, seed, pki, SIZE // 8, "tls" if seed % 2 else "tcp")
        me = t / "agentdata" / "me.info"
        try:
            rig.start_server()
            rig.watch_start()
            url = rig.agent_url(rig.server_port())
            identity, boots, kills = None, 0, 0
            for k in range(12 if not FULL else 40):
                rig.start_agent(url)
                rig.agent.send("config save\rbackup now\r")
                time.sleep(rig.rng.uniform(0, 0.4))        # the random kill point
                faults.kill9(rig.agent.proc)
                kills += 1
                log = rig.agent.log()
                rig.agent.close()
                assert "unreadable" not in log, log
                m = START.findall(log)
                assert len(m) == 1, log
                n, reset = int(m[0][0]), m[0][1]
                assert n in (boots, boots + 1) and (n == 1 or reset == "crash"), (boots, m, log)
                boots = n
                if me.exists():
                    text = me.read_text()
                    assert ME_INFO.match(text), f"me.info torn: {text!r}"
                    assert identity in (None, text), "me.info changed"
                    identity = text
                elif identity is not None:
                    raise AssertionError("me.info lost after it was written")
            rig.start_agent(url)
            started = time.monotonic()
            rig.agent.cmd("backup now")
            _, done = rig.wait_done(timeout=60)
            assert rig.agent.proc.poll() is None
            info.update(kills=kills, boots=boots, identity_written=identity is not None,
                        recovery_s=round(done - started, 3))
            bad, lost = rig.check()
            if len(rig.agent_clients()) != 1:
                bad.append(f"the agent's clients on the server: {rig.agent_clients()}")
            return bad, lost
        finally:
            rig.close()
    campaign("agent_kill_writes", tmp_path, body)


# ---- CLOCK_MONOTONIC at unusual values ----------------------------------------------------

# (name, monotonic seconds a few seconds after the agent starts)
CROSSINGS = [("2^31 ms", 2 ** 31 / 1000), ("2^32 ms", 2 ** 32 / 1000),
             ("2^32 us", 2 ** 32 / 1e6), ("2^31 s", 2 ** 31), ("just booted", None)]


@pytest.mark.parametrize("crossing", [c[0] for c in CROSSINGS])
def test_monotonic_clock_crossings(crossing, pki, tmp_path):
    """The agent runs in a time namespace whose CLOCK_MONOTONIC crosses a
    width boundary (2^31 or 2^32 milliseconds, 2^32 microseconds, 2^31
    seconds) 2 s after it starts, or reads about 2 s (a fresh boot).
    Scheduled backups (every second), the health checks and the console
    go on across the crossing: two jobs finish after it."""
    at = dict(CROSSINGS)[crossing]

    def body(t, seed, info):
        rig = Rig(t, seed, pki, SIZE // 16, "tcp")
        try:
            rig.start_server()
            rig.watch_start()
            now = faults.monotonic_now()
            offset = (at + 2 - now) if at is not None else -(now - 2)
            rig.agent_prefix = (*faults.timens_prefix(offset), *rig.agent_prefix)
            rig.start_agent(rig.agent_url(rig.server_port()), "backup.interval = 1\n")
            crossed = time.monotonic() + 2
            faults.wait_until(lambda: time.monotonic() > crossed, 10, step=0.1,
                              what="the crossing")
            mark = len(rig.agent.log())
            job = 0
            for _ in range(2):
                job, _ = rig.wait_done(after_job=job, timeout=30, mark=mark)
            up = rig.agent.cmd("uptime")
            info.update(offset_s=round(offset), jobs_after=job, uptime=up.strip()[-80:])
            return rig.check()
        finally:
            rig.close()
    # each crossing is its own scenario in the figures
    campaign(f"clock {crossing}", tmp_path, body)


# ---- CLOCK_REALTIME jumps (the host vigild's test wall-clock offset) ------------------

DAY, YEAR = 86400, 365 * 86400
# the jumps, in the order of a run: each step sets the agent's wall clock
# to the real one plus the offset (s); the test certificates are valid
# from their making for 10 years (tests/toolchain/make-certs.sh), so -1 d
# and -10 y are before their notBefore, +20 y after their notAfter
WALL_STEPS = [("+1 d", DAY), ("back", 0), ("-1 d", -DAY), ("-10 y", -10 * YEAR),
              ("+20 y", 20 * YEAR), ("right", 0)]
LOG_TS = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.\d{3}Z ", re.M)
# a check's state change, "storage: starting -> healthy"; the load check
# follows the machine's load average, not the agent's clocks
TRANSITION = re.compile(r" (\w+): (\w+) -> (\w+)")
LINK_UP = re.compile(r" backup_link: \w+ -> healthy")


def last_log_time(text):
    """Epoch seconds of the last time-stamped line of the agent's log."""
    ts = LOG_TS.findall(text)[-1]
    return datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def status_times(port, tmp):
    """The epoch times of the agent's CoAP /status that were just
    renewed (the last watchdog kick, the last backup), by libcoap's
    coap-client."""
    out = tmp / f"status-{time.monotonic_ns()}.cbor"
    r = subprocess.run([shutil.which("coap-client-notls") or "/usr/bin/coap-client-notls",
                        "-m", "get", "-B", "10", "-o", str(out),
                        f"coap://127.0.0.1:{port}/status"], capture_output=True, timeout=30)
    assert r.returncode == 0 and out.exists(), r.stderr
    doc = cbor2.loads(out.read_bytes())
    return {"watchdog.last_kick": doc["watchdog"]["last_kick"],
            "backup.last_success": doc["backup"]["last_success"]}


def wall_rig(t, seed, pki, transport, offset=0):
    """A Rig whose agent (started by the caller) runs with the test wall
    clock at `offset` s, and a watchdog "device" that is a plain file:
    each kick appends a byte."""
    rig = Rig(t, seed, pki, SIZE // 16, transport)
    clock = faults.WallClock(t / "wall-offset", offset)
    rig.agent_prefix = (*clock.env(), *rig.agent_prefix)
    wdt = t / "wdt"
    wdt.write_bytes(b"")
    extra = f"backup.interval = 1\nwatchdog.device = {wdt}\nwatchdog.timeout = 2s\n"
    return rig, clock, wdt, extra


def test_wall_clock_jumps(pki, tmp_path):
    """The agent's CLOCK_REALTIME jumps while it backs up every second
    over plain v3: +1 day, back, -1 day, -10 years, +20 years, right
    again.  Everything timed runs on the monotonic clock, so after each
    jump two scheduled jobs finish, the watchdog goes on being kicked,
    no check changes state but the clock check (a wall clock before the
    build date is a warning) and the load check (the machine's load),
    status --json's uptime and last success age stay small; the log's
    time stamps and /status's last kick and last backup follow the wall
    clock, and the agent ends healthy."""
    def body(t, seed, info):
        rig, clock, wdt, extra = wall_rig(t, seed, pki, "tcp")
        try:
            rig.start_server()
            rig.watch_start()
            coap = free_port(socket.SOCK_DGRAM)
            rig.start_agent(rig.agent_url(rig.server_port()),
                            extra + f"coap.listen = 127.0.0.1:{coap}\n")
            started = time.monotonic()
            # once the backup link is healthy every check has settled
            job, worst = rig.wait_done(timeout=30)[0], 0.0
            faults.wait_until(lambda: LINK_UP.search(rig.agent.log()), 30, step=0.05,
                              what="the backup link healthy")
            first = len(rig.agent.log())
            for name, offset in WALL_STEPS:
                kicks = len(wdt.read_bytes())
                mark = len(rig.agent.log())
                clock.set(offset)
                t_jump = time.monotonic()
                for _ in range(2):
                    job, seen = rig.wait_done(after_job=job, timeout=30, mark=mark)
                worst = max(worst, seen - t_jump)
                stamp = last_log_time(rig.agent.log())
                if abs(stamp - clock.now()) > 120:
                    return [f"{name}: the log says {stamp:.0f}, the agent's clock "
                            f"{clock.now():.0f}"], 0
                out = rig.agent.cmd("status --json", timeout=10)
                st = json.loads(out[out.index("{"):out.rindex("}") + 1])
                alive = time.monotonic() - started + 5
                if st["uptime_s"] > alive or (st["backup"]["last_success_ago_s"] or 0) > 30:
                    return [f"{name}: status --json has uptime_s {st['uptime_s']}, "
                            f"last_success_ago_s {st['backup']['last_success_ago_s']} "
                            f"{alive:.0f} s after the start"], 0
                faults.wait_until(lambda: len(wdt.read_bytes()) > kicks, 10, step=0.1,
                                  what=f"a watchdog kick after {name}")
                stamps = status_times(coap, t)
                off = {k: round(v - clock.now()) for k, v in stamps.items()
                       if abs(v - clock.now()) > 120}
                if off:
                    return [f"{name}: /status times off the agent's clock by (s): {off}"], 0
            log = rig.agent.log()[first:]
            changed = [m.group(0) for m in TRANSITION.finditer(log)
                       if m.group(1) not in ("clock", "load")]
            stops = re.findall(r".*(?:stopping kicks|would stop kicking).*", log)
            info.update(jobs=job, two_jobs_max_s=round(worst, 2),
                        clock_changes=len([m for m in TRANSITION.finditer(log)
                                           if m.group(1) == "clock"]))
            info["recovery_s"] = round(worst, 3)
            bad, lost = rig.check()
            return bad + [f"a check changed state: {c}" for c in changed] + stops, lost
        finally:
            rig.close()
    campaign("wall_jumps", tmp_path, body)


# (name, offset, what the agent says of the server's certificate)
WALL_TLS = [("-10 y", -10 * YEAR, "it is not valid yet"), ("-1 d", -DAY, "it is not valid yet"),
            ("+20 y", 20 * YEAR, "it has expired")]


def test_wall_clock_tls(pki, tmp_path):
    """TLS with the agent's wall clock outside the certificates' dates.
    For each of -10 years, -1 day (before notBefore) and +20 years (after
    notAfter), in a random order, an agent starts with its clock that
    wrong (no RTC, an RTC gone bad) and backs up every second over TLS:
    its jobs fail with the reason (the server's certificate is not valid
    yet, or has expired).  The clock set right while it runs, the next
    job succeeds.  The clock then made wrong again, jobs go on: the
    dates are checked at a full handshake, and the agent's connection
    and session ticket were verified when the clock was right."""
    def body(t, seed, info):
        rig, clock, _wdt, extra = wall_rig(t, seed, pki, "tls")
        steps = random.Random(seed).sample(WALL_TLS, len(WALL_TLS))
        try:
            rig.start_server()
            rig.watch_start()
            worst, failures = 0.0, 0
            for name, offset, why in steps:
                if rig.agent is not None:
                    rig.agent.close()
                clock.set(offset)
                rig.start_agent(rig.agent_url(rig.server_port()), extra)
                pat = re.compile(r"job (\d+) failed: .*server certificate verification "
                                 r"failed: " + re.escape(why))
                m = faults.wait_until(lambda: pat.search(rig.agent.log()), 30,
                                      step=0.05, what=f"a job failing at {name}: {why}")
                failures += 1
                if rig.SENT.search(rig.agent.log()):
                    return [f"{name}: a file was sent with the clock wrong"], 0
                mark = len(rig.agent.log())
                clock.set(0)
                t_right = time.monotonic()
                job, seen = rig.wait_done(after_job=int(m.group(1)), timeout=30, mark=mark)
                worst = max(worst, seen - t_right)
                mark = len(rig.agent.log())
                clock.set(offset)
                job, _ = rig.wait_done(after_job=job, timeout=30, mark=mark)
                clock.set(0)
            info.update(steps=[s[0] for s in steps], clean_failures=failures)
            info["recovery_s"] = round(worst, 3)
            return rig.check()
        finally:
            rig.close()
    campaign("wall_tls", tmp_path, body)


ZONE, ZONE_OFFSET = "<+0530>-5:30", 5 * 3600 + 1800   # local time is not UTC
STARTED = re.compile(r"job (\d+) started")


def hhmm(epoch):
    lt = (epoch + ZONE_OFFSET) % 86400
    return f"{lt // 3600:02d}:{lt // 60 % 60:02d}"


def test_wall_clock_window(pki, tmp_path):
    """backup.window (local time, +05:30) around wall-clock jumps: the
    window is open for the hour either side of the real time and the
    agent backs up every second.  +1 day and -1 day land in the same
    window of another day (jobs go on); +12 hours lands outside it: the
    schedule waits (no job starts over several ticks) and `backup jobs`
    says when the window opens, from the new clock; the clock set right,
    scheduled jobs run again."""
    def body(t, seed, info):
        rig, clock, wdt, extra = wall_rig(t, seed, pki, "tcp")
        now = int(time.time()) // 60 * 60
        opens, closes = now - 3600, now + 3600
        spec = f"{hhmm(opens)}-{hhmm(closes)}"
        extra += f"backup.window = {spec}\ntime.zone = {ZONE}\n"
        steps = [("+1 d", DAY), ("-1 d", -DAY)]
        random.Random(seed).shuffle(steps)
        try:
            rig.start_server()
            rig.watch_start()
            rig.start_agent(rig.agent_url(rig.server_port()), extra)
            job, worst = rig.wait_done(timeout=30)[0], 0.0
            for name, offset in [*steps, ("+12 h", DAY // 2), ("right", 0)]:
                mark = len(rig.agent.log())
                clock.set(offset)
                t_jump = time.monotonic()
                if offset != DAY // 2:
                    job, seen = rig.wait_done(after_job=job, timeout=30, mark=mark)
                    worst = max(worst, seen - t_jump)
                    continue
                waits = f"scheduled run waits for the backup window {spec}"
                faults.wait_until(lambda: waits in rig.agent.log()[mark:], 30, step=0.05,
                                  what=f"the schedule waiting at {name}")
                at = mark + rig.agent.log()[mark:].index(waits)
                kicks = len(wdt.read_bytes())   # a kick a second: ticks went by
                faults.wait_until(lambda: len(wdt.read_bytes()) >= kicks + 3, 20, step=0.1,
                                  what="three watchdog kicks")
                late = [int(j) for j in STARTED.findall(rig.agent.log()[at:])]
                out = rig.agent.cmd("backup jobs", timeout=10)
                m = re.search(rf"window {re.escape(spec)} \(local time\) closed, opens "
                              r"[-\d]+ [:\d]+ UTC \(in (\d+) h (\d+) min\)", out)
                want = (opens + DAY - clock.now()) / 60
                if late or not m or abs(int(m[1]) * 60 + int(m[2]) - want) > 2:
                    return [f"{name}: jobs {late} started with the window closed; "
                            f"it should open in {want:.0f} min:\n{out}"], 0
            info.update(jobs=job, steps=[s[0] for s in steps])
            info["recovery_s"] = round(worst, 3)
            return rig.check()
        finally:
            rig.close()
    campaign("wall_window", tmp_path, body)


# ---- load: many agents at once ---------------------------------------------------------

def proc_cpu_s(pid):
    """utime + stime of pid in seconds (/proc/PID/stat)."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_hwm_kib(pid):
    m = re.search(r"VmHWM:\s+(\d+) kB", open(f"/proc/{pid}/status").read())
    return int(m.group(1))


def test_many_agents_at_once(pki, tmp_path):
    """N real vigild processes (`vigild backup`, plain v3, each its own
    name, identity and random file) back up at the same time to one
    vigil-backupd (20 in make check, 200 in the full campaign), beside
    the prober.  Every one exits 0 with its file verified and stored
    intact; the server's peak RSS and CPU per GiB are recorded."""
    import subprocess
    import invariant
    from conftest import binary
    from v3_names import v3_name
    n, size = (200, 1 << 20) if FULL else (20, 256 << 10)

    def body(t, seed, info):
        rig = Rig(t, seed, pki, 0, "tcp")
        procs = []
        try:
            rig.start_server(extra=["--max-conns", "1024"])
            rig.watch_start()
            files = []
            for i in range(n):
                d = t / f"agent{i}"
                d.mkdir()
                p = d / "data.bin"
                p.write_bytes(rig.rng.randbytes(size))
                files.append((d, p, invariant.sha256(p)))
            cpu0 = proc_cpu_s(rig.server.proc.pid)
            t0 = time.monotonic()
            for i, (d, p, _) in enumerate(files):
                procs.append(subprocess.Popen(
                    [str(binary("vigild")), "backup", "--server",
                     f"tcp://127.0.0.1:{rig.server.port}", "--state", str(d / "state"),
                     "--name", f"load-{i}", "--timeout", "20000", str(p)],
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE, text=True))
            bad = []
            for i, pr in enumerate(procs):
                _, err = pr.communicate(timeout=300)
                if pr.returncode != 0 or "1 files verified" not in err:
                    bad.append(f"agent {i}: exit {pr.returncode}: {err[-300:]}")
            wall = time.monotonic() - t0
            cpu = proc_cpu_s(rig.server.proc.pid) - cpu0
            lost = 0
            for d, p, digest in files:
                cid = (d / "state" / "me.info").read_text().split()[1]
                v = rig.data / cid / v3_name(p) / "v1"
                if not v.exists() or invariant.sha256(v) != digest:
                    lost += 1
                    bad.append(f"{p}: not stored intact")
            gib = n * size / (1 << 30)
            info.update(agents=n, mib=round(n * size / (1 << 20), 1), wall_s=round(wall, 2),
                        server_hwm_kib=proc_hwm_kib(rig.server.proc.pid),
                        server_cpu_s=round(cpu, 2), cpu_s_per_gib=round(cpu / gib, 1))
            rig.agent = None            # no vigild agent in this scenario
            b2, _ = invariant.check(str(rig.data), {}, [], rig.watch, None, rig.prober)
            return bad + b2, lost
        finally:
            for pr in procs:
                if pr.poll() is None:
                    pr.kill()
                    pr.wait()
            rig.close()
    campaign(f"load {n} agents", tmp_path, body)


# ---- a CoAP flood at the agent ---------------------------------------------------------

def proc_rss_kib(pid):
    m = re.search(r"VmRSS:\s+(\d+) kB", open(f"/proc/{pid}/status").read())
    return int(m.group(1))


def health_runs(out):
    """Sum of the `runs` column of the console's health table."""
    return sum(int(m) for m in re.findall(
        r"^\w+\s+(?:required|wanted)\s+\w+\s+\w+\s+\S+\s+(\d+)", out, re.M))


PSK_ID, PSK_KEY = "ops", "secretkey123"


@pytest.mark.parametrize("kind", ["coap", "dtls"])
def test_flood(kind, pki, tmp_path):
    """20,000 datagrams/s at one agent for 4 s (60 s in the full
    campaign) while it runs its second backup.  coap: NON GET /health
    from 64 source ports.  dtls: ClientHellos without a cookie at the
    DTLS port, each of which must get a HelloVerifyRequest and leave no
    state behind.  The backup finishes and is stored intact, the health
    loop (which kicks the watchdog) keeps running, VmRSS does not grow
    past what the first backup and a short flood reached (the agent
    allocates nothing after start), and libcoap's coap-client is
    answered during the flood (dtls: a full PSK handshake) and right
    after it."""
    import subprocess
    if os.environ.get("VIGIL_CAMPAIGN_VALGRIND"):
        pytest.skip("a flood measures the agent's speed; under valgrind it is 50x slower")
    secs = 60 if FULL else 4
    if kind == "coap":
        client = [shutil.which("coap-client-notls") or "/usr/bin/coap-client-notls"]
        scheme = "coap"
    else:
        client = [shutil.which("coap-client-openssl") or "/usr/bin/coap-client-openssl",
                  "-u", PSK_ID, "-k", PSK_KEY]
        scheme = "coaps"

    def get(port):
        t0 = time.monotonic()
        r = subprocess.run([*client, "-m", "get", "-B", "5",
                            f"{scheme}://127.0.0.1:{port}/health"],
                           capture_output=True, timeout=30)
        ok = r.returncode == 0 and r.stdout.startswith(b"\xa2")
        return ok, time.monotonic() - t0, r.stderr[-300:]

    def body(t, seed, info):
        rig = Rig(t, seed, pki, SIZE, "tls")
        flood = None
        try:
            rig.start_server()
            rig.watch_start()
            port = free_port(socket.SOCK_DGRAM)
            listen = (f"coap.listen = 127.0.0.1:{port}\n" if kind == "coap" else
                      f"coap.dtls_listen = 127.0.0.1:{port}\n"
                      f"coap.psk = {PSK_ID}:{PSK_KEY.encode().hex()}\n")
            rig.secrets["the DTLS pre-shared key"] = PSK_KEY.encode().hex()
            rig.start_agent(rig.agent_url(rig.server_port()), listen + rate_for(secs / 2))
            pid = rig.agent.proc.pid
            # a first backup and a short flood touch every buffer a
            # backup and CoAP use: what grows after that would be new
            rig.agent.cmd("backup now")
            first, _ = rig.wait_done(timeout=120)
            warm = subprocess.run([sys.executable, FLOOD, "127.0.0.1", str(port), "2000", "0.5",
                                   "64", kind], capture_output=True, text=True, timeout=60)
            assert warm.returncode == 0, warm.stderr
            assert get(port)[0]
            rss0, runs0 = proc_rss_kib(pid), health_runs(rig.agent.cmd("health"))
            flood = subprocess.Popen([sys.executable, FLOOD, "127.0.0.1", str(port), "20000",
                                      str(secs), "64", kind], stdout=subprocess.PIPE, text=True)
            rig.agent.cmd("backup now")
            during = get(port)
            out, _ = flood.communicate(timeout=secs + 60)
            stats = json.loads(out)
            rig.wait_done(after_job=first, timeout=120)
            rss1, runs1 = proc_rss_kib(pid), health_runs(rig.agent.cmd("health"))
            after = get(port)
            info.update(sent=stats["sent"], answered=stats["answered"],
                        verify_requests=stats["verify_requests"],
                        rate=round(stats["sent"] / stats["seconds"]), rss_kib=[rss0, rss1],
                        health_runs=runs1 - runs0, answer_after_s=round(after[1], 3),
                        answer_during_s=round(during[1], 3))
            bad, lost = rig.check()
            # under valgrind VmRSS is valgrind's own, not the agent's
            if rss1 > rss0 + 64 and not rig.agent_prefix:
                bad.append(f"VmRSS grew from {rss0} to {rss1} KiB under the flood")
            # 9 checks every 500 ms: at least 40 % of their runs
            if runs1 - runs0 < 7 * secs:
                bad.append(f"health loop starved: {runs1 - runs0} check runs in {secs} s")
            for when, (ok, _, err) in (("during", during), ("after", after)):
                if not ok:
                    bad.append(f"coap-client {when} the flood not answered: {err!r}")
            if kind == "dtls" and stats["verify_requests"] < stats["answered"]:
                bad.append(f"{stats['answered'] - stats['verify_requests']} flood answers "
                           "were not HelloVerifyRequests")
            return bad, lost
        finally:
            if flood is not None and flood.poll() is None:
                flood.kill()
                flood.wait()
            rig.close()
    campaign(f"{kind}_flood", tmp_path, body)


FLOOD = str(pathlib.Path(__file__).resolve().parents[1] / "campaign" / "coapflood.py")


# ---- the checker itself -----------------------------------------------------------------

def test_invariant_catches_what_it_checks(tmp_path):
    """The invariant is not a check that cannot fail: a file reported but
    missing, a stored version that differs, a stray name, a partial size
    seen by the watcher and a secret in a log are each reported."""
    import invariant
    from v3_names import v3_name
    src = tmp_path / "src"
    src.mkdir()
    a, b = src / "a.bin", src / "b.bin"
    a.write_bytes(b"a" * 1000)
    b.write_bytes(b"b" * 1000)
    files = {a: invariant.sha256(a), b: invariant.sha256(b)}
    data = tmp_path / "data"
    client = data / ("ab" * 16)
    (client / v3_name(a)).mkdir(parents=True)
    (client / v3_name(a) / "v1").write_bytes(b"a" * 1000)
    (client / v3_name(a) / "v2").write_bytes(b"a" * 999 + b"x")      # corrupt
    (client / "stray").mkdir()
    watch = invariant.LayoutWatch(str(data))
    (client / v3_name(b)).mkdir()
    (client / v3_name(b) / "v1").write_bytes(b"b" * 10)              # partial
    faults.wait_until(lambda: v3_name(b) in watch.seen, 10, what="the watcher")
    (client / v3_name(b) / "v1").write_bytes(b"b" * 1000)
    bad, lost = invariant.check(str(data), files, [a, b], watch)
    text = "\n".join(bad)
    assert lost == 1 and "reported but not stored intact" in text, bad       # a's v2
    assert "stored version differs" in text and "stray names" in text, bad
    assert f"partial file visible: {v3_name(b)}" in text, bad
    leaks = invariant.secret_leaks({"log": "... key=" + "Q" * 30 + " ..."},
                                   {"key": "Q" * 40, "other": "Z" * 40})
    assert leaks == ["key appears in log"], leaks


def test_fault_proxy_does_what_it_says():
    """The proxy's byte-exact faults against a local sink: corrupt_at
    flips exactly byte n, cut_at delivers exactly n bytes and then a
    FIN, hole_at delivers n bytes and then silence on an open
    connection."""
    sink = socket.create_server(("127.0.0.1", 0))
    got = []

    def serve():
        for _ in range(3):
            conn, _ = sink.accept()
            conn.settimeout(5)      # silence this long: the hole
            buf = b""
            try:
                while True:
                    d = conn.recv(65536)
                    if not d:
                        got.append((buf, "fin"))
                        break
                    buf += d
            except socket.timeout:
                got.append((buf, "silent"))
            conn.close()
    import threading
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    data = bytes(range(256)) * 64
    plan = [Fault(corrupt_at=("up", 1000), mask=0x20), Fault(cut_at=("up", 5000)),
            Fault(hole_at=("up", 3000))]
    proxy = FaultProxy(sink.getsockname(), plan)
    try:
        for i in range(3):
            c = socket.create_connection(("127.0.0.1", proxy.port), timeout=10)
            c.sendall(data)
            if i == 2:      # the hole: the sink hears nothing more, nor a FIN
                faults.wait_until(lambda: proxy.holes == 1, 10, what="the hole")
                faults.wait_until(lambda: len(got) == 3, 15, step=0.05, what="the sink")
            else:
                c.shutdown(socket.SHUT_WR)
                faults.wait_until(lambda: len(got) == i + 1, 15, what="the sink")
            c.close()
        (flipped, end0), (cut, end1), (holed, end2) = got
        diff = [k for k in range(len(data)) if flipped[k] != data[k]]
        assert diff == [1000] and flipped[1000] == data[1000] ^ 0x20 and end0 == "fin"
        assert cut == data[:5000] and end1 == "fin" and proxy.cuts == 1
        assert holed == data[:3000] and end2 == "silent"
    finally:
        proxy.close()
        sink.shutdown(socket.SHUT_RDWR)
        sink.close()
        t.join(15)
