/* cmd_dup.c — the client verbs that send a CSR: order create, duplicate create, reissue, renew
 * (docs/api.md, the lifecycle routes), and their --generate-key: the key and CSR are made here
 * (pki/keygen.h), the key is written 0600 into --out-dir and never sent, and once the server
 * issues, the certificate is downloaded in its platform's format and written beside the key —
 * the one-command way to put a certificate (a duplicate, typically) on a new server. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <zip.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "pki/keygen.h"
#include "util/fileio.h"
#include "util/str.h"

#define PATH_MAX_LEN 2048
#define MAX_NAMES    250
/* Options of every verb that sends a CSR. */
#define KEY_OPTS "csr= generate-key out-dir= name= key-type= key-bits= "
/* A zip download holds a few files; refuse anything bigger. */
#define ZIP_MAX_MEMBERS 16

/* ---- key and CSR ---- */

/* The file base name for a certificate's files from its common name: lower case, "*." becomes
 * "star.", anything but [a-z0-9._-] becomes '_'; "certificate" when nothing is left. */
static void file_base(const char *cn, char *out, size_t size)
{
    size_t o = 0;
    const char *p = cn != NULL ? cn : "";
    if (p[0] == '*' && size > 5) {
        memcpy(out, "star", 4);
        o = 4;
        p++;
    }
    for (; *p != '\0' && o + 1 < size; p++) {
        char ch = *p;
        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch + 32);
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' ||
                  ch == '_';
        out[o++] = ok ? ch : '_';
    }
    out[o] = '\0';
    if (o == 0 || out[0] == '.')
        str_copy(out, size, "certificate");
}

/* True when s is a usable file base name: [A-Za-z0-9._-], 1–200 bytes, no leading dot. */
static bool name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 200 || s[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '-' || ch == '_'))
            return false;
    }
    return true;
}

/* The usage checks of the key options, made before anything is sent. 0 or 2. */
static int keyjob_check(const cli_ctx *c, long *bits)
{
    const char *csr = arg_get(c, "csr"), *dir = arg_get(c, "out-dir");
    const char *name = arg_get(c, "name"), *type = arg_get(c, "key-type");
    const char *bits_text = arg_get(c, "key-bits");
    bool gen = arg_has(c, "generate-key");
    *bits = 0;
    if (csr != NULL && gen)
        return cli_usage_verb(c, "give --csr FILE or --generate-key, not both");
    if (csr == NULL && !gen)
        return cli_usage_verb(c, "give --csr FILE, or --generate-key --out-dir DIR to make the "
                                 "key and CSR here");
    if (gen && dir == NULL)
        return cli_usage_verb(c, "--generate-key needs --out-dir DIR: the key is written there");
    if (!gen && (type != NULL || bits_text != NULL))
        return cli_usage_verb(c, "--key-type and --key-bits go with --generate-key");
    if (name != NULL && dir == NULL)
        return cli_usage_verb(c, "--name goes with --out-dir");
    if (name != NULL && !name_ok(name))
        return cli_usage_verb(c, "--name is a file base name: letters, digits, '.', '-', '_'");
    if (type != NULL && strcmp(type, "ec") != 0 && strcmp(type, "rsa") != 0)
        return cli_usage_verb(c, "--key-type is ec or rsa");
    if (bits_text != NULL)
        return arg_long(c, bits_text, "--key-bits", 256, 4096, bits);
    return 0;
}

int cli_keyjob_check(const cli_ctx *c)
{
    long bits;
    return keyjob_check(c, &bits);
}

static int keyjob_start(cli_ctx *c, const char *cn, const char *const *sans, size_t n_sans,
                        cli_keyjob *k)
{
    const char *csr = arg_get(c, "csr"), *dir = arg_get(c, "out-dir");
    const char *name = arg_get(c, "name"), *type = arg_get(c, "key-type");
    bool gen = arg_has(c, "generate-key");
    long bits = 0;
    cm_err err;
    cm_err_clear(&err);
    memset(k, 0, sizeof *k);
    int rc = keyjob_check(c, &bits);
    if (rc != 0)
        return rc;
    if ((k->files = json_object()) == NULL)
        return 1;
    k->generate = gen;
    if (dir != NULL) {
        if (str_copy(k->dir, sizeof k->dir, dir) != 0 || dir[0] == '\0')
            return cli_usage_verb(c, "--out-dir is empty or too long");
        size_t n = strlen(k->dir);
        while (n > 1 && k->dir[n - 1] == '/')
            k->dir[--n] = '\0';
        struct stat st;
        if (stat(k->dir, &st) != 0) {
            if (errno != ENOENT || mkdir(k->dir, 0700) != 0) {
                cm_err_set(&err, "dir_unwritable", "cannot use --out-dir %s: %s", k->dir,
                           strerror(errno));
                return cli_err(&err, 1);
            }
        } else if (!S_ISDIR(st.st_mode)) {
            cm_err_set(&err, "dir_unwritable", "--out-dir %s is not a directory", k->dir);
            return cli_err(&err, 1);
        }
        if (name != NULL)
            str_copy(k->name, sizeof k->name, name);
        else
            file_base(cn, k->name, sizeof k->name);
    }
    if (csr != NULL) {
        unsigned char *data = NULL;
        size_t len = 0;
        if (file_read_all(csr, 65536, &data, &len, &err) != 0)
            return cli_err(&err, 1);
        if (strstr((char *)data, "-----BEGIN") == NULL ||
            strstr((char *)data, "REQUEST-----") == NULL || strlen((char *)data) != len) {
            free(data);
            cm_err_set(&err, "csr_malformed",
                       "%s is not a PEM certificate request (-----BEGIN CERTIFICATE "
                       "REQUEST-----); make one with `openssl req -new -key KEY -out FILE`, or "
                       "use --generate-key",
                       csr);
            return cli_err(&err, 1);
        }
        k->csr_pem = (char *)data;
        return 0;
    }
    /* --generate-key: the settings must be complete and the key file must not exist before
     * anything is made. */
    cm_client *cl = NULL;
    if ((rc = cli_client(c, &cl)) != 0)
        return rc;
    int n = snprintf(k->key_path, sizeof k->key_path, "%s/%s.key", k->dir, k->name);
    if (n < 0 || (size_t)n >= sizeof k->key_path) {
        k->key_path[0] = '\0';
        return cli_usage_verb(c, "--out-dir is too long");
    }
    struct stat st;
    if (lstat(k->key_path, &st) == 0) {
        cm_err_set(&err, "file_exists",
                   "%s already exists; certmint never overwrites a key: choose another "
                   "--out-dir or --name",
                   k->key_path);
        k->key_path[0] = '\0';
        return cli_err(&err, 1);
    }
    char *key_pem = NULL;
    if (keygen_make(type, (int)bits, cn, sans, n_sans, &key_pem, &k->csr_pem, &err) != 0) {
        k->key_path[0] = '\0';
        return cli_err(&err, strcmp(err.code, "field_invalid") == 0 ? 2 : 1);
    }
    rc = file_write_atomic(k->key_path, key_pem, strlen(key_pem), 0600, 0, &err);
    keygen_secret_free(key_pem);
    if (rc != 0) {
        k->key_path[0] = '\0';
        return cli_err(&err, 1);
    }
    json_object_set_new(k->files, "key", json_string(k->key_path));
    return 0;
}

int cli_keyjob_start(cli_ctx *c, const char *cn, const char *const *sans, size_t n_sans,
                     cli_keyjob *k)
{
    int rc = keyjob_start(c, cn, sans, n_sans, k);
    if (rc != 0) {
        free(k->csr_pem);
        json_decref(k->files);
        memset(k, 0, sizeof *k);
    }
    return rc;
}

void cli_keyjob_done(cli_keyjob *k, bool refused)
{
    if (k->key_path[0] != '\0' && refused) {
        /* The server refused, so the key was never used: remove it, and the command can be run
         * again as it is. */
        if (unlink(k->key_path) == 0)
            fprintf(stderr, "certmint: removed the new key %s: it was never used\n", k->key_path);
    } else if (k->key_path[0] != '\0' && k->failed) {
        fprintf(stderr,
                "certmint: kept the new key %s: the server may have acted on the request; "
                "check the order, and remove the key before running this again\n",
                k->key_path);
    }
    free(k->csr_pem);
    k->csr_pem = NULL;
    json_decref(k->files);
    k->files = NULL;
}

/* ---- installing the certificate ---- */

/* Writes data into DIR/base (0644, replacing: certificates are public and the write is
 * atomic) and records the path under `label` in k->files (an array for "unpacked"). */
static int write_cert_file(cli_keyjob *k, const char *base, const void *data, size_t len,
                           const char *label)
{
    char path[1400];
    cm_err err;
    cm_err_clear(&err);
    int n = snprintf(path, sizeof path, "%s/%s", k->dir, base);
    if (n < 0 || (size_t)n >= sizeof path) {
        cm_err_set(&err, "path_too_long", "the path %s/%s is too long", k->dir, base);
        return cli_err(&err, 1);
    }
    if (file_write_atomic(path, data, len, 0644, 1, &err) != 0)
        return cli_err(&err, 1);
    if (strcmp(label, "unpacked") == 0) {
        json_t *a = json_object_get(k->files, "unpacked");
        if (a == NULL) {
            a = json_array();
            json_object_set_new(k->files, "unpacked", a);
        }
        json_array_append_new(a, json_string(path));
    } else {
        json_object_set_new(k->files, label, json_string(path));
    }
    return 0;
}

/* Unpacks a zip download into DIR (file names reduced to plain names). */
static int unzip_into(cli_keyjob *k, const client_resp *r)
{
    int rc = 1;
    cm_err err;
    zip_error_t ze;
    zip_t *za = NULL;
    unsigned char *buf = NULL;
    zip_error_init(&ze);
    cm_err_clear(&err);
    zip_source_t *src = zip_source_buffer_create(r->body, r->len, 0, &ze);
    if (src == NULL || (za = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &ze)) == NULL) {
        zip_source_free(src);
        cm_err_set(&err, "response_invalid", "the server's zip cannot be read: %s",
                   zip_error_strerror(&ze));
        rc = cli_err(&err, 1);
        goto out;
    }
    zip_int64_t n = zip_get_num_entries(za, 0);
    if (n < 0 || n > ZIP_MAX_MEMBERS) {
        cm_err_set(&err, "response_invalid", "the server's zip has %lld files; expected a few",
                   (long long)n);
        rc = cli_err(&err, 1);
        goto out;
    }
    for (zip_int64_t i = 0; i < n; i++) {
        zip_stat_t st;
        if (zip_stat_index(za, (zip_uint64_t)i, 0, &st) != 0 ||
            (st.valid & (ZIP_STAT_NAME | ZIP_STAT_SIZE)) != (ZIP_STAT_NAME | ZIP_STAT_SIZE) ||
            st.size > CLIENT_MAX_RESPONSE) {
            cm_err_set(&err, "response_invalid",
                       "file %lld of the server's zip is unreadable "
                       "or too large",
                       (long long)i);
            rc = cli_err(&err, 1);
            goto out;
        }
        const char *base = strrchr(st.name, '/');
        base = base != NULL ? base + 1 : st.name;
        if (base[0] == '\0')
            continue; /* a directory entry */
        if (!name_ok(base)) {
            cm_err_set(&err, "response_invalid",
                       "the server's zip holds a file named \"%.64s\"; "
                       "refusing it",
                       base);
            rc = cli_err(&err, 1);
            goto out;
        }
        free(buf);
        if ((buf = malloc((size_t)st.size + 1)) == NULL) {
            cm_err_set(&err, "out_of_memory", "out of memory unpacking the server's zip");
            rc = cli_err(&err, 1);
            goto out;
        }
        zip_file_t *zf = zip_fopen_index(za, (zip_uint64_t)i, 0);
        zip_int64_t got = zf != NULL ? zip_fread(zf, buf, st.size) : -1;
        if (zf != NULL)
            zip_fclose(zf);
        if (got < 0 || (zip_uint64_t)got != st.size) {
            cm_err_set(&err, "response_invalid", "cannot unpack %s from the server's zip", base);
            rc = cli_err(&err, 1);
            goto out;
        }
        if ((rc = write_cert_file(k, base, buf, (size_t)st.size, "unpacked")) != 0)
            goto out;
    }
    rc = 0;
out:
    free(buf);
    if (za != NULL)
        zip_discard(za);
    zip_error_fini(&ze);
    return rc;
}

int cli_install(cli_ctx *c, long long cert_id, cli_keyjob *k)
{
    char path[PATH_MAX_LEN], base[300];
    client_resp r;
    if (k->dir[0] == '\0')
        return 0;
    int rc = cli_path(path, sizeof path, "/certificate/%lld/download/platform", cert_id);
    if (rc == 0 && (rc = cli_fetch(c, path, &r)) != 0)
        fprintf(stderr,
                "certmint: certificate %lld was issued, but could not be downloaded; run "
                "`certmint cert download %lld --platform --out %s/%s.crt`\n",
                cert_id, cert_id, k->dir, k->name);
    if (rc != 0)
        return rc;
    const char *ext = NULL;
    if (strcmp(r.content_type, "application/x-pem-file") == 0)
        ext = "crt"; /* leaf then chain: what nginx's ssl_certificate and HAProxy want */
    else if (strcmp(r.content_type, "application/pkix-cert") == 0)
        ext = "der";
    else if (strcmp(r.content_type, "application/pkcs7-mime") == 0)
        ext = "p7b";
    if (strcmp(r.content_type, "application/zip") == 0) {
        rc = unzip_into(k, &r);
    } else if (ext != NULL) {
        snprintf(base, sizeof base, "%s.%s", k->name, ext);
        rc = write_cert_file(k, base, r.body, r.len, "certificate");
    } else {
        rc = write_cert_file(k, r.filename[0] != '\0' ? r.filename : "certificate.bin", r.body,
                             r.len, "certificate");
    }
    client_resp_free(&r);
    return rc;
}

/* ---- output ---- */

/* Prints the answer of a verb that sent a CSR (taking the reference), with the files written:
 * --json adds {"files": {...}} to the server's answer. */
static void print_issued(cli_ctx *c, json_t *j, cli_keyjob *k, const char *order_hint)
{
    if (cli_json(c)) {
        if (json_object_size(k->files) > 0)
            json_object_set(j, "files", k->files);
        out_json(j);
        json_decref(j);
        return;
    }
    out_kv(j, 0);
    const char *key = json_string_value(json_object_get(k->files, "key"));
    const char *crt = json_string_value(json_object_get(k->files, "certificate"));
    json_t *unpacked = json_object_get(k->files, "unpacked"), *e;
    size_t i;
    if (key != NULL)
        printf("%-28s %s (mode 0600; made here, never sent)\n", "wrote key:", key);
    if (crt != NULL)
        printf("%-28s %s\n", "wrote certificate:", crt);
    json_array_foreach(unpacked, i, e) printf("%-28s %s\n", "wrote:", json_string_value(e));
    if (k->dir[0] != '\0' && crt == NULL && unpacked == NULL)
        printf("not issued yet; once it is, `certmint order history %s` shows the certificate "
               "and `certmint cert download CERT --platform --out %s/%s.crt` installs it\n",
               order_hint, k->dir, k->name);
    json_decref(j);
}

/* Sends body, installs a certificate the answer carries, prints. */
static int send_and_install(cli_ctx *c, const char *path, json_t *body, cli_keyjob *k,
                            const char *order_hint)
{
    json_t *j = NULL;
    int rc = cli_call(c, "POST", path, body, &j);
    if (rc != 0) {
        long st = cli_last_status(c);
        k->failed = true;
        cli_keyjob_done(k, (st >= 400 && st <= 499) || st < 0);
        return rc;
    }
    json_t *cid = json_object_get(j, "certificate_id");
    char hint[32];
    if (order_hint == NULL) {
        snprintf(hint, sizeof hint, "%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(j, "id")));
        order_hint = hint;
    }
    if (json_is_integer(cid) && (rc = cli_install(c, json_integer_value(cid), k)) != 0) {
        json_decref(j);
        cli_keyjob_done(k, false);
        return rc;
    }
    print_issued(c, j, k, order_hint);
    cli_keyjob_done(k, false);
    return 0;
}

/* The names of the CSR: cn first, then the SANs other than cn. */
static size_t csr_names(const char *cn, const char *const *sans, size_t n, const char **out)
{
    size_t o = 0;
    if (cn != NULL)
        out[o++] = cn;
    for (size_t i = 0; i < n && o < MAX_NAMES; i++)
        if (cn == NULL || strcmp(sans[i], cn) != 0)
            out[o++] = sans[i];
    return o;
}

/* Adds server_platform (by id or name) and signature_hash to a certificate object. */
static int cert_extras(cli_ctx *c, json_t *cert)
{
    const char *platform = arg_get(c, "platform");
    long long pid = 0;
    int rc = 0;
    if (platform != NULL && (rc = cli_platform_id(c, platform, &pid)) == 0)
        rc = body_set(cert, "server_platform", json_pack("{s:I}", "id", (json_int_t)pid));
    if (rc == 0)
        rc = body_str(c, cert, "signature_hash", arg_get(c, "hash"));
    return rc;
}

/* Sets cert.dns_names to the names given. 0, 2 (a name is not UTF-8) or 1. */
static int body_names(cli_ctx *c, json_t *cert, const char *const *v, size_t n)
{
    json_t *a = json_array();
    if (a == NULL || json_object_set_new(cert, "dns_names", a) != 0)
        return 1;
    for (size_t i = 0; i < n; i++) {
        json_t *s = json_string(v[i]);
        if (s == NULL)
            return cli_usage_verb(c, "the name \"%.64s\" is not UTF-8 text", v[i]);
        if (json_array_append_new(a, s) != 0)
            return 1;
    }
    return 0;
}

/* ---- order create ---- */

int cli_order_create(cli_ctx *c)
{
    const char *product = arg_pos(c, 0), *cn = arg_get(c, "cn");
    const char *sans[MAX_NAMES], *names[MAX_NAMES + 1], *org = arg_get(c, "org");
    const char *years = arg_get(c, "years");
    char path[PATH_MAX_LEN];
    cli_keyjob k;
    long y = 0;
    long long oid = 0;
    if (cn == NULL)
        return cli_usage_verb(c, "--cn NAME is required");
    size_t n_sans = arg_all(c, "san", sans, MAX_NAMES);
    if (n_sans > MAX_NAMES)
        return cli_usage_verb(c, "at most %d --san", MAX_NAMES);
    int rc = cli_keyjob_check(c);
    if (rc == 0 && org != NULL)
        rc = arg_id(c, org, "--org", &oid);
    if (rc == 0 && years != NULL)
        rc = arg_long(c, years, "--years", 1, 6, &y);
    if (rc != 0)
        return rc;
    char *esc = curl_easy_escape(NULL, product, 0);
    if (esc == NULL)
        return 1;
    rc = cli_path(path, sizeof path, "/order/certificate/%s", esc);
    curl_free(esc);
    json_t *body = json_object(), *cert = json_object();
    if (rc == 0 && (body == NULL || cert == NULL))
        rc = 1;
    if (rc == 0)
        rc = body_str(c, cert, "common_name", cn);
    if (rc == 0 && n_sans > 0)
        rc = body_names(c, cert, sans, n_sans);
    if (rc == 0)
        rc = cert_extras(c, cert);
    if (rc == 0 && oid > 0)
        rc = body_set(body, "organization", json_pack("{s:I}", "id", (json_int_t)oid));
    if (rc == 0 && y > 0)
        rc = body_set(body, "order_validity", json_pack("{s:i}", "years", (int)y));
    if (rc == 0 && arg_has(c, "auto-renew"))
        rc = body_set(body, "auto_renew", json_true());
    if (rc == 0)
        rc = body_str(c, body, "comments", arg_get(c, "comments"));
    if (rc == 0)
        rc = body_str(c, body, "dcv_method", arg_get(c, "dcv-method"));
    if (rc == 0)
        rc = body_str(c, body, "issuer", arg_get(c, "issuer"));
    if (rc == 0) {
        size_t n = csr_names(cn, sans, n_sans, names);
        rc = cli_keyjob_start(c, cn, names, n, &k);
        if (rc == 0) {
            rc = body_str(c, cert, "csr", k.csr_pem);
            if (rc == 0 && (rc = body_set(body, "certificate", json_incref(cert))) == 0)
                rc = send_and_install(c, path, body, &k, NULL);
            else
                cli_keyjob_done(&k, true);
        }
    }
    json_decref(cert);
    json_decref(body);
    return rc;
}

/* ---- duplicate, reissue ---- */

/* Reads order `id` (GET), for its names. Caller json_decref's *out. */
static int get_order(cli_ctx *c, long long id, json_t **out)
{
    char path[PATH_MAX_LEN];
    int rc = cli_path(path, sizeof path, "/order/certificate/%lld", id);
    return rc != 0 ? rc : cli_call(c, "GET", path, NULL, out);
}

/* The order's names (common name first), borrowed from `order`. */
static size_t order_names(const json_t *order, const char **cn, const char **names, size_t max)
{
    json_t *cert = json_object_get(order, "certificate"), *e;
    size_t i, n = 0;
    *cn = json_string_value(json_object_get(cert, "common_name"));
    json_array_foreach(json_object_get(cert, "dns_names"), i, e)
    {
        if (n < max && json_is_string(e))
            names[n++] = json_string_value(e);
    }
    return n;
}

/* duplicate create and reissue: POST /order/certificate/ID/`what`. */
static int copy_request(cli_ctx *c, const char *what)
{
    long long id;
    const char *sans[MAX_NAMES], *names[MAX_NAMES + 1], *cn = arg_get(c, "cn");
    char path[PATH_MAX_LEN], hint[32];
    json_t *order = NULL, *body = NULL, *cert = NULL;
    cli_keyjob k;
    int rc = arg_id(c, arg_pos(c, 0), "ORDER", &id);
    if (rc == 0)
        rc = cli_keyjob_check(c);
    if (rc != 0)
        return rc;
    size_t n_sans = arg_all(c, "san", sans, MAX_NAMES);
    if (n_sans > MAX_NAMES)
        return cli_usage_verb(c, "at most %d --san", MAX_NAMES);
    const char *file_cn = cn;
    const char *const *csr_sans = sans;
    size_t n_csr = n_sans;
    const char *order_sans[MAX_NAMES];
    /* The key's CSR and file names need the names: those given, else the order's. */
    if (arg_has(c, "generate-key") || arg_has(c, "out-dir")) {
        if ((rc = get_order(c, id, &order)) != 0)
            return rc;
        const char *ocn = NULL;
        size_t on = order_names(order, &ocn, order_sans, MAX_NAMES);
        if (file_cn == NULL)
            file_cn = ocn;
        if (n_sans == 0) {
            csr_sans = order_sans;
            n_csr = on;
        }
    }
    snprintf(hint, sizeof hint, "%lld", id);
    if ((body = json_object()) == NULL || (cert = json_object()) == NULL)
        rc = 1;
    if (rc == 0)
        rc = body_str(c, cert, "common_name", cn);
    if (rc == 0 && n_sans > 0)
        rc = body_names(c, cert, sans, n_sans);
    if (rc == 0)
        rc = cert_extras(c, cert);
    if (rc == 0)
        rc = body_str(c, cert, "valid_till", arg_get(c, "valid-till"));
    if (rc == 0)
        rc = body_str(c, body, "comments", arg_get(c, "comments"));
    if (rc == 0)
        rc = cli_path(path, sizeof path, "/order/certificate/%lld/%s", id, what);
    if (rc == 0) {
        size_t n = csr_names(file_cn, csr_sans, n_csr, names);
        rc = cli_keyjob_start(c, file_cn, names, n, &k);
        if (rc == 0) {
            rc = body_str(c, cert, "csr", k.csr_pem);
            if (rc == 0 && (rc = body_set(body, "certificate", json_incref(cert))) == 0)
                rc = send_and_install(c, path, body, &k, hint);
            else
                cli_keyjob_done(&k, true);
        }
    }
    json_decref(order);
    json_decref(cert);
    json_decref(body);
    return rc;
}

static int dup_create(cli_ctx *c)
{
    return copy_request(c, "duplicate");
}

static int reissue_create(cli_ctx *c)
{
    return copy_request(c, "reissue");
}

static const out_col copy_cols[] = {
    {"ID", "id"},
    {"KIND", "kind"},
    {"STATUS", "status"},
    {"COMMON NAME", "common_name"},
    {"VALID TILL", "valid_till"},
    {"PLATFORM", "server_platform.id"},
    {"SERIAL", "serial_number"},
};

/* GET /order/certificate/ID/`what` and print its certificates (and a pending reissue). */
static int copy_list(cli_ctx *c, const char *what)
{
    long long id;
    char path[PATH_MAX_LEN];
    json_t *j = NULL;
    int rc = arg_id(c, arg_pos(c, 0), "ORDER", &id);
    if (rc == 0)
        rc = cli_path(path, sizeof path, "/order/certificate/%lld/%s", id, what);
    if (rc == 0)
        rc = cli_call(c, "GET", path, NULL, &j);
    if (rc != 0)
        return rc;
    if (cli_json(c)) {
        out_json(j);
    } else {
        char what_s[32];
        snprintf(what_s, sizeof what_s, "%ss", what);
        out_table(json_object_get(j, "certificates"), copy_cols,
                  sizeof copy_cols / sizeof copy_cols[0], what_s, NULL);
        json_t *pending = json_object_get(j, "pending");
        if (json_is_object(pending)) {
            printf("pending reissue request:\n");
            out_kv(pending, 2);
        }
    }
    json_decref(j);
    return 0;
}

static int dup_list(cli_ctx *c)
{
    return copy_list(c, "duplicate");
}

static int reissue_list(cli_ctx *c)
{
    return copy_list(c, "reissue");
}

#define DUP_USAGE                                                                                  \
    "duplicate create ORDER (--csr FILE | --generate-key --out-dir DIR) [--cn NAME]\n"             \
    "         [--san NAME]... [--platform ID|NAME] [--hash H] [--valid-till DATE]\n"               \
    "         [--key-type ec|rsa] [--key-bits N] [--name FILEBASE] [--comments TEXT]"

static const cli_verb dup_verbs[] = {
    {"create", dup_create, 1, 1,
     KEY_OPTS "cn= san=* platform= hash= valid-till= comments=", DUP_USAGE},
    {"list", dup_list, 1, 1, "", "duplicate list ORDER"},
};

int cmd_duplicate(int argc, char **argv)
{
    return cli_dispatch(
        argc, argv, dup_verbs, sizeof dup_verbs / sizeof dup_verbs[0],
        "certmint duplicate: another certificate of an issued order, with its own key — one per\n"
        "server. Issued at once or refused. With --generate-key the key and CSR are made here\n"
        "(EC P-256 unless --key-type rsa), the key is written to DIR/NAME.key (mode 0600, never\n"
        "over a file, never sent) and the certificate, in its platform's format, beside it\n"
        "(nginx: DIR/NAME.crt, leaf then chain). NAME is the common name (\"*.\" → \"star.\")\n"
        "unless --name says otherwise. Example:\n"
        "  certmint duplicate create 42 --generate-key --out-dir /etc/nginx/tls --platform "
        "nginx\n");
}

#define REISSUE_USAGE                                                                              \
    "reissue ORDER (--csr FILE | --generate-key --out-dir DIR) [--cn NAME] [--san NAME]...\n"      \
    "         [--platform ID|NAME] [--hash H] [--comments TEXT] [--key-type ec|rsa]"

static const cli_verb reissue_verbs[] = {
    {"list", reissue_list, 1, 1, "", "reissue list ORDER"},
    {NULL, reissue_create, 1, 1, KEY_OPTS "cn= san=* platform= hash= comments=", REISSUE_USAGE},
};

int cmd_reissue(int argc, char **argv)
{
    return cli_dispatch(
        argc, argv, reissue_verbs, sizeof reissue_verbs / sizeof reissue_verbs[0],
        "certmint reissue: re-key an order's certificate with a new CSR, and\n"
        "change its names. New names wait for DCV (status reissue_pending);\n"
        "certificates carrying a removed name are revoked after the account's\n"
        "reissue_revoke_delay_hours. `order cancel` withdraws a pending reissue.\n");
}

/* ---- renew ---- */

static int renew(cli_ctx *c)
{
    long long id;
    const char *years = arg_get(c, "years"), *order_sans[MAX_NAMES], *names[MAX_NAMES + 1];
    const char *cn = NULL;
    char path[PATH_MAX_LEN];
    json_t *order = NULL, *body = NULL, *cert = NULL;
    cli_keyjob k;
    long y = 0;
    int rc = arg_id(c, arg_pos(c, 0), "ORDER", &id);
    if (rc == 0)
        rc = cli_keyjob_check(c);
    if (rc == 0 && years != NULL)
        rc = arg_long(c, years, "--years", 1, 6, &y);
    if (rc != 0 || (rc = get_order(c, id, &order)) != 0)
        return rc;
    /* The renewal orders the same product, names and organisation as the old order. */
    const char *product =
        json_string_value(json_object_get(json_object_get(order, "product"), "name_id"));
    json_t *ocert = json_object_get(order, "certificate");
    size_t n = order_names(order, &cn, order_sans, MAX_NAMES);
    json_t *org = json_object_get(json_object_get(order, "organization"), "id");
    json_t *platform = json_object_get(json_object_get(ocert, "server_platform"), "id");
    if (product == NULL || cn == NULL) {
        cm_err err;
        cm_err_set(&err, "response_invalid", "order %lld has no product or common name", id);
        json_decref(order);
        return cli_err(&err, 1);
    }
    char *esc = curl_easy_escape(NULL, product, 0);
    rc = esc == NULL ? 1 : cli_path(path, sizeof path, "/order/certificate/%s", esc);
    curl_free(esc);
    if (rc == 0 && ((body = json_object()) == NULL || (cert = json_object()) == NULL))
        rc = 1;
    if (rc == 0)
        rc = body_str(c, cert, "common_name", cn);
    if (rc == 0 && n > 0)
        rc = body_names(c, cert, order_sans, n);
    if (rc == 0 && json_is_integer(platform) && arg_get(c, "platform") == NULL)
        rc = body_set(cert, "server_platform", json_pack("{s:O}", "id", platform));
    if (rc == 0 && arg_get(c, "hash") == NULL &&
        json_is_string(json_object_get(ocert, "signature_hash")))
        rc =
            body_set(cert, "signature_hash", json_incref(json_object_get(ocert, "signature_hash")));
    if (rc == 0)
        rc = cert_extras(c, cert);
    if (rc == 0 && json_is_integer(org))
        rc = body_set(body, "organization", json_pack("{s:O}", "id", org));
    json_t *oy = json_object_get(json_object_get(order, "order_validity"), "years");
    if (rc == 0 && (y > 0 || json_is_integer(oy)))
        rc =
            body_set(body, "order_validity",
                     y > 0 ? json_pack("{s:i}", "years", (int)y) : json_pack("{s:O}", "years", oy));
    if (rc == 0 && json_is_true(json_object_get(order, "auto_renew")))
        rc = body_set(body, "auto_renew", json_true());
    if (rc == 0)
        rc = body_set(body, "renewal_of_order_id", json_integer(id));
    if (rc == 0)
        rc = body_str(c, body, "comments", arg_get(c, "comments"));
    if (rc == 0)
        rc = body_str(c, body, "dcv_method", arg_get(c, "dcv-method"));
    if (rc == 0) {
        size_t nn = csr_names(cn, order_sans, n, names);
        rc = cli_keyjob_start(c, cn, names, nn, &k);
        if (rc == 0) {
            rc = body_str(c, cert, "csr", k.csr_pem);
            if (rc == 0 && (rc = body_set(body, "certificate", json_incref(cert))) == 0)
                rc = send_and_install(c, path, body, &k, NULL);
            else
                cli_keyjob_done(&k, true);
        }
    }
    json_decref(order);
    json_decref(cert);
    json_decref(body);
    return rc;
}

#define RENEW_USAGE                                                                                \
    "renew ORDER (--csr FILE | --generate-key --out-dir DIR) [--years N]\n"                        \
    "         [--platform ID|NAME] [--hash H] [--comments TEXT] [--dcv-method M]"

static const cli_verb renew_verbs[] = {
    {NULL, renew, 1, 1, KEY_OPTS "years= platform= hash= comments= dcv-method=", RENEW_USAGE},
};

int cmd_renew(int argc, char **argv)
{
    return cli_dispatch(argc, argv, renew_verbs, 1,
                        "certmint renew: a new order (new id) that continues ORDER, with its\n"
                        "product, names, organisation, platform and coverage, and a new CSR.\n"
                        "The renewal window opens renewal_window_days (90) before the old\n"
                        "order's certificate ends.\n");
}
