"""A stateful fuzzer of vigil-backupd's network input (issue 19): valid
CyberBackup v3 sessions, generated live (the AES key and client id come
from the server's answers, so the later messages of a session are still
meaningful), with messages mutated, dropped, repeated, reordered,
inserted, split into small writes or cut off, over plain tcp and over
TLS with ALPN vigil/2 (where the extension requests 1040-1048 exist).

Every `check_every` sessions `Fuzzer.health()` checks that the server
still works and kept its promises:
  - the process is alive and its log holds no sanitizer or assert report;
  - a well-behaved client backs up a random file over plain v3 (1604,
    and the stored version equals it) and over vigil/2 (a clear upload,
    then the file listed by 1041 and read back by 1043 byte for byte);
  - its open descriptors come back to the count after the first check
    once every fuzz connection is closed (none leak);
  - its data directory holds nothing but the documented layout
    (docs/backupd.md, "Data layout"), and `.tmp` is empty.

Used by tests/integration/test_session_fuzz.py (short form in make
check, long form in make soak)."""
import hashlib
import os
import re
import select
import socket
import ssl
import struct
import time

from Cryptodome.Cipher import PKCS1_OAEP
from Cryptodome.Hash import SHA256

import v3_client as v3
from backupd import tls_context

CLEAR = 4                       # the version byte of vigil/2 messages
HELLO, LIST, READ, ATTR, OFFSET, HAVE, SEGMENT, TRACE = 1040, 1041, 1043, 1044, 1045, 1046, 1047, 1048
R_HELLO, R_ENTRY, R_END, R_DATA, R_OFFSET, R_HAVE, R_SEGMENT, R_REFUSED = \
    1640, 1641, 1642, 1643, 1645, 1646, 1647, 1649
V3_CODES = set(range(1600, 1608))
V2_CODES = {R_HELLO, R_ENTRY, R_END, R_DATA, R_OFFSET, R_HAVE, R_SEGMENT, R_REFUSED}
CAPS_ALL = 0x1 | 0x2 | 0x4 | 0x8 | 0x10 | 0x40
SANITIZER = re.compile(r"AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|"
                       r"runtime error|Assertion .* failed|SUMMARY: ")
HEX32 = re.compile(r"[0-9a-f]{32}")
HEX64 = re.compile(r"[0-9a-f]{64}")

HOSTILE_NAMES = [b"", b"../x", b"a/b", b"..", b"a..b", b"CON", b"lpt1.txt", b"x.tmp",
                 b"\xc3\xa9", b"a\0b", b"%2e%2e", b"a" * 250, b"b" * 251, b".", b" ",
                 b"\\x", b"v1", b".content", b".tmp", b"backupd.sqlite"]
INTERESTING = [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff,
               0x80000000, 0xffffffff, (16 << 20) + 1024, (16 << 20) + 1025]


def name_field(b):
    return (b + b"\0" * 255)[:255]


def u64(v):
    return struct.pack("<II", v & 0xffffffff, (v >> 32) & 0xffffffff)


class Stats(dict):
    def add(self, key, n=1):
        self[key] = self.get(key, 0) + n


class Conn:
    """One fuzz connection: raw sends, and the answers parsed as they
    come (a malformed answer is a finding)."""

    def __init__(self, sock, stats, violations):
        self.sock, self.stats, self.violations = sock, stats, violations
        self.buf = b""
        self.closed = False

    def send(self, data, chunks=None):
        try:
            if not chunks:
                self.sock.sendall(data)
                return
            i = 0
            while i < len(data):
                self.sock.sendall(data[i:i + chunks])
                i += chunks
        except OSError:
            self.closed = True

    def answers(self, wait):
        """The complete answers that arrive within `wait` s of the first
        byte (and 0.05 s of quiet after it)."""
        out = []
        deadline = time.monotonic() + wait
        while not self.closed:
            pending = isinstance(self.sock, ssl.SSLSocket) and self.sock.pending()
            left = deadline - time.monotonic()
            if not pending and left <= 0:
                break
            if not pending and not select.select([self.sock], [], [], left)[0]:
                break
            try:
                chunk = self.sock.recv(1 << 20)
            except (ssl.SSLWantReadError, socket.timeout):
                continue
            except OSError:
                chunk = b""
            if not chunk:
                self.closed = True
                break
            self.buf += chunk
            out += self._parse()
            if out:
                deadline = min(deadline, time.monotonic() + 0.05)
        return out

    def _parse(self):
        out = []
        while len(self.buf) >= 7:
            version, code, size = struct.unpack("<BHI", self.buf[:7])
            ok = (version == 3 and code in V3_CODES) or (version == CLEAR and code in V2_CODES)
            if not ok or size > (1 << 20) + 20:
                self.violations.append(f"malformed answer: version {version} code {code} "
                                       f"size {size}")
                self.buf = b""
                break
            if len(self.buf) < 7 + size:
                break
            out.append((code, self.buf[7:7 + size]))
            self.stats.add(f"answer {code}")
            self.buf = self.buf[7 + size:]
        return out


class Session:
    """A valid session, generated step by step (`script`), and the live
    state it needs: client id, AES key, listed entries."""

    def __init__(self, rng, key, v2, name):
        self.rng, self.key, self.v2, self.name = rng, key, v2, name
        self.id = bytes(16)
        self.aes = rng.randbytes(32)
        self.entries = []

    def learn(self, code, payload):
        if code == v3.R_REG_OK and len(payload) == 16:
            self.id = payload
        elif code in (v3.R_AES, v3.R_RECON_OK) and len(payload) > 16:
            try:
                self.aes = PKCS1_OAEP.new(self.key, hashAlgo=SHA256).decrypt(payload[16:])
            except ValueError:
                pass
        elif code == R_ENTRY and len(payload) >= 42:
            self.entries.append(struct.unpack_from("<QI", payload))

    def req(self, code, payload, version=3):
        return v3.req(self.id, code, payload, version=version)

    def file_msgs(self, fname, data, clear):
        """The 1028s of data (version 4 plaintext, or v3 AES-CBC)."""
        rng = self.rng
        if clear:
            body, version = data, CLEAR
        else:
            c = v3.Client.__new__(v3.Client)
            c.aes = self.aes
            body, version = c.encrypt(data), 3
        size = max(rng.choice([16, 100, 4096, 65536]), len(body) // 16 + 1)
        slices = [body[i:i + size] for i in range(0, len(body), size)] or [b""]
        for k, s in enumerate(slices, 1):
            head = struct.pack("<IIHH", len(body), len(data), k, len(slices))
            yield self.req(v3.FILE, head + name_field(fname) + s, version), k == len(slices)

    def script(self):
        """(message, an answer is due) pairs of one valid session."""
        rng = self.rng
        if self.v2:
            yield self.req(HELLO, struct.pack("<I", CAPS_ALL), CLEAR), True
            if rng.random() < 0.5:
                yield self.req(TRACE, (b"fz-%08x" % rng.getrandbits(32)).ljust(32, b"\0"),
                               CLEAR), False
        yield self.req(v3.REGISTER, name_field(self.name)), True
        yield self.req(v3.PUBKEY, name_field(self.name) +
                       self.key.publickey().export_key(format="DER")), True
        for _ in range(rng.randint(1, 3)):
            fname = b"f%d.bin" % rng.randrange(4)
            data = rng.randbytes(rng.choice([0, 1, 15, 16, 17, 1000, 70000]))
            clear = self.v2 and rng.random() < 0.6
            if self.v2:
                yield self.req(HAVE, u64(len(data)) + hashlib.sha256(data).digest() +
                               struct.pack("<I", 0o644) + u64(1700000000) +
                               struct.pack("<I", 0) + name_field(fname), CLEAR), True
                yield self.req(ATTR, struct.pack("<I", 0o640) + u64(1700000000 + len(data)) +
                               struct.pack("<I", 5) + name_field(fname), CLEAR), False
                if clear and rng.random() < 0.5:
                    yield self.req(OFFSET, u64(len(data)) + name_field(fname), CLEAR), True
                if clear and data and rng.random() < 0.3:
                    yield self.req(SEGMENT, u64(len(data)) + u64(0) +
                                   struct.pack("<I", len(data)) + name_field(fname),
                                   CLEAR), False
            yield from self.file_msgs(fname, data, clear)
            verdict = rng.choice([v3.CRC_OK, v3.CRC_OK, v3.CRC_RETRY, v3.CRC_ABORT])
            yield self.req(verdict, name_field(fname), CLEAR if clear else 3), \
                verdict != v3.CRC_RETRY
        if self.v2:
            yield self.req(LIST, u64(0) + u64(0) + name_field(self.name), CLEAR), True
            fid, ver = self.entries[0] if self.entries else (rng.randint(1, 9), 1)
            yield self.req(READ, u64(fid) + struct.pack("<I", ver) + u64(0) +
                           struct.pack("<I", rng.choice([1, 100, 1 << 20])) +
                           name_field(self.name), CLEAR), True


def mutate(rng, msg):
    """One mutation of one message; (new bytes, what was done)."""
    m = bytearray(msg)
    op = rng.choice(["flip", "byte", "size", "code", "version", "truncate", "extend",
                     "random", "field", "name"])
    if op == "flip" and m:
        for _ in range(rng.randint(1, 4)):
            m[rng.randrange(len(m))] ^= 1 << rng.randrange(8)
    elif op == "byte" and m:
        m[rng.randrange(len(m))] = rng.choice([0, 0xff, 0x7f, 0x80, 0x2e, 0x2f])
    elif op == "size" and len(m) >= 23:
        n = len(m) - 23
        m[19:23] = struct.pack("<I", rng.choice(INTERESTING + [n - 1, n + 1, n * 2]) & 0xffffffff)
    elif op == "code" and len(m) >= 19:
        m[17:19] = struct.pack("<H", rng.choice([rng.randint(1024, 1050),
                                                  rng.randint(1600, 1650),
                                                  rng.getrandbits(16)]))
    elif op == "version" and len(m) >= 17:
        m[16] = rng.choice([0, 2, 3, 4, 5, 0xff])
    elif op == "truncate":
        del m[rng.randrange(len(m) + 1):]
    elif op == "extend":
        m += rng.randbytes(rng.randint(1, 300))
    elif op == "random":
        m = bytearray(rng.randbytes(rng.randint(1, 600)))
    elif op == "field" and len(m) >= 31:
        at = 23 + rng.randrange(0, len(m) - 27, 4)
        v = rng.choice(INTERESTING + [1 << 63, (1 << 64) - 1, 10 ** 9])
        width = rng.choice([4, 8]) if at + 8 <= len(m) else 4
        m[at:at + width] = (v & ((1 << (8 * width)) - 1)).to_bytes(width, "little")
    elif op == "name" and len(m) >= 23 + 255:
        # the name field sits at a code-dependent offset: try the usual ones
        at = 23 + rng.choice([0, 8, 12, 16, 20, 56])
        if at + 255 <= len(m):
            m[at:at + 255] = name_field(rng.choice(HOSTILE_NAMES))
    return bytes(m), op


class Fuzzer:
    """Sessions against one running server (backupd.Server with a plain
    and a TLS listener); `run(n)` and `health()`."""

    def __init__(self, server, data_dir, pki, rng, keys, timeout_s):
        self.server, self.data, self.pki, self.rng = server, data_dir, pki, rng
        self.keys = keys
        self.timeout_s = timeout_s
        self.stats = Stats()
        self.violations = []
        self.fd_base = None
        self.good = None            # the vigil/2 client's (id, key) once registered
        self.ctx = tls_context(pki, pki)
        self.ctx.set_alpn_protocols(["vigil/2"])

    # ---- connections ----
    def connect(self, v2):
        raw = socket.create_connection(("127.0.0.1", self.server.tls_port if v2
                                        else self.server.port), timeout=10)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if not v2:
            return raw
        s = self.ctx.wrap_socket(raw, server_hostname="localhost")
        assert s.selected_alpn_protocol() == "vigil/2"
        return s

    def session(self):
        rng, st = self.rng, self.stats
        v2 = rng.random() < 0.5
        sess = Session(rng, rng.choice(self.keys), v2, b"fz-%d" % rng.randrange(10 ** 6))
        conn = Conn(self.connect(v2), st, self.violations)
        st.add("sessions tls vigil/2" if v2 else "sessions tcp")
        rate = rng.choice([0.0, 0.1, 0.25, 0.5])   # mutations per message
        held = None
        broken = False
        try:
            for msg, due in sess.script():
                st.add("messages")
                r = rng.random()
                if r < rate * 0.3:
                    broken = True
                if r < rate * 0.1:
                    st.add("op drop")
                    continue
                if r < rate * 0.2:
                    st.add("op cut")
                    conn.send(msg[:rng.randrange(len(msg) + 1)])
                    break
                if r < rate * 0.3 and held is None:
                    st.add("op reorder")
                    held = msg
                    continue
                mutated = False
                if rng.random() < rate:
                    msg, op = mutate(rng, msg)
                    st.add("mutations")
                    st.add("mutation " + op)
                    mutated = True
                if rng.random() < rate * 0.2:
                    st.add("op insert")
                    broken = True
                    extra, _ = next(Session(rng, sess.key, v2, sess.name).script())
                    conn.send(mutate(rng, extra)[0] if rng.random() < 0.5 else extra)
                chunks = rng.choice([1, 3, 7]) if rng.random() < rate * 0.2 else None
                if chunks:
                    st.add("op split")
                conn.send(msg, chunks)
                if rng.random() < rate * 0.1:
                    st.add("op duplicate")
                    broken = True
                    conn.send(msg)
                if held is not None:
                    conn.send(held)
                    held = None
                # after a change the server may wait for bytes that never
                # come: the answers of later messages get a short wait
                broken = broken or mutated
                for code, payload in conn.answers(0.02 if not due else
                                                  0.3 if broken else 3.0):
                    sess.learn(code, payload)
                if conn.closed:
                    # a session nothing was done to must never be refused
                    st.add("closed by the server" if broken else "valid session refused")
                    if not broken:
                        self.fail(f"a valid session was closed by the server at "
                                  f"code {msg[17:19].hex()}")
                    break
        finally:
            conn.sock.close()

    def run(self, n, check_every):
        for i in range(n):
            self.session()
            if (i + 1) % check_every == 0 or i + 1 == n:
                self.health()
            if self.violations:
                break

    # ---- the checks ----
    def fail(self, what):
        self.violations.append(what)

    def health(self):
        self.stats.add("health checks")
        self.check_alive()
        self.check_plain_backup()
        self.check_v2_backup_restore()
        self.check_fds()
        self.check_layout()

    def check_alive(self):
        if self.server.proc.poll() is not None:
            self.fail(f"vigil-backupd exited with {self.server.proc.returncode}")
        self.check_log()

    def check_log(self):
        fd = self.server.proc.stderr.fileno()
        while select.select([fd], [], [], 0.01)[0] and self.server._read_some(0):
            pass
        bad = [ln for ln in self.server.lines if SANITIZER.search(ln)]
        if bad:
            self.fail("sanitizer report in the server's log: " + "\n".join(bad[:20]))

    def check_plain_backup(self):
        data = self.rng.randbytes(self.rng.randint(0, 100000))
        c = None
        try:
            c = v3.Client(self.server.addr, "good-%d" % self.rng.randrange(10 ** 9),
                          key=self.rng.choice(self.keys))
            c.register()
            c.send_key()
            if c.backup("good.bin", data) != v3.R_ACK:
                self.fail("plain good client: no 1604")
        except Exception as e:  # noqa: BLE001 - any failure is the finding
            self.fail(f"plain good client failed: {e!r}")
            return
        finally:
            if c is not None:
                c.close()
        d = self.data / c.id.hex() / "good.bin"
        got = sorted(d.iterdir()) if d.is_dir() else []
        if len(got) != 1 or got[0].read_bytes() != data:
            self.fail(f"plain good client: stored {[p.name for p in got]} != its file")

    def check_v2_backup_restore(self):
        name = "vigil-test-client"          # the client certificate's CN
        data = self.rng.randbytes(self.rng.randint(1, 200000))
        fname = b"good-%d.bin" % self.rng.randrange(10 ** 9)
        key = self.keys[0]
        sess = Session(self.rng, key, True, name.encode())
        conn = Conn(self.connect(True), self.stats, self.violations)

        def ask(msg, want):
            conn.send(msg)
            got = []
            while not got or got[-1][0] not in want:
                more = conn.answers(5.0)
                if not more:
                    raise AssertionError(f"no answer {want} to {msg[17:19].hex()}: {got}")
                for code, payload in more:
                    sess.learn(code, payload)
                got += more
            return got

        try:
            ask(sess.req(HELLO, struct.pack("<I", CAPS_ALL), CLEAR), {R_HELLO})
            if self.good is None:
                ask(sess.req(v3.REGISTER, name_field(name.encode())), {v3.R_REG_OK})
                self.good = sess.id
                ask(sess.req(v3.PUBKEY, name_field(name.encode()) +
                             key.publickey().export_key(format="DER")), {v3.R_AES})
            else:
                sess.id = self.good
                ask(sess.req(v3.RECONNECT, name_field(name.encode())), {v3.R_RECON_OK})
            *head, (last, _) = sess.file_msgs(fname, data, True)
            for msg, _ in head:
                conn.send(msg)
            (code, payload), = ask(last, {v3.R_CRC})[-1:]
            if struct.unpack_from("<I", payload, 16 + 4 + 255)[0] != v3.cksum_fast(data):
                self.fail("vigil/2 good client: wrong cksum in 1603")
            ask(sess.req(v3.CRC_OK, name_field(fname), CLEAR), {v3.R_ACK})
            back = self.restore(ask, sess, name, fname, len(data))
            if back != data:
                self.fail(f"vigil/2 good client: restored {len(back)} bytes differ "
                          f"from the {len(data)} backed up")
        except Exception as e:  # noqa: BLE001 - any failure is the finding
            self.fail(f"vigil/2 good client failed: {e!r}")
        finally:
            conn.sock.close()

    def restore(self, ask, sess, name, fname, size):
        """The latest snapshot's fname, listed (1041 batches) and read
        (1043 chunks)."""
        after, fid, ver = 0, None, None
        while fid is None:
            got = ask(sess.req(LIST, u64(0) + u64(after) + name_field(name.encode()), CLEAR),
                      {R_END, R_REFUSED})
            for code, p in got:
                if code == R_ENTRY:
                    after = struct.unpack_from("<Q", p)[0]
                    if p[41:41 + p[40]] == fname:
                        fid, ver = struct.unpack_from("<QI", p)
            if got[-1][0] != R_END or not got[-1][1][12]:
                break
        if fid is None:
            raise AssertionError(f"{fname!r} not listed")
        out = b""
        while len(out) < size:
            (code, p), = ask(sess.req(READ, u64(fid) + struct.pack("<I", ver) + u64(len(out)) +
                                      struct.pack("<I", 1 << 20) + name_field(name.encode()),
                                      CLEAR), {R_DATA, R_REFUSED})[-1:]
            if code != R_DATA or len(p) == 20:
                raise AssertionError(f"read at {len(out)}: {code}")
            out += p[20:]
        return out

    def fds(self):
        """(descriptors of TCP connections, every other descriptor) of the
        server: the first drop to none once the peers are gone (or its
        timeout closed them), the second stays what it was."""
        pid = self.server.proc.pid
        conns = set()
        for table in ("tcp", "tcp6"):
            with open(f"/proc/{pid}/net/{table}") as f:
                for line in f.readlines()[1:]:
                    cols = line.split()
                    if cols[3] != "0A":          # not LISTEN
                        conns.add(f"socket:[{cols[9]}]")
        links = {}
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                links[fd] = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                pass                              # closed meanwhile
        tcp = {fd: t for fd, t in links.items() if t in conns}
        return tcp, {fd: t for fd, t in links.items() if t not in conns}

    def check_fds(self):
        """Every fuzz connection is closed here: the server's connection
        descriptors go (waiting for its timeout) and the count of the
        others is the first check's."""
        deadline = time.monotonic() + self.timeout_s + 5
        tcp, other = self.fds()
        while tcp and time.monotonic() < deadline:
            time.sleep(0.05)
            tcp, other = self.fds()
        if tcp:
            self.fail(f"descriptors leak: connections still open: {tcp}")
        if self.fd_base is None:
            self.fd_base = len(other)
            self.stats["server fds"] = self.fd_base
        elif len(other) > self.fd_base:
            self.fail(f"descriptors leak: {len(other)} open, {self.fd_base} after the "
                      f"first check: {other}")

    def check_layout(self):
        """Nothing but docs/backupd.md's data layout."""
        for p in self.data.rglob("*"):
            rel = p.relative_to(self.data).parts
            if not self.allowed(rel, p):
                self.fail(f"stray file in the data directory: {'/'.join(rel)}")

    def allowed(self, rel, p):
        top = rel[0]
        if len(rel) == 1:
            return top in ("backupd.sqlite", "backupd.sqlite-wal", "backupd.sqlite-shm",
                           "status.sock", ".tmp", ".resume", ".content") or \
                (HEX32.fullmatch(top) is not None and p.is_dir())
        if top == ".tmp":
            return False            # no connection is open: nothing is received
        if top == ".resume":
            return len(rel) == 2 and re.fullmatch(
                r"[0-9a-f]{32}-[A-Za-z0-9_.-]*-\d+-\d+-\d+\.kept", rel[1]) is not None
        if top == ".content":
            return (len(rel) == 2 and re.fullmatch(r"[0-9a-f]{2}", rel[1]) is not None) or \
                (len(rel) == 3 and HEX64.fullmatch(rel[2]) is not None and
                 rel[2][:2] == rel[1] and p.is_file())
        if HEX32.fullmatch(top) is None:
            return False
        if len(rel) == 2:
            return p.is_dir() and valid_name(rel[1])
        return len(rel) == 3 and re.fullmatch(r"v[1-9]\d*", rel[2]) is not None and p.is_file()


def valid_name(n):
    """The deployed v3 file-name rule (protocol-cyberbackup-v3.md)."""
    stem = n.rsplit(".", 1)[0].upper() if "." in n else n.upper()
    reserved = {"CON", "PRN", "AUX", "NUL"} | {f"COM{i}" for i in range(1, 10)} | \
        {f"LPT{i}" for i in range(1, 10)}
    return 1 <= len(n) <= 250 and re.fullmatch(r"[a-zA-Z0-9._\-\s]+", n) is not None and \
        ".." not in n and stem not in reserved
