/*
 * jtime.c: event time conventions (jiceng/jtime.h): epoch milliseconds, Asia/Shanghai local
 * days, and the ISO-8601 text form of both.
 *
 * Asia/Shanghai is a fixed UTC+8 offset, so no time zone database, TZ variable or locale is
 * consulted: a local time is the UTC instant plus JC_SHANGHAI_OFFSET_MS. Dates are converted
 * with the proleptic Gregorian days-from-civil / civil-from-days arithmetic on 400-year eras
 * (146097 days each), using floor division throughout, so instants before 1970 and dates
 * before year 1 come out right. The parser reads a fixed layout digit by digit
 * ("YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|+hh:mm|-hh:mm|+hhmm|-hhmm)", a space allowed for the 'T'),
 * checks every field's range including the month's length, and rejects anything left over.
 */
#include "jiceng/jtime.h"

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#define DAYS_PER_ERA 146097       /* days in 400 Gregorian years */
#define EPOCH_SHIFT 719468        /* days from 0000-03-01 to 1970-01-01 */
#define QUOTE_MAX 64              /* bytes of the offending text quoted in error messages */

/* Floor division and the matching non-negative remainder (C's / truncates toward zero). */
static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_length(int64_t y, int m)
{
    static const int len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : len[m - 1];
}

/* Days since 1970-01-01 of the proleptic Gregorian date y-m-d (m 1..12, d 1..31). The year is
 * counted from March so that the leap day falls at the end of it. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;                               /* [0, 399] */
    int64_t mp = m > 2 ? m - 3 : m + 9;                        /* March = 0 */
    int64_t doy = (153 * mp + 2) / 5 + d - 1;                  /* [0, 365] */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;       /* [0, 146096] */
    return era * DAYS_PER_ERA + doe - EPOCH_SHIFT;
}

/* The inverse of days_from_civil. */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += EPOCH_SHIFT;
    int64_t era = floor_div(z, DAYS_PER_ERA);
    int64_t doe = z - era * DAYS_PER_ERA;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* Split an instant into its Shanghai local day and the milliseconds into that day, without
 * overflowing for any int64_t input (floor division written so no product can overflow). */
static void local_split(int64_t epoch_ms, int64_t *day, int64_t *ms_of_day)
{
    int64_t d = epoch_ms / JC_DAY_MS, r = epoch_ms % JC_DAY_MS;
    if (r < 0) {
        d--;
        r += JC_DAY_MS;
    }
    r += JC_SHANGHAI_OFFSET_MS;
    if (r >= JC_DAY_MS) {
        d++;
        r -= JC_DAY_MS;
    }
    *day = d;
    *ms_of_day = r;
}

int64_t jc_now_ms(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return (int64_t)time(NULL) * 1000;
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t jc_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int32_t jc_local_day(int64_t epoch_ms)
{
    int64_t day, ms_of_day;
    local_split(epoch_ms, &day, &ms_of_day);
    if (day > INT32_MAX)
        return INT32_MAX;
    if (day < INT32_MIN)
        return INT32_MIN;
    return (int32_t)day;
}

void jc_day_format(int32_t day, char *buf, size_t len)
{
    int64_t y;
    int m, d;
    civil_from_days(day, &y, &m, &d);
    snprintf(buf, len, "%04lld-%02d-%02d", (long long)y, m, d);
}

void jc_time_format(int64_t epoch_ms, char *buf, size_t len)
{
    int64_t day, ms, y;
    int mo, d;
    local_split(epoch_ms, &day, &ms);
    civil_from_days(day, &y, &mo, &d);
    snprintf(buf, len, "%04lld-%02d-%02dT%02d:%02d:%02d.%03d+08:00", (long long)y, mo, d,
             (int)(ms / 3600000), (int)(ms / 60000 % 60), (int)(ms / 1000 % 60),
             (int)(ms % 1000));
}

/* ---- parsing ---- */

/* A cursor over the text being parsed. */
typedef struct scan {
    const char *p;
} scan_t;

/* Read exactly n decimal digits into *out; false if any is not a digit. */
static bool read_digits(scan_t *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = s->p[i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    s->p += n;
    *out = v;
    return true;
}

static bool read_char(scan_t *s, char c)
{
    if (*s->p != c)
        return false;
    s->p++;
    return true;
}

/* Read "YYYY-MM-DD" and check it is a real date; *why receives the reason if not. */
static bool read_date(scan_t *s, int *y, int *m, int *d, const char **why)
{
    *why = "expected YYYY-MM-DD";
    if (!read_digits(s, 4, y) || !read_char(s, '-') || !read_digits(s, 2, m) ||
        !read_char(s, '-') || !read_digits(s, 2, d))
        return false;
    if (*m < 1 || *m > 12) {
        *why = "month out of range";
        return false;
    }
    if (*d < 1 || *d > month_length(*y, *m)) {
        *why = "day out of range for the month";
        return false;
    }
    return true;
}

/* Read "HH:MM:SS" into milliseconds of the day. */
static bool read_clock(scan_t *s, int64_t *ms, const char **why)
{
    int h, mi, sec;
    *why = "expected HH:MM:SS after the date";
    if (!read_digits(s, 2, &h) || !read_char(s, ':') || !read_digits(s, 2, &mi) ||
        !read_char(s, ':') || !read_digits(s, 2, &sec))
        return false;
    if (h > 23 || mi > 59 || sec > 59) {
        *why = h > 23 ? "hour out of range" : mi > 59 ? "minute out of range"
                                                      : "second out of range";
        return false;
    }
    *ms = ((int64_t)h * 3600 + mi * 60 + sec) * 1000;
    return true;
}

/* Read an optional ".f" of 1 to 9 digits; milliseconds are kept, finer digits truncated. */
static bool read_fraction(scan_t *s, int *ms, const char **why)
{
    *ms = 0;
    if (!read_char(s, '.'))
        return true;
    int n = 0, scale = 100;
    while (s->p[0] >= '0' && s->p[0] <= '9') {
        if (++n > 9) {
            *why = "more than 9 fractional digits";
            return false;
        }
        *ms += (s->p[0] - '0') * scale;
        scale /= 10;
        s->p++;
    }
    if (n == 0) {
        *why = "no digits after '.'";
        return false;
    }
    return true;
}

/* Read the mandatory offset: "Z", "+hh:mm", "-hh:mm", "+hhmm" or "-hhmm", in milliseconds. */
static bool read_offset(scan_t *s, int64_t *off, const char **why)
{
    *why = "expected an offset (Z, +hh:mm, -hh:mm or +hhmm)";
    if (read_char(s, 'Z')) {
        *off = 0;
        return true;
    }
    int sign = read_char(s, '+') ? 1 : read_char(s, '-') ? -1 : 0;
    int h, m;
    if (sign == 0 || !read_digits(s, 2, &h))
        return false;
    (void)read_char(s, ':');
    if (!read_digits(s, 2, &m))
        return false;
    if (h > 23 || m > 59) {
        *why = "offset out of range";
        return false;
    }
    *off = sign * ((int64_t)h * 3600 + m * 60) * 1000;
    return true;
}

/* Read a whole timestamp into epoch milliseconds; *why receives the reason on failure. */
static bool read_timestamp(scan_t *s, int64_t *epoch_ms, const char **why)
{
    int y, m, d, frac;
    int64_t clock_ms, off;
    if (!read_date(s, &y, &m, &d, why))
        return false;
    if (!read_char(s, 'T') && !read_char(s, ' ')) {
        *why = "expected 'T' or ' ' between date and time";
        return false;
    }
    if (!read_clock(s, &clock_ms, why) || !read_fraction(s, &frac, why) ||
        !read_offset(s, &off, why))
        return false;
    if (*s->p != '\0') {
        *why = "trailing characters";
        return false;
    }
    *epoch_ms = days_from_civil(y, m, d) * JC_DAY_MS + clock_ms + frac - off;
    return true;
}

jc_status_t jc_day_parse(const char *s, int32_t *day, jc_error_t *err)
{
    if (s == NULL || day == NULL)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "jc_day_parse: NULL argument");
    scan_t sc = {s};
    int y, m, d;
    const char *why;
    if (!read_date(&sc, &y, &m, &d, &why))
        return jc_error_set(err, JC_ERR_BAD_FIELD, "bad date '%.*s': %s", QUOTE_MAX, s, why);
    if (*sc.p != '\0')
        return jc_error_set(err, JC_ERR_BAD_FIELD, "bad date '%.*s': trailing characters",
                            QUOTE_MAX, s);
    *day = (int32_t)days_from_civil(y, m, d);
    return JC_OK;
}

jc_status_t jc_time_parse(const char *s, int64_t *epoch_ms, jc_error_t *err)
{
    if (s == NULL || epoch_ms == NULL)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "jc_time_parse: NULL argument");
    scan_t sc = {s};
    const char *why = "malformed";
    if (!read_timestamp(&sc, epoch_ms, &why))
        return jc_error_set(err, JC_ERR_BAD_FIELD, "bad timestamp '%.*s': %s", QUOTE_MAX, s,
                            why);
    return JC_OK;
}
