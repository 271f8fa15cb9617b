#include "core/product.h"

#include <string.h>

static const cm_product catalogue[] = {
    {"ssl_dv_geotrust", "GeoTrust DV SSL", VAL_DV, WILDCARD_NO, false, HIER_PUBLIC, false, false},
    {"ssl_basic", "Basic OV", VAL_OV, WILDCARD_ALLOWED, true, HIER_PUBLIC, true, false},
    {"ssl_ev_basic", "Basic EV", VAL_EV, WILDCARD_NO, true, HIER_PUBLIC, true, false},
    {"ssl_securesite_flex", "Secure Site OV (flex)", VAL_OV, WILDCARD_ALLOWED, true, HIER_PUBLIC,
     true, false},
    {"ssl_plus", "Standard SSL", VAL_OV, WILDCARD_NO, false, HIER_PUBLIC, true, false},
    {"ssl_multi_domain", "Multi-Domain SSL", VAL_OV, WILDCARD_NO, false, HIER_PUBLIC, true,
     false},
    {"ssl_wildcard", "SSL Wildcard", VAL_OV, WILDCARD_PRODUCT, false, HIER_PUBLIC, true, true},
    {"ssl_ev_plus", "EV SSL", VAL_EV, WILDCARD_NO, false, HIER_PUBLIC, true, false},
    {"private_ssl_plus", "Private SSL", VAL_OV, WILDCARD_NO, false, HIER_PRIVATE, true, false},
    {"private_ssl_wildcard", "Private SSL Wildcard", VAL_OV, WILDCARD_PRODUCT, false,
     HIER_PRIVATE, true, true},
};

const cm_product *product_find(const char *id)
{
    if (id == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof catalogue / sizeof catalogue[0]; i++)
        if (strcmp(catalogue[i].id, id) == 0)
            return &catalogue[i];
    return NULL;
}

const cm_product *product_all(size_t *n)
{
    *n = sizeof catalogue / sizeof catalogue[0];
    return catalogue;
}

const char *validation_name(cm_validation v)
{
    switch (v) {
    case VAL_DV:
        return "dv";
    case VAL_OV:
        return "ov";
    case VAL_EV:
        return "ev";
    }
    return "?";
}

bool product_allows_wildcard(const cm_product *p)
{
    return p->wildcard != WILDCARD_NO && p->validation != VAL_EV;
}

cm_name_policy product_name_policy(const cm_product *p)
{
    cm_name_policy pol = {
        .public_names = p->hierarchy == HIER_PUBLIC,
        .allow_wildcard = product_allows_wildcard(p),
        .allow_ip = p->validation != VAL_EV,
    };
    return pol;
}
