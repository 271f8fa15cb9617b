/* json.c — JSON bodies in, typed field getters, list parameters, and JSON/error responses out.
 * Every refusal names the field and says what is expected, so a client can fix its request from
 * the message alone. */
#include "http/http.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <microhttpd.h>

#include "util/str.h"

#define MAX_DEPTH      32  /* nesting of request bodies; the API needs 3 or 4 */
#define MAX_PATH       128 /* dotted field paths */
#define MAX_FILTER_VAL 256

/* Field and key names as they may appear in a message: printable ASCII, at most 64 chars. */
static void printable(const char *in, char *out, size_t outsz)
{
    size_t o = 0;
    for (size_t i = 0; in[i] != '\0' && o + 1 < outsz; i++) {
        unsigned char ch = (unsigned char)in[i];
        if (i >= 64) {
            if (o + 4 < outsz) {
                memcpy(out + o, "...", 3);
                o += 3;
            }
            break;
        }
        out[o++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
    }
    out[o] = '\0';
}

static void decref_cb(void *j)
{
    json_decref(j);
}

static int depth_ok(json_t *j, int left)
{
    if (left < 0)
        return 0;
    if (json_is_object(j)) {
        const char *k;
        json_t *v;
        json_object_foreach(j, k, v)
        {
            if (!depth_ok(v, left - 1))
                return 0;
        }
    } else if (json_is_array(j)) {
        for (size_t i = 0; i < json_array_size(j); i++)
            if (!depth_ok(json_array_get(j, i), left - 1))
                return 0;
    }
    return 1;
}

int http_json_body(http_req *rq, json_t **out, cm_err *err)
{
    int rc = -1;
    json_t *root = NULL;
    if (rq->body == NULL || rq->body_len == 0) {
        cm_err_set(err, "body_required", "this request needs a JSON object as its body");
        goto out;
    }
    json_error_t je;
    root = json_loadb((const char *)rq->body, rq->body_len, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL) {
        cm_err_set(err, "invalid_json", "the body is not valid JSON: line %d, column %d: %s",
                   je.line, je.column, je.text);
        goto out;
    }
    if (!json_is_object(root)) {
        cm_err_set(err, "invalid_json", "the body must be a JSON object ({…})");
        goto out;
    }
    if (!depth_ok(root, MAX_DEPTH)) {
        cm_err_set(err, "invalid_json", "the body nests deeper than %d levels", MAX_DEPTH);
        goto out;
    }
    if (pool_defer(rq->pool, decref_cb, root) != 0) {
        cm_err_set(err, "out_of_memory", "out of memory; try again");
        goto out;
    }
    *out = root;
    root = NULL;
    rc = 0;
out:
    json_decref(root);
    return rc;
}

/* Finds `path` under o. Returns 0 with *val (NULL when absent), or -1 when a step of the path is
 * not an object. */
static int lookup(json_t *o, const char *path, json_t **val, cm_err *err)
{
    char buf[MAX_PATH], shown[80];
    printable(path, shown, sizeof shown);
    if (str_copy(buf, sizeof buf, path) != 0)
        return cm_err_set(err, "internal_error", "field path %s is too long", shown);
    json_t *cur = o;
    char *seg = buf;
    for (;;) {
        char *dot = strchr(seg, '.');
        if (dot != NULL)
            *dot = '\0';
        if (!json_is_object(cur)) {
            if (cur == o)
                return cm_err_set(err, "field_invalid", "the body must be a JSON object");
            /* name the part of the path that was not an object */
            char part[MAX_PATH];
            snprintf(part, sizeof part, "%.*s", (int)(seg - buf - 1), path);
            printable(part, shown, sizeof shown);
            return cm_err_set(err, "field_invalid", "%s must be an object", shown);
        }
        cur = json_object_get(cur, seg);
        if (cur == NULL || dot == NULL)
            break;
        seg = dot + 1;
    }
    *val = cur;
    return 0;
}

/* Common head of the getters: 1 = present (*val set), 0 = absent and optional, -1 = error. */
static int field(json_t *o, const char *path, bool required, json_t **val, cm_err *err)
{
    json_t *v = NULL;
    if (lookup(o, path, &v, err) != 0)
        return -1;
    if (v == NULL || json_is_null(v)) {
        if (!required)
            return 0;
        char shown[80];
        printable(path, shown, sizeof shown);
        return cm_err_set(err, "field_required", "%s is required", shown);
    }
    *val = v;
    return 1;
}

static int bad_type(const char *path, const char *what, cm_err *err)
{
    char shown[80];
    printable(path, shown, sizeof shown);
    return cm_err_set(err, "field_invalid", "%s must be %s", shown, what);
}

/* True when s (n bytes) has C0/C1 control characters or DEL; \n \r \t pass when allow_ws. */
static bool has_controls(const char *s, size_t n, bool allow_ws)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (allow_ws && (ch == '\n' || ch == '\r' || ch == '\t'))
            continue;
        if (ch < 0x20 || ch == 0x7f)
            return true;
        /* U+0080..U+009F are C2 80..C2 9F in UTF-8 (jansson validated the encoding) */
        if (ch == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] <= 0x9f)
            return true;
    }
    return false;
}

static int get_string(json_t *o, const char *path, bool required, size_t maxlen, bool text,
                      const char **out, cm_err *err)
{
    json_t *v = NULL;
    int r = field(o, path, required, &v, err);
    if (r <= 0)
        return r;
    if (!json_is_string(v))
        return bad_type(path, "a string", err);
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    char shown[80];
    printable(path, shown, sizeof shown);
    if (n > maxlen)
        return cm_err_set(err, "field_invalid", "%s must be at most %zu bytes long", shown, maxlen);
    if (strlen(s) != n || has_controls(s, n, text))
        return cm_err_set(err, "field_invalid", "%s must not contain control characters%s", shown,
                          text ? " (other than line breaks and tabs)" : "");
    *out = s;
    return 0;
}

int json_get_str(json_t *o, const char *path, bool required, size_t maxlen, const char **out,
                 cm_err *err)
{
    return get_string(o, path, required, maxlen, false, out, err);
}

int json_get_text(json_t *o, const char *path, bool required, size_t maxlen, const char **out,
                  cm_err *err)
{
    return get_string(o, path, required, maxlen, true, out, err);
}

int json_get_int(json_t *o, const char *path, bool required, int64_t min, int64_t max, int64_t *out,
                 cm_err *err)
{
    json_t *v = NULL;
    int r = field(o, path, required, &v, err);
    if (r <= 0)
        return r;
    if (!json_is_integer(v))
        return bad_type(path, "a whole number", err);
    json_int_t n = json_integer_value(v);
    if (n < min || n > max) {
        char shown[80];
        printable(path, shown, sizeof shown);
        return cm_err_set(err, "field_invalid", "%s must be between %" PRId64 " and %" PRId64,
                          shown, min, max);
    }
    *out = (int64_t)n;
    return 0;
}

int json_get_bool(json_t *o, const char *path, bool required, bool *out, cm_err *err)
{
    json_t *v = NULL;
    int r = field(o, path, required, &v, err);
    if (r <= 0)
        return r;
    if (!json_is_boolean(v))
        return bad_type(path, "true or false", err);
    *out = json_is_true(v);
    return 0;
}

int json_get_array(json_t *o, const char *path, bool required, size_t maxn, json_t **out,
                   cm_err *err)
{
    json_t *v = NULL;
    int r = field(o, path, required, &v, err);
    if (r <= 0)
        return r;
    if (!json_is_array(v))
        return bad_type(path, "an array", err);
    if (json_array_size(v) > maxn) {
        char shown[80];
        printable(path, shown, sizeof shown);
        return cm_err_set(err, "field_invalid", "%s must have at most %zu items", shown, maxn);
    }
    *out = v;
    return 0;
}

int json_get_object(json_t *o, const char *path, bool required, json_t **out, cm_err *err)
{
    json_t *v = NULL;
    int r = field(o, path, required, &v, err);
    if (r <= 0)
        return r;
    if (!json_is_object(v))
        return bad_type(path, "an object", err);
    *out = v;
    return 0;
}

int json_only_keys(json_t *o, const char *const *allowed, cm_err *err)
{
    if (!json_is_object(o))
        return cm_err_set(err, "field_invalid", "expected a JSON object");
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        bool ok = false;
        for (size_t i = 0; allowed != NULL && allowed[i] != NULL && !ok; i++)
            ok = strcmp(allowed[i], k) == 0;
        if (!ok) {
            char shown[80];
            printable(k, shown, sizeof shown);
            return cm_err_set(err, "field_unknown", "unknown field \"%s\"; remove it", shown);
        }
    }
    return 0;
}

/* List parameters ---------------------------------------------------------------------------- */

static bool in_list(const char *const *list, const char *s)
{
    for (size_t i = 0; list != NULL && list[i] != NULL; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}

/* "a, b, c" of a NULL-terminated list, or "none". */
static void join(const char *const *list, char *buf, size_t bufsz)
{
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; list != NULL && list[i] != NULL; i++) {
        int n = snprintf(buf + o, bufsz - o, "%s%s", i ? ", " : "", list[i]);
        if (n < 0 || (size_t)n >= bufsz - o)
            break;
        o += (size_t)n;
    }
    if (buf[0] == '\0')
        snprintf(buf, bufsz, "none");
}

typedef struct filter_scan {
    const http_req *rq;
    const char *const *filterable;
    http_list *out;
    cm_err *err;
    int rc;
} filter_scan;

static enum MHD_Result filter_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
    (void)kind;
    filter_scan *fs = cls;
    static const char pre[] = "filters[";
    size_t kl = strlen(key);
    if (kl < sizeof pre || strncmp(key, pre, sizeof pre - 1) != 0 || key[kl - 1] != ']')
        return MHD_YES; /* not a filter: other parameters are the handler's business */
    char name[64], shown[80];
    printable(key, shown, sizeof shown);
    size_t nl = kl - (sizeof pre - 1) - 1;
    if (nl == 0 || nl >= sizeof name) {
        fs->rc = cm_err_set(fs->err, "field_invalid", "%s is not a filter of this list", shown);
        return MHD_NO;
    }
    memcpy(name, key + sizeof pre - 1, nl);
    name[nl] = '\0';
    if (!in_list(fs->filterable, name)) {
        char names[512];
        join(fs->filterable, names, sizeof names);
        fs->rc = cm_err_set(fs->err, "field_invalid",
                            "%s is not a filter of this list; filters: %s", shown, names);
        return MHD_NO;
    }
    for (size_t i = 0; i < fs->out->n_filters; i++)
        if (strcmp(fs->out->filter_names[i], name) == 0) {
            fs->rc = cm_err_set(fs->err, "field_invalid", "%s is given twice", shown);
            return MHD_NO;
        }
    if (value == NULL || value[0] == '\0') {
        fs->rc = cm_err_set(fs->err, "field_invalid", "%s needs a value", shown);
        return MHD_NO;
    }
    size_t vl = strlen(value);
    if (vl > MAX_FILTER_VAL || has_controls(value, vl, false)) {
        fs->rc = cm_err_set(fs->err, "field_invalid",
                            "%s must be at most %d bytes without control characters", shown,
                            MAX_FILTER_VAL);
        return MHD_NO;
    }
    if (fs->out->n_filters >= HTTP_MAX_FILTERS) {
        fs->rc =
            cm_err_set(fs->err, "field_invalid", "at most %d filters at once", HTTP_MAX_FILTERS);
        return MHD_NO;
    }
    const char *n = pool_strdup(fs->rq->pool, name), *v = pool_strdup(fs->rq->pool, value);
    if (n == NULL || v == NULL) {
        fs->rc = cm_err_set(fs->err, "out_of_memory", "out of memory; try again");
        return MHD_NO;
    }
    fs->out->filter_names[fs->out->n_filters] = n;
    fs->out->filter_values[fs->out->n_filters] = v;
    fs->out->n_filters++;
    return MHD_YES;
}

static int whole_param(const http_req *rq, const char *name, long min, long max, long *v,
                       cm_err *err)
{
    const char *s = http_query(rq, name);
    if (s == NULL)
        return 0;
    if (str_to_long(s, min, max, v) != 0)
        return cm_err_set(err, "field_invalid", "%s must be a whole number from %ld to %ld", name,
                          min, max);
    return 0;
}

int http_list_params(const http_req *rq, const char *const *sortable, const char *const *filterable,
                     http_list *out, cm_err *err)
{
    http_list l = {.offset = 0, .limit = 100};
    long v = 0;
    if (whole_param(rq, "offset", 0, 1000000000L, &v, err) != 0)
        return -1;
    l.offset = v;
    v = l.limit;
    if (whole_param(rq, "limit", 1, 1000, &v, err) != 0)
        return -1;
    l.limit = v;
    const char *sort = http_query(rq, "sort");
    if (sort != NULL) {
        l.desc = sort[0] == '-';
        const char *name = sort + (l.desc ? 1 : 0);
        if (!in_list(sortable, name)) {
            char names[512], shown[80];
            join(sortable, names, sizeof names);
            printable(sort, shown, sizeof shown);
            return cm_err_set(err, "field_invalid",
                              "sort \"%s\" is not possible here; sort by one of: %s (prefix - "
                              "for descending)",
                              shown, names);
        }
        l.sort = pool_strdup(rq->pool, name);
        if (l.sort == NULL)
            return cm_err_set(err, "out_of_memory", "out of memory; try again");
    }
    if (rq->conn != NULL) {
        filter_scan fs = {.rq = rq, .filterable = filterable, .out = &l, .err = err, .rc = 0};
        MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, filter_arg, &fs);
        if (fs.rc != 0)
            return -1;
    }
    *out = l;
    return 0;
}

/* Responses ---------------------------------------------------------------------------------- */

void http_json(http_resp *rs, int status, json_t *body)
{
    if (rs->json != NULL && rs->json != body)
        json_decref(rs->json);
    rs->status = status;
    rs->json = body;
    rs->data = NULL;
    rs->data_len = 0;
}

void http_error(http_resp *rs, const cm_err *err)
{
    static unsigned char oom[] =
        "{\"errors\":[{\"code\":\"out_of_memory\",\"message\":\"out of memory; try again\"}]}";
    const char *code = "internal_error", *msg = "internal error";
    if (cm_err_isset(err)) {
        code = err->code;
        msg = err->msg;
    }
    int status = http_status_for(code);
    json_t *m = json_string(msg);
    if (m == NULL) {
        /* not UTF-8 (a message quoting raw input): keep the ASCII, mark the rest */
        char ascii[sizeof err->msg];
        size_t i = 0;
        for (; msg[i] != '\0' && i + 1 < sizeof ascii; i++)
            ascii[i] = (unsigned char)msg[i] < 0x80 ? msg[i] : '?';
        ascii[i] = '\0';
        m = json_string(ascii);
    }
    json_t *body = json_pack("{s:[{s:s,s:o*}]}", "errors", "code", code, "message", m);
    if (body == NULL) {
        http_json(rs, 503, NULL);
        rs->data = oom;
        rs->data_len = sizeof oom - 1;
        rs->content_type = "application/json";
        return;
    }
    http_json(rs, status, body);
}
