/* cmd_client.c — the client nouns over the REST API (docs/api.md): order, cert, request, org,
 * domain, settings, platform, product. Duplicates, reissues, renewals and --generate-key live in
 * cmd_dup.c. Each verb maps onto one route (two where a name must be looked up) and prints the
 * answer as key: value lines or a table, or with --json the server's JSON. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "util/fileio.h"
#include "util/str.h"

#define PATH_MAX_LEN 2048

/* Prints an answer: JSON, or key: value lines. Takes the reference. Returns 0. */
static int show(cli_ctx *c, json_t *j)
{
    if (cli_json(c))
        out_json(j);
    else
        out_kv(j, 0);
    json_decref(j);
    return 0;
}

/* GET path and show the answer. */
static int get_show(cli_ctx *c, const char *path)
{
    json_t *j = NULL;
    int rc = cli_call(c, "GET", path, NULL, &j);
    return rc != 0 ? rc : show(c, j);
}

/* GET path and print the array `field` of the answer as a table. */
static int get_table(cli_ctx *c, const char *path, const char *field, const out_col *cols,
                     size_t n_cols, const char *what)
{
    json_t *j = NULL;
    int rc = cli_call(c, "GET", path, NULL, &j);
    if (rc != 0)
        return rc;
    if (cli_json(c))
        out_json(j);
    else
        out_table(json_object_get(j, field), cols, n_cols, what, json_object_get(j, "page"));
    json_decref(j);
    return 0;
}

/* The id in positional argument i, into *id; 2 after a usage error. */
static int pos_id(cli_ctx *c, int i, const char *what, long long *id)
{
    return arg_id(c, arg_pos(c, i), what, id);
}

/* Lowercase letters and digits of s, other runs as one '-': "Microsoft IIS" → "microsoft-iis". */
static void slug(const char *s, char *out, size_t size)
{
    size_t o = 0;
    bool dash = false;
    for (; *s != '\0' && o + 2 < size; s++) {
        char ch = *s;
        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch + 32);
        if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) {
            if (dash && o > 0)
                out[o++] = '-';
            out[o++] = ch;
            dash = false;
        } else {
            dash = true;
        }
    }
    out[o] = '\0';
}

int cli_platform_id(cli_ctx *c, const char *text, long long *id)
{
    long v = 0;
    json_t *j = NULL;
    int rc = cli_call(c, "GET", "/server-platform", NULL, &j);
    if (rc != 0)
        return rc;
    json_t *list = json_object_get(j, "platforms"), *p;
    size_t i;
    char want[128], have[128], names[1024] = "";
    bool numeric = str_to_long(text, -1000000, 1000000, &v) == 0;
    slug(text, want, sizeof want);
    rc = 1;
    json_array_foreach(list, i, p)
    {
        json_int_t pid = json_integer_value(json_object_get(p, "id"));
        const char *name = json_string_value(json_object_get(p, "name"));
        if (name == NULL)
            continue;
        slug(name, have, sizeof have);
        if ((numeric && pid == v) ||
            (!numeric && (strcasecmp(name, text) == 0 || (want[0] && strcmp(have, want) == 0)))) {
            *id = pid;
            rc = 0;
            break;
        }
        size_t used = strlen(names);
        snprintf(names + used, sizeof names - used, "%s%s (%" JSON_INTEGER_FORMAT ")",
                 used ? ", " : "", have, pid);
    }
    if (rc != 0) {
        cm_err err;
        cm_err_set(&err, "field_invalid", "no server platform \"%.64s\"; the platforms: %s", text,
                   names);
        rc = cli_err(&err, 1);
    }
    json_decref(j);
    return rc;
}

/* ---- order ---- */

static const out_col order_cols[] = {
    {"ID", "id"},
    {"STATUS", "status"},
    {"PRODUCT", "product.name_id"},
    {"COMMON NAME", "certificate.common_name"},
    {"ORG", "organization.id"},
    {"ISSUED", "date_issued"},
    {"VALID TILL", "order_valid_till"},
};

static const out_col cert_cols[] = {
    {"ID", "id"},
    {"KIND", "kind"},
    {"STATUS", "status"},
    {"COMMON NAME", "common_name"},
    {"VALID TILL", "valid_till"},
    {"PLATFORM", "server_platform.id"},
    {"SERIAL", "serial_number"},
};

static int order_show(cli_ctx *c)
{
    long long id;
    char path[PATH_MAX_LEN];
    int rc = pos_id(c, 0, "ORDER", &id);
    if (rc == 0)
        rc = cli_path(path, sizeof path, "/order/certificate/%lld", id);
    return rc != 0 ? rc : get_show(c, path);
}

static int order_list(cli_ctx *c)
{
    char path[PATH_MAX_LEN] = "/order/certificate";
    int rc = list_opts(c, path, sizeof path);
    const char *status = arg_get(c, "status"), *product = arg_get(c, "product");
    if (rc == 0 && status != NULL)
        rc = cli_query(path, sizeof path, "filters[status]", status);
    if (rc == 0 && product != NULL)
        rc = cli_query(path, sizeof path, "filters[product]", product);
    return rc != 0 ? rc
                   : get_table(c, path, "orders", order_cols,
                               sizeof order_cols / sizeof order_cols[0], "orders");
}

static int order_cancel(cli_ctx *c)
{
    long long id;
    char path[PATH_MAX_LEN];
    json_t *body = json_pack("{s:s}", "status", "canceled"), *j = NULL;
    int rc = body == NULL ? 1 : pos_id(c, 0, "ORDER", &id);
    if (rc == 0)
        rc = body_str(c, body, "note", arg_get(c, "note"));
    if (rc == 0)
        rc = cli_path(path, sizeof path, "/order/certificate/%lld/status", id);
    if (rc == 0)
        rc = cli_call(c, "PUT", path, body, &j);
    json_decref(body);
    if (rc != 0)
        return rc;
    if (cli_json(c))
        return show(c, j);
    json_decref(j);
    /* A pending order is now canceled; a reissue_pending one is issued again: say which. */
    if (cli_path(path, sizeof path, "/order/certificate/%lld", id) == 0 &&
        cli_call(c, "GET", path, NULL, &j) == 0) {
        printf("order %lld: cancelled; status now %s\n", id,
               json_string_value(json_object_get(j, "status"))
                   ? json_string_value(json_object_get(j, "status"))
                   : "?");
        json_decref(j);
    } else {
        printf("order %lld: cancelled\n", id);
    }
    return 0;
}

/* The body of a revocation: reason and comments. */
static int revoke_body(cli_ctx *c, json_t **out)
{
    json_t *b = json_object();
    int rc = b == NULL ? 1 : 0;
    if (rc == 0)
        rc = body_str(c, b, "revocation_reason", arg_get(c, "reason"));
    if (rc == 0)
        rc = body_str(c, b, "comments", arg_get(c, "comments"));
    if (rc != 0) {
        json_decref(b);
        return rc;
    }
    *out = b;
    return 0;
}

/* PUT PREFIX/ID/revoke with the reason and comments. */
static int do_revoke(cli_ctx *c, const char *prefix, const char *what)
{
    long long id;
    char path[PATH_MAX_LEN];
    json_t *body = NULL, *j = NULL;
    int rc = pos_id(c, 0, what, &id);
    if (rc == 0)
        rc = revoke_body(c, &body);
    if (rc == 0)
        rc = cli_path(path, sizeof path, "%s/%lld/revoke", prefix, id);
    if (rc == 0)
        rc = cli_call(c, "PUT", path, body, &j);
    json_decref(body);
    if (rc != 0)
        return rc;
    if (!cli_json(c) && json_object_get(j, "requests") != NULL)
        printf("an administrator must approve this revocation (certmint request approve "
               "%" JSON_INTEGER_FORMAT ")\n",
               json_integer_value(json_object_get(j, "id")));
    return show(c, j);
}

static int order_revoke(cli_ctx *c)
{
    return do_revoke(c, "/order/certificate", "ORDER");
}

static int order_history(cli_ctx *c)
{
    long long id;
    char path[PATH_MAX_LEN];
    int rc = pos_id(c, 0, "ORDER", &id);
    if (rc == 0)
        rc = cli_path(path, sizeof path, "/order/certificate/%lld/certificate", id);
    return rc != 0 ? rc
                   : get_table(c, path, "certificates", cert_cols,
                               sizeof cert_cols / sizeof cert_cols[0], "certificates");
}

/* PUT a {"dcv_method": METHOD} body to PREFIX/ID/SUFFIX, ID being positional 0. */
static int put_method(cli_ctx *c, const char *prefix, const char *suffix, const char *what)
{
    long long id;
    char path[PATH_MAX_LEN];
    json_t *body = json_object(), *j = NULL;
    int rc = body == NULL ? 1 : pos_id(c, 0, what, &id);
    if (rc == 0)
        rc = body_str(c, body, "dcv_method", arg_pos(c, 1));
    if (rc == 0)
        rc = cli_path(path, sizeof path, "%s/%lld/%s", prefix, id, suffix);
    if (rc == 0)
        rc = cli_call(c, "PUT", path, body, &j);
    json_decref(body);
    return rc != 0 ? rc : show(c, j);
}

/* PUT without a body to PREFIX/ID/SUFFIX, ID being positional 0. */
static int put_empty(cli_ctx *c, const char *prefix, const char *suffix, const char *what)
{
    long long id;
    char path[PATH_MAX_LEN];
    json_t *j = NULL;
    int rc = pos_id(c, 0, what, &id);
    if (rc == 0)
        rc = cli_path(path, sizeof path, "%s/%lld/%s", prefix, id, suffix);
    if (rc == 0)
        rc = cli_call(c, "PUT", path, NULL, &j);
    return rc != 0 ? rc : show(c, j);
}

static int order_dcv_method(cli_ctx *c)
{
    return put_method(c, "/order/certificate", "dcv-method", "ORDER");
}

static int order_check_dcv(cli_ctx *c)
{
    return put_empty(c, "/order/certificate", "check-dcv", "ORDER");
}

static const cli_verb order_verbs[] = {
    {"create", cli_order_create, 1, 1,
     "cn= san=* csr= generate-key out-dir= name= key-type= key-bits= org= years= platform= "
     "hash= auto-renew comments= dcv-method= issuer=",
     "order create PRODUCT --cn NAME [--san NAME]... (--csr FILE | --generate-key --out-dir DIR)\n"
     "         [--org ID] [--years N] [--platform ID|NAME] [--hash sha256|sha384|sha512]\n"
     "         [--auto-renew] [--comments TEXT] [--dcv-method METHOD] [--issuer ecdsa|rsa]\n"
     "         [--key-type ec|rsa] [--key-bits N] [--name FILEBASE]"},
    {"show", order_show, 1, 1, "", "order show ORDER"},
    {"list", order_list, 0, 0, "status= product= limit= offset= sort=",
     "order list [--status S] [--product P] [--limit N] [--offset N] [--sort [-]FIELD]"},
    {"cancel", order_cancel, 1, 1, "note=", "order cancel ORDER [--note TEXT]"},
    {"revoke", order_revoke, 1, 1,
     "reason= comments=", "order revoke ORDER [--reason REASON] [--comments TEXT]"},
    {"history", order_history, 1, 1, "", "order history ORDER"},
    {"dcv-method", order_dcv_method, 2, 2, "", "order dcv-method ORDER METHOD"},
    {"check-dcv", order_check_dcv, 1, 1, "", "order check-dcv ORDER"},
};

int cmd_order(int argc, char **argv)
{
    return cli_dispatch(argc, argv, order_verbs, sizeof order_verbs / sizeof order_verbs[0],
                        "certmint order: place, read, cancel and revoke certificate orders.\n"
                        "Reasons: unspecified key_compromise affiliation_changed superseded\n"
                        "cessation_of_operation privilege_withdrawn. DCV methods: dns-txt-token\n"
                        "dns-cname-token http-token email.\n");
}

/* ---- cert ---- */

static int cert_show(cli_ctx *c)
{
    long long id;
    char path[PATH_MAX_LEN];
    int rc = pos_id(c, 0, "CERT", &id);
    if (rc == 0)
        rc = cli_path(path, sizeof path, "/certificate/%lld", id);
    return rc != 0 ? rc : get_show(c, path);
}

static int cert_download(cli_ctx *c)
{
    long long id;
    char path[PATH_MAX_LEN], file[1200];
    const char *format = arg_get(c, "format"), *out = arg_get(c, "out");
    client_resp r;
    cm_err err;
    int rc = pos_id(c, 0, "CERT", &id);
    if (rc != 0)
        return rc;
    if (format != NULL && arg_has(c, "platform"))
        return cli_usage_verb(c, "give --format or --platform, not both");
    if (out != NULL && strcmp(out, "-") == 0 && cli_json(c))
        return cli_usage_verb(c, "--out - writes the file to standard output; --json cannot");
    if (format != NULL) {
        char *esc = curl_easy_escape(NULL, format, 0);
        if (esc == NULL)
            return 1;
        rc = cli_path(path, sizeof path, "/certificate/%lld/download/format/%s", id, esc);
        curl_free(esc);
    } else {
        rc = cli_path(path, sizeof path, "/certificate/%lld/download/platform", id);
    }
    if (rc != 0 || (rc = cli_fetch(c, path, &r)) != 0)
        return rc;
    if (out != NULL && strcmp(out, "-") == 0) {
        rc = fwrite(r.body, 1, r.len, stdout) == r.len && fflush(stdout) == 0 ? 0 : 1;
        if (rc != 0)
            fprintf(stderr, "certmint: file_unwritable: cannot write to standard output\n");
        client_resp_free(&r);
        return rc;
    }
    /* --out FILE replaces FILE (a certificate is public; the write is atomic); the server's
     * file name in the current directory is never overwritten. */
    bool replace = out != NULL;
    if (out == NULL)
        snprintf(file, sizeof file, "%s", r.filename[0] != '\0' ? r.filename : "certificate");
    else if (str_copy(file, sizeof file, out) != 0) {
        client_resp_free(&r);
        return cli_usage_verb(c, "--out is too long");
    }
    cm_err_clear(&err);
    if (file_write_atomic(file, r.body, r.len, 0644, replace, &err) != 0) {
        client_resp_free(&r);
        return cli_err(&err, 1);
    }
    if (cli_json(c)) {
        json_t *j = json_pack("{s:s, s:I, s:s}", "file", file, "bytes", (json_int_t)r.len,
                              "content_type", r.content_type);
        if (j != NULL)
            out_json(j);
        json_decref(j);
    } else {
        printf("wrote %s (%zu bytes, %s)\n", file, r.len,
               r.content_type[0] ? r.content_type : "no type");
    }
    client_resp_free(&r);
    return 0;
}

static int cert_revoke(cli_ctx *c)
{
    return do_revoke(c, "/certificate", "CERT");
}

static const cli_verb cert_verbs[] = {
    {"show", cert_show, 1, 1, "", "cert show CERT"},
    {"download", cert_download, 1, 1,
     "format= platform out=", "cert download CERT [--format FORMAT | --platform] [--out FILE|-]"},
    {"revoke", cert_revoke, 1, 1,
     "reason= comments=", "cert revoke CERT [--reason REASON] [--comments TEXT]"},
};

int cmd_cert(int argc, char **argv)
{
    return cli_dispatch(
        argc, argv, cert_verbs, sizeof cert_verbs / sizeof cert_verbs[0],
        "certmint cert: read, download and revoke certificates.\n"
        "Formats: pem_all pem_noroot pem_nointermediate p7b der default default_pem apache;\n"
        "without --format the certificate's server platform decides. Without --out the file\n"
        "gets the server's name in the current directory (never over an existing file).\n");
}

/* ---- request ---- */

static const out_col request_cols[] = {
    {"ID", "id"},
    {"ORDER", "order_id"},
    {"TYPE", "type"},
    {"STATUS", "status"},
    {"REQUESTER", "requester_id"},
    {"DATE", "date"},
    {"COMMENTS", "comments"},
};

static int request_list(cli_ctx *c)
{
    char path[PATH_MAX_LEN] = "/request";
    int rc = list_opts(c, path, sizeof path);
    const char *status = arg_get(c, "status"), *type = arg_get(c, "type");
    const char *order = arg_get(c, "order");
    long long oid;
    if (rc == 0 && status != NULL)
        rc = cli_query(path, sizeof path, "filters[status]", status);
    if (rc == 0 && type != NULL)
        rc = cli_query(path, sizeof path, "filters[type]", type);
    if (rc == 0 && order != NULL && (rc = arg_id(c, order, "--order", &oid)) == 0)
        rc = cli_query(path, sizeof path, "filters[order_id]", order);
    return rc != 0 ? rc
                   : get_table(c, path, "requests", request_cols,
                               sizeof request_cols / sizeof request_cols[0], "requests");
}

static int request_show(cli_ctx *c)
{
    long long id;
    char path[PATH_MAX_LEN];
    int rc = pos_id(c, 0, "REQUEST", &id);
    if (rc == 0)
        rc = cli_path(path, sizeof path, "/request/%lld", id);
    return rc != 0 ? rc : get_show(c, path);
}

static int request_process(cli_ctx *c, const char *status)
{
    long long id;
    char path[PATH_MAX_LEN];
    json_t *body = json_pack("{s:s}", "status", status), *j = NULL;
    int rc = body == NULL ? 1 : pos_id(c, 0, "REQUEST", &id);
    if (rc == 0)
        rc = body_str(c, body, "processor_comment", arg_get(c, "comment"));
    if (rc == 0)
        rc = cli_path(path, sizeof path, "/request/%lld/status", id);
    if (rc == 0)
        rc = cli_call(c, "PUT", path, body, &j);
    json_decref(body);
    if (rc != 0)
        return rc;
    if (cli_json(c))
        return show(c, j);
    json_decref(j);
    printf("request %lld %s\n", id, status);
    return 0;
}

static int request_approve(cli_ctx *c)
{
    return request_process(c, "approved");
}

static int request_reject(cli_ctx *c)
{
    return request_process(c, "rejected");
}

static const cli_verb request_verbs[] = {
    {"list", request_list, 0, 0, "status= type= order= limit= offset= sort=",
     "request list [--status S] [--type T] [--order ID] [--limit N] [--offset N] [--sort F]"},
    {"show", request_show, 1, 1, "", "request show REQUEST"},
    {"approve", request_approve, 1, 1, "comment=", "request approve REQUEST [--comment TEXT]"},
    {"reject", request_reject, 1, 1, "comment=", "request reject REQUEST [--comment TEXT]"},
};

int cmd_request(int argc, char **argv)
{
    return cli_dispatch(argc, argv, request_verbs, sizeof request_verbs / sizeof request_verbs[0],
                        "certmint request: the requests that wait for approval (new orders,\n"
                        "renewals, EV approvals, revocations) and their processing.\n");
}

/* ---- org ---- */

static const out_col org_cols[] = {
    {"ID", "id"},           {"NAME", "name"},       {"CITY", "city"},
    {"COUNTRY", "country"}, {"VETTING", "vetting"},
};

static int org_list(cli_ctx *c)
{
    char path[PATH_MAX_LEN] = "/organization";
    json_t *j = NULL, *o, *v;
    size_t i, k;
    int rc = list_opts(c, path, sizeof path);
    if (rc == 0)
        rc = cli_call(c, "GET", path, NULL, &j);
    if (rc != 0)
        return rc;
    if (cli_json(c))
        return show(c, j);
    /* One column for the validations: "ov:active ev:expired". */
    json_t *list = json_object_get(j, "organizations");
    json_array_foreach(list, i, o)
    {
        char vet[128] = "";
        json_array_foreach(json_object_get(o, "validations"), k, v)
        {
            size_t used = strlen(vet);
            const char *t = json_string_value(json_object_get(v, "type"));
            const char *s = json_string_value(json_object_get(v, "status"));
            snprintf(vet + used, sizeof vet - used, "%s%s:%s", used ? " " : "", t ? t : "?",
                     s ? s : "?");
        }
        json_object_set_new(o, "vetting", json_string(vet[0] ? vet : "none"));
    }
    out_table(list, org_cols, sizeof org_cols / sizeof org_cols[0], "organisations",
              json_object_get(j, "page"));
    json_decref(j);
    return 0;
}

static int org_show(cli_ctx *c)
{
    long long id;
    char path[PATH_MAX_LEN];
    int rc = pos_id(c, 0, "ORG", &id);
    if (rc == 0)
        rc = cli_path(path, sizeof path, "/organization/%lld", id);
    return rc != 0 ? rc : get_show(c, path);
}

static int org_create(cli_ctx *c)
{
    const char *file = arg_get(c, "file");
    unsigned char *data = NULL;
    size_t len = 0;
    cm_err err;
    json_error_t je;
    json_t *body = NULL, *j = NULL;
    if (file == NULL)
        return cli_usage_verb(c, "--file FILE is required (a JSON object of the organisation's "
                                 "fields, see docs/api.md)");
    cm_err_clear(&err);
    if (file_read_all(file, 65536, &data, &len, &err) != 0)
        return cli_err(&err, 1);
    body = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &je);
    free(data);
    if (!json_is_object(body)) {
        cm_err_set(&err, "org_invalid", "%s is not one JSON object: %s (line %d)", file,
                   body == NULL ? je.text : "another JSON value", body == NULL ? je.line : 1);
        json_decref(body);
        return cli_err(&err, 1);
    }
    int rc = cli_call(c, "POST", "/organization", body, &j);
    json_decref(body);
    if (rc != 0)
        return rc;
    if (cli_json(c))
        return show(c, j);
    printf("organisation %" JSON_INTEGER_FORMAT " created; the operator vets it (OV/EV) "
           "before OV and EV orders for it are issued\n",
           json_integer_value(json_object_get(j, "id")));
    json_decref(j);
    return 0;
}

static int org_contact(cli_ctx *c)
{
    long long org, user;
    char path[PATH_MAX_LEN];
    json_t *j = NULL;
    int rc = pos_id(c, 0, "ORG", &org);
    if (rc == 0 && arg_get(c, "user") == NULL)
        return cli_usage_verb(c, "--user ID is required");
    if (rc == 0)
        rc = arg_id(c, arg_get(c, "user"), "--user", &user);
    if (rc != 0)
        return rc;
    json_t *body = json_pack("{s:I, s:b}", "user_id", (json_int_t)user, "ev_approver",
                             arg_has(c, "ev-approver"));
    if (body == NULL)
        return 1;
    rc = cli_path(path, sizeof path, "/organization/%lld/contact", org);
    if (rc == 0)
        rc = cli_call(c, "POST", path, body, &j);
    json_decref(body);
    return rc != 0 ? rc : show(c, j);
}

static const cli_verb org_verbs[] = {
    {"list", org_list, 0, 0,
     "limit= offset= sort=", "org list [--limit N] [--offset N] [--sort F]"},
    {"show", org_show, 1, 1, "", "org show ORG"},
    {"create", org_create, 0, 0, "file=", "org create --file ORG.json"},
    {"contact", org_contact, 1, 1, "user= ev-approver",
     "org contact ORG --user USER_ID [--ev-approver]"},
};

int cmd_org(int argc, char **argv)
{
    return cli_dispatch(argc, argv, org_verbs, sizeof org_verbs / sizeof org_verbs[0],
                        "certmint org: the organisations OV and EV certificates name.\n"
                        "org contact makes a user a verified contact; with --ev-approver the\n"
                        "user may approve EV orders of the organisation (without it: may not).\n");
}

/* ---- domain ---- */

static const out_col domain_cols[] = {
    {"ID", "id"},
    {"NAME", "name"},
    {"STATUS", "status"},
    {"METHOD", "dcv_method"},
    {"VALID UNTIL", "valid_until"},
    {"ORG", "organization.id"},
};

static int domain_list(cli_ctx *c)
{
    char path[PATH_MAX_LEN] = "/domain";
    int rc = list_opts(c, path, sizeof path);
    return rc != 0 ? rc
                   : get_table(c, path, "domains", domain_cols,
                               sizeof domain_cols / sizeof domain_cols[0], "domains");
}

static int domain_show(cli_ctx *c)
{
    long long id;
    char path[PATH_MAX_LEN];
    int rc = pos_id(c, 0, "DOMAIN", &id);
    if (rc == 0)
        rc = cli_path(path, sizeof path, "/domain/%lld", id);
    return rc != 0 ? rc : get_show(c, path);
}

static int domain_create(cli_ctx *c)
{
    json_t *body = json_object(), *j = NULL;
    const char *org = arg_get(c, "org");
    long long oid;
    int rc = body == NULL ? 1 : body_str(c, body, "name", arg_pos(c, 0));
    if (rc == 0)
        rc = body_str(c, body, "dcv_method", arg_get(c, "method"));
    if (rc == 0 && org != NULL && (rc = arg_id(c, org, "--org", &oid)) == 0)
        rc = body_set(body, "organization", json_pack("{s:I}", "id", (json_int_t)oid));
    if (rc == 0)
        rc = cli_call(c, "POST", "/domain", body, &j);
    json_decref(body);
    return rc != 0 ? rc : show(c, j);
}

static int domain_dcv_method(cli_ctx *c)
{
    return put_method(c, "/domain", "dcv/method", "DOMAIN");
}

static int domain_validate(cli_ctx *c)
{
    return put_empty(c, "/domain", "dcv/validate-token", "DOMAIN");
}

static const cli_verb domain_verbs[] = {
    {"list", domain_list, 0, 0,
     "limit= offset= sort=", "domain list [--limit N] [--offset N] [--sort F]"},
    {"show", domain_show, 1, 1, "", "domain show DOMAIN"},
    {"create", domain_create, 1, 1,
     "org= method=", "domain create NAME [--org ID] [--method METHOD]"},
    {"dcv-method", domain_dcv_method, 2, 2, "", "domain dcv-method DOMAIN METHOD"},
    {"validate", domain_validate, 1, 1, "", "domain validate DOMAIN"},
};

int cmd_domain(int argc, char **argv)
{
    return cli_dispatch(argc, argv, domain_verbs, sizeof domain_verbs / sizeof domain_verbs[0],
                        "certmint domain: domains and their domain-control validation (DCV).\n"
                        "Methods: dns-txt-token (default) dns-cname-token http-token email.\n"
                        "`domain create` and `domain dcv-method` say what to publish;\n"
                        "`domain validate` checks it.\n");
}

/* ---- settings ---- */

static int settings_show(cli_ctx *c)
{
    return get_show(c, "/account/settings");
}

static int settings_set(cli_ctx *c)
{
    static const char *const bools[] = {"allow_duplicates", "skip_approval"};
    static const char *const ints[] = {"reissue_revoke_delay_hours", "renewal_window_days",
                                       "auto_renew_days"};
    json_t *body = json_object(), *j = NULL;
    int rc = body == NULL ? 1 : 0;
    for (int i = 0; rc == 0 && arg_pos(c, i) != NULL; i++) {
        const char *a = arg_pos(c, i), *eq = strchr(a, '=');
        char key[64];
        if (eq == NULL || (size_t)(eq - a) >= sizeof key) {
            rc = cli_usage_verb(c, "write KEY=VALUE, not \"%.64s\"", a);
            break;
        }
        memcpy(key, a, (size_t)(eq - a));
        key[eq - a] = '\0';
        const char *v = eq + 1;
        bool known = false;
        for (size_t k = 0; k < 2; k++)
            if (strcmp(key, bools[k]) == 0) {
                known = true;
                bool t = strcmp(v, "true") == 0 || strcmp(v, "on") == 0 || strcmp(v, "yes") == 0 ||
                         strcmp(v, "1") == 0;
                bool f = strcmp(v, "false") == 0 || strcmp(v, "off") == 0 || strcmp(v, "no") == 0 ||
                         strcmp(v, "0") == 0;
                if (!t && !f)
                    rc = cli_usage_verb(c, "%s is true or false", key);
                else
                    rc = body_set(body, key, json_boolean(t));
            }
        for (size_t k = 0; k < 3 && !known; k++)
            if (strcmp(key, ints[k]) == 0) {
                long n = 0;
                known = true;
                rc = arg_long(c, v, key, 0, 100000, &n);
                if (rc == 0)
                    rc = body_set(body, key, json_integer(n));
            }
        if (!known)
            rc = cli_usage_verb(c,
                                "unknown setting \"%.64s\"; the settings: allow_duplicates, "
                                "skip_approval, reissue_revoke_delay_hours, renewal_window_days, "
                                "auto_renew_days",
                                key);
    }
    if (rc == 0)
        rc = cli_call(c, "PUT", "/account/settings", body, &j);
    json_decref(body);
    return rc != 0 ? rc : show(c, j);
}

static const cli_verb settings_verbs[] = {
    {"show", settings_show, 0, 0, "", "settings show"},
    {"set", settings_set, 1, 8, "", "settings set KEY=VALUE..."},
};

int cmd_settings(int argc, char **argv)
{
    return cli_dispatch(argc, argv, settings_verbs,
                        sizeof settings_verbs / sizeof settings_verbs[0],
                        "certmint settings: the account's settings (set: administrators).\n"
                        "Keys: allow_duplicates=true|false skip_approval=true|false\n"
                        "reissue_revoke_delay_hours=0..720 renewal_window_days=1..365\n"
                        "auto_renew_days=1..90 (not above renewal_window_days).\n");
}

/* ---- platform, product ---- */

static int platform_list(cli_ctx *c)
{
    static const out_col cols[] = {{"ID", "id"}, {"NAME", "name"}, {"FORMAT", "default_format"}};
    return get_table(c, "/server-platform", "platforms", cols, 3, "platforms");
}

static int product_list(cli_ctx *c)
{
    static const out_col cols[] = {
        {"NAME_ID", "name_id"},       {"NAME", "name"}, {"TYPE", "type"},
        {"WILDCARD", "wildcard"},     {"FLEX", "flex"}, {"HIERARCHY", "hierarchy"},
        {"DUPLICATES", "duplicates"},
    };
    return get_table(c, "/product", "products", cols, sizeof cols / sizeof cols[0], "products");
}

static const cli_verb platform_verbs[] = {{"list", platform_list, 0, 0, "", "platform list"}};
static const cli_verb product_verbs[] = {{"list", product_list, 0, 0, "", "product list"}};

int cmd_platform(int argc, char **argv)
{
    return cli_dispatch(argc, argv, platform_verbs, 1,
                        "certmint platform: the server platforms a certificate may name; each\n"
                        "sets the default download format.\n");
}

int cmd_product(int argc, char **argv)
{
    return cli_dispatch(argc, argv, product_verbs, 1,
                        "certmint product: the product catalogue (PRODUCT of order create).\n");
}
