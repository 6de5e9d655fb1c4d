/*
 * logging.h: how the library's modules call a jc_log_cb (jiceng/log.h). Not installed.
 */
#ifndef JC_LOGGING_H
#define JC_LOGGING_H

#include "jiceng/log.h"

/* Format a message and hand it to cb (nothing if cb is NULL). The message is cut to 1023
 * bytes and made one line by jc_one_line (internal.h): each run of control characters becomes
 * one space, none at the end (libpq's and librdkafka's messages may hold several lines). */
void jc_logf(jc_log_cb cb, void *opaque, jc_log_level_t level, const char *event,
             const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* The level of a syslog(3) severity (0 emergency .. 7 debug), as librdkafka's log lines have. */
jc_log_level_t jc_log_level_from_syslog(int severity);

#endif
