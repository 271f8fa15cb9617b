/* registrable.c — see registrable.h. The public-suffix list is libpsl's: the newest list on the
 * system, else the one built into the library (as core/names.c loads it). */
#include "core/registrable.h"

#include <pthread.h>
#include <string.h>

#include <libpsl.h>

#include "util/str.h"

static const psl_ctx_t *reg_psl;
static pthread_once_t reg_once = PTHREAD_ONCE_INIT;

static void reg_load(void)
{
    /* Lives until the process ends, like the context of core/names.c. */
    reg_psl = psl_latest(NULL);
    if (reg_psl == NULL)
        reg_psl = psl_builtin();
}

int name_registrable(const char *name, char *out, size_t outsz, cm_err *err)
{
    if (pthread_once(&reg_once, reg_load) != 0 || reg_psl == NULL)
        return cm_err_set(err, "psl_unavailable",
                          "the public suffix list could not be loaded; install libpsl's data "
                          "(publicsuffix) and restart");
    if (str_empty(name))
        return cm_err_set(err, "name_invalid", "an empty name has no registrable domain");
    const char *base = name;
    if (strncmp(base, "*.", 2) == 0)
        base += 2;
    /* An internal name ("server.local", "corp") has no registrar behind it: its top-level
     * label must be on the list itself, not matched by the list's default "*" rule. */
    const char *tld = strrchr(base, '.');
    tld = tld != NULL ? tld + 1 : base;
    if (psl_is_public_suffix2(reg_psl, tld, PSL_TYPE_ICANN | PSL_TYPE_NO_STAR_RULE) != 1)
        return cm_err_set(err, "name_invalid",
                          "\"%s\" is an internal name (\"%s\" is no public top-level domain), "
                          "so it has no registrable domain",
                          name, tld);
    /* Private suffixes count too: "a.github.io" belongs to its owner, not to github.io. */
    const char *reg = psl_registrable_domain(reg_psl, base);
    if (reg == NULL || *reg == '\0')
        return cm_err_set(err, "name_invalid",
                          "\"%s\" is a public suffix or has none, so it has no registrable "
                          "domain; give a name under a registered domain such as example.com",
                          name);
    if (str_copy(out, outsz, reg) != 0)
        return cm_err_set(err, "name_invalid", "the registrable domain of \"%s\" is too long",
                          name);
    return 0;
}
