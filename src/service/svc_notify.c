/* svc_notify.c — the mails of a certificate's life, each with a plain-text and an HTML part,
 * queued in the outbox inside the caller's transaction: certificate issued (original, reissue,
 * duplicate) with the PEM chain attached, reissue revocation warnings, expiry reminders and
 * auto-renew notices. The recipient is the order's certificate contact: the user who placed
 * the order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/mail.h"
#include "service/svc_internal.h"
#include "util/clock.h"
#include "util/str.h"

#define TEXT_MAX 16384

/* Appends `in` to out (at *used of outsz) with &<>"' escaped; stops quietly when full. */
static void html_put(char *out, size_t outsz, size_t *used, const char *in)
{
    for (const char *p = in; *p != '\0' && *used + 7 < outsz; p++) {
        const char *rep = NULL;
        switch (*p) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        default: break;
        }
        if (rep != NULL) {
            size_t l = strlen(rep);
            memcpy(out + *used, rep, l);
            *used += l;
        } else {
            out[(*used)++] = *p;
        }
    }
    out[*used] = '\0';
}

/* An HTML body: a heading, a paragraph and a table of label/value rows (values escaped). */
typedef struct html_doc {
    char buf[TEXT_MAX];
    size_t used;
} html_doc;

static void html_raw(html_doc *h, const char *s)
{
    size_t l = strlen(s);
    if (h->used + l < sizeof h->buf) {
        memcpy(h->buf + h->used, s, l + 1);
        h->used += l;
    }
}

static void html_begin(html_doc *h, const char *title, const char *para)
{
    h->used = 0;
    h->buf[0] = '\0';
    html_raw(h, "<!DOCTYPE html><html><body style=\"font-family:sans-serif\"><h2>");
    html_put(h->buf, sizeof h->buf, &h->used, title);
    html_raw(h, "</h2><p>");
    html_put(h->buf, sizeof h->buf, &h->used, para);
    html_raw(h, "</p><table cellpadding=\"4\" style=\"border-collapse:collapse\">");
}

static void html_row(html_doc *h, const char *label, const char *value)
{
    html_raw(h, "<tr><th align=\"left\">");
    html_put(h->buf, sizeof h->buf, &h->used, label);
    html_raw(h, "</th><td>");
    html_put(h->buf, sizeof h->buf, &h->used, value);
    html_raw(h, "</td></tr>");
}

static void html_end(html_doc *h, const char *foot)
{
    html_raw(h, "</table><p>");
    html_put(h->buf, sizeof h->buf, &h->used, foot);
    html_raw(h, "</p></body></html>");
}

/* The order's certificate contact; *found false when the user no longer exists. */
static int contact_of(cm_svc *s, const cm_order *o, int64_t user_id, cm_user *u, bool *found,
                      cm_err *err)
{
    *found = false;
    if (user_id <= 0)
        user_id = o->user_id;
    if (store_user_get(s->st, o->account_id, user_id, u, err) == 0) {
        *found = true;
        return 0;
    }
    return strcmp(err->code, "user_not_found") == 0 ? 0 : -1;
}

static int queue(cm_svc *s, const cm_order *o, const char *to, const char *subject,
                 const char *text, const char *html, const cm_mail_attachment *att, size_t n_att,
                 cm_err *err)
{
    cm_mail m = {.from = s->cfg->mail_from, .to = to, .subject = subject, .text = text,
                 .html = html, .attachments = att, .n_attachments = n_att};
    return svc_mail_queue(s, o->account_id, &m, err);
}

/* Names of a certificate row as "a, b, c" (the row keeps them comma-separated). */
static void names_list(const cm_cert_row *c, char *out, size_t outsz)
{
    size_t k = 0;
    for (const char *p = c->names; *p != '\0' && k + 3 < outsz; p++) {
        out[k++] = *p;
        if (*p == ',')
            out[k++] = ' ';
    }
    out[k] = '\0';
}

int svc_notify_issued(cm_svc *s, const cm_order *o, const cm_cert_row *c, const char *chain_pem,
                      cm_err *err)
{
    cm_user u;
    bool found;
    if (contact_of(s, o, 0, &u, &found, err) != 0)
        return -1;
    if (!found)
        return 0;
    const cm_product *p = product_find(o->product);
    char subject[400], nb[32], na[32], fname[64], names[8400], ids[64], cid[64];
    char *body = malloc(TEXT_MAX);
    html_doc *h = malloc(sizeof *h);
    int rc = -1;
    if (body == NULL || h == NULL) {
        cm_err_set(err, "out_of_memory", "out of memory");
        goto out;
    }
    clock_format_iso(c->not_before, nb, sizeof nb);
    clock_format_iso(c->not_after, na, sizeof na);
    names_list(c, names, sizeof names);
    const char *what = strcmp(c->kind, "duplicate") == 0 ? "Duplicate certificate"
                       : strcmp(c->kind, "reissue") == 0 ? "Reissued certificate"
                                                         : "Certificate";
    snprintf(subject, sizeof subject, "%s issued for %s (order %lld)", what, c->common_name,
             (long long)o->id);
    snprintf(body, TEXT_MAX,
             "%s issued.\n\n"
             "Order: %lld\nCertificate: %lld (%s)\nProduct: %s\nCommon name: %s\n"
             "Names: %s\nValid from: %s\nValid until: %s\nSerial: %s\n\n"
             "The certificate and its issuing CA are attached (PEM). Download it in other "
             "formats with GET /services/v2/certificate/%lld/download/format/{format}.\n",
             what, (long long)o->id, (long long)c->id, c->kind, p ? p->name : o->product,
             c->common_name, names, nb, na, c->serial, (long long)c->id);
    snprintf(ids, sizeof ids, "%lld", (long long)o->id);
    snprintf(cid, sizeof cid, "%lld (%s)", (long long)c->id, c->kind);
    html_begin(h, subject, "Your certificate is attached (PEM, with its issuing CA).");
    html_row(h, "Order", ids);
    html_row(h, "Certificate", cid);
    html_row(h, "Product", p ? p->name : o->product);
    html_row(h, "Common name", c->common_name);
    html_row(h, "Names", names);
    html_row(h, "Valid from", nb);
    html_row(h, "Valid until", na);
    html_row(h, "Serial", c->serial);
    html_end(h, "Download it in other formats from the order's certificate history.");
    snprintf(fname, sizeof fname, "certificate_%lld.pem", (long long)c->id);
    cm_mail_attachment att = {.filename = fname,
                              .content_type = "application/pem-certificate-chain",
                              .data = (const unsigned char *)chain_pem,
                              .len = strlen(chain_pem)};
    rc = queue(s, o, u.email, subject, body, h->buf, &att, 1, err);
out:
    free(body);
    free(h);
    return rc;
}

int svc_notify_revocation_warning(cm_svc *s, const cm_order *o, const cm_cert_row *certs,
                                  size_t n, int64_t when, cm_err *err)
{
    char subject[400], at[32];
    char *body = malloc(TEXT_MAX);
    html_doc *h = malloc(sizeof *h);
    int rc = -1;
    if (body == NULL || h == NULL) {
        cm_err_set(err, "out_of_memory", "out of memory");
        goto out;
    }
    clock_format_iso(when, at, sizeof at);
    snprintf(subject, sizeof subject, "Certificates of order %lld will be revoked on %s",
             (long long)o->id, at);
    /* One mail per requester: each learns about the certificates they asked for. */
    for (size_t i = 0; i < n; i++) {
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = certs[j].user_id == certs[i].user_id;
        if (seen)
            continue;
        cm_user u;
        bool found;
        if (contact_of(s, o, certs[i].user_id, &u, &found, err) != 0)
            goto out;
        if (!found)
            continue;
        size_t used = (size_t)snprintf(
            body, TEXT_MAX,
            "A reissue of order %lld removed names that these certificates carry. They will be "
            "revoked on %s (reason: superseded). Install the reissued certificate, or request a "
            "duplicate of it, on the servers that use them before then.\n\n",
            (long long)o->id, at);
        html_begin(h, subject, "A reissue removed names that these certificates carry; install "
                               "the reissued certificate (or a duplicate of it) before then.");
        for (size_t j = i; j < n; j++) {
            if (certs[j].user_id != certs[i].user_id)
                continue;
            char line[300], id[32];
            snprintf(line, sizeof line, "Certificate %lld, serial %s, %s\n",
                     (long long)certs[j].id, certs[j].serial, certs[j].common_name);
            if (used + strlen(line) < TEXT_MAX) {
                memcpy(body + used, line, strlen(line) + 1);
                used += strlen(line);
            }
            snprintf(id, sizeof id, "%lld", (long long)certs[j].id);
            html_row(h, id, certs[j].serial);
        }
        char foot[80];
        snprintf(foot, sizeof foot, "They will be revoked on %s.", at);
        html_end(h, foot);
        if (queue(s, o, u.email, subject, body, h->buf, NULL, 0, err) != 0)
            goto out;
    }
    rc = 0;
out:
    free(body);
    free(h);
    return rc;
}

int svc_notify_expiry(cm_svc *s, const cm_order *o, const cm_cert_row *c, int days, cm_err *err)
{
    cm_user u;
    bool found;
    if (contact_of(s, o, 0, &u, &found, err) != 0)
        return -1;
    if (!found)
        return 0;
    char subject[400], na[32], ids[32], cid[64], body[2048];
    html_doc *h = malloc(sizeof *h);
    if (h == NULL)
        return cm_err_set(err, "out_of_memory", "out of memory");
    clock_format_iso(c->not_after, na, sizeof na);
    snprintf(subject, sizeof subject, "Certificate for %s expires within %d day%s (order %lld)",
             c->common_name, days, days == 1 ? "" : "s", (long long)o->id);
    /* The advice depends on what would replace the certificate: a duplicate cut short
     * (valid_till) by a new duplicate; a certificate of an order renewed already by a duplicate
     * of the renewal; anything else by renewing the order. */
    cm_cert_row cur;
    cm_err e;
    bool short_dup = strcmp(c->kind, "duplicate") == 0 &&
                     svc_current_cert(s, o->account_id, o->id, &cur, &e) == 0 &&
                     c->not_after < cur.not_after;
    if (o->renewed_by_order_id != 0)
        snprintf(body, sizeof body,
                 "Certificate %lld (%s) of order %lld for %s ends on %s.\n\n"
                 "Order %lld renewed that order: request a duplicate of it for this server "
                 "(POST /services/v2/order/certificate/%lld/duplicate with a new CSR, or "
                 "`certmint duplicate create %lld --generate-key --out-dir DIR`) and install it "
                 "before then.\n",
                 (long long)c->id, c->kind, (long long)o->id, c->common_name, na,
                 (long long)o->renewed_by_order_id, (long long)o->renewed_by_order_id,
                 (long long)o->renewed_by_order_id);
    else if (short_dup)
        snprintf(body, sizeof body,
                 "Duplicate certificate %lld of order %lld for %s ends on %s, before the "
                 "order's certificate.\n\n"
                 "Request a new duplicate of the order for that server (POST "
                 "/services/v2/order/certificate/%lld/duplicate with a new CSR, or `certmint "
                 "duplicate create %lld --generate-key --out-dir DIR`) and install it before "
                 "then.\n",
                 (long long)c->id, (long long)o->id, c->common_name, na, (long long)o->id,
                 (long long)o->id);
    else
        snprintf(body, sizeof body,
                 "Certificate %lld (%s) of order %lld for %s ends on %s.\n\n"
                 "Renew the order (POST /services/v2/order/certificate/%s with "
                 "renewal_of_order_id %lld, or `certmint renew %lld --generate-key --out-dir "
                 "DIR`) and install the new certificate before then.%s\n",
                 (long long)c->id, c->kind, (long long)o->id, c->common_name, na, o->product,
                 (long long)o->id, (long long)o->id,
                 o->auto_renew ? " Auto-renew is on for this order: it renews the order (and, "
                                 "when approval is skipped, replaces its duplicates)."
                               : "");
    snprintf(ids, sizeof ids, "%lld", (long long)o->id);
    snprintf(cid, sizeof cid, "%lld (%s)", (long long)c->id, c->kind);
    html_begin(h, subject, "Renew the order and install the new certificate before it ends.");
    html_row(h, "Order", ids);
    html_row(h, "Certificate", cid);
    html_row(h, "Common name", c->common_name);
    html_row(h, "Valid until", na);
    html_end(h, o->auto_renew ? "Auto-renew is on for this order." : "");
    int rc = queue(s, o, u.email, subject, body, h->buf, NULL, 0, err);
    free(h);
    return rc;
}

int svc_notify_auto_renew(cm_svc *s, const cm_order *o, int64_t new_id, const cm_err *why,
                          cm_err *err)
{
    cm_user u;
    bool found;
    if (contact_of(s, o, 0, &u, &found, err) != 0)
        return -1;
    if (!found)
        return 0;
    char subject[400], body[2048], ids[32], nid[32];
    html_doc *h = malloc(sizeof *h);
    if (h == NULL)
        return cm_err_set(err, "out_of_memory", "out of memory");
    snprintf(ids, sizeof ids, "%lld", (long long)o->id);
    snprintf(nid, sizeof nid, "%lld", (long long)new_id);
    if (why == NULL) {
        snprintf(subject, sizeof subject, "Order %lld was renewed automatically (order %lld)",
                 (long long)o->id, (long long)new_id);
        snprintf(body, sizeof body,
                 "Auto-renew placed order %lld to renew order %lld (%s). It is issued once it "
                 "is approved and validated, where that is needed; you will receive the "
                 "certificate by mail.\n",
                 (long long)new_id, (long long)o->id, o->common_name);
        html_begin(h, subject, "Auto-renew placed a renewal order.");
        html_row(h, "Order renewed", ids);
        html_row(h, "New order", nid);
    } else {
        snprintf(subject, sizeof subject, "Auto-renew of order %lld failed", (long long)o->id);
        snprintf(body, sizeof body,
                 "Auto-renew could not renew order %lld (%s): %s: %s\nIt tries again in a "
                 "day; renew by hand to act sooner.\n",
                 (long long)o->id, o->common_name, why->code, why->msg);
        html_begin(h, subject, "Auto-renew could not renew this order; it tries again in a day.");
        html_row(h, "Order", ids);
        html_row(h, "Reason", why->msg);
    }
    html_row(h, "Common name", o->common_name);
    html_end(h, "");
    int rc = queue(s, o, u.email, subject, body, h->buf, NULL, 0, err);
    free(h);
    return rc;
}
