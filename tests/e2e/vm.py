"""One appliance VM for the end-to-end tests: image/boot.sh under pexpect
(the serial console is the child's terminal) plus a QMP socket whose
events (RESET, WATCHDOG, ...) are collected with host times.

Everything here waits for an event with a bound; nothing sleeps a fixed
time and hopes."""
import json
import os
import re
import signal
import socket
import threading
import time

import pexpect

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PROMPT = "vigil> "


class Vm:
    def __init__(self, board, workdir, data_img, coap_port):
        self.board, self.workdir = board, workdir
        self.data_img, self.coap_port = str(data_img), coap_port
        self.qmp_path = os.path.join(workdir, "qmp.sock")
        self.serial_log = open(os.path.join(workdir, "serial.log"), "a")
        self.child = None
        self.events = []          # (host monotonic time, event dict)
        self.events_cv = threading.Condition()
        self.boots = 0

    # ---- life cycle ----------------------------------------------------
    def start(self):
        """Boots (a power-on): qemu with the image, a fresh QMP socket."""
        if os.path.exists(self.qmp_path):
            os.unlink(self.qmp_path)
        self.serial_log.write(f"\n===== power on ({self.board}) =====\n")
        self.child = pexpect.spawn(
            os.path.join(ROOT, "image", "boot.sh"),
            [self.board, "--quiet", "--data", self.data_img,
             "--coap-port", str(self.coap_port), "--",
             "-qmp", f"unix:{self.qmp_path},server=on,wait=off"],
            cwd=ROOT, encoding="latin-1", codec_errors="replace",
            timeout=30, logfile=self.serial_log, dimensions=(50, 200))
        self.t_power_on = time.monotonic()
        self._qmp_connect()
        return self

    def _qmp_connect(self, timeout=20):
        deadline = time.monotonic() + timeout
        while True:
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(self.qmp_path)
                break
            except OSError:
                s.close()
                if time.monotonic() > deadline or not self.child.isalive():
                    raise AssertionError(f"no QMP socket from qemu ({self.board})")
                time.sleep(0.05)
        s.sendall(b'{"execute": "qmp_capabilities"}\n')
        t = threading.Thread(target=self._qmp_read, args=(s,), daemon=True)
        t.start()

    def _qmp_read(self, s):
        buf = b""
        with s:
            while True:
                try:
                    data = s.recv(4096)
                except OSError:
                    return
                if not data:
                    return
                buf += data
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    try:
                        msg = json.loads(line)
                    except ValueError:
                        continue
                    if "event" in msg:
                        with self.events_cv:
                            self.events.append((time.monotonic(), msg))
                            self.events_cv.notify_all()

    def wait_event(self, name, after=0.0, timeout=60):
        """The first QMP event NAME received after host time AFTER."""
        deadline = time.monotonic() + timeout
        with self.events_cv:
            while True:
                for t, ev in self.events:
                    if ev["event"] == name and t >= after:
                        return t, ev
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no QMP {name} event within {timeout} s; "
                                         f"events: {[e['event'] for _, e in self.events]}")
                self.events_cv.wait(left)

    def power_cut(self):
        """kill -9 of qemu: the board loses power mid-run."""
        if self.child and self.child.isalive():
            os.kill(self.child.pid, signal.SIGKILL)
            self.child.wait()
        self.child = None

    def stop(self):
        self.power_cut()
        self.serial_log.close()

    # ---- serial console ------------------------------------------------
    def expect(self, pattern, timeout=30):
        """Waits for a regex on the serial line; returns the match."""
        try:
            self.child.expect(pattern, timeout=timeout)
        except (pexpect.TIMEOUT, pexpect.EOF) as e:
            raise AssertionError(f"{self.board}: no /{pattern}/ on the serial line "
                                 f"within {timeout} s ({type(e).__name__}); last output:\n"
                                 f"{self.child.before[-2000:]}") from None
        return self.child.match

    def wait_booted(self, timeout=60):
        """Waits for a boot to reach vigild's console prompt; returns the
        start log line's (count, last_reset, reason) and the host time the
        boot began."""
        t0 = time.monotonic()
        self.expect(r"vigil-init: vigil \S+ \(git", timeout)
        t_init = time.monotonic()
        m = self.expect(r"(?:INFO|WARN) boot: start (\d+), last reset: (\w+) "
                        r"\(([^\r\n]*?)\)(; SAFE MODE: backups off)?\r*\n", timeout)
        start = (int(m.group(1)), m.group(2), m.group(3))
        self.safe_mode = bool(m.group(4))
        self.expect(re.escape(PROMPT), timeout)
        self.boots += 1
        return {"start": start, "t_wait": t0, "t_init": t_init,
                "t_prompt": time.monotonic()}

    def send_line(self, line):
        """Types a command without waiting for the prompt (`reboot`)."""
        self.child.send(line + "\r")

    def cmd(self, line, timeout=20):
        """Runs one console command; returns its output (the text between
        the echoed command and the next prompt)."""
        self.child.send(line + "\r")
        self.expect(re.escape(line) + r"\r*\n", timeout)
        self.expect(re.escape(PROMPT), timeout)
        return re.sub(r"\r+\n", "\n", self.child.before)

    def expect_cmd(self, line, pattern, timeout=20):
        """Runs a command whose output must match pattern; returns the
        match (the whole output is in self.last_output)."""
        self.last_output = self.cmd(line, timeout)
        m = re.search(pattern, self.last_output)
        if not m:
            raise AssertionError(f"`{line}`: no /{pattern}/ in:\n{self.last_output}")
        return m

    def poll_cmd(self, line, pattern, timeout, accept=lambda m: True):
        """Runs a command until its output matches pattern (and accept
        likes the match), for states the console shows only on request;
        returns that output."""
        deadline = time.monotonic() + timeout
        out = ""
        while time.monotonic() < deadline:
            out = self.cmd(line)
            m = re.search(pattern, out)
            if m and accept(m):
                return out
            time.sleep(0.3)
        raise AssertionError(f"`{line}` never showed /{pattern}/ in {timeout} s; last:\n{out}")

    def serial_text(self):
        """Everything the serial line has shown so far (all boots)."""
        self.serial_log.flush()
        with open(self.serial_log.name, encoding="latin-1") as f:
            return f.read()

    def status(self):
        """`status --json`, parsed."""
        out = self.cmd("status --json")
        for line in out.splitlines():
            if line.startswith("{"):
                return json.loads(line)
        raise AssertionError(f"no JSON in `status --json`:\n{out}")
