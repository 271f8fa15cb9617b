/* cmd_dcv.c — `certmint dcv check` and `certmint dcv caa`: the network checks of domain
 * validation (dns-txt-token, dns-cname-token, http-token) and of CAA, run by hand with a data
 * directory's settings, so an operator can see what certmint looks up and what it finds. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "net/dcv.h"
#include "util/str.h"

static const char dcv_help[] =
    "usage: certmint dcv check --dir DIR --method METHOD --domain DOMAIN --value VALUE [options]\n"
    "       certmint dcv caa --dir DIR --domain NAME [--wildcard] [options]\n"
    "Runs the network checks of domain validation and CAA by hand, with the settings of DIR,\n"
    "and says what was looked up and what was found. Nothing is written.\n"
    "\n"
    "dcv check  looks for the proof that whoever controls DOMAIN published VALUE:\n"
    "  dns-txt-token    a TXT record \"VALUE\" at _dnsauth.DOMAIN, or else at DOMAIN\n"
    "  dns-cname-token  VALUE.DOMAIN is a CNAME for dcv_cname_target\n"
    "  http-token       http://DOMAIN/.well-known/pki-validation/fileauth.txt contains VALUE;\n"
    "                   redirects: only 301, 302, 307 and 308, only to http or https URLs on\n"
    "                   port 80 or 443, at most 5; body at most 64 KiB; 10 s in all; TLS\n"
    "                   certificates are not verified on https (BR 3.2.2.4.18)\n"
    "dcv caa    checks CAA for NAME as issuance does (RFC 8659, BR 3.2.2.8): climbs from NAME\n"
    "           towards its TLD until a name has CAA records, then checks that an \"issue\"\n"
    "           record names one of caa_identities. For \"*.NAME\" or with --wildcard,\n"
    "           \"issuewild\" records decide when there are any. A DNS failure is a refusal.\n"
    "\n"
    "options (each overrides DIR/certmint.conf and CERTMINT_* for this run):\n"
    "  --dns_server ADDR:PORT          DNS server to ask, e.g. 127.0.0.1:53 or [::1]:53\n"
    "                                  (empty: the system resolver of /etc/resolv.conf)\n"
    "  --http_resolve HOST:PORT:ADDR   connect to ADDR for HOST:PORT (repeatable)\n"
    "  --caa_identities NAME           issuer domain name of this CA in CAA (repeatable)\n"
    "  --dcv_cname_target NAME         where dns-cname-token records must point\n"
    "  --json                          print the outcome as one JSON object on stdout (instead\n"
    "                                  of the ok: line; errors still go to stderr too)\n"
    "  (dashes work too: --dns-server, --http-resolve, --caa-identities, --dcv-cname-target)\n"
    "\n"
    "Prints \"ok: ...\" and exits 0 when the proof is found or issuance is permitted; otherwise\n"
    "prints \"certmint: CODE: MESSAGE\" on standard error and exits 1 (2 for usage errors).\n"
    "Codes: dcv_txt_not_found, dcv_cname_not_found, dcv_http_not_found, http_fetch_failed,\n"
    "http_redirect_refused, dns_failed, caa_forbidden, caa_lookup_failed, dcv_method_invalid,\n"
    "dcv_domain_invalid, dcv_value_invalid.\n"
    "\n"
    "examples:\n"
    "  certmint dcv check --dir /var/lib/certmint --method dns-txt-token \\\n"
    "      --domain example.com --value 5e8c1f0a9b2d4c6e8f1a3b5c7d9e0f21\n"
    "  certmint dcv caa --dir /var/lib/certmint --domain '*.example.com'\n";

/* A configuration flag given on the command line, applied after the file is read. */
typedef struct flag_set {
    const char *key, *value;
} flag_set;

static int apply_flags(cm_config *cfg, const flag_set *f, size_t n, cm_err *err)
{
    for (size_t i = 0; i < n; i++) {
        /* The first flag of a list key replaces the configured list; repeats add to it. */
        bool first = true;
        for (size_t j = 0; j < i; j++)
            first = first && strcmp(f[j].key, f[i].key) != 0;
        int rc = first ? config_set(cfg, f[i].key, f[i].value, err)
                       : config_append(cfg, f[i].key, f[i].value, err);
        if (rc != 0)
            return -1;
    }
    return 0;
}

static void print_json(bool ok, const char *what, const char *domain, const char *found,
                       const cm_err *err)
{
    json_t *o = ok ? json_pack("{s:s, s:s, s:s, s:s}", "status", "ok", "check", what, "domain",
                               domain, "found", found)
                   : json_pack("{s:s, s:s, s:s, s:s, s:s}", "status", "failed", "check", what,
                               "domain", domain, "code", err->code, "message", err->msg);
    if (o == NULL)
        return;
    json_dumpf(o, stdout, JSON_COMPACT);
    putchar('\n');
    json_decref(o);
}

int cmd_dcv(int argc, char **argv)
{
    static const struct option opts[] = {{"dir", required_argument, 0, 'd'},
                                         {"method", required_argument, 0, 'm'},
                                         {"domain", required_argument, 0, 'D'},
                                         {"value", required_argument, 0, 'v'},
                                         {"wildcard", no_argument, 0, 'w'},
                                         {"json", no_argument, 0, 'j'},
                                         {"dns_server", required_argument, 0, 's'},
                                         {"dns-server", required_argument, 0, 's'},
                                         {"http_resolve", required_argument, 0, 'r'},
                                         {"http-resolve", required_argument, 0, 'r'},
                                         {"caa_identities", required_argument, 0, 'c'},
                                         {"caa-identities", required_argument, 0, 'c'},
                                         {"dcv_cname_target", required_argument, 0, 't'},
                                         {"dcv-cname-target", required_argument, 0, 't'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *dir = NULL, *method = NULL, *domain = NULL, *value = NULL;
    bool wildcard = false, json = false;
    flag_set *flags = NULL;
    size_t n_flags = 0;
    char found[600];
    cm_config cfg;
    cm_err err;
    int c, rc = 2;
    cm_err_clear(&err);
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(dcv_help, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *verb = argv[1];
    bool is_check = strcmp(verb, "check") == 0, is_caa = strcmp(verb, "caa") == 0;
    if (!is_check && !is_caa)
        return cli_usage("unknown dcv command \"%s\"; use `dcv check` or `dcv caa` "
                         "(`certmint dcv --help`)",
                         verb);
    argc--;
    argv++;
    flags = calloc((size_t)argc + 1, sizeof *flags);
    if (flags == NULL) {
        cm_err_set(&err, "out_of_memory", "out of memory");
        rc = cli_fail(&err, 1);
        goto out;
    }
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            dir = optarg;
            break;
        case 'm':
            method = optarg;
            break;
        case 'D':
            domain = optarg;
            break;
        case 'v':
            value = optarg;
            break;
        case 'w':
            wildcard = true;
            break;
        case 'j':
            json = true;
            break;
        case 's':
            flags[n_flags++] = (flag_set){"dns_server", optarg};
            break;
        case 'r':
            flags[n_flags++] = (flag_set){"http_resolve", optarg};
            break;
        case 'c':
            flags[n_flags++] = (flag_set){"caa_identities", optarg};
            break;
        case 't':
            flags[n_flags++] = (flag_set){"dcv_cname_target", optarg};
            break;
        case 'h':
            fputs(dcv_help, stdout);
            rc = 0;
            goto out;
        default:
            fputs(dcv_help, stderr);
            goto out;
        }
    }
    if (optind < argc) {
        rc = cli_usage("dcv %s takes no arguments besides its options (got \"%s\")", verb,
                       argv[optind]);
        goto out;
    }
    if (dir == NULL || domain == NULL) {
        rc =
            cli_usage("dcv %s needs --dir DIR and --domain %s", verb, is_check ? "DOMAIN" : "NAME");
        goto out;
    }
    if (is_check && (method == NULL || value == NULL)) {
        rc = cli_usage("dcv check needs --method METHOD and --value VALUE");
        goto out;
    }
    if (is_caa && (method != NULL || value != NULL)) {
        rc = cli_usage("dcv caa takes no --method or --value");
        goto out;
    }
    if (is_check && wildcard) {
        rc = cli_usage("--wildcard belongs to `dcv caa`");
        goto out;
    }
    if (cli_load_config(dir, &cfg, &err) != 0 || apply_flags(&cfg, flags, n_flags, &err) != 0) {
        rc = cli_fail(&err, 2);
        goto out;
    }
    int r = is_check ? dcv_check_detail(&cfg, method, domain, value, found, sizeof found, &err)
                     : caa_check_detail(&cfg, domain, wildcard, found, sizeof found, &err);
    if (json)
        print_json(r == 0, is_check ? method : "caa", domain, found, &err);
    if (r != 0) {
        rc = cli_fail(&err, 1);
        goto out;
    }
    if (!json)
        printf("ok: %s\n", found);
    rc = 0;
out:
    free(flags);
    return rc;
}
