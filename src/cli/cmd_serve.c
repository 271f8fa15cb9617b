/* cmd_serve.c — `certmint serve` (the server: HTTP(S), jobs, and the signer process),
 * `certmint migrate` and `certmint audit verify`. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "http/app.h"
#include "http/http.h"
#include "jobs/jobs.h"
#include "pki/pki.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/log.h"

static const char serve_help[] =
    "usage: certmint serve --dir DIR [--KEY VALUE]...\n"
    "Runs the certmint server: the REST API under /services/v2, CRLs at /crl/{ca}.crl, OCSP at\n"
    "/ocsp, the CA certificates at /ca/{ca}.crt and /health, with background jobs (mail, CRL\n"
    "refresh) and a separate signer process that alone holds the CA keys. Any configuration key\n"
    "can be given as a flag (`--listen 127.0.0.1:8080`, `--http_resolve h:80:127.0.0.5` repeated\n"
    "for lists); `certmint config show --dir DIR` lists them. SIGTERM or SIGINT stop it\n"
    "gracefully: requests in flight finish, jobs finish, nothing is left half-written.\n";

/* Parses --dir and `--key value` overrides into cfg. Returns 0, 1 (error printed) or 2. */
static int parse_flags(int argc, char **argv, const char *help, cm_config *cfg)
{
    const char *dir = "./var";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(help, stdout);
            return -1;
        }
        if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
            dir = argv[++i];
    }
    cm_err err;
    cm_err_clear(&err);
    if (cli_load_config(dir, cfg, &err) != 0)
        return cli_fail(&err, 1);
    bool seen_list[2] = {false, false};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--dir") == 0) {
            i++;
            continue;
        }
        if (strncmp(a, "--", 2) != 0 || i + 1 >= argc || !config_is_key(a + 2)) {
            fputs(help, stderr);
            return cli_usage("unknown option \"%s\"", a);
        }
        /* Repeated list flags add to each other but replace the file's list. */
        int li = strcmp(a + 2, "http_resolve") == 0 ? 0 : strcmp(a + 2, "caa_identities") == 0 ? 1
                                                                                             : -1;
        int rc = (li >= 0 && seen_list[li]) ? config_append(cfg, a + 2, argv[i + 1], &err)
                                            : config_set(cfg, a + 2, argv[i + 1], &err);
        if (li >= 0)
            seen_list[li] = true;
        if (rc != 0)
            return cli_fail(&err, 2);
        i++;
    }
    return 0;
}

int cmd_serve(int argc, char **argv)
{
    cm_config cfg;
    int rc = parse_flags(argc, argv, serve_help, &cfg);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    cm_err err;
    cm_err_clear(&err);
    int status = 1;
    cm_app app;
    memset(&app, 0, sizeof app);
    app.cfg = cfg;
    app.started_at = clock_now();
    cm_store *st = NULL;
    cm_jobs *jobs = NULL;
    http_server *srv = NULL;
    http_route *routes = NULL;
    size_t n_routes = 0;
    char cert[1200], key[1200];

    /* Signals are taken by sigwait in this thread only; every thread started below inherits
     * the mask. SIGPIPE never kills the server (a client that hangs up). */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* The signer process is forked before any thread exists. */
    if (pki_open(&app.cfg, &app.pki, &err) != 0)
        goto out;
    /* Migrations run here, once, before the pool opens its connections (the store logs them). */
    if (app.cfg.listen[0] == '\0' && app.cfg.tls_listen[0] == '\0') {
        cm_err_set(&err, "config_invalid", "set listen or tls_listen (or both)");
        goto out;
    }
    if (store_open(&app.cfg, true, &st, &err) != 0)
        goto out;
    store_close(st);
    st = NULL;
    int workers = (int)app.cfg.workers;
    if (workers <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        workers = n > 0 ? (int)n : 2;
    }
    const int job_threads = 2;
    if (store_pool_open(&app.cfg, workers + job_threads + 2, &app.stores, &err) != 0)
        goto out;
    cm_jobs_opts jo = {.cfg = &app.cfg, .pki = app.pki, .stores = app.stores,
                       .threads = job_threads, .poll_ms = 500, .lease_secs = 120};
    if (jobs_start(&jo, &jobs, &err) != 0)
        goto out;
    if ((routes = app_routes(&n_routes)) == NULL) {
        cm_err_set(&err, "out_of_memory", "out of memory");
        goto out;
    }
    snprintf(cert, sizeof cert, "%s/ca/listener.crt", app.cfg.dir);
    snprintf(key, sizeof key, "%s/ca/listener.key", app.cfg.dir);
    http_server_opts ho = {
        .listen = app.cfg.listen,
        .tls_listen = app.cfg.tls_listen,
        .tls_cert_file = app.cfg.tls_cert[0] ? app.cfg.tls_cert : cert,
        .tls_key_file = app.cfg.tls_key[0] ? app.cfg.tls_key : key,
        .workers = workers,
        .max_body = (size_t)app.cfg.max_body,
        .routes = routes,
        .n_routes = n_routes,
        .app = &app,
        .authenticate = app_authenticate,
    };
    if (http_server_start(&ho, &srv, &err) != 0)
        goto out;
    log_msg(LOG_INFO, "event=listening http=%s https=%s workers=%d dir=%s",
            app.cfg.listen[0] ? app.cfg.listen : "-",
            app.cfg.tls_listen[0] ? app.cfg.tls_listen : "-", workers, app.cfg.dir);
    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig == SIGHUP)
            continue; /* XXX: reloading configuration is not supported yet */
        log_msg(LOG_INFO, "event=stopping signal=%d", sig);
        break;
    }
    status = 0;
out:
    if (status != 0)
        cli_fail(&err, 1);
    http_server_stop(srv);
    jobs_stop(jobs);
    free(routes);
    store_close(st);
    store_pool_close(app.stores);
    pki_close(app.pki);
    if (status == 0)
        log_msg(LOG_INFO, "event=stopped");
    return status;
}

static const char migrate_help[] =
    "usage: certmint migrate --dir DIR\n"
    "Brings the database schema up to date (`certmint serve` also does this at start).\n";

int cmd_migrate(int argc, char **argv)
{
    cm_config cfg;
    int rc = parse_flags(argc, argv, migrate_help, &cfg);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    cm_err err;
    cm_store *st = NULL;
    bool migrated = false;
    /* Opening without migrating tells whether anything is pending. */
    if (store_open(&cfg, false, &st, &err) != 0) {
        if (strcmp(err.code, "store_needs_migration") != 0)
            return cli_fail(&err, 1);
        if (store_open(&cfg, true, &st, &err) != 0)
            return cli_fail(&err, 1);
        migrated = true;
    }
    int version = store_schema_version(st);
    store_close(st);
    if (migrated)
        printf("certmint: migrated the schema to version %d\n", version);
    else
        printf("certmint: the schema is up to date (version %d)\n", version);
    return 0;
}

static const char audit_help[] =
    "usage: certmint audit verify --dir DIR\n"
    "Walks the audit log's hash chain and reports the first event that was altered, removed or\n"
    "inserted out of order. Exit 0 when the chain is intact, 1 when it is not.\n";

int cmd_audit(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "verify") != 0) {
        fputs(audit_help, argc >= 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
        return argc >= 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
    }
    cm_config cfg;
    int rc = parse_flags(argc - 1, argv + 1, audit_help, &cfg);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    cm_err err;
    cm_store *st = NULL;
    int64_t bad = 0, checked = 0;
    if (store_open(&cfg, false, &st, &err) != 0)
        return cli_fail(&err, 1);
    rc = store_audit_verify(st, &bad, &checked, &err);
    store_close(st);
    if (rc != 0)
        return cli_fail(&err, 1);
    if (bad != 0) {
        printf("certmint: audit chain broken at event %lld (%lld events checked)\n",
               (long long)bad, (long long)checked);
        return 1;
    }
    printf("certmint: audit chain intact (%lld events)\n", (long long)checked);
    return 0;
}
