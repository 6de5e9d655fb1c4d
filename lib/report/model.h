/*
 * model.h: the report's data as the report modules share it (not installed).
 *
 * The report has a section per event type, in event-type order, each derived from the
 * aggregate description (jiceng/aggregates.h): its sum aggregate (the section's key, title and
 * view) and, if there is one, its distinct aggregate. A section's numbers are one array of raw
 * integers: the sum columns in description order, then the distinct count. Figures
 * (rp_figure_t) say how a reader sees them: a count is one raw value (labelled as the
 * description labels its column), a ratio or a mean is a quotient of two, so every renderer
 * derives the same numbers from the same raw integers and JSON and CSV keep the integers
 * themselves. Breakdowns (by hazard, role, base) hold the same layout per symbol. Ranking rows
 * and trend months hold the RP_NMETRICS metrics picked from the sections. defs.c holds what
 * the description does not say (the derived figures, the display order, the breakdowns'
 * symbol names, the metrics), all naming columns, and resolves the names once (rp_defs_init);
 * build.c fills a report from the views (query.c), and text.c, csv.c, json.c and html.c (with
 * svg.c) render it.
 */
#ifndef JC_REPORT_MODEL_H
#define JC_REPORT_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <libpq-fe.h>

#include "jiceng/aggregates.h"
#include "jiceng/buf.h"
#include "jiceng/report.h"

#define RP_NSECTIONS JC_EVENT_TYPE_COUNT       /* one section per event type, indexed by it */
#define RP_MAX_VALUES (JC_AGG_MAX_COLUMNS + 1) /* a section's sums, then its distinct count */
#define RP_MAX_DERIVED 8                       /* ratio and mean figures of one section */
#define RP_MAX_FIGURES (RP_MAX_VALUES + RP_MAX_DERIVED)
#define RP_MAX_SYMBOLS 8                       /* symbols of a breakdown's enum (static-checked) */
#define RP_TREND_MONTHS 12

/* ---- definitions (defs.c, resolved against the aggregate description by rp_defs_init) ---- */

typedef enum rp_kind {
    RP_COUNT, /* raw[num] */
    RP_RATIO, /* raw[num] / raw[den], shown as a percentage */
    RP_DAYS,  /* raw[num] / raw[den] / 86400: seconds per item, in days */
} rp_kind_t;

typedef struct rp_figure {
    const char *key;      /* JSON and CSV key */
    const char *zh, *en;  /* labels */
    rp_kind_t kind;
    int num, den;         /* raw indices */
    bool detail;          /* JSON and CSV only (a raw input of a rate) */
} rp_figure_t;

typedef struct rp_section_def {
    const char *key, *zh, *en;         /* the sum aggregate's */
    const jc_aggregate_t *sums;        /* report_<stem>[_prefecture|_province]_daily: raw[0..ncolumns) */
    const jc_aggregate_t *distinct;    /* report_<stem>, counted distinct: raw[sums->ncolumns]; or NULL */
    rp_figure_t figures[RP_MAX_FIGURES];
    size_t nfigures;
} rp_section_def_t;

typedef struct rp_symbol {
    const char *key, *zh, *en;
} rp_symbol_t;

typedef struct rp_breakdown_def {
    const char *key, *zh, *en;
    int section;                 /* an event type */
    const char *column;          /* the dimension grouped by */
    const rp_symbol_t *symbols;  /* the dimension's symbols, in the enum's order */
    size_t nsymbols;
    /* resolved by rp_defs_init: */
    bool with_distinct;          /* the distinct aggregate has the dimension too */
    int columns[RP_MAX_VALUES];  /* raw indices shown: the section's COUNT figures (not details) */
    size_t ncolumns;
} rp_breakdown_def_t;

enum { RP_BY_HAZARD, RP_BY_ROLE, RP_BY_BASE, RP_NBREAKDOWNS };

/* the metrics of ranking rows and trend months */
enum { M_CADRES, M_VISITS, M_PEOPLE, M_PETITIONS, M_RESOLVED, M_RESPONSES, M_COMPLETIONS,
       RP_NMETRICS };

typedef struct rp_metric {
    const char *key, *zh, *en;
    int section;                 /* an event type */
    const char *column;          /* a sum column or the distinct count's key */
    int index;                   /* its raw index (rp_defs_init) */
} rp_metric_t;

/* the figures of the HTML page's header band */
typedef struct rp_kpi {
    int section;                 /* an event type */
    const char *key, *label;     /* a figure's key; its short label */
    const rp_figure_t *figure;   /* resolved by rp_defs_init */
} rp_kpi_t;

#define RP_NKPIS 6

extern rp_section_def_t rp_sections[RP_NSECTIONS];
extern rp_breakdown_def_t rp_breakdowns[RP_NBREAKDOWNS];
extern rp_metric_t rp_metrics[RP_NMETRICS];
extern rp_kpi_t rp_kpis[RP_NKPIS];

/* Build the sections from the aggregate description and resolve every name the definitions
 * use, once (thread-safe); JC_ERR_INVALID_ARG naming what does not resolve. */
jc_status_t rp_defs_init(jc_error_t *err);

/* the figure of section s whose num is index i (a COUNT), or NULL */
const rp_figure_t *rp_count_figure(int s, int i);
/* the figure of section s with this key, or NULL */
const rp_figure_t *rp_find_figure(int s, const char *key);
/* a label without its unit: "转移群众(人)" -> "转移群众" */
const char *rp_short_label(const char *label, char *buf, size_t len);
/* names of levels: "province"/"prefecture"/"county" and 全省/市州/县 */
const char *rp_level_key(jc_region_level_t level);
const char *rp_level_zh(jc_region_level_t level);
const char *rp_period_kind_key(jc_period_kind_t kind);

/* ---- the report (build.c fills it) ---- */

typedef struct rp_place {
    int32_t code;
    char name_zh[64], name_pinyin[64];
} rp_place_t;

typedef struct rp_county {
    rp_place_t county, prefecture;
} rp_county_t;

typedef struct rp_row {
    rp_place_t place;
    int rank;
    int64_t cur[RP_NMETRICS], prev[RP_NMETRICS];
} rp_row_t;

typedef struct rp_month {
    char month[8]; /* "YYYY-MM" */
    int64_t v[RP_NMETRICS];
} rp_month_t;

/* A consumer group's row of report_freshness: lag is end offsets - next offsets, the end
 * offsets as a running consumer of the group last observed them (the oldest part at
 * lag_observed_ms, lag_age_ms before the query); with no consumer running the age grows. */
typedef struct rp_fresh {
    char group_id[256];
    int64_t topics, partitions, lag;
    bool has_newest, has_updated, has_lag_age;
    int64_t newest_ms, updated_ms;        /* newest event applied, last flush */
    int64_t lag_observed_ms, lag_age_ms;  /* when the lag figure was observed, and its age */
} rp_fresh_t;

struct jc_report {
    jc_region_t region;
    jc_period_t period, previous, trend;
    rp_place_t place;                 /* the region's names */
    jc_region_level_t row_level;      /* what the ranking rows are */
    int64_t generated_ms;
    rp_county_t *counties;            /* the region's counties, by code */
    size_t ncounties;
    int64_t raw[RP_NSECTIONS][RP_MAX_VALUES];
    int64_t breakdown[RP_NBREAKDOWNS][RP_MAX_SYMBOLS][RP_MAX_VALUES];
    rp_row_t *rows;                   /* ranked */
    size_t nrows;
    bool *silent[RP_NSECTIONS];       /* per county: reported nothing of that type */
    rp_month_t months[RP_TREND_MONTHS];
    rp_fresh_t *fresh;
    size_t nfresh;
    /* provenance (issue 13, item 3; provenance.c): the generation read and its offsets */
    int generation;
    char *offsets;                    /* JSON object text {"topic/partition": next offset} */
    int64_t offsets_partitions, offsets_messages;
};

/* ---- provenance (issue 13, item 3; provenance.c) ---- */

/* The generation and offsets the report reflects, from jiceng.report_generation (in the
 * report's transaction). */
jc_status_t rp_fetch_provenance(PGconn *c, jc_report_t *r, jc_error_t *err);
/* The footer line of the text and HTML: generation, messages and partitions. */
const char *rp_provenance_text(const jc_report_t *r, char *buf, size_t len);
/* Record the run in jiceng.report_runs: period, region, format, generation, offsets and the
 * SHA-256 of the output in format. */
jc_status_t rp_record_run(PGconn *c, const jc_report_t *r, jc_report_format_t format, jc_error_t *err);

/* ---- derived values ---- */

/* the figure's value, false when its denominator is 0 (a count is always defined) */
bool rp_figure_value(const rp_figure_t *f, const int64_t *raw, double *out);
/* the figure as a reader sees it: 2.32万, 87.6%, 9.3 (days) or — */
const char *rp_figure_text(const rp_figure_t *f, const int64_t *raw, char *buf, size_t len);
/* counties silent for section s, and the number of them */
size_t rp_silent_count(const jc_report_t *r, int s);

/* The freshness of the whole report: the consumer lag summed over groups, the age of its
 * oldest part (*lag_age_ms, -1 if no group has a lag figure) and the newest event any group
 * applied (*newest_ms). false if nothing was aggregated yet. */
bool rp_freshness_total(const jc_report_t *r, int64_t *lag, int64_t *lag_age_ms, int64_t *newest_ms);
/* The lag figure as the text and HTML formats show it: "1234 条 messages (观测于 12 s 前
 * observed 12 s ago)", or "— (no consumer has observed the topics)" without an age. */
const char *rp_lag_text(int64_t lag, int64_t lag_age_ms, char *buf, size_t len);
/* "2026-01-31 23:59:58" (Asia/Shanghai) */
const char *rp_time_text(int64_t ms, char *buf, size_t len);
/* the period as "2026-01-01 — 2026-01-31" */
const char *rp_range_text(jc_period_t p, char *buf, size_t len);
/* the period as "2026年1月 (2026-01-01 — 2026-01-31, 31 天)" or "2026-01-05 至 2026-01-20 (16 天)" */
const char *rp_period_text(jc_period_t p, char *buf, size_t len);

/* ---- renderers ---- */

jc_status_t rp_write_text(const jc_report_t *r, FILE *out, jc_error_t *err);
jc_status_t rp_write_csv(const jc_report_t *r, FILE *out, jc_error_t *err);
jc_status_t rp_write_json(const jc_report_t *r, FILE *out, jc_error_t *err);
jc_status_t rp_write_html(const jc_report_t *r, FILE *out, jc_error_t *err);

/* SVG charts for the HTML page (svg.c), appended to b */
jc_status_t rp_svg_trend(const jc_report_t *r, int metric, jc_buf_t *b);
jc_status_t rp_svg_ranking(const jc_report_t *r, jc_buf_t *b);

/* append printf-style text to b (JC_ERR_NOMEM) */
jc_status_t rp_appendf(jc_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* append s to b with HTML's special characters escaped */
jc_status_t rp_append_html(jc_buf_t *b, const char *s);

/* A renderer's parts, in the order every format lays a report out: the header, each headline
 * section s (0..RP_NSECTIONS-1), then the ranking, trend, silence and freshness sections
 * (numbered n from RP_NSECTIONS on, for headings) and the notes. */
typedef struct rp_layout {
    jc_status_t (*header)(const jc_report_t *r, jc_buf_t *b);
    jc_status_t (*section)(const jc_report_t *r, int s, jc_buf_t *b);
    jc_status_t (*ranking)(const jc_report_t *r, int n, jc_buf_t *b);
    jc_status_t (*trend)(const jc_report_t *r, int n, jc_buf_t *b);
    jc_status_t (*silence)(const jc_report_t *r, int n, jc_buf_t *b);
    jc_status_t (*freshness)(const jc_report_t *r, int n, jc_buf_t *b);
    jc_status_t (*notes)(const jc_report_t *r, jc_buf_t *b);
} rp_layout_t;

/* Compose the report into b through a renderer's parts, then write it to out (what names the
 * format in messages). */
jc_status_t rp_render(const jc_report_t *r, const rp_layout_t *layout, FILE *out,
                      const char *what, jc_error_t *err);

/* Write a renderer's composed buffer b (what names the format) to out and free it; compose_st
 * is the status composing it ended with (only out of memory can fail there). */
jc_status_t rp_write_composed(jc_buf_t *b, jc_status_t compose_st, FILE *out, const char *what,
                              jc_error_t *err);

#endif
