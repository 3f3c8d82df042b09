"""vigil-backupd built with ASan + UBSan (build/asan/bin, make asan-bins)
fed random and mutated CyberBackup v3 sessions, plain tcp and vigil/2
inside TLS (tests/campaign/sessfuzz.py): after every few sessions a good
client still backs up and restores, the server is alive without a
sanitizer report, its descriptors do not leak, and its data directory
holds nothing unexpected.  issue 19, docs/reliability.md.

VIGIL_SESSFUZZ_SESSIONS (default 40: make check) and
VIGIL_SESSFUZZ_SEED set the run; make soak runs 3000 sessions."""
import json
import os
import pathlib
import random
import sys

import pytest

import v3_client as v3
from backupd import Server, tls_args

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "campaign"))
import sessfuzz  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
ASAN_BACKUPD = ROOT / "build/asan/bin/vigil-backupd"
TIMEOUT_MS = 1000


@pytest.fixture(scope="module")
def keys():
    # e = 17 (the 160-byte key v3 wants); generation is the slow part
    return [v3.rsa_key(17) for _ in range(3)]


def test_mutated_sessions_keep_the_server_whole(pki, tmp_path, keys):
    if not ASAN_BACKUPD.exists():
        pytest.fail(f"{ASAN_BACKUPD} not built (make asan-bins)")
    sessions = int(os.environ.get("VIGIL_SESSFUZZ_SESSIONS", "40"))
    seed = int(os.environ.get("VIGIL_SESSFUZZ_SEED", random.randrange(1 << 32)))
    data = tmp_path / "data"
    srv = Server(["--data", str(data), "--timeout-ms", str(TIMEOUT_MS),
                  "--plain", "127.0.0.1:0"] + tls_args(pki), exe=ASAN_BACKUPD).start()
    fz = sessfuzz.Fuzzer(srv, data, pki, random.Random(seed), keys, TIMEOUT_MS / 1000)
    try:
        fz.health()                         # the baseline: descriptors, a good client
        fz.run(sessions, check_every=max(5, sessions // 20))
    finally:
        rc = srv.stop()
    fz.check_log()
    if rc != 0:
        fz.fail(f"vigil-backupd exited {rc} on SIGTERM")
    summary = dict(sorted(fz.stats.items()), seed=seed, violations=len(fz.violations))
    print("session fuzz:", json.dumps(summary))
    out = ROOT / "build/campaign"
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "sessfuzz.jsonl", "a") as f:
        f.write(json.dumps(summary) + "\n")
    assert not fz.violations, f"seed {seed}:\n" + "\n".join(fz.violations[:10]) + \
        "\nserver log (end):\n" + "\n".join(srv.lines[-30:])


def test_the_checks_catch_what_they_check(pki, tmp_path, keys):
    """Each health check reports what it looks for: a stray file, a file
    left in .tmp, a descriptor more than the baseline, a sanitizer line in
    the log, a dead server."""
    data = tmp_path / "data"
    srv = Server(["--data", str(data), "--timeout-ms", str(TIMEOUT_MS),
                  "--plain", "127.0.0.1:0"] + tls_args(pki), exe=ASAN_BACKUPD).start()
    fz = sessfuzz.Fuzzer(srv, data, pki, random.Random(3), keys, 0)
    try:
        fz.health()
        assert not fz.violations, fz.violations
        (data / "stray").write_bytes(b"x")
        (data / ".tmp" / "c0-1-2.part").write_bytes(b"x")
        fz.check_layout()
        assert sorted(fz.violations) == [
            "stray file in the data directory: .tmp/c0-1-2.part",
            "stray file in the data directory: stray"], fz.violations
        fz.violations.clear()
        fz.fd_base -= 1
        fz.check_fds()
        assert len(fz.violations) == 1 and "descriptors leak" in fz.violations[0]
        fz.violations.clear()
        srv.lines.append("==1==ERROR: AddressSanitizer: heap-use-after-free")
        fz.check_alive()
        assert len(fz.violations) == 1 and "sanitizer report" in fz.violations[0]
        fz.violations.clear()
        srv.lines.remove("==1==ERROR: AddressSanitizer: heap-use-after-free")
        srv.proc.kill()
        srv.proc.wait()
        fz.check_alive()
        fz.check_plain_backup()
        assert "exited with -9" in fz.violations[0]
        assert "plain good client failed" in fz.violations[1]
    finally:
        srv.stop()
