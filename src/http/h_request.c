/* h_request.c — requests and their approval (DESIGN.md §5 requests). */
#include <stdlib.h>
#include <string.h>

#include "http/app.h"
#include "http/h_util.h"
#include "service/order.h"

json_t *request_json(const cm_request *r)
{
    json_t *j = json_pack("{s:I,s:I,s:s,s:s,s:I,s:s,s:o}", "id", (json_int_t)r->id, "order_id",
                          (json_int_t)r->order_id, "type", r->type, "status", r->status,
                          "requester_id", (json_int_t)r->requester_id, "comments", r->comments,
                          "date", json_time(r->created_at));
    if (j == NULL)
        return NULL;
    if (r->processor_id > 0 || r->processed_at > 0) {
        json_object_set_new(j, "processor_id", json_integer(r->processor_id));
        json_object_set_new(j, "processor_comment", json_string(r->processor_comment));
        json_object_set_new(j, "date_processed", json_time(r->processed_at));
    }
    if (strcmp(r->type, "revoke") == 0) {
        json_object_set_new(j, "revocation_reason",
                            json_string(revocation_reason_name(r->revocation_reason)));
        if (r->certificate_id > 0)
            json_object_set_new(j, "certificate_id", json_integer(r->certificate_id));
    }
    return j;
}

static int h_request_list(void *app, http_req *rq, http_resp *rs)
{
    static const char *const sortable[] = {"id", "created_at", "status", "type", NULL};
    static const char *const filterable[] = {"status", "type", "order_id", NULL};
    cm_err err;
    cm_svc svc;
    http_list hl;
    cm_list_opts lo;
    cm_request *list = NULL;
    size_t n = 0;
    int64_t total = 0;
    if (h_list_opts(rq, sortable, filterable, &hl, &lo, &err) != 0)
        return h_fail(rs, &err);
    if (app_svc(app, rq, &svc) != 0)
        return -1;
    if (svc_request_list(&svc, &lo, &list, &n, &total, &err) != 0)
        return h_fail(rs, &err);
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(items, request_json(&list[i]));
    free(list);
    return h_reply(rs, 200, h_page_json("requests", items, total, &hl));
}

static int h_request_get(void *app, http_req *rq, http_resp *rs)
{
    cm_err err;
    cm_svc svc;
    int64_t id;
    cm_request r;
    if (h_path_id(rq, 0, "request", &id, &err) != 0)
        return h_fail(rs, &err);
    if (app_svc(app, rq, &svc) != 0)
        return -1;
    if (svc_request_get(&svc, id, &r, &err) != 0)
        return h_fail(rs, &err);
    return h_reply(rs, 200, request_json(&r));
}

static int h_request_status(void *app, http_req *rq, http_resp *rs)
{
    static const char *const keys[] = {"status", "processor_comment", NULL};
    cm_err err;
    cm_svc svc;
    int64_t id;
    json_t *body;
    const char *status = NULL, *comment = NULL;
    if (h_path_id(rq, 0, "request", &id, &err) != 0 || http_json_body(rq, &body, &err) != 0 ||
        json_only_keys(body, keys, &err) != 0 ||
        json_get_str(body, "status", true, 16, &status, &err) != 0 ||
        json_get_text(body, "processor_comment", false, 1000, &comment, &err) != 0)
        return h_fail(rs, &err);
    if (app_svc(app, rq, &svc) != 0)
        return -1;
    if (svc_request_process(&svc, id, status, comment, &err) != 0)
        return h_fail(rs, &err);
    rs->status = 204;
    return 0;
}

const http_route routes_request[] = {
    {"GET", "/services/v2/request", HTTP_AUTH_KEY, h_request_list},
    {"GET", "/services/v2/request/{id}", HTTP_AUTH_KEY, h_request_get},
    {"PUT", "/services/v2/request/{id}/status", HTTP_AUTH_KEY, h_request_status},
};
const size_t n_routes_request = sizeof routes_request / sizeof routes_request[0];
