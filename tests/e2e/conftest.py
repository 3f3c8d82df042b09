"""Shared pieces of the end-to-end tests: the built images and host
programs, free ports, the test PKI, a provisioned data disk, and
vigil-backupd on the host (the guest reaches it as 10.0.2.2, qemu's
user-network gateway, which maps to the host's 127.0.0.1)."""
import hashlib
import os
import re
import socket
import subprocess
import time

import pytest

from vm import ROOT, Vm

BIN = os.path.join(ROOT, "build", "host", "bin")
GUEST_HOST = "10.0.2.2"
DATA = "/var/lib/vigil"   # data.dir in the images; the data disk's mount point

# Short timings so a watchdog reset takes seconds: the storage check fails
# 2 runs 1 s apart after a 3 s start period, then 1 s of grace, then the
# 5 s watchdog timeout (kicks every 2.5 s at most, so a busy host does not
# starve them).
TEST_CONFIG = """\
log.syslog = false
health.interface = eth0
watchdog.timeout = 5s
health.interval = 1s
health.timeout = 1s
health.retries = 2
health.debounce = 1
health.start_period = 3s
health.grace = 1s
backup.server = tls://{host}:{port}
backup.paths = {data}/files
backup.name = e2e-{board}
backup.timeout = 20s
tls.ca = {data}/pki/ca.crt
tls.cert = {data}/pki/device.crt
tls.key = {data}/pki/device.key
"""

# The fault that makes a required check fail and stay failed: an ordinary
# config key, saved so it survives the reset (that is what makes the
# three-resets-in-a-row scenario), and applied by `config reload`.
FAULT_MIN_FREE = 1 << 50


def binary(name):
    path = os.path.join(BIN, name)
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} not built (make check builds it)")
    return path


def free_port(kind):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")
    subprocess.run([binary("vigilctl"), "pki", "init", str(d / "pki"),
                    "--server-name", GUEST_HOST, "--device", "device"],
                   check=True, capture_output=True, timeout=60)
    return d / "pki"


def make_data_disk(path, stage, board, backup_port, pki_dir, extra=""):
    """The board's flash as provisioned: config (TEST_CONFIG, then the
    lines of extra), certificates, and a file to back up, in an ext4
    image made without root (mke2fs -d)."""
    os.makedirs(stage / "pki")
    os.makedirs(stage / "files")
    (stage / "vigil.conf").write_text(TEST_CONFIG.format(
        host=GUEST_HOST, port=backup_port, data=DATA, board=board) + extra)
    for src, dst in (("ca.crt", "ca.crt"), ("devices/device.crt", "device.crt"),
                     ("devices/device.key", "device.key")):
        (stage / "pki" / dst).write_bytes((pki_dir / src).read_bytes())
    os.chmod(stage / "pki" / "device.key", 0o600)
    payload = stage / "files" / "payload.bin"
    payload.write_bytes(os.urandom(300 * 1024 + 17))
    subprocess.run(["mke2fs", "-q", "-F", "-t", "ext4", "-b", "1024",
                    "-E", "root_owner=0:0", "-d", str(stage), str(path), "16M"],
                   check=True, capture_output=True, timeout=60)
    return payload


class Backupd:
    """vigil-backupd on 127.0.0.1 with TLS and client certificates."""

    def __init__(self, data, pki_dir):
        self.data, self.port = data, free_port(socket.SOCK_STREAM)
        self.log_path = str(data) + ".log"
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [binary("vigil-backupd"), "--data", str(data),
             "--tls", f"127.0.0.1:{self.port}",
             "--tls-cert", str(pki_dir / "server.crt"),
             "--tls-key", str(pki_dir / "server.key"),
             "--tls-ca", str(pki_dir / "ca.crt")],
            stdout=subprocess.DEVNULL, stderr=self.log)
        self.wait_log(r"listening|TLS", timeout=10)

    def read_log(self):
        with open(self.log_path) as f:
            return f.read()

    def wait_log(self, pattern, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if re.search(pattern, self.read_log()):
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"vigil-backupd: no /{pattern}/ in its log:\n{self.read_log()}")

    def stored(self, guest_path):
        """Path of version 1 of a stored guest file."""
        name = guest_path.lstrip("/").replace("_", "%5F").replace("/", "_")
        for d in os.listdir(self.data):
            cand = os.path.join(self.data, d, name, "v1")
            if len(d) == 32 and os.path.exists(cand):
                return cand
        raise AssertionError(f"{guest_path} not stored in {self.data}")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


@pytest.fixture(scope="module")
def appliance(tmp_path_factory, pki, request):
    """A booted board of the test module's BOARD with a provisioned data
    disk and a vigil-backupd for it; yields (vm, backupd, payload, boot)."""
    board = request.module.BOARD
    work = tmp_path_factory.mktemp(board)
    srv = Backupd(work / "backupd", pki)
    payload = make_data_disk(work / "data.img", work / "stage", board, srv.port, pki)
    vm = Vm(board, str(work), work / "data.img", free_port(socket.SOCK_DGRAM))
    try:
        vm.start()
        boot = vm.wait_booted(since=0, timeout=90)
        yield vm, srv, payload, boot
    finally:
        vm.stop()
        srv.stop()


def vigilctl_status(port):
    import json
    r = subprocess.run([binary("vigilctl"), "status", "--json",
                        f"coap://127.0.0.1:{port}"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def coap_client_status(port, tmp):
    """GET /status with libcoap's coap-client; the CBOR body decoded."""
    import cbor2
    out = os.path.join(tmp, f"status-{time.monotonic_ns()}.cbor")
    r = subprocess.run(["coap-client-notls", "-m", "get", "-B", "10", "-o", out,
                        f"coap://127.0.0.1:{port}/status"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and os.path.exists(out), r.stderr
    with open(out, "rb") as f:
        return cbor2.loads(f.read())


REPORT = os.path.join(ROOT, "build", "e2e", "report.txt")


def report(line):
    """One measurement for the closing note (make check shows the file)."""
    os.makedirs(os.path.dirname(REPORT), exist_ok=True)
    with open(REPORT, "a") as f:
        f.write(line + "\n")


def backup_and_compare(vm, srv, payload, timeout=90):
    """`backup now` on the console, the job's end from the agent's log on
    the serial line, then the stored copy's sha256 against the guest's
    file (which the test put on the data disk)."""
    since = vm.mark()
    out = vm.cmd("backup now")
    m = re.search(r"job (\d+) queued", out)
    assert m, f"backup now: no job queued:\n{out}"
    job = m.group(1)
    end = vm.wait_log(rf"backup: job {job} (done|failed|cancelled)", since, timeout)
    assert end.group(1) == "done", vm.serial_text()[-3000:]
    assert re.search(rf"job {job} done: done, 1/1 files", vm.cmd("backup jobs"))
    guest = f"{DATA}/files/{os.path.basename(payload)}"
    assert sha256(srv.stored(guest)) == sha256(payload)
    assert re.search(r"TLSv1\.3 .*client .*CN=device", srv.read_log())


def console_and_watchdog(vm, identity):
    """status, health and wdt on the console: the board's watchdog (named
    by the kernel at boot) open, and kicked between two looks."""
    assert f"vigil-init: watchdog0: {identity}, bootstatus" in vm.serial_text()
    status = vm.cmd("status")
    assert re.search(r"health:\s+(healthy|degraded|starting); boot \d+", status), status
    health = vm.cmd("health")
    for check in ("liveness", "storage", "memory"):
        assert re.search(rf"{check}\s+required\s+healthy", health), health
    first = vm.expect_cmd("wdt", r"device /dev/watchdog0 \(open\), timeout 5s, (\d+) kicks")
    kicks = int(first.group(1))
    assert "wdt: kicking (all required checks healthy)" in vm.last_output
    deadline = time.monotonic() + 20   # a kick is due every 2.5 s
    while time.monotonic() < deadline:
        time.sleep(0.5)   # polling a counter the console shows on request
        again = vm.expect_cmd("wdt", r"\(open\), timeout 5s, (\d+) kicks")
        if int(again.group(1)) > kicks:
            return
    raise AssertionError(f"watchdog not kicked: still {kicks} kicks")


def coap_status_both(vm, tmp):
    """/status over CoAP from the host, with vigilctl and with libcoap's
    coap-client; both must agree with each other on the boot record."""
    a = vigilctl_status(vm.coap_port)
    b = coap_client_status(vm.coap_port, tmp)
    for doc in (a, b):
        assert doc["device"]["board"] == vm.board
        assert doc["watchdog"]["open"] is True and doc["watchdog"]["device"] == "/dev/watchdog0"
    assert a["boot"] == b["boot"]
    return a


def fault_until_reset(vm):
    """Makes the storage check fail for good (health.min_free above any
    disk, saved and reloaded), waits for vigild to stop kicking and for
    the watchdog to reset the VM. Returns the reason vigild recorded and
    the seconds from its last kick to the reset."""
    since = vm.mark()
    vm.cmd(f"config set health.min_free {FAULT_MIN_FREE}")
    assert "written to" in vm.cmd("config save")
    assert "config reload: applied" in vm.cmd("config reload")
    return wait_watchdog_reset(vm, since)


def wait_watchdog_reset(vm, since, timeout=60):
    """Waits (from transcript position since) for vigild to stop kicking
    and the watchdog to reset the VM: the reason, the seconds from the
    last kick to the reset, and the transcript position to look for the
    next boot from."""
    m = vm.wait_log(r"ERROR wdt: stopping kicks, the board resets in (\d+) s: ([^\r\n]*)\r*\n",
                    since, timeout)
    reason = m.group(2)
    assert "(reset reason not saved)" not in reason
    t_stop = time.monotonic()
    # the agent's own view: STOPPED, and how long ago it last kicked
    w = vm.expect_cmd("wdt", r"last (\d+)s ago")
    t_last_kick = time.monotonic() - int(w.group(1))
    assert "wdt: STOPPED kicking: " + reason in vm.last_output
    t_reset, ev = vm.wait_event("WATCHDOG", after=t_stop - 1, timeout=int(m.group(1)) + 30)
    assert ev["data"]["action"] == "reset"
    return {"reason": reason, "kick_to_reset": t_reset - t_last_kick,
            "stop_to_reset": t_reset - t_stop, "t_reset": t_reset, "end": m.end()}
