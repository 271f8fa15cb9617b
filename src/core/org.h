/* org.h — an organisation's identity as it appears in OV and EV certificate subjects
 * (BR §7.1.2.7.4, EVG §7.1.4.2), and the rules its fields must meet. */
#ifndef CM_CORE_ORG_H
#define CM_CORE_ORG_H

#include "core/product.h"
#include "util/err.h"

/* Field sizes are the storage limits; the subject limits are checked by org_check. */
typedef struct cm_org {
    char name[256];
    char assumed_name[256];
    char address[256];
    char address2[256];
    char city[256];
    char state[256];
    char zip[64];
    char country[8];
    char telephone[64];
    /* EV only */
    char jurisdiction_country[8];
    char jurisdiction_state[256];
    char jurisdiction_city[256];
    char business_category[64];
    char registration_number[128];
} cm_org;

/* Checks that `o` can go into the subject of a certificate of validation type `v`:
 * OV/EV need a name (the O value fits 64 characters), a 2-letter country and a city or state;
 * EV also needs one of the four business categories, a jurisdiction country and a registration
 * number (PrintableString, at most 64). Placeholder values ("N/A", ".", "-") are refused.
 * Errors: `org_invalid` with the field named. DV ignores `o`. */
int org_check(const cm_org *o, cm_validation v, cm_err *err);

/* The organizationName value: "Assumed (Legal)" when an assumed name is given and that fits in
 * 64 characters, else the legal name. Writes into buf (at least 65 bytes). */
void org_subject_o(const cm_org *o, char *buf, unsigned long bufsz);

#endif
