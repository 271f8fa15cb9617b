/* product.h — the fixed product catalogue of DESIGN.md §3.1. */
#ifndef CM_CORE_PRODUCT_H
#define CM_CORE_PRODUCT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/names.h"
#include "util/err.h"

typedef enum { VAL_DV, VAL_OV, VAL_EV } cm_validation;
typedef enum { HIER_PUBLIC, HIER_PRIVATE } cm_hierarchy;
typedef enum {
    WILDCARD_NO,      /* no wildcard names at all */
    WILDCARD_ALLOWED, /* wildcards may appear among the names (flex) */
    WILDCARD_PRODUCT  /* a wildcard product: its common name is typically *.domain */
} cm_wildcard;

typedef struct cm_product {
    const char *id;   /* stable id, as the commercial CA's product ids */
    const char *name; /* display name */
    cm_validation validation;
    cm_wildcard wildcard;
    bool flex;
    cm_hierarchy hierarchy;
    bool duplicates;          /* R-D1 */
    bool duplicate_add_names; /* R-D7: a duplicate may add names its wildcard covers */
} cm_product;

/* Looks a product up by id; NULL when unknown. Entries are static. */
const cm_product *product_find(const char *id);

/* The whole catalogue, for listings: *n receives the count. */
const cm_product *product_all(size_t *n);

/* "dv", "ov", "ev". */
const char *validation_name(cm_validation v);

/* True when the product permits a wildcard name (never on EV). */
bool product_allows_wildcard(const cm_product *p);

/* Whether names of this product need domain-control validation: public products do; private
 * products carry internal names that no public DNS can prove, and the account that orders them
 * runs that namespace (DESIGN.md §3.1 "private hierarchy"). */
bool product_needs_dcv(const cm_product *p);

/* Most names (SANs) in one certificate. */
#define CERT_MAX_NAMES 250

/* The rules a certificate's set of normalised names must meet for product `p`: at least one
 * name and at most CERT_MAX_NAMES, each listed once, wildcards only where the product allows
 * them (never on EV), no IP addresses on EV, and a common name (names[cn_index], or none when
 * cn_index is SIZE_MAX) of at most 64 characters. Errors: `names_required`, `too_many_names`,
 * `name_invalid`. */
int product_check_names(const cm_product *p, const cm_name *names, size_t n, size_t cn_index,
                        cm_err *err);

/* The name policy of a product: public names for the public hierarchy, wildcards where the
 * catalogue allows them, no IP addresses on EV (EVG §7.1.2.1). */
cm_name_policy product_name_policy(const cm_product *p);

#endif
