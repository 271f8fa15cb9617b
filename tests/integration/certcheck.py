"""Independent checks of one issued certificate against the COMPLIANCE.md checklist.

`check_certificate` asserts every row of "Issued-certificate rules" that can be decided from the
certificate, its issuing CA and the request (rows 1-33), and `verify_chain_openssl`,
`verify_chain_gnutls` and `tls_handshake` cover row 40. Nothing here uses certmint's code: the
certificate is parsed by python3-cryptography and, where exact bytes matter, by the small DER
reader below. Every check compares with what the request asked for or with the rule, so a
certificate that breaks a rule makes the calling test fail.
"""

import datetime
import ipaddress
import math
import os
import re
import select
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, ExtensionOID

DAY = 86400

# ---------------------------------------------------------------------------------------------
# A minimal strict DER reader (tag, length, value), enough for the certificate's outer layers.


@dataclass
class Tlv:
    tag: int
    raw: bytes  # the whole TLV
    value: bytes  # the contents octets


def der_read(buf: bytes, off: int = 0):
    """Reads one TLV at off, enforcing DER length rules. Returns (Tlv, next offset)."""
    assert off + 2 <= len(buf), "DER: truncated header"
    tag = buf[off]
    assert tag & 0x1F != 0x1F, "DER: high tag numbers are not expected in a certificate"
    first = buf[off + 1]
    pos = off + 2
    if first & 0x80:
        n = first & 0x7F
        assert 1 <= n <= 4, "DER: indefinite or oversized length"
        assert pos + n <= len(buf), "DER: truncated length"
        assert buf[pos] != 0, "DER: non-minimal long-form length"
        length = int.from_bytes(buf[pos : pos + n], "big")
        assert length >= 0x80, "DER: long form used for a short length"
        pos += n
    else:
        length = first
    assert pos + length <= len(buf), "DER: value runs past the end"
    return Tlv(tag, bytes(buf[off : pos + length]), bytes(buf[pos : pos + length])), pos + length


def der_children(t: Tlv):
    """The TLVs inside a constructed TLV, which must fill it exactly."""
    assert t.tag & 0x20, f"DER: tag {t.tag:#x} is not constructed"
    out, off = [], 0
    while off < len(t.value):
        c, off = der_read(t.value, off)
        out.append(c)
    return out


def der_oid(t: Tlv) -> str:
    """Decodes an OBJECT IDENTIFIER TLV to dotted form."""
    assert t.tag == 0x06, f"DER: expected an OID, got tag {t.tag:#x}"
    v = t.value
    assert v, "DER: empty OID"
    arcs, cur = [], 0
    for i, b in enumerate(v):
        if cur == 0:
            assert b != 0x80, "DER: non-minimal OID arc"
        cur = (cur << 7) | (b & 0x7F)
        if not b & 0x80:
            arcs.append(cur)
            cur = 0
        else:
            assert i + 1 < len(v), "DER: OID ends inside an arc"
    first = arcs[0]
    head = [0, first] if first < 40 else [1, first - 40] if first < 80 else [2, first - 80]
    return ".".join(str(a) for a in head + arcs[1:])


@dataclass
class RawCert:
    der: bytes
    tbs: Tlv
    sig_alg_outer: Tlv
    sig_value: Tlv
    version: Optional[Tlv]
    serial: Tlv
    sig_alg_tbs: Tlv
    issuer: Tlv
    validity: Tlv
    subject: Tlv
    spki: Tlv
    unique_ids: list
    extensions: list  # [(oid, critical_tlv_or_None, value_bytes)]


def parse_raw(der: bytes) -> RawCert:
    """Splits a certificate into its DER fields (RFC 5280 §4.1)."""
    cert, end = der_read(der)
    assert end == len(der), "certificate has trailing bytes"
    assert cert.tag == 0x30
    top = der_children(cert)
    assert len(top) == 3, "Certificate must be SEQUENCE {tbs, signatureAlgorithm, signature}"
    tbs, sig_alg, sig_val = top
    assert sig_val.tag == 0x03, "signatureValue must be a BIT STRING"
    f = der_children(tbs)
    i = 0
    version = None
    if f[i].tag == 0xA0:
        version = f[i]
        i += 1
    serial, sig_alg_tbs, issuer, validity, subject, spki = f[i : i + 6]
    i += 6
    unique_ids, extensions = [], []
    for t in f[i:]:
        if t.tag in (0x81, 0xA1, 0x82, 0xA2):
            unique_ids.append(t)
        elif t.tag == 0xA3:
            (exts,) = der_children(t)
            for e in der_children(exts):
                parts = der_children(e)
                oid = der_oid(parts[0])
                crit = parts[1] if len(parts) == 3 else None
                assert parts[-1].tag == 0x04, "extnValue must be an OCTET STRING"
                extensions.append((oid, crit, parts[-1].value))
        else:
            raise AssertionError(f"unexpected field tag {t.tag:#x} in tbsCertificate")
    return RawCert(der, tbs, sig_alg, sig_val, version, serial, sig_alg_tbs, issuer, validity,
                   subject, spki, unique_ids, extensions)


def subject_attributes(name: Tlv):
    """The Name as a list of RDNs, each a list of (oid, string tag, value bytes)."""
    rdns = []
    for rdn in der_children(name):
        assert rdn.tag == 0x31, "RDN must be a SET"
        atvs = []
        for atv in der_children(rdn):
            oid_t, val = der_children(atv)
            atvs.append((der_oid(oid_t), val.tag, val.value))
        rdns.append(atvs)
    return rdns


# ---------------------------------------------------------------------------------------------
# Constants from COMPLIANCE.md / the BR.

OID_DV, OID_OV, OID_IV = "2.23.140.1.2.1", "2.23.140.1.2.2", "2.23.140.1.2.3"
OID_EV = "2.23.140.1.1"
RESERVED_POLICY = {"dv": OID_DV, "ov": OID_OV, "ev": OID_EV}
CABF_POLICIES = {OID_DV, OID_OV, OID_IV, OID_EV}
ANY_POLICY = "2.5.29.32.0"
OID_CPS = "1.3.6.1.5.5.7.2.1"

SIG_RSA = {
    "sha256": "300d06092a864886f70d01010b0500",
    "sha384": "300d06092a864886f70d01010c0500",
    "sha512": "300d06092a864886f70d01010d0500",
}
SIG_RSA_PSS = {  # BR §7.1.3.2.1: MGF1 with the same hash, salt = hash length
    "sha256": "304106092a864886f70d01010a3034a00f300d06096086480165030402010500a11c301a06092a"
    "864886f70d010108300d06096086480165030402010500a203020120",
    "sha384": "304106092a864886f70d01010a3034a00f300d06096086480165030402020500a11c301a06092a"
    "864886f70d010108300d06096086480165030402020500a203020130",
    "sha512": "304106092a864886f70d01010a3034a00f300d06096086480165030402030500a11c301a06092a"
    "864886f70d010108300d06096086480165030402030500a203020140",
}
SIG_ECDSA_BY_CURVE = {
    "secp256r1": ("sha256", "300a06082a8648ce3d040302"),
    "secp384r1": ("sha384", "300a06082a8648ce3d040303"),
    "secp521r1": ("sha512", "300a06082a8648ce3d040304"),
}
SPKI_ALG = {
    "rsa": "300d06092a864886f70d0101010500",
    "secp256r1": "301306072a8648ce3d020106082a8648ce3d030107",
    "secp384r1": "301006072a8648ce3d020106052b81040022",
    "secp521r1": "301006072a8648ce3d020106052b81040023",
}
HASHES = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}

A_C, A_ST, A_L, A_POSTAL, A_STREET = "2.5.4.6", "2.5.4.8", "2.5.4.7", "2.5.4.17", "2.5.4.9"
A_O, A_SURNAME, A_GIVEN, A_OU, A_CN = "2.5.4.10", "2.5.4.4", "2.5.4.42", "2.5.4.11", "2.5.4.3"
A_DC = "0.9.2342.19200300.100.1.25"
A_BUSINESS, A_SERIAL, A_ORGID = "2.5.4.15", "2.5.4.5", "2.5.4.97"
A_JUR_L, A_JUR_ST, A_JUR_C = ("1.3.6.1.4.1.311.60.2.1.1", "1.3.6.1.4.1.311.60.2.1.2",
                              "1.3.6.1.4.1.311.60.2.1.3")
OID_CABF_ORGID_EXT = "2.23.140.3.1"
BR_ORDER = [A_DC, A_C, A_ST, A_L, A_POSTAL, A_STREET, A_O, A_SURNAME, A_GIVEN, A_OU, A_CN]
MAX_LEN = {A_CN: 64, A_O: 64, A_L: 128, A_ST: 128, A_STREET: 128, A_POSTAL: 40, A_SERIAL: 64}
PRINTABLE_ONLY = {A_C, A_SERIAL, A_JUR_C}
TAG_PRINTABLE, TAG_UTF8 = 0x13, 0x0C
BUSINESS_CATEGORIES = {"Private Organization", "Government Entity", "Business Entity",
                       "Non-Commercial Entity"}
ALLOWED_SUBJECT = {
    "dv": {A_C, A_CN},
    "ov": {A_C, A_ST, A_L, A_POSTAL, A_STREET, A_O, A_CN},
    "ev": {A_C, A_ST, A_L, A_POSTAL, A_STREET, A_O, A_CN, A_BUSINESS, A_SERIAL, A_JUR_C,
           A_JUR_ST, A_JUR_L, A_ORGID},
}
# Extensions a subscriber certificate may carry (BR §7.1.2.7); anything else is a finding.
ALLOWED_EXTENSIONS = {
    ExtensionOID.SUBJECT_ALTERNATIVE_NAME.dotted_string,
    ExtensionOID.AUTHORITY_INFORMATION_ACCESS.dotted_string,
    ExtensionOID.AUTHORITY_KEY_IDENTIFIER.dotted_string,
    ExtensionOID.CRL_DISTRIBUTION_POINTS.dotted_string,
    ExtensionOID.CERTIFICATE_POLICIES.dotted_string,
    ExtensionOID.EXTENDED_KEY_USAGE.dotted_string,
    ExtensionOID.KEY_USAGE.dotted_string,
    ExtensionOID.BASIC_CONSTRAINTS.dotted_string,
    ExtensionOID.PRECERT_SIGNED_CERTIFICATE_TIMESTAMPS.dotted_string,
    OID_CABF_ORGID_EXT,
}
PLACEHOLDER = re.compile(r"^[\s.\-_]*$|^(n/?a|none|null|unknown|not applicable)$", re.I)
INTERNAL_TLDS = {"local", "localhost", "internal", "test", "invalid", "example", "lan", "home",
                 "corp", "intranet", "private", "localdomain", "home.arpa", "onion"}


# ---------------------------------------------------------------------------------------------
# Public Suffix List (ICANN section), from Debian's publicsuffix package.

_PSL = None


def _psl():
    global _PSL
    if _PSL is None:
        rules, exceptions, wild = set(), set(), set()
        path = Path("/usr/share/publicsuffix/public_suffix_list.dat")
        in_icann = False
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if "===BEGIN ICANN DOMAINS===" in line:
                in_icann = True
            elif "===END ICANN DOMAINS===" in line:
                in_icann = False
            if not in_icann or not line or line.startswith("//"):
                continue
            rule = line.split()[0]
            if not rule.isascii():
                continue  # U-label rules: the names under test are ASCII, so these never match
            if rule.startswith("!"):
                exceptions.add(rule[1:])
            elif rule.startswith("*."):
                wild.add(rule[2:])
            else:
                rules.add(rule)
        _PSL = (rules, exceptions, wild)
    return _PSL


def public_suffix(name: str) -> Optional[str]:
    """The ICANN public suffix of an ASCII name, or None when its TLD is not in the list."""
    rules, exceptions, wild = _psl()
    labels = name.lower().split(".")
    if labels[-1] not in rules and labels[-1] not in wild:
        return None
    best = labels[-1]
    for i in range(len(labels)):
        cand = ".".join(labels[i:])
        if cand in exceptions:
            return ".".join(labels[i + 1 :])
        if cand in rules:
            return cand
        if i > 0 and cand in wild:
            return ".".join(labels[i - 1 :])
    return best


def is_public_suffix(name: str) -> bool:
    return public_suffix(name) == name.lower()


# ---------------------------------------------------------------------------------------------
# Names.

LDH = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", re.I)


def check_dns_name(name: str, *, public: bool, allow_wildcard: bool):
    """Rows 12, 13 and 15 for one dNSName."""
    assert name.isascii(), f"row 12: {name!r} contains non-ASCII (U-label) characters"
    assert not name.endswith("."), f"row 12: {name!r} has a trailing dot"
    assert len(name) <= 253, f"row 12: {name!r} is longer than 253 octets"
    assert "_" not in name, f"row 12: {name!r} contains an underscore"
    labels = name.split(".")
    assert len(labels) >= 2, f"row 13: {name!r} is not a fully qualified domain name"
    if "*" in name:
        assert allow_wildcard, f"row 15: wildcard {name!r} not allowed in this certificate"
        assert labels[0] == "*" and "*" not in ".".join(labels[1:]), (
            f"row 15: {name!r}: a wildcard must be the whole left-most label")
        labels = labels[1:]
        if public:
            assert not is_public_suffix(".".join(labels)), (
                f"row 15: wildcard {name!r} sits on a public suffix")
    for lab in labels:
        assert 1 <= len(lab) <= 63, f"row 12: label {lab!r} of {name!r} is empty or > 63 octets"
        assert LDH.match(lab), f"row 12: label {lab!r} of {name!r} is not an LDH label"
        if len(lab) >= 4 and lab[2:4] == "--":
            assert lab.lower().startswith("xn--"), (
                f"row 12: {lab!r} has '--' in positions 3-4 but is not a P-label")
            try:
                lab[4:].encode("ascii").decode("punycode")
            except UnicodeError as e:
                raise AssertionError(f"row 12: {lab!r} is not valid Punycode: {e}")
    low = name.lower()
    assert not (low.endswith(".in-addr.arpa") or low.endswith(".ip6.arpa")), (
        f"row 13: {name!r} is a reverse-lookup name")
    if public:
        assert labels[-1].lower() not in INTERNAL_TLDS, f"row 13: {name!r} is an Internal Name"
        suffix = public_suffix(".".join(labels))
        assert suffix is not None, f"row 13: {name!r} does not end in a public TLD"
        assert not is_public_suffix(".".join(labels)), (
            f"row 13: {name!r} is itself a public suffix")


def check_ip(ip, *, public: bool):
    """Row 14: no reserved addresses in publicly-trusted certificates."""
    if public:
        assert ip.is_global and not (ip.is_private or ip.is_reserved or ip.is_loopback
                                     or ip.is_link_local or ip.is_multicast
                                     or ip.is_unspecified), f"row 14: {ip} is a reserved IP"


# ---------------------------------------------------------------------------------------------
# Keys.


def key_kind(pub) -> str:
    if isinstance(pub, rsa.RSAPublicKey):
        return "rsa"
    if isinstance(pub, ec.EllipticCurvePublicKey):
        return pub.curve.name
    raise AssertionError(f"row 8: key type {type(pub).__name__} is not allowed")


def fermat_factorable(n: int, rounds: int = 1000) -> bool:
    """True when n = p*q with p and q close enough for Fermat's method (row 9)."""
    a = math.isqrt(n)
    if a * a < n:
        a += 1
    for _ in range(rounds):
        b2 = a * a - n
        b = math.isqrt(b2)
        if b * b == b2:
            return True
        a += 1
    return False


def check_key(pub):
    """Rows 8 and 9 for the subject key."""
    kind = key_kind(pub)
    if kind == "rsa":
        nums = pub.public_numbers()
        assert pub.key_size >= 2048, f"row 8: RSA key of {pub.key_size} bits"
        assert pub.key_size % 8 == 0, f"row 8: {pub.key_size}-bit modulus not a multiple of 8"
        assert nums.e % 2 == 1 and nums.e >= 3, f"row 8: RSA exponent {nums.e}"
        assert 2**16 + 1 <= nums.e <= 2**256 - 1, f"row 8: RSA exponent {nums.e} out of range"
        assert nums.n % 2 == 1, "row 9: even RSA modulus"
        for p in (3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47):
            assert nums.n % p != 0, f"row 9: RSA modulus divisible by {p}"
        assert not fermat_factorable(nums.n), "row 9: RSA modulus falls to Fermat factoring"
    else:
        assert kind in ("secp256r1", "secp384r1", "secp521r1"), f"row 8: curve {kind}"
    return kind


# ---------------------------------------------------------------------------------------------
# The checks.


@dataclass
class Expect:
    """What the request asked for. `names` are the SANs requested (CN included)."""

    validation: str  # "dv", "ov", "ev"
    names: Sequence[str]
    cn: Optional[str] = None  # the expected CN (None: the first name)
    hierarchy: str = "public"
    hash: Optional[str] = None  # requested --hash (None: default, sha256)
    days: Optional[int] = None  # requested --days (None: product default)
    org: Optional[dict] = None
    public_url: Optional[str] = None  # init --public-url: AIA/CRLDP must live under it
    subject_key: object = None  # the CSR's public key
    issued_at: Optional[float] = None  # time.time() when the issue command ran
    wildcard_allowed: bool = False


_SERIALS = {}  # (issuer DER, serial) -> certificate DER: row 2 uniqueness across the session


def _ext(cert, oid):
    try:
        return cert.extensions.get_extension_for_oid(oid)
    except x509.ExtensionNotFound:
        return None


def _dt(ts: datetime.datetime) -> float:
    return ts.replace(tzinfo=datetime.timezone.utc).timestamp()


def check_certificate(leaf_der: bytes, issuer_der: bytes, exp: Expect) -> x509.Certificate:
    """Asserts rows 1-33 of the checklist for one certificate issued by `issuer_der`. Returns the
    parsed certificate. Raises AssertionError naming the row on the first violation."""
    cert = x509.load_der_x509_certificate(leaf_der)
    issuer = x509.load_der_x509_certificate(issuer_der)
    raw = parse_raw(leaf_der)
    raw_issuer = parse_raw(issuer_der)
    public = exp.hierarchy == "public"
    v = exp.validation

    # Row 1: v3, encoded as [0] EXPLICIT INTEGER 2.
    assert cert.version == x509.Version.v3, "row 1: not a v3 certificate"
    assert raw.version is not None and raw.version.value == b"\x02\x01\x02", "row 1: version"

    # Row 2: serial positive, < 2^159, at least 64 random bits, DER-minimal, unique.
    s = raw.serial
    assert s.tag == 0x02 and len(s.value) >= 1, "row 2: serial is not an INTEGER"
    assert not (len(s.value) > 1 and s.value[0] == 0 and s.value[1] < 0x80), (
        "row 2: serial is not minimally encoded")
    assert s.value[0] < 0x80, "row 2: serial is negative"
    serial = int.from_bytes(s.value, "big")
    assert serial == cert.serial_number
    assert 0 < serial < 2**159, f"row 2: serial {serial:x} out of range"
    assert serial.bit_length() >= 64, f"row 2: serial {serial:x} has fewer than 64 bits"
    key = (raw.issuer.raw, serial)
    assert _SERIALS.setdefault(key, leaf_der) == leaf_der, f"row 2: serial {serial:x} reused"

    # Row 3: issuer is a byte copy of the issuing CA's subject; the CA's signature verifies.
    assert raw.issuer.raw == raw_issuer.subject.raw, "row 3: issuer DER != CA subject DER"

    # Row 4: signature algorithm bytes.
    assert raw.sig_alg_tbs.raw == raw.sig_alg_outer.raw, (
        "row 4: tbs.signature != signatureAlgorithm")
    alg_hex = raw.sig_alg_outer.raw.hex()
    ipub = issuer.public_key()
    ikind = key_kind(ipub)
    if ikind == "rsa":
        want = exp.hash or "sha256"
        assert alg_hex in (SIG_RSA[want], SIG_RSA_PSS[want]), (
            f"row 4: signature algorithm {alg_hex} is not RSA/{want} in a BR encoding")
        if alg_hex == SIG_RSA[want]:
            pad = padding.PKCS1v15()
        else:
            pad = padding.PSS(mgf=padding.MGF1(HASHES[want]()),
                              salt_length=HASHES[want]().digest_size)
        verify = lambda: ipub.verify(cert.signature, cert.tbs_certificate_bytes, pad,  # noqa
                                     HASHES[want]())
    else:
        want, enc = SIG_ECDSA_BY_CURVE[ikind]
        assert exp.hash in (None, want), f"test asked for {exp.hash} from a {ikind} issuer"
        assert alg_hex == enc, f"row 4: {alg_hex} is not ecdsa-with-{want} for a {ikind} issuer"
        verify = lambda: ipub.verify(cert.signature, cert.tbs_certificate_bytes,  # noqa
                                     ec.ECDSA(HASHES[want]()))
    try:
        verify()
    except InvalidSignature:
        raise AssertionError("row 3/4: the issuing CA's signature does not verify")

    # Row 5: notBefore within 48 h of the signing time.
    nb, na = _dt(cert.not_valid_before), _dt(cert.not_valid_after)
    now = exp.issued_at if exp.issued_at is not None else time.time()
    assert abs(nb - now) <= 48 * 3600, (
        f"row 5: notBefore {cert.not_valid_before} is more than 48 h from the signing time")

    # Row 6: validity counted inclusively.
    period = na - nb + 1
    assert period > 0, "row 6: notAfter precedes notBefore"
    days = math.ceil(period / DAY)
    if public:
        cap = 200 if nb < _dt(datetime.datetime(2027, 3, 15)) else (
            100 if nb < _dt(datetime.datetime(2029, 3, 15)) else 47)
        assert period <= cap * DAY, f"row 6: validity {period} s exceeds {cap} days"
        if exp.days is None:
            assert period <= (cap - 1) * DAY, f"row 6: default validity {period} s is the maximum"
            assert days == cap - 1, f"row 6: default validity is {days} days, expected {cap - 1}"
    if exp.days is not None:
        assert days == exp.days, f"row 6: validity is {days} days, --days asked {exp.days}"

    # Row 7: UTCTime before 2050, GeneralizedTime from 2050, always Z.
    times = der_children(raw.validity)
    assert len(times) == 2, "row 7: validity must hold two times"
    for t, when in zip(times, (cert.not_valid_before, cert.not_valid_after)):
        if when.year < 2050:
            assert t.tag == 0x17 and len(t.value) == 13, f"row 7: {when} not as 13-byte UTCTime"
        else:
            assert t.tag == 0x18 and len(t.value) == 15, f"row 7: {when} not as GeneralizedTime"
        assert t.value.endswith(b"Z"), "row 7: time without Z"

    # Rows 8-9: subject key.
    pub = cert.public_key()
    kind = check_key(pub)
    spki_parts = der_children(raw.spki)
    assert spki_parts[0].raw.hex() == SPKI_ALG[kind], f"row 8: SPKI algorithm bytes for {kind}"
    if exp.subject_key is not None:
        fmt = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        assert pub.public_bytes(*fmt) == exp.subject_key.public_bytes(*fmt), (
            "the certified key is not the CSR's key")

    # Row 25 (structure): no unique IDs, no duplicate extensions, DER BOOLEAN default omitted,
    # no nameConstraints, no SKI, nothing unexpected.
    assert not raw.unique_ids, "row 25: issuerUniqueID/subjectUniqueID present"
    oids = [o for o, _, _ in raw.extensions]
    assert len(oids) == len(set(oids)), f"row 25: duplicate extensions {oids}"
    for o, crit, _ in raw.extensions:
        assert crit is None or crit.raw == b"\x01\x01\xff", (
            f"row 25: extension {o} encodes critical=FALSE explicitly (not DER) or is malformed")
    assert ExtensionOID.NAME_CONSTRAINTS.dotted_string not in oids, "row 25: nameConstraints"
    assert ExtensionOID.SUBJECT_KEY_IDENTIFIER.dotted_string not in oids, "row 25: SKI present"
    extra = set(oids) - ALLOWED_EXTENSIONS
    assert not extra, f"row 25: unexpected extensions {sorted(extra)}"

    # Subject (parsed once, used by rows 10, 11, 16, 26-33).
    rdns = subject_attributes(raw.subject)
    attrs = [a for rdn in rdns for a in rdn]
    subject_empty = not attrs

    # Rows 10-11: SAN.
    san_ext = _ext(cert, ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    assert san_ext is not None, "row 10: no subjectAltName"
    san = san_ext.value
    assert san_ext.critical == subject_empty, (
        f"row 11: SAN critical={san_ext.critical} with subject empty={subject_empty}")
    dns = san.get_values_for_type(x509.DNSName)
    ips = san.get_values_for_type(x509.IPAddress)
    assert dns or ips, "row 10: SAN has no dNSName or iPAddress"
    assert len(dns) + len(ips) == len(list(san)), "row 10: SAN holds other GeneralName types"
    if v == "ev":
        assert not ips, "row 10: iPAddress in an EV certificate"
    shown = list(dns) + [str(i) for i in ips]
    assert len(shown) == len(set(n.lower() for n in shown)), f"SAN has duplicates: {shown}"
    assert {n.lower() for n in shown} == {n.lower() for n in exp.names}, (
        f"SAN {shown} is not the requested names {list(exp.names)}")

    # Rows 12-15: each name.
    for n in dns:
        check_dns_name(n, public=public, allow_wildcard=exp.wildcard_allowed and v != "ev")
    for ip in ips:
        check_ip(ip, public=public)

    # Row 16: at most one CN, equal to a SAN value character for character.
    cns = [a for a in attrs if a[0] == A_CN]
    assert len(cns) <= 1, "row 16: more than one CN"
    if cns:
        cn = cns[0][2].decode("utf-8")
        assert len(cn) <= 64, "row 16: CN longer than 64 characters"
        ip_strs = [ipaddress.ip_address(i).compressed for i in ips]
        assert cn in dns or cn in ip_strs, f"row 16: CN {cn!r} is not one of the SANs {shown}"
        want_cn = exp.cn if exp.cn is not None else exp.names[0]
        assert cn == want_cn, f"CN is {cn!r}, expected {want_cn!r}"

    # Row 17: AIA.
    aia = _ext(cert, ExtensionOID.AUTHORITY_INFORMATION_ACCESS)
    assert aia is not None, "row 17: no AIA"
    assert not aia.critical, "row 17: AIA is critical"
    methods = [d.access_method for d in aia.value]
    assert methods, "row 17: AIA is empty"
    has_ocsp = False
    for d in aia.value:
        assert d.access_method in (AuthorityInformationAccessOID.OCSP,
                                   AuthorityInformationAccessOID.CA_ISSUERS), (
            f"row 17: AIA access method {d.access_method.dotted_string}")
        assert isinstance(d.access_location, x509.UniformResourceIdentifier), (
            "row 17: AIA location is not a URI")
        url = d.access_location.value
        assert url.startswith("http://"), f"row 17: AIA URL {url!r} is not http://"
        if exp.public_url:
            assert url.startswith(exp.public_url.rstrip("/") + "/"), (
                f"row 17: AIA URL {url!r} is not under {exp.public_url}")
        has_ocsp |= d.access_method == AuthorityInformationAccessOID.OCSP
    assert AuthorityInformationAccessOID.CA_ISSUERS in methods, "row 17: no caIssuers"

    # Row 18: AKI = keyIdentifier only, equal to the issuer's SKI.
    aki = _ext(cert, ExtensionOID.AUTHORITY_KEY_IDENTIFIER)
    assert aki is not None, "row 18: no AKI"
    assert not aki.critical, "row 18: AKI is critical"
    assert aki.value.authority_cert_issuer is None, "row 18: AKI has authorityCertIssuer"
    assert aki.value.authority_cert_serial_number is None, "row 18: AKI has a serial"
    iski = _ext(issuer, ExtensionOID.SUBJECT_KEY_IDENTIFIER)
    assert iski is not None, "the issuing CA has no SKI"
    assert aki.value.key_identifier == iski.value.digest, "row 18: AKI != issuer SKI"

    # Row 19: CRLDP when there is no OCSP and the certificate is not short-lived.
    crldp = _ext(cert, ExtensionOID.CRL_DISTRIBUTION_POINTS)
    if not has_ocsp and period > 7 * DAY:
        assert crldp is not None, "row 19: no CRLDP (no OCSP, not short-lived)"
    if crldp is not None:
        assert not crldp.critical, "row 19: CRLDP is critical"
        dps = list(crldp.value)
        assert len(dps) == 1, f"row 19: {len(dps)} DistributionPoints, expected one"
        dp = dps[0]
        assert dp.full_name, "row 19: DistributionPoint has no fullName"
        assert dp.relative_name is None and dp.reasons is None and dp.crl_issuer is None, (
            "row 19: DistributionPoint has nameRelativeToCRLIssuer, reasons or cRLIssuer")
        for gn in dp.full_name:
            assert isinstance(gn, x509.UniformResourceIdentifier), "row 19: fullName not a URI"
            assert gn.value.startswith("http://"), f"row 19: CRL URL {gn.value!r} not http://"
            if exp.public_url:
                assert gn.value.startswith(exp.public_url.rstrip("/") + "/"), (
                    f"row 19: CRL URL {gn.value!r} is not under {exp.public_url}")

    # Row 20: exactly one reserved policy OID, first, of the certificate's type.
    # A private-hierarchy certificate is not a BR certificate: it must not claim a CA/B Forum
    # policy (that would assert BR compliance), and may carry no policy at all.
    cp = _ext(cert, ExtensionOID.CERTIFICATE_POLICIES)
    assert cp is not None or not public, "row 20: no certificatePolicies"
    pols = [p.policy_identifier.dotted_string for p in cp.value] if cp is not None else []
    reserved = [p for p in pols if p in CABF_POLICIES]
    if public:
        assert reserved == [RESERVED_POLICY[v]], (
            f"row 20: reserved policy OIDs {reserved}, expected exactly {RESERVED_POLICY[v]}")
        assert pols[0] == RESERVED_POLICY[v], "row 20: the reserved OID is not first"
    else:
        assert not reserved, f"row 20: private certificate claims CA/B Forum policy {reserved}"
    if cp is not None:
        assert not cp.critical, "row 20: certificatePolicies is critical"
        assert ANY_POLICY not in pols, "row 20: anyPolicy"
        for p in cp.value:
            for q in p.policy_qualifiers or []:
                assert isinstance(q, str), "row 20: a qualifier other than id-qt-cps"
                assert q.startswith(("http://", "https://")), f"row 20: CPS qualifier {q!r}"

    # Rows 21-22: EKU = serverAuth only.
    eku = _ext(cert, ExtensionOID.EXTENDED_KEY_USAGE)
    assert eku is not None, "row 21: no EKU"
    assert not eku.critical, "row 21: EKU is critical"
    assert list(eku.value) == [ExtendedKeyUsageOID.SERVER_AUTH], (
        f"row 21/22: EKU {[o.dotted_string for o in eku.value]} is not serverAuth only")

    # Row 23: KU critical, by key type.
    ku_ext = _ext(cert, ExtensionOID.KEY_USAGE)
    assert ku_ext is not None, "row 23: no keyUsage"
    assert ku_ext.critical, "row 23: keyUsage not critical"
    ku = ku_ext.value
    assert ku.digital_signature, "row 23: digitalSignature not set"
    assert not (ku.key_cert_sign or ku.crl_sign or ku.content_commitment
                or ku.data_encipherment), "row 23: forbidden keyUsage bits"
    if kind == "rsa":
        assert not ku.key_agreement, "row 23: keyAgreement on an RSA key"
    else:
        assert not ku.key_encipherment, "row 23: keyEncipherment on an EC key"
        if ku.key_agreement:
            assert not (ku.encipher_only or ku.decipher_only), "row 23: encipher/decipherOnly"

    # Row 24: basicConstraints critical, cA FALSE, no pathLen.
    bc = _ext(cert, ExtensionOID.BASIC_CONSTRAINTS)
    assert bc is not None, "row 24: no basicConstraints"
    assert bc.critical, "row 24: basicConstraints not critical"
    assert bc.value.ca is False and bc.value.path_length is None, "row 24: cA TRUE or pathLen"

    # Row 26: one attribute per RDN, BR relative order, encodings and lengths.
    assert all(len(rdn) == 1 for rdn in rdns), "row 26: multi-valued RDN"
    types = [a[0] for a in attrs]
    for t in set(types):
        if t not in (A_STREET, A_DC):
            assert types.count(t) == 1, f"row 26: attribute {t} repeated"
    ordered = [t for t in types if t in BR_ORDER]
    assert ordered == sorted(ordered, key=BR_ORDER.index), f"row 26: subject order {types}"
    values = {}
    for oid, tag, val in attrs:
        if oid in PRINTABLE_ONLY:
            assert tag == TAG_PRINTABLE, f"row 26: {oid} is not a PrintableString"
        else:
            assert tag in (TAG_PRINTABLE, TAG_UTF8), f"row 26: {oid} has string tag {tag:#x}"
        text = val.decode("utf-8")
        if tag == TAG_PRINTABLE:
            assert re.fullmatch(r"[A-Za-z0-9 '()+,\-./:=?]*", text), (
                f"row 26: {text!r} has characters outside PrintableString")
        if oid in MAX_LEN:
            assert len(text) <= MAX_LEN[oid], f"row 26: {oid} longer than {MAX_LEN[oid]}"
        assert not PLACEHOLDER.match(text), f"row 26: placeholder value {text!r} in {oid}"
        values[oid] = text
    if A_C in values:
        assert re.fullmatch(r"[A-Z]{2}", values[A_C]), f"row 26: C {values[A_C]!r}"

    # Rows 27-33: attributes by type.
    present = set(types)
    extra_attrs = present - ALLOWED_SUBJECT[v]
    row = {"dv": "27", "ov": "28/33", "ev": "33"}[v]
    assert not extra_attrs, f"row {row}: attributes {sorted(extra_attrs)} in a {v} subject"
    if v in ("ov", "ev"):
        assert A_O in present, "row 28: no O"
        assert A_C in present, "row 28: no C"
        assert A_ST in present or A_L in present, "row 28: neither ST nor L"
    if v == "ev":
        assert values.get(A_BUSINESS) in BUSINESS_CATEGORIES, (
            f"row 29: businessCategory {values.get(A_BUSINESS)!r}")
        assert A_JUR_C in present, "row 30: no jurisdictionCountryName"
        assert re.fullmatch(r"[A-Z]{2}", values[A_JUR_C]), "row 30: jurisdictionCountryName"
        if A_JUR_L in present:
            assert A_JUR_ST in present, "row 30: jurisdiction locality without its state"
        assert A_SERIAL in present, "row 31: no subject serialNumber"
    if A_ORGID in present:
        assert OID_CABF_ORGID_EXT in oids, "row 32: organizationIdentifier without the extension"
    else:
        assert OID_CABF_ORGID_EXT not in oids, "row 32: cabfOrganizationIdentifier without orgId"
    if exp.org is not None and v in ("ov", "ev"):
        o = exp.org
        want_o = o["name"] if not o.get("assumed_name") else f"{o['assumed_name']} ({o['name']})"
        assert values.get(A_O) == want_o, f"O is {values.get(A_O)!r}, expected {want_o!r}"
        assert values.get(A_C) == o["country"], "C is not the organisation's country"
        for attr, key in ((A_L, "city"), (A_ST, "state"), (A_POSTAL, "zip")):
            if attr in values:
                assert values[attr] == o.get(key), f"{attr} {values[attr]!r} != org {key}"
        if v == "ev":
            assert values[A_BUSINESS] == o["business_category"], "businessCategory != org"
            assert values[A_JUR_C] == o["jurisdiction_country"], "jurisdictionC != org"
            assert values[A_SERIAL] == o["registration_number"], "serialNumber != org"
            if A_JUR_ST in values:
                assert values[A_JUR_ST] == o.get("jurisdiction_state"), "jurisdictionST != org"
    return cert


# ---------------------------------------------------------------------------------------------
# Row 40: the chain verifies with tools certmint did not write, and a TLS handshake works.


def _run(cmd, timeout=60, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)


def verify_chain_openssl(root: Path, issuing: Path, leaf: Path, *, hostname=None, ip=None):
    """`openssl verify -x509_strict -purpose sslserver`; returns the CompletedProcess."""
    cmd = ["openssl", "verify", "-x509_strict", "-purpose", "sslserver", "-CAfile", str(root),
           "-untrusted", str(issuing)]
    if hostname:
        cmd += ["-verify_hostname", hostname]
    if ip:
        cmd += ["-verify_ip", ip]
    return _run(cmd + [str(leaf)])


def verify_chain_gnutls(root: Path, issuing: Path, leaf: Path, workdir: Path, *,
                       hostname: Optional[str] = None):
    """GnuTLS `certtool --verify` of leaf + issuing CA against `root` as the only trust anchor
    (serverAuth purpose, medium profile, and the hostname when given)."""
    chain = workdir / "gnutls-chain.pem"
    chain.write_text(leaf.read_text() + issuing.read_text())
    cmd = ["certtool", "--verify", "--load-ca-certificate", str(root), "--infile", str(chain),
           "--verify-purpose", "1.3.6.1.5.5.7.3.1", "--verify-profile", "medium"]
    if hostname:
        cmd += ["--verify-hostname", hostname]
    return _run(cmd)


def verify_chain_gnutls_full(root: Path, issuing: Path, leaf: Path, workdir: Path):
    """GnuTLS `certtool --verify-chain` over leaf, issuing CA and root (which ends the chain; it
    cannot be combined with --load-ca-certificate)."""
    chain = workdir / "gnutls-full-chain.pem"
    chain.write_text(leaf.read_text() + issuing.read_text() + root.read_text())
    return _run(["certtool", "--verify-chain", "--infile", str(chain), "--verify-profile",
                 "medium"])


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tls_handshake(root: Path, issuing: Path, leaf: Path, key: Path, servername: str,
                  verify_name: Optional[str] = None, timeout: float = 30):
    """Serves leaf + issuing CA with `openssl s_server` on a free port and connects with
    `openssl s_client` verifying against `root` with hostname checking. Returns s_client's
    CompletedProcess (stdout and stderr merged in .stdout)."""
    port = free_port()
    srv = subprocess.Popen(
        ["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert", str(leaf),
         "-cert_chain", str(issuing), "-key", str(key), "-naccept", "1"],
        # stdin stays open: s_server shuts down when it reads EOF there.
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        # Wait for "ACCEPT" with select on the raw pipe, so a silent server cannot hang us.
        deadline = time.monotonic() + timeout
        seen = b""
        fd = srv.stdout.fileno()
        while b"ACCEPT" not in seen:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([fd], [], [], max(left, 0))
            if not ready:
                raise AssertionError(f"s_server did not start listening: {seen!r}")
            chunk = os.read(fd, 4096)
            if not chunk:
                raise AssertionError(f"s_server exited before listening: {seen!r}")
            seen += chunk
        name = verify_name or servername
        cli = subprocess.run(
            ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", servername,
             "-verify_return_error", "-verify_hostname", name, "-CAfile", str(root)],
            input="", stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            timeout=timeout)
        return cli
    finally:
        if srv.poll() is None:
            srv.kill()
        srv.wait(timeout=10)
        srv.stdin.close()
        srv.stdout.close()


def assert_chain_row40(root: Path, issuing: Path, leaf: Path, key: Path, name: str,
                       workdir: Path):
    """Row 40 in full: OpenSSL strict verify, GnuTLS verify, TLS handshake with hostname."""
    r = verify_chain_openssl(root, issuing, leaf, hostname=name)
    assert r.returncode == 0 and ": OK" in r.stdout, f"row 40: openssl verify: {r.stdout}{r.stderr}"
    host = name if not name.startswith("*.") else "www" + name[1:]
    for g in (verify_chain_gnutls(root, issuing, leaf, workdir, hostname=host),
              verify_chain_gnutls_full(root, issuing, leaf, workdir)):
        assert g.returncode == 0 and "Chain verification output: Verified" in g.stdout, (
            f"row 40: {g.args}: {g.stdout[-2000:]}{g.stderr}")
    h = tls_handshake(root, issuing, leaf, key, host)
    # s_client prints "Verify return code: 0" even when the handshake fails, so also require a
    # negotiated cipher.
    assert "Verify return code: 0 (ok)" in h.stdout, f"row 40: handshake: {h.stdout[-3000:]}"
    assert re.search(r"Cipher is (?!\(NONE\))", h.stdout), f"row 40: no handshake: {h.stdout}"
    assert h.returncode == 0, f"row 40: s_client exit {h.returncode}: {h.stdout[-3000:]}"
