/*
 * fold.c: folding validated events into per-batch deltas (see fold.h).
 *
 * Each event type adds to its sum table under (county, local day, category) and to its
 * distinct table under (county, local day, [category,] id). Petition steps add to different
 * columns of one row by stage: a RECEIVED step counts a batch and its people on the day it was
 * received; a RESOLVED step counts a resolution, its time (occurred_at - received_at, whole
 * seconds) and whether that was within 1, 7 and 30 days, on the day it was resolved; a
 * FOLLOWED_UP step counts a follow-up, whether the petitioner answered, and whether they were
 * satisfied, on the day of the follow-up.
 */
#include "fold.h"

#include <string.h>

#include "jiceng/fields.h"
#include "jiceng/jtime.h"

const jc_agg_table_t jc_agg_tables[JC_AGG_COUNT] = {
    [JC_AGG_VISITS] = {"visits_daily", 1, {"cadre_level"}, 7,
                       {"visits", "households_visited", "people_met", "deeds_done",
                        "problems_solved", "overnight_stays", "hours_on_site"}, NULL},
    [JC_AGG_VISIT_CADRES] = {"visit_cadres", 0, {NULL}, 0, {NULL}, "cadre_id"},
    [JC_AGG_PETITIONS] = {"petitions_daily", 1, {"channel"}, 10,
                          {"received", "people_received", "resolved", "resolution_seconds",
                           "resolved_within_1d", "resolved_within_7d", "resolved_within_30d",
                           "followed_up", "followups_answered", "satisfied"}, NULL},
    [JC_AGG_DISASTERS] = {"disaster_responses_daily", 1, {"hazard"}, 8,
                          {"responses", "responders", "party_member_responders",
                           "people_evacuated", "people_rescued", "deaths", "injured",
                           "households_assisted"}, NULL},
    [JC_AGG_INCIDENTS] = {"disaster_incidents", 1, {"hazard"}, 0, {NULL}, "incident_id"},
    [JC_AGG_TRAININGS] = {"trainings_daily", 2, {"trainee_role", "training_base"}, 4,
                          {"completions", "hours", "passed", "from_poor_village"}, NULL},
    [JC_AGG_TRAINEES] = {"training_trainees", 0, {NULL}, 0, {NULL}, "trainee_id"},
};

/* Which event field's symbols name each dimension. */
static const struct {
    jc_event_type_t type;
    const char *field[2];
} dim_fields[JC_AGG_COUNT] = {
    [JC_AGG_VISITS] = {JC_VISIT, {"cadre_level"}},
    [JC_AGG_PETITIONS] = {JC_PETITION, {"channel"}},
    [JC_AGG_DISASTERS] = {JC_DISASTER_RESPONSE, {"hazard"}},
    [JC_AGG_INCIDENTS] = {JC_DISASTER_RESPONSE, {"hazard"}},
    [JC_AGG_TRAININGS] = {JC_TRAINING_COMPLETION, {"trainee_role", "training_base"}},
};

const char *jc_fold_dim_symbol(jc_agg_id_t t, int d, int32_t index)
{
    const jc_field_t *f = jc_event_field(dim_fields[t].type, dim_fields[t].field[d]);
    return f != NULL && index >= 0 && index < f->nsymbols ? f->symbols[index] : "?";
}

void jc_fold_init(jc_fold_t *f)
{
    memset(f, 0, sizeof *f);
    for (int t = 0; t < JC_AGG_COUNT; t++)
        jc_keymap_init(&f->maps[t], sizeof(jc_fold_key_t),
                       (size_t)jc_agg_tables[t].nsums * sizeof(int64_t));
}

void jc_fold_free(jc_fold_t *f)
{
    for (int t = 0; t < JC_AGG_COUNT; t++)
        jc_keymap_free(&f->maps[t]);
}

void jc_fold_reset(jc_fold_t *f)
{
    for (int t = 0; t < JC_AGG_COUNT; t++)
        jc_keymap_reset(&f->maps[t]);
    f->newest_event_ms = 0;
    f->events = 0;
}

static jc_fold_key_t key_of(const jc_event_t *ev, int32_t d0, int32_t d1, const char *id)
{
    jc_fold_key_t k;
    memset(&k, 0, sizeof k);
    k.county = ev->county_code;
    k.day = jc_local_day(ev->occurred_at);
    k.dim[0] = d0;
    k.dim[1] = d1;
    if (id != NULL)
        strncpy(k.id, id, JC_ID_MAX);
    return k;
}

static int64_t *sums(jc_fold_t *f, jc_agg_id_t t, const jc_fold_key_t *k)
{
    int inserted;
    return jc_keymap_upsert(&f->maps[t], k, &inserted);
}

static jc_status_t seen(jc_fold_t *f, jc_agg_id_t t, const jc_fold_key_t *k)
{
    int inserted;
    return jc_keymap_upsert(&f->maps[t], k, &inserted) != NULL ? JC_OK : JC_ERR_NOMEM;
}

static jc_status_t fold_visit(jc_fold_t *f, const jc_event_t *ev)
{
    const jc_visit_t *v = &ev->u.visit;
    jc_fold_key_t k = key_of(ev, v->cadre_level, 0, NULL);
    int64_t *s = sums(f, JC_AGG_VISITS, &k);
    if (s == NULL)
        return JC_ERR_NOMEM;
    s[0] += 1;
    s[1] += v->households_visited;
    s[2] += v->people_met;
    s[3] += v->deeds_done;
    s[4] += v->problems_solved;
    s[5] += v->stayed_overnight;
    s[6] += v->hours_on_site;
    k = key_of(ev, 0, 0, v->cadre_id);
    return seen(f, JC_AGG_VISIT_CADRES, &k);
}

static jc_status_t fold_petition(jc_fold_t *f, const jc_event_t *ev)
{
    const jc_petition_t *p = &ev->u.petition;
    jc_fold_key_t k = key_of(ev, p->channel, 0, NULL);
    int64_t *s = sums(f, JC_AGG_PETITIONS, &k);
    if (s == NULL)
        return JC_ERR_NOMEM;
    switch (p->stage) {
    case JC_STAGE_RECEIVED:
        s[0] += 1;
        s[1] += p->people;
        break;
    case JC_STAGE_RESOLVED: {
        int64_t secs = (ev->occurred_at - p->received_at.ms) / 1000;
        s[2] += 1;
        s[3] += secs;
        s[4] += secs <= 1 * 86400;
        s[5] += secs <= 7 * 86400;
        s[6] += secs <= 30 * 86400;
        break;
    }
    case JC_STAGE_FOLLOWED_UP:
        s[7] += 1;
        s[8] += p->satisfied != JC_NULL;
        s[9] += p->satisfied == 1;
        break;
    }
    return JC_OK;
}

static jc_status_t fold_disaster(jc_fold_t *f, const jc_event_t *ev)
{
    const jc_disaster_response_t *d = &ev->u.disaster_response;
    jc_fold_key_t k = key_of(ev, d->hazard, 0, NULL);
    int64_t *s = sums(f, JC_AGG_DISASTERS, &k);
    if (s == NULL)
        return JC_ERR_NOMEM;
    s[0] += 1;
    s[1] += d->responders;
    s[2] += d->party_member_responders;
    s[3] += d->people_evacuated;
    s[4] += d->people_rescued;
    s[5] += d->deaths;
    s[6] += d->injured;
    s[7] += d->households_assisted;
    k = key_of(ev, d->hazard, 0, d->incident_id);
    return seen(f, JC_AGG_INCIDENTS, &k);
}

static jc_status_t fold_training(jc_fold_t *f, const jc_event_t *ev)
{
    const jc_training_completion_t *t = &ev->u.training_completion;
    jc_fold_key_t k = key_of(ev, t->trainee_role, t->training_base, NULL);
    int64_t *s = sums(f, JC_AGG_TRAININGS, &k);
    if (s == NULL)
        return JC_ERR_NOMEM;
    s[0] += 1;
    s[1] += t->hours;
    s[2] += t->passed;
    s[3] += t->from_poor_village;
    k = key_of(ev, 0, 0, t->trainee_id);
    return seen(f, JC_AGG_TRAINEES, &k);
}

jc_status_t jc_fold_event(jc_fold_t *f, const jc_event_t *ev)
{
    jc_status_t st = JC_ERR_INVALID_ARG;
    switch (ev->type) {
    case JC_VISIT: st = fold_visit(f, ev); break;
    case JC_PETITION: st = fold_petition(f, ev); break;
    case JC_DISASTER_RESPONSE: st = fold_disaster(f, ev); break;
    case JC_TRAINING_COMPLETION: st = fold_training(f, ev); break;
    default: break;
    }
    if (st == JC_OK) {
        f->events++;
        if (ev->occurred_at > f->newest_event_ms)
            f->newest_event_ms = ev->occurred_at;
    }
    return st;
}
