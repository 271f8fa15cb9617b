/* h_util.h — small helpers shared by the resource handlers: ids in paths, list parameters,
 * pages. */
#ifndef CM_HTTP_H_UTIL_H
#define CM_HTTP_H_UTIL_H

#include "http/http.h"
#include "store/store.h"

/* The positive numeric id in path parameter `i`; else `invalid_path` (400). */
int h_path_id(const http_req *rq, size_t i, const char *what, int64_t *id, cm_err *err);

/* Parses list parameters (http_list_params) into the store's list options; the strings stay
 * owned by rq->pool. */
int h_list_opts(const http_req *rq, const char *const *sortable, const char *const *filterable,
                http_list *hl, cm_list_opts *o, cm_err *err);

/* {"<name>":[…],"page":{"total","limit","offset"}}; takes `items`. */
json_t *h_page_json(const char *name, json_t *items, int64_t total, const http_list *hl);

/* Answers `j` (taken) with `status`, or 503 when building it ran out of memory (j == NULL).
 * Returns 0. */
int h_reply(http_resp *rs, int status, json_t *j);

/* Answers the error. Returns 0. */
int h_fail(http_resp *rs, const cm_err *err);

/* The JSON of one certificate (history and certificate info; h_order.c). */
json_t *cert_json(const cm_cert_row *c);
/* A JSON array of certificates (history, duplicates, reissues). */
json_t *cert_list_json(const cm_cert_row *list, size_t n);

/* The JSON of one request (h_request.c). */
json_t *request_json(const cm_request *r);

#endif
