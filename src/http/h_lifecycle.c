/* h_lifecycle.c — duplicates and reissues of an order (DESIGN.md §5, R-D, R-O4): request and
 * list. Both take the body `certificate{csr, common_name, dns_names[], server_platform{id},
 * signature_hash}` (duplicates also `valid_till`) and `comments`. */
#include <string.h>

#include "core/platform.h"
#include "http/app.h"
#include "http/h_util.h"
#include "service/lifecycle.h"
#include "util/clock.h"
#include "util/pool.h"

/* The certificate part of a duplicate or reissue body. Strings stay owned by the body. */
typedef struct cert_body {
    const char *csr, *common_name, *signature_hash, *comments;
    const char **dns_names;
    size_t n_dns_names;
    int server_platform;
    int64_t valid_till;
} cert_body;

static int parse_cert_body(http_req *rq, bool duplicate, cert_body *b, cm_err *err)
{
    static const char *const top[] = {"certificate", "comments", NULL};
    static const char *const dup_keys[] = {"csr", "common_name", "dns_names", "server_platform",
                                           "signature_hash", "valid_till", NULL};
    static const char *const re_keys[] = {"csr", "common_name", "dns_names", "server_platform",
                                          "signature_hash", NULL};
    json_t *body, *cert, *names = NULL, *sub = NULL;
    const char *till = NULL;
    int64_t v = PLATFORM_OTHER;
    memset(b, 0, sizeof *b);
    b->server_platform = PLATFORM_OTHER;
    if (http_json_body(rq, &body, err) != 0 || json_only_keys(body, top, err) != 0 ||
        json_get_object(body, "certificate", true, &cert, err) != 0 ||
        json_only_keys(cert, duplicate ? dup_keys : re_keys, err) != 0 ||
        json_get_text(body, "certificate.csr", true, 16000, &b->csr, err) != 0 ||
        json_get_str(body, "certificate.common_name", false, 255, &b->common_name, err) != 0 ||
        json_get_array(body, "certificate.dns_names", false, 250, &names, err) != 0 ||
        json_get_str(body, "certificate.signature_hash", false, 16, &b->signature_hash, err) !=
            0 ||
        json_get_str(body, "comments", false, 1000, &b->comments, err) != 0 ||
        json_get_object(body, "certificate.server_platform", false, &sub, err) != 0)
        return -1;
    if (duplicate && json_get_str(body, "certificate.valid_till", false, 32, &till, err) != 0)
        return -1;
    if (sub != NULL && json_get_int(sub, "id", true, -1, 100000, &v, err) != 0)
        return cm_err_prefix(err, "certificate.server_platform");
    b->server_platform = (int)v;
    if (till != NULL) {
        if (clock_parse_iso(till, &b->valid_till) != 0)
            return cm_err_set(err, "field_invalid",
                              "certificate.valid_till must be a date (YYYY-MM-DD) or a time "
                              "(YYYY-MM-DDTHH:MM:SSZ)");
        if (strlen(till) == 10) /* a date alone: the end of that day */
            b->valid_till += 86399;
    }
    size_t n = names != NULL ? json_array_size(names) : 0;
    if (n > 0) {
        b->dns_names = pool_alloc(rq->pool, n * sizeof *b->dns_names);
        if (b->dns_names == NULL)
            return cm_err_set(err, "out_of_memory", "out of memory");
        for (size_t i = 0; i < n; i++) {
            json_t *e = json_array_get(names, i);
            if (!json_is_string(e) || json_string_length(e) == 0 ||
                json_string_length(e) > 253)
                return cm_err_set(err, "field_invalid",
                                  "certificate.dns_names[%zu] must be a name of 1 to 253 "
                                  "characters", i);
            b->dns_names[i] = json_string_value(e);
        }
        b->n_dns_names = n;
    }
    /* Names given without a common name: the first one is the common name. */
    if (b->common_name == NULL && n > 0) {
        b->common_name = b->dns_names[0];
        b->dns_names++;
        b->n_dns_names--;
    }
    return 0;
}

static int h_duplicate_create(void *app, http_req *rq, http_resp *rs)
{
    cm_err err;
    cm_svc svc;
    int64_t id;
    cert_body b;
    if (h_path_id(rq, 0, "order", &id, &err) != 0 || parse_cert_body(rq, true, &b, &err) != 0)
        return h_fail(rs, &err);
    if (app_svc(app, rq, &svc) != 0)
        return -1;
    cm_dup_input in = {.csr = b.csr,
                       .common_name = b.common_name,
                       .dns_names = b.dns_names,
                       .n_dns_names = b.n_dns_names,
                       .server_platform = b.server_platform,
                       .signature_hash = b.signature_hash,
                       .valid_till = b.valid_till,
                       .origin = ORIGIN_MANUAL};
    cm_issued res;
    if (svc_duplicate_create(&svc, id, &in, &res, &err) != 0)
        return h_fail(rs, &err);
    json_t *j = json_pack("{s:I,s:I,s:s,s:o}", "id", (json_int_t)res.order_id, "certificate_id",
                          (json_int_t)res.certificate_id, "certificate_chain",
                          res.chain_pem ? res.chain_pem : "", "certificate",
                          cert_json(&res.cert));
    issued_clear(&res);
    return h_reply(rs, 201, j);
}

static int h_duplicate_list(void *app, http_req *rq, http_resp *rs)
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
    if (svc_duplicate_list(&svc, id, &list, &n, &err) != 0)
        return h_fail(rs, &err);
    json_t *j = json_pack("{s:o}", "certificates", cert_list_json(list, n));
    free(list);
    return h_reply(rs, 200, j);
}

static int h_reissue_create(void *app, http_req *rq, http_resp *rs)
{
    cm_err err;
    cm_svc svc;
    int64_t id;
    cert_body b;
    if (h_path_id(rq, 0, "order", &id, &err) != 0 || parse_cert_body(rq, false, &b, &err) != 0)
        return h_fail(rs, &err);
    if (app_svc(app, rq, &svc) != 0)
        return -1;
    cm_reissue_input in = {.csr = b.csr,
                           .common_name = b.common_name,
                           .dns_names = b.dns_names,
                           .n_dns_names = b.n_dns_names,
                           .server_platform = b.server_platform,
                           .signature_hash = b.signature_hash,
                           .comments = b.comments};
    cm_reissue_result res;
    if (svc_reissue_create(&svc, id, &in, &res, &err) != 0)
        return h_fail(rs, &err);
    json_t *j = json_pack("{s:I,s:s,s:[]}", "id", (json_int_t)id, "status", res.order_status,
                          "requests");
    if (j != NULL && res.request_id > 0)
        json_array_append_new(json_object_get(j, "requests"),
                              json_pack("{s:I,s:s}", "id", (json_int_t)res.request_id, "status",
                                        res.request_status));
    if (j != NULL && res.issued.certificate_id > 0) {
        json_object_set_new(j, "certificate_id", json_integer(res.issued.certificate_id));
        if (res.issued.chain_pem != NULL)
            json_object_set_new(j, "certificate_chain", json_string(res.issued.chain_pem));
    }
    issued_clear(&res.issued);
    return h_reply(rs, 201, j);
}

static int h_reissue_list(void *app, http_req *rq, http_resp *rs)
{
    cm_err err;
    cm_svc svc;
    int64_t id;
    cm_cert_row *list = NULL;
    size_t n = 0;
    cm_request pending;
    if (h_path_id(rq, 0, "order", &id, &err) != 0)
        return h_fail(rs, &err);
    if (app_svc(app, rq, &svc) != 0)
        return -1;
    if (svc_reissue_list(&svc, id, &list, &n, &pending, &err) != 0)
        return h_fail(rs, &err);
    json_t *j = json_pack("{s:o,s:o}", "certificates", cert_list_json(list, n), "pending",
                          pending.id != 0 ? request_json(&pending) : json_null());
    free(list);
    return h_reply(rs, 200, j);
}

const http_route routes_lifecycle[] = {
    {"POST", "/services/v2/order/certificate/{id}/duplicate", HTTP_AUTH_KEY, h_duplicate_create},
    {"GET", "/services/v2/order/certificate/{id}/duplicate", HTTP_AUTH_KEY, h_duplicate_list},
    {"POST", "/services/v2/order/certificate/{id}/reissue", HTTP_AUTH_KEY, h_reissue_create},
    {"GET", "/services/v2/order/certificate/{id}/reissue", HTTP_AUTH_KEY, h_reissue_list},
};
const size_t n_routes_lifecycle = sizeof routes_lifecycle / sizeof routes_lifecycle[0];
