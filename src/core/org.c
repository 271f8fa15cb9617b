#include "core/org.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/str.h"

static const char *const business_categories[] = {
    "Private Organization", "Government Entity", "Business Entity", "Non-Commercial Entity"};

/* Counts UTF-8 characters (not bytes): the X.520 upper bounds are in characters. */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

/* BR §7.1.2.7.2: no value made only of metadata characters or "not applicable" words. */
static bool is_placeholder(const char *s)
{
    bool only_meta = true;
    for (const char *p = s; *p; p++)
        if (!strchr(".-_ ,;:/\\*", *p))
            only_meta = false;
    if (only_meta)
        return true;
    static const char *const words[] = {"n/a", "na", "none", "null", "unknown", "not applicable",
                                        "test"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcasecmp(s, words[i]) == 0)
            return true;
    return false;
}

static bool is_printable_string(const char *s)
{
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr(" '()+,-./:=?", *s))
            return false;
    return true;
}

/* ISO 3166-1 alpha-2 codes, sorted (from Debian's iso-codes 4.15, iso_3166-1.json), plus the
 * user-assigned "XX" that the Baseline Requirements allow where no official code is assigned.
 * "UK" or "EU" are refused. */
static const char *const iso3166[] = {
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX",
    "AZ", "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ",
    "BR", "BS", "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK",
    "CL", "CM", "CN", "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM",
    "DO", "DZ", "EC", "EE", "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR",
    "GA", "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS",
    "GT", "GU", "GW", "GY", "HK", "HM", "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN",
    "IO", "IQ", "IR", "IS", "IT", "JE", "JM", "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN",
    "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC", "LI", "LK", "LR", "LS", "LT", "LU", "LV",
    "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK", "ML", "MM", "MN", "MO", "MP", "MQ",
    "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA", "NC", "NE", "NF", "NG", "NI",
    "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM",
    "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW", "SA", "SB", "SC",
    "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS", "ST", "SV",
    "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TR",
    "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "XX", "YE", "YT", "ZA", "ZM", "ZW",
};

static int cmp_code(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool is_country(const char *s)
{
    if (strlen(s) != 2 || !isupper((unsigned char)s[0]) || !isupper((unsigned char)s[1]))
        return false;
    return bsearch(&s, iso3166, sizeof iso3166 / sizeof iso3166[0], sizeof iso3166[0],
                   cmp_code) != NULL;
}

static int check_text(const char *field, const char *v, size_t max, bool required, cm_err *err)
{
    if (str_empty(v)) {
        if (required)
            return cm_err_set(err, "org_invalid", "organization %s is required", field);
        return 0;
    }
    if (utf8_chars(v) > max)
        return cm_err_set(err, "org_invalid", "organization %s is longer than %zu characters",
                          field, max);
    if (is_placeholder(v))
        return cm_err_set(err, "org_invalid",
                          "organization %s \"%s\" is a placeholder, not a value", field, v);
    for (const char *p = v; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return cm_err_set(err, "org_invalid", "organization %s contains a control character",
                              field);
    return 0;
}

void org_subject_o(const cm_org *o, char *buf, unsigned long bufsz)
{
    if (!str_empty(o->assumed_name)) {
        char both[600];
        snprintf(both, sizeof both, "%s (%s)", o->assumed_name, o->name);
        if (utf8_chars(both) <= 64) {
            snprintf(buf, bufsz, "%s", both);
            return;
        }
    }
    snprintf(buf, bufsz, "%s", o->name);
}

int org_check(const cm_org *o, cm_validation v, cm_err *err)
{
    if (v == VAL_DV)
        return 0;
    if (o == NULL)
        return cm_err_set(err, "org_required",
                          "%s certificates carry the organization's identity; give the "
                          "organization",
                          v == VAL_EV ? "EV" : "OV");
    if (check_text("name", o->name, 64, true, err) ||
        check_text("assumed_name", o->assumed_name, 64, false, err) ||
        check_text("city", o->city, 128, false, err) ||
        check_text("state", o->state, 128, false, err))
        return -1;
    if (!is_country(o->country))
        return cm_err_set(err, "org_invalid",
                          "organization country must be a two-letter ISO 3166 code such as GB");
    if (str_empty(o->city) && str_empty(o->state))
        return cm_err_set(err, "org_invalid", "organization city or state is required");
    if (v != VAL_EV)
        return 0;
    bool known = false;
    for (size_t i = 0; i < sizeof business_categories / sizeof business_categories[0]; i++)
        if (strcmp(o->business_category, business_categories[i]) == 0)
            known = true;
    if (!known)
        return cm_err_set(err, "org_invalid",
                          "EV business_category must be one of \"Private Organization\", "
                          "\"Government Entity\", \"Business Entity\", \"Non-Commercial Entity\"");
    if (!is_country(o->jurisdiction_country))
        return cm_err_set(err, "org_invalid",
                          "EV jurisdiction_country must be a two-letter ISO 3166 code");
    if (check_text("jurisdiction_state", o->jurisdiction_state, 128, false, err) ||
        check_text("jurisdiction_city", o->jurisdiction_city, 128, false, err) ||
        check_text("registration_number", o->registration_number, 64, true, err))
        return -1;
    if (!is_printable_string(o->registration_number))
        return cm_err_set(err, "org_invalid",
                          "EV registration_number may hold only letters, digits, spaces and "
                          "'()+,-./:=?");
    if (!str_empty(o->jurisdiction_city) && str_empty(o->jurisdiction_state))
        return cm_err_set(err, "org_invalid",
                          "EV jurisdiction_city needs jurisdiction_state too");
    return 0;
}
