#include "core/product.h"

#include <stdint.h>
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

int product_check_names(const cm_product *p, const cm_name *names, size_t n, size_t cn_index,
                        cm_err *err)
{
    if (n == 0)
        return cm_err_set(err, "names_required",
                          "a certificate needs at least one name (common name or SAN)");
    if (n > CERT_MAX_NAMES)
        return cm_err_set(err, "too_many_names", "%zu names is more than the %d allowed", n,
                          CERT_MAX_NAMES);
    if (cn_index != SIZE_MAX && cn_index >= n)
        return cm_err_set(err, "name_invalid", "the common name must be one of the names");
    if (cn_index != SIZE_MAX && strlen(names[cn_index].text) > 64)
        return cm_err_set(err, "name_invalid",
                          "\"%s\" is longer than the 64 characters a common name may hold; put "
                          "a shorter name first or leave the common name out",
                          names[cn_index].text);
    cm_name_policy pol = product_name_policy(p);
    for (size_t i = 0; i < n; i++) {
        const cm_name *nm = &names[i];
        if (nm->type == NAME_WILDCARD && !pol.allow_wildcard)
            return cm_err_set(err, "name_invalid", "%s does not allow wildcard names such as "
                              "\"%s\"%s",
                              p->id, nm->text,
                              p->validation == VAL_EV ? " (EV certificates never carry wildcards)"
                                                      : "; choose a wildcard product");
        if ((nm->type == NAME_IPV4 || nm->type == NAME_IPV6) && !pol.allow_ip)
            return cm_err_set(err, "name_invalid",
                              "EV certificates cannot carry IP addresses such as \"%s\"",
                              nm->text);
        for (size_t j = 0; j < i; j++)
            if (strcmp(names[j].text, nm->text) == 0)
                return cm_err_set(err, "name_invalid", "\"%s\" is listed twice", nm->text);
    }
    return 0;
}

bool product_needs_dcv(const cm_product *p)
{
    return p->hierarchy == HIER_PUBLIC;
}
