/* routes.c — joins the route tables of the resource files, and the glue every handler uses. */
#include <stdlib.h>
#include <string.h>

#include "http/app.h"
#include "util/clock.h"

http_route *app_routes(size_t *n)
{
    const struct {
        const http_route *r;
        size_t n;
    } t[] = {
        {routes_status, n_routes_status}, {routes_account, n_routes_account},
        {routes_org, n_routes_org},       {routes_domain, n_routes_domain},
        {routes_order, n_routes_order},   {routes_request, n_routes_request},
        {routes_cert, n_routes_cert},     {routes_lifecycle, n_routes_lifecycle},
    };
    size_t total = 0;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        total += t[i].n;
    http_route *all = calloc(total, sizeof *all);
    if (all == NULL)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        memcpy(all + k, t[i].r, t[i].n * sizeof *all);
        k += t[i].n;
    }
    *n = total;
    return all;
}

static void put_store(void *arg)
{
    void **pair = arg;
    store_pool_put(pair[0], pair[1]);
}

int app_svc(cm_app *app, http_req *rq, cm_svc *svc)
{
    memset(svc, 0, sizeof *svc);
    svc->cfg = &app->cfg;
    svc->pki = app->pki;
    svc->caller = rq->caller;
    svc->st = store_pool_get(app->stores);
    void **pair = pool_alloc(rq->pool, 2 * sizeof(void *));
    if (pair == NULL) {
        store_pool_put(app->stores, svc->st);
        svc->st = NULL;
        return -1;
    }
    pair[0] = app->stores;
    pair[1] = svc->st;
    return pool_defer(rq->pool, put_store, pair);
}

int app_authenticate(void *app, http_req *rq, const char *devkey, cm_err *err)
{
    cm_app *a = app;
    cm_store *st = store_pool_get(a->stores);
    int rc = svc_authenticate(st, devkey, &rq->caller, err);
    store_pool_put(a->stores, st);
    return rc;
}

json_t *json_time(int64_t t)
{
    if (t == 0)
        return json_null();
    char buf[32];
    clock_format_iso(t, buf, sizeof buf);
    return json_string(buf);
}
