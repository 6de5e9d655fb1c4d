/*
 * csv.c: the report as CSV, one value a row (long format), raw integers.
 *
 * Columns: section,subject,code,name_zh,name_pinyin,metric,value,previous. A headline figure is
 * (section key, "", ..., figure key, value); a breakdown cell (section.breakdown, symbol, ...,
 * column, value); a ranking cell (ranking, rank, code, names, metric, value, previous period's
 * value); a trend cell (trend, YYYY-MM, ..., metric, value); a silent county (silent_counties,
 * section key, code, names); freshness (freshness, group, ..., metric, value); the first rows
 * (report, ...) say what the report covers. Ratios are fractions (%.17g), empty when their
 * denominator is 0. Fields are quoted by libcsv only when they need it.
 */
#include <csv.h>
#include <string.h>

#include "jiceng/jtime.h"
#include "model.h"

typedef struct row {
    const char *section, *subject;
    int32_t code; /* 0: empty */
    const char *name_zh, *name_pinyin, *metric;
    char value[64], previous[64];
} row_t;

static int field(FILE *out, const char *s, int last)
{
    int rc = strpbrk(s, ",\"\r\n") ? csv_fwrite(out, s, strlen(s)) : (fputs(s, out) == EOF ? EOF : 0);
    return rc == EOF || fputc(last ? '\n' : ',', out) == EOF;
}

static int emit(FILE *out, const row_t *r)
{
    char code[16] = "";
    if (r->code != 0)
        snprintf(code, sizeof code, "%d", (int)r->code);
    return field(out, r->section, 0) | field(out, r->subject, 0) | field(out, code, 0) |
           field(out, r->name_zh, 0) | field(out, r->name_pinyin, 0) | field(out, r->metric, 0) |
           field(out, r->value, 0) | field(out, r->previous, 1);
}

static row_t plain(const char *section, const char *subject, const char *metric)
{
    row_t r = {section, subject, 0, "", "", metric, "", ""};
    return r;
}

static int meta(FILE *out, const jc_report_t *r)
{
    static const char *const keys[] = {"region_level", "period_kind", "from", "to", "previous_from",
                                       "previous_to", "generated_at"};
    int32_t days[4] = {r->period.from, r->period.to, r->previous.from, r->previous.to};
    int bad = 0;
    for (int i = 0; i < 7; i++) {
        row_t row = plain("report", "", keys[i]);
        if (i == 0) {
            row.code = r->place.code;
            row.name_zh = r->place.name_zh;
            row.name_pinyin = r->place.name_pinyin;
            snprintf(row.value, sizeof row.value, "%s", rp_level_key(r->region.level));
        } else if (i == 1) {
            snprintf(row.value, sizeof row.value, "%s", rp_period_kind_key(r->period.kind));
        } else if (i < 6) {
            jc_day_format(days[i - 2], row.value, sizeof row.value);
        } else {
            jc_time_format(r->generated_ms, row.value, sizeof row.value);
        }
        bad |= emit(out, &row);
    }
    return bad;
}

static int headline(FILE *out, const jc_report_t *r)
{
    int bad = 0;
    for (int s = 0; s < RP_NSECTIONS; s++)
        for (size_t i = 0; i < rp_sections[s].nfigures; i++) {
            const rp_figure_t *f = &rp_sections[s].figures[i];
            row_t row = plain(rp_sections[s].key, "", f->key);
            double v;
            if (f->kind == RP_COUNT)
                snprintf(row.value, sizeof row.value, "%lld", (long long)r->raw[s][f->num]);
            else if (rp_figure_value(f, r->raw[s], &v))
                snprintf(row.value, sizeof row.value, "%.17g", v);
            bad |= emit(out, &row);
        }
    return bad;
}

static int breakdowns(FILE *out, const jc_report_t *r)
{
    int bad = 0;
    for (int b = 0; b < RP_NBREAKDOWNS; b++) {
        const rp_breakdown_def_t *d = &rp_breakdowns[b];
        char section[64];
        snprintf(section, sizeof section, "%s.%s", rp_sections[d->section].key, d->key);
        for (size_t i = 0; i < d->nsymbols; i++)
            for (size_t c = 0; c < d->ncolumns; c++) {
                row_t row = plain(section, d->symbols[i].key, rp_count_figure(d->section, d->columns[c])->key);
                snprintf(row.value, sizeof row.value, "%lld", (long long)r->breakdown[b][i][d->columns[c]]);
                bad |= emit(out, &row);
            }
    }
    return bad;
}

static int ranking(FILE *out, const jc_report_t *r)
{
    int bad = 0;
    for (size_t i = 0; i < r->nrows; i++) {
        const rp_row_t *x = &r->rows[i];
        char rank[16];
        snprintf(rank, sizeof rank, "%d", x->rank);
        for (int m = 0; m < RP_NMETRICS; m++) {
            row_t row = {"ranking", rank, x->place.code, x->place.name_zh, x->place.name_pinyin,
                         rp_metrics[m].key, "", ""};
            snprintf(row.value, sizeof row.value, "%lld", (long long)x->cur[m]);
            snprintf(row.previous, sizeof row.previous, "%lld", (long long)x->prev[m]);
            bad |= emit(out, &row);
        }
    }
    return bad;
}

static int trend(FILE *out, const jc_report_t *r)
{
    int bad = 0;
    for (int i = 0; i < RP_TREND_MONTHS; i++)
        for (int m = 0; m < RP_NMETRICS; m++) {
            row_t row = plain("trend", r->months[i].month, rp_metrics[m].key);
            snprintf(row.value, sizeof row.value, "%lld", (long long)r->months[i].v[m]);
            bad |= emit(out, &row);
        }
    return bad;
}

static int silence(FILE *out, const jc_report_t *r)
{
    int bad = 0;
    for (int s = 0; s < RP_NSECTIONS; s++)
        for (size_t i = 0; i < r->ncounties; i++) {
            const rp_place_t *c = &r->counties[i].county;
            row_t row = {"silent_counties", rp_sections[s].key, c->code, c->name_zh, c->name_pinyin, "", "", ""};
            if (r->silent[s][i])
                bad |= emit(out, &row);
        }
    return bad;
}

/* One freshness row of group f: metric key, its value (an integer, or a time if is_time), or
 * empty if it has none. */
static int fresh_metric(FILE *out, const rp_fresh_t *f, const char *key, bool has, int64_t v, bool is_time)
{
    row_t row = plain("freshness", f->group_id, key);
    if (has && is_time)
        jc_time_format(v, row.value, sizeof row.value);
    else if (has)
        snprintf(row.value, sizeof row.value, "%lld", (long long)v);
    return emit(out, &row);
}

static int freshness(FILE *out, const jc_report_t *r)
{
    int bad = 0;
    for (size_t i = 0; i < r->nfresh; i++) {
        const rp_fresh_t *f = &r->fresh[i];
        bad |= fresh_metric(out, f, "topics", true, f->topics, false);
        bad |= fresh_metric(out, f, "partitions", true, f->partitions, false);
        bad |= fresh_metric(out, f, "newest_event_at", f->has_newest, f->newest_ms, true);
        bad |= fresh_metric(out, f, "lag", true, f->lag, false);
        bad |= fresh_metric(out, f, "lag_observed_at", f->has_lag_age, f->lag_observed_ms, true);
        bad |= fresh_metric(out, f, "lag_age_ms", f->has_lag_age, f->lag_age_ms, false);
        bad |= fresh_metric(out, f, "updated_at", f->has_updated, f->updated_ms, true);
    }
    return bad;
}

jc_status_t rp_write_csv(const jc_report_t *r, FILE *out, jc_error_t *err)
{
    int bad = fputs("section,subject,code,name_zh,name_pinyin,metric,value,previous\n", out) == EOF;
    bad |= meta(out, r);
    bad |= headline(out, r);
    bad |= breakdowns(out, r);
    bad |= ranking(out, r);
    bad |= trend(out, r);
    bad |= silence(out, r);
    bad |= freshness(out, r);
    if (bad || ferror(out))
        return jc_error_set(err, JC_ERR_IO, "report: writing the CSV failed");
    return JC_OK;
}
