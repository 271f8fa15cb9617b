"""Shared by the lifecycle tests (test_duplicates.py, test_reissue_renew.py): an account on a
real `certmint serve` with users of every role, an OV and an EV organisation vetted by the
operator, example.com and example.net validated over real DNS (dnsmasq), skip_approval and
duplicates on; helpers to order, duplicate, refuse (asserting an unchanged store), read mail, and
check certificates row by row (certcheck) and with `openssl verify -x509_strict -purpose
sslserver`."""

import sqlite3
import subprocess
import time

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from certcheck import Expect, check_certificate, verify_chain_openssl
from conftest import EV_ORG, OV_ORG, PUBLIC_URL, split_pem


class Env:
    def __init__(self, srv, dns, smtp, keys, tmp):
        self.srv, self.dns, self.smtp, self.keys, self.tmp = srv, dns, smtp, keys, tmp
        self.users = {}
        self.txt = {}
        self.checked = set()

    def setup(self):
        s = self.srv
        admin = s.admin_key
        for role in ("manager", "standard_user", "limited_user"):
            r = s.ok("POST", "/user", admin, {"email": f"{role}@example.org",
                                              "first_name": role, "last_name": "User",
                                              "role": role}, status=201)
            k = s.ok("POST", "/key", admin, {"user_id": r["id"], "name": role}, status=201)
            self.users[role] = (r["id"], k["api_key"])
        me = s.ok("GET", "/user?filters[role]=administrator", admin)["users"][0]
        self.users["administrator"] = (me["id"], admin)
        self.admin_email = me["email"]
        self.org_ov = s.ok("POST", "/organization", admin, OV_ORG, status=201)["id"]
        self.org_ev = s.ok("POST", "/organization", admin, EV_ORG, status=201)["id"]
        s.ok("PUT", f"/organization/{self.org_ov}/validation", s.operator_key,
             {"validations": [{"type": "ov"}]})
        s.ok("PUT", f"/organization/{self.org_ev}/validation", s.operator_key,
             {"validations": [{"type": "ov"}, {"type": "ev"}]})
        for name in ("example.com", "example.net"):
            d = s.ok("POST", "/domain", admin, {"name": name}, status=201)
            self.txt[f"_dnsauth.{name}"] = [d["dcv_token"]["token"]]
            self.dns.set(txt=self.txt)
            assert s.ok("PUT", f"/domain/{d['id']}/dcv/validate-token", admin)["status"] == \
                "active"
        self.settings(skip_approval=True, allow_duplicates=True)

    def key(self, role):
        return self.users[role][1]

    def csr(self, kind="p256"):
        return self.keys.csr(kind, fresh=True).read_text()

    def settings(self, **kw):
        self.srv.ok("PUT", "/account/settings", self.srv.admin_key, kw)

    def order(self, product, cn, sans=(), org=None, role="administrator", kind="p256", **extra):
        body = {"certificate": {"common_name": cn, "dns_names": list(sans),
                                "csr": self.csr(kind)}}
        if org is not None:
            body["organization"] = {"id": org}
        body.update(extra)
        r = self.srv.api("POST", f"/order/certificate/{product}", key=self.key(role),
                         json_body=body)
        assert r.status_code == 201, r.text
        return r.json()

    def issued_order(self, product="ssl_basic", cn="www.example.com", sans=("example.com",),
                     org="ov", **kw):
        o = self.order(product, cn, sans=sans,
                       org={"ov": self.org_ov, "ev": self.org_ev, None: None}[org], **kw)
        assert o["status"] == "issued", o
        return o

    def dup(self, order_id, role="administrator", status=201, csr=None, **cert):
        cert.setdefault("csr", csr or self.csr())
        r = self.srv.api("POST", f"/order/certificate/{order_id}/duplicate", key=self.key(role),
                         json_body={"certificate": cert})
        assert r.status_code == status, r.text
        return r.json()

    def refused(self, order_id, status, code, role="administrator", **cert):
        """A duplicate that must be refused with `code` and write nothing."""
        before = self.srv.snapshot()
        j = self.dup(order_id, role=role, status=status, **cert)
        assert [e["code"] for e in j["errors"]] == [code], j
        assert self.srv.snapshot() == before
        return j["errors"][0]["message"]

    def history(self, order_id):
        return self.srv.ok("GET", f"/order/certificate/{order_id}/certificate",
                           self.srv.admin_key)["certificates"]

    def check_cert(self, cert_id, validation, names, org=None, hash=None):
        """Downloads a certificate and checks it row by row and with openssl verify."""
        s = self.srv
        r = s.api("GET", f"/certificate/{cert_id}/download/format/pem_all", key=s.admin_key)
        assert r.status_code == 200, r.text
        leaf, issuing, root = split_pem(r.content)
        d = self.tmp / f"chk-{cert_id}"
        d.mkdir(exist_ok=True)
        for name, der in (("leaf", leaf), ("int", issuing), ("root", root)):
            (d / f"{name}.pem").write_text(
                x509.load_der_x509_certificate(der).public_bytes(
                    serialization.Encoding.PEM).decode())
        v = verify_chain_openssl(d / "root.pem", d / "int.pem", d / "leaf.pem",
                                 hostname=host_of(names[0]))
        assert v.returncode == 0, v.stdout + v.stderr
        check_certificate(leaf, issuing, Expect(validation=validation, names=names, org=org,
                                                public_url=PUBLIC_URL, hash=hash,
                                                wildcard_allowed=any(n.startswith("*.")
                                                                     for n in names)))
        self.checked.add(cert_id)
        return x509.load_der_x509_certificate(leaf)


def wait_mail(smtp, pred, timeout=30):
    """The received mails matching pred, once there is at least one (or after timeout)."""
    deadline = time.time() + timeout
    while True:
        got = [m for m in smtp.messages() if pred(m)]
        if got or time.time() > deadline:
            time.sleep(0.3)  # a second one would be a bug: give it time to show
            return [m for m in smtp.messages() if pred(m)]
        time.sleep(0.1)


def host_of(name: str) -> str:
    """A host name the certificate name covers (a wildcard covers one label)."""
    return "host." + name[2:] if name.startswith("*.") else name


def leaf_of(chain_pem: str) -> x509.Certificate:
    return x509.load_der_x509_certificate(split_pem(chain_pem.encode())[0])


def san_names(cert):
    return cert.extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)


def spki(cert):
    return cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)


def set_db(srv, sql, *args):
    """Changes the store behind the server's back (to age a validation as time would)."""
    con = sqlite3.connect(srv.db_path(), timeout=30)
    con.execute(sql, args)
    con.commit()
    con.close()


def verify_all(env):
    """Every certificate in the server's store not checked yet: `openssl verify -x509_strict
    -purpose sslserver` with its host name, at its own notBefore (some were issued with the
    server's clock moved), and the profile rows of certcheck. Returns how many certificates the
    store holds."""
    s = env.srv
    rows = s.query("SELECT c.id, o.product, c.names, c.signature_hash, c.not_before, "
                   "c.not_after FROM certificates c JOIN orders o ON o.id = c.order_id")
    for cid, product, names, hash_, nb, na in rows:
        if cid in env.checked:
            continue
        val = "ev" if "_ev_" in product else ("dv" if "_dv_" in product else "ov")
        r = s.api("GET", f"/certificate/{cid}/download/format/pem_all", key=s.admin_key)
        leaf, issuing, root = split_pem(r.content)
        d = env.tmp / f"sweep-{cid}"
        d.mkdir(exist_ok=True)
        for name, der in (("leaf", leaf), ("int", issuing), ("root", root)):
            (d / f"{name}.pem").write_text(x509.load_der_x509_certificate(der).public_bytes(
                serialization.Encoding.PEM).decode())
        cmd = ["openssl", "verify", "-x509_strict", "-purpose", "sslserver", "-CAfile",
               str(d / "root.pem"), "-untrusted", str(d / "int.pem"), "-verify_hostname",
               host_of(names.split(",")[0]), "-attime", str(nb + 60)]
        v = subprocess.run(cmd + [str(d / "leaf.pem")], capture_output=True, text=True)
        assert v.returncode == 0, (cid, v.stdout + v.stderr)
        days = (na - nb + 1 + 86399) // 86400
        check_certificate(leaf, issuing, Expect(validation=val, names=names.split(","),
                                                hash=hash_, days=days, public_url=PUBLIC_URL,
                                                issued_at=nb, wildcard_allowed="*" in names))
        env.checked.add(cid)
    return len(rows)
