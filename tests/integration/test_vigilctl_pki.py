"""`vigilctl pki init DIR` / `vigilctl pki device DIR NAME`: the CA, server and
device certificates it writes pass `openssl verify` with the right purposes and
carry the profile docs/vigilctl.md promises; files are never overwritten; bad
names are usage errors; and vigil-backupd plus `vigild backup` talk TLS with
them, while a device of another PKI, or a server name that does not match,
is refused."""
import hashlib
import os
import re
import stat
import subprocess

import pytest

from conftest import binary
from backupd import TIMEOUT_MS, Server

DAY = 86400


def vigilctl(*args):
    return subprocess.run([str(binary("vigilctl"))] + [str(a) for a in args],
                          capture_output=True, text=True, timeout=60)


def openssl(*args):
    return subprocess.run(["openssl"] + [str(a) for a in args],
                          capture_output=True, text=True, timeout=30)


def x509_text(path):
    r = openssl("x509", "-in", path, "-noout", "-text")
    assert r.returncode == 0, r.stderr
    return r.stdout


def verify(ca_dir, cert, purpose):
    return openssl("verify", "-CAfile", ca_dir / "ca.crt", "-purpose", purpose, cert)


def valid_for(cert, days):
    """openssl's -checkend: still valid `days` from now."""
    return openssl("x509", "-in", cert, "-noout", "-checkend", days * DAY).returncode == 0


def digest_tree(d):
    return {p: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(d.rglob("*")) if p.is_file()}


def mode(p):
    return stat.S_IMODE(os.stat(p).st_mode)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """The defaults, and the output of the run that made them."""
    d = tmp_path_factory.mktemp("pki") / "ours"
    r = vigilctl("pki", "init", d)
    assert r.returncode == 0, r.stderr
    return d, r


@pytest.fixture(scope="module")
def other_pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki-other") / "theirs"
    r = vigilctl("pki", "init", d, "--device", "intruder")
    assert r.returncode == 0, r.stderr
    return d


def test_init_writes_ca_server_and_device(pki):
    d, r = pki
    assert r.stderr == ""
    lines = r.stdout.splitlines()
    assert [l.split()[1] for l in lines] == [
        f"{d}/ca.key", f"{d}/ca.crt", f"{d}/server.key", f"{d}/server.crt",
        f"{d}/devices/device1.key", f"{d}/devices/device1.crt"]
    assert re.fullmatch(rf"wrote {d}/ca\.crt \(CN=vigil CA [0-9a-f]{{8}}, "
                        r"until \d{4}-\d\d-\d\d\)", lines[1])
    assert "(CN=localhost, until" in lines[3] and "(CN=device1, until" in lines[5]
    assert mode(d) == 0o700 and mode(d / "devices") == 0o700
    for key in ("ca.key", "server.key", "devices/device1.key"):
        assert mode(d / key) == 0o600
        assert (d / key).read_text().startswith("-----BEGIN EC PRIVATE KEY-----")
        assert openssl("pkey", "-in", d / key, "-noout", "-check").returncode == 0
    for crt in ("ca.crt", "server.crt", "devices/device1.crt"):
        assert mode(d / crt) == 0o644
    # no temporary files left behind
    assert sorted(os.listdir(d)) == ["ca.crt", "ca.key", "devices", "server.crt",
                                     "server.key"]
    assert sorted(os.listdir(d / "devices")) == ["device1.crt", "device1.key"]


def test_openssl_verifies_with_the_right_purposes(pki):
    d, _ = pki
    assert verify(d, d / "server.crt", "sslserver").returncode == 0
    assert verify(d, d / "devices/device1.crt", "sslclient").returncode == 0
    # the extended key usages keep each certificate to its role
    assert verify(d, d / "server.crt", "sslclient").returncode != 0
    assert verify(d, d / "devices/device1.crt", "sslserver").returncode != 0


def test_certificate_profile(pki):
    d, _ = pki
    ca, srv, dev = (x509_text(d / p) for p in
                    ("ca.crt", "server.crt", "devices/device1.crt"))
    for t in (ca, srv, dev):
        assert "ASN1 OID: prime256v1" in t
        assert t.count("Signature Algorithm: ecdsa-with-SHA256") == 2
        assert "Subject Key Identifier" in t and "Authority Key Identifier" in t
    ca_name = re.search(r"Subject: (O = vigil, CN = vigil CA [0-9a-f]{8})\n", ca).group(1)
    assert f"Issuer: {ca_name}\n" in srv and f"Issuer: {ca_name}\n" in dev
    assert re.search(r"Basic Constraints: critical\n\s+CA:TRUE, pathlen:0", ca)
    assert re.search(r"Key Usage: critical\n\s+Certificate Sign, CRL Sign\n", ca)
    for t in (srv, dev):
        assert re.search(r"Basic Constraints: ?\n\s+CA:FALSE", t)
        assert re.search(r"Key Usage: critical\n\s+Digital Signature\n", t)
    assert "Subject: O = vigil, CN = localhost\n" in srv
    assert re.search(r"Extended Key Usage: critical\n\s+TLS Web Server Authentication\n", srv)
    assert re.search(r"Subject Alternative Name: ?\n\s+DNS:localhost, IP Address:127\.0\.0\.1, "
                     r"IP Address:0:0:0:0:0:0:0:1\n", srv)
    assert "Subject: O = vigil, CN = device1\n" in dev
    assert re.search(r"Extended Key Usage: critical\n\s+TLS Web Client Authentication\n", dev)
    assert "Subject Alternative Name" not in dev


def test_serials_are_random_positive_16_bytes(pki):
    d, _ = pki
    serials = []
    for p in ("ca.crt", "server.crt", "devices/device1.crt"):
        r = openssl("x509", "-in", d / p, "-noout", "-serial")
        serial = r.stdout.strip().removeprefix("serial=")
        assert re.fullmatch(r"[4-7][0-9A-F]{31}", serial), serial
        serials.append(serial)
    assert len(set(serials)) == 3


def test_default_validity(pki):
    d, _ = pki
    assert valid_for(d / "ca.crt", 3649) and not valid_for(d / "ca.crt", 3651)
    for p in ("server.crt", "devices/device1.crt"):
        assert valid_for(d / p, 824) and not valid_for(d / p, 826)
    # it starts an hour ago, for clocks slightly behind ours
    r = openssl("x509", "-in", d / "server.crt", "-noout", "-startdate", "-enddate")
    start, end = (subprocess.run(["date", "-u", "-d", v.split("=", 1)[1], "+%s"],
                                 capture_output=True, text=True, check=True).stdout
                  for v in r.stdout.splitlines())
    assert int(end) - int(start) == 825 * DAY + 3600


def test_server_names_devices_and_days(tmp_path):
    d = tmp_path / "p"
    r = vigilctl("pki", "init", d, "--server-name", "backup.example.com",
                 "--server-name", "10.1.2.3", "--server-name", "fe80::1",
                 "--device", "box-a", "--device", "Box_2.lan", "--days", "30",
                 "--ca-days", "60")
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.splitlines()) == 8
    srv = x509_text(d / "server.crt")
    assert "Subject: O = vigil, CN = backup.example.com\n" in srv
    assert re.search(r"DNS:backup\.example\.com, IP Address:10\.1\.2\.3, "
                     r"IP Address:FE80:0:0:0:0:0:0:1\n", srv)
    assert "localhost" not in srv
    assert valid_for(d / "ca.crt", 59) and not valid_for(d / "ca.crt", 61)
    for p in ("server.crt", "devices/box-a.crt", "devices/Box_2.lan.crt"):
        assert valid_for(d / p, 29) and not valid_for(d / p, 31)
        assert openssl("verify", "-CAfile", d / "ca.crt", d / p).returncode == 0
    assert "CN = Box_2.lan\n" in x509_text(d / "devices/Box_2.lan.crt")


def test_a_leaf_never_outlives_its_ca(tmp_path):
    d = tmp_path / "p"
    r = vigilctl("pki", "init", d, "--days", "100", "--ca-days", "10")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count(", when the CA ends)") == 2
    ends = {openssl("x509", "-in", d / p, "-noout", "-enddate").stdout
            for p in ("ca.crt", "server.crt", "devices/device1.crt")}
    assert len(ends) == 1, ends


def test_init_refuses_to_overwrite(pki, tmp_path):
    d, _ = pki
    before = digest_tree(d)
    r = vigilctl("pki", "init", d)
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr == f"vigilctl: pki: {d} already holds a CA (ca.key); not overwriting it\n"
    assert digest_tree(d) == before
    # any file init would write stops it, before any key is made
    stale = tmp_path / "stale"
    (stale / "devices").mkdir(parents=True)
    (stale / "devices" / "box.crt").write_text("mine\n")
    r = vigilctl("pki", "init", stale, "--device", "box")
    assert r.returncode == 1, r.stderr
    assert "device 'box' exists" in r.stderr and "not overwriting it" in r.stderr
    assert sorted(p.name for p in stale.rglob("*")) == ["box.crt", "devices"]
    assert (stale / "devices" / "box.crt").read_text() == "mine\n"


def test_pki_device_adds_a_certificate(pki, other_pki):
    d, _ = pki
    r = vigilctl("pki", "device", d, "box-7", "--days", "10")
    assert r.returncode == 0, r.stderr
    assert [l.split()[1] for l in r.stdout.splitlines()] == [
        f"{d}/devices/box-7.key", f"{d}/devices/box-7.crt"]
    crt = d / "devices/box-7.crt"
    assert mode(d / "devices/box-7.key") == 0o600 and mode(crt) == 0o644
    assert verify(d, crt, "sslclient").returncode == 0
    assert valid_for(crt, 9) and not valid_for(crt, 11)
    assert "Subject: O = vigil, CN = box-7\n" in x509_text(crt)
    # a device of another PKI does not verify against ours
    assert verify(d, other_pki / "devices/intruder.crt", "sslclient").returncode != 0
    assert verify(other_pki, crt, "sslclient").returncode != 0


def test_pki_device_refuses_an_existing_name(pki):
    d, _ = pki
    before = digest_tree(d)
    r = vigilctl("pki", "device", d, "device1")
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr == (f"vigilctl: pki: device 'device1' exists ({d}/devices/device1.key); "
                        "not overwriting it\n")
    assert digest_tree(d) == before


def test_pki_device_needs_a_ca(tmp_path):
    r = vigilctl("pki", "device", tmp_path / "none", "box")
    assert r.returncode == 1
    assert "holds no CA (ca.key); make one with 'vigilctl pki init" in r.stderr
    assert not (tmp_path / "none").exists()


def test_pki_device_refuses_a_key_that_is_not_the_cas(pki, other_pki, tmp_path):
    d = tmp_path / "mixed"
    d.mkdir()
    (d / "ca.crt").write_bytes((pki[0] / "ca.crt").read_bytes())
    (d / "ca.key").write_bytes((other_pki / "ca.key").read_bytes())
    r = vigilctl("pki", "device", d, "box")
    assert r.returncode == 1
    assert r.stderr.startswith("vigilctl: pki: ca.key: matching it with ca.crt failed (mbedTLS -0x")
    assert sorted(os.listdir(d)) == ["ca.crt", "ca.key"]


GOOD_NAMES = ["a", "x" * 64, "a.b_c-D9", "-dash", "_"]
BAD_NAMES = ["", ".hidden", ".", "..", "a/b", "a b", "x" * 65, "b\u00fcro", "a,b", "a:b"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_device_names_are_usage_errors(name, tmp_path):
    for args in (["init", tmp_path / "p", "--device", name], ["device", tmp_path / "p", name]):
        r = vigilctl("pki", *args)
        assert r.returncode == 2, (args, r.stderr)
        assert f"bad device name '{name}'" in r.stderr
        assert "Try 'vigilctl pki --help'" in r.stderr
    assert not (tmp_path / "p").exists()


def test_good_device_names(tmp_path):
    args = []
    for n in GOOD_NAMES:
        args += ["--device", n]
    r = vigilctl("pki", "init", tmp_path / "p", *args)
    assert r.returncode == 0, r.stderr
    for n in GOOD_NAMES:
        assert verify(tmp_path / "p", tmp_path / "p/devices" / f"{n}.crt",
                      "sslclient").returncode == 0


@pytest.mark.parametrize("args, msg", [
    (["pki"], "init or device expected"),
    (["pki", "renew", "d"], "unknown command 'renew'"),
    (["pki", "init"], "no DIR given"),
    (["pki", "init", "d", "e"], "too many arguments"),
    (["pki", "device", "d"], "no device NAME given"),
    (["pki", "init", "d", "--days"], "--days needs a value"),
    (["pki", "init", "d", "--days", "0"], "bad value '0' for --days (1-36500)"),
    (["pki", "init", "d", "--days", "36501"], "bad value '36501' for --days"),
    (["pki", "init", "d", "--ca-days", "-5"], "bad value '-5' for --ca-days"),
    (["pki", "init", "d", "--frob"], "unknown option '--frob'"),
    (["pki", "device", "d", "n", "--ca-days", "9"], "unknown option '--ca-days'"),
    (["pki", "device", "d", "n", "--device", "m"], "unknown option '--device'"),
    (["pki", "init", "d", "--device", "a", "--device", "a"], "device 'a' given twice"),
    (["pki", "init", "d", "--server-name", "10.0.0.256"], "bad server name '10.0.0.256'"),
    (["pki", "init", "d", "--server-name", "-a.example"], "bad server name"),
    (["pki", "init", "d", "--server-name", "a..example"], "bad server name"),
    (["pki", "init", "d", "--server-name", "a_b.example"], "bad server name"),
    (["pki", "init", "d", "--server-name", "fe80::1%eth0"], "bad server name"),
    (["pki", "init", "d", "--server-name", "a" * 64 + ".example"], "bad server name"),
    (["pki", "init", "d"] + ["--server-name", "a.example"] * 17, "more than 16 server names"),
])
def test_usage_errors(args, msg, tmp_path):
    r = subprocess.run([str(binary("vigilctl").resolve())] + args, capture_output=True, text=True,
                       timeout=30, cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert msg in r.stderr
    assert os.listdir(tmp_path) == []


def test_help():
    r = vigilctl("pki", "--help")
    assert r.returncode == 0 and r.stdout.startswith("Usage: vigilctl pki init DIR")
    assert "--server-name NAME" in r.stdout and "--ca-days N" in r.stdout
    assert vigilctl("pki", "device", "--help").stdout == r.stdout
    top = vigilctl("--help").stdout
    assert "pki init DIR" in top


# ---- end to end: vigil-backupd and `vigild backup` on the generated PKI ------

@pytest.fixture
def tls_server(pki, tmp_path):
    d, _ = pki
    s = Server(["--data", str(tmp_path / "data"), "--timeout-ms", str(TIMEOUT_MS),
                "--tls", "127.0.0.1:0", "--tls-cert", str(d / "server.crt"),
                "--tls-key", str(d / "server.key"), "--tls-ca", str(d / "ca.crt")]).start()
    yield s
    s.stop()


def backup(port, tmp_path, ca_dir, cert, key, path):
    return subprocess.run(
        [str(binary("vigild")), "backup", "--server", f"tls://127.0.0.1:{port}",
         "--state", str(tmp_path / "state"), "--name", "pki-box", "--timeout", "5000",
         "--retry-cap", "200", "--tls-ca", str(ca_dir / "ca.crt"),
         "--tls-cert", str(cert), "--tls-key", str(key), str(path)],
        capture_output=True, text=True, timeout=60)


def test_backup_over_tls_with_generated_certificates(tls_server, pki, tmp_path):
    d, _ = pki
    f = tmp_path / "f"
    data = os.urandom(70000)
    f.write_bytes(data)
    r = backup(tls_server.tls_port, tmp_path, d, d / "devices/device1.crt",
               d / "devices/device1.key", f)
    assert r.returncode == 0, r.stderr
    assert "1 files verified" in r.stderr
    tls_server.wait_for(r"TLSv1\.3 .*client O=vigil, CN=device1")
    stored = [p for p in (tmp_path / "data").rglob("v1")]
    assert len(stored) == 1 and stored[0].read_bytes() == data


def test_server_refuses_a_device_of_another_pki(tls_server, pki, other_pki, tmp_path):
    d, _ = pki
    f = tmp_path / "f"
    f.write_bytes(b"x")
    r = backup(tls_server.tls_port, tmp_path, d, other_pki / "devices/intruder.crt",
               other_pki / "devices/intruder.key", f)
    assert r.returncode == 1, r.stderr
    assert "the server refused the TLS connection" in r.stderr.strip().splitlines()[-1]
    tls_server.wait_for(r"client certificate verification failed")
    assert not list((tmp_path / "data").rglob("v1"))


def test_agent_checks_the_server_names(tmp_path):
    """A server certificate without the address the agent dials is refused:
    the SANs written are the ones mbedTLS checks."""
    d = tmp_path / "named"
    assert vigilctl("pki", "init", d, "--server-name", "backup.example.com").returncode == 0
    s = Server(["--data", str(tmp_path / "data"), "--timeout-ms", str(TIMEOUT_MS),
                "--tls", "127.0.0.1:0", "--tls-cert", str(d / "server.crt"),
                "--tls-key", str(d / "server.key"), "--tls-ca", str(d / "ca.crt")]).start()
    try:
        f = tmp_path / "f"
        f.write_bytes(b"x")
        r = backup(s.tls_port, tmp_path, d, d / "devices/device1.crt",
                   d / "devices/device1.key", f)
    finally:
        s.stop()
    assert r.returncode == 1
    assert "its name does not match the server address" in r.stderr
