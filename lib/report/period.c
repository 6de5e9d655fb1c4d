/*
 * period.c: report periods and regions from command-line options (jiceng/report.h).
 *
 * Days are the day numbers of jiceng/jtime.h; calendar arithmetic goes through its text form
 * (jc_day_format / jc_day_parse), so the calendar lives in one place: a month is counted as
 * year * 12 + month - 1, and a month's first day is parsed back from "YYYY-MM-01".
 *
 * A period given on the command line must lie within the days a report covers: from the
 * contract's earliest time (JC_EARLIEST_EVENT_MS: no event is older) to LAST_DAY. Beyond those
 * a report could only be empty, and its previous period (as long, just before it) would leave
 * the calendar the database and the text forms share; a period outside them is a usage error
 * that names the bounds, never a query.
 */
#include <stdio.h>
#include <string.h>

#include "jiceng/jtime.h"
#include "jiceng/reference.h"
#include "jiceng/report.h"
#include "jiceng/validate.h"

/* The last day a report covers: the end of the century that starts at the contract's floor. A
 * later day is a typo, and the cap keeps the longest period's previous period (as long, just
 * before it) at ordinary four-digit dates (from 1899-12-31 on). */
#define LAST_DAY "2099-12-31"

/* The calendar month of day as year * 12 + (month - 1). */
static int month_index(int32_t day)
{
    char text[48];
    int y = 0, m = 1;
    jc_day_format(day, text, sizeof text);
    sscanf(text, "%d-%d", &y, &m);
    return y * 12 + m - 1;
}

/* The first day of a month index (years from 1 on: the text is always a valid date). */
static int32_t month_start(int index)
{
    char text[48];
    int32_t day = 0;
    snprintf(text, sizeof text, "%04d-%02d-01", index / 12, index % 12 + 1);
    jc_day_parse(text, &day, NULL);
    return day;
}

int32_t jc_month_first_day(int32_t day)
{
    return month_start(month_index(day));
}

int32_t jc_month_add(int32_t day, int months)
{
    return month_start(month_index(day) + months);
}

/* JC_OK if day is among the days a report covers; else a usage error naming what, as given
 * (shown), and the bounds. */
static jc_status_t check_covered(const char *what, const char *shown, int32_t day,
                                 jc_error_t *err)
{
    int32_t first = jc_local_day(JC_EARLIEST_EVENT_MS), last = 0;
    char a[16], b[16];
    if (jc_day_parse(LAST_DAY, &last, err) != JC_OK)
        return JC_ERR_INVALID_ARG;
    if (day >= first && day <= last)
        return JC_OK;
    jc_day_format(first, a, sizeof a);
    jc_day_format(last, b, sizeof b);
    return jc_error_set(err, JC_ERR_INVALID_ARG, "%s: '%s' is outside the days a report covers, "
                        "%s to %s (no event may be earlier than %s)", what, shown, a, b, a);
}

/* The day of "YYYY-MM-DD" s, among the days a report covers; what and shown name it in errors. */
static jc_status_t parse_day(const char *what, const char *shown, const char *s, int32_t *day,
                             jc_error_t *err)
{
    if (jc_day_parse(s, day, NULL) != JC_OK)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "%s: '%s' is not a date YYYY-MM-DD", what, s);
    return check_covered(what, shown, *day, err);
}

static jc_status_t parse_month(const char *s, jc_period_t *p, jc_error_t *err)
{
    char text[48];
    int y = 0, m = 0;
    char extra;
    if (strlen(s) != 7 || s[4] != '-' || sscanf(s, "%4d-%2d%c", &y, &m, &extra) != 2 || m < 1 || m > 12)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "month: '%s' is not YYYY-MM", s);
    snprintf(text, sizeof text, "%04d-%02d-01", y, m);
    if (parse_day("month", s, text, &p->from, err) != JC_OK)
        return JC_ERR_INVALID_ARG;
    p->kind = JC_PERIOD_MONTH;
    p->to = jc_month_add(p->from, 1) - 1;
    return check_covered("month", s, p->to, err);
}

static jc_status_t parse_year(const char *s, jc_period_t *p, jc_error_t *err)
{
    char text[48];
    int y = 0;
    char extra;
    if (strlen(s) != 4 || sscanf(s, "%4d%c", &y, &extra) != 1 || y < 1)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "year: '%s' is not YYYY", s);
    snprintf(text, sizeof text, "%04d-01-01", y);
    if (parse_day("year", s, text, &p->from, err) != JC_OK)
        return JC_ERR_INVALID_ARG;
    p->kind = JC_PERIOD_YEAR;
    p->to = jc_month_add(p->from, 12) - 1;
    return check_covered("year", s, p->to, err);
}

static jc_status_t parse_range(const char *from, const char *to, jc_period_t *p, jc_error_t *err)
{
    if (from == NULL || to == NULL)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "from and to go together");
    if (parse_day("from", from, from, &p->from, err) != JC_OK ||
        parse_day("to", to, to, &p->to, err) != JC_OK)
        return JC_ERR_INVALID_ARG;
    if (p->to < p->from)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "to %s is before from %s", to, from);
    p->kind = JC_PERIOD_RANGE;
    return JC_OK;
}

jc_status_t jc_period_from_options(const char *from, const char *to, const char *month,
                                   const char *year, int32_t today, jc_period_t *out, jc_error_t *err)
{
    int kinds = (from != NULL || to != NULL) + (month != NULL) + (year != NULL);
    if (kinds > 1)
        return jc_error_set(err, JC_ERR_INVALID_ARG,
                            "give one period: from and to, a month or a year");
    if (month != NULL)
        return parse_month(month, out, err);
    if (year != NULL)
        return parse_year(year, out, err);
    if (kinds == 1)
        return parse_range(from, to, out, err);
    out->kind = JC_PERIOD_MONTH;
    out->to = jc_month_first_day(today) - 1;
    out->from = jc_month_first_day(out->to);
    return JC_OK;
}

jc_period_t jc_period_previous(jc_period_t p)
{
    jc_period_t prev = {p.kind, 0, p.from - 1};
    if (p.kind == JC_PERIOD_MONTH)
        prev.from = jc_month_add(p.from, -1);
    else if (p.kind == JC_PERIOD_YEAR)
        prev.from = jc_month_add(p.from, -12);
    else
        prev.from = p.from - (p.to - p.from + 1);
    return prev;
}

const char *jc_period_label(jc_period_t p, char *buf, size_t len)
{
    char a[16], b[16];
    jc_day_format(p.from, a, sizeof a);
    jc_day_format(p.to, b, sizeof b);
    if (p.kind == JC_PERIOD_MONTH)
        snprintf(buf, len, "%.4s年%d月", a, (a[5] - '0') * 10 + (a[6] - '0'));
    else if (p.kind == JC_PERIOD_YEAR)
        snprintf(buf, len, "%.4s年", a);
    else
        snprintf(buf, len, "%s 至 %s", a, b);
    return buf;
}

/* ---- regions ---- */

static jc_status_t parse_code(const char *what, const char *s, int32_t *code, jc_error_t *err)
{
    int v = 0;
    char extra;
    if (strlen(s) != 6 || sscanf(s, "%6d%c", &v, &extra) != 1)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "%s: '%s' is not a six-digit code", what, s);
    *code = v;
    return JC_OK;
}

jc_status_t jc_region_from_options(const char *prefecture, const char *county, jc_region_t *out,
                                   jc_error_t *err)
{
    int32_t pcode = 0, ccode = 0;
    if (jc_reference_init(err) != JC_OK)
        return JC_ERR_PARSE;
    if (prefecture != NULL && parse_code("prefecture", prefecture, &pcode, err) != JC_OK)
        return JC_ERR_INVALID_ARG;
    if (county != NULL && parse_code("county", county, &ccode, err) != JC_OK)
        return JC_ERR_INVALID_ARG;
    if (prefecture != NULL && jc_prefecture_by_code(pcode) == NULL)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "prefecture %s: no such prefecture", prefecture);
    const jc_county_t *c = county != NULL ? jc_county_by_code(ccode) : NULL;
    if (county != NULL && c == NULL)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "county %s: no such county (current codes only)", county);
    if (c != NULL && prefecture != NULL && c->prefecture_code != pcode)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "county %s is not in prefecture %s", county, prefecture);
    if (c != NULL)
        *out = (jc_region_t){JC_REGION_COUNTY, ccode};
    else if (prefecture != NULL)
        *out = (jc_region_t){JC_REGION_PREFECTURE, pcode};
    else
        *out = (jc_region_t){JC_REGION_PROVINCE, JC_PROVINCE_CODE};
    return JC_OK;
}
