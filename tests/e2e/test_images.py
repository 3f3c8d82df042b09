"""The images as files: same inputs give the same bytes, and the board
overlays (rpi4, bbb) hold what docs/boards.md installs: a static vigild
for the board, a systemd unit systemd accepts, and an init script that
starts, reloads and stops vigild."""
import json
import os
import re
import shutil
import socket
import subprocess
import tarfile
import time

import pytest

from conftest import binary, free_port
from vm import ROOT

OVERLAY = {"etc/", "etc/init.d/", "etc/init.d/vigild", "etc/vigil.conf", "usr/",
           "usr/lib/", "usr/lib/systemd/", "usr/lib/systemd/system/",
           "usr/lib/systemd/system/vigild.service", "usr/sbin/", "usr/sbin/vigild",
           "usr/share/", "usr/share/doc/", "usr/share/doc/vigil/",
           "usr/share/doc/vigil/boards.md"}
ARCH_OF = {"rpi4": "ARM aarch64", "bbb": "ARM, EABI5"}


def manifest(board, out=None):
    with open(os.path.join(out or os.path.join(ROOT, "build", "image", board),
                           "image.txt")) as f:
        return f.read()


def overlay_path(board):
    m = re.search(r"\s(vigil-\S+-overlay\.tar\.gz)\s", manifest(board))
    assert m, manifest(board)
    return os.path.join(ROOT, "build", "image", board, m.group(1))


@pytest.mark.parametrize("board", ["qemu-armv7", "rpi4"])
def test_same_inputs_same_bytes(board, tmp_path):
    """A second build from the same inputs into another directory: every
    output's sha256 in the manifest is the same."""
    first = manifest(board)
    env = dict(os.environ, IMAGE_OUT=str(tmp_path),
               VERSION=re.search(r"^vigil (\S+) ", first).group(1),
               VIGIL_GIT=re.search(r"^vigild: (\S+)$", first, re.M).group(1),
               SOURCE_DATE_EPOCH=re.search(r"^source_date_epoch: (\d+)$", first, re.M).group(1))
    subprocess.run([os.path.join(ROOT, "image", "build.sh"), board], cwd=ROOT, env=env,
                   check=True, capture_output=True, timeout=300)
    second = manifest(board, str(tmp_path))
    assert second == first


@pytest.mark.parametrize("board", ["rpi4", "bbb"])
def test_overlay_contents(board, tmp_path):
    with tarfile.open(overlay_path(board)) as t:
        members = t.getmembers()
        names = {m.name + ("/" if m.isdir() else "") for m in members}
        assert names == OVERLAY
        assert all(m.uid == 0 and m.gid == 0 for m in members)
        assert all(not (m.mode & 0o022) for m in members)
        t.extractall(tmp_path, filter="data") if hasattr(tarfile, "data_filter") \
            else t.extractall(tmp_path)
    desc = subprocess.run(["file", "-b", str(tmp_path / "usr/sbin/vigild")],
                          capture_output=True, text=True, check=True).stdout
    assert ARCH_OF[board] in desc and "statically linked" in desc, desc
    assert os.stat(tmp_path / "usr/sbin/vigild").st_mode & 0o111
    assert "WatchdogSec=" in (tmp_path / "usr/lib/systemd/system/vigild.service").read_text()
    r = subprocess.run([binary("vigild"), "--check-config", str(tmp_path / "etc/vigil.conf")],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stderr


def test_systemd_accepts_the_unit(tmp_path):
    """systemd-analyze verify, with ExecStart pointed at a vigild that
    exists here; it reports unknown keys, bad values and missing commands."""
    unit = open(os.path.join(ROOT, "image/overlay/usr/lib/systemd/system/vigild.service")).read()
    for key in ("Type=notify", "WatchdogSec=30s", "Restart=always", "NoNewPrivileges=yes",
                "ProtectSystem=strict", "CapabilityBoundingSet=CAP_SYS_BOOT"):
        assert f"\n{key}\n" in unit
    (tmp_path / "vigild.service").write_text(unit.replace("/usr/sbin/vigild", binary("vigild")))
    r = subprocess.run(["systemd-analyze", "verify", str(tmp_path / "vigild.service")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and not r.stderr.strip(), r.stderr


def test_init_script_runs_vigild(tmp_path):
    """The sysvinit/busybox script against this host's vigild: start,
    status, reload (seen in the status document), stop (a clean stop)."""
    port = free_port(socket.SOCK_DGRAM)
    conf = tmp_path / "vigil.conf"
    base = (f"data.dir = {tmp_path}/data\nwatchdog.device = none\n"
            f"console.device = none\nlog.syslog = false\n"
            f"coap.listen = 127.0.0.1:{port}\ncoap.dtls_listen = none\n")
    conf.write_text(base + "device.name = before\n")
    env = dict(os.environ, VIGILD=binary("vigild"), VIGIL_CONF=str(conf),
               VIGIL_PIDFILE=str(tmp_path / "vigild.pid"))
    script = os.path.join(ROOT, "image/overlay/etc/init.d/vigild")

    def run(action, rc=0):
        r = subprocess.run(["sh", script, action], env=env, capture_output=True,
                           text=True, timeout=30)
        assert r.returncode == rc, (action, r.stdout, r.stderr)
        return r.stdout

    def status_doc():
        r = subprocess.run([binary("vigilctl"), "status", "--json",
                            f"coap://127.0.0.1:{port}"], capture_output=True, text=True,
                           timeout=10)
        return json.loads(r.stdout) if r.returncode == 0 else None

    def wait_doc(pred, what):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            doc = status_doc()
            if doc is not None and pred(doc):
                return doc
            time.sleep(0.1)
        raise AssertionError(f"vigild under the init script: {what}")

    try:
        run("start")
        assert "is running" in run("status")
        wait_doc(lambda d: d["device"]["id"] == "before", "no status over CoAP")
        conf.write_text(base + "device.name = after\n")
        run("reload")
        wait_doc(lambda d: d["device"]["id"] == "after", "reload not applied")
        run("stop")
        assert "not running" in run("status", rc=3)
        with open(tmp_path / "data" / "boot.state", "rb") as f:
            assert f.read(16)[12] == 2   # marker STOPPED: a clean stop
    finally:
        subprocess.run(["sh", script, "stop"], env=env, capture_output=True, timeout=30)
    shutil.rmtree(tmp_path / "data")
