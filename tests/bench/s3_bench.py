#!/usr/bin/env python3
"""tests/bench/s3_bench.py — vigil-backupd's content stores side by side
(make bench; tests/bench/report.py runs it and puts its lines in the
page): `vigild backup` of one file over TLS to a vigil-backupd that keeps
content on local disk (the reference) and to one that keeps it in a real
S3 service (a single-node Ceph RADOS Gateway on the same host, memstore,
tests/integration/radosgw.py), then `vigild restore` from each.

A first untimed backup registers the device with each server.  Rounds
alternate between the two stores, each round a fresh file of random
bytes (so neither store's dedup skips it); figures are medians of
BENCH_S3_ROUNDS rounds (default 3) of BENCH_S3_MIB MiB (default 256).
Both servers and radosgw share the machine's cores with the client, so
the ratio is what this machine gives, not a property of S3.

Exit status 1 only when something could not be measured; never on a
timing.
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
BIN = os.environ.get("VIGIL_BIN_DIR", os.path.join(ROOT, "build", "host", "bin"))
os.environ.setdefault("VIGIL_BIN_DIR", BIN)
MIB = 1 << 20
SIZE = int(os.environ.get("BENCH_S3_MIB", "256")) * MIB
ROUNDS = int(os.environ.get("BENCH_S3_ROUNDS", "3"))

from backupd import Server, tls_args  # noqa: E402
from radosgw import RadosGW  # noqa: E402


def write_random(path, size):
    with open(path, "wb") as f:
        for _ in range(size // MIB):
            f.write(os.urandom(MIB))


def vigild(*args, timeout=600):
    t0 = time.monotonic()
    r = subprocess.run([os.path.join(BIN, "vigild"), *map(str, args)],
                       capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f"vigild {args[0]} failed: {r.stderr[-500:]}")
    return time.monotonic() - t0


def conf(tmp, pki, srv, name):
    state = os.path.join(tmp, f"state-{name}")
    os.makedirs(state, exist_ok=True)
    path = os.path.join(tmp, f"{name}.conf")
    with open(path, "w") as f:
        f.write("\n".join([
            f"backup.server = tls://127.0.0.1:{srv.tls_port}",
            "device.name = vigil-test-client", f"data.dir = {state}",
            f"tls.ca = {pki}/ca.crt", f"tls.cert = {pki}/client.crt",
            f"tls.key = {pki}/client.key"]) + "\n")
    return path


def main():
    from pathlib import Path
    tmp = tempfile.mkdtemp(prefix="vigil-s3-bench-")
    pki = Path(tmp) / "pki"
    subprocess.run(["bash", os.path.join(ROOT, "tests/toolchain/make-certs.sh"),
                    str(pki)], check=True, capture_output=True, timeout=60)
    rgw = RadosGW(tmp)
    servers = {}
    times = {"local": ([], []), "s3": ([], [])}
    try:
        rgw.start()
        rgw.make_bucket("vigil-bench")
        cred = rgw.credentials_file(os.path.join(tmp, "s3.cred"))
        extra = {"local": [], "s3": ["--store", "s3://vigil-bench",
                                      "--s3-endpoint", rgw.endpoint,
                                      "--s3-credentials", cred]}
        for kind in ("local", "s3"):
            servers[kind] = Server(["--data", os.path.join(tmp, f"data-{kind}")]
                                   + extra[kind] + tls_args(pki)).start()
        src = os.path.join(tmp, "src")
        os.makedirs(src)
        f = os.path.join(src, "big.bin")
        # not timed: the device's registration (RSA key generation)
        write_random(f, MIB)
        for kind in ("local", "s3"):
            vigild("backup", "--config", conf(tmp, pki, servers[kind], kind), f)
        for i in range(ROUNDS):
            for kind in ("local", "s3"):
                write_random(f, SIZE)
                c = conf(tmp, pki, servers[kind], kind)
                times[kind][0].append(vigild("backup", "--config", c, f))
                dest = os.path.join(tmp, f"dest-{kind}-{i}")
                times[kind][1].append(vigild("restore", "--config", c, dest))
                subprocess.run(["rm", "-rf", dest], check=True)
    finally:
        for s in servers.values():
            s.stop()
        rgw.stop()
        subprocess.run(["rm", "-rf", tmp])
    mib = SIZE / MIB
    for i, what in enumerate(("backup", "restore")):
        local = mib / statistics.median(times["local"][i])
        s3 = mib / statistics.median(times["s3"][i])
        print(f"bench s3 {what} {mib:.0f} MiB over tls (median of {ROUNDS}): "
              f"S3 store (radosgw, same host) {s3:.1f} MiB/s, local disk "
              f"{local:.1f} MiB/s, ratio {s3 / local:.2f}", flush=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (OSError, RuntimeError, AssertionError,
            subprocess.SubprocessError) as e:
        print(f"s3_bench: not measured: {e}", file=sys.stderr)
        sys.exit(1)
