"""`vigild backup` as the tests run it, and the checks of what a server
stored against the source files."""
import hashlib
import subprocess
import time

from conftest import binary
from v3_names import v3_name
from v3_refserver import posix_cksum


def vigild_backup(server_url, state, paths, name="box", timeout=60,
                  extra=(), prefix=()):
    """Runs vigild backup (after the command prefix, if any); returns
    (CompletedProcess, seconds)."""
    t0 = time.monotonic()
    r = subprocess.run([*prefix, str(binary("vigild")), "backup", "--server",
                        server_url, "--state", str(state), "--name", name,
                        "--timeout", "2000", *extra, *map(str, paths)],
                       capture_output=True, text=True, timeout=timeout)
    return r, time.monotonic() - t0


def sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def assert_stored(srv, src):
    name = v3_name(src)
    assert name in srv.verified, (name, sorted(srv.verified))
    assert sha(srv.verified[name]) == sha(src)
    assert posix_cksum(srv.verified[name]) == posix_cksum(src)
