/* h_status.c — what needs no API key: /health, the CRLs, the OCSP responder and the CA
 * certificates named in issued certificates; and the catalogue lists (products, server
 * platforms). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/platform.h"
#include "core/product.h"
#include "http/app.h"
#include "http/h_util.h"
#include "service/order.h"
#include "pki/encode.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/str.h"

/* GET /health: 200 while the signer process lives, else 503 (issuance is refused then). As
 * cheap as a static answer: no store access, no round trip to the signer. */
static int h_health(void *app, http_req *rq, http_resp *rs)
{
    cm_app *a = app;
    (void)rq;
    bool ok = pki_signer_healthy(a->pki);
    json_t *j = json_pack("{s:s,s:s}", "status", ok ? "ok" : "unhealthy", "signer",
                          ok ? "ok" : "down");
    return h_reply(rs, ok ? 200 : 503, j);
}

/* Splits "<id>.<ext>" from the last path parameter; 0 when the extension matches. */
static int file_id(const http_req *rq, const char *ext, char *id, size_t idsz)
{
    const char *f = rq->params[rq->n_params - 1];
    size_t n = strlen(f), e = strlen(ext);
    if (n <= e + 1 || n - e - 1 >= idsz || f[n - e - 1] != '.' || strcmp(f + n - e, ext) != 0)
        return -1;
    memcpy(id, f, n - e - 1);
    id[n - e - 1] = '\0';
    return 0;
}

static int not_found(http_resp *rs, const char *what)
{
    cm_err err;
    cm_err_set(&err, "not_found", "no %s here", what);
    return h_fail(rs, &err);
}

/* GET /crl/{root}.crl — a root's CRL: the file DIR/ca/<root>.crl as `certmint ca root-crl`
 * (or init) signed it offline; the root keys never reach the server. */
static int root_crl(cm_app *a, http_req *rq, http_resp *rs, const char *id)
{
    char path[1200];
    unsigned char *der = NULL;
    size_t len = 0;
    cm_err err;
    int n = snprintf(path, sizeof path, "%s/ca/%s.crl", a->cfg.dir, id);
    if (n < 0 || (size_t)n >= sizeof path)
        return not_found(rs, "such CRL");
    if (file_read_all(path, CA_ROOT_CRL_MAX_BYTES, &der, &len, &err) != 0) {
        if (access(path, F_OK) != 0 && errno == ENOENT)
            cm_err_set(&err, "not_found",
                       "the CRL of %s has not been made; the operator makes it with `certmint ca "
                       "root-crl --dir DIR`",
                       id);
        else {
            /* The path and the reason are for the operator, not for the client. */
            log_msg(LOG_ERROR, "event=root_crl_unreadable id=%s code=%s detail=\"%s\"", id,
                    err.code, err.msg);
            cm_err_set(&err, "crl_unreadable",
                       "the CRL of %s cannot be read; the server log says why", id);
        }
        return h_fail(rs, &err);
    }
    unsigned char *data = pool_alloc(rq->pool, len ? len : 1);
    if (data == NULL) {
        free(der);
        return -1;
    }
    memcpy(data, der, len);
    free(der);
    rs->status = 200;
    rs->data = data;
    rs->data_len = len;
    rs->content_type = "application/pkix-crl";
    rs->cache_control = "public, max-age=3600";
    return 0;
}

/* GET /crl/{ca}.crl — the current CRL of an issuing CA (made on first request), or of a root
 * (a file made offline). */
static int h_crl(void *app, http_req *rq, http_resp *rs)
{
    cm_app *a = app;
    char id[32];
    cm_err err;
    cm_crl_row c;
    if (file_id(rq, "crl", id, sizeof id) != 0)
        return not_found(rs, "such CRL");
    size_t idlen = strlen(id);
    if (idlen > 5 && strcmp(id + idlen - 5, "-root") == 0)
        return ca_root_id_known(id) ? root_crl(a, rq, rs, id) : not_found(rs, "such CRL");
    cm_svc svc;
    if (app_svc(app, rq, &svc) != 0)
        return -1;
    if (svc_crl_current(&svc, id, &c, &err) != 0) {
        if (strcmp(err.code, "ca_unknown") == 0)
            return not_found(rs, "such CRL");
        return h_fail(rs, &err);
    }
    unsigned char *data = pool_alloc(rq->pool, c.der_len ? c.der_len : 1);
    if (data == NULL) {
        free(c.der);
        return -1;
    }
    memcpy(data, c.der, c.der_len);
    free(c.der);
    rs->status = 200;
    rs->data = data;
    rs->data_len = c.der_len;
    rs->content_type = "application/pkix-crl";
    rs->cache_control = "public, max-age=60";
    return 0;
}

/* GET /ca/{id}.crt — an issuing CA or root certificate (DER), as the AIA names it. */
static int h_ca(void *app, http_req *rq, http_resp *rs)
{
    cm_app *a = app;
    char id[40];
    size_t len = 0;
    const unsigned char *der = NULL;
    if (file_id(rq, "crt", id, sizeof id) != 0)
        return not_found(rs, "such CA certificate");
    size_t n = strlen(id);
    if (n > 5 && strcmp(id + n - 5, "-root") == 0) {
        id[n - 5] = '\0';
        der = pki_root_der(a->pki, id, &len);
    } else {
        der = pki_ca_der(a->pki, id, &len);
    }
    if (der == NULL)
        return not_found(rs, "such CA certificate");
    unsigned char *data = pool_alloc(rq->pool, len);
    if (data == NULL)
        return -1;
    memcpy(data, der, len);
    rs->status = 200;
    rs->data = data;
    rs->data_len = len;
    rs->content_type = "application/pkix-cert";
    rs->cache_control = "public, max-age=86400";
    return 0;
}

typedef struct ocsp_ctx {
    cm_store *st;
} ocsp_ctx;

/* The store's answer for one serial: never good for a serial certmint did not issue. */
static int ocsp_lookup(void *arg, const char *ca_id, const char *serial_hex,
                       cm_ocsp_status *status, int64_t *revoked_at, int *reason)
{
    ocsp_ctx *c = arg;
    cm_cert_row row;
    cm_err err;
    if (store_cert_by_serial(c->st, ca_id, serial_hex, &row, &err) != 0) {
        if (strcmp(err.code, "certificate_not_found") == 0) {
            *status = OCSP_CERT_UNKNOWN;
            return 0;
        }
        return -1;
    }
    if (strcmp(row.status, "revoked") == 0) {
        *status = OCSP_CERT_REVOKED;
        *revoked_at = row.revoked_at;
        *reason = row.revocation_reason;
    } else {
        *status = OCSP_CERT_GOOD;
    }
    return 0;
}

static int ocsp_answer(cm_app *a, http_req *rq, http_resp *rs, const unsigned char *req,
                       size_t len)
{
    cm_err err;
    unsigned char *resp = NULL;
    size_t resp_len = 0;
    ocsp_ctx ctx = {store_pool_get(a->stores)};
    int rc = ocsp_respond(a->pki, req, len, ocsp_lookup, &ctx, &resp, &resp_len, &err);
    store_pool_put(a->stores, ctx.st);
    if (rc != 0) {
        /* Nothing can be signed (the signer is down): an OCSP client still gets an OCSP
         * answer, the unsigned OCSPResponse { responseStatus tryLater (3) } of RFC 6960. */
        static unsigned char try_later[] = {0x30, 0x03, 0x0a, 0x01, 0x03};
        log_msg(LOG_WARN, "event=ocsp_try_later error=%s", err.code);
        rs->status = 200;
        rs->data = try_later;
        rs->data_len = sizeof try_later;
        rs->content_type = "application/ocsp-response";
        return 0;
    }
    unsigned char *data = pool_alloc(rq->pool, resp_len ? resp_len : 1);
    if (data == NULL) {
        free(resp);
        return -1;
    }
    memcpy(data, resp, resp_len);
    free(resp);
    rs->status = 200;
    rs->data = data;
    rs->data_len = resp_len;
    rs->content_type = "application/ocsp-response";
    rs->cache_control = "max-age=3600, public, no-transform, must-revalidate";
    return 0;
}

/* POST /ocsp with an application/ocsp-request body. */
static int h_ocsp_post(void *app, http_req *rq, http_resp *rs)
{
    return ocsp_answer(app, rq, rs, rq->body, rq->body_len);
}

/* GET /ocsp/{base64 of the DER request} (RFC 6960 appendix A.1; RFC 5019 §5). */
static int h_ocsp_get(void *app, http_req *rq, http_resp *rs)
{
    const char *b64 = rq->n_params > 0 ? rq->params[rq->n_params - 1] : "";
    unsigned char *der = NULL;
    size_t len = 0;
    if (strlen(b64) > 4096 || b64_decode(b64, strlen(b64), &der, &len) != 0) {
        /* Undecodable requests still get an OCSP answer: malformedRequest. */
        return ocsp_answer(app, rq, rs, (const unsigned char *)"", 0);
    }
    int rc = ocsp_answer(app, rq, rs, der, len);
    free(der);
    return rc;
}

static int h_platforms(void *app, http_req *rq, http_resp *rs)
{
    (void)app;
    (void)rq;
    size_t n = 0;
    const cm_platform *p = platform_all(&n);
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(items, json_pack("{s:i,s:s,s:s}", "id", p[i].id, "name", p[i].name,
                                               "default_format", p[i].format));
    return h_reply(rs, 200, json_pack("{s:o}", "platforms", items));
}

static int h_products(void *app, http_req *rq, http_resp *rs)
{
    (void)app;
    (void)rq;
    size_t n = 0;
    const cm_product *p = product_all(&n);
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(
            items, json_pack("{s:s,s:s,s:s,s:b,s:b,s:s,s:b}", "name_id", p[i].id, "name",
                             p[i].name, "type", validation_name(p[i].validation), "wildcard",
                             p[i].wildcard != WILDCARD_NO, "flex", p[i].flex, "hierarchy",
                             p[i].hierarchy == HIER_PUBLIC ? "public" : "private",
                             "duplicates", p[i].duplicates));
    return h_reply(rs, 200, json_pack("{s:o}", "products", items));
}

const http_route routes_status[] = {
    {"GET", "/health", HTTP_AUTH_NONE, h_health},
    {"GET", "/crl/{file}", HTTP_AUTH_NONE, h_crl},
    {"GET", "/ca/{file}", HTTP_AUTH_NONE, h_ca},
    {"POST", "/ocsp", HTTP_AUTH_NONE, h_ocsp_post},
    {"GET", "/ocsp/{*}", HTTP_AUTH_NONE, h_ocsp_get},
    {"GET", "/services/v2/server-platform", HTTP_AUTH_KEY, h_platforms},
    {"GET", "/services/v2/product", HTTP_AUTH_KEY, h_products},
};
const size_t n_routes_status = sizeof routes_status / sizeof routes_status[0];
