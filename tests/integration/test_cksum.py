"""protocol/cksum.c against GNU coreutils `cksum`: build/host/bin/cksum_file
(tests/tools/cksum_file.c, which feeds cksum_update 64 KiB at a time) must
print the same CRC and byte count.

Bounded: the largest case writes 100 MiB of seeded random bytes (about 1 s
here) into its own temporary directory, which is removed even when the test
fails (pytest's tmp_path would keep the last three runs' files on disk).
Every process gets a timeout."""
import random
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import binary

SIZES = [0, 1, 4095, 4096, 1 << 20]
BIG = 100 << 20
TIMEOUT = 60  # seconds per process; cksum of 100 MiB takes ~0.1 s


def gnu_cksum(path):
    assert shutil.which("cksum"), "GNU cksum (coreutils) not installed"
    out = subprocess.run(["cksum", str(path)], check=True, timeout=TIMEOUT,
                         capture_output=True, text=True).stdout.split()
    return int(out[0]), int(out[1])


def vigil_cksum(path):
    out = subprocess.run([str(binary("cksum_file")), str(path)], check=True,
                         timeout=TIMEOUT, capture_output=True,
                         text=True).stdout.split()
    assert out[2] == str(path)
    return int(out[0]), int(out[1])


def write_random(path, size, seed):
    rng = random.Random(seed)
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(left, 1 << 22)
            f.write(rng.randbytes(n))
            left -= n


@pytest.fixture
def scratch():
    """A temporary directory removed after the test, pass or fail."""
    with tempfile.TemporaryDirectory(prefix="vigil-cksum-") as d:
        yield d


@pytest.mark.parametrize("size", SIZES)
def test_cksum_equals_gnu(scratch, size):
    path = f"{scratch}/data-{size}"
    write_random(path, size, seed=size)
    got = vigil_cksum(path)
    assert got == gnu_cksum(path)
    assert got[1] == size


def test_cksum_random_100_mib(scratch):
    start = time.monotonic()
    path = f"{scratch}/data-100m"
    write_random(path, BIG, seed=20240101)
    got = vigil_cksum(path)
    assert got == gnu_cksum(path)
    assert got[1] == BIG
    assert time.monotonic() - start < 2 * TIMEOUT


def test_cksum_stdin_and_known_answers():
    for data, want in [(b"", 4294967295), (b"123456789", 930766865)]:
        out = subprocess.run([str(binary("cksum_file"))], input=data,
                             check=True, timeout=TIMEOUT,
                             capture_output=True).stdout.split()
        assert (int(out[0]), int(out[1])) == (want, len(data))


def test_cksum_missing_file(scratch):
    proc = subprocess.run([str(binary("cksum_file")), f"{scratch}/nope"],
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == 1
    assert "nope" in proc.stderr
    assert proc.stdout == ""
