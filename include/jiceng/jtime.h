/*
 * jiceng/jtime.h: event time conventions.
 *
 * Events carry UTC epoch milliseconds; days and months are local dates in Asia/Shanghai, which
 * has been UTC+8 without daylight saving since 1991, so the conversion is a fixed offset.
 * Text timestamps are ISO-8601 with an offset ("2026-11-03T09:15:00.250+08:00", "...Z").
 */
#ifndef JICENG_JTIME_H
#define JICENG_JTIME_H

#include <stddef.h>
#include <stdint.h>

#include "jiceng/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define JC_SHANGHAI_OFFSET_MS (8LL * 3600 * 1000)
#define JC_DAY_MS (24LL * 3600 * 1000)

/** Now, as UTC epoch milliseconds. */
JC_API int64_t jc_now_ms(void);

/** A monotonic clock in milliseconds (arbitrary origin), for durations, deadlines and rates:
 *  never moves backwards when the wall clock is set. */
JC_API int64_t jc_mono_ms(void);

/** The local (Asia/Shanghai) date of an instant, as days since 1970-01-01. */
JC_API int32_t jc_local_day(int64_t epoch_ms);

/** Format a day number (as from jc_local_day) as "YYYY-MM-DD" into buf (at least 11 bytes). */
JC_API void jc_day_format(int32_t day, char *buf, size_t len);

/** Parse "YYYY-MM-DD" into a day number. JC_ERR_BAD_FIELD if malformed or not a real date. */
JC_API jc_status_t jc_day_parse(const char *s, int32_t *day, jc_error_t *err);

/** Parse an ISO-8601 timestamp with date, time, optional fraction (up to milliseconds are
 *  kept) and a mandatory offset (Z or +hh:mm / -hh:mm / +hhmm). JC_ERR_BAD_FIELD otherwise. */
JC_API jc_status_t jc_time_parse(const char *s, int64_t *epoch_ms, jc_error_t *err);

/** Format epoch_ms as ISO-8601 in Asia/Shanghai time with milliseconds and "+08:00", e.g.
 *  "2026-11-03T09:15:00.250+08:00", into buf (at least 30 bytes). */
JC_API void jc_time_format(int64_t epoch_ms, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
