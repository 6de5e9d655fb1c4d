/*
 * test_aggregates.c: the aggregate description and what is derived from it, without services.
 *
 *  - the fold: a handcrafted set of events of every type is folded, and every row of every
 *    aggregate table (key and each column's sum, looked up by column name) equals the value
 *    worked out by hand here from the events -- local-day edges, petition stages, the
 *    within-1/7/30-days bounds (equal counts, one second over does not, seconds truncated),
 *    follow-ups answered or not, a cadre, incident or trainee seen twice counted once;
 *  - the compile step: a description naming a missing field, a field of the wrong kind, an
 *    unknown condition symbol, a non-enum dimension, a non-string id, ... fails naming it;
 *  - the SQL: the flush's upsert and the report views of a small description, as exact text;
 *    for every real table, sums are added on conflict (x = t.x + excluded.x, never
 *    overwritten), and so are distinct rows' events; the prune statement of corrections;
 *  - corrections: a version's contribution recorded as the fold adds it, then subtracted from
 *    its ledger record, leaves every map entry at 0 (net deltas, negative where the batch had
 *    nothing to subtract from); a withdrawn version adds only the withdrawn column and no
 *    distinct row; a correction adds the corrected column.
 */
#include "testenv.h"

#include <string.h>

#include "../../lib/aggregate/aggsql.h"
#include "../../lib/aggregate/fold.h"
#include "../../lib/aggregate/plan.h"
#include "jiceng/fields.h"
#include "jiceng/jtime.h"

/* Local days (Asia/Shanghai) as days since 1970-01-01, and instants, worked out separately. */
#define JUN1 20240
#define JUN2 20241
#define JUN3 20242
#define AT_JUN1_0900 1748739600000LL   /* 2025-06-01T01:00:00Z = 09:00 local */
#define AT_JUN1_2359 1748793599999LL   /* 2025-06-01T15:59:59.999Z = 23:59:59.999 local */
#define AT_JUN2_0000 1748793600000LL   /* 2025-06-01T16:00:00Z = 00:00 local, June 2 */
#define AT_JUN3_1000 1748916000000LL   /* 2025-06-03T02:00:00Z */
#define DAY_MS (86400 * 1000LL)

static const jc_aggregate_t *agg(const char *table)
{
    const jc_aggregate_t *a = jc_aggregate_named(table);
    assert_non_null(a);
    return a;
}

static size_t agg_index(const char *table)
{
    size_t n;
    return (size_t)(agg(table) - jc_aggregates(&n));
}

/* The sums of table's row (county, day, d0, d1), failing if the fold has no such row. */
static const int64_t *row_of(const jc_fold_t *f, const char *table, int32_t county, int32_t day, int32_t d0,
                             int32_t d1)
{
    const jc_keymap_t *m = &f->maps[agg_index(table)];
    for (size_t i = 0; i < m->count; i++) {
        const jc_fold_key_t *k = (const jc_fold_key_t *)jc_keymap_key(m, i);
        if (k->county == county && k->day == day && k->dim[0] == d0 && k->dim[1] == d1)
            return (const int64_t *)jc_keymap_value(m, i);
    }
    fail_msg("%s has no row (%d, %d, %d, %d)", table, (int)county, (int)day, (int)d0, (int)d1);
    return NULL;
}

/* Column name of table's row equals want. */
static void expect_sum(const jc_fold_t *f, const char *table, int32_t county, int32_t day, int32_t d0, int32_t d1,
                       const char *column, int64_t want)
{
    int c = jc_agg_column_index(agg(table), column);
    assert_true(c >= 0);
    const int64_t *s = row_of(f, table, county, day, d0, d1);
    if (s[c] != want)
        fail_msg("%s (%d, %d, %d, %d).%s = %lld, expected %lld", table, (int)county, (int)day, (int)d0, (int)d1,
                 column, (long long)s[c], (long long)want);
}

/* The distinct table holds (county, day, d0, id). */
static bool has_id(const jc_fold_t *f, const char *table, int32_t county, int32_t day, int32_t d0, const char *id)
{
    const jc_keymap_t *m = &f->maps[agg_index(table)];
    for (size_t i = 0; i < m->count; i++) {
        const jc_fold_key_t *k = (const jc_fold_key_t *)jc_keymap_key(m, i);
        if (k->county == county && k->day == day && k->dim[0] == d0 && strcmp(k->id, id) == 0)
            return true;
    }
    return false;
}

static size_t rows(const jc_fold_t *f, const char *table)
{
    return f->maps[agg_index(table)].count;
}

static void fold(jc_fold_t *f, const jc_event_t *ev)
{
    assert_int_equal(jc_fold_event(f, ev), JC_OK);
}

/* ---- the fold ------------------------------------------------------------------------ */

static void visit(jc_fold_t *f, int64_t at, const char *cadre, int level, int households, int people, int deeds,
                  int problems, bool overnight, int hours)
{
    jc_event_t ev;
    jc_event_init(&ev, JC_VISIT);
    ev.occurred_at = at;
    ev.county_code = 520102;
    snprintf(ev.u.visit.cadre_id, sizeof ev.u.visit.cadre_id, "%s", cadre);
    ev.u.visit.cadre_level = level;
    ev.u.visit.households_visited = households;
    ev.u.visit.people_met = people;
    ev.u.visit.deeds_done = deeds;
    ev.u.visit.problems_solved = problems;
    ev.u.visit.stayed_overnight = overnight;
    ev.u.visit.hours_on_site = hours;
    fold(f, &ev);
}

static void folds_visits(void **state)
{
    (void)state;
    jc_fold_t f;
    jc_fold_init(&f);
    visit(&f, AT_JUN1_0900, "C-1", JC_CADRE_COUNTY, 3, 7, 1, 2, true, 5);
    visit(&f, AT_JUN1_2359, "C-1", JC_CADRE_COUNTY, 4, 11, 0, 1, false, 2);
    visit(&f, AT_JUN2_0000, "C-2", JC_CADRE_TOWNSHIP, 1, 2, 3, 0, true, 9);
    const char *t = "visits_daily";
    expect_sum(&f, t, 520102, JUN1, JC_CADRE_COUNTY, 0, "visits", 2);
    expect_sum(&f, t, 520102, JUN1, JC_CADRE_COUNTY, 0, "households_visited", 7);
    expect_sum(&f, t, 520102, JUN1, JC_CADRE_COUNTY, 0, "people_met", 18);
    expect_sum(&f, t, 520102, JUN1, JC_CADRE_COUNTY, 0, "deeds_done", 1);
    expect_sum(&f, t, 520102, JUN1, JC_CADRE_COUNTY, 0, "problems_solved", 3);
    expect_sum(&f, t, 520102, JUN1, JC_CADRE_COUNTY, 0, "overnight_stays", 1);
    expect_sum(&f, t, 520102, JUN1, JC_CADRE_COUNTY, 0, "hours_on_site", 7);
    expect_sum(&f, t, 520102, JUN2, JC_CADRE_TOWNSHIP, 0, "visits", 1);
    expect_sum(&f, t, 520102, JUN2, JC_CADRE_TOWNSHIP, 0, "households_visited", 1);
    expect_sum(&f, t, 520102, JUN2, JC_CADRE_TOWNSHIP, 0, "people_met", 2);
    expect_sum(&f, t, 520102, JUN2, JC_CADRE_TOWNSHIP, 0, "deeds_done", 3);
    expect_sum(&f, t, 520102, JUN2, JC_CADRE_TOWNSHIP, 0, "problems_solved", 0);
    expect_sum(&f, t, 520102, JUN2, JC_CADRE_TOWNSHIP, 0, "overnight_stays", 1);
    expect_sum(&f, t, 520102, JUN2, JC_CADRE_TOWNSHIP, 0, "hours_on_site", 9);
    assert_int_equal(rows(&f, t), 2);
    assert_true(has_id(&f, "visit_cadres", 520102, JUN1, 0, "C-1")); /* twice that day: once */
    assert_true(has_id(&f, "visit_cadres", 520102, JUN2, 0, "C-2"));
    assert_int_equal(rows(&f, "visit_cadres"), 2);
    assert_int_equal(f.events, 3);
    assert_int_equal(f.newest_event_ms, AT_JUN2_0000);
    jc_fold_free(&f);
}

static void petition(jc_fold_t *f, int stage, int people, int64_t since_received_ms, jc_opt_bool_t satisfied)
{
    jc_event_t ev;
    jc_event_init(&ev, JC_PETITION);
    ev.occurred_at = AT_JUN3_1000;
    ev.county_code = 520103;
    snprintf(ev.u.petition.petition_id, sizeof ev.u.petition.petition_id, "P-1");
    ev.u.petition.stage = stage;
    ev.u.petition.channel = JC_CHANNEL_ONLINE;
    ev.u.petition.people = people;
    ev.u.petition.received_at.present = stage != JC_STAGE_RECEIVED;
    ev.u.petition.received_at.ms = stage != JC_STAGE_RECEIVED ? AT_JUN3_1000 - since_received_ms : 0;
    ev.u.petition.satisfied = satisfied;
    fold(f, &ev);
}

static void folds_petitions_by_stage(void **state)
{
    (void)state;
    jc_fold_t f;
    jc_fold_init(&f);
    petition(&f, JC_STAGE_RECEIVED, 4, 0, JC_NULL);
    petition(&f, JC_STAGE_RECEIVED, 1, 0, JC_NULL);
    /* resolutions: exactly 1 day; 1 day + 999 ms (whole seconds: still 1 day); 1 day + 1 s;
     * exactly 30 days; 30 days + 1 s. Their people do not count as received. */
    petition(&f, JC_STAGE_RESOLVED, 9, DAY_MS, JC_NULL);
    petition(&f, JC_STAGE_RESOLVED, 9, DAY_MS + 999, JC_NULL);
    petition(&f, JC_STAGE_RESOLVED, 9, DAY_MS + 1000, JC_NULL);
    petition(&f, JC_STAGE_RESOLVED, 9, 30 * DAY_MS, JC_NULL);
    petition(&f, JC_STAGE_RESOLVED, 9, 30 * DAY_MS + 1000, JC_NULL);
    /* follow-ups: no answer, satisfied, not satisfied, satisfied */
    petition(&f, JC_STAGE_FOLLOWED_UP, 9, 40 * DAY_MS, JC_NULL);
    petition(&f, JC_STAGE_FOLLOWED_UP, 9, 40 * DAY_MS, 1);
    petition(&f, JC_STAGE_FOLLOWED_UP, 9, 40 * DAY_MS, 0);
    petition(&f, JC_STAGE_FOLLOWED_UP, 9, 40 * DAY_MS, 1);
    const char *t = "petitions_daily";
    const int32_t ch = JC_CHANNEL_ONLINE;
    expect_sum(&f, t, 520103, JUN3, ch, 0, "received", 2);
    expect_sum(&f, t, 520103, JUN3, ch, 0, "people_received", 5);
    expect_sum(&f, t, 520103, JUN3, ch, 0, "resolved", 5);
    expect_sum(&f, t, 520103, JUN3, ch, 0, "resolution_seconds", 86400 + 86400 + 86401 + 2592000 + 2592001);
    expect_sum(&f, t, 520103, JUN3, ch, 0, "resolved_within_1d", 2);
    expect_sum(&f, t, 520103, JUN3, ch, 0, "resolved_within_7d", 3);
    expect_sum(&f, t, 520103, JUN3, ch, 0, "resolved_within_30d", 4);
    expect_sum(&f, t, 520103, JUN3, ch, 0, "followed_up", 4);
    expect_sum(&f, t, 520103, JUN3, ch, 0, "followups_answered", 3);
    expect_sum(&f, t, 520103, JUN3, ch, 0, "satisfied", 2);
    assert_int_equal(rows(&f, t), 1);
    jc_fold_free(&f);
}

static void disaster(jc_fold_t *f, const char *incident, int hazard, const int v[7])
{
    jc_event_t ev;
    jc_event_init(&ev, JC_DISASTER_RESPONSE);
    ev.occurred_at = AT_JUN1_0900;
    ev.county_code = 520111;
    snprintf(ev.u.disaster_response.incident_id, sizeof ev.u.disaster_response.incident_id, "%s", incident);
    ev.u.disaster_response.hazard = hazard;
    ev.u.disaster_response.responders = v[0];
    ev.u.disaster_response.party_member_responders = v[1];
    ev.u.disaster_response.people_evacuated = v[2];
    ev.u.disaster_response.people_rescued = v[3];
    ev.u.disaster_response.deaths = v[4];
    ev.u.disaster_response.injured = v[5];
    ev.u.disaster_response.households_assisted = v[6];
    fold(f, &ev);
}

static void folds_disaster_responses(void **state)
{
    (void)state;
    jc_fold_t f;
    jc_fold_init(&f);
    disaster(&f, "I-1", JC_HAZARD_FLOOD, (const int[]){10, 3, 50, 2, 0, 1, 12});
    disaster(&f, "I-1", JC_HAZARD_FLOOD, (const int[]){5, 1, 20, 0, 1, 0, 4});
    disaster(&f, "I-2", JC_HAZARD_LANDSLIDE, (const int[]){7, 2, 6, 3, 2, 5, 1});
    const char *t = "disaster_responses_daily";
    static const char *const cols[] = {"responders", "party_member_responders", "people_evacuated",
                                       "people_rescued", "deaths", "injured", "households_assisted"};
    static const int64_t flood[] = {15, 4, 70, 2, 1, 1, 16}, landslide[] = {7, 2, 6, 3, 2, 5, 1};
    expect_sum(&f, t, 520111, JUN1, JC_HAZARD_FLOOD, 0, "responses", 2);
    expect_sum(&f, t, 520111, JUN1, JC_HAZARD_LANDSLIDE, 0, "responses", 1);
    for (int i = 0; i < 7; i++) {
        expect_sum(&f, t, 520111, JUN1, JC_HAZARD_FLOOD, 0, cols[i], flood[i]);
        expect_sum(&f, t, 520111, JUN1, JC_HAZARD_LANDSLIDE, 0, cols[i], landslide[i]);
    }
    assert_int_equal(rows(&f, t), 2);
    assert_true(has_id(&f, "disaster_incidents", 520111, JUN1, JC_HAZARD_FLOOD, "I-1"));
    assert_true(has_id(&f, "disaster_incidents", 520111, JUN1, JC_HAZARD_LANDSLIDE, "I-2"));
    assert_int_equal(rows(&f, "disaster_incidents"), 2);
    jc_fold_free(&f);
}

static void training(jc_fold_t *f, const char *trainee, int hours, bool passed, bool poor)
{
    jc_event_t ev;
    jc_event_init(&ev, JC_TRAINING_COMPLETION);
    ev.occurred_at = AT_JUN1_0900;
    ev.county_code = 520121;
    snprintf(ev.u.training_completion.trainee_id, sizeof ev.u.training_completion.trainee_id, "%s", trainee);
    snprintf(ev.u.training_completion.programme, sizeof ev.u.training_completion.programme, "p");
    ev.u.training_completion.trainee_role = JC_ROLE_VILLAGE_CADRE;
    ev.u.training_completion.training_base = JC_BASE_ONLINE;
    ev.u.training_completion.hours = hours;
    ev.u.training_completion.passed = passed;
    ev.u.training_completion.from_poor_village = poor;
    fold(f, &ev);
}

static void folds_trainings(void **state)
{
    (void)state;
    jc_fold_t f;
    jc_fold_init(&f);
    training(&f, "T-1", 8, true, true);
    training(&f, "T-1", 16, false, true);
    training(&f, "T-2", 4, true, false);
    const char *t = "trainings_daily";
    const int32_t role = JC_ROLE_VILLAGE_CADRE, base = JC_BASE_ONLINE;
    expect_sum(&f, t, 520121, JUN1, role, base, "completions", 3);
    expect_sum(&f, t, 520121, JUN1, role, base, "hours", 28);
    expect_sum(&f, t, 520121, JUN1, role, base, "passed", 2);
    expect_sum(&f, t, 520121, JUN1, role, base, "from_poor_village", 2);
    assert_int_equal(rows(&f, t), 1);
    assert_true(has_id(&f, "training_trainees", 520121, JUN1, 0, "T-1"));
    assert_true(has_id(&f, "training_trainees", 520121, JUN1, 0, "T-2"));
    assert_int_equal(rows(&f, "training_trainees"), 2);
    jc_fold_reset(&f);
    size_t n;
    jc_aggregates(&n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(f.maps[i].count, 0);
    assert_int_equal(f.events, 0);
    jc_fold_free(&f);
}

/* jc_agg_event_row: what the benchmark's baseline upserts, the fold's own computation. */
static void event_row_is_the_folds_row(void **state)
{
    (void)state;
    jc_event_t ev;
    jc_agg_row_t row;
    jc_event_init(&ev, JC_VISIT);
    ev.occurred_at = AT_JUN2_0000;
    ev.county_code = 520102;
    ev.u.visit.cadre_level = JC_CADRE_VILLAGE_TASK_FORCE;
    ev.u.visit.people_met = 6;
    const jc_aggregate_t *a = agg("visits_daily");
    assert_int_equal(jc_agg_event_row(a, &ev, &row), JC_OK);
    assert_int_equal(row.county, 520102);
    assert_int_equal(row.day, JUN2);
    assert_string_equal(jc_agg_dim_symbol(a, 0, row.dim[0]), "VILLAGE_TASK_FORCE");
    assert_int_equal(row.value[jc_agg_column_index(a, "people_met")], 6);
    assert_int_equal(row.value[jc_agg_column_index(a, "visits")], 1);
    assert_int_equal(jc_agg_event_row(agg("petitions_daily"), &ev, &row), JC_ERR_INVALID_ARG);
    assert_string_equal(jc_agg_dim_symbol(a, 0, 99), "?");
}

/* ---- the compile step ---------------------------------------------------------------- */

/* ---- corrections: subtracting a version from its ledger record ---------------------- */

static jc_event_t a_visit(int64_t at, const char *cadre, int level, int people)
{
    jc_event_t ev;
    jc_event_init(&ev, JC_VISIT);
    ev.occurred_at = at;
    ev.county_code = 520102;
    snprintf(ev.u.visit.cadre_id, sizeof ev.u.visit.cadre_id, "%s", cadre);
    ev.u.visit.cadre_level = level;
    ev.u.visit.people_met = people;
    ev.u.visit.hours_on_site = 2;
    return ev;
}

/* Fold ev with its record, as the aggregator does, into rec. */
static void fold_recorded(jc_fold_t *f, const jc_event_t *ev, jc_buf_t *rec)
{
    assert_int_equal(jc_record_begin(rec, 1, ev->revision, ev->withdrawn, ev->county_code,
                                     jc_local_day(ev->occurred_at)), JC_OK);
    assert_int_equal(jc_fold_event_rec(f, ev, rec), JC_OK);
}

static void subtract(jc_fold_t *f, const jc_buf_t *rec)
{
    jc_version_t v;
    assert_int_equal(jc_record_decode(rec->data, rec->len, &v), JC_OK);
    assert_int_equal(jc_fold_subtract(f, JC_VISIT, &v), JC_OK);
}

/* The distinct table's net events for (county, day, id), failing if it has no entry. */
static int64_t events_of(const jc_fold_t *f, const char *table, int32_t day, const char *id)
{
    const jc_keymap_t *m = &f->maps[agg_index(table)];
    for (size_t i = 0; i < m->count; i++) {
        const jc_fold_key_t *k = (const jc_fold_key_t *)jc_keymap_key(m, i);
        if (k->day == day && strcmp(k->id, id) == 0)
            return *(const int64_t *)jc_keymap_value(m, i);
    }
    fail_msg("%s has no entry for %s on day %d", table, id, (int)day);
    return 0;
}

/* Every entry of every map is 0: what was added was subtracted exactly. */
static void all_zero(const jc_fold_t *f)
{
    size_t n;
    const jc_aggregate_t *all = jc_aggregates(&n);
    for (size_t t = 0; t < n; t++) {
        const jc_keymap_t *m = &f->maps[t];
        int width = all[t].kind == JC_AGG_DISTINCT ? 1 : all[t].ncolumns;
        for (size_t e = 0; e < m->count; e++)
            for (int c = 0; c < width; c++)
                if (((const int64_t *)jc_keymap_value(m, e))[c] != 0)
                    fail_msg("%s entry %zu column %d is not 0", all[t].table, e, c);
    }
}

static void folds_corrections_as_net_deltas(void **state)
{
    (void)state;
    jc_fold_t f;
    jc_buf_t r0 = {0}, r1 = {0}, r2 = {0};
    jc_fold_init(&f);
    const char *t = "visits_daily";
    /* the original, applied in an earlier batch: only its subtraction is in this one */
    jc_event_t v0 = a_visit(AT_JUN1_0900, "C-1", JC_CADRE_COUNTY, 140);
    fold_recorded(&f, &v0, &r0);
    jc_fold_reset(&f);
    /* the correction moves it to another day and level, and fixes the people met */
    jc_event_t v1 = a_visit(AT_JUN2_0000, "C-1", JC_CADRE_TOWNSHIP, 14);
    v1.revision = 1;
    subtract(&f, &r0);
    fold_recorded(&f, &v1, &r1);
    expect_sum(&f, t, 520102, JUN1, JC_CADRE_COUNTY, 0, "visits", -1);
    expect_sum(&f, t, 520102, JUN1, JC_CADRE_COUNTY, 0, "people_met", -140);
    expect_sum(&f, t, 520102, JUN1, JC_CADRE_COUNTY, 0, "hours_on_site", -2);
    expect_sum(&f, t, 520102, JUN1, JC_CADRE_COUNTY, 0, "corrected", 0);
    expect_sum(&f, t, 520102, JUN2, JC_CADRE_TOWNSHIP, 0, "visits", 1);
    expect_sum(&f, t, 520102, JUN2, JC_CADRE_TOWNSHIP, 0, "people_met", 14);
    expect_sum(&f, t, 520102, JUN2, JC_CADRE_TOWNSHIP, 0, "corrected", 1);
    expect_sum(&f, t, 520102, JUN2, JC_CADRE_TOWNSHIP, 0, "withdrawn", 0);
    assert_int_equal(events_of(&f, "visit_cadres", JUN1, "C-1"), -1);
    assert_int_equal(events_of(&f, "visit_cadres", JUN2, "C-1"), 1);
    /* in the same batch, a withdrawal of the correction: only the withdrawn column remains */
    jc_event_t v2 = v1;
    v2.revision = 2;
    v2.withdrawn = true;
    subtract(&f, &r1);
    fold_recorded(&f, &v2, &r2);
    expect_sum(&f, t, 520102, JUN2, JC_CADRE_TOWNSHIP, 0, "visits", 0);
    expect_sum(&f, t, 520102, JUN2, JC_CADRE_TOWNSHIP, 0, "people_met", 0);
    expect_sum(&f, t, 520102, JUN2, JC_CADRE_TOWNSHIP, 0, "corrected", 0);
    expect_sum(&f, t, 520102, JUN2, JC_CADRE_TOWNSHIP, 0, "withdrawn", 1);
    assert_int_equal(events_of(&f, "visit_cadres", JUN2, "C-1"), 0);
    assert_int_equal(rows(&f, "visit_cadres"), 2); /* the withdrawal added no distinct row */
    /* what each version recorded is what it added: -v0 +v1 -v1 +v2 -v2 +v0 nets to 0 */
    subtract(&f, &r2);
    fold_recorded(&f, &v0, &r0);
    all_zero(&f);
    jc_fold_free(&f);
    jc_buf_free(&r0);
    jc_buf_free(&r1);
    jc_buf_free(&r2);
}

/* A withdrawn event's row: the withdrawn column only; no distinct row; a record from another
 * description does not subtract (and subtracts nothing). */
static void withdrawn_rows_and_foreign_records(void **state)
{
    (void)state;
    jc_event_t ev = a_visit(AT_JUN1_0900, "C-9", JC_CADRE_COUNTY, 5);
    ev.revision = 4;
    ev.withdrawn = true;
    jc_agg_row_t row;
    const jc_aggregate_t *a = agg("visits_daily");
    assert_int_equal(jc_agg_event_row(a, &ev, &row), JC_OK);
    for (int c = 0; c < a->ncolumns; c++)
        assert_int_equal(row.value[c], strcmp(a->columns[c].name, "withdrawn") == 0);
    assert_int_equal(jc_agg_event_row(agg("visit_cadres"), &ev, &row), JC_OK);
    assert_null(row.id);
    ev.withdrawn = false;
    assert_int_equal(jc_agg_event_row(a, &ev, &row), JC_OK);
    assert_int_equal(row.value[jc_agg_column_index(a, "corrected")], 1);
    assert_int_equal(row.value[jc_agg_column_index(a, "visits")], 1);

    jc_fold_t f;
    jc_buf_t rec = {0};
    jc_fold_init(&f);
    fold_recorded(&f, &ev, &rec);
    jc_fold_reset(&f);
    jc_version_t v;
    assert_int_equal(jc_record_decode(rec.data, rec.len, &v), JC_OK);
    assert_int_equal(jc_fold_subtract(&f, JC_TRAINING_COMPLETION, &v), JC_ERR_MALFORMED);
    assert_int_equal(rows(&f, "trainings_daily") + rows(&f, "training_trainees"), 0);
    v.rows_len--; /* cut short: nothing folded */
    assert_int_equal(jc_fold_subtract(&f, JC_VISIT, &v), JC_ERR_MALFORMED);
    assert_int_equal(rows(&f, "visits_daily"), 0);
    jc_fold_free(&f);
    jc_buf_free(&rec);
}

static void the_description_compiles(void **state)
{
    (void)state;
    jc_error_t err;
    assert_int_equal(jc_aggregates_check(&err), JC_OK);
    size_t n;
    const jc_aggregate_t *all = jc_aggregates(&n);
    assert_true(n >= 1 && n <= JC_AGG_MAX_TABLES);
    for (size_t i = 0; i < n; i++)
        assert_ptr_equal(jc_aggregate_named(all[i].table), &all[i]);
}

/* Compiling a one-column sums aggregate of visits with column c fails naming want. */
static void rejects_column(jc_agg_column_t c, const char *want)
{
    jc_aggregate_t a = {.table = "t_daily", .stem = "t", .type = JC_VISIT, .kind = JC_AGG_SUMS, .ndims = 1,
                        .dims = {"cadre_level"}, .columns = &c, .ncolumns = 1, .key = "t", .zh = "z", .en = "e"};
    jc_agg_plan_t p;
    jc_error_t err;
    c.zh = c.zh ? c.zh : "z";
    c.en = c.en ? c.en : "e";
    assert_int_equal(jc_agg_compile(&a, &p, &err), JC_ERR_INVALID_ARG);
    if (strstr(err.message, want) == NULL)
        fail_msg("'%s' does not name '%s'", err.message, want);
}

static void rejects_wrong_descriptions(void **state)
{
    (void)state;
    rejects_column((jc_agg_column_t){.name = "x", .op = JC_AGG_VALUE, .field = "people_mett"}, "people_mett");
    rejects_column((jc_agg_column_t){.name = "x", .op = JC_AGG_VALUE, .field = "cadre_id"}, "cadre_id");
    rejects_column((jc_agg_column_t){.name = "x", .op = JC_AGG_PRESENT, .field = "people_met"}, "people_met");
    rejects_column((jc_agg_column_t){.name = "x", .op = JC_AGG_WITHIN, .field = "hours_on_site", .arg = 9},
                   "hours_on_site");
    rejects_column((jc_agg_column_t){.name = "x", .op = JC_AGG_ONE, .field = "people_met"}, "takes no field");
    rejects_column((jc_agg_column_t){.name = "x", .op = JC_AGG_VALUE, .field = "deeds_done", .arg = 3}, "arg");
    rejects_column((jc_agg_column_t){.name = "x", .op = JC_AGG_ONE, .when_field = "cadre_level",
                                     .when_symbol = "MAYOR"}, "MAYOR");
    rejects_column((jc_agg_column_t){.name = "x", .op = JC_AGG_ONE, .when_field = "people_met",
                                     .when_symbol = "X"}, "people_met");
    rejects_column((jc_agg_column_t){.name = "x", .op = JC_AGG_ONE, .when_field = "cadre_level"}, "both");
    rejects_column((jc_agg_column_t){.name = "x; drop table t", .op = JC_AGG_ONE}, "identifier");
    rejects_column((jc_agg_column_t){.name = "cadre_level", .op = JC_AGG_ONE}, "key column");

    jc_agg_plan_t p;
    jc_error_t err;
    jc_agg_column_t one = {.name = "n", .op = JC_AGG_ONE, .zh = "z", .en = "e"};
    jc_aggregate_t a = {.table = "t_daily", .stem = "t", .type = JC_VISIT, .kind = JC_AGG_SUMS, .ndims = 1,
                        .dims = {"people_met"}, .columns = &one, .ncolumns = 1, .key = "t", .zh = "z", .en = "e"};
    assert_int_equal(jc_agg_compile(&a, &p, &err), JC_ERR_INVALID_ARG); /* a dimension must be an enum */
    assert_non_null(strstr(err.message, "people_met"));
    a.dims[0] = "cadre_level";
    assert_int_equal(jc_agg_compile(&a, &p, &err), JC_OK);
    jc_agg_column_t twice[2] = {one, one};
    a.columns = twice;
    a.ncolumns = 2;
    assert_int_equal(jc_agg_compile(&a, &p, &err), JC_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "twice"));
    jc_aggregate_t d = {.table = "t_ids", .stem = "t_ids", .type = JC_VISIT, .kind = JC_AGG_DISTINCT,
                        .id = "people_met", .key = "ids", .zh = "z", .en = "e"};
    assert_int_equal(jc_agg_compile(&d, &p, &err), JC_ERR_INVALID_ARG); /* an id must be a string */
    assert_non_null(strstr(err.message, "people_met"));
    d.id = "cadre_id";
    assert_int_equal(jc_agg_compile(&d, &p, &err), JC_OK);
    d.stem = "a_stem_far_too_long_for_postgresql_view_names";
    assert_int_equal(jc_agg_compile(&d, &p, &err), JC_ERR_INVALID_ARG);
}

/* ---- the SQL ----------------------------------------------------------------------------- */

static const jc_agg_column_t small_columns[] = {
    {.name = "a", .op = JC_AGG_ONE, .zh = "z", .en = "e"},
    {.name = "b", .op = JC_AGG_VALUE, .field = "people_met", .zh = "z", .en = "e"},
};
static const jc_aggregate_t small_sums = {.table = "t_daily", .stem = "t", .type = JC_VISIT, .kind = JC_AGG_SUMS,
                                          .ndims = 1, .dims = {"cadre_level"}, .columns = small_columns,
                                          .ncolumns = 2, .key = "t", .zh = "z", .en = "e"};
static const jc_aggregate_t small_distinct = {.table = "t_ids", .stem = "t_ids", .type = JC_VISIT,
                                              .kind = JC_AGG_DISTINCT, .ndims = 1, .dims = {"cadre_level"},
                                              .id = "cadre_id", .key = "ids", .zh = "z", .en = "e"};

static void sql_is(jc_status_t st, const jc_buf_t *sql, const char *want)
{
    assert_int_equal(st, JC_OK);
    assert_string_equal((const char *)sql->data, want);
}

static void upsert_statements(void **state)
{
    (void)state;
    jc_buf_t sql = {0};
    sql_is(jc_agg_upsert_sql(&small_sums, "jiceng", JC_AGG_ROWS_ARRAYS, &sql), &sql,
           "insert into jiceng.t_daily as t (county_code, day, cadre_level, a, b) select * from "
           "unnest($1::int[], $2::date[], $3::text[], $4::bigint[], $5::bigint[]) on conflict "
           "(county_code, day, cadre_level) do update set a = t.a + excluded.a, b = t.b + excluded.b");
    sql_is(jc_agg_upsert_sql(&small_sums, "bench", JC_AGG_ROWS_ONE, &sql), &sql,
           "insert into bench.t_daily as t (county_code, day, cadre_level, a, b) values "
           "($1::int, $2::date, $3::text, $4::bigint, $5::bigint) on conflict "
           "(county_code, day, cadre_level) do update set a = t.a + excluded.a, b = t.b + excluded.b");
    sql_is(jc_agg_upsert_sql(&small_distinct, "jiceng", JC_AGG_ROWS_ARRAYS, &sql), &sql,
           "insert into jiceng.t_ids as t (county_code, day, cadre_level, cadre_id, events) select * from "
           "unnest($1::int[], $2::date[], $3::text[], $4::text[], $5::bigint[]) on conflict "
           "(county_code, day, cadre_level, cadre_id) do update set events = t.events + excluded.events");
    /* corrections: the keys' rows left with nothing in force */
    sql_is(jc_agg_prune_sql(&small_sums, "jiceng", &sql), &sql,
           "delete from jiceng.t_daily t using unnest($1::int[], $2::date[], $3::text[]) as "
           "u(county_code, day, cadre_level) where t.county_code = u.county_code and t.day = u.day and "
           "t.cadre_level = u.cadre_level and t.a = 0 and t.b = 0");
    sql_is(jc_agg_prune_sql(&small_distinct, "jiceng", &sql), &sql,
           "delete from jiceng.t_ids t using unnest($1::int[], $2::date[], $3::text[], $4::text[]) as "
           "u(county_code, day, cadre_level, cadre_id) where t.county_code = u.county_code and t.day = u.day "
           "and t.cadre_level = u.cadre_level and t.cadre_id = u.cadre_id and t.events = 0");
    jc_buf_free(&sql);
}

/* Every real table: each sum column is added on conflict, nothing is overwritten; distinct
 * rows are inserted once. */
static void every_table_adds_or_keeps(void **state)
{
    (void)state;
    size_t n;
    const jc_aggregate_t *all = jc_aggregates(&n);
    jc_buf_t sql = {0};
    char want[256];
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(jc_agg_upsert_sql(&all[i], "jiceng", JC_AGG_ROWS_ARRAYS, &sql), JC_OK);
        const char *s = (const char *)sql.data;
        snprintf(want, sizeof want, "insert into jiceng.%s as t (county_code, day", all[i].table);
        assert_ptr_equal(strstr(s, want), s);
        if (all[i].kind == JC_AGG_DISTINCT) { /* the events in force are added */
            const char *tail = " do update set events = t.events + excluded.events";
            assert_string_equal(s + strlen(s) - strlen(tail), tail);
            continue;
        }
        assert_non_null(strstr(s, ") do update set "));
        for (int c = 0; c < all[i].ncolumns; c++) {
            const char *x = all[i].columns[c].name;
            snprintf(want, sizeof want, " %s = t.%s + excluded.%s", x, x, x);
            if (strstr(s, want) == NULL)
                fail_msg("%s: no '%s' in: %s", all[i].table, want, s);
        }
        const char *set = strstr(s, " do update set ");
        int assignments = 0;
        for (const char *p = set; (p = strstr(p, " = ")) != NULL; p += 3)
            assignments++;
        assert_int_equal(assignments, all[i].ncolumns);
    }
    jc_buf_free(&sql);
}

static void view_statements(void **state)
{
    (void)state;
    jc_buf_t sql = {0};
    sql_is(jc_agg_drop_views_sql(&small_sums, &sql), &sql,
           "drop view if exists jiceng.report_t_province_daily;\n"
           "drop view if exists jiceng.report_t_prefecture_daily;\n"
           "drop view if exists jiceng.report_t_daily;\n");
    sql_is(jc_agg_create_views_sql(&small_sums, &sql), &sql,
           "create view jiceng.report_t_daily as select r.county_code, r.county_name_zh, r.county_name_pinyin, "
           "r.prefecture_code, r.prefecture_name_zh, r.prefecture_name_pinyin, a.day, a.cadre_level, a.a, a.b "
           "from jiceng.t_daily a join jiceng.report_counties r on r.county_code = a.county_code;\n"
           "create view jiceng.report_t_prefecture_daily as select prefecture_code, prefecture_name_zh, "
           "prefecture_name_pinyin, day, cadre_level, sum(a)::bigint as a, sum(b)::bigint as b "
           "from jiceng.report_t_daily group by prefecture_code, prefecture_name_zh, prefecture_name_pinyin, "
           "day, cadre_level;\n"
           "create view jiceng.report_t_province_daily as select day, cadre_level, sum(a)::bigint as a, "
           "sum(b)::bigint as b from jiceng.report_t_daily group by day, cadre_level;\n"
           "grant select on jiceng.report_t_daily, jiceng.report_t_prefecture_daily, "
           "jiceng.report_t_province_daily to jiceng_report;\n");
    sql_is(jc_agg_drop_views_sql(&small_distinct, &sql), &sql, "drop view if exists jiceng.report_t_ids;\n");
    sql_is(jc_agg_create_views_sql(&small_distinct, &sql), &sql,
           "create view jiceng.report_t_ids as select r.county_code, r.prefecture_code, a.day, a.cadre_level, "
           "a.cadre_id from jiceng.t_ids a join jiceng.report_counties r on r.county_code = a.county_code "
           "where a.events > 0;\n"
           "grant select on jiceng.report_t_ids to jiceng_report;\n");
    jc_buf_free(&sql);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(folds_visits),
        cmocka_unit_test(folds_petitions_by_stage),
        cmocka_unit_test(folds_disaster_responses),
        cmocka_unit_test(folds_trainings),
        cmocka_unit_test(event_row_is_the_folds_row),
        cmocka_unit_test(folds_corrections_as_net_deltas),
        cmocka_unit_test(withdrawn_rows_and_foreign_records),
        cmocka_unit_test(the_description_compiles),
        cmocka_unit_test(rejects_wrong_descriptions),
        cmocka_unit_test(upsert_statements),
        cmocka_unit_test(every_table_adds_or_keeps),
        cmocka_unit_test(view_statements),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
