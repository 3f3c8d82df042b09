"""A real single-node Ceph RADOS Gateway for tests (Debian's radosgw,
ceph-mon, ceph-osd): one monitor, one memstore OSD and radosgw, every
path inside a temp dir, no authentication between the daemons (cephx
off), each daemon in the foreground with its output in a file.  Start-up
~1.5 s, RSS ~140 MB.  The recipe is in ../shared/DESIGN.md ("Facts
verified").

    with RadosGW(tmp_path) as rgw:
        rgw.endpoint, rgw.access_key, rgw.secret_key, rgw.make_bucket("b")

Everything is bounded in time, and stop() always ends the daemons
(SIGTERM, then SIGKILL when one hangs)."""
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid

from netutil import free_port

START_TIMEOUT = 60.0
CMD_TIMEOUT = 30.0
ACCESS_KEY = "VIGILTESTACCESSKEY01"
SECRET_KEY = "vigilTestSecretKey0123456789abcdefghijklm"


def available():
    return all(shutil.which(p) for p in
               ("radosgw", "ceph-mon", "ceph-osd", "monmaptool", "ceph",
                "radosgw-admin"))


CONF = """[global]
fsid = {fsid}
mon host = v2:127.0.0.1:{mon_port}
mon initial members = a
auth cluster required = none
auth service required = none
auth client required = none
ms mon client mode = crc
run dir = {d}/run
admin socket = {d}/run/$name.asok
pid file = {d}/run/$name.pid
log file = {d}/log/$name.log
mon cluster log file = {d}/log/cluster.log
crash dir = {d}/crash
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
keyring = {d}/keyring
[mon]
mon data = {d}/mon/$cluster-$id
paxos propose interval = 0.05
[osd]
osd data = {d}/osd/$cluster-$id
osd objectstore = memstore
memstore device bytes = 1073741824
osd mon shutdown timeout = 0.2
osd max object name len = 256
osd max object namespace len = 64
[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:{rgw_port}
rgw data = {d}/rgw
rgw dns name = 127.0.0.1
"""


class RadosGW:
    def __init__(self, tmp_dir):
        self.dir = os.path.join(str(tmp_dir), "ceph")
        self.conf = os.path.join(self.dir, "ceph.conf")
        self.rgw_port = free_port()
        self.mon_port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.rgw_port}"
        self.access_key, self.secret_key = ACCESS_KEY, SECRET_KEY
        self.procs = {}

    # -- helpers --------------------------------------------------------
    def _log(self, name):
        return open(os.path.join(self.dir, "log", f"{name}.out"), "ab")

    def _run(self, *args, timeout=CMD_TIMEOUT):
        with self._log("commands") as out:
            subprocess.run(list(args) + ["-c", self.conf], check=True,
                           stdin=subprocess.DEVNULL, stdout=out,
                           stderr=subprocess.STDOUT, timeout=timeout)

    def _daemon(self, name, *args):
        with self._log(name) as out:
            self.procs[name] = subprocess.Popen(
                list(args) + ["-c", self.conf, "-f"],
                stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True)

    def _check_alive(self):
        for name, p in self.procs.items():
            if p.poll() is not None:
                raise AssertionError(f"{name} exited ({p.returncode}); "
                                     f"see {self.dir}/log")

    def _wait_port(self, deadline):
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                with socket.create_connection(("127.0.0.1", self.rgw_port),
                                              timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"radosgw did not listen within "
                             f"{START_TIMEOUT} s; see {self.dir}/log")

    # -- life -----------------------------------------------------------
    def start(self):
        for sub in ("run", "log", "crash", "mon", "osd/ceph-0", "rgw"):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        fsid = str(uuid.uuid4())
        with open(self.conf, "w") as f:
            f.write(CONF.format(fsid=fsid, mon_port=self.mon_port,
                                rgw_port=self.rgw_port, d=self.dir))
        deadline = time.monotonic() + START_TIMEOUT
        try:
            monmap = os.path.join(self.dir, "monmap")
            subprocess.run(["monmaptool", "--create", "--fsid", fsid,
                            "--addv", "a", f"[v2:127.0.0.1:{self.mon_port}]",
                            monmap], check=True, capture_output=True,
                           timeout=CMD_TIMEOUT)
            self._run("ceph-mon", "--mkfs", "-i", "a", "--monmap", monmap)
            self._daemon("mon", "ceph-mon", "-i", "a")
            osd_uuid = str(uuid.uuid4())
            self._run("ceph", "--connect-timeout", "20", "osd", "new",
                      osd_uuid, "0")
            self._run("ceph-osd", "-i", "0", "--mkfs", "--osd-uuid", osd_uuid)
            self._daemon("osd", "ceph-osd", "-i", "0")
            self._daemon("rgw", "radosgw", "-n", "client.rgw")
            self._wait_port(deadline)
            self._run("radosgw-admin", "user", "create", "--uid", "vigil",
                      "--display-name", "vigil", "--access-key",
                      self.access_key, "--secret-key", self.secret_key)
        except BaseException:
            self.stop()
            raise
        return self

    def stop_rgw(self):
        """Stops only the gateway (the store goes away; the cluster stays)."""
        self._end("rgw")

    def start_rgw(self):
        self._daemon("rgw", "radosgw", "-n", "client.rgw")
        self._wait_port(time.monotonic() + START_TIMEOUT)

    def _end(self, name):
        p = self.procs.pop(name, None)
        if p is None or p.poll() is not None:
            return
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=10)

    def stop(self):
        for name in ("rgw", "osd", "mon"):
            self._end(name)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- S3 from the test's side (curl, a client no one here wrote) -------
    def s3(self, method, path, data=None, expect_ok=True):
        """An S3 request with curl's SigV4: (status, body bytes).  A
        query is written as SigV4 signs it (curl 7.88 does not sort or
        complete it): keys sorted, "key=" for a bare key."""
        args = ["curl", "-sS", "--max-time", "30", "-X", method,
                "--aws-sigv4", "aws:amz:us-east-1:s3",
                "--user", f"{self.access_key}:{self.secret_key}",
                "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD",
                "-o", "-", "-w", "\n%{http_code}"]
        if data is not None:
            args += ["--data-binary", "@-"]
        r = subprocess.run(args + [self.endpoint + path], input=data,
                           capture_output=True, timeout=60, check=True)
        body, _, code = r.stdout.rpartition(b"\n")
        status = int(code)
        if expect_ok:
            assert 200 <= status < 300, (method, path, status, body)
        return status, body

    def make_bucket(self, name):
        self.s3("PUT", f"/{name}")
        return name

    def keys(self, bucket, prefix=""):
        """Every object key under prefix (ListObjectsV2, one page)."""
        import re
        _, body = self.s3("GET", f"/{bucket}?list-type=2&prefix={prefix}")
        return re.findall(r"<Key>([^<]*)</Key>", body.decode())

    def uploads(self, bucket):
        """Multipart uploads in progress (ListMultipartUploads)."""
        import re
        _, body = self.s3("GET", f"/{bucket}?uploads=")
        return re.findall(r"<UploadId>([^<]*)</UploadId>", body.decode())

    def credentials_file(self, path):
        with open(path, "w") as f:
            f.write(f"# test credentials\naccess_key = {self.access_key}\n"
                    f"secret_key = {self.secret_key}\n")
        os.chmod(path, 0o600)
        return path
