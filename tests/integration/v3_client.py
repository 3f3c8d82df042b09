"""A small CyberBackup v3 client for tests, written from
/work/shared/protocol-cyberbackup-v3.md (framing, codes, crypto), with
python3-pycryptodome (module Cryptodome in Debian) for the RSA-1024 key
(e = 17 or 65537), RSA-OAEP-SHA256 and AES-256-CBC with PKCS#7.

Besides the well-behaved flow (register, key, send_file, verdict) it
exposes the raw pieces (header packing, raw sends) so tests can misbehave
on purpose.

CppClient models the original CyberBackup C++ client (Boost.Asio +
Crypto++) from what it was measured to send (issue 24,
docs/protocol/cyberbackup-v3.md, "The original C++ client"), not from its
code.  `python3 v3_client.py --variant cpp ...` runs either variant by
hand."""
import argparse
import base64
import os
import socket
import struct
import subprocess
import sys
import time

from Cryptodome.Cipher import AES, PKCS1_OAEP
from Cryptodome.Hash import SHA256
from Cryptodome.PublicKey import RSA
from Cryptodome.Util.Padding import pad

VERSION = 3
REQ_HDR = struct.Struct("<16sBHI")
RESP_HDR = struct.Struct("<BHI")
NAME = 255

REGISTER, PUBKEY, RECONNECT, FILE, CRC_OK, CRC_RETRY, CRC_ABORT = range(1025, 1032)
R_REG_OK, R_REG_FAIL, R_AES, R_CRC, R_ACK, R_RECON_OK, R_RECON_DENIED, R_ERROR = range(1600, 1608)


def name_field(name):
    b = name.encode() if isinstance(name, str) else name
    assert len(b) < NAME
    return b + b"\0" * (NAME - len(b))


def req(client_id, code, payload, version=VERSION, size=None):
    return REQ_HDR.pack(client_id, version, code,
                        len(payload) if size is None else size) + payload


def posix_cksum(data):
    """`cksum` of data (CRC-32/CKSUM with the length appended)."""
    crc = 0
    def feed(b):
        nonlocal crc
        for byte in b:
            crc ^= byte << 24
            for _ in range(8):
                crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else (crc << 1)
                crc &= 0xFFFFFFFF
    feed(data)
    n = len(data)
    tail = bytearray()
    while n:
        tail.append(n & 0xFF)
        n >>= 8
    feed(tail)
    return crc ^ 0xFFFFFFFF


def cksum_fast(data):
    """The same through the cksum(1) tool (fast for big test files)."""
    out = subprocess.run(["cksum"], input=data, capture_output=True, check=True)
    return int(out.stdout.split()[0])


def rsa_key(exponent=17, bits=1024):
    """A fresh RSA key pair; e = 17 gives v3's 160-byte public key, e =
    65537 the older servers' 162-byte one."""
    return RSA.generate(bits, e=exponent)


class ServerError(Exception):
    pass


class Client:
    def __init__(self, addr, name, exponent=17, timeout=10.0, key=None):
        # the key first: generating it can take longer than the server's
        # idle timeout in tests
        self.key = key or rsa_key(exponent)
        self.sock = socket.create_connection(addr, timeout=timeout)
        self.name = name
        self.id = b"\0" * 16
        self.aes = None

    def close(self):
        self.sock.close()

    # ---- raw I/O ----
    def send(self, data):
        self.sock.sendall(data)

    def recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError(f"closed after {len(buf)} of {n} bytes")
            buf += chunk
        return buf

    def recv_resp(self):
        version, code, size = RESP_HDR.unpack(self.recv_exact(RESP_HDR.size))
        assert version == VERSION, version
        return code, self.recv_exact(size)

    def closed_by_server(self, timeout=3.0):
        """True when the server closed (EOF or reset) within timeout."""
        self.sock.settimeout(timeout)
        try:
            while True:
                if not self.sock.recv(65536):
                    return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    # ---- the protocol ----
    def spki(self):
        """The public key as DER SubjectPublicKeyInfo (what 1026 carries)."""
        return self.key.publickey().export_key(format="DER")

    def register(self):
        self.send(req(self.id, REGISTER, name_field(self.name)))
        code, payload = self.recv_resp()
        if code != R_REG_OK:
            raise ServerError(code)
        self.id = payload
        return self.id

    def _unwrap(self, blob):
        # OAEP with SHA-256 for both the label hash and MGF1
        self.aes = PKCS1_OAEP.new(self.key, hashAlgo=SHA256).decrypt(blob)
        assert len(self.aes) == 32

    def send_key(self):
        self.send(req(self.id, PUBKEY, name_field(self.name) + self.spki()))
        code, payload = self.recv_resp()
        if code != R_AES:
            raise ServerError(code)
        assert payload[:16] == self.id
        self._unwrap(payload[16:])

    def reconnect(self):
        self.send(req(self.id, RECONNECT, name_field(self.name)))
        code, payload = self.recv_resp()
        if code == R_RECON_OK:
            assert payload[:16] == self.id
            self._unwrap(payload[16:])
        return code

    def encrypt(self, data):
        cipher = AES.new(self.aes, AES.MODE_CBC, iv=b"\0" * 16)
        return cipher.encrypt(pad(data, AES.block_size, style="pkcs7"))

    def file_packets(self, fname, data, slice_size=65536, ct=None):
        """The 1028 requests of data, as a list of bytes objects."""
        ct = self.encrypt(data) if ct is None else ct
        slices = [ct[i:i + slice_size] for i in range(0, len(ct), slice_size)] or [b""]
        out = []
        for k, s in enumerate(slices, 1):
            head = struct.pack("<IIHH", len(ct), len(data), k, len(slices)) + name_field(fname)
            out.append(req(self.id, FILE, head + s))
        return out

    def send_file(self, fname, data, slice_size=65536):
        """Sends the file; returns the server's cksum from 1603."""
        for p in self.file_packets(fname, data, slice_size):
            self.send(p)
        code, payload = self.recv_resp()
        if code != R_CRC:
            raise ServerError(code)
        cid, size, name, crc = struct.unpack("<16sI255sI", payload)
        assert cid == self.id and name.rstrip(b"\0").decode() == fname
        return crc

    def verdict(self, code, fname):
        self.send(req(self.id, code, name_field(fname)))
        if code == CRC_RETRY:
            return None
        rcode, payload = self.recv_resp()
        if rcode != R_ACK:
            raise ServerError(rcode)
        return rcode

    def backup(self, fname, data, slice_size=65536):
        crc = self.send_file(fname, data, slice_size)
        want = cksum_fast(data) if len(data) > 65536 else posix_cksum(data)
        assert crc == want, (crc, want)
        return self.verdict(CRC_OK, fname)


def connect_retry(addr, name, tries=50, **kw):
    for _ in range(tries):
        try:
            return Client(addr, name, **kw)
        except ConnectionRefusedError:
            time.sleep(0.05)
    raise ConnectionError("server not reachable")


class CppClient(Client):
    """The original C++ client, as measured on the wire:
      - 1026: its 160-byte key (RSA-1024, e = 17) in a 162-byte field, the
        last 2 bytes uninitialised memory (random here);
      - it unwraps the 1602/1605 AES key with RSA-OAEP-SHA1 only (SHA-256
        fails: "Invalid AES key size");
      - 1028: a 16-byte zero block (the IV) and then AES-256-CBC with a
        zero IV and PKCS#7, cut into 1 MiB packets whose content-size
        field is that packet's own length (original size: the file's);
      - after the last packet it reads the cksum from 1603: equal, 1029
        and wait for 1604; different, 1030 and send again, up to three
        times, then 1031 and wait for 1604;
      - its identity lives in me.info (name, uuid as 32 hex digits, the
        private key as base64 DER), and later runs send 1027 with it.
    iv_block and per_packet turn the two 1028 differences off one at a
    time, for tests of the server's detection."""
    PACKET = 1 << 20
    RESENDS = 3

    def __init__(self, addr, name, timeout=10.0, key=None, uid=None,
                 iv_block=True, per_packet=True):
        super().__init__(addr, name, exponent=17, timeout=timeout, key=key)
        if uid is not None:
            self.id = uid
        self.iv_block = iv_block
        self.per_packet = per_packet
        self.blob = None            # the last wrapped key received
        self.sent = []              # (content size, packet, total) of 1028s

    @classmethod
    def from_identity(cls, addr, path, **kw):
        name, uid_hex, key_b64 = open(path).read().split("\n")[:3]
        key = RSA.import_key(base64.b64decode(key_b64))
        return cls(addr, name, key=key, uid=bytes.fromhex(uid_hex), **kw)

    def save_identity(self, path):
        key = base64.b64encode(self.key.export_key(format="DER", pkcs=8))
        with open(path + ".tmp", "w") as f:
            f.write(f"{self.name}\n{self.id.hex()}\n{key.decode()}\n")
        os.replace(path + ".tmp", path)

    def key_field(self):
        der = self.spki()
        assert len(der) == 160, len(der)
        return der + os.urandom(2)

    def send_key(self):
        self.send(req(self.id, PUBKEY, name_field(self.name) + self.key_field()))
        code, payload = self.recv_resp()
        if code != R_AES:
            raise ServerError(code)
        assert payload[:16] == self.id
        self._unwrap(payload[16:])

    def _unwrap(self, blob):
        self.blob = blob
        # OAEP with SHA-1 (Crypto++'s RSAES_OAEP_SHA_Decryptor), nothing else
        self.aes = PKCS1_OAEP.new(self.key).decrypt(blob)
        if len(self.aes) != 32:
            raise ValueError("Invalid AES key size")

    def encrypt(self, data):
        ct = super().encrypt(data)
        return b"\0" * 16 + ct if self.iv_block else ct

    def file_packets(self, fname, data, slice_size=None, ct=None, corrupt=False):
        ct = bytearray(self.encrypt(data) if ct is None else ct)
        if corrupt:
            # a bit of the first data block: its plaintext and the next
            # block's change, the padding at the end does not
            ct[16 if self.iv_block else 0] ^= 0x01
        size = slice_size or self.PACKET
        slices = [bytes(ct[i:i + size]) for i in range(0, len(ct), size)]
        out = []
        for k, s in enumerate(slices, 1):
            content = len(s) if self.per_packet else len(ct)
            self.sent.append((content, k, len(slices)))
            head = struct.pack("<IIHH", content, len(data), k, len(slices)) + name_field(fname)
            out.append(req(self.id, FILE, head + s))
        return out

    def send_file(self, fname, data, slice_size=None, corrupt=False):
        for p in self.file_packets(fname, data, slice_size, corrupt=corrupt):
            self.send(p)
        code, payload = self.recv_resp()
        if code != R_CRC:
            raise ServerError(code)
        cid, size, name, crc = struct.unpack("<16sI255sI", payload)
        assert cid == self.id and name.rstrip(b"\0").decode() == fname
        self.crc_content_size = size
        return crc

    def backup(self, fname, data, slice_size=None, corrupt=0):
        """Sends data, corrupting the first `corrupt` sends; True when the
        server's cksum matched (1029), False after giving up (1031)."""
        want = cksum_fast(data)
        for attempt in range(self.RESENDS + 1):
            crc = self.send_file(fname, data, slice_size, corrupt=attempt < corrupt)
            if crc == want:
                self.verdict(CRC_OK, fname)
                return True
            if attempt < self.RESENDS:
                self.verdict(CRC_RETRY, fname)
        self.verdict(CRC_ABORT, fname)
        return False


VARIANTS = {"3.0": Client, "cpp": CppClient}


def main(argv=None):
    ap = argparse.ArgumentParser(description="CyberBackup v3 test client")
    ap.add_argument("--variant", choices=sorted(VARIANTS), default="3.0")
    ap.add_argument("--server", default="127.0.0.1:1256", help="HOST:PORT")
    ap.add_argument("--name", help="client name (registers; else --identity)")
    ap.add_argument("--identity", default="me.info", help="cpp: the me.info file")
    ap.add_argument("files", nargs="*")
    a = ap.parse_args(argv)
    host, port = a.server.rsplit(":", 1)
    addr = (host, int(port))
    if a.variant == "cpp" and a.name is None and os.path.exists(a.identity):
        c = CppClient.from_identity(addr, a.identity)
        if c.reconnect() != R_RECON_OK:
            sys.exit("reconnect denied")
    else:
        c = VARIANTS[a.variant](addr, a.name or socket.gethostname())
        c.register()
        c.send_key()
        if a.variant == "cpp":
            c.save_identity(a.identity)
    ok = True
    for path in a.files:
        data = open(path, "rb").read()
        done = c.backup(os.path.basename(path), data)
        ok = ok and done is not False
        print(path, "ok" if done is not False else "cksum mismatch, gave up")
    c.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
