/* caa.c — RFC 8659 decision over one CAA RRset. Pure: no DNS, no I/O. */
#include "core/caa.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Tags certmint understands. Only issue/issuewild constrain TLS issuance; the others are known
 * so that a critical flag on them does not block it (issuemail: RFC 9495, S/MIME; issuevmc:
 * BIMI; contactemail/contactphone: BR §3.2.2.4.13–16 contacts). */
static const char *const known_tags[] = {"issue",    "issuewild",    "iodef",       "issuemail",
                                         "issuevmc", "contactemail", "contactphone"};

static bool tag_known(const char *tag)
{
    for (size_t i = 0; i < sizeof known_tags / sizeof known_tags[0]; i++)
        if (strcasecmp(tag, known_tags[i]) == 0)
            return true;
    return false;
}

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_wsp(char c)
{
    return c == ' ' || c == '\t';
}

/* label = (ALPHA / DIGIT) *( *("-") (ALPHA / DIGIT)); the same shape as a parameter tag.
 * Returns the length matched at p, 0 when none. */
static size_t match_label(const char *p)
{
    size_t i = 0;
    if (!is_alnum(p[0]))
        return 0;
    i = 1;
    for (;;) {
        size_t j = i;
        while (p[j] == '-')
            j++;
        if (!is_alnum(p[j]))
            return i; /* trailing hyphens are not part of the label */
        i = j + 1;
    }
}

/* parameter = tag *WSP "=" *WSP value; value = *(%x21-3A / %x3C-7E). Returns the length, or
 * 0 when malformed. */
static size_t match_parameter(const char *p)
{
    size_t i = match_label(p);
    if (i == 0)
        return 0;
    while (is_wsp(p[i]))
        i++;
    if (p[i] != '=')
        return 0;
    i++;
    while (is_wsp(p[i]))
        i++;
    while ((unsigned char)p[i] >= 0x21 && (unsigned char)p[i] <= 0x7e && p[i] != ';')
        i++;
    return i;
}

int caa_parse_issue_value(const char *value, const char **dom, size_t *dom_len)
{
    const char *p = value;
    *dom = value;
    *dom_len = 0;
    while (is_wsp(*p))
        p++;
    /* issuer-domain-name = label *("." label) */
    size_t n = match_label(p);
    if (n > 0) {
        const char *start = p;
        p += n;
        while (*p == '.') {
            n = match_label(p + 1);
            if (n == 0)
                return -1; /* "ca..example", "ca.example." */
            p += 1 + n;
        }
        *dom = start;
        *dom_len = (size_t)(p - start);
        while (is_wsp(*p))
            p++;
    }
    if (*p == '\0')
        return 0;
    if (*p != ';')
        return -1;
    p++;
    while (is_wsp(*p))
        p++;
    if (*p == '\0')
        return 0;
    /* parameters = (parameter *WSP ";" *WSP parameters) / parameter, then *WSP */
    for (;;) {
        n = match_parameter(p);
        if (n == 0)
            return -1;
        p += n;
        while (is_wsp(*p))
            p++;
        if (*p == '\0')
            return 0;
        if (*p != ';')
            return -1;
        p++;
        while (is_wsp(*p))
            p++;
        /* a ';' must be followed by another parameter */
    }
}

/* True when the n bytes at dom equal one of the comma-separated identities (ignoring case,
 * surrounding spaces and one trailing dot on the identity). */
static bool identity_match(const char *identities, const char *dom, size_t n)
{
    const char *p = identities;
    while (p != NULL && *p != '\0') {
        const char *end = strchr(p, ',');
        const char *e = end != NULL ? end : p + strlen(p);
        const char *s = p;
        while (s < e && is_wsp(*s))
            s++;
        while (e > s && is_wsp(e[-1]))
            e--;
        if (e > s && e[-1] == '.')
            e--;
        if ((size_t)(e - s) == n && n > 0 && strncasecmp(s, dom, n) == 0)
            return true;
        p = end != NULL ? end + 1 : NULL;
    }
    return false;
}

/* The first identity (for "add 0 issue \"…\""), into out. */
static void first_identity(const char *identities, char *out, size_t size)
{
    const char *p = identities != NULL ? identities : "";
    while (is_wsp(*p))
        p++;
    size_t n = strcspn(p, ",");
    while (n > 0 && is_wsp(p[n - 1]))
        n--;
    if (n >= size)
        n = size - 1;
    memcpy(out, p, n);
    out[n] = '\0';
}

/* Appends text to buf (size bytes) at *used, truncating quietly. */
static void append(char *buf, size_t size, size_t *used, const char *text)
{
    if (*used >= size - 1)
        return;
    size_t n = strlen(text);
    if (n > size - 1 - *used)
        n = size - 1 - *used;
    memcpy(buf + *used, text, n);
    *used += n;
    buf[*used] = '\0';
}

/* The presentation form of a record, `0 issue "value"`, escaping quotes, backslashes and bytes
 * outside printable ASCII, at most ~120 characters of value. */
static void describe(const cm_caa_rr *rr, char *out, size_t size)
{
    size_t used = 0;
    char head[64];
    out[0] = '\0';
    snprintf(head, sizeof head, "%u ", rr->flags);
    append(out, size, &used, head);
    char tag[sizeof rr->tag * 4];
    size_t t = 0;
    for (const char *p = rr->tag; *p != '\0' && t + 5 < sizeof tag; p++) {
        if (is_alnum(*p))
            tag[t++] = *p;
        else
            t += (size_t)snprintf(tag + t, sizeof tag - t, "\\%03u", (unsigned char)*p);
    }
    tag[t] = '\0';
    append(out, size, &used, tag);
    append(out, size, &used, " \"");
    size_t shown = 0;
    for (const unsigned char *p = (const unsigned char *)rr->value; *p != '\0'; p++) {
        char c[8];
        if (shown >= 120) {
            append(out, size, &used, "...");
            break;
        }
        if (*p == '"' || *p == '\\')
            snprintf(c, sizeof c, "\\%c", *p);
        else if (*p < 0x20 || *p > 0x7e)
            snprintf(c, sizeof c, "\\%03u", *p);
        else
            snprintf(c, sizeof c, "%c", *p);
        append(out, size, &used, c);
        shown++;
    }
    if (rr->truncated)
        append(out, size, &used, "...");
    append(out, size, &used, "\"");
}

int caa_decide(const cm_caa_rr *rrs, size_t n, bool wildcard, const char *identities, cm_err *err)
{
    return caa_decide_at(NULL, rrs, n, wildcard, identities, err);
}

int caa_decide_at(const char *owner, const cm_caa_rr *rrs, size_t n, bool wildcard,
                  const char *identities, cm_err *err)
{
    char at[300] = "", desc[200], me[256], list[400];
    if (owner != NULL && owner[0] != '\0')
        snprintf(at, sizeof at, " at %.253s", owner);
    if (identities == NULL)
        identities = "";
    first_identity(identities, me, sizeof me);
    /* RFC 8659 §4.1: an unknown property marked critical forbids issuance outright. */
    for (size_t i = 0; i < n; i++) {
        if ((rrs[i].flags & CAA_FLAG_CRITICAL) != 0 && !tag_known(rrs[i].tag)) {
            describe(&rrs[i], desc, sizeof desc);
            return cm_err_set(err, "caa_forbidden",
                              "CAA record%s (%s) marks a property certmint does not understand "
                              "as critical, which forbids issuance by any CA that does not "
                              "understand it (RFC 8659 §4.1); remove the record or its flag 128",
                              at, desc);
        }
    }
    const char *tag = "issue";
    if (wildcard)
        for (size_t i = 0; i < n; i++)
            if (strcasecmp(rrs[i].tag, "issuewild") == 0)
                tag = "issuewild";
    size_t relevant = 0, used = 0;
    char bad[200] = ""; /* a record that names this CA but is malformed */
    list[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (strcasecmp(rrs[i].tag, tag) != 0)
            continue;
        relevant++;
        const char *dom;
        size_t dom_len;
        bool ok = !rrs[i].truncated && caa_parse_issue_value(rrs[i].value, &dom, &dom_len) == 0;
        if (ok && identity_match(identities, dom, dom_len))
            return 0;
        describe(&rrs[i], desc, sizeof desc);
        if (!ok && bad[0] == '\0' && me[0] != '\0' && strcasestr(rrs[i].value, me) != NULL)
            memcpy(bad, desc, sizeof bad);
        if (relevant > 1)
            append(list, sizeof list, &used, ", ");
        append(list, sizeof list, &used, desc);
    }
    if (relevant == 0)
        return 0; /* no issue (or issuewild) property: CAA does not restrict issuance */
    if (bad[0] != '\0')
        return cm_err_set(err, "caa_forbidden",
                          "CAA record%s%s (%s) %s not authorise this CA (%s): %s names it but "
                          "is malformed (RFC 8659 §4.2: issuer-domain-name [; tag=value]...), "
                          "so it authorises no CA; fix it to 0 %s \"%s\"",
                          relevant > 1 ? "s" : "", at, list, relevant > 1 ? "do" : "does",
                          identities, bad, tag, me);
    return cm_err_set(err, "caa_forbidden",
                      "CAA record%s%s (%s) %s not authorise this CA (%s); add 0 %s \"%s\" or "
                      "remove %s",
                      relevant > 1 ? "s" : "", at, list, relevant > 1 ? "do" : "does",
                      identities[0] != '\0' ? identities : "no caa_identities configured", tag,
                      me[0] != '\0' ? me : "<this CA>", relevant > 1 ? "them" : "it");
}
