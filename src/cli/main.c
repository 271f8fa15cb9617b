/* main.c — the certmint binary: one executable, subcommands. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "util/str.h"

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} commands[] = {
    {"init", cmd_init, "create a data directory with its public and private CA hierarchies"},
    {"serve", cmd_serve, "run the server: REST API, CRL, OCSP, jobs and the signer process"},
    {"migrate", cmd_migrate, "bring the database schema up to date"},
    {"audit", cmd_audit, "check the audit log's hash chain (audit verify)"},
    {"issue", cmd_issue, "issue a certificate offline from a CSR"},
    {"lint", cmd_lint, "check certificates against the Baseline Requirements profile"},
    {"config", cmd_config, "show the configuration of a data directory (config show)"},
    {"mail", cmd_mail, "compose and deliver a test mail with the mail settings (mail test)"},
    {"dcv", cmd_dcv, "check domain control or CAA over the network (dcv check, dcv caa)"},
    {"ca", cmd_ca, "offline work with the root keys: re-sign the root CRLs (ca root-crl)"},
    {"order", cmd_order, "client: place, show, list, cancel and revoke orders"},
    {"duplicate", cmd_duplicate, "client: another certificate of an order, with its own key"},
    {"reissue", cmd_reissue, "client: re-key an order's certificate, change its names"},
    {"renew", cmd_renew, "client: a new order that continues an old one"},
    {"cert", cmd_cert, "client: show, download and revoke certificates"},
    {"request", cmd_request, "client: list, approve and reject requests"},
    {"org", cmd_org, "client: organisations and their verified contacts"},
    {"domain", cmd_domain, "client: domains and their validation (DCV)"},
    {"settings", cmd_settings, "client: the account's settings"},
    {"platform", cmd_platform, "client: the server platforms"},
    {"product", cmd_product, "client: the product catalogue"},
};

int cli_fail(const cm_err *err, int exit_code)
{
    fprintf(stderr, "certmint: %s: %s\n", err->code, err->msg);
    return exit_code;
}

int cli_usage(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "certmint: usage: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    return 2;
}

int cli_load_config(const char *dir, cm_config *cfg, cm_err *err)
{
    config_defaults(cfg);
    if (dir != NULL && config_set(cfg, "dir", dir, err) != 0)
        return -1;
    return config_load(cfg, err);
}

static void usage(FILE *f)
{
    fprintf(f, "certmint — a self-hosted certificate authority\n\nusage: certmint COMMAND "
               "[options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\n`certmint COMMAND --help` describes a command; docs/cli.md has examples.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("certmint 0.1.0\n");
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "certmint: unknown command \"%s\"\n", argv[1]);
    usage(stderr);
    return 2;
}
