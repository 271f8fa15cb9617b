"""The certmint client commands (docs/cli.md, "Client commands") end to end: the `certmint`
binary run as a subprocess against a real `certmint serve` for every noun and verb — orders
(private, public OV over DNS-validated domains served by dnsmasq, DV with order DCV), requests,
certificates and downloads, revocation, organisations, domains, settings, platforms, products,
duplicates, reissues and renewals. Human output holds the expected fields, `--json` parses and
matches the server, refusals exit 1 with `certmint: CODE:` on stderr, usage errors exit 2
without calling the server, settings come from flags > environment > config file (and a config
file holding a key that others may read is refused), HTTPS works with --ca-file.
The one-command duplicate — `duplicate create ORDER --generate-key --out-dir D --platform nginx`
— is checked end to end: key file 0600, never overwritten, never on the server (its bytes are in
no file of the data directory, access log and database included), the certificate matches it,
passes `openssl verify -x509_strict -purpose sslserver`, and an `openssl s_server` serving the
installed files completes a handshake with `openssl s_client -verify_return_error
-verify_hostname`. The API key never appears in anything the CLI prints.
"""

import base64
import datetime
import hashlib
import http.server
import json
import os
import re
import stat
import subprocess
import threading
import zipfile
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from certcheck import tls_handshake, verify_chain_openssl
from conftest import OV_ORG, certmint_bin, pem_of, split_pem
from realservers import Dns
from server import Server, free_port

PRIVATE = "private_ssl_plus"


@pytest.fixture(scope="module")
def env(tmp_path_factory, keys):
    tmp = tmp_path_factory.mktemp("cli")
    dns = Dns(tmp).start()
    tls_port = free_port()
    srv = Server(tmp, conf={"dns_server": dns.addr, "caa_identities": "certmint.test",
                            "tls_listen": f"127.0.0.1:{tls_port}"}).start()
    e = Env(srv, dns, keys, tmp, tls_port)
    e.setup()
    yield e
    srv.stop()
    dns.stop()


class Env:
    def __init__(self, srv, dns, keys, tmp, tls_port):
        self.srv, self.dns, self.keys, self.tmp = srv, dns, keys, Path(tmp)
        self.tls_port = tls_port
        self.txt = {}
        self.secrets = {srv.admin_key, srv.operator_key}
        self.home = self.tmp / "home"  # an empty HOME: no stray config file is read
        self.home.mkdir()
        self.n = 0

    def base_env(self):
        e = {k: v for k, v in os.environ.items()
             if not k.startswith("CERTMINT_") and k != "XDG_CONFIG_HOME"}
        e["HOME"] = str(self.home)
        return e

    def run(self, *args, env=None, key=None, server=None, cwd=None, text=True, timeout=120):
        """Runs certmint with CERTMINT_SERVER/CERTMINT_KEY set (unless env is given whole).
        Asserts that no API key shows in what it prints."""
        if env is None:
            env = self.base_env()
            env["CERTMINT_SERVER"] = server or self.srv.base
            env["CERTMINT_KEY"] = key or self.srv.admin_key
        r = subprocess.run([str(certmint_bin()), *[str(a) for a in args]], capture_output=True,
                           text=text, env=env, cwd=cwd, timeout=timeout)
        out = r.stdout if text else r.stdout.decode("latin-1")
        err = r.stderr if text else r.stderr.decode("latin-1")
        for s in self.secrets:
            assert s not in out and s not in err, f"an API key was printed by {args}"
        for bad in ("runtime error:", "AddressSanitizer", "LeakSanitizer"):
            assert bad not in err, f"{args}: sanitizer report:\n{err}"
        return r

    def ok(self, *args, **kw):
        r = self.run(*args, **kw)
        assert r.returncode == 0, f"{args} → {r.returncode}\n{r.stdout}\n{r.stderr}"
        return r

    def json(self, *args, **kw):
        return json.loads(self.ok(*args, "--json", **kw).stdout)

    def csr(self, kind="p256"):
        return self.keys.csr(kind, fresh=True)

    def dir(self, name):
        self.n += 1
        return self.tmp / f"{name}-{self.n}"

    def setup(self):
        s = self.srv
        self.ok("settings", "set", "skip_approval=true", "allow_duplicates=true")
        org_file = self.tmp / "org.json"
        org_file.write_text(json.dumps(OV_ORG))
        self.org = self.json("org", "create", "--file", org_file)["id"]
        # OV vetting is the operator's (no client verb for it)
        s.ok("PUT", f"/organization/{self.org}/validation", s.operator_key,
             {"validations": [{"type": "ov"}]})
        d = self.json("domain", "create", "example.com", "--org", self.org)
        self.domain = d["id"]
        self.txt["_dnsauth.example.com"] = [d["dcv_token"]["token"]]
        self.dns.set(txt=self.txt)
        r = self.ok("domain", "validate", self.domain)
        assert re.search(r"^status:\s+active$", r.stdout, re.M), r.stdout

    def order(self, cn, *extra, product=PRIVATE):
        """A private order by the administrator (skip_approval on): issued at once."""
        o = self.json("order", "create", product, "--cn", cn, "--csr", self.csr(),
                      "--org", self.org, *extra)
        assert o["status"] == "issued", o
        return o

    def root_and_issuing(self, cert_id, d: Path):
        """The root and issuing CA of a certificate (pem_all download), as files in d."""
        r = self.srv.api("GET", f"/certificate/{cert_id}/download/format/pem_all",
                         key=self.srv.admin_key)
        assert r.status_code == 200, r.text
        leaf, issuing, root = split_pem(r.content)
        (d / "root.pem").write_text(pem_of(root))
        (d / "issuing.pem").write_text(pem_of(issuing))
        return d / "root.pem", d / "issuing.pem"


def kv(stdout, label):
    """The value of a `label: value` line of human output."""
    m = re.search(rf"^{re.escape(label)}:\s+(.*)$", stdout, re.M)
    assert m, f"no {label}: line in:\n{stdout}"
    return m.group(1)


def code_of(r):
    m = re.search(r"^certmint: ([a-z0-9_]+): \S", r.stderr, re.M)
    assert m, f"no certmint: CODE: line in stderr:\n{r.stderr}"
    return m.group(1)


def refused(r, code):
    assert r.returncode == 1, f"exit {r.returncode}\n{r.stdout}\n{r.stderr}"
    assert code_of(r) == code, r.stderr
    assert r.stdout == "", r.stdout


def cert_matches_key(crt: Path, key: Path):
    leaf = x509.load_pem_x509_certificate(crt.read_bytes())
    priv = serialization.load_pem_private_key(key.read_bytes(), None)
    fmt = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return leaf.public_key().public_bytes(*fmt) == priv.public_key().public_bytes(*fmt)


# ---- usage, errors, settings ----


def test_usage_errors_exit_2_without_calling_the_server(env):
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens: a call would exit 1
    csr = env.csr()
    cases = [
        (["order"], "needs a verb"),
        (["order", "frob"], 'unknown verb "frob"'),
        (["order", "show"], "missing argument"),
        (["order", "show", "abc"], "ORDER must be a positive whole number"),
        (["order", "show", "1", "2"], "unexpected argument"),
        (["order", "list", "--bogus"], 'unknown option "--bogus"'),
        (["order", "list", "--limit", "0"], "--limit takes a whole number"),
        (["order", "create", PRIVATE, "--cn", "x.corp.internal"], "give --csr FILE"),
        (["order", "create", PRIVATE, "--csr", csr], "--cn NAME is required"),
        (["order", "create", PRIVATE, "--cn", "a", "--cn", "b", "--csr", csr], "given twice"),
        (["duplicate", "create", "1", "--generate-key"], "needs --out-dir"),
        (["duplicate", "create", "1", "--csr", csr, "--generate-key", "--out-dir", "x"],
         "not both"),
        (["reissue", "1", "--csr", csr, "--key-type", "rsa"], "go with --generate-key"),
        (["renew"], "missing argument"),
        (["settings", "set", "nonsense=1"], 'unknown setting "nonsense"'),
        (["settings", "set", "skip_approval=maybe"], "true or false"),
        (["org", "contact", "1"], "--user ID is required"),
        (["cert", "download", "1", "--format", "pem_all", "--platform"], "not both"),
        (["order", "show", "1", "--json=yes"], "takes no value"),
    ]
    for args, text in cases:
        r = env.run(*args, server=dead)
        assert r.returncode == 2, (args, r.returncode, r.stderr)
        assert text in r.stderr, (args, r.stderr)
        assert "certmint: usage:" in r.stderr and r.stdout == "", (args, r.stderr)
    r = env.run("order", "--help", server=dead)
    assert r.returncode == 0 and "certmint order create PRODUCT" in r.stdout
    assert "--json" in r.stdout and "exit codes" in r.stdout
    r = env.run("duplicate", "create", "--help", server=dead)
    assert r.returncode == 0 and "--generate-key" in r.stdout
    r = env.run("--help", server=dead)
    assert r.returncode == 0
    for noun in ("order", "duplicate", "reissue", "renew", "cert", "request", "org", "domain",
                 "settings", "platform", "product"):
        assert re.search(rf"^  {noun}\s", r.stdout, re.M), noun


def test_refusals_and_failures_exit_1_with_code(env):
    refused(env.run("order", "show", "999999"), "order_not_found")
    refused(env.run("cert", "revoke", "999999", "--reason", "superseded"),
            "certificate_not_found")
    refused(env.run("settings", "set", "renewal_window_days=20"), "field_invalid")
    refused(env.run("order", "list", key="cm_" + "a" * 12 + "_" + "b" * 52), "unauthorized")
    r = env.run("product", "list", server=f"http://127.0.0.1:{free_port()}")
    refused(r, "network_error")
    # the same refusals with --json: still the error on stderr, nothing on stdout
    refused(env.run("order", "show", "999999", "--json"), "order_not_found")


def test_settings_platforms_products(env):
    r = env.ok("settings", "set", "reissue_revoke_delay_hours=48", "allow_duplicates=yes")
    assert kv(r.stdout, "reissue_revoke_delay_hours") == "48"
    assert kv(r.stdout, "allow_duplicates") == "true"
    shown = env.json("settings", "show")
    assert shown == env.srv.ok("GET", "/account/settings", env.srv.admin_key)
    assert shown["reissue_revoke_delay_hours"] == 48
    env.ok("settings", "set", "reissue_revoke_delay_hours=72")
    r = env.ok("platform", "list")
    assert re.search(r"^45\s+nginx\s+pem_noroot$", r.stdout, re.M), r.stdout
    assert env.json("platform", "list") == env.srv.ok("GET", "/server-platform",
                                                       env.srv.admin_key)
    r = env.ok("product", "list")
    assert re.search(r"^ssl_dv_geotrust\s+GeoTrust DV SSL\s+dv\s.*\sfalse$", r.stdout, re.M)
    assert len(env.json("product", "list")["products"]) == 10


def test_config_file_environment_and_flags(env):
    s = env.srv
    base = env.base_env()
    xdg = env.tmp / "xdg"
    (xdg / "certmint").mkdir(parents=True)
    conf = xdg / "certmint" / "config"
    base["XDG_CONFIG_HOME"] = str(xdg)
    dead = f"http://127.0.0.1:{free_port()}"
    bad_key = "cm_" + "c" * 12 + "_" + "d" * 52

    r = env.run("settings", "show", env=base)
    assert r.returncode == 2 and code_of(r) == "server_required", r.stderr
    # no key is made for a request that cannot be sent
    d = env.dir("unsent")
    r = env.run("order", "create", PRIVATE, "--cn", "x.corp.internal", "--generate-key",
                "--out-dir", d, env=base)
    assert r.returncode == 2 and code_of(r) == "server_required", r.stderr
    assert not (d / "x.corp.internal.key").exists()
    r = env.run("order", "create", PRIVATE, "--cn", "x.corp.internal", "--generate-key",
                "--out-dir", d, server=dead)
    refused(r, "network_error")
    assert "removed the new key" in r.stderr and not (d / "x.corp.internal.key").exists()

    conf.write_text(f"# certmint client\nserver = {s.base}\n\nkey = {s.admin_key}\n")
    conf.chmod(0o600)
    assert "skip_approval" in env.ok("settings", "show", env=base).stdout

    for mode in (0o644, 0o640, 0o604):
        conf.chmod(mode)
        r = env.run("settings", "show", env=base)
        refused(r, "config_insecure")
        assert "chmod 600" in r.stderr and str(conf) in r.stderr
    # a file others may read is fine while it holds no key: the key comes from the environment
    conf.write_text(f"server = {s.base}\n")
    conf.chmod(0o644)
    env.ok("settings", "show", env=dict(base, CERTMINT_KEY=s.admin_key))
    # environment over file, flags over environment
    conf.write_text(f"server = {dead}\nkey = {bad_key}\n")
    conf.chmod(0o600)
    refused(env.run("settings", "show", env=base), "network_error")
    refused(env.run("settings", "show", env=dict(base, CERTMINT_SERVER=s.base)),
            "unauthorized")
    env.ok("settings", "show",
           env=dict(base, CERTMINT_SERVER=s.base, CERTMINT_KEY=s.admin_key))
    env.ok("settings", "show", "--server", s.base, "--key", s.admin_key,
           env=dict(base, CERTMINT_SERVER=dead, CERTMINT_KEY=bad_key))
    env.ok("settings", "show", "--key", s.admin_key, env=dict(base, CERTMINT_SERVER=s.base))
    # /services/v2 and a trailing slash in the URL are fine
    env.ok("settings", "show", "--server", s.base + "/services/v2/", "--key", s.admin_key,
           env=base)
    refused(env.run("settings", "show", "--server", "ftp://127.0.0.1/", env=base),
            "field_invalid")
    conf.write_text("colour = blue\n")
    refused(env.run("settings", "show", env=base), "config_invalid")
    # without XDG_CONFIG_HOME: ~/.config/certmint/config
    home = env.tmp / "home2"
    (home / ".config" / "certmint").mkdir(parents=True)
    hconf = home / ".config" / "certmint" / "config"
    hconf.write_text(f"server = {s.base}\nkey = {s.admin_key}\n")
    hconf.chmod(0o600)
    nox = {k: v for k, v in base.items() if k != "XDG_CONFIG_HOME"}
    env.ok("settings", "show", env=dict(nox, HOME=str(home)))
    hconf.chmod(0o666)
    refused(env.run("settings", "show", env=dict(nox, HOME=str(home))), "config_insecure")


def test_https_with_ca_file(env):
    s = env.srv
    url = f"https://127.0.0.1:{env.tls_port}"
    root = s.dir / "ca" / "private-ecdsa-root.crt"  # the listener's certificate chains to it
    refused(env.run("settings", "show", server=url), "tls_failed")
    r = env.ok("settings", "show", "--ca-file", root, server=url)
    assert "skip_approval" in r.stdout
    base = env.base_env()
    env.ok("settings", "show",
           env=dict(base, CERTMINT_SERVER=url, CERTMINT_KEY=s.admin_key,
                    CERTMINT_CA_FILE=str(root)))
    xdg = env.tmp / "xdg-tls"
    (xdg / "certmint").mkdir(parents=True)
    conf = xdg / "certmint" / "config"
    conf.write_text(f"server = {url}\nkey = {s.admin_key}\nca_file = {root}\n")
    conf.chmod(0o600)
    env.ok("settings", "show", env=dict(base, XDG_CONFIG_HOME=str(xdg)))


class _Fake(http.server.BaseHTTPRequestHandler):
    """Answers that a certmint server never gives: too large, not JSON, an error page."""

    def do_GET(self):
        self.server.keys_seen.append(self.headers.get("X-DC-DEVKEY"))
        if self.path.endswith("/account/settings"):
            body, status, ctype = b"[" + b"1," * (9 * 1024 * 1024) + b"1]", 200, "application/json"
        elif self.path.endswith("/order/certificate/1"):
            body, status, ctype = b"<html>hello</html>", 200, "text/html"
        else:
            body, status, ctype = b"Internal Server Error\x1b[31m", 500, "text/plain"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass

    def log_message(self, *a):
        pass


def test_bounded_and_malformed_answers(env):
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Fake)
    httpd.keys_seen = []
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}"
        refused(env.run("settings", "show", server=url), "response_too_large")
        refused(env.run("order", "show", "1", server=url), "response_invalid")
        r = env.run("order", "show", "2", server=url)
        refused(r, "http_500")
        assert "\x1b" not in r.stderr  # control characters of the answer are not echoed
        assert set(httpd.keys_seen) == {env.srv.admin_key}
    finally:
        httpd.shutdown()
        httpd.server_close()


# ---- organisations, domains ----


def test_orgs_and_domains(env):
    s = env.srv
    r = env.ok("org", "list")
    assert re.search(rf"^{env.org}\s+{OV_ORG['name']}\s+.*ov:active$", r.stdout, re.M), r.stdout
    assert env.json("org", "show", env.org)["name"] == OV_ORG["name"]
    assert kv(env.ok("org", "show", env.org).stdout, "country") == OV_ORG["country"]
    u = s.ok("POST", "/user", s.admin_key, {"email": "contact@example.org", "first_name": "C",
                                           "last_name": "Contact", "role": "standard_user"},
             status=201)
    r = env.ok("org", "contact", env.org, "--user", u["id"], "--ev-approver")
    assert kv(r.stdout, "ev_approver") == "true" and kv(r.stdout, "user_id") == str(u["id"])
    assert env.json("org", "contact", env.org, "--user", u["id"])["ev_approver"] is False
    refused(env.run("org", "contact", env.org, "--user", "99999"), "user_not_found")
    bad = env.tmp / "bad-org.json"
    bad.write_text('{"name": "x", "name": "y"}')
    refused(env.run("org", "create", "--file", bad), "org_invalid")

    r = env.ok("domain", "list")
    assert re.search(rf"^{env.domain}\s+example\.com\s+active\s+dns-txt-token\s", r.stdout,
                     re.M), r.stdout
    assert env.json("domain", "show", env.domain)["status"] == "active"
    r = env.ok("domain", "create", "example.net", "--method", "dns-cname-token")
    assert kv(r.stdout, "dcv_token.verification_value") == "dcv.certmint.test"
    token = kv(r.stdout, "dcv_token.token")
    assert kv(r.stdout, "dcv_token.record_name") == f"{token}.example.net"
    did = int(kv(r.stdout, "id"))
    refused(env.run("domain", "create", "example.net"), "domain_exists")
    r = env.ok("domain", "dcv-method", did, "dns-txt-token")
    assert kv(r.stdout, "dcv_token.record_name") == "_dnsauth.example.net"
    refused(env.run("domain", "validate", did), "dcv_txt_not_found")
    refused(env.run("domain", "dcv-method", did, "carrier-pigeon"), "dcv_method_invalid")


# ---- orders, certificates, requests ----


def test_order_show_list_history_and_downloads(env):
    s = env.srv
    o = env.order("app.corp.internal", "--san", "www.corp.internal", "--platform", "nginx",
                  "--years", "2", "--comments", "web tier")
    oid, cid = o["id"], o["certificate_id"]
    chain = split_pem(o["certificate_chain"].encode())
    r = env.ok("order", "show", oid)
    assert kv(r.stdout, "status") == "issued"
    assert kv(r.stdout, "product.name_id") == PRIVATE
    assert kv(r.stdout, "certificate.dns_names") == "app.corp.internal, www.corp.internal"
    assert kv(r.stdout, "certificate.server_platform") == "45"
    assert kv(r.stdout, "order_validity.years") == "2"
    assert env.json("order", "show", oid) == s.ok("GET", f"/order/certificate/{oid}",
                                                 s.admin_key)
    r = env.ok("order", "list", "--status", "issued", "--sort", "-id")
    assert r.stdout.startswith("ID  ") and "COMMON NAME" in r.stdout.splitlines()[0]
    assert re.search(rf"^{oid}\s+issued\s+{PRIVATE}\s+app\.corp\.internal\s", r.stdout, re.M)
    page = env.json("order", "list", "--limit", "1", "--sort", "-id")
    assert page["page"]["limit"] == 1 and page["orders"][0]["id"] == oid
    if page["page"]["total"] > 1:
        assert "of" in env.ok("order", "list", "--limit", "1").stdout.splitlines()[-1]
    r = env.ok("order", "history", oid)
    assert re.search(rf"^{cid}\s+original\s+issued\s+app\.corp\.internal\s", r.stdout, re.M)
    info = env.json("cert", "show", cid)
    assert info["order_id"] == oid and info["kind"] == "original"
    assert kv(env.ok("cert", "show", cid).stdout, "serial_number") == info["serial_number"]

    d = env.dir("dl")
    d.mkdir()
    env.ok("cert", "download", cid, "--format", "pem_all", "--out", d / "all.pem")
    ders = split_pem((d / "all.pem").read_bytes())
    assert len(ders) == 3 and ders[:2] == chain
    # no --out: the server's file name in the current directory, never overwritten
    r = env.ok("cert", "download", cid, cwd=d)
    name = re.search(r"^wrote (\S+) \(", r.stdout).group(1)
    assert name == f"app_corp_internal_{cid}.pem" and (d / name).exists()
    assert split_pem((d / name).read_bytes()) == chain  # nginx: pem_noroot
    refused(env.run("cert", "download", cid, cwd=d), "file_exists")
    r = env.run("cert", "download", cid, "--format", "der", "--out", "-", text=False)
    assert r.returncode == 0 and r.stdout == chain[0]
    info = env.json("cert", "download", cid, "--format", "default", "--out", d / "c.zip")
    assert info["content_type"] == "application/zip" and info["bytes"] > 0
    assert len(zipfile.ZipFile(d / "c.zip").namelist()) == 3
    refused(env.run("cert", "download", cid, "--format", "pfx", "--out", d / "x"),
            "format_unknown")
    assert not (d / "x").exists()


def test_order_create_with_generated_key(env):
    d = env.dir("gen")
    r = env.ok("order", "create", PRIVATE, "--cn", "gen.corp.internal", "--org", env.org,
               "--generate-key", "--out-dir", d, "--platform", "nginx")
    key, crt = d / "gen.corp.internal.key", d / "gen.corp.internal.crt"
    assert f"{key} (mode 0600" in r.stdout and str(crt) in r.stdout
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert cert_matches_key(crt, key)
    assert isinstance(serialization.load_pem_private_key(key.read_bytes(), None),
                      ec.EllipticCurvePrivateKey)
    o = env.json("order", "create", PRIVATE, "--cn", "rsa.corp.internal", "--org", env.org,
                 "--generate-key", "--out-dir", d, "--key-type", "rsa", "--key-bits", "3072")
    k = serialization.load_pem_private_key((d / "rsa.corp.internal.key").read_bytes(), None)
    assert isinstance(k, rsa.RSAPrivateKey) and k.key_size == 3072
    assert o["files"]["key"] == str(d / "rsa.corp.internal.key")
    assert cert_matches_key(Path(o["files"]["certificate"]), d / "rsa.corp.internal.key")
    # a refused order leaves no key behind
    r = env.run("order", "create", PRIVATE, "--cn", "x.corp.internal", "--org", "99999",
                "--generate-key", "--out-dir", d)
    refused(r, "organization_not_found")
    assert not (d / "x.corp.internal.key").exists()


def test_requests_approve_reject_and_cancel(env):
    s = env.srv
    env.ok("settings", "set", "skip_approval=false")
    try:
        ids = []
        for cn in ("appr.corp.internal", "rej.corp.internal", "canc.corp.internal"):
            r = env.ok("order", "create", PRIVATE, "--cn", cn, "--csr", env.csr(), "--org",
                       env.org, "--comments", f"please {cn}")
            assert kv(r.stdout, "status") == "needs_approval"
            m = re.search(r"^requests:\n  - id=(\d+) status=pending$", r.stdout, re.M)
            assert m, r.stdout
            ids.append((int(kv(r.stdout, "id")), int(m.group(1))))
        (o1, q1), (o2, q2), (o3, q3) = ids
        r = env.ok("request", "list", "--status", "pending")
        for o, q in ids:
            assert re.search(rf"^{q}\s+{o}\s+new_request\s+pending\s", r.stdout, re.M), r.stdout
        lst = env.json("request", "list", "--order", o1)
        assert [x["id"] for x in lst["requests"]] == [q1]
        assert kv(env.ok("request", "show", q1).stdout, "comments") == "please appr.corp.internal"
        assert env.ok("request", "approve", q1, "--comment", "fine").stdout == \
            f"request {q1} approved\n"
        assert env.json("order", "show", o1)["status"] == "issued"
        assert env.json("request", "show", q1)["processor_comment"] == "fine"
        refused(env.run("request", "approve", q1), "request_state")
        env.ok("request", "reject", q2, "--comment", "no")
        assert env.json("order", "show", o2)["status"] == "rejected"
        r = env.ok("order", "cancel", o3, "--note", "not needed")
        assert r.stdout == f"order {o3}: cancelled; status now canceled\n"
        info = s.ok("GET", f"/order/certificate/{o3}", s.admin_key)
        assert info["status"] == "canceled" and info["note"] == "not needed"
        refused(env.run("order", "cancel", o1), "order_state")
    finally:
        env.ok("settings", "set", "skip_approval=true")


def test_revocation(env):
    s = env.srv
    o = env.order("rev.corp.internal")
    r = env.ok("cert", "revoke", o["certificate_id"], "--reason", "key_compromise",
               "--comments", "laptop stolen")
    assert kv(r.stdout, "status") == "revoked" and kv(r.stdout, "revoked_certificates") == "1"
    assert env.json("cert", "show", o["certificate_id"])["revocation_reason"] == "key_compromise"
    refused(env.run("cert", "revoke", o["certificate_id"]), "certificate_state")
    o2 = env.order("rev2.corp.internal")
    refused(env.run("order", "revoke", o2["id"], "--reason", "certificate_hold"),
            "field_invalid")
    j = env.json("order", "revoke", o2["id"], "--reason", "superseded")
    assert j == {"status": "revoked", "revoked_certificates": 1}
    assert s.ok("GET", f"/order/certificate/{o2['id']}", s.admin_key)["status"] == "revoked"


def test_dv_order_dcv_verbs(env):
    o = env.json("order", "create", "ssl_dv_geotrust", "--cn", "dv.example.org", "--csr",
                 env.csr())
    assert o["status"] == "pending" and o["dcv_method"] == "dns-txt-token"
    m = env.json("order", "dcv-method", o["id"], "dns-txt-token")
    value = m["dcv_random_value"]
    assert value != o["dcv_random_value"]
    refused(env.run("order", "check-dcv", o["id"]), "dcv_txt_not_found")
    env.txt["_dnsauth.example.org"] = [value]
    env.dns.set(txt=env.txt)
    r = env.ok("order", "check-dcv", o["id"])
    assert kv(r.stdout, "order_status") == "issued" and kv(r.stdout, "dcv_status") == "complete"
    cid = int(kv(r.stdout, "certificate_id"))
    assert env.json("cert", "show", cid)["common_name"] == "dv.example.org"


# ---- duplicates, reissues, renewals ----


def data_files(d: Path):
    return [p for p in d.rglob("*") if p.is_file()]


def test_duplicate_generate_key_installs_for_nginx_and_serves_tls(env):
    s = env.srv
    o = env.order("www.example.com", "--san", "example.com", product="ssl_plus")
    oid = o["id"]
    d = env.dir("nginx")
    r = env.ok("duplicate", "create", oid, "--generate-key", "--out-dir", d, "--platform",
               "nginx")
    key, crt = d / "www.example.com.key", d / "www.example.com.crt"
    assert sorted(p.name for p in d.iterdir()) == [crt.name, key.name]
    assert f"{key} (mode 0600; made here, never sent)" in r.stdout
    assert kv(r.stdout, "wrote certificate") == str(crt)
    cid = int(kv(r.stdout, "certificate_id"))
    assert kv(r.stdout, "certificate.kind") == "duplicate"
    # the key: 0600, PKCS#8 EC P-256; the certificate file: leaf then issuing CA (nginx)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    priv = serialization.load_pem_private_key(key.read_bytes(), None)
    assert isinstance(priv, ec.EllipticCurvePrivateKey) and priv.curve.name == "secp256r1"
    ders = split_pem(crt.read_bytes())
    assert len(ders) == 2
    assert cert_matches_key(crt, key)
    assert ders[0] != split_pem(o["certificate_chain"].encode())[0]
    info = s.ok("GET", f"/certificate/{cid}", s.admin_key)
    assert info["kind"] == "duplicate" and info["order_id"] == oid
    assert info["server_platform"]["id"] == 45
    assert split_pem(info["certificate_chain"].encode()) == ders
    # the duplicate shows in the order's lists
    r = env.ok("duplicate", "list", oid)
    assert re.search(rf"^{cid}\s+duplicate\s+issued\s+www\.example\.com\s", r.stdout, re.M)
    hist = env.json("order", "history", oid)["certificates"]
    assert {c["id"]: c["kind"] for c in hist} == {o["certificate_id"]: "original",
                                                  cid: "duplicate"}
    # the key never reached the server: none of its bytes in any file of the data directory
    # (database, its WAL, the access log, the CA files)
    pem_lines = [ln for ln in key.read_text().splitlines() if not ln.startswith("-----")]
    der = base64.b64decode("".join(pem_lines))
    scalar = priv.private_numbers().private_value.to_bytes(32, "big")
    needles = [ln.encode() for ln in pem_lines if len(ln) >= 40] + [der, scalar,
                                                                    scalar.hex().encode()]
    assert len(needles) >= 4
    for p in data_files(s.dir):
        blob = p.read_bytes()
        for n in needles:
            assert n not in blob, f"key material found in {p}"
    # a chain that openssl accepts strictly, and a real TLS handshake with the installed files
    root, _ = env.root_and_issuing(cid, d.parent)
    issuing = d.parent / "nginx-issuing.pem"
    issuing.write_text(pem_of(ders[1]))
    v = verify_chain_openssl(root, issuing, crt, hostname="www.example.com")
    assert v.returncode == 0 and ": OK" in v.stdout, v.stdout + v.stderr
    for name in ("www.example.com", "example.com"):
        h = tls_handshake(root, issuing, crt, key, name)
        assert "Verify return code: 0 (ok)" in h.stdout, h.stdout[-3000:]
        assert re.search(r"Cipher is (?!\(NONE\))", h.stdout), h.stdout[-3000:]
        assert h.returncode == 0
    h = tls_handshake(root, issuing, crt, key, "other.example.com")
    assert h.returncode != 0  # -verify_hostname: another name fails
    # never over an existing key: refused before anything is made or sent
    before = hashlib.sha256(key.read_bytes()).hexdigest()
    n_before = len(env.json("duplicate", "list", oid)["certificates"])
    refused(env.run("duplicate", "create", oid, "--generate-key", "--out-dir", d), "file_exists")
    assert hashlib.sha256(key.read_bytes()).hexdigest() == before
    assert len(env.json("duplicate", "list", oid)["certificates"]) == n_before
    # a refused duplicate leaves no key
    d2 = env.dir("refused")
    r = env.run("duplicate", "create", oid, "--generate-key", "--out-dir", d2, "--san",
                "other.example.net")
    refused(r, "duplicate_name_not_allowed")
    assert list(d2.iterdir()) == [] and "removed the new key" in r.stderr
    # --json: the server's answer plus the files written
    d3 = env.dir("json")
    j = env.json("duplicate", "create", oid, "--generate-key", "--out-dir", d3, "--name", "web2")
    assert j["files"] == {"key": str(d3 / "web2.key"), "certificate": str(d3 / "web2.crt")}
    assert j["certificate"]["kind"] == "duplicate" and j["certificate_id"] > cid
    assert cert_matches_key(d3 / "web2.crt", d3 / "web2.key")


def test_duplicate_other_platforms_and_csr(env):
    o = env.order("multi.corp.internal", "--san", "alt.corp.internal")
    oid = o["id"]
    d = env.dir("apache")
    j = env.json("duplicate", "create", oid, "--generate-key", "--out-dir", d, "--platform",
                 "Apache")
    assert j["certificate"]["server_platform"]["id"] == 2
    unpacked = sorted(Path(p).name for p in j["files"]["unpacked"])
    assert unpacked == sorted(["CertmintCA.crt", "multi_corp_internal.crt"])
    leaf = x509.load_pem_x509_certificate((d / "multi_corp_internal.crt").read_bytes())
    assert leaf.serial_number == x509.load_pem_x509_certificate(
        j["certificate_chain"].encode()).serial_number
    assert stat.S_IMODE((d / "multi.corp.internal.key").stat().st_mode) == 0o600
    d = env.dir("iis")
    j = env.json("duplicate", "create", oid, "--generate-key", "--out-dir", d, "--platform",
                 "microsoft-iis", "--key-type", "rsa")
    assert j["files"]["certificate"] == str(d / "multi.corp.internal.p7b")
    assert (d / "multi.corp.internal.p7b").read_bytes()[:1] == b"\x30"
    # with --csr and --out-dir: the certificate is written, no key is made
    d = env.dir("csr")
    j = env.json("duplicate", "create", oid, "--csr", env.csr(), "--out-dir", d, "--name",
                 "fromcsr")
    assert sorted(p.name for p in d.iterdir()) == ["fromcsr.crt"]
    assert j["files"] == {"certificate": str(d / "fromcsr.crt")}
    assert j["certificate"]["dns_names"] == ["multi.corp.internal", "alt.corp.internal"]
    # a non-flex product keeps its names: the server's refusal comes through
    refused(env.run("duplicate", "create", oid, "--csr", env.csr(), "--cn", "alt.corp.internal",
                    "--san", "alt.corp.internal"), "duplicate_customization_not_flex")
    # --csr alone: nothing written
    till = o_end_minus(env, o)
    j = env.json("duplicate", "create", oid, "--csr", env.csr(), "--valid-till", till)
    assert "files" not in j and j["certificate_id"] > 0
    assert j["certificate"]["valid_till"].startswith(till + "T")
    refused(env.run("duplicate", "create", oid, "--csr", env.csr(), "--platform", "gopher"),
            "field_invalid")
    bad = env.tmp / "not-a-csr.txt"
    bad.write_text("hello\n")
    refused(env.run("duplicate", "create", oid, "--csr", bad), "csr_malformed")


def o_end_minus(env, o):
    """A date ten days before the end of an order's certificate (for --valid-till)."""
    end = env.srv.ok("GET", f"/certificate/{o['certificate_id']}", env.srv.admin_key)[
        "valid_till"]
    day = datetime.date.fromisoformat(end[:10]) - datetime.timedelta(days=10)
    return day.isoformat()


def test_reissue_and_renew_with_generated_keys(env):
    s = env.srv
    o = env.order("re.corp.internal", "--san", "alt2.corp.internal")
    oid = o["id"]
    d = env.dir("reissue")
    r = env.ok("reissue", oid, "--generate-key", "--out-dir", d)
    cid = int(kv(r.stdout, "certificate_id"))
    assert kv(r.stdout, "status") == "issued"
    assert cert_matches_key(d / "re.corp.internal.crt", d / "re.corp.internal.key")
    r = env.ok("reissue", "list", oid)
    assert re.search(rf"^{cid}\s+reissue\s+issued\s+re\.corp\.internal\s", r.stdout, re.M)
    assert env.json("reissue", "list", oid)["pending"] is None
    refused(env.run("reissue", "999999", "--csr", env.csr()), "order_not_found")

    refused(env.run("renew", oid, "--csr", env.csr()), "renewal_window_closed")
    env.ok("settings", "set", "renewal_window_days=365")
    try:
        d2 = env.dir("renew")
        j = env.json("renew", oid, "--generate-key", "--out-dir", d2, "--years", "2")
        new = j["id"]
        assert new != oid and j["status"] == "issued"
        old = s.ok("GET", f"/order/certificate/{oid}", s.admin_key)
        info = s.ok("GET", f"/order/certificate/{new}", s.admin_key)
        assert old["renewed_by_order_id"] == new and info["renewal_of_order_id"] == oid
        assert info["product"]["name_id"] == PRIVATE
        assert info["organization"]["id"] == env.org
        assert info["certificate"]["dns_names"] == ["re.corp.internal", "alt2.corp.internal"]
        assert info["order_validity"]["years"] == 2
        assert cert_matches_key(Path(j["files"]["certificate"]), Path(j["files"]["key"]))
        d3 = env.dir("renew2")
        r = env.run("renew", oid, "--generate-key", "--out-dir", d3)
        refused(r, "order_already_renewed")
        assert not (d3 / "re.corp.internal.key").exists()
    finally:
        env.ok("settings", "set", "renewal_window_days=90")
