"""Duplicate certificates over the REST API against a real `certmint serve` (DESIGN.md R-D1 …
R-D12): each rule positive and negative, with the refusal's code and an unchanged store;
names on flex, fixed and wildcard products; validity, hash and platform; 50 duplicates of one
order requested at once; the mail to the certificate contact (aiosmtpd) with the chain attached.
Every certificate issued here passes the profile checks (certcheck) and
`openssl verify -x509_strict -purpose sslserver`. R-D13 … R-D15 are service functions for
automation: tests/unit/test_lifecycle.c calls them directly.
"""

import concurrent.futures
import datetime
import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from certcheck import Expect, check_certificate, verify_chain_openssl
from conftest import EV_ORG, OV_ORG, PUBLIC_URL, split_pem
from lifecycle_env import Env, leaf_of, san_names, set_db, spki, verify_all, wait_mail
from realservers import Dns, Smtp, text_of
from server import Server


@pytest.fixture(scope="module")
def env(tmp_path_factory, keys):
    tmp = tmp_path_factory.mktemp("dup")
    dns = Dns(tmp).start()
    smtp = Smtp(tmp).start()
    srv = Server(tmp, conf={"dns_server": dns.addr, "smtp_url": smtp.url,
                            "caa_identities": "certmint.test"}).start()
    e = Env(srv, dns, smtp, keys, tmp)
    e.setup()
    yield e
    srv.stop()
    smtp.stop()
    dns.stop()


# ---- R-D1: DV orders have no duplicates ----

def test_rd1_duplicate_refused_for_dv_order(env):
    s = env.srv
    o = env.order("ssl_dv_geotrust", "dv.example.com")
    value = o["dcv_random_value"]
    env.txt["_dnsauth.example.com"].append(value)
    env.dns.set(txt=env.txt)
    r = s.ok("PUT", f"/order/certificate/{o['id']}/check-dcv", s.admin_key)
    assert r["order_status"] == "issued", r
    msg = env.refused(o["id"], 409, "duplicate_not_allowed_for_dv")
    assert "reissue" in msg


def test_rd1_ov_order_has_duplicates(env):
    o = env.issued_order()
    d = env.dup(o["id"])
    assert d["id"] == o["id"] and d["certificate_id"] != o["certificate_id"]
    env.check_cert(d["certificate_id"], "ov", ["www.example.com", "example.com"],
                   org=OV_ORG)


# ---- R-D2: the account setting ----

def test_rd2_duplicates_disabled_by_setting_then_enabled(env):
    o = env.issued_order()
    env.settings(allow_duplicates=False)
    try:
        msg = env.refused(o["id"], 403, "duplicates_disabled")
        assert "allow_duplicates" in msg
        # only administrators change it
        r = env.srv.api("PUT", "/account/settings", key=env.key("manager"),
                        json_body={"allow_duplicates": True})
        assert r.status_code == 403
    finally:
        env.settings(allow_duplicates=True)
    assert env.dup(o["id"])["certificate_id"] > 0


# ---- R-D3: the order must be issued ----

def test_rd3_pending_order_has_no_duplicates(env):
    env.settings(skip_approval=False)
    try:
        o = env.order("ssl_basic", "www.example.com", org=env.org_ov)
    finally:
        env.settings(skip_approval=True)
    assert o["status"] == "needs_approval"
    msg = env.refused(o["id"], 409, "duplicate_order_state")
    assert "needs_approval" in msg


def test_rd3_revoked_and_cancelled_orders_have_no_duplicates(env):
    s = env.srv
    o = env.issued_order()
    s.ok("PUT", f"/order/certificate/{o['id']}/revoke", s.admin_key,
         {"revocation_reason": "cessation_of_operation"})
    env.refused(o["id"], 409, "duplicate_order_state")
    env.settings(skip_approval=False)
    try:
        p = env.order("ssl_basic", "www.example.com", org=env.org_ov)
    finally:
        env.settings(skip_approval=True)
    s.ok("PUT", f"/order/certificate/{p['id']}/status", s.admin_key, {"status": "canceled"})
    assert "canceled" in env.refused(p["id"], 409, "duplicate_order_state")


def test_rd3_reissue_pending_order_has_no_duplicates(env):
    s = env.srv
    o = env.issued_order()
    env.settings(skip_approval=False)
    try:
        r = s.ok("POST", f"/order/certificate/{o['id']}/reissue", s.admin_key,
                 {"certificate": {"csr": env.csr()}}, status=201)
    finally:
        env.settings(skip_approval=True)
    assert r["status"] == "reissue_pending"
    assert "reissue" in env.refused(o["id"], 409, "duplicate_order_state")
    s.ok("PUT", f"/order/certificate/{o['id']}/status", s.admin_key, {"status": "canceled"})
    assert env.dup(o["id"])["certificate_id"] > 0


# ---- R-D4: validation must be current (a domain whose DCV was reset) ----

def test_rd4_stale_domain_validation_refuses_and_says_reissue(env):
    s = env.srv
    d = s.ok("POST", "/domain", s.admin_key, {"name": "example.org"}, status=201)
    env.txt["_dnsauth.example.org"] = [d["dcv_token"]["token"]]
    env.dns.set(txt=env.txt)
    s.ok("PUT", f"/domain/{d['id']}/dcv/validate-token", s.admin_key)
    o = env.issued_order(cn="www.example.org", sans=())
    assert env.dup(o["id"])["certificate_id"] > 0
    # the domain's validation ends (as 199 days later would)
    assert s.query("SELECT valid_until FROM domains WHERE id = ?", d["id"])[0][0] > 0
    set_db(s, "UPDATE domains SET valid_until = 1 WHERE id = ?", d["id"])
    msg = env.refused(o["id"], 409, "duplicate_validation_stale")
    assert "www.example.org" in msg and "reissue" in msg


def test_rd4_stale_organisation_refuses(env):
    s = env.srv
    org = s.ok("POST", "/organization", s.admin_key, dict(OV_ORG, name="Stale Org Ltd"),
               status=201)["id"]
    s.ok("PUT", f"/organization/{org}/validation", s.operator_key,
         {"validations": [{"type": "ov"}]})
    o = env.order("ssl_basic", "www.example.com", org=org)
    assert o["status"] == "issued"
    set_db(s, "UPDATE org_validations SET valid_until = 1 WHERE org_id = ?", org)
    msg = env.refused(o["id"], 409, "duplicate_validation_stale")
    assert "organisation" in msg


# ---- R-D5: EV needs a verified contact ----

def test_rd5_ev_duplicate_needs_verified_contact(env):
    s = env.srv
    uid, mkey = env.users["manager"]
    aid = env.users["administrator"][0]
    s.ok("POST", f"/organization/{env.org_ev}/contact", s.admin_key,
         {"user_id": aid, "ev_approver": True}, status=201)
    o = env.issued_order(product="ssl_ev_basic", org="ev")
    msg = env.refused(o["id"], 403, "duplicate_ev_contact_required", role="manager")
    assert "verified contact" in msg and "reissue" in msg
    s.ok("POST", f"/organization/{env.org_ev}/contact", s.admin_key,
         {"user_id": uid, "ev_approver": True}, status=201)
    d = env.dup(o["id"], role="manager")
    env.check_cert(d["certificate_id"], "ev", ["www.example.com", "example.com"], org=EV_ORG)


# ---- R-D6: a new key ----

def test_rd6_key_of_the_order_is_refused(env):
    s = env.srv
    csr = env.keys.csr("p256").read_text()  # the shared key
    body = {"certificate": {"common_name": "www.example.com", "csr": csr},
            "organization": {"id": env.org_ov}}
    o = s.ok("POST", "/order/certificate/ssl_basic", s.admin_key, body, status=201)
    assert o["status"] == "issued"
    again = env.keys.csr("p256").read_text()  # another CSR, same key
    msg = env.refused(o["id"], 422, "duplicate_key_reused", csr=again)
    assert "new key" in msg
    # a duplicate's key is refused for the next duplicate too
    fresh = env.csr()
    env.dup(o["id"], csr=fresh)
    env.refused(o["id"], 422, "duplicate_key_reused", csr=fresh)


def test_rd6_key_of_a_revoked_certificate_of_the_account_is_refused(env):
    s = env.srv
    csr = env.csr()
    a = s.ok("POST", "/order/certificate/ssl_basic", s.admin_key,
             {"certificate": {"common_name": "www.example.com", "csr": csr},
              "organization": {"id": env.org_ov}}, status=201)
    s.ok("PUT", f"/certificate/{a['certificate_id']}/revoke", s.admin_key,
         {"revocation_reason": "superseded"})
    b = env.issued_order()
    env.refused(b["id"], 422, "duplicate_key_reused", csr=csr)


def test_rd6_csr_is_required_and_its_names_are_ignored(env):
    o = env.issued_order()
    before = env.srv.snapshot()
    r = env.srv.api("POST", f"/order/certificate/{o['id']}/duplicate", key=env.srv.admin_key,
                    json_body={"certificate": {}})
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "field_required"
    assert env.srv.snapshot() == before
    csr = env.keys.csr("p256", fresh=True, subj="/CN=evil.example.net",
                       extra=["-addext", "subjectAltName=DNS:evil.example.net"]).read_text()
    d = env.dup(o["id"], csr=csr)
    assert san_names(leaf_of(d["certificate_chain"])) == ["www.example.com", "example.com"]


# ---- R-D7: names ----

def test_rd7_default_names_are_the_current_certificates(env):
    o = env.issued_order(sans=("example.com", "api.example.com"))
    d = env.dup(o["id"])
    assert san_names(leaf_of(d["certificate_chain"])) == \
        ["www.example.com", "example.com", "api.example.com"]
    assert d["certificate"]["common_name"] == "www.example.com"


def test_rd7_flex_removes_reorders_and_moves_a_san_into_the_cn(env):
    o = env.issued_order(product="ssl_securesite_flex", sans=("example.com", "api.example.com"))
    d = env.dup(o["id"], common_name="api.example.com", dns_names=["www.example.com"])
    cert = env.check_cert(d["certificate_id"], "ov", ["api.example.com", "www.example.com"],
                          org=OV_ORG)
    assert san_names(cert) == ["api.example.com", "www.example.com"]
    cn = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
    assert cn == "api.example.com"


def test_rd7_flex_cannot_add_a_name(env):
    o = env.issued_order(product="ssl_basic")
    msg = env.refused(o["id"], 422, "duplicate_name_not_allowed",
                      common_name="www.example.com", dns_names=["mail.example.com"])
    assert "mail.example.com" in msg and "reissue" in msg


def test_rd7_fixed_product_keeps_every_name(env):
    o = env.issued_order(product="ssl_multi_domain", sans=("example.com", "api.example.com"))
    msg = env.refused(o["id"], 422, "duplicate_customization_not_flex",
                      common_name="www.example.com", dns_names=["example.com"])
    assert "flex" in msg
    env.refused(o["id"], 422, "duplicate_customization_not_flex",
                common_name="example.com", dns_names=["www.example.com", "api.example.com"])
    # the same names in another order of SANs are the same set: allowed
    d = env.dup(o["id"], common_name="www.example.com",
                dns_names=["api.example.com", "example.com"])
    assert set(san_names(leaf_of(d["certificate_chain"]))) == \
        {"www.example.com", "example.com", "api.example.com"}


def test_rd7_wildcard_adds_covered_subdomains_only(env):
    o = env.issued_order(product="ssl_wildcard", cn="*.example.com", sans=())
    d = env.dup(o["id"], common_name="*.example.com",
                dns_names=["mail.example.com", "subdomain.example.com"])
    env.check_cert(d["certificate_id"], "ov",
                   ["*.example.com", "mail.example.com", "subdomain.example.com"], org=OV_ORG)
    env.refused(o["id"], 422, "duplicate_name_not_allowed", common_name="*.example.com",
                dns_names=["a.b.example.com"])
    env.refused(o["id"], 422, "duplicate_name_not_allowed", common_name="*.example.com",
                dns_names=["www.example.net"])


# ---- R-D8: validity ----

def test_rd8_validity_defaults_to_the_copied_certificate_and_may_only_shorten(env):
    o = env.issued_order()
    orig = env.srv.ok("GET", f"/certificate/{o['certificate_id']}", env.srv.admin_key)
    d = env.dup(o["id"])
    assert d["certificate"]["valid_till"] == orig["valid_till"]
    end = datetime.datetime.fromisoformat(orig["valid_till"].replace("Z", "+00:00"))
    earlier = (end - datetime.timedelta(days=30)).strftime("%Y-%m-%d")
    d2 = env.dup(o["id"], valid_till=earlier)
    assert d2["certificate"]["valid_till"] == earlier + "T23:59:59Z"
    assert leaf_of(d2["certificate_chain"]).not_valid_after.strftime("%Y-%m-%d") == earlier
    later = (end + datetime.timedelta(days=2)).strftime("%Y-%m-%d")
    msg = env.refused(o["id"], 422, "duplicate_validity_too_long", valid_till=later)
    assert orig["valid_till"] in msg
    env.refused(o["id"], 400, "field_invalid", valid_till="2020-01-01")
    env.refused(o["id"], 400, "field_invalid", valid_till="tomorrow")
    # the copied certificate's own last day means its end
    same_day = end.strftime("%Y-%m-%d")
    assert env.dup(o["id"], valid_till=same_day)["certificate"]["valid_till"] == \
        orig["valid_till"]


# ---- R-D9: signature hash ----

def test_rd9_hash_follows_the_issuer(env):
    ec = env.issued_order()
    msg = env.refused(ec["id"], 422, "hash_not_allowed", signature_hash="sha384")
    assert "sha256" in msg
    env.refused(ec["id"], 422, "hash_not_allowed", signature_hash="md5")
    rsa = env.issued_order(kind="rsa2048")
    d = env.dup(rsa["id"], signature_hash="sha384", csr=env.csr("rsa2048"))
    cert = leaf_of(d["certificate_chain"])
    assert isinstance(cert.signature_hash_algorithm, hashes.SHA384)
    assert d["certificate"]["signature_hash"] == "sha384"
    env.check_cert(d["certificate_id"], "ov", ["www.example.com", "example.com"], org=OV_ORG,
                   hash="sha384")


# ---- R-D10: server platform ----

def test_rd10_platform_sets_the_default_download(env):
    s = env.srv
    plats = s.ok("GET", "/server-platform", s.admin_key)["platforms"]
    nginx = next(p for p in plats if "nginx" in p["name"].lower())
    o = env.issued_order()
    d = env.dup(o["id"], server_platform={"id": nginx["id"]})
    assert d["certificate"]["server_platform"]["id"] == nginx["id"]
    r = s.api("GET", f"/certificate/{d['certificate_id']}/download/platform", key=s.admin_key)
    assert r.status_code == 200
    assert r.content.count(b"BEGIN CERTIFICATE") >= 2  # nginx: leaf + chain in one PEM
    env.refused(o["id"], 400, "field_invalid", server_platform={"id": 99999})


# ---- CAA is checked again for every duplicate (BR 3.2.2.8) ----

def test_duplicate_refused_when_caa_now_names_another_ca(env):
    o = env.issued_order(cn="caa.example.net", sans=())
    env.dns.set(txt=env.txt, caa={"caa.example.net": [(0, "issue", "other-ca.example")]})
    try:
        msg = env.refused(o["id"], 422, "caa_forbidden")
        assert "other-ca.example" in msg
    finally:
        env.dns.set(txt=env.txt, caa={})
    assert env.dup(o["id"])["certificate_id"] > 0


# ---- R-D11, R-D12: at once, nothing else changes, history, mail ----

def test_rd11_rd12_issued_at_once_touches_nothing_else_and_is_mailed(env):
    s = env.srv
    o = env.issued_order()
    before_order = s.query("SELECT * FROM orders WHERE id = ?", o["id"])
    before_certs = s.query("SELECT id, status, revoked_at, revoke_after FROM certificates "
                           "WHERE order_id = ?", o["id"])
    before_requests = s.query("SELECT count(*) FROM requests")
    d = env.dup(o["id"], role="standard_user")
    assert s.query("SELECT * FROM orders WHERE id = ?", o["id"]) == before_order
    assert s.query("SELECT id, status, revoked_at, revoke_after FROM certificates WHERE "
                   "order_id = ? AND id <> ?", o["id"], d["certificate_id"]) == before_certs
    assert s.query("SELECT count(*) FROM requests") == before_requests
    hist = env.history(o["id"])
    assert hist[0]["id"] == d["certificate_id"] and hist[0]["kind"] == "duplicate"
    assert hist[0]["status"] == "issued" and hist[0]["order_id"] == o["id"]
    assert hist[0]["user_id"] == env.users["standard_user"][0]
    assert hist[-1]["kind"] == "original"
    # mailed to the order's certificate contact (the administrator who ordered)
    mine = wait_mail(env.smtp, lambda m: f"order {o['id']})" in m["Subject"]
                     and "Duplicate" in m["Subject"])
    assert len(mine) == 1, [m["Subject"] for m in env.smtp.messages()]
    m = mine[0]
    assert m["To"] == env.admin_email
    body = text_of(m)
    assert str(d["certificate_id"]) in body and str(o["id"]) in body
    assert "www.example.com" in body and "Valid until" in body
    assert m.get_body(preferencelist=("html",)) is not None
    att = [p for p in m.iter_attachments()]
    assert len(att) == 1
    assert att[0].get_content_type() == "application/pem-certificate-chain"
    pem = att[0].get_content()
    pem = pem.decode() if isinstance(pem, bytes) else pem
    assert split_pem(pem.encode())[0] == split_pem(d["certificate_chain"].encode())[0]


def test_duplicates_list_and_other_accounts(env):
    s = env.srv
    o = env.issued_order()
    a = env.dup(o["id"])
    b = env.dup(o["id"])
    lst = s.ok("GET", f"/order/certificate/{o['id']}/duplicate", s.admin_key)["certificates"]
    assert [c["id"] for c in lst] == [b["certificate_id"], a["certificate_id"]]
    assert all(c["kind"] == "duplicate" for c in lst)
    # a limited user sees only their own orders
    r = s.api("GET", f"/order/certificate/{o['id']}/duplicate", key=env.key("limited_user"))
    assert r.status_code == 404
    before = s.snapshot()
    r = s.api("POST", f"/order/certificate/{o['id']}/duplicate", key=env.key("limited_user"),
              json_body={"certificate": {"csr": env.csr()}})
    assert r.status_code == 404 and s.snapshot() == before
    # another account sees nothing
    acct = s.ok("POST", "/account", s.operator_key,
                {"name": "Other", "admin": {"email": "o@example.org", "first_name": "O",
                                            "last_name": "P"}}, status=201)
    r = s.api("POST", f"/order/certificate/{o['id']}/duplicate", key=acct["admin_api_key"],
              json_body={"certificate": {"csr": env.csr()}})
    assert r.status_code == 404 and r.json()["errors"][0]["code"] == "order_not_found"
    r = s.api("POST", "/order/certificate/999999/duplicate", key=s.admin_key,
              json_body={"certificate": {"csr": env.csr()}})
    assert r.status_code == 404


def test_bad_bodies_change_nothing(env):
    s = env.srv
    o = env.issued_order()
    before = s.snapshot()
    for body, code in ((b"{", "invalid_json"),
                       (json.dumps({"certificate": {"csr": "x", "bogus": 1}}), "field_unknown"),
                       (json.dumps({"certificate": {"csr": 5}}), "field_invalid"),
                       (json.dumps({"certificate": {"csr": "not a csr"}}), None),
                       (json.dumps({"certificate": {"csr": env.csr(),
                                                    "dns_names": ["bad name"]}}), None)):
        r = s.api("POST", f"/order/certificate/{o['id']}/duplicate", key=s.admin_key,
                  data=body)
        assert 400 <= r.status_code < 500, r.text
        if code:
            assert r.json()["errors"][0]["code"] == code
    assert s.snapshot() == before


# ---- 50 at once ----

def test_fifty_duplicates_in_parallel(env):
    s = env.srv
    o = env.issued_order()
    csrs = [env.csr() for _ in range(50)]

    def one(csr):
        r = s.api("POST", f"/order/certificate/{o['id']}/duplicate", key=s.admin_key,
                  json_body={"certificate": {"csr": csr}})
        return r.status_code, r.json()

    with concurrent.futures.ThreadPoolExecutor(16) as ex:
        res = list(ex.map(one, csrs))
    assert all(st == 201 for st, _ in res), [j for st, j in res if st != 201][:3]
    certs = [leaf_of(j["certificate_chain"]) for _, j in res]
    assert len({c.serial_number for c in certs}) == 50
    assert len({spki(c) for c in certs}) == 50
    hist = env.history(o["id"])
    dups = [h for h in hist if h["kind"] == "duplicate"]
    assert len(dups) == 50
    assert {h["id"] for h in dups} == {j["certificate_id"] for _, j in res}
    assert all(h["status"] == "issued" for h in hist)
    env.check_cert(res[0][1]["certificate_id"], "ov", ["www.example.com", "example.com"],
                   org=OV_ORG)


def test_every_certificate_issued_here_passes_openssl_verify(env):
    """The last test of the file: every certificate of this module verifies and meets the
    profile rows."""
    assert verify_all(env) > 60
