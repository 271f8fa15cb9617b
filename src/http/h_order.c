/* h_order.c — orders: place, info, list, cancel, certificate history, and the DCV of DV
 * orders (DESIGN.md §5). */
#include <stdlib.h>
#include <string.h>

#include "core/platform.h"
#include "core/product.h"
#include "http/app.h"
#include "http/h_util.h"
#include "service/order.h"
#include "util/clock.h"

/* A name's DCV status as the API says it (the same words in order info and check-dcv). */
static const char *dcv_status_name(const cm_order_name *n)
{
    return strcmp(n->dcv_status, "valid") == 0 ? "approved" : "pending";
}

/* The JSON of an order; `full` adds its names, DCV state and what it waits for. */
static json_t *order_json(cm_svc *s, const cm_order *o, bool full)
{
    const cm_product *p = product_find(o->product);
    json_t *j = json_pack(
        "{s:I,s:s,s:{s:s,s:s,s:s},s:{s:s,s:{s:i},s:s},s:{s:i},s:b,s:o,s:o,s:o,s:I}", "id",
        (json_int_t)o->id, "status", o->status, "product", "name_id", o->product, "name",
        p ? p->name : o->product, "type", p ? validation_name(p->validation) : "", "certificate",
        "common_name", o->common_name, "server_platform", "id", o->server_platform,
        "signature_hash", o->signature_hash, "order_validity", "years", o->validity_years,
        "auto_renew", o->auto_renew, "date_created", json_time(o->created_at), "date_issued",
        json_time(o->issued_at), "order_valid_till", json_time(o->coverage_end), "user_id",
        (json_int_t)o->user_id);
    if (j == NULL)
        return NULL;
    if (o->org_id > 0)
        json_object_set_new(j, "organization", json_pack("{s:I}", "id", (json_int_t)o->org_id));
    if (o->renewal_of_order_id > 0)
        json_object_set_new(j, "renewal_of_order_id", json_integer(o->renewal_of_order_id));
    if (o->renewed_by_order_id > 0)
        json_object_set_new(j, "renewed_by_order_id", json_integer(o->renewed_by_order_id));
    if (o->note[0] != '\0')
        json_object_set_new(j, "note", json_string(o->note));
    if (!full)
        return j;
    json_t *names = json_array(), *vals = json_array();
    for (size_t i = 0; i < o->n_names; i++) {
        json_array_append_new(names, json_string(o->names[i].name));
        if (o->names[i].dcv_status[0] != '\0')
            json_array_append_new(vals, json_pack("{s:s,s:s,s:o}", "dns_name", o->names[i].name,
                                                  "status", dcv_status_name(&o->names[i]),
                                                  "validated_at",
                                                  json_time(o->names[i].validated_at)));
    }
    json_object_set_new(json_object_get(j, "certificate"), "dns_names", names);
    if (o->dcv_method[0] != '\0') {
        json_object_set_new(j, "dcv_method", json_string(o->dcv_method));
        json_object_set_new(j, "dns_name_validations", vals);
        bool waiting = strcmp(o->status, "pending") == 0 ||
                       strcmp(o->status, "needs_approval") == 0 ||
                       strcmp(o->status, "reissue_pending") == 0;
        /* An email code is for the mailbox only: the API never shows it. */
        if (waiting && o->dcv_value[0] != '\0' && strcmp(o->dcv_method, "email") != 0) {
            json_object_set_new(j, "dcv_random_value", json_string(o->dcv_value));
            json_object_set_new(j, "dcv_expiration_date", json_time(o->dcv_value_expires));
        }
    } else {
        json_decref(vals);
    }
    char *why = svc_order_waiting_for(s, o);
    if (why != NULL) {
        json_object_set_new(j, "waiting_for", json_string(why));
        free(why);
    }
    return j;
}

static int h_order_create(void *app, http_req *rq, http_resp *rs)
{
    static const char *const top[] = {"certificate", "organization", "order_validity",
                                      "auto_renew", "renewal_of_order_id", "comments",
                                      "dcv_method", "issuer", NULL};
    static const char *const certk[] = {"common_name", "dns_names", "csr", "server_platform",
                                        "signature_hash", NULL};
    cm_err err;
    cm_svc svc;
    json_t *body, *cert, *names = NULL, *sub;
    cm_order_input in;
    memset(&in, 0, sizeof in);
    in.product = rq->params[0];
    in.server_platform = PLATFORM_OTHER;
    int64_t v = 0;
    if (http_json_body(rq, &body, &err) != 0 || json_only_keys(body, top, &err) != 0 ||
        json_get_object(body, "certificate", true, &cert, &err) != 0 ||
        json_only_keys(cert, certk, &err) != 0 ||
        json_get_str(body, "certificate.common_name", true, 255, &in.common_name, &err) != 0 ||
        json_get_text(body, "certificate.csr", true, 16000, &in.csr, &err) != 0 ||
        json_get_array(body, "certificate.dns_names", false, CERT_MAX_NAMES, &names, &err) != 0 ||
        json_get_str(body, "certificate.signature_hash", false, 16, &in.signature_hash, &err) !=
            0 ||
        json_get_str(body, "comments", false, 1000, &in.comments, &err) != 0 ||
        json_get_str(body, "dcv_method", false, 24, &in.dcv_method, &err) != 0 ||
        json_get_str(body, "issuer", false, 8, &in.issuer, &err) != 0 ||
        json_get_bool(body, "auto_renew", false, &in.auto_renew, &err) != 0)
        return h_fail(rs, &err);
    sub = NULL;
    if (json_get_object(body, "certificate.server_platform", false, &sub, &err) != 0)
        return h_fail(rs, &err);
    v = PLATFORM_OTHER;
    if (sub != NULL && json_get_int(sub, "id", true, -1, 100000, &v, &err) != 0) {
        cm_err_prefix(&err, "certificate.server_platform");
        return h_fail(rs, &err);
    }
    in.server_platform = (int)v;
    v = 0;
    sub = NULL;
    if (json_get_object(body, "organization", false, &sub, &err) != 0)
        return h_fail(rs, &err);
    if (sub != NULL && json_get_int(sub, "id", true, 1, INT64_MAX, &v, &err) != 0) {
        cm_err_prefix(&err, "organization");
        return h_fail(rs, &err);
    }
    in.org_id = v;
    v = 1;
    sub = NULL;
    if (json_get_object(body, "order_validity", false, &sub, &err) != 0)
        return h_fail(rs, &err);
    if (sub != NULL && json_get_int(sub, "years", true, 1, 6, &v, &err) != 0) {
        cm_err_prefix(&err, "order_validity");
        return h_fail(rs, &err);
    }
    in.validity_years = (int)v;
    v = 0;
    if (json_get_int(body, "renewal_of_order_id", false, 1, INT64_MAX, &v, &err) != 0)
        return h_fail(rs, &err);
    in.renewal_of_order_id = v;
    const char **list = NULL;
    if (names != NULL) {
        size_t n = json_array_size(names);
        list = pool_alloc(rq->pool, (n ? n : 1) * sizeof *list);
        if (list == NULL)
            return -1;
        for (size_t i = 0; i < n; i++) {
            json_t *e = json_array_get(names, i);
            if (!json_is_string(e) || json_string_length(e) > 253 || json_string_length(e) == 0) {
                cm_err_set(&err, "field_invalid",
                           "certificate.dns_names[%zu] must be a name of 1 to 253 characters", i);
                return h_fail(rs, &err);
            }
            list[i] = json_string_value(e);
        }
        in.dns_names = list;
        in.n_dns_names = n;
    }
    if (app_svc(app, rq, &svc) != 0)
        return -1;
    cm_order_result res;
    if (svc_order_create(&svc, &in, &res, &err) != 0)
        return h_fail(rs, &err);
    json_t *j = json_pack("{s:I,s:s,s:[]}", "id", (json_int_t)res.order.id, "status",
                          res.order.status, "requests");
    if (j != NULL && res.request_id > 0)
        json_array_append_new(json_object_get(j, "requests"),
                              json_pack("{s:I,s:s}", "id", (json_int_t)res.request_id, "status",
                                        res.request_status));
    if (j != NULL && res.certificate_id > 0) {
        json_object_set_new(j, "certificate_id", json_integer(res.certificate_id));
        if (res.chain_pem != NULL)
            json_object_set_new(j, "certificate_chain", json_string(res.chain_pem));
    }
    if (j != NULL && res.order.dcv_value[0] != '\0' && strcmp(res.order.status, "issued") != 0 &&
        strcmp(res.order.dcv_method, "email") != 0) {
        json_object_set_new(j, "dcv_random_value", json_string(res.order.dcv_value));
        json_object_set_new(j, "dcv_method", json_string(res.order.dcv_method));
    }
    order_result_clear(&res);
    return h_reply(rs, 201, j);
}

static int h_order_get(void *app, http_req *rq, http_resp *rs)
{
    cm_err err;
    cm_svc svc;
    int64_t id;
    cm_order o;
    if (h_path_id(rq, 0, "order", &id, &err) != 0)
        return h_fail(rs, &err);
    if (app_svc(app, rq, &svc) != 0)
        return -1;
    if (svc_order_get(&svc, id, &o, &err) != 0)
        return h_fail(rs, &err);
    json_t *j = order_json(&svc, &o, true);
    store_order_clear(&o);
    return h_reply(rs, 200, j);
}

static int h_order_list(void *app, http_req *rq, http_resp *rs)
{
    static const char *const sortable[] = {"id", "created_at", "status", "common_name",
                                           "product", "issued_at", NULL};
    static const char *const filterable[] = {"status", "product", "common_name", "org_id", NULL};
    cm_err err;
    cm_svc svc;
    http_list hl;
    cm_list_opts lo;
    cm_order *list = NULL;
    size_t n = 0;
    int64_t total = 0;
    if (h_list_opts(rq, sortable, filterable, &hl, &lo, &err) != 0)
        return h_fail(rs, &err);
    if (app_svc(app, rq, &svc) != 0)
        return -1;
    if (svc_order_list(&svc, &lo, &list, &n, &total, &err) != 0)
        return h_fail(rs, &err);
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(items, order_json(&svc, &list[i], false));
    store_order_free_list(list, n);
    return h_reply(rs, 200, h_page_json("orders", items, total, &hl));
}

static int h_order_status(void *app, http_req *rq, http_resp *rs)
{
    static const char *const keys[] = {"status", "note", NULL};
    cm_err err;
    cm_svc svc;
    int64_t id;
    json_t *body;
    const char *status = NULL, *note = NULL;
    if (h_path_id(rq, 0, "order", &id, &err) != 0 || http_json_body(rq, &body, &err) != 0 ||
        json_only_keys(body, keys, &err) != 0 ||
        json_get_str(body, "status", true, 16, &status, &err) != 0 ||
        json_get_text(body, "note", false, 500, &note, &err) != 0)
        return h_fail(rs, &err);
    if (strcmp(status, "canceled") != 0) {
        cm_err_set(&err, "field_invalid", "status must be \"canceled\"");
        return h_fail(rs, &err);
    }
    if (app_svc(app, rq, &svc) != 0)
        return -1;
    if (svc_order_cancel(&svc, id, note, &err) != 0)
        return h_fail(rs, &err);
    rs->status = 204;
    return 0;
}

json_t *cert_list_json(const cm_cert_row *list, size_t n)
{
    json_t *items = json_array();
    for (size_t i = 0; i < n && items != NULL; i++)
        json_array_append_new(items, cert_json(&list[i]));
    return items;
}

json_t *cert_json(const cm_cert_row *c)
{
    json_t *names = json_array();
    const char *p = c->names;
    while (*p != '\0') {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        json_array_append_new(names, json_stringn(p, n));
        p += n;
        if (*p == ',')
            p++;
    }
    json_t *j = json_pack("{s:I,s:I,s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:{s:i},s:s,s:I,s:o}", "id",
                          (json_int_t)c->id, "order_id", (json_int_t)c->order_id, "kind", c->kind,
                          "status", c->status, "serial_number", c->serial, "ca", c->ca_id,
                          "common_name", c->common_name, "dns_names", names, "valid_from",
                          json_time(c->not_before), "valid_till", json_time(c->not_after),
                          "server_platform", "id", c->server_platform, "signature_hash",
                          c->signature_hash, "user_id", (json_int_t)c->user_id, "date_created",
                          json_time(c->created_at));
    if (j != NULL && c->request_id > 0)
        json_object_set_new(j, "request_id", json_integer(c->request_id));
    if (j != NULL && c->revoked_at > 0) {
        json_object_set_new(j, "revoked_at", json_time(c->revoked_at));
        json_object_set_new(j, "revocation_reason",
                            json_string(revocation_reason_name(c->revocation_reason)));
    }
    if (j != NULL && c->revoke_after > 0)
        json_object_set_new(j, "revoke_after", json_time(c->revoke_after));
    return j;
}

static int h_order_history(void *app, http_req *rq, http_resp *rs)
{
    cm_err err;
    cm_svc svc;
    int64_t id;
    cm_cert_row *list = NULL;
    size_t n = 0;
    if (h_path_id(rq, 0, "order", &id, &err) != 0)
        return h_fail(rs, &err);
    if (app_svc(app, rq, &svc) != 0)
        return -1;
    if (svc_order_certificates(&svc, id, &list, &n, &err) != 0)
        return h_fail(rs, &err);
    json_t *j = json_pack("{s:o}", "certificates", cert_list_json(list, n));
    free(list);
    return h_reply(rs, 200, j);
}

static int h_order_dcv_method(void *app, http_req *rq, http_resp *rs)
{
    static const char *const keys[] = {"dcv_method", NULL};
    cm_err err;
    cm_svc svc;
    int64_t id;
    json_t *body;
    const char *method = NULL;
    cm_order o;
    if (h_path_id(rq, 0, "order", &id, &err) != 0 || http_json_body(rq, &body, &err) != 0 ||
        json_only_keys(body, keys, &err) != 0 ||
        json_get_str(body, "dcv_method", true, 24, &method, &err) != 0)
        return h_fail(rs, &err);
    if (app_svc(app, rq, &svc) != 0)
        return -1;
    if (svc_order_dcv_method(&svc, id, method, &err) != 0 ||
        svc_order_get(&svc, id, &o, &err) != 0)
        return h_fail(rs, &err);
    json_t *j = json_pack("{s:s,s:o}", "dcv_method", o.dcv_method, "dcv_expiration_date",
                          json_time(o.dcv_value_expires));
    if (j != NULL && strcmp(o.dcv_method, "email") != 0) /* email codes go to the mailbox only */
        json_object_set_new(j, "dcv_random_value", json_string(o.dcv_value));
    store_order_clear(&o);
    return h_reply(rs, 200, j);
}

static int h_order_check_dcv(void *app, http_req *rq, http_resp *rs)
{
    cm_err err;
    cm_svc svc;
    int64_t id, cert = 0;
    cm_order o;
    if (h_path_id(rq, 0, "order", &id, &err) != 0)
        return h_fail(rs, &err);
    if (app_svc(app, rq, &svc) != 0)
        return -1;
    if (svc_order_check_dcv(&svc, id, &cert, &err) != 0)
        return h_fail(rs, &err);
    if (svc_order_get(&svc, id, &o, &err) != 0)
        return h_fail(rs, &err);
    json_t *vals = json_array();
    bool all = true;
    for (size_t i = 0; i < o.n_names; i++) {
        all = all && strcmp(o.names[i].dcv_status, "valid") == 0;
        json_array_append_new(vals, json_pack("{s:s,s:s}", "dns_name", o.names[i].name, "status",
                                              dcv_status_name(&o.names[i])));
    }
    json_t *j = json_pack("{s:s,s:s,s:o}", "order_status", o.status, "dcv_status",
                          all ? "complete" : "pending", "dns_name_validations", vals);
    if (j != NULL && cert > 0)
        json_object_set_new(j, "certificate_id", json_integer(cert));
    store_order_clear(&o);
    return h_reply(rs, 200, j);
}

const http_route routes_order[] = {
    {"POST", "/services/v2/order/certificate/{product}", HTTP_AUTH_KEY, h_order_create},
    {"GET", "/services/v2/order/certificate", HTTP_AUTH_KEY, h_order_list},
    {"GET", "/services/v2/order/certificate/{id}", HTTP_AUTH_KEY, h_order_get},
    {"PUT", "/services/v2/order/certificate/{id}/status", HTTP_AUTH_KEY, h_order_status},
    {"GET", "/services/v2/order/certificate/{id}/certificate", HTTP_AUTH_KEY, h_order_history},
    {"PUT", "/services/v2/order/certificate/{id}/dcv-method", HTTP_AUTH_KEY, h_order_dcv_method},
    {"PUT", "/services/v2/order/certificate/{id}/check-dcv", HTTP_AUTH_KEY, h_order_check_dcv},
};
const size_t n_routes_order = sizeof routes_order / sizeof routes_order[0];
