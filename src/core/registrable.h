/* registrable.h — the registrable domain of a name (the public suffix plus one label), through
 * libpsl: the domain a customer validates to cover the name and everything under it. */
#ifndef CM_CORE_REGISTRABLE_H
#define CM_CORE_REGISTRABLE_H

#include <stddef.h>

#include "util/err.h"

/* The registrable domain of `name` ("www.a.example.co.uk" → "example.co.uk"; a wildcard
 * "*.example.com" → "example.com") into out (outsz bytes). `name` is an already normalised
 * A-label name (core/names.h). Errors: `name_invalid` when the name is itself a public suffix or
 * has none ("com", "localhost", "server.local"), `psl_unavailable` when libpsl has no list. */
int name_registrable(const char *name, char *out, size_t outsz, cm_err *err);

#endif
