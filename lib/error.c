/*
 * error.c: status names and the jc_error_t helpers every module reports failures through.
 *
 * A message is always one line, whatever it quotes: jc_error_set folds it with jc_one_line
 * (internal.h), which the log messages go through too: every run of control characters (the
 * newlines of a libpq message with its DETAIL and HINT lines, a tab, a CR from a quoted record)
 * and the spaces around it become one space, none at the end, so a log line, a rejects-file
 * line or a rejects-table reason built from an error stays one line.
 */
#include "jiceng/common.h"

#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

static const char *const status_names[JC_STATUS_COUNT_] = {
    [JC_OK] = "JC_OK",
    [JC_ERR_INVALID_ARG] = "JC_ERR_INVALID_ARG",
    [JC_ERR_NOMEM] = "JC_ERR_NOMEM",
    [JC_ERR_IO] = "JC_ERR_IO",
    [JC_ERR_PARSE] = "JC_ERR_PARSE",
    [JC_ERR_KAFKA] = "JC_ERR_KAFKA",
    [JC_ERR_PG] = "JC_ERR_PG",
    [JC_ERR_TIMEOUT] = "JC_ERR_TIMEOUT",
    [JC_ERR_MISMATCH] = "JC_ERR_MISMATCH",
    [JC_ERR_TRUNCATED] = "JC_ERR_TRUNCATED",
    [JC_ERR_OVERSIZED] = "JC_ERR_OVERSIZED",
    [JC_ERR_BAD_MAGIC] = "JC_ERR_BAD_MAGIC",
    [JC_ERR_UNKNOWN_SCHEMA] = "JC_ERR_UNKNOWN_SCHEMA",
    [JC_ERR_NEGATIVE_LENGTH] = "JC_ERR_NEGATIVE_LENGTH",
    [JC_ERR_TRAILING_BYTES] = "JC_ERR_TRAILING_BYTES",
    [JC_ERR_MALFORMED] = "JC_ERR_MALFORMED",
    [JC_ERR_BAD_UTF8] = "JC_ERR_BAD_UTF8",
    [JC_ERR_ENUM_RANGE] = "JC_ERR_ENUM_RANGE",
    [JC_ERR_TOO_LONG] = "JC_ERR_TOO_LONG",
    [JC_ERR_MISSING_FIELD] = "JC_ERR_MISSING_FIELD",
    [JC_ERR_BAD_FIELD] = "JC_ERR_BAD_FIELD",
    [JC_ERR_EMPTY_FIELD] = "JC_ERR_EMPTY_FIELD",
    [JC_ERR_BAD_UUID] = "JC_ERR_BAD_UUID",
    [JC_ERR_NEGATIVE_COUNT] = "JC_ERR_NEGATIVE_COUNT",
    [JC_ERR_UNKNOWN_COUNTY] = "JC_ERR_UNKNOWN_COUNTY",
    [JC_ERR_FUTURE_TIME] = "JC_ERR_FUTURE_TIME",
    [JC_ERR_INCONSISTENT] = "JC_ERR_INCONSISTENT",
    [JC_ERR_CONFLICTING_DUPLICATE] = "JC_ERR_CONFLICTING_DUPLICATE",
    [JC_ERR_FENCED] = "JC_ERR_FENCED",
    [JC_ERR_UNAUTHORIZED] = "JC_ERR_UNAUTHORIZED",
    [JC_ERR_INSECURE_FILE] = "JC_ERR_INSECURE_FILE",
    [JC_ERR_WRONG_TOPIC] = "JC_ERR_WRONG_TOPIC",
    [JC_ERR_WRONG_KEY] = "JC_ERR_WRONG_KEY",
    [JC_ERR_SCHEMA_VERSION] = "JC_ERR_SCHEMA_VERSION",
    [JC_ERR_TOO_EARLY] = "JC_ERR_TOO_EARLY",
    [JC_ERR_STALE_REVISION] = "JC_ERR_STALE_REVISION",
    [JC_ERR_UNKNOWN_ORIGINAL] = "JC_ERR_UNKNOWN_ORIGINAL",
    [JC_ERR_COUNTY_CHANGED] = "JC_ERR_COUNTY_CHANGED",
};

const char *jc_status_name(jc_status_t code)
{
    if ((unsigned)code >= JC_STATUS_COUNT_ || status_names[code] == NULL)
        return "JC_ERR_UNKNOWN";
    return status_names[code];
}

static int is_control(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

void jc_one_line(char *s)
{
    char *out = s;
    for (const char *in = s; *in != '\0'; in++) {
        if (!is_control((unsigned char)*in)) {
            *out++ = *in;
            continue;
        }
        while (out > s && out[-1] == ' ')
            out--;
        while (in[1] == ' ' || (in[1] != '\0' && is_control((unsigned char)in[1])))
            in++;
        if (out > s && in[1] != '\0')
            *out++ = ' ';
    }
    *out = '\0';
}

jc_status_t jc_error_set(jc_error_t *err, jc_status_t code, const char *fmt, ...)
{
    if (err != NULL) {
        va_list ap;
        err->code = code;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
        jc_one_line(err->message);
    }
    return code;
}

void jc_error_clear(jc_error_t *err)
{
    if (err != NULL) {
        err->code = JC_OK;
        err->message[0] = '\0';
    }
}
