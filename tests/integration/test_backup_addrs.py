"""A backup.server name with several addresses: vigild tries them in the
resolver's order, at once, and backs up through the first that accepts.

"localhost" is ::1 and 127.0.0.1 on a Debian install, and a server that
listens on only one of them is common.  The name here is vigil-both, in
an /etc/hosts of the test's own (a private mount namespace), with the
server on one family only: one of the two runs meets a refused address
first, whatever order the resolver gives."""
import os
import socket
import sys

import pytest

from backup_cli import assert_stored, vigild_backup
from console import Console, wait_job

sys.path.insert(0, os.path.dirname(__file__))
from v3_refserver import RefServer  # noqa: E402

NAME = "vigil-both"


@pytest.fixture
def with_hosts(tmp_path):
    """A command prefix that runs its command with /etc/hosts giving NAME
    both loopback addresses."""
    hosts = tmp_path / "hosts"
    hosts.write_text(f"127.0.0.1 localhost\n::1 {NAME}\n127.0.0.1 {NAME}\n")
    user = [] if os.geteuid() == 0 else ["-r"]
    return ["unshare", *user, "-m", "sh", "-c",
            'mount --bind "$0" /etc/hosts && exec "$@"', str(hosts)]


def server_on_one_family(data_dir, listen):
    """A reference server on LISTEN, and its port held on the other family
    by a socket that is bound but not listening: a connection there is
    refused, and no other test's server can take that port meanwhile
    (tests run in parallel).  Returns (server, holder socket)."""
    other = socket.AF_INET if listen == "::1" else socket.AF_INET6
    for _ in range(20):
        srv = RefServer(data_dir, host=listen)
        hold = socket.socket(other, socket.SOCK_STREAM)
        try:
            hold.bind(("127.0.0.1" if other == socket.AF_INET else "::1", srv.port))
            return srv.start(), hold
        except OSError:
            hold.close()
            srv.stop()
    raise AssertionError("no port free on both families")


def fell_back(log, port, listen):
    """True if the log shows the refused address then the listening one."""
    other = "127.0.0.1" if listen == "::1" else "[::1]"
    here = "[::1]" if listen == "::1" else "127.0.0.1"
    return f"connect {other}:{port}: Connection refused; trying {here}:{port}" in log


def test_cli_tries_every_address(tmp_path, with_hosts):
    src = tmp_path / "file.bin"
    src.write_bytes(os.urandom(70000))
    fallbacks = 0
    for listen in ("127.0.0.1", "::1"):
        srv, hold = server_on_one_family(tmp_path / f"srv-{listen}", listen)
        try:
            r, _ = vigild_backup(f"tcp://{NAME}:{srv.port}", tmp_path / f"st-{listen}",
                                 [src], prefix=with_hosts)
            assert r.returncode == 0, r.stderr
            assert_stored(srv, src)
            # a refused address is not one of the three attempts
            assert "attempt" not in r.stderr, r.stderr
            fallbacks += fell_back(r.stderr, srv.port, listen)
        finally:
            srv.stop()
            hold.close()
    assert fallbacks == 1


def test_agent_tries_every_address(tmp_path, with_hosts):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_bytes(b"both families\n")
    fallbacks = 0
    for i, listen in enumerate(("127.0.0.1", "::1")):
        srv, hold = server_on_one_family(tmp_path / f"srv-{listen}", listen)
        conf = tmp_path / f"vigil{i}.conf"
        conf.write_text(
            f"data.dir = {tmp_path}/data{i}\n"
            "watchdog.device = none\nconsole.device = none\n"
            "log.syslog = false\ncoap.listen = none\n"
            f"backup.server = tcp://{NAME}:{srv.port}\nbackup.paths = {src}\n"
            "backup.timeout = 2\nbackup.retry_cap = 1\n")
        c = Console(conf, tmp_path / f"log{i}", prefix=with_hosts)
        try:
            c.expect(b"vigil> ")
            c.cmd("backup now")
            out = wait_job(c, 1)
            assert "job 1 done: done, 1/1 files" in out, out
            assert_stored(srv, src / "a.txt")
            log = (tmp_path / f"log{i}").read_text()
            assert "retrying in" not in log, log
            fallbacks += "; trying the next address" in log
        finally:
            c.close()
            srv.stop()
            hold.close()
    assert fallbacks == 1
