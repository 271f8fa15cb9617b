/* h_account.c — REST handlers of accounts (operator), users, API keys, account settings and the
 * audit log (DESIGN.md §5). Each handler: parse → one call of service/svc_account.h → JSON. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "http/app.h"
#include "http/h_util.h"
#include "service/svc_account.h"
#include "util/str.h"

#define V2 "/services/v2"

/* Shape bounds of request fields (the service checks the rules again). */
#define EMAIL_MAX     254
#define NAME_MAX_     127
#define ROLE_MAX      31
#define TITLE_MAX     255
#define INT_FIELD_MAX 1000000

/* Helpers ------------------------------------------------------------------------------------ */

static int oom(http_resp *rs)
{
    cm_err e;
    cm_err_set(&e, "out_of_memory", "out of memory; try again");
    return h_fail(rs, &e);
}

static json_t *settings_json(const cm_account *a)
{
    return json_pack("{s:b,s:b,s:i,s:i,s:i}", "allow_duplicates", a->allow_duplicates,
                     "skip_approval", a->skip_approval, "reissue_revoke_delay_hours",
                     a->reissue_revoke_delay_hours, "renewal_window_days", a->renewal_window_days,
                     "auto_renew_days", a->auto_renew_days);
}

static json_t *account_json(const cm_account *a)
{
    return json_pack("{s:I,s:s,s:o,s:o}", "id", (json_int_t)a->id, "name", a->name, "created_at",
                     json_time(a->created_at), "settings", settings_json(a));
}

static json_t *user_json(const cm_user *u)
{
    return json_pack("{s:I,s:I,s:s,s:s,s:s,s:s,s:s,s:o}", "id", (json_int_t)u->id, "account_id",
                     (json_int_t)u->account_id, "email", u->email, "first_name", u->first_name,
                     "last_name", u->last_name, "role", u->role, "status", u->status, "created_at",
                     json_time(u->created_at));
}

static json_t *key_json(const cm_apikey *k)
{
    return json_pack("{s:I,s:I,s:s,s:s,s:s,s:o,s:o}", "id", (json_int_t)k->id, "user_id",
                     (json_int_t)k->user_id, "name", k->name, "prefix", k->prefix, "status",
                     k->revoked_at != 0 ? "revoked" : "active", "created_at",
                     json_time(k->created_at), "revoked_at", json_time(k->revoked_at));
}

static json_t *audit_json(const cm_audit *e)
{
    json_t *detail = json_loads(e->detail, 0, NULL);
    if (detail == NULL)
        detail = json_string(e->detail); /* written by certmint: always JSON, but never lose it */
    return json_pack("{s:I,s:o,s:I,s:I,s:I,s:b,s:s,s:s,s:I,s:o}", "id", (json_int_t)e->id, "at",
                     json_time(e->at), "account_id", (json_int_t)e->account_id, "user_id",
                     (json_int_t)e->user_id, "key_id", (json_int_t)e->key_id, "operator",
                     e->operator, "action", e->action, "object_type", e->object_type, "object_id",
                     (json_int_t)e->object_id, "detail", detail);
}

/* Copies a validated string field into a fixed buffer (the getter bounded its length). */
static void put(char *dst, size_t sz, const char *src)
{
    (void)str_copy(dst, sz, src != NULL ? src : "");
}

/* Accounts ----------------------------------------------------------------------------------- */

static int h_account_create(void *app, http_req *rq, http_resp *rs)
{
    static const char *const top[] = {"name", "admin", NULL};
    static const char *const adm[] = {"email", "first_name", "last_name", NULL};
    cm_err err;
    cm_err_clear(&err);
    json_t *body = NULL, *admin = NULL;
    const char *name = NULL, *email = NULL, *first = NULL, *last = NULL;
    if (http_json_body(rq, &body, &err) != 0 || json_only_keys(body, top, &err) != 0 ||
        json_get_str(body, "name", true, TITLE_MAX, &name, &err) != 0 ||
        json_get_object(body, "admin", true, &admin, &err) != 0 ||
        json_only_keys(admin, adm, &err) != 0 ||
        json_get_str(body, "admin.email", true, EMAIL_MAX, &email, &err) != 0 ||
        json_get_str(body, "admin.first_name", true, NAME_MAX_, &first, &err) != 0 ||
        json_get_str(body, "admin.last_name", true, NAME_MAX_, &last, &err) != 0)
        return h_fail(rs, &err);
    cm_user u;
    memset(&u, 0, sizeof u);
    put(u.email, sizeof u.email, email);
    put(u.first_name, sizeof u.first_name, first);
    put(u.last_name, sizeof u.last_name, last);

    cm_svc svc;
    if (app_svc(app, rq, &svc) != 0)
        return oom(rs);
    cm_account a;
    cm_user admin_out;
    char key[API_KEY_SIZE];
    if (svc_account_create(&svc, name, &u, &a, &admin_out, key, sizeof key, &err) != 0)
        return h_fail(rs, &err);
    json_t *j = json_pack("{s:I,s:I,s:s}", "id", (json_int_t)a.id, "admin_user_id",
                          (json_int_t)admin_out.id, "admin_api_key", key);
    memset(key, 0, sizeof key);
    return h_reply(rs, 201, j);
}

static int h_account_list(void *app, http_req *rq, http_resp *rs)
{
    static const char *const sortable[] = {"id", "name", "created_at", NULL};
    static const char *const filterable[] = {"name", NULL};
    cm_err err;
    cm_err_clear(&err);
    http_list hl;
    cm_list_opts o;
    if (h_list_opts(rq, sortable, filterable, &hl, &o, &err) != 0)
        return h_fail(rs, &err);
    cm_svc svc;
    if (app_svc(app, rq, &svc) != 0)
        return oom(rs);
    cm_account *list = NULL;
    size_t n = 0;
    int64_t total = 0;
    if (svc_account_list(&svc, &o, &list, &n, &total, &err) != 0)
        return h_fail(rs, &err);
    json_t *items = json_array();
    for (size_t i = 0; items != NULL && i < n; i++)
        if (json_array_append_new(items, account_json(&list[i])) != 0) {
            json_decref(items);
            items = NULL;
        }
    free(list);
    return h_reply(rs, 200, h_page_json("accounts", items, total, &hl));
}

static int h_account_get(void *app, http_req *rq, http_resp *rs)
{
    cm_err err;
    cm_err_clear(&err);
    int64_t id = 0;
    if (h_path_id(rq, 0, "account", &id, &err) != 0)
        return h_fail(rs, &err);
    cm_svc svc;
    if (app_svc(app, rq, &svc) != 0)
        return oom(rs);
    cm_account a;
    if (svc_account_get(&svc, id, &a, &err) != 0)
        return h_fail(rs, &err);
    return h_reply(rs, 200, account_json(&a));
}

/* Settings ----------------------------------------------------------------------------------- */

static int h_settings_get(void *app, http_req *rq, http_resp *rs)
{
    cm_err err;
    cm_err_clear(&err);
    cm_svc svc;
    if (app_svc(app, rq, &svc) != 0)
        return oom(rs);
    cm_account a;
    if (svc_settings_get(&svc, &a, &err) != 0)
        return h_fail(rs, &err);
    return h_reply(rs, 200, settings_json(&a));
}

/* A boolean setting: absent or null leaves it as it is. */
static int get_flag(json_t *body, const char *key, int *out, cm_err *err)
{
    json_t *v = json_object_get(body, key);
    if (v == NULL || json_is_null(v))
        return 0;
    bool b = false;
    if (json_get_bool(body, key, true, &b, err) != 0)
        return -1;
    *out = b ? 1 : 0;
    return 0;
}

static int get_number(json_t *body, const char *key, int *out, cm_err *err)
{
    int64_t v = SETTING_KEEP;
    if (json_get_int(body, key, false, -INT_FIELD_MAX, INT_FIELD_MAX, &v, err) != 0)
        return -1;
    *out = (int)v;
    return 0;
}

static int h_settings_put(void *app, http_req *rq, http_resp *rs)
{
    static const char *const keys[] = {
        "allow_duplicates",    "skip_approval",   "reissue_revoke_delay_hours",
        "renewal_window_days", "auto_renew_days", NULL};
    cm_err err;
    cm_err_clear(&err);
    json_t *body = NULL;
    cm_settings_patch p;
    svc_settings_patch_init(&p);
    if (http_json_body(rq, &body, &err) != 0 || json_only_keys(body, keys, &err) != 0 ||
        get_flag(body, "allow_duplicates", &p.allow_duplicates, &err) != 0 ||
        get_flag(body, "skip_approval", &p.skip_approval, &err) != 0 ||
        get_number(body, "reissue_revoke_delay_hours", &p.reissue_revoke_delay_hours, &err) != 0 ||
        get_number(body, "renewal_window_days", &p.renewal_window_days, &err) != 0 ||
        get_number(body, "auto_renew_days", &p.auto_renew_days, &err) != 0)
        return h_fail(rs, &err);
    cm_svc svc;
    if (app_svc(app, rq, &svc) != 0)
        return oom(rs);
    cm_account a;
    if (svc_settings_update(&svc, &p, &a, &err) != 0)
        return h_fail(rs, &err);
    return h_reply(rs, 200, settings_json(&a));
}

/* Users -------------------------------------------------------------------------------------- */

static int h_user_create(void *app, http_req *rq, http_resp *rs)
{
    static const char *const keys[] = {"email", "first_name", "last_name", "role", NULL};
    cm_err err;
    cm_err_clear(&err);
    json_t *body = NULL;
    const char *email = NULL, *first = NULL, *last = NULL, *role = NULL;
    if (http_json_body(rq, &body, &err) != 0 || json_only_keys(body, keys, &err) != 0 ||
        json_get_str(body, "email", true, EMAIL_MAX, &email, &err) != 0 ||
        json_get_str(body, "first_name", true, NAME_MAX_, &first, &err) != 0 ||
        json_get_str(body, "last_name", true, NAME_MAX_, &last, &err) != 0 ||
        json_get_str(body, "role", true, ROLE_MAX, &role, &err) != 0)
        return h_fail(rs, &err);
    cm_user u;
    memset(&u, 0, sizeof u);
    put(u.email, sizeof u.email, email);
    put(u.first_name, sizeof u.first_name, first);
    put(u.last_name, sizeof u.last_name, last);
    put(u.role, sizeof u.role, role);
    cm_svc svc;
    if (app_svc(app, rq, &svc) != 0)
        return oom(rs);
    if (svc_user_create(&svc, &u, &err) != 0)
        return h_fail(rs, &err);
    return h_reply(rs, 201, json_pack("{s:I}", "id", (json_int_t)u.id));
}

static int h_user_list(void *app, http_req *rq, http_resp *rs)
{
    static const char *const sortable[] = {"id", "email", "last_name", "created_at", NULL};
    static const char *const filterable[] = {"role", "status", "email", NULL};
    cm_err err;
    cm_err_clear(&err);
    http_list hl;
    cm_list_opts o;
    if (h_list_opts(rq, sortable, filterable, &hl, &o, &err) != 0)
        return h_fail(rs, &err);
    cm_svc svc;
    if (app_svc(app, rq, &svc) != 0)
        return oom(rs);
    cm_user *list = NULL;
    size_t n = 0;
    int64_t total = 0;
    if (svc_user_list(&svc, &o, &list, &n, &total, &err) != 0)
        return h_fail(rs, &err);
    json_t *items = json_array();
    for (size_t i = 0; items != NULL && i < n; i++)
        if (json_array_append_new(items, user_json(&list[i])) != 0) {
            json_decref(items);
            items = NULL;
        }
    free(list);
    return h_reply(rs, 200, h_page_json("users", items, total, &hl));
}

static int h_user_get(void *app, http_req *rq, http_resp *rs)
{
    cm_err err;
    cm_err_clear(&err);
    int64_t id = 0;
    if (h_path_id(rq, 0, "user", &id, &err) != 0)
        return h_fail(rs, &err);
    cm_svc svc;
    if (app_svc(app, rq, &svc) != 0)
        return oom(rs);
    cm_user u;
    if (svc_user_get(&svc, id, &u, &err) != 0)
        return h_fail(rs, &err);
    return h_reply(rs, 200, user_json(&u));
}

/* API keys ----------------------------------------------------------------------------------- */

static int h_key_create(void *app, http_req *rq, http_resp *rs)
{
    static const char *const keys[] = {"user_id", "name", NULL};
    cm_err err;
    cm_err_clear(&err);
    json_t *body = NULL;
    int64_t user_id = 0;
    const char *name = NULL;
    if (http_json_body(rq, &body, &err) != 0 || json_only_keys(body, keys, &err) != 0 ||
        json_get_int(body, "user_id", true, 1, INT64_MAX, &user_id, &err) != 0 ||
        json_get_str(body, "name", true, NAME_MAX_, &name, &err) != 0)
        return h_fail(rs, &err);
    cm_svc svc;
    if (app_svc(app, rq, &svc) != 0)
        return oom(rs);
    cm_apikey k;
    char key[API_KEY_SIZE];
    if (svc_key_create(&svc, user_id, name, &k, key, sizeof key, &err) != 0)
        return h_fail(rs, &err);
    json_t *j = json_pack("{s:I,s:s}", "id", (json_int_t)k.id, "api_key", key);
    memset(key, 0, sizeof key);
    return h_reply(rs, 201, j);
}

static int h_key_list(void *app, http_req *rq, http_resp *rs)
{
    static const char *const sortable[] = {"id", "name", "created_at", NULL};
    static const char *const filterable[] = {"user_id", NULL};
    cm_err err;
    cm_err_clear(&err);
    http_list hl;
    cm_list_opts o;
    if (h_list_opts(rq, sortable, filterable, &hl, &o, &err) != 0)
        return h_fail(rs, &err);
    cm_svc svc;
    if (app_svc(app, rq, &svc) != 0)
        return oom(rs);
    cm_apikey *list = NULL;
    size_t n = 0;
    int64_t total = 0;
    if (svc_key_list(&svc, &o, &list, &n, &total, &err) != 0)
        return h_fail(rs, &err);
    json_t *items = json_array();
    for (size_t i = 0; items != NULL && i < n; i++)
        if (json_array_append_new(items, key_json(&list[i])) != 0) {
            json_decref(items);
            items = NULL;
        }
    free(list);
    return h_reply(rs, 200, h_page_json("api_keys", items, total, &hl));
}

static int h_key_revoke(void *app, http_req *rq, http_resp *rs)
{
    cm_err err;
    cm_err_clear(&err);
    int64_t id = 0;
    if (h_path_id(rq, 0, "key", &id, &err) != 0)
        return h_fail(rs, &err);
    cm_svc svc;
    if (app_svc(app, rq, &svc) != 0)
        return oom(rs);
    if (svc_key_revoke(&svc, id, &err) != 0)
        return h_fail(rs, &err);
    rs->status = 204;
    return 0;
}

/* Audit log ---------------------------------------------------------------------------------- */

static int h_audit_list(void *app, http_req *rq, http_resp *rs)
{
    static const char *const sortable[] = {"id", "at", "action", NULL};
    static const char *const filterable[] = {"action", "object_type", "object_id", NULL};
    cm_err err;
    cm_err_clear(&err);
    http_list hl;
    cm_list_opts o;
    if (h_list_opts(rq, sortable, filterable, &hl, &o, &err) != 0)
        return h_fail(rs, &err);
    cm_svc svc;
    if (app_svc(app, rq, &svc) != 0)
        return oom(rs);
    cm_audit *list = NULL;
    size_t n = 0;
    int64_t total = 0;
    if (svc_audit_list(&svc, &o, &list, &n, &total, &err) != 0)
        return h_fail(rs, &err);
    json_t *items = json_array();
    for (size_t i = 0; items != NULL && i < n; i++)
        if (json_array_append_new(items, audit_json(&list[i])) != 0) {
            json_decref(items);
            items = NULL;
        }
    free(list);
    return h_reply(rs, 200, h_page_json("events", items, total, &hl));
}

/* Routes: /account/settings before /account/{id} (first match wins). */
const http_route routes_account[] = {
    {"POST", V2 "/account", HTTP_AUTH_OPERATOR, h_account_create},
    {"GET", V2 "/account", HTTP_AUTH_OPERATOR, h_account_list},
    {"GET", V2 "/account/settings", HTTP_AUTH_KEY, h_settings_get},
    {"PUT", V2 "/account/settings", HTTP_AUTH_KEY, h_settings_put},
    {"GET", V2 "/account/{id}", HTTP_AUTH_OPERATOR, h_account_get},
    {"POST", V2 "/user", HTTP_AUTH_KEY, h_user_create},
    {"GET", V2 "/user", HTTP_AUTH_KEY, h_user_list},
    {"GET", V2 "/user/{id}", HTTP_AUTH_KEY, h_user_get},
    {"POST", V2 "/key", HTTP_AUTH_KEY, h_key_create},
    {"GET", V2 "/key", HTTP_AUTH_KEY, h_key_list},
    {"DELETE", V2 "/key/{id}", HTTP_AUTH_KEY, h_key_revoke},
    {"GET", V2 "/audit", HTTP_AUTH_KEY, h_audit_list},
};
const size_t n_routes_account = sizeof routes_account / sizeof routes_account[0];
