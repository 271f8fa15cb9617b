/* cmd_ca.c — `certmint ca`: offline work on the CA hierarchy that needs a root key.
 * `ca root-crl` re-signs the CRLs of the four roots (pki.h ca_root_crl_make). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "pki/pki.h"
#include "util/str.h"

static const char ca_help[] =
    "usage: certmint ca root-crl --dir DIR [--days N]\n"
    "Re-signs the CRLs of the four roots (public-ecdsa-root, public-rsa-root,\n"
    "private-ecdsa-root, private-rsa-root) with the root keys and writes DIR/ca/<root>.crl,\n"
    "which the server hands out at /crl/<root>.crl (the URL every issuing CA certificate names).\n"
    "Each new CRL has the previous CRL number + 1 and is valid for N days (1 to 365, default\n"
    "365; BR 4.9.7 allows at most 12 months).\n"
    "When to run it: at least once a year, well before the nextUpdate of the current CRLs\n"
    "(`openssl crl -inform DER -in DIR/ca/public-ecdsa-root.crl -noout -nextupdate`); `certmint\n"
    "init` made the first ones. Run it where the root keys are (offline, or on the server host);\n"
    "it needs the CA passphrase like init: CERTMINT_CA_PASSPHRASE, else DIR/ca/passphrase.\n"
    "The server need not be stopped: it reads the file on each request.\n";

static int ca_root_crl(int argc, char **argv)
{
    static const struct option opts[] = {{"dir", required_argument, 0, 'd'},
                                         {"days", required_argument, 0, 'n'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *dir = NULL;
    long days = CA_ROOT_CRL_DEFAULT_DAYS;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd': dir = optarg; break;
        case 'n':
            if (str_to_long(optarg, 1, CA_ROOT_CRL_MAX_DAYS, &days) != 0)
                return cli_usage("--days takes 1 to %d (BR 4.9.7: at most 12 months)",
                                 CA_ROOT_CRL_MAX_DAYS);
            break;
        case 'h': fputs(ca_help, stdout); return 0;
        default: fputs(ca_help, stderr); return 2;
        }
    }
    if (dir == NULL || optind != argc) {
        fputs(ca_help, stderr);
        return 2;
    }
    cm_config cfg;
    cm_err err;
    cm_err_clear(&err);
    if (cli_load_config(dir, &cfg, &err) != 0)
        return cli_fail(&err, 2);
    if (ca_root_crls_make(&cfg, (int)days, &err) != 0)
        return cli_fail(&err, 1);
    printf("certmint: signed the root CRLs in %s/ca (*-root.crl), valid for %ld days\n", cfg.dir,
           days);
    return 0;
}

int cmd_ca(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "root-crl") == 0)
        return ca_root_crl(argc - 1, argv + 1);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(ca_help, stdout);
        return 0;
    }
    fputs(ca_help, stderr);
    return 2;
}
