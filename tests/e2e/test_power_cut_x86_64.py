"""Power cuts of the qemu-x86_64 appliance while vigild writes its data
disk (issue 19; docs/reliability.md, "Scenarios").

The board backs up every second to vigil-backupd on the host, so its
data disk is written all the time: the boot record (boot.state) at each
start, the identity (me.info) at the first registration, the manifest at
the end of every job.  qemu is killed (SIGKILL: the guest's page cache
and everything in flight are lost) at a random point 0-12 s
(CUT_WINDOW) after init starts vigild, VIGIL_POWER_CUTS times (make
check: 3; make soak: 20), and after each cut:

  - the disk, as the cut left it, is consistent (e2fsck -f -p on a copy:
    the journal replays, nothing needs more than preening);
  - me.info is absent (never written yet) or whole, and once written it
    never changes: the same key, the same client id;
  - the board boots again, says `last reset: crash` (never an unreadable
    boot record), its boot count never goes back, and vigild finds its
    manifest and identity usable.

At the end a backup finishes and vigil-backupd has exactly one client:
the board registered once and came back as the same device every time.
Each cut is a line of build/e2e/power-cuts.jsonl, which
tests/campaign/report.py turns into docs/reliability.md's row."""
import json
import os
import random
import re
import shutil
import socket
import subprocess
import time

import pytest

from conftest import (Backupd, backup_and_compare, free_port, make_data_disk,
                      report)
from vm import ROOT, Vm

BOARD = "qemu-x86_64"
CUTS = int(os.environ.get("VIGIL_POWER_CUTS", "3"))
CUT_WINDOW = 12.0       # s after init starts vigild: boot record, first jobs
LEDGER = os.path.join(ROOT, "build", "e2e", "power-cuts.jsonl")
ME_INFO = re.compile(r"\A[A-Za-z0-9._-]+\r?\n[0-9a-f]{32}\r?\n[A-Za-z0-9+/=\r\n]+\Z")
STARTED = r"vigil-init: vigil \S+ \(git"


def disk_file(img, name):
    """The file's bytes on an ext4 image, or None when it is absent."""
    r = subprocess.run(["debugfs", "-R", f"cat /{name}", str(img)],
                       capture_output=True, timeout=60)
    if b"not found" in r.stderr or b"File not found" in r.stderr:
        return None
    assert r.returncode == 0, r.stderr
    return r.stdout


def check_disk(img, copy):
    """e2fsck -f -p on a copy of the disk as the cut left it (0: clean,
    1: fixed what is safe to fix, e.g. free counts); returns the copy's
    me.info, read after the journal replayed."""
    shutil.copyfile(img, copy)
    r = subprocess.run(["e2fsck", "-f", "-p", str(copy)], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode in (0, 1), f"e2fsck {r.returncode}: {r.stdout}{r.stderr}"
    return disk_file(copy, "me.info"), r.returncode


def phase(text):
    """What vigild had logged of this boot when the power went."""
    if not re.search(r"boot: start \d+", text):
        return "before the boot record"
    if not re.search(r"backup: job \d+ started", text):
        return "between the boot record and a job"
    return "during jobs (registration, manifest)"


@pytest.fixture(scope="module")
def board(tmp_path_factory, pki):
    work = tmp_path_factory.mktemp("powercut")
    srv = Backupd(work / "backupd", pki)
    payload = make_data_disk(work / "data.img", work / "stage", BOARD, srv.port, pki,
                             extra="backup.interval = 1s\n")
    vm = Vm(BOARD, str(work), work / "data.img", free_port(socket.SOCK_DGRAM))
    try:
        yield vm, srv, payload, work
    finally:
        vm.stop()
        srv.stop()


BOOT_LINE = re.compile(r"boot: start (\d+), last reset: (\w+)")
# what vigild says of a damaged boot record, manifest or identity
DAMAGE = re.compile(r".*(?:unreadable|unusable|is not RSA-1024).*")


def cut_problems(i, text, me, identity, count):
    """What is wrong after cut i: text is the serial line of the boot
    that was cut, me the me.info the disk holds now."""
    bad = []
    b = BOOT_LINE.search(text)
    if b:
        n, reset = int(b[1]), b[2]
        # the cut before this boot was a crash; only the disk's very
        # first start (nothing recorded yet) is a power-on
        if reset != "crash" and not (reset == "power_on" and n == 1):
            bad.append(f"cut {i}: {b[0]}")
        if n < count:
            bad.append(f"cut {i}: boot count went back from {count} to {n}")
    bad += [f"cut {i}: {d}" for d in DAMAGE.findall(text)]
    if me is not None:
        if not ME_INFO.match(me.decode(errors="replace")):
            bad.append(f"cut {i}: me.info is not whole: {me!r}")
        elif identity not in (None, me):
            bad.append(f"cut {i}: me.info changed")
    return bad


def record(**line):
    with open(LEDGER, "a") as f:
        f.write(json.dumps(line) + "\n")


def test_power_cuts_while_vigild_writes(board):
    vm, srv, payload, work = board
    seed = int(os.environ.get("VIGIL_CAMPAIGN_SEED", random.randrange(1 << 31)))
    rng = random.Random(seed)
    os.makedirs(os.path.dirname(LEDGER), exist_ok=True)
    open(LEDGER, "w").close()       # the figures are this run's
    identity, count, t0, bad = None, 0, time.monotonic(), []
    for i in range(CUTS):
        since = vm.mark()
        vm.start()
        m = vm.wait_log(STARTED, since, timeout=120)
        at = rng.uniform(0, CUT_WINDOW)
        vm.follow(at)     # the cut's moment is the fault the seed drew
        text = vm.serial_text()[m.end():]
        vm.power_cut()
        me, fsck = check_disk(vm.data_img, work / "after-cut.img")
        problems = cut_problems(i, text, me, identity, count)
        b = BOOT_LINE.search(text)
        count = max(count, int(b[1]) if b else 0)
        if me is not None and identity is None and not problems:
            identity = me
        record(seed=seed, cut=i, ok=not problems, at_s=round(at, 3), phase=phase(text),
               fsck=fsck, identity=me is not None, boot=[int(b[1]), b[2]] if b else None,
               violations=problems)
        bad += problems
    # the next boot reaches the prompt, and the board comes back as the
    # same device: one backup, one client on the server
    since = vm.mark()
    vm.start()
    t_on = time.monotonic()
    boot = vm.wait_booted(since=since, timeout=120)
    n, reset, _ = boot["start"]
    if reset != "crash" or n < count:
        bad.append(f"the boot after the cuts: {boot['start']}")
    backup_and_compare(vm, srv, payload)
    bad += [f"after the cuts: {d}" for d in DAMAGE.findall(vm.serial_text()[since:])]
    clients = [d for d in os.listdir(srv.data) if re.fullmatch(r"[0-9a-f]{32}", d)]
    if len(clients) != 1:
        bad.append(f"{len(clients)} clients on the server: {clients}")
    vm.power_cut()
    me, _ = check_disk(vm.data_img, work / "end.img")
    if me is None or identity not in (None, me):
        bad.append("me.info changed after the cuts")
    record(seed=seed, final=True, ok=not bad, clients=len(clients),
           boot_s=round(boot["t_prompt"] - t_on, 2), seconds=round(time.monotonic() - t0, 1))
    report(f"{BOARD}: {CUTS} power cuts (seed {seed}) in {time.monotonic() - t0:.0f} s, "
           f"identity {'kept' if identity else 'written after the cuts'}, "
           f"{len(clients)} client(s) on the server, {len(bad)} problems")
    assert not bad, f"seed {seed} (replay: VIGIL_CAMPAIGN_SEED={seed}):\n" + "\n".join(bad)
