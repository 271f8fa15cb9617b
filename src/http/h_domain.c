/* h_domain.c — REST handlers of domains and their domain-control validation (DESIGN.md §5):
 * register, list, read, choose the DCV method, check a token, and the email confirmation that
 * the domain's administrator sends without an API key. Each handler: parse → one call of
 * service/svc_domain.h → JSON. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "http/app.h"
#include "http/h_util.h"
#include "service/order.h"
#include "service/svc_domain.h"
#include "util/clock.h"
#include "util/str.h"

#define V2            "/services/v2"
#define DOMAIN_IN_MAX 1024 /* bytes of a name as given (U-labels); core/names.h checks the rest */
#define METHOD_MAX    32
#define CODE_MAX      128

/* Helpers ------------------------------------------------------------------------------------ */

/* A body is optional on the PUTs that take no fields, but when sent it must be an empty
 * object. */
static int no_fields(http_req *rq, cm_err *err)
{
    static const char *const none[] = {NULL};
    json_t *body;
    if (rq->body_len == 0)
        return 0;
    if (http_json_body(rq, &body, err) != 0)
        return -1;
    return json_only_keys(body, none, err);
}

/* dcv_token{…} of DESIGN.md §5; NULL when the domain has no random value. */
static json_t *token_json(const cm_dcv_token *t)
{
    if (!t->present)
        return json_null();
    if (t->email) {
        json_t *a = json_array();
        for (size_t i = 0; a != NULL && i < DCV_EMAIL_COUNT; i++)
            json_array_append_new(a, json_string(t->emails[i]));
        return json_pack("{s:o, s:o}", "emails", a, "expiration_date", json_time(t->expires));
    }
    json_t *j = json_pack("{s:s, s:s, s:o}", "token", t->token, "verification_value",
                          t->verification_value, "expiration_date", json_time(t->expires));
    if (j != NULL && t->record_name[0] != '\0')
        json_object_set_new(j, "record_name", json_string(t->record_name));
    if (j != NULL && t->http_url[0] != '\0')
        json_object_set_new(j, "http_token_url", json_string(t->http_url));
    return j;
}

static json_t *domain_json(const cm_svc *svc, const cm_domain *d)
{
    cm_dcv_token t;
    svc_domain_token(svc, d, &t);
    json_t *j =
        json_pack("{s:I, s:s, s:s, s:s, s:o, s:o, s:o, s:o}", "id", (json_int_t)d->id, "name",
                  d->name, "status", svc_domain_status(d, clock_now()), "dcv_method", d->dcv_method,
                  "dcv_token", token_json(&t), "validated_at", json_time(d->validated_at),
                  "valid_until", json_time(d->valid_until), "created_at", json_time(d->created_at));
    if (j != NULL && d->org_id != 0)
        json_object_set_new(j, "organization", json_pack("{s:I}", "id", (json_int_t)d->org_id));
    return j;
}

/* Handlers ----------------------------------------------------------------------------------- */

/* POST /domain */
static int h_domain_create(void *app, http_req *rq, http_resp *rs)
{
    static const char *const keys[] = {"name", "organization", "dcv_method", NULL};
    static const char *const org_keys[] = {"id", NULL};
    cm_err err = {"", ""};
    cm_svc svc;
    json_t *body, *org = NULL;
    const char *name = NULL, *method = NULL;
    int64_t org_id = 0;
    cm_domain d;
    if (http_json_body(rq, &body, &err) != 0 || json_only_keys(body, keys, &err) != 0 ||
        json_get_str(body, "name", true, DOMAIN_IN_MAX, &name, &err) != 0 ||
        json_get_str(body, "dcv_method", false, METHOD_MAX, &method, &err) != 0 ||
        json_get_object(body, "organization", false, &org, &err) != 0)
        return h_fail(rs, &err);
    if (org != NULL && (json_only_keys(org, org_keys, &err) != 0 ||
                        json_get_int(org, "id", true, 1, INT64_MAX, &org_id, &err) != 0))
        return h_fail(rs, &err);
    if (app_svc(app, rq, &svc) != 0 || svc_domain_create(&svc, name, org_id, method, &d, &err) != 0)
        return h_fail(rs, &err);
    cm_dcv_token t;
    svc_domain_token(&svc, &d, &t);
    return h_reply(rs, 201,
                 json_pack("{s:I, s:s, s:s, s:o}", "id", (json_int_t)d.id, "name", d.name,
                           "dcv_method", d.dcv_method, "dcv_token", token_json(&t)));
}

/* GET /domain */
static int h_domain_list(void *app, http_req *rq, http_resp *rs)
{
    static const char *const sortable[] = {"id", "name", "created_at", "valid_until", NULL};
    static const char *const filterable[] = {"name", "org_id", NULL};
    cm_err err = {"", ""};
    http_list hl;
    cm_list_opts o;
    cm_svc svc;
    cm_domain *rows = NULL;
    size_t n = 0;
    int64_t total = 0;
    if (h_list_opts(rq, sortable, filterable, &hl, &o, &err) != 0)
        return h_fail(rs, &err);
    if (app_svc(app, rq, &svc) != 0 || svc_domain_list(&svc, &o, &rows, &n, &total, &err) != 0)
        return h_fail(rs, &err);
    json_t *items = json_array();
    for (size_t i = 0; items != NULL && i < n; i++)
        json_array_append_new(items, domain_json(&svc, &rows[i]));
    free(rows);
    if (items == NULL)
        return h_reply(rs, 200, NULL);
    return h_reply(rs, 200,
                 json_pack("{s:o, s:{s:I, s:I, s:I}}", "domains", items, "page", "total",
                           (json_int_t)total, "limit", (json_int_t)hl.limit, "offset",
                           (json_int_t)hl.offset));
}

/* GET /domain/{id} */
static int h_domain_get(void *app, http_req *rq, http_resp *rs)
{
    cm_err err = {"", ""};
    cm_svc svc;
    cm_domain d;
    int64_t id = 0;
    if (h_path_id(rq, 0, "domain", &id, &err) != 0)
        return h_fail(rs, &err);
    if (app_svc(app, rq, &svc) != 0 || svc_domain_get(&svc, id, &d, &err) != 0)
        return h_fail(rs, &err);
    return h_reply(rs, 200, domain_json(&svc, &d));
}

/* PUT /domain/{id}/dcv/method */
static int h_domain_method(void *app, http_req *rq, http_resp *rs)
{
    static const char *const keys[] = {"dcv_method", NULL};
    cm_err err = {"", ""};
    cm_svc svc;
    json_t *body;
    const char *method = NULL;
    cm_domain d;
    int64_t id = 0;
    if (h_path_id(rq, 0, "domain", &id, &err) != 0 || http_json_body(rq, &body, &err) != 0 ||
        json_only_keys(body, keys, &err) != 0 ||
        json_get_str(body, "dcv_method", true, METHOD_MAX, &method, &err) != 0)
        return h_fail(rs, &err);
    if (app_svc(app, rq, &svc) != 0 || svc_domain_set_method(&svc, id, method, &d, &err) != 0)
        return h_fail(rs, &err);
    cm_dcv_token t;
    svc_domain_token(&svc, &d, &t);
    return h_reply(rs, 200,
                 json_pack("{s:I, s:s, s:o}", "id", (json_int_t)d.id, "dcv_method", d.dcv_method,
                           "dcv_token", token_json(&t)));
}

/* PUT /domain/{id}/dcv/validate-token */
static int h_domain_validate(void *app, http_req *rq, http_resp *rs)
{
    cm_err err = {"", ""};
    cm_svc svc;
    cm_domain d;
    int64_t id = 0;
    if (h_path_id(rq, 0, "domain", &id, &err) != 0 || no_fields(rq, &err) != 0)
        return h_fail(rs, &err);
    if (app_svc(app, rq, &svc) != 0 || svc_domain_validate(&svc, id, &d, &err) != 0)
        return h_fail(rs, &err);
    return h_reply(rs, 200,
                 json_pack("{s:s, s:o, s:o}", "status", svc_domain_status(&d, clock_now()),
                           "validated_at", json_time(d.validated_at), "valid_until",
                           json_time(d.valid_until)));
}

/* POST /dcv/email/confirm (no API key: the recipient of the mail sends the code) */
static int h_dcv_email_confirm(void *app, http_req *rq, http_resp *rs)
{
    static const char *const keys[] = {"code", NULL};
    cm_err err = {"", ""};
    cm_svc svc;
    json_t *body;
    const char *code = NULL;
    cm_email_confirmed c;
    if (http_json_body(rq, &body, &err) != 0 || json_only_keys(body, keys, &err) != 0 ||
        json_get_str(body, "code", true, CODE_MAX, &code, &err) != 0)
        return h_fail(rs, &err);
    if (app_svc(app, rq, &svc) != 0)
        return -1;
    if (svc_dcv_email_confirm(&svc, code, &c, &err) != 0)
        return h_fail(rs, &err);
    if (c.order)
        return h_reply(rs, 200, json_pack("{s:s, s:I}", "status", "active", "order_id",
                                          (json_int_t)c.order_id));
    return h_reply(rs, 200,
                 json_pack("{s:s, s:s, s:o}", "status", svc_domain_status(&c.domain, clock_now()),
                           "name", c.domain.name, "valid_until", json_time(c.domain.valid_until)));
}

const http_route routes_domain[] = {
    {"POST", V2 "/domain", HTTP_AUTH_KEY, h_domain_create},
    {"GET", V2 "/domain", HTTP_AUTH_KEY, h_domain_list},
    {"GET", V2 "/domain/{id}", HTTP_AUTH_KEY, h_domain_get},
    {"PUT", V2 "/domain/{id}/dcv/method", HTTP_AUTH_KEY, h_domain_method},
    {"PUT", V2 "/domain/{id}/dcv/validate-token", HTTP_AUTH_KEY, h_domain_validate},
    {"POST", V2 "/dcv/email/confirm", HTTP_AUTH_NONE, h_dcv_email_confirm},
};
const size_t n_routes_domain = sizeof routes_domain / sizeof routes_domain[0];
