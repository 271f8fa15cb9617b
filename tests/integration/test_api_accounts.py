"""REST API of accounts, users, API keys, account settings and the audit log against a real
`certmint serve`: the operator creates accounts; every endpoint's success body; authentication
(401 without a key, with a malformed, unknown or revoked key); the role rules of R-O1 (403 where
a role may not act); isolation between accounts (404, nothing changes); settings round trips and
bounds; the audit trail with its actors; bad input on every body (malformed JSON, wrong types,
missing and unknown fields, long strings, SQL metacharacters, an oversized body) answered with
the right 4xx and an unchanged store; and that no API key ever reaches the log or the database."""

import hashlib
import itertools
import json
import re
from urllib.parse import quote

import pytest

from server import Server

MAX_BODY = 65536
KEY_RE = re.compile(r"^cm_[a-z2-7]{12}_[a-z2-7]{52}$")
ROLES = ["administrator", "manager", "standard_user", "limited_user"]
SETTINGS = ["allow_duplicates", "skip_approval", "reissue_revoke_delay_hours",
            "renewal_window_days", "auto_renew_days"]
DEFAULTS = {"allow_duplicates": True, "skip_approval": False, "reissue_revoke_delay_hours": 72,
            "renewal_window_days": 90, "auto_renew_days": 30}
SQLI = ["x' OR '1'='1", "'; DROP TABLE users; --", "\" OR 1=1 --", "a%' UNION SELECT * FROM "
        "api_keys --", "Robert'); DELETE FROM accounts;--"]

_seq = itertools.count(1)
ALL_KEYS = []  # every plaintext key this module saw, for the secrecy checks at the end


def email(domain="example.com"):
    return f"user{next(_seq)}@{domain}"


def remember(key):
    assert KEY_RE.match(key), key
    ALL_KEYS.append(key)
    return key


def errors(r, status, code):
    """Asserts an error answer: the status, the shape and the code; returns the message."""
    assert r.status_code == status, f"{r.status_code} {r.text}"
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert list(body) == ["errors"] and len(body["errors"]) == 1, body
    e = body["errors"][0]
    assert e["code"] == code, body
    assert isinstance(e["message"], str) and len(e["message"]) > 10, body
    return e["message"]


class Acct:
    def __init__(self, id, admin_id, admin_key):
        self.id = id
        self.admin_id = admin_id
        self.admin_key = admin_key
        self.users = {}  # role -> (user id, key)


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("accounts"), conf={"max_body": MAX_BODY})
    s.start()
    yield s
    s.stop()


def make_account(srv, name, admin_email):
    r = srv.api("POST", "/account", key=srv.operator_key,
                json_body={"name": name, "admin": {"email": admin_email, "first_name": "Ada",
                                                   "last_name": "Admin"}})
    assert r.status_code == 201, r.text
    b = r.json()
    assert set(b) == {"id", "admin_user_id", "admin_api_key"}, b
    return Acct(b["id"], b["admin_user_id"], remember(b["admin_api_key"]))


def add_user(srv, acct, role, mail=None):
    """A user of `role` with a key made by the account's administrator."""
    r = srv.api("POST", "/user", key=acct.admin_key,
                json_body={"email": mail or email(), "first_name": "Una", "last_name": role,
                           "role": role})
    assert r.status_code == 201, r.text
    uid = r.json()["id"]
    r = srv.api("POST", "/key", key=acct.admin_key, json_body={"user_id": uid, "name": role})
    assert r.status_code == 201, r.text
    return uid, remember(r.json()["api_key"])


@pytest.fixture(scope="module")
def world(srv):
    a = make_account(srv, "Example Corp A", "admin@a.example.com")
    b = make_account(srv, "Example Corp B", "admin@b.example.net")
    for acct in (a, b):
        acct.users["administrator"] = (acct.admin_id, acct.admin_key)
        for role in ROLES[1:]:
            acct.users[role] = add_user(srv, acct, role)
    return a, b


def unchanged(srv, call):
    """Runs call() and asserts every table of the store is the same afterwards."""
    before = srv.snapshot()
    r = call()
    assert srv.snapshot() == before, "the store changed"
    return r


def key_id_of(srv, acct, key):
    """The id of a key of the account, found by its public prefix."""
    keys = srv.ok("GET", "/key?limit=1000", key=acct.admin_key)["api_keys"]
    match = [k for k in keys if key.startswith(k["prefix"] + "_")]
    assert len(match) == 1, keys
    return match[0]["id"]


# ---- accounts (operator) ---------------------------------------------------------------------

def test_account_create_answers_ids_and_a_working_admin_key(srv, world):
    a, _ = world
    assert a.id > 0 and a.admin_id > 0
    u = srv.ok("GET", f"/user/{a.admin_id}", key=a.admin_key)
    assert u == {"id": a.admin_id, "account_id": a.id, "email": "admin@a.example.com",
                 "first_name": "Ada", "last_name": "Admin", "role": "administrator",
                 "status": "active", "created_at": u["created_at"]}
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", u["created_at"])


def test_account_get_and_list_by_operator(srv, world):
    a, b = world
    got = srv.ok("GET", f"/account/{a.id}", key=srv.operator_key)
    assert got["id"] == a.id and got["name"] == "Example Corp A"
    assert got["settings"] == DEFAULTS
    lst = srv.ok("GET", "/account?limit=1000", key=srv.operator_key)
    ids = [x["id"] for x in lst["accounts"]]
    assert a.id in ids and b.id in ids and ids == sorted(ids)
    assert lst["page"] == {"total": len(ids), "limit": 1000, "offset": 0}
    one = srv.ok("GET", "/account?limit=1&offset=1&sort=-id", key=srv.operator_key)
    assert one["page"] == {"total": len(ids), "limit": 1, "offset": 1}
    assert [x["id"] for x in one["accounts"]] == [sorted(ids, reverse=True)[1]]
    named = srv.ok("GET", "/account?filters[name]=Example%20Corp%20B", key=srv.operator_key)
    assert [x["id"] for x in named["accounts"]] == [b.id] and named["page"]["total"] == 1
    errors(srv.api("GET", "/account/999999", key=srv.operator_key), 404, "account_not_found")
    errors(srv.api("GET", "/account/abc", key=srv.operator_key), 400, "invalid_path")


@pytest.mark.parametrize("role", ROLES)
def test_account_endpoints_refuse_account_keys(srv, world, role):
    a, _ = world
    key = a.users[role][1]
    body = {"name": "Sneaky", "admin": {"email": email(), "first_name": "X", "last_name": "Y"}}
    unchanged(srv, lambda: errors(srv.api("POST", "/account", key=key, json_body=body), 403,
                                  "forbidden"))
    errors(srv.api("GET", "/account", key=key), 403, "forbidden")
    errors(srv.api("GET", f"/account/{a.id}", key=key), 403, "forbidden")


def test_operator_key_has_no_users_keys_or_settings(srv, world):
    op = srv.operator_key
    errors(srv.api("GET", "/account/settings", key=op), 403, "forbidden")
    unchanged(srv, lambda: errors(srv.api("PUT", "/account/settings", key=op,
                                          json_body={"skip_approval": True}), 403, "forbidden"))
    unchanged(srv, lambda: errors(srv.api("POST", "/user", key=op, json_body={
        "email": email(), "first_name": "O", "last_name": "P", "role": "manager"}), 403,
        "forbidden"))
    errors(srv.api("GET", "/user", key=op), 403, "forbidden")


# ---- authentication --------------------------------------------------------------------------

def test_401_without_or_with_a_bad_key(srv, world):
    a, _ = world
    real = a.admin_key
    forged_secret = real[:16] + ("a" * 52 if real[16:] != "a" * 52 else "b" * 52)
    unknown_prefix = "cm_" + "a" * 12 + real[15:]
    for key in (None, "", "nonsense", real + "x", real[:-1], real.upper(), forged_secret,
                unknown_prefix, "cm_' OR 1=1 --", "x" * 5000):
        r = srv.api("GET", "/user", key=key)
        errors(r, 401, "unauthorized")
        if key:
            assert key not in r.text
    for path in ("/key", "/account/settings", "/audit", f"/user/{a.admin_id}"):
        errors(srv.api("GET", path, key=forged_secret), 401, "unauthorized")
    unchanged(srv, lambda: errors(srv.api("POST", "/user", key=forged_secret, json_body={
        "email": email(), "first_name": "F", "last_name": "G", "role": "administrator"}), 401,
        "unauthorized"))


def test_revoked_key_is_refused(srv, world):
    a, _ = world
    uid, key = add_user(srv, a, "standard_user")
    assert srv.ok("GET", f"/user/{uid}", key=key)["id"] == uid
    kid = key_id_of(srv, a, key)
    r = srv.api("DELETE", f"/key/{kid}", key=a.admin_key)
    assert r.status_code == 204 and r.content == b""
    errors(srv.api("GET", f"/user/{uid}", key=key), 401, "unauthorized")
    k = [x for x in srv.ok("GET", f"/key?filters[user_id]={uid}", key=a.admin_key)["api_keys"]
         if x["id"] == kid][0]
    assert k["status"] == "revoked" and k["revoked_at"] is not None


# ---- users ------------------------------------------------------------------------------------

def test_user_create_and_get(srv, world):
    a, _ = world
    mail = email("example.org")
    r = srv.api("POST", "/user", key=a.admin_key, json_body={
        "email": mail.upper(), "first_name": "Zoë", "last_name": "Ångström", "role": "manager"})
    assert r.status_code == 201 and set(r.json()) == {"id"}, r.text
    uid = r.json()["id"]
    u = srv.ok("GET", f"/user/{uid}", key=a.admin_key)
    assert (u["email"], u["first_name"], u["last_name"], u["role"], u["status"],
            u["account_id"]) == (mail, "Zoë", "Ångström", "manager", "active", a.id)
    assert "password_hash" not in u
    # the same address again (any case) is taken
    unchanged(srv, lambda: errors(srv.api("POST", "/user", key=a.admin_key, json_body={
        "email": mail, "first_name": "Z", "last_name": "A", "role": "limited_user"}), 409,
        "user_exists"))
    errors(srv.api("GET", "/user/99999999", key=a.admin_key), 404, "user_not_found")
    errors(srv.api("GET", "/user/0", key=a.admin_key), 400, "invalid_path")


def test_user_list_by_role(srv, world):
    a, _ = world
    for role in ("administrator", "manager"):
        lst = srv.ok("GET", "/user?limit=1000", key=a.users[role][1])
        ids = [u["id"] for u in lst["users"]]
        assert {uid for uid, _ in a.users.values()} <= set(ids)
        assert all(u["account_id"] == a.id for u in lst["users"])
        assert lst["page"] == {"total": len(ids), "limit": 1000, "offset": 0}
    mgrs = srv.ok("GET", "/user?filters[role]=manager", key=a.admin_key)
    assert mgrs["users"] and all(u["role"] == "manager" for u in mgrs["users"])
    for role in ("standard_user", "limited_user"):
        uid, key = a.users[role]
        lst = srv.ok("GET", "/user", key=key)
        assert [u["id"] for u in lst["users"]] == [uid]
        assert lst["page"] == {"total": 1, "limit": 100, "offset": 0}
        assert srv.ok("GET", "/user?filters[role]=manager", key=key)["users"] == []
        assert srv.ok("GET", f"/user/{uid}", key=key)["id"] == uid
        errors(srv.api("GET", f"/user/{a.admin_id}", key=key), 403, "forbidden")
    errors(srv.api("GET", "/user?sort=password_hash", key=a.admin_key), 400, "field_invalid")
    errors(srv.api("GET", "/user?limit=1001", key=a.admin_key), 400, "field_invalid")


@pytest.mark.parametrize("role", ["manager", "standard_user", "limited_user"])
def test_only_administrators_create_users(srv, world, role):
    a, _ = world
    body = {"email": email(), "first_name": "N", "last_name": "O", "role": "administrator"}
    msg = unchanged(srv, lambda: errors(srv.api("POST", "/user", key=a.users[role][1],
                                                json_body=body), 403, "forbidden"))
    assert "administrator" in msg


# ---- API keys ---------------------------------------------------------------------------------

def test_keys_for_self_and_by_administrators(srv, world):
    a, _ = world
    sid, skey = a.users["standard_user"]
    mid, _ = a.users["manager"]
    # anyone for themselves
    r = srv.api("POST", "/key", key=skey, json_body={"user_id": sid, "name": "laptop"})
    assert r.status_code == 201 and set(r.json()) == {"id", "api_key"}, r.text
    own = remember(r.json()["api_key"])
    assert srv.ok("GET", "/user", key=own)["users"][0]["id"] == sid
    # not for someone else
    unchanged(srv, lambda: errors(srv.api("POST", "/key", key=skey, json_body={
        "user_id": mid, "name": "theirs"}), 403, "forbidden"))
    # administrators list every key, without secrets
    lst = srv.ok("GET", "/key?limit=1000", key=a.admin_key)
    assert lst["page"]["total"] == len(lst["api_keys"])
    mine = [k for k in lst["api_keys"] if k["id"] == r.json()["id"]][0]
    assert set(mine) == {"id", "user_id", "name", "prefix", "status", "created_at",
                         "revoked_at"}
    assert (mine["user_id"], mine["name"], mine["status"], mine["revoked_at"]) == (
        sid, "laptop", "active", None)
    assert own.startswith(mine["prefix"] + "_") and len(mine["prefix"]) == 15
    for k in ALL_KEYS:
        assert k not in json.dumps(lst) and k[16:] not in json.dumps(lst)
    # others see only their own keys
    sl = srv.ok("GET", "/key", key=skey)
    assert sl["api_keys"] and all(k["user_id"] == sid for k in sl["api_keys"])
    assert sl["page"]["total"] == len(sl["api_keys"])
    errors(srv.api("GET", f"/key?filters[user_id]={mid}", key=skey), 403, "forbidden")
    # revoking: not another user's key; one's own, once
    admin_kid = key_id_of(srv, a, a.admin_key)
    unchanged(srv, lambda: errors(srv.api("DELETE", f"/key/{admin_kid}", key=skey), 403,
                                  "forbidden"))
    r = srv.api("DELETE", f"/key/{mine['id']}", key=skey)
    assert r.status_code == 204 and r.content == b""
    errors(srv.api("GET", "/user", key=own), 401, "unauthorized")
    unchanged(srv, lambda: errors(srv.api("DELETE", f"/key/{mine['id']}", key=a.admin_key), 409,
                                  "key_state"))
    errors(srv.api("DELETE", "/key/99999999", key=a.admin_key), 404, "key_not_found")
    errors(srv.api("POST", "/key", key=a.admin_key, json_body={"user_id": 99999999,
                                                                 "name": "x"}), 404,
           "user_not_found")


def test_a_key_can_revoke_itself(srv, world):
    a, _ = world
    lid, lkey = a.users["limited_user"]
    r = srv.api("POST", "/key", key=lkey, json_body={"user_id": lid, "name": "self-destruct"})
    assert r.status_code == 201
    k = remember(r.json()["api_key"])
    assert srv.api("DELETE", f"/key/{r.json()['id']}", key=k).status_code == 204
    errors(srv.api("GET", "/key", key=k), 401, "unauthorized")


# ---- isolation between accounts ---------------------------------------------------------------

def test_other_accounts_rows_are_not_found(srv, world):
    a, b = world
    b_user, b_key = b.users["standard_user"]
    b_kid = key_id_of(srv, b, b_key)
    for role in ("administrator", "manager"):
        errors(srv.api("GET", f"/user/{b_user}", key=a.users[role][1]), 404, "user_not_found")
    assert b_user not in [u["id"] for u in srv.ok("GET", "/user?limit=1000",
                                                  key=a.admin_key)["users"]]
    assert b_kid not in [k["id"] for k in srv.ok("GET", "/key?limit=1000",
                                                 key=a.admin_key)["api_keys"]]
    assert srv.ok("GET", f"/key?filters[user_id]={b_user}", key=a.admin_key)["api_keys"] == []
    unchanged(srv, lambda: errors(srv.api("DELETE", f"/key/{b_kid}", key=a.admin_key), 404,
                                  "key_not_found"))
    unchanged(srv, lambda: errors(srv.api("POST", "/key", key=a.admin_key, json_body={
        "user_id": b_user, "name": "stolen"}), 404, "user_not_found"))
    assert srv.ok("GET", "/user", key=b_key)["users"][0]["id"] == b_user  # still works
    events = srv.ok("GET", "/audit?limit=1000", key=a.admin_key)["events"]
    assert events and all(e["account_id"] == a.id for e in events)


# ---- settings ---------------------------------------------------------------------------------

def test_settings_round_trip(srv, world):
    a, b = world
    for role in ROLES:
        assert srv.ok("GET", "/account/settings", key=b.users[role][1]) == DEFAULTS
    got = srv.ok("PUT", "/account/settings", key=b.admin_key,
                 json_body={"allow_duplicates": False})
    assert got == dict(DEFAULTS, allow_duplicates=False)
    full = {"allow_duplicates": True, "skip_approval": True, "reissue_revoke_delay_hours": 0,
            "renewal_window_days": 365, "auto_renew_days": 90}
    assert srv.ok("PUT", "/account/settings", key=b.admin_key, json_body=full) == full
    assert srv.ok("GET", "/account/settings", key=b.users["limited_user"][1]) == full
    edge = {"reissue_revoke_delay_hours": 720, "renewal_window_days": 1, "auto_renew_days": 1}
    assert srv.ok("PUT", "/account/settings", key=b.admin_key, json_body=edge) == dict(full,
                                                                                       **edge)
    assert srv.ok("GET", f"/account/{b.id}", key=srv.operator_key)["settings"] == dict(full,
                                                                                       **edge)
    # the other account did not move
    assert srv.ok("GET", "/account/settings", key=a.admin_key) == DEFAULTS
    srv.ok("PUT", "/account/settings", key=b.admin_key, json_body=DEFAULTS)


@pytest.mark.parametrize("role", ["manager", "standard_user", "limited_user"])
def test_only_administrators_change_settings(srv, world, role):
    a, _ = world
    unchanged(srv, lambda: errors(srv.api("PUT", "/account/settings", key=a.users[role][1],
                                          json_body={"skip_approval": True}), 403, "forbidden"))


@pytest.mark.parametrize("body,code", [
    ({"reissue_revoke_delay_hours": 721}, "field_invalid"),
    ({"reissue_revoke_delay_hours": -1}, "field_invalid"),
    ({"renewal_window_days": 0}, "field_invalid"),
    ({"renewal_window_days": 366}, "field_invalid"),
    ({"auto_renew_days": 0}, "field_invalid"),
    ({"auto_renew_days": 91}, "field_invalid"),
    ({"renewal_window_days": 20}, "field_invalid"),  # below auto_renew_days (30)
    ({"auto_renew_days": 60, "renewal_window_days": 59}, "field_invalid"),
    ({"allow_duplicates": "yes"}, "field_invalid"),
    ({"allow_duplicates": 1}, "field_invalid"),
    ({"skip_approval": "false"}, "field_invalid"),
    ({"renewal_window_days": "30"}, "field_invalid"),
    ({"renewal_window_days": 30.5}, "field_invalid"),
    ({"renewal_window_days": 10 ** 12}, "field_invalid"),
    ({"renewal_window_days": 10 ** 30}, "invalid_json"),  # beyond 64 bits: jansson refuses
    ({"auto_renew_days": [30]}, "field_invalid"),
    ({"auto_renew_days": -2147483648}, "field_invalid"),
    ({"colour": "blue"}, "field_unknown"),
    ({"allow_duplicates": True, "allow_duplicate": True}, "field_unknown"),
    ({}, "field_required"),
])
def test_settings_bad_input(srv, world, body, code):
    a, _ = world
    unchanged(srv, lambda: errors(srv.api("PUT", "/account/settings", key=a.admin_key,
                                          json_body=body), 400, code))
    assert srv.ok("GET", "/account/settings", key=a.admin_key) == DEFAULTS


# ---- audit ------------------------------------------------------------------------------------

def test_audit_trail_in_order_with_actors(srv):
    c = make_account(srv, "Example Corp C", "admin@c.example.org")
    admin_kid = key_id_of(srv, c, c.admin_key)
    uid, _ = add_user(srv, c, "manager")
    mgr = srv.ok("GET", f"/key?filters[user_id]={uid}", key=c.admin_key)["api_keys"][0]
    srv.ok("DELETE", f"/key/{mgr['id']}", key=c.admin_key)
    srv.ok("PUT", "/account/settings", key=c.admin_key, json_body={"skip_approval": True,
                                                                   "renewal_window_days": 90})
    lst = srv.ok("GET", "/audit", key=c.admin_key)
    ev = lst["events"]
    assert lst["page"] == {"total": len(ev), "limit": 100, "offset": 0}
    got = [(e["action"], e["object_type"], e["object_id"], e["user_id"], e["key_id"],
            e["operator"]) for e in ev]
    assert got == [
        ("user.create", "user", c.admin_id, 0, got[0][4], True),
        ("key.create", "key", admin_kid, 0, got[0][4], True),
        ("user.create", "user", uid, c.admin_id, admin_kid, False),
        ("key.create", "key", mgr["id"], c.admin_id, admin_kid, False),
        ("key.revoke", "key", mgr["id"], c.admin_id, admin_kid, False),
        ("settings.update", "account", c.id, c.admin_id, admin_kid, False),
    ]
    assert got[0][4] > 0  # the operator's key
    ids = [e["id"] for e in ev]
    assert ids == sorted(ids) and all(e["account_id"] == c.id for e in ev)
    assert ev[2]["detail"] == {"email": srv.ok("GET", f"/user/{uid}", key=c.admin_key)["email"],
                               "role": "manager"}
    assert ev[5]["detail"] == {"skip_approval": {"from": False, "to": True}}
    assert all(re.match(r"^\d{4}-\d\d-\d\dT", e["at"]) for e in ev)
    # filters, sort, paging
    kc = srv.ok("GET", "/audit?filters[action]=key.create", key=c.admin_key)
    assert [e["id"] for e in kc["events"]] == [ids[1], ids[3]] and kc["page"]["total"] == 2
    obj = srv.ok("GET", f"/audit?filters[object_type]=key&filters[object_id]={mgr['id']}",
                 key=c.admin_key)
    assert [e["action"] for e in obj["events"]] == ["key.create", "key.revoke"]
    desc = srv.ok("GET", "/audit?sort=-id&limit=2&offset=1", key=c.admin_key)
    assert [e["id"] for e in desc["events"]] == [ids[4], ids[3]]
    assert desc["page"] == {"total": 6, "limit": 2, "offset": 1}
    errors(srv.api("GET", "/audit?sort=detail", key=c.admin_key), 400, "field_invalid")
    errors(srv.api("GET", "/audit?filters[user_id]=1", key=c.admin_key), 400, "field_invalid")
    # managers read it too
    mid, mkey = add_user(srv, c, "manager")
    assert srv.ok("GET", "/audit?limit=1000", key=mkey)["page"]["total"] == 8
    # the operator sees operator-level events: the account's creation
    op = srv.ok("GET", "/audit?filters[action]=account.create&limit=1000",
                key=srv.operator_key)["events"]
    mine = [e for e in op if e["object_id"] == c.id]
    assert len(mine) == 1 and mine[0]["account_id"] == 0 and mine[0]["operator"] is True
    assert mine[0]["object_type"] == "account"
    assert mine[0]["detail"] == {"name": "Example Corp C", "admin_user_id": c.admin_id}
    assert all(e["account_id"] == 0 for e in srv.ok("GET", "/audit?limit=1000",
                                                    key=srv.operator_key)["events"])


@pytest.mark.parametrize("role", ["standard_user", "limited_user"])
def test_audit_needs_an_approver(srv, world, role):
    a, _ = world
    errors(srv.api("GET", "/audit", key=a.users[role][1]), 403, "forbidden")


# ---- bad input --------------------------------------------------------------------------------

def long(n):
    return "a" * n


USER_OK = {"email": "valid@example.com", "first_name": "Val", "last_name": "Id",
           "role": "standard_user"}
ACCOUNT_OK = {"name": "Example Corp D", "admin": {"email": "d@example.com", "first_name": "D",
                                                   "last_name": "E"}}


def user_cases():
    yield "missing email", {k: v for k, v in USER_OK.items() if k != "email"}, "field_required"
    yield "missing role", {k: v for k, v in USER_OK.items() if k != "role"}, "field_required"
    yield "null name", dict(USER_OK, first_name=None), "field_required"
    yield "unknown field", dict(USER_OK, password="hunter2"), "field_unknown"
    yield "role type", dict(USER_OK, role=1), "field_invalid"
    yield "email type", dict(USER_OK, email=["a@example.com"]), "field_invalid"
    yield "name type", dict(USER_OK, first_name={"x": 1}), "field_invalid"
    yield "unknown role", dict(USER_OK, role="root"), "field_invalid"
    yield "operator role", dict(USER_OK, role="operator"), "field_invalid"
    yield "bad email", dict(USER_OK, email="not-an-address"), "field_invalid"
    yield "display name", dict(USER_OK, email="Val <valid@example.com>"), "field_invalid"
    yield "empty name", dict(USER_OK, last_name=""), "field_required"
    yield "blank name", dict(USER_OK, last_name="   "), "field_invalid"
    yield "control char", dict(USER_OK, first_name="Va\x07l"), "field_invalid"
    yield "newline", dict(USER_OK, first_name="Va\nl"), "field_invalid"
    yield "email 260", dict(USER_OK, email=long(64) + "@" + ".".join([long(63)] * 3) + ".com"), \
        "field_invalid"
    for f in ("email", "first_name", "last_name", "role"):
        for n in (300, 10000):
            yield f"{f} {n}", dict(USER_OK, **{f: long(n)}), "field_invalid"
    for i, s in enumerate(SQLI):
        yield f"sql email {i}", dict(USER_OK, email=s), "field_invalid"
        yield f"sql role {i}", dict(USER_OK, role=s), "field_invalid"


@pytest.mark.parametrize("name,body,code", list(user_cases()), ids=lambda x: x
                         if isinstance(x, str) and len(x) < 30 else None)
def test_user_create_bad_input(srv, world, name, body, code):
    a, _ = world
    unchanged(srv, lambda: errors(srv.api("POST", "/user", key=a.admin_key, json_body=body), 400,
                                  code))


def key_cases(uid):
    yield {"name": "n"}, "field_required"
    yield {"user_id": uid}, "field_required"
    yield {"user_id": str(uid), "name": "n"}, "field_invalid"
    yield {"user_id": 1.5, "name": "n"}, "field_invalid"
    yield {"user_id": 0, "name": "n"}, "field_invalid"
    yield {"user_id": -5, "name": "n"}, "field_invalid"
    yield {"user_id": uid, "name": 7}, "field_invalid"
    yield {"user_id": uid, "name": ""}, "field_required"
    yield {"user_id": uid, "name": long(300)}, "field_invalid"
    yield {"user_id": uid, "name": long(10000)}, "field_invalid"
    yield {"user_id": uid, "name": "n", "secret": "mine"}, "field_unknown"
    yield {"user_id": uid, "name": "n", "api_key": "cm_x"}, "field_unknown"


def test_key_create_bad_input(srv, world):
    a, _ = world
    uid = a.users["manager"][0]
    for body, code in key_cases(uid):
        unchanged(srv, lambda: errors(srv.api("POST", "/key", key=a.admin_key, json_body=body),
                                      400, code))


def account_cases():
    adm = ACCOUNT_OK["admin"]
    yield {"admin": adm}, "field_required"
    yield {"name": "X"}, "field_required"
    yield {"name": "X", "admin": "d@example.com"}, "field_invalid"
    yield {"name": "X", "admin": dict(adm, role="manager")}, "field_unknown"
    yield dict(ACCOUNT_OK, plan="gold"), "field_unknown"
    yield {"name": "X", "admin": {"email": "d@example.com"}}, "field_required"
    yield {"name": "X", "admin": dict(adm, email="nope")}, "field_invalid"
    yield {"name": 5, "admin": adm}, "field_invalid"
    yield {"name": long(300), "admin": adm}, "field_invalid"
    yield {"name": long(10000), "admin": adm}, "field_invalid"
    yield {"name": "X", "admin": dict(adm, first_name=long(300))}, "field_invalid"
    yield {"name": "X", "admin": dict(adm, last_name=long(10000))}, "field_invalid"
    for s in SQLI:
        yield {"name": "X", "admin": dict(adm, email=s)}, "field_invalid"


def test_account_create_bad_input(srv, world):
    for body, code in account_cases():
        unchanged(srv, lambda: errors(srv.api("POST", "/account", key=srv.operator_key,
                                              json_body=body), 400, code))


MALFORMED = [b"{", b"not json", b"[1,2]", b'"a string"', b"{\"email\": }",
             b'{"email":"a@example.com","email":"b@example.com"}', b"\xff\xfe{}", b""]


@pytest.mark.parametrize("method,path", [("POST", "/user"), ("POST", "/key"),
                                         ("PUT", "/account/settings"), ("POST", "/account")])
def test_malformed_and_oversized_bodies(srv, world, method, path):
    a, _ = world
    key = srv.operator_key if path == "/account" else a.admin_key
    for data in MALFORMED:
        r = unchanged(srv, lambda: srv.api(method, path, key=key, data=data))
        errors(r, 400, "body_required" if data == b"" else "invalid_json")
    r = unchanged(srv, lambda: srv.api(method, path, key=key, data=b"[]", headers={
        "Content-Type": "text/plain"}))
    errors(r, 415, "unsupported_media_type")
    big = json.dumps({"email": "big@example.com", "first_name": long(MAX_BODY),
                      "last_name": "B", "role": "manager"})
    r = unchanged(srv, lambda: srv.api(method, path, key=key, data=big))
    errors(r, 413, "payload_too_large")


def test_sql_metacharacters_in_names_are_stored_verbatim(srv, world):
    """Names are free text: quotes and SQL keywords are a name like any other (O'Brien), stored
    as given through bound parameters, and break nothing."""
    a, _ = world
    for s in SQLI:
        r = srv.api("POST", "/user", key=a.admin_key, json_body={
            "email": email(), "first_name": s, "last_name": s, "role": "limited_user"})
        assert r.status_code == 201, r.text
        u = srv.ok("GET", f"/user/{r.json()['id']}", key=a.admin_key)
        assert (u["first_name"], u["last_name"]) == (s, s)
        k = srv.ok("POST", "/key", key=a.admin_key, json_body={"user_id": u["id"], "name": s})
        remember(k["api_key"])
        got = [x for x in srv.ok("GET", f"/key?filters[user_id]={u['id']}",
                                 key=a.admin_key)["api_keys"]]
        assert [x["name"] for x in got] == [s]
        n = srv.ok("POST", "/account", key=srv.operator_key, json_body={
            "name": s, "admin": {"email": email(), "first_name": s, "last_name": s}})
        remember(n["admin_api_key"])
        assert srv.ok("GET", f"/account/{n['id']}", key=srv.operator_key)["name"] == s
    # the tables are all still there and the filters treat the text as data
    assert srv.query("SELECT COUNT(*) FROM users")[0][0] > 10
    assert srv.ok("GET", f"/user?filters[email]={quote(SQLI[0])}",
                  key=a.admin_key)["users"] == []
    assert srv.ok("GET", f"/account?filters[name]={quote(SQLI[0])}",
                  key=srv.operator_key)["page"]["total"] == 1


def test_bad_paths(srv, world):
    a, _ = world
    for path in ("/user/abc", "/user/-1", "/user/1.5", "/user/99999999999999999999999"):
        errors(srv.api("GET", path, key=a.admin_key), 400, "invalid_path")
    unchanged(srv, lambda: errors(srv.api("DELETE", "/key/x'--", key=a.admin_key), 400,
                                  "invalid_path"))
    errors(srv.api("PUT", "/key/1", key=a.admin_key, json_body={}), 405, "method_not_allowed")


# ---- secrets ----------------------------------------------------------------------------------

def test_api_keys_never_reach_the_log_or_the_database(srv, world):
    a, _ = world
    # one more key used in every way: success, failure, revocation
    uid, key = add_user(srv, a, "standard_user")
    srv.ok("GET", "/user", key=key)
    srv.api("GET", "/audit", key=key)
    srv.api("GET", "/user", key=key[:-1] + ("a" if key[-1] != "a" else "b"))
    srv.api("DELETE", f"/key/{key_id_of(srv, a, key)}", key=key)
    srv.api("GET", "/user", key=key)
    assert len(ALL_KEYS) > 15
    log = srv.log.read_bytes()
    assert b"/services/v2/user" in log  # the access log is there and names requests
    db = b"".join(p.read_bytes() for p in srv.dir.glob("certmint.db*"))
    assert len(db) > 0 and len(log) > 0
    for k in ALL_KEYS:
        for blob, where in ((log, "log"), (db, "database")):
            assert k.encode() not in blob, f"an API key is in the {where}"
            assert k[16:].encode() not in blob, f"an API key's secret is in the {where}"
    # what the store does keep: the prefix and the SHA-256 of the whole key
    rows = srv.query("SELECT * FROM api_keys")
    flat = b"".join(v if isinstance(v, bytes) else str(v).encode() for r in rows for v in r)
    for k in ALL_KEYS:
        assert k[:15].encode() in flat
        h = hashlib.sha256(k.encode()).digest()
        assert h in flat or h.hex().encode() in flat
