"""Resuming a cut upload (docs/protocol/cyberbackup-v3.md, "Resuming a
cut upload"): vigil-backupd keeps the bytes of a vigil/2 upload the
network cut, vigild asks for the offset after it reconnects and sends
only the rest.

A 200 MiB file (VIGIL_RESUME_MIB scales it) goes through a proxy that
cuts the first 10 connections after a random number of bytes; what the
proxy forwarded to the server in all is at most 110 % of the file, and
the stored file is the file."""
import hashlib
import os
import random
import re
import socket
import subprocess
import threading

from conftest import binary
from backupd import Server, TIMEOUT_MS, tls_args
from v3_names import v3_name

SIZE = int(os.environ.get("VIGIL_RESUME_MIB", "200")) << 20
CUTS = 10


class CountingCutProxy:
    """127.0.0.1 proxy: connection i < len(limits) is cut (both sides
    closed) once limits[i] client bytes were forwarded; counts every byte
    forwarded to the server."""

    def __init__(self, target, limits):
        self.target, self.limits = target, list(limits)
        self.up_bytes = 0
        self.conns = 0
        self.cuts_done = 0
        self.lock = threading.Lock()
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.threads = []
        t = threading.Thread(target=self._accept, daemon=True)
        t.start()
        self.threads.append(t)

    def _accept(self):
        while True:
            try:
                a, _ = self.sock.accept()
            except OSError:
                return
            b = socket.create_connection(self.target, timeout=5)
            b.settimeout(None)
            i = self.conns
            self.conns += 1
            limit = self.limits[i] if i < len(self.limits) else None
            state = {"left": limit, "closed": False}
            for src, dst, up in ((a, b, True), (b, a, False)):
                t = threading.Thread(target=self._pump,
                                     args=(src, dst, up, state, a, b), daemon=True)
                t.start()
                self.threads.append(t)

    def _pump(self, src, dst, up, state, a, b):
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                break
            if not data:
                break
            with self.lock:
                if state["closed"]:
                    break
                if up and state["left"] is not None:
                    data = data[:state["left"]]
                    state["left"] -= len(data)
                if up:
                    self.up_bytes += len(data)
            try:
                dst.sendall(data)
            except OSError:
                break
            if up and state["left"] == 0:
                with self.lock:
                    state["closed"] = True
                    self.cuts_done += 1
                for s in (a, b):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                break
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self):
        self.sock.close()


def test_cut_ten_times_sends_at_most_110_percent(pki, tmp_path):
    srv = Server(["--data", str(tmp_path / "data"), "--timeout-ms", str(TIMEOUT_MS)]
                 + tls_args(pki)).start()
    rng = random.Random(17)
    # each cut after 1/20 .. 1/12 of the file: ten of them leave the
    # rest for the 11th connection
    limits = [rng.randint(SIZE // 20, SIZE // 12) for _ in range(CUTS)]
    proxy = CountingCutProxy(("127.0.0.1", srv.tls_port), limits)
    try:
        src = tmp_path / "src"
        src.mkdir()
        big = src / "big.bin"
        with open(big, "wb") as f:
            for _ in range(SIZE >> 20):
                f.write(os.urandom(1 << 20))
        conf = tmp_path / "vigil.conf"
        conf.write_text("\n".join([
            f"backup.server = tls://127.0.0.1:{proxy.port}",
            "device.name = resumer",
            f"data.dir = {tmp_path / 'state'}",
            f"tls.ca = {pki / 'ca.crt'}",
            f"tls.cert = {pki / 'client.crt'}",
            f"tls.key = {pki / 'client.key'}",
        ]) + "\n")
        r = subprocess.run([str(binary("vigild")), "backup", "--config", str(conf),
                            "--timeout", "5000", "--retry-cap", "100", str(big)],
                           capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr
        assert "1 files verified" in r.stderr, r.stderr
        assert proxy.cuts_done == CUTS and proxy.conns == CUTS + 1
        srv.wait_for(r"stored \(clear payload\) ")
        resumed = [ln for ln in srv.lines if "resumed at" in ln]
        assert len(resumed) == CUTS, "\n".join(srv.lines)
        kept = [int(m.group(1)) for m in
                (re.search(r"kept (\d+) of", ln) for ln in srv.lines) if m]
        assert len(kept) == CUTS and kept == sorted(kept)
        # what crossed the link: the file once, plus TLS, headers, the
        # handshakes and the few bytes in flight at each cut
        assert proxy.up_bytes <= SIZE * 1.10, (proxy.up_bytes, SIZE)
        data = tmp_path / "data"
        (client,) = [d for d in os.listdir(data) if len(d) == 32]
        stored = data / client / v3_name(big) / "v1"
        h = hashlib.sha256()
        with open(stored, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        hb = hashlib.sha256()
        with open(big, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                hb.update(chunk)
        assert h.hexdigest() == hb.hexdigest()
        assert os.listdir(data / ".resume") == []
        print(f"sent {proxy.up_bytes} bytes for {SIZE} ({proxy.up_bytes / SIZE:.3f})")
    finally:
        proxy.close()
        srv.stop()


def test_partial_expiry_zero_keeps_nothing(pki, tmp_path):
    """--partial-expiry 0: nothing is kept, the server does not offer
    the resume, and the file goes again from its first byte."""
    srv = Server(["--data", str(tmp_path / "data"), "--timeout-ms", str(TIMEOUT_MS),
                  "--partial-expiry", "0"] + tls_args(pki)).start()
    proxy = CountingCutProxy(("127.0.0.1", srv.tls_port), [3 << 20])
    try:
        big = tmp_path / "big.bin"
        big.write_bytes(os.urandom(8 << 20))
        conf = tmp_path / "vigil.conf"
        conf.write_text("\n".join([
            f"backup.server = tls://127.0.0.1:{proxy.port}",
            "device.name = nokeep", f"data.dir = {tmp_path / 'state'}",
            f"tls.ca = {pki / 'ca.crt'}", f"tls.cert = {pki / 'client.crt'}",
            f"tls.key = {pki / 'client.key'}"]) + "\n")
        r = subprocess.run([str(binary("vigild")), "backup", "--config", str(conf),
                            "--timeout", "5000", "--retry-cap", "100", str(big)],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        srv.wait_for(r"partial cleared")
        assert not [ln for ln in srv.lines if "resumed at" in ln or "kept " in ln]
        # with no resume the whole file went again after the cut
        assert proxy.up_bytes > (8 << 20) + (3 << 20) - (64 << 10)
    finally:
        proxy.close()
        srv.stop()
