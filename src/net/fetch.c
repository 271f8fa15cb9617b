/* fetch.c — http_fetch: one validation GET with hand-checked redirects. */
#include "net/fetch.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "net/curl_once.h"
#include "net/dns.h"
#include "util/str.h"

#define URL_MAX 2048

typedef struct fetch_buf {
    unsigned char *data;
    size_t len;
    bool toobig;
} fetch_buf;

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    fetch_buf *b = userdata;
    size_t n = size * nmemb;
    if (n > FETCH_MAX_BODY - b->len) {
        b->toobig = true;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    if (b->data == NULL) {
        b->data = malloc(FETCH_MAX_BODY + 1);
        if (b->data == NULL)
            return 0;
    }
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    return n;
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The parts of a URL that the redirect rules look at. */
typedef struct url_parts {
    char scheme[16];
    char host[256]; /* as in the URL; IPv6 literals keep their brackets */
    long port;      /* explicit or the scheme's default */
} url_parts;

/* Checks `url` against the rules of BR §3.2.2.4.18: http or https, and port 80 or 443 when a
 * port is given. `what` says whether it is the first URL or a redirect target. */
static int check_url(const char *url, const char *what, url_parts *u, cm_err *err)
{
    CURLU *h = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL;
    int rc = -1;
    const char *code = strcmp(what, "URL") == 0 ? "http_fetch_failed" : "http_redirect_refused";
    if (h == NULL) {
        cm_err_set(err, "out_of_memory", "out of memory");
        goto out;
    }
    if (strlen(url) >= URL_MAX ||
        curl_url_set(h, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
        curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        cm_err_set(err, code, "%s \"%.200s\" is not a valid absolute URL", what, url);
        goto out;
    }
    if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0) {
        cm_err_set(err, code,
                   "%s \"%.200s\" is not http:// or https://; the http-token method "
                   "follows redirects to http and https URLs only (BR 3.2.2.4.18)",
                   what, url);
        goto out;
    }
    CURLUcode pc = curl_url_get(h, CURLUPART_PORT, &port, 0);
    if (pc == CURLUE_OK) {
        if (str_to_long(port, 1, 65535, &u->port) != 0 || (u->port != 80 && u->port != 443)) {
            cm_err_set(err, code,
                       "%s \"%.200s\" uses port %.8s; the http-token method uses "
                       "port 80 or 443 only (BR 3.2.2.4.18: Authorized Ports)",
                       what, url, port);
            goto out;
        }
    } else if (pc == CURLUE_NO_PORT) {
        u->port = strcasecmp(scheme, "https") == 0 ? 443 : 80;
    } else {
        cm_err_set(err, code, "%s \"%.200s\" has an invalid port", what, url);
        goto out;
    }
    if (str_copy(u->scheme, sizeof u->scheme, scheme) != 0 ||
        str_copy(u->host, sizeof u->host, host) != 0 || u->host[0] == '\0') {
        cm_err_set(err, code, "%s \"%.200s\" has an unusable host", what, url);
        goto out;
    }
    str_lower(u->scheme);
    rc = 0;
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(h);
    return rc;
}

/* True when an http_resolve item already gives an address for host:port. */
static bool resolve_covers(const char *list, const char *host, long port)
{
    char prefix[300];
    int pn = snprintf(prefix, sizeof prefix, "%s:%ld:", host, port);
    if (pn < 0 || (size_t)pn >= sizeof prefix)
        return false;
    for (const char *p = list; p != NULL && *p != '\0';) {
        if (strncasecmp(p, prefix, (size_t)pn) == 0)
            return true;
        p = strchr(p, ',');
        if (p != NULL)
            p++;
    }
    return false;
}

/* The CURLOPT_RESOLVE list for one hop: every http_resolve item, plus the addresses of the
 * hop's host from cfg->dns_server when it is set and no item covers it. */
static int build_resolve(const cm_config *cfg, const url_parts *u, struct curl_slist **out,
                         cm_err *err)
{
    struct curl_slist *l = NULL, *t;
    char **addrs = NULL;
    size_t n_addrs = 0;
    char item[1024];
    int rc = -1;
    for (const char *p = cfg->http_resolve; *p != '\0';) {
        size_t n = strcspn(p, ",");
        if (n > 0 && n < sizeof item) {
            memcpy(item, p, n);
            item[n] = '\0';
            if ((t = curl_slist_append(l, item)) == NULL)
                goto oom;
            l = t;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    struct in6_addr ip;
    bool literal = u->host[0] == '[' || inet_pton(AF_INET, u->host, &ip) == 1;
    if (!str_empty(cfg->dns_server) && !literal &&
        !resolve_covers(cfg->http_resolve, u->host, u->port)) {
        if (dns_addrs(cfg, u->host, &addrs, &n_addrs, err) != 0)
            goto out;
        if (n_addrs == 0) {
            cm_err_set(err, "http_fetch_failed", "%s has no A or AAAA record at DNS server %s",
                       u->host, cfg->dns_server);
            goto out;
        }
        int used = snprintf(item, sizeof item, "%s:%ld:", u->host, u->port);
        for (size_t i = 0; i < n_addrs && used > 0 && (size_t)used < sizeof item; i++) {
            bool v6 = strchr(addrs[i], ':') != NULL;
            used += snprintf(item + used, sizeof item - (size_t)used, "%s%s%s%s", i > 0 ? "," : "",
                             v6 ? "[" : "", addrs[i], v6 ? "]" : "");
        }
        if (used < 0 || (size_t)used >= sizeof item) {
            cm_err_set(err, "http_fetch_failed", "%s has too many addresses", u->host);
            goto out;
        }
        if ((t = curl_slist_append(l, item)) == NULL)
            goto oom;
        l = t;
    }
    *out = l;
    l = NULL;
    rc = 0;
    goto out;
oom:
    cm_err_set(err, "out_of_memory", "out of memory");
out:
    dns_free_list(addrs, n_addrs);
    curl_slist_free_all(l);
    return rc;
}

int http_fetch(const cm_config *cfg, const char *url, unsigned char **body, size_t *len,
               long *status, cm_err *err)
{
    char cur[URL_MAX], errbuf[CURL_ERROR_SIZE];
    CURL *c = NULL;
    struct curl_slist *resolve = NULL;
    fetch_buf b = {0};
    long deadline = now_ms() + FETCH_TIMEOUT_MS;
    url_parts u;
    int rc = -1;
    *body = NULL;
    *len = 0;
    *status = 0;
    if (net_curl_init() != 0) {
        cm_err_set(err, "http_fetch_failed", "libcurl failed to initialise");
        goto out;
    }
    if (check_url(url, "URL", &u, err) != 0)
        goto out;
    if (str_copy(cur, sizeof cur, url) != 0) {
        cm_err_set(err, "http_fetch_failed", "URL longer than %d characters", URL_MAX - 1);
        goto out;
    }
    for (int hop = 0;; hop++) {
        long left = deadline - now_ms();
        if (left <= 0) {
            cm_err_set(err, "http_fetch_failed", "GET %.200s: gave up after %d s in all", cur,
                       FETCH_TIMEOUT_MS / 1000);
            goto out;
        }
        curl_easy_cleanup(c);
        curl_slist_free_all(resolve);
        resolve = NULL;
        free(b.data);
        memset(&b, 0, sizeof b);
        if ((c = curl_easy_init()) == NULL) {
            cm_err_set(err, "http_fetch_failed", "libcurl could not make a handle");
            goto out;
        }
        if (build_resolve(cfg, &u, &resolve, err) != 0)
            goto out;
        left = deadline - now_ms(); /* the lookups through dns_server count too */
        if (left <= 0) {
            cm_err_set(err, "http_fetch_failed", "GET %.200s: gave up after %d s in all", cur,
                       FETCH_TIMEOUT_MS / 1000);
            goto out;
        }
        errbuf[0] = '\0';
        curl_easy_setopt(c, CURLOPT_URL, cur);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, left);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
        curl_easy_setopt(c, CURLOPT_PROXY, "");
        curl_easy_setopt(c, CURLOPT_USERAGENT, "certmint-dcv/0.1");
        curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)FETCH_MAX_BODY);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
        if (resolve != NULL)
            curl_easy_setopt(c, CURLOPT_RESOLVE, resolve);
        CURLcode res = curl_easy_perform(c);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
        if (b.toobig || res == CURLE_FILESIZE_EXCEEDED) {
            cm_err_set(err, "http_fetch_failed",
                       "GET %.200s: the body is larger than %d bytes; "
                       "the validation file holds only the value",
                       cur, FETCH_MAX_BODY);
            goto out;
        }
        if (res != CURLE_OK) {
            cm_err_set(err, "http_fetch_failed", "GET %.200s: %s", cur,
                       errbuf[0] != '\0' ? errbuf : curl_easy_strerror(res));
            goto out;
        }
        if (*status >= 200 && *status <= 299)
            break;
        if (*status != 301 && *status != 302 && *status != 307 && *status != 308) {
            if (*status >= 300 && *status <= 399)
                cm_err_set(err, "http_redirect_refused",
                           "GET %.200s: HTTP %ld; only 301, 302, "
                           "307 and 308 redirects are followed (BR 3.2.2.4.18)",
                           cur, *status);
            else
                cm_err_set(err, "http_fetch_failed", "GET %.200s: HTTP %ld (expected 200)", cur,
                           *status);
            goto out;
        }
        char *loc = NULL;
        if (curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc) != CURLE_OK || loc == NULL) {
            cm_err_set(err, "http_fetch_failed",
                       "GET %.200s: HTTP %ld without a usable "
                       "Location header",
                       cur, *status);
            goto out;
        }
        if (hop + 1 > FETCH_MAX_REDIRECTS) {
            cm_err_set(err, "http_redirect_refused",
                       "GET %.200s: more than %d redirects "
                       "(next: %.200s)",
                       url, FETCH_MAX_REDIRECTS, loc);
            goto out;
        }
        if (check_url(loc, "redirect to", &u, err) != 0)
            goto out;
        if (str_copy(cur, sizeof cur, loc) != 0) {
            cm_err_set(err, "http_redirect_refused",
                       "redirect to a URL longer than %d "
                       "characters",
                       URL_MAX - 1);
            goto out;
        }
    }
    if (b.data == NULL && (b.data = malloc(1)) == NULL) {
        cm_err_set(err, "out_of_memory", "out of memory");
        goto out;
    }
    b.data[b.len] = '\0';
    *body = b.data;
    *len = b.len;
    b.data = NULL;
    rc = 0;
out:
    free(b.data);
    curl_slist_free_all(resolve);
    curl_easy_cleanup(c);
    return rc;
}
