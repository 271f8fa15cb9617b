"""Shared fixtures for the black-box tests of the certmint CLI.

One CA data directory is initialised per session (RSA-4096 keygen makes `certmint init` slow) and
shared read-only by the tests; tests that need a fresh directory make their own. Keys and CSRs are
made with the openssl CLI, never with certmint. The binary is $CERTMINT_BIN, or build/certmint
under the repository root.
"""

import hashlib
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

sys.path.insert(0, str(Path(__file__).parent))  # certcheck.py beside this file

REPO = Path(__file__).resolve().parents[2]
PUBLIC_URL = "http://pki.example.com/certmint"
CA_ORG = "Certmint Test Authority"
CA_COUNTRY = "NL"
CA_IDS = ["public-ecdsa", "public-rsa", "private-ecdsa", "private-rsa"]

OV_ORG = {
    "name": "Example Widgets Ltd",
    "address": "1 Main Street",
    "city": "Springfield",
    "state": "Illinois",
    "zip": "62701",
    "country": "US",
    "telephone": "+1 217 555 0100",
}
EV_ORG = dict(
    OV_ORG,
    jurisdiction_country="US",
    jurisdiction_state="Delaware",
    business_category="Private Organization",
    registration_number="5551234",
)

PEM_RE = re.compile(
    rb"-----BEGIN CERTIFICATE-----\r?\n.+?-----END CERTIFICATE-----\r?\n?", re.S)


def certmint_bin() -> Path:
    p = Path(os.environ.get("CERTMINT_BIN", REPO / "build" / "certmint"))
    return p if p.is_absolute() else REPO / p


def run(cmd, *, timeout=120, env=None, input=None, check=False, text=True, cwd=None):
    """Runs a command with a timeout, capturing output."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    r = subprocess.run([str(c) for c in cmd], capture_output=True, timeout=timeout, env=full_env,
                       input=input, text=text, cwd=cwd)
    if check and r.returncode != 0:
        raise AssertionError(f"{cmd} exited {r.returncode}:\n{r.stdout}\n{r.stderr}")
    return r


def certmint(*args, **kw):
    """Runs certmint with the given arguments."""
    b = certmint_bin()
    if not os.access(b, os.X_OK):
        pytest.fail(f"certmint binary not found at {b} (set CERTMINT_BIN or build it)")
    return run([b, *args], **kw)


def split_pem(data: bytes):
    """The DER of each CERTIFICATE block in a PEM bundle, in order (cryptography 38 has no
    load_pem_x509_certificates)."""
    out = []
    for m in PEM_RE.finditer(data):
        out.append(x509.load_pem_x509_certificate(m.group(0)).public_bytes(
            serialization.Encoding.DER))
    return out


def pem_of(der: bytes) -> str:
    return x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM).decode()


def tree_hash(root: Path) -> str:
    """A hash over every path, mode and content below root, to prove nothing changed."""
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        st = p.lstat()
        h.update(str(p.relative_to(root)).encode() + b"\0" + oct(st.st_mode).encode())
        if p.is_file() and not p.is_symlink():
            h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


@dataclass
class CA:
    """An initialised certmint data directory."""

    dir: Path
    public_url: str

    def cert_path(self, ca_id: str) -> Path:
        return self.dir / "ca" / f"{ca_id}.crt"

    def root_path(self, ca_id: str) -> Path:
        return self.cert_path(ca_id if ca_id.endswith("-root") else ca_id + "-root")

    def der(self, ca_id: str) -> bytes:
        return x509.load_pem_x509_certificate(self.cert_path(ca_id).read_bytes()).public_bytes(
            serialization.Encoding.DER)

    def cert(self, ca_id: str) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.cert_path(ca_id).read_bytes())


def init_ca(d: Path, *, env=None, extra=()):
    return certmint("init", "--dir", d, "--public-url", PUBLIC_URL, "--ca-org", CA_ORG,
                    "--ca-country", CA_COUNTRY, *extra, env=env, timeout=600)


@pytest.fixture(scope="session")
def ca(tmp_path_factory) -> CA:
    """The shared CA data directory (read-only for tests)."""
    d = tmp_path_factory.mktemp("ca") / "data"
    r = init_ca(d)
    assert r.returncode == 0, f"certmint init failed ({r.returncode}):\n{r.stdout}\n{r.stderr}"
    return CA(d, PUBLIC_URL)


class Keys:
    """Makes (and caches) subject keys and CSRs with the openssl CLI."""

    SPECS = {
        "rsa1024": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"],
        "rsa2048": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
        "rsa3072": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:3072"],
        "rsa4096": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:4096"],
        "p256": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        "p384": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
        "ed25519": ["-algorithm", "ED25519"],
    }

    def __init__(self, d: Path):
        self.dir = d
        self._n = 0

    def key(self, kind: str, fresh: bool = False) -> Path:
        """A PEM private key of `kind` (shared unless fresh)."""
        if fresh:
            self._n += 1
            p = self.dir / f"{kind}-{self._n}.key"
        else:
            p = self.dir / f"{kind}.key"
            if p.exists():
                return p
        if kind == "dsa":
            params = self.dir / "dsa.params"
            if not params.exists():
                run(["openssl", "genpkey", "-genparam", "-algorithm", "DSA", "-pkeyopt",
                     "dsa_paramgen_bits:2048", "-out", params], check=True)
            run(["openssl", "genpkey", "-paramfile", params, "-out", p], check=True)
        else:
            run(["openssl", "genpkey", *self.SPECS[kind], "-out", p], check=True)
        return p

    def csr(self, kind: str, out: Optional[Path] = None, subj="/CN=ignored", extra=(),
            fresh: bool = False) -> Path:
        """A CSR for a key of `kind`; its subject is ignored by certmint."""
        key = self.key(kind, fresh=fresh)
        self._n += 1
        out = out or self.dir / f"{kind}-{self._n}.csr"
        run(["openssl", "req", "-new", "-key", key, "-subj", subj, *extra, "-out", out],
            check=True)
        return out

    @staticmethod
    def public_key(key: Path):
        return serialization.load_pem_private_key(key.read_bytes(), None).public_key()


@pytest.fixture(scope="session")
def keys(tmp_path_factory) -> Keys:
    return Keys(tmp_path_factory.mktemp("keys"))


def write_org(path: Path, org: dict) -> Path:
    path.write_text(json.dumps(org))
    return path


@dataclass
class Issued:
    """The outcome of one `certmint issue` run."""

    proc: subprocess.CompletedProcess
    started: float
    out: Optional[Path] = None
    info: dict = field(default_factory=dict)

    @property
    def ok(self):
        return self.proc.returncode == 0


def issue(ca: CA, tmp: Path, product: str, csr: Path, *, cn=None, sans=(), org=None,
          issuer=None, hash=None, days=None, fmt=None, out="leaf.pem", json_out=True,
          extra=(), cwd=None) -> Issued:
    """Runs `certmint issue`; `org` is a dict (written to a file) or a path. `out=None` sends
    PEM to stdout."""
    args = ["issue", "--dir", ca.dir, "--product", product, "--csr", csr]
    if cn is not None:
        args += ["--cn", cn]
    for s in sans:
        args += ["--san", s]
    if org is not None:
        if isinstance(org, dict):
            org = write_org(tmp / f"org-{time.monotonic_ns()}.json", org)
        args += ["--org", org]
    if issuer:
        args += ["--issuer", issuer]
    if hash:
        args += ["--hash", hash]
    if days is not None:
        args += ["--days", str(days)]
    if fmt:
        args += ["--format", fmt]
    out_path = None
    if out is not None:
        out_path = tmp / out
        args += ["--out", out_path]
    if json_out:
        args.append("--json")
    args += list(extra)
    started = time.time()
    r = certmint(*args, cwd=cwd)
    res = Issued(r, started, out_path)
    if r.returncode == 0 and json_out:
        res.info = json.loads(r.stdout)
    return res


ERR_LINE = re.compile(r"^certmint: ([a-z0-9_]+): \S.*$", re.M)


def error_codes(stderr: str):
    """The error codes in `certmint: <code>: <message>` lines."""
    return ERR_LINE.findall(stderr)
