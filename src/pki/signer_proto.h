/* signer_proto.h — the messages between the front end and the signer process (signer.c).
 *
 * One message is one SOCK_SEQPACKET record: a fixed 12-byte header
 *     magic u32 "CMSG" | version u16 | type u16 | payload length u32   (network byte order)
 * followed by the payload: a list of fields, each a u32 length (network order) and that many
 * bytes. A message is at most SP_MAX_MSG bytes and holds at most SP_MAX_FIELDS fields; the
 * fields must fill the payload exactly. Each type has a fixed shape (see sp_parse): anything
 * else is refused before any field is looked at, so the signer never acts on a half-read
 * message.
 *
 *   PING       {}                                        → OK {""}
 *   SIGN_CERT  {ca_id, hash, DER of the TBSCertificate}  → OK {signatureValue} | ERR
 *   SIGN_CRL   {ca_id, hash, DER of the CRL}             → OK {DER of the signed CRL} | ERR
 *   SIGN_OCSP  {ca_id, hash, thisUpdate u64, nextUpdate u64, DER of the nonce extension or "",
 *               then per single response: CertID DER, status (SP_OCSP_STATUS_LEN bytes:
 *               u8 status, u8 reason or 0xff, i64 revocation time)}
 *                                                  → OK {DER of the BasicOCSPResponse} | ERR
 *   OK         {DER}
 *   ERR        {code, message}
 * The signer also sends one OK {""} or ERR when it has loaded its keys (or failed to).
 * A certificate travels as its TBS (the front end already set its algorithm fields) and only
 * the signatureValue comes back: neither side has to decode the subject's public key.
 *
 * No OpenSSL here: this file only frames bytes. */
#ifndef CM_PKI_SIGNER_PROTO_H
#define CM_PKI_SIGNER_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define SP_MAGIC           0x434d5347u /* "CMSG" */
#define SP_VERSION         1
#define SP_HDR_LEN         12
#define SP_MAX_MSG         (256 * 1024)
#define SP_MAX_FIELDS      48
#define SP_OCSP_MAX_SINGLE 20 /* single responses per SIGN_OCSP */
#define SP_OCSP_FIXED      5  /* fields of SIGN_OCSP before the single responses */
#define SP_OCSP_STATUS_LEN 10 /* u8 status, u8 reason (0xff: none), i64 revocation time */

typedef enum sp_type {
    SP_PING = 1,
    SP_SIGN_CERT = 2,
    SP_SIGN_CRL = 3,
    SP_SIGN_OCSP = 4,
    SP_OK = 0x80,
    SP_ERR = 0x81,
} sp_type;

/* A parsed message: fields point into the buffer that was parsed (owned by the caller). */
typedef struct sp_field {
    const unsigned char *p;
    size_t len;
} sp_field;

typedef struct sp_msg {
    uint16_t type;
    size_t n;
    sp_field f[SP_MAX_FIELDS];
} sp_msg;

/* A message being built: a malloc'd buffer that grows up to SP_MAX_MSG. */
typedef struct sp_buf {
    unsigned char *p;
    size_t len, cap;
    int failed; /* set when a field did not fit or memory ran out */
} sp_buf;

/* ---- Building ---- */

/* Starts a message of `type` in b (b->p is malloc'd; free it with sp_buf_free). */
void sp_begin(sp_buf *b, sp_type type);
/* Appends one field. Failures are remembered and reported by sp_end. */
void sp_put(sp_buf *b, const void *data, size_t len);
void sp_put_str(sp_buf *b, const char *s);
void sp_put_u64(sp_buf *b, uint64_t v);
/* Finishes the header. Returns 0, or -1 with `signer_message_too_large` / `out_of_memory`. */
int sp_end(sp_buf *b, cm_err *err);
void sp_buf_free(sp_buf *b);

/* ---- Parsing ---- */

/* Parses and shape-checks one received message of `len` bytes (the fields point into buf).
 * Refuses a bad magic, version, unknown type, wrong payload length, fields that overrun or do
 * not fill the payload, and a field count the type does not allow. Errors:
 * `signer_bad_message`. */
int sp_parse(const unsigned char *buf, size_t len, sp_msg *out, cm_err *err);

/* Field i as a NUL-terminated string of 1..max printable ASCII bytes, into out (outsz > max).
 * Errors: `signer_bad_message`. */
int sp_get_str(const sp_msg *m, size_t i, size_t max, char *out, size_t outsz, cm_err *err);
/* Field i as a u64 (exactly 8 bytes). Errors: `signer_bad_message`. */
int sp_get_u64(const sp_msg *m, size_t i, uint64_t *out, cm_err *err);

/* Encoding helpers for fixed-layout fields. */
void sp_store_u64(unsigned char *p, uint64_t v);
uint64_t sp_load_u64(const unsigned char *p);

#endif
