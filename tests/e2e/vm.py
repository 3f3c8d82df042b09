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


LOG_RECORD = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z "
                        r"(?:DEBUG|INFO|WARN|ERROR) [^\n]*\n")


class Transcript:
    """Everything read from the serial line, in memory and in a file:
    pexpect's logfile."""

    def __init__(self, path):
        self.file = open(path, "a", encoding="latin-1")
        self.text = ""

    def write(self, data):
        self.text += data
        self.file.write(data)

    def flush(self):
        self.file.flush()

    def note(self, line):
        self.write(f"\n===== {line} =====\n")

    def close(self):
        self.file.close()


class Vm:
    def __init__(self, board, workdir, data_img, coap_port):
        self.board, self.workdir = board, workdir
        self.data_img, self.coap_port = str(data_img), coap_port
        self.qmp_path = os.path.join(workdir, "qmp.sock")
        self.serial = Transcript(os.path.join(workdir, "serial.log"))
        self.child = None
        self.events = []          # (host monotonic time, event dict)
        self.events_cv = threading.Condition()
        self.boots = 0

    # ---- life cycle ----------------------------------------------------
    def start(self):
        """Boots (a power-on): qemu with the image, a fresh QMP socket."""
        if os.path.exists(self.qmp_path):
            os.unlink(self.qmp_path)
        self.serial.note(f"power on ({self.board})")
        self.child = pexpect.spawn(
            os.path.join(ROOT, "image", "boot.sh"),
            [self.board, "--quiet", "--data", self.data_img,
             "--coap-port", str(self.coap_port), "--",
             "-qmp", f"unix:{self.qmp_path},server=on,wait=off"],
            cwd=ROOT, encoding="latin-1", codec_errors="replace",
            timeout=30, dimensions=(50, 200))
        self.child.logfile_read = self.serial   # what qemu shows, not what we type
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
        self.serial.close()

    # ---- serial console ----------------------------------------------
    # Two writers share the line: vigild's console (echo, answers,
    # prompts) and its log on stderr, whose records can land between two
    # pieces of console output (even inside an echoed command). So log
    # events are searched in the transcript from a mark, never consumed
    # by a command's answer, and answers are read up to the next prompt
    # with log records taken out.
    def mark(self):
        """A position in the transcript: later waits look after it."""
        return len(self.serial.text)

    def wait_log(self, pattern, since, timeout=30):
        """The first match of pattern in the transcript after since,
        reading from the line until it comes; its end is .end()."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.serial.text, since)
            if m:
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(
                    f"{self.board}: no /{pattern}/ on the serial line within {timeout} s; "
                    f"since then:\n{self.serial.text[since:][-3000:]}")
            try:
                self.child.read_nonblocking(65536, timeout=min(left, 0.1))
            except pexpect.TIMEOUT:
                pass
            except pexpect.EOF:
                raise AssertionError(f"{self.board}: qemu exited while waiting for "
                                     f"/{pattern}/:\n{self.serial.text[since:][-3000:]}") from None

    def wait_booted(self, since=0, timeout=60):
        """Waits for a boot after since to reach vigild's console prompt;
        returns the start log line's (count, last_reset, reason) and host
        times; self.safe_mode says whether the agent started in safe mode."""
        m = self.wait_log(r"vigil-init: vigil \S+ \(git", since, timeout)
        t_init = time.monotonic()
        m = self.wait_log(r"(?:INFO|WARN) boot: start (\d+), last reset: (\w+) "
                          r"\(([^\r\n]*?)\)(; SAFE MODE: backups off)?\r*\n", m.end(), timeout)
        start = (int(m.group(1)), m.group(2), m.group(3))
        self.safe_mode = bool(m.group(4))
        m = self.wait_log(re.escape("Type `help` for commands.") + r"\r*\n" + re.escape(PROMPT),
                          m.end(), timeout)
        self.boots += 1
        self.last_boot_end = m.end()
        self.child.buffer = ""   # what came before is in the transcript
        return {"start": start, "t_init": t_init, "t_prompt": time.monotonic(),
                "end": m.end()}

    def follow(self, seconds):
        """Reads the serial line into the transcript for `seconds` (a
        moment a test chose, such as a random power-cut point)."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            try:
                self.child.read_nonblocking(65536, timeout=min(left, 0.05))
            except pexpect.TIMEOUT:
                pass

    def send_line(self, line):
        """Types a command without waiting for an answer (`reboot`)."""
        self.child.buffer = ""
        self.child.send(line + "\r")

    def cmd(self, line, timeout=20):
        """Runs one console command; returns what the console showed up to
        the next prompt (the echo, the answer), log records taken out."""
        self.send_line(line)
        try:
            self.child.expect_exact(PROMPT, timeout=timeout)
        except (pexpect.TIMEOUT, pexpect.EOF) as e:
            raise AssertionError(f"{self.board}: `{line}`: no prompt within {timeout} s "
                                 f"({type(e).__name__}); got:\n{self.child.before[-2000:]}") from None
        return LOG_RECORD.sub("", re.sub(r"\r+\n", "\n", self.child.before))

    def expect_cmd(self, line, pattern, timeout=20):
        """Runs a command whose answer must match pattern; returns the
        match (the whole answer is in self.last_output)."""
        self.last_output = self.cmd(line, timeout)
        m = re.search(pattern, self.last_output)
        if not m:
            raise AssertionError(f"`{line}`: no /{pattern}/ in:\n{self.last_output}")
        return m

    def poll_cmd(self, line, pattern, timeout, accept=lambda m: True):
        """Runs a command until its answer matches pattern (and accept
        likes the match), for states the console shows only on request;
        returns that answer."""
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
        return self.serial.text

    def status(self):
        """`status --json`, parsed."""
        out = self.cmd("status --json")
        for line in out.splitlines():
            if line.startswith("{"):
                return json.loads(line)
        raise AssertionError(f"no JSON in `status --json`:\n{out}")
