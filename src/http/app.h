/* app.h — the running server's shared state, handed to every handler as `void *app`, and the
 * route tables of the resource files (one file per resource group, DESIGN.md §2 "http/"). */
#ifndef CM_HTTP_APP_H
#define CM_HTTP_APP_H

#include <stdint.h>

#include "http/http.h"
#include "pki/pki.h"
#include "service/service.h"
#include "store/store.h"
#include "util/config.h"

typedef struct cm_app {
    cm_config cfg;
    cm_pki *pki;
    cm_store_pool *stores;
    int64_t started_at;
} cm_app;

/* Fills `svc` for a request: configuration, engine, the authenticated caller, and a store
 * connection from the pool that goes back when the request's pool is freed. Returns 0 (it
 * only blocks while every connection is busy). */
int app_svc(cm_app *app, http_req *rq, cm_svc *svc);

/* Handler shape: parse → validate input shape → one service call → JSON. A handler that fails
 * fills the response with http_error(rs, &err) and returns 0. */

/* Route tables, one per resource file; routes.c joins them in this order. */
#define ROUTE_TABLE(name)                                                                     \
    extern const http_route routes_##name[];                                                  \
    extern const size_t n_routes_##name
ROUTE_TABLE(status);   /* h_status.c: /health, /crl, /ocsp, /ca, server platforms */
ROUTE_TABLE(account);  /* h_account.c: accounts, users, keys, settings, audit */
ROUTE_TABLE(org);      /* h_org.c: organisations, validation, contacts */
ROUTE_TABLE(domain);   /* h_domain.c: domains and their DCV */
ROUTE_TABLE(order);    /* h_order.c: orders, order DCV, cancel, history */
ROUTE_TABLE(request);  /* h_request.c: requests and approvals */
ROUTE_TABLE(cert);     /* h_cert.c: certificates, downloads, revocation */
ROUTE_TABLE(lifecycle); /* h_lifecycle.c: duplicates and reissues of an order */

/* All routes of the server: a malloc'd array the caller frees. */
http_route *app_routes(size_t *n);

/* Authenticates an X-DC-DEVKEY for the HTTP server (http_server_opts.authenticate). */
int app_authenticate(void *app, http_req *rq, const char *devkey, cm_err *err);

/* JSON for times: ISO 8601 text, or JSON null for 0. Owned by the caller (json_t). */
json_t *json_time(int64_t t);

#endif
