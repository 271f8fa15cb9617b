/* client.h — the certmint client: where the server and the API key come from (flags, then
 * environment, then the configuration file), an HTTP client for the REST API (libcurl, jansson),
 * and the helpers the client commands share (cmd_common.c: arguments, dispatch, output;
 * cmd_client.c, cmd_dup.c: the nouns and verbs).
 *
 * The API key goes into the X-DC-DEVKEY header and nowhere else: no message, log line or output
 * of these functions contains it. */
#ifndef CM_CLI_CLIENT_H
#define CM_CLI_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "util/err.h"

/* ---- Settings (client.c) ---- */

/* Largest answer read from the server; a larger one fails with `response_too_large`. */
#define CLIENT_MAX_RESPONSE (16u * 1024u * 1024u)
/* Largest configuration file read. */
#define CLIENT_MAX_CONFIG 65536

typedef struct cli_settings {
    char server[1024];      /* base URL without /services/v2 and without a trailing slash */
    char key[256];          /* API key; secret */
    char ca_file[1024];     /* PEM roots to trust for HTTPS; empty = the system's */
    char config_path[1100]; /* the configuration file that was read; empty when none */
} cli_settings;

/* Resolves each setting from, in this order: the flag (`flag_*`, NULL when not given), the
 * environment (CERTMINT_SERVER, CERTMINT_KEY, CERTMINT_CA_FILE), the configuration file
 * $XDG_CONFIG_HOME/certmint/config, or ~/.config/certmint/config without XDG_CONFIG_HOME
 * (`server = URL`, `key = KEY`, `ca_file = PATH` lines, `#` comments). The file is read when it
 * exists; when it holds a key and other users may read it (any group/other mode bit) or it
 * belongs to someone else, it is refused. Errors: `config_insecure`, `config_invalid` (a line
 * that is not `name = value` of those names), `file_unreadable`, `server_required` and
 * `key_required` (nothing gave one; the message says the three ways), `field_invalid` (a URL
 * that is not http(s)://HOST[:PORT][/PATH], a key with spaces or control characters). Nothing
 * to free. */
int client_settings(const char *flag_server, const char *flag_key, const char *flag_ca,
                    cli_settings *out, cm_err *err);

/* ---- HTTP (client.c) ---- */

typedef struct cm_client cm_client;

/* A client for the server of `s` (copied). Caller frees with client_close. Errors:
 * `network_error` (libcurl could not start), `out_of_memory`. */
int client_open(const cli_settings *s, cm_client **out, cm_err *err);
/* Frees the client and wipes its copy of the key. NULL is fine. */
void client_close(cm_client *c);

typedef struct client_resp {
    long status;            /* HTTP status */
    unsigned char *body;    /* the answer, NUL-terminated (freed by client_resp_free) */
    size_t len;             /* its length without the NUL */
    char content_type[128]; /* the Content-Type header without parameters, lower case */
    char filename[256];     /* the Content-Disposition filename, reduced to a plain file
                               name (no directory, no leading dot); empty when none */
} client_resp;

/* Sends METHOD /services/v2`path` (path starts with '/', may carry a query) with `body` as JSON
 * (NULL: no body) and the API key, and reads the answer (at most CLIENT_MAX_RESPONSE bytes).
 * Returns 0 when the server answered, whatever the status; -1 when it did not:
 * `network_error` (connection, timeout), `tls_failed` (certificate not trusted: give
 * --ca-file), `response_too_large`, `out_of_memory`. The caller frees with client_resp_free. */
int client_request(cm_client *c, const char *method, const char *path, const json_t *body,
                   client_resp *resp, cm_err *err);
void client_resp_free(client_resp *r);

/* client_request for JSON answers. On a 2xx answer returns 0 and *out is the parsed JSON (an
 * empty object for an empty answer such as 204; caller json_decref's). Otherwise returns -1 with
 * `err` holding the server's first error (`{"errors":[{"code","message"}]}`; when there are
 * more, the message ends with their codes), `http_<status>` for an answer without that shape,
 * `response_invalid` for a 2xx answer that is not JSON, or the errors of client_request. */
int client_call(cm_client *c, const char *method, const char *path, const json_t *body,
                json_t **out, cm_err *err);

/* The HTTP status of the client's last answer; -1 when the last request surely never reached
 * the server (no connection, TLS refused); 0 when it got no answer otherwise (a timeout: the
 * server may have acted). */
long client_last_status(const cm_client *c);

/* Fills `err` from an error answer (see client_call). Returns -1. */
int client_error_from(const client_resp *r, cm_err *err);

/* ---- Shared by the client commands (cmd_common.c) ---- */

typedef struct cli_ctx cli_ctx;

/* One verb of a noun. `name` NULL marks the noun's default verb (`certmint reissue ORDER …`).
 * `opts` lists the verb's options separated by spaces: `name` is a flag, `name=` takes a value,
 * `name=*` takes a value and may repeat. Every verb also takes --server, --key, --ca-file,
 * --json and --help. */
typedef struct cli_verb {
    const char *name;
    int (*fn)(cli_ctx *c);
    int min_pos, max_pos; /* positional arguments after the verb */
    const char *opts;
    const char *usage; /* "order show ID", printed after "usage: certmint " */
} cli_verb;

/* Runs `certmint NOUN VERB …` (argv[0] is the noun): parses the options, checks the positional
 * arguments, and calls the verb. `help` is printed (with every verb's usage) for
 * `certmint NOUN --help`. Returns the exit code: 0, 1 (refused, failed, network), 2 (usage). */
int cli_dispatch(int argc, char **argv, const cli_verb *verbs, size_t n_verbs, const char *help);

/* The verb's positional argument i (0-based), or NULL. */
const char *arg_pos(const cli_ctx *c, int i);
/* The value of option `name` (the last one when repeatable), or NULL when absent. */
const char *arg_get(const cli_ctx *c, const char *name);
/* True when flag or option `name` was given. */
bool arg_has(const cli_ctx *c, const char *name);
/* Every value of a repeatable option, in order, into out (at most max); returns how many were
 * given, which may exceed max. */
size_t arg_all(const cli_ctx *c, const char *name, const char **out, size_t max);
/* True with --json. */
bool cli_json(const cli_ctx *c);

/* Prints "certmint: usage: MESSAGE" and the verb's usage line; returns 2. */
int cli_usage_verb(const cli_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Parses a positive whole number (an id, 1 … 2^53) named `what`; on junk prints a usage error and
 * returns 2, else 0. */
int arg_id(const cli_ctx *c, const char *text, const char *what, long long *out);
/* Parses a whole number in [min, max] for option `what`; 2 (usage printed) or 0. */
int arg_long(const cli_ctx *c, const char *text, const char *what, long min, long max, long *out);

/* The client of this run, opened on first use from the settings. Returns 0, or the exit code
 * after printing the error. Owned by the context. */
int cli_client(cli_ctx *c, cm_client **out);
/* client_call through the context: 0 with *out (caller json_decref's), or 1 after printing
 * `certmint: CODE: MESSAGE` (and 2 for missing settings). */
int cli_call(cli_ctx *c, const char *method, const char *path, const json_t *body, json_t **out);
/* client_last_status of this run's client (0 before any request): tells a refusal (4xx, or -1:
 * never sent) from a failure after which the server may have acted (5xx, 0). */
long cli_last_status(const cli_ctx *c);
/* client_request through the context: 0 with a 2xx answer in *resp (caller frees with
 * client_resp_free), else the exit code after printing the error. */
int cli_fetch(cli_ctx *c, const char *path, client_resp *resp);
/* Prints `certmint: CODE: MESSAGE` and returns `code` (1 or 2). */
int cli_err(const cm_err *err, int code);

/* A path (or path + query) printed into buf; returns 0, or 1 after an error when too long. */
int cli_path(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Appends "&name=value" (or "?name=value" first) to a path in buf, URL-escaping the value.
 * Returns 0, or 1 after printing an error. */
int cli_query(char *buf, size_t size, const char *name, const char *value);

/* Sets o[key] to the string `val`; nothing when val is NULL. Returns 0, 2 after a usage error
 * when val is not UTF-8 text, or 1 when out of memory. */
int body_str(const cli_ctx *c, json_t *o, const char *key, const char *val);
/* Adds the list options --limit, --offset, --sort to a path (checked: 2 on junk). */
int list_opts(const cli_ctx *c, char *path, size_t size);
/* Sets o[key] to a new value (taking the reference); 1 when out of memory. */
int body_set(json_t *o, const char *key, json_t *v);

/* ---- Output (cmd_common.c) ---- */

/* Prints JSON indented by two spaces, with a newline, to stdout. */
void out_json(const json_t *j);
/* Prints an object as "label: value" lines: nested objects as dotted labels ("product.name_id")
 * or their id ("organization: 3"), arrays of values joined by ", ", arrays of objects one item a
 * line; a certificate_chain is summarised. `indent` spaces go before every line. */
void out_kv(json_t *obj, int indent);

typedef struct out_col {
    const char *header;
    const char *path; /* dotted path inside each item: "product.name_id" */
} out_col;

/* Prints an array of objects as a table with a header line; "-" for absent values. `what`
 * ("orders") names the items for the empty case and the "N of TOTAL" line made from `page`
 * (may be NULL). */
void out_table(json_t *items, const out_col *cols, size_t n_cols, const char *what,
               const json_t *page);
/* The text of a JSON value as out_kv prints it, into buf. */
const char *out_text(json_t *v, char *buf, size_t size);

/* ---- The nouns (cmd_client.c, cmd_dup.c) ---- */

/* Finds a server platform by id or by name ("nginx", "Microsoft IIS", "microsoft-iis") in
 * GET /server-platform. Returns 0 with *id, else the exit code after printing the error
 * (`field_invalid` naming the platforms). */
int cli_platform_id(cli_ctx *c, const char *text, long long *id);

/* The certificate options shared by order create, duplicate, reissue and renew: reads --csr
 * FILE or makes a key with --generate-key --out-dir DIR (see cmd_dup.c) for the names given.
 * After issuance, cli_install writes the certificate beside the key. */
typedef struct cli_keyjob {
    bool generate;
    char dir[1024];      /* --out-dir */
    char name[256];      /* file base name: DIR/NAME.key, DIR/NAME.crt */
    char key_path[1300]; /* DIR/NAME.key once written; empty before */
    char *csr_pem;       /* the CSR to send (malloc'd) */
    json_t *files;       /* paths written, for --json ({"key": …, "certificate": …}) */
    bool failed;         /* the request failed (set before cli_keyjob_done) */
} cli_keyjob;

/* The usage checks of --csr, --generate-key, --out-dir, --name, --key-type, --key-bits, made
 * before anything is sent: 0, or 2 after the usage error. */
int cli_keyjob_check(const cli_ctx *c);
/* Fills `k`: with --csr reads the file; with --generate-key checks --out-dir, refuses an
 * existing DIR/NAME.key, makes the key and CSR (--key-type, --key-bits) and writes the key with
 * mode 0600 (never over a file). `cn` and `sans` go into the CSR and `cn` names the files
 * (--name overrides). Returns 0 or the exit code after printing the error. The caller releases
 * `k` with cli_keyjob_done. */
int cli_keyjob_start(cli_ctx *c, const char *cn, const char *const *sans, size_t n_sans,
                     cli_keyjob *k);
/* Ends the job and frees what `k` holds. When the server refused the request (`refused`: a 4xx
 * answer, or the request was never sent), a key made by this run is removed — it was never
 * used — so the command can simply be run again. When the request failed otherwise
 * (k->failed: no answer, 5xx) the key is kept and the user told so. */
void cli_keyjob_done(cli_keyjob *k, bool refused);
/* With --generate-key, downloads certificate `cert_id` in its platform's format and writes it
 * beside the key (nginx and other PEM platforms: DIR/NAME.crt, leaf then chain; zips are
 * unpacked into DIR; DER and PKCS#7 as DIR/NAME.der / .p7b). Prints the paths written (unless
 * --json). Returns 0 or the exit code after printing the error. */
int cli_install(cli_ctx *c, long long cert_id, cli_keyjob *k);

/* `order create` (cmd_dup.c: it shares --csr/--generate-key with duplicates and reissues). */
int cli_order_create(cli_ctx *c);

#endif
