/* svc_account.c — authentication, accounts, users, API keys, account settings and the audit
 * log (service.h, svc_account.h). */
#include "service/svc_account.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "net/mail.h"
#include "pki/digest.h"
#include "util/clock.h"
#include "util/fileio.h"
#include "util/str.h"

/* "cm_" + prefix + "_" + secret. The prefix is public (listed, stored, looked up); the secret
 * carries the strength. Each character is one of 32, from one CSPRNG byte's low five bits. */
#define KEY_HEAD         "cm_"
#define KEY_HEAD_LEN     3
#define KEY_PREFIX_LEN   (KEY_HEAD_LEN + 12) /* "cm_" and 12 characters: 60 bits */
#define KEY_SECRET_CHARS 52                  /* 260 bits */
#define KEY_INSERT_TRIES 3                   /* a prefix clash (unique index) is drawn again */

_Static_assert(KEY_PREFIX_LEN + 1 + KEY_SECRET_CHARS == API_KEY_LEN, "API key length");

static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";

static const cm_role any_role[] = {ROLE_ADMINISTRATOR, ROLE_MANAGER, ROLE_STANDARD_USER,
                                   ROLE_LIMITED_USER, ROLE_NONE};
static const cm_role admin_only[] = {ROLE_ADMINISTRATOR, ROLE_NONE};
static const cm_role approvers[] = {ROLE_ADMINISTRATOR, ROLE_MANAGER, ROLE_NONE};
static const cm_role operator_only[] = {ROLE_NONE};

/* Settings defaults (DESIGN.md R-D2, R-O2, R-O4, R-O5) and bounds. */
#define DEF_REVOKE_DELAY_HOURS 72
#define DEF_RENEWAL_WINDOW     90
#define DEF_AUTO_RENEW         30
#define MAX_REVOKE_DELAY_HOURS 720
#define MAX_RENEWAL_WINDOW     365
#define MAX_AUTO_RENEW         90

/* Helpers ------------------------------------------------------------------------------------ */

static int random_b32(char *out, size_t n)
{
    unsigned char b[64];
    if (n > sizeof b || random_bytes(b, n) != 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        out[i] = b32[b[i] & 31];
    memset(b, 0, sizeof b);
    return 0;
}

static bool is_b32(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '2' && c <= '7');
}

/* A name-like text field: present, at most max bytes, no control characters, not blank. */
static int check_text(const char *field, const char *v, size_t max, cm_err *err)
{
    if (v == NULL || v[0] == '\0')
        return cm_err_set(err, "field_required", "%s is required", field);
    size_t n = strlen(v);
    if (n > max)
        return cm_err_set(err, "field_invalid", "%s must be at most %zu bytes long", field, max);
    bool blank = true;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)v[i];
        if (ch < 0x20 || ch == 0x7f)
            return cm_err_set(err, "field_invalid", "%s must not contain control characters",
                              field);
        if (ch != ' ')
            blank = false;
    }
    if (blank)
        return cm_err_set(err, "field_invalid", "%s must not be blank", field);
    return 0;
}

/* Serialises `j` (taken) into buf as compact JSON for an audit detail. */
static int detail_dump(json_t *j, char *buf, size_t sz, cm_err *err)
{
    if (j == NULL)
        return cm_err_set(err, "out_of_memory", "out of memory building an audit event");
    size_t n = json_dumpb(j, buf, sz - 1, JSON_COMPACT);
    json_decref(j);
    if (n == 0 || n >= sz - 1)
        return cm_err_set(err, "internal_error", "audit detail too long");
    buf[n] = '\0';
    return 0;
}

/* Checks and normalises the user fields a client sets (email lower-cased). */
static int user_check(cm_user *u, cm_err *err)
{
    if (check_text("email", u->email, 254, err) != 0)
        return -1;
    str_lower(u->email);
    if (!mail_address_ok(u->email))
        return cm_err_set(err, "field_invalid",
                          "email must be a plain address such as jane@example.com (no name, "
                          "no spaces, at most 254 characters)");
    if (check_text("first_name", u->first_name, sizeof u->first_name - 1, err) != 0 ||
        check_text("last_name", u->last_name, sizeof u->last_name - 1, err) != 0)
        return -1;
    if (role_parse(u->role) == ROLE_NONE)
        return cm_err_set(err, "field_invalid",
                          "role must be one of administrator, manager, standard_user, "
                          "limited_user");
    return 0;
}

/* Rewrites a store `<noun>_not_found` into the API's noun with a message that helps. */
static int not_found_as(cm_err *err, const char *store_code, const char *code, const char *what,
                        const char *list, int64_t id)
{
    if (strcmp(err->code, store_code) == 0)
        cm_err_set(err, code, "no %s with id %" PRId64 " here; list them with GET %s", what, id,
                   list);
    return -1;
}

/* Authentication ----------------------------------------------------------------------------- */

static int unauthorized(cm_err *err)
{
    return cm_err_set(err, "unauthorized",
                      "the API key in X-DC-DEVKEY is not valid; use a key created with POST "
                      "/services/v2/key");
}

int svc_authenticate(cm_store *st, const char *devkey, cm_caller *out, cm_err *err)
{
    memset(out, 0, sizeof *out);
    if (devkey == NULL || devkey[0] == '\0')
        return cm_err_set(err, "unauthorized",
                          "this request needs an API key in the X-DC-DEVKEY header");
    size_t n = strnlen(devkey, API_KEY_LEN + 1);
    if (n != API_KEY_LEN || memcmp(devkey, KEY_HEAD, KEY_HEAD_LEN) != 0 ||
        devkey[KEY_PREFIX_LEN] != '_')
        return unauthorized(err);
    for (size_t i = KEY_HEAD_LEN; i < n; i++)
        if (i != KEY_PREFIX_LEN && !is_b32(devkey[i]))
            return unauthorized(err);

    char prefix[KEY_PREFIX_LEN + 1];
    memcpy(prefix, devkey, KEY_PREFIX_LEN);
    prefix[KEY_PREFIX_LEN] = '\0';
    unsigned char h[32];
    sha256(devkey, n, h);

    cm_apikey k;
    memset(&k, 0, sizeof k);
    if (store_apikey_by_prefix(st, prefix, &k, err) != 0) {
        if (strcmp(err->code, "apikey_not_found") == 0)
            return unauthorized(err);
        return -1; /* store_busy / store_error: not the client's fault */
    }
    if (!str_ct_equal(h, k.hash, sizeof h))
        return unauthorized(err);
    if (k.revoked_at != 0)
        return cm_err_set(err, "unauthorized",
                          "this API key was revoked; ask an administrator for a new one");
    if (k.operator) {
        out->operator= true;
        out->key_id = k.id;
        return 0;
    }
    cm_user u;
    if (store_user_get(st, k.account_id, k.user_id, &u, err) != 0) {
        if (strcmp(err->code, "user_not_found") == 0)
            return unauthorized(err);
        return -1;
    }
    cm_role role = role_parse(u.role);
    if (strcmp(u.status, "active") != 0 || role == ROLE_NONE)
        return cm_err_set(err, "unauthorized",
                          "the user of this API key is disabled; ask an administrator");
    out->account_id = k.account_id;
    out->user_id = k.user_id;
    out->key_id = k.id;
    out->role = role;
    return 0;
}

/* API keys ----------------------------------------------------------------------------------- */

/* Draws a key and inserts its row, inside the open transaction. */
static int key_insert(cm_svc *s, int64_t account_id, int64_t user_id, bool op, const char *name,
                      cm_apikey *out, char *plain, cm_err *err)
{
    for (int t = 0; t < KEY_INSERT_TRIES; t++) {
        memcpy(plain, KEY_HEAD, KEY_HEAD_LEN);
        if (random_b32(plain + KEY_HEAD_LEN, KEY_PREFIX_LEN - KEY_HEAD_LEN) != 0 ||
            random_b32(plain + KEY_PREFIX_LEN + 1, KEY_SECRET_CHARS) != 0)
            return cm_err_set(err, "random_failed", "the random generator failed; try again");
        plain[KEY_PREFIX_LEN] = '_';
        plain[API_KEY_LEN] = '\0';

        memset(out, 0, sizeof *out);
        out->account_id = account_id;
        out->user_id = user_id;
        out->operator= op;
        str_copy(out->name, sizeof out->name, name);
        memcpy(out->prefix, plain, KEY_PREFIX_LEN);
        out->prefix[KEY_PREFIX_LEN] = '\0';
        sha256(plain, API_KEY_LEN, out->hash);
        out->created_at = clock_now();
        if (store_apikey_insert(s->st, out, err) == 0)
            return 0;
        if (strcmp(err->code, "conflict") != 0)
            break;
    }
    memset(plain, 0, API_KEY_SIZE);
    return -1;
}

static int key_audit(cm_svc *s, const char *action, const cm_apikey *k, cm_err *err)
{
    char detail[512];
    if (detail_dump(json_pack("{s:I,s:s,s:s,s:b}", "user_id", (json_int_t)k->user_id, "name",
                              k->name, "prefix", k->prefix, "operator", k->operator),
                    detail, sizeof detail, err) != 0)
        return -1;
    return svc_audit(s, k->account_id, action, "key", k->id, detail, err);
}

int svc_key_make(cm_svc *s, int64_t account_id, int64_t user_id, bool op, const char *name,
                 cm_apikey *out, char *plain, size_t plainsz, cm_err *err)
{
    int rc = -1;
    bool open = false;
    if (plain == NULL || plainsz < API_KEY_SIZE) {
        cm_err_set(err, "internal_error", "key buffer shorter than %d bytes", API_KEY_SIZE);
        goto out;
    }
    plain[0] = '\0';
    if (op) {
        if (svc_require(s, true, operator_only, err) != 0)
            goto out;
        if (account_id != 0 || user_id != 0) {
            cm_err_set(err, "internal_error", "operator keys belong to no account or user");
            goto out;
        }
    } else if (!s->caller.operator) {
        if (svc_require(s, false, any_role, err) != 0)
            goto out;
        if (account_id != s->caller.account_id) {
            cm_err_set(err, "user_not_found",
                       "no user with id %" PRId64 " in this account; list them with GET /user",
                       user_id);
            goto out;
        }
        if (user_id != s->caller.user_id && !svc_is_admin(s)) {
            cm_err_set(err, "forbidden",
                       "only administrators create API keys for other users; create one for "
                       "yourself (user_id %" PRId64 ") or ask an administrator",
                       s->caller.user_id);
            goto out;
        }
    }
    if (check_text("name", name, sizeof out->name - 1, err) != 0)
        goto out;

    if (store_begin(s->st, err) != 0)
        goto out;
    open = true;
    if (!op) {
        cm_user u;
        if (store_user_get(s->st, account_id, user_id, &u, err) != 0) {
            not_found_as(err, "user_not_found", "user_not_found", "user", "/user", user_id);
            goto out;
        }
        if (strcmp(u.status, "active") != 0) {
            cm_err_set(err, "user_state", "user %" PRId64 " is disabled; enable it first", user_id);
            goto out;
        }
    }
    if (key_insert(s, account_id, user_id, op, name, out, plain, err) != 0 ||
        key_audit(s, "key.create", out, err) != 0 || store_commit(s->st, err) != 0)
        goto out;
    open = false;
    rc = 0;
out:
    if (open)
        store_rollback(s->st);
    if (rc != 0 && plain != NULL && plainsz >= API_KEY_SIZE)
        memset(plain, 0, API_KEY_SIZE);
    return rc;
}

int svc_key_create(cm_svc *s, int64_t user_id, const char *name, cm_apikey *out, char *plain,
                   size_t plainsz, cm_err *err)
{
    if (svc_require(s, false, any_role, err) != 0)
        return -1;
    return svc_key_make(s, s->caller.account_id, user_id, false, name, out, plain, plainsz, err);
}

int svc_key_list(cm_svc *s, const cm_list_opts *o, cm_apikey **out, size_t *n, int64_t *total,
                 cm_err *err)
{
    if (svc_require(s, false, any_role, err) != 0)
        return -1;
    if (svc_is_admin(s))
        return store_apikey_list(s->st, s->caller.account_id, o, out, n, total, err);

    /* Everyone else sees their own keys: the user_id filter is forced to the caller. */
    cm_list_opts own = *o;
    char self[24];
    snprintf(self, sizeof self, "%" PRId64, s->caller.user_id);
    bool have = false;
    for (size_t i = 0; i < own.n_filters; i++) {
        if (strcmp(own.filter_names[i], "user_id") != 0)
            continue;
        if (strcmp(own.filter_values[i], self) != 0)
            return cm_err_set(err, "forbidden",
                              "only administrators list other users' keys; filter on your own "
                              "user_id %s or leave the filter out",
                              self);
        have = true;
    }
    if (!have) {
        if (own.n_filters >= sizeof own.filter_names / sizeof own.filter_names[0])
            return cm_err_set(err, "field_invalid", "too many filters");
        own.filter_names[own.n_filters] = "user_id";
        own.filter_values[own.n_filters] = self;
        own.n_filters++;
    }
    return store_apikey_list(s->st, s->caller.account_id, &own, out, n, total, err);
}

int svc_key_revoke(cm_svc *s, int64_t id, cm_err *err)
{
    int rc = -1;
    bool open = false;
    if (svc_require(s, false, any_role, err) != 0)
        goto out;
    if (store_begin(s->st, err) != 0)
        goto out;
    open = true;
    cm_apikey k;
    if (store_apikey_get(s->st, s->caller.account_id, id, &k, err) != 0) {
        not_found_as(err, "apikey_not_found", "key_not_found", "API key", "/key", id);
        goto out;
    }
    if (k.user_id != s->caller.user_id && !svc_is_admin(s)) {
        cm_err_set(err, "forbidden",
                   "only administrators revoke other users' keys; ask an administrator");
        goto out;
    }
    if (k.revoked_at != 0) {
        cm_err_set(err, "key_state", "API key %" PRId64 " is already revoked", id);
        goto out;
    }
    if (store_apikey_revoke(s->st, s->caller.account_id, id, clock_now(), err) != 0 ||
        key_audit(s, "key.revoke", &k, err) != 0 || store_commit(s->st, err) != 0)
        goto out;
    open = false;
    rc = 0;
out:
    if (open)
        store_rollback(s->st);
    return rc;
}

/* Accounts ----------------------------------------------------------------------------------- */

int svc_account_create(cm_svc *s, const char *name, const cm_user *admin, cm_account *acct,
                       cm_user *admin_out, char *admin_key, size_t keysz, cm_err *err)
{
    int rc = -1;
    bool open = false;
    cm_apikey key;
    if (admin_key == NULL || keysz < API_KEY_SIZE) {
        cm_err_set(err, "internal_error", "key buffer shorter than %d bytes", API_KEY_SIZE);
        goto out;
    }
    admin_key[0] = '\0';
    if (svc_require(s, true, operator_only, err) != 0)
        goto out;
    if (check_text("name", name, sizeof acct->name - 1, err) != 0)
        goto out;
    *admin_out = *admin;
    admin_out->id = 0;
    str_copy(admin_out->role, sizeof admin_out->role, "administrator");
    if (user_check(admin_out, err) != 0) {
        cm_err_prefix(err, "admin");
        goto out;
    }

    memset(acct, 0, sizeof *acct);
    str_copy(acct->name, sizeof acct->name, name);
    acct->created_at = clock_now();
    acct->allow_duplicates = true;
    acct->skip_approval = false;
    acct->reissue_revoke_delay_hours = DEF_REVOKE_DELAY_HOURS;
    acct->renewal_window_days = DEF_RENEWAL_WINDOW;
    acct->auto_renew_days = DEF_AUTO_RENEW;

    if (store_begin(s->st, err) != 0)
        goto out;
    open = true;
    if (store_account_insert(s->st, acct, err) != 0)
        goto out;
    admin_out->account_id = acct->id;
    admin_out->password_hash[0] = '\0';
    str_copy(admin_out->status, sizeof admin_out->status, "active");
    admin_out->created_at = acct->created_at;
    if (store_user_insert(s->st, admin_out, err) != 0)
        goto out;
    if (key_insert(s, acct->id, admin_out->id, false, "first administrator key", &key, admin_key,
                   err) != 0)
        goto out;

    char detail[1024];
    if (detail_dump(
            json_pack("{s:s,s:I}", "name", acct->name, "admin_user_id", (json_int_t)admin_out->id),
            detail, sizeof detail, err) != 0 ||
        svc_audit(s, 0, "account.create", "account", acct->id, detail, err) != 0)
        goto out;
    if (detail_dump(json_pack("{s:s,s:s}", "email", admin_out->email, "role", admin_out->role),
                    detail, sizeof detail, err) != 0 ||
        svc_audit(s, acct->id, "user.create", "user", admin_out->id, detail, err) != 0)
        goto out;
    if (key_audit(s, "key.create", &key, err) != 0 || store_commit(s->st, err) != 0)
        goto out;
    open = false;
    rc = 0;
out:
    if (open)
        store_rollback(s->st);
    if (rc != 0 && admin_key != NULL && keysz >= API_KEY_SIZE)
        memset(admin_key, 0, API_KEY_SIZE);
    return rc;
}

int svc_account_get(cm_svc *s, int64_t id, cm_account *out, cm_err *err)
{
    if (svc_require(s, true, operator_only, err) != 0)
        return -1;
    if (store_account_get(s->st, id, out, err) != 0)
        return not_found_as(err, "account_not_found", "account_not_found", "account", "/account",
                            id);
    return 0;
}

int svc_account_list(cm_svc *s, const cm_list_opts *o, cm_account **out, size_t *n, int64_t *total,
                     cm_err *err)
{
    if (svc_require(s, true, operator_only, err) != 0)
        return -1;
    return store_account_list(s->st, o, out, n, total, err);
}

/* Users -------------------------------------------------------------------------------------- */

int svc_user_create(cm_svc *s, cm_user *u, cm_err *err)
{
    int rc = -1;
    bool open = false;
    if (svc_require(s, false, admin_only, err) != 0)
        goto out;
    if (user_check(u, err) != 0)
        goto out;
    u->id = 0;
    u->account_id = s->caller.account_id;
    u->password_hash[0] = '\0';
    str_copy(u->status, sizeof u->status, "active");
    u->created_at = clock_now();

    if (store_begin(s->st, err) != 0)
        goto out;
    open = true;
    if (store_user_insert(s->st, u, err) != 0) {
        if (strcmp(err->code, "conflict") == 0)
            cm_err_set(err, "user_exists",
                       "a user with e-mail %s already exists in this account; use that user",
                       u->email);
        goto out;
    }
    char detail[1024];
    if (detail_dump(json_pack("{s:s,s:s}", "email", u->email, "role", u->role), detail,
                    sizeof detail, err) != 0 ||
        svc_audit(s, u->account_id, "user.create", "user", u->id, detail, err) != 0 ||
        store_commit(s->st, err) != 0)
        goto out;
    open = false;
    rc = 0;
out:
    if (open)
        store_rollback(s->st);
    return rc;
}

int svc_user_get(cm_svc *s, int64_t id, cm_user *out, cm_err *err)
{
    if (svc_require(s, false, any_role, err) != 0)
        return -1;
    if (!svc_is_approver(s) && id != s->caller.user_id)
        return cm_err_set(err, "forbidden",
                          "you may only view your own user (id %" PRId64
                          "); administrators and managers see every user",
                          s->caller.user_id);
    if (store_user_get(s->st, s->caller.account_id, id, out, err) != 0)
        return not_found_as(err, "user_not_found", "user_not_found", "user", "/user", id);
    return 0;
}

/* The filters of store_user_list, applied to one row (a user listing only themselves). */
static bool user_matches(const cm_user *u, const cm_list_opts *o)
{
    for (size_t i = 0; i < o->n_filters; i++) {
        const char *f = o->filter_names[i], *v = o->filter_values[i];
        const char *col = strcmp(f, "role") == 0     ? u->role
                          : strcmp(f, "status") == 0 ? u->status
                          : strcmp(f, "email") == 0  ? u->email
                                                     : NULL;
        if (col == NULL || strcmp(col, v) != 0)
            return false;
    }
    return true;
}

int svc_user_list(cm_svc *s, const cm_list_opts *o, cm_user **out, size_t *n, int64_t *total,
                  cm_err *err)
{
    *out = NULL;
    *n = 0;
    *total = 0;
    if (svc_require(s, false, any_role, err) != 0)
        return -1;
    if (svc_is_approver(s))
        return store_user_list(s->st, s->caller.account_id, o, out, n, total, err);

    cm_user *self = calloc(1, sizeof *self);
    if (self == NULL)
        return cm_err_set(err, "out_of_memory", "out of memory; try again");
    if (store_user_get(s->st, s->caller.account_id, s->caller.user_id, self, err) != 0) {
        free(self);
        return -1;
    }
    if (user_matches(self, o)) {
        *total = 1;
        if (o->offset == 0) {
            *out = self;
            *n = 1;
            return 0;
        }
    }
    free(self);
    return 0;
}

/* Settings ----------------------------------------------------------------------------------- */

void svc_settings_patch_init(cm_settings_patch *p)
{
    p->allow_duplicates = SETTING_KEEP;
    p->skip_approval = SETTING_KEEP;
    p->reissue_revoke_delay_hours = SETTING_KEEP;
    p->renewal_window_days = SETTING_KEEP;
    p->auto_renew_days = SETTING_KEEP;
}

int svc_settings_get(cm_svc *s, cm_account *out, cm_err *err)
{
    if (svc_require(s, false, any_role, err) != 0)
        return -1;
    return store_account_get(s->st, s->caller.account_id, out, err);
}

static int range(const char *field, int v, int lo, int hi, cm_err *err)
{
    if (v != SETTING_KEEP && (v < lo || v > hi))
        return cm_err_set(err, "field_invalid", "%s must be between %d and %d", field, lo, hi);
    return 0;
}

/* Records a changed setting as {"field":{"from":…,"to":…}} in the audit detail. */
static int note_int(json_t *d, const char *field, int from, int to)
{
    if (from == to)
        return 0;
    return json_object_set_new(d, field, json_pack("{s:i,s:i}", "from", from, "to", to));
}

static int note_bool(json_t *d, const char *field, bool from, bool to)
{
    if (from == to)
        return 0;
    return json_object_set_new(d, field, json_pack("{s:b,s:b}", "from", from, "to", to));
}

int svc_settings_update(cm_svc *s, const cm_settings_patch *p, cm_account *out, cm_err *err)
{
    int rc = -1;
    bool open = false;
    if (svc_require(s, false, admin_only, err) != 0)
        goto out;
    if (p->allow_duplicates == SETTING_KEEP && p->skip_approval == SETTING_KEEP &&
        p->reissue_revoke_delay_hours == SETTING_KEEP && p->renewal_window_days == SETTING_KEEP &&
        p->auto_renew_days == SETTING_KEEP) {
        cm_err_set(err, "field_required",
                   "give at least one of allow_duplicates, skip_approval, "
                   "reissue_revoke_delay_hours, renewal_window_days, auto_renew_days");
        goto out;
    }
    if (range("allow_duplicates", p->allow_duplicates, 0, 1, err) != 0 ||
        range("skip_approval", p->skip_approval, 0, 1, err) != 0 ||
        range("reissue_revoke_delay_hours", p->reissue_revoke_delay_hours, 0,
              MAX_REVOKE_DELAY_HOURS, err) != 0 ||
        range("renewal_window_days", p->renewal_window_days, 1, MAX_RENEWAL_WINDOW, err) != 0 ||
        range("auto_renew_days", p->auto_renew_days, 1, MAX_AUTO_RENEW, err) != 0)
        goto out;

    if (store_begin(s->st, err) != 0)
        goto out;
    open = true;
    cm_account old;
    if (store_account_get(s->st, s->caller.account_id, &old, err) != 0)
        goto out;
    cm_account a = old;
    if (p->allow_duplicates != SETTING_KEEP)
        a.allow_duplicates = p->allow_duplicates != 0;
    if (p->skip_approval != SETTING_KEEP)
        a.skip_approval = p->skip_approval != 0;
    if (p->reissue_revoke_delay_hours != SETTING_KEEP)
        a.reissue_revoke_delay_hours = p->reissue_revoke_delay_hours;
    if (p->renewal_window_days != SETTING_KEEP)
        a.renewal_window_days = p->renewal_window_days;
    if (p->auto_renew_days != SETTING_KEEP)
        a.auto_renew_days = p->auto_renew_days;
    /* Auto-renewal renews an order, which needs the renewal window to be open (R-O5). */
    if (a.auto_renew_days > a.renewal_window_days) {
        cm_err_set(err, "field_invalid",
                   "auto_renew_days (%d) must not exceed renewal_window_days (%d): auto-renewal "
                   "runs inside the renewal window",
                   a.auto_renew_days, a.renewal_window_days);
        goto out;
    }

    json_t *d = json_object();
    if (d == NULL || note_bool(d, "allow_duplicates", old.allow_duplicates, a.allow_duplicates) ||
        note_bool(d, "skip_approval", old.skip_approval, a.skip_approval) ||
        note_int(d, "reissue_revoke_delay_hours", old.reissue_revoke_delay_hours,
                 a.reissue_revoke_delay_hours) ||
        note_int(d, "renewal_window_days", old.renewal_window_days, a.renewal_window_days) ||
        note_int(d, "auto_renew_days", old.auto_renew_days, a.auto_renew_days)) {
        json_decref(d);
        cm_err_set(err, "out_of_memory", "out of memory; try again");
        goto out;
    }
    char detail[1024];
    if (detail_dump(d, detail, sizeof detail, err) != 0 ||
        store_account_update(s->st, &a, err) != 0 ||
        svc_audit(s, a.id, "settings.update", "account", a.id, detail, err) != 0 ||
        store_commit(s->st, err) != 0)
        goto out;
    open = false;
    *out = a;
    rc = 0;
out:
    if (open)
        store_rollback(s->st);
    return rc;
}

/* Audit log ---------------------------------------------------------------------------------- */

int svc_audit_list(cm_svc *s, const cm_list_opts *o, cm_audit **out, size_t *n, int64_t *total,
                   cm_err *err)
{
    if (svc_require(s, true, approvers, err) != 0)
        return -1;
    return store_audit_list(s->st, s->caller.operator? 0 : s->caller.account_id, o, out, n, total,
                            err);
}
