"""REST API of organisations and domains against a real `certmint serve` and real network
servers (realservers.py: dnsmasq, an HTTP server on 127.0.0.x:80, aiosmtpd): organisations
(create, list, read, the operator's OV/EV vetting and its 403 for account keys, verified
contacts); domains (register, list, read, DCV method) and each DCV method passing and failing —
dns-txt-token (wrong value, missing record), dns-cname-token (wrong target, missing record),
http-token (404, a redirect to port 8080), email (five mails arrive, the mailed code confirms,
a wrong or reused code is 404); expiry by moving the server's clock with libfaketime (a random
value after 31 days, a validation after 200 days); isolation between accounts (404 on every
endpoint, nothing changes); roles; and bad input on every endpoint answered with the right 4xx
and an unchanged store."""

import itertools
import re
import time
from datetime import datetime, timezone

import pytest

from conftest import EV_ORG, OV_ORG
from realservers import Dns, HttpToken, Smtp, text_of
from server import Server

CNAME_TARGET = "dcv.certmint.test"
FILE = "/.well-known/pki-validation/fileauth.txt"
DAY = 86400
EMAIL_LOCALS = ["admin", "administrator", "webmaster", "hostmaster", "postmaster"]
SQLI = ["x' OR '1'='1", "'; DROP TABLE domains; --", "a%' UNION SELECT * FROM api_keys --"]
ISO_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
CODE_RE = re.compile(r"\b[0-9a-f]{32}\b")

_seq = itertools.count(1)


def uniq(suffix="example.org"):
    """A domain name no other test of the module uses."""
    return f"d{next(_seq)}.{suffix}"


def ts(iso):
    assert ISO_RE.match(iso), iso
    return int(datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=timezone.utc).timestamp())


def near(iso, expected, slack=120):
    return abs(ts(iso) - expected) <= slack


def errors(r, status, code):
    """Asserts an error answer: status, shape and code; returns the message."""
    assert r.status_code == status, f"{r.status_code} {r.text}"
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert list(body) == ["errors"] and len(body["errors"]) == 1, body
    e = body["errors"][0]
    assert e["code"] == code, body
    assert isinstance(e["message"], str) and len(e["message"]) > 10, body
    return e["message"]


# ---- servers and accounts ----------------------------------------------------------------------

class Net:
    """The module's network servers and the DNS records they serve."""

    def __init__(self, d):
        self.dns = Dns(d).start()
        self.web = HttpToken().start()
        self.smtp = Smtp(d).start()
        self.txt, self.cname, self.a = {}, {}, {}

    def publish(self, txt=None, cname=None, a=None):
        self.txt.update(txt or {})
        self.cname.update(cname or {})
        self.a.update(a or {})
        self.dns.set(txt=self.txt, cname=self.cname, a=self.a)

    def stop(self):
        self.smtp.stop()
        self.web.stop()
        self.dns.stop()


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    n = Net(tmp_path_factory.mktemp("net"))
    yield n
    n.stop()


@pytest.fixture(scope="module")
def clock(tmp_path_factory):
    return tmp_path_factory.mktemp("clock") / "faketime"


@pytest.fixture(scope="module")
def srv(tmp_path_factory, net, clock):
    s = Server(tmp_path_factory.mktemp("orgdomain"),
               conf={"dns_server": net.dns.addr,
                     "http_resolve": [net.web.resolve("www.example.com")],
                     "smtp_url": net.smtp.url, "mail_from": "certmint@example.com",
                     "dcv_cname_target": CNAME_TARGET},
               faketime=clock)
    s.start()
    yield s
    s.stop()


def move_clock(clock, spec):
    """Moves the server's clock (libfaketime re-reads the file on every call)."""
    clock.write_text(spec + "\n")
    time.sleep(0.2)


class Acct:
    def __init__(self, id, admin_id, admin_key):
        self.id, self.admin_id, self.admin_key = id, admin_id, admin_key
        self.users = {}  # role -> (user id, key)

    def key(self, role="administrator"):
        return self.users[role][1]


def make_account(srv, name, admin_email):
    r = srv.api("POST", "/account", key=srv.operator_key,
                json_body={"name": name, "admin": {"email": admin_email, "first_name": "Ada",
                                                   "last_name": "Admin"}})
    assert r.status_code == 201, r.text
    b = r.json()
    a = Acct(b["id"], b["admin_user_id"], b["admin_api_key"])
    a.users["administrator"] = (a.admin_id, a.admin_key)
    for role in ("manager", "standard_user", "limited_user"):
        u = srv.ok("POST", "/user", key=a.admin_key,
                   json_body={"email": f"{role}@{admin_email.split('@')[1]}",
                              "first_name": "Una", "last_name": role, "role": role})
        k = srv.ok("POST", "/key", key=a.admin_key, json_body={"user_id": u["id"], "name": role})
        a.users[role] = (u["id"], k["api_key"])
    return a


@pytest.fixture(scope="module")
def world(srv):
    return (make_account(srv, "Example Corp A", "admin@a.example.com"),
            make_account(srv, "Example Corp B", "admin@b.example.net"))


def outbox_count(srv):
    return srv.query("SELECT COUNT(*) FROM mail")[0][0]


def snapshot(srv):
    """The store without the tables the background jobs write on their own (mail delivery
    status, CRL refreshes); the number of queued mails is kept, so no new mail goes unseen."""
    s = srv.snapshot()
    for t in ("jobs", "mail", "crls"):
        s.pop(t, None)
    s["#mail"] = outbox_count(srv)
    s["#mail_jobs"] = srv.query("SELECT COUNT(*) FROM jobs WHERE kind = 'mail'")[0][0]
    return s


def unchanged(srv, call):
    """Runs call() and asserts the store is the same afterwards."""
    before = snapshot(srv)
    r = call()
    assert snapshot(srv) == before, f"the store changed ({r.status_code} {r.text})"
    return r


def audit_actions(srv, object_type, object_id):
    return [r[0] for r in srv.query(
        "SELECT action FROM audit WHERE object_type = ? AND object_id = ? ORDER BY id",
        object_type, object_id)]


def new_org(srv, acct, org=OV_ORG, **extra):
    return srv.ok("POST", "/organization", key=acct.admin_key, json_body=dict(org, **extra))["id"]


def new_domain(srv, acct, name=None, **extra):
    body = {"name": name or uniq(), **extra}
    r = srv.api("POST", "/domain", key=acct.admin_key, json_body=body)
    assert r.status_code == 201, r.text
    return r.json()


# ---- organisations -----------------------------------------------------------------------------

def test_org_create_answers_id_and_get_shows_every_field(srv, world):
    a, _ = world
    r = srv.api("POST", "/organization", key=a.admin_key,
                json_body=dict(OV_ORG, assumed_name="Widgets", address2="Suite 5"))
    assert r.status_code == 201, r.text
    body = r.json()
    assert list(body) == ["id"] and body["id"] > 0
    got = srv.ok("GET", f"/organization/{body['id']}", key=a.key("limited_user"))
    for k, v in dict(OV_ORG, assumed_name="Widgets", address2="Suite 5").items():
        assert got[k] == v, k
    assert got["jurisdiction_country"] == "" and got["registration_number"] == ""
    assert got["id"] == body["id"] and got["validations"] == [] and got["contacts"] == []
    assert near(got["created_at"], time.time())
    assert audit_actions(srv, "organization", body["id"]) == ["org.create"]


def test_org_create_keeps_ev_fields(srv, world):
    a, _ = world
    oid = new_org(srv, a, EV_ORG, jurisdiction_city="Dover")
    got = srv.ok("GET", f"/organization/{oid}", key=a.admin_key)
    assert got["business_category"] == "Private Organization"
    assert got["jurisdiction_state"] == "Delaware" and got["jurisdiction_city"] == "Dover"
    assert got["registration_number"] == "5551234"


@pytest.mark.parametrize("body,code,word", [
    (dict(OV_ORG, name=None), "field_required", "name"),
    ({k: v for k, v in OV_ORG.items() if k != "country"}, "field_required", "country"),
    (dict(OV_ORG, country="USA"), "org_invalid", "country"),
    (dict(OV_ORG, name="N/A"), "org_invalid", "placeholder"),
    (dict(OV_ORG, city="", state=""), "org_invalid", "city"),
    (dict(OV_ORG, name=5), "field_invalid", "name"),
    (dict(OV_ORG, zip="9" * 64), "field_invalid", "zip"),
    (dict(OV_ORG, name="x" * 10000), "field_invalid", "name"),
    (dict(OV_ORG, city="Spring\nfield"), "field_invalid", "city"),
    (dict(OV_ORG, colour="blue"), "field_unknown", "colour"),
    (dict(OV_ORG, business_category="Private Organization"), "org_invalid", "EV"),
    (dict(EV_ORG, business_category="Club"), "org_invalid", "business"),
])
def test_org_create_refuses_bad_fields(srv, world, body, code, word):
    a, _ = world
    r = unchanged(srv, lambda: srv.api("POST", "/organization", key=a.admin_key, json_body=body))
    assert word.lower() in errors(r, 400, code).lower()


@pytest.mark.parametrize("data,code", [("{", "invalid_json"), ("[]", "invalid_json"),
                                       ("", "body_required"), ('{"name":"a","name":"b"}',
                                                               "invalid_json")])
def test_org_create_refuses_malformed_bodies(srv, world, data, code):
    a, _ = world
    r = unchanged(srv, lambda: srv.api("POST", "/organization", key=a.admin_key, data=data,
                                       headers={"Content-Type": "application/json"}))
    errors(r, 400, code)


def test_org_names_with_sql_metacharacters_are_kept_literally(srv, world):
    a, _ = world
    for name in SQLI:
        oid = new_org(srv, a, name=name + " Ltd")
        assert srv.ok("GET", f"/organization/{oid}", key=a.admin_key)["name"] == name + " Ltd"
        lst = srv.ok("GET", "/organization", key=a.admin_key,
                     )["organizations"]
        assert any(o["id"] == oid for o in lst)
    r = srv.api("GET", "/organization?filters[name]=" + SQLI[0], key=a.admin_key)
    assert r.status_code == 200 and r.json()["organizations"] == []


def test_org_list_pages_sorts_and_filters(srv, world):
    _, b = world
    ids = [new_org(srv, b, name=f"Listing {i} Ltd", country=c)
           for i, c in enumerate(["NL", "DE", "NL"])]
    lst = srv.ok("GET", "/organization?limit=2&offset=0", key=b.key("standard_user"))
    assert lst["page"] == {"total": 3, "limit": 2, "offset": 0}
    assert [o["id"] for o in lst["organizations"]] == ids[:2]
    assert set(lst["organizations"][0]) >= set(OV_ORG) | {"id", "validations", "created_at"}
    lst = srv.ok("GET", "/organization?limit=2&offset=2", key=b.admin_key)
    assert [o["id"] for o in lst["organizations"]] == ids[2:]
    lst = srv.ok("GET", "/organization?filters[country]=NL&sort=-id", key=b.admin_key)
    assert [o["id"] for o in lst["organizations"]] == [ids[2], ids[0]]
    assert lst["page"]["total"] == 2
    lst = srv.ok("GET", "/organization?filters[name]=Listing%201%20Ltd", key=b.admin_key)
    assert [o["id"] for o in lst["organizations"]] == [ids[1]]
    errors(srv.api("GET", "/organization?sort=telephone", key=b.admin_key), 400, "field_invalid")
    errors(srv.api("GET", "/organization?filters[zip]=1", key=b.admin_key), 400,
           "field_invalid")
    errors(srv.api("GET", "/organization?limit=1001", key=b.admin_key), 400, "field_invalid")


def test_org_roles(srv, world):
    a, _ = world
    for role in ("standard_user", "limited_user"):
        r = unchanged(srv, lambda: srv.api("POST", "/organization", key=a.key(role),
                                           json_body=OV_ORG))
        errors(r, 403, "forbidden")
    assert srv.api("POST", "/organization", key=a.key("manager"), json_body=OV_ORG
                   ).status_code == 201
    errors(srv.api("GET", "/organization"), 401, "unauthorized")
    r = unchanged(srv, lambda: srv.api("POST", "/organization", key=srv.operator_key,
                                       json_body=OV_ORG))
    errors(r, 403, "forbidden")


def test_operator_vets_ov_with_the_default_period(srv, world):
    a, _ = world
    oid = new_org(srv, a)
    r = srv.api("PUT", f"/organization/{oid}/validation", key=srv.operator_key,
                json_body={"validations": [{"type": "ov"}]})
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["id"] == oid and got["name"] == OV_ORG["name"] and got["contacts"] == []
    [v] = got["validations"]
    assert v["type"] == "ov" and v["status"] == "active"
    assert near(v["validated_at"], time.time())
    assert near(v["valid_until"], time.time() + 398 * DAY)
    assert srv.ok("GET", f"/organization/{oid}", key=a.admin_key)["validations"] == [v]
    assert audit_actions(srv, "organization", oid) == ["org.create", "org.validate"]
    row = srv.query("SELECT account_id, operator FROM audit WHERE action = 'org.validate' AND "
                    "object_id = ?", oid)
    assert row == [(a.id, 1)]


def test_operator_vets_ev_with_a_date(srv, world):
    _, b = world
    oid = new_org(srv, b, EV_ORG)
    until = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 100 * DAY))
    got = srv.ok("PUT", f"/organization/{oid}/validation", key=srv.operator_key,
                 json_body={"validations": [{"type": "ev", "valid_until": until},
                                            {"type": "ov"}]})
    by = {v["type"]: v for v in got["validations"]}
    assert set(by) == {"ov", "ev"}
    assert by["ev"]["valid_until"] == until + "T00:00:00Z" and by["ev"]["status"] == "active"


def test_ev_vetting_needs_the_ev_fields(srv, world):
    a, _ = world
    oid = new_org(srv, a)
    r = unchanged(srv, lambda: srv.api("PUT", f"/organization/{oid}/validation",
                                       key=srv.operator_key,
                                       json_body={"validations": [{"type": "ev"}]}))
    assert "EV" in errors(r, 400, "org_invalid")


@pytest.mark.parametrize("body,code", [
    ({}, "field_required"),
    ({"validations": []}, "field_required"),
    ({"validations": [{"type": "dv"}]}, "field_invalid"),
    ({"validations": [{"type": "ov"}, {"type": "ov"}]}, "field_invalid"),
    ({"validations": [{"type": "ov"}, {"type": "ev"}, {"type": "ov"}]}, "field_invalid"),
    ({"validations": [{"type": "ov", "valid_until": "2001-01-01"}]}, "field_invalid"),
    ({"validations": [{"type": "ov", "valid_until": "2999-01-01"}]}, "field_invalid"),
    ({"validations": [{"type": "ov", "valid_until": "tomorrow"}]}, "field_invalid"),
    ({"validations": [{"type": "ov", "valid_until": 20300101}]}, "field_invalid"),
    ({"validations": [{"type": "ov", "note": "x"}]}, "field_unknown"),
    ({"validations": ["ov"]}, "field_invalid"),
    ({"validations": {"type": "ov"}}, "field_invalid"),
    ({"validations": [{"type": "ov"}], "extra": 1}, "field_unknown"),
])
def test_vetting_refuses_bad_input(srv, world, body, code):
    a, _ = world
    oid = new_org(srv, a)
    r = unchanged(srv, lambda: srv.api("PUT", f"/organization/{oid}/validation",
                                       key=srv.operator_key, json_body=body))
    errors(r, 400, code)


def test_vetting_is_refused_to_account_keys(srv, world):
    a, _ = world
    oid = new_org(srv, a)
    for role in ("administrator", "manager", "standard_user"):
        r = unchanged(srv, lambda: srv.api("PUT", f"/organization/{oid}/validation",
                                           key=a.key(role),
                                           json_body={"validations": [{"type": "ov"}]}))
        errors(r, 403, "forbidden")
    assert srv.ok("GET", f"/organization/{oid}", key=a.admin_key)["validations"] == []


def test_vetting_an_unknown_organisation_is_404(srv, world):
    r = unchanged(srv, lambda: srv.api("PUT", "/organization/999999/validation",
                                       key=srv.operator_key,
                                       json_body={"validations": [{"type": "ov"}]}))
    errors(r, 404, "organization_not_found")
    r = srv.api("PUT", "/organization/abc/validation", key=srv.operator_key,
                json_body={"validations": [{"type": "ov"}]})
    errors(r, 400, "invalid_path")


def test_verified_contact_add_and_update(srv, world):
    a, _ = world
    oid = new_org(srv, a, EV_ORG)
    uid = a.users["standard_user"][0]
    r = srv.api("POST", f"/organization/{oid}/contact", key=a.admin_key,
                json_body={"user_id": uid, "ev_approver": True})
    assert r.status_code == 201, r.text
    c = r.json()
    assert c["user_id"] == uid and c["ev_approver"] is True and c["organization_id"] == oid
    got = srv.ok("GET", f"/organization/{oid}", key=a.admin_key)
    assert got["contacts"] == [{"user_id": uid, "ev_approver": True,
                                "created_at": c["created_at"]}]
    r = srv.api("POST", f"/organization/{oid}/contact", key=a.admin_key,
                json_body={"user_id": uid, "ev_approver": False})
    assert r.status_code == 200 and r.json()["ev_approver"] is False
    got = srv.ok("GET", f"/organization/{oid}", key=a.admin_key)
    assert got["contacts"] == [{"user_id": uid, "ev_approver": False,
                                "created_at": c["created_at"]}]
    assert audit_actions(srv, "organization", oid) == ["org.create", "org.contact",
                                                       "org.contact"]


def test_verified_contact_rules_and_bad_input(srv, world):
    a, b = world
    oid = new_org(srv, a, EV_ORG)
    uid = a.users["manager"][0]
    for role in ("manager", "standard_user"):
        r = unchanged(srv, lambda: srv.api("POST", f"/organization/{oid}/contact",
                                           key=a.key(role), json_body={"user_id": uid}))
        errors(r, 403, "forbidden")
    r = unchanged(srv, lambda: srv.api("POST", f"/organization/{oid}/contact", key=a.admin_key,
                                       json_body={"user_id": b.admin_id}))
    errors(r, 404, "user_not_found")
    r = unchanged(srv, lambda: srv.api("POST", "/organization/999999/contact", key=a.admin_key,
                                       json_body={"user_id": uid}))
    errors(r, 404, "organization_not_found")
    for body, code in [({}, "field_required"), ({"user_id": "1"}, "field_invalid"),
                       ({"user_id": 0}, "field_invalid"), ({"user_id": -5}, "field_invalid"),
                       ({"user_id": uid, "ev_approver": "yes"}, "field_invalid"),
                       ({"user_id": uid, "role": "x"}, "field_unknown")]:
        r = unchanged(srv, lambda: srv.api("POST", f"/organization/{oid}/contact",
                                           key=a.admin_key, json_body=body))
        errors(r, 400, code)


def test_organisations_of_another_account_are_not_found(srv, world):
    a, b = world
    oid = new_org(srv, a)
    for role in ("administrator", "limited_user"):
        errors(srv.api("GET", f"/organization/{oid}", key=b.key(role)), 404,
               "organization_not_found")
    r = unchanged(srv, lambda: srv.api("POST", f"/organization/{oid}/contact", key=b.admin_key,
                                       json_body={"user_id": b.admin_id}))
    errors(r, 404, "organization_not_found")
    ids = [o["id"] for o in srv.ok("GET", "/organization?limit=1000",
                                   key=b.admin_key)["organizations"]]
    assert oid not in ids
    r = unchanged(srv, lambda: srv.api("POST", "/domain", key=b.admin_key,
                                       json_body={"name": uniq(), "organization": {"id": oid}}))
    errors(r, 404, "organization_not_found")


# ---- domains -----------------------------------------------------------------------------------

def test_domain_create_normalises_and_answers_a_txt_token(srv, world):
    a, _ = world
    name = uniq("example.com")
    oid = new_org(srv, a)
    r = srv.api("POST", "/domain", key=a.key("manager"),
                json_body={"name": name.upper(), "organization": {"id": oid}})
    assert r.status_code == 201, r.text
    d = r.json()
    assert d["name"] == name and d["dcv_method"] == "dns-txt-token"
    t = d["dcv_token"]
    assert re.fullmatch(r"[0-9a-f]{32}", t["token"]) and t["verification_value"] == t["token"]
    assert t["record_name"] == "_dnsauth." + name
    assert near(t["expiration_date"], time.time() + 30 * DAY)
    got = srv.ok("GET", f"/domain/{d['id']}", key=a.key("limited_user"))
    assert got["name"] == name and got["status"] == "pending"
    assert got["validated_at"] is None and got["valid_until"] is None
    assert got["organization"] == {"id": oid} and got["dcv_token"] == t
    assert audit_actions(srv, "domain", d["id"]) == ["domain.create"]


def test_domain_create_accepts_an_idn(srv, world):
    a, _ = world
    d = new_domain(srv, a, name="bücher-" + uniq("example.net"))
    assert d["name"].startswith("xn--")


def test_domain_twice_in_one_account_is_409_but_fine_in_another(srv, world):
    a, b = world
    name = uniq()
    first = new_domain(srv, a, name=name)
    r = unchanged(srv, lambda: srv.api("POST", "/domain", key=a.admin_key,
                                       json_body={"name": name.upper()}))
    assert str(first["id"]) in errors(r, 409, "domain_exists")
    assert new_domain(srv, b, name=name)["id"] != first["id"]


@pytest.mark.parametrize("body,status,code", [
    ({"name": "*.example.org"}, 400, "name_invalid"),
    ({"name": "192.0.2.1"}, 400, "name_invalid"),
    ({"name": "2001:db8::1"}, 400, "name_invalid"),
    ({"name": "localhost"}, 400, "name_invalid"),
    ({"name": "server.local"}, 400, "name_invalid"),
    ({"name": "co.uk"}, 400, "name_invalid"),
    ({"name": "bad_name.example.org"}, 400, "name_invalid"),
    ({"name": " example.org"}, 400, "name_invalid"),
    ({"name": ""}, 400, "name_invalid"),
    ({"name": "a" * 10000 + ".example.org"}, 400, "field_invalid"),
    ({"name": SQLI[0]}, 400, "name_invalid"),
    ({"name": SQLI[1]}, 400, "name_invalid"),
    ({}, 400, "field_required"),
    ({"name": 7}, 400, "field_invalid"),
    ({"name": "ok.example.org", "dcv_method": "carrier-pigeon"}, 400, "dcv_method_invalid"),
    ({"name": "ok.example.org", "dcv_method": 1}, 400, "field_invalid"),
    ({"name": "ok.example.org", "organization": 5}, 400, "field_invalid"),
    ({"name": "ok.example.org", "organization": {}}, 400, "field_required"),
    ({"name": "ok.example.org", "organization": {"id": "1"}}, 400, "field_invalid"),
    ({"name": "ok.example.org", "organization": {"id": 1, "x": 1}}, 400, "field_unknown"),
    ({"name": "ok.example.org", "organization": {"id": 999999}}, 404, "organization_not_found"),
    ({"name": "ok.example.org", "status": "active"}, 400, "field_unknown"),
])
def test_domain_create_refuses_bad_input(srv, world, body, status, code):
    a, _ = world
    r = unchanged(srv, lambda: srv.api("POST", "/domain", key=a.admin_key, json_body=body))
    errors(r, status, code)


def test_domain_create_refuses_malformed_json(srv, world):
    a, _ = world
    r = unchanged(srv, lambda: srv.api("POST", "/domain", key=a.admin_key, data='{"name":'))
    errors(r, 400, "invalid_json")


def test_domain_list_pages_and_filters(srv, world):
    _, b = world
    oid = new_org(srv, b)
    names = [uniq("example.net") for _ in range(3)]
    ids = [new_domain(srv, b, name=n, **({"organization": {"id": oid}} if i != 1 else {}))["id"]
           for i, n in enumerate(names)]
    lst = srv.ok("GET", "/domain?limit=1000", key=b.key("limited_user"))
    mine = [d for d in lst["domains"] if d["id"] in ids]
    assert [d["name"] for d in mine] == names
    assert all(d["status"] == "pending" and d["dcv_token"]["token"] for d in mine)
    assert lst["page"]["total"] == len(lst["domains"])
    lst = srv.ok("GET", f"/domain?filters[org_id]={oid}", key=b.admin_key)
    assert [d["id"] for d in lst["domains"]] == [ids[0], ids[2]]
    lst = srv.ok("GET", f"/domain?filters[name]={names[1]}", key=b.admin_key)
    assert [d["id"] for d in lst["domains"]] == [ids[1]]
    assert lst["page"] == {"total": 1, "limit": 100, "offset": 0}
    lst = srv.ok("GET", f"/domain?filters[org_id]={oid}&sort=-id&limit=1&offset=1",
                 key=b.admin_key)
    assert [d["id"] for d in lst["domains"]] == [ids[0]] and lst["page"]["total"] == 2
    lst = srv.ok("GET", "/domain?filters[name]=" + SQLI[0], key=b.admin_key)
    assert lst["domains"] == []
    errors(srv.api("GET", "/domain?sort=dcv_value", key=b.admin_key), 400, "field_invalid")
    errors(srv.api("GET", "/domain?filters[dcv_value]=x", key=b.admin_key), 400,
           "field_invalid")
    errors(srv.api("GET", "/domain?offset=-1", key=b.admin_key), 400, "field_invalid")


def test_domain_roles(srv, world):
    a, _ = world
    d = new_domain(srv, a)
    for role in ("standard_user", "limited_user"):
        k = a.key(role)
        errors(unchanged(srv, lambda: srv.api("POST", "/domain", key=k,
                                              json_body={"name": uniq()})), 403, "forbidden")
        errors(unchanged(srv, lambda: srv.api("PUT", f"/domain/{d['id']}/dcv/method", key=k,
                                              json_body={"dcv_method": "email"})),
               403, "forbidden")
        errors(unchanged(srv, lambda: srv.api("PUT", f"/domain/{d['id']}/dcv/validate-token",
                                              key=k)), 403, "forbidden")
        assert srv.ok("GET", f"/domain/{d['id']}", key=k)["id"] == d["id"]
    errors(srv.api("GET", "/domain", key=srv.operator_key), 403, "forbidden")
    errors(srv.api("GET", f"/domain/{d['id']}"), 401, "unauthorized")


# ---- DCV by DNS ------------------------------------------------------------------------------

def test_dns_txt_token_passes(srv, world, net):
    a, _ = world
    d = new_domain(srv, a)
    net.publish(txt={"_dnsauth." + d["name"]: ["unrelated", d["dcv_token"]["token"]]})
    r = srv.api("PUT", f"/domain/{d['id']}/dcv/validate-token", key=a.key("manager"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "active" and near(body["valid_until"], time.time() + 199 * DAY)
    got = srv.ok("GET", f"/domain/{d['id']}", key=a.admin_key)
    assert got["status"] == "active" and near(got["validated_at"], time.time())
    assert near(got["valid_until"], time.time() + 199 * DAY)
    assert audit_actions(srv, "domain", d["id"]) == ["domain.create", "domain.validate"]


def test_dns_txt_token_at_the_domain_itself_passes(srv, world, net):
    a, _ = world
    d = new_domain(srv, a)
    net.publish(txt={d["name"]: [d["dcv_token"]["token"]]})
    assert srv.ok("PUT", f"/domain/{d['id']}/dcv/validate-token",
                  key=a.admin_key)["status"] == "active"


def test_dns_txt_token_with_a_wrong_value_fails(srv, world, net):
    a, _ = world
    d = new_domain(srv, a)
    net.publish(txt={"_dnsauth." + d["name"]: ["0" * 32]})
    r = unchanged(srv, lambda: srv.api("PUT", f"/domain/{d['id']}/dcv/validate-token",
                                       key=a.admin_key))
    assert "_dnsauth." + d["name"] in errors(r, 422, "dcv_txt_not_found")
    assert srv.ok("GET", f"/domain/{d['id']}", key=a.admin_key)["status"] == "pending"


def test_dns_txt_token_without_a_record_fails(srv, world):
    a, _ = world
    d = new_domain(srv, a)
    r = unchanged(srv, lambda: srv.api("PUT", f"/domain/{d['id']}/dcv/validate-token",
                                       key=a.admin_key))
    errors(r, 422, "dcv_txt_not_found")


def test_dns_cname_token_passes(srv, world, net):
    a, _ = world
    d = new_domain(srv, a, dcv_method="dns-cname-token")
    t = d["dcv_token"]
    assert t["verification_value"] == CNAME_TARGET
    assert t["record_name"] == f"{t['token']}.{d['name']}"
    net.publish(cname={t["record_name"]: CNAME_TARGET})
    r = srv.api("PUT", f"/domain/{d['id']}/dcv/validate-token", key=a.admin_key)
    assert r.status_code == 200 and r.json()["status"] == "active", r.text


def test_dns_cname_token_with_a_wrong_target_fails(srv, world, net):
    a, _ = world
    d = new_domain(srv, a, dcv_method="dns-cname-token")
    net.publish(cname={d["dcv_token"]["record_name"]: "dcv.other-ca.example.net"})
    r = unchanged(srv, lambda: srv.api("PUT", f"/domain/{d['id']}/dcv/validate-token",
                                       key=a.admin_key))
    assert "dcv.other-ca.example.net" in errors(r, 422, "dcv_cname_not_found")


def test_dns_cname_token_without_a_record_fails(srv, world):
    a, _ = world
    d = new_domain(srv, a, dcv_method="dns-cname-token")
    r = unchanged(srv, lambda: srv.api("PUT", f"/domain/{d['id']}/dcv/validate-token",
                                       key=a.admin_key))
    errors(r, 422, "dcv_cname_not_found")


# ---- DCV by HTTP -----------------------------------------------------------------------------

def test_http_token_passes_through_http_resolve(srv, world, net):
    _, b = world
    d = new_domain(srv, b, name="www.example.com", dcv_method="http-token")
    t = d["dcv_token"]
    assert t["http_token_url"] == "http://www.example.com" + FILE
    net.web.routes["www.example.com" + FILE] = t["token"] + "\n"
    r = srv.api("PUT", f"/domain/{d['id']}/dcv/validate-token", key=b.admin_key)
    assert r.status_code == 200 and r.json()["status"] == "active", r.text
    assert ("www.example.com", FILE) in net.web.requests


def test_http_token_passes_through_dns(srv, world, net):
    a, _ = world
    d = new_domain(srv, a, dcv_method="http-token")
    net.publish(a={d["name"]: net.web.ip})
    net.web.routes[d["name"] + FILE] = "token: " + d["dcv_token"]["token"]
    r = srv.api("PUT", f"/domain/{d['id']}/dcv/validate-token", key=a.admin_key)
    assert r.status_code == 200 and r.json()["status"] == "active", r.text


def test_http_token_404_fails(srv, world, net):
    a, _ = world
    d = new_domain(srv, a, dcv_method="http-token")
    net.publish(a={d["name"]: net.web.ip})
    r = unchanged(srv, lambda: srv.api("PUT", f"/domain/{d['id']}/dcv/validate-token",
                                       key=a.admin_key))
    assert "404" in errors(r, 422, "http_fetch_failed")


def test_http_token_with_another_value_fails(srv, world, net):
    a, _ = world
    d = new_domain(srv, a, dcv_method="http-token")
    net.publish(a={d["name"]: net.web.ip})
    net.web.routes[d["name"] + FILE] = "f" * 32
    r = unchanged(srv, lambda: srv.api("PUT", f"/domain/{d['id']}/dcv/validate-token",
                                       key=a.admin_key))
    errors(r, 422, "dcv_http_not_found")


def test_http_token_redirect_to_port_8080_is_refused(srv, world, net):
    a, _ = world
    d = new_domain(srv, a, dcv_method="http-token")
    net.publish(a={d["name"]: net.web.ip})
    net.web.routes[d["name"] + FILE] = (302, {"Location": f"http://{d['name']}:8080{FILE}"}, "")
    r = unchanged(srv, lambda: srv.api("PUT", f"/domain/{d['id']}/dcv/validate-token",
                                       key=a.admin_key))
    assert "8080" in errors(r, 422, "http_redirect_refused")


def test_http_token_redirect_to_port_80_passes(srv, world, net):
    a, _ = world
    d = new_domain(srv, a, dcv_method="http-token")
    net.publish(a={d["name"]: net.web.ip})
    net.web.routes[d["name"] + FILE] = (301, {"Location": f"http://{d['name']}/moved"}, "")
    net.web.routes[d["name"] + "/moved"] = d["dcv_token"]["token"]
    assert srv.ok("PUT", f"/domain/{d['id']}/dcv/validate-token",
                  key=a.admin_key)["status"] == "active"


# ---- DCV method changes ----------------------------------------------------------------------

def test_set_method_makes_a_new_value_and_keeps_a_current_validation(srv, world, net):
    a, _ = world
    d = new_domain(srv, a)
    net.publish(txt={"_dnsauth." + d["name"]: [d["dcv_token"]["token"]]})
    srv.ok("PUT", f"/domain/{d['id']}/dcv/validate-token", key=a.admin_key)
    r = srv.api("PUT", f"/domain/{d['id']}/dcv/method", key=a.key("manager"),
                json_body={"dcv_method": "http-token"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["id"] == d["id"] and body["dcv_method"] == "http-token"
    t = body["dcv_token"]
    assert t["token"] != d["dcv_token"]["token"] and t["verification_value"] == t["token"]
    assert near(t["expiration_date"], time.time() + 30 * DAY)
    got = srv.ok("GET", f"/domain/{d['id']}", key=a.admin_key)
    assert got["status"] == "active" and got["dcv_method"] == "http-token"
    assert got["dcv_token"]["token"] == t["token"]
    assert audit_actions(srv, "domain", d["id"]) == ["domain.create", "domain.validate",
                                                     "domain.dcv_method"]
    # the old TXT value no longer proves anything: the domain now checks over HTTP
    net.publish(a={d["name"]: net.web.ip})
    errors(unchanged(srv, lambda: srv.api("PUT", f"/domain/{d['id']}/dcv/validate-token",
                                          key=a.admin_key)), 422, "http_fetch_failed")


@pytest.mark.parametrize("body,code", [
    ({}, "field_required"), ({"dcv_method": "ftp"}, "dcv_method_invalid"),
    ({"dcv_method": None}, "field_required"), ({"dcv_method": ["email"]}, "field_invalid"),
    ({"dcv_method": "email", "to": "me@example.org"}, "field_unknown"),
])
def test_set_method_refuses_bad_input(srv, world, body, code):
    a, _ = world
    d = new_domain(srv, a)
    r = unchanged(srv, lambda: srv.api("PUT", f"/domain/{d['id']}/dcv/method", key=a.admin_key,
                                       json_body=body))
    errors(r, 400, code)


def test_domain_paths_with_bad_ids_and_bodies(srv, world):
    a, _ = world
    d = new_domain(srv, a)
    for path in ("/domain/abc", "/domain/0", "/domain/-1", "/domain/1.5"):
        errors(srv.api("GET", path, key=a.admin_key), 400, "invalid_path")
    errors(unchanged(srv, lambda: srv.api("PUT", "/domain/x/dcv/method", key=a.admin_key,
                                          json_body={"dcv_method": "email"})),
           400, "invalid_path")
    errors(unchanged(srv, lambda: srv.api("PUT", f"/domain/{d['id']}/dcv/validate-token",
                                          key=a.admin_key, json_body={"force": True})),
           400, "field_unknown")
    errors(unchanged(srv, lambda: srv.api("PUT", f"/domain/{d['id']}/dcv/validate-token",
                                          key=a.admin_key, data="{")), 400, "invalid_json")
    errors(srv.api("GET", "/domain/999999", key=a.admin_key), 404, "domain_not_found")


# ---- DCV by email ----------------------------------------------------------------------------

def code_of(srv, domain_id):
    return srv.query("SELECT dcv_value FROM domains WHERE id = ?", domain_id)[0][0]


def mails_to(net, name, since):
    return [m for m in net.smtp.messages()[since:] if str(m["To"]).endswith("@" + name)]


def test_email_dcv_end_to_end(srv, world, net):
    a, _ = world
    d = new_domain(srv, a)
    seen = len(net.smtp.messages())
    queued = outbox_count(srv)
    r = srv.api("PUT", f"/domain/{d['id']}/dcv/method", key=a.admin_key,
                json_body={"dcv_method": "email"})
    assert r.status_code == 200, r.text
    code = code_of(srv, d["id"])
    assert re.fullmatch(r"[0-9a-f]{32}", code) and code not in r.text
    t = r.json()["dcv_token"]
    assert t["emails"] == [f"{l}@{d['name']}" for l in EMAIL_LOCALS]
    assert near(t["expiration_date"], time.time() + 30 * DAY) and "token" not in t
    got = srv.ok("GET", f"/domain/{d['id']}", key=a.admin_key)
    assert code not in str(got) and got["dcv_token"]["emails"] == t["emails"]
    assert outbox_count(srv) == queued + 5
    rows = srv.query("SELECT to_addr, account_id FROM mail ORDER BY id DESC LIMIT 5")
    assert sorted(x[0] for x in rows) == sorted(t["emails"]) and {x[1] for x in rows} == {a.id}

    deadline = time.time() + 60
    while len(mails_to(net, d["name"], seen)) < 5 and time.time() < deadline:
        time.sleep(0.2)
    mails = mails_to(net, d["name"], seen)
    assert sorted(str(m["To"]) for m in mails) == sorted(t["emails"])
    for m in mails:
        assert d["name"] in str(m["Subject"]) and str(m["From"]) == "certmint@example.com"
        assert CODE_RE.findall(text_of(m)) == [code, code]
        assert "/services/v2/dcv/email/confirm" in text_of(m)
    mailed = CODE_RE.findall(text_of(mails[0]))[0]

    errors(srv.api("PUT", f"/domain/{d['id']}/dcv/validate-token", key=a.admin_key), 409,
           "domain_state")
    wrong = ("0" if mailed[0] != "0" else "1") + mailed[1:]
    for bad in (wrong, mailed[:8] + "0" * 24, mailed.upper() + "0"):
        errors(unchanged(srv, lambda: srv.api("POST", "/dcv/email/confirm",
                                              json_body={"code": bad})), 404,
               "dcv_code_invalid")
    r = srv.api("POST", "/dcv/email/confirm", json_body={"code": mailed})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "active" and r.json()["name"] == d["name"]
    got = srv.ok("GET", f"/domain/{d['id']}", key=a.admin_key)
    assert got["status"] == "active" and near(got["valid_until"], time.time() + 199 * DAY)
    assert got["dcv_token"] is None and code_of(srv, d["id"]) == ""
    assert audit_actions(srv, "domain", d["id"]) == ["domain.create", "domain.dcv_method",
                                                     "domain.validate"]
    errors(unchanged(srv, lambda: srv.api("POST", "/dcv/email/confirm",
                                          json_body={"code": mailed})), 404,
           "dcv_code_invalid")


def test_email_method_at_creation_sends_the_mails(srv, world):
    _, b = world
    queued = outbox_count(srv)
    d = new_domain(srv, b, dcv_method="email")
    assert "token" not in d["dcv_token"] and len(d["dcv_token"]["emails"]) == 5
    assert outbox_count(srv) == queued + 5


@pytest.mark.parametrize("body,code", [
    ({}, "field_required"), ({"code": 12345}, "field_invalid"),
    ({"code": "x" * 1000}, "field_invalid"), ({"code": "a", "domain": "x"}, "field_unknown"),
])
def test_email_confirm_refuses_bad_input(srv, body, code):
    errors(unchanged(srv, lambda: srv.api("POST", "/dcv/email/confirm", json_body=body)), 400,
           code)


@pytest.mark.parametrize("code", ["", "nothex" * 5 + "zz", SQLI[0], "%" * 32, "_" * 32])
def test_email_confirm_with_junk_codes_is_404(srv, code):
    errors(unchanged(srv, lambda: srv.api("POST", "/dcv/email/confirm",
                                          json_body={"code": code})), 404, "dcv_code_invalid")


# ---- isolation ---------------------------------------------------------------------------------

def test_domains_of_another_account_are_not_found_on_every_endpoint(srv, world, net):
    a, b = world
    d = new_domain(srv, a)
    net.publish(txt={"_dnsauth." + d["name"]: [d["dcv_token"]["token"]]})
    k = b.admin_key
    errors(srv.api("GET", f"/domain/{d['id']}", key=k), 404, "domain_not_found")
    errors(unchanged(srv, lambda: srv.api("PUT", f"/domain/{d['id']}/dcv/method", key=k,
                                          json_body={"dcv_method": "email"})),
           404, "domain_not_found")
    errors(unchanged(srv, lambda: srv.api("PUT", f"/domain/{d['id']}/dcv/validate-token",
                                          key=k)), 404, "domain_not_found")
    assert d["id"] not in [x["id"] for x in srv.ok("GET", "/domain?limit=1000",
                                                     key=k)["domains"]]
    assert srv.ok("GET", f"/domain?filters[name]={d['name']}", key=k)["domains"] == []
    assert srv.ok("GET", f"/domain/{d['id']}", key=a.admin_key)["status"] == "pending"


# ---- the clock moves (last: they move the server's clock and put it back) ---------------------

@pytest.fixture
def moved(clock):
    yield lambda spec: move_clock(clock, spec)
    move_clock(clock, "+0d")


def test_random_value_expires_after_30_days(srv, world, net, moved):
    a, _ = world
    d = new_domain(srv, a)
    net.publish(txt={"_dnsauth." + d["name"]: [d["dcv_token"]["token"]]})
    moved("+31d")
    r = unchanged(srv, lambda: srv.api("PUT", f"/domain/{d['id']}/dcv/validate-token",
                                       key=a.admin_key))
    assert "dcv/method" in errors(r, 422, "dcv_value_expired")
    # a new value works again
    t = srv.ok("PUT", f"/domain/{d['id']}/dcv/method", key=a.admin_key,
               json_body={"dcv_method": "dns-txt-token"})["dcv_token"]
    assert near(t["expiration_date"], time.time() + 61 * DAY)
    net.publish(txt={"_dnsauth." + d["name"]: [t["token"]]})
    assert srv.ok("PUT", f"/domain/{d['id']}/dcv/validate-token",
                  key=a.admin_key)["status"] == "active"


def test_email_code_expires_after_30_days(srv, world, moved):
    a, _ = world
    d = new_domain(srv, a, dcv_method="email")
    code = code_of(srv, d["id"])
    moved("+31d")
    errors(unchanged(srv, lambda: srv.api("POST", "/dcv/email/confirm",
                                          json_body={"code": code})), 404, "dcv_code_invalid")


def test_validation_expires_after_199_days(srv, world, net, moved):
    a, _ = world
    d = new_domain(srv, a)
    net.publish(txt={"_dnsauth." + d["name"]: [d["dcv_token"]["token"]]})
    srv.ok("PUT", f"/domain/{d['id']}/dcv/validate-token", key=a.admin_key)
    moved("+198d")
    assert srv.ok("GET", f"/domain/{d['id']}", key=a.admin_key)["status"] == "active"
    moved("+200d")
    got = srv.ok("GET", f"/domain/{d['id']}", key=a.admin_key)
    assert got["status"] == "expired" and got["validated_at"] is not None
    listed = srv.ok("GET", f"/domain?filters[name]={d['name']}", key=a.admin_key)["domains"]
    assert [x["status"] for x in listed] == ["expired"]


def test_org_vetting_expires(srv, world, moved):
    a, _ = world
    oid = new_org(srv, a)
    srv.ok("PUT", f"/organization/{oid}/validation", key=srv.operator_key,
           json_body={"validations": [{"type": "ov"}]})
    moved("+399d")
    [v] = srv.ok("GET", f"/organization/{oid}", key=a.admin_key)["validations"]
    assert v["type"] == "ov" and v["status"] == "expired"
