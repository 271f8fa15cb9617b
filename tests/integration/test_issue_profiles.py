"""`certmint issue` across products, subject key types, issuers and hashes: every certificate is
checked row by row against COMPLIANCE.md (certcheck.py), verified with OpenSSL and GnuTLS, and
served in a real TLS handshake; plus the rules about names, serials, validity, the JSON answer
and the private hierarchy."""

import datetime
from dataclasses import dataclass
from typing import Optional, Sequence

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

import certcheck
from conftest import EV_ORG, OV_ORG, Keys, issue, pem_of, split_pem


@dataclass
class Case:
    id: str
    product: str
    key: str
    cn: str
    sans: Sequence[str]
    validation: str
    issuer: Optional[str] = None
    hash: Optional[str] = None
    org: Optional[dict] = None
    hierarchy: str = "public"
    wildcard: bool = False
    days: Optional[int] = None


MULTI = ["www.example.com", "example.com", "mail.example.com", "www.example.net", "example.net",
         "www.example.org", "example.org"]

CASES = [
    Case("dv-p256-ecdsa-sha256", "ssl_dv_geotrust", "p256", "www.example.com", ["example.com"],
         "dv", issuer="ecdsa", hash="sha256"),
    Case("dv-rsa2048-rsa-sha256", "ssl_dv_geotrust", "rsa2048", "example.org",
         ["www.example.org"], "dv", issuer="rsa", hash="sha256"),
    Case("dv-p384-default-issuer", "ssl_dv_geotrust", "p384", "shop.example.net", [], "dv"),
    Case("ov-basic-rsa3072-rsa-sha384", "ssl_basic", "rsa3072", "shop.example.net",
         ["example.net"], "ov", issuer="rsa", hash="sha384", org=OV_ORG, wildcard=True),
    Case("ov-plus-p384-ecdsa", "ssl_plus", "p384", "www.example.org", ["example.org"], "ov",
         issuer="ecdsa", org=OV_ORG),
    Case("ov-flex-rsa4096-rsa-sha512-with-wildcard", "ssl_securesite_flex", "rsa4096",
         "example.com", ["www.example.com", "*.example.net"], "ov", issuer="rsa", hash="sha512",
         org=OV_ORG, wildcard=True),
    Case("ov-multi-domain-7-names-p256-ecdsa", "ssl_multi_domain", "p256", MULTI[0], MULTI[1:],
         "ov", issuer="ecdsa", org=OV_ORG),
    Case("ov-wildcard-p256-ecdsa", "ssl_wildcard", "p256", "*.example.com", [], "ov",
         issuer="ecdsa", org=OV_ORG, wildcard=True),
    Case("ov-wildcard-rsa2048-rsa-sha256", "ssl_wildcard", "rsa2048", "*.example.org",
         ["example.org"], "ov", issuer="rsa", hash="sha256", org=OV_ORG, wildcard=True),
    Case("ev-basic-rsa2048-rsa-sha256", "ssl_ev_basic", "rsa2048", "www.example.com",
         ["example.com"], "ev", issuer="rsa", hash="sha256", org=EV_ORG),
    Case("ev-plus-p256-ecdsa", "ssl_ev_plus", "p256", "secure.example.net", [], "ev",
         issuer="ecdsa", org=EV_ORG),
    Case("ev-plus-rsa4096-rsa-sha384", "ssl_ev_plus", "rsa4096", "www.example.org", [], "ev",
         issuer="rsa", hash="sha384", org=EV_ORG),
    Case("dv-p256-days-30", "ssl_dv_geotrust", "p256", "www.example.net", [], "dv",
         issuer="ecdsa", days=30),
    Case("dv-rsa3072-days-200-max", "ssl_dv_geotrust", "rsa3072", "www.example.com", [], "dv",
         issuer="rsa", hash="sha512", days=200),
    Case("private-plus-p256-ecdsa-with-ip", "private_ssl_plus", "p256", "db.internal",
         ["10.0.0.1"], "ov", issuer="ecdsa", org=OV_ORG, hierarchy="private"),
    Case("private-plus-rsa2048-rsa", "private_ssl_plus", "rsa2048", "db.internal",
         ["10.0.0.1"], "ov", issuer="rsa", hash="sha384", org=OV_ORG, hierarchy="private"),
    Case("private-wildcard-p384-ecdsa", "private_ssl_wildcard", "p384", "*.db.internal", [],
         "ov", issuer="ecdsa", org=OV_ORG, hierarchy="private", wildcard=True),
]


def _expected_names(c: Case):
    names = list(c.sans)
    if c.cn not in names:
        names.insert(0, c.cn)
    return names


def _issue_case(ca, keys: Keys, tmp_path, c: Case):
    key = keys.key(c.key)
    csr = keys.csr(c.key)
    res = issue(ca, tmp_path, c.product, csr, cn=c.cn, sans=c.sans, org=c.org, issuer=c.issuer,
                hash=c.hash, days=c.days)
    assert res.ok, f"issue failed ({res.proc.returncode}): {res.proc.stderr}"
    return key, res


@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_issued_certificate_meets_checklist_and_verifies(ca, keys, tmp_path, c):
    key, res = _issue_case(ca, keys, tmp_path, c)
    blocks = split_pem(res.out.read_bytes())
    assert len(blocks) == 3, "pem_all must hold leaf, issuing CA and root"
    leaf_der, issuing_der, root_der = blocks

    want_issuer = f"{c.hierarchy}-{c.issuer or res.info['issuer'].split('-')[-1]}"
    assert res.info["issuer"] == want_issuer, res.info
    assert issuing_der == ca.der(want_issuer), "bundled issuing CA is not the one on disk"
    assert root_der == ca.der(want_issuer + "-root"), "bundled root is not the one on disk"

    exp = certcheck.Expect(
        validation=c.validation, names=_expected_names(c), cn=c.cn, hierarchy=c.hierarchy,
        hash=c.hash, days=c.days, org=c.org, public_url=ca.public_url,
        subject_key=Keys.public_key(key), issued_at=res.started, wildcard_allowed=c.wildcard)
    cert = certcheck.check_certificate(leaf_der, issuing_der, exp)

    # The JSON answer describes this certificate.
    assert int(res.info["serial"], 16) == cert.serial_number
    nb = datetime.datetime.fromisoformat(res.info["not_before"].replace("Z", "+00:00"))
    na = datetime.datetime.fromisoformat(res.info["not_after"].replace("Z", "+00:00"))
    assert nb.replace(tzinfo=None) == cert.not_valid_before
    assert na.replace(tzinfo=None) == cert.not_valid_after
    assert res.info["format"] == "pem_all"
    assert res.info["out"] == str(res.out)

    # Row 40: independent verifiers and a TLS handshake.
    leaf = tmp_path / "leaf-only.pem"
    leaf.write_text(pem_of(leaf_der))
    certcheck.assert_chain_row40(ca.cert_path(want_issuer + "-root"), ca.cert_path(want_issuer),
                                 leaf, key, c.cn, tmp_path)
    for ip in [n for n in c.sans if n[0].isdigit()]:
        r = certcheck.verify_chain_openssl(ca.root_path(want_issuer), ca.cert_path(want_issuer),
                                           leaf, ip=ip)
        assert r.returncode == 0, f"IP {ip} does not verify: {r.stdout}{r.stderr}"


PRIVATE = [c for c in CASES if c.hierarchy == "private"]


@pytest.mark.parametrize("c", PRIVATE, ids=[c.id for c in PRIVATE])
def test_private_certificate_is_not_trusted_by_public_roots(ca, keys, tmp_path, c):
    key, res = _issue_case(ca, keys, tmp_path, c)
    leaf_der, issuing_der, _ = split_pem(res.out.read_bytes())
    leaf = tmp_path / "leaf-only.pem"
    leaf.write_text(pem_of(leaf_der))
    assert res.info["issuer"].startswith("private-")
    issuing = ca.cert_path(res.info["issuer"])
    for root in ("public-ecdsa-root", "public-rsa-root"):
        r = certcheck.verify_chain_openssl(ca.cert_path(root), issuing, leaf)
        assert r.returncode != 0, f"private leaf verified against {root}"
        g = certcheck.verify_chain_gnutls(ca.cert_path(root), issuing, leaf, tmp_path,
                                          hostname="db.internal")
        assert g.returncode != 0, f"GnuTLS trusted a private leaf via {root}"
    h = certcheck.tls_handshake(ca.cert_path("public-ecdsa-root"), issuing, leaf, key,
                                "db.internal")
    assert h.returncode != 0, f"handshake trusted the private chain: {h.stdout[-2000:]}"
    assert "Verify return code: 0 (ok)" not in h.stdout, "handshake trusted the private chain"


@pytest.mark.parametrize("issuer", ["ecdsa", "rsa"])
def test_public_certificate_is_not_trusted_by_the_other_hierarchy(ca, keys, tmp_path, issuer):
    res = issue(ca, tmp_path, "ssl_dv_geotrust", keys.csr("p256"), cn="www.example.com",
                issuer=issuer)
    assert res.ok, res.proc.stderr
    leaf = tmp_path / "leaf-only.pem"
    leaf.write_text(pem_of(split_pem(res.out.read_bytes())[0]))
    r = certcheck.verify_chain_openssl(ca.cert_path(f"private-{issuer}-root"),
                                       ca.cert_path(f"public-{issuer}"), leaf)
    assert r.returncode != 0, "public leaf verified against the private root"


def test_names_come_from_command_line_not_from_csr(ca, keys, tmp_path):
    csr = keys.csr("p256", subj="/CN=evil.example.org/O=Evil Corp/OU=Sales",
                   extra=["-addext", "subjectAltName=DNS:evil.example.org,DNS:other.example.net",
                          "-addext", "basicConstraints=critical,CA:TRUE"])
    res = issue(ca, tmp_path, "ssl_dv_geotrust", csr, cn="www.example.com", issuer="ecdsa")
    assert res.ok, res.proc.stderr
    cert = x509.load_der_x509_certificate(split_pem(res.out.read_bytes())[0])
    text = cert.public_bytes(serialization.Encoding.PEM)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["www.example.com"]
    assert "evil" not in cert.subject.rfc4514_string().lower()
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert b"evil" not in text


def test_cn_is_added_to_sans_when_absent(ca, keys, tmp_path):
    res = issue(ca, tmp_path, "ssl_multi_domain", keys.csr("p256"), cn="www.example.com",
                sans=["example.net", "example.org"], org=OV_ORG, issuer="ecdsa")
    assert res.ok, res.proc.stderr
    cert = x509.load_der_x509_certificate(split_pem(res.out.read_bytes())[0])
    dns = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value \
        .get_values_for_type(x509.DNSName)
    assert sorted(dns) == ["example.net", "example.org", "www.example.com"]
    cns = [a.value for a in cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)]
    assert cns == ["www.example.com"]


def test_first_san_becomes_cn_without_cn_option(ca, keys, tmp_path):
    res = issue(ca, tmp_path, "ssl_dv_geotrust", keys.csr("p256"),
                sans=["mail.example.org", "example.org"], issuer="ecdsa")
    assert res.ok, res.proc.stderr
    der = split_pem(res.out.read_bytes())[0]
    exp = certcheck.Expect(validation="dv", names=["mail.example.org", "example.org"],
                           cn="mail.example.org", issued_at=res.started,
                           public_url=ca.public_url)
    certcheck.check_certificate(der, ca.der("public-ecdsa"), exp)


def test_serials_are_unique_and_not_sequential_for_the_same_csr(ca, keys, tmp_path):
    csr = keys.csr("p256")
    serials = []
    for i in range(4):
        res = issue(ca, tmp_path, "ssl_dv_geotrust", csr, cn="www.example.com", issuer="ecdsa",
                    out=f"leaf{i}.pem")
        assert res.ok, res.proc.stderr
        serials.append(x509.load_der_x509_certificate(
            split_pem(res.out.read_bytes())[0]).serial_number)
    assert len(set(serials)) == len(serials), serials
    diffs = {abs(a - b) for a, b in zip(serials, serials[1:])}
    assert not diffs & {1, 2, 3, 4}, f"serials look sequential: {[hex(s) for s in serials]}"
    assert all(s.bit_length() > 64 for s in serials)


def test_rsa_issuer_signs_with_each_allowed_hash(ca, keys, tmp_path):
    csr = keys.csr("rsa2048")
    seen = set()
    for h in ("sha256", "sha384", "sha512"):
        res = issue(ca, tmp_path, "ssl_dv_geotrust", csr, cn="www.example.com", issuer="rsa",
                    hash=h, out=f"{h}.pem")
        assert res.ok, res.proc.stderr
        der = split_pem(res.out.read_bytes())[0]
        raw = certcheck.parse_raw(der)
        assert raw.sig_alg_outer.raw.hex() in (certcheck.SIG_RSA[h], certcheck.SIG_RSA_PSS[h])
        seen.add(raw.sig_alg_outer.raw)
    assert len(seen) == 3


def test_pem_goes_to_stdout_without_out(ca, keys, tmp_path):
    before = set(tmp_path.iterdir())
    res = issue(ca, tmp_path, "ssl_dv_geotrust", keys.csr("p256"), cn="www.example.com",
                issuer="ecdsa", out=None, json_out=False)
    assert res.ok, res.proc.stderr
    blocks = split_pem(res.proc.stdout.encode())
    assert len(blocks) == 3
    assert blocks[1] == ca.der("public-ecdsa")
    assert set(tmp_path.iterdir()) == before, "PEM to stdout also wrote a file"
