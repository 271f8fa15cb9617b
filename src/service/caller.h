/* caller.h — who is asking: the identity every service function is given, filled by the HTTP
 * layer's authentication (an API key) or by an internal caller (jobs, init). */
#ifndef CM_SERVICE_CALLER_H
#define CM_SERVICE_CALLER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/role.h"

typedef struct cm_caller {
    bool operator;      /* an operator key: creates accounts, vets organisations */
    int64_t account_id; /* 0 for the operator */
    int64_t user_id;    /* 0 for the operator and for internal jobs */
    int64_t key_id;     /* the API key used, 0 for internal callers */
    cm_role role;
} cm_caller;

/* "administrator", … ; NULL for ROLE_NONE. */
const char *role_name(cm_role r);
/* The role named `s`, or ROLE_NONE. */
cm_role role_parse(const char *s);

#endif
