"""Download formats of `certmint issue --format`: the PEM bundles (blocks, count and order), DER,
PKCS#7 certs-only (read back with `openssl pkcs7` and by its DER structure) and the zips
(default, default_pem, apache) with their member names, each for both issuers."""

import io
import re
import zipfile

import pytest

import certcheck
from conftest import Keys, issue, run, split_pem

PEM_ORDER = {
    "pem_all": ["leaf", "issuing", "root"],
    "pem_noroot": ["leaf", "issuing"],
    "pem_nointermediate": ["leaf", "root"],
}
ZIPS = {
    "default": ("crt", ["leaf", "CertmintCA", "TrustedRoot"]),
    "default_pem": ("pem", ["leaf", "CertmintCA", "TrustedRoot"]),
    "apache": ("crt", ["leaf", "CertmintCA"]),
}
ISSUERS = ["ecdsa", "rsa"]
STEM_RE = re.compile(r"^[A-Za-z0-9_-]+$")
OID_SIGNED_DATA, OID_DATA = "1.2.840.113549.1.7.2", "1.2.840.113549.1.7.1"


def _issue(ca, keys, tmp_path, fmt, issuer, out):
    key = keys.key("p256")
    res = issue(ca, tmp_path, "ssl_dv_geotrust", keys.csr("p256"), cn="www.example.com",
                sans=["example.com"], issuer=issuer, fmt=fmt, out=out)
    assert res.ok, f"issue --format {fmt} failed: {res.proc.stderr}"
    assert res.info["format"] == fmt
    assert res.info["out"] == str(res.out)
    assert res.info["issuer"] == f"public-{issuer}"
    assert res.out.is_file()
    return key, res


def _expected(ca, issuer):
    return {"issuing": ca.der(f"public-{issuer}"), "root": ca.der(f"public-{issuer}-root")}


def _check_leaf(ca, issuer, leaf_der, key, res):
    exp = certcheck.Expect(validation="dv", names=["www.example.com", "example.com"],
                           cn="www.example.com", public_url=ca.public_url,
                           subject_key=Keys.public_key(key), issued_at=res.started)
    cert = certcheck.check_certificate(leaf_der, ca.der(f"public-{issuer}"), exp)
    assert int(res.info["serial"], 16) == cert.serial_number


@pytest.mark.parametrize("issuer", ISSUERS)
@pytest.mark.parametrize("fmt", list(PEM_ORDER))
def test_pem_format_holds_blocks_in_order(ca, keys, tmp_path, fmt, issuer):
    key, res = _issue(ca, keys, tmp_path, fmt, issuer, "chain.pem")
    data = res.out.read_bytes()
    blocks = split_pem(data)
    want = PEM_ORDER[fmt]
    assert len(blocks) == len(want), f"{fmt}: {len(blocks)} certificates, expected {len(want)}"
    assert data.count(b"-----BEGIN ") == len(want), "other PEM blocks in the bundle"
    exp = _expected(ca, issuer)
    for der, role in zip(blocks, want):
        if role != "leaf":
            assert der == exp[role], f"{fmt}: block for {role} is not the CA certificate on disk"
    _check_leaf(ca, issuer, blocks[0], key, res)


@pytest.mark.parametrize("issuer", ISSUERS)
def test_der_format_is_the_leaf_alone(ca, keys, tmp_path, issuer):
    key, res = _issue(ca, keys, tmp_path, "der", issuer, "leaf.der")
    data = res.out.read_bytes()
    assert data[:1] == b"\x30", "DER output does not start with a SEQUENCE"
    _, end = certcheck.der_read(data)
    assert end == len(data), "DER output holds more than one certificate"
    _check_leaf(ca, issuer, data, key, res)


@pytest.mark.parametrize("issuer", ISSUERS)
def test_p7b_format_is_certs_only_pkcs7_with_three_certificates(ca, keys, tmp_path, issuer):
    key, res = _issue(ca, keys, tmp_path, "p7b", issuer, "chain.p7b")
    r = run(["openssl", "pkcs7", "-inform", "DER", "-in", res.out, "-print_certs"], check=True)
    blocks = split_pem(r.stdout.encode())
    assert len(blocks) == 3, r.stdout
    exp = _expected(ca, issuer)
    assert set(blocks[1:]) == {exp["issuing"], exp["root"]}
    leaf = [b for b in blocks if b not in (exp["issuing"], exp["root"])]
    assert len(leaf) == 1
    _check_leaf(ca, issuer, leaf[0], key, res)

    # Structure: ContentInfo{signedData, SignedData{v1, no digests, data without content,
    # [0] certificates, no signers}}.
    data = res.out.read_bytes()
    ci, end = certcheck.der_read(data)
    assert end == len(data)
    oid, content = certcheck.der_children(ci)
    assert certcheck.der_oid(oid) == OID_SIGNED_DATA
    (sd,) = certcheck.der_children(content)
    fields = certcheck.der_children(sd)
    assert fields[0].raw == b"\x02\x01\x01", "SignedData version is not 1"
    assert fields[1].tag == 0x31 and fields[1].value == b"", "digestAlgorithms not empty"
    encap = certcheck.der_children(fields[2])
    assert certcheck.der_oid(encap[0]) == OID_DATA and len(encap) == 1, "content present"
    assert fields[3].tag == 0xA0, "no [0] certificates"
    assert [c.raw for c in certcheck.der_children(fields[3])] == blocks
    assert fields[-1].tag == 0x31 and fields[-1].value == b"", "signerInfos not empty"


@pytest.mark.parametrize("issuer", ISSUERS)
@pytest.mark.parametrize("fmt", list(ZIPS))
def test_zip_format_has_one_named_pem_member_per_certificate(ca, keys, tmp_path, fmt, issuer):
    key, res = _issue(ca, keys, tmp_path, fmt, issuer, "bundle.zip")
    ext, stems = ZIPS[fmt]
    data = res.out.read_bytes()
    assert data[:4] == b"PK\x03\x04", "not a zip"
    z = zipfile.ZipFile(io.BytesIO(data))
    assert z.testzip() is None, "zip member CRC mismatch"
    names = z.namelist()
    assert len(names) == len(stems), names
    fixed = {f"{s}.{ext}" for s in stems if s != "leaf"}
    assert fixed <= set(names), f"{names} lacks {fixed}"
    (leaf_name,) = set(names) - fixed
    stem, dot, leaf_ext = leaf_name.rpartition(".")
    assert dot and leaf_ext == ext and STEM_RE.match(stem), f"leaf member {leaf_name!r}"
    for n in names:
        assert "/" not in n and "\\" not in n and not n.startswith("."), n
    exp = _expected(ca, issuer)
    for n in names:
        blocks = split_pem(z.read(n))
        assert len(blocks) == 1, f"{n} holds {len(blocks)} certificates"
    assert split_pem(z.read(f"CertmintCA.{ext}")) == [exp["issuing"]]
    if "TrustedRoot" in stems:
        assert split_pem(z.read(f"TrustedRoot.{ext}")) == [exp["root"]]
    _check_leaf(ca, issuer, split_pem(z.read(leaf_name))[0], key, res)


def test_binary_format_with_json_prints_only_the_json_object(ca, keys, tmp_path):
    _, res = _issue(ca, keys, tmp_path, "default", "ecdsa", "bundle.zip")
    # issue() parsed stdout as exactly one JSON value; nothing of the zip leaked onto it.
    assert isinstance(res.info, dict) and "serial" in res.info
    assert "PK" not in res.proc.stdout

