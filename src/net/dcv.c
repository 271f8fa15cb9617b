/* dcv.c — dns-txt-token, dns-cname-token and http-token checks, and the CAA climb. */
#include "net/dcv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/caa.h"
#include "net/dns.h"
#include "net/fetch.h"
#include "util/str.h"

#define VALUE_MAX 255

static void say(char *found, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void say(char *found, size_t size, const char *fmt, ...)
{
    va_list ap;
    if (found == NULL || size == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(found, size, fmt, ap);
    va_end(ap);
}

/* An A-label host name: LDH labels of 1 to 63 characters, 253 in all, no trailing dot. The
 * value ends up in a URL and in DNS queries, so nothing else may pass. */
static int check_domain(const char *domain, cm_err *err)
{
    size_t n = domain != NULL ? strlen(domain) : 0, label = 0;
    if (n == 0 || n > 253)
        return cm_err_set(err, "dcv_domain_invalid",
                          "the domain to validate must have 1 to 253 "
                          "characters");
    if (strncmp(domain, "*.", 2) == 0)
        return cm_err_set(err, "dcv_domain_invalid",
                          "validate \"%.253s\" (without \"*.\"): "
                          "domain control covers the names under it",
                          domain + 2);
    for (size_t i = 0; i < n; i++) {
        char c = domain[i];
        bool ldh =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
        if (c == '.') {
            if (label == 0 || domain[i - 1] == '-' || i == n - 1)
                goto bad;
            label = 0;
            continue;
        }
        if (!ldh || (label == 0 && c == '-') || ++label > 63)
            goto bad;
    }
    if (domain[n - 1] == '-')
        goto bad;
    return 0;
bad:
    return cm_err_set(err, "dcv_domain_invalid",
                      "\"%.253s\" is not a domain name in A-label "
                      "form (letters, digits and hyphens in dot-separated labels of 1 to 63, "
                      "no trailing dot)",
                      domain);
}

/* Printable ASCII without spaces, 1 to 255 characters. */
static int check_value(const char *value, cm_err *err)
{
    size_t n = value != NULL ? strlen(value) : 0;
    if (n == 0 || n > VALUE_MAX)
        return cm_err_set(err, "dcv_value_invalid",
                          "the random value must have 1 to %d "
                          "characters",
                          VALUE_MAX);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)value[i] <= 0x20 || (unsigned char)value[i] >= 0x7f)
            return cm_err_set(err, "dcv_value_invalid",
                              "the random value must be printable "
                              "ASCII without spaces");
    return 0;
}

/* The string without leading and trailing spaces/tabs equals value. */
static bool trimmed_equal(const char *s, const char *value)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    return n == strlen(value) && memcmp(s, value, n) == 0;
}

/* Appends the TXT strings found, quoted and shortened, to a summary for the message. */
static void summarise(char *sum, size_t size, const char *name, char **txt, size_t n)
{
    size_t used = strlen(sum);
    int w;
    if (n == 0)
        w = snprintf(sum + used, size - used, "%sno TXT record at %.253s", used ? "; " : "", name);
    else
        w = snprintf(sum + used, size - used, "%s%zu at %.253s:", used ? "; " : "", n, name);
    for (size_t i = 0; i < n && i < 3 && w >= 0 && (size_t)w < size - used; i++) {
        used = strlen(sum);
        w = snprintf(sum + used, size - used, " \"%.40s%s\"", txt[i],
                     strlen(txt[i]) > 40 ? "..." : "");
    }
    used = strlen(sum);
    if (n > 3 && used < size)
        snprintf(sum + used, size - used, " and %zu more", n - 3);
}

static int check_txt(const cm_config *cfg, const char *domain, const char *value, char *found,
                     size_t found_size, cm_err *err)
{
    char names[2][300], sum[300] = "";
    snprintf(names[0], sizeof names[0], "%s.%s", DCV_TXT_LABEL, domain);
    snprintf(names[1], sizeof names[1], "%s", domain);
    for (int i = 0; i < 2; i++) {
        char **txt = NULL;
        size_t n = 0;
        bool hit = false;
        /* A DNS failure stops the check: it is not proof of absence. */
        if (dns_txt(cfg, names[i], &txt, &n, err) != 0)
            return -1;
        for (size_t j = 0; j < n && !hit; j++)
            hit = trimmed_equal(txt[j], value);
        summarise(sum, sizeof sum, names[i], txt, n);
        dns_free_list(txt, n);
        if (hit) {
            say(found, found_size, "TXT record at %s holds the value", names[i]);
            return 0;
        }
    }
    return cm_err_set(err, "dcv_txt_not_found",
                      "no TXT record at %s or %s holds the value \"%.80s\" (found: %s); publish "
                      "it as a TXT record at %s",
                      names[0], names[1], value, sum, names[0]);
}

/* Lower-case copy without a trailing dot. */
static void canonical(char *out, size_t size, const char *in)
{
    str_copy(out, size, in);
    size_t n = strlen(out);
    if (n > 0 && out[n - 1] == '.')
        out[n - 1] = '\0';
    str_lower(out);
}

static int check_cname(const cm_config *cfg, const char *domain, const char *value, char *found,
                       size_t found_size, cm_err *err)
{
    char name[600], target[300], want[300];
    size_t vn = strlen(value);
    bool label = vn <= 63 && value[0] != '-' && value[vn - 1] != '-';
    for (size_t i = 0; i < vn && label; i++) {
        char c = value[i];
        label = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '_';
    }
    if (!label)
        return cm_err_set(err, "dcv_value_invalid",
                          "the dns-cname-token value \"%.80s\" is not "
                          "a DNS label (letters, digits, '-', '_'; at most 63)",
                          value);
    if (str_empty(cfg->dcv_cname_target))
        return cm_err_set(err, "dcv_cname_not_found",
                          "dcv_cname_target is not configured; set "
                          "it to the name dns-cname-token records must point to");
    if ((size_t)snprintf(name, sizeof name, "%s.%s", value, domain) >= 254)
        return cm_err_set(err, "dcv_value_invalid", "%s.%s is longer than 253 characters", value,
                          domain);
    if (dns_cname(cfg, name, target, sizeof target, err) != 0)
        return -1;
    canonical(want, sizeof want, cfg->dcv_cname_target);
    if (target[0] != '\0' && strcmp(target, want) == 0) {
        say(found, found_size, "CNAME record at %s points to %s", name, target);
        return 0;
    }
    if (target[0] == '\0')
        return cm_err_set(err, "dcv_cname_not_found",
                          "no CNAME record at %s; publish %s CNAME "
                          "%s",
                          name, name, want);
    return cm_err_set(err, "dcv_cname_not_found",
                      "the CNAME record at %s points to %s, not to "
                      "%s; change it to %s CNAME %s",
                      name, target, want, name, want);
}

static int check_http(const cm_config *cfg, const char *domain, const char *value, char *found,
                      size_t found_size, cm_err *err)
{
    char url[400];
    unsigned char *body = NULL;
    size_t len = 0;
    long status = 0;
    snprintf(url, sizeof url, "http://%s%s", domain, DCV_HTTP_PATH);
    if (http_fetch(cfg, url, &body, &len, &status, err) != 0)
        return -1;
    /* The body is bounded (64 KiB); memmem copes with NUL bytes in it. */
    bool hit = memmem(body, len, value, strlen(value)) != NULL;
    size_t shown = 0;
    char excerpt[64];
    for (size_t i = 0; i < len && shown < 40; i++)
        excerpt[shown++] = body[i] >= 0x20 && body[i] < 0x7f ? (char)body[i] : '.';
    excerpt[shown] = '\0';
    free(body);
    if (hit) {
        say(found, found_size, "%s contains the value", url);
        return 0;
    }
    return cm_err_set(err, "dcv_http_not_found",
                      "%s answered HTTP %ld with %zu bytes (\"%s%s\") "
                      "that do not contain the value \"%.80s\"; put the value in that file",
                      url, status, len, excerpt, len > 40 ? "..." : "", value);
}

int dcv_check_detail(const cm_config *cfg, const char *method, const char *domain,
                     const char *value, char *found, size_t found_size, cm_err *err)
{
    if (found != NULL && found_size > 0)
        found[0] = '\0';
    if (method == NULL)
        method = "";
    bool known = strcmp(method, "dns-txt-token") == 0 || strcmp(method, "dns-cname-token") == 0 ||
                 strcmp(method, "http-token") == 0;
    if (strcmp(method, "email") == 0)
        return cm_err_set(err, "dcv_method_invalid",
                          "the email method is completed by the link in the mail, not by a "
                          "network check; use dns-txt-token, dns-cname-token or http-token here");
    if (!known)
        return cm_err_set(err, "dcv_method_invalid",
                          "unknown DCV method \"%.40s\"; use "
                          "dns-txt-token, dns-cname-token or http-token",
                          method);
    if (check_domain(domain, err) != 0 || check_value(value, err) != 0)
        return -1;
    if (strcmp(method, "dns-txt-token") == 0)
        return check_txt(cfg, domain, value, found, found_size, err);
    if (strcmp(method, "dns-cname-token") == 0)
        return check_cname(cfg, domain, value, found, found_size, err);
    return check_http(cfg, domain, value, found, found_size, err);
}

int dcv_check(const cm_config *cfg, const char *method, const char *domain, const char *value,
              cm_err *err)
{
    return dcv_check_detail(cfg, method, domain, value, NULL, 0, err);
}

int caa_check_detail(const cm_config *cfg, const char *name, bool wildcard, char *found,
                     size_t found_size, cm_err *err)
{
    if (found != NULL && found_size > 0)
        found[0] = '\0';
    if (name != NULL && strncmp(name, "*.", 2) == 0) {
        name += 2;
        wildcard = true;
    }
    if (check_domain(name, err) != 0)
        return -1;
    for (const char *cur = name; cur != NULL && *cur != '\0';) {
        cm_caa_rr *rrs = NULL;
        size_t n = 0;
        if (dns_caa(cfg, cur, &rrs, &n, err) != 0) {
            char why[sizeof err->msg];
            str_copy(why, sizeof why, err->msg);
            return cm_err_set(err, "caa_lookup_failed",
                              "CAA for %.253s could not be checked, "
                              "so issuance is refused (BR 3.2.2.8): %s",
                              name, why);
        }
        if (n > 0) {
            int rc = caa_decide_at(cur, rrs, n, wildcard, cfg->caa_identities, err);
            free(rrs);
            if (rc == 0)
                say(found, found_size, "CAA record set at %s authorises %s", cur,
                    cfg->caa_identities);
            return rc;
        }
        const char *dot = strchr(cur, '.');
        cur = dot != NULL ? dot + 1 : NULL;
    }
    say(found, found_size, "no CAA record at %s or any parent; any CA may issue", name);
    return 0;
}

int caa_check(const cm_config *cfg, const char *name, bool wildcard, cm_err *err)
{
    return caa_check_detail(cfg, name, wildcard, NULL, 0, err);
}
