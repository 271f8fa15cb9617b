/* validity.h — how long a certificate may live (BR §6.3.2, ballot SC-081 schedule).
 *
 * The validity period runs from notBefore through notAfter inclusive, so a certificate of D days
 * has notAfter = notBefore + D*86400 - 1 and satisfies notAfter - notBefore + 1 <= N*86400. */
#ifndef CM_CORE_VALIDITY_H
#define CM_CORE_VALIDITY_H

#include <stdint.h>

#include "core/product.h"
#include "util/err.h"

/* Maximum days for a public certificate issued at `t` (UTC seconds): 398, then 200 from
 * 2026-03-15, 100 from 2027-03-15, 47 from 2029-03-15. */
int validity_public_max_days(int64_t t);

/* Default days for a public certificate issued at `t`: one day under the maximum (BR "SHOULD NOT
 * exceed"). */
int validity_public_default_days(int64_t t);

/* Decides the number of days for a certificate of `p` issued at `now`. `requested` is 0 for the
 * default; `private_max_days` is the operator's cap for the private hierarchy. Fails with
 * `validity_too_long` (saying the cap) or `validity_invalid`. */
int validity_decide(const cm_product *p, int64_t now, long requested, int private_max_days,
                    int *days, cm_err *err);

/* notAfter for a certificate of `days` days starting at `not_before`. */
int64_t validity_not_after(int64_t not_before, int days);

#endif
