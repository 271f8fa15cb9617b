/* fuzz_caa.c — libFuzzer target for the CAA rule (src/core/caa.c). Input: one control byte
 * (bit 0 wildcard, bits 1-2 identities, bit 3 owner), then records as DNS rdata behind a u16
 * length: flags u8, tag length u8, tag, value. Records are filled as net/dns.c does (NUL bytes
 * become 0x7f, overlong parts are cut and marked truncated); each value also goes to
 * caa_parse_issue_value on its own, whose issuer name must lie inside the value. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/caa.h"

#define MAX_RRS 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool copy_wire(char *dst, size_t dstsz, const uint8_t *src, size_t n)
{
    bool cut = n >= dstsz;
    n = cut ? dstsz - 1 : n;
    for (size_t i = 0; i < n; i++)
        dst[i] = src[i] == 0 ? (char)0x7f : (char)src[i];
    dst[n] = '\0';
    return cut;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const ids[] = {"certmint.test,ca.example.org", "", " Certmint.Test. , x",
                                      "a"};
    cm_caa_rr rrs[MAX_RRS];
    size_t n = 0, at = 1;
    cm_err err;
    if (size < 1 || size > 8192)
        return 0;
    while (n < MAX_RRS && size - at >= 2) {
        size_t len = (size_t)data[at] << 8 | data[at + 1], taglen;
        at += 2;
        len = len < size - at ? len : size - at;
        if (len < 2 || (taglen = data[at + 1]) > len - 2)
            break; /* dns.c refuses such an answer as malformed */
        memset(&rrs[n], 0, sizeof rrs[n]);
        rrs[n].flags = data[at];
        rrs[n].truncated = copy_wire(rrs[n].tag, sizeof rrs[n].tag, data + at + 2, taglen);
        rrs[n].truncated |= copy_wire(rrs[n].value, sizeof rrs[n].value, data + at + 2 + taglen,
                                      len - 2 - taglen);
        const char *dom = NULL;
        size_t dom_len = 0;
        if (caa_parse_issue_value(rrs[n].value, &dom, &dom_len) == 0 &&
            (dom < rrs[n].value || dom + dom_len > rrs[n].value + strlen(rrs[n].value)))
            abort();
        n++;
        at += len;
    }
    const char *owner = (data[0] & 8) ? "sub.example.com" : NULL;
    int rc = caa_decide_at(owner, rrs, n, data[0] & 1, ids[(data[0] >> 1) & 3], &err);
    if (caa_decide(rrs, n, data[0] & 1, ids[(data[0] >> 1) & 3], &err) != rc)
        abort(); /* the owner only changes the message */
    if (rc != 0 && strcmp(err.code, "caa_forbidden") != 0)
        abort();
    return 0;
}
