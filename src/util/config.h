/* config.h — certmint's configuration: one table (name, type, default, bounds, help) drives
 * parsing of DIR/certmint.conf, CERTMINT_<KEY> environment overrides, --key value flags,
 * `certmint config show` and docs/operations.md. Later sources win: defaults, file, environment,
 * flags. */
#ifndef CM_UTIL_CONFIG_H
#define CM_UTIL_CONFIG_H

#include <stdio.h>

#include "util/err.h"

typedef struct cm_config {
    char dir[1024];        /* data directory */
    char public_url[512];  /* base of the AIA and CRL URLs put in certificates (http://) */
    char ocsp_url[512];    /* OCSP URL put in the AIA; empty = none */
    long private_max_days; /* validity cap of the private hierarchy */
    char listen[128];      /* HTTP listener, address:port; empty = none */
    char tls_listen[128];  /* HTTPS listener, address:port; empty = none */
    char tls_cert[1024];   /* HTTPS certificate chain (PEM); empty = DIR/ca/listener.crt */
    char tls_key[1024];    /* HTTPS key (PEM); empty = DIR/ca/listener.key */
    char db[1024];         /* SQLite file path; empty = DIR/certmint.db */
    char dns_server[128];  /* address:port for DCV and CAA lookups; empty = system resolver */
    char http_resolve[2048]; /* comma-separated host:port:address overrides for validation */
    char smtp_url[512];    /* smtp:// or smtps:// URL; empty = spool directory DIR/spool/mail */
    char mail_from[256];   /* envelope and header sender of outgoing mail */
    char caa_identities[512]; /* comma-separated CAA issuer domain names of this CA */
    char dcv_cname_target[256]; /* target of dns-cname-token records */
    long workers;          /* HTTP worker threads; 0 = one per core */
    long max_body;         /* largest request body in bytes */
    long dcv_recheck_interval; /* seconds between two automatic DCV re-checks */
    long signer_lanes;     /* signer processes; 0 = one per online core (at most 16) */
} cm_config;

/* Fills `c` with defaults. */
void config_defaults(cm_config *c);

/* Sets one key from text, checking type and bounds. Errors: `config_unknown_key`,
 * `config_invalid`. */
int config_set(cm_config *c, const char *key, const char *value, cm_err *err);

/* Appends a value to a list key (http_resolve, caa_identities); for other keys the same as
 * config_set. Repeated `--key value` flags and repeated file lines use it. */
int config_append(cm_config *c, const char *key, const char *value, cm_err *err);

/* Reads DIR/certmint.conf (`key = value` lines, # comments) if it exists, then the
 * CERTMINT_<KEY> environment variables. c->dir must be set. */
int config_load(cm_config *c, cm_err *err);

/* Writes every setting but `dir` as a certmint.conf text (init writes it once). */
void config_write(const cm_config *c, FILE *f);

/* Prints every key with its value, default and help. */
void config_show(const cm_config *c, FILE *f);

/* True when `key` names a configuration key. */
int config_is_key(const char *key);

#endif
