/*
 * log.c: level names and the one function through which the library reports an occurrence
 * (see jiceng/log.h and logging.h): format, fold onto one line, call the program's callback.
 */
#include "logging.h"

#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

const char *jc_log_level_name(jc_log_level_t level)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    return (unsigned)level < sizeof names / sizeof names[0] ? names[level] : "?";
}

void jc_logf(jc_log_cb cb, void *opaque, jc_log_level_t level, const char *event,
             const char *fmt, ...)
{
    if (cb == NULL)
        return;
    char message[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    if (n < 0)
        snprintf(message, sizeof message, "(unformattable message)");
    jc_one_line(message);
    cb(opaque, level, event, message);
}

jc_log_level_t jc_log_level_from_syslog(int severity)
{
    if (severity <= 3)
        return JC_LOG_ERROR;
    if (severity == 4)
        return JC_LOG_WARN;
    return severity <= 6 ? JC_LOG_INFO : JC_LOG_DEBUG;
}
