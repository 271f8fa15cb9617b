/* bench_issue.c — in-process issuance throughput: CSR parse and verify, build, lint, sign and
 * encode, per certificate, with the CA keys loaded once. Driven by bench/issue, which compares
 * the figure with `openssl speed` for the same keys measured in the same run.
 *
 * usage: bench_issue DIR ecdsa|rsa CSR_DIR COUNT */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pki/pki.h"
#include "util/config.h"
#include "util/fileio.h"

#define MAX_CSRS 256

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: bench_issue DIR ecdsa|rsa CSR_DIR COUNT\n");
        return 2;
    }
    long count = strtol(argv[4], NULL, 10);
    cm_issuer_kind kind = strcmp(argv[2], "rsa") == 0 ? ISSUER_RSA : ISSUER_ECDSA;
    unsigned char *csrs[MAX_CSRS];
    size_t lens[MAX_CSRS], n = 0;
    cm_err err;
    DIR *d = opendir(argv[3]);
    struct dirent *de;
    while (d != NULL && (de = readdir(d)) != NULL && n < MAX_CSRS) {
        char path[2048];
        if (strstr(de->d_name, ".der") == NULL)
            continue;
        snprintf(path, sizeof path, "%s/%s", argv[3], de->d_name);
        if (file_read_all(path, CSR_MAX_BYTES, &csrs[n], &lens[n], &err) == 0)
            n++;
    }
    if (d != NULL)
        closedir(d);
    if (n == 0 || count <= 0) {
        fprintf(stderr, "no CSRs (*.der) in %s\n", argv[3]);
        return 2;
    }
    cm_config cfg;
    cm_pki *pki = NULL;
    config_defaults(&cfg);
    if (config_set(&cfg, "dir", argv[1], &err) != 0 || config_load(&cfg, &err) != 0 ||
        pki_open(&cfg, &pki, &err) != 0) {
        fprintf(stderr, "%s: %s\n", err.code, err.msg);
        return 1;
    }
    cm_name names[2];
    cm_name_policy pol = {.public_names = true};
    name_normalize("www.example.com", &pol, &names[0], &err);
    name_normalize("example.com", &pol, &names[1], &err);
    cm_issue_req req = {.product = product_find("ssl_dv_geotrust"), .names = names, .n_names = 2,
                        .cn_index = 0, .issuer = kind, .hash = "sha256"};
    double t0 = now_s();
    long ok = 0;
    for (long i = 0; i < count; i++) {
        cm_csr *csr = NULL;
        cm_cert *cert = NULL;
        size_t k = (size_t)i % n;
        if (csr_parse(csrs[k], lens[k], &csr, &err) == 0 &&
            cert_issue(pki, csr, &req, &cert, &err) == 0)
            ok++;
        else
            fprintf(stderr, "issue failed: %s: %s\n", err.code, err.msg);
        cert_free(cert);
        csr_free(csr);
    }
    double dt = now_s() - t0;
    printf("%ld %.6f %.1f\n", ok, dt, (double)ok / dt);
    pki_close(pki);
    for (size_t i = 0; i < n; i++)
        free(csrs[i]);
    return ok == count ? 0 : 1;
}
