/* role.h — the roles of a user in an account (DESIGN.md R-O1). */
#ifndef CM_CORE_ROLE_H
#define CM_CORE_ROLE_H

/* Roles of DESIGN.md R-O1, in decreasing power. */
typedef enum {
    ROLE_NONE = 0,
    ROLE_ADMINISTRATOR,
    ROLE_MANAGER,
    ROLE_STANDARD_USER,
    ROLE_LIMITED_USER,
} cm_role;

#endif
