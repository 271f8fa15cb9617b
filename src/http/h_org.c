/* h_org.c — REST handlers of organisations: create, list, read, the operator's vetting and
 * verified contacts (DESIGN.md §5). Each handler: parse → one call of service/svc_org.h → JSON. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "http/app.h"
#include "http/h_util.h"
#include "service/svc_org.h"
#include "util/clock.h"
#include "util/str.h"

#define V2       "/services/v2"
#define DATE_MAX 32

/* The organisation fields of DESIGN.md §5, with their storage sizes. */
static const struct {
    const char *key;
    size_t off, size;
    bool required;
} org_fields[] = {
/* clang-format off */
#define F(f, req) {#f, offsetof(cm_org, f), sizeof(((cm_org *)0)->f), req}
    F(name, true),
    F(assumed_name, false),
    F(address, false),
    F(address2, false),
    F(city, false),
    F(state, false),
    F(zip, false),
    F(country, true),
    F(telephone, false),
    F(jurisdiction_country, false),
    F(jurisdiction_state, false),
    F(jurisdiction_city, false),
    F(business_category, false),
    F(registration_number, false),
#undef F
    /* clang-format on */
};
#define N_ORG_FIELDS (sizeof org_fields / sizeof org_fields[0])

/* Helpers ------------------------------------------------------------------------------------ */

static json_t *validations_json(const cm_org_row *o, int64_t now)
{
    json_t *a = json_array();
    const struct {
        const char *type;
        int64_t at, until;
    } v[] = {{"ov", o->ov_validated_at, o->ov_valid_until},
             {"ev", o->ev_validated_at, o->ev_valid_until}};
    for (size_t i = 0; a != NULL && i < 2; i++) {
        if (v[i].at == 0)
            continue;
        json_array_append_new(a,
                              json_pack("{s:s, s:s, s:o, s:o}", "type", v[i].type, "status",
                                        v[i].until > now ? "active" : "expired", "validated_at",
                                        json_time(v[i].at), "valid_until", json_time(v[i].until)));
    }
    return a;
}

/* The organisation as the API shows it; contacts only when given. NULL on OOM. */
static json_t *org_json(const cm_org_row *o, const cm_contact *c, size_t nc, bool contacts)
{
    json_t *j =
        json_pack("{s:I, s:o, s:o}", "id", (json_int_t)o->id, "created_at",
                  json_time(o->created_at), "validations", validations_json(o, clock_now()));
    if (j == NULL)
        return NULL;
    for (size_t i = 0; i < N_ORG_FIELDS; i++)
        json_object_set_new(j, org_fields[i].key,
                            json_string((const char *)&o->org + org_fields[i].off));
    if (contacts) {
        json_t *a = json_array();
        for (size_t i = 0; a != NULL && i < nc; i++)
            json_array_append_new(
                a, json_pack("{s:I, s:b, s:o}", "user_id", (json_int_t)c[i].user_id, "ev_approver",
                             c[i].ev_approver, "created_at", json_time(c[i].created_at)));
        json_object_set_new(j, "contacts", a);
    }
    return j;
}

/* Handlers ----------------------------------------------------------------------------------- */

/* POST /organization */
static int h_org_create(void *app, http_req *rq, http_resp *rs)
{
    const char *allowed[N_ORG_FIELDS + 1];
    cm_err err = {"", ""};
    json_t *body;
    cm_org org;
    cm_svc svc;
    int64_t id = 0;
    memset(&org, 0, sizeof org);
    for (size_t i = 0; i < N_ORG_FIELDS; i++)
        allowed[i] = org_fields[i].key;
    allowed[N_ORG_FIELDS] = NULL;
    if (http_json_body(rq, &body, &err) != 0 || json_only_keys(body, allowed, &err) != 0)
        return h_fail(rs, &err);
    for (size_t i = 0; i < N_ORG_FIELDS; i++) {
        const char *v = NULL;
        if (json_get_str(body, org_fields[i].key, org_fields[i].required, org_fields[i].size - 1,
                         &v, &err) != 0)
            return h_fail(rs, &err);
        if (v != NULL)
            str_copy((char *)&org + org_fields[i].off, org_fields[i].size, v);
    }
    if (app_svc(app, rq, &svc) != 0 || svc_org_create(&svc, &org, &id, &err) != 0)
        return h_fail(rs, &err);
    return h_reply(rs, 201, json_pack("{s:I}", "id", (json_int_t)id));
}

/* GET /organization */
static int h_org_list(void *app, http_req *rq, http_resp *rs)
{
    static const char *const sortable[] = {"id", "name", "created_at", NULL};
    static const char *const filterable[] = {"name", "country", NULL};
    cm_err err = {"", ""};
    http_list hl;
    cm_list_opts o;
    cm_svc svc;
    cm_org_row *rows = NULL;
    size_t n = 0;
    int64_t total = 0;
    if (h_list_opts(rq, sortable, filterable, &hl, &o, &err) != 0)
        return h_fail(rs, &err);
    if (app_svc(app, rq, &svc) != 0 || svc_org_list(&svc, &o, &rows, &n, &total, &err) != 0)
        return h_fail(rs, &err);
    json_t *items = json_array();
    for (size_t i = 0; items != NULL && i < n; i++)
        json_array_append_new(items, org_json(&rows[i], NULL, 0, false));
    free(rows);
    if (items == NULL)
        return h_reply(rs, 200, NULL);
    return h_reply(rs, 200,
                 json_pack("{s:o, s:{s:I, s:I, s:I}}", "organizations", items, "page", "total",
                           (json_int_t)total, "limit", (json_int_t)hl.limit, "offset",
                           (json_int_t)hl.offset));
}

/* GET /organization/{id} */
static int h_org_get(void *app, http_req *rq, http_resp *rs)
{
    cm_err err = {"", ""};
    cm_svc svc;
    cm_org_row row;
    cm_contact *c = NULL;
    size_t nc = 0;
    int64_t id = 0;
    if (h_path_id(rq, 0, "organization", &id, &err) != 0)
        return h_fail(rs, &err);
    if (app_svc(app, rq, &svc) != 0 || svc_org_get(&svc, id, &row, &c, &nc, &err) != 0)
        return h_fail(rs, &err);
    json_t *j = org_json(&row, c, nc, true);
    free(c);
    return h_reply(rs, 200, j);
}

/* PUT /organization/{id}/validation (operator) */
static int h_org_validate(void *app, http_req *rq, http_resp *rs)
{
    static const char *const top[] = {"validations", NULL};
    static const char *const item_keys[] = {"type", "valid_until", NULL};
    cm_err err = {"", ""};
    cm_svc svc;
    json_t *body, *arr;
    cm_org_vetting v[2];
    cm_org_row row;
    cm_contact *c = NULL;
    size_t nc = 0;
    int64_t id = 0;
    memset(v, 0, sizeof v);
    if (h_path_id(rq, 0, "organization", &id, &err) != 0 || http_json_body(rq, &body, &err) != 0 ||
        json_only_keys(body, top, &err) != 0 ||
        json_get_array(body, "validations", true, 2, &arr, &err) != 0)
        return h_fail(rs, &err);
    size_t nv = json_array_size(arr);
    for (size_t i = 0; i < nv; i++) {
        json_t *it = json_array_get(arr, i);
        const char *type = NULL, *until = NULL;
        if (!json_is_object(it)) {
            cm_err_set(&err, "field_invalid",
                       "validations[%zu] must be an object {\"type\":\"ov\"|\"ev\", "
                       "\"valid_until\":\"YYYY-MM-DD\"}",
                       i);
            return h_fail(rs, &err);
        }
        if (json_only_keys(it, item_keys, &err) != 0 ||
            json_get_str(it, "type", true, 8, &type, &err) != 0 ||
            json_get_str(it, "valid_until", false, DATE_MAX, &until, &err) != 0)
            return h_fail(rs, &err);
        if (strcmp(type, "ov") == 0) {
            v[i].type = VAL_OV;
        } else if (strcmp(type, "ev") == 0) {
            v[i].type = VAL_EV;
        } else {
            cm_err_set(&err, "field_invalid", "validations[%zu].type must be \"ov\" or \"ev\"", i);
            return h_fail(rs, &err);
        }
        if (until != NULL && clock_parse_iso(until, &v[i].valid_until) != 0) {
            cm_err_set(&err, "field_invalid",
                       "validations[%zu].valid_until must be a date YYYY-MM-DD (UTC)", i);
            return h_fail(rs, &err);
        }
    }
    if (app_svc(app, rq, &svc) != 0 || svc_org_validate(&svc, id, v, nv, &row, &c, &nc, &err) != 0)
        return h_fail(rs, &err);
    json_t *j = org_json(&row, c, nc, true);
    free(c);
    return h_reply(rs, 200, j);
}

/* POST /organization/{id}/contact */
static int h_org_contact(void *app, http_req *rq, http_resp *rs)
{
    static const char *const keys[] = {"user_id", "ev_approver", NULL};
    cm_err err = {"", ""};
    cm_svc svc;
    json_t *body;
    cm_contact c;
    int64_t id = 0, user_id = 0;
    bool ev = true, created = false;
    if (h_path_id(rq, 0, "organization", &id, &err) != 0 || http_json_body(rq, &body, &err) != 0 ||
        json_only_keys(body, keys, &err) != 0 ||
        json_get_int(body, "user_id", true, 1, INT64_MAX, &user_id, &err) != 0 ||
        json_get_bool(body, "ev_approver", false, &ev, &err) != 0)
        return h_fail(rs, &err);
    if (app_svc(app, rq, &svc) != 0 ||
        svc_org_contact_add(&svc, id, user_id, ev, &c, &created, &err) != 0)
        return h_fail(rs, &err);
    return h_reply(rs, created ? 201 : 200,
                 json_pack("{s:I, s:I, s:b, s:o}", "organization_id", (json_int_t)c.org_id,
                           "user_id", (json_int_t)c.user_id, "ev_approver", c.ev_approver,
                           "created_at", json_time(c.created_at)));
}

const http_route routes_org[] = {
    {"POST", V2 "/organization", HTTP_AUTH_KEY, h_org_create},
    {"GET", V2 "/organization", HTTP_AUTH_KEY, h_org_list},
    {"GET", V2 "/organization/{id}", HTTP_AUTH_KEY, h_org_get},
    {"PUT", V2 "/organization/{id}/validation", HTTP_AUTH_OPERATOR, h_org_validate},
    {"POST", V2 "/organization/{id}/contact", HTTP_AUTH_KEY, h_org_contact},
};
const size_t n_routes_org = sizeof routes_org / sizeof routes_org[0];
