/* cmd_issue.c — `certmint issue`: offline issuance from a CSR, the engine's first face. */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "pki/formats.h"
#include "pki/pki.h"
#include "util/clock.h"
#include "util/fileio.h"
#include "util/str.h"

static const char issue_help[] =
    "usage: certmint issue --dir DIR --product ID --csr FILE [--cn NAME] [--san NAME]...\n"
    "                      [--org FILE] [--issuer ecdsa|rsa] [--hash sha256|sha384|sha512]\n"
    "                      [--days N] [--format FMT] [--out FILE] [--json]\n"
    "Issues a certificate for the names given (never those in the CSR). The common name is\n"
    "added to the SANs when missing; without --cn the first --san is the common name.\n"
    "Products: ssl_dv_geotrust ssl_basic ssl_ev_basic ssl_securesite_flex ssl_plus\n"
    "          ssl_multi_domain ssl_wildcard ssl_ev_plus private_ssl_plus private_ssl_wildcard\n"
    "Formats:  pem_all (default) pem_noroot pem_nointermediate der p7b default default_pem apache\n";

/* Normalises the CN and SANs into `names`, CN first. Returns the count or -1. */
static int collect_names(const cm_product *p, const char *cn, char **sans, int n_sans,
                         cm_name *names, size_t *cn_index, cm_err *err)
{
    cm_name_policy pol = product_name_policy(p);
    size_t n = 0;
    *cn_index = SIZE_MAX;
    if (cn != NULL) {
        if (name_normalize(cn, &pol, &names[n], err) != 0)
            return -1;
        *cn_index = n++;
    }
    for (int i = 0; i < n_sans; i++) {
        if (n >= CERT_MAX_NAMES)
            return cm_err_set(err, "too_many_names", "more than %d names", CERT_MAX_NAMES);
        if (name_normalize(sans[i], &pol, &names[n], err) != 0)
            return -1;
        bool dup = false;
        for (size_t j = 0; j < n; j++)
            dup = dup || strcmp(names[j].text, names[n].text) == 0;
        if (!dup)
            n++;
    }
    if (cn == NULL && n > 0 && strlen(names[0].text) <= 64)
        *cn_index = 0;
    return (int)n;
}

static int write_output(const char *out, const cm_blob *b, cm_err *err)
{
    if (out == NULL) {
        if (fwrite(b->data, 1, b->len, stdout) != b->len)
            return cm_err_set(err, "file_unwritable", "cannot write to standard output");
        return 0;
    }
    return file_write_atomic(out, b->data, b->len, 0644, 1, err);
}

int cmd_issue(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, 0, 'd'},   {"product", required_argument, 0, 'p'},
        {"csr", required_argument, 0, 'c'},   {"cn", required_argument, 0, 'n'},
        {"san", required_argument, 0, 's'},   {"org", required_argument, 0, 'o'},
        {"issuer", required_argument, 0, 'i'}, {"hash", required_argument, 0, 'H'},
        {"days", required_argument, 0, 'D'},  {"format", required_argument, 0, 'f'},
        {"out", required_argument, 0, 'O'},   {"json", no_argument, 0, 'j'},
        {"help", no_argument, 0, 'h'},        {0, 0, 0, 0}};
    const char *dir = NULL, *product_id = NULL, *csr_path = NULL, *cn = NULL, *org_path = NULL;
    const char *hash = "sha256", *format = "pem_all", *out = NULL;
    char **sans = calloc((size_t)argc, sizeof *sans);
    int n_sans = 0, c, rc = 2;
    long days = 0;
    bool json = false;
    cm_issuer_kind issuer = ISSUER_ECDSA;
    cm_err err;
    cm_config cfg;
    cm_pki *pki = NULL;
    cm_csr *csr = NULL;
    cm_cert *cert = NULL;
    cm_org org;
    cm_name *names = calloc(CERT_MAX_NAMES + 1, sizeof *names);
    unsigned char *csr_data = NULL;
    size_t csr_len = 0;
    cm_blob blob = {0};
    cm_err_clear(&err);
    if (sans == NULL || names == NULL) {
        cm_err_set(&err, "out_of_memory", "out of memory");
        rc = cli_fail(&err, 1);
        goto out;
    }
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd': dir = optarg; break;
        case 'p': product_id = optarg; break;
        case 'c': csr_path = optarg; break;
        case 'n': cn = optarg; break;
        case 's': sans[n_sans++] = optarg; break;
        case 'o': org_path = optarg; break;
        case 'H': hash = optarg; break;
        case 'f': format = optarg; break;
        case 'O': out = optarg; break;
        case 'j': json = true; break;
        case 'i':
            if (strcmp(optarg, "ecdsa") == 0)
                issuer = ISSUER_ECDSA;
            else if (strcmp(optarg, "rsa") == 0)
                issuer = ISSUER_RSA;
            else {
                rc = cli_usage("--issuer is ecdsa or rsa");
                goto out;
            }
            break;
        case 'D':
            if (str_to_long(optarg, 1, 100000, &days) != 0) {
                rc = cli_usage("--days takes a positive whole number");
                goto out;
            }
            break;
        case 'h': fputs(issue_help, stdout); rc = 0; goto out;
        default: fputs(issue_help, stderr); goto out;
        }
    }
    if (dir == NULL || product_id == NULL || csr_path == NULL || optind != argc) {
        fputs(issue_help, stderr);
        goto out;
    }
    rc = 1;
    /* Everything that can be refused is checked before anything is written. */
    const cm_product *p = product_find(product_id);
    if (p == NULL) {
        cm_err_set(&err, "product_unknown",
                   "unknown product \"%.64s\"; see `certmint issue --help` for the catalogue",
                   product_id);
        goto fail;
    }
    if (!format_known(format)) {
        cm_err_set(&err, "format_unknown",
                   "unknown format \"%.64s\"; use pem_all, pem_noroot, pem_nointermediate, der, "
                   "p7b, default, default_pem or apache",
                   format);
        goto fail;
    }
    if (out == NULL && strncmp(format, "pem_", 4) != 0) {
        rc = cli_usage("--format %s is binary: give --out FILE", format);
        goto out;
    }
    if (file_read_all(csr_path, CSR_MAX_BYTES, &csr_data, &csr_len, &err) != 0) {
        if (strcmp(err.code, "file_too_large") == 0)
            cm_err_set(&err, "csr_too_large", "the CSR is larger than %d bytes", CSR_MAX_BYTES);
        goto fail;
    }
    if (csr_parse(csr_data, csr_len, &csr, &err) != 0)
        goto fail;
    cm_issue_req req = {.product = p, .names = names, .org = NULL, .issuer = issuer,
                        .hash = hash, .days = days};
    int n = collect_names(p, cn, sans, n_sans, names, &req.cn_index, &err);
    if (n < 0)
        goto fail;
    req.n_names = (size_t)n;
    if (org_path != NULL) {
        if (org_from_json_file(org_path, &org, &err) != 0)
            goto fail;
        req.org = &org;
    }
    if (cli_load_config(dir, &cfg, &err) != 0 || pki_open(&cfg, &pki, &err) != 0 ||
        cert_issue(pki, csr, &req, &cert, &err) != 0)
        goto fail;
    cm_chain chain = {.basename = names[req.cn_index != SIZE_MAX ? req.cn_index : 0].text};
    chain.leaf = cert_der(cert, &chain.leaf_len);
    chain.issuer = pki_ca_der(pki, cert_issuer_id(cert), &chain.issuer_len);
    chain.root = pki_root_der(pki, cert_issuer_id(cert), &chain.root_len);
    if (format_render(format, &chain, &blob, &err) != 0 ||
        ((!json || out != NULL) && write_output(out, &blob, &err) != 0))
        goto fail;
    char serial[48], nb[32], na[32];
    cert_serial_hex(cert, serial, sizeof serial);
    clock_format_iso(cert_not_before(cert), nb, sizeof nb);
    clock_format_iso(cert_not_after(cert), na, sizeof na);
    if (json) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?}", "serial", serial, "not_before",
                              nb, "not_after", na, "issuer", cert_issuer_id(cert), "format",
                              format, "out", out);
        if (out == NULL)
            json_object_set_new(o, "certificate", json_stringn((const char *)blob.data, blob.len));
        json_dumpf(o, stdout, JSON_COMPACT);
        putchar('\n');
        json_decref(o);
    } else {
        fprintf(out != NULL ? stdout : stderr,
                "certmint: issued serial %s by %s, valid %s to %s%s%s\n", serial,
                cert_issuer_id(cert), nb, na, out != NULL ? ", written to " : "",
                out != NULL ? out : "");
    }
    rc = 0;
    goto out;
fail:
    rc = cli_fail(&err, 1);
out:
    blob_free(&blob);
    cert_free(cert);
    csr_free(csr);
    pki_close(pki);
    free(csr_data);
    free(names);
    free(sans);
    return rc;
}
