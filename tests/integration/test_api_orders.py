"""The order flow over the REST API against a real `certmint serve`: DV, OV and EV orders with and
without skip_approval for each role (R-O1, R-O2), DV order DCV over real DNS (dnsmasq), CAA at
issuance, approvals and rejections, cancelling (R-O7), the certificate history, downloads in
every format, revocation by administrators and through approval (R-O6) shown in the CRL and in
OCSP (read with `openssl crl` and `openssl ocsp`), and the mail to the certificate contact
(aiosmtpd). Every issued certificate is checked row by row (certcheck) and with
`openssl verify -x509_strict -purpose sslserver`.
"""

import io
import json
import subprocess
import time
import zipfile
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from certcheck import Expect, check_certificate, verify_chain_openssl
from conftest import EV_ORG, OV_ORG, PUBLIC_URL, split_pem
from realservers import Dns, Smtp
from server import Server

V = "/services/v2"


def pem_to_der(pem: str) -> bytes:
    return split_pem(pem.encode())[0]


@pytest.fixture(scope="module")
def env(tmp_path_factory, keys):
    tmp = tmp_path_factory.mktemp("orders")
    dns = Dns(tmp, caa={"forbidden.example.net": [(0, "issue", "other-ca.example")]}).start()
    smtp = Smtp(tmp).start()
    srv = Server(tmp, conf={"dns_server": dns.addr, "smtp_url": smtp.url,
                            "caa_identities": "certmint.test"}).start()
    e = Env(srv, dns, smtp, keys, tmp)
    e.setup()
    yield e
    srv.stop()
    smtp.stop()
    dns.stop()


class Env:
    def __init__(self, srv, dns, smtp, keys, tmp):
        self.srv, self.dns, self.smtp, self.keys, self.tmp = srv, dns, smtp, keys, tmp
        self.users = {}
        self.txt = {}

    def setup(self):
        s = self.srv
        admin = s.admin_key
        # users of every role, each with a key
        for role in ("manager", "standard_user", "limited_user", "limited_user2"):
            r = s.ok("POST", "/user", admin, {"email": f"{role}@example.org",
                                              "first_name": role, "last_name": "User",
                                              "role": role.rstrip("2")}, status=201)
            k = s.ok("POST", "/key", admin, {"user_id": r["id"], "name": role}, status=201)
            self.users[role] = (r["id"], k["api_key"])
        self.users["administrator"] = (None, admin)
        # an OV and an EV organisation, vetted by the operator
        self.org_ov = s.ok("POST", "/organization", admin, OV_ORG, status=201)["id"]
        self.org_ev = s.ok("POST", "/organization", admin, EV_ORG, status=201)["id"]
        s.ok("PUT", f"/organization/{self.org_ov}/validation", s.operator_key,
             {"validations": [{"type": "ov"}]})
        s.ok("PUT", f"/organization/{self.org_ev}/validation", s.operator_key,
             {"validations": [{"type": "ov"}, {"type": "ev"}]})
        # example.com validated by dns-txt-token
        d = s.ok("POST", "/domain", admin, {"name": "example.com"}, status=201)
        self.txt["_dnsauth.example.com"] = [d["dcv_token"]["token"]]
        self.dns.set(txt=self.txt)
        r = s.ok("PUT", f"/domain/{d['id']}/dcv/validate-token", admin)
        assert r["status"] == "active"

    def key(self, role):
        return self.users[role][1]

    def csr(self, kind="p256"):
        return self.keys.csr(kind, fresh=True).read_text()

    def settings(self, **kw):
        self.srv.ok("PUT", "/account/settings", self.srv.admin_key, kw)

    def order(self, product, cn, role="administrator", sans=(), org=None, status=201, **extra):
        body = {"certificate": {"common_name": cn, "dns_names": list(sans), "csr": self.csr(
            extra.pop("kind", "p256"))}}
        if org is not None:
            body["organization"] = {"id": org}
        body.update(extra)
        r = self.srv.api("POST", f"/order/certificate/{product}", key=self.key(role),
                         json_body=body)
        assert r.status_code == status, r.text
        return r.json()

    def check_cert(self, cert_id, validation, names, org=None):
        """Downloads a certificate and checks it row by row and with openssl verify."""
        s = self.srv
        r = s.api("GET", f"/certificate/{cert_id}/download/format/pem_all", key=s.admin_key)
        assert r.status_code == 200, r.text
        ders = split_pem(r.content)
        assert len(ders) == 3
        leaf, issuing, root = ders
        d = self.tmp / f"chk-{cert_id}"
        d.mkdir(exist_ok=True)
        for name, der in (("leaf", leaf), ("int", issuing), ("root", root)):
            (d / f"{name}.pem").write_text(
                x509.load_der_x509_certificate(der).public_bytes(
                    serialization.Encoding.PEM).decode())
        v = verify_chain_openssl(d / "root.pem", d / "int.pem", d / "leaf.pem",
                                 hostname=names[0].lstrip("*."))
        assert v.returncode == 0, v.stdout + v.stderr
        check_certificate(leaf, issuing, Expect(validation=validation, names=names, org=org,
                                                public_url=PUBLIC_URL,
                                                wildcard_allowed=any(n.startswith("*.")
                                                                     for n in names)))
        return d


def test_ov_order_waits_for_approval_then_manager_approves(env):
    s = env.srv
    env.settings(skip_approval=False)
    o = env.order("ssl_plus", "www.example.com", sans=["example.com"], org=env.org_ov)
    assert o["status"] == "needs_approval"
    assert len(o["requests"]) == 1 and o["requests"][0]["status"] == "pending"
    assert "certificate_id" not in o
    info = s.ok("GET", f"/order/certificate/{o['id']}", s.admin_key)
    assert info["status"] == "needs_approval"
    assert info["certificate"]["dns_names"] == ["www.example.com", "example.com"]
    rid = o["requests"][0]["id"]
    # a standard user may not approve
    r = s.api("PUT", f"/request/{rid}/status", key=env.key("standard_user"),
              json_body={"status": "approved"})
    assert r.status_code in (403, 404), r.text
    s.ok("PUT", f"/request/{rid}/status", env.key("manager"),
         {"status": "approved", "processor_comment": "ok"})
    info = s.ok("GET", f"/order/certificate/{o['id']}", s.admin_key)
    assert info["status"] == "issued", info
    hist = s.ok("GET", f"/order/certificate/{o['id']}/certificate", s.admin_key)["certificates"]
    assert len(hist) == 1 and hist[0]["kind"] == "original" and hist[0]["status"] == "issued"
    env.check_cert(hist[0]["id"], "ov", ["www.example.com", "example.com"], org=OV_ORG)
    req = s.ok("GET", f"/request/{rid}", s.admin_key)
    assert req["status"] == "approved" and req["processor_comment"] == "ok"


def test_skip_approval_issues_at_once_for_admin_and_manager(env):
    s = env.srv
    env.settings(skip_approval=True)
    for role in ("administrator", "manager"):
        o = env.order("ssl_plus", "api.example.com", role=role, org=env.org_ov)
        assert o["status"] == "issued", o
        assert o["requests"] == []
        assert o["certificate_id"] > 0
        chain = split_pem(o["certificate_chain"].encode())
        assert len(chain) == 2
        env.check_cert(o["certificate_id"], "ov", ["api.example.com"], org=OV_ORG)


def test_skip_approval_does_not_skip_for_standard_user(env):
    s = env.srv
    env.settings(skip_approval=True)
    o = env.order("ssl_plus", "std.example.com", role="standard_user", org=env.org_ov)
    assert o["status"] == "needs_approval"
    rid = o["requests"][0]["id"]
    # the requester sees the request, cannot approve it
    assert s.ok("GET", f"/request/{rid}", env.key("standard_user"))["status"] == "pending"
    r = s.api("PUT", f"/request/{rid}/status", key=env.key("standard_user"),
              json_body={"status": "approved"})
    assert r.status_code == 403 and r.json()["errors"][0]["code"] == "forbidden"
    s.ok("PUT", f"/request/{rid}/status", s.admin_key, {"status": "approved"})
    assert s.ok("GET", f"/order/certificate/{o['id']}", s.admin_key)["status"] == "issued"


def test_rejected_request_rejects_the_order(env):
    s = env.srv
    env.settings(skip_approval=False)
    o = env.order("ssl_plus", "no.example.com", role="standard_user", org=env.org_ov)
    rid = o["requests"][0]["id"]
    s.ok("PUT", f"/request/{rid}/status", env.key("manager"),
         {"status": "rejected", "processor_comment": "not ours"})
    assert s.ok("GET", f"/order/certificate/{o['id']}", s.admin_key)["status"] == "rejected"
    r = s.api("PUT", f"/request/{rid}/status", key=s.admin_key, json_body={"status": "approved"})
    assert r.status_code == 409 and r.json()["errors"][0]["code"] == "request_state"
    assert s.ok("GET", f"/order/certificate/{o['id']}/certificate", s.admin_key)[
        "certificates"] == []


def test_limited_user_sees_only_own_orders(env):
    s = env.srv
    env.settings(skip_approval=False)
    mine = env.order("ssl_plus", "lim.example.com", role="limited_user", org=env.org_ov)
    other = env.order("ssl_plus", "lim2.example.com", role="limited_user2", org=env.org_ov)
    lst = s.ok("GET", "/order/certificate?limit=1000", env.key("limited_user"))
    ids = {o["id"] for o in lst["orders"]}
    assert mine["id"] in ids and other["id"] not in ids
    r = s.api("GET", f"/order/certificate/{other['id']}", key=env.key("limited_user"))
    assert r.status_code == 404
    assert s.ok("GET", f"/order/certificate/{mine['id']}", env.key("limited_user"))["id"] == \
        mine["id"]


def test_ev_order_needs_a_verified_contact(env):
    s = env.srv
    env.settings(skip_approval=True)
    # the administrator is not a verified contact: the EV order waits for one
    o = env.order("ssl_ev_plus", "secure.example.com", org=env.org_ev)
    assert o["status"] == "needs_approval", o
    rid = o["requests"][0]["id"]
    assert s.ok("GET", f"/request/{rid}", s.admin_key)["type"] == "ev_approval"
    # the manager is no contact: refused
    r = s.api("PUT", f"/request/{rid}/status", key=env.key("manager"),
              json_body={"status": "approved"})
    assert r.status_code == 403
    # make the standard user a verified EV approver; they approve
    uid = env.users["standard_user"][0]
    s.ok("POST", f"/organization/{env.org_ev}/contact", s.admin_key,
         {"user_id": uid, "ev_approver": True}, status=(200, 201))
    s.ok("PUT", f"/request/{rid}/status", env.key("standard_user"), {"status": "approved"})
    info = s.ok("GET", f"/order/certificate/{o['id']}", s.admin_key)
    assert info["status"] == "issued", info
    cert = s.ok("GET", f"/order/certificate/{o['id']}/certificate", s.admin_key)["certificates"][0]
    env.check_cert(cert["id"], "ev", ["secure.example.com"], org=EV_ORG)


def test_dv_order_validates_by_dns_then_issues(env):
    s = env.srv
    env.settings(skip_approval=True)
    o = env.order("ssl_dv_geotrust", "www.example.org", sans=["example.org"])
    assert o["status"] == "pending", o
    value = o["dcv_random_value"]
    info = s.ok("GET", f"/order/certificate/{o['id']}", s.admin_key)
    assert info["dcv_random_value"] == value and info["dcv_method"] == "dns-txt-token"
    # nothing published yet: the check fails with what it looked for
    r = s.api("PUT", f"/order/certificate/{o['id']}/check-dcv", key=s.admin_key)
    assert r.status_code >= 400 and r.json()["errors"][0]["code"] == "dcv_txt_not_found", r.text
    assert s.ok("GET", f"/order/certificate/{o['id']}", s.admin_key)["status"] == "pending"
    env.txt["_dnsauth.example.org"] = [value]
    env.dns.set(txt=env.txt)
    r = s.ok("PUT", f"/order/certificate/{o['id']}/check-dcv", s.admin_key)
    assert r["order_status"] == "issued" and r["dcv_status"] == "complete", r
    assert r["certificate_id"] > 0
    env.check_cert(r["certificate_id"], "dv", ["www.example.org", "example.org"])
    # DV validation is never reused: a second DV order for the same names validates again
    o2 = env.order("ssl_dv_geotrust", "www.example.org")
    assert o2["status"] == "pending" and o2["dcv_random_value"] != value


def test_caa_forbidding_refuses_the_order(env):
    s = env.srv
    before = s.snapshot()
    r = s.api("POST", "/order/certificate/ssl_dv_geotrust", key=s.admin_key,
              json_body={"certificate": {"common_name": "forbidden.example.net",
                                         "csr": env.csr()}})
    assert r.status_code in (400, 403, 409, 422), r.text
    assert r.json()["errors"][0]["code"] == "caa_forbidden"
    assert "other-ca.example" in r.json()["errors"][0]["message"]
    after = s.snapshot()
    assert before["orders"] == after["orders"] and before["certificates"] == after["certificates"]


def test_cancel_pending_and_not_issued(env):
    s = env.srv
    env.settings(skip_approval=False)
    o = env.order("ssl_plus", "cancel.example.com", role="standard_user", org=env.org_ov)
    s.ok("PUT", f"/order/certificate/{o['id']}/status", env.key("standard_user"),
         {"status": "canceled", "note": "changed my mind"}, status=204)
    info = s.ok("GET", f"/order/certificate/{o['id']}", s.admin_key)
    assert info["status"] == "canceled"
    assert s.ok("GET", f"/request/{o['requests'][0]['id']}", s.admin_key)["status"] == "rejected"
    env.settings(skip_approval=True)
    done = env.order("ssl_plus", "keep.example.com", org=env.org_ov)
    r = s.api("PUT", f"/order/certificate/{done['id']}/status", key=s.admin_key,
              json_body={"status": "canceled"})
    assert r.status_code == 409 and r.json()["errors"][0]["code"] == "order_state"


def test_downloads_in_every_format(env):
    s = env.srv
    env.settings(skip_approval=True)
    o = env.order("ssl_plus", "dl.example.com", org=env.org_ov)
    cid = o["certificate_id"]
    leaf = pem_to_der(o["certificate_chain"])
    expect = {"pem_all": 3, "pem_noroot": 2, "pem_nointermediate": 2}
    for fmt, n in expect.items():
        r = s.api("GET", f"/certificate/{cid}/download/format/{fmt}", key=s.admin_key)
        assert r.status_code == 200
        ders = split_pem(r.content)
        assert len(ders) == n and ders[0] == leaf
    r = s.api("GET", f"/certificate/{cid}/download/format/der", key=s.admin_key)
    assert r.status_code == 200 and r.content == leaf
    r = s.api("GET", f"/certificate/{cid}/download/format/p7b", key=s.admin_key)
    assert r.status_code == 200 and r.content[:1] == b"\x30"
    for fmt in ("default", "default_pem", "apache"):
        r = s.api("GET", f"/certificate/{cid}/download/format/{fmt}", key=s.admin_key)
        assert r.status_code == 200
        z = zipfile.ZipFile(io.BytesIO(r.content))
        assert len(z.namelist()) >= 2
        assert "attachment" in r.headers.get("Content-Disposition", "")
    r = s.api("GET", f"/certificate/{cid}/download/platform", key=s.admin_key)
    assert r.status_code == 200 and split_pem(r.content)[0] == leaf
    for bad in ("pem", "..%2F..%2Fetc%2Fpasswd", "pem_all%00", "PEM_ALL", "x" * 300):
        r = s.api("GET", f"/certificate/{cid}/download/format/{bad}", key=s.admin_key)
        assert 400 <= r.status_code < 500, (bad, r.status_code)
        assert "errors" in r.json()


def openssl_crl_serials(der: bytes, tmp: Path):
    p = tmp / "x.crl"
    p.write_bytes(der)
    out = subprocess.run(["openssl", "crl", "-inform", "DER", "-in", str(p), "-noout", "-text"],
                         capture_output=True, text=True, check=True).stdout
    return out


def ocsp_status(env, cert_id, tmp: Path):
    s = env.srv
    r = s.api("GET", f"/certificate/{cert_id}/download/format/pem_all", key=s.admin_key)
    leaf, issuing, root = split_pem(r.content)
    paths = {}
    for name, der in (("leaf", leaf), ("int", issuing), ("root", root)):
        p = tmp / f"ocsp-{cert_id}-{name}.pem"
        p.write_text(x509.load_der_x509_certificate(der).public_bytes(
            serialization.Encoding.PEM).decode())
        paths[name] = p
    out = subprocess.run(["openssl", "ocsp", "-issuer", str(paths["int"]), "-cert",
                          str(paths["leaf"]), "-url", s.base + "/ocsp", "-CAfile",
                          str(paths["root"]), "-resp_text"], capture_output=True, text=True,
                         timeout=60)
    return out


def test_revocation_by_admin_shows_in_crl_and_ocsp(env):
    s = env.srv
    env.settings(skip_approval=True)
    a = env.order("ssl_plus", "rev.example.com", org=env.org_ov)
    b = env.order("ssl_plus", "keep2.example.com", org=env.org_ov)
    out = ocsp_status(env, a["certificate_id"], env.tmp)
    assert "good" in out.stdout and "Response verify OK" in out.stderr, out.stdout + out.stderr
    r = s.ok("PUT", f"/certificate/{a['certificate_id']}/revoke", s.admin_key,
             {"revocation_reason": "key_compromise", "comments": "lost"})
    assert r["status"] == "revoked"
    cert = s.ok("GET", f"/certificate/{a['certificate_id']}", s.admin_key)
    assert cert["status"] == "revoked" and cert["revocation_reason"] == "key_compromise"
    out = ocsp_status(env, a["certificate_id"], env.tmp)
    assert "revoked" in out.stdout and "keyCompromise" in out.stdout, out.stdout + out.stderr
    assert "good" in ocsp_status(env, b["certificate_id"], env.tmp).stdout
    # the CRL is re-signed within a minute and lists the serial with its reason
    serial = cert["serial_number"].upper()
    deadline = time.time() + 70
    text = ""
    while time.time() < deadline:
        r = requests.get(s.base + f"/crl/{cert['ca']}.crl", timeout=10)
        assert r.status_code == 200
        text = openssl_crl_serials(r.content, env.tmp)
        if serial in text.replace(":", "").upper():
            break
        time.sleep(1)
    assert serial in text.replace(":", "").upper(), text
    assert "Key Compromise" in text
    assert s.ok("GET", f"/order/certificate/{a['id']}", s.admin_key)["status"] == "revoked"


def test_revocation_by_standard_user_needs_admin_approval(env):
    s = env.srv
    env.settings(skip_approval=True)
    o = env.order("ssl_plus", "rev2.example.com", org=env.org_ov)
    r = s.api("PUT", f"/order/certificate/{o['id']}/revoke", key=env.key("standard_user"),
              json_body={"revocation_reason": "superseded"})
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    assert s.ok("GET", f"/certificate/{o['certificate_id']}", s.admin_key)["status"] == "issued"
    # a manager may not approve revocations
    r = s.api("PUT", f"/request/{rid}/status", key=env.key("manager"),
              json_body={"status": "approved"})
    assert r.status_code == 403
    s.ok("PUT", f"/request/{rid}/status", s.admin_key, {"status": "approved"})
    assert s.ok("GET", f"/certificate/{o['certificate_id']}", s.admin_key)["status"] == "revoked"


def test_ocsp_unknown_for_a_serial_never_issued(env, tmp_path):
    s = env.srv
    env.settings(skip_approval=True)
    o = env.order("ssl_plus", "ocsp.example.com", org=env.org_ov)
    r = s.api("GET", f"/certificate/{o['certificate_id']}/download/format/pem_all",
              key=s.admin_key)
    _, issuing, root = split_pem(r.content)
    ip, rp = tmp_path / "int.pem", tmp_path / "root.pem"
    for p, der in ((ip, issuing), (rp, root)):
        p.write_text(x509.load_der_x509_certificate(der).public_bytes(
            serialization.Encoding.PEM).decode())
    out = subprocess.run(["openssl", "ocsp", "-issuer", str(ip), "-serial", "0x1234567890abcdef",
                          "-url", s.base + "/ocsp", "-CAfile", str(rp), "-resp_text"],
                         capture_output=True, text=True, timeout=60)
    assert "unknown" in out.stdout and "good" not in out.stdout.split("Cert Status")[-1], \
        out.stdout


def test_issued_mail_reaches_the_contact_with_the_chain(env):
    s = env.srv
    env.settings(skip_approval=True)
    o = env.order("ssl_plus", "mail.example.com", role="manager", org=env.org_ov)
    leaf = pem_to_der(o["certificate_chain"])
    deadline = time.time() + 30
    found = None
    while time.time() < deadline and found is None:
        for m in env.smtp.messages():
            if m["To"] == "manager@example.org" and f"order {o['id']}" in m["Subject"]:
                found = m
        time.sleep(0.3)
    assert found is not None, "no mail for the issued certificate"
    body = found.get_body(preferencelist=("plain",)).get_content()
    assert str(o["certificate_id"]) in body and "mail.example.com" in body
    atts = [p for p in found.iter_attachments()]
    assert len(atts) == 1
    assert split_pem(atts[0].get_content() if isinstance(atts[0].get_content(), bytes)
                     else atts[0].get_content().encode())[0] == leaf


def test_cross_account_gets_404(env):
    s = env.srv
    env.settings(skip_approval=True)
    o = env.order("ssl_plus", "xacct.example.com", org=env.org_ov)
    env.settings(skip_approval=False)
    rid = env.order("ssl_plus", "xacct2.example.com", role="standard_user",
                    org=env.org_ov)["requests"][0]["id"]
    env.settings(skip_approval=True)
    acct = s.ok("POST", "/account", s.operator_key,
                {"name": "Other", "admin": {"email": "b@example.net", "first_name": "B",
                                            "last_name": "Admin"}}, status=201)
    kb = acct["admin_api_key"]
    before = s.snapshot()
    cid = o["certificate_id"]
    for method, path, body in [
            ("GET", f"/order/certificate/{o['id']}", None),
            ("GET", f"/order/certificate/{o['id']}/certificate", None),
            ("PUT", f"/order/certificate/{o['id']}/status", {"status": "canceled"}),
            ("PUT", f"/order/certificate/{o['id']}/revoke", {}),
            ("PUT", f"/order/certificate/{o['id']}/check-dcv", None),
            ("PUT", f"/order/certificate/{o['id']}/dcv-method", {"dcv_method": "http-token"}),
            ("GET", f"/certificate/{cid}", None),
            ("GET", f"/certificate/{cid}/download/format/pem_all", None),
            ("GET", f"/certificate/{cid}/download/platform", None),
            ("PUT", f"/certificate/{cid}/revoke", {}),
            ("GET", f"/request/{rid}", None),
            ("PUT", f"/request/{rid}/status", {"status": "approved"}),
    ]:
        r = s.api(method, path, key=kb, json_body=body)
        assert r.status_code == 404, (method, path, r.status_code, r.text)
    lst = s.ok("GET", "/order/certificate", kb)
    assert lst["orders"] == [] and lst["page"]["total"] == 0
    assert s.ok("GET", "/request", kb)["requests"] == []
    # the other account's organisation cannot be used either
    r = s.api("POST", "/order/certificate/ssl_plus", key=kb, json_body={
        "certificate": {"common_name": "x.example.com", "csr": env.csr()},
        "organization": {"id": env.org_ov}})
    assert r.status_code == 404, r.text
    after = s.snapshot()
    for t in ("orders", "certificates", "requests", "order_names"):
        assert before.get(t) == after.get(t), t


def test_list_paging_sorting_filters(env):
    s = env.srv
    lst = s.ok("GET", "/order/certificate?limit=2&offset=0&sort=-id", s.admin_key)
    assert len(lst["orders"]) == 2 and lst["page"]["limit"] == 2
    assert lst["orders"][0]["id"] > lst["orders"][1]["id"]
    total = lst["page"]["total"]
    assert total >= 5
    issued = s.ok("GET", "/order/certificate?filters[status]=issued&limit=1000", s.admin_key)
    assert issued["orders"] and all(o["status"] == "issued" for o in issued["orders"])
    for q in ("limit=0", "limit=1001", "offset=-1", "sort=password", "filters[secret]=1",
              "limit=abc", "sort=id;DROP TABLE orders"):
        r = s.api("GET", f"/order/certificate?{q}", key=s.admin_key)
        assert r.status_code == 400, (q, r.text)
        assert r.json()["errors"][0]["code"] == "field_invalid"
    r = s.api("GET", "/order/certificate?filters[common_name]=x' OR '1'='1", key=s.admin_key)
    assert r.status_code == 200 and r.json()["orders"] == []


def test_key_revoked_for_compromise_is_never_certified_again(env):
    s = env.srv
    env.settings(skip_approval=True)
    csr = env.csr()
    body = {"certificate": {"common_name": "kc.example.com", "csr": csr},
            "organization": {"id": env.org_ov}}
    o = s.ok("POST", "/order/certificate/ssl_plus", s.admin_key, body, status=201)
    assert o["status"] == "issued"
    # revoked for another reason, the key may still be used
    o2 = s.ok("POST", "/order/certificate/ssl_plus", s.admin_key, body, status=201)
    s.ok("PUT", f"/certificate/{o2['certificate_id']}/revoke", s.admin_key,
         {"revocation_reason": "superseded"})
    assert s.ok("POST", "/order/certificate/ssl_plus", s.admin_key, body,
                status=201)["status"] == "issued"
    s.ok("PUT", f"/certificate/{o['certificate_id']}/revoke", s.admin_key,
         {"revocation_reason": "key_compromise"})
    before = s.snapshot()
    r = s.api("POST", "/order/certificate/ssl_plus", key=s.admin_key, json_body=body)
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "key_compromised", r.text
    assert s.snapshot() == before


def test_ev_contact_lists_the_approvals_waiting_for_them(env):
    s = env.srv
    env.settings(skip_approval=True)
    uid = env.users["limited_user2"][0]
    s.ok("POST", f"/organization/{env.org_ev}/contact", s.admin_key,
         {"user_id": uid, "ev_approver": True}, status=(200, 201))
    o = env.order("ssl_ev_plus", "evlist.example.com", org=env.org_ev)
    rid = o["requests"][0]["id"]
    mine = s.ok("GET", "/request?limit=1000", env.key("limited_user2"))["requests"]
    assert rid in [r["id"] for r in mine]
    assert all(r["type"] == "ev_approval" or r["requester_id"] == uid for r in mine)
    # a limited user who is no contact does not see it
    other = s.ok("GET", "/request?limit=1000", env.key("limited_user"))["requests"]
    assert rid not in [r["id"] for r in other]


def test_pending_validation_is_rechecked_without_being_asked(tmp_path, keys):
    """The DCV re-check job: a DV order issues once its TXT record appears, and a domain becomes
    active once its token is published, with no check-dcv or validate-token call."""
    with Dns(tmp_path) as dns:
        srv = Server(tmp_path, conf={"dns_server": dns.addr, "dcv_recheck_interval": 1}).start()
        try:
            srv.ok("PUT", "/account/settings", srv.admin_key, {"skip_approval": True})
            csr = keys.csr("p256", fresh=True).read_text()
            o = srv.ok("POST", "/order/certificate/ssl_dv_geotrust", srv.admin_key,
                       {"certificate": {"common_name": "auto.example.net", "csr": csr}},
                       status=201)
            d = srv.ok("POST", "/domain", srv.admin_key, {"name": "example.org"}, status=201)
            time.sleep(2.5)  # re-checks that find nothing change nothing
            assert srv.ok("GET", f"/order/certificate/{o['id']}", srv.admin_key)[
                "status"] == "pending"
            dns.set(txt={"_dnsauth.example.net": [o["dcv_random_value"]],
                         "_dnsauth.example.org": [d["dcv_token"]["token"]]})
            deadline = time.time() + 30
            info = dom = None
            while time.time() < deadline:
                info = srv.ok("GET", f"/order/certificate/{o['id']}", srv.admin_key)
                dom = srv.ok("GET", f"/domain/{d['id']}", srv.admin_key)
                if info["status"] == "issued" and dom["status"] == "active":
                    break
                time.sleep(0.5)
            assert info["status"] == "issued", info
            assert dom["status"] == "active", dom
        finally:
            srv.stop()


def test_dv_order_validates_by_email(env):
    """R-O3 email DCV on a DV order: the code goes to the five administrative addresses of the
    order's registrable domain (never into the API), confirming it validates every name and
    issues; a wrong or spent code changes nothing."""
    import re as _re
    from realservers import text_of
    s = env.srv
    env.settings(skip_approval=True)
    before_mails = len(env.smtp.messages())
    o = env.order("ssl_dv_geotrust", "shop.example.net", sans=["example.net"],
                  dcv_method="email")
    assert o["status"] == "pending" and "dcv_random_value" not in o, o
    info = s.ok("GET", f"/order/certificate/{o['id']}", s.admin_key)
    assert info["dcv_method"] == "email" and "dcv_random_value" not in info
    r = s.api("PUT", f"/order/certificate/{o['id']}/check-dcv", key=s.admin_key)
    assert r.status_code == 409 and r.json()["errors"][0]["code"] == "order_state"
    deadline = time.time() + 30
    mails = []
    while time.time() < deadline:
        mails = [m for m in env.smtp.messages()[before_mails:]
                 if m["To"].endswith("@example.net")]
        if len(mails) >= 5:
            break
        time.sleep(0.3)
    assert sorted(m["To"] for m in mails) == sorted(
        f"{l}@example.net" for l in ("admin", "administrator", "webmaster", "hostmaster",
                                     "postmaster"))
    code = _re.search(r"\b([0-9a-f]{32})\b", text_of(mails[0])).group(1)
    assert code not in json.dumps(info)
    before = s.snapshot()
    r = s.api("POST", "/dcv/email/confirm", json_body={"code": "0" * 32})
    assert r.status_code == 404 and r.json()["errors"][0]["code"] == "dcv_code_invalid"
    assert s.snapshot() == before
    r = s.api("POST", "/dcv/email/confirm", json_body={"code": code})
    assert r.status_code == 200 and r.json()["order_id"] == o["id"], r.text
    info = s.ok("GET", f"/order/certificate/{o['id']}", s.admin_key)
    assert info["status"] == "issued", info
    assert all(v["status"] == "approved" for v in info["dns_name_validations"])
    r = s.api("POST", "/dcv/email/confirm", json_body={"code": code})
    assert r.status_code == 404
    # one code, one registrable domain: names under two are refused, nothing written
    before = s.snapshot()
    r = s.api("POST", "/order/certificate/ssl_dv_geotrust", key=s.admin_key, json_body={
        "certificate": {"common_name": "a.example.net", "dns_names": ["b.example.org"],
                        "csr": env.csr()}, "dcv_method": "email"})
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "field_invalid", r.text
    assert s.snapshot() == before
