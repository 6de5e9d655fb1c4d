/*
 * build.c: reading a report from the report views (jc_report_build, jc_report_free).
 *
 * All reads run in one read-only, repeatable-read transaction, so the headline, the table and
 * the trend agree with each other even while the consumer keeps flushing. The region decides
 * the scopes (query.h): the headline reads the region's own roll-up view (province, prefecture
 * or county level); the ranking reads the level below grouped by its code (prefectures for the
 * province, counties otherwise); distinct counts always come from the distinct rows, so they
 * are exact at every level.
 */
#include <stdlib.h>
#include <string.h>

#include "jiceng/jtime.h"
#include "model.h"
#include "query.h"

/* The region's own scope: its roll-up view and its rows. */
static rp_scope_t region_scope(const jc_region_t *g)
{
    if (g->level == JC_REGION_PROVINCE)
        return (rp_scope_t){"_province", NULL, 0};
    if (g->level == JC_REGION_PREFECTURE)
        return (rp_scope_t){"_prefecture", "prefecture_code", g->code};
    return (rp_scope_t){"", "county_code", g->code};
}

/* The region's rows in the per-county views. */
static rp_scope_t county_scope(const jc_region_t *g)
{
    rp_scope_t s = region_scope(g);
    s.infix = "";
    return s;
}

/* The ranking's scope (the level below the region, or the county itself) and its key. */
static rp_scope_t row_scope(const jc_region_t *g, const char **key)
{
    rp_scope_t s = county_scope(g);
    *key = "county_code";
    if (g->level == JC_REGION_PROVINCE) {
        s.infix = "_prefecture";
        *key = "prefecture_code";
    }
    return s;
}

static void pick_metrics(int s, const int64_t *raw, int64_t *metrics)
{
    for (int m = 0; m < RP_NMETRICS; m++)
        if (rp_metrics[m].section == s)
            metrics[m] = raw[rp_metrics[m].index];
}

/* ---- the region and its counties ---- */

static void name_region(jc_report_t *r)
{
    r->place.code = r->region.code;
    if (r->region.level == JC_REGION_PROVINCE) {
        snprintf(r->place.name_zh, sizeof r->place.name_zh, "贵州省");
        snprintf(r->place.name_pinyin, sizeof r->place.name_pinyin, "Guizhou");
    } else if (r->region.level == JC_REGION_PREFECTURE) {
        r->place = r->counties[0].prefecture;
    } else {
        r->place = r->counties[0].county;
    }
}

static jc_status_t load_counties(PGconn *c, jc_report_t *r, jc_error_t *err)
{
    rp_scope_t scope = county_scope(&r->region);
    jc_status_t st = rp_fetch_counties(c, &scope, &r->counties, &r->ncounties, err);
    if (st == JC_OK && r->ncounties == 0)
        return jc_error_set(err, JC_ERR_PG, "report: jiceng.report_counties has no county of %s %d "
                            "(is the database migrated?)", rp_level_key(r->region.level), (int)r->region.code);
    if (st == JC_OK)
        name_region(r);
    return st;
}

/* ---- headline and breakdowns ---- */

static jc_status_t load_headline(PGconn *c, jc_report_t *r, jc_error_t *err)
{
    rp_scope_t scope = region_scope(&r->region);
    jc_status_t st = JC_OK;
    for (int s = 0; st == JC_OK && s < RP_NSECTIONS; s++) {
        rp_groups_t g = {0};
        st = rp_fetch(c, s, "'all'", &scope, true, r->period, &g, err);
        const rp_group_t *all = rp_groups_find(&g, "all");
        if (st == JC_OK && all != NULL)
            memcpy(r->raw[s], all->v, sizeof r->raw[s]);
        rp_groups_free(&g);
    }
    return st;
}

static jc_status_t load_breakdown(PGconn *c, jc_report_t *r, int b, jc_error_t *err)
{
    const rp_breakdown_def_t *d = &rp_breakdowns[b];
    rp_scope_t scope = region_scope(&r->region);
    rp_groups_t g = {0};
    jc_status_t st = rp_fetch(c, d->section, d->column, &scope, d->with_distinct, r->period, &g, err);
    for (size_t i = 0; st == JC_OK && i < d->nsymbols; i++) {
        const rp_group_t *one = rp_groups_find(&g, d->symbols[i].key);
        if (one != NULL)
            memcpy(r->breakdown[b][i], one->v, sizeof r->breakdown[b][i]);
    }
    rp_groups_free(&g);
    return st;
}

/* ---- ranking ---- */

static bool has_row(const jc_report_t *r, int32_t code)
{
    for (size_t i = 0; i < r->nrows; i++)
        if (r->rows[i].place.code == code)
            return true;
    return false;
}

static jc_status_t make_rows(jc_report_t *r)
{
    r->rows = calloc(r->ncounties, sizeof *r->rows);
    if (r->rows == NULL)
        return JC_ERR_NOMEM;
    r->row_level = r->region.level == JC_REGION_PROVINCE ? JC_REGION_PREFECTURE : JC_REGION_COUNTY;
    for (size_t i = 0; i < r->ncounties; i++) {
        const rp_place_t *p = r->row_level == JC_REGION_PREFECTURE ? &r->counties[i].prefecture
                                                                   : &r->counties[i].county;
        if (!has_row(r, p->code))
            r->rows[r->nrows++].place = *p;
    }
    return JC_OK;
}

static jc_status_t fill_rows(PGconn *c, jc_report_t *r, jc_period_t p, bool previous, jc_error_t *err)
{
    const char *key;
    rp_scope_t scope = row_scope(&r->region, &key);
    jc_status_t st = JC_OK;
    for (int s = 0; st == JC_OK && s < RP_NSECTIONS; s++) {
        rp_groups_t g = {0};
        st = rp_fetch(c, s, key, &scope, true, p, &g, err);
        for (size_t i = 0; st == JC_OK && i < r->nrows; i++) {
            char code[16];
            snprintf(code, sizeof code, "%d", (int)r->rows[i].place.code);
            const rp_group_t *one = rp_groups_find(&g, code);
            if (one != NULL)
                pick_metrics(s, one->v, previous ? r->rows[i].prev : r->rows[i].cur);
        }
        rp_groups_free(&g);
    }
    return st;
}

static int by_cadres(const void *a, const void *b)
{
    const rp_row_t *x = a, *y = b;
    if (x->cur[M_CADRES] != y->cur[M_CADRES])
        return x->cur[M_CADRES] > y->cur[M_CADRES] ? -1 : 1;
    return x->place.code < y->place.code ? -1 : x->place.code > y->place.code;
}

/* Sort by distinct cadres, most first; equal numbers share a rank (1, 2, 2, 4). */
static void rank_rows(jc_report_t *r)
{
    qsort(r->rows, r->nrows, sizeof *r->rows, by_cadres);
    for (size_t i = 0; i < r->nrows; i++)
        r->rows[i].rank = i > 0 && r->rows[i].cur[M_CADRES] == r->rows[i - 1].cur[M_CADRES]
                              ? r->rows[i - 1].rank : (int)i + 1;
}

static jc_status_t load_ranking(PGconn *c, jc_report_t *r, jc_error_t *err)
{
    if (make_rows(r) != JC_OK)
        return jc_error_set(err, JC_ERR_NOMEM, "report: out of memory");
    jc_status_t st = fill_rows(c, r, r->period, false, err);
    if (st == JC_OK)
        st = fill_rows(c, r, r->previous, true, err);
    if (st == JC_OK)
        rank_rows(r);
    return st;
}

/* ---- trend, silence, freshness ---- */

static jc_status_t load_trend(PGconn *c, jc_report_t *r, jc_error_t *err)
{
    rp_scope_t scope = region_scope(&r->region);
    jc_status_t st = JC_OK;
    for (int i = 0; i < RP_TREND_MONTHS; i++) {
        char day[16];
        jc_day_format(jc_month_add(r->trend.from, i), day, sizeof day);
        snprintf(r->months[i].month, sizeof r->months[i].month, "%.7s", day);
    }
    for (int s = 0; st == JC_OK && s < RP_NSECTIONS; s++) {
        rp_groups_t g = {0};
        st = rp_fetch(c, s, "to_char(day, 'YYYY-MM')", &scope, true, r->trend, &g, err);
        for (int i = 0; st == JC_OK && i < RP_TREND_MONTHS; i++) {
            const rp_group_t *one = rp_groups_find(&g, r->months[i].month);
            if (one != NULL)
                pick_metrics(s, one->v, r->months[i].v);
        }
        rp_groups_free(&g);
    }
    return st;
}

/* Whether a county's row of section s reports anything in force: a row whose every figure is
 * 0 but for the corrections' own counts (its events were all moved to other days, or
 * withdrawn) is no report, and the county stays silent. */
static bool reports_something(int s, const rp_group_t *g)
{
    const jc_aggregate_t *a = rp_sections[s].sums;
    for (int i = 0; g != NULL && i < a->ncolumns; i++)
        if (a->columns[i].op != JC_AGG_CORRECTED && a->columns[i].op != JC_AGG_WITHDRAWN &&
            g->v[i] != 0)
            return true;
    return false;
}

static jc_status_t load_silence(PGconn *c, jc_report_t *r, jc_error_t *err)
{
    rp_scope_t scope = county_scope(&r->region);
    jc_status_t st = JC_OK;
    for (int s = 0; st == JC_OK && s < RP_NSECTIONS; s++) {
        rp_groups_t g = {0};
        r->silent[s] = calloc(r->ncounties, sizeof *r->silent[s]);
        st = r->silent[s] ? rp_fetch(c, s, "county_code", &scope, false, r->period, &g, err)
                          : jc_error_set(err, JC_ERR_NOMEM, "report: out of memory");
        for (size_t i = 0; st == JC_OK && i < r->ncounties; i++) {
            char code[16];
            snprintf(code, sizeof code, "%d", (int)r->counties[i].county.code);
            r->silent[s][i] = !reports_something(s, rp_groups_find(&g, code));
        }
        rp_groups_free(&g);
    }
    return st;
}

/* ---- the whole report ---- */

static jc_status_t load_all(PGconn *c, jc_report_t *r, jc_error_t *err)
{
    jc_status_t st = rp_fetch_provenance(c, r, err); /* issue 13, item 3: same transaction */
    if (st == JC_OK)
        st = load_counties(c, r, err);
    if (st == JC_OK)
        st = load_headline(c, r, err);
    for (int b = 0; st == JC_OK && b < RP_NBREAKDOWNS; b++)
        st = load_breakdown(c, r, b, err);
    if (st == JC_OK)
        st = load_ranking(c, r, err);
    if (st == JC_OK)
        st = load_trend(c, r, err);
    if (st == JC_OK)
        st = load_silence(c, r, err);
    if (st == JC_OK)
        st = rp_fetch_freshness(c, &r->fresh, &r->nfresh, err);
    return st;
}

jc_status_t jc_report_build(PGconn *c, const jc_region_t *region, const jc_period_t *period,
                            jc_report_t **out, jc_error_t *err)
{
    if (rp_defs_init(err) != JC_OK)
        return JC_ERR_INVALID_ARG;
    jc_report_t *r = calloc(1, sizeof *r);
    if (r == NULL)
        return jc_error_set(err, JC_ERR_NOMEM, "report: out of memory");
    r->region = *region;
    r->period = *period;
    r->previous = jc_period_previous(*period);
    r->trend = (jc_period_t){JC_PERIOD_RANGE, jc_month_add(period->to, -(RP_TREND_MONTHS - 1)), period->to};
    r->generated_ms = jc_now_ms();
    jc_status_t st = rp_exec(c, "begin transaction isolation level repeatable read read only", err);
    if (st == JC_OK)
        st = load_all(c, r, err);
    if (st == JC_OK)
        st = rp_exec(c, "commit", err);
    else
        PQclear(PQexec(c, "rollback"));
    if (st != JC_OK) {
        jc_report_free(r);
        return st;
    }
    *out = r;
    return JC_OK;
}

void jc_report_free(jc_report_t *r)
{
    if (r == NULL)
        return;
    for (int s = 0; s < RP_NSECTIONS; s++)
        free(r->silent[s]);
    free(r->counties);
    free(r->rows);
    free(r->fresh);
    free(r->offsets);
    free(r);
}
