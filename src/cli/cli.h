/* cli.h — the certmint subcommands. Each takes argv with argv[0] == its own name and returns
 * the process exit code: 0 success, 1 refused or failed, 2 usage error. */
#ifndef CM_CLI_CLI_H
#define CM_CLI_CLI_H

#include "core/org.h"
#include "util/config.h"
#include "util/err.h"

int cmd_init(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_issue(int argc, char **argv);
int cmd_lint(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_mail(int argc, char **argv);
int cmd_dcv(int argc, char **argv);
int cmd_ca(int argc, char **argv);
/* The client commands over the REST API (cmd_client.c, cmd_dup.c; docs/cli.md). */
int cmd_order(int argc, char **argv);
int cmd_duplicate(int argc, char **argv);
int cmd_reissue(int argc, char **argv);
int cmd_renew(int argc, char **argv);
int cmd_cert(int argc, char **argv);
int cmd_request(int argc, char **argv);
int cmd_org(int argc, char **argv);
int cmd_domain(int argc, char **argv);
int cmd_settings(int argc, char **argv);
int cmd_platform(int argc, char **argv);
int cmd_product(int argc, char **argv);

/* Prints "certmint: <code>: <message>" to stderr and returns `exit_code`. */
int cli_fail(const cm_err *err, int exit_code);

/* Prints a usage error and returns 2. */
int cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Reads an organisation JSON file (fields of DESIGN.md §5) into `o`. Errors: `org_invalid`. */
int org_from_json_file(const char *path, cm_org *o, cm_err *err);

/* Loads configuration for --dir DIR: defaults, DIR/certmint.conf, environment. */
int cli_load_config(const char *dir, cm_config *cfg, cm_err *err);

#endif
