"""vigil-backupd's metadata as a test reads it: the SQLite file in the
data directory, or the PostgreSQL database that VIGIL_BACKUPD_DB names
(the backend the `backend` fixture chose), through psql."""
import os
import sqlite3
import subprocess


def rows(data_dir, sql, params=()):
    """The rows of sql (? placeholders, integer parameters only), with
    integer columns as int."""
    conninfo = os.environ.get("VIGIL_BACKUPD_DB")
    if not conninfo:
        db = sqlite3.connect(os.path.join(data_dir, "backupd.sqlite"), timeout=10)
        try:
            out = db.execute(sql, params).fetchall()
            db.commit()
            return out
        finally:
            db.close()
    for p in params:
        assert isinstance(p, int), p
        sql = sql.replace("?", str(p), 1)
    out = subprocess.run(["psql", "-X", "-q", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1",
                          "-d", conninfo, "-c", sql], stdin=subprocess.DEVNULL,
                         capture_output=True, text=True, timeout=60, check=True).stdout
    return [tuple(int(v) if v.lstrip("-").isdigit() else v for v in line.split("\t"))
            for line in out.splitlines() if line != ""]
