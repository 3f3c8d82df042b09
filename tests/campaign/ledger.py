"""Where each campaign run is recorded: one JSON object per line in
$VIGIL_CAMPAIGN_LOG (default build/campaign/runs.jsonl), appended with
O_APPEND (pytest-xdist workers write to it at once: one write() per
line).  tests/campaign/report.py turns it into the table in
docs/reliability.md."""
import json
import os
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]


def path():
    return pathlib.Path(os.environ.get("VIGIL_CAMPAIGN_LOG",
                                       ROOT / "build/campaign/runs.jsonl"))


def record(**run):
    """run: scenario, seed, ok, lost, recovery_s, seconds, violations, ..."""
    p = path()
    p.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(run, default=str) + "\n").encode()
    fd = os.open(p, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def load(p=None):
    p = pathlib.Path(p) if p else path()
    if not p.exists():
        return []
    return [json.loads(ln) for ln in p.read_text().splitlines() if ln.strip()]
