"""Reissues, renewals, auto-renew and expiry reminders over the REST API against a real
`certmint serve` whose clock libfaketime moves (DESIGN.md R-O4 … R-O7): a reissue that adds a
name revokes nothing, new names wait for DCV, DV reissues validate again, a reissue that removes a
name marks exactly the certificates carrying it `revocation_pending` and revokes them only after
the delay (shown in the CRL), approvals, rejection and cancelling put the order back to issued;
renewals respect the window, link old and new orders both ways, need approval, and chain; the
auto-renew job renews 30 days before the end as the ordering user and mails the contact; expiry
reminders arrive at 30, 7 and 1 days, each once. Mail goes through aiosmtpd; every certificate
issued here passes `openssl verify -x509_strict -purpose sslserver` and the profile checks.
Tests run in file order: the clock only moves forward, in the last tests.
"""

import datetime
import subprocess
import time

import pytest
import requests

from conftest import OV_ORG
from lifecycle_env import Env, leaf_of, san_names, verify_all, wait_mail
from realservers import Dns, Smtp, text_of
from server import Server


@pytest.fixture(scope="module")
def clock(tmp_path_factory):
    return tmp_path_factory.mktemp("clock") / "faketime"


@pytest.fixture(scope="module")
def env(tmp_path_factory, keys, clock):
    tmp = tmp_path_factory.mktemp("reissue")
    dns = Dns(tmp).start()
    smtp = Smtp(tmp).start()
    # dcv_recheck_interval 1: the scheduler (and the lifecycle job) runs every second
    srv = Server(tmp, conf={"dns_server": dns.addr, "smtp_url": smtp.url,
                            "caa_identities": "certmint.test", "dcv_recheck_interval": "1"},
                 faketime=clock).start()
    e = Env(srv, dns, smtp, keys, tmp)
    e.setup()
    yield e
    srv.stop()
    smtp.stop()
    dns.stop()


def move_clock(clock, spec):
    clock.write_text(spec + "\n")
    time.sleep(0.3)


def jump(env, clock, spec):
    """Moves the clock and restarts the server. Its signer process cannot read libfaketime's file
    once its sandbox closes file access, and it checks notBefore against its own clock (±48 h):
    it gets the offset from FAKETIME in its environment instead (which then wins over the file
    in every process: move the clock with jump from here on)."""
    move_clock(clock, spec)
    env.srv.env["FAKETIME"] = spec
    env.srv.restart()


def wait_for(pred, timeout=30, what="condition"):
    deadline = time.time() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def info(env, order_id):
    return env.srv.ok("GET", f"/order/certificate/{order_id}", env.srv.admin_key)


def reissue(env, order_id, role="administrator", status=201, **cert):
    cert.setdefault("csr", env.csr())
    r = env.srv.api("POST", f"/order/certificate/{order_id}/reissue", key=env.key(role),
                    json_body={"certificate": cert})
    assert r.status_code == status, r.text
    return r.json()


def cert_status(env, cert_id):
    return env.srv.ok("GET", f"/certificate/{cert_id}", env.srv.admin_key)


# ---- R-O4: reissues ----

def test_reissue_adding_a_name_issues_at_once_and_revokes_nothing(env):
    o = env.issued_order(product="ssl_basic", sans=("example.com",))
    r = reissue(env, o["id"], common_name="www.example.com",
                dns_names=["example.com", "api.example.com"])
    assert r["status"] == "issued" and r["certificate_id"] > 0
    assert r["requests"][0]["status"] == "approved"
    assert san_names(leaf_of(r["certificate_chain"])) == \
        ["www.example.com", "example.com", "api.example.com"]
    assert cert_status(env, o["certificate_id"])["status"] == "issued"
    hist = env.history(o["id"])
    assert [h["kind"] for h in hist] == ["reissue", "original"]
    assert hist[0]["request_id"] == r["requests"][0]["id"]
    assert info(env, o["id"])["certificate"]["dns_names"] == \
        ["www.example.com", "example.com", "api.example.com"]
    # duplicates now copy the reissued certificate (R-D7)
    d = env.dup(o["id"])
    assert san_names(leaf_of(d["certificate_chain"])) == \
        ["www.example.com", "example.com", "api.example.com"]
    env.check_cert(r["certificate_id"], "ov",
                   ["www.example.com", "example.com", "api.example.com"], org=OV_ORG)
    lst = env.srv.ok("GET", f"/order/certificate/{o['id']}/reissue", env.srv.admin_key)
    assert [c["id"] for c in lst["certificates"]] == [r["certificate_id"]]
    assert lst["pending"] is None


def test_reissue_new_name_waits_for_its_domain_validation(env):
    s = env.srv
    o = env.issued_order(sans=())
    r = reissue(env, o["id"], common_name="www.example.com", dns_names=["shop.example.org"])
    assert r["status"] == "reissue_pending" and "certificate_id" not in r
    i = info(env, o["id"])
    assert i["status"] == "reissue_pending" and "example.org" in i["waiting_for"]
    # the reissue registered the new domain; it validates: the reissue issues without another
    # call
    d = s.ok("GET", "/domain?filters[name]=example.org", s.admin_key)["domains"][0]
    env.txt["_dnsauth.example.org"] = [d["dcv_token"]["token"]]
    env.dns.set(txt=env.txt)
    s.ok("PUT", f"/domain/{d['id']}/dcv/validate-token", s.admin_key)
    wait_for(lambda: info(env, o["id"])["status"] == "issued", what="the reissue to issue")
    h = env.history(o["id"])[0]
    assert h["kind"] == "reissue" and h["dns_names"] == ["www.example.com", "shop.example.org"]
    env.check_cert(h["id"], "ov", ["www.example.com", "shop.example.org"], org=OV_ORG)


def test_dv_reissue_validates_every_name_again(env):
    s = env.srv
    o = env.order("ssl_dv_geotrust", "dv2.example.com")
    env.txt["_dnsauth.example.com"].append(o["dcv_random_value"])
    env.dns.set(txt=env.txt)
    assert s.ok("PUT", f"/order/certificate/{o['id']}/check-dcv",
                s.admin_key)["order_status"] == "issued"
    r = reissue(env, o["id"])
    assert r["status"] == "reissue_pending"
    i = info(env, o["id"])
    value = i["dcv_random_value"]
    assert value != o["dcv_random_value"]
    assert all(v["status"] == "pending" for v in i["dns_name_validations"])
    env.txt["_dnsauth.example.com"].append(value)
    env.dns.set(txt=env.txt)
    c = s.ok("PUT", f"/order/certificate/{o['id']}/check-dcv", s.admin_key)
    assert c["order_status"] == "issued"
    h = env.history(o["id"])
    assert [x["kind"] for x in h] == ["reissue", "original"]
    env.check_cert(h[0]["id"], "dv", ["dv2.example.com"])


def test_reissue_of_an_order_not_issued_is_refused(env):
    env.settings(skip_approval=False)
    try:
        o = env.order("ssl_basic", "www.example.com", org=env.org_ov)
    finally:
        env.settings(skip_approval=True)
    before = env.srv.snapshot()
    r = reissue(env, o["id"], status=409)
    assert r["errors"][0]["code"] == "reissue_order_state"
    r = reissue(env, o["id"], status=409, csr="junk")
    assert env.srv.snapshot() == before


def test_reissue_bad_names_and_csr_change_nothing(env):
    o = env.issued_order()
    before = env.srv.snapshot()
    for cert, code in (({"csr": "not a csr"}, None),
                       ({"common_name": "bad name"}, "name_invalid"),
                       ({"common_name": "www.example.com", "dns_names": ["*.*.example.com"]},
                        "name_invalid"),
                       ({"signature_hash": "sha384"}, "hash_not_allowed"),
                       ({"server_platform": {"id": 4242}}, "field_invalid")):
        r = reissue(env, o["id"], status=r_status(code), **cert)
        if code:
            assert r["errors"][0]["code"] == code, r
    assert env.srv.snapshot() == before
    assert info(env, o["id"])["status"] == "issued"


def r_status(code):
    return {None: 400, "name_invalid": 400, "hash_not_allowed": 422, "field_invalid": 400}[code]


# ---- R-O2 for reissues, R-O7: approval, rejection, cancelling ----

def test_reissue_waiting_for_approval_then_approved(env):
    s = env.srv
    o = env.issued_order()
    env.settings(skip_approval=False)
    try:
        r = reissue(env, o["id"], role="standard_user", common_name="www.example.com",
                    dns_names=["api.example.com"])
        assert r["status"] == "reissue_pending" and r["requests"][0]["status"] == "pending"
        assert "approval" in info(env, o["id"])["waiting_for"]
        pend = s.ok("GET", f"/order/certificate/{o['id']}/reissue", s.admin_key)["pending"]
        assert pend["id"] == r["requests"][0]["id"] and pend["type"] == "reissue"
        s.ok("PUT", f"/request/{r['requests'][0]['id']}/status", env.key("manager"),
             {"status": "approved"})
    finally:
        env.settings(skip_approval=True)
    assert info(env, o["id"])["status"] == "issued"
    h = env.history(o["id"])[0]
    assert h["kind"] == "reissue" and h["user_id"] == env.users["standard_user"][0]
    assert h["dns_names"] == ["www.example.com", "api.example.com"]


def test_reissue_rejected_or_cancelled_returns_the_order_to_issued(env):
    s = env.srv
    o = env.issued_order(sans=("example.com",))
    names = info(env, o["id"])["certificate"]["dns_names"]
    env.settings(skip_approval=False)
    try:
        r = reissue(env, o["id"], role="standard_user", common_name="only.example.com")
        assert info(env, o["id"])["certificate"]["dns_names"] == ["only.example.com"]
        s.ok("PUT", f"/request/{r['requests'][0]['id']}/status", env.key("manager"),
             {"status": "rejected", "processor_comment": "no"})
        i = info(env, o["id"])
        assert i["status"] == "issued" and i["certificate"]["dns_names"] == names
        r2 = reissue(env, o["id"], role="standard_user", common_name="only.example.com")
        s.ok("PUT", f"/order/certificate/{o['id']}/status", s.admin_key, {"status": "canceled"})
        i = info(env, o["id"])
        assert i["status"] == "issued" and i["certificate"]["dns_names"] == names
        req = s.ok("GET", f"/request/{r2['requests'][0]['id']}", s.admin_key)
        assert req["status"] == "rejected"
    finally:
        env.settings(skip_approval=True)
    assert [h["kind"] for h in env.history(o["id"])] == ["original"]
    # the order keeps working: a duplicate copies the original names
    d = env.dup(o["id"])
    assert san_names(leaf_of(d["certificate_chain"])) == names


# ---- R-O6: revoking one certificate, or the order with its duplicates ----

def test_revoking_one_duplicate_or_the_whole_order(env):
    s = env.srv
    o = env.issued_order()
    leaked = env.csr()
    d1, d2 = env.dup(o["id"], csr=leaked), env.dup(o["id"])
    s.ok("PUT", f"/certificate/{d1['certificate_id']}/revoke", s.admin_key,
         {"revocation_reason": "key_compromise"})
    # a key revoked for compromise is never certified again, not even by a reissue
    other = env.issued_order()
    before = s.snapshot()
    r = reissue(env, other["id"], status=422, csr=leaked)
    assert r["errors"][0]["code"] == "key_compromised"
    assert s.snapshot() == before
    assert cert_status(env, d1["certificate_id"])["status"] == "revoked"
    assert cert_status(env, d2["certificate_id"])["status"] == "issued"
    assert cert_status(env, o["certificate_id"])["status"] == "issued"
    assert info(env, o["id"])["status"] == "issued"
    # the order keeps issuing duplicates; a revoked certificate's key is never certified again
    env.dup(o["id"])
    s.ok("PUT", f"/order/certificate/{o['id']}/revoke", s.admin_key,
         {"revocation_reason": "cessation_of_operation"})
    assert all(h["status"] == "revoked" for h in env.history(o["id"]))
    assert info(env, o["id"])["status"] == "revoked"


def test_reissued_certificate_is_mailed_with_its_chain(env):
    o = env.issued_order()
    r = reissue(env, o["id"])
    mails = wait_mail(env.smtp, lambda m: m["Subject"].startswith("Reissued certificate")
                      and f"(order {o['id']})" in m["Subject"])
    assert len(mails) == 1
    att = list(mails[0].iter_attachments())
    assert len(att) == 1 and att[0].get_filename() == f"certificate_{r['certificate_id']}.pem"
    pem = att[0].get_content()
    pem = pem if isinstance(pem, str) else pem.decode()
    assert leaf_of(pem) == leaf_of(r["certificate_chain"])
    assert mails[0].get_body(preferencelist=("html",)) is not None


# ---- R-O5: renewals ----

def renew(env, old, product="ssl_basic", status=201, role="administrator", **extra):
    body = {"certificate": {"common_name": "www.example.com", "dns_names": ["example.com"],
                            "csr": env.csr()},
            "organization": {"id": env.org_ov}, "renewal_of_order_id": old}
    body.update(extra)
    r = env.srv.api("POST", f"/order/certificate/{product}", key=env.key(role), json_body=body)
    assert r.status_code == status, r.text
    return r.json()


def test_renewal_outside_the_window_is_refused(env):
    o = env.issued_order()
    before = env.srv.snapshot()
    r = renew(env, o["id"], status=409)
    assert r["errors"][0]["code"] == "renewal_window_closed"
    assert "90 days" in r["errors"][0]["message"]
    r = renew(env, o["id"], product="ssl_dv_geotrust", status=422)
    assert r["errors"][0]["code"] == "renewal_product_mismatch"
    assert env.srv.snapshot() == before


def test_renewal_chain_of_three_orders_linked_both_ways(env):
    env.settings(renewal_window_days=365)
    try:
        a = env.issued_order()
        b = renew(env, a["id"])
        assert b["id"] != a["id"] and b["status"] == "issued"
        assert info(env, a["id"])["renewed_by_order_id"] == b["id"]
        assert info(env, b["id"])["renewal_of_order_id"] == a["id"]
        again = renew(env, a["id"], status=409)
        assert again["errors"][0]["code"] == "order_already_renewed"
        c = renew(env, b["id"])
        assert info(env, b["id"])["renewed_by_order_id"] == c["id"]
        assert info(env, c["id"])["renewal_of_order_id"] == b["id"]
        assert "renewed_by_order_id" not in info(env, c["id"])
        # renewals wait for approval like new orders (R-O2)
        env.settings(skip_approval=False)
        d = renew(env, c["id"], role="standard_user")
        assert d["status"] == "needs_approval"
        req = env.srv.ok("GET", f"/request/{d['requests'][0]['id']}", env.srv.admin_key)
        assert req["type"] == "renewal"
        assert info(env, c["id"])["renewed_by_order_id"] == d["id"]
        # a rejected renewal gives the old order its renewal back
        env.srv.ok("PUT", f"/request/{req['id']}/status", env.key("manager"),
                   {"status": "rejected"})
        assert "renewed_by_order_id" not in info(env, c["id"])
        e = renew(env, c["id"], role="standard_user")
        assert info(env, c["id"])["renewed_by_order_id"] == e["id"]
        # and so does a cancelled one
        env.srv.ok("PUT", f"/order/certificate/{e['id']}/status", env.srv.admin_key,
                   {"status": "canceled"})
        assert "renewed_by_order_id" not in info(env, c["id"])
    finally:
        env.settings(skip_approval=True, renewal_window_days=90)
    env.check_cert(c["certificate_id"], "ov", ["www.example.com", "example.com"], org=OV_ORG)


# ---- time moves from here on ----

def test_removing_a_name_revokes_exactly_its_carriers_after_the_delay(env, clock):
    s = env.srv
    o = env.issued_order(product="ssl_basic", sans=("example.com", "api.example.com"))
    d_all = env.dup(o["id"])  # carries api.example.com
    d_www = env.dup(o["id"], common_name="www.example.com", dns_names=["example.com"])
    before = len(env.smtp.messages())
    r = reissue(env, o["id"], common_name="www.example.com", dns_names=["example.com"])
    assert r["status"] == "issued"
    carriers = {o["certificate_id"], d_all["certificate_id"]}
    for cid in carriers:
        c = cert_status(env, cid)
        assert c["status"] == "revocation_pending" and "revoke_after" in c
    assert cert_status(env, d_www["certificate_id"])["status"] == "issued"
    assert cert_status(env, r["certificate_id"])["status"] == "issued"
    warn = wait_mail(env.smtp, lambda m: "will be revoked" in m["Subject"]
                     and f"order {o['id']} " in m["Subject"])
    assert len(warn) == 1 and len(env.smtp.messages()) > before
    body = text_of(warn[0])
    for cid in carriers:
        assert f"Certificate {cid}," in body
    assert f"Certificate {d_www['certificate_id']}," not in body
    # 71 hours later: still pending
    move_clock(clock, "+71h")
    time.sleep(3)
    for cid in carriers:
        assert cert_status(env, cid)["status"] == "revocation_pending"
    # 73 hours later: revoked, superseded, and in the CRL
    move_clock(clock, "+73h")
    wait_for(lambda: all(cert_status(env, cid)["status"] == "revoked" for cid in carriers),
             what="the delayed revocation")
    for cid in carriers:
        assert cert_status(env, cid)["revocation_reason"] == "superseded"
    assert cert_status(env, d_www["certificate_id"])["status"] == "issued"
    assert cert_status(env, r["certificate_id"])["status"] == "issued"
    assert info(env, o["id"])["status"] == "issued"
    ca = cert_status(env, o["certificate_id"])["ca"]
    serials = {cert_status(env, cid)["serial_number"] for cid in carriers}

    def crl_has_them():
        der = requests.get(s.url(f"/crl/{ca}.crl"), timeout=30).content
        text = subprocess.run(["openssl", "crl", "-inform", "DER", "-noout", "-text"],
                              input=der, capture_output=True).stdout.decode().lower()
        return all(x.lstrip("0").lower() in text.replace(":", "") for x in serials)

    wait_for(crl_has_them, what="the CRL to list the revoked serials")


def test_auto_renew_and_expiry_reminders(env, clock):
    s = env.srv
    jump(env, clock, "+73h")  # the signer moves to the clock's +73 h (see jump)
    auto = env.issued_order(auto_renew=True, sans=())
    plain = env.issued_order(sans=("example.com",))
    dup = env.dup(auto["id"])  # on another server: renewed per R-D15 with its own key
    end = cert_status(env, plain["certificate_id"])["valid_till"]
    short_end = (datetime.datetime.fromisoformat(end.replace("Z", "+00:00"))
                 - datetime.timedelta(days=10)).strftime("%Y-%m-%d")
    short = env.dup(plain["id"], valid_till=short_end)  # cut short: a new duplicate replaces it

    def reminders(order_id, days):
        return [m for m in env.smtp.messages()
                if f"(order {order_id})" in m["Subject"] and f"in {days} day" in m["Subject"]]

    # 174 days on: 28 days before the end — auto-renew and the 30-day reminder
    jump(env, clock, "+174d")
    i = wait_for(lambda: info(env, auto["id"]).get("renewed_by_order_id") and
                 info(env, auto["id"]), what="auto-renew")
    # the renewal is placed, then issued (validations are current, skip_approval is on)
    new = wait_for(lambda: info(env, i["renewed_by_order_id"])["status"] == "issued" and
                   info(env, i["renewed_by_order_id"]), what="the renewal to issue")
    assert new["renewal_of_order_id"] == auto["id"]
    assert new["user_id"] == info(env, auto["id"])["user_id"]
    assert new["status"] == "issued" and new["auto_renew"] is True
    # R-D15: the duplicate became a duplicate of the renewal, with the same key (its CSR)
    newdup = wait_for(lambda: [h for h in env.history(new["id"]) if h["kind"] == "duplicate"],
                      what="the duplicate's renewal")
    assert len(newdup) == 1
    assert s.query("SELECT successor_id FROM certificates WHERE id = ?",
                   dup["certificate_id"])[0][0] == newdup[0]["id"]
    assert s.query("SELECT origin FROM certificates WHERE id = ?", newdup[0]["id"])[0][0] == \
        "auto_renew"
    assert s.query("SELECT spki_sha256 FROM certificates WHERE id = ?", newdup[0]["id"]) == \
        s.query("SELECT spki_sha256 FROM certificates WHERE id = ?", dup["certificate_id"])
    original = [h for h in env.history(new["id"]) if h["kind"] == "original"][0]
    assert newdup[0]["valid_till"] == original["valid_till"]
    m = wait_mail(env.smtp, lambda m: f"Order {auto['id']} was renewed automatically"
                  in m["Subject"])
    assert len(m) == 1 and str(new["id"]) in text_of(m[0])
    assert m[0].get_body(preferencelist=("html",)) is not None
    wait_for(lambda: len(reminders(plain["id"], 30)) >= 2, what="the 30-day reminders")
    time.sleep(2)
    assert len(reminders(plain["id"], 30)) == 2  # the certificate and its short duplicate
    by_cert = {}
    for m in reminders(plain["id"], 30):
        for cid in (plain["certificate_id"], short["certificate_id"]):
            if f"certificate {cid} " in text_of(m).lower():
                by_cert[cid] = text_of(m)
    assert "Renew the order" in by_cert[plain["certificate_id"]]
    assert "Request a new duplicate" in by_cert[short["certificate_id"]]
    r30 = reminders(plain["id"], 30)[0]
    assert r30["To"] == env.admin_email
    # the renewed order and its replaced duplicate get no reminder
    assert not reminders(auto["id"], 30)
    # 7 days before, then 1 day before (the orders of this test were placed at +73 h): one each
    jump(env, clock, "+196d")
    wait_for(lambda: reminders(plain["id"], 7), what="the 7-day reminder")
    jump(env, clock, "+4836h")  # 201.5 days
    wait_for(lambda: reminders(plain["id"], 1), what="the 1-day reminder")
    time.sleep(2)
    assert len(reminders(plain["id"], 30)) == 2
    assert len(reminders(plain["id"], 7)) == 1  # the short duplicate has ended by then
    assert len(reminders(plain["id"], 1)) == 1
    assert s.query("SELECT reminded_days FROM certificates WHERE id = ?",
                   plain["certificate_id"])[0][0] == 1


def test_every_certificate_issued_here_passes_openssl_verify(env):
    """The last test of the file: every certificate of this module (some issued with the clock
    moved: each is verified at its own notBefore) verifies and meets the profile rows."""
    assert verify_all(env) > 20
