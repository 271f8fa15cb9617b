/* caller.c — names of the roles of R-O1. */
#include "service/caller.h"

#include <stddef.h>
#include <string.h>

static const struct {
    cm_role role;
    const char *name;
} roles[] = {
    {ROLE_ADMINISTRATOR, "administrator"},
    {ROLE_MANAGER, "manager"},
    {ROLE_STANDARD_USER, "standard_user"},
    {ROLE_LIMITED_USER, "limited_user"},
};

const char *role_name(cm_role r)
{
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
        if (roles[i].role == r)
            return roles[i].name;
    return NULL;
}

cm_role role_parse(const char *s)
{
    if (s == NULL)
        return ROLE_NONE;
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
        if (strcmp(roles[i].name, s) == 0)
            return roles[i].role;
    return ROLE_NONE;
}
