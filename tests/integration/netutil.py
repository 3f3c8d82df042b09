"""Ports for tests to bind their own peers to."""
import socket


def free_port(kind=socket.SOCK_STREAM):
    """A port free for `kind` (TCP or UDP) on both 127.0.0.1 and ::1 right
    now: the kernel picks one on 127.0.0.1, ::1 must have it free too."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, kind) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        try:
            with socket.socket(socket.AF_INET6, kind) as s6:
                s6.bind(("::1", port))
            return port
        except OSError:
            continue
    raise AssertionError("no free port")
