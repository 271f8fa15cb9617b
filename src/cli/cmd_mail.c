/* cmd_mail.c — `certmint mail test`: composes a short test message (text, HTML and a small text
 * attachment) with the data directory's mail settings and delivers it, so an operator can check
 * smtp_url and mail_from before the server depends on them. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "net/mail.h"
#include "util/clock.h"

static const char mail_help[] =
    "usage: certmint mail test --dir DIR --to ADDR [--smtp_url URL] [--mail_from ADDR]\n"
    "Composes a short test message (plain text, HTML and a small text attachment) and delivers\n"
    "it the way certmint delivers all its mail: over SMTP when smtp_url is set (in\n"
    "DIR/certmint.conf, CERTMINT_SMTP_URL or --smtp_url), else into DIR/spool/mail as a .eml\n"
    "file. The sender is mail_from. Prints \"sent to URL\" or \"written to FILE\".\n"
    "Exit status: 0 delivered, 1 refused or not delivered, 2 usage error.\n";

int cmd_mail(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, 0, 'd'},      {"to", required_argument, 0, 't'},
        {"smtp_url", required_argument, 0, 's'}, {"mail_from", required_argument, 0, 'f'},
        {"help", no_argument, 0, 'h'},           {0, 0, 0, 0}};
    const char *dir = NULL, *to = NULL, *smtp_url = NULL, *from = NULL;
    unsigned char *msg = NULL;
    size_t len = 0;
    char now_iso[32], where[1200], text[1024], html[1536], attach[512];
    cm_config cfg;
    cm_err err;
    int c, rc = 1;
    cm_err_clear(&err);
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(mail_help, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "test") != 0)
        return cli_usage("unknown mail command \"%s\"; the one mail command is `mail test`",
                         argv[1]);
    argc--;
    argv++;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            dir = optarg;
            break;
        case 't':
            to = optarg;
            break;
        case 's':
            smtp_url = optarg;
            break;
        case 'f':
            from = optarg;
            break;
        case 'h':
            fputs(mail_help, stdout);
            return 0;
        default:
            fputs(mail_help, stderr);
            return 2;
        }
    }
    if (optind < argc)
        return cli_usage("mail test takes no arguments besides its options (got \"%s\")",
                         argv[optind]);
    if (dir == NULL || to == NULL)
        return cli_usage("mail test needs --dir DIR and --to ADDR");
    if (cli_load_config(dir, &cfg, &err) != 0 ||
        (smtp_url != NULL && config_set(&cfg, "smtp_url", smtp_url, &err) != 0) ||
        (from != NULL && config_set(&cfg, "mail_from", from, &err) != 0))
        return cli_fail(&err, 2);

    clock_format_iso(clock_now(), now_iso, sizeof now_iso);
    const char *route = cfg.smtp_url[0] != '\0' ? "SMTP (smtp_url)" : "the spool directory";
    snprintf(text, sizeof text,
             "This is a test message from certmint, composed at %s.\n\n"
             "If you can read it, certmint's outgoing mail works: it was delivered through %s,\n"
             "from %s to %s. The attachment certmint-test.txt should hold one line.\n\n"
             "Certificate notices (issued, expiring, revoked) will arrive the same way. "
             "Grüße — certmint\n",
             now_iso, route, cfg.mail_from, to);
    snprintf(html, sizeof html,
             "<!DOCTYPE html>\n<html><body>\n"
             "<p>This is a <b>test message</b> from certmint, composed at %s.</p>\n"
             "<p>If you can read it, certmint&#39;s outgoing mail works: it was delivered "
             "through %s.</p>\n"
             "<p>The attachment <code>certmint-test.txt</code> should hold one line.</p>\n"
             "<p>Grüße — certmint</p>\n</body></html>\n",
             now_iso, route);
    snprintf(attach, sizeof attach, "certmint mail test %s\n", now_iso);
    cm_mail_attachment att = {"certmint-test.txt", "text/plain", (const unsigned char *)attach,
                              strlen(attach)};
    cm_mail m = {cfg.mail_from, to, "certmint test message ✓", text, html, &att, 1};
    if (mail_compose(&m, &msg, &len, &err) != 0 ||
        mail_deliver_where(&cfg, cfg.mail_from, to, msg, len, where, sizeof where, &err) != 0) {
        rc = cli_fail(&err, 1);
        goto out;
    }
    if (cfg.smtp_url[0] != '\0')
        printf("sent to %s\n", where);
    else
        printf("written to %s\n", where);
    rc = 0;
out:
    free(msg);
    return rc;
}
