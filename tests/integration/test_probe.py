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
        # exactly one connection arrived, and it sent nothing
        # generous: on a loaded 2-core CI machine the accept queue is
        # read seconds later than the probe finished
        srv.settimeout(5)
        c, _ = srv.accept()
        c.settimeout(5)
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
