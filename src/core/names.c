/* names.c — normalising and checking certificate names (BR §7.1.2.7.12, §3.2.2.6, §4.2.2).
 * The contract is in names.h. IDN work is libidn2's, public suffixes are libpsl's, addresses are
 * inet_pton/inet_ntop's; this file only decides what is allowed and says why not. */
#include "core/names.h"

#include <arpa/inet.h>
#include <idn2.h>
#include <libpsl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/str.h"

#define NAME_INPUT_MAX 1024 /* longer input is refused before any work */
#define LABEL_MAX      63
#define QUOTE_MAX      100 /* how much of a bad name an error message repeats */
#define IDN_FLAGS      (IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT)
#define PSL_ANY        (PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE)
#define PSL_ICANN      (PSL_TYPE_ICANN | PSL_TYPE_NO_STAR_RULE)

/* The public suffix list, loaded once on first use and read-only afterwards. This is process-wide
 * reference data, like configuration; it lives until exit (never freed). */
static const psl_ctx_t *psl_ctx;
static pthread_once_t psl_once = PTHREAD_ONCE_INIT;

/* pthread_once callback: the newer of the system list and the built-in one. */
static void psl_load(void)
{
    psl_ctx = psl_latest(NULL);
    if (psl_ctx == NULL)
        psl_ctx = psl_builtin();
}

/* Returns the shared PSL context (owned by this module, never freed), or NULL if none loaded. */
static const psl_ctx_t *psl_get(void)
{
    if (pthread_once(&psl_once, psl_load) != 0)
        return NULL;
    return psl_ctx;
}

/* Copies at most QUOTE_MAX bytes of `s` into `buf` for an error message: bytes that could garble
 * a log line or the quoting become '?', a cut (never inside a UTF-8 sequence) is marked "...".
 * Returns buf (caller's storage, at least QUOTE_MAX + 4 bytes). */
static const char *quote(const char *s, char *buf)
{
    size_t i = 0;
    for (; s[i] != '\0' && i < QUOTE_MAX; i++) {
        unsigned char c = (unsigned char)s[i];
        buf[i] = (c < 0x20 || c == 0x7f || c == '"' || c == '\\') ? '?' : (char)c;
    }
    if (s[i] != '\0') {
        while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80)
            i--;
        memcpy(buf + i, "...", 3);
        i += 3;
    }
    buf[i] = '\0';
    return buf;
}

/* True when every byte of s[0..n) is a digit (and n > 0). */
static bool all_digits(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* True when `name` equals `suffix` or ends with "." + suffix. */
static bool under(const char *name, const char *suffix)
{
    size_t n = strlen(name), s = strlen(suffix);
    if (n == s)
        return strcmp(name, suffix) == 0;
    return n > s && name[n - s - 1] == '.' && strcmp(name + n - s, suffix) == 0;
}

/* IANA special-purpose registries (IPv4 and IPv6), plus multicast and the limited broadcast.
 * BR §4.2.2 forbids every entry, whether or not the registry marks it globally reachable. */
typedef struct ip_block {
    const char *net;
    unsigned bits;
} ip_block;

static const ip_block reserved_v4[] = {
    {"0.0.0.0", 8},       {"10.0.0.0", 8},      {"100.64.0.0", 10},   {"127.0.0.0", 8},
    {"169.254.0.0", 16},  {"172.16.0.0", 12},   {"192.0.0.0", 24},    {"192.0.2.0", 24},
    {"192.31.196.0", 24}, {"192.52.193.0", 24}, {"192.88.99.0", 24},  {"192.168.0.0", 16},
    {"192.175.48.0", 24}, {"198.18.0.0", 15},   {"198.51.100.0", 24}, {"203.0.113.0", 24},
    {"224.0.0.0", 4},     {"240.0.0.0", 4},
};

static const ip_block reserved_v6[] = {
    {"::", 128},    {"::1", 128},   {"::ffff:0:0", 96}, {"64:ff9b::", 96}, {"64:ff9b:1::", 48},
    {"100::", 64},  {"2001::", 23}, {"2001:db8::", 32}, {"2002::", 16},    {"2620:4f:8000::", 48},
    {"3fff::", 20}, {"5f00::", 16}, {"fc00::", 7},      {"fe80::", 10},    {"ff00::", 8},
};

/* True when the first `bits` bits of a and b are equal. */
static bool prefix_equal(const unsigned char *a, const unsigned char *b, unsigned bits)
{
    size_t whole = bits / 8;
    if (memcmp(a, b, whole) != 0)
        return false;
    if (bits % 8 == 0)
        return true;
    unsigned char mask = (unsigned char)(0xFFu << (8 - bits % 8));
    return (a[whole] & mask) == (b[whole] & mask);
}

/* See names.h. Anything that is not a 4- or 16-byte address counts as reserved (fail closed). */
bool name_ip_reserved(const unsigned char *ip, size_t len)
{
    const ip_block *t;
    size_t n;
    int af;
    if (ip == NULL || (len != 4 && len != 16))
        return true;
    if (len == 4) {
        t = reserved_v4, n = sizeof reserved_v4 / sizeof reserved_v4[0], af = AF_INET;
    } else {
        if ((ip[0] & 0xE0) != 0x20) /* outside 2000::/3, global unicast */
            return true;
        t = reserved_v6, n = sizeof reserved_v6 / sizeof reserved_v6[0], af = AF_INET6;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char net[16];
        if (inet_pton(af, t[i].net, net) != 1 || prefix_equal(ip, net, t[i].bits))
            return true;
    }
    return false;
}

/* Parses an IP literal into `out` and applies the policy. `is_v6` picks the family; `q` is the
 * quoted input. Returns 0, or -1 with err set. */
static int normalize_ip(const char *in, bool is_v6, const char *q, const cm_name_policy *pol,
                        cm_name *out, cm_err *err)
{
    if (is_v6 && in[0] == '[')
        return cm_err_set(err, "name_invalid",
                          "\"%s\" has brackets; write the IPv6 address without [ and ]", q);
    if (is_v6 && strchr(in, '%') != NULL)
        return cm_err_set(err, "name_invalid",
                          "\"%s\" has a zone index (%%...), which only means something on one "
                          "host; give the address without it",
                          q);
    if (inet_pton(is_v6 ? AF_INET6 : AF_INET, in, out->ip) != 1) {
        if (is_v6)
            return cm_err_set(err, "name_invalid",
                              "\"%s\" is not a valid IPv6 address; write it as eight groups of "
                              "hex digits separated by colons, \"::\" at most once",
                              q);
        return cm_err_set(err, "name_invalid",
                          "\"%s\" looks like an IPv4 address but is not one: an IPv4 address is "
                          "four numbers from 0 to 255 without leading zeros (e.g. 192.0.2.1), and "
                          "a DNS name cannot end in an all-numeric label",
                          q);
    }
    if (inet_ntop(is_v6 ? AF_INET6 : AF_INET, out->ip, out->text, sizeof out->text) == NULL)
        return cm_err_set(err, "name_invalid", "\"%s\" could not be written back as text", q);
    out->type = is_v6 ? NAME_IPV6 : NAME_IPV4;
    if (!pol->allow_ip)
        return cm_err_set(err, "name_invalid",
                          "\"%s\" is an IP address, and this product names hosts only (EV "
                          "certificates cannot carry IP addresses); use a DNS name instead",
                          q);
    if (pol->public_names && name_ip_reserved(out->ip, is_v6 ? 16 : 4))
        return cm_err_set(err, "name_invalid",
                          "\"%s\" is a reserved address (private, loopback, link-local, "
                          "documentation, multicast or other special use), which a publicly-"
                          "trusted certificate may not name; use a public address or a private "
                          "CA",
                          q);
    return 0;
}

/* Converts `in` to lower-case ASCII in buf (size bytes): ASCII labels are lower-cased, labels with
 * any non-ASCII byte go through IDNA2008 (libidn2) to A-labels. Dots, empty labels and stars are
 * kept for the syntax check. Returns 0, or -1 with err set. */
static int to_ascii(const char *in, const char *q, char *buf, size_t size, cm_err *err)
{
    size_t n = 0;
    const char *s = in;
    for (;;) {
        size_t len = strcspn(s, ".");
        bool ascii = true;
        for (size_t i = 0; i < len; i++)
            if ((unsigned char)s[i] >= 0x80)
                ascii = false;
        if (ascii) {
            if (n + len >= size)
                goto too_long;
            for (size_t i = 0; i < len; i++)
                buf[n++] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
        } else {
            char label[NAME_INPUT_MAX + 1], *a = NULL;
            memcpy(label, s, len); /* len <= strlen(in) <= NAME_INPUT_MAX */
            label[len] = '\0';
            int rc = idn2_to_ascii_8z(label, &a, IDN_FLAGS);
            if (rc != IDN2_OK)
                return cm_err_set(err, "name_invalid",
                                  "\"%s\" is not a valid internationalised name (%s); check the "
                                  "spelling, or give the name in its xn-- (A-label) form",
                                  q, idn2_strerror(rc));
            /* TR46 maps "＊" and "﹡" to '*'; a wildcard must be asked for explicitly. */
            if (strchr(a, '*') != NULL) {
                idn2_free(a);
                return cm_err_set(err, "name_invalid",
                                  "\"%s\" has a star-like character that is not '*'; a wildcard "
                                  "is written with the plain ASCII '*', as in *.example.com",
                                  q);
            }
            size_t alen = strlen(a);
            if (n + alen >= size) {
                idn2_free(a);
                goto too_long;
            }
            memcpy(buf + n, a, alen);
            n += alen;
            idn2_free(a);
        }
        if (s[len] == '\0')
            break;
        if (n + 1 >= size)
            goto too_long;
        buf[n++] = '.';
        s += len + 1;
    }
    buf[n] = '\0';
    return 0;
too_long:
    return cm_err_set(err, "name_invalid",
                      "\"%s\" is longer than %d octets once converted to A-labels; use a shorter "
                      "name",
                      q, NAME_MAX_LEN);
}

/* Checks that an "xn--" label (lower-case, LDH, len <= 63) is valid Punycode encoding at least
 * one non-ASCII character and no C1 control or surrogate. idn2_to_unicode_8z4z decodes Punycode
 * without IDNA2008 checks, so IDNA2003-only names pass as the BR allow (the public
 * idn2_punycode_decode only exists from libidn2 2.3.5). Returns 0, or -1 with err set. */
static int check_punycode(const char *label, size_t len, const char *q, cm_err *err)
{
    char tmp[LABEL_MAX + 1];
    uint32_t *u = NULL;
    bool wide = false, bad = false;
    memcpy(tmp, label, len);
    tmp[len] = '\0';
    if (idn2_to_unicode_8z4z(tmp, &u, 0) != IDN2_OK || u == NULL)
        bad = true;
    for (size_t i = 0; !bad && u[i] != 0; i++) {
        if (u[i] >= 0x80)
            wide = true;
        if ((u[i] >= 0x80 && u[i] < 0xA0) || (u[i] >= 0xD800 && u[i] <= 0xDFFF))
            bad = true;
    }
    idn2_free(u);
    if (bad || !wide)
        return cm_err_set(err, "name_invalid",
                          "\"%s\": the label \"%s\" starts with xn-- but is not valid Punycode "
                          "for an internationalised label; check where the A-label came from",
                          q, tmp);
    return 0;
}

/* Checks one label of a lower-case ASCII name: length, LDH characters, hyphen placement, and
 * Punycode for "xn--" labels. Returns 0, or -1 with err set. */
static int check_label(const char *l, size_t len, const char *q, cm_err *err)
{
    if (len > LABEL_MAX)
        return cm_err_set(err, "name_invalid",
                          "\"%s\": the label \"%.20s...\" is %zu octets long; a label may have at "
                          "most %d",
                          q, l, len, LABEL_MAX);
    for (size_t i = 0; i < len; i++) {
        char c = l[i];
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')
            continue;
        if (c == '_')
            return cm_err_set(err, "name_invalid",
                              "\"%s\" contains an underscore, which is not allowed in certificate "
                              "names; use a hyphen or a name without it",
                              q);
        if (c == ' ')
            return cm_err_set(err, "name_invalid",
                              "\"%s\" contains a space; give one name at a time, without spaces",
                              q);
        return cm_err_set(err, "name_invalid",
                          "\"%s\" contains '%c', which is not allowed; DNS names use only letters, "
                          "digits, hyphens and dots",
                          q, c);
    }
    if (l[0] == '-' || l[len - 1] == '-')
        return cm_err_set(err, "name_invalid",
                          "\"%s\": the label \"%.*s\" %s with a hyphen, which is not allowed; "
                          "remove that hyphen",
                          q, (int)len, l, l[0] == '-' ? "starts" : "ends");
    if (len >= 4 && l[2] == '-' && l[3] == '-') {
        if (l[0] == 'x' && l[1] == 'n')
            return check_punycode(l, len, q, err);
        return cm_err_set(err, "name_invalid",
                          "\"%s\": the label \"%.*s\" has \"--\" in the third and fourth "
                          "positions, which is reserved for encodings such as xn--; use a "
                          "different label",
                          q, (int)len, l);
    }
    return 0;
}

/* Checks the shape of a lower-case ASCII name: length, trailing dot, wildcard placement, empty
 * labels, each label, and a non-numeric top-level label. Sets *wildcard for "*.<domain>".
 * Returns 0, or -1 with err set. */
static int check_syntax(const char *name, const char *q, bool *wildcard, cm_err *err)
{
    size_t n = strlen(name);
    const char *body = name;
    *wildcard = false;
    if (n == 0)
        return cm_err_set(err, "name_invalid",
                          "\"%s\" is empty once IDNA mapping drops its invisible characters; "
                          "give a DNS name or IP address",
                          q);
    if (name[n - 1] == '.')
        return cm_err_set(err, "name_invalid",
                          "\"%s\" ends with a dot; certificate names are written without the "
                          "trailing dot, so remove it",
                          q);
    if (n > NAME_MAX_LEN)
        return cm_err_set(err, "name_invalid",
                          "\"%s\" is %zu octets long; a name may have at most %d", q, n,
                          NAME_MAX_LEN);
    if (strcmp(name, "*") == 0)
        return cm_err_set(err, "name_invalid",
                          "\"%s\" is only a star; a wildcard is \"*.\" followed by a domain, e.g. "
                          "*.example.com",
                          q);
    if (name[0] == '*' && name[1] == '.') {
        *wildcard = true;
        body = name + 2;
    }
    if (strchr(body, '*') != NULL)
        return cm_err_set(err, "name_invalid",
                          "\"%s\" has a \"*\" in the wrong place; a wildcard may only be the "
                          "whole left-most label, once, as in *.example.com",
                          q);
    const char *l = body, *last = body;
    for (;;) {
        size_t len = strcspn(l, ".");
        if (len == 0)
            return cm_err_set(err, "name_invalid",
                              "\"%s\" has an empty label (%s); remove the extra dot", q,
                              l == name ? "a leading dot" : "two dots in a row");
        if (check_label(l, len, q, err) != 0)
            return -1;
        last = l;
        if (l[len] == '\0')
            break;
        l += len + 1;
    }
    if (all_digits(last, strlen(last)))
        return cm_err_set(err, "name_invalid",
                          "\"%s\": the top-level label \"%s\" is all digits, which no top-level "
                          "domain is; check the name, or give an IP address as four numbers",
                          q, last);
    return 0;
}

/* Applies the policy to a syntactically valid name: wildcards allowed, public suffixes, and for
 * public names internal names and reverse-lookup zones. Returns 0, or -1 with err set. */
static int check_policy(const char *name, bool wildcard, const cm_name_policy *pol, const char *q,
                        cm_err *err)
{
    const char *base = wildcard ? name + 2 : name;
    const char *dot = strrchr(base, '.');
    const char *tld = dot != NULL ? dot + 1 : base;
    if (wildcard && !pol->allow_wildcard)
        return cm_err_set(err, "name_invalid",
                          "\"%s\" is a wildcard, and this product has no wildcard names (EV "
                          "certificates cannot carry them); list each host name instead",
                          q);
    const psl_ctx_t *psl = psl_get();
    if (psl == NULL)
        return cm_err_set(err, "psl_unavailable",
                          "the public suffix list could not be loaded, so \"%s\" cannot be "
                          "checked; install the publicsuffix package",
                          q);
    if (pol->public_names) {
        if (under(base, "in-addr.arpa") || under(base, "ip6.arpa"))
            return cm_err_set(err, "name_invalid",
                              "\"%s\" is a reverse-lookup name (in-addr.arpa/ip6.arpa), which "
                              "publicly-trusted certificates may not carry; ask for the IP "
                              "address or a host name",
                              q);
        if (strcmp(tld, "arpa") == 0 || strcmp(tld, "onion") == 0)
            return cm_err_set(err, "name_invalid",
                              "\"%s\" is under .%s, a special-use domain that cannot be "
                              "validated here; use a name under a registered domain",
                              q, tld);
        if (psl_is_public_suffix2(psl, tld, PSL_ICANN) != 1)
            return cm_err_set(err, "name_invalid",
                              "\"%s\" is an internal name: \".%s\" is not a public top-level "
                              "domain, so a publicly-trusted certificate cannot name it; use a "
                              "registered domain or a private CA",
                              q, tld);
    }
    if (psl_is_public_suffix2(psl, base, PSL_ANY) == 1) {
        if (wildcard)
            return cm_err_set(err, "name_invalid",
                              "\"%s\" would cover every name under \"%s\", a public suffix that "
                              "no single owner controls; put the wildcard on a registered "
                              "domain, e.g. *.example.%s",
                              q, base, base);
        return cm_err_set(err, "name_invalid",
                          "\"%s\" is a public suffix, not a domain one owner holds; use a name "
                          "under it, e.g. example.%s",
                          q, base);
    }
    return 0;
}

/* See names.h. On failure *out is zeroed. Nothing is allocated for the caller. */
int name_normalize(const char *in, const cm_name_policy *pol, cm_name *out, cm_err *err)
{
    char q[QUOTE_MAX + 4];
    char ascii[NAME_INPUT_MAX + 1];
    bool wildcard = false;
    int rc = -1;
    if (out == NULL || pol == NULL)
        return cm_err_set(err, "name_invalid", "no name or policy given (internal error)");
    memset(out, 0, sizeof *out);
    if (in == NULL)
        return cm_err_set(err, "name_invalid", "no name given; give a DNS name or IP address");
    size_t n = strnlen(in, NAME_INPUT_MAX + 1);
    quote(in, q);
    if (n > NAME_INPUT_MAX)
        return cm_err_set(err, "name_invalid",
                          "\"%s\" is longer than %d bytes; a certificate name has at most %d", q,
                          NAME_INPUT_MAX, NAME_MAX_LEN);
    if (n == 0)
        return cm_err_set(err, "name_invalid", "the name is empty; give a DNS name or IP address");
    if (strchr(" \t\n\v\f\r", in[0]) != NULL || strchr(" \t\n\v\f\r", in[n - 1]) != NULL)
        return cm_err_set(err, "name_invalid",
                          "\"%s\" has space before or after it; remove the surrounding space", q);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)in[i] < 0x20 || in[i] == 0x7f)
            return cm_err_set(err, "name_invalid",
                              "\"%s\" contains a control character (shown as ?); give the name "
                              "as plain text",
                              q);

    if (strchr(in, ':') != NULL ||
        (strspn(in, "0123456789.") == n && strpbrk(in, "0123456789") != NULL)) {
        rc = normalize_ip(in, strchr(in, ':') != NULL, q, pol, out, err);
        goto out;
    }
    if (to_ascii(in, q, ascii, sizeof ascii, err) != 0 ||
        check_syntax(ascii, q, &wildcard, err) != 0 ||
        check_policy(ascii, wildcard, pol, q, err) != 0)
        goto out;
    if (str_copy(out->text, sizeof out->text, ascii) != 0) /* cannot happen: length checked */
        goto out;
    out->type = wildcard ? NAME_WILDCARD : NAME_DNS;
    rc = 0;
out:
    if (rc != 0)
        memset(out, 0, sizeof *out);
    return rc;
}

/* True when the first n bytes of a and b match ignoring ASCII case. */
static bool ascii_caseeq(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z')
            x = (char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = (char)(y - 'A' + 'a');
        if (x != y)
            return false;
    }
    return true;
}

/* See names.h. Both are expected normalised; a wildcard never covers another wildcard, and
 * anything malformed (NULL, too long, stars elsewhere, empty first label) covers nothing. */
bool name_wildcard_covers(const char *wildcard, const char *name)
{
    if (wildcard == NULL || name == NULL)
        return false;
    size_t wl = strnlen(wildcard, NAME_MAX_LEN + 1), nl = strnlen(name, NAME_MAX_LEN + 1);
    if (wl > NAME_MAX_LEN || nl > NAME_MAX_LEN || wl < 3 || wildcard[0] != '*' ||
        wildcard[1] != '.' || memchr(wildcard + 1, '*', wl - 1) != NULL ||
        memchr(name, '*', nl) != NULL)
        return false;
    const char *dot = memchr(name, '.', nl);
    if (dot == NULL || dot == name)
        return false;
    size_t rest = nl - (size_t)(dot + 1 - name);
    return rest == wl - 2 && ascii_caseeq(dot + 1, wildcard + 2, rest);
}
