/* cmd_common.c — what every client command shares: option parsing against a small spec, verb
 * dispatch with usage errors (exit 2), the lazily opened client, and human output (key: value
 * lines, tables) beside --json. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "util/str.h"

#define COMMON_OPTS "server= key= ca-file= json"
#define MAX_POS     16

typedef struct cli_opt {
    const char *name; /* points into argv; name_len bytes, not NUL-terminated */
    size_t name_len;
    const char *val; /* NULL for flags */
} cli_opt;

struct cli_ctx {
    const char *noun;
    const cli_verb *verb;
    const char *pos[MAX_POS];
    int n_pos;
    cli_opt *opts;
    int n_opts;
    bool json;
    cm_client *client;
};

static const char common_help[] =
    "options of every verb:\n"
    "  --server URL    the server, e.g. https://pki.example.com:8443 (else CERTMINT_SERVER,\n"
    "                  else \"server = URL\" in ~/.config/certmint/config)\n"
    "  --key KEY       the API key (else CERTMINT_KEY, else \"key = KEY\" in that file, which\n"
    "                  must then be readable by you alone: chmod 600)\n"
    "  --ca-file FILE  PEM roots to trust for https (else CERTMINT_CA_FILE, else ca_file)\n"
    "  --json          print the server's JSON answer (indented) instead of tables\n"
    "exit codes: 0 done, 1 refused or failed (certmint: CODE: MESSAGE on stderr), 2 usage\n";

/* The kind of option `name` in a spec: 0 unknown, 1 flag, 2 takes a value, 3 repeatable. */
static int spec_kind(const char *spec, const char *name, size_t len)
{
    for (const char *p = spec; p != NULL && *p != '\0';) {
        while (*p == ' ')
            p++;
        const char *end = p;
        while (*end != '\0' && *end != ' ' && *end != '=')
            end++;
        int kind = 1;
        const char *next = end;
        if (*next == '=') {
            kind = 2;
            next++;
            if (*next == '*') {
                kind = 3;
                next++;
            }
        }
        if ((size_t)(end - p) == len && len > 0 && strncmp(p, name, len) == 0)
            return kind;
        p = next;
    }
    return 0;
}

static void print_verb_usage(FILE *f, const cli_verb *v)
{
    fprintf(f, "usage: certmint %s\n", v->usage);
}

int cli_usage_verb(const cli_ctx *c, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "certmint: usage: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    if (c->verb != NULL)
        print_verb_usage(stderr, c->verb);
    return 2;
}

int cli_dispatch(int argc, char **argv, const cli_verb *verbs, size_t n_verbs, const char *help)
{
    cli_ctx c;
    memset(&c, 0, sizeof c);
    c.noun = argv[0];
    int rc = 2;
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
                      strcmp(argv[1], "help") == 0)) {
        fputs(help, stdout);
        fputs("\nverbs:\n", stdout);
        for (size_t i = 0; i < n_verbs; i++)
            fprintf(stdout, "  certmint %s\n", verbs[i].usage);
        fputs(common_help, stdout);
        return 0;
    }
    /* The verb: a named one, or the noun's default verb when argv[1] is none of them. */
    int first = 2;
    if (argc >= 2)
        for (size_t i = 0; i < n_verbs; i++)
            if (verbs[i].name != NULL && strcmp(verbs[i].name, argv[1]) == 0)
                c.verb = &verbs[i];
    if (c.verb == NULL) {
        for (size_t i = 0; i < n_verbs; i++)
            if (verbs[i].name == NULL)
                c.verb = &verbs[i];
        first = 1;
        if (c.verb == NULL) {
            if (argc < 2)
                fprintf(stderr, "certmint: usage: %s needs a verb\n", c.noun);
            else
                fprintf(stderr, "certmint: usage: unknown verb \"%.64s\" for %s\n", argv[1],
                        c.noun);
            for (size_t i = 0; i < n_verbs; i++)
                fprintf(stderr, "usage: certmint %s\n", verbs[i].usage);
            return 2;
        }
    }
    if ((c.opts = calloc((size_t)argc, sizeof *c.opts)) == NULL) {
        fprintf(stderr, "certmint: out_of_memory: out of memory\n");
        return 1;
    }
    bool no_more_opts = false;
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (!no_more_opts && strcmp(a, "--") == 0) {
            no_more_opts = true;
            continue;
        }
        if (!no_more_opts && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
            print_verb_usage(stdout, c.verb);
            fputs(common_help, stdout);
            rc = 0;
            goto out;
        }
        if (no_more_opts || strncmp(a, "--", 2) != 0) {
            if (c.n_pos >= MAX_POS || c.n_pos >= c.verb->max_pos) {
                rc = cli_usage_verb(&c, "unexpected argument \"%.64s\"", a);
                goto out;
            }
            c.pos[c.n_pos++] = a;
            continue;
        }
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t len = eq != NULL ? (size_t)(eq - name) : strlen(name);
        int kind = spec_kind(c.verb->opts, name, len);
        if (kind == 0)
            kind = spec_kind(COMMON_OPTS, name, len);
        if (kind == 0) {
            rc = cli_usage_verb(&c, "unknown option \"--%.*s\"", (int)(len > 64 ? 64 : len), name);
            goto out;
        }
        const char *val = NULL;
        if (kind == 1 && eq != NULL) {
            rc = cli_usage_verb(&c, "--%.*s takes no value", (int)(len > 64 ? 64 : len), name);
            goto out;
        }
        if (kind >= 2) {
            if (eq != NULL)
                val = eq + 1;
            else if (i + 1 < argc)
                val = argv[++i];
            else {
                rc = cli_usage_verb(&c, "--%.*s needs a value", (int)(len > 64 ? 64 : len), name);
                goto out;
            }
        }
        if (kind != 3)
            for (int j = 0; j < c.n_opts; j++)
                if (c.opts[j].name_len == len && strncmp(c.opts[j].name, name, len) == 0) {
                    rc = cli_usage_verb(&c, "--%.*s is given twice", (int)(len > 64 ? 64 : len),
                                        name);
                    goto out;
                }
        c.opts[c.n_opts++] = (cli_opt){.name = name, .name_len = len, .val = val};
    }
    if (c.n_pos < c.verb->min_pos) {
        rc = cli_usage_verb(&c, "missing argument");
        goto out;
    }
    c.json = arg_has(&c, "json");
    rc = c.verb->fn(&c);
out:
    client_close(c.client);
    free(c.opts);
    return rc;
}

const char *arg_pos(const cli_ctx *c, int i)
{
    return i >= 0 && i < c->n_pos ? c->pos[i] : NULL;
}

static const cli_opt *opt_find(const cli_ctx *c, const char *name)
{
    size_t len = strlen(name);
    const cli_opt *found = NULL;
    for (int i = 0; i < c->n_opts; i++)
        if (c->opts[i].name_len == len && strncmp(c->opts[i].name, name, len) == 0)
            found = &c->opts[i];
    return found;
}

const char *arg_get(const cli_ctx *c, const char *name)
{
    const cli_opt *o = opt_find(c, name);
    return o != NULL ? o->val : NULL;
}

bool arg_has(const cli_ctx *c, const char *name)
{
    return opt_find(c, name) != NULL;
}

size_t arg_all(const cli_ctx *c, const char *name, const char **out, size_t max)
{
    size_t len = strlen(name), n = 0;
    for (int i = 0; i < c->n_opts; i++)
        if (c->opts[i].name_len == len && strncmp(c->opts[i].name, name, len) == 0) {
            if (n < max)
                out[n] = c->opts[i].val;
            n++;
        }
    return n;
}

bool cli_json(const cli_ctx *c)
{
    return c->json;
}

int arg_long(const cli_ctx *c, const char *text, const char *what, long min, long max, long *out)
{
    if (text == NULL || str_to_long(text, min, max, out) != 0)
        return cli_usage_verb(c, "%s takes a whole number from %ld to %ld", what, min, max);
    return 0;
}

int arg_id(const cli_ctx *c, const char *text, const char *what, long long *out)
{
    long v = 0;
    if (text == NULL || str_to_long(text, 1, 9007199254740991L, &v) != 0)
        return cli_usage_verb(c, "%s must be a positive whole number, not \"%.40s\"", what,
                              text != NULL ? text : "");
    *out = v;
    return 0;
}

int cli_err(const cm_err *err, int code)
{
    return cli_fail(err, code);
}

int cli_client(cli_ctx *c, cm_client **out)
{
    cm_err err;
    cm_err_clear(&err);
    if (c->client == NULL) {
        cli_settings s;
        int rc = client_settings(arg_get(c, "server"), arg_get(c, "key"), arg_get(c, "ca-file"), &s,
                                 &err);
        if (rc == 0)
            rc = client_open(&s, &c->client, &err);
        explicit_bzero(s.key, sizeof s.key);
        if (rc != 0) {
            bool usage =
                strcmp(err.code, "server_required") == 0 || strcmp(err.code, "key_required") == 0;
            return cli_err(&err, usage ? 2 : 1);
        }
    }
    *out = c->client;
    return 0;
}

int cli_call(cli_ctx *c, const char *method, const char *path, const json_t *body, json_t **out)
{
    cm_client *cl = NULL;
    cm_err err;
    cm_err_clear(&err);
    *out = NULL;
    int rc = cli_client(c, &cl);
    if (rc != 0)
        return rc;
    if (client_call(cl, method, path, body, out, &err) != 0)
        return cli_err(&err, 1);
    return 0;
}

long cli_last_status(const cli_ctx *c)
{
    return client_last_status(c->client);
}

int cli_fetch(cli_ctx *c, const char *path, client_resp *resp)
{
    cm_client *cl = NULL;
    cm_err err;
    cm_err_clear(&err);
    int rc = cli_client(c, &cl);
    if (rc != 0)
        return rc;
    if (client_request(cl, "GET", path, NULL, resp, &err) != 0)
        return cli_err(&err, 1);
    if (resp->status < 200 || resp->status > 299) {
        client_error_from(resp, &err);
        client_resp_free(resp);
        return cli_err(&err, 1);
    }
    return 0;
}

int cli_path(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= size) {
        fprintf(stderr, "certmint: field_invalid: the request path is too long\n");
        return 1;
    }
    return 0;
}

int cli_query(char *buf, size_t size, const char *name, const char *value)
{
    char *esc = curl_easy_escape(NULL, value, 0);
    if (esc == NULL) {
        fprintf(stderr, "certmint: out_of_memory: out of memory\n");
        return 1;
    }
    size_t used = strlen(buf);
    int n = snprintf(buf + used, size - used, "%c%s=%s", strchr(buf, '?') ? '&' : '?', name, esc);
    curl_free(esc);
    if (n < 0 || (size_t)n >= size - used) {
        fprintf(stderr, "certmint: field_invalid: the request path is too long\n");
        return 1;
    }
    return 0;
}

int body_set(json_t *o, const char *key, json_t *v)
{
    if (v == NULL || json_object_set_new(o, key, v) != 0) {
        fprintf(stderr, "certmint: out_of_memory: out of memory\n");
        return 1;
    }
    return 0;
}

int body_str(const cli_ctx *c, json_t *o, const char *key, const char *val)
{
    if (val == NULL)
        return 0;
    json_t *s = json_string(val);
    if (s == NULL)
        return cli_usage_verb(c, "the value for %s is not UTF-8 text", key);
    return body_set(o, key, s);
}

int list_opts(const cli_ctx *c, char *path, size_t size)
{
    long v = 0;
    int rc = 0;
    const char *limit = arg_get(c, "limit"), *offset = arg_get(c, "offset");
    const char *sort = arg_get(c, "sort");
    if (limit != NULL && ((rc = arg_long(c, limit, "--limit", 1, 1000, &v)) != 0 ||
                          (rc = cli_query(path, size, "limit", limit)) != 0))
        return rc;
    if (offset != NULL && ((rc = arg_long(c, offset, "--offset", 0, 1000000000L, &v)) != 0 ||
                           (rc = cli_query(path, size, "offset", offset)) != 0))
        return rc;
    if (sort != NULL && (rc = cli_query(path, size, "sort", sort)) != 0)
        return rc;
    return 0;
}

/* ---- Output ---- */

void out_json(const json_t *j)
{
    json_dumpf(j, stdout, JSON_INDENT(2));
    fputc('\n', stdout);
}

/* Appends text to buf (NUL-terminated, `size` bytes), replacing control characters. */
static void buf_add(char *buf, size_t size, const char *s)
{
    size_t used = strlen(buf);
    for (; *s != '\0' && used + 1 < size; s++)
        buf[used++] = ((unsigned char)*s < 0x20 || *s == 0x7f) ? ' ' : *s;
    buf[used] = '\0';
}

static void text_into(json_t *v, char *buf, size_t size, int depth)
{
    char num[64];
    if (depth > 4) {
        buf_add(buf, size, "...");
        return;
    }
    switch (json_typeof(v)) {
    case JSON_STRING:
        buf_add(buf, size, json_string_value(v));
        break;
    case JSON_INTEGER:
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        buf_add(buf, size, num);
        break;
    case JSON_REAL:
        snprintf(num, sizeof num, "%g", json_real_value(v));
        buf_add(buf, size, num);
        break;
    case JSON_TRUE:
        buf_add(buf, size, "true");
        break;
    case JSON_FALSE:
        buf_add(buf, size, "false");
        break;
    case JSON_NULL:
        buf_add(buf, size, "-");
        break;
    case JSON_ARRAY: {
        size_t i;
        json_t *e;
        if (json_array_size(v) == 0)
            buf_add(buf, size, "-");
        json_array_foreach(v, i, e)
        {
            if (i > 0)
                buf_add(buf, size, json_is_object(e) ? "; " : ", ");
            text_into(e, buf, size, depth + 1);
        }
        break;
    }
    case JSON_OBJECT: {
        const char *k;
        json_t *e;
        json_t *id = json_object_get(v, "id");
        if (id != NULL && json_object_size(v) == 1) {
            text_into(id, buf, size, depth + 1);
            break;
        }
        if (json_object_size(v) == 0)
            buf_add(buf, size, "-");
        bool firstk = true;
        json_object_foreach(v, k, e)
        {
            if (!firstk)
                buf_add(buf, size, " ");
            firstk = false;
            buf_add(buf, size, k);
            buf_add(buf, size, "=");
            text_into(e, buf, size, depth + 1);
        }
        break;
    }
    }
}

const char *out_text(json_t *v, char *buf, size_t size)
{
    buf[0] = '\0';
    if (v == NULL)
        buf_add(buf, size, "-");
    else
        text_into(v, buf, size, 0);
    return buf;
}

/* Counts the certificates of a PEM text. */
static int pem_count(const char *s)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, "-----BEGIN CERTIFICATE-----")) != NULL; p++)
        n++;
    return n;
}

static void kv_print(json_t *obj, int indent, const char *prefix)
{
    const char *k;
    json_t *v;
    char label[200], text[4096];
    json_object_foreach(obj, k, v)
    {
        snprintf(label, sizeof label, "%s%s", prefix, k);
        if (json_is_object(v) && json_object_size(v) > 0 &&
            !(json_object_size(v) == 1 && json_object_get(v, "id"))) {
            char pre[256];
            snprintf(pre, sizeof pre, "%s.", label);
            kv_print(v, indent, pre);
            continue;
        }
        size_t len = strlen(label);
        if (len + 1 < sizeof label) {
            label[len] = ':';
            label[len + 1] = '\0';
        }
        if (json_is_array(v) && json_array_size(v) > 0 && json_is_object(json_array_get(v, 0))) {
            size_t i;
            json_t *e;
            printf("%*s%s\n", indent, "", label);
            json_array_foreach(v, i, e)
                printf("%*s  - %s\n", indent, "", out_text(e, text, sizeof text));
            continue;
        }
        if (strcmp(k, "certificate_chain") == 0 && json_is_string(v)) {
            printf("%*s%-28s %d certificates, PEM (--json shows them; `certmint cert download` "
                   "saves them)\n",
                   indent, "", label, pem_count(json_string_value(v)));
            continue;
        }
        printf("%*s%-28s %s\n", indent, "", label, out_text(v, text, sizeof text));
    }
}

void out_kv(json_t *obj, int indent)
{
    if (json_is_object(obj))
        kv_print(obj, indent, "");
}

/* The value at a dotted path inside an object, or NULL. */
static json_t *path_get(json_t *o, const char *path)
{
    char part[64];
    const char *p = path;
    while (o != NULL && *p != '\0') {
        const char *dot = strchr(p, '.');
        size_t n = dot != NULL ? (size_t)(dot - p) : strlen(p);
        if (n >= sizeof part)
            return NULL;
        memcpy(part, p, n);
        part[n] = '\0';
        o = json_object_get(o, part);
        p += n + (dot != NULL ? 1 : 0);
    }
    return o;
}

#define CELL_MAX 48

void out_table(json_t *items, const out_col *cols, size_t n_cols, const char *what,
               const json_t *page)
{
    size_t n = json_array_size(items);
    if (n == 0) {
        printf("no %s\n", what);
        return;
    }
    size_t *w = calloc(n_cols, sizeof *w);
    char cell[CELL_MAX + 8];
    if (w == NULL)
        return;
    for (size_t c = 0; c < n_cols; c++)
        w[c] = strlen(cols[c].header);
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < n_cols; c++) {
            out_text(path_get(json_array_get(items, i), cols[c].path), cell, CELL_MAX + 1);
            size_t l = strlen(cell);
            if (l > w[c])
                w[c] = l;
        }
    for (size_t c = 0; c < n_cols; c++)
        printf(c + 1 < n_cols ? "%-*s  " : "%-*s\n", (int)(c + 1 < n_cols ? w[c] : 0),
               cols[c].header);
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < n_cols; c++) {
            out_text(path_get(json_array_get(items, i), cols[c].path), cell, CELL_MAX + 1);
            printf(c + 1 < n_cols ? "%-*s  " : "%-*s\n", (int)(c + 1 < n_cols ? w[c] : 0), cell);
        }
    free(w);
    json_int_t total = json_integer_value(json_object_get(page, "total"));
    if (page != NULL && total > (json_int_t)n)
        printf("%zu of %" JSON_INTEGER_FORMAT " %s (--offset and --limit show others)\n", n, total,
               what);
}
