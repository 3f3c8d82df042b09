"""vigilctl exporter against a fleet of real vigild processes, scraped by a
real Prometheus (Debian's prometheus package) started here from a temp
dir with a 1 s scrape interval; every check goes through Prometheus's
HTTP API.

Each vigild listens on its own loopback address (127.0.x.y:5683), with no
watchdog device, no console, no backup server and its data.dir in the
temp dir.  make check runs 100 devices; `make soak` runs the issue's 500
(VIGIL_EXPORTER_DEVICES=500) and prints the exporter's RSS and CPU.

Checks: all devices up; a health change on one device (its
health.command's exit code comes from a file the test rewrites) shows in
Prometheus within two scrape intervals of the device logging it;
stopping 10 devices (5 killed: ICMP refusal, 5 frozen with SIGSTOP:
silence) makes exactly those 10 go down and no other; the alert rules of
docs/fleet-rules.yml pass promtool and load into Prometheus; every metric
that the rules and the Grafana dashboard name is one the exporter serves.
"""
import json
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

import pytest

from conftest import ROOT, binary
from netutil import free_port

DEVICES = int(os.environ.get("VIGIL_EXPORTER_DEVICES", "100"))
SCRAPE_S = 1.0
DOWN_AFTER_S = 9.0
RULES = ROOT / "docs/fleet-rules.yml"
DASHBOARD = ROOT / "docs/fleet-dashboard.json"


def addr(i):
    """Device i's loopback address: 127.0.1.1, 127.0.1.2, ... (250 per /24)."""
    return f"127.0.{1 + i // 250}.{1 + i % 250}"


def wait_until(what, pred, timeout, step=0.1):
    """Polls pred() until it returns a true value; fails after timeout."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(step)
    raise AssertionError(f"{what}: not within {timeout} s (last: {last!r})")


def http_get(url, timeout=5.0):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


class Fleet:
    def __init__(self, root, n):
        self.root = root
        self.procs = []
        self.logs = []
        self.flag = root / "flag"
        self.flag.write_text("0")
        for i in range(n):
            d = root / f"d{i}"
            d.mkdir()
            conf = d / "vigil.conf"
            extra = ""
            if i == 0:  # the device whose health the test changes
                extra = (
                    "health.interval = 300ms\nhealth.timeout = 300ms\n"
                    "health.start_period = 0\nhealth.retries = 1\n"
                    "health.debounce = 1\n"
                    f'health.command = "exit $(cat {self.flag})"\n')
            conf.write_text(
                f"data.dir = {d}/data\nwatchdog.device = none\n"
                "console.device = none\nlog.syslog = false\n"
                f"coap.listen = {addr(i)}:5683\ncoap.dtls_listen = none\n"
                + extra)
            log = open(d / "log", "wb")
            self.logs.append(d / "log")
            self.procs.append(subprocess.Popen(
                [str(binary("vigild")), "--config", str(conf)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log))
            log.close()

    def stop_all(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGCONT)
                p.kill()
        for p in self.procs:
            p.wait()


@pytest.fixture
def short_tmp():
    """A short path: health.command holds at most 127 characters."""
    d = pathlib.Path(tempfile.mkdtemp(prefix="vx", dir="/tmp"))
    yield d
    if not os.environ.get("VIGIL_KEEP_TMP"):
        shutil.rmtree(d, ignore_errors=True)


class Prometheus:
    def __init__(self, root, exporter_port):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cfg = root / "prometheus.yml"
        shutil.copy(RULES, root / "rules.yml")
        cfg.write_text(
            "global:\n"
            f"  scrape_interval: {SCRAPE_S:g}s\n"
            f"  scrape_timeout: {SCRAPE_S:g}s\n"
            f"  evaluation_interval: {SCRAPE_S:g}s\n"
            "rule_files: [rules.yml]\n"
            "scrape_configs:\n"
            "  - job_name: vigil\n"
            "    honor_labels: true\n"
            "    static_configs:\n"
            f"      - targets: ['127.0.0.1:{exporter_port}']\n")
        self.log = open(root / "prometheus.log", "wb")
        self.proc = subprocess.Popen(
            ["prometheus", f"--config.file={cfg}",
             f"--storage.tsdb.path={root}/tsdb",
             f"--web.listen-address=127.0.0.1:{self.port}"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
            cwd=root)
        wait_until("prometheus ready", self.ready, 60)

    def ready(self):
        assert self.proc.poll() is None, "prometheus exited"
        try:
            return http_get(self.url + "/-/ready", 1.0) is not None
        except OSError:
            return False

    def query(self, q):
        body = json.loads(http_get(
            self.url + "/api/v1/query?" + urllib.parse.urlencode({"query": q})))
        assert body["status"] == "success", body
        return body["data"]["result"]

    def scalar(self, q):
        r = self.query(q)
        return float(r[0]["value"][1]) if r else None

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def proc_usage(pid):
    """(RSS in KiB, CPU seconds) of a process."""
    with open(f"/proc/{pid}/status") as f:
        rss = int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return rss, (int(fields[11]) + int(fields[12])) / ticks


def log_has(path, text):
    return text in path.read_text(errors="replace")


def test_rules_pass_promtool():
    r = subprocess.run(["promtool", "check", "rules", str(RULES)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "SUCCESS" in r.stdout


def test_fleet_through_prometheus(short_tmp):
    fleet = Fleet(short_tmp, DEVICES)
    port = free_port()
    devices = short_tmp / "devices.json"
    tmp = short_tmp / "devices.json.new"
    tmp.write_text(json.dumps([{
        "targets": [f"{addr(i)}:5683" for i in range(DEVICES)],
        "labels": {"site": "test", "__meta_ignored": "x"}}]))
    tmp.rename(devices)
    exp_log = open(short_tmp / "exporter.log", "wb")
    exporter = subprocess.Popen(
        [str(binary("vigilctl")), "exporter", "--devices", str(devices),
         "--listen", f"127.0.0.1:{port}", "--down-after", f"{DOWN_AFTER_S:g}",
         "--ack-timeout", "0.5"],
        stdin=subprocess.DEVNULL, stdout=exp_log, stderr=exp_log)
    prom = None
    try:
        t0 = time.monotonic()
        prom = Prometheus(short_tmp, port)
        # all devices up, through Prometheus
        wait_until("all devices up", lambda: prom.scalar(
            'count(vigil_up{job="vigil"} == 1)') == DEVICES,
            30 + DEVICES / 10)
        t_up = time.monotonic() - t0
        assert prom.scalar('count(vigil_up{job="vigil"})') == DEVICES
        assert prom.scalar('count(vigil_device_info{site="test"})') == DEVICES
        assert not prom.query('vigil_up{__meta_ignored!=""}')

        # steady state: the exporter's own cost over 10 s
        rss0, cpu0 = proc_usage(exporter.pid)
        time.sleep(10)
        rss, cpu1 = proc_usage(exporter.pid)
        cpu_pct = (cpu1 - cpu0) / 10 * 100
        print(f"\nexporter, {DEVICES} devices: RSS {rss} KiB "
              f"({rss * 1024 / DEVICES / 1024:.1f} KiB/device), CPU "
              f"{cpu_pct:.1f}% of one core while idle; all up "
              f"{t_up:.1f} s after start")

        # a health change on device 0, from its log line to Prometheus
        inst = f"{addr(0)}:5683"
        q = (f'vigil_health_check_state{{instance="{inst}",'
             'check="command",state="unhealthy"}')
        wait_until("command check healthy", lambda: prom.query(
            q.replace("unhealthy", "healthy")), 30)
        assert not prom.query(q)
        fleet.flag.write_text("3")
        wait_until("device 0 logs the change", lambda: log_has(
            fleet.logs[0], "command: healthy -> unhealthy"), 10, step=0.02)
        t_dev = time.monotonic()
        wait_until("the change in Prometheus", lambda: prom.query(q),
                   10, step=0.05)
        took = time.monotonic() - t_dev
        print(f"health change: in Prometheus {took:.2f} s after the device "
              "logged it")
        assert took <= 2 * SCRAPE_S, took

        # stop 10 devices: 5 killed (their port refuses), 5 frozen (silent)
        stopped = list(range(DEVICES - 10, DEVICES))
        for i in stopped[:5]:
            fleet.procs[i].kill()
        for i in stopped[5:]:
            fleet.procs[i].send_signal(signal.SIGSTOP)
        t_stop = time.monotonic()
        down_q = 'vigil_up{job="vigil"} == 0'
        wait_until("10 devices down", lambda: len(prom.query(down_q)) >= 10,
                   DOWN_AFTER_S + 3 * SCRAPE_S + 10)
        print(f"10 stopped devices down in Prometheus after "
              f"{time.monotonic() - t_stop:.1f} s")
        # exactly those, and it stays so for a few more scrapes
        want = {f"{addr(i)}:5683" for i in stopped}
        for _ in range(3):
            down = {r["metric"]["instance"] for r in prom.query(down_q)}
            assert down == want
            assert prom.scalar(
                'count(vigil_up{job="vigil"} == 1)') == DEVICES - 10
            time.sleep(SCRAPE_S)

        # what the rules and the dashboard name is served
        served = set(re.findall(r"^# TYPE (\w+)", http_get(
            f"http://127.0.0.1:{port}/metrics"), re.M))
        named = set(re.findall(r"\bvigil_\w+", RULES.read_text()))
        dash = json.loads(DASHBOARD.read_text())
        named |= set(re.findall(r"\bvigil_\w+", json.dumps(dash)))
        named -= {"vigil_rules", "vigil_fleet"}  # group names, not metrics
        assert named and named <= served, named - served
        # the rules loaded into Prometheus
        rules = json.loads(http_get(prom.url + "/api/v1/rules"))
        assert len(rules["data"]["groups"]) >= 1
        assert exporter.poll() is None
    finally:
        if prom:
            prom.stop()
        exporter.terminate()
        try:
            rc = exporter.wait(10)
        except subprocess.TimeoutExpired:
            exporter.kill()
            rc = exporter.wait()
        exp_log.close()
        fleet.stop_all()
    assert rc == 0, "the exporter did not stop cleanly on SIGTERM"


def test_dtls_psk_per_device(short_tmp):
    """Two coaps:// devices, each with its own identity in --psk-file: the
    right key is up over DTLS, the wrong one stays down with DTLS errors;
    a plain device beside them is up too."""
    keys = {0: "dev-a:00112233445566778899aabbccddeeff",
            1: "dev-b:0f0e0d0c0b0a09080706050403020100"}
    procs = []
    port = free_port()
    # each device on 127.0.0.1 with ports of its own: fixed addresses
    # would meet another test run's devices on a shared machine
    ports = set()
    while len(ports) < 6:
        ports.add(free_port(socket.SOCK_DGRAM))
    plain, dtls = sorted(ports)[:3], sorted(ports)[3:]
    a, b = (f"coaps://127.0.0.1:{dtls[i]}" for i in range(2))
    c = f"127.0.0.1:{plain[2]}"
    try:
        for i in range(3):
            d = short_tmp / f"d{i}"
            d.mkdir()
            psk = f"coap.psk = {keys[i]}\n" if i in keys else ""
            (d / "vigil.conf").write_text(
                f"data.dir = {d}/data\nwatchdog.device = none\n"
                "console.device = none\nlog.syslog = false\n"
                f"coap.listen = 127.0.0.1:{plain[i]}\n"
                f"coap.dtls_listen = 127.0.0.1:{dtls[i]}\n" + psk)
            procs.append(subprocess.Popen(
                [str(binary("vigild")), "--config", str(d / "vigil.conf")],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL))
        (short_tmp / "psk").write_text(
            "# target identity:hexkey\n"
            f"{a} {keys[0]}\n"
            f"{b} dev-b:ffffffffffffffffffffffffffffffff\n")
        (short_tmp / "devices.json").write_text(json.dumps([{"targets": [
            a, b, c]}]))
        exporter = subprocess.Popen(
            [str(binary("vigilctl")), "exporter", "--devices",
             str(short_tmp / "devices.json"), "--psk-file",
             str(short_tmp / "psk"), "--listen", f"127.0.0.1:{port}",
             "--ack-timeout", "0.5"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        procs.append(exporter)
        url = f"http://127.0.0.1:{port}/metrics"

        def metrics():
            try:
                return http_get(url, 1.0)
            except OSError:
                return ""

        def ups():
            return dict(re.findall(
                r'^vigil_up\{instance="([^"]+)"\} (\d)', metrics(), re.M))
        want = {a: "1", b: "0", c: "1"}
        wait_until("the right key up, the wrong one down",
                   lambda: ups() == want and re.search(
                       r'errors_total\{kind="dtls"\} [1-9]', metrics()), 30)
        assert f'vigil_device_info{{instance="{a}"' in metrics()
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(10)
