/*
 * defs.c: what the report shows, as tables (model.h): the four sections with their views,
 * measures and figures (key, Chinese and English label, how the value derives from the raw
 * integers), the breakdowns by hazard, trainee role and training base with the Avro symbols'
 * names, and the metrics of the ranking table and the trend. The renderers only walk these
 * tables, so a figure added here appears in every format.
 */
#include <stdio.h>
#include <string.h>

#include "jiceng/jtime.h"
#include "model.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- visits ---- */

static const char *const visit_measures[] = {"visits", "households_visited", "people_met", "deeds_done",
                                             "problems_solved", "overnight_stays", "hours_on_site"};
static const rp_figure_t visit_figures[] = {
    {"cadres", "下基层干部(人)", "distinct cadres who went down", RP_COUNT, V_CADRES, 0, false},
    {"visits", "走访(次)", "visits", RP_COUNT, V_VISITS, 0, false},
    {"people_met", "走访群众(人次)", "people met", RP_COUNT, V_PEOPLE, 0, false},
    {"households_visited", "走访农户(户次)", "households visited", RP_COUNT, V_HOUSEHOLDS, 0, false},
    {"deeds_done", "办实事(件)", "practical deeds done", RP_COUNT, V_DEEDS, 0, false},
    {"problems_solved", "解决问题(个)", "problems solved", RP_COUNT, V_PROBLEMS, 0, false},
    {"overnight_stays", "驻村住宿(夜)", "overnight stays in villages", RP_COUNT, V_OVERNIGHT, 0, false},
    {"hours_on_site", "在基层时长(小时)", "hours on site", RP_COUNT, V_HOURS, 0, false},
};

/* ---- petitions ---- */

static const char *const petition_measures[] = {
    "received", "people_received", "resolved", "resolution_seconds", "resolved_within_1d",
    "resolved_within_7d", "resolved_within_30d", "followed_up", "followups_answered", "satisfied"};
static const rp_figure_t petition_figures[] = {
    {"received", "受理信访(批次)", "petition batches received", RP_COUNT, P_RECEIVED, 0, false},
    {"people_received", "接待群众(人次)", "people received", RP_COUNT, P_PEOPLE, 0, false},
    {"resolved", "办结(件)", "petitions resolved", RP_COUNT, P_RESOLVED, 0, false},
    {"resolution_rate", "办结率(本期办结÷本期受理)",
     "resolution rate (resolutions in the period ÷ receipts in the period)", RP_RATIO, P_RESOLVED,
     P_RECEIVED, false},
    {"mean_resolution_days", "平均办结用时(天)",
     "mean resolution time in days (of resolutions in the period)", RP_DAYS, P_SECONDS, P_RESOLVED, false},
    {"resolved_within_1d_share", "1日内办结占比", "share resolved within 1 day (of resolutions in the period)",
     RP_RATIO, P_WITHIN_1D, P_RESOLVED, false},
    {"resolved_within_7d_share", "7日内办结占比", "share resolved within 7 days (of resolutions in the period)",
     RP_RATIO, P_WITHIN_7D, P_RESOLVED, false},
    {"resolved_within_30d_share", "30日内办结占比",
     "share resolved within 30 days (of resolutions in the period)", RP_RATIO, P_WITHIN_30D, P_RESOLVED, false},
    {"followed_up", "回访(件)", "follow-ups", RP_COUNT, P_FOLLOWED_UP, 0, false},
    {"followups_answered", "回访有答复(件)", "follow-ups that answered", RP_COUNT, P_ANSWERED, 0, false},
    {"satisfied", "表示满意(件)", "satisfied", RP_COUNT, P_SATISFIED, 0, false},
    {"satisfaction_rate", "满意率(满意÷有答复回访)", "satisfaction rate (satisfied ÷ follow-ups that answered)",
     RP_RATIO, P_SATISFIED, P_ANSWERED, false},
    {"resolution_seconds", "办结用时合计(秒)", "total resolution time in seconds", RP_COUNT, P_SECONDS, 0, true},
    {"resolved_within_1d", "1日内办结(件)", "resolved within 1 day", RP_COUNT, P_WITHIN_1D, 0, true},
    {"resolved_within_7d", "7日内办结(件)", "resolved within 7 days", RP_COUNT, P_WITHIN_7D, 0, true},
    {"resolved_within_30d", "30日内办结(件)", "resolved within 30 days", RP_COUNT, P_WITHIN_30D, 0, true},
};

/* ---- disaster responses ---- */

static const char *const disaster_measures[] = {
    "responses", "responders", "party_member_responders", "people_evacuated", "people_rescued",
    "deaths", "injured", "households_assisted"};
static const rp_figure_t disaster_figures[] = {
    {"incidents", "灾情(起)", "distinct incidents", RP_COUNT, D_INCIDENTS, 0, false},
    {"responses", "出动(次)", "responses", RP_COUNT, D_RESPONSES, 0, false},
    {"responders", "出动人员(人次)", "responders", RP_COUNT, D_RESPONDERS, 0, false},
    {"party_member_responders", "其中党员(人次)", "party-member responders", RP_COUNT, D_PARTY, 0, false},
    {"people_evacuated", "转移群众(人)", "people evacuated", RP_COUNT, D_EVACUATED, 0, false},
    {"people_rescued", "救出群众(人)", "people rescued", RP_COUNT, D_RESCUED, 0, false},
    {"deaths", "死亡(人)", "deaths", RP_COUNT, D_DEATHS, 0, false},
    {"injured", "受伤(人)", "injured", RP_COUNT, D_INJURED, 0, false},
    {"households_assisted", "帮扶受灾户(户)", "households assisted", RP_COUNT, D_HOUSEHOLDS, 0, false},
};

/* ---- trainings ---- */

static const char *const training_measures[] = {"completions", "hours", "passed", "from_poor_village"};
static const rp_figure_t training_figures[] = {
    {"completions", "完成培训(人次)", "training completions", RP_COUNT, T_COMPLETIONS, 0, false},
    {"trainees", "参训人员(人)", "distinct trainees", RP_COUNT, T_TRAINEES, 0, false},
    {"hours", "培训学时", "training hours", RP_COUNT, T_HOURS, 0, false},
    {"passed", "考核合格(人次)", "passed", RP_COUNT, T_PASSED, 0, false},
    {"pass_rate", "合格率(合格÷完成)", "pass rate (passed ÷ completions)", RP_RATIO, T_PASSED, T_COMPLETIONS, false},
    {"from_poor_village", "贫困村学员(人次)", "completions by trainees from poor villages", RP_COUNT, T_POOR, 0,
     false},
    {"poor_village_share", "贫困村学员占比", "share from poor villages (of completions)", RP_RATIO, T_POOR,
     T_COMPLETIONS, false},
};

const rp_section_def_t rp_sections[RP_NSECTIONS] = {
    {"visits", "干部下基层", "Cadres at the grassroots", "visits", visit_measures, (int)LEN(visit_measures),
     "visit_cadres", "cadre_id", visit_figures, LEN(visit_figures)},
    {"petitions", "信访接待", "Petitions", "petitions", petition_measures, (int)LEN(petition_measures), NULL,
     NULL, petition_figures, LEN(petition_figures)},
    {"disaster_responses", "抢险救灾", "Disaster response", "disaster_responses", disaster_measures,
     (int)LEN(disaster_measures), "disaster_incidents", "incident_id", disaster_figures, LEN(disaster_figures)},
    {"trainings", "教育培训", "Training", "trainings", training_measures, (int)LEN(training_measures),
     "training_trainees", "trainee_id", training_figures, LEN(training_figures)},
};

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
static const int hazard_columns[] = {D_INCIDENTS, D_RESPONSES, D_RESPONDERS, D_PARTY, D_EVACUATED,
                                     D_RESCUED, D_DEATHS, D_INJURED, D_HOUSEHOLDS};
static const int training_columns[] = {T_COMPLETIONS, T_HOURS, T_PASSED, T_POOR};

const rp_breakdown_def_t rp_breakdowns[RP_NBREAKDOWNS] = {
    {"by_hazard", "按灾种", "by hazard", RP_DISASTERS, "hazard", true, hazards, LEN(hazards),
     hazard_columns, LEN(hazard_columns)},
    {"by_role", "按学员类别", "by trainee role", RP_TRAININGS, "trainee_role", false, roles, LEN(roles),
     training_columns, LEN(training_columns)},
    {"by_base", "按培训基地", "by training base", RP_TRAININGS, "training_base", false, bases, LEN(bases),
     training_columns, LEN(training_columns)},
};

const rp_metric_t rp_metrics[RP_NMETRICS] = {
    {"cadres", "下基层干部", "cadres", RP_VISITS, V_CADRES},
    {"visits", "走访", "visits", RP_VISITS, V_VISITS},
    {"people_met", "走访群众", "people met", RP_VISITS, V_PEOPLE},
    {"petitions_received", "受理信访", "petitions", RP_PETITIONS, P_RECEIVED},
    {"petitions_resolved", "办结信访", "resolved", RP_PETITIONS, P_RESOLVED},
    {"disaster_responses", "救灾出动", "responses", RP_DISASTERS, D_RESPONSES},
    {"training_completions", "完成培训", "trainings", RP_TRAININGS, T_COMPLETIONS},
};

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

bool rp_freshness_total(const jc_report_t *r, int64_t *lag, int64_t *newest_ms)
{
    bool any = false;
    *lag = *newest_ms = 0;
    for (size_t i = 0; i < r->nfresh; i++) {
        *lag += r->fresh[i].lag;
        if (r->fresh[i].has_newest && (!any || r->fresh[i].newest_ms > *newest_ms))
            *newest_ms = r->fresh[i].newest_ms;
        any |= r->fresh[i].has_newest;
    }
    return any;
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
