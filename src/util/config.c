#include "util/config.h"

#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "util/fileio.h"
#include "util/str.h"

typedef enum { CT_STRING, CT_LONG, CT_URL, CT_ADDR, CT_LIST } cfg_type;

typedef struct cfg_entry {
    const char *name;
    cfg_type type;
    size_t offset;
    size_t size; /* CT_STRING/CT_URL: buffer size */
    const char *def;
    long min, max;
    const char *help;
} cfg_entry;

#define STR_FIELD(f) offsetof(cm_config, f), sizeof(((cm_config *)0)->f)

static const cfg_entry table[] = {
    {"dir", CT_STRING, STR_FIELD(dir), "./var", 0, 0,
     "data directory: CA files, database, spool"},
    {"public_url", CT_URL, STR_FIELD(public_url), "http://127.0.0.1:8080", 0, 0,
     "base URL (http://, no trailing slash) of the CRL and CA-certificate links placed in "
     "issued certificates"},
    {"ocsp_url", CT_URL, STR_FIELD(ocsp_url), "", 0, 0,
     "OCSP responder URL placed in the AIA of issued certificates; empty for none"},
    {"private_max_days", CT_LONG, offsetof(cm_config, private_max_days), 0, "397", 1, 825,
     "validity cap, in days, of certificates from the private hierarchy"},
    {"listen", CT_ADDR, STR_FIELD(listen), "127.0.0.1:8080", 0, 0,
     "HTTP listener of `certmint serve`, address:port; empty for none"},
    {"tls_listen", CT_ADDR, STR_FIELD(tls_listen), "", 0, 0,
     "HTTPS listener of `certmint serve`, address:port; empty for none"},
    {"tls_cert", CT_STRING, STR_FIELD(tls_cert), "", 0, 0,
     "PEM certificate chain of the HTTPS listener; empty = DIR/ca/listener.crt made at init"},
    {"tls_key", CT_STRING, STR_FIELD(tls_key), "", 0, 0,
     "PEM private key of the HTTPS listener; empty = DIR/ca/listener.key made at init"},
    {"db", CT_STRING, STR_FIELD(db), "", 0, 0,
     "database: a SQLite file path; empty = DIR/certmint.db"},
    {"dns_server", CT_ADDR, STR_FIELD(dns_server), "", 0, 0,
     "DNS server (address:port) for domain validation and CAA lookups; empty = the system "
     "resolver"},
    {"http_resolve", CT_LIST, STR_FIELD(http_resolve), "", 0, 0,
     "host:port:address overrides for outbound validation requests (repeatable, or "
     "comma-separated)"},
    {"smtp_url", CT_STRING, STR_FIELD(smtp_url), "", 0, 0,
     "SMTP server for outgoing mail (smtp://host:port); empty = write .eml files to "
     "DIR/spool/mail"},
    {"mail_from", CT_STRING, STR_FIELD(mail_from), "certmint@localhost", 0, 0,
     "sender address of outgoing mail"},
    {"caa_identities", CT_LIST, STR_FIELD(caa_identities), "certmint.test", 0, 0,
     "issuer domain names that identify this CA in CAA records (comma-separated)"},
    {"dcv_cname_target", CT_STRING, STR_FIELD(dcv_cname_target), "dcv.certmint.test", 0, 0,
     "the name that dns-cname-token records must point to"},
    {"workers", CT_LONG, offsetof(cm_config, workers), 0, "0", 0, 256,
     "HTTP worker threads; 0 = one per core"},
    {"max_body", CT_LONG, offsetof(cm_config, max_body), 0, "1048576", 1024, 67108864,
     "largest request body accepted, in bytes (larger ones get 413)"},
    {"dcv_recheck_interval", CT_LONG, offsetof(cm_config, dcv_recheck_interval), 0, "300", 1,
     86400,
     "seconds between two automatic re-checks of pending domain validations and DV orders"},
    {"signer_lanes", CT_LONG, offsetof(cm_config, signer_lanes), 0, "0", 0, 16,
     "signer processes, each holding the CA keys and signing one request at a time; 0 = one per "
     "online core (at most 16)"},
};

#define N_ENTRIES (sizeof table / sizeof table[0])

static const cfg_entry *find(const char *key)
{
    for (size_t i = 0; i < N_ENTRIES; i++)
        if (strcmp(table[i].name, key) == 0)
            return &table[i];
    return NULL;
}

int config_is_key(const char *key)
{
    return find(key) != NULL;
}

/* "address:port", with a port from 1 to 65535; IPv6 addresses in brackets. */
static int check_addr(const char *v)
{
    const char *colon = strrchr(v, ':');
    long port;
    if (colon == NULL || colon == v || str_to_long(colon + 1, 1, 65535, &port) != 0)
        return -1;
    for (const char *p = v; p < colon; p++)
        if (isspace((unsigned char)*p))
            return -1;
    return 0;
}

/* Each comma-separated item of a list: http_resolve items are host:port:address. */
static int check_list(const cfg_entry *e, const char *value, cm_err *err)
{
    const char *p = value;
    while (*p != '\0') {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char item[600];
        if (n == 0 || n >= sizeof item)
            return cm_err_set(err, "config_invalid", "%s has an empty or over-long item",
                              e->name);
        memcpy(item, p, n);
        item[n] = '\0';
        for (const char *q = item; *q; q++)
            if (isspace((unsigned char)*q) || (unsigned char)*q < 0x21)
                return cm_err_set(err, "config_invalid", "%s item \"%s\" contains a space",
                                  e->name, item);
        if (strcmp(e->name, "http_resolve") == 0) {
            char *c1 = strchr(item, ':');
            long port;
            char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
            if (c1 == NULL || c2 == NULL || c1 == item || c2[1] == '\0')
                return cm_err_set(err, "config_invalid",
                                  "%s item \"%s\" must be host:port:address", e->name, item);
            *c2 = '\0';
            if (str_to_long(c1 + 1, 1, 65535, &port) != 0)
                return cm_err_set(err, "config_invalid", "%s item has a bad port", e->name);
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}

static int set_entry(cm_config *c, const cfg_entry *e, const char *value, cm_err *err)
{
    char *base = (char *)c;
    if (e->type == CT_LONG) {
        long v;
        if (str_to_long(value, e->min, e->max, &v) != 0)
            return cm_err_set(err, "config_invalid", "%s must be a whole number from %ld to %ld",
                              e->name, e->min, e->max);
        *(long *)(void *)(base + e->offset) = v;
        return 0;
    }
    if (e->type == CT_URL && value[0] != '\0') {
        if (strncmp(value, "http://", 7) != 0 || value[7] == '\0')
            return cm_err_set(err, "config_invalid",
                              "%s must be an http:// URL (the Baseline Requirements want plain "
                              "HTTP for CRL and CA-issuer links)",
                              e->name);
        for (const char *p = value; *p; p++)
            if (isspace((unsigned char)*p) || (unsigned char)*p < 0x21 || *p == '"')
                return cm_err_set(err, "config_invalid", "%s contains a space or control "
                                  "character", e->name);
        if (value[strlen(value) - 1] == '/')
            return cm_err_set(err, "config_invalid", "%s must not end with a slash", e->name);
    }
    if (e->type == CT_ADDR && value[0] != '\0' && check_addr(value) != 0)
        return cm_err_set(err, "config_invalid", "%s must be address:port (e.g. 127.0.0.1:8080)",
                          e->name);
    if (e->type == CT_LIST && check_list(e, value, err) != 0)
        return -1;
    if (str_copy(base + e->offset, e->size, value) != 0)
        return cm_err_set(err, "config_invalid", "%s is longer than %zu characters", e->name,
                          e->size - 1);
    return 0;
}

int config_append(cm_config *c, const char *key, const char *value, cm_err *err)
{
    const cfg_entry *e = find(key);
    if (e == NULL || e->type != CT_LIST)
        return config_set(c, key, value, err);
    const char *cur = (const char *)c + e->offset;
    if (cur[0] == '\0')
        return set_entry(c, e, value, err);
    char joined[4096];
    if ((size_t)snprintf(joined, sizeof joined, "%s,%s", cur, value) >= sizeof joined)
        return cm_err_set(err, "config_invalid", "%s is too long", e->name);
    return set_entry(c, e, joined, err);
}

void config_defaults(cm_config *c)
{
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < N_ENTRIES; i++) {
        /* Defaults are in bounds by construction. */
        set_entry(c, &table[i], table[i].def, NULL);
    }
}

int config_set(cm_config *c, const char *key, const char *value, cm_err *err)
{
    const cfg_entry *e = find(key);
    if (e == NULL)
        return cm_err_set(err, "config_unknown_key",
                          "unknown configuration key \"%s\"; `certmint config show` lists them",
                          key);
    return set_entry(c, e, value, err);
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

int config_load(cm_config *c, cm_err *err)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/certmint.conf", c->dir);
    unsigned char *buf = NULL;
    size_t len = 0;
    cm_err ferr;
    if (file_read_all(path, 65536, &buf, &len, &ferr) == 0) {
        int lineno = 0;
        bool seen[N_ENTRIES] = {false};
        char *save = NULL;
        for (char *line = strtok_r((char *)buf, "\n", &save); line != NULL;
             line = strtok_r(NULL, "\n", &save)) {
            lineno++;
            char *l = trim(line);
            if (*l == '\0' || *l == '#')
                continue;
            char *eq = strchr(l, '=');
            if (eq == NULL) {
                free(buf);
                return cm_err_set(err, "config_invalid", "%s line %d: expected key = value",
                                  path, lineno);
            }
            *eq = '\0';
            char *key = trim(l), *val = trim(eq + 1);
            if (strcmp(key, "dir") == 0)
                continue; /* the file lives in dir; it cannot move it */
            const cfg_entry *e = find(key);
            bool again = e != NULL && seen[e - table];
            if (e != NULL)
                seen[e - table] = true;
            if ((again ? config_append(c, key, val, err) : config_set(c, key, val, err)) != 0) {
                free(buf);
                return cm_err_prefix(err, "%s line %d", path, lineno);
            }
        }
        free(buf);
    } else if (strcmp(ferr.code, "file_too_large") == 0) {
        *err = ferr;
        return -1;
    } /* a missing file means defaults */
    for (size_t i = 0; i < N_ENTRIES; i++) {
        char env[128];
        snprintf(env, sizeof env, "CERTMINT_%s", table[i].name);
        for (char *p = env; *p; p++)
            *p = (char)toupper((unsigned char)*p);
        const char *v = getenv(env);
        if (v != NULL && strcmp(table[i].name, "dir") != 0 &&
            set_entry(c, &table[i], v, err) != 0)
            return cm_err_prefix(err, "environment %s", env);
    }
    return 0;
}

static void value_text(const cm_config *c, const cfg_entry *e, char *buf, size_t n)
{
    const char *base = (const char *)c;
    if (e->type == CT_LONG)
        snprintf(buf, n, "%ld", *(const long *)(const void *)(base + e->offset));
    else
        snprintf(buf, n, "%s", base + e->offset);
}

void config_write(const cm_config *c, FILE *f)
{
    fprintf(f, "# certmint configuration; `certmint config show` lists every key.\n");
    for (size_t i = 0; i < N_ENTRIES; i++) {
        char v[1100];
        if (strcmp(table[i].name, "dir") == 0)
            continue;
        value_text(c, &table[i], v, sizeof v);
        fprintf(f, "%s = %s\n", table[i].name, v);
    }
}

void config_show(const cm_config *c, FILE *f)
{
    for (size_t i = 0; i < N_ENTRIES; i++) {
        char v[1100];
        value_text(c, &table[i], v, sizeof v);
        fprintf(f, "%-18s = %-32s # %s (default: \"%s\")\n", table[i].name, v, table[i].help,
                table[i].def);
    }
}
