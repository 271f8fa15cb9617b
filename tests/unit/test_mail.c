/* test_mail.c — base64 and random hex (pki/encode.h) and outgoing mail (net/mail.h): base64
 * round trips and RFC 4648 vectors, wrapping at 76, refusal of malformed base64; composing:
 * header injection refused in every header field, address rules, RFC 2047 subjects, and a
 * message that parses back (CRLF everywhere, 7-bit, boundaries, each part, quoted-printable
 * text decoded, attachment bytes decoded); delivery into the spool directory (modes, content)
 * and a refused SMTP connection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/mail.h"
#include "pki/encode.h"
#include "util/clock.h"
#include "util/fileio.h"
#include "util/str.h"

/* ---- base64 and random hex ---- */

static void roundtrip(const unsigned char *in, size_t len, bool wrap)
{
    char *enc = b64_encode(in, len, wrap);
    assert_non_null(enc);
    assert_int_equal(strlen(enc) % (wrap ? 1 : 4), 0);
    /* Strip the CRLFs of wrapped output; decoding takes no whitespace. */
    size_t n = 0;
    for (char *p = enc; *p; p++)
        if (*p != '\r' && *p != '\n')
            enc[n++] = *p;
    enc[n] = '\0';
    assert_int_equal(n % 4, 0);
    unsigned char *dec = NULL;
    size_t dec_len = 99;
    assert_int_equal(b64_decode(enc, n, &dec, &dec_len), 0);
    assert_int_equal(dec_len, len);
    if (len > 0)
        assert_memory_equal(dec, in, len);
    free(enc);
    free(dec);
}

static void test_b64_round_trips_short_and_binary(void **s)
{
    (void)s;
    unsigned char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)(255 - i);
    for (size_t len = 0; len <= 256; len++) {
        roundtrip(all, len, false);
        roundtrip(all, len, true);
    }
    unsigned char rnd[1000];
    assert_int_equal(random_bytes(rnd, sizeof rnd), 0);
    roundtrip(rnd, sizeof rnd, false);
    roundtrip(rnd, sizeof rnd, true);
}

static void test_b64_matches_rfc4648_vectors(void **s)
{
    (void)s;
    static const char *const vec[][2] = {{"", ""},
                                         {"f", "Zg=="},
                                         {"fo", "Zm8="},
                                         {"foo", "Zm9v"},
                                         {"foob", "Zm9vYg=="},
                                         {"fooba", "Zm9vYmE="},
                                         {"foobar", "Zm9vYmFy"}};
    for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++) {
        char *e = b64_encode((const unsigned char *)vec[i][0], strlen(vec[i][0]), false);
        assert_non_null(e);
        assert_string_equal(e, vec[i][1]);
        free(e);
        unsigned char *d = NULL;
        size_t dl = 0;
        assert_int_equal(b64_decode(vec[i][1], strlen(vec[i][1]), &d, &dl), 0);
        assert_int_equal(dl, strlen(vec[i][0]));
        assert_memory_equal(d, vec[i][0], dl + 1); /* NUL-terminated too */
        free(d);
    }
}

static void test_b64_wraps_at_76_with_crlf(void **s)
{
    (void)s;
    unsigned char buf[300];
    memset(buf, 0xa5, sizeof buf);
    char *e = b64_encode(buf, 57, true); /* exactly one full line */
    assert_non_null(e);
    assert_int_equal(strlen(e), 76);
    assert_null(strchr(e, '\r'));
    free(e);
    e = b64_encode(buf, 58, true);
    assert_non_null(e);
    assert_int_equal(strlen(e), 76 + 2 + 4);
    assert_memory_equal(e + 76, "\r\n", 2);
    free(e);
    e = b64_encode(buf, sizeof buf, true); /* 6 lines: 5 of 76 and one of 8 */
    assert_non_null(e);
    size_t lines = 0;
    for (char *line = e;; lines++) {
        char *crlf = strstr(line, "\r\n");
        size_t n = crlf ? (size_t)(crlf - line) : strlen(line);
        assert_true(n <= 76 && n > 0);
        assert_null(memchr(line, '\n', n));
        if (crlf == NULL)
            break;
        assert_int_equal(n, 76);
        line = crlf + 2;
    }
    assert_int_equal(lines + 1, 6);
    free(e);
    e = b64_encode(buf, sizeof buf, false);
    assert_non_null(e);
    assert_int_equal(strlen(e), 400);
    assert_null(strchr(e, '\n'));
    free(e);
}

static void test_b64_decode_refuses_malformed_input(void **s)
{
    (void)s;
    static const char *const bad[] = {"Zg=",      "Zg=A", "Z===",     "====", "Zm9v\r\n", " Zm9",
                                      "Zm9v!AAA", "Zm-v", "Zg==Zm9v", "Zm9",  "=Zm9"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        unsigned char *d = (unsigned char *)"untouched";
        size_t dl = 7;
        assert_int_equal(b64_decode(bad[i], strlen(bad[i]), &d, &dl), -1);
        assert_string_equal((char *)d, "untouched");
        assert_int_equal(dl, 7);
    }
}

static void test_random_hex_is_hex_and_fresh(void **s)
{
    (void)s;
    char a[33], b[33], small[32];
    assert_int_equal(random_hex(a, sizeof a, 16), 0);
    assert_int_equal(random_hex(b, sizeof b, 16), 0);
    assert_int_equal(strlen(a), 32);
    assert_int_equal(strspn(a, "0123456789abcdef"), 32);
    assert_string_not_equal(a, b);
    assert_int_equal(random_hex(small, sizeof small, 16), -1); /* needs 33 bytes */
    char one[3];
    assert_int_equal(random_hex(one, sizeof one, 1), 0);
    assert_int_equal(strlen(one), 2);
}

/* ---- A small MIME reader, just enough to check what mail_compose writes ---- */

typedef struct entity {
    const char *hdr; /* header lines, each ending in CRLF */
    size_t hdr_len;
    const char *body;
    size_t body_len;
} entity;

static void split_entity(const char *p, size_t n, entity *e)
{
    const char *sep = memmem(p, n, "\r\n\r\n", 4);
    assert_non_null(sep);
    e->hdr = p;
    e->hdr_len = (size_t)(sep - p) + 2;
    e->body = sep + 4;
    e->body_len = n - (size_t)(sep + 4 - p);
}

/* The unfolded value of header `name` (folding CRLFs removed), or false when absent. */
static bool header(const entity *e, const char *name, char *buf, size_t bufsz)
{
    size_t nl = strlen(name), k = 0;
    bool found = false;
    for (const char *line = e->hdr; line < e->hdr + e->hdr_len;) {
        const char *crlf = memmem(line, (size_t)(e->hdr + e->hdr_len - line), "\r\n", 2);
        assert_non_null(crlf);
        size_t n = (size_t)(crlf - line);
        if (found && (line[0] == ' ' || line[0] == '\t')) {
            assert_true(k + n < bufsz);
            memcpy(buf + k, line, n);
            k += n;
        } else if (found) {
            break;
        } else if (n > nl + 2 && strncmp(line, name, nl) == 0 && line[nl] == ':' &&
                   line[nl + 1] == ' ') {
            found = true;
            assert_true(n - nl - 2 < bufsz);
            memcpy(buf, line + nl + 2, n - nl - 2);
            k = n - nl - 2;
        }
        line = crlf + 2;
    }
    if (found)
        buf[k] = '\0';
    return found;
}

static void boundary_of(const char *content_type, char *buf, size_t bufsz)
{
    const char *b = strstr(content_type, "boundary=\"");
    assert_non_null(b);
    b += 10;
    const char *q = strchr(b, '"');
    assert_non_null(q);
    assert_true((size_t)(q - b) < bufsz && q > b);
    memcpy(buf, b, (size_t)(q - b));
    buf[q - b] = '\0';
}

/* Splits a multipart body at its delimiters; asserts the closing delimiter is there. */
static size_t split_multipart(const entity *e, entity *parts, size_t max)
{
    char ct[512], b[128], d[140];
    assert_true(header(e, "Content-Type", ct, sizeof ct));
    assert_non_null(strstr(ct, "multipart/"));
    boundary_of(ct, b, sizeof b);
    size_t dl = (size_t)snprintf(d, sizeof d, "\r\n--%s", b), np = 0;
    const char *body = e->body, *end = e->body + e->body_len, *cur;
    if (e->body_len >= dl - 2 && memcmp(body, d + 2, dl - 2) == 0) {
        cur = body + dl - 2;
    } else {
        cur = memmem(body, e->body_len, d, dl);
        assert_non_null(cur);
        cur += dl;
    }
    for (;;) {
        assert_true(end - cur >= 2);
        if (memcmp(cur, "--", 2) == 0) {
            assert_true(end - cur == 2 || memcmp(cur + 2, "\r\n", 2) == 0);
            return np;
        }
        assert_memory_equal(cur, "\r\n", 2);
        cur += 2;
        const char *next = memmem(cur, (size_t)(end - cur), d, dl);
        assert_non_null(next);
        assert_true(np < max);
        split_entity(cur, (size_t)(next - cur), &parts[np++]);
        cur = next + dl;
    }
}

static int hexval(char c)
{
    const char *h = "0123456789ABCDEF", *p = c ? strchr(h, c) : NULL;
    assert_non_null(p);
    return (int)(p - h);
}

/* Decodes quoted-printable into a malloc'd string, CRLF → LF; asserts lines ≤ 76 and that only
 * printable ASCII, spaces and tabs appear. */
static char *qp_decode(const char *s, size_t n)
{
    char *o = malloc(n + 1);
    size_t k = 0, col = 0;
    assert_non_null(o);
    for (size_t i = 0; i < n;) {
        if (s[i] == '\r') {
            assert_true(i + 1 < n && s[i + 1] == '\n');
            assert_true(i == 0 || (s[i - 1] != ' ' && s[i - 1] != '\t')); /* no trailing WSP */
            o[k++] = '\n';
            i += 2;
            col = 0;
            continue;
        }
        assert_true(s[i] == ' ' || s[i] == '\t' || (s[i] > 0x20 && s[i] < 0x7f));
        if (s[i] == '=' && i + 2 < n && s[i + 1] == '\r' && s[i + 2] == '\n') {
            assert_true(col + 1 <= 76);
            i += 3;
            col = 0;
            continue;
        }
        if (s[i] == '=') {
            assert_true(i + 2 < n);
            o[k++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 3;
            col += 3;
        } else {
            assert_true(col > 0 || s[i] != '.'); /* a leading '.' is always encoded */
            o[k++] = s[i++];
            col++;
        }
        assert_true(col <= 76);
    }
    o[k] = '\0';
    return o;
}

/* Decodes an unfolded header value made of RFC 2047 "B" words into buf. */
static void decode_words(const char *v, char *buf, size_t bufsz)
{
    size_t k = 0;
    while (*v != '\0') {
        while (*v == ' ')
            v++;
        assert_int_equal(strncmp(v, "=?UTF-8?B?", 10), 0);
        v += 10;
        const char *e = strstr(v, "?=");
        assert_non_null(e);
        unsigned char *d = NULL;
        size_t dl = 0;
        assert_int_equal(b64_decode(v, (size_t)(e - v), &d, &dl), 0);
        assert_true(k + dl < bufsz);
        memcpy(buf + k, d, dl);
        k += dl;
        free(d);
        v = e + 2;
    }
    buf[k] = '\0';
}

/* CRLF everywhere (no bare CR or LF), lines ≤ 998, 7-bit only, ends with CRLF. */
static void assert_wire_clean(const unsigned char *m, size_t n)
{
    size_t col = 0;
    assert_true(n >= 2 && m[n - 2] == '\r' && m[n - 1] == '\n');
    for (size_t i = 0; i < n; i++) {
        assert_true(m[i] < 0x80 && m[i] != 0);
        if (m[i] == '\r') {
            assert_true(i + 1 < n && m[i + 1] == '\n');
        } else if (m[i] == '\n') {
            assert_true(i > 0 && m[i - 1] == '\r');
            col = 0;
            continue;
        }
        if (m[i] != '\r')
            assert_true(++col <= 998);
    }
}

/* ---- Composing ---- */

static const char TEXT[] =
    "Hello,\n\nyour certificate for www.example.com was issued. Grüße, ✓ — certmint\n"
    ".a line starting with a dot\n"
    "a=b and a trailing space \n"
    "tab\tinside and trailing tab\t\n"
    "a long line without spaces: "
    "0123456789012345678901234567890123456789012345678901234567890123456789"
    "0123456789012345678901234567890123456789012345678901234567890123456789\n"
    "last line, no newline";
static const char HTML[] = "<p>Your certificate for <b>www.example.com</b> — issued.</p>\n";

static cm_mail base_mail(const cm_mail_attachment *att, size_t n)
{
    cm_mail m = {
        "certmint@ca.example.org", "ops@example.com", "Certificate issued", TEXT, HTML, att, n};
    return m;
}

static void expect_invalid(const cm_mail *m)
{
    unsigned char *out = (unsigned char *)"untouched";
    size_t len = 7;
    cm_err err;
    cm_err_clear(&err);
    assert_int_equal(mail_compose(m, &out, &len, &err), -1);
    assert_string_equal(err.code, "mail_invalid");
    assert_null(strchr(err.msg, '\n'));
    assert_null(strchr(err.msg, '\r'));
    assert_string_equal((char *)out, "untouched");
    assert_int_equal(len, 7);
}

static void test_compose_refuses_header_injection_in_every_field(void **s)
{
    (void)s;
    static const char *const evil[] = {"a@example.com\r\nBcc: x@example.net",
                                       "a@example.com\nBcc: x@example.net",
                                       "a@example.com\rBcc: x@example.net", "a@example.com\r\n"};
    static const char *const evil_text[] = {"Hi\r\nBcc: x@example.net", "Hi\nBcc: x@y",
                                            "Hi\rBcc: x@y", "Hi\r\n\r\nbody"};
    for (size_t i = 0; i < 4; i++) {
        cm_mail_attachment att = {"cert.pem", "application/pem-certificate-chain",
                                  (const unsigned char *)"x", 1};
        cm_mail m = base_mail(&att, 1);
        m.from = evil[i];
        expect_invalid(&m);
        m = base_mail(&att, 1);
        m.to = evil[i];
        expect_invalid(&m);
        m = base_mail(&att, 1);
        m.subject = evil_text[i];
        expect_invalid(&m);
        m = base_mail(&att, 1);
        att.filename = evil_text[i];
        expect_invalid(&m);
        att.filename = "cert.pem";
        att.content_type = "text/plain\r\nBcc: x@y";
        expect_invalid(&m);
    }
}

static void test_compose_refuses_malformed_fields(void **s)
{
    (void)s;
    static const char *const bad_addr[] = {"ops example.com",
                                           "ops @example.com",
                                           "<ops@example.com>",
                                           "Ops <ops@example.com>",
                                           "ops@example.com,x@example.net",
                                           "ops@",
                                           "@example.com",
                                           "ops@@example.com",
                                           "ops@example..com",
                                           "ops@-example.com",
                                           "ops@example-.com",
                                           ".ops@example.com",
                                           "o..ps@example.com",
                                           "\"ops\"@example.com",
                                           "öps@example.com",
                                           "ops@exämple.com",
                                           "ops@example.com.",
                                           "ops\t@example.com",
                                           ""};
    for (size_t i = 0; i < sizeof bad_addr / sizeof bad_addr[0]; i++) {
        assert_false(mail_address_ok(bad_addr[i]));
        cm_mail m = base_mail(NULL, 0);
        m.to = bad_addr[i];
        expect_invalid(&m);
    }
    assert_false(mail_address_ok(NULL));
    assert_true(mail_address_ok("first.last+tag@mail.example.com"));
    assert_true(mail_address_ok("certmint@localhost"));
    assert_true(mail_address_ok("o'brien@xn--bcher-kva.example"));

    cm_mail m = base_mail(NULL, 0);
    m.subject = "bad \xc3\x28 utf-8";
    expect_invalid(&m);
    m.subject = "overlong \xc0\xaf";
    expect_invalid(&m);
    m.subject = "tab\tinside";
    expect_invalid(&m);
    char longsub[MAIL_SUBJECT_MAX + 2];
    memset(longsub, 'a', sizeof longsub - 1);
    longsub[sizeof longsub - 1] = '\0';
    m.subject = longsub;
    expect_invalid(&m);
    m = base_mail(NULL, 0);
    m.text = NULL;
    expect_invalid(&m);
    m = base_mail(NULL, 0);
    m.html = "\xff";
    expect_invalid(&m);
    static const char *const bad_names[] = {"", "a\"b.pem", "a/b.pem", "a\\b.pem", "é.pem"};
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        cm_mail_attachment att = {bad_names[i], NULL, (const unsigned char *)"x", 1};
        m = base_mail(&att, 1);
        expect_invalid(&m);
    }
    static const char *const bad_types[] = {
        "text", "/plain", "text/", "text/plain; a=b", "text/pl ain", "text/plain\"x"};
    for (size_t i = 0; i < sizeof bad_types / sizeof bad_types[0]; i++) {
        cm_mail_attachment att = {"a.txt", bad_types[i], (const unsigned char *)"x", 1};
        m = base_mail(&att, 1);
        expect_invalid(&m);
    }
}

static void test_compose_encodes_non_ascii_subject(void **s)
{
    (void)s;
    /* 120 two- and three-byte characters: several encoded words, folded. */
    char subject[600] = "Zertifikat ausgestellt: ";
    size_t sl = strlen(subject);
    for (int i = 0; i < 40; i++, sl += strlen("äö✓"))
        memcpy(subject + sl, "äö✓", strlen("äö✓") + 1);
    const char *const subjects[] = {"Zertifikat für www.example.com ✓", subject,
                                    "ASCII but =?UTF-8?B?Zm9v?= looks encoded"};
    for (size_t i = 0; i < 3; i++) {
        cm_mail m = base_mail(NULL, 0);
        m.subject = subjects[i];
        unsigned char *out = NULL;
        size_t len = 0;
        cm_err err;
        assert_int_equal(mail_compose(&m, &out, &len, &err), 0);
        assert_wire_clean(out, len);
        entity msg;
        split_entity((const char *)out, len, &msg);
        char v[2048], dec[1024];
        assert_true(header(&msg, "Subject", v, sizeof v));
        assert_int_equal(strncmp(v, "=?UTF-8?B?", 10), 0);
        decode_words(v, dec, sizeof dec);
        assert_string_equal(dec, subjects[i]);
        /* Each physical Subject line stays within 78 characters (RFC 5322 SHOULD). */
        const char *line = strstr((const char *)out, "\r\nSubject: ") + 2;
        do {
            const char *crlf = strstr(line, "\r\n");
            assert_true(crlf - line <= 78);
            line = crlf + 2;
        } while (*line == ' ');
        free(out);
    }
    cm_mail m = base_mail(NULL, 0); /* plain ASCII stays readable */
    unsigned char *out = NULL;
    size_t len = 0;
    cm_err err;
    assert_int_equal(mail_compose(&m, &out, &len, &err), 0);
    assert_non_null(strstr((const char *)out, "\r\nSubject: Certificate issued\r\n"));
    free(out);
}

/* Checks a text/plain or text/html part against the original. */
static void assert_text_part(const entity *e, const char *subtype, const char *want)
{
    char ct[256], cte[64], expect_ct[64];
    assert_true(header(e, "Content-Type", ct, sizeof ct));
    snprintf(expect_ct, sizeof expect_ct, "text/%s; charset=utf-8", subtype);
    assert_string_equal(ct, expect_ct);
    assert_true(header(e, "Content-Transfer-Encoding", cte, sizeof cte));
    assert_string_equal(cte, "quoted-printable");
    char *dec = qp_decode(e->body, e->body_len);
    assert_string_equal(dec, want);
    free(dec);
}

static void test_composed_message_parses_back(void **s)
{
    (void)s;
    unsigned char bin[5000];
    assert_int_equal(random_bytes(bin, sizeof bin), 0);
    const char pem[] = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    cm_mail_attachment att[3] = {
        {"www_example_com.pem", "application/pem-certificate-chain", (const unsigned char *)pem,
         strlen(pem)},
        {"blob.bin", NULL, bin, sizeof bin},
        {"empty.txt", "text/plain", NULL, 0},
    };
    cm_mail m = base_mail(att, 3);
    clock_set_fixed(1767225600); /* 2026-01-01T00:00:00Z, a Thursday */
    unsigned char *out = NULL;
    size_t len = 0;
    cm_err err;
    cm_err_clear(&err);
    assert_int_equal(mail_compose(&m, &out, &len, &err), 0);
    clock_set_fixed(0);
    assert_int_equal(strlen((char *)out), len);
    assert_wire_clean(out, len);

    entity msg;
    char v[1024];
    split_entity((const char *)out, len, &msg);
    assert_true(header(&msg, "Date", v, sizeof v));
    assert_string_equal(v, "Thu, 01 Jan 2026 00:00:00 +0000");
    assert_true(header(&msg, "Message-ID", v, sizeof v));
    assert_true(v[0] == '<' && strstr(v, "@ca.example.org>") != NULL);
    assert_true(header(&msg, "From", v, sizeof v));
    assert_string_equal(v, "certmint@ca.example.org");
    assert_true(header(&msg, "To", v, sizeof v));
    assert_string_equal(v, "ops@example.com");
    assert_true(header(&msg, "MIME-Version", v, sizeof v));
    assert_string_equal(v, "1.0");
    assert_false(header(&msg, "Bcc", v, sizeof v));
    assert_true(header(&msg, "Content-Type", v, sizeof v));
    assert_int_equal(strncmp(v, "multipart/mixed; boundary=", 26), 0);

    entity parts[5], alt[3];
    assert_int_equal(split_multipart(&msg, parts, 5), 4);
    assert_true(header(&parts[0], "Content-Type", v, sizeof v));
    assert_int_equal(strncmp(v, "multipart/alternative; boundary=", 32), 0);
    assert_int_equal(split_multipart(&parts[0], alt, 3), 2);
    assert_text_part(&alt[0], "plain", TEXT);
    assert_text_part(&alt[1], "html", HTML);

    for (size_t i = 0; i < 3; i++) {
        const entity *p = &parts[i + 1];
        char want[256];
        assert_true(header(p, "Content-Type", v, sizeof v));
        snprintf(want, sizeof want, "%s; name=\"%s\"",
                 att[i].content_type ? att[i].content_type : "application/octet-stream",
                 att[i].filename);
        assert_string_equal(v, want);
        assert_true(header(p, "Content-Disposition", v, sizeof v));
        snprintf(want, sizeof want, "attachment; filename=\"%s\"", att[i].filename);
        assert_string_equal(v, want);
        assert_true(header(p, "Content-Transfer-Encoding", v, sizeof v));
        assert_string_equal(v, "base64");
        char *b64 = malloc(p->body_len + 1);
        size_t n = 0;
        assert_non_null(b64);
        for (size_t k = 0; k < p->body_len; k++) { /* lines of ≤ 76, CRLF between */
            if (p->body[k] == '\r')
                continue;
            if (p->body[k] != '\n')
                b64[n++] = p->body[k];
        }
        unsigned char *dec = NULL;
        size_t dl = 0;
        assert_int_equal(b64_decode(b64, n, &dec, &dl), 0);
        assert_int_equal(dl, att[i].len);
        if (dl > 0)
            assert_memory_equal(dec, att[i].data, dl);
        free(dec);
        free(b64);
    }
    free(out);
}

static void test_compose_without_html_or_attachments(void **s)
{
    (void)s;
    cm_mail m = base_mail(NULL, 0);
    m.html = NULL;
    unsigned char *out = NULL;
    size_t len = 0;
    cm_err err;
    assert_int_equal(mail_compose(&m, &out, &len, &err), 0);
    assert_wire_clean(out, len);
    entity msg;
    split_entity((const char *)out, len, &msg);
    assert_null(strstr((const char *)out, "multipart"));
    /* The body is the text part itself, ending in the CRLF that closes the message. */
    msg.body_len -= 2;
    assert_text_part(&msg, "plain", TEXT);
    free(out);

    cm_mail_attachment att = {"a.txt", "text/plain", (const unsigned char *)"abc", 3};
    m.attachments = &att;
    m.n_attachments = 1;
    assert_int_equal(mail_compose(&m, &out, &len, &err), 0);
    assert_wire_clean(out, len);
    split_entity((const char *)out, len, &msg);
    entity parts[3];
    assert_int_equal(split_multipart(&msg, parts, 3), 2);
    assert_text_part(&parts[0], "plain", TEXT);
    assert_null(strstr((const char *)out, "multipart/alternative"));
    free(out);
}

static void test_compose_refuses_oversized_mail(void **s)
{
    (void)s;
    unsigned char *big = calloc(1, MAIL_MAX_BYTES);
    assert_non_null(big);
    cm_mail_attachment att = {"big.bin", NULL, big, MAIL_MAX_BYTES};
    cm_mail m = base_mail(&att, 1);
    unsigned char *out = NULL;
    size_t len = 0;
    cm_err err;
    assert_int_equal(mail_compose(&m, &out, &len, &err), -1);
    assert_string_equal(err.code, "mail_too_large");
    assert_null(out);
    cm_mail_attachment many[MAIL_MAX_ATTACHMENTS + 1];
    for (size_t i = 0; i < MAIL_MAX_ATTACHMENTS + 1; i++)
        many[i] = (cm_mail_attachment){"a.txt", NULL, big, 1};
    m = base_mail(many, MAIL_MAX_ATTACHMENTS + 1);
    expect_invalid(&m);
    free(big);
}

/* ---- Delivering ---- */

static int count_files(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    if (d == NULL)
        return -1;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static void test_deliver_spools_eml_with_tight_modes(void **s)
{
    (void)s;
    char tmpl[] = "/tmp/test_mail_XXXXXX", spool[128], where[1200];
    assert_non_null(mkdtemp(tmpl));
    cm_config cfg;
    config_defaults(&cfg);
    str_copy(cfg.dir, sizeof cfg.dir, tmpl);
    cfg.smtp_url[0] = '\0';
    unsigned char *msg = NULL;
    size_t len = 0;
    cm_err err;
    cm_mail m = base_mail(NULL, 0);
    assert_int_equal(mail_compose(&m, &msg, &len, &err), 0);

    /* A bad envelope address writes nothing, not even the spool directory. */
    assert_int_equal(mail_deliver(&cfg, m.from, "a@b\r\nBcc: x@y", msg, len, &err), -1);
    assert_string_equal(err.code, "mail_invalid");
    snprintf(spool, sizeof spool, "%s/spool", tmpl);
    struct stat st;
    assert_int_not_equal(stat(spool, &st), 0);

    assert_int_equal(mail_deliver_where(&cfg, m.from, m.to, msg, len, where, sizeof where, &err),
                     0);
    assert_int_equal(mail_deliver(&cfg, m.from, m.to, msg, len, &err), 0);
    snprintf(spool, sizeof spool, "%s/spool/mail", tmpl);
    assert_int_equal(count_files(spool), 2);
    assert_int_equal(strncmp(where, spool, strlen(spool)), 0);
    assert_string_equal(where + strlen(where) - 4, ".eml");
    assert_int_equal(stat(where, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0640);
    assert_int_equal(stat(spool, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0750);
    unsigned char *back = NULL;
    size_t blen = 0;
    assert_int_equal(file_read_all(where, MAIL_MAX_BYTES, &back, &blen, &err), 0);
    assert_int_equal(blen, len);
    assert_memory_equal(back, msg, len);
    free(back);

    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpl);
    assert_int_equal(system(cmd), 0);
    free(msg);
}

static void test_deliver_reports_refused_smtp_connection(void **s)
{
    (void)s;
    /* A port that was free a moment ago: bind to port 0, note it, close. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    close(fd);

    cm_config cfg;
    config_defaults(&cfg);
    snprintf(cfg.smtp_url, sizeof cfg.smtp_url, "smtp://user:hunter2@127.0.0.1:%d",
             ntohs(a.sin_port));
    const unsigned char msg[] = "Subject: x\r\n\r\nbody\r\n";
    cm_err err;
    cm_err_clear(&err);
    assert_int_equal(
        mail_deliver(&cfg, "certmint@localhost", "ops@example.com", msg, sizeof msg - 1, &err), -1);
    assert_string_equal(err.code, "mail_delivery_failed");
    assert_non_null(strstr(err.msg, "ops@example.com"));
    assert_null(strstr(err.msg, "hunter2")); /* the password never reaches a message */

    snprintf(cfg.smtp_url, sizeof cfg.smtp_url, "file:///etc/passwd");
    assert_int_equal(
        mail_deliver(&cfg, "certmint@localhost", "ops@example.com", msg, sizeof msg - 1, &err), -1);
    assert_string_equal(err.code, "mail_delivery_failed");
    assert_non_null(strstr(err.msg, "smtp://"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64_round_trips_short_and_binary),
        cmocka_unit_test(test_b64_matches_rfc4648_vectors),
        cmocka_unit_test(test_b64_wraps_at_76_with_crlf),
        cmocka_unit_test(test_b64_decode_refuses_malformed_input),
        cmocka_unit_test(test_random_hex_is_hex_and_fresh),
        cmocka_unit_test(test_compose_refuses_header_injection_in_every_field),
        cmocka_unit_test(test_compose_refuses_malformed_fields),
        cmocka_unit_test(test_compose_encodes_non_ascii_subject),
        cmocka_unit_test(test_composed_message_parses_back),
        cmocka_unit_test(test_compose_without_html_or_attachments),
        cmocka_unit_test(test_compose_refuses_oversized_mail),
        cmocka_unit_test(test_deliver_spools_eml_with_tight_modes),
        cmocka_unit_test(test_deliver_reports_refused_smtp_connection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
