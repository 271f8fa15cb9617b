"""`certmint init`: the two CA hierarchies it creates (files, modes, key types, CA extensions,
chains), the passphrase handling, and that a second init refuses and changes nothing."""

import json
import sqlite3
import stat

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtensionOID, NameOID

from conftest import CA_COUNTRY, CA_ORG, certmint_bin, error_codes, init_ca, run, tree_hash

HIERARCHIES = ["public", "private"]
# file stem -> (key type, size or curve, is a root)
CA_FILES = {
    "ecdsa-root": ("ec", "secp384r1", True),
    "ecdsa": ("ec", "secp256r1", False),
    "rsa-root": ("rsa", 4096, True),
    "rsa": ("rsa", 3072, False),
}
ALL_CA = [(h, stem) for h in HIERARCHIES for stem in CA_FILES]


def _ext(cert, oid):
    return cert.extensions.get_extension_for_oid(oid)


@pytest.mark.parametrize("h,stem", ALL_CA, ids=[f"{h}-{s}" for h, s in ALL_CA])
def test_init_writes_certificate_and_encrypted_key_with_mode_0600(ca, h, stem):
    crt = ca.dir / "ca" / f"{h}-{stem}.crt"
    key = ca.dir / "ca" / f"{h}-{stem}.key"
    assert crt.is_file(), f"{crt} missing"
    assert key.is_file(), f"{key} missing"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600, oct(key.stat().st_mode)
    text = key.read_text()
    assert text.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----"), "key is not encrypted PKCS#8"
    with pytest.raises((TypeError, ValueError)):
        serialization.load_pem_private_key(text.encode(), None)


def test_init_writes_passphrase_file_with_mode_0600(ca):
    p = ca.dir / "ca" / "passphrase"
    assert p.is_file()
    assert stat.S_IMODE(p.stat().st_mode) == 0o600
    assert len(p.read_bytes().strip()) >= 16, "passphrase is too short to be random"
    assert (ca.dir / "certmint.conf").is_file()


@pytest.mark.parametrize("h,stem", ALL_CA, ids=[f"{h}-{s}" for h, s in ALL_CA])
def test_ca_key_decrypts_with_passphrase_and_matches_certificate(ca, h, stem):
    pw = (ca.dir / "ca" / "passphrase").read_bytes().rstrip(b"\r\n")
    key = serialization.load_pem_private_key(
        (ca.dir / "ca" / f"{h}-{stem}.key").read_bytes(), pw)
    cert = ca.cert(f"{h}-{stem}")
    fmt = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert key.public_key().public_bytes(*fmt) == cert.public_key().public_bytes(*fmt)


@pytest.mark.parametrize("h,stem", ALL_CA, ids=[f"{h}-{s}" for h, s in ALL_CA])
def test_ca_keys_have_the_contracted_type_and_size(ca, h, stem):
    kind, size, _ = CA_FILES[stem]
    pub = ca.cert(f"{h}-{stem}").public_key()
    if kind == "ec":
        assert isinstance(pub, ec.EllipticCurvePublicKey)
        assert pub.curve.name == size
    else:
        assert isinstance(pub, rsa.RSAPublicKey)
        assert pub.key_size == size


@pytest.mark.parametrize("h,stem", ALL_CA, ids=[f"{h}-{s}" for h, s in ALL_CA])
def test_ca_certificates_have_critical_bc_and_ku_and_key_identifiers(ca, h, stem):
    _, _, is_root = CA_FILES[stem]
    cert = ca.cert(f"{h}-{stem}")
    assert cert.version == x509.Version.v3
    bc = _ext(cert, ExtensionOID.BASIC_CONSTRAINTS)
    assert bc.critical and bc.value.ca is True
    if not is_root:
        assert bc.value.path_length == 0, "issuing CA must have pathLen 0"
    ku = _ext(cert, ExtensionOID.KEY_USAGE)
    assert ku.critical
    assert ku.value.key_cert_sign and ku.value.crl_sign
    assert not (ku.value.key_encipherment or ku.value.data_encipherment
                or ku.value.content_commitment or ku.value.key_agreement)
    ski = _ext(cert, ExtensionOID.SUBJECT_KEY_IDENTIFIER)
    assert ski.value.digest
    aki = _ext(cert, ExtensionOID.AUTHORITY_KEY_IDENTIFIER)
    assert not aki.critical
    signer = cert if is_root else ca.cert(f"{h}-{stem}-root")
    signer_ski = _ext(signer, ExtensionOID.SUBJECT_KEY_IDENTIFIER).value.digest
    assert aki.value.key_identifier == signer_ski
    assert aki.value.authority_cert_issuer is None
    if is_root:
        assert cert.issuer.public_bytes() == cert.subject.public_bytes()
    else:
        assert cert.issuer.public_bytes() == signer.subject.public_bytes()


@pytest.mark.parametrize("h,stem", ALL_CA, ids=[f"{h}-{s}" for h, s in ALL_CA])
def test_ca_subject_carries_ca_org_and_country(ca, h, stem):
    subj = ca.cert(f"{h}-{stem}").subject
    assert [a.value for a in subj.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)] == [CA_ORG]
    assert [a.value for a in subj.get_attributes_for_oid(NameOID.COUNTRY_NAME)] == [CA_COUNTRY]


def test_ca_subjects_are_distinct(ca):
    subjects = [ca.cert(f"{h}-{stem}").subject.public_bytes() for h, stem in ALL_CA]
    assert len(set(subjects)) == len(subjects), "two CA certificates share a subject"


@pytest.mark.parametrize("h", HIERARCHIES)
@pytest.mark.parametrize("alg", ["ecdsa", "rsa"])
def test_issuing_ca_verifies_strictly_against_its_root(ca, h, alg):
    r = run(["openssl", "verify", "-x509_strict", "-CAfile", ca.cert_path(f"{h}-{alg}-root"),
             ca.cert_path(f"{h}-{alg}")])
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("alg", ["ecdsa", "rsa"])
def test_private_issuing_ca_is_not_trusted_by_public_root(ca, alg):
    for root in ("public-ecdsa-root", "public-rsa-root"):
        r = run(["openssl", "verify", "-CAfile", ca.cert_path(root),
                 ca.cert_path(f"private-{alg}")])
        assert r.returncode != 0, f"private-{alg} verified against {root}"


def test_init_twice_refuses_with_already_initialised_and_changes_nothing(tmp_path):
    d = tmp_path / "data"
    first = init_ca(d)
    assert first.returncode == 0, first.stderr
    before = tree_hash(d)
    again = init_ca(d)
    assert again.returncode == 1, (again.returncode, again.stderr)
    assert "already_initialised" in error_codes(again.stderr), again.stderr
    assert tree_hash(d) == before, "a refused init changed the data directory"


def test_init_takes_passphrase_from_environment_and_writes_no_passphrase_file(tmp_path):
    d = tmp_path / "data"
    secret = "correct horse battery staple 4711"
    r = init_ca(d, env={"CERTMINT_CA_PASSPHRASE": secret}, extra=["--json"])
    assert r.returncode == 0, r.stderr
    assert isinstance(json.loads(r.stdout), dict), "init --json did not print a JSON object"
    assert not (d / "ca" / "passphrase").exists(), "passphrase file written despite the env"
    for h, stem in ALL_CA:
        key = d / "ca" / f"{h}-{stem}.key"
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        serialization.load_pem_private_key(key.read_bytes(), secret.encode())
        with pytest.raises(ValueError):
            serialization.load_pem_private_key(key.read_bytes(), b"wrong passphrase")


@pytest.mark.parametrize("args", [["--admin-email", "not an address"],
                                  ["--admin-email", "a@b\r\nBcc: x@example.com"],
                                  ["--account-name", ""]])
def test_init_refuses_bad_account_input_before_writing_anything(tmp_path, args):
    d = tmp_path / "data"
    r = run([str(certmint_bin()), "init", "--dir", str(d), *args])
    assert r.returncode == 2, r.stdout + r.stderr
    assert not d.exists() or not any(d.iterdir())


def test_init_json_prints_the_keys_once_and_stores_only_their_hashes(tmp_path):
    d = tmp_path / "data"
    r = run([str(certmint_bin()), "init", "--dir", str(d), "--json",
             "--admin-email", "ops@example.com", "--account-name", "Example"], timeout=300)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["operator_key"].startswith("cm_") and out["admin_key"].startswith("cm_")
    assert out["account_id"] == 1 and out["admin_email"] == "ops@example.com"
    db = (d / "certmint.db").read_bytes()
    assert out["operator_key"].encode() not in db and out["admin_key"].encode() not in db
    assert out["admin_key"] not in r.stderr
    con = sqlite3.connect(d / "certmint.db")
    assert con.execute("SELECT COUNT(*) FROM api_keys").fetchone()[0] == 2
    con.close()
    assert oct(stat.S_IMODE((d / "certmint.db").stat().st_mode)) == "0o600"
