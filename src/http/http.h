/* http.h — the HTTP layer's server core: listeners (libmicrohttpd), the route table,
 * authentication before any handler, request bodies, JSON in and out, list parameters and the
 * one mapping of error codes to HTTP statuses. Resource handlers (one file per resource group)
 * are written against this header only. */
#ifndef CM_HTTP_HTTP_H
#define CM_HTTP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "service/caller.h"
#include "util/err.h"
#include "util/pool.h"

/* Requests and responses ------------------------------------------------------------------- */

#define HTTP_MAX_PARAMS 8

typedef struct http_req {
    const char *method;                  /* "GET", … */
    const char *path;                    /* decoded path without the query */
    const char *params[HTTP_MAX_PARAMS]; /* the {…} segments of the route pattern, in order,
                                            percent-decoded; a trailing {*} gives the rest */
    size_t n_params;
    const unsigned char *body; /* NUL-terminated copy, body_len bytes ("" when none) */
    size_t body_len;
    cm_caller caller;    /* filled by authentication */
    cm_pool *pool;       /* freed after the response is sent */
    char request_id[17]; /* random hex, also in the access log and X-Request-Id */
    void *conn;          /* struct MHD_Connection *, for header/query lookup */
} http_req;

typedef struct http_resp {
    int status;
    json_t *json;        /* taken: dumped compactly then json_decref'd */
    unsigned char *data; /* or raw bytes (owned by the pool or static; copied) */
    size_t data_len;
    const char *content_type;  /* for data; default application/octet-stream */
    const char *filename;      /* sets Content-Disposition: attachment */
    const char *cache_control; /* optional; default no-store */
} http_resp;

/* Fills rs and returns 0; or returns -1, after http_error(rs, …) or leaving rs untouched (the
 * server then answers 500 internal_error). */
typedef int (*http_handler)(void *app, http_req *rq, http_resp *rs);

/* Routes ----------------------------------------------------------------------------------- */

enum { HTTP_AUTH_NONE, HTTP_AUTH_KEY, HTTP_AUTH_OPERATOR };

typedef struct http_route {
    const char *method;  /* "GET", "POST", "PUT", "DELETE" */
    const char *pattern; /* "/services/v2/order/certificate/{id}/duplicate"; a {x} matches one
                            non-empty segment; a trailing "/{*}" matches the rest (e.g. /ocsp/{*}),
                            possibly empty */
    int auth;            /* HTTP_AUTH_* */
    http_handler handler;
} http_route;

/* Request bodies of POST/PUT/PATCH must be application/json, except: routes whose pattern starts
 * with "/ocsp" also take application/ocsp-request, and "/acme" also application/jose+json. */

/* Server ----------------------------------------------------------------------------------- */

typedef struct http_server http_server;

typedef struct http_server_opts {
    const char *listen;        /* "127.0.0.1:8080", "[::1]:8080" or NULL/"" for none; port 0
                                  picks a free port (see http_server_port) */
    const char *tls_listen;    /* "127.0.0.1:8443" or NULL/"" */
    const char *tls_cert_file; /* PEM chain for tls_listen */
    const char *tls_key_file;  /* PEM key for tls_listen, unencrypted */
    int workers;               /* thread pool size; 0 = number of online CPUs */
    size_t max_body;           /* larger bodies: 413 payload_too_large, handler never called */
    const http_route *routes;  /* not copied: must outlive the server */
    size_t n_routes;
    void *app; /* passed to handlers and authenticate */
    /* Maps the X-DC-DEVKEY value to rq->caller; returns 0, or -1 with err set (→ 401
     * `unauthorized` for a missing/unknown key; another code maps through http_status_for).
     * Called before every route whose auth is not NONE; for HTTP_AUTH_OPERATOR the server then
     * requires caller.operator (else 403 `forbidden`). Runs on a worker thread. */
    int (*authenticate)(void *app, http_req *rq, const char *devkey, cm_err *err);
} http_server_opts;

/* Binds the listeners and starts serving. On success *out is the server (stop and free it with
 * http_server_stop). Errors: `config_invalid` (address, workers, routes), `listen_failed`
 * (bind), `file_unreadable`/`file_too_large` (TLS files), `http_start_failed`. */
int http_server_start(const http_server_opts *o, http_server **out, cm_err *err);

/* The bound port of the HTTP / HTTPS listener; 0 when that listener is not configured. */
int http_server_port(const http_server *s);
int http_server_tls_port(const http_server *s);

/* Graceful stop: stop accepting, let in-flight requests finish (at most 30 s), then close every
 * connection and free s. NULL is a no-op. Touches no signals. */
void http_server_stop(http_server *s);

/* Request helpers -------------------------------------------------------------------------- */

/* A request header (case-insensitive name); NULL when absent. Owned by the connection: valid
 * until the response is sent. */
const char *http_header(const http_req *rq, const char *name);

/* A percent-decoded query parameter; NULL when absent. Valid until the response is sent. */
const char *http_query(const http_req *rq, const char *name);

/* Parses the body as one JSON object (≤ max_body already; duplicate keys rejected, nesting at
 * most 32 deep). Errors: `invalid_json` (400) with the jansson position, `body_required`. The
 * result is owned by rq->pool. */
int http_json_body(http_req *rq, json_t **out, cm_err *err);

/* Typed field getters on an object; `path` may be dotted ("certificate.common_name").
 * Missing + required → `field_required`; wrong type → `field_invalid`; strings longer than
 * maxlen bytes or with control characters → `field_invalid`; messages name the field. Return 0
 * when absent-and-optional (out untouched) or present-and-valid. Results point into `o`. */
int json_get_str(json_t *o, const char *path, bool required, size_t maxlen, const char **out,
                 cm_err *err);
/* Like json_get_str but allows line breaks and tabs (PEM blocks, comments). */
int json_get_text(json_t *o, const char *path, bool required, size_t maxlen, const char **out,
                  cm_err *err);
int json_get_int(json_t *o, const char *path, bool required, int64_t min, int64_t max, int64_t *out,
                 cm_err *err);
int json_get_bool(json_t *o, const char *path, bool required, bool *out, cm_err *err);
/* The array itself (borrowed reference), at most maxn items. */
int json_get_array(json_t *o, const char *path, bool required, size_t maxn, json_t **out,
                   cm_err *err);
/* The object itself (borrowed reference). */
int json_get_object(json_t *o, const char *path, bool required, json_t **out, cm_err *err);

/* Rejects unknown keys of object `o`: `field_unknown` naming the key. `allowed` ends with NULL.
 * A non-object `o` is `field_invalid`. */
int json_only_keys(json_t *o, const char *const *allowed, cm_err *err);

/* List parameters (DESIGN.md §5): offset ≥ 0 (default 0), limit 1..1000 (default 100), sort one
 * of `sortable` with optional leading '-' (default NULL), filters[field]=value for fields in
 * `filterable` (each at most once, value ≤ 256 bytes). Both lists end with NULL and may be NULL.
 * Errors `field_invalid` (400). Strings are owned by rq->pool. */
#define HTTP_MAX_FILTERS 8
typedef struct http_list {
    int64_t offset, limit;
    const char *sort;
    bool desc;
    const char *filter_names[HTTP_MAX_FILTERS];
    const char *filter_values[HTTP_MAX_FILTERS];
    size_t n_filters;
} http_list;
int http_list_params(const http_req *rq, const char *const *sortable, const char *const *filterable,
                     http_list *out, cm_err *err);

/* Response helpers ------------------------------------------------------------------------- */

/* Sets status and JSON body; takes `body` (replacing and freeing any earlier one). */
void http_json(http_resp *rs, int status, json_t *body);

/* {"errors":[{"code":…,"message":…}]} with the status of err->code (http_status_for); an unset
 * err gives 500 internal_error. */
void http_error(http_resp *rs, const cm_err *err);

/* The HTTP status of an error code (errmap.c): 400 for codes the table does not know. */
int http_status_for(const char *code);

#endif
