"""A refused 1026 at the first registration must not lock a device out.

Found by the reliability campaign (issue 19, corrupt_plain): one byte of
the server's 1600 (the new client id) flipped on the way, so vigild
saved a wrong id in me.info and sent its 1026 for that id; vigil-backupd
answered 1607 ("unknown client"), vigild took that for an older server
that wants 162-byte keys, switched, got 1607 again, and from then on
every attempt of every job sent the same 1026 for the unknown id:
"answered 1607 to 1026" for good, until someone deleted me.info.  Now a
refused 1026 (other than the one 160 -> 162 format switch) makes the next
attempt register again, which gives the right id back (the same one:
no key was ever taken for the name).

The other case, a key the server cannot parse (a flip in the key's DER),
takes the format switch and registers with the 162-byte key; it is kept
here as the path the fix must not change."""
import pathlib
import re
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "campaign"))
from faults import Fault, FaultProxy  # noqa: E402
from rig import Rig  # noqa: E402

# client to server: 1025 (23-byte header + 255-byte name), then the
# 1026's header and name; its SubjectPublicKeyInfo starts here
SPKI_AT = 23 + 255 + 23 + 255
# server to client: the 1600's 7-byte header, then the 16-byte id
ID_IN_1600 = 7 + 5

CASES = {
    "id in the 1600": (("down", ID_IN_1600), "1026: unknown client campaign"),
    "key in the 1026": (("up", SPKI_AT), "1026 payload: public key not RSA-1024 DER"),
}


@pytest.mark.parametrize("case", CASES)
def test_damaged_registration_recovers_in_the_same_job(case, pki, tmp_path):
    at, refusal = CASES[case]
    rig = Rig(tmp_path, 24, pki, 200_000, "tcp")
    proxy = None
    try:
        rig.start_server()
        proxy = FaultProxy(("127.0.0.1", rig.server_port()),
                           [Fault(corrupt_at=at, mask=0xff)])
        rig.watch_start()
        rig.start_agent(rig.agent_url(proxy.port))
        rig.agent.cmd("backup now")
        rig.server.wait_for("1607 and close: " + re.escape(refusal), timeout=15)
        job, _ = rig.wait_done(timeout=30)
        assert job == 1, rig.agent.log()[-3000:]
        assert proxy.corrupted == 1
        # the device keeps working with the identity the server took
        mark = len(rig.agent.log())
        rig.agent.cmd("backup now")
        assert rig.wait_done(after_job=1, mark=mark, timeout=30)[0] == 2
        (client,) = rig.agent_clients()
        me = (tmp_path / "agentdata" / "me.info").read_text().split()
        assert me[1] == pathlib.Path(client).name
        bad, lost = rig.check()
        assert not bad and lost == 0, bad
    finally:
        if proxy:
            proxy.close()
        rig.close()
