/* fuzz_json.c — libFuzzer target for request bodies (src/http/json.c): http_json_body on a stack
 * request with its own pool, then the typed getters on the dotted paths the handlers use, the
 * unknown-key check, and the error-to-JSON mapping of whatever they refused. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every error is turned into a response body, as the server does (messages quote input). */
static void answer(cm_err *err)
{
    http_resp rs;
    memset(&rs, 0, sizeof rs);
    http_error(&rs, err);
    if (rs.json == NULL && rs.data == NULL)
        abort();
    json_decref(rs.json);
    cm_err_clear(err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const top[] = {"certificate", "organization", "order_validity",
                                      "comments", "auto_renew", NULL};
    static const char *const cert[] = {"common_name", "dns_names", "csr", NULL};
    static const char *const strs[] = {"certificate.common_name", "organization.name", "x",
                                       "certificate..csr", ".", "a.b.c.d.e.f.g.h"};
    static const char *const ints[] = {"organization.id", "order_validity.years",
                                       "order_validity.days"};
    if (size > 65536)
        return 0;
    http_req rq;
    memset(&rq, 0, sizeof rq);
    rq.body = data;
    rq.body_len = size;
    rq.pool = pool_new();
    if (rq.pool == NULL)
        return 0;
    cm_err err;
    cm_err_clear(&err);
    json_t *root = NULL, *c = NULL, *a = NULL;
    if (http_json_body(&rq, &root, &err) != 0) {
        answer(&err);
        goto out;
    }
    const char *s = NULL;
    int64_t n = 0;
    bool b = false;
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        if (json_get_str(root, strs[i], i == 0, 64, &s, &err) != 0)
            answer(&err);
    if (json_get_text(root, "certificate.csr", false, 8192, &s, &err) != 0 ||
        json_get_text(root, "comments", false, 1024, &s, &err) != 0)
        answer(&err);
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        if (json_get_int(root, ints[i], false, 1, 3, &n, &err) != 0)
            answer(&err);
    if (json_get_bool(root, "auto_renew", true, &b, &err) != 0 ||
        json_only_keys(root, top, &err) != 0)
        answer(&err);
    if (json_get_object(root, "certificate", false, &c, &err) != 0 ||
        (c != NULL && json_only_keys(c, cert, &err) != 0))
        answer(&err);
    if (json_get_array(root, "certificate.dns_names", false, 100, &a, &err) != 0)
        answer(&err);
    for (size_t i = 0; a != NULL && i < json_array_size(a); i++)
        if (json_get_str(json_array_get(a, i), "x", false, 253, &s, &err) != 0)
            answer(&err); /* an item that is not an object: field_invalid, never a crash */
out:
    pool_free(rq.pool);
    return 0;
}
