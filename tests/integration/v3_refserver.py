"""A CyberBackup v3 reference server modelling the servers in the field
(/work/shared/protocol-cyberbackup-v3.md, "Variants found in the field"),
written from the protocol document, independent of protocol/v3*.c, on
python3-pycryptodome (module Cryptodome in Debian): RSA-OAEP to wrap the
session key, AES-256-CBC with PKCS#7 to decrypt files.

Variants:
  "3.0": takes the 160-byte public key (e = 17), wraps the AES key with
         RSA-OAEP-SHA256;
  "old": takes only the 162-byte key (e = 65537), answers 1607 to a
         160-byte one, wraps with RSA-OAEP-SHA1.
Behaviour shared with real servers: 1028 packets reassembled by packet
number (any order), the ciphertext concatenated and decrypted once, no
reply to intermediate packets, 1603 after the last; payloads over
16 MiB + 1024 -> 1607; a wrong version byte -> 1607 and close; a file
name outside the deployed servers' exact rule (v3_names.name_ok: 1-250
characters of [a-zA-Z0-9._-] and whitespace, no "..", no device name
before the last '.') -> 1607 and close; 1030 gets no reply; 1029/1031
get 1604.

Fault injection (attributes, change them between runs):
  wrong_crc = n     the next n 1603 replies carry a wrong cksum
  err_1607 = {code: n}  answer 1607 to the next n requests of that code
  drop_mid_file = n close the connection after packet 2 of a file, n times
  stall = n         on the next n files, receive everything but never
                    answer the 1603 (the client must time out)
Files are stored under data_dir/<uuid hex>/<name> only after 1029; the
ciphertext spools to disk, so 200 MiB files do not sit in memory.
"""
import os
import socket
import struct
import subprocess
import threading
import uuid as uuidlib

from Cryptodome.Cipher import AES, PKCS1_OAEP
from Cryptodome.Hash import SHA1, SHA256
from Cryptodome.PublicKey import RSA
from Cryptodome.Util.Padding import unpad

from v3_names import name_ok

CAP = 16 * 1024 * 1024 + 1024
NAME = 255


def posix_cksum(path):
    out = subprocess.run(["cksum", str(path)], capture_output=True,
                         check=True, text=True).stdout
    return int(out.split()[0])


def field(s):
    return s.encode().ljust(NAME, b"\0")


def unfield(b):
    return b.split(b"\0", 1)[0].decode("latin-1")


class Closed(Exception):
    pass


class RefServer:
    def __init__(self, data_dir, variant="3.0", host="127.0.0.1"):
        assert variant in ("3.0", "old")
        self.variant = variant
        self.data_dir = str(data_dir)
        self.clients = {}        # uuid bytes -> dict(name, pub, aes)
        self.lock = threading.Lock()
        self.wrong_crc = 0
        self.err_1607 = {}
        self.drop_mid_file = 0
        self.stall = 0
        self.log = []            # (code, detail) of every request
        self.connections = 0
        self.peers = []          # client ports of accepted connections
        self.verified = {}       # name -> path of stored plaintext
        self.key_sizes = []      # sizes of 1026 keys received
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.port = self.sock.getsockname()[1]
        self.running = False

    # ---- lifecycle ----
    def start(self):
        self.sock.listen(64)
        self.running = True
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self):
        """Stops listening for real: a close() alone would leave the port
        listening while the accept thread blocks in accept() (the kernel
        keeps the socket until that call returns), and the next client of
        that port would be served by a server its test has stopped."""
        self.running = False
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass

    @property
    def url(self):
        return f"tcp://127.0.0.1:{self.port}"

    def _accept(self):
        while self.running:
            try:
                conn, peer = self.sock.accept()
            except OSError:
                return
            if not self.running:        # the one a stop() woke up for
                conn.close()
                return
            self.connections += 1
            self.peers.append(peer[1])
            threading.Thread(target=self._serve, args=(conn,),
                             daemon=True).start()

    # ---- I/O ----
    @staticmethod
    def _recv(conn, n):
        buf = bytearray()
        while len(buf) < n:
            chunk = conn.recv(min(n - len(buf), 1 << 20))
            if not chunk:
                raise Closed()
            buf += chunk
        return bytes(buf)

    @staticmethod
    def _send(conn, code, payload=b""):
        conn.sendall(struct.pack("<BHI", 3, code, len(payload)) + payload)

    def _take_fault(self, code):
        with self.lock:
            n = self.err_1607.get(code, 0)
            if n:
                self.err_1607[code] = n - 1
                return True
        return False

    def _serve(self, conn):
        st = {"file": None}
        try:
            while True:
                hdr = self._recv(conn, 23)
                cid, ver, code, size = struct.unpack("<16sBHI", hdr)
                if ver != 3 or size > CAP:
                    self._send(conn, 1607)
                    break
                if code == 1028:
                    if not self._file_packet(conn, cid, size, st):
                        break
                    continue
                payload = self._recv(conn, size)
                self.log.append((code, unfield(payload[:NAME])))
                if self._take_fault(code):
                    self._send(conn, 1607)
                    continue
                if not self._request(conn, cid, code, payload, st):
                    break
        except (Closed, OSError):
            pass
        finally:
            self._discard(st)
            conn.close()

    # ---- requests ----
    def _wrap(self, pub):
        aes = os.urandom(32)
        # OAEP with the same hash for the label and MGF1
        h = SHA256 if self.variant == "3.0" else SHA1
        return aes, PKCS1_OAEP.new(pub, hashAlgo=h).encrypt(aes)

    def _request(self, conn, cid, code, payload, st):
        name = unfield(payload[:NAME])
        with self.lock:
            c = self.clients.get(cid)
        if code == 1025:
            with self.lock:
                if any(v["name"] == name for v in self.clients.values()):
                    self._send(conn, 1601)
                    return True
                new = uuidlib.uuid4().bytes
                self.clients[new] = {"name": name, "pub": None, "aes": None}
            self._send(conn, 1600, new)
        elif code == 1026:
            key = payload[NAME:]
            self.key_sizes.append(len(key))
            want = 160 if self.variant == "3.0" else 162
            if c is None or c["name"] != name or len(key) != want:
                self._send(conn, 1607)
                return True
            c["pub"] = RSA.import_key(key)
            c["aes"], blob = self._wrap(c["pub"])
            st["cid"] = cid
            self._send(conn, 1602, cid + blob)
        elif code == 1027:
            if c is None or c["name"] != name or c["pub"] is None:
                # why, for a test's failure message
                self.log.append((1606, f"{cid.hex()} {name!r}: " + (
                    "unknown id" if c is None else "other name"
                    if c["name"] != name else "no key yet")))
                self._send(conn, 1606, cid)
                return True
            c["aes"], blob = self._wrap(c["pub"])
            st["cid"] = cid
            self._send(conn, 1605, cid + blob)
        elif code in (1029, 1030, 1031):
            return self._crc_answer(conn, cid, code, name, st)
        else:
            self._send(conn, 1607)
            return False
        return True

    def _crc_answer(self, conn, cid, code, name, st):
        if not name_ok(name):
            self._send(conn, 1607)
            return False
        done = st.get("done")
        if done is None or done["name"] != name:
            self._send(conn, 1607)
            return True
        if code == 1029:
            final = os.path.join(self.data_dir, cid.hex(), name)
            os.makedirs(os.path.dirname(final), exist_ok=True)
            os.replace(done["plain"], final)
            self.verified[name] = final
        else:
            os.unlink(done["plain"])
        st["done"] = None
        if code != 1030:
            self._send(conn, 1604, cid)
        return True

    # ---- 1028 ----
    def _file_packet(self, conn, cid, size, st):
        head = self._recv(conn, 267)
        content, orig, pkt, total = struct.unpack("<IIHH", head[:12])
        name = unfield(head[12:])
        self.log.append((1028, f"{name} {pkt}/{total}"))
        if not name_ok(name) or size <= 267 or total == 0 or \
                not 1 <= pkt <= total or st.get("cid") != cid:
            self._send(conn, 1607)
            return False
        f = st["file"]
        if f is None or pkt == 1:
            self._discard(st)
            os.makedirs(self.data_dir, exist_ok=True)
            spool = os.path.join(self.data_dir, f".spool-{id(st)}")
            f = st["file"] = {"name": name, "total": total, "orig": orig,
                              "content": content, "spool": spool,
                              "fh": open(spool, "wb"), "next": 1,
                              "early": {}}
        data = self._recv(conn, size - 267)
        if self.drop_mid_file and pkt == 2:
            self.drop_mid_file -= 1
            return False
        f["early"][pkt] = data
        while f["next"] in f["early"]:
            f["fh"].write(f["early"].pop(f["next"]))
            f["next"] += 1
        if f["next"] <= total:
            return True        # intermediate packets get no reply
        f["fh"].close()
        return self._complete(conn, cid, st)

    def _complete(self, conn, cid, st):
        f = st["file"]
        st["file"] = None
        c = self.clients[cid]
        plain = f["spool"] + ".plain"
        try:
            _decrypt_file(c["aes"], f["spool"], plain)
        except ValueError:
            os.unlink(f["spool"])
            os.unlink(plain)
            self._send(conn, 1607)
            return False
        os.unlink(f["spool"])
        crc = posix_cksum(plain)
        st["done"] = {"name": f["name"], "plain": plain}
        if self.stall:
            self.stall -= 1
            conn.recv(1)   # silent until the client gives up and closes
            return False
        if self.wrong_crc:
            self.wrong_crc -= 1
            crc ^= 0x5a5a5a5a
        self._send(conn, 1603, cid + struct.pack("<I", f["content"]) +
                   field(f["name"]) + struct.pack("<I", crc))
        return True

    def _discard(self, st):
        f = st.get("file")
        if f:
            f["fh"].close()
            if os.path.exists(f["spool"]):
                os.unlink(f["spool"])
            st["file"] = None
        d = st.get("done")
        if d and os.path.exists(d["plain"]):
            os.unlink(d["plain"])
            st["done"] = None


def _decrypt_file(aes_key, src_path, dst_path):
    """AES-256-CBC (zero IV) decryption of src_path into dst_path, 1 MiB at
    a time; the last plaintext block is held back until the end because
    it carries the PKCS#7 padding.  ValueError on a ciphertext that is not
    whole blocks or a bad padding."""
    cipher = AES.new(aes_key, AES.MODE_CBC, iv=b"\0" * 16)
    tail = b""
    with open(src_path, "rb") as src, open(dst_path, "wb") as dst:
        for chunk in iter(lambda: src.read(1 << 20), b""):
            # CBC needs whole blocks: every 1 MiB read is one, a short
            # last read that is not makes decrypt() raise ValueError
            out = tail + cipher.decrypt(chunk)
            dst.write(out[:-AES.block_size])
            tail = out[-AES.block_size:]
        dst.write(unpad(tail, AES.block_size, style="pkcs7"))


def keypair_for_tests():
    """An RSA key like the client's, for tests of the server itself."""
    return RSA.generate(1024, e=17)
