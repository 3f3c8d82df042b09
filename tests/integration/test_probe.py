"""`vigild probe`: one TCP connection attempt to backup.server, 0.5 s at
most; exit 0 reachable, 1 not (or no server), 2 usage error."""
import socket
import subprocess
import time

from conftest import binary


def probe(args, timeout=5):
    t0 = time.monotonic()
    p = subprocess.run([str(binary("vigild")), "probe"] + args,
                       capture_output=True, text=True, timeout=timeout)
    return p, time.monotonic() - t0


def accept_within(srv, seconds):
    """The next connection on SRV; on a timeout, fails with what the kernel
    says of the listener and its port (ss), so a rare failure explains
    itself."""
    srv.settimeout(seconds)
    try:
        return srv.accept()[0]
    except socket.timeout:
        port = srv.getsockname()[1]
        ss = subprocess.run(["ss", "-tanpi", f"( sport = :{port} or dport = :{port} )"],
                            capture_output=True, text=True)
        raise AssertionError(f"no connection within {seconds} s:\n{ss.stdout}")


def test_reachable_counts_one_connection(dev_config):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    port = srv.getsockname()[1]
    try:
        conf = dev_config(f"backup.server = tcp://127.0.0.1:{port}\n")
        p, _ = probe(["--config", str(conf)])
        assert p.returncode == 0, p.stderr
        assert p.stdout.startswith(f"reachable 127.0.0.1:{port} in "), p.stdout
        assert p.stdout.rstrip().endswith(" ms")
        # exactly one connection arrived, and it sent nothing.  The probe
        # has finished, so the connection is in the accept queue; the wait
        # is only a bound for a machine too loaded to run this process.
        c = accept_within(srv, 30)
        c.settimeout(30)
        assert c.recv(16) == b""
        c.close()
        srv.settimeout(0.2)
        try:
            srv.accept()
            assert False, "a second connection"
        except socket.timeout:
            pass
    finally:
        srv.close()


def test_refused_and_no_server(dev_config):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    conf = dev_config(f"backup.server = tcp://127.0.0.1:{port}\n")
    p, _ = probe(["--config", str(conf)])
    assert p.returncode == 1
    assert p.stdout.startswith(f"unreachable 127.0.0.1:{port}: Connection refused after ")
    p, _ = probe(["--config", str(dev_config(name="none.conf"))])
    assert p.returncode == 1
    assert "no backup.server configured" in p.stderr


def test_silent_address_gives_up_after_half_a_second(dev_config):
    # TEST-NET-1 is never routed: either no answer (timeout) or no route
    conf = dev_config("backup.server = tcp://192.0.2.1:4433\n")
    p, took = probe(["--config", str(conf)])
    assert p.returncode == 1
    assert p.stdout.startswith("unreachable 192.0.2.1:4433: ")
    assert took < 2.0, took
    if "timed out" in p.stdout:
        assert 0.45 <= took, took
        assert p.stdout.rstrip().endswith("after 500 ms")


def test_usage_errors(tmp_path):
    p, _ = probe(["--bogus"])
    assert p.returncode == 2
    p, _ = probe(["--config"])
    assert p.returncode == 2
    p, _ = probe(["--config", str(tmp_path / "missing.conf")])
    assert p.returncode == 1
    assert "missing.conf" in p.stderr
