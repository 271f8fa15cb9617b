/* server.c — listeners, routing, authentication and responses over libmicrohttpd.
 *
 * A request goes through: the URI callback (context, pool, request id, in-flight count) → the
 * first access call (path, route, Content-Length, Content-Type, authentication; any refusal is
 * answered here, before the body is read) → body chunks (bounded by max_body) → the final
 * access call (the handler) → the completion callback (access log, pool freed, count down).
 * The listening sockets are bound here, so port 0 works and the bound port can be read back. */
#include "http/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "util/fileio.h"
#include "util/log.h"
#include "util/str.h"

#define PATH_MAX_LEN   2048 /* request target without the query */
#define MAX_SEGMENTS   32
#define STOP_GRACE_S   30        /* how long a stop waits for in-flight requests */
#define CONN_TIMEOUT_S 60        /* idle connections */
#define TLS_FILE_MAX   (1 << 20) /* PEM files of the HTTPS listener */
#define TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

typedef struct listener {
    http_server *srv;
    struct MHD_Daemon *d;
    int fd;  /* bound socket; MHD's once the daemon runs */
    int qfd; /* returned by MHD_quiesce_daemon: ours to close after MHD_stop_daemon */
    int port;
    bool tls;
    char *cert, *key; /* PEM text for MHD (kept for the daemon's lifetime) */
    size_t key_len;
} listener;

struct http_server {
    const http_route *routes;
    size_t n_routes;
    void *app;
    size_t max_body;
    int (*authenticate)(void *app, http_req *rq, const char *devkey, cm_err *err);
    listener l[2]; /* [0] HTTP, [1] HTTPS */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned inflight; /* requests between the URI callback and completion */
    atomic_bool stopping;
};

typedef struct req_ctx {
    http_req rq; /* first: handlers only ever see this part */
    listener *lst;
    const http_route *route;
    const char *raw;   /* request target without the query, NULL when too long */
    const char *allow; /* Allow header of a 405 */
    bool started, responded, authed, too_big;
    unsigned char *body; /* malloc'd, max_body + 1 at most */
    size_t len, cap, discarded;
    int status;
    size_t bytes_out;
    struct timespec t0;
    char remote[INET6_ADDRSTRLEN + 8];
} req_ctx;

/* Addresses and sockets -------------------------------------------------------------------- */

/* "a.b.c.d:port" or "[v6]:port" → sockaddr. */
static int parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len, cm_err *err)
{
    char host[INET6_ADDRSTRLEN + 1];
    const char *port;
    memset(ss, 0, sizeof *ss);
    if (s[0] == '[') {
        const char *rb = strchr(s, ']');
        if (rb == NULL || rb[1] != ':' || (size_t)(rb - s - 1) >= sizeof host)
            goto bad;
        memcpy(host, s + 1, (size_t)(rb - s - 1));
        host[rb - s - 1] = '\0';
        port = rb + 2;
    } else {
        const char *colon = strrchr(s, ':');
        if (colon == NULL || (size_t)(colon - s) >= sizeof host)
            goto bad;
        memcpy(host, s, (size_t)(colon - s));
        host[colon - s] = '\0';
        port = colon + 1;
    }
    long p;
    if (str_to_long(port, 0, 65535, &p) != 0)
        goto bad;
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    if (s[0] != '[' && inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)p);
        *len = sizeof *v4;
        return 0;
    }
    if (s[0] == '[' && inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)p);
        *len = sizeof *v6;
        return 0;
    }
bad:
    return cm_err_set(err, "config_invalid",
                      "listen address \"%.128s\" must be IPv4:port (127.0.0.1:8080) or "
                      "[IPv6]:port ([::1]:8080)",
                      s);
}

/* Binds and listens on `addr`; fills l->fd, l->port. */
static int listener_bind(listener *l, const char *addr, cm_err *err)
{
    struct sockaddr_storage ss;
    socklen_t sl = 0;
    int fd = -1, one = 1, rc = -1;
    if (parse_addr(addr, &ss, &sl, err) != 0)
        goto out;
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        cm_err_set(err, "listen_failed", "socket for %.128s: %s", addr, strerror(errno));
        goto out;
    }
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ss.ss_family == AF_INET6)
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, 128) != 0) {
        cm_err_set(err, "listen_failed",
                   "cannot listen on %.128s: %s; pick another address or port, or stop the "
                   "process that holds it",
                   addr, strerror(errno));
        goto out;
    }
    struct sockaddr_storage bound;
    socklen_t bl = sizeof bound;
    if (getsockname(fd, (struct sockaddr *)&bound, &bl) != 0) {
        cm_err_set(err, "listen_failed", "getsockname for %.128s: %s", addr, strerror(errno));
        goto out;
    }
    l->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                : ((struct sockaddr_in *)&bound)->sin_port);
    l->fd = fd;
    fd = -1;
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    return rc;
}

/* Small helpers ----------------------------------------------------------------------------- */

static void remote_addr(struct MHD_Connection *c, char *buf, size_t bufsz)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(buf, bufsz, "-");
    if (ci == NULL || ci->client_addr == NULL)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, buf,
                  (socklen_t)bufsz);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, buf,
                  (socklen_t)bufsz);
}

static void new_request_id(char out[17])
{
    unsigned char r[8];
    if (random_bytes(r, sizeof r) != 0) {
        /* never seen in practice; uniqueness matters more than secrecy here */
        static atomic_uint_fast64_t counter;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        uint64_t v = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^ ++counter;
        memcpy(r, &v, sizeof r);
    }
    for (size_t i = 0; i < sizeof r; i++)
        snprintf(out + 2 * i, 3, "%02x", r[i]);
}

/* Copies s for a log line: printable ASCII except quote, backslash and space; the rest %XX. */
static void log_safe(const char *s, char *out, size_t outsz)
{
    size_t o = 0;
    if (s == NULL)
        s = "-";
    for (; *s != '\0' && o + 4 < outsz; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch > 0x20 && ch < 0x7f && ch != '"' && ch != '\\' && ch != '%') {
            out[o++] = (char)ch;
        } else {
            snprintf(out + o, 4, "%%%02X", ch);
            o += 3;
        }
    }
    out[o] = '\0';
}

static long ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long)((t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000);
}

/* True when the media type of Content-Type value ct is `type` (parameters ignored). */
static bool media_is(const char *ct, const char *type)
{
    while (*ct == ' ' || *ct == '\t')
        ct++;
    size_t n = strlen(type);
    if (strncasecmp(ct, type, n) != 0)
        return false;
    return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ' || ct[n] == '\t';
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Responses -------------------------------------------------------------------------------- */

/* Content-Disposition filenames: [A-Za-z0-9._-], the rest becomes '_'. */
static void safe_filename(const char *in, char *out, size_t outsz)
{
    size_t o = 0;
    for (; *in != '\0' && o + 1 < outsz; in++) {
        char ch = *in;
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
        out[o++] = ok ? ch : '_';
    }
    out[o] = '\0';
}

/* Queues rs on the connection; takes rs->json. */
static enum MHD_Result respond(req_ctx *x, http_resp *rs)
{
    static const char fallback[] =
        "{\"errors\":[{\"code\":\"internal_error\",\"message\":\"the response could not be "
        "built; try again\"}]}";
    struct MHD_Connection *c = x->rq.conn;
    struct MHD_Response *r = NULL;
    char *dump = NULL;
    const void *data = NULL;
    size_t len = 0;
    const char *ct = NULL;
    int status = rs->status;
    enum MHD_Result ret = MHD_NO;

    if (rs->json != NULL) {
        dump = json_dumps(rs->json, JSON_COMPACT);
        json_decref(rs->json);
        rs->json = NULL;
        if (dump == NULL) {
            status = 500;
            data = fallback;
            len = sizeof fallback - 1;
        } else {
            data = dump;
            len = strlen(dump);
        }
        ct = "application/json";
    } else if (rs->data != NULL) {
        data = rs->data;
        len = rs->data_len;
        ct = rs->content_type != NULL ? rs->content_type : "application/octet-stream";
    }
    if (status < 100 || status > 599) {
        log_msg(LOG_ERROR, "event=http_bad_status request_id=%s status=%d", x->rq.request_id,
                status);
        status = 500;
        data = fallback;
        len = sizeof fallback - 1;
        ct = "application/json";
    }
    /* A copy, so nothing here depends on when MHD lets go of the buffer. */
    r = MHD_create_response_from_buffer(len, (void *)(uintptr_t)data, MHD_RESPMEM_MUST_COPY);
    if (r == NULL)
        goto out;
    const char *cc = rs->cache_control != NULL ? rs->cache_control : "no-store";
    bool ok = MHD_add_response_header(r, "X-Request-Id", x->rq.request_id) == MHD_YES &&
              MHD_add_response_header(r, "X-Content-Type-Options", "nosniff") == MHD_YES &&
              MHD_add_response_header(r, "Cache-Control", cc) == MHD_YES;
    if (ok && ct != NULL)
        ok = MHD_add_response_header(r, "Content-Type", ct) == MHD_YES;
    if (ok && rs->filename != NULL && rs->data != NULL) {
        char fn[160], cd[200];
        safe_filename(rs->filename, fn, sizeof fn);
        snprintf(cd, sizeof cd, "attachment; filename=\"%s\"", fn);
        ok = MHD_add_response_header(r, "Content-Disposition", cd) == MHD_YES;
    }
    if (ok && status == 405 && x->allow != NULL)
        ok = MHD_add_response_header(r, "Allow", x->allow) == MHD_YES;
    if (ok && atomic_load(&x->lst->srv->stopping))
        ok = MHD_add_response_header(r, "Connection", "close") == MHD_YES;
    if (!ok)
        goto out;
    ret = MHD_queue_response(c, (unsigned)status, r);
    if (ret == MHD_YES) {
        x->responded = true;
        x->status = status;
        x->bytes_out = len;
    }
out:
    if (r != NULL)
        MHD_destroy_response(r);
    free(dump);
    return ret;
}

static enum MHD_Result respond_err(req_ctx *x, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum MHD_Result respond_err(req_ctx *x, const char *code, const char *fmt, ...)
{
    cm_err e;
    snprintf(e.code, sizeof e.code, "%s", code);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e.msg, sizeof e.msg, fmt, ap);
    va_end(ap);
    http_resp rs = {0};
    http_error(&rs, &e);
    return respond(x, &rs);
}

/* Routing ---------------------------------------------------------------------------------- */

typedef struct seg {
    const char *raw; /* into the raw path */
    size_t raw_len;
    const char *dec; /* percent-decoded, pool */
    bool bad;        /* decoded form holds '/' or ".." */
} seg;

typedef struct span {
    const char *p;
    size_t n;
} span;

enum { M_NO, M_YES, M_BAD };

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes n bytes of s into the pool. NULL on a malformed escape or OOM (*oom says). */
static char *pct_decode(cm_pool *p, const char *s, size_t n, size_t *outlen, bool *oom)
{
    char *d = pool_alloc(p, n + 1);
    size_t o = 0;
    *oom = d == NULL;
    if (d == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%') {
            d[o++] = s[i];
            continue;
        }
        if (i + 2 >= n)
            return NULL;
        int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
        if (hi < 0 || lo < 0)
            return NULL;
        d[o++] = (char)(hi * 16 + lo);
        i += 2;
    }
    d[o] = '\0';
    *outlen = o;
    return d;
}

/* Matches one route pattern against the path segments; on M_YES/M_BAD fills the parameter
 * spans (tail: *tail set to the raw remainder). */
static int match(const char *pat, const seg *s, size_t n, span *params, size_t *np,
                 const seg **tail)
{
    const char *p = pat + 1;
    size_t i = 0;
    bool bad = false;
    *np = 0;
    *tail = NULL;
    for (;;) {
        const char *end = strchr(p, '/');
        size_t pl = end != NULL ? (size_t)(end - p) : strlen(p);
        if (end == NULL && pl == 3 && memcmp(p, "{*}", 3) == 0) {
            if (i >= n)
                return M_NO;
            *tail = &s[i];
            params[(*np)++] = (span){NULL, 0};
            return bad ? M_BAD : M_YES;
        }
        if (i >= n)
            return M_NO;
        const char *ob = memchr(p, '{', pl);
        size_t dl = strlen(s[i].dec);
        if (ob == NULL) {
            if (dl != pl || memcmp(s[i].dec, p, pl) != 0)
                return M_NO;
        } else {
            const char *cb = memchr(ob, '}', pl - (size_t)(ob - p));
            size_t prel = (size_t)(ob - p), sufl = pl - (size_t)(cb - p) - 1;
            if (dl < prel + sufl + 1 || memcmp(s[i].dec, p, prel) != 0 ||
                memcmp(s[i].dec + dl - sufl, cb + 1, sufl) != 0)
                return M_NO;
            bad = bad || s[i].bad;
            params[(*np)++] = (span){s[i].dec + prel, dl - prel - sufl};
        }
        i++;
        if (end == NULL)
            break;
        p = end + 1;
    }
    if (i != n)
        return M_NO;
    return bad ? M_BAD : M_YES;
}

/* Checks a route table once at start: patterns well formed, at most HTTP_MAX_PARAMS
 * parameters, {*} only last, auth callback present when needed. */
static int check_routes(const http_server_opts *o, cm_err *err)
{
    for (size_t r = 0; r < o->n_routes; r++) {
        const http_route *rt = &o->routes[r];
        if (rt->method == NULL || rt->pattern == NULL || rt->handler == NULL ||
            rt->pattern[0] != '/')
            return cm_err_set(err, "config_invalid", "route %zu is incomplete", r);
        if (rt->auth != HTTP_AUTH_NONE && o->authenticate == NULL)
            return cm_err_set(err, "config_invalid",
                              "route %s %s needs authentication but no authenticate callback "
                              "was given",
                              rt->method, rt->pattern);
        size_t np = 0;
        const char *p = rt->pattern + 1;
        for (;;) {
            const char *end = strchr(p, '/');
            size_t pl = end != NULL ? (size_t)(end - p) : strlen(p);
            const char *ob = memchr(p, '{', pl);
            if (ob != NULL) {
                const char *cb = memchr(ob, '}', pl - (size_t)(ob - p));
                bool star = pl == 3 && memcmp(p, "{*}", 3) == 0;
                if (cb == NULL || memchr(cb + 1, '{', pl - (size_t)(cb + 1 - p)) != NULL ||
                    cb == ob + 1 || (star && end != NULL) || ++np > HTTP_MAX_PARAMS)
                    return cm_err_set(err, "config_invalid", "route pattern %s is malformed",
                                      rt->pattern);
            }
            if (end == NULL)
                break;
            p = end + 1;
        }
    }
    return 0;
}

/* Splits the raw path into decoded segments ("/" gives one empty segment). */
static int split_path(req_ctx *x, seg *segs, size_t *n)
{
    const char *p = x->raw + 1;
    *n = 0;
    for (;;) {
        if (*n >= MAX_SEGMENTS)
            return -1;
        const char *end = strchr(p, '/');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        size_t dl = 0;
        bool oom = false;
        char *d = pct_decode(x->rq.pool, p, len, &dl, &oom);
        if (d == NULL)
            return -1; /* escapes were checked on the whole path already */
        segs[*n] = (seg){p, len, d, memchr(d, '/', dl) != NULL || strstr(d, "..") != NULL};
        (*n)++;
        if (end == NULL)
            break;
        p = end + 1;
    }
    return 0;
}

/* Finds the route of the request. Returns 0 with x->route set, or answers (400/404/405) and
 * returns 1; -1 when even the answer failed. */
static int route_request(req_ctx *x, enum MHD_Result *ret)
{
    http_server *s = x->lst->srv;
    seg segs[MAX_SEGMENTS];
    size_t n = 0;
    if (split_path(x, segs, &n) != 0) {
        *ret = respond_err(x, "not_found", "no such resource; see docs/api.md for the paths");
        return 1;
    }
    bool bad = false, other_method = false;
    char allow[64] = "";
    span params[HTTP_MAX_PARAMS];
    size_t np = 0;
    const seg *tail = NULL;
    for (size_t r = 0; r < s->n_routes; r++) {
        const http_route *rt = &s->routes[r];
        int m = match(rt->pattern, segs, n, params, &np, &tail);
        if (m == M_NO)
            continue;
        if (strcmp(rt->method, x->rq.method) != 0) {
            other_method = true;
            if (strstr(allow, rt->method) == NULL) {
                size_t al = strlen(allow);
                snprintf(allow + al, sizeof allow - al, "%s%s", al ? ", " : "", rt->method);
            }
            continue;
        }
        if (m == M_BAD) {
            bad = true;
            continue;
        }
        x->route = rt;
        break;
    }
    if (x->route == NULL) {
        if (bad) {
            *ret = respond_err(x, "invalid_path",
                               "a path segment contains \"/\" or \"..\" once decoded; send the "
                               "identifier itself");
        } else if (other_method) {
            x->allow = pool_strdup(x->rq.pool, allow);
            *ret = respond_err(x, "method_not_allowed", "%.16s is not allowed here; allowed: %s",
                               x->rq.method, allow);
        } else {
            *ret = respond_err(x, "not_found", "no such resource; see docs/api.md for the paths");
        }
        return 1;
    }
    for (size_t i = 0; i < np; i++) {
        const char *v;
        if (tail != NULL && i + 1 == np) {
            size_t dl = 0;
            bool oom = false;
            size_t rl = strlen(tail->raw);
            v = pct_decode(x->rq.pool, tail->raw, rl, &dl, &oom);
        } else {
            v = pool_strndup(x->rq.pool, params[i].p, params[i].n);
        }
        if (v == NULL) {
            *ret = respond_err(x, "out_of_memory", "out of memory; try again");
            return 1;
        }
        x->rq.params[i] = v;
    }
    x->rq.n_params = np;
    return 0;
}

/* Access handler --------------------------------------------------------------------------- */

static bool has_controls(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

/* Headers are in: everything that can be refused before the body is refused here. */
static enum MHD_Result first_call(req_ctx *x, const char *method)
{
    http_server *s = x->lst->srv;
    enum MHD_Result ret = MHD_YES;
    x->rq.method = pool_strdup(x->rq.pool, method);
    if (x->rq.method == NULL)
        return respond_err(x, "out_of_memory", "out of memory; try again");
    if (x->raw == NULL)
        return respond_err(x, "uri_too_long", "the path is longer than %d bytes", PATH_MAX_LEN);
    if (x->raw[0] != '/')
        return respond_err(x, "invalid_path", "the request target must be a path (/…)");
    size_t dl = 0;
    bool oom = false;
    char *path = pct_decode(x->rq.pool, x->raw, strlen(x->raw), &dl, &oom);
    if (path == NULL)
        return oom ? respond_err(x, "out_of_memory", "out of memory; try again")
                   : respond_err(x, "invalid_path",
                                 "the path has a malformed %%-escape; encode %% as %%25");
    if (strlen(path) != dl || has_controls(path))
        return respond_err(x, "invalid_path", "the path contains control characters");
    x->rq.path = path;

    if (route_request(x, &ret) != 0)
        return ret;

    const char *cl = http_header(&x->rq, "Content-Length");
    const char *te = http_header(&x->rq, "Transfer-Encoding");
    bool has_body = te != NULL;
    if (cl != NULL) {
        unsigned long long v = 0;
        bool big = false;
        for (const char *p = cl; *p >= '0' && *p <= '9'; p++) {
            v = v * 10 + (unsigned long long)(*p - '0');
            if (v > s->max_body) {
                big = true;
                break;
            }
        }
        if (big)
            return respond_err(x, "payload_too_large", "the body is larger than %zu bytes",
                               s->max_body);
        has_body = has_body || v > 0;
    }
    const char *m = x->rq.method;
    if (has_body && (!strcmp(m, "POST") || !strcmp(m, "PUT") || !strcmp(m, "PATCH"))) {
        const char *ct = http_header(&x->rq, "Content-Type");
        const char *pat = x->route->pattern;
        bool ok = ct != NULL &&
                  (media_is(ct, "application/json") ||
                   (starts_with(pat, "/ocsp") && media_is(ct, "application/ocsp-request")) ||
                   (starts_with(pat, "/acme") && media_is(ct, "application/jose+json")));
        if (!ok)
            return respond_err(x, "unsupported_media_type",
                               "send the body as %s (Content-Type header)",
                               starts_with(pat, "/ocsp")   ? "application/ocsp-request"
                               : starts_with(pat, "/acme") ? "application/jose+json"
                                                           : "application/json");
    }

    if (x->route->auth != HTTP_AUTH_NONE) {
        const char *key = http_header(&x->rq, "X-DC-DEVKEY");
        if (key == NULL || key[0] == '\0')
            return respond_err(x, "unauthorized", "send your API key in the X-DC-DEVKEY header");
        cm_err e;
        cm_err_clear(&e);
        if (s->authenticate(s->app, &x->rq, key, &e) != 0) {
            if (!cm_err_isset(&e))
                cm_err_set(&e, "unauthorized", "the API key is not valid; check X-DC-DEVKEY");
            http_resp rs = {0};
            http_error(&rs, &e);
            return respond(x, &rs);
        }
        x->authed = true;
        if (x->route->auth == HTTP_AUTH_OPERATOR && !x->rq.caller.operator)
            return respond_err(x, "forbidden", "this operation needs an operator key");
    }
    return MHD_YES;
}

/* A chunk of the body. Past max_body the rest is read and dropped (so the 413 can be sent),
 * up to a bound; beyond that the connection is cut. */
static enum MHD_Result body_chunk(req_ctx *x, const char *data, size_t n)
{
    size_t max = x->lst->srv->max_body;
    if (x->too_big) {
        x->discarded += n;
        return x->discarded > 4 * max + (1u << 20) ? MHD_NO : MHD_YES;
    }
    if (n > max - x->len) {
        x->too_big = true;
        x->discarded = x->len + n;
        free(x->body);
        x->body = NULL;
        x->len = x->cap = 0;
        return MHD_YES;
    }
    if (x->len + n + 1 > x->cap) {
        size_t cap = x->cap ? x->cap : 4096;
        while (cap < x->len + n + 1)
            cap *= 2;
        if (cap > max + 1)
            cap = max + 1;
        unsigned char *b = realloc(x->body, cap);
        if (b == NULL)
            return MHD_NO;
        x->body = b;
        x->cap = cap;
    }
    memcpy(x->body + x->len, data, n);
    x->len += n;
    x->body[x->len] = '\0';
    return MHD_YES;
}

/* The whole request is in: run the handler. */
static enum MHD_Result final_call(req_ctx *x)
{
    http_server *s = x->lst->srv;
    if (x->too_big)
        return respond_err(x, "payload_too_large", "the body is larger than %zu bytes",
                           s->max_body);
    x->rq.body = x->body != NULL ? x->body : (const unsigned char *)"";
    x->rq.body_len = x->len;
    http_resp rs = {0};
    int rc = x->route->handler(s->app, &x->rq, &rs);
    if (rs.status == 0 || (rc != 0 && rs.status < 400)) {
        log_msg(LOG_ERROR, "event=http_handler_failed request_id=%s rc=%d status=%d",
                x->rq.request_id, rc, rs.status);
        json_decref(rs.json);
        rs = (http_resp){0};
        cm_err e;
        cm_err_set(&e, "internal_error", "the server failed to answer; quote request id %s",
                   x->rq.request_id);
        http_error(&rs, &e);
    }
    return respond(x, &rs);
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *c, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
    (void)cls, (void)url, (void)version;
    req_ctx *x = *con_cls;
    if (x == NULL) {
        /* the URI callback ran out of memory */
        static const char oom[] =
            "{\"errors\":[{\"code\":\"out_of_memory\",\"message\":\"out of memory\"}]}";
        struct MHD_Response *r = MHD_create_response_from_buffer(
            sizeof oom - 1, (void *)(uintptr_t)oom, MHD_RESPMEM_PERSISTENT);
        if (r == NULL)
            return MHD_NO;
        enum MHD_Result ret = MHD_queue_response(c, 503, r);
        MHD_destroy_response(r);
        return ret;
    }
    if (!x->started) {
        x->started = true;
        return first_call(x, method);
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        return x->responded ? MHD_YES : body_chunk(x, upload_data, n);
    }
    if (x->responded)
        return MHD_YES;
    return final_call(x);
}

/* Per-request context and completion --------------------------------------------------------- */

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    listener *l = cls;
    req_ctx *x = calloc(1, sizeof *x);
    if (x == NULL)
        return NULL;
    x->rq.pool = pool_new();
    if (x->rq.pool == NULL) {
        free(x);
        return NULL;
    }
    clock_gettime(CLOCK_MONOTONIC, &x->t0);
    x->lst = l;
    x->rq.conn = c;
    new_request_id(x->rq.request_id);
    remote_addr(c, x->remote, sizeof x->remote);
    size_t n = strcspn(uri, "?");
    if (n <= PATH_MAX_LEN)
        x->raw = pool_strndup(x->rq.pool, uri, n); /* NULL (OOM) answers like too long */
    pthread_mutex_lock(&l->srv->mu);
    l->srv->inflight++;
    pthread_mutex_unlock(&l->srv->mu);
    return x;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)c;
    req_ctx *x = *con_cls;
    if (x == NULL)
        return;
    *con_cls = NULL;
    http_server *s = x->lst->srv;
    char method[64], path[600], who[64] = "";
    log_safe(x->rq.method, method, sizeof method);
    log_safe(x->raw, path, sizeof path);
    if (x->authed)
        snprintf(who, sizeof who, " account_id=%" PRId64 " key_id=%" PRId64,
                 x->rq.caller.account_id, x->rq.caller.key_id);
    log_msg(LOG_INFO,
            "event=http_request request_id=%s method=%s path=%s status=%d bytes=%zu ms=%ld%s "
            "remote=%s tls=%d%s",
            x->rq.request_id, method, path, x->status, x->bytes_out, ms_since(&x->t0), who,
            x->remote, x->lst->tls ? 1 : 0,
            toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " end=aborted");
    free(x->body);
    pool_free(x->rq.pool);
    free(x);
    pthread_mutex_lock(&s->mu);
    if (--s->inflight == 0)
        pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[512], safe[600];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    /* MHD's messages are prose: keep them readable, only control characters go */
    size_t o = 0;
    for (size_t i = 0; line[i] != '\0' && o + 1 < sizeof safe; i++)
        safe[o++] = ((unsigned char)line[i] < 0x20 || line[i] == '"') ? '\'' : line[i];
    safe[o] = '\0';
    log_msg(LOG_WARN, "event=http_daemon msg=\"%s\"", safe);
}

/* Start and stop --------------------------------------------------------------------------- */

static int listener_start(http_server *s, listener *l, unsigned workers, bool v6, cm_err *err)
{
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG | (l->tls ? MHD_USE_TLS : 0) | (v6 ? MHD_USE_IPv6 : 0);
    struct MHD_OptionItem opts[16];
    size_t n = 0;
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_mhd_log, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_SOCKET, l->fd, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)on_uri, l};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, l};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, CONN_TIMEOUT_S, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_STRICT_FOR_CLIENT, 1, NULL};
    if (workers > 1)
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, workers, NULL};
    if (l->tls) {
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, l->key};
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, l->cert};
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0,
                                            (void *)(uintptr_t)TLS_PRIORITIES};
    }
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    l->d = MHD_start_daemon(flags, 0, NULL, NULL, on_access, s, MHD_OPTION_ARRAY, opts,
                            MHD_OPTION_END);
    l->fd = -1; /* the daemon's now; MHD (0.9.75) also closes it when it fails to start */
    if (l->d == NULL) {
        return cm_err_set(err, "http_start_failed",
                          "cannot start the %s listener on port %d%s; the log has the reason",
                          l->tls ? "HTTPS" : "HTTP", l->port,
                          l->tls ? " (check tls_cert and tls_key: PEM, matching, unencrypted)"
                                 : "");
    }
    return 0;
}

static int read_pem(const char *path, const char *what, char **out, size_t *len, cm_err *err)
{
    unsigned char *buf = NULL;
    if (str_empty(path))
        return cm_err_set(err, "config_invalid", "tls_listen needs %s", what);
    if (file_read_all(path, TLS_FILE_MAX, &buf, len, err) != 0)
        return cm_err_prefix(err, "%s", what);
    *out = (char *)buf;
    return 0;
}

int http_server_start(const http_server_opts *o, http_server **out, cm_err *err)
{
    int rc = -1;
    http_server *s = NULL;
    bool sync_ok = false;
    if (check_routes(o, err) != 0)
        goto out;
    if (o->workers < 0 || o->workers > 1024 || o->max_body == 0 ||
        o->max_body > ((size_t)1 << 30)) {
        cm_err_set(err, "config_invalid", "workers must be 0..1024 and max_body 1..1 GiB");
        goto out;
    }
    if (str_empty(o->listen) && str_empty(o->tls_listen)) {
        cm_err_set(err, "config_invalid", "set listen or tls_listen (or both)");
        goto out;
    }
    s = calloc(1, sizeof *s);
    if (s == NULL) {
        cm_err_set(err, "out_of_memory", "out of memory");
        goto out;
    }
    s->routes = o->routes;
    s->n_routes = o->n_routes;
    s->app = o->app;
    s->max_body = o->max_body;
    s->authenticate = o->authenticate;
    atomic_init(&s->stopping, false);
    for (int i = 0; i < 2; i++)
        s->l[i] = (listener){.srv = s, .fd = -1, .qfd = -1, .tls = i == 1};
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        free(s);
        s = NULL;
        cm_err_set(err, "http_start_failed", "pthread_mutex_init failed");
        goto out;
    }
    if (pthread_cond_init(&s->cv, NULL) != 0) {
        pthread_mutex_destroy(&s->mu);
        free(s);
        s = NULL;
        cm_err_set(err, "http_start_failed", "pthread_cond_init failed");
        goto out;
    }
    sync_ok = true;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned workers = o->workers > 0 ? (unsigned)o->workers : (cpus > 0 ? (unsigned)cpus : 1);
    if (!str_empty(o->tls_listen)) {
        listener *l = &s->l[1];
        if (read_pem(o->tls_cert_file, "tls_cert", &l->cert, &(size_t){0}, err) != 0 ||
            read_pem(o->tls_key_file, "tls_key", &l->key, &l->key_len, err) != 0)
            goto out;
    }
    const char *addrs[2] = {o->listen, o->tls_listen};
    for (int i = 0; i < 2; i++) {
        if (str_empty(addrs[i]))
            continue;
        if (listener_bind(&s->l[i], addrs[i], err) != 0)
            goto out;
        if (listener_start(s, &s->l[i], workers, addrs[i][0] == '[', err) != 0)
            goto out;
        log_msg(LOG_INFO, "event=http_listen scheme=%s addr=%s port=%d workers=%u",
                i ? "https" : "http", addrs[i], s->l[i].port, workers);
    }
    *out = s;
    s = NULL;
    rc = 0;
out:
    if (s != NULL) {
        if (sync_ok) {
            http_server_stop(s);
        } else {
            free(s);
        }
    }
    return rc;
}

int http_server_port(const http_server *s)
{
    return s->l[0].port;
}

int http_server_tls_port(const http_server *s)
{
    return s->l[1].port;
}

void http_server_stop(http_server *s)
{
    if (s == NULL)
        return;
    atomic_store(&s->stopping, true);
    for (int i = 0; i < 2; i++)
        if (s->l[i].d != NULL)
            s->l[i].qfd = MHD_quiesce_daemon(s->l[i].d);

    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += STOP_GRACE_S;
    pthread_mutex_lock(&s->mu);
    while (s->inflight > 0)
        if (pthread_cond_timedwait(&s->cv, &s->mu, &deadline) == ETIMEDOUT)
            break;
    unsigned left = s->inflight;
    pthread_mutex_unlock(&s->mu);
    if (left > 0)
        log_msg(LOG_WARN, "event=http_stop_timeout inflight=%u grace_s=%d", left, STOP_GRACE_S);

    for (int i = 0; i < 2; i++) {
        listener *l = &s->l[i];
        if (l->d != NULL)
            MHD_stop_daemon(l->d);
        if (l->qfd >= 0)
            close(l->qfd);
        if (l->fd >= 0)
            close(l->fd);
        free(l->cert);
        if (l->key != NULL)
            explicit_bzero(l->key, l->key_len);
        free(l->key);
    }
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* Request helpers -------------------------------------------------------------------------- */

const char *http_header(const http_req *rq, const char *name)
{
    if (rq == NULL || rq->conn == NULL)
        return NULL;
    return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

const char *http_query(const http_req *rq, const char *name)
{
    if (rq == NULL || rq->conn == NULL)
        return NULL;
    return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
}
