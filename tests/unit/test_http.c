/* test_http.c — the HTTP server core against real sockets: routing with parameters, 404/405,
 * path decoding and traversal refusals, authentication (401/403), body limits (413, handler not
 * called), media types (415), JSON bodies and field getters, list parameters, response headers,
 * the access log (no secrets), handler failures, graceful stop with a request in flight, HTTPS
 * with a self-made certificate and IPv6; plus the pool and the error-code table. Clients are
 * libcurl; servers listen on 127.0.0.1 / ::1 on ports the kernel picks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "http/http.h"
#include "util/log.h"
#include "util/pool.h"

/* The application under test ----------------------------------------------------------------- */

typedef struct app {
    atomic_int echo_calls;   /* POST /t/echo handler runs */
    atomic_int slow_started; /* GET /t/slow entered */
} app;

static app the_app;

static int h_params(void *a, http_req *rq, http_resp *rs)
{
    (void)a;
    json_t *p = json_array();
    for (size_t i = 0; i < rq->n_params; i++)
        json_array_append_new(p, json_string(rq->params[i]));
    http_json(rs, 200,
              json_pack("{s:o,s:s,s:s}", "params", p, "path", rq->path, "method", rq->method));
    return 0;
}

static int h_list(void *a, http_req *rq, http_resp *rs)
{
    (void)a;
    static const char *const sortable[] = {"id", "name", NULL};
    static const char *const filterable[] = {"status", "kind", NULL};
    http_list l;
    cm_err err;
    cm_err_clear(&err);
    if (http_list_params(rq, sortable, filterable, &l, &err) != 0) {
        http_error(rs, &err);
        return -1;
    }
    json_t *f = json_object();
    for (size_t i = 0; i < l.n_filters; i++)
        json_object_set_new(f, l.filter_names[i], json_string(l.filter_values[i]));
    http_json(rs, 200,
              json_pack("{s:I,s:I,s:s?,s:b,s:o}", "offset", (json_int_t)l.offset, "limit",
                        (json_int_t)l.limit, "sort", l.sort, "desc", l.desc, "filters", f));
    return 0;
}

static int h_echo(void *a, http_req *rq, http_resp *rs)
{
    app *ap = a;
    atomic_fetch_add(&ap->echo_calls, 1);
    json_t *body = NULL;
    cm_err err;
    cm_err_clear(&err);
    const char *name = NULL;
    if (http_json_body(rq, &body, &err) != 0 ||
        json_get_str(body, "name", true, 64, &name, &err) != 0) {
        http_error(rs, &err);
        return -1;
    }
    http_json(rs, 201, json_pack("{s:s,s:I}", "name", name, "len", (json_int_t)rq->body_len));
    return 0;
}

static int h_whoami(void *a, http_req *rq, http_resp *rs)
{
    (void)a;
    http_json(rs, 200,
              json_pack("{s:I,s:I,s:b}", "account_id", (json_int_t)rq->caller.account_id, "key_id",
                        (json_int_t)rq->caller.key_id, "operator", rq->caller.operator));
    return 0;
}

static int h_fail(void *a, http_req *rq, http_resp *rs)
{
    (void)a, (void)rq, (void)rs;
    return -1;
}

static int h_slow(void *a, http_req *rq, http_resp *rs)
{
    (void)rq;
    app *ap = a;
    atomic_store(&ap->slow_started, 1);
    struct timespec ts = {1, 500000000};
    nanosleep(&ts, NULL);
    http_json(rs, 200, json_pack("{s:s}", "slow", "done"));
    return 0;
}

static int h_download(void *a, http_req *rq, http_resp *rs)
{
    (void)a;
    static unsigned char pem[] = "-----BEGIN X-----\n-----END X-----\n";
    rs->status = 200;
    rs->data = pem;
    rs->data_len = sizeof pem - 1;
    rs->content_type = "application/x-pem-file";
    rs->filename = http_query(rq, "name");
    rs->cache_control = "max-age=60";
    return 0;
}

static int h_ocsp(void *a, http_req *rq, http_resp *rs)
{
    (void)a;
    rs->status = 200;
    rs->data = (unsigned char *)pool_printf(rq->pool, "%zu:%s", rq->body_len,
                                            rq->n_params ? rq->params[0] : "-");
    rs->data_len = strlen((char *)rs->data);
    rs->content_type = "application/ocsp-response";
    return 0;
}

static const http_route routes[] = {
    {"GET", "/t/items/{id}/sub/{name}", HTTP_AUTH_NONE, h_params},
    {"DELETE", "/t/items/{id}/sub/{name}", HTTP_AUTH_NONE, h_params},
    {"GET", "/t/items", HTTP_AUTH_NONE, h_list},
    {"POST", "/t/echo", HTTP_AUTH_NONE, h_echo},
    {"POST", "/t/private/echo", HTTP_AUTH_KEY, h_echo},
    {"GET", "/t/whoami", HTTP_AUTH_KEY, h_whoami},
    {"GET", "/t/operator", HTTP_AUTH_OPERATOR, h_whoami},
    {"GET", "/t/fail", HTTP_AUTH_NONE, h_fail},
    {"GET", "/t/slow", HTTP_AUTH_NONE, h_slow},
    {"GET", "/t/download", HTTP_AUTH_NONE, h_download},
    {"GET", "/crl/{ca}.crl", HTTP_AUTH_NONE, h_params},
    {"GET", "/ocsp/{*}", HTTP_AUTH_NONE, h_ocsp},
    {"POST", "/ocsp", HTTP_AUTH_NONE, h_ocsp},
    {"GET", "/", HTTP_AUTH_NONE, h_params},
};

#define USER_KEY "user-key-0123456789-SECRET"
#define OP_KEY   "operator-key-SECRET"

static int authenticate(void *a, http_req *rq, const char *devkey, cm_err *err)
{
    (void)a;
    if (strcmp(devkey, USER_KEY) == 0) {
        rq->caller =
            (cm_caller){.account_id = 7, .user_id = 5, .key_id = 3, .role = ROLE_ADMINISTRATOR};
        return 0;
    }
    if (strcmp(devkey, OP_KEY) == 0) {
        rq->caller = (cm_caller){.operator= true, .key_id = 1};
        return 0;
    }
    return cm_err_set(err, "unauthorized", "unknown API key");
}

static http_server_opts opts_for(const char *listen)
{
    return (http_server_opts){.listen = listen,
                              .workers = 2,
                              .max_body = 1024,
                              .routes = routes,
                              .n_routes = sizeof routes / sizeof routes[0],
                              .app = &the_app,
                              .authenticate = authenticate};
}

/* A small libcurl client --------------------------------------------------------------------- */

typedef struct resp {
    long status;
    char body[8192];
    size_t len;
    char hdrs[4096];
    size_t hlen;
    json_t *json;
} resp;

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    resp *r = ud;
    size_t k = sz * n;
    if (k > sizeof r->body - 1 - r->len)
        k = sizeof r->body - 1 - r->len;
    memcpy(r->body + r->len, p, k);
    r->len += k;
    r->body[r->len] = '\0';
    return sz * n;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
    resp *r = ud;
    size_t k = sz * n;
    if (k > sizeof r->hdrs - 1 - r->hlen)
        k = sizeof r->hdrs - 1 - r->hlen;
    memcpy(r->hdrs + r->hlen, p, k);
    r->hlen += k;
    r->hdrs[r->hlen] = '\0';
    return sz * n;
}

typedef struct chunked_src {
    size_t left;
} chunked_src;

static size_t on_read(char *buf, size_t sz, size_t n, void *ud)
{
    chunked_src *c = ud;
    size_t k = sz * n < c->left ? sz * n : c->left;
    memset(buf, ' ', k);
    c->left -= k;
    return k;
}

typedef struct req_opts {
    const char *method;
    const char *url;
    const char *headers[6]; /* NULL-terminated */
    const char *body;       /* NULL for none */
    size_t chunked;         /* > 0: send that many bytes with chunked encoding */
    const char *cainfo;     /* HTTPS trust anchor */
} req_opts;

/* Performs a request; returns the CURLcode. r->json holds the parsed body when it was JSON. */
static int perform(const req_opts *o, resp *r)
{
    memset(r, 0, sizeof *r);
    CURL *c = curl_easy_init();
    assert_non_null(c);
    struct curl_slist *h = NULL;
    for (size_t i = 0; o->headers[i] != NULL; i++)
        h = curl_slist_append(h, o->headers[i]);
    chunked_src src = {o->chunked};
    curl_easy_setopt(c, CURLOPT_URL, o->url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, o->method);
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (o->body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, o->body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(o->body));
    } else if (o->chunked > 0) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(c, CURLOPT_READDATA, &src);
        h = curl_slist_append(h, "Transfer-Encoding: chunked");
    }
    if (o->cainfo != NULL) {
        curl_easy_setopt(c, CURLOPT_CAINFO, o->cainfo);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (rc == CURLE_OK && r->len > 0)
        r->json = json_loads(r->body, 0, NULL);
    return (int)rc;
}

/* The value of response header `name` (first occurrence) into buf; NULL when absent. */
static const char *resp_header(const resp *r, const char *name, char *buf, size_t bufsz)
{
    size_t nl = strlen(name);
    for (const char *p = r->hdrs; p != NULL && *p != '\0';) {
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (*v == ' ')
                v++;
            size_t vl = strcspn(v, "\r\n");
            snprintf(buf, bufsz, "%.*s", (int)vl, v);
            return buf;
        }
        p = strchr(p, '\n');
        if (p != NULL)
            p++;
    }
    return NULL;
}

static void resp_done(resp *r)
{
    json_decref(r->json);
    r->json = NULL;
}

/* The error code of an error response, asserting the {"errors":[{"code","message"}]} shape. */
static const char *err_code(const resp *r)
{
    assert_non_null(r->json);
    json_t *errs = json_object_get(r->json, "errors");
    assert_true(json_is_array(errs));
    assert_int_equal(json_array_size(errs), 1);
    json_t *e = json_array_get(errs, 0);
    assert_true(json_is_string(json_object_get(e, "code")));
    assert_true(json_is_string(json_object_get(e, "message")));
    assert_true(strlen(json_string_value(json_object_get(e, "message"))) > 0);
    return json_string_value(json_object_get(e, "code"));
}

static const char *err_message(const resp *r)
{
    return json_string_value(
        json_object_get(json_array_get(json_object_get(r->json, "errors"), 0), "message"));
}

/* Fixture: one server for most tests ----------------------------------------------------------- */

typedef struct fx {
    http_server *srv;
    char base[64];
} fx;

static int setup(void **state)
{
    static fx f;
    cm_err err;
    cm_err_clear(&err);
    http_server_opts o = opts_for("127.0.0.1:0");
    if (http_server_start(&o, &f.srv, &err) != 0) {
        fprintf(stderr, "start: %s: %s\n", err.code, err.msg);
        return -1;
    }
    snprintf(f.base, sizeof f.base, "http://127.0.0.1:%d", http_server_port(f.srv));
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    http_server_stop(f->srv);
    return 0;
}

static char *url(void **state, const char *path)
{
    static _Thread_local char buf[4096];
    fx *f = *state;
    snprintf(buf, sizeof buf, "%s%s", f->base, path);
    return buf;
}

static void get(void **state, const char *path, resp *r)
{
    req_opts o = {.method = "GET", .url = url(state, path)};
    assert_int_equal(perform(&o, r), CURLE_OK);
}

/* Routing -------------------------------------------------------------------------------------- */

static void test_route_params_are_decoded_in_order(void **state)
{
    resp r;
    get(state, "/t/items/12/sub/a%20b%C3%A9", &r);
    assert_int_equal(r.status, 200);
    json_t *p = json_object_get(r.json, "params");
    assert_int_equal(json_array_size(p), 2);
    assert_string_equal(json_string_value(json_array_get(p, 0)), "12");
    assert_string_equal(json_string_value(json_array_get(p, 1)), "a b\xc3\xa9");
    assert_string_equal(json_string_value(json_object_get(r.json, "path")),
                        "/t/items/12/sub/a b\xc3\xa9");
    resp_done(&r);

    /* same path, another method of the table */
    req_opts o = {.method = "DELETE", .url = url(state, "/t/items/9/sub/x")};
    assert_int_equal(perform(&o, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "method")), "DELETE");
    resp_done(&r);

    /* a parameter inside a segment, and the root */
    get(state, "/crl/issuing-rsa.crl", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_array_get(json_object_get(r.json, "params"), 0)),
                        "issuing-rsa");
    resp_done(&r);
    get(state, "/", &r);
    assert_int_equal(r.status, 200);
    resp_done(&r);
}

static void test_tail_pattern_takes_the_rest_of_the_path(void **state)
{
    resp r;
    /* an OCSP GET: base64 with a raw and an encoded '/', '+' and '=' */
    get(state, "/ocsp/MEow/SDBG%2FMEQw+Qg==", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "0:MEow/SDBG/MEQw+Qg==");
    resp_done(&r);
    get(state, "/ocsp", &r); /* the tail needs a segment; /ocsp itself is POST only */
    assert_int_equal(r.status, 405);
    resp_done(&r);
}

static void test_unknown_path_is_404_not_found(void **state)
{
    resp r;
    const char *paths[] = {"/nope",     "/t/items/1/sub",  "/t/items/1/sub/x/y",
                           "/t/items/", "/t/items//sub/x", "/crl/.crl",
                           "/T/items"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        get(state, paths[i], &r);
        assert_int_equal(r.status, 404);
        assert_string_equal(err_code(&r), "not_found");
        resp_done(&r);
    }
}

static void test_known_path_with_other_method_is_405_with_allow(void **state)
{
    resp r;
    req_opts o = {.method = "PUT", .url = url(state, "/t/items/1/sub/2")};
    assert_int_equal(perform(&o, &r), CURLE_OK);
    assert_int_equal(r.status, 405);
    assert_string_equal(err_code(&r), "method_not_allowed");
    char allow[64];
    assert_non_null(resp_header(&r, "Allow", allow, sizeof allow));
    assert_string_equal(allow, "GET, DELETE");
    resp_done(&r);
}

static void test_encoded_traversal_in_segment_is_400(void **state)
{
    resp r;
    const char *paths[] = {"/t/items/..%2F..%2Fetc/sub/x", "/t/items/%2E%2E/sub/x",
                           "/t/items/a%2Fb/sub/x", "/t/items/1/sub/..", "/t/items/x..y/sub/z"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        get(state, paths[i], &r);
        assert_int_equal(r.status, 400);
        assert_string_equal(err_code(&r), "invalid_path");
        resp_done(&r);
    }
    /* NUL, control characters and broken escapes anywhere in the path */
    const char *bad[] = {"/t/items/a%00b/sub/x", "/t/items/a%0Ab/sub/x", "/t/items/%zz/sub/x",
                         "/t/items/1/sub/%4"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        get(state, bad[i], &r);
        assert_int_equal(r.status, 400);
        assert_string_equal(err_code(&r), "invalid_path");
        resp_done(&r);
    }
}

static void test_overlong_path_is_414(void **state)
{
    char path[3000] = "/t/items/";
    memset(path + 9, 'a', sizeof path - 10);
    path[sizeof path - 1] = '\0';
    resp r;
    get(state, path, &r);
    assert_int_equal(r.status, 414);
    assert_string_equal(err_code(&r), "uri_too_long");
    resp_done(&r);
}

/* Requests MHD refuses itself still release their context (ASan checks the leak). */
static void test_oversized_headers_are_refused(void **state)
{
    static char hdr[48 * 1024];
    memcpy(hdr, "X-Big: ", 7);
    memset(hdr + 7, 'b', sizeof hdr - 8);
    hdr[sizeof hdr - 1] = '\0';
    resp r;
    req_opts o = {.method = "GET", .url = url(state, "/t/items"), .headers = {hdr, NULL}};
    int rc = perform(&o, &r);
    assert_true(rc != CURLE_OK || r.status == 431 || r.status == 413);
    resp_done(&r);
    get(state, "/t/items", &r); /* the server is fine */
    assert_int_equal(r.status, 200);
    resp_done(&r);
}

/* Authentication ------------------------------------------------------------------------------- */

static void test_key_route_without_key_is_401(void **state)
{
    resp r;
    get(state, "/t/whoami", &r);
    assert_int_equal(r.status, 401);
    assert_string_equal(err_code(&r), "unauthorized");
    assert_non_null(strstr(err_message(&r), "X-DC-DEVKEY"));
    resp_done(&r);
}

static void test_key_route_with_unknown_key_is_401(void **state)
{
    resp r;
    req_opts o = {.method = "GET",
                  .url = url(state, "/t/whoami"),
                  .headers = {"X-DC-DEVKEY: not-a-key", NULL}};
    assert_int_equal(perform(&o, &r), CURLE_OK);
    assert_int_equal(r.status, 401);
    assert_string_equal(err_code(&r), "unauthorized");
    resp_done(&r);
    /* refused before the body is read: the handler never runs */
    int before = atomic_load(&the_app.echo_calls);
    req_opts p = {.method = "POST",
                  .url = url(state, "/t/private/echo"),
                  .headers = {"X-DC-DEVKEY: nope", "Content-Type: application/json", NULL},
                  .body = "{\"name\":\"x\"}"};
    assert_int_equal(perform(&p, &r), CURLE_OK);
    assert_int_equal(r.status, 401);
    assert_int_equal(atomic_load(&the_app.echo_calls), before);
    resp_done(&r);
}

static void test_key_route_with_good_key_fills_caller(void **state)
{
    resp r;
    req_opts o = {.method = "GET",
                  .url = url(state, "/t/whoami"),
                  .headers = {"X-DC-DEVKEY: " USER_KEY, NULL}};
    assert_int_equal(perform(&o, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "account_id")), 7);
    assert_int_equal(json_integer_value(json_object_get(r.json, "key_id")), 3);
    resp_done(&r);
}

static void test_operator_route_needs_operator_key(void **state)
{
    resp r;
    req_opts o = {.method = "GET",
                  .url = url(state, "/t/operator"),
                  .headers = {"X-DC-DEVKEY: " USER_KEY, NULL}};
    assert_int_equal(perform(&o, &r), CURLE_OK);
    assert_int_equal(r.status, 403);
    assert_string_equal(err_code(&r), "forbidden");
    resp_done(&r);
    o.headers[0] = "X-DC-DEVKEY: " OP_KEY;
    assert_int_equal(perform(&o, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_true(json_is_true(json_object_get(r.json, "operator")));
    resp_done(&r);
    o.headers[0] = NULL;
    assert_int_equal(perform(&o, &r), CURLE_OK);
    assert_int_equal(r.status, 401);
    resp_done(&r);
}

/* Bodies --------------------------------------------------------------------------------------- */

static void test_body_over_limit_is_413_and_handler_not_called(void **state)
{
    char big[2048];
    memset(big, 'a', sizeof big);
    memcpy(big, "{\"name\":\"", 9);
    memcpy(big + sizeof big - 3, "\"}", 3);
    int before = atomic_load(&the_app.echo_calls);
    resp r;
    /* Content-Length over the limit: refused up front */
    req_opts o = {.method = "POST",
                  .url = url(state, "/t/echo"),
                  .headers = {"Content-Type: application/json", NULL},
                  .body = big};
    assert_int_equal(perform(&o, &r), CURLE_OK);
    assert_int_equal(r.status, 413);
    assert_string_equal(err_code(&r), "payload_too_large");
    resp_done(&r);
    /* chunked, length unknown in advance: read, dropped, then refused */
    req_opts c = {.method = "POST",
                  .url = url(state, "/t/echo"),
                  .headers = {"Content-Type: application/json", NULL},
                  .chunked = 5000};
    assert_int_equal(perform(&c, &r), CURLE_OK);
    assert_int_equal(r.status, 413);
    assert_string_equal(err_code(&r), "payload_too_large");
    resp_done(&r);
    assert_int_equal(atomic_load(&the_app.echo_calls), before);

    /* exactly at the limit is fine */
    char fits[1025];
    memset(fits, ' ', 1024);
    fits[1024] = '\0';
    memcpy(fits, "{\"name\":\"ok\"}", 13);
    o.body = fits;
    assert_int_equal(perform(&o, &r), CURLE_OK);
    assert_int_equal(r.status, 201);
    assert_int_equal(json_integer_value(json_object_get(r.json, "len")), 1024);
    resp_done(&r);
    assert_int_equal(atomic_load(&the_app.echo_calls), before + 1);
}

static void test_body_must_be_json_else_415(void **state)
{
    int before = atomic_load(&the_app.echo_calls);
    resp r;
    req_opts o = {.method = "POST",
                  .url = url(state, "/t/echo"),
                  .headers = {"Content-Type: text/plain", NULL},
                  .body = "{\"name\":\"x\"}"};
    assert_int_equal(perform(&o, &r), CURLE_OK);
    assert_int_equal(r.status, 415);
    assert_string_equal(err_code(&r), "unsupported_media_type");
    resp_done(&r);
    o.headers[0] = "Content-Type: application/ocsp-request"; /* only /ocsp takes this */
    assert_int_equal(perform(&o, &r), CURLE_OK);
    assert_int_equal(r.status, 415);
    resp_done(&r);
    assert_int_equal(atomic_load(&the_app.echo_calls), before);
    o.headers[0] = "Content-Type: Application/JSON; charset=utf-8";
    assert_int_equal(perform(&o, &r), CURLE_OK);
    assert_int_equal(r.status, 201);
    resp_done(&r);

    req_opts ocsp = {.method = "POST",
                     .url = url(state, "/ocsp"),
                     .headers = {"Content-Type: application/ocsp-request", NULL},
                     .body = "0123456789"};
    assert_int_equal(perform(&ocsp, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "10:-");
    resp_done(&r);
}

static void test_invalid_json_is_400_with_error_shape(void **state)
{
    struct {
        const char *body, *code, *msg_part;
    } cases[] = {
        {"{\"name\":", "invalid_json", "line 1"},
        {"{\"name\":\"a\",\"name\":\"b\"}", "invalid_json", "duplicate"},
        {"[1,2]", "invalid_json", "object"},
        {"{\"name\":\"a\"} trailing", "invalid_json", "line 1"},
        {"{\"name\":\"a\\u0000b\"}", "invalid_json", "line 1"},
        {"{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
         "invalid_json", "deeper"},
        {"{}", "field_required", "name"},
        {"{\"name\":5}", "field_invalid", "name"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        resp r;
        req_opts o = {.method = "POST",
                      .url = url(state, "/t/echo"),
                      .headers = {"Content-Type: application/json", NULL},
                      .body = cases[i].body};
        assert_int_equal(perform(&o, &r), CURLE_OK);
        assert_int_equal(r.status, 400);
        assert_string_equal(err_code(&r), cases[i].code);
        assert_non_null(strstr(err_message(&r), cases[i].msg_part));
        resp_done(&r);
    }
    /* no body at all */
    resp r;
    req_opts o = {.method = "POST", .url = url(state, "/t/echo"), .body = ""};
    assert_int_equal(perform(&o, &r), CURLE_OK);
    assert_int_equal(r.status, 400);
    assert_string_equal(err_code(&r), "body_required");
    resp_done(&r);
}

/* List parameters ------------------------------------------------------------------------------ */

static void test_list_params_defaults_and_bounds(void **state)
{
    resp r;
    get(state, "/t/items", &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "offset")), 0);
    assert_int_equal(json_integer_value(json_object_get(r.json, "limit")), 100);
    assert_true(json_is_null(json_object_get(r.json, "sort")) ||
                json_object_get(r.json, "sort") == NULL);
    resp_done(&r);

    get(state,
        "/t/items?offset=5&limit=1000&sort=-name&filters%5Bstatus%5D=issued&"
        "filters[kind]=a%20b",
        &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "offset")), 5);
    assert_int_equal(json_integer_value(json_object_get(r.json, "limit")), 1000);
    assert_string_equal(json_string_value(json_object_get(r.json, "sort")), "name");
    assert_true(json_is_true(json_object_get(r.json, "desc")));
    json_t *f = json_object_get(r.json, "filters");
    assert_string_equal(json_string_value(json_object_get(f, "status")), "issued");
    assert_string_equal(json_string_value(json_object_get(f, "kind")), "a b");
    resp_done(&r);

    get(state, "/t/items?limit=1&sort=id", &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "limit")), 1);
    assert_false(json_is_true(json_object_get(r.json, "desc")));
    resp_done(&r);

    const char *bad[] = {"?offset=-1",
                         "?offset=abc",
                         "?limit=0",
                         "?limit=1001",
                         "?limit=10x",
                         "?sort=secret",
                         "?sort=-",
                         "?filters[owner]=me",
                         "?filters[status]=",
                         "?filters[]=x",
                         "?filters[status]=a&filters[status]=b",
                         "?filters[status]=a%01b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char path[128];
        snprintf(path, sizeof path, "/t/items%s", bad[i]);
        get(state, path, &r);
        assert_int_equal(r.status, 400);
        assert_string_equal(err_code(&r), "field_invalid");
        resp_done(&r);
    }
}

/* Responses ------------------------------------------------------------------------------------ */

static void test_json_response_headers(void **state)
{
    resp r;
    get(state, "/t/items", &r);
    char v[128];
    assert_non_null(resp_header(&r, "Content-Type", v, sizeof v));
    assert_string_equal(v, "application/json");
    assert_non_null(resp_header(&r, "Cache-Control", v, sizeof v));
    assert_string_equal(v, "no-store");
    assert_non_null(resp_header(&r, "X-Content-Type-Options", v, sizeof v));
    assert_string_equal(v, "nosniff");
    assert_non_null(resp_header(&r, "X-Request-Id", v, sizeof v));
    assert_int_equal(strlen(v), 16);
    assert_int_equal(strspn(v, "0123456789abcdef"), 16);
    char first[17];
    snprintf(first, sizeof first, "%s", v);
    resp_done(&r);
    get(state, "/t/items", &r);
    assert_non_null(resp_header(&r, "X-Request-Id", v, sizeof v));
    assert_string_not_equal(v, first);
    resp_done(&r);
}

static void test_download_headers(void **state)
{
    resp r;
    get(state, "/t/download?name=my%20cert%22%0A.pem", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "-----BEGIN X-----\n-----END X-----\n");
    char v[128];
    assert_non_null(resp_header(&r, "Content-Type", v, sizeof v));
    assert_string_equal(v, "application/x-pem-file");
    assert_non_null(resp_header(&r, "Content-Disposition", v, sizeof v));
    assert_string_equal(v, "attachment; filename=\"my_cert__.pem\"");
    assert_non_null(resp_header(&r, "Cache-Control", v, sizeof v));
    assert_string_equal(v, "max-age=60");
    resp_done(&r);
}

static void test_handler_failure_without_response_is_500(void **state)
{
    resp r;
    get(state, "/t/fail", &r);
    assert_int_equal(r.status, 500);
    assert_string_equal(err_code(&r), "internal_error");
    char id[32];
    assert_non_null(resp_header(&r, "X-Request-Id", id, sizeof id));
    assert_non_null(strstr(err_message(&r), id)); /* quotable for support */
    resp_done(&r);
}

/* One line per request, with the request id, caller and status, and never the key. */
static void test_access_log_line_without_secrets(void **state)
{
    char path[] = "/tmp/cm_http_log_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fd, STDERR_FILENO) >= 0);
    log_set_level(LOG_INFO);

    resp r;
    req_opts o = {.method = "GET",
                  .url = url(state, "/t/whoami?secret=QUERYSECRET"),
                  .headers = {"X-DC-DEVKEY: " USER_KEY, NULL}};
    int rc = perform(&o, &r);
    char id[32] = "";
    resp_header(&r, "X-Request-Id", id, sizeof id);
    resp_done(&r);
    /* the line is written when the connection reports completion: give it a moment */
    char log[16384] = "";
    for (int i = 0; i < 100 && (id[0] == '\0' || strstr(log, id) == NULL); i++) {
        struct timespec ts = {0, 20000000};
        nanosleep(&ts, NULL);
        fflush(stderr);
        FILE *f = fopen(path, "r");
        size_t n = f != NULL ? fread(log, 1, sizeof log - 1, f) : 0;
        log[n] = '\0';
        if (f != NULL)
            fclose(f);
    }
    log_set_level(LOG_WARN);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(fd);
    unlink(path);

    assert_int_equal(rc, CURLE_OK);
    char *line = strstr(log, id);
    assert_non_null(line);
    char *end = strchr(line, '\n');
    if (end != NULL)
        *end = '\0';
    assert_non_null(strstr(line, "method=GET"));
    assert_non_null(strstr(line, "path=/t/whoami "));
    assert_non_null(strstr(line, "status=200"));
    assert_non_null(strstr(line, "account_id=7"));
    assert_non_null(strstr(line, "key_id=3"));
    assert_non_null(strstr(line, "remote=127.0.0.1"));
    assert_non_null(strstr(line, " ms="));
    assert_null(strstr(log, "SECRET"));
}

/* JSON getters (no server needed) -------------------------------------------------------------- */

static json_t *doc(void)
{
    json_t *j = json_loads("{\"certificate\":{\"common_name\":\"www.example.com\",\"csr\":"
                           "\"-----BEGIN\\nX\\n\",\"years\":2,\"ctl\":\"a\\u0007b\",\"c1\":"
                           "\"a\\u0085b\",\"flag\":true,\"names\":[\"a\",\"b\",\"c\"],"
                           "\"real\":1.5},\"top\":\"x\",\"null\":null}",
                           0, NULL);
    assert_non_null(j);
    return j;
}

static void expect_err(int rc, const cm_err *e, const char *code, const char *field)
{
    assert_int_equal(rc, -1);
    assert_string_equal(e->code, code);
    assert_non_null(strstr(e->msg, field));
}

static void test_json_get_str_types_and_limits(void **state)
{
    (void)state;
    json_t *j = doc();
    cm_err e;
    const char *s = "untouched";
    assert_int_equal(json_get_str(j, "certificate.common_name", true, 64, &s, &e), 0);
    assert_string_equal(s, "www.example.com");
    expect_err(json_get_str(j, "certificate.common_name", true, 5, &s, &e), &e, "field_invalid",
               "certificate.common_name");
    expect_err(json_get_str(j, "certificate.years", true, 64, &s, &e), &e, "field_invalid",
               "certificate.years");
    expect_err(json_get_str(j, "certificate.ctl", true, 64, &s, &e), &e, "field_invalid",
               "control");
    expect_err(json_get_str(j, "certificate.c1", true, 64, &s, &e), &e, "field_invalid", "control");
    expect_err(json_get_str(j, "certificate.csr", true, 64, &s, &e), &e, "field_invalid",
               "certificate.csr");
    assert_int_equal(json_get_text(j, "certificate.csr", true, 64, &s, &e), 0);
    assert_string_equal(s, "-----BEGIN\nX\n");
    expect_err(json_get_text(j, "certificate.ctl", true, 64, &s, &e), &e, "field_invalid",
               "control");
    /* absent */
    expect_err(json_get_str(j, "certificate.missing", true, 64, &s, &e), &e, "field_required",
               "certificate.missing");
    expect_err(json_get_str(j, "null", true, 64, &s, &e), &e, "field_required", "null");
    s = "untouched";
    assert_int_equal(json_get_str(j, "certificate.missing", false, 64, &s, &e), 0);
    assert_int_equal(json_get_str(j, "nothere.deeper", false, 64, &s, &e), 0);
    assert_string_equal(s, "untouched");
    /* a step of the path that is not an object */
    expect_err(json_get_str(j, "top.x", false, 64, &s, &e), &e, "field_invalid", "top");
    expect_err(json_get_str(j, "certificate.names.x", true, 64, &s, &e), &e, "field_invalid",
               "certificate.names");
    json_decref(j);
}

static void test_json_get_int_bool_array_object(void **state)
{
    (void)state;
    json_t *j = doc();
    cm_err e;
    int64_t n = -1;
    assert_int_equal(json_get_int(j, "certificate.years", true, 1, 6, &n, &e), 0);
    assert_int_equal(n, 2);
    expect_err(json_get_int(j, "certificate.years", true, 3, 6, &n, &e), &e, "field_invalid",
               "between 3 and 6");
    expect_err(json_get_int(j, "certificate.real", true, 0, 9, &n, &e), &e, "field_invalid",
               "certificate.real");
    expect_err(json_get_int(j, "top", true, 0, 9, &n, &e), &e, "field_invalid", "top");
    expect_err(json_get_int(j, "certificate.nope", true, 0, 9, &n, &e), &e, "field_required",
               "certificate.nope");
    n = 42;
    assert_int_equal(json_get_int(j, "certificate.nope", false, 0, 9, &n, &e), 0);
    assert_int_equal(n, 42);

    bool b = false;
    assert_int_equal(json_get_bool(j, "certificate.flag", true, &b, &e), 0);
    assert_true(b);
    expect_err(json_get_bool(j, "certificate.years", true, &b, &e), &e, "field_invalid",
               "certificate.years");
    expect_err(json_get_bool(j, "flag", true, &b, &e), &e, "field_required", "flag");

    json_t *a = NULL;
    assert_int_equal(json_get_array(j, "certificate.names", true, 3, &a, &e), 0);
    assert_int_equal(json_array_size(a), 3);
    expect_err(json_get_array(j, "certificate.names", true, 2, &a, &e), &e, "field_invalid",
               "at most 2");
    expect_err(json_get_array(j, "top", true, 2, &a, &e), &e, "field_invalid", "top");

    json_t *o = NULL;
    assert_int_equal(json_get_object(j, "certificate", true, &o, &e), 0);
    assert_true(json_is_object(o));
    expect_err(json_get_object(j, "top", true, &o, &e), &e, "field_invalid", "top");
    json_decref(j);
}

static void test_json_only_keys_names_the_unknown_key(void **state)
{
    (void)state;
    json_t *j = doc();
    cm_err e;
    static const char *const ok[] = {"certificate", "top", "null", NULL};
    static const char *const fewer[] = {"certificate", "null", NULL};
    assert_int_equal(json_only_keys(j, ok, &e), 0);
    expect_err(json_only_keys(j, fewer, &e), &e, "field_unknown", "\"top\"");
    expect_err(json_only_keys(json_object_get(j, "top"), ok, &e), &e, "field_invalid", "object");
    json_decref(j);
}

static void test_http_json_body_outside_a_server(void **state)
{
    (void)state;
    http_req rq = {0};
    rq.pool = pool_new();
    cm_err e;
    json_t *j = NULL;
    rq.body = (const unsigned char *)"{\"a\":1}";
    rq.body_len = 7;
    assert_int_equal(http_json_body(&rq, &j, &e), 0);
    assert_int_equal(json_integer_value(json_object_get(j, "a")), 1);
    rq.body_len = 0;
    expect_err(http_json_body(&rq, &j, &e), &e, "body_required", "JSON");
    /* list parameters without a connection: the defaults */
    http_list l;
    assert_int_equal(http_list_params(&rq, NULL, NULL, &l, &e), 0);
    assert_int_equal(l.limit, 100);
    assert_int_equal(l.offset, 0);
    assert_null(http_query(&rq, "x"));
    assert_null(http_header(&rq, "x"));
    pool_free(rq.pool); /* frees j too (ASan would report a leak otherwise) */
}

/* Error table ---------------------------------------------------------------------------------- */

static void test_errmap_statuses(void **state)
{
    (void)state;
    struct {
        const char *code;
        int status;
    } t[] = {
        {"unauthorized", 401},
        {"forbidden", 403},
        {"order_not_found", 404},
        {"not_found", 404},
        {"method_not_allowed", 405},
        {"conflict", 409},
        {"order_state", 409},
        {"already_revoked", 409},
        {"payload_too_large", 413},
        {"unsupported_media_type", 415},
        {"rate_limited", 429},
        {"internal_error", 500},
        {"store_error", 500},
        {"signer_unavailable", 503},
        {"signer_refused", 500},
        {"signing_failed", 500},
        {"invalid_json", 400},
        {"field_required", 400},
        {"field_invalid", 400},
        {"field_unknown", 400},
        {"duplicate_not_allowed", 422},
        {"already_initialised", 500},
        {"csr_malformed", 400},
        {"some_code_nobody_listed", 400},
        {"_not_found", 400}, /* a suffix needs something before it */
        {"", 500},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        if (http_status_for(t[i].code) != t[i].status)
            fail_msg("%s: %d, expected %d", t[i].code, http_status_for(t[i].code), t[i].status);
    }
    assert_int_equal(http_status_for(NULL), 500);

    http_resp rs = {0};
    cm_err e;
    cm_err_set(&e, "order_not_found", "order 9 does not exist \xff");
    http_error(&rs, &e);
    assert_int_equal(rs.status, 404);
    char *s = json_dumps(rs.json, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(s, "{\"errors\":[{\"code\":\"order_not_found\",\"message\":\"order 9 "
                           "does not exist ?\"}]}");
    free(s);
    json_decref(rs.json);
}

/* Pool ----------------------------------------------------------------------------------------- */

static int order_log[8];
static int order_n;

static void note(void *arg)
{
    order_log[order_n++] = (int)(intptr_t)arg;
}

static void test_pool_alloc_strings_and_lifo_defer(void **state)
{
    (void)state;
    cm_pool *p = pool_new();
    assert_non_null(p);
    for (size_t i = 1; i < 200; i += 7) {
        unsigned char *m = pool_alloc(p, i);
        assert_non_null(m);
        assert_int_equal((uintptr_t)m % _Alignof(max_align_t), 0);
        for (size_t k = 0; k < i; k++)
            assert_int_equal(m[k], 0);
        memset(m, 0xab, i);
    }
    unsigned char *big = pool_alloc(p, 300000);
    assert_non_null(big);
    assert_int_equal(big[299999], 0);
    big[299999] = 1;
    assert_non_null(pool_alloc(p, 0));
    assert_null(pool_alloc(p, (size_t)1 << 31));
    assert_string_equal(pool_strdup(p, "abc"), "abc");
    assert_null(pool_strdup(p, NULL));
    assert_string_equal(pool_strndup(p, "abcdef", 3), "abc");
    assert_string_equal(pool_printf(p, "%s-%d", "x", 42), "x-42");
    order_n = 0;
    assert_int_equal(pool_defer(p, note, (void *)1), 0);
    assert_int_equal(pool_defer(p, note, (void *)2), 0);
    assert_int_equal(pool_defer(p, note, (void *)3), 0);
    pool_free(p);
    assert_int_equal(order_n, 3);
    assert_int_equal(order_log[0], 3);
    assert_int_equal(order_log[1], 2);
    assert_int_equal(order_log[2], 1);
    pool_free(NULL);
}

/* Servers of their own ------------------------------------------------------------------------- */

typedef struct slow_client {
    char url[128];
    resp r;
    int rc;
} slow_client;

static void *slow_thread(void *arg)
{
    slow_client *c = arg;
    req_opts o = {.method = "GET", .url = c->url};
    c->rc = perform(&o, &c->r);
    return NULL;
}

static void test_graceful_stop_lets_inflight_request_finish(void **state)
{
    (void)state;
    http_server *s = NULL;
    cm_err err;
    http_server_opts o = opts_for("127.0.0.1:0");
    assert_int_equal(http_server_start(&o, &s, &err), 0);
    int port = http_server_port(s);
    slow_client c;
    snprintf(c.url, sizeof c.url, "http://127.0.0.1:%d/t/slow", port);
    atomic_store(&the_app.slow_started, 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, slow_thread, &c), 0);
    for (int i = 0; i < 500 && !atomic_load(&the_app.slow_started); i++) {
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    assert_true(atomic_load(&the_app.slow_started));
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    http_server_stop(s); /* returns once the slow request is answered */
    clock_gettime(CLOCK_MONOTONIC, &t1);
    pthread_join(th, NULL);
    assert_int_equal(c.rc, CURLE_OK);
    assert_int_equal(c.r.status, 200);
    assert_string_equal(json_string_value(json_object_get(c.r.json, "slow")), "done");
    resp_done(&c.r);
    double waited = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(waited > 0.5 && waited < 10);
    /* and nothing listens any more */
    resp r;
    req_opts again = {.method = "GET", .url = c.url};
    assert_int_not_equal(perform(&again, &r), CURLE_OK);
    resp_done(&r);
}

static void test_https_with_self_made_certificate(void **state)
{
    (void)state;
    char dir[] = "/tmp/cm_http_tls_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char cmd[1024], crt[128], key[128];
    snprintf(crt, sizeof crt, "%s/listener.crt", dir);
    snprintf(key, sizeof key, "%s/listener.key", dir);
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
             "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout %s -out %s "
             ">/dev/null 2>&1",
             key, crt);
    assert_int_equal(system(cmd), 0);

    http_server *s = NULL;
    cm_err err;
    cm_err_clear(&err);
    http_server_opts o = opts_for("127.0.0.1:0");
    o.tls_listen = "127.0.0.1:0";
    o.tls_cert_file = crt;
    o.tls_key_file = key;
    if (http_server_start(&o, &s, &err) != 0)
        fail_msg("start: %s: %s", err.code, err.msg);
    assert_true(http_server_tls_port(s) > 0);
    assert_int_not_equal(http_server_tls_port(s), http_server_port(s));

    char u[128];
    snprintf(u, sizeof u, "https://127.0.0.1:%d/t/whoami", http_server_tls_port(s));
    resp r;
    req_opts q = {
        .method = "GET", .url = u, .headers = {"X-DC-DEVKEY: " USER_KEY, NULL}, .cainfo = crt};
    assert_int_equal(perform(&q, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "account_id")), 7);
    resp_done(&r);
    /* a client that does not trust the certificate is refused by TLS itself */
    req_opts untrusted = {.method = "GET", .url = u};
    assert_int_not_equal(perform(&untrusted, &r), CURLE_OK);
    resp_done(&r);
    /* the plain listener runs beside it */
    snprintf(u, sizeof u, "http://127.0.0.1:%d/t/items", http_server_port(s));
    req_opts plain = {.method = "GET", .url = u};
    assert_int_equal(perform(&plain, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    resp_done(&r);
    http_server_stop(s);

    /* a key that does not parse stops the start with a clear error, and leaks nothing */
    FILE *f = fopen(key, "w");
    assert_non_null(f);
    fputs("not a key\n", f);
    fclose(f);
    s = NULL;
    assert_int_equal(http_server_start(&o, &s, &err), -1);
    assert_string_equal(err.code, "http_start_failed");
    assert_null(s);
    o.tls_key_file = "/nonexistent/listener.key";
    assert_int_equal(http_server_start(&o, &s, &err), -1);
    assert_string_equal(err.code, "file_unreadable");

    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_ipv6_listener_and_bad_addresses(void **state)
{
    (void)state;
    http_server *s = NULL;
    cm_err err;
    http_server_opts o = opts_for("[::1]:0");
    assert_int_equal(http_server_start(&o, &s, &err), 0);
    char u[128];
    snprintf(u, sizeof u, "http://[::1]:%d/t/items/1/sub/2", http_server_port(s));
    resp r;
    req_opts q = {.method = "GET", .url = u};
    assert_int_equal(perform(&q, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    resp_done(&r);

    /* the port is taken now */
    char taken[64];
    snprintf(taken, sizeof taken, "[::1]:%d", http_server_port(s));
    http_server *s2 = NULL;
    http_server_opts o2 = opts_for(taken);
    assert_int_equal(http_server_start(&o2, &s2, &err), -1);
    assert_string_equal(err.code, "listen_failed");
    http_server_stop(s);

    const char *bad[] = {"localhost:80",    "127.0.0.1",    "::1:80",         "[::1]80",
                         "127.0.0.1:65536", "127.0.0.1:-1", "[127.0.0.1]:80", "1.2.3:80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        http_server_opts b = opts_for(bad[i]);
        assert_int_equal(http_server_start(&b, &s2, &err), -1);
        assert_string_equal(err.code, "config_invalid");
    }
    http_server_opts none = opts_for("");
    assert_int_equal(http_server_start(&none, &s2, &err), -1);
    assert_string_equal(err.code, "config_invalid");
}

static void test_bad_route_tables_are_refused(void **state)
{
    (void)state;
    const http_route bad[][1] = {
        {{"GET", "no-slash", HTTP_AUTH_NONE, h_fail}},
        {{"GET", "/a/{x", HTTP_AUTH_NONE, h_fail}},
        {{"GET", "/a/{}", HTTP_AUTH_NONE, h_fail}},
        {{"GET", "/a/{*}/b", HTTP_AUTH_NONE, h_fail}},
        {{"GET", "/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}", HTTP_AUTH_NONE, h_fail}},
        {{"GET", "/a", HTTP_AUTH_NONE, NULL}},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        http_server *s = NULL;
        cm_err err;
        http_server_opts o = opts_for("127.0.0.1:0");
        o.routes = bad[i];
        o.n_routes = 1;
        assert_int_equal(http_server_start(&o, &s, &err), -1);
        assert_string_equal(err.code, "config_invalid");
    }
    http_server *s = NULL;
    cm_err err;
    http_server_opts o = opts_for("127.0.0.1:0");
    o.authenticate = NULL; /* routes need keys */
    assert_int_equal(http_server_start(&o, &s, &err), -1);
    assert_string_equal(err.code, "config_invalid");
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    log_set_level(LOG_WARN); /* the access-log test turns INFO on for itself */
    const struct CMUnitTest served[] = {
        cmocka_unit_test(test_route_params_are_decoded_in_order),
        cmocka_unit_test(test_tail_pattern_takes_the_rest_of_the_path),
        cmocka_unit_test(test_unknown_path_is_404_not_found),
        cmocka_unit_test(test_known_path_with_other_method_is_405_with_allow),
        cmocka_unit_test(test_encoded_traversal_in_segment_is_400),
        cmocka_unit_test(test_overlong_path_is_414),
        cmocka_unit_test(test_oversized_headers_are_refused),
        cmocka_unit_test(test_key_route_without_key_is_401),
        cmocka_unit_test(test_key_route_with_unknown_key_is_401),
        cmocka_unit_test(test_key_route_with_good_key_fills_caller),
        cmocka_unit_test(test_operator_route_needs_operator_key),
        cmocka_unit_test(test_body_over_limit_is_413_and_handler_not_called),
        cmocka_unit_test(test_body_must_be_json_else_415),
        cmocka_unit_test(test_invalid_json_is_400_with_error_shape),
        cmocka_unit_test(test_list_params_defaults_and_bounds),
        cmocka_unit_test(test_json_response_headers),
        cmocka_unit_test(test_download_headers),
        cmocka_unit_test(test_handler_failure_without_response_is_500),
        cmocka_unit_test(test_access_log_line_without_secrets),
    };
    const struct CMUnitTest alone[] = {
        cmocka_unit_test(test_json_get_str_types_and_limits),
        cmocka_unit_test(test_json_get_int_bool_array_object),
        cmocka_unit_test(test_json_only_keys_names_the_unknown_key),
        cmocka_unit_test(test_http_json_body_outside_a_server),
        cmocka_unit_test(test_errmap_statuses),
        cmocka_unit_test(test_pool_alloc_strings_and_lifo_defer),
        cmocka_unit_test(test_graceful_stop_lets_inflight_request_finish),
        cmocka_unit_test(test_https_with_self_made_certificate),
        cmocka_unit_test(test_ipv6_listener_and_bad_addresses),
        cmocka_unit_test(test_bad_route_tables_are_refused),
    };
    int failed = cmocka_run_group_tests_name("http_served", served, setup, teardown);
    failed += cmocka_run_group_tests_name("http_alone", alone, NULL, NULL);
    curl_global_cleanup();
    return failed;
}
