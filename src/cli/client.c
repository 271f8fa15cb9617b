/* client.c — the client's settings and its HTTP calls to the REST API (libcurl, jansson). */
#include "cli/client.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "net/curl_once.h"
#include "util/str.h"

#define API_BASE "/services/v2"

/* ---- Settings ---- */

/* The configuration file's path into buf: $XDG_CONFIG_HOME/certmint/config, else
 * $HOME/.config/certmint/config (HOME from the password database when unset). Returns 0, or -1
 * when there is no home to look in. */
static int config_file_path(char *buf, size_t size)
{
    const char *xdg = getenv("XDG_CONFIG_HOME");
    if (xdg != NULL && xdg[0] == '/') {
        int n = snprintf(buf, size, "%s/certmint/config", xdg);
        return n > 0 && (size_t)n < size ? 0 : -1;
    }
    const char *home = getenv("HOME");
    if (home == NULL || home[0] != '/') {
        struct passwd *pw = getpwuid(getuid());
        home = pw != NULL ? pw->pw_dir : NULL;
    }
    if (home == NULL || home[0] != '/')
        return -1;
    int n = snprintf(buf, size, "%s/.config/certmint/config", home);
    return n > 0 && (size_t)n < size ? 0 : -1;
}

/* Strips blanks at both ends of s in place; returns s. */
static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

/* Reads the configuration file into the empty fields of `file` (server, key, ca_file). A missing
 * file is fine. */
static int config_file_read(cli_settings *file, cm_err *err)
{
    char path[1100];
    int rc = -1, fd = -1;
    char *buf = NULL;
    if (config_file_path(path, sizeof path) != 0)
        return 0;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 0;
        return cm_err_set(err, "file_unreadable", "cannot open %s: %s", path, strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        cm_err_set(err, "file_unreadable", "%s is not a regular file", path);
        goto out;
    }
    if (st.st_size > CLIENT_MAX_CONFIG) {
        cm_err_set(err, "config_invalid", "%s is larger than %d bytes", path, CLIENT_MAX_CONFIG);
        goto out;
    }
    if ((buf = malloc(CLIENT_MAX_CONFIG + 1)) == NULL) {
        cm_err_set(err, "out_of_memory", "out of memory reading %s", path);
        goto out;
    }
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, CLIENT_MAX_CONFIG - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            cm_err_set(err, "file_unreadable", "cannot read %s: %s", path, strerror(errno));
            goto out;
        }
        if (n == 0 || (len += (size_t)n) == CLIENT_MAX_CONFIG)
            break;
    }
    buf[len] = '\0';
    int lineno = 0;
    bool has_key = false;
    for (char *line = buf, *next; line != NULL; line = next) {
        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        lineno++;
        char *t = trim(line);
        if (t[0] == '\0' || t[0] == '#')
            continue;
        char *eq = strchr(t, '=');
        if (eq == NULL) {
            cm_err_set(err, "config_invalid", "%s line %d: write \"name = value\"", path, lineno);
            goto out;
        }
        *eq = '\0';
        char *name = trim(t), *value = trim(eq + 1);
        char *dst = NULL;
        size_t dsize = 0;
        if (strcmp(name, "server") == 0) {
            dst = file->server;
            dsize = sizeof file->server;
        } else if (strcmp(name, "key") == 0) {
            dst = file->key;
            dsize = sizeof file->key;
            has_key = value[0] != '\0';
        } else if (strcmp(name, "ca_file") == 0) {
            dst = file->ca_file;
            dsize = sizeof file->ca_file;
        } else {
            cm_err_set(err, "config_invalid",
                       "%s line %d: unknown setting \"%.40s\"; the settings are server, key and "
                       "ca_file",
                       path, lineno, name);
            goto out;
        }
        if (str_copy(dst, dsize, value) != 0) {
            cm_err_set(err, "config_invalid", "%s line %d: the value of %s is too long", path,
                       lineno, name);
            goto out;
        }
    }
    /* Checked on the open file, so what was read is what was checked. */
    if (has_key && (st.st_mode & 077) != 0) {
        cm_err_set(err, "config_insecure",
                   "%s holds an API key and other users may read it (mode %04o); run "
                   "`chmod 600 %s`, then create a new key: the old one may have been seen",
                   path, (unsigned)(st.st_mode & 0777), path);
        goto out;
    }
    if (has_key && st.st_uid != getuid() && st.st_uid != 0) {
        cm_err_set(err, "config_insecure",
                   "%s holds an API key and belongs to another user (uid %u); use a file of "
                   "your own",
                   path, (unsigned)st.st_uid);
        goto out;
    }
    str_copy(file->config_path, sizeof file->config_path, path);
    rc = 0;
out:
    if (buf != NULL) {
        explicit_bzero(buf, CLIENT_MAX_CONFIG + 1);
        free(buf);
    }
    if (rc != 0)
        explicit_bzero(file->key, sizeof file->key);
    close(fd);
    return rc;
}

/* Checks and normalises the server URL in place: http or https, a host, no query or fragment;
 * a trailing slash and a trailing /services/v2 are dropped. */
static int server_url_check(char *url, cm_err *err)
{
    int rc = -1;
    char *scheme = NULL, *host = NULL, *query = NULL, *frag = NULL, *user = NULL;
    CURLU *u = curl_url();
    if (u == NULL)
        return cm_err_set(err, "out_of_memory", "out of memory");
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
        cm_err_set(err, "field_invalid",
                   "the server URL \"%.200s\" is not an http:// or https:// URL such as "
                   "https://certmint.example.com:8443",
                   url);
        goto out;
    }
    if (curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_OK ||
        curl_url_get(u, CURLUPART_FRAGMENT, &frag, 0) == CURLUE_OK ||
        curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
        cm_err_set(err, "field_invalid",
                   "the server URL \"%.200s\" has a query, fragment or user name; give only "
                   "scheme, host, port and path",
                   url);
        goto out;
    }
    size_t n = strlen(url);
    while (n > 0 && url[n - 1] == '/')
        url[--n] = '\0';
    size_t b = strlen(API_BASE);
    if (n > b && strcmp(url + n - b, API_BASE) == 0)
        url[n - b] = '\0';
    rc = 0;
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(query);
    curl_free(frag);
    curl_free(user);
    curl_url_cleanup(u);
    return rc;
}

int client_settings(const char *flag_server, const char *flag_key, const char *flag_ca,
                    cli_settings *out, cm_err *err)
{
    cli_settings file;
    memset(&file, 0, sizeof file);
    memset(out, 0, sizeof *out);
    int rc = -1;
    if (config_file_read(&file, err) != 0)
        goto out;
    str_copy(out->config_path, sizeof out->config_path, file.config_path);
    const char *env_server = getenv("CERTMINT_SERVER"), *env_key = getenv("CERTMINT_KEY");
    const char *env_ca = getenv("CERTMINT_CA_FILE");
    const char *server = !str_empty(flag_server)  ? flag_server
                         : !str_empty(env_server) ? env_server
                                                  : file.server;
    const char *key = !str_empty(flag_key) ? flag_key : !str_empty(env_key) ? env_key : file.key;
    const char *ca = !str_empty(flag_ca) ? flag_ca : !str_empty(env_ca) ? env_ca : file.ca_file;
    if (str_empty(server)) {
        cm_err_set(err, "server_required",
                   "no server URL: give --server URL, set CERTMINT_SERVER, or write "
                   "\"server = URL\" in ~/.config/certmint/config");
        goto out;
    }
    if (str_empty(key)) {
        cm_err_set(err, "key_required",
                   "no API key: give --key KEY, set CERTMINT_KEY, or write \"key = KEY\" in "
                   "~/.config/certmint/config (mode 0600)");
        goto out;
    }
    if (str_copy(out->server, sizeof out->server, server) != 0) {
        cm_err_set(err, "field_invalid", "the server URL is longer than %zu bytes",
                   sizeof out->server - 1);
        goto out;
    }
    if (server_url_check(out->server, err) != 0)
        goto out;
    size_t klen = strlen(key);
    bool key_ok = klen < sizeof out->key;
    for (size_t i = 0; key_ok && i < klen; i++)
        key_ok = key[i] > 0x20 && key[i] < 0x7f;
    if (!key_ok) {
        /* The message never repeats the key. */
        cm_err_set(err, "field_invalid",
                   "the API key is not valid: it must be one word of printable characters, at "
                   "most %zu of them",
                   sizeof out->key - 1);
        goto out;
    }
    memcpy(out->key, key, klen + 1);
    if (str_copy(out->ca_file, sizeof out->ca_file, ca) != 0) {
        cm_err_set(err, "field_invalid", "the CA file path is too long");
        goto out;
    }
    rc = 0;
out:
    explicit_bzero(file.key, sizeof file.key);
    if (rc != 0)
        explicit_bzero(out->key, sizeof out->key);
    return rc;
}

/* ---- HTTP ---- */

struct cm_client {
    CURL *curl;
    cli_settings s;
    long last_status; /* of the last request; 0 when it got no answer */
};

long client_last_status(const cm_client *c)
{
    return c != NULL ? c->last_status : 0;
}

int client_open(const cli_settings *s, cm_client **out, cm_err *err)
{
    *out = NULL;
    if (net_curl_init() != 0)
        return cm_err_set(err, "network_error", "libcurl could not be initialised");
    cm_client *c = calloc(1, sizeof *c);
    if (c == NULL)
        return cm_err_set(err, "out_of_memory", "out of memory");
    if ((c->curl = curl_easy_init()) == NULL) {
        free(c);
        return cm_err_set(err, "network_error", "libcurl could not make a handle");
    }
    c->s = *s;
    *out = c;
    return 0;
}

void client_close(cm_client *c)
{
    if (c == NULL)
        return;
    curl_easy_cleanup(c->curl);
    explicit_bzero(c->s.key, sizeof c->s.key);
    free(c);
}

void client_resp_free(client_resp *r)
{
    if (r == NULL)
        return;
    free(r->body);
    r->body = NULL;
    r->len = 0;
}

typedef struct recv_buf {
    client_resp *r;
    size_t cap;
    bool too_large, oom;
} recv_buf;

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
    recv_buf *b = userdata;
    size_t n = size * nmemb;
    if (n > CLIENT_MAX_RESPONSE - b->r->len) {
        b->too_large = true;
        return 0;
    }
    if (b->r->len + n + 1 > b->cap) {
        size_t cap = b->cap == 0 ? 16384 : b->cap;
        while (cap < b->r->len + n + 1)
            cap *= 2;
        if (cap > CLIENT_MAX_RESPONSE + 1)
            cap = CLIENT_MAX_RESPONSE + 1;
        unsigned char *p = realloc(b->r->body, cap);
        if (p == NULL) {
            b->oom = true;
            return 0;
        }
        b->r->body = p;
        b->cap = cap;
    }
    memcpy(b->r->body + b->r->len, data, n);
    b->r->len += n;
    b->r->body[b->r->len] = '\0';
    return n;
}

/* The file name of a Content-Disposition value, reduced to a plain name: what follows the last
 * '/' or '\\', only [A-Za-z0-9._-], never starting with a dot. */
static void disposition_name(const char *v, size_t n, char *out, size_t size)
{
    out[0] = '\0';
    const char *p = NULL;
    for (size_t i = 0; i + 9 <= n; i++)
        if (strncasecmp(v + i, "filename=", 9) == 0) {
            p = v + i + 9;
            break;
        }
    if (p == NULL)
        return;
    const char *end = v + n;
    if (p < end && *p == '"')
        p++;
    size_t o = 0;
    for (; p < end && *p != '"' && *p != ';' && *p != '\r' && *p != '\n'; p++) {
        char ch = *p;
        if (ch == '/' || ch == '\\') {
            o = 0;
            continue;
        }
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || (ch == '.' && o > 0);
        if (ok && o + 1 < size)
            out[o++] = ch;
    }
    out[o] = '\0';
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userdata)
{
    client_resp *r = userdata;
    size_t n = size * nmemb;
    static const char ct[] = "content-type:", cd[] = "content-disposition:";
    if (n > sizeof ct - 1 && strncasecmp(data, ct, sizeof ct - 1) == 0) {
        const char *v = data + sizeof ct - 1;
        size_t left = n - (sizeof ct - 1), o = 0;
        while (left > 0 && (*v == ' ' || *v == '\t')) {
            v++;
            left--;
        }
        for (; left > 0 && *v != ';' && *v != '\r' && *v != '\n' && *v != ' '; v++, left--)
            if (o + 1 < sizeof r->content_type) {
                char ch = *v;
                r->content_type[o++] = (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch;
            }
        r->content_type[o] = '\0';
    } else if (n > sizeof cd - 1 && strncasecmp(data, cd, sizeof cd - 1) == 0) {
        disposition_name(data + sizeof cd - 1, n - (sizeof cd - 1), r->filename,
                         sizeof r->filename);
    }
    return n;
}

int client_request(cm_client *c, const char *method, const char *path, const json_t *body,
                   client_resp *resp, cm_err *err)
{
    int rc = -1;
    char url[3200], hdr[300], ebuf[CURL_ERROR_SIZE];
    char *data = NULL;
    struct curl_slist *headers = NULL;
    recv_buf rb = {.r = resp};
    memset(resp, 0, sizeof *resp);
    c->last_status = 0;
    ebuf[0] = '\0';
    if (path[0] != '/' ||
        snprintf(url, sizeof url, "%s%s%s", c->s.server, API_BASE, path) >= (int)sizeof url)
        return cm_err_set(err, "field_invalid", "the request path is too long");
    if (body != NULL && (data = json_dumps(body, JSON_COMPACT)) == NULL)
        return cm_err_set(err, "out_of_memory", "out of memory encoding the request");
    CURL *h = c->curl;
    curl_easy_reset(h);
    snprintf(hdr, sizeof hdr, "X-DC-DEVKEY: %s", c->s.key);
    struct curl_slist *l = curl_slist_append(NULL, hdr);
    explicit_bzero(hdr, sizeof hdr);
    if (l == NULL)
        goto oom;
    headers = l;
    if ((l = curl_slist_append(headers, "Accept: application/json, */*")) == NULL)
        goto oom;
    if (data != NULL && (l = curl_slist_append(headers, "Content-Type: application/json")) == NULL)
        goto oom;
    if ((l = curl_slist_append(headers, "Expect:")) == NULL)
        goto oom;
    CURLcode cc = CURLE_OK;
#define SETOPT(o, v)                                                                               \
    do {                                                                                           \
        if (cc == CURLE_OK)                                                                        \
            cc = curl_easy_setopt(h, o, v);                                                        \
    } while (0)
    SETOPT(CURLOPT_URL, url);
    SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
    SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
    SETOPT(CURLOPT_NOSIGNAL, 1L);
    SETOPT(CURLOPT_CONNECTTIMEOUT, 15L);
    SETOPT(CURLOPT_TIMEOUT, 600L); /* issuance may wait for DNS (CAA) and the signer */
    SETOPT(CURLOPT_USERAGENT, "certmint/0.1.0");
    SETOPT(CURLOPT_HTTPHEADER, headers);
    SETOPT(CURLOPT_ERRORBUFFER, ebuf);
    SETOPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)CLIENT_MAX_RESPONSE);
    SETOPT(CURLOPT_WRITEFUNCTION, on_body);
    SETOPT(CURLOPT_WRITEDATA, &rb);
    SETOPT(CURLOPT_HEADERFUNCTION, on_header);
    SETOPT(CURLOPT_HEADERDATA, resp);
    if (c->s.ca_file[0] != '\0')
        SETOPT(CURLOPT_CAINFO, c->s.ca_file);
    if (strcmp(method, "GET") != 0) {
        if (strcmp(method, "POST") != 0)
            SETOPT(CURLOPT_CUSTOMREQUEST, method);
        if (data != NULL) {
            SETOPT(CURLOPT_POSTFIELDS, data);
            SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(data));
        } else if (strcmp(method, "POST") == 0) {
            SETOPT(CURLOPT_POSTFIELDS, "");
            SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
        }
    }
#undef SETOPT
    if (cc == CURLE_OK)
        cc = curl_easy_perform(h);
    if (cc != CURLE_OK) {
        /* Failures before the request left: the server surely did nothing. */
        if (cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST ||
            cc == CURLE_COULDNT_RESOLVE_PROXY || cc == CURLE_PEER_FAILED_VERIFICATION ||
            cc == CURLE_SSL_CACERT_BADFILE || cc == CURLE_SSL_CONNECT_ERROR ||
            cc == CURLE_UNSUPPORTED_PROTOCOL || cc == CURLE_URL_MALFORMAT)
            c->last_status = -1;
        if (rb.too_large || cc == CURLE_FILESIZE_EXCEEDED)
            cm_err_set(err, "response_too_large",
                       "the server's answer is larger than %u bytes; this client refuses it",
                       CLIENT_MAX_RESPONSE);
        else if (rb.oom)
            cm_err_set(err, "out_of_memory", "out of memory reading the server's answer");
        else if (cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE ||
                 cc == CURLE_SSL_CONNECT_ERROR)
            cm_err_set(err, "tls_failed",
                       "TLS with %s failed: %s; for a server with a private root give "
                       "--ca-file ROOT.pem (or ca_file in the config file)",
                       c->s.server, ebuf[0] != '\0' ? ebuf : curl_easy_strerror(cc));
        else
            cm_err_set(err, "network_error", "no answer from %s: %s", c->s.server,
                       ebuf[0] != '\0' ? ebuf : curl_easy_strerror(cc));
        goto out;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
    c->last_status = resp->status;
    if (resp->body == NULL && (resp->body = calloc(1, 1)) == NULL)
        goto oom;
    rc = 0;
    goto out;
oom:
    cm_err_set(err, "out_of_memory", "out of memory");
out:
    /* The header list holds the key: wipe each entry before it is freed. */
    for (struct curl_slist *e = headers; e != NULL; e = e->next)
        explicit_bzero(e->data, strlen(e->data));
    curl_slist_free_all(headers);
    free(data);
    if (rc != 0)
        client_resp_free(resp);
    return rc;
}

/* Copies text into dst for a message: control characters become '?'. */
static void clean_copy(char *dst, size_t size, const char *src)
{
    size_t o = 0;
    for (; *src != '\0' && o + 1 < size; src++)
        dst[o++] = ((unsigned char)*src < 0x20 || *src == 0x7f) ? '?' : *src;
    dst[o] = '\0';
}

int client_error_from(const client_resp *r, cm_err *err)
{
    json_t *j = NULL;
    if (r->len > 0)
        j = json_loadb((const char *)r->body, r->len, 0, NULL);
    json_t *errors = json_object_get(j, "errors");
    json_t *first = json_array_get(errors, 0);
    const char *code = json_string_value(json_object_get(first, "code"));
    const char *msg = json_string_value(json_object_get(first, "message"));
    if (code != NULL && msg != NULL) {
        char c[48], m[512];
        clean_copy(c, sizeof c, code);
        clean_copy(m, sizeof m, msg);
        size_t more = json_array_size(errors);
        if (more > 1) {
            size_t used = strlen(m);
            for (size_t i = 1; i < more && used + 1 < sizeof m; i++) {
                const char *oc =
                    json_string_value(json_object_get(json_array_get(errors, i), "code"));
                int w = snprintf(m + used, sizeof m - used, "%s%s", i == 1 ? " (also: " : ", ",
                                 oc != NULL ? oc : "?");
                if (w < 0 || (size_t)w >= sizeof m - used)
                    break;
                used += (size_t)w;
            }
            if (used + 2 < sizeof m)
                snprintf(m + used, sizeof m - used, ")");
        }
        cm_err_set(err, c, "%s", m);
    } else {
        char snippet[160];
        clean_copy(snippet, sizeof snippet, r->len > 0 ? (const char *)r->body : "");
        char c[48];
        snprintf(c, sizeof c, "http_%ld", r->status);
        cm_err_set(err, c, "the server answered HTTP %ld%s%s", r->status,
                   snippet[0] != '\0' ? ": " : "", snippet);
    }
    json_decref(j);
    return -1;
}

int client_call(cm_client *c, const char *method, const char *path, const json_t *body,
                json_t **out, cm_err *err)
{
    client_resp r;
    *out = NULL;
    if (client_request(c, method, path, body, &r, err) != 0)
        return -1;
    int rc = -1;
    if (r.status < 200 || r.status > 299) {
        client_error_from(&r, err);
        goto out;
    }
    if (r.len == 0) {
        if ((*out = json_object()) == NULL) {
            cm_err_set(err, "out_of_memory", "out of memory");
            goto out;
        }
        rc = 0;
        goto out;
    }
    json_error_t je;
    *out = json_loadb((const char *)r.body, r.len, JSON_REJECT_DUPLICATES, &je);
    if (*out == NULL) {
        cm_err_set(err, "response_invalid",
                   "the server's answer (HTTP %ld, %s) is not JSON: %s; is %s a certmint "
                   "server?",
                   r.status, r.content_type[0] != '\0' ? r.content_type : "no type", je.text,
                   c->s.server);
        goto out;
    }
    rc = 0;
out:
    client_resp_free(&r);
    return rc;
}
