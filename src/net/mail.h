/* mail.h — outgoing mail: composing one RFC 5322/MIME message and delivering it, over SMTP
 * (libcurl) or into the spool directory DIR/spool/mail when no smtp_url is configured. The jobs
 * runner delivers outbox rows with these; `certmint mail test` checks a configuration. */
#ifndef CM_NET_MAIL_H
#define CM_NET_MAIL_H

#include <stdbool.h>
#include <stddef.h>

#include "util/config.h"
#include "util/err.h"

/* Limits of one message. */
#define MAIL_MAX_BYTES       (32u * 1024u * 1024u) /* composed message, attachments included */
#define MAIL_MAX_ATTACHMENTS 32
#define MAIL_SUBJECT_MAX     900 /* bytes of UTF-8 */
#define MAIL_FILENAME_MAX    200
#define MAIL_SMTP_TIMEOUT    30 /* seconds for one whole SMTP delivery */

typedef struct cm_mail_attachment {
    const char *filename;     /* e.g. "www_example_com.pem" (ASCII, no quotes/CR/LF) */
    const char *content_type; /* bare type/subtype, e.g. "application/pem-certificate-chain";
                                 NULL = application/octet-stream */
    const unsigned char *data;
    size_t len;
} cm_mail_attachment;

typedef struct cm_mail {
    const char *from;    /* cfg->mail_from */
    const char *to;      /* one address */
    const char *subject; /* UTF-8 allowed: encoded as RFC 2047 when not ASCII */
    const char *text;    /* the plain-text part (UTF-8, LF or CRLF line ends) */
    const char *html;    /* the HTML part (UTF-8), or NULL */
    const cm_mail_attachment *attachments;
    size_t n_attachments;
} cm_mail;

/* ---- Composing ---- */

/* Builds a complete RFC 5322 message: Date (from clock_now), Message-ID, From, To, Subject,
 * MIME-Version, Auto-Submitted; the text part alone, or text + html as multipart/alternative
 * (both quoted-printable, UTF-8), inside multipart/mixed when there are attachments (base64).
 * CRLF line endings, lines ≤ 998 (body lines ≤ 76). Refuses header injection: any CR/LF or
 * other control character in from/to/subject/filename → `mail_invalid`, as are addresses that
 * are not plain local@domain (no spaces, no <>, no display name), invalid UTF-8, a subject over
 * MAIL_SUBJECT_MAX bytes, a malformed content type or more than MAIL_MAX_ATTACHMENTS
 * attachments; a message over MAIL_MAX_BYTES → `mail_too_large`. On success *out is malloc'd
 * (caller frees) and *len its length; on failure *out is untouched. */
int mail_compose(const cm_mail *m, unsigned char **out, size_t *len, cm_err *err);

/* True when `addr` is a plain address the composer and SMTP envelope accept: an RFC 5322
 * dot-atom local part (≤ 64 bytes), '@', a DNS host name (letters, digits, hyphens; a single
 * label such as "localhost" is allowed), ≤ 254 bytes in all, ASCII only. */
bool mail_address_ok(const char *addr);

/* ---- Delivering ---- */

/* Delivers one composed message: SMTP through libcurl (envelope MAIL FROM `from`, RCPT TO `to`,
 * upload from memory, MAIL_SMTP_TIMEOUT seconds in all) when cfg->smtp_url is set, else writes
 * it to DIR/spool/mail/<UTC time>-<random>.eml (atomically, mode 0640; the directory is created
 * 0750 if missing; readers skip names containing ".tmp-"). Errors: `mail_delivery_failed` (with
 * the SMTP reply code and curl's error, or the file error) — callers (the jobs runner) retry
 * later; `mail_invalid` for a bad envelope address or an empty message. Thread-safe. */
int mail_deliver(const cm_config *cfg, const char *from, const char *to, const unsigned char *msg,
                 size_t len, cm_err *err);

/* The same, and on success writes where the message went into `where` (wheresz bytes,
 * truncated if short; may be NULL): the SMTP URL without any user name or password, or the
 * path of the spooled .eml file. */
int mail_deliver_where(const cm_config *cfg, const char *from, const char *to,
                       const unsigned char *msg, size_t len, char *where, size_t wheresz,
                       cm_err *err);

#endif
