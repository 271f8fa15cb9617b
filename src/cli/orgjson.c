/* orgjson.c — reading an organisation (DESIGN.md §5 field names) from a JSON file. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "util/fileio.h"
#include "util/str.h"

#define ORG_JSON_MAX 65536

int org_from_json_file(const char *path, cm_org *o, cm_err *err)
{
    static const struct {
        const char *key;
        size_t off, size;
    } fields[] = {
#define F(f) {#f, offsetof(cm_org, f), sizeof(((cm_org *)0)->f)}
        F(name),          F(assumed_name),       F(address),
        F(address2),      F(city),               F(state),
        F(zip),           F(country),            F(telephone),
        F(jurisdiction_country), F(jurisdiction_state), F(jurisdiction_city),
        F(business_category),    F(registration_number),
#undef F
    };
    json_error_t jerr;
    unsigned char *buf = NULL;
    size_t len = 0;
    memset(o, 0, sizeof *o);
    if (file_read_all(path, ORG_JSON_MAX, &buf, &len, err) != 0)
        return cm_err_prefix(err, "organization file");
    json_t *root = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &jerr);
    free(buf);
    if (root == NULL)
        return cm_err_set(err, "org_invalid", "%s: %s (line %d)", path, jerr.text, jerr.line);
    int rc = -1;
    if (!json_is_object(root)) {
        cm_err_set(err, "org_invalid", "%s must hold a JSON object", path);
        goto out;
    }
    const char *key;
    json_t *val;
    json_object_foreach(root, key, val)
    {
        size_t i = 0;
        while (i < sizeof fields / sizeof fields[0] && strcmp(fields[i].key, key) != 0)
            i++;
        if (i == sizeof fields / sizeof fields[0]) {
            if (strcmp(key, "id") == 0)
                continue;
            cm_err_set(err, "org_invalid", "%s: unknown field \"%s\"", path, key);
            goto out;
        }
        if (!json_is_string(val)) {
            cm_err_set(err, "org_invalid", "%s: field \"%s\" must be a string", path, key);
            goto out;
        }
        if (str_copy((char *)o + fields[i].off, fields[i].size, json_string_value(val)) != 0) {
            cm_err_set(err, "org_invalid", "%s: field \"%s\" is too long", path, key);
            goto out;
        }
    }
    rc = 0;
out:
    json_decref(root);
    return rc;
}
