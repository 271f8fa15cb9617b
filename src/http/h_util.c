/* h_util.c — helpers shared by the resource handlers. */
#include "http/h_util.h"

#include <limits.h>
#include <string.h>

#include "util/str.h"

int h_path_id(const http_req *rq, size_t i, const char *what, int64_t *id, cm_err *err)
{
    long v;
    if (i >= rq->n_params || str_to_long(rq->params[i], 1, LONG_MAX, &v) != 0)
        return cm_err_set(err, "invalid_path",
                          "the %s id in the path must be a positive whole number", what);
    *id = v;
    return 0;
}

int h_list_opts(const http_req *rq, const char *const *sortable, const char *const *filterable,
                http_list *hl, cm_list_opts *o, cm_err *err)
{
    if (http_list_params(rq, sortable, filterable, hl, err) != 0)
        return -1;
    memset(o, 0, sizeof *o);
    o->offset = hl->offset;
    o->limit = hl->limit;
    o->sort = hl->sort;
    o->desc = hl->desc;
    for (size_t i = 0; i < hl->n_filters && i < sizeof o->filter_names / sizeof o->filter_names[0];
         i++) {
        o->filter_names[i] = hl->filter_names[i];
        o->filter_values[i] = hl->filter_values[i];
        o->n_filters++;
    }
    return 0;
}

json_t *h_page_json(const char *name, json_t *items, int64_t total, const http_list *hl)
{
    if (items == NULL)
        return NULL;
    return json_pack("{s:o,s:{s:I,s:I,s:I}}", name, items, "page", "total", (json_int_t)total,
                     "limit", (json_int_t)hl->limit, "offset", (json_int_t)hl->offset);
}

int h_reply(http_resp *rs, int status, json_t *j)
{
    if (j == NULL) { /* json_pack fails only when out of memory */
        cm_err e;
        cm_err_set(&e, "out_of_memory", "out of memory; try again");
        http_error(rs, &e);
        return 0;
    }
    http_json(rs, status, j);
    return 0;
}

int h_fail(http_resp *rs, const cm_err *err)
{
    http_error(rs, err);
    return 0;
}
