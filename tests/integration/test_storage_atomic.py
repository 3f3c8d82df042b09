"""hal/linux/storage.c's atomic write, from outside the process:
build/host/bin/atomic_writer (tests/tools/atomic_writer.c) writes through
hal_storage_afile_* and is killed with SIGKILL between the data write and
the rename, or at random moments of a write loop; a full tmpfs and a
read-only mount (each in a private mount namespace, so nothing leaks to
the host) show the error paths.  The target must always hold exactly the
old or the new content, and no temp may outlive a failed write."""
import os
import random
import select
import signal
import stat
import subprocess
import time

import pytest

from conftest import binary

SIZE = 256 << 10  # large enough that a write takes several write(2) calls


def content(seed, size=SIZE):
    return random.Random(seed).randbytes(size)


@pytest.fixture
def srcs(tmp_path):
    """Two distinct contents A and B, as files the writer reads."""
    out = {}
    for name, seed in (("A", 1), ("B", 2)):
        data = content(seed)
        (tmp_path / f"src-{name}").write_bytes(data)
        out[name] = (tmp_path / f"src-{name}", data)
    return out


def writer(*args, timeout=30):
    return subprocess.run([str(binary("atomic_writer"))] + [str(a) for a in args],
                          capture_output=True, text=True, timeout=timeout)


def start_writer(*args):
    return subprocess.Popen([str(binary("atomic_writer"))] + [str(a) for a in args],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def read_line(proc, timeout=10.0):
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    assert ready, "writer printed nothing"
    return proc.stdout.readline()


def kill9(proc):
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.parametrize("stop_at", [0, 100_000, SIZE],
                         ids=["before-data", "mid-data", "after-all-data"])
def test_kill9_between_write_and_rename_keeps_old(tmp_path, srcs, stop_at):
    target, tmp = tmp_path / "state", tmp_path / "state.tmp"
    (src_a, a), (src_b, b) = srcs["A"], srcs["B"]
    assert writer("write", target, src_a).returncode == 0

    # 10000-byte afile_writes, so every stop point is a chunk boundary
    proc = start_writer("-c", 10000, "-s", stop_at, "write", target, src_b)
    try:
        line = read_line(proc)
        assert line.startswith("ready "), line
        written = int(line.split()[1])
        # the window is real: the temp holds the new data, path the old
        assert tmp.stat().st_size == written == min(stop_at, SIZE)
        assert target.read_bytes() == a
    finally:
        kill9(proc)
    assert target.read_bytes() == a, "old content damaged by kill -9"
    assert tmp.exists()  # the crash leaves its temp behind ...

    # ... and it does not get in the way of the next write
    r = writer("-m", "640", "write", target, src_b)
    assert r.returncode == 0, r.stderr
    assert target.read_bytes() == b
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert not tmp.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src-A", "src-B", "state"]


def test_kill9_at_random_moments_never_tears(tmp_path, srcs):
    """Kills a loop of alternating A/B writes at random times, at least
    30 times and over at least 200 finished writes; between kills, reads
    the file while the writer runs.  Every look sees exactly A or B."""
    target, tmp = tmp_path / "state", tmp_path / "state.tmp"
    (src_a, a), (src_b, b) = srcs["A"], srcs["B"]
    assert writer("write", target, src_a).returncode == 0
    rng = random.Random(20240611)
    kills = commits = temps_left = reads = 0
    deadline = time.monotonic() + 90
    while kills < 30 or commits < 200:
        assert time.monotonic() < deadline, f"only {kills} kills, {commits} writes"
        proc = start_writer("loop", target, src_a, src_b, 0)
        try:
            assert read_line(proc).strip() == "1"  # it is writing
            stop = time.monotonic() + rng.uniform(0.0, 0.05)
            while time.monotonic() < stop:
                assert target.read_bytes() in (a, b), "reader saw a torn file"
                reads += 1
            assert proc.poll() is None, proc.stderr.read()
        finally:
            kill9(proc)
        kills += 1
        commits += int(([1] + proc.stdout.read().split())[-1])
        temps_left += tmp.exists()
        data = target.read_bytes()  # never missing ...
        assert data in (a, b), f"torn after kill {kills}: {len(data)} bytes"
    # the kills did land inside writes (else this proves little)
    assert temps_left > 0
    print(f"{kills} kills, {commits} writes, {reads} reads, "
          f"{temps_left} kills left a temp")


def in_private_mount(script, *args):
    """Runs sh -c script in a private mount namespace (root, or an
    unprivileged user namespace where the kernel allows it)."""
    ns = ["unshare", "-m", "--propagation", "private"]
    if os.geteuid() != 0:
        ns.insert(1, "-r")
    r = subprocess.run(ns + ["sh", "-euc", script, "sh"] + [str(a) for a in args],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0 and "unshare failed" in r.stderr:
        pytest.skip("needs root or user namespaces for a private tmpfs mount: "
                    + r.stderr.strip())
    assert r.returncode == 0, r.stderr
    return r


# Mounts a tmpfs ($2 = options) on $1, writes $4 as the old content of
# $1/state, then tries $5 (rc and stderr kept in $3), then, if $6 is
# given, a write of $6 that fits; leaves the listing and the final state
# in $3 (outside the tmpfs, which dies with the namespace).
DISK_SCRIPT = r'''
d=$1 opts=$2 out=$3 old=$4 new=$5 small=${6:-}
mount -t tmpfs -o "$opts" tmpfs "$d"
"$W" write "$d/state" "$old"
rc=0; "$W" write "$d/state" "$new" 2>"$out/err" || rc=$?
echo $rc >"$out/rc"
ls -A "$d" >"$out/ls-after-fail"
cp "$d/state" "$out/state-after-fail"
if [ -n "$small" ]; then "$W" write "$d/state" "$small"; cp "$d/state" "$out/state-final"; fi
ls -A "$d" >"$out/ls-final"
'''


def run_disk(tmp_path, opts, old, new, small=None):
    disk, out = tmp_path / "disk", tmp_path / "out"
    disk.mkdir()
    out.mkdir()
    script = f'W="{binary("atomic_writer")}"\n' + DISK_SCRIPT
    in_private_mount(script, disk, opts, out, old, new, small or "")
    return out


def test_full_disk_is_enospc_keeps_old_removes_temp(tmp_path):
    old, new, small = (tmp_path / n for n in ("old", "new", "small"))
    old.write_bytes(content(3, 300 << 10))
    new.write_bytes(content(4, 900 << 10))  # old + new > 1 MiB
    small.write_bytes(content(5, 600 << 10))  # fits once the temp is gone
    out = run_disk(tmp_path, "size=1m", old, new, small)
    assert (out / "rc").read_text().strip() == "1"
    err = (out / "err").read_text()
    assert "write: No space left on device (ENOSPC)" in err, err
    assert (out / "state-after-fail").read_bytes() == old.read_bytes()
    assert (out / "ls-after-fail").read_text().split() == ["state"]
    # the failed write freed its space: a write that fits succeeds
    assert (out / "state-final").read_bytes() == small.read_bytes()
    assert (out / "ls-final").read_text().split() == ["state"]


def test_no_free_inode_is_enospc_at_open(tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    old.write_bytes(b"old content")
    new.write_bytes(b"new content")
    # two inodes: the root and one file, so the temp of a second write
    # cannot be created while state exists
    out = run_disk(tmp_path, "size=1m,nr_inodes=2", old, new)
    assert (out / "rc").read_text().strip() == "1"
    err = (out / "err").read_text()
    assert "open: No space left on device (ENOSPC)" in err, err
    assert (out / "state-after-fail").read_bytes() == b"old content"
    assert (out / "ls-after-fail").read_text().split() == ["state"]


def test_read_only_mount_is_erofs_and_keeps_old(tmp_path, srcs):
    d, out = tmp_path / "disk", tmp_path / "out"
    d.mkdir()
    out.mkdir()
    (src_a, a), (src_b, _) = srcs["A"], srcs["B"]
    script = f'W="{binary("atomic_writer")}"\n' + r'''
mount -t tmpfs -o size=1m tmpfs "$1"
"$W" write "$1/state" "$3"
mount -o remount,ro,bind "$1"  # per-mount ro: also allowed in a user namespace
rc=0; "$W" write "$1/state" "$4" 2>"$2/err" || rc=$?
echo $rc >"$2/rc"
ls -A "$1" >"$2/ls"
cp "$1/state" "$2/state"
'''
    in_private_mount(script, d, out, src_a, src_b)
    assert (out / "rc").read_text().strip() == "1"
    err = (out / "err").read_text()
    assert "open: Read-only file system (EROFS)" in err, err
    assert (out / "state").read_bytes() == a
    assert (out / "ls").read_text().split() == ["state"]


def test_unwritable_directory_is_eacces(tmp_path, srcs):
    """Permission bits, not a read-only mount: as root, the writer runs
    without CAP_DAC_OVERRIDE so the directory's 0555 applies to it."""
    d = tmp_path / "ro"
    d.mkdir()
    (src_a, a), (src_b, _) = srcs["A"], srcs["B"]
    assert writer("write", d / "state", src_a).returncode == 0
    d.chmod(0o555)
    cmd = [str(binary("atomic_writer")), "write", str(d / "state"), str(src_b)]
    if os.geteuid() == 0:
        cmd = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search",
               "--"] + cmd
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    finally:
        d.chmod(0o755)
    assert r.returncode == 1
    assert "open: Permission denied (EACCES)" in r.stderr, r.stderr
    assert (d / "state").read_bytes() == a
    assert sorted(p.name for p in d.iterdir()) == ["state"]
