"""Reading a child process's stderr (its log) line by line."""
import os
import select


class StderrLines:
    """Collects self.proc's stderr lines in self.lines (with `newline`
    appended to each).  It reads the raw descriptor and splits lines
    itself: a buffered reader would swallow several lines into its
    buffer, where select() no longer sees them."""

    newline = ""

    def __init__(self):
        self.lines = []
        self._partial = b""

    def _read_some(self, timeout):
        """Reads what stderr has within timeout; False at end of file."""
        fd = self.proc.stderr.fileno()
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            return True
        chunk = os.read(fd, 65536)
        if not chunk:
            return False
        *done, self._partial = (self._partial + chunk).split(b"\n")
        self.lines += [d.decode(errors="replace") + self.newline for d in done]
        return True
