"""The content hashes both ends compute (protocol/sha256.h: SHA-NI where
the CPU has it, mbedTLS's code otherwise) against OpenSSL's SHA-256
(Python's hashlib): vigil-backupd's versions.sha256 and vigild's
manifest entries, for files of every padding case and random lengths
0..8 KiB, and one of 3 MiB + 17 bytes that crosses the engine's 1 MiB
hash checkpoints.  Real vigild and vigil-backupd on 127.0.0.1, over
tls:// (vigil/2, clear payload) and tcp:// (v3 with AES-CBC)."""
import hashlib
import os
import random
import struct

import pytest

import metadb
# the fixtures pki (board-a, board-b) and srv (tls and plain listeners)
from test_restore import config, pki, run, srv  # noqa: F401

# struct bk_mf_entry (firmware/backup/backup_manifest.h), host order
MF_HEAD = struct.Struct("=II")
MF_ENTRY = struct.Struct("=16s32sQqII")
MF_MAGIC = 0x3146474D


def make_files(root, seed):
    """Lengths around every padding case (55/56 bytes: the length fits
    in the last block or not), random ones, and a large one."""
    rnd = random.Random(seed)
    lengths = [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129]
    lengths += [rnd.randrange(0, 8193) for _ in range(24)]
    lengths.append(3 * (1 << 20) + 17)
    files = {}
    for i, n in enumerate(lengths):
        p = root / f"f{i:02d}-{n}.bin"
        p.parent.mkdir(parents=True, exist_ok=True)
        data = rnd.randbytes(n)
        p.write_bytes(data)
        files[p] = data
    return files


def manifest(state):
    """{path key: content sha256} of vigild's manifest."""
    blob = (state / "manifest").read_bytes()
    magic, count = MF_HEAD.unpack_from(blob, 0)
    assert magic == MF_MAGIC
    out = {}
    for i in range(count):
        key, sha, _, _, _, _ = MF_ENTRY.unpack_from(blob, MF_HEAD.size + i * MF_ENTRY.size)
        out[key] = sha
    return out


@pytest.mark.parametrize("transport", ["tls", "tcp"])
def test_both_ends_hash_like_openssl(srv, pki, tmp_path, transport):
    src = tmp_path / "src"
    files = make_files(src, 18)
    conf = config(tmp_path, pki, srv, "board-a", transport)
    r = run("backup", "--config", conf, src)
    assert r.returncode == 0, r.stderr
    assert f"{len(files)} files verified" in r.stderr, r.stderr
    want = sorted((len(d), hashlib.sha256(d).hexdigest()) for d in files.values())
    # the server hashed what it wrote (a commit is in the database when
    # vigild's backup has ended: 1604 answers the 1029 after it)
    got = sorted(metadb.rows(tmp_path / "data", "SELECT size, sha256 FROM versions"))
    assert got == want
    # vigild hashed what it read: its manifest, keyed by SHA-256(path)
    mf = manifest(tmp_path / "state-board-a")
    assert len(mf) == len(files)
    for p, data in files.items():
        key = hashlib.sha256(str(p).encode()).digest()[:16]
        assert mf.get(key) == hashlib.sha256(data).digest(), p
