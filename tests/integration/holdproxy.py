"""A 127.0.0.1 TCP proxy that sends its first connection to one server,
holds it once a number of client bytes went through (the test then
stops that server mid-transfer), and sends every later connection to
another server."""
import socket
import threading


class HoldProxy:
    """127.0.0.1 proxy: connection 0 goes to targets[0] and is held (no
    more bytes forwarded) once `hold_after` client bytes went through;
    later connections go to targets[1]."""

    def __init__(self, targets, hold_after):
        self.targets, self.hold_after = targets, hold_after
        self.held = threading.Event()
        self.conns = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.socks = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                a, _ = self.sock.accept()
            except OSError:
                return
            first = self.conns == 0
            self.conns += 1
            b = socket.create_connection(self.targets[0 if first else 1], timeout=5)
            b.settimeout(None)
            self.socks += [a, b]
            left = [self.hold_after if first else None]
            threading.Thread(target=self._pump, args=(a, b, left), daemon=True).start()
            threading.Thread(target=self._pump, args=(b, a, [None]), daemon=True).start()

    def _pump(self, src, dst, left):
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if not data:
                break
            if left[0] is not None:
                data = data[:left[0]]
                left[0] -= len(data)
            try:
                dst.sendall(data)
            except OSError:
                break
            if left[0] == 0:
                self.held.set()
                return              # forwards nothing more; the server ends it
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        self.sock.close()
        for s in self.socks:
            s.close()
