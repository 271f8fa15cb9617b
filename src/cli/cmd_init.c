/* cmd_init.c — `certmint init`: create a data directory with its CA hierarchies and config. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "pki/pki.h"
#include "util/fileio.h"
#include "util/str.h"

static const char init_help[] =
    "usage: certmint init --dir DIR [--public-url http://HOST:PORT] [--ocsp-url URL]\n"
    "                     [--private-max-days N] [--ca-org NAME] [--ca-country CC] [--json]\n"
    "Creates DIR/ca with a public and a private hierarchy (ECDSA P-384 root → P-256 issuing CA,\n"
    "RSA-4096 root → RSA-3072 issuing CA each) and DIR/certmint.conf. CA keys are encrypted with\n"
    "CERTMINT_CA_PASSPHRASE, or with a new random passphrase stored in DIR/ca/passphrase (0600).\n"
    "Never overwrites an existing CA.\n";

int cmd_init(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, 0, 'd'},        {"public-url", required_argument, 0, 'u'},
        {"ocsp-url", required_argument, 0, 'o'},   {"private-max-days", required_argument, 0, 'p'},
        {"ca-org", required_argument, 0, 'O'},     {"ca-country", required_argument, 0, 'C'},
        {"rsa-root-bits", required_argument, 0, 'R'}, {"rsa-issuing-bits", required_argument, 0, 'I'},
        {"json", no_argument, 0, 'j'},             {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    const char *dir = NULL, *url = NULL, *ocsp = NULL, *pmax = NULL;
    cm_init_opts io = {"certmint", "XX", 4096, 3072};
    bool json = false;
    long v;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd': dir = optarg; break;
        case 'u': url = optarg; break;
        case 'o': ocsp = optarg; break;
        case 'p': pmax = optarg; break;
        case 'O': io.ca_org = optarg; break;
        case 'C': io.ca_country = optarg; break;
        case 'R':
        case 'I':
            if (str_to_long(optarg, 2048, 8192, &v) != 0 || v % 8 != 0)
                return cli_usage("RSA CA key sizes are 2048 to 8192 bits, a multiple of 8");
            *(c == 'R' ? &io.rsa_root_bits : &io.rsa_issuing_bits) = (int)v;
            break;
        case 'j': json = true; break;
        case 'h': fputs(init_help, stdout); return 0;
        default: fputs(init_help, stderr); return 2;
        }
    }
    if (dir == NULL || optind != argc) {
        fputs(init_help, stderr);
        return 2;
    }
    if (strlen(io.ca_country) != 2 || io.ca_country[0] < 'A' || io.ca_country[0] > 'Z' ||
        io.ca_country[1] < 'A' || io.ca_country[1] > 'Z')
        return cli_usage("--ca-country takes a two-letter upper-case code, e.g. GB (XX: none)");
    if (str_empty(io.ca_org) || strlen(io.ca_org) > 40)
        return cli_usage("--ca-org takes a name of 1 to 40 characters");
    cm_config cfg;
    cm_err err;
    cm_err_clear(&err);
    if (cli_load_config(dir, &cfg, &err) != 0 ||
        (url != NULL && config_set(&cfg, "public_url", url, &err) != 0) ||
        (ocsp != NULL && config_set(&cfg, "ocsp_url", ocsp, &err) != 0) ||
        (pmax != NULL && config_set(&cfg, "private_max_days", pmax, &err) != 0))
        return cli_fail(&err, 2);
    if (ca_init(&cfg, &io, &err) != 0)
        return cli_fail(&err, 1);
    /* The configuration is written once; an existing certmint.conf is the operator's. */
    char path[1200];
    snprintf(path, sizeof path, "%s/certmint.conf", cfg.dir);
    char *text = NULL;
    size_t len = 0;
    FILE *mf = open_memstream(&text, &len);
    if (mf != NULL) {
        config_write(&cfg, mf);
        fclose(mf);
        if (file_write_atomic(path, text, len, 0644, 0, &err) != 0 &&
            strcmp(err.code, "file_exists") != 0) {
            free(text);
            return cli_fail(&err, 1);
        }
    }
    free(text);
    if (json) {
        json_t *o = json_pack("{s:s, s:s, s:[s,s,s,s]}", "dir", cfg.dir, "public_url",
                              cfg.public_url, "issuers", "public-ecdsa", "public-rsa",
                              "private-ecdsa", "private-rsa");
        json_dumpf(o, stdout, JSON_COMPACT);
        putchar('\n');
        json_decref(o);
    } else {
        printf("certmint: initialised %s\n"
               "  public roots:  %s/ca/public-ecdsa-root.crt, %s/ca/public-rsa-root.crt\n"
               "  private roots: %s/ca/private-ecdsa-root.crt, %s/ca/private-rsa-root.crt\n"
               "  CA keys are encrypted with %s\n",
               cfg.dir, cfg.dir, cfg.dir, cfg.dir, cfg.dir,
               getenv("CERTMINT_CA_PASSPHRASE") != NULL ? "CERTMINT_CA_PASSPHRASE"
                                                         : "the passphrase in ca/passphrase");
    }
    return 0;
}

int cmd_config(int argc, char **argv)
{
    const char *dir = "./var";
    if (argc >= 2 && strcmp(argv[1], "show") == 0) {
        for (int i = 2; i < argc; i++) {
            if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
                dir = argv[++i];
            else
                return cli_usage("certmint config show [--dir DIR]");
        }
        cm_config cfg;
        cm_err err;
        if (cli_load_config(dir, &cfg, &err) != 0)
            return cli_fail(&err, 1);
        config_show(&cfg, stdout);
        return 0;
    }
    return cli_usage("certmint config show [--dir DIR]");
}
