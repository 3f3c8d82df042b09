"""vigil-backupd serving the original CyberBackup C++ client in plain v3
(issue 24), modelled by v3_client.CppClient from what it sends on the
wire: its key in a 162-byte field, OAEP-SHA1, the prepended IV block, 1 MiB
packets with per-packet content sizes, 1030/1031 after cksum mismatches,
1027 with its saved me.info.  Next to it the other variants on the same
server, and the detections' edges (docs/protocol/cyberbackup-v3.md, "The
original C++ client").  Every stored file is compared by sha256."""
import hashlib
import os
import sqlite3
import struct

import pytest
from Cryptodome.Cipher import PKCS1_OAEP
from Cryptodome.Hash import SHA256

import v3_client as v3
from backup_cli import vigild_backup


@pytest.fixture
def server(server_factory):
    return server_factory()


def stored(data_dir, client, fname, version=1):
    return data_dir / client.id.hex() / fname / f"v{version}"


def sha(b):
    return hashlib.sha256(b).hexdigest()


def assert_stored(data_dir, client, fname, data, version=1):
    p = stored(data_dir, client, fname, version)
    assert p.is_file(), f"{p} not stored"
    assert sha(p.read_bytes()) == sha(data)


def new_cpp(srv, name, **kw):
    c = v3.CppClient(srv.addr, name, **kw)
    c.register()
    c.send_key()
    return c


def key_row(data_dir, client):
    with sqlite3.connect(data_dir / "backupd.sqlite") as db:
        return db.execute("SELECT length(spki), oaep_hash FROM keys WHERE client_id=?",
                          (client.id,)).fetchone()


def test_cpp_registers_and_backs_up_1k(server, tmp_path):
    data = os.urandom(1024)
    c = new_cpp(server, "cpp host one")
    # the key came wrapped with SHA-1, which SHA-256 cannot unwrap
    with pytest.raises(ValueError):
        PKCS1_OAEP.new(c.key, hashAlgo=SHA256).decrypt(c.blob)
    assert c.backup("notes 1k.txt", data) is True
    # one packet, content size its own length: 16 + padded(1024)
    assert c.sent == [(16 + 1040, 1, 1)]
    assert c.crc_content_size == 16 + 1040
    c.close()
    assert_stored(tmp_path / "data", c, "notes 1k.txt", data)
    # the 160-byte key without its slack, marked for OAEP-SHA1
    assert key_row(tmp_path / "data", c) == (160, "sha1")
    server.wait_for(r"session key sent \(1602, OAEP-SHA1\)")
    server.wait_for(r"stored [0-9a-f]{32}/notes 1k\.txt v1 \(1024 bytes\)")


def test_cpp_reconnects_and_sends_3mb_in_three_packets(server, tmp_path):
    ident = str(tmp_path / "me.info")
    first = new_cpp(server, "cpp host two")
    first.save_identity(ident)
    first.close()

    data = os.urandom(3_000_000)
    c = v3.CppClient.from_identity(server.addr, ident)
    assert c.id == first.id and c.name == "cpp host two"
    assert c.reconnect() == v3.R_RECON_OK
    assert c.backup("big file 3MB.bin", data) is True
    whole = 16 + (3_000_000 // 16 + 1) * 16
    assert c.sent == [(1 << 20, 1, 3), (1 << 20, 2, 3), (whole - 2 * (1 << 20), 3, 3)]
    assert c.crc_content_size == whole
    c.close()
    assert_stored(tmp_path / "data", c, "big file 3MB.bin", data)
    server.wait_for(r"session key sent \(1605, OAEP-SHA1\)")


def test_cpp_cksum_mismatch_resends_then_gives_up(server, tmp_path):
    data = os.urandom(5000)
    c = new_cpp(server, "cpp host three")
    # every send corrupt: three 1030s (each followed by a resend), then 1031
    assert c.backup("bad copy.dat", data, corrupt=4) is False
    assert len(c.sent) == 4
    server.wait_for(r"bad copy\.dat: client gave up after CRC mismatches")
    assert sum("bad copy.dat: CRC mismatch, client resends" in l for l in server.lines) == 3
    assert not (tmp_path / "data" / c.id.hex() / "bad copy.dat").exists()
    # the first send corrupt only: one 1030, the resend is stored
    assert c.backup("good copy.dat", data, corrupt=1) is True
    c.close()
    assert_stored(tmp_path / "data", c, "good copy.dat", data)
    assert not stored(tmp_path / "data", c, "good copy.dat", 2).exists()


def stored_by_db(data_dir, client_name):
    """{stored path: size} of a client's files, from the database (vigild's
    names come from its path mapping, which the test need not repeat)."""
    with sqlite3.connect(data_dir / "backupd.sqlite") as db:
        rows = db.execute(
            "SELECT v.path, v.size FROM versions v JOIN files f ON f.id = v.file_id"
            " JOIN clients c ON c.id = f.client_id WHERE c.name=?", (client_name,))
        return {data_dir / p: n for p, n in rows}


def test_every_variant_on_one_server(server, tmp_path):
    """3.0 (160-byte key, OAEP-SHA256), the older 162-byte e = 65537 key,
    the C++ client, interleaved on one server, and vigild between them;
    each unwraps only what its real counterpart does (v3.Client: SHA-256;
    vigild tries SHA-256 then SHA-1)."""
    files = {n: os.urandom(n) for n in (0, 1, 70_000, 1_200_000)}
    clients = [v3.Client(server.addr, "three oh", exponent=17),
               v3.Client(server.addr, "older rev", exponent=65537),
               v3.CppClient(server.addr, "cpp original")]
    for c in clients:
        c.register()
    for c in clients:
        c.send_key()
    src = tmp_path / "vigild src"
    src.mkdir()
    for n, data in files.items():
        (src / f"file {n}.bin").write_bytes(data)
        for c in clients:
            assert c.backup(f"file {n}.bin", data) is not False
    # vigild while the three hold their sessions open
    r, _ = vigild_backup(f"tcp://127.0.0.1:{server.port}", tmp_path / "state",
                         [src], name="vigild box")
    assert r.returncode == 0, r.stderr
    got = stored_by_db(tmp_path / "data", "vigild box")
    assert sorted(got.values()) == sorted(files)
    by_sha = {sha(d) for d in files.values()}
    assert {sha(p.read_bytes()) for p in got} == by_sha
    for c in clients:
        c.close()
        for n, data in files.items():
            assert_stored(tmp_path / "data", c, f"file {n}.bin", data)
    d = tmp_path / "data"
    assert key_row(d, clients[0]) == (160, "sha256")
    assert key_row(d, clients[1]) == (162, "sha256")
    assert key_row(d, clients[2]) == (160, "sha1")


def test_iv_block_by_length_with_whole_content_size(server, tmp_path):
    """A stream with the IV block and today's whole content size (in two
    packets): the length (16 + padded) tells the server at packet 1."""
    data = os.urandom(100_000)
    c = new_cpp(server, "cpp whole size", per_packet=False)
    assert c.backup("whole size.bin", data, slice_size=65536) is True
    assert [s[0] for s in c.sent] == [16 + 100_016] * 2
    c.close()
    assert_stored(tmp_path / "data", c, "whole size.bin", data)


def test_per_packet_sizes_without_iv_block(server, tmp_path):
    """Per-packet content sizes and no IV block: the first block is not
    zeros, and the length at the last packet agrees."""
    data = os.urandom(200_000)
    c = new_cpp(server, "cpp no iv", iv_block=False)
    assert c.backup("no iv.bin", data, slice_size=65536) is True
    assert len(c.sent) == 4 and all(s[0] <= 65536 for s in c.sent)
    c.close()
    assert_stored(tmp_path / "data", c, "no iv.bin", data)


def test_first_block_contradicted_by_length_is_refused(server, tmp_path):
    """Per-packet sizes, a zero first block but the length of a stream
    without one: 1607 at the last packet, nothing stored."""
    data = os.urandom(1000)
    c = new_cpp(server, "cpp liar", iv_block=False)
    ct = b"\0" * 16 + c.encrypt(data)[16:]      # padded(1000) = 1008 bytes
    for p in c.file_packets("liar.bin", data, slice_size=512, ct=ct):
        c.send(p)
    code, _ = c.recv_resp()
    assert code == v3.R_ERROR
    assert c.closed_by_server()
    server.wait_for(r"liar\.bin: 1008 ciphertext bytes for 1000: no IV block, but the first block is zeros")
    assert not (tmp_path / "data" / c.id.hex() / "liar.bin").exists()


def test_key_slack_only_after_a_160_byte_key(server):
    """A 162-byte field holding a 162-byte DER whose length byte is
    damaged to say 160 is not a key with slack: 1607."""
    c = v3.Client(server.addr, "slack fake", exponent=65537)
    c.register()
    der = bytearray(c.spki())
    assert len(der) == 162
    der[2] = 157
    c.send(v3.req(c.id, v3.PUBKEY, v3.name_field(c.name) + bytes(der)))
    code, _ = c.recv_resp()
    assert code == v3.R_ERROR
    server.wait_for(r"1026 payload: public key not RSA-1024 DER")


def test_old_database_gets_oaep_column(server_factory, tmp_path):
    """A database from before keys.oaep_hash: the column is added, the
    keys in it stay SHA-256, and their clients reconnect."""
    srv = server_factory()
    c = v3.Client(srv.addr, "before upgrade")
    c.register()
    c.send_key()
    c.close()
    assert srv.stop() == 0
    with sqlite3.connect(tmp_path / "data" / "backupd.sqlite") as db:
        db.executescript(
            "CREATE TABLE k2(client_id BLOB PRIMARY KEY REFERENCES clients(id),"
            " spki BLOB NOT NULL, updated_ms INTEGER NOT NULL);"
            "INSERT INTO k2 SELECT client_id, spki, updated_ms FROM keys;"
            "DROP TABLE keys; ALTER TABLE k2 RENAME TO keys;")
    srv = server_factory()
    srv.wait_for(r"added keys\.oaep_hash")
    c2 = v3.Client(srv.addr, "before upgrade", key=c.key)
    c2.id = c.id
    assert c2.reconnect() == v3.R_RECON_OK       # unwrapped with SHA-256
    data = os.urandom(3000)
    assert c2.backup("after upgrade.txt", data) is not False
    c2.close()
    assert_stored(tmp_path / "data", c2, "after upgrade.txt", data)
