#include "core/validity.h"

/* SC-081v3 dates, 00:00:00 UTC. */
#define T_2026_03_15 INT64_C(1773532800)
#define T_2027_03_15 INT64_C(1805068800)
#define T_2029_03_15 INT64_C(1868227200)

int validity_public_max_days(int64_t t)
{
    if (t >= T_2029_03_15)
        return 47;
    if (t >= T_2027_03_15)
        return 100;
    if (t >= T_2026_03_15)
        return 200;
    return 398;
}

int validity_public_default_days(int64_t t)
{
    return validity_public_max_days(t) - 1;
}

int validity_decide(const cm_product *p, int64_t now, long requested, int private_max_days,
                    int *days, cm_err *err)
{
    int cap = p->hierarchy == HIER_PUBLIC ? validity_public_max_days(now) : private_max_days;
    int def = p->hierarchy == HIER_PUBLIC ? validity_public_default_days(now) : private_max_days;
    if (requested < 0)
        return cm_err_set(err, "validity_invalid", "validity must be a positive number of days");
    if (requested == 0) {
        *days = def;
        return 0;
    }
    if (requested > cap) {
        if (p->hierarchy == HIER_PUBLIC)
            return cm_err_set(err, "validity_too_long",
                              "%ld days is longer than the %d days the Baseline Requirements "
                              "allow for a certificate issued today; ask for %d days or fewer",
                              requested, cap, cap);
        return cm_err_set(err, "validity_too_long",
                          "%ld days is longer than the operator's cap of %d days for private "
                          "certificates",
                          requested, cap);
    }
    *days = (int)requested;
    return 0;
}

int64_t validity_not_after(int64_t not_before, int days)
{
    return not_before + (int64_t)days * 86400 - 1;
}
