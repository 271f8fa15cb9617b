"""Refusals of `certmint issue`: malformed, truncated, tampered and oversized CSRs, forbidden keys,
bad names, validity, hash, product, format and organisation errors. Each one must exit 1 with
`certmint: <code>: <message>` on stderr, print nothing on stdout, write no --out file and leave
the data directory byte-for-byte unchanged. Also the usage errors (exit 2)."""

import base64
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import pytest

from conftest import (EV_ORG, OV_ORG, Keys, certmint_bin, error_codes, issue, run, tree_hash,
                      write_org)


def _pem(der: bytes, label="CERTIFICATE REQUEST") -> str:
    body = "\n".join(textwrap.wrap(base64.b64encode(der).decode(), 64))
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----\n"


def _der_csr(keys: Keys, kind: str, tmp: Path) -> bytes:
    pem = keys.csr(kind)
    der = tmp / "csr.der"
    run(["openssl", "req", "-in", pem, "-outform", "DER", "-out", der], check=True)
    return der.read_bytes()


def csr_text(keys, tmp):
    p = tmp / "bad.csr"
    p.write_text("this is not a certificate signing request\n")
    return p


def csr_empty(keys, tmp):
    p = tmp / "empty.csr"
    p.write_bytes(b"")
    return p


def csr_bad_base64(keys, tmp):
    p = tmp / "bad64.csr"
    p.write_text("-----BEGIN CERTIFICATE REQUEST-----\nMIIB!!!notbase64@@@\n"
                 "-----END CERTIFICATE REQUEST-----\n")
    return p


def csr_truncated_pem(keys, tmp):
    text = keys.csr("p256").read_text()
    p = tmp / "trunc.csr"
    p.write_text(text[: len(text) // 2])
    return p


def csr_truncated_der_in_pem(keys, tmp):
    der = _der_csr(keys, "rsa2048", tmp)
    p = tmp / "trunc-inner.csr"
    p.write_text(_pem(der[:-40]))
    return p


def csr_truncated_der(keys, tmp):
    der = _der_csr(keys, "p256", tmp)
    p = tmp / "trunc.der"
    p.write_bytes(der[: len(der) - 17])
    return p


def csr_trailing_garbage_der(keys, tmp):
    der = _der_csr(keys, "p256", tmp)
    p = tmp / "trailing.der"
    p.write_bytes(der + b"\x00\x01garbage")
    return p


def _flip_signature(kind):
    def make(keys, tmp):
        der = bytearray(_der_csr(keys, kind, tmp))
        # The signature BIT STRING is the last field, so its last byte is the CSR's last byte.
        der[-1] ^= 0x01
        p = tmp / f"flipped-{kind}.csr"
        p.write_text(_pem(bytes(der)))
        return p
    return make


def csr_too_large(keys, tmp):
    """A well-formed CSR of more than 64 KiB (thousands of SAN entries)."""
    names = ",".join(f"DNS:host-{i:05d}.example.com" for i in range(3500))
    p = keys.csr("p256", out=tmp / "huge.csr", extra=["-addext", f"subjectAltName={names}"])
    assert p.stat().st_size > 65536
    return p


def csr_too_large_junk(keys, tmp):
    p = tmp / "junk.csr"
    p.write_bytes(keys.csr("p256").read_bytes() + b"#" * 70000)
    return p


def _key_csr(kind):
    return lambda keys, tmp: keys.csr(kind)


def org_missing(field_name):
    def make(tmp):
        org = dict(EV_ORG)
        del org[field_name]
        return write_org(tmp / "org.json", org)
    return make


def org_with(**changes):
    def make(tmp):
        return write_org(tmp / "org.json", dict(EV_ORG, **changes))
    return make


def org_not_json(tmp):
    p = tmp / "org.json"
    p.write_text("{name: this is not json")
    return p


@dataclass
class Bad:
    id: str
    code: str
    product: str = "ssl_dv_geotrust"
    csr: Callable = _key_csr("p256")
    cn: Optional[str] = "www.example.com"
    sans: tuple = ()
    org: object = None  # dict, or callable(tmp) -> path
    issuer: Optional[str] = "ecdsa"
    hash: Optional[str] = None
    days: Optional[int] = None
    fmt: Optional[str] = None
    out: str = "leaf.pem"


BAD = [
    Bad("csr-not-pem-or-der", "csr_malformed", csr=csr_text),
    Bad("csr-empty-file", "csr_malformed", csr=csr_empty),
    Bad("csr-bad-base64", "csr_malformed", csr=csr_bad_base64),
    Bad("csr-truncated-pem", "csr_malformed", csr=csr_truncated_pem),
    Bad("csr-truncated-der-inside-pem", "csr_malformed", csr=csr_truncated_der_in_pem),
    Bad("csr-truncated-der", "csr_malformed", csr=csr_truncated_der),
    Bad("csr-der-with-trailing-garbage", "csr_malformed", csr=csr_trailing_garbage_der),
    Bad("csr-rsa-signature-byte-flipped", "csr_signature_invalid",
        csr=_flip_signature("rsa2048")),
    Bad("csr-ecdsa-signature-byte-flipped", "csr_signature_invalid",
        csr=_flip_signature("p256")),
    Bad("csr-over-64kib", "csr_too_large", csr=csr_too_large),
    Bad("csr-over-64kib-with-junk", "csr_too_large", csr=csr_too_large_junk),
    Bad("key-rsa-1024", "key_rejected", csr=_key_csr("rsa1024"), issuer="rsa"),
    Bad("key-dsa", "key_rejected", csr=_key_csr("dsa")),
    Bad("key-ed25519", "key_rejected", csr=_key_csr("ed25519")),
    Bad("name-underscore", "name_invalid", cn="foo_bar.example.com"),
    Bad("name-underscore-in-san", "name_invalid", sans=("_dmarc.example.com",)),
    Bad("name-wildcard-on-public-suffix", "name_invalid", product="ssl_wildcard",
        cn="*.co.uk", org=OV_ORG),
    Bad("name-wildcard-not-leftmost", "name_invalid", product="ssl_wildcard",
        cn="a.*.example.com", org=OV_ORG),
    Bad("name-partial-wildcard-label", "name_invalid", product="ssl_wildcard",
        cn="w*.example.com", org=OV_ORG),
    Bad("name-localhost-on-public", "name_invalid", cn="localhost"),
    Bad("name-internal-on-public", "name_invalid", cn="db.internal"),
    Bad("name-private-ip-on-public", "name_invalid", cn="www.example.com", sans=("10.0.0.1",)),
    Bad("name-private-ip-as-cn-on-public", "name_invalid", cn="10.0.0.1"),
    Bad("name-label-over-63", "name_invalid", cn="a" * 64 + ".example.com"),
    Bad("name-reverse-lookup", "name_invalid", cn="1.2.0.192.in-addr.arpa"),
    Bad("wildcard-on-ev", "name_invalid", product="ssl_ev_plus", cn="*.example.com", org=EV_ORG),
    Bad("wildcard-on-ssl-plus", "name_invalid", product="ssl_plus", cn="*.example.com",
        org=OV_ORG),
    Bad("ip-on-ev", "name_invalid", product="ssl_ev_basic", sans=("192.0.2.1",), org=EV_ORG),
    Bad("days-201", "validity_too_long", days=201),
    Bad("days-201-ev", "validity_too_long", product="ssl_ev_plus", org=EV_ORG, days=201),
    Bad("sha384-on-p256-issuer", "hash_not_allowed", hash="sha384"),
    Bad("sha512-on-p256-issuer", "hash_not_allowed", hash="sha512"),
    Bad("unknown-product", "product_unknown", product="ssl_platinum_unlimited"),
    Bad("unknown-format", "format_unknown", fmt="pem_everything"),
    Bad("format-path-trick", "format_unknown", fmt="../../etc/passwd"),
    Bad("ov-without-org", "org_required", product="ssl_plus"),
    Bad("ev-without-org", "org_required", product="ssl_ev_basic"),
    Bad("private-ov-without-org", "org_required", product="private_ssl_plus",
        cn="db.internal"),
    Bad("ev-org-missing-business-category", "org_invalid", product="ssl_ev_plus",
        org=org_missing("business_category")),
    Bad("ev-org-missing-jurisdiction-country", "org_invalid", product="ssl_ev_plus",
        org=org_missing("jurisdiction_country")),
    Bad("ev-org-missing-registration-number", "org_invalid", product="ssl_ev_basic",
        org=org_missing("registration_number")),
    Bad("ev-org-unknown-business-category", "org_invalid", product="ssl_ev_plus",
        org=org_with(business_category="Shell Company")),
    Bad("ov-org-missing-name", "org_invalid", product="ssl_plus", org=org_missing("name")),
    Bad("ov-org-three-letter-country", "org_invalid", product="ssl_plus",
        org=org_with(country="USA")),
    Bad("ov-org-not-json", "org_invalid", product="ssl_plus", org=org_not_json),
    Bad("no-names", "names_required", cn=None),
]


@pytest.mark.parametrize("b", BAD, ids=[b.id for b in BAD])
def test_bad_request_is_refused_with_code_and_writes_nothing(ca, keys, tmp_path, b):
    work = tmp_path / "work" / "a" / "b"
    work.mkdir(parents=True)
    csr = b.csr(keys, tmp_path)
    org = b.org(tmp_path) if callable(b.org) else b.org
    if isinstance(org, dict):
        org = write_org(tmp_path / "org.json", org)  # before the snapshot below
    before_dir = tree_hash(ca.dir)
    before_tmp = tree_hash(tmp_path)
    res = issue(ca, tmp_path / "work", b.product, csr, cn=b.cn, sans=b.sans, org=org,
                issuer=b.issuer, hash=b.hash, days=b.days, fmt=b.fmt, out=b.out, cwd=work)
    p = res.proc
    assert p.returncode == 1, f"exit {p.returncode}, expected 1; stderr: {p.stderr}"
    codes = error_codes(p.stderr)
    assert codes == [b.code], f"expected certmint: {b.code}: …, got stderr: {p.stderr!r}"
    assert p.stdout == "", f"refusal printed on stdout: {p.stdout!r}"
    assert not res.out.exists(), "--out file written on refusal"
    assert tree_hash(ca.dir) == before_dir, "the data directory changed on refusal"
    assert tree_hash(tmp_path) == before_tmp, "files appeared beside the request"


def test_format_path_trick_touches_no_file_outside(ca, keys, tmp_path):
    """`--format ../../etc/passwd` must neither write there nor read it into the output."""
    work = tmp_path / "w" / "x" / "y"
    work.mkdir(parents=True)
    passwd = Path("/etc/passwd")
    st = passwd.stat()
    before = tree_hash(tmp_path)
    res = issue(ca, tmp_path, "ssl_dv_geotrust", keys.csr("p256"), cn="www.example.com",
                issuer="ecdsa", fmt="../../etc/passwd", out=None, cwd=work)
    assert res.proc.returncode == 1
    assert "root:" not in res.proc.stdout + res.proc.stderr
    assert passwd.stat().st_mtime_ns == st.st_mtime_ns
    assert tree_hash(tmp_path) == before


def test_refusal_message_is_human_readable(ca, keys, tmp_path):
    res = issue(ca, tmp_path, "ssl_dv_geotrust", keys.csr("p256"), cn="www.example.com",
                days=201)
    line = [l for l in res.proc.stderr.splitlines() if l.startswith("certmint: ")][0]
    msg = line.split(": ", 2)[2]
    assert "200" in msg, f"the message should say what the limit is: {line!r}"


# ---- usage errors: exit 2 -------------------------------------------------------------------

USAGE = {
    "missing-csr": ["--product", "ssl_dv_geotrust", "--cn", "www.example.com"],
    "missing-product": ["--cn", "www.example.com", "CSR"],
    "unknown-option": ["--product", "ssl_dv_geotrust", "--cn", "www.example.com", "CSR",
                       "--frobnicate"],
    "days-not-a-number": ["--product", "ssl_dv_geotrust", "--cn", "www.example.com", "CSR",
                          "--days", "ten"],
    "issuer-not-ecdsa-or-rsa": ["--product", "ssl_dv_geotrust", "--cn", "www.example.com",
                                "CSR", "--issuer", "dsa"],
    "binary-format-without-out": ["--product", "ssl_dv_geotrust", "--cn", "www.example.com",
                                  "CSR", "--format", "der"],
}


@pytest.mark.parametrize("usage", sorted(USAGE))
def test_usage_error_exits_2_and_writes_nothing(ca, keys, tmp_path, usage):
    csr = keys.csr("p256")
    full = ["issue", "--dir", str(ca.dir)]
    for a in USAGE[usage]:
        full += ["--csr", str(csr)] if a == "CSR" else [a]
    before = tree_hash(ca.dir)
    r = run([certmint_bin(), *full], cwd=tmp_path)
    assert r.returncode == 2, f"exit {r.returncode}: {r.stderr}"
    assert r.stdout == ""
    assert r.stderr.strip(), "a usage error must say what was wrong"
    assert tree_hash(ca.dir) == before
    assert list(tmp_path.iterdir()) == [], "a usage error wrote a file"


def test_unknown_command_exits_2():
    r = run([certmint_bin(), "frobnicate"])
    assert r.returncode == 2
