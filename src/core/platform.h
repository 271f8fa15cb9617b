/* platform.h — the server platforms a certificate is installed on (R-D10): each sets the
 * default download format. Ids follow the commercial CA's platform ids where it has them. */
#ifndef CM_CORE_PLATFORM_H
#define CM_CORE_PLATFORM_H

#include <stddef.h>

typedef struct cm_platform {
    int id;
    const char *name;   /* display name */
    const char *format; /* default download format (pki/formats.h) */
} cm_platform;

/* The platform with this id, or NULL. */
const cm_platform *platform_find(int id);
/* The whole list; *n receives the count. Static. */
const cm_platform *platform_all(size_t *n);

/* The id of "Other" — the default when a request names none. */
#define PLATFORM_OTHER (-1)

#endif
