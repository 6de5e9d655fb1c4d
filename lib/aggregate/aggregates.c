/*
 * aggregates.c: the aggregate tables of schemas/sql, described once (see jiceng/aggregates.h).
 *
 * One row per sum column: its SQL name, how an event's value derives from the event's fields
 * (named as in lib/fields.c), the condition under which it counts, and the report's labels. A
 * column added to a table by a migration needs one row here (and the generator's truth);
 * nothing else spells the columns out. The array order is the flush order. Field names are
 * resolved and checked once (plan.c); the SQL is derived in aggsql.c.
 */
#include <string.h>

#include "../internal.h"
#include "jiceng/aggregates.h"

/* The columns of a sum table and their number, which the compiler checks against
 * JC_AGG_MAX_COLUMNS (a negative array size stops the build). */
#define COLUMNS(a) (a), (int)(JC_ARRAY_LEN(a) * sizeof(char[JC_ARRAY_LEN(a) <= JC_AGG_MAX_COLUMNS ? 1 : -1]))

#define DAY (24 * 3600)

/* Corrections (issue 13, migration 010): every sums table counts, per key, the versions in
 * force that are corrections and the withdrawn ones (a withdrawn version adds only this). */
#define CORRECTIONS                                                                            \
    {.name = "corrected", .op = JC_AGG_CORRECTED, .zh = "其中更正(件)", .en = "corrected"},       \
    {.name = "withdrawn", .op = JC_AGG_WITHDRAWN, .zh = "撤回(件)", .en = "withdrawn"}

static const jc_agg_column_t visit_columns[] = {
    {.name = "visits", .op = JC_AGG_ONE, .zh = "走访(次)", .en = "visits"},
    {.name = "households_visited", .op = JC_AGG_VALUE, .field = "households_visited",
     .zh = "走访农户(户次)", .en = "households visited"},
    {.name = "people_met", .op = JC_AGG_VALUE, .field = "people_met",
     .zh = "走访群众(人次)", .en = "people met"},
    {.name = "deeds_done", .op = JC_AGG_VALUE, .field = "deeds_done",
     .zh = "办实事(件)", .en = "practical deeds done"},
    {.name = "problems_solved", .op = JC_AGG_VALUE, .field = "problems_solved",
     .zh = "解决问题(个)", .en = "problems solved"},
    {.name = "overnight_stays", .op = JC_AGG_VALUE, .field = "stayed_overnight",
     .zh = "驻村住宿(夜)", .en = "overnight stays in villages"},
    {.name = "hours_on_site", .op = JC_AGG_VALUE, .field = "hours_on_site",
     .zh = "在基层时长(小时)", .en = "hours on site"},
    CORRECTIONS,
};

/* A petition's steps add to different columns of one row: a RECEIVED step on the day it was
 * received, a RESOLVED step (with its time since receipt) on the day it was resolved, a
 * FOLLOWED_UP step on the day of the follow-up. */
#define RECEIVED .when_field = "stage", .when_symbol = "RECEIVED"
#define RESOLVED .when_field = "stage", .when_symbol = "RESOLVED"
#define FOLLOWED_UP .when_field = "stage", .when_symbol = "FOLLOWED_UP"

static const jc_agg_column_t petition_columns[] = {
    {.name = "received", .op = JC_AGG_ONE, RECEIVED,
     .zh = "受理信访(批次)", .en = "petition batches received"},
    {.name = "people_received", .op = JC_AGG_VALUE, .field = "people", RECEIVED,
     .zh = "接待群众(人次)", .en = "people received"},
    {.name = "resolved", .op = JC_AGG_ONE, RESOLVED, .zh = "办结(件)", .en = "petitions resolved"},
    {.name = "resolution_seconds", .op = JC_AGG_SECONDS_SINCE, .field = "received_at", RESOLVED,
     .zh = "办结用时合计(秒)", .en = "total resolution time in seconds", .detail = true},
    {.name = "resolved_within_1d", .op = JC_AGG_WITHIN, .field = "received_at", .arg = 1 * DAY,
     RESOLVED, .zh = "1日内办结(件)", .en = "resolved within 1 day", .detail = true},
    {.name = "resolved_within_7d", .op = JC_AGG_WITHIN, .field = "received_at", .arg = 7 * DAY,
     RESOLVED, .zh = "7日内办结(件)", .en = "resolved within 7 days", .detail = true},
    {.name = "resolved_within_30d", .op = JC_AGG_WITHIN, .field = "received_at", .arg = 30 * DAY,
     RESOLVED, .zh = "30日内办结(件)", .en = "resolved within 30 days", .detail = true},
    {.name = "followed_up", .op = JC_AGG_ONE, FOLLOWED_UP, .zh = "回访(件)", .en = "follow-ups"},
    {.name = "followups_answered", .op = JC_AGG_PRESENT, .field = "satisfied", FOLLOWED_UP,
     .zh = "回访有答复(件)", .en = "follow-ups that answered"},
    {.name = "satisfied", .op = JC_AGG_TRUE, .field = "satisfied", FOLLOWED_UP,
     .zh = "表示满意(件)", .en = "satisfied"},
    CORRECTIONS,
};

static const jc_agg_column_t disaster_columns[] = {
    {.name = "responses", .op = JC_AGG_ONE, .zh = "出动(次)", .en = "responses"},
    {.name = "responders", .op = JC_AGG_VALUE, .field = "responders",
     .zh = "出动人员(人次)", .en = "responders"},
    {.name = "party_member_responders", .op = JC_AGG_VALUE, .field = "party_member_responders",
     .zh = "其中党员(人次)", .en = "party-member responders"},
    {.name = "people_evacuated", .op = JC_AGG_VALUE, .field = "people_evacuated",
     .zh = "转移群众(人)", .en = "people evacuated"},
    {.name = "people_rescued", .op = JC_AGG_VALUE, .field = "people_rescued",
     .zh = "救出群众(人)", .en = "people rescued"},
    {.name = "deaths", .op = JC_AGG_VALUE, .field = "deaths", .zh = "死亡(人)", .en = "deaths"},
    {.name = "injured", .op = JC_AGG_VALUE, .field = "injured", .zh = "受伤(人)", .en = "injured"},
    {.name = "households_assisted", .op = JC_AGG_VALUE, .field = "households_assisted",
     .zh = "帮扶受灾户(户)", .en = "households assisted"},
    CORRECTIONS,
};

static const jc_agg_column_t training_columns[] = {
    {.name = "completions", .op = JC_AGG_ONE, .zh = "完成培训(人次)", .en = "training completions"},
    {.name = "hours", .op = JC_AGG_VALUE, .field = "hours", .zh = "培训学时", .en = "training hours"},
    {.name = "passed", .op = JC_AGG_VALUE, .field = "passed", .zh = "考核合格(人次)", .en = "passed"},
    {.name = "from_poor_village", .op = JC_AGG_VALUE, .field = "from_poor_village",
     .zh = "贫困村学员(人次)", .en = "completions by trainees from poor villages"},
    CORRECTIONS,
};

static const jc_aggregate_t aggregates[] = {
    {.table = "visits_daily", .stem = "visits", .type = JC_VISIT, .kind = JC_AGG_SUMS,
     .ndims = 1, .dims = {"cadre_level"}, .columns = COLUMNS(visit_columns),
     .key = "visits", .zh = "干部下基层", .en = "Cadres at the grassroots"},
    {.table = "visit_cadres", .stem = "visit_cadres", .type = JC_VISIT, .kind = JC_AGG_DISTINCT,
     .id = "cadre_id", .key = "cadres", .zh = "下基层干部(人)", .en = "distinct cadres who went down"},
    {.table = "petitions_daily", .stem = "petitions", .type = JC_PETITION, .kind = JC_AGG_SUMS,
     .ndims = 1, .dims = {"channel"}, .columns = COLUMNS(petition_columns),
     .key = "petitions", .zh = "信访接待", .en = "Petitions"},
    {.table = "disaster_responses_daily", .stem = "disaster_responses", .type = JC_DISASTER_RESPONSE,
     .kind = JC_AGG_SUMS, .ndims = 1, .dims = {"hazard"}, .columns = COLUMNS(disaster_columns),
     .key = "disaster_responses", .zh = "抢险救灾", .en = "Disaster response"},
    {.table = "disaster_incidents", .stem = "disaster_incidents", .type = JC_DISASTER_RESPONSE,
     .kind = JC_AGG_DISTINCT, .ndims = 1, .dims = {"hazard"}, .id = "incident_id",
     .key = "incidents", .zh = "灾情(起)", .en = "distinct incidents"},
    {.table = "trainings_daily", .stem = "trainings", .type = JC_TRAINING_COMPLETION,
     .kind = JC_AGG_SUMS, .ndims = 2, .dims = {"trainee_role", "training_base"},
     .columns = COLUMNS(training_columns), .key = "trainings", .zh = "教育培训", .en = "Training"},
    {.table = "training_trainees", .stem = "training_trainees", .type = JC_TRAINING_COMPLETION,
     .kind = JC_AGG_DISTINCT, .id = "trainee_id", .key = "trainees", .zh = "参训人员(人)",
     .en = "distinct trainees"},
};

_Static_assert(JC_ARRAY_LEN(aggregates) <= JC_AGG_MAX_TABLES,
               "JC_AGG_MAX_TABLES (jiceng/aggregates.h) bounds the aggregates described here");

const jc_aggregate_t *jc_aggregates(size_t *count)
{
    *count = JC_ARRAY_LEN(aggregates);
    return aggregates;
}

const jc_aggregate_t *jc_aggregate_named(const char *table)
{
    for (size_t i = 0; i < JC_ARRAY_LEN(aggregates); i++)
        if (strcmp(aggregates[i].table, table) == 0)
            return &aggregates[i];
    return NULL;
}

int jc_agg_column_index(const jc_aggregate_t *a, const char *name)
{
    for (int i = 0; i < a->ncolumns; i++)
        if (strcmp(a->columns[i].name, name) == 0)
            return i;
    return -1;
}
