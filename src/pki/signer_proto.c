/* signer_proto.c — framing of the signer's messages (signer_proto.h). Strict on input: every
 * length is checked against what was received before it is used. */
#include "pki/signer_proto.h"

#include <stdlib.h>
#include <string.h>

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

void sp_store_u64(unsigned char *p, uint64_t v)
{
    put32(p, (uint32_t)(v >> 32));
    put32(p + 4, (uint32_t)v);
}

uint64_t sp_load_u64(const unsigned char *p)
{
    return (uint64_t)get32(p) << 32 | get32(p + 4);
}

/* Makes room for `more` bytes; remembers a failure instead of growing past SP_MAX_MSG. */
static int reserve(sp_buf *b, size_t more)
{
    if (b->failed)
        return -1;
    if (more > SP_MAX_MSG - b->len) {
        b->failed = 1;
        return -1;
    }
    if (b->len + more <= b->cap)
        return 0;
    size_t cap = b->cap == 0 ? 1024 : b->cap;
    while (cap < b->len + more)
        cap *= 2;
    if (cap > SP_MAX_MSG)
        cap = SP_MAX_MSG;
    unsigned char *p = realloc(b->p, cap);
    if (p == NULL) {
        b->failed = 2;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

void sp_begin(sp_buf *b, sp_type type)
{
    b->p = NULL;
    b->len = b->cap = 0;
    b->failed = 0;
    if (reserve(b, SP_HDR_LEN) != 0)
        return;
    put32(b->p, SP_MAGIC);
    b->p[4] = 0;
    b->p[5] = SP_VERSION;
    b->p[6] = (unsigned char)((unsigned)type >> 8);
    b->p[7] = (unsigned char)type;
    put32(b->p + 8, 0);
    b->len = SP_HDR_LEN;
}

void sp_put(sp_buf *b, const void *data, size_t len)
{
    if (len > SP_MAX_MSG) {
        b->failed = b->failed != 0 ? b->failed : 1;
        return;
    }
    if (reserve(b, 4 + len) != 0)
        return;
    put32(b->p + b->len, (uint32_t)len);
    if (len > 0)
        memcpy(b->p + b->len + 4, data, len);
    b->len += 4 + len;
}

void sp_put_str(sp_buf *b, const char *s)
{
    sp_put(b, s, strlen(s));
}

void sp_put_u64(sp_buf *b, uint64_t v)
{
    unsigned char p[8];
    sp_store_u64(p, v);
    sp_put(b, p, sizeof p);
}

int sp_end(sp_buf *b, cm_err *err)
{
    if (b->failed == 2)
        return cm_err_set(err, "out_of_memory", "out of memory");
    if (b->failed)
        return cm_err_set(err, "signer_message_too_large",
                          "the message for the signer exceeds %d bytes", SP_MAX_MSG);
    put32(b->p + 8, (uint32_t)(b->len - SP_HDR_LEN));
    return 0;
}

void sp_buf_free(sp_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* The field counts each type allows. */
static int shape_ok(uint16_t type, size_t n)
{
    switch (type) {
    case SP_PING:
        return n == 0;
    case SP_SIGN_CERT:
    case SP_SIGN_CRL:
        return n == 3;
    case SP_SIGN_OCSP:
        return n >= SP_OCSP_FIXED + 2 && n <= SP_OCSP_FIXED + 2 * SP_OCSP_MAX_SINGLE &&
               (n - SP_OCSP_FIXED) % 2 == 0;
    case SP_OK:
        return n == 1;
    case SP_ERR:
        return n == 2;
    default:
        return 0;
    }
}

int sp_parse(const unsigned char *buf, size_t len, sp_msg *out, cm_err *err)
{
    out->n = 0;
    out->type = 0;
    if (len < SP_HDR_LEN || len > SP_MAX_MSG)
        return cm_err_set(err, "signer_bad_message", "message of %zu bytes", len);
    if (get32(buf) != SP_MAGIC || buf[4] != 0 || buf[5] != SP_VERSION)
        return cm_err_set(err, "signer_bad_message", "bad magic or version");
    uint16_t type = (uint16_t)(buf[6] << 8 | buf[7]);
    if ((size_t)get32(buf + 8) != len - SP_HDR_LEN)
        return cm_err_set(err, "signer_bad_message", "payload length does not match");
    size_t at = SP_HDR_LEN;
    while (at < len) {
        if (out->n == SP_MAX_FIELDS || len - at < 4)
            return cm_err_set(err, "signer_bad_message", "too many fields or a cut field");
        size_t flen = get32(buf + at);
        at += 4;
        if (flen > len - at)
            return cm_err_set(err, "signer_bad_message", "a field overruns the message");
        out->f[out->n].p = buf + at;
        out->f[out->n].len = flen;
        out->n++;
        at += flen;
    }
    if (!shape_ok(type, out->n))
        return cm_err_set(err, "signer_bad_message", "type %u with %zu fields", type, out->n);
    out->type = type;
    return 0;
}

int sp_get_str(const sp_msg *m, size_t i, size_t max, char *out, size_t outsz, cm_err *err)
{
    if (i >= m->n || m->f[i].len == 0 || m->f[i].len > max || m->f[i].len >= outsz)
        return cm_err_set(err, "signer_bad_message", "field %zu is not a string of 1..%zu", i, max);
    for (size_t k = 0; k < m->f[i].len; k++)
        if (m->f[i].p[k] < 0x20 || m->f[i].p[k] > 0x7e)
            return cm_err_set(err, "signer_bad_message", "field %zu is not printable", i);
    memcpy(out, m->f[i].p, m->f[i].len);
    out[m->f[i].len] = '\0';
    return 0;
}

int sp_get_u64(const sp_msg *m, size_t i, uint64_t *out, cm_err *err)
{
    if (i >= m->n || m->f[i].len != 8)
        return cm_err_set(err, "signer_bad_message", "field %zu is not a u64", i);
    *out = sp_load_u64(m->f[i].p);
    return 0;
}
