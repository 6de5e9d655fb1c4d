/*
 * jiceng/report.h: the provincial leadership's report, built from the report views.
 *
 * A report covers one period (a range of local days, a calendar month or a year) and one region
 * (the province, a prefecture or a county). jc_report_build reads it from the report views of
 * schemas/sql/002_report_views.sql, as the read-only role jiceng_report: the headline figures
 * as the province publishes them (distinct cadres who went down, visits, people met, petitions
 * received and resolved, disaster responses by hazard, training completions by role and base,
 * ...), a table of the region's prefectures (or of a prefecture's counties) ranked by distinct
 * cadres with the previous period beside it, the counties that reported nothing of a type, a
 * twelve-month trend and the freshness of the aggregates. Distinct counts are counted over the
 * views' distinct (county, day, id) rows, so they are exact for any period and region.
 * jc_report_write renders it as aligned terminal text, CSV, JSON (keys documented in
 * docs/report-json.md) or a self-contained HTML page with inline SVG charts.
 *
 * The number and text helpers at the end are what the text and HTML renderers use: Chinese
 * magnitudes (29.9万, 1.2亿) and display widths (a CJK character takes two terminal columns).
 */
#ifndef JICENG_REPORT_H
#define JICENG_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <libpq-fe.h>

#include "jiceng/buf.h"
#include "jiceng/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- regions ------------------------------------------------------------------------------ */

/** How much of the province a report covers. */
typedef enum jc_region_level {
    JC_REGION_PROVINCE,   /**< all 88 counties; the table lists the 9 prefectures */
    JC_REGION_PREFECTURE, /**< one prefecture; the table lists its counties */
    JC_REGION_COUNTY,     /**< one county; the table is that county alone */
} jc_region_level_t;

/** A region: its level and six-digit code (JC_PROVINCE_CODE for the province). */
typedef struct jc_region {
    jc_region_level_t level;
    int32_t code;
} jc_region_t;

/** Guizhou's own administrative code. */
#define JC_PROVINCE_CODE 520000

/** The region the options name: --county CODE, else --prefecture CODE, else the province (both
 *  NULL). A code must be a current county or prefecture of the built-in reference data, and a
 *  county given with a prefecture must belong to it; otherwise JC_ERR_INVALID_ARG naming it. */
JC_API jc_status_t jc_region_from_options(const char *prefecture, const char *county,
                                          jc_region_t *out, jc_error_t *err);

/* ---- periods ------------------------------------------------------------------------------ */

/** What kind of period a report covers; it decides what "the previous period" is. */
typedef enum jc_period_kind {
    JC_PERIOD_RANGE, /**< any range of days; the previous one is as long and ends the day before */
    JC_PERIOD_MONTH, /**< a calendar month; the previous one is the month before */
    JC_PERIOD_YEAR,  /**< a calendar year; the previous one is the year before */
} jc_period_kind_t;

/** A period: local (Asia/Shanghai) days since 1970-01-01, from and to inclusive. */
typedef struct jc_period {
    jc_period_kind_t kind;
    int32_t from, to;
} jc_period_t;

/** The period the options name: from and to (YYYY-MM-DD, both or neither), month (YYYY-MM) or
 *  year (YYYY), at most one of the three; none: the last full calendar month before today (a
 *  day number, e.g. jc_local_day(jc_now_ms())). JC_ERR_INVALID_ARG for a malformed or impossible
 *  date, a day outside the days a report covers (2000-01-01, the contract's earliest, to
 *  2099-12-31), to before from, or more than one kind given. */
JC_API jc_status_t jc_period_from_options(const char *from, const char *to, const char *month,
                                          const char *year, int32_t today, jc_period_t *out,
                                          jc_error_t *err);

/** The period a report compares with: the month before a month, the year before a year, and
 *  for a range the range of the same length that ends the day before it starts. */
JC_API jc_period_t jc_period_previous(jc_period_t p);

/** The first day of the month day falls in. */
JC_API int32_t jc_month_first_day(int32_t day);

/** The first day of the month months after (or, negative, before) the month day falls in. */
JC_API int32_t jc_month_add(int32_t day, int months);

/** How a reader names the period: "2026年1月" for a month, "2026年" for a year, "2026-01-05 至
 *  2026-01-20" for a range; into buf (64 bytes is enough). Returns buf. */
JC_API const char *jc_period_label(jc_period_t p, char *buf, size_t len);

/* ---- the report --------------------------------------------------------------------------- */

/** Output formats. */
typedef enum jc_report_format {
    JC_REPORT_TEXT, /**< aligned terminal text (UTF-8, CJK characters two columns wide) */
    JC_REPORT_CSV,  /**< one figure a row, raw integers */
    JC_REPORT_JSON, /**< the keys of docs/report-json.md, raw integers */
    JC_REPORT_HTML, /**< one self-contained page, inline CSS and SVG, no script, no external asset */
} jc_report_format_t;

/** "text", "csv", "json" or "html" into *out; JC_ERR_INVALID_ARG naming anything else. */
JC_API jc_status_t jc_report_format_parse(const char *name, jc_report_format_t *out,
                                          jc_error_t *err);

typedef struct jc_report jc_report_t;

/** Read the report for region and period through c (a connection that can read the report
 *  views: the role jiceng_report is enough). The queries run in one read-only repeatable-read
 *  transaction, so every figure comes from the same snapshot. JC_ERR_PG naming the query on a
 *  database error (e.g. the views are missing: migrations not applied), JC_ERR_NOMEM. */
JC_API jc_status_t jc_report_build(PGconn *c, const jc_region_t *region, const jc_period_t *period,
                                   jc_report_t **out, jc_error_t *err);

/** Render the report to out. JC_ERR_IO if writing fails, JC_ERR_NOMEM. */
JC_API jc_status_t jc_report_write(const jc_report_t *r, jc_report_format_t format, FILE *out,
                                   jc_error_t *err);

/** Release a report (NULL is fine). */
JC_API void jc_report_free(jc_report_t *r);

/** Everything a report run needs (what jiceng-report's options resolve to). */
typedef struct jc_report_options {
    const char *conninfo;      /**< libpq conninfo or URI of the read-only report role */
    jc_region_t region;
    jc_period_t period;
    jc_report_format_t format;
    const char *output;        /**< file to write (replaced atomically); NULL or "-": stdout */
} jc_report_options_t;

/** Connect, build the report, write it, disconnect. JC_ERR_PG with libpq's reason when the
 *  database cannot be reached or read, JC_ERR_IO when the output cannot be written (a file
 *  output is written to a temporary file beside it and renamed, so it is never half written). */
JC_API jc_status_t jc_report_run(const jc_report_options_t *o, jc_error_t *err);

/* ---- numbers and text for readers --------------------------------------------------------- */

/** v as a Chinese reader writes it: below 10,000 plain digits ("8600"); from 万 (10^4) or 亿
 *  (10^8) on, the number of those units with three significant digits, trailing zeros dropped
 *  ("2.32万", "29.9万", "299万", "1.2亿"; 99,999,999 rounds up to "1亿"). Negative values keep
 *  their sign. Into buf (24 bytes is enough); returns buf. */
JC_API const char *jc_format_cn(int64_t v, char *buf, size_t len);

/** v with thousands separators ("299,000"); into buf (28 bytes is enough); returns buf. */
JC_API const char *jc_format_grouped(int64_t v, char *buf, size_t len);

/** num / den as a percentage with one decimal ("87.6%"), or "—" when den is 0. */
JC_API const char *jc_format_percent(int64_t num, int64_t den, char *buf, size_t len);

/** The change from prev to cur as a signed percentage with one decimal ("+3.2%", "-4.0%",
 *  "+0.0%"); "新增" (new) when prev is 0 and cur is not, "—" when both are 0. */
JC_API const char *jc_format_change(int64_t cur, int64_t prev, char *buf, size_t len);

/** The columns a UTF-8 string takes on a terminal: two for each East Asian wide or fullwidth
 *  character (CJK ideographs, kana, hangul, fullwidth forms, ...), none for combining marks and
 *  zero-width characters, one for anything else (an invalid byte counts as one column). */
JC_API size_t jc_display_width(const char *s);

/** Alignment for jc_text_pad. */
typedef enum jc_align { JC_ALIGN_LEFT, JC_ALIGN_RIGHT } jc_align_t;

/** Append s to b padded with spaces to width display columns (s is never cut: wider text
 *  overflows). */
JC_API jc_status_t jc_text_pad(jc_buf_t *b, const char *s, size_t width, jc_align_t align);

#ifdef __cplusplus
}
#endif
#endif
