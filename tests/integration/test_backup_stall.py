"""A peer that stops reading in the middle of a file (a stuck server, or
a link that drops every packet: the agent's TCP window closes and its
writes block).  The agent's I/O timeout (`backup.timeout`, "no byte sent
or received this long") must end that connection and retry, as it does
for a reply that never comes.

Found by the reliability campaign (issue 19): after a corrupted TLS
record the server closed its side, the proxy in between stopped reading,
and vigild waited for its socket to become writable for good, because
the I/O timer skipped the check while the engine wanted the next file
slice (BKE_WANT_READ), which is exactly when the agent waits for room to
write (firmware/backup/backup_agent_run.c, do_read and on_io_timer)."""
import pathlib
import re
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "campaign"))
from faults import Fault, FaultProxy  # noqa: E402
from rig import Rig  # noqa: E402


@pytest.mark.parametrize("transport", ["tcp", "tls"])
def test_peer_that_stops_reading_times_out_and_is_retried(transport, pki, tmp_path):
    rig = Rig(tmp_path, 19, pki, 8 << 20, transport)
    proxy = None
    try:
        rig.start_server()
        # the first connection stops being read 1 MiB into the upload:
        # far more than the socket buffers on both sides of the proxy
        # hold, so vigild's writes block
        proxy = FaultProxy(("127.0.0.1", rig.server_port()),
                           [Fault(stall_at=("up", 1 << 20))])
        rig.watch_start()
        rig.start_agent(rig.agent_url(proxy.port), "backup.timeout = 1\n")
        rig.agent.cmd("backup now")
        # a hung agent never gets here; a fixed one retries after ~1 s
        rig.wait_done(timeout=30)
        assert proxy.stalls == 1 and len(proxy.conns) == 2, (proxy.stalls, len(proxy.conns))
        log = rig.agent.log()
        assert re.search(r"timed out \(1000 ms without progress\)", log), log
        bad, lost = rig.check()
        assert not bad and lost == 0, bad
    finally:
        if proxy:
            proxy.close()
        rig.close()
