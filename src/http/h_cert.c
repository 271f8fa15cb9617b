/* h_cert.c — certificates: info, downloads by format and by platform, revocation of a
 * certificate or of a whole order (DESIGN.md §5, R-O6). */
#include <stdlib.h>
#include <string.h>

#include "http/app.h"
#include "http/h_util.h"
#include "service/order.h"

static int h_cert_get(void *app, http_req *rq, http_resp *rs)
{
    cm_err err;
    cm_svc svc;
    int64_t id;
    cm_cert_row c;
    cm_chain ch;
    cm_blob pem = {0};
    if (h_path_id(rq, 0, "certificate", &id, &err) != 0)
        return h_fail(rs, &err);
    if (app_svc(app, rq, &svc) != 0)
        return -1;
    if (svc_cert_get(&svc, id, &c, &err) != 0)
        return h_fail(rs, &err);
    json_t *j = cert_json(&c);
    if (svc_cert_chain(&svc, &c, &ch, &err) == 0 && format_render("pem_noroot", &ch, &pem, &err) == 0) {
        json_object_set_new(j, "certificate_chain", json_stringn((const char *)pem.data, pem.len));
        blob_free(&pem);
    }
    store_cert_clear(&c);
    return h_reply(rs, 200, j);
}

static int download(void *app, http_req *rq, http_resp *rs, const char *format)
{
    cm_err err;
    cm_svc svc;
    int64_t id;
    cm_blob b = {0};
    char name[400];
    if (h_path_id(rq, 0, "certificate", &id, &err) != 0)
        return h_fail(rs, &err);
    if (app_svc(app, rq, &svc) != 0)
        return -1;
    if (svc_cert_download(&svc, id, format, &b, name, sizeof name, &err) != 0)
        return h_fail(rs, &err);
    /* The response copies the bytes out of the pool; the blob is freed with the request. */
    unsigned char *data = pool_alloc(rq->pool, b.len ? b.len : 1);
    char *fname = pool_strdup(rq->pool, name);
    if (data == NULL || fname == NULL) {
        blob_free(&b);
        return -1;
    }
    memcpy(data, b.data, b.len);
    rs->status = 200;
    rs->data = data;
    rs->data_len = b.len;
    rs->content_type = b.content_type;
    rs->filename = fname;
    blob_free(&b);
    return 0;
}

static int h_cert_download_format(void *app, http_req *rq, http_resp *rs)
{
    return download(app, rq, rs, rq->params[1]);
}

static int h_cert_download_platform(void *app, http_req *rq, http_resp *rs)
{
    return download(app, rq, rs, NULL);
}

/* PUT …/revoke on a certificate (param 0 is a certificate id) or an order. */
static int revoke(void *app, http_req *rq, http_resp *rs, bool order)
{
    static const char *const keys[] = {"revocation_reason", "comments", NULL};
    cm_err err;
    cm_svc svc;
    int64_t id;
    json_t *body;
    const char *reason = NULL, *comments = NULL;
    if (h_path_id(rq, 0, order ? "order" : "certificate", &id, &err) != 0 ||
        http_json_body(rq, &body, &err) != 0 || json_only_keys(body, keys, &err) != 0 ||
        json_get_str(body, "revocation_reason", false, 32, &reason, &err) != 0 ||
        json_get_text(body, "comments", false, 1000, &comments, &err) != 0)
        return h_fail(rs, &err);
    if (app_svc(app, rq, &svc) != 0)
        return -1;
    cm_revoke_result res;
    if (svc_revoke(&svc, order ? id : 0, order ? 0 : id, reason, comments, &res, &err) != 0)
        return h_fail(rs, &err);
    if (res.revoked)
        return h_reply(rs, 200, json_pack("{s:s,s:I}", "status", "revoked", "revoked_certificates",
                                          (json_int_t)res.n_revoked));
    return h_reply(rs, 201, json_pack("{s:I,s:s,s:[{s:I,s:s}]}", "id", (json_int_t)res.request_id,
                                      "status", "pending", "requests", "id",
                                      (json_int_t)res.request_id, "status", "pending"));
}

static int h_cert_revoke(void *app, http_req *rq, http_resp *rs)
{
    return revoke(app, rq, rs, false);
}

static int h_order_revoke(void *app, http_req *rq, http_resp *rs)
{
    return revoke(app, rq, rs, true);
}

const http_route routes_cert[] = {
    {"GET", "/services/v2/certificate/{id}", HTTP_AUTH_KEY, h_cert_get},
    {"GET", "/services/v2/certificate/{id}/download/format/{format}", HTTP_AUTH_KEY,
     h_cert_download_format},
    {"GET", "/services/v2/certificate/{id}/download/platform", HTTP_AUTH_KEY,
     h_cert_download_platform},
    {"PUT", "/services/v2/certificate/{id}/revoke", HTTP_AUTH_KEY, h_cert_revoke},
    {"PUT", "/services/v2/order/certificate/{id}/revoke", HTTP_AUTH_KEY, h_order_revoke},
};
const size_t n_routes_cert = sizeof routes_cert / sizeof routes_cert[0];
