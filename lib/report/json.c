/*
 * json.c: the report as JSON (jansson), with the stable keys of docs/report-json.md.
 *
 * Counts are JSON integers, exactly as summed; ratios and means are JSON numbers (a ratio as a
 * fraction, 0.876, not a percentage) or null when their denominator is 0. Breakdowns, ranking
 * metrics and silence lists always carry every key, zeros and empty lists included, so a
 * consumer never has to guess whether a key is missing or zero. The tree is built with
 * failures counted (they can only be out of memory) and dumped once.
 */
#include <jansson.h>

#include "jiceng/jtime.h"
#include "model.h"

/* Set o[key] = v (v's reference taken); returns 1 on failure, 0 on success. */
static int put(json_t *o, const char *key, json_t *v)
{
    return v == NULL || json_object_set_new(o, key, v) != 0;
}

static int push(json_t *a, json_t *v)
{
    return v == NULL || json_array_append_new(a, v) != 0;
}

static json_t *day_text(int32_t day)
{
    char buf[16];
    jc_day_format(day, buf, sizeof buf);
    return json_string(buf);
}

static json_t *time_text(int64_t ms)
{
    char buf[40];
    jc_time_format(ms, buf, sizeof buf);
    return json_string(buf);
}

static json_t *period_json(jc_period_t p, int *bad)
{
    char label[64];
    json_t *o = json_object();
    *bad |= o == NULL;
    if (o == NULL)
        return NULL;
    *bad |= put(o, "kind", json_string(rp_period_kind_key(p.kind)));
    *bad |= put(o, "from", day_text(p.from));
    *bad |= put(o, "to", day_text(p.to));
    *bad |= put(o, "days", json_integer(p.to - p.from + 1));
    *bad |= put(o, "label", json_string(jc_period_label(p, label, sizeof label)));
    return o;
}

static json_t *place_json(const rp_place_t *p, int *bad)
{
    json_t *o = json_object();
    *bad |= o == NULL;
    if (o != NULL) {
        *bad |= put(o, "code", json_integer(p->code));
        *bad |= put(o, "name_zh", json_string(p->name_zh));
        *bad |= put(o, "name_pinyin", json_string(p->name_pinyin));
    }
    return o;
}

static json_t *region_json(const jc_report_t *r, int *bad)
{
    json_t *o = place_json(&r->place, bad);
    if (o != NULL) {
        *bad |= put(o, "level", json_string(rp_level_key(r->region.level)));
        *bad |= put(o, "counties", json_integer((json_int_t)r->ncounties));
    }
    return o;
}

static json_t *figure_json(const rp_figure_t *f, const int64_t *raw)
{
    double v;
    if (f->kind == RP_COUNT)
        return json_integer(raw[f->num]);
    return rp_figure_value(f, raw, &v) ? json_real(v) : json_null();
}

static json_t *columns_json(const rp_breakdown_def_t *d, const int64_t *raw, int *bad)
{
    json_t *o = json_object();
    *bad |= o == NULL;
    for (size_t c = 0; o != NULL && c < d->ncolumns; c++)
        *bad |= put(o, rp_count_figure(d->section, d->columns[c])->key, json_integer(raw[d->columns[c]]));
    return o;
}

static json_t *breakdown_json(const jc_report_t *r, int b, int *bad)
{
    const rp_breakdown_def_t *d = &rp_breakdowns[b];
    json_t *o = json_object();
    *bad |= o == NULL;
    for (size_t i = 0; o != NULL && i < d->nsymbols; i++)
        *bad |= put(o, d->symbols[i].key, columns_json(d, r->breakdown[b][i], bad));
    return o;
}

static json_t *section_json(const jc_report_t *r, int s, int *bad)
{
    const rp_section_def_t *d = &rp_sections[s];
    json_t *o = json_object();
    *bad |= o == NULL;
    for (size_t i = 0; o != NULL && i < d->nfigures; i++)
        *bad |= put(o, d->figures[i].key, figure_json(&d->figures[i], r->raw[s]));
    for (int b = 0; o != NULL && b < RP_NBREAKDOWNS; b++)
        if (rp_breakdowns[b].section == s)
            *bad |= put(o, rp_breakdowns[b].key, breakdown_json(r, b, bad));
    return o;
}

static json_t *headline_json(const jc_report_t *r, int *bad)
{
    json_t *o = json_object();
    *bad |= o == NULL;
    for (int s = 0; o != NULL && s < RP_NSECTIONS; s++)
        *bad |= put(o, rp_sections[s].key, section_json(r, s, bad));
    return o;
}

static json_t *metrics_json(const int64_t *v, int *bad)
{
    json_t *o = json_object();
    *bad |= o == NULL;
    for (int m = 0; o != NULL && m < RP_NMETRICS; m++)
        *bad |= put(o, rp_metrics[m].key, json_integer(v[m]));
    return o;
}

static json_t *ranking_json(const jc_report_t *r, int *bad)
{
    json_t *o = json_object(), *rows = json_array();
    *bad |= o == NULL || rows == NULL;
    for (size_t i = 0; rows != NULL && i < r->nrows; i++) {
        json_t *row = place_json(&r->rows[i].place, bad);
        if (row != NULL) {
            *bad |= put(row, "rank", json_integer(r->rows[i].rank));
            *bad |= put(row, "current", metrics_json(r->rows[i].cur, bad));
            *bad |= put(row, "previous", metrics_json(r->rows[i].prev, bad));
        }
        *bad |= push(rows, row);
    }
    if (o == NULL) {
        json_decref(rows);
        return NULL;
    }
    *bad |= put(o, "level", json_string(rp_level_key(r->row_level)));
    *bad |= put(o, "ranked_by", json_string("cadres"));
    *bad |= put(o, "rows", rows);
    return o;
}

static json_t *silence_json(const jc_report_t *r, int *bad)
{
    json_t *o = json_object();
    *bad |= o == NULL;
    for (int s = 0; o != NULL && s < RP_NSECTIONS; s++) {
        json_t *list = json_array();
        *bad |= list == NULL;
        for (size_t i = 0; list != NULL && i < r->ncounties; i++)
            if (r->silent[s][i])
                *bad |= push(list, place_json(&r->counties[i].county, bad));
        *bad |= put(o, rp_sections[s].key, list);
    }
    return o;
}

static json_t *trend_json(const jc_report_t *r, int *bad)
{
    json_t *a = json_array();
    *bad |= a == NULL;
    for (int i = 0; a != NULL && i < RP_TREND_MONTHS; i++) {
        json_t *m = metrics_json(r->months[i].v, bad);
        if (m != NULL)
            *bad |= json_object_set_new(m, "month", json_string(r->months[i].month)) != 0;
        *bad |= push(a, m);
    }
    return a;
}

static json_t *fresh_group_json(const rp_fresh_t *f, int *bad)
{
    json_t *o = json_object();
    *bad |= o == NULL;
    if (o != NULL) {
        *bad |= put(o, "group_id", json_string(f->group_id));
        *bad |= put(o, "topics", json_integer(f->topics));
        *bad |= put(o, "partitions", json_integer(f->partitions));
        *bad |= put(o, "newest_event_at", f->has_newest ? time_text(f->newest_ms) : json_null());
        *bad |= put(o, "lag", json_integer(f->lag));
        *bad |= put(o, "lag_observed_at", f->has_lag_age ? time_text(f->lag_observed_ms) : json_null());
        *bad |= put(o, "lag_age_ms", f->has_lag_age ? json_integer(f->lag_age_ms) : json_null());
        *bad |= put(o, "updated_at", f->has_updated ? time_text(f->updated_ms) : json_null());
    }
    return o;
}

static json_t *freshness_json(const jc_report_t *r, int *bad)
{
    json_t *o = json_object(), *groups = json_array();
    int64_t lag, age, newest;
    bool any = rp_freshness_total(r, &lag, &age, &newest);
    *bad |= o == NULL || groups == NULL;
    for (size_t i = 0; groups != NULL && i < r->nfresh; i++)
        *bad |= push(groups, fresh_group_json(&r->fresh[i], bad));
    if (o == NULL) {
        json_decref(groups);
        return NULL;
    }
    *bad |= put(o, "newest_event_at", any ? time_text(newest) : json_null());
    *bad |= put(o, "lag", json_integer(lag));
    *bad |= put(o, "lag_age_ms", age >= 0 ? json_integer(age) : json_null());
    *bad |= put(o, "groups", groups);
    return o;
}

/* provenance (issue 13, item 3): {"generation": N, "offsets": {"topic/partition": offset}} */
static json_t *provenance_json(const jc_report_t *r, int *bad)
{
    json_t *o = json_object(), *offsets = json_loads(r->offsets ? r->offsets : "{}", 0, NULL);
    *bad |= o == NULL || offsets == NULL;
    if (o == NULL) {
        json_decref(offsets);
        return NULL;
    }
    *bad |= put(o, "generation", json_integer(r->generation));
    *bad |= put(o, "offsets", offsets);
    return o;
}

static json_t *report_json(const jc_report_t *r, int *bad)
{
    json_t *o = json_object();
    *bad |= o == NULL;
    if (o == NULL)
        return NULL;
    *bad |= put(o, "format", json_string("jiceng-report"));
    *bad |= put(o, "format_version", json_integer(1));
    *bad |= put(o, "generated_at", time_text(r->generated_ms));
    *bad |= put(o, "region", region_json(r, bad));
    *bad |= put(o, "period", period_json(r->period, bad));
    *bad |= put(o, "previous_period", period_json(r->previous, bad));
    *bad |= put(o, "headline", headline_json(r, bad));
    *bad |= put(o, "ranking", ranking_json(r, bad));
    *bad |= put(o, "silent_counties", silence_json(r, bad));
    *bad |= put(o, "trend", trend_json(r, bad));
    *bad |= put(o, "freshness", freshness_json(r, bad));
    *bad |= put(o, "provenance", provenance_json(r, bad)); /* issue 13, item 3 */
    return o;
}

jc_status_t rp_write_json(const jc_report_t *r, FILE *out, jc_error_t *err)
{
    int bad = 0;
    json_t *root = report_json(r, &bad);
    if (bad) {
        json_decref(root);
        return jc_error_set(err, JC_ERR_NOMEM, "report: out of memory building the JSON");
    }
    int rc = json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    json_decref(root);
    if (rc != 0 || fputc('\n', out) == EOF || ferror(out))
        return jc_error_set(err, JC_ERR_IO, "report: writing the JSON failed");
    return JC_OK;
}
