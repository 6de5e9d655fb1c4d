/*
 * defs.c: what the report shows beyond the aggregate description (model.h), as tables that
 * name columns: per section the display order of its figures and the figures derived from
 * columns (ratios, mean days), the breakdowns by hazard, trainee role and training base with
 * the symbols' names, the metrics of the ranking table and the trend, and the HTML page's key
 * figures. rp_defs_init builds the sections from the description (jiceng/aggregates.h) -- a
 * count figure per column, labelled as the description labels it -- and resolves every name
 * here to a raw index once, failing loudly on a name that does not resolve. A column the order
 * lists do not name follows its section's listed figures in description order, so a new column
 * needs no line here. The renderers only walk the resolved tables, so a figure appears in every
 * format.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "jiceng/fields.h"
#include "jiceng/jtime.h"
#include "jiceng/lag.h"
#include "model.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))
/* An array and its length, the length checked against a bound by the compiler (a negative
 * array size stops the build). */
#define BOUNDED(a, max) (a), LEN(a) * sizeof(char[LEN(a) <= (max) ? 1 : -1])

/* A figure as listed: a count names a column (or the distinct count's key) and takes its
 * labels from the description; a ratio or mean names its numerator and denominator. */
typedef struct figure_spec {
    const char *key, *zh, *en;
    rp_kind_t kind;
    const char *num, *den;
} figure_spec_t;

#define COUNT(column) {column, NULL, NULL, RP_COUNT, NULL, NULL}
#define RATIO(key, zh, en, num, den) {key, zh, en, RP_RATIO, num, den}
#define DAYS(key, zh, en, num, den) {key, zh, en, RP_DAYS, num, den}

static const figure_spec_t visit_figures[] = {
    COUNT("cadres"), COUNT("visits"), COUNT("people_met"), COUNT("households_visited"),
    COUNT("deeds_done"), COUNT("problems_solved"), COUNT("overnight_stays"), COUNT("hours_on_site"),
};

static const figure_spec_t petition_figures[] = {
    COUNT("received"),
    COUNT("people_received"),
    COUNT("resolved"),
    RATIO("resolution_rate", "办结率(本期办结÷本期受理)",
          "resolution rate (resolutions in the period ÷ receipts in the period)", "resolved", "received"),
    DAYS("mean_resolution_days", "平均办结用时(天)", "mean resolution time in days (of resolutions in the period)",
         "resolution_seconds", "resolved"),
    RATIO("resolved_within_1d_share", "1日内办结占比", "share resolved within 1 day (of resolutions in the period)",
          "resolved_within_1d", "resolved"),
    RATIO("resolved_within_7d_share", "7日内办结占比", "share resolved within 7 days (of resolutions in the period)",
          "resolved_within_7d", "resolved"),
    RATIO("resolved_within_30d_share", "30日内办结占比",
          "share resolved within 30 days (of resolutions in the period)", "resolved_within_30d", "resolved"),
    COUNT("followed_up"),
    COUNT("followups_answered"),
    COUNT("satisfied"),
    RATIO("satisfaction_rate", "满意率(满意÷有答复回访)", "satisfaction rate (satisfied ÷ follow-ups that answered)",
          "satisfied", "followups_answered"),
    /* then the details: resolution_seconds, resolved_within_1d/7d/30d */
};

static const figure_spec_t disaster_figures[] = {
    COUNT("incidents"), COUNT("responses"), COUNT("responders"), COUNT("party_member_responders"),
    COUNT("people_evacuated"), COUNT("people_rescued"), COUNT("deaths"), COUNT("injured"),
    COUNT("households_assisted"),
};

static const figure_spec_t training_figures[] = {
    COUNT("completions"),
    COUNT("trainees"),
    COUNT("hours"),
    COUNT("passed"),
    RATIO("pass_rate", "合格率(合格÷完成)", "pass rate (passed ÷ completions)", "passed", "completions"),
    COUNT("from_poor_village"),
    RATIO("poor_village_share", "贫困村学员占比", "share from poor villages (of completions)", "from_poor_village",
          "completions"),
};

static const struct {
    const figure_spec_t *specs;
    size_t n;
} figure_order[RP_NSECTIONS] = {
    [JC_VISIT] = {BOUNDED(visit_figures, RP_MAX_FIGURES)},
    [JC_PETITION] = {BOUNDED(petition_figures, RP_MAX_FIGURES)},
    [JC_DISASTER_RESPONSE] = {BOUNDED(disaster_figures, RP_MAX_FIGURES)},
    [JC_TRAINING_COMPLETION] = {BOUNDED(training_figures, RP_MAX_FIGURES)},
};

rp_section_def_t rp_sections[RP_NSECTIONS];

/* ---- breakdowns ---- */

static const rp_symbol_t hazards[] = {
    {"FLOOD", "洪涝", "flood"},
    {"LANDSLIDE", "滑坡", "landslide"},
    {"RAIN_SNOW_FREEZE", "雨雪冰冻", "rain, snow and freeze"},
    {"DROUGHT", "干旱", "drought"},
    {"ROCKFALL", "崩塌落石", "rockfall"},
    {"EARTHQUAKE", "地震", "earthquake"},
    {"FIRE", "火灾", "fire"},
    {"OTHER", "其他", "other"},
};
static const rp_symbol_t roles[] = {
    {"VILLAGE_SECRETARY", "村党组织书记", "village party secretaries"},
    {"VILLAGE_DIRECTOR", "村委会主任", "village committee directors"},
    {"VILLAGE_CADRE", "村干部", "village cadres"},
    {"GRADUATE_VILLAGE_OFFICIAL", "大学生村官", "graduate village officials"},
    {"PARTY_MEMBER", "农村党员", "party members"},
    {"TOWNSHIP_CADRE", "乡镇干部", "township cadres"},
};
static const rp_symbol_t bases[] = {
    {"HUAXI_JIANGSU", "江苏华西村", "Huaxi, Jiangsu"},
    {"SHOUGUANG_SHANDONG", "山东寿光", "Shouguang, Shandong"},
    {"PROVINCIAL", "省级基地", "provincial bases"},
    {"PREFECTURE", "市州基地", "prefecture bases"},
    {"COUNTY", "县级基地", "county bases"},
    {"ONLINE", "网络培训", "online"},
};
_Static_assert(LEN(hazards) == JC_HAZARD_COUNT, "a name for every hazard of jiceng/event.h");
_Static_assert(LEN(roles) == JC_TRAINEE_ROLE_COUNT, "a name for every trainee role of jiceng/event.h");
_Static_assert(LEN(bases) == JC_TRAINING_BASE_COUNT, "a name for every training base of jiceng/event.h");

/* (the symbols' keys are checked against the field table's symbols by rp_defs_init) */
#define BREAKDOWN(k, z, e, s, c, syms) \
    {.key = k, .zh = z, .en = e, .section = s, .column = c, .symbols = syms, \
     .nsymbols = LEN(syms) * sizeof(char[LEN(syms) <= RP_MAX_SYMBOLS ? 1 : -1])}

rp_breakdown_def_t rp_breakdowns[RP_NBREAKDOWNS] = {
    [RP_BY_HAZARD] = BREAKDOWN("by_hazard", "按灾种", "by hazard", JC_DISASTER_RESPONSE, "hazard", hazards),
    [RP_BY_ROLE] = BREAKDOWN("by_role", "按学员类别", "by trainee role", JC_TRAINING_COMPLETION, "trainee_role",
                             roles),
    [RP_BY_BASE] = BREAKDOWN("by_base", "按培训基地", "by training base", JC_TRAINING_COMPLETION, "training_base",
                             bases),
};

rp_metric_t rp_metrics[RP_NMETRICS] = {
    [M_CADRES] = {"cadres", "下基层干部", "cadres", JC_VISIT, "cadres", 0},
    [M_VISITS] = {"visits", "走访", "visits", JC_VISIT, "visits", 0},
    [M_PEOPLE] = {"people_met", "走访群众", "people met", JC_VISIT, "people_met", 0},
    [M_PETITIONS] = {"petitions_received", "受理信访", "petitions", JC_PETITION, "received", 0},
    [M_RESOLVED] = {"petitions_resolved", "办结信访", "resolved", JC_PETITION, "resolved", 0},
    [M_RESPONSES] = {"disaster_responses", "救灾出动", "responses", JC_DISASTER_RESPONSE, "responses", 0},
    [M_COMPLETIONS] = {"training_completions", "完成培训", "trainings", JC_TRAINING_COMPLETION, "completions", 0},
};

rp_kpi_t rp_kpis[] = {
    {JC_VISIT, "cadres", "下基层干部", NULL},
    {JC_VISIT, "people_met", "走访群众", NULL},
    {JC_VISIT, "deeds_done", "办实事", NULL},
    {JC_PETITION, "resolution_rate", "信访办结率", NULL},
    {JC_DISASTER_RESPONSE, "responders", "救灾出动人员", NULL},
    {JC_TRAINING_COMPLETION, "completions", "完成培训", NULL},
};
_Static_assert(LEN(rp_kpis) == RP_NKPIS, "RP_NKPIS key figures");

/* ---- resolving the definitions (rp_defs_init) ---- */

static pthread_once_t defs_once = PTHREAD_ONCE_INIT;
static jc_error_t defs_err;

/* The raw index of a count named name in section s (a sum column or the distinct count's
 * key), or -1. */
static int raw_index(const rp_section_def_t *d, const char *name)
{
    int i = jc_agg_column_index(d->sums, name);
    if (i >= 0)
        return i;
    return d->distinct != NULL && strcmp(d->distinct->key, name) == 0 ? d->sums->ncolumns : -1;
}

static jc_status_t resolve(const rp_section_def_t *d, const char *name, int *index)
{
    *index = name != NULL ? raw_index(d, name) : -1;
    if (*index < 0)
        return jc_error_set(&defs_err, JC_ERR_INVALID_ARG, "report: section %s has no count '%s' "
                            "(lib/report/defs.c names a column the aggregate description lacks)",
                            d->key, name ? name : "(none)");
    return JC_OK;
}

/* The section's aggregates for event type t: exactly one sums, at most one distinct. */
static jc_status_t find_aggregates(rp_section_def_t *d, jc_event_type_t t)
{
    size_t n;
    const jc_aggregate_t *all = jc_aggregates(&n);
    for (size_t i = 0; i < n; i++) {
        const jc_aggregate_t **slot = all[i].kind == JC_AGG_SUMS ? &d->sums : &d->distinct;
        if (all[i].type != t)
            continue;
        if (*slot != NULL)
            return jc_error_set(&defs_err, JC_ERR_INVALID_ARG, "report: event type %s has two %s aggregates "
                                "(%s, %s): a section pairs one sums and at most one distinct aggregate",
                                jc_event_type_name(t), all[i].kind == JC_AGG_SUMS ? "sums" : "distinct",
                                (*slot)->table, all[i].table);
        *slot = &all[i];
    }
    if (d->sums == NULL)
        return jc_error_set(&defs_err, JC_ERR_INVALID_ARG, "report: event type %s has no sums aggregate",
                            jc_event_type_name(t));
    d->key = d->sums->key;
    d->zh = d->sums->zh;
    d->en = d->sums->en;
    return JC_OK;
}

static bool has_figure(const rp_section_def_t *d, const char *key)
{
    for (size_t i = 0; i < d->nfigures; i++)
        if (strcmp(d->figures[i].key, key) == 0)
            return true;
    return false;
}

/* Append the count figure of raw index i (its labels from the description). */
static jc_status_t add_count(rp_section_def_t *d, int i)
{
    bool column = i < d->sums->ncolumns;
    const jc_agg_column_t *c = column ? &d->sums->columns[i] : NULL;
    const char *key = column ? c->name : d->distinct->key;
    if (has_figure(d, key) || d->nfigures == RP_MAX_FIGURES)
        return jc_error_set(&defs_err, JC_ERR_INVALID_ARG, "report: section %s: figure %s %s", d->key, key,
                            has_figure(d, key) ? "listed twice" : "is past RP_MAX_FIGURES");
    d->figures[d->nfigures++] = (rp_figure_t){key, column ? c->zh : d->distinct->zh,
                                              column ? c->en : d->distinct->en, RP_COUNT, i, 0,
                                              column && c->detail};
    return JC_OK;
}

static jc_status_t add_spec(rp_section_def_t *d, const figure_spec_t *f)
{
    int num, den = 0;
    if (resolve(d, f->kind == RP_COUNT ? f->key : f->num, &num) != JC_OK)
        return JC_ERR_INVALID_ARG;
    if (f->kind == RP_COUNT)
        return add_count(d, num);
    if (resolve(d, f->den, &den) != JC_OK)
        return JC_ERR_INVALID_ARG;
    if (has_figure(d, f->key) || d->nfigures == RP_MAX_FIGURES)
        return jc_error_set(&defs_err, JC_ERR_INVALID_ARG, "report: section %s: figure %s is listed twice "
                            "or past RP_MAX_FIGURES", d->key, f->key);
    d->figures[d->nfigures++] = (rp_figure_t){f->key, f->zh, f->en, f->kind, num, den, false};
    return JC_OK;
}

/* Section t: the listed figures, then every count not listed, in description order. */
static jc_status_t build_section(jc_event_type_t t)
{
    rp_section_def_t *d = &rp_sections[t];
    if (find_aggregates(d, t) != JC_OK)
        return JC_ERR_INVALID_ARG;
    for (size_t i = 0; i < figure_order[t].n; i++)
        if (add_spec(d, &figure_order[t].specs[i]) != JC_OK)
            return JC_ERR_INVALID_ARG;
    int nraw = d->sums->ncolumns + (d->distinct != NULL);
    for (int i = 0; i < nraw; i++) {
        bool column = i < d->sums->ncolumns;
        if (!has_figure(d, column ? d->sums->columns[i].name : d->distinct->key) && add_count(d, i) != JC_OK)
            return JC_ERR_INVALID_ARG;
    }
    return JC_OK;
}

static bool has_dim(const jc_aggregate_t *a, const char *column)
{
    for (int i = 0; a != NULL && i < a->ndims; i++)
        if (strcmp(a->dims[i], column) == 0)
            return true;
    return false;
}

/* Breakdown b: its dimension is one of the section's, its symbols are the enum's, and its
 * columns are the section's counts (not details) that have the dimension. */
static jc_status_t build_breakdown(rp_breakdown_def_t *b)
{
    const rp_section_def_t *d = &rp_sections[b->section];
    const jc_field_t *f = b->column ? jc_event_field((jc_event_type_t)b->section, b->column) : NULL;
    if (f == NULL || !has_dim(d->sums, b->column) || (size_t)f->nsymbols != b->nsymbols)
        return jc_error_set(&defs_err, JC_ERR_INVALID_ARG, "report: breakdown %s: %s is not a dimension of "
                            "%s with %zu symbols", b->key, b->column ? b->column : "(none)", d->sums->table,
                            b->nsymbols);
    for (size_t i = 0; i < b->nsymbols; i++)
        if (strcmp(f->symbols[i], b->symbols[i].key) != 0)
            return jc_error_set(&defs_err, JC_ERR_INVALID_ARG, "report: breakdown %s: symbol %zu is %s, "
                                "the field table has %s", b->key, i, b->symbols[i].key, f->symbols[i]);
    b->with_distinct = has_dim(d->distinct, b->column);
    b->ncolumns = 0;
    for (size_t i = 0; i < d->nfigures; i++) {
        const rp_figure_t *x = &d->figures[i];
        bool distinct = x->num == d->sums->ncolumns;
        if (x->kind == RP_COUNT && !x->detail && (!distinct || b->with_distinct))
            b->columns[b->ncolumns++] = x->num; /* at most one per raw index: fits */
    }
    return JC_OK;
}

static void init_defs(void)
{
    jc_error_clear(&defs_err);
    if (jc_aggregates_check(&defs_err) != JC_OK)
        return;
    for (int t = 0; t < RP_NSECTIONS; t++)
        if (build_section((jc_event_type_t)t) != JC_OK)
            return;
    for (int b = 0; b < RP_NBREAKDOWNS; b++)
        if (build_breakdown(&rp_breakdowns[b]) != JC_OK)
            return;
    for (int m = 0; m < RP_NMETRICS; m++)
        if (resolve(&rp_sections[rp_metrics[m].section], rp_metrics[m].column, &rp_metrics[m].index) != JC_OK)
            return;
    for (int k = 0; k < RP_NKPIS; k++)
        if ((rp_kpis[k].figure = rp_find_figure(rp_kpis[k].section, rp_kpis[k].key)) == NULL) {
            jc_error_set(&defs_err, JC_ERR_INVALID_ARG, "report: key figure %s of section %s does not exist",
                         rp_kpis[k].key, rp_sections[rp_kpis[k].section].key);
            return;
        }
}

jc_status_t rp_defs_init(jc_error_t *err)
{
    pthread_once(&defs_once, init_defs);
    if (defs_err.code != JC_OK && err != NULL)
        *err = defs_err;
    return defs_err.code;
}

const rp_figure_t *rp_count_figure(int s, int i)
{
    for (size_t k = 0; k < rp_sections[s].nfigures; k++) {
        const rp_figure_t *f = &rp_sections[s].figures[k];
        if (f->kind == RP_COUNT && f->num == i)
            return f;
    }
    return NULL;
}

const rp_figure_t *rp_find_figure(int s, const char *key)
{
    for (size_t k = 0; k < rp_sections[s].nfigures; k++)
        if (strcmp(rp_sections[s].figures[k].key, key) == 0)
            return &rp_sections[s].figures[k];
    return NULL;
}

const char *rp_short_label(const char *label, char *buf, size_t len)
{
    snprintf(buf, len, "%s", label);
    char *paren = strchr(buf, '(');
    if (paren != NULL)
        *paren = '\0';
    return buf;
}

const char *rp_level_key(jc_region_level_t level)
{
    return level == JC_REGION_PROVINCE ? "province" : level == JC_REGION_PREFECTURE ? "prefecture" : "county";
}

const char *rp_level_zh(jc_region_level_t level)
{
    return level == JC_REGION_PROVINCE ? "全省" : level == JC_REGION_PREFECTURE ? "市州" : "县(市、区)";
}

const char *rp_period_kind_key(jc_period_kind_t kind)
{
    return kind == JC_PERIOD_MONTH ? "month" : kind == JC_PERIOD_YEAR ? "year" : "range";
}

/* ---- derived values ---- */

bool rp_figure_value(const rp_figure_t *f, const int64_t *raw, double *out)
{
    if (f->kind == RP_COUNT) {
        *out = (double)raw[f->num];
        return true;
    }
    if (raw[f->den] == 0)
        return false;
    *out = (double)raw[f->num] / (double)raw[f->den];
    if (f->kind == RP_DAYS)
        *out /= 86400.0;
    return true;
}

const char *rp_figure_text(const rp_figure_t *f, const int64_t *raw, char *buf, size_t len)
{
    double v;
    if (f->kind == RP_COUNT)
        return jc_format_cn(raw[f->num], buf, len);
    if (f->kind == RP_RATIO)
        return jc_format_percent(raw[f->num], raw[f->den], buf, len);
    if (rp_figure_value(f, raw, &v))
        snprintf(buf, len, "%.1f", v);
    else
        snprintf(buf, len, "—");
    return buf;
}

bool rp_freshness_total(const jc_report_t *r, int64_t *lag, int64_t *lag_age_ms, int64_t *newest_ms)
{
    bool any = false;
    *lag = *newest_ms = 0;
    *lag_age_ms = -1;
    for (size_t i = 0; i < r->nfresh; i++) {
        *lag += r->fresh[i].lag;
        if (r->fresh[i].has_lag_age && r->fresh[i].lag_age_ms > *lag_age_ms)
            *lag_age_ms = r->fresh[i].lag_age_ms;
        if (r->fresh[i].has_newest && (!any || r->fresh[i].newest_ms > *newest_ms))
            *newest_ms = r->fresh[i].newest_ms;
        any |= r->fresh[i].has_newest;
    }
    return any;
}

const char *rp_lag_text(int64_t lag, int64_t lag_age_ms, char *buf, size_t len)
{
    char age[32];
    if (lag_age_ms < 0)
        snprintf(buf, len, "— (no consumer has observed the topics)");
    else
        snprintf(buf, len, "%lld 条 messages (观测于 %s 前 observed %s ago)", (long long)lag,
                 jc_lag_age_text(lag_age_ms, age, sizeof age), age);
    return buf;
}

size_t rp_silent_count(const jc_report_t *r, int s)
{
    size_t n = 0;
    for (size_t i = 0; i < r->ncounties; i++)
        n += r->silent[s][i];
    return n;
}

const char *rp_time_text(int64_t ms, char *buf, size_t len)
{
    char iso[40];
    jc_time_format(ms, iso, sizeof iso);
    iso[10] = ' ';
    snprintf(buf, len, "%.19s", iso);
    return buf;
}

const char *rp_range_text(jc_period_t p, char *buf, size_t len)
{
    char a[16], b[16];
    jc_day_format(p.from, a, sizeof a);
    jc_day_format(p.to, b, sizeof b);
    snprintf(buf, len, "%s — %s", a, b);
    return buf;
}

const char *rp_period_text(jc_period_t p, char *buf, size_t len)
{
    char label[64], range[64];
    jc_period_label(p, label, sizeof label);
    if (p.kind == JC_PERIOD_RANGE)
        snprintf(buf, len, "%s (%d 天)", label, (int)(p.to - p.from + 1));
    else
        snprintf(buf, len, "%s (%s, %d 天)", label, rp_range_text(p, range, sizeof range), (int)(p.to - p.from + 1));
    return buf;
}
