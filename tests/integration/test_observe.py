"""Observability: vigild (log.format = json) and vigil-backupd
(--log-format json) write one valid JSON object per line with the required
keys, a backup job's trace id is on vigild's lines for that job and, over
vigil/2, on vigil-backupd's lines for its connection (never over plain v3),
hostile file names still give valid JSON, and the histograms of both count
what the test caused (docs/vigild.md "Log" and "Metrics", docs/backupd.md,
docs/protocol/cyberbackup-v3.md "Extension: trace id")."""
import json
import os
import re
import socket
import subprocess
import time
from pathlib import Path

import cbor2

from backupd import tls_args
from cddl import CDDL, Cddl
from conftest import binary
from console import wait_job
from netutil import free_port

KEYS = {"ts", "level", "subsystem", "msg"}


def json_lines(raw):
    """Every line parsed by a real JSON parser, each with the fixed keys."""
    out = []
    for line in raw.splitlines():
        doc = json.loads(line)  # raises on anything but valid JSON
        assert KEYS <= set(doc), line
        assert doc["ts"].endswith("Z") and len(doc["ts"]) == 24, line
        out.append(doc)
    return out


def test_json_logs_and_trace(agent, server_factory, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "one").write_bytes(b"1" * 1000)
    (src / "two").write_bytes(b"2" * 70000)
    (src / 'q"\\\x01\xff'.encode("utf-8", "surrogateescape").decode(
        "utf-8", "surrogateescape")).write_bytes(b"3")
    srv = server_factory(["--log-format", "json"])
    c = agent(f"tcp://127.0.0.1:{srv.port}", src, "log.format = json\n")
    assert "job 1 queued" in c.cmd("backup now")
    wait_job(c, 1)
    srv.wait_for(r'"msg":"#\d+ [^"]*: stored .*two')
    agent_lines = json_lines(Path(c.log_path).read_bytes().decode("utf-8"))
    started = [d for d in agent_lines if d.get("job") == 1 and "trace" in d]
    assert started, agent_lines
    trace = started[0]["trace"]
    assert len(trace) == 16 and int(trace, 16) >= 0
    sent = [d for d in agent_lines if d.get("trace") == trace and "file" in d]
    assert {Path(d["file"]).name for d in sent} >= {"one", "two"}, sent
    assert all(d["bytes"] >= 0 and d["subsystem"] == "backup" for d in sent)
    # the server's histograms: one observation per stored file
    st = subprocess.run([str(binary("vigil-backupd")), "--data",
                         str(tmp_path / "data"), "--status=json"],
                        capture_output=True, timeout=10, check=True)
    metrics = json.loads(st.stdout)["metrics"]
    srv.stop()
    srv_lines = json_lines("\n".join(srv.lines))
    stored = [d for d in srv_lines if "file" in d and "stored" in d["msg"]]
    assert {d["file"].rsplit("_", 1)[-1] for d in stored} >= {"one", "two"}
    assert all(isinstance(d["conn"], int) and d["peer"] for d in stored)
    assert metrics["file"]["count"] == len(stored)
    assert metrics["file"]["buckets"][-1] <= len(stored)
    # a plain v3 connection never carries a trace id to the server
    assert not [d for d in srv_lines if "trace" in d], srv_lines


def test_trace_joins_agent_and_server_logs_on_vigil2(tls_agent, server_factory,
                                                     pki, tmp_path):
    """One job of 3 files over TLS (ALPN vigil/2): the job's trace id is
    sent (1048) and is on vigild's lines for the job and on every
    vigil-backupd line for that connection from the 1048 on, so the two
    logs join by it."""
    src = tmp_path / "src"
    src.mkdir()
    names = {"a.txt": b"a" * 10, "b.bin": os.urandom(70000), "c": b"c"}
    for n, data in names.items():
        (src / n).write_bytes(data)
    srv = server_factory(["--log-format", "json"] + tls_args(pki))
    c = tls_agent(srv.tls_port, src, pki, pki, "log.format = json\n")
    assert "job 1 queued" in c.cmd("backup now")
    jobs = wait_job(c, 1)
    assert "job 1 done" in jobs, jobs
    agent_lines = json_lines(Path(c.log_path).read_bytes().decode("utf-8"))
    trace = [d for d in agent_lines if d.get("job") == 1 and "trace" in d][0]["trace"]
    assert re.fullmatch(r"[0-9a-f]{16}", trace)
    assert f"trace {trace}" in jobs            # the console shows it
    # the console's metrics: one job, its 3 files, one full handshake
    counts = {m.group(1): int(m.group(2)) for m in re.finditer(
        r"^  (\S+) +(\d+) ", c.cmd("metrics"), re.M)}
    assert counts["backup_job"] == 1 and counts["backup_file"] == 3, counts
    assert counts["backup_file_rate"] == 3, counts
    assert counts["tls_handshake_full"] + counts["tls_handshake_resumed"] == 1
    srv.wait_for(r'"msg":"#\d+ [^"]*: trace ' + trace)
    srv.stop()
    srv_lines = json_lines("\n".join(srv.lines))
    # join: the files vigild sent and the files vigil-backupd stored
    sent = {Path(d["file"]).name for d in agent_lines
            if d.get("trace") == trace and "file" in d}
    stored = [d for d in srv_lines if d.get("trace") == trace
              and "file" in d and "stored" in d["msg"]]
    assert sent == set(names), agent_lines
    assert {d["file"].rsplit("_", 1)[-1] for d in stored} == set(names), srv_lines
    # every server line of that connection after the 1048 carries it
    conn = stored[0]["conn"]
    first = next(i for i, d in enumerate(srv_lines)
                 if d.get("conn") == conn and d["msg"].endswith("trace " + trace))
    later = [d for d in srv_lines[first:] if d.get("conn") == conn]
    assert len(later) >= 5 and all(d.get("trace") == trace for d in later), later
    assert not [d for d in srv_lines if d.get("trace") not in (None, trace)]


def coap_get(url, tmp_path):
    out = tmp_path / f"o{time.monotonic_ns()}.cbor"
    p = subprocess.run(["coap-client-notls", "-m", "get", "-B", "5", "-o",
                        str(out), url], capture_output=True, timeout=20)
    assert out.exists() and out.stat().st_size > 0, p.stderr
    return cbor2.loads(out.read_bytes())


FAST_WDT = ("watchdog.timeout = 2s\nhealth.interval = 300ms\n"
            "health.timeout = 300ms\nhealth.start_period = 0\n"
            "health.retries = 2\nhealth.debounce = 2\nhealth.grace = 1s\n"
            # more free space than any disk has: storage fails, kicks stop
            "health.min_free = 1125899906842624\n")


def test_histograms_count_what_the_test_caused(agent_factory, dev_config,
                                               tmp_path):
    """The watchdog file records every kick: once the agent has stopped
    kicking (a failing required check), the kick histograms hold exactly
    the kicks after the one at open, each planned at timeout/2 = 1000 ms
    (sum = 1000 x count).  A health check's own histogram counts its
    runs, and /status carries the same counts compactly (CDDL)."""
    port = free_port(socket.SOCK_DGRAM)
    dev = tmp_path / "wdt"
    dev.write_bytes(b"")
    conf = dev_config(FAST_WDT + f"coap.listen = 127.0.0.1:{port}\n")
    conf.write_text(conf.read_text().replace("watchdog.device = none",
                                             f"watchdog.device = {dev}"))
    a = agent_factory(["--config", str(conf)])
    a.wait_for("running")
    a.wait_for("stopping kicks", timeout=10)
    base = f"coap://127.0.0.1:{port}"
    m = coap_get(base + "/metrics", tmp_path)
    kicks = dev.read_bytes().count(b"k") - 1    # the one at open
    assert kicks >= 1
    for name in ("watchdog_kick_planned", "watchdog_kick_actual"):
        assert m[name]["count"] == kicks, (name, m[name], kicks)
    assert m["watchdog_kick_planned"]["sum"] == 1000 * kicks
    assert m["watchdog_kick_planned"]["buckets"][:2] == [0, kicks]
    status = coap_get(base + "/status", tmp_path)
    Cddl(CDDL.read_text()).validate(status, "status")
    assert status["metrics"]["watchdog_kick_planned"] == [kicks, 1000 * kicks, 0, kicks]
    # the storage check: its histogram counts its runs (checks go on
    # every 300 ms: take a window in which it did not run)
    for _ in range(50):
        m1 = coap_get(base + "/metrics", tmp_path)
        runs = coap_get(base + "/health", tmp_path)["checks"]["storage"]["runs"]
        m2 = coap_get(base + "/metrics", tmp_path)
        n1, n2 = (x["health_check/storage"]["count"] for x in (m1, m2))
        if n1 == n2:
            break
    assert n1 == n2 == runs and runs >= 2, (n1, n2, runs)
    per_check = sum(v["count"] for k, v in m2.items() if k.startswith("health_check/"))
    assert m2["health_check"]["count"] == per_check
    assert m2["health_check/storage"]["buckets"][-1] <= runs
    assert a.stop() == 0
