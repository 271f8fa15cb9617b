/* cmd_lint.c — `certmint lint`: runs the pre-issuance linter (src/pki/lint.h) over certificate
 * files, so an operator can check what certmint or anyone else issued. No OpenSSL here: PEM and
 * DER decoding stay behind lint_decode_certs. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "pki/lint.h"
#include "util/clock.h"
#include "util/fileio.h"

#define LINT_FILE_MAX (1024 * 1024) /* largest certificate file read */

static const char lint_help[] =
    "usage: certmint lint [--issuer FILE] [--at ISO8601] FILE...\n"
    "Checks certificates against the Baseline Requirements profile (the rows of the checklist\n"
    "in COMPLIANCE.md). Each FILE is DER or PEM; in a PEM chain the first certificate is linted\n"
    "and the second, when no --issuer is given, is taken as its issuing CA. Without an issuer\n"
    "the rows that compare with it are reported as notices. --at gives the signing time for the\n"
    "notBefore check (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, UTC); without it, it is skipped.\n"
    "Prints \"FILE: rule N: error|warning|notice: message\" per finding, then\n"
    "\"FILE: N errors, N warnings\". Exit status: 0 no errors, 1 lint errors in any file,\n"
    "2 usage error or a file that cannot be read or parsed.\n";

/* Reads `path` and decodes up to `max` certificates into out (the caller frees each .der).
 * Returns 0, or -1 after saying why on stderr. */
static int load(const char *path, cm_lint_der *out, size_t max, size_t *n)
{
    unsigned char *data = NULL;
    size_t len = 0;
    cm_err err;
    cm_err_clear(&err);
    int rc = file_read_all(path, LINT_FILE_MAX, &data, &len, &err);
    if (rc == 0)
        rc = lint_decode_certs(data, len, out, max, n, &err);
    free(data);
    if (rc != 0)
        fprintf(stderr, "certmint: %s: %s: %s\n", path, err.code, err.msg);
    return rc;
}

/* Prints the findings of one file in rule order (stable), then its summary line. */
static void print_report(const char *path, const cm_lint_report *rep)
{
    size_t order[LINT_MAX_FINDINGS], shown = 0;
    for (size_t i = 0; i < rep->n; i++) { /* insertion sort of at most 64 indices */
        size_t j = i;
        for (; j > 0 && rep->items[order[j - 1]].rule > rep->items[i].rule; j--)
            order[j] = order[j - 1];
        order[j] = i;
    }
    for (size_t i = 0; i < rep->n; i++) {
        const cm_lint_finding *f = &rep->items[order[i]];
        printf("%s: rule %d: %s: %s\n", path, f->rule, lint_level_name(f->level), f->msg);
        shown += f->level != LINT_NOTICE;
    }
    if (rep->errors + rep->warnings > shown)
        printf("%s: %zu more errors and warnings not shown (at most %d findings are kept)\n", path,
               rep->errors + rep->warnings - shown, LINT_MAX_FINDINGS);
    printf("%s: %zu errors, %zu warnings\n", path, rep->errors, rep->warnings);
}

/* Lints the certificate in `path` against `issuer` (NULL: the file's second certificate, if
 * any) at signing time `at` (0: unknown). Returns 0 clean, 1 lint errors, 2 unreadable. */
static int lint_file(const char *path, const cm_lint_der *issuer, int64_t at)
{
    cm_lint_der certs[2] = {{NULL, 0}, {NULL, 0}};
    cm_lint_report rep;
    size_t n = 0;
    int rc = 2;
    if (load(path, certs, 2, &n) != 0)
        return 2;
    if (issuer == NULL && n > 1)
        issuer = &certs[1];
    if (lint_der(certs[0].der, certs[0].len, issuer != NULL ? issuer->der : NULL,
                 issuer != NULL ? issuer->len : 0, at, &rep) != 0) {
        fprintf(stderr, "certmint: %s: cert_malformed: %s cannot be parsed as DER X.509\n", path,
                n > 1 ? "the certificate or the issuer after it" : "the certificate");
    } else {
        print_report(path, &rep);
        rc = rep.errors > 0 ? 1 : 0;
    }
    free(certs[0].der);
    free(certs[1].der);
    return rc;
}

int cmd_lint(int argc, char **argv)
{
    static const struct option opts[] = {{"issuer", required_argument, 0, 'i'},
                                         {"at", required_argument, 0, 'a'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *issuer_path = NULL;
    cm_lint_der issuer = {NULL, 0};
    int64_t at = 0;
    size_t n = 0;
    int c, worst = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'i':
            issuer_path = optarg;
            break;
        case 'a':
            if (clock_parse_iso(optarg, &at) != 0 || at <= 0)
                return cli_usage("--at takes a UTC time as YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, "
                                 "not \"%s\"",
                                 optarg);
            break;
        case 'h':
            fputs(lint_help, stdout);
            return 0;
        default:
            fputs(lint_help, stderr);
            return 2;
        }
    }
    if (optind >= argc) {
        fputs(lint_help, stderr);
        return 2;
    }
    if (issuer_path != NULL && load(issuer_path, &issuer, 1, &n) != 0)
        return 2;
    cm_lint_report scratch; /* parsing the issuer once here blames a bad one on itself */
    if (issuer_path != NULL && lint_der(issuer.der, issuer.len, NULL, 0, 0, &scratch) != 0) {
        fprintf(stderr, "certmint: %s: cert_malformed: the issuer cannot be parsed as DER X.509\n",
                issuer_path);
        free(issuer.der);
        return 2;
    }
    for (int i = optind; i < argc; i++) {
        int rc = lint_file(argv[i], issuer_path != NULL ? &issuer : NULL, at);
        worst = rc > worst ? rc : worst;
    }
    free(issuer.der);
    return worst;
}
