/*
 * county.c: a county system's identity for jiceng-access (access.h): its code checked against
 * the reference data, and the names derived from it, each written once here: the principal's
 * name county-CODE (what the broker's ssl.principal.mapping.rules make of the subject), the
 * principal, and the certificate subject CN=county-CODE,OU=county,O=jiceng.
 */
#include "access.h"

#include <stdio.h>
#include <string.h>

#include "jiceng/reference.h"

jc_status_t jc_access_county_parse(const char *arg, jc_access_county_t *out, jc_error_t *err)
{
    memset(out, 0, sizeof *out);
    size_t n = arg != NULL ? strlen(arg) : 0;
    if (n != 6 || strspn(arg, "0123456789") != 6)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "'%.20s' is not a six-digit county code",
                            arg != NULL ? arg : "");
    int32_t code = 0, current = 0;
    for (size_t i = 0; i < 6; i++)
        code = code * 10 + (arg[i] - '0');
    jc_error_t sub;
    if (jc_county_resolve(code, &current, &sub) != JC_OK)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "%s", sub.message);
    if (current != code)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "%06ld is an old code of county %06ld: "
                            "provision the county under its current code", (long)code,
                            (long)current);
    out->code = code;
    snprintf(out->name, sizeof out->name, "county-%06ld", (long)code);
    snprintf(out->principal, sizeof out->principal, "User:%s", out->name);
    snprintf(out->subject, sizeof out->subject, "CN=%s,OU=county,O=jiceng", out->name);
    return JC_OK;
}
