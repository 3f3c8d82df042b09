"""Observability: vigild (log.format = json) and vigil-backupd
(--log-format json) write one valid JSON object per line with the required
keys, a backup job's trace id is on vigild's lines for that job, hostile
file names still give valid JSON, and vigil-backupd's histograms count
what the test caused (docs/vigild.md "Log", docs/backupd.md)."""
import json
import subprocess
from pathlib import Path

from conftest import binary
from console import wait_job

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
