/* mail.c — composes outgoing mail (RFC 5322 headers, MIME parts with quoted-printable text and
 * base64 attachments) and delivers it over SMTP with libcurl or into the spool directory.
 *
 * Everything that reaches a header line or the SMTP envelope is checked first, so no caller
 * input can add a header or an SMTP command: addresses are plain dot-atoms, the subject is
 * UTF-8 without control characters (RFC 2047 encoded words when not plain ASCII), file names
 * are printable ASCII without quotes. Base64 comes from pki/encode.h (OpenSSL). */
#include "net/mail.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <curl/curl.h>

#include "net/curl_once.h"
#include "pki/encode.h"
#include "util/clock.h"
#include "util/fileio.h"
#include "util/str.h"

/* ---- A bounded growing buffer (curl's dynbuf idea: appends fail past a maximum) ---- */

typedef struct mbuf {
    unsigned char *p;
    size_t len, cap;
    int failed; /* 0, ENOMEM, or E2BIG past MAIL_MAX_BYTES */
} mbuf;

static void mb_add(mbuf *b, const void *data, size_t n)
{
    if (b->failed != 0 || n == 0)
        return;
    if (n > MAIL_MAX_BYTES || b->len > MAIL_MAX_BYTES - n) {
        b->failed = E2BIG;
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap == 0 ? 4096 : b->cap;
        while (cap < b->len + n + 1)
            cap *= 2; /* bounded: len + n + 1 ≤ MAIL_MAX_BYTES + 1 */
        unsigned char *p = realloc(b->p, cap);
        if (p == NULL) {
            b->failed = ENOMEM;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void mb_str(mbuf *b, const char *s)
{
    mb_add(b, s, strlen(s));
}

/* Appends a formatted piece of at most 1,100 bytes (header lines; longer ones are a bug). */
__attribute__((format(printf, 2, 3))) static void mb_fmt(mbuf *b, const char *fmt, ...)
{
    char tmp[1100];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        b->failed = E2BIG;
        return;
    }
    mb_add(b, tmp, (size_t)n);
}

/* ---- Checks on what goes into headers and the envelope ---- */

/* A printable copy of untrusted text for an error message: at most 60 characters, anything
 * that is not printable ASCII shown as '?', so a message stays one line. */
static const char *shown(const char *s, char *buf, size_t bufsz)
{
    size_t i = 0;
    if (s == NULL)
        s = "(none)";
    for (; s[i] != '\0' && i + 4 < bufsz && i < 60; i++)
        buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    if (s[i] != '\0' && i + 4 <= bufsz) {
        memcpy(buf + i, "...", 3);
        i += 3;
    }
    buf[i] = '\0';
    return buf;
}

/* RFC 5322 atext: the characters of a dot-atom besides '.'. */
static bool atext(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

bool mail_address_ok(const char *addr)
{
    if (addr == NULL)
        return false;
    size_t n = strlen(addr);
    const char *at = strchr(addr, '@');
    if (n == 0 || n > 254 || at == NULL || strchr(at + 1, '@') != NULL)
        return false;
    size_t local = (size_t)(at - addr);
    if (local == 0 || local > 64 || addr[0] == '.' || addr[local - 1] == '.')
        return false;
    for (size_t i = 0; i < local; i++) {
        unsigned char c = (unsigned char)addr[i];
        if (!(atext(c) || (c == '.' && addr[i + 1] != '.')))
            return false;
    }
    const char *d = at + 1;
    size_t label = 0;
    if (*d == '\0')
        return false;
    for (const char *p = d;; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '.' || c == '\0') {
            if (label == 0 || label > 63 || p[-1] == '-')
                return false;
            if (c == '\0')
                return true;
            label = 0;
            continue;
        }
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  (c == '-' && label > 0);
        if (!ok)
            return false;
        label++;
    }
}

/* Length of the UTF-8 sequence at s[0..n), or 0 when it is not well formed (overlong forms,
 * surrogates and code points past U+10FFFF included). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

static bool utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t k = utf8_seq(p + i, n - i);
        if (k == 0)
            return false;
        i += k;
    }
    return true;
}

/* RFC 2045 token characters (content types). */
static bool token_char(unsigned char c)
{
    return c > 0x20 && c < 0x7f && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

/* "type/subtype" made of RFC 2045 tokens, at most 127 bytes. */
static bool content_type_ok(const char *ct)
{
    const char *slash = strchr(ct, '/');
    size_t n = strlen(ct);
    if (slash == NULL || slash == ct || slash[1] == '\0' || n > 127)
        return false;
    for (const char *p = ct; *p != '\0'; p++)
        if (p != slash && !token_char((unsigned char)*p))
            return false;
    return true;
}

static bool filename_ok(const char *f)
{
    size_t n = strlen(f);
    if (n == 0 || n > MAIL_FILENAME_MAX)
        return false;
    for (const char *p = f; *p != '\0'; p++)
        if (*p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\' || *p == '/')
            return false;
    return true;
}

/* Checks one header value: present, no line break, no control character. `what` names it. */
static int check_header_text(const char *v, const char *what, cm_err *err)
{
    if (v == NULL)
        return cm_err_set(err, "mail_invalid", "the mail has no %s", what);
    for (const unsigned char *p = (const unsigned char *)v; *p != '\0'; p++) {
        if (*p == '\r' || *p == '\n')
            return cm_err_set(err, "mail_invalid",
                              "the %s contains a line break; a header value must be one line",
                              what);
        if (*p < 0x20 || *p == 0x7f)
            return cm_err_set(err, "mail_invalid",
                              "the %s contains a control character (0x%02x); remove it", what, *p);
    }
    return 0;
}

static int check_address(const char *a, const char *what, cm_err *err)
{
    char buf[80];
    if (check_header_text(a, what, err) != 0)
        return -1;
    if (!mail_address_ok(a))
        return cm_err_set(err, "mail_invalid",
                          "the %s \"%s\" is not a plain address like name@example.com (no "
                          "spaces, no <>, no display name, ASCII only)",
                          what, shown(a, buf, sizeof buf));
    return 0;
}

static int check_mail(const cm_mail *m, cm_err *err)
{
    char buf[80];
    if (check_address(m->from, "sender address (mail_from)", err) != 0 ||
        check_address(m->to, "recipient address", err) != 0 ||
        check_header_text(m->subject, "subject", err) != 0)
        return -1;
    size_t sn = strlen(m->subject);
    if (sn > MAIL_SUBJECT_MAX)
        return cm_err_set(err, "mail_invalid", "the subject is %zu bytes; at most %d are allowed",
                          sn, MAIL_SUBJECT_MAX);
    if (!utf8_valid(m->subject, sn))
        return cm_err_set(err, "mail_invalid", "the subject is not valid UTF-8");
    if (m->text == NULL)
        return cm_err_set(err, "mail_invalid", "the mail has no plain-text part");
    if (!utf8_valid(m->text, strlen(m->text)))
        return cm_err_set(err, "mail_invalid", "the plain-text part is not valid UTF-8");
    if (m->html != NULL && !utf8_valid(m->html, strlen(m->html)))
        return cm_err_set(err, "mail_invalid", "the HTML part is not valid UTF-8");
    if (m->n_attachments > MAIL_MAX_ATTACHMENTS || (m->n_attachments > 0 && !m->attachments))
        return cm_err_set(err, "mail_invalid", "a mail carries at most %d attachments",
                          MAIL_MAX_ATTACHMENTS);
    for (size_t i = 0; i < m->n_attachments; i++) {
        const cm_mail_attachment *a = &m->attachments[i];
        if (check_header_text(a->filename, "attachment file name", err) != 0)
            return -1;
        if (!filename_ok(a->filename))
            return cm_err_set(err, "mail_invalid",
                              "attachment file name \"%s\" must be 1 to %d printable ASCII "
                              "characters without quotes, backslashes or slashes",
                              shown(a->filename, buf, sizeof buf), MAIL_FILENAME_MAX);
        if (a->content_type != NULL && !content_type_ok(a->content_type))
            return cm_err_set(err, "mail_invalid",
                              "attachment content type \"%s\" must be a bare type/subtype such "
                              "as application/pem-certificate-chain",
                              shown(a->content_type, buf, sizeof buf));
        if (a->data == NULL && a->len > 0)
            return cm_err_set(err, "mail_invalid", "attachment \"%s\" has no data", a->filename);
    }
    return 0;
}

/* ---- Encoders ---- */

/* Appends `s` as quoted-printable (RFC 2045 §6.7): LF or CRLF become hard CRLF line breaks,
 * lines stay within 76 characters through soft breaks, '=' and everything that is not
 * printable ASCII is =XX, as are a space or tab before a line end and a '.' that starts a
 * line (a lone "." line would end the SMTP DATA). No CRLF after the last line. */
static void qp_append(mbuf *b, const char *text)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *s = (const unsigned char *)text;
    size_t n = strlen(text), col = 0;
    for (size_t i = 0; i < n && b->failed == 0; i++) {
        unsigned char c = s[i];
        if (c == '\r' && i + 1 < n && s[i + 1] == '\n')
            continue; /* the LF makes the line break */
        if (c == '\n') {
            mb_add(b, "\r\n", 2);
            col = 0;
            continue;
        }
        bool at_eol =
            i + 1 == n || s[i + 1] == '\n' || (s[i + 1] == '\r' && i + 2 < n && s[i + 2] == '\n');
        bool plain = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !at_eol);
        if (col + (plain ? 1 : 3) > 75) {
            mb_add(b, "=\r\n", 3);
            col = 0;
        }
        if (c == '.' && col == 0)
            plain = false;
        if (plain) {
            mb_add(b, &c, 1);
            col++;
        } else {
            char enc[3] = {'=', hex[c >> 4], hex[c & 0x0f]};
            mb_add(b, enc, 3);
            col += 3;
        }
    }
}

/* Appends the Subject header: plain when it is printable ASCII that cannot be mistaken for an
 * encoded word, else RFC 2047 "B" encoded words of at most 42 bytes of whole UTF-8 characters
 * each (68 characters), one per folded line. */
static void subject_append(mbuf *b, const char *subject)
{
    size_t n = strlen(subject);
    bool ascii = strstr(subject, "=?") == NULL;
    for (size_t i = 0; i < n && ascii; i++)
        ascii = subject[i] >= 0x20 && subject[i] < 0x7f;
    mb_str(b, "Subject: ");
    if (ascii) {
        mb_add(b, subject, n);
        mb_str(b, "\r\n");
        return;
    }
    const unsigned char *s = (const unsigned char *)subject;
    for (size_t i = 0; i < n;) {
        size_t chunk = 0;
        while (i + chunk < n) {
            size_t k = utf8_seq(s + i + chunk, n - i - chunk); /* validated: k ≥ 1 */
            if (k == 0 || chunk + k > 42)
                break;
            chunk += k;
        }
        if (chunk == 0) { /* cannot happen after utf8_valid; never loop forever */
            b->failed = EINVAL;
            return;
        }
        char *word = b64_encode(s + i, chunk, false);
        if (word == NULL) {
            b->failed = ENOMEM;
            return;
        }
        mb_fmt(b, "%s=?UTF-8?B?%s?=", i == 0 ? "" : "\r\n ", word);
        free(word);
        i += chunk;
    }
    mb_str(b, "\r\n");
}

/* RFC 5322 date of `t` in UTC, independent of the locale. */
static void rfc5322_date(int64_t t, char *buf, size_t bufsz)
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    snprintf(buf, bufsz, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday % 7], tm.tm_mday,
             months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* A text part: its headers, a blank line and its quoted-printable body (no final CRLF). */
static void text_part(mbuf *b, const char *subtype, const char *body)
{
    mb_fmt(b,
           "Content-Type: text/%s; charset=utf-8\r\n"
           "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
           subtype);
    qp_append(b, body);
}

/* The readable content: the text part alone, or text and html as multipart/alternative. */
static void content_part(mbuf *b, const cm_mail *m, const char *boundary)
{
    if (m->html == NULL) {
        text_part(b, "plain", m->text);
        return;
    }
    mb_fmt(b, "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n--%s\r\n", boundary,
           boundary);
    text_part(b, "plain", m->text);
    mb_fmt(b, "\r\n--%s\r\n", boundary);
    text_part(b, "html", m->html);
    mb_fmt(b, "\r\n--%s--", boundary);
}

static void attachment_part(mbuf *b, const cm_mail_attachment *a)
{
    const char *ct = a->content_type != NULL ? a->content_type : "application/octet-stream";
    mb_fmt(b,
           "Content-Type: %s; name=\"%s\"\r\n"
           "Content-Disposition: attachment; filename=\"%s\"\r\n"
           "Content-Transfer-Encoding: base64\r\n\r\n",
           ct, a->filename, a->filename);
    if (b->failed != 0 || a->len == 0)
        return;
    if (a->len > MAIL_MAX_BYTES / 4 * 3) { /* its base64 alone would not fit */
        b->failed = E2BIG;
        return;
    }
    char *enc = b64_encode(a->data, a->len, true);
    if (enc == NULL) {
        b->failed = ENOMEM;
        return;
    }
    mb_str(b, enc);
    free(enc);
}

int mail_compose(const cm_mail *m, unsigned char **out, size_t *len, cm_err *err)
{
    int rc = -1;
    mbuf b = {NULL, 0, 0, 0};
    char date[64], id[33], alt[40], mixed[40];
    if (m == NULL)
        return cm_err_set(err, "mail_invalid", "no mail to compose");
    if (check_mail(m, err) != 0)
        goto out;
    /* "=_" can start no line of quoted-printable or base64, so these never occur in a part. */
    char rnd[25];
    if (random_hex(id, sizeof id, 16) != 0 || random_hex(rnd, sizeof rnd, 12) != 0) {
        cm_err_set(err, "random_failed", "the random generator failed; try again");
        goto out;
    }
    snprintf(alt, sizeof alt, "=_cm_alt_%s", rnd);
    snprintf(mixed, sizeof mixed, "=_cm_mix_%s", rnd);
    int64_t now = clock_now();
    rfc5322_date(now, date, sizeof date);

    mb_fmt(&b, "Date: %s\r\nMessage-ID: <%s.%lld@%s>\r\nFrom: %s\r\nTo: %s\r\n", date, id,
           (long long)now, strchr(m->from, '@') + 1, m->from, m->to);
    subject_append(&b, m->subject);
    mb_str(&b, "MIME-Version: 1.0\r\nAuto-Submitted: auto-generated\r\n");
    if (m->n_attachments == 0) {
        content_part(&b, m, alt);
        mb_str(&b, "\r\n");
    } else {
        mb_fmt(&b,
               "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n"
               "This is a multi-part message in MIME format.\r\n--%s\r\n",
               mixed, mixed);
        content_part(&b, m, alt);
        for (size_t i = 0; i < m->n_attachments; i++) {
            mb_fmt(&b, "\r\n--%s\r\n", mixed);
            attachment_part(&b, &m->attachments[i]);
        }
        mb_fmt(&b, "\r\n--%s--\r\n", mixed);
    }
    if (b.failed == E2BIG) {
        cm_err_set(err, "mail_too_large",
                   "the composed mail would exceed %u bytes; send smaller attachments",
                   MAIL_MAX_BYTES);
        goto out;
    }
    if (b.failed != 0) {
        cm_err_set(err, "out_of_memory", "out of memory composing a mail");
        goto out;
    }
    *out = b.p;
    *len = b.len;
    b.p = NULL;
    rc = 0;
out:
    free(b.p);
    return rc;
}

/* ---- Delivery ---- */

/* The URL without user name, password and login options, for messages and reports. Writes
 * "(unparseable URL)" when libcurl cannot parse it. */
static void url_redacted(const char *url, char *buf, size_t bufsz)
{
    CURLU *u = curl_url();
    char *s = NULL;
    if (u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_USER, NULL, 0) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_PASSWORD, NULL, 0) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_OPTIONS, NULL, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_URL, &s, 0) == CURLUE_OK)
        str_copy(buf, bufsz, s);
    else
        str_copy(buf, bufsz, "(unparseable URL)");
    curl_free(s);
    curl_url_cleanup(u);
}

/* The scheme of `url` is smtp or smtps (compared the way libcurl parses it). */
static bool smtp_scheme(const char *url)
{
    CURLU *u = curl_url();
    char *scheme = NULL;
    bool ok = u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
              (strcmp(scheme, "smtp") == 0 || strcmp(scheme, "smtps") == 0);
    curl_free(scheme);
    curl_url_cleanup(u);
    return ok;
}

typedef struct upload {
    const unsigned char *data;
    size_t len, pos;
} upload;

static size_t upload_read(char *buf, size_t size, size_t nitems, void *ud)
{
    upload *up = ud;
    size_t room = size * nitems, n = up->len - up->pos;
    if (n > room)
        n = room;
    memcpy(buf, up->data + up->pos, n);
    up->pos += n;
    return n;
}

static int smtp_send(const cm_config *cfg, const char *from, const char *to,
                     const unsigned char *msg, size_t len, const char *shown_url, cm_err *err)
{
    int rc = -1;
    CURL *c = NULL;
    struct curl_slist *rcpt = NULL;
    char env_from[300], env_to[300], errbuf[CURL_ERROR_SIZE];
    upload up = {msg, len, 0};
    errbuf[0] = '\0';
    if (!smtp_scheme(cfg->smtp_url)) {
        cm_err_set(err, "mail_delivery_failed",
                   "smtp_url \"%s\" is not an smtp:// or smtps:// URL; set it to the mail "
                   "server, e.g. smtp://mail.example.com:25, or leave it empty to spool",
                   shown_url);
        goto out;
    }
    snprintf(env_from, sizeof env_from, "<%s>", from); /* addresses are ≤ 254 bytes */
    snprintf(env_to, sizeof env_to, "<%s>", to);
    if (net_curl_init() != 0 || (c = curl_easy_init()) == NULL ||
        (rcpt = curl_slist_append(NULL, env_to)) == NULL) {
        cm_err_set(err, "mail_delivery_failed", "libcurl could not be initialised");
        goto out;
    }
    CURLcode res = curl_easy_setopt(c, CURLOPT_URL, cfg->smtp_url);
    if (res == CURLE_OK)
        res = curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    if (res == CURLE_OK)
        res = curl_easy_setopt(c, CURLOPT_MAIL_FROM, env_from);
    if (res == CURLE_OK)
        res = curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
    if (res == CURLE_OK)
        res = curl_easy_setopt(c, CURLOPT_READFUNCTION, upload_read);
    if (res == CURLE_OK)
        res = curl_easy_setopt(c, CURLOPT_READDATA, &up);
    if (res == CURLE_OK)
        res = curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    if (res == CURLE_OK)
        res = curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
    if (res == CURLE_OK)
        res = curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)MAIL_SMTP_TIMEOUT);
    if (res == CURLE_OK) /* no SIGALRM for DNS timeouts: several threads deliver at once */
        res = curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (res == CURLE_OK)
        res = curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    if (res != CURLE_OK) {
        cm_err_set(err, "mail_delivery_failed", "setting up the SMTP transfer failed: %s",
                   curl_easy_strerror(res));
        goto out;
    }
    res = curl_easy_perform(c);
    if (res != CURLE_OK) {
        long reply = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply);
        char reply_text[48] = "no SMTP reply";
        if (reply != 0)
            snprintf(reply_text, sizeof reply_text, "last SMTP reply %ld", reply);
        cm_err_set(err, "mail_delivery_failed",
                   "mail to %s through %s was not delivered: %s (%s); check that the server "
                   "is up and accepts mail from %s, and smtp_url",
                   to, shown_url, errbuf[0] != '\0' ? errbuf : curl_easy_strerror(res), reply_text,
                   from);
        goto out;
    }
    rc = 0;
out:
    curl_slist_free_all(rcpt);
    if (c != NULL)
        curl_easy_cleanup(c);
    return rc;
}

/* Creates `path` as a 0750 directory unless it is one already. */
static int ensure_dir(const char *path, cm_err *err)
{
    struct stat st;
    if (mkdir(path, 0750) == 0) {
        if (chmod(path, 0750) != 0) /* mkdir obeys the umask; the spool mode should not */
            return cm_err_set(err, "mail_delivery_failed", "chmod %s: %s", path, strerror(errno));
        return 0;
    }
    if (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return 0;
    return cm_err_set(err, "mail_delivery_failed",
                      "cannot create the mail spool directory %s: %s; check the data "
                      "directory (--dir) or set smtp_url",
                      path,
                      errno == EEXIST ? "a file of that name is in the way" : strerror(errno));
}

static int spool_write(const cm_config *cfg, const unsigned char *msg, size_t len, char *where,
                       size_t wheresz, cm_err *err)
{
    char spool[1100], dir[1100], path[1200], stamp[32], rnd[17];
    cm_err ferr;
    if (snprintf(spool, sizeof spool, "%s/spool", cfg->dir) >= (int)sizeof spool ||
        snprintf(dir, sizeof dir, "%s/spool/mail", cfg->dir) >= (int)sizeof dir)
        return cm_err_set(err, "mail_delivery_failed", "the data directory path is too long");
    if (ensure_dir(spool, err) != 0 || ensure_dir(dir, err) != 0)
        return -1;
    time_t t = (time_t)clock_now();
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    if (random_hex(rnd, sizeof rnd, 8) != 0)
        return cm_err_set(err, "mail_delivery_failed", "the random generator failed");
    snprintf(path, sizeof path, "%s/%s-%s.eml", dir, stamp, rnd);
    cm_err_clear(&ferr);
    if (file_write_atomic(path, msg, len, 0640, 0, &ferr) != 0)
        return cm_err_set(err, "mail_delivery_failed", "spooling the mail failed: %s", ferr.msg);
    if (where != NULL)
        str_copy(where, wheresz, path);
    return 0;
}

int mail_deliver_where(const cm_config *cfg, const char *from, const char *to,
                       const unsigned char *msg, size_t len, char *where, size_t wheresz,
                       cm_err *err)
{
    char url[600];
    if (check_address(from, "sender address (mail_from)", err) != 0 ||
        check_address(to, "recipient address", err) != 0)
        return -1;
    if (msg == NULL || len == 0)
        return cm_err_set(err, "mail_invalid", "the mail to deliver is empty");
    if (len > MAIL_MAX_BYTES)
        return cm_err_set(err, "mail_too_large", "the mail is %zu bytes; at most %u are sent", len,
                          MAIL_MAX_BYTES);
    if (str_empty(cfg->smtp_url))
        return spool_write(cfg, msg, len, where, wheresz, err);
    url_redacted(cfg->smtp_url, url, sizeof url);
    if (smtp_send(cfg, from, to, msg, len, url, err) != 0)
        return -1;
    if (where != NULL)
        str_copy(where, wheresz, url);
    return 0;
}

int mail_deliver(const cm_config *cfg, const char *from, const char *to, const unsigned char *msg,
                 size_t len, cm_err *err)
{
    return mail_deliver_where(cfg, from, to, msg, len, NULL, 0, err);
}
