/* dns.c — TXT, CNAME, CAA and address lookups with a per-call libresolv state. */
#include "net/dns.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/str.h"

#define DNS_RETRANS_S 2 /* seconds for the first try; glibc doubles it for the second */
#define DNS_TRIES     2
#define DNS_MAX_CNAME 8
#define DNS_TYPE_CAA  257

/* One answer, parsed. `buf` is malloc'd (DNS_ANSWER_MAX bytes). */
typedef struct dns_ans {
    unsigned char *buf;
    ns_msg msg;
    int rcode;
    char qname[NS_MAXDNAME]; /* the name asked, without trailing dot */
    char server[160];        /* who answered, for messages */
    const char *type;        /* "TXT", "CAA", … for messages */
} dns_ans;

static const char *type_name(int type)
{
    switch (type) {
    case ns_t_a:
        return "A";
    case ns_t_aaaa:
        return "AAAA";
    case ns_t_txt:
        return "TXT";
    case ns_t_cname:
        return "CNAME";
    case DNS_TYPE_CAA:
        return "CAA";
    default:
        return "?";
    }
}

static const char *rcode_name(int rcode)
{
    switch (rcode) {
    case ns_r_formerr:
        return "FORMERR";
    case ns_r_servfail:
        return "SERVFAIL";
    case ns_r_notimpl:
        return "NOTIMP";
    case ns_r_refused:
        return "REFUSED";
    default:
        return "an error code";
    }
}

/* Copies a query name into out without its trailing dot, refusing what is not a host-like
 * name: libresolv would read '\' as an escape, and spaces or control bytes have no place in
 * an A-label name. */
static int check_name(const char *name, char *out, size_t size, cm_err *err)
{
    size_t n = name != NULL ? strlen(name) : 0;
    if (n > 0 && name[n - 1] == '.')
        n--;
    if (n == 0 || n > 253 || n >= size)
        return cm_err_set(err, "dns_failed",
                          "cannot look up \"%.64s\": a DNS name has 1 to 253 "
                          "characters",
                          name != NULL ? name : "");
    size_t label = 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.';
        if (!ok)
            return cm_err_set(err, "dns_failed",
                              "cannot look up \"%.253s\": DNS names for "
                              "validation are A-labels (letters, digits, '-', '_', '.')",
                              name);
        label = c == '.' ? 0 : label + 1;
        if ((c == '.' && (i == 0 || name[i - 1] == '.')) || label > 63)
            return cm_err_set(err, "dns_failed",
                              "cannot look up \"%.253s\": empty or over-long "
                              "(> 63) label",
                              name);
    }
    memcpy(out, name, n);
    out[n] = '\0';
    return 0;
}

/* Points the resolver at cfg->dns_server ("a.b.c.d:port" or "[v6]:port"). */
static int set_server(struct __res_state *st, const char *server, cm_err *err)
{
    char host[128];
    const char *colon = strrchr(server, ':');
    long port;
    if (colon == NULL || str_to_long(colon + 1, 1, 65535, &port) != 0)
        goto bad;
    size_t hl = (size_t)(colon - server);
    const char *h = server;
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (hl == 0 || hl >= sizeof host)
        goto bad;
    memcpy(host, h, hl);
    host[hl] = '\0';
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, host, &a4) == 1) {
        memset(&st->nsaddr_list[0], 0, sizeof st->nsaddr_list[0]);
        st->nsaddr_list[0].sin_family = AF_INET;
        st->nsaddr_list[0].sin_addr = a4;
        st->nsaddr_list[0].sin_port = htons((uint16_t)port);
    } else if (inet_pton(AF_INET6, host, &a6) == 1) {
        /* glibc keeps IPv6 servers in _u._ext.nsaddrs (freed by res_nclose) and uses them when
         * nsaddr_list[n].sin_family is 0. */
        struct sockaddr_in6 *s6 = calloc(1, sizeof *s6);
        if (s6 == NULL)
            return cm_err_set(err, "out_of_memory", "out of memory");
        s6->sin6_family = AF_INET6;
        s6->sin6_addr = a6;
        s6->sin6_port = htons((uint16_t)port);
        free(st->_u._ext.nsaddrs[0]);
        st->_u._ext.nsaddrs[0] = s6;
        memset(&st->nsaddr_list[0], 0, sizeof st->nsaddr_list[0]);
    } else {
        goto bad;
    }
    st->nscount = 1;
    return 0;
bad:
    return cm_err_set(err, "dns_failed",
                      "dns_server \"%s\" is not an IP address and port "
                      "(e.g. 127.0.0.1:53 or [::1]:53)",
                      server);
}

static void ans_free(dns_ans *a)
{
    free(a->buf);
    a->buf = NULL;
}

/* Asks one question and parses the answer into `a` (caller calls ans_free). NXDOMAIN and
 * NOERROR succeed; anything else is `dns_failed`. */
static int query(const cm_config *cfg, const char *name, int type, dns_ans *a, cm_err *err)
{
    struct __res_state st;
    bool st_open = false;
    unsigned char q[NS_PACKETSZ];
    int rc = -1;
    memset(a, 0, sizeof *a);
    memset(&st, 0, sizeof st);
    a->type = type_name(type);
    if (check_name(name, a->qname, sizeof a->qname, err) != 0)
        goto out;
    if (str_empty(cfg->dns_server))
        snprintf(a->server, sizeof a->server, "the system resolver (/etc/resolv.conf)");
    else
        snprintf(a->server, sizeof a->server, "DNS server %.128s", cfg->dns_server);
    if (res_ninit(&st) != 0) {
        cm_err_set(err, "dns_failed", "cannot initialise the DNS resolver (/etc/resolv.conf)");
        goto out;
    }
    st_open = true;
    st.retrans = DNS_RETRANS_S;
    st.retry = DNS_TRIES;
    /* The names are absolute; the configuration must not change under a running query. */
    st.options &= ~(unsigned long)(RES_DEFNAMES | RES_DNSRCH | RES_USEVC | RES_ROTATE);
    st.options |= RES_NORELOAD;
    /* A non-zero pfcode (dig's mode) makes res_nsend hand back SERVFAIL/REFUSED answers
     * instead of "timed out", so the message can say which it was. */
    st.pfcode = RES_PRF_HEAD1;
    if (!str_empty(cfg->dns_server) && set_server(&st, cfg->dns_server, err) != 0)
        goto out;
    int qlen = res_nmkquery(&st, ns_o_query, a->qname, ns_c_in, type, NULL, 0, NULL, q, sizeof q);
    if (qlen < 0) {
        cm_err_set(err, "dns_failed", "cannot build a %s query for %s", a->type, a->qname);
        goto out;
    }
    a->buf = malloc(DNS_ANSWER_MAX);
    if (a->buf == NULL) {
        cm_err_set(err, "out_of_memory", "out of memory");
        goto out;
    }
    errno = 0;
    int len = res_nsend(&st, q, qlen, a->buf, DNS_ANSWER_MAX);
    if (len < 0) {
        cm_err_set(err, "dns_failed",
                   "%s lookup of %s: no answer from %s (%s after %d tries of %d s); check that "
                   "the server runs and is reachable",
                   a->type, a->qname, a->server,
                   errno == ECONNREFUSED ? "connection refused" : "timed out", DNS_TRIES,
                   DNS_RETRANS_S);
        goto out;
    }
    if (len > DNS_ANSWER_MAX) {
        cm_err_set(err, "dns_failed", "%s lookup of %s: the answer from %s is larger than %d bytes",
                   a->type, a->qname, a->server, DNS_ANSWER_MAX);
        goto out;
    }
    if (ns_initparse(a->buf, len, &a->msg) != 0) {
        cm_err_set(err, "dns_failed", "%s lookup of %s: malformed answer from %s", a->type,
                   a->qname, a->server);
        goto out;
    }
    if (ns_msg_getflag(a->msg, ns_f_tc)) {
        cm_err_set(err, "dns_failed",
                   "%s lookup of %s: the answer from %s is still truncated "
                   "after retrying over TCP",
                   a->type, a->qname, a->server);
        goto out;
    }
    a->rcode = ns_msg_getflag(a->msg, ns_f_rcode);
    if (a->rcode != ns_r_noerror && a->rcode != ns_r_nxdomain) {
        cm_err_set(err, "dns_failed", "%s lookup of %s: %s answered %s (rcode %d)", a->type,
                   a->qname, a->server, rcode_name(a->rcode), a->rcode);
        goto out;
    }
    rc = 0;
out:
    if (st_open)
        res_nclose(&st);
    if (rc != 0)
        ans_free(a);
    return rc;
}

static int malformed(const dns_ans *a, cm_err *err)
{
    return cm_err_set(err, "dns_failed", "%s lookup of %s: malformed record in the answer from %s",
                      a->type, a->qname, a->server);
}

/* Expands a domain name in rdata into out (lower-case, no trailing dot). */
static int expand(const dns_ans *a, const unsigned char *p, char *out, size_t size, cm_err *err)
{
    char tmp[NS_MAXDNAME];
    if (dn_expand(ns_msg_base(a->msg), ns_msg_end(a->msg), p, tmp, sizeof tmp) < 0)
        return malformed(a, err);
    size_t n = strlen(tmp);
    if (n > 0 && tmp[n - 1] == '.')
        tmp[--n] = '\0';
    if (n >= size)
        return cm_err_set(err, "dns_failed",
                          "%s lookup of %s: a name in the answer is longer "
                          "than %zu characters",
                          a->type, a->qname, size - 1);
    memcpy(out, tmp, n + 1);
    str_lower(out);
    return 0;
}

/* Follows the CNAME chain in the answer section from the asked name; the name at its end goes
 * to `final`. */
static int chain_end(dns_ans *a, char *final, size_t size, cm_err *err)
{
    int count = ns_msg_count(a->msg, ns_s_an);
    if (str_copy(final, size, a->qname) != 0)
        return malformed(a, err);
    for (int hop = 0; hop <= DNS_MAX_CNAME; hop++) {
        bool moved = false;
        for (int i = 0; i < count && !moved; i++) {
            ns_rr rr;
            if (ns_parserr(&a->msg, ns_s_an, i, &rr) != 0)
                return malformed(a, err);
            if (ns_rr_type(rr) != ns_t_cname || ns_rr_class(rr) != ns_c_in ||
                strcasecmp(ns_rr_name(rr), final) != 0)
                continue;
            if (hop == DNS_MAX_CNAME)
                return cm_err_set(err, "dns_failed",
                                  "%s lookup of %s: more than %d CNAMEs in a "
                                  "row",
                                  a->type, a->qname, DNS_MAX_CNAME);
            if (expand(a, ns_rr_rdata(rr), final, size, err) != 0)
                return -1;
            moved = true;
        }
        if (!moved)
            return 0;
    }
    return 0;
}

/* Calls fn for each record of `type` at the end of the CNAME chain. */
typedef int (*rr_fn)(dns_ans *a, const ns_rr *rr, void *ctx, cm_err *err);

static int each_record(dns_ans *a, int type, rr_fn fn, void *ctx, cm_err *err)
{
    char owner[NS_MAXDNAME];
    if (chain_end(a, owner, sizeof owner, err) != 0)
        return -1;
    int count = ns_msg_count(a->msg, ns_s_an);
    for (int i = 0; i < count; i++) {
        ns_rr rr;
        if (ns_parserr(&a->msg, ns_s_an, i, &rr) != 0)
            return malformed(a, err);
        if ((int)ns_rr_type(rr) == type && ns_rr_class(rr) == ns_c_in &&
            strcasecmp(ns_rr_name(rr), owner) == 0 && fn(a, &rr, ctx, err) != 0)
            return -1;
    }
    return 0;
}

/* A growing list of strings. */
typedef struct strlist {
    char **v;
    size_t n, cap;
} strlist;

static int list_push(strlist *l, char *s, cm_err *err)
{
    if (l->n == l->cap) {
        size_t cap = l->cap == 0 ? 8 : l->cap * 2;
        char **v = realloc(l->v, cap * sizeof *v);
        if (v == NULL) {
            free(s);
            return cm_err_set(err, "out_of_memory", "out of memory");
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = s;
    return 0;
}

void dns_free_list(char **list, size_t n)
{
    if (list == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(list[i]);
    free(list);
}

static int txt_rr(dns_ans *a, const ns_rr *rr, void *ctx, cm_err *err)
{
    const unsigned char *p = ns_rr_rdata(*rr), *end = p + ns_rr_rdlen(*rr);
    char *s = malloc((size_t)ns_rr_rdlen(*rr) + 1);
    size_t len = 0;
    if (s == NULL)
        return cm_err_set(err, "out_of_memory", "out of memory");
    while (p < end) {
        size_t n = *p++;
        if (n > (size_t)(end - p)) {
            free(s);
            return malformed(a, err);
        }
        memcpy(s + len, p, n);
        len += n;
        p += n;
    }
    s[len] = '\0';
    if (memchr(s, '\0', len) != NULL) {
        free(s); /* a NUL byte cannot be part of any value we look for */
        return 0;
    }
    return list_push(ctx, s, err);
}

int dns_txt(const cm_config *cfg, const char *name, char ***out, size_t *n, cm_err *err)
{
    dns_ans a;
    strlist l = {0};
    int rc = -1;
    *out = NULL;
    *n = 0;
    if (query(cfg, name, ns_t_txt, &a, err) != 0)
        return -1;
    if (each_record(&a, ns_t_txt, txt_rr, &l, err) != 0)
        goto out;
    *out = l.v;
    *n = l.n;
    l.v = NULL;
    l.n = 0;
    rc = 0;
out:
    dns_free_list(l.v, l.n);
    ans_free(&a);
    return rc;
}

int dns_cname(const cm_config *cfg, const char *name, char *out, size_t outsz, cm_err *err)
{
    dns_ans a;
    int rc = -1;
    if (outsz == 0)
        return cm_err_set(err, "dns_failed", "no room for the CNAME target");
    out[0] = '\0';
    if (query(cfg, name, ns_t_cname, &a, err) != 0)
        return -1;
    int count = ns_msg_count(a.msg, ns_s_an);
    for (int i = 0; i < count; i++) {
        ns_rr rr;
        if (ns_parserr(&a.msg, ns_s_an, i, &rr) != 0) {
            malformed(&a, err);
            goto out;
        }
        if (ns_rr_type(rr) == ns_t_cname && ns_rr_class(rr) == ns_c_in &&
            strcasecmp(ns_rr_name(rr), a.qname) == 0) {
            if (expand(&a, ns_rr_rdata(rr), out, outsz, err) != 0)
                goto out;
            break;
        }
    }
    rc = 0;
out:
    if (rc != 0)
        out[0] = '\0';
    ans_free(&a);
    return rc;
}

typedef struct caa_list {
    cm_caa_rr *v;
    size_t n, cap;
} caa_list;

/* Copies n wire bytes into a C string of `size` bytes: NUL bytes become 0x7f (never valid in a
 * tag or value, so the record stays malformed rather than being cut short). Returns true when
 * the bytes did not fit. */
static bool copy_wire(char *dst, size_t size, const unsigned char *src, size_t n)
{
    bool cut = n >= size;
    if (cut)
        n = size - 1;
    for (size_t i = 0; i < n; i++)
        dst[i] = src[i] == 0 ? (char)0x7f : (char)src[i];
    dst[n] = '\0';
    return cut;
}

static int caa_rr(dns_ans *a, const ns_rr *rr, void *ctx, cm_err *err)
{
    caa_list *l = ctx;
    const unsigned char *p = ns_rr_rdata(*rr);
    size_t rdlen = ns_rr_rdlen(*rr);
    if (rdlen < 2 || (size_t)p[1] > rdlen - 2)
        return malformed(a, err);
    if (l->n == l->cap) {
        size_t cap = l->cap == 0 ? 4 : l->cap * 2;
        cm_caa_rr *v = realloc(l->v, cap * sizeof *v);
        if (v == NULL)
            return cm_err_set(err, "out_of_memory", "out of memory");
        l->v = v;
        l->cap = cap;
    }
    cm_caa_rr *c = &l->v[l->n++];
    memset(c, 0, sizeof *c);
    c->flags = p[0];
    size_t taglen = p[1];
    c->truncated = copy_wire(c->tag, sizeof c->tag, p + 2, taglen);
    c->truncated |= copy_wire(c->value, sizeof c->value, p + 2 + taglen, rdlen - 2 - taglen);
    return 0;
}

int dns_caa(const cm_config *cfg, const char *name, cm_caa_rr **out, size_t *n, cm_err *err)
{
    dns_ans a;
    caa_list l = {0};
    int rc = -1;
    *out = NULL;
    *n = 0;
    if (query(cfg, name, DNS_TYPE_CAA, &a, err) != 0)
        return -1;
    if (each_record(&a, DNS_TYPE_CAA, caa_rr, &l, err) != 0)
        goto out;
    *out = l.v;
    *n = l.n;
    l.v = NULL;
    rc = 0;
out:
    free(l.v);
    ans_free(&a);
    return rc;
}

static int addr_rr(dns_ans *a, const ns_rr *rr, void *ctx, cm_err *err)
{
    char text[INET6_ADDRSTRLEN];
    int af = ns_rr_type(*rr) == ns_t_a ? AF_INET : AF_INET6;
    if (ns_rr_rdlen(*rr) != (af == AF_INET ? 4 : 16) ||
        inet_ntop(af, ns_rr_rdata(*rr), text, sizeof text) == NULL)
        return malformed(a, err);
    char *s = strdup(text);
    if (s == NULL)
        return cm_err_set(err, "out_of_memory", "out of memory");
    return list_push(ctx, s, err);
}

int dns_addrs(const cm_config *cfg, const char *name, char ***out, size_t *n, cm_err *err)
{
    static const int types[] = {ns_t_a, ns_t_aaaa};
    strlist l = {0};
    int rc = -1;
    *out = NULL;
    *n = 0;
    for (size_t t = 0; t < 2; t++) {
        dns_ans a;
        if (query(cfg, name, types[t], &a, err) != 0)
            goto out;
        int r = each_record(&a, types[t], addr_rr, &l, err);
        ans_free(&a);
        if (r != 0)
            goto out;
    }
    *out = l.v;
    *n = l.n;
    l.v = NULL;
    l.n = 0;
    rc = 0;
out:
    dns_free_list(l.v, l.n);
    return rc;
}
