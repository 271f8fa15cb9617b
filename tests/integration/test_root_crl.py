"""The roots' CRLs: `certmint init` signs one per root (DIR/ca/<root>.crl) and the server serves
it at /crl/<root>.crl, the URL every issuing CA certificate names (v2, the root's issuer bytes,
AKI = the root's SKI, a CRL number, nextUpdate within a year, the root certificate's own hash,
signature valid under the root); a full chain check with `openssl verify -crl_check_all` passes
with the root's and the issuing CA's CRL and fails without the root's; `certmint ca root-crl`
(the root keys are read there, never by the server) bumps the number and the restarted server
serves the new file; a wrong passphrase or bad --days changes nothing; a missing file is a 404
that names `certmint ca root-crl`.
"""

import datetime
import re
import subprocess

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import ExtensionOID

from conftest import certmint, error_codes, split_pem
from server import Server
from test_server import private_order, ready

ROOTS = ["public-ecdsa-root", "public-rsa-root", "private-ecdsa-root", "private-rsa-root"]


@pytest.fixture
def srv(tmp_path):
    s = Server(tmp_path).start()
    yield s
    s.stop()


def get_crl(srv, ca_id):
    r = requests.get(f"{srv.base}/crl/{ca_id}.crl", timeout=30)
    assert r.status_code == 200, (ca_id, r.status_code, r.text)
    assert r.headers["Content-Type"] == "application/pkix-crl"
    return r


def crl_number(der: bytes) -> int:
    crl = x509.load_der_x509_crl(der)
    return crl.extensions.get_extension_for_oid(ExtensionOID.CRL_NUMBER).value.crl_number


def root_cert(srv, root_id) -> x509.Certificate:
    return x509.load_pem_x509_certificate((srv.dir / "ca" / f"{root_id}.crt").read_bytes())


def openssl(*args):
    return subprocess.run(["openssl", *[str(a) for a in args]], capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize("root_id", ROOTS)
def test_root_crl_is_served_and_verifies_under_its_root(srv, tmp_path, root_id):
    r = get_crl(srv, root_id)
    assert "max-age=3600" in r.headers.get("Cache-Control", "")
    # what the server serves is the file init wrote
    assert r.content == (srv.dir / "ca" / f"{root_id}.crl").read_bytes()
    der = tmp_path / f"{root_id}.crl"
    der.write_bytes(r.content)
    root = root_cert(srv, root_id)

    text = openssl("crl", "-inform", "DER", "-in", der, "-noout", "-text")
    assert text.returncode == 0, text.stderr
    assert "Version 2 (0x1)" in text.stdout, text.stdout
    assert "CRL Number" in text.stdout, text.stdout
    assert "No Revoked Certificates" in text.stdout, text.stdout
    cn = root.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
    assert re.search(r"Issuer: .*CN = " + re.escape(cn) + r"\s*$", text.stdout, re.M), text.stdout

    crl = x509.load_der_x509_crl(r.content)
    assert crl.issuer.public_bytes() == root.subject.public_bytes()
    aki = crl.extensions.get_extension_for_oid(ExtensionOID.AUTHORITY_KEY_IDENTIFIER).value
    ski = root.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_KEY_IDENTIFIER).value
    assert aki.key_identifier == ski.digest
    assert crl_number(r.content) >= 1
    now = datetime.datetime.utcnow()
    assert crl.last_update <= now + datetime.timedelta(minutes=5)
    assert now < crl.next_update <= now + datetime.timedelta(days=366)
    assert crl.next_update - crl.last_update <= datetime.timedelta(days=365)
    # the same hash as the root certificate itself: sha384 for P-384, sha256 for RSA
    assert type(crl.signature_hash_algorithm) is type(root.signature_hash_algorithm)
    expected = hashes.SHA384 if "ecdsa" in root_id else hashes.SHA256
    assert isinstance(crl.signature_hash_algorithm, expected)
    assert crl.is_signature_valid(root.public_key())

    v = openssl("crl", "-inform", "DER", "-in", der, "-CAfile",
                srv.dir / "ca" / f"{root_id}.crt", "-noout")
    assert "verify OK" in v.stdout + v.stderr, v.stdout + v.stderr
    # and not under another root
    other = "public-rsa-root" if root_id != "public-rsa-root" else "private-rsa-root"
    assert not crl.is_signature_valid(root_cert(srv, other).public_key())


def test_issuing_ca_certificates_name_the_served_root_crl(srv):
    for root_id in ROOTS:
        issuing = x509.load_pem_x509_certificate(
            (srv.dir / "ca" / f"{root_id[:-5]}.crt").read_bytes())
        dp = issuing.extensions.get_extension_for_oid(ExtensionOID.CRL_DISTRIBUTION_POINTS)
        url = dp.value[0].full_name[0].value
        assert url.endswith(f"/crl/{root_id}.crl"), url
        # the path of that URL answers on this server
        get_crl(srv, root_id)


def test_full_chain_check_with_root_and_issuing_crls(srv, keys, tmp_path):
    ready(srv)
    r = private_order(srv, keys)
    assert r.status_code == 201, r.text
    leaf_der, issuing_der = split_pem(r.json()["certificate_chain"].encode())[:2]
    issuing = x509.load_der_x509_certificate(issuing_der)
    pem = serialization.Encoding.PEM
    ca_id = next(i for i in ("private-ecdsa", "private-rsa")
                 if (srv.dir / "ca" / f"{i}.crt").read_bytes() == issuing.public_bytes(pem))
    leaf = tmp_path / "leaf.pem"
    leaf.write_bytes(x509.load_der_x509_certificate(leaf_der).public_bytes(pem))
    inter = tmp_path / "inter.pem"
    inter.write_bytes(issuing.public_bytes(pem))
    root_crl = tmp_path / "root.crl"
    root_crl.write_bytes(x509.load_der_x509_crl(get_crl(srv, f"{ca_id}-root").content)
                         .public_bytes(pem))
    issuing_crl = tmp_path / "issuing.crl"
    issuing_crl.write_bytes(x509.load_der_x509_crl(get_crl(srv, ca_id).content)
                            .public_bytes(pem))
    root = srv.dir / "ca" / f"{ca_id}-root.crt"
    base = ["verify", "-crl_check_all", "-CAfile", root, "-untrusted", inter]
    v = openssl(*base, "-CRLfile", root_crl, "-CRLfile", issuing_crl, leaf)
    assert v.returncode == 0 and "OK" in v.stdout, v.stdout + v.stderr
    # without the root's CRL the issuing CA cannot be checked: the root CRL is what makes it pass
    v = openssl(*base, "-CRLfile", issuing_crl, leaf)
    assert v.returncode != 0, v.stdout + v.stderr
    assert "unable to get certificate CRL" in v.stdout + v.stderr, v.stdout + v.stderr


def test_ca_root_crl_bumps_the_number_and_the_restarted_server_serves_it(srv):
    before = {r: crl_number(get_crl(srv, r).content) for r in ROOTS}
    srv.stop()
    r = certmint("ca", "root-crl", "--dir", srv.dir, "--days", "200", timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    for root_id in ROOTS:
        crl = x509.load_der_x509_crl((srv.dir / "ca" / f"{root_id}.crl").read_bytes())
        assert crl.next_update - crl.last_update == datetime.timedelta(days=200)
    srv.start()
    for root_id in ROOTS:
        got = get_crl(srv, root_id).content
        assert crl_number(got) == before[root_id] + 1, root_id
        assert got == (srv.dir / "ca" / f"{root_id}.crl").read_bytes()
        assert x509.load_der_x509_crl(got).is_signature_valid(root_cert(srv, root_id).public_key())


def test_wrong_passphrase_or_bad_days_fail_and_keep_the_old_files(tmp_path):
    s = Server(tmp_path)  # a data directory only: the root keys are never the server's
    old = {r: (s.dir / "ca" / f"{r}.crl").read_bytes() for r in ROOTS}
    r = certmint("ca", "root-crl", "--dir", s.dir,
                 env={"CERTMINT_CA_PASSPHRASE": "not the passphrase of this CA"}, timeout=120)
    assert r.returncode == 1, r.stdout + r.stderr
    assert error_codes(r.stderr) == ["ca_key_unreadable"], r.stderr
    assert "CERTMINT_CA_PASSPHRASE" in r.stderr, r.stderr
    for days in ("366", "0", "x"):
        r = certmint("ca", "root-crl", "--dir", s.dir, "--days", days)
        assert r.returncode == 2, (days, r.stdout + r.stderr)
    r = certmint("ca", "root-crl", "--help")
    assert r.returncode == 0 and "once a year" in r.stdout, r.stdout
    assert {r: (s.dir / "ca" / f"{r}.crl").read_bytes() for r in ROOTS} == old
    assert not list((s.dir / "ca").glob("*.tmp-*")), "a temporary file was left behind"


def test_missing_root_crl_is_404_naming_the_command_and_unknown_roots_are_404(tmp_path):
    s = Server(tmp_path)
    (s.dir / "ca" / "public-rsa-root.crl").unlink()
    s.start()
    try:
        r = requests.get(f"{s.base}/crl/public-rsa-root.crl", timeout=30)
        assert r.status_code == 404, r.text
        err = r.json()["errors"][0]
        assert err["code"] == "not_found" and "certmint ca root-crl" in err["message"], err
        for bad in ("bogus-root", "public-rsa-root-root", "-root", "listener-root"):
            r = requests.get(f"{s.base}/crl/{bad}.crl", timeout=30)
            assert r.status_code == 404, (bad, r.text)
        # the other roots and the issuing CAs are unaffected
        get_crl(s, "public-ecdsa-root")
        assert crl_number(get_crl(s, "public-rsa").content) >= 1
    finally:
        s.stop()
