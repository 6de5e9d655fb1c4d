/*
 * model.c: drawing a run's valid events (see model.h; the figures behind every number here
 * are explained in docs/generator.md).
 *
 * The run's valid events ("originals") are split by type first: 70% visits, 15% petition
 * steps, 12% training completions and the rest (3%) disaster responses. Each type then draws
 * exactly its quota from its own PRNG stream:
 *
 *   visits      a cadre from a weighted county's pool (active cadres visit more often), in
 *               their own county or, now and then, a neighbouring one of the same prefecture;
 *               counts shaped so that a cadre making ten visits meets ~129 people and does
 *               ~3.7 deeds (2.99 million people and 86,000 deeds by 23,200 cadres).
 *   petitions   one petition at a time: RECEIVED in office hours (or any time by hotline or
 *               online), most RESOLVED 10 minutes to 60 days later, some FOLLOWED_UP 1-14
 *               days after that; a step later than the period's end is not emitted. Times
 *               are whole seconds. Batches of ~2 people (24,000 people in 12,000 batches).
 *   disasters   a few incidents per month, each with a hazard fitting the season, an
 *               epicentre and up to three counties of the same prefecture, lasting 1-5 days;
 *               responses cluster at the start.
 *   trainings   a trainee from a weighted county's pool; village heads go to the off-province
 *               bases (Huaxi, Shouguang) more often, the more so from poor villages.
 *
 * Late events (visits and trainings) happen 20-90 days before the period but arrive during
 * it. Each event's county code is now and then one of the county's older codes.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

#define SHARE_VISITS 0.70
#define SHARE_PETITIONS 0.15
#define SHARE_TRAININGS 0.12 /* disaster responses: the remaining 3% */

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- collecting events ---- */

typedef struct batch {
    const gen_world_t *w;
    gen_event_t *ev;
    size_t n, cap;
    gen_counts_t *counts;
} batch_t;

/* The next event of the batch (the caller never asks for more than the quotas). */
static gen_event_t *new_event(batch_t *b, jc_event_type_t type, int64_t at, size_t county,
                              int32_t written_code, gen_rng_t *rng)
{
    gen_event_t *e = &b->ev[b->n];
    memset(e, 0, sizeof *e);
    e->seq = e->origin = (uint32_t)b->n++;
    e->type = (uint8_t)type;
    e->at = e->arrival = e->id_ms = at;
    e->county = (uint32_t)county;
    e->written_code = written_code;
    e->id_bits = gen_rng_next(rng);
    b->counts->by_type[type]++;
    if (written_code != b->w->counties[county].code)
        b->counts->old_codes++;
    return e;
}

/* ---- times ---- */

static const unsigned visit_hours[24] = {0, 0, 0, 0, 0, 0, 1, 3, 8, 12, 12, 10,
                                         6, 8, 11, 11, 10, 7, 4, 3, 2, 1, 0, 0};
static const unsigned office_hours[24] = {0, 0, 0, 0, 0, 0, 0, 0, 6, 12, 12, 10,
                                          3, 5, 12, 12, 10, 4, 0, 0, 0, 0, 0, 0};
static const unsigned anytime_hours[24] = {1, 1, 0, 0, 0, 0, 1, 2, 5, 8, 9, 9,
                                           7, 7, 8, 8, 8, 7, 6, 6, 6, 5, 3, 2};
static const unsigned training_hours[24] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 6,
                                            4, 1, 1, 2, 10, 12, 6, 2, 3, 2, 0, 0};

static int is_weekend(int32_t day)
{
    int weekday = (int)(((int64_t)day % 7 + 7 + 3) % 7); /* 1970-01-01 was a Thursday */
    return weekday >= 5;
}

/* A day of the period, weekends drawn weekend_weight times as often as weekdays. */
static int32_t pick_day(const gen_world_t *w, gen_rng_t *rng, double weekend_weight)
{
    uint64_t days = (uint64_t)(w->to_day - w->from_day + 1);
    for (;;) {
        int32_t day = w->from_day + (int32_t)gen_rng_below(rng, days);
        if (!is_weekend(day) || gen_rng_chance(rng, weekend_weight))
            return day;
    }
}

/* A late event's day: 20-90 days before the period. */
static int32_t late_day(const gen_world_t *w, gen_rng_t *rng)
{
    return w->from_day - (int32_t)gen_rng_range(rng, GEN_LATE_MIN_DAYS, GEN_LATE_MAX_DAYS);
}

/* An instant of day, its local hour drawn from the profile. */
static int64_t time_in_day(gen_rng_t *rng, int32_t day, const unsigned hours[24])
{
    int64_t hour = (int64_t)gen_rng_pick(rng, hours, 24);
    return gen_day_start(day) + hour * GEN_HOUR_MS + (int64_t)gen_rng_below(rng, GEN_HOUR_MS);
}

static void make_late(batch_t *b, gen_event_t *e, gen_rng_t *rng)
{
    e->late = 1;
    e->arrival = b->w->start_ms +
                 (int64_t)gen_rng_below(rng, (uint64_t)(b->w->end_ms - b->w->start_ms));
    b->counts->late++;
}

/* ---- shared draws ---- */

/* A member of a pool of size n, low numbers more active (density falling as u^exponent). */
static uint32_t pool_member(gen_rng_t *rng, uint32_t n, double exponent)
{
    uint32_t no = (uint32_t)((double)n * pow(gen_rng_unit(rng), exponent));
    return no < n ? no : n - 1;
}

static size_t pick_county(const gen_world_t *w, gen_rng_t *rng)
{
    return gen_rng_pick(rng, w->weights, w->ncounties);
}

/* Another county of home's prefecture (home itself if it is alone there). */
static size_t neighbour_of(const gen_world_t *w, gen_rng_t *rng, size_t home)
{
    const gen_county_t *c = &w->counties[home];
    if (c->neighbours < 2)
        return home;
    size_t i = c->first_neighbour + (size_t)gen_rng_below(rng, c->neighbours - 1);
    return i >= home ? i + 1 : i;
}

/* An exponentially distributed count with this mean (heavy-tailed, capped). */
static int32_t exp_count(gen_rng_t *rng, double mean)
{
    if (mean <= 0)
        return 0;
    double v = -mean * log1p(-gen_rng_unit(rng));
    return v > 1e6 ? 1000000 : (int32_t)v;
}

/* ---- visits ---- */

static const struct {
    double away;      /* share of visits to a neighbouring county */
    double people;    /* mean people met */
    double overnight; /* share of visits with a night in the village */
} level_shape[JC_CADRE_LEVEL_COUNT] = {
    [JC_CADRE_PROVINCIAL] = {0.30, 20, 0.18},
    [JC_CADRE_PREFECTURE] = {0.30, 18, 0.18},
    [JC_CADRE_COUNTY] = {0.08, 16, 0.15},
    [JC_CADRE_TOWNSHIP] = {0.03, 12, 0.12},
    [JC_CADRE_VILLAGE_TASK_FORCE] = {0.02, 11, 0.40},
};

/* Where in its county a visit goes: stationed cadres mostly to their own village, township
 * cadres within their township, everyone else anywhere. */
static void visit_place(const gen_world_t *w, gen_rng_t *rng, gen_event_t *e)
{
    gen_visit_t *v = &e->u.visit;
    const gen_county_t *home = &w->counties[v->cadre_county], *here = &w->counties[e->county];
    if (e->county == v->cadre_county && v->level >= JC_CADRE_TOWNSHIP) {
        v->township = (uint16_t)gen_cadre_township(home, v->cadre_no);
        if (v->level == JC_CADRE_VILLAGE_TASK_FORCE && gen_rng_chance(rng, 0.75)) {
            v->village = (uint16_t)gen_cadre_village(home, v->cadre_no);
            return;
        }
    } else {
        v->township = (uint16_t)gen_rng_below(rng, here->townships);
    }
    v->village = (uint16_t)gen_rng_below(rng, gen_villages_in(here, v->township));
}

static void visit_counts(gen_rng_t *rng, gen_visit_t *v)
{
    v->people = 1 + gen_rng_poisson(rng, level_shape[v->level].people - 1);
    v->households = 1 + gen_rng_poisson(rng, (v->people - 1) / 2.5);
    if (v->households > v->people)
        v->households = v->people;
    v->deeds = gen_rng_poisson(rng, 0.37);
    v->problems = gen_rng_poisson(rng, 0.55);
    v->overnight = (uint8_t)gen_rng_chance(rng, level_shape[v->level].overnight);
    v->hours = (int32_t)(v->overnight ? gen_rng_range(rng, 12, 20) : gen_rng_range(rng, 2, 8));
}

static void draw_visit(batch_t *b, gen_rng_t *rng, int late)
{
    const gen_world_t *w = b->w;
    size_t home = pick_county(w, rng);
    uint32_t no = pool_member(rng, w->counties[home].cadres, 1.6);
    uint8_t level = gen_cadre_level(&w->counties[home], no);
    size_t where = gen_rng_chance(rng, level_shape[level].away) ? neighbour_of(w, rng, home)
                                                                : home;
    int32_t day = late ? late_day(w, rng) : pick_day(w, rng, 0.6);
    int64_t at = time_in_day(rng, day, visit_hours);
    gen_event_t *e = new_event(b, JC_VISIT, at, where,
                               gen_written_code(&w->counties[where], rng), rng);
    if (late)
        make_late(b, e, rng);
    gen_visit_t *v = &e->u.visit;
    v->cadre_county = (uint32_t)home;
    v->cadre_no = no;
    v->level = level;
    visit_place(w, rng, e);
    visit_counts(rng, v);
}

static void draw_visits(batch_t *b, uint64_t seed, uint64_t n, uint64_t late)
{
    gen_rng_t rng;
    gen_rng_seed(&rng, seed, GEN_STREAM_VISITS);
    for (uint64_t i = 0; i < n; i++)
        draw_visit(b, &rng, i < late);
}

/* ---- petitions ---- */

static const unsigned channel_weights[JC_PETITION_CHANNEL_COUNT] = {34, 16, 10, 20, 20};
static const unsigned delay_weights[] = {22, 38, 28, 12};
static const int64_t delay_bounds[][2] = { /* seconds: within 1, 7, 30 and 60 days */
    {600, 86400}, {86401, 7 * 86400}, {7 * 86400 + 1, 30 * 86400}, {30 * 86400 + 1, 60 * 86400}};
static const unsigned satisfied_weights[] = {68, 17, 15}; /* true, false, no answer */

typedef struct petition_draft {
    size_t county;
    int32_t written_code;
    uint32_t no;
    uint8_t channel;
    int32_t people;
    int64_t received_at;
} petition_draft_t;

static void petition_step(batch_t *b, gen_rng_t *rng, const petition_draft_t *d, int64_t at,
                          uint8_t stage, int8_t satisfied)
{
    gen_event_t *e = new_event(b, JC_PETITION, at, d->county, d->written_code, rng);
    gen_petition_t *p = &e->u.petition;
    p->petition_no = d->no;
    p->people = d->people;
    p->received_at = d->received_at;
    p->stage = stage;
    p->channel = d->channel;
    p->satisfied = satisfied;
}

static int64_t resolution_delay_ms(gen_rng_t *rng)
{
    size_t k = gen_rng_pick(rng, delay_weights, ARRAY_LEN(delay_weights));
    return gen_rng_range(rng, delay_bounds[k][0], delay_bounds[k][1]) * 1000;
}

static int8_t satisfaction(gen_rng_t *rng)
{
    static const int8_t answers[] = {1, 0, JC_NULL};
    return answers[gen_rng_pick(rng, satisfied_weights, ARRAY_LEN(satisfied_weights))];
}

static void draft_petition(const gen_world_t *w, gen_rng_t *rng, uint32_t no,
                           petition_draft_t *d)
{
    d->county = pick_county(w, rng);
    d->written_code = gen_written_code(&w->counties[d->county], rng);
    d->no = no;
    d->channel = (uint8_t)gen_rng_pick(rng, channel_weights, JC_PETITION_CHANNEL_COUNT);
    int office = d->channel <= JC_CHANNEL_LETTER; /* reception, home visit, letter */
    int32_t day = pick_day(w, rng, office ? 0.25 : 0.8);
    int64_t t = time_in_day(rng, day, office ? office_hours : anytime_hours);
    d->received_at = t - t % 1000; /* whole seconds: see the header comment */
    d->people = gen_rng_geometric(rng, 0.5, 50);
}

/* One petition's steps, as many as fall in the period and fit in the batch up to end. */
static void draw_petition(batch_t *b, gen_rng_t *rng, uint32_t no, size_t end)
{
    const gen_world_t *w = b->w;
    petition_draft_t d;
    draft_petition(w, rng, no, &d);
    petition_step(b, rng, &d, d.received_at, JC_STAGE_RECEIVED, JC_NULL);
    if (b->n == end || !gen_rng_chance(rng, 0.88))
        return;
    int64_t resolved = d.received_at + resolution_delay_ms(rng);
    if (resolved >= w->end_ms)
        return;
    petition_step(b, rng, &d, resolved, JC_STAGE_RESOLVED, JC_NULL);
    if (b->n == end || !gen_rng_chance(rng, 0.60))
        return;
    int64_t followed = resolved + gen_rng_range(rng, 86400, 14 * 86400) * 1000;
    int8_t satisfied = satisfaction(rng);
    if (followed < w->end_ms)
        petition_step(b, rng, &d, followed, JC_STAGE_FOLLOWED_UP, satisfied);
}

static void draw_petitions(batch_t *b, uint64_t seed, uint64_t steps)
{
    gen_rng_t rng;
    gen_rng_seed(&rng, seed, GEN_STREAM_PETITIONS);
    size_t end = b->n + (size_t)steps;
    uint32_t no = 0;
    while (b->n < end)
        draw_petition(b, &rng, ++no, end);
    b->counts->petitions = no;
}

/* ---- disasters ---- */

/* Hazard weights by season (jc_hazard_t order: FLOOD, LANDSLIDE, RAIN_SNOW_FREEZE, DROUGHT,
 * ROCKFALL, EARTHQUAKE, FIRE, OTHER). */
static const unsigned season_hazards[4][JC_HAZARD_COUNT] = {
    {0, 6, 52, 5, 12, 1, 20, 4},     /* winter, December-February */
    {15, 16, 3, 31, 10, 1, 20, 4},   /* spring, March-May */
    {46, 26, 0, 8, 12, 1, 3, 4},     /* summer, June-August */
    {16, 27, 0, 26, 15, 1, 11, 4},   /* autumn, September-November */
};

static const struct {
    double responders, evacuated, rescued, households, injured, deaths; /* means; deaths: chance */
} hazard_shape[JC_HAZARD_COUNT] = {
    [JC_HAZARD_FLOOD] = {45, 180, 6, 60, 0.6, 0.02},
    [JC_HAZARD_LANDSLIDE] = {35, 90, 3, 25, 0.4, 0.02},
    [JC_HAZARD_RAIN_SNOW_FREEZE] = {30, 15, 1, 80, 0.3, 0.005},
    [JC_HAZARD_DROUGHT] = {20, 0, 0, 120, 0, 0},
    [JC_HAZARD_ROCKFALL] = {25, 40, 2, 10, 0.5, 0.015},
    [JC_HAZARD_EARTHQUAKE] = {50, 150, 4, 70, 0.8, 0.02},
    [JC_HAZARD_FIRE] = {40, 30, 1, 8, 0.3, 0.01},
    [JC_HAZARD_OTHER] = {15, 10, 0.5, 10, 0.2, 0.005},
};

static int incident_has(const gen_incident_t *inc, size_t county)
{
    for (size_t i = 0; i < inc->ncounties; i++)
        if (inc->counties[i] == county)
            return 1;
    return 0;
}

/* The epicentre and 0-3 other counties of its prefecture. */
static void affected_counties(const gen_world_t *w, gen_rng_t *rng, gen_incident_t *inc,
                              size_t epicentre)
{
    size_t most = w->counties[epicentre].neighbours;
    size_t want = 1 + (size_t)gen_rng_below(rng, most < 4 ? most : 4);
    inc->counties[0] = epicentre;
    inc->ncounties = 1;
    while (inc->ncounties < want) {
        size_t k = neighbour_of(w, rng, epicentre);
        if (!incident_has(inc, k))
            inc->counties[inc->ncounties++] = k;
    }
}

static void draw_incident(gen_world_t *w, gen_rng_t *rng, size_t i)
{
    gen_incident_t *inc = &w->incidents[i];
    int64_t period = w->end_ms - w->start_ms;
    inc->start_ms = w->start_ms + (int64_t)gen_rng_below(rng, (uint64_t)period);
    int64_t span = gen_rng_range(rng, 1, 5) * GEN_DAY_MS, left = w->end_ms - inc->start_ms;
    inc->span_ms = span < left ? span : left;
    int32_t day = gen_day_of(inc->start_ms);
    int season = (gen_day_month(day) % 12) / 3;
    inc->hazard = (uint8_t)gen_rng_pick(rng, season_hazards[season], JC_HAZARD_COUNT);
    affected_counties(w, rng, inc, (size_t)gen_rng_below(rng, w->ncounties));
    inc->weight = 3 + (unsigned)gen_rng_below(rng, 15);
    char date[16];
    gen_day_compact(day, date, sizeof date);
    snprintf(inc->id, sizeof inc->id, "ZH-%06d-%s-%04u", (int)w->counties[inc->counties[0]].code,
             date, (unsigned)(i + 1));
}

typedef struct incident_key {
    const char *id;
    size_t index;
} incident_key_t;

static int compare_incident_keys(const void *a, const void *b)
{
    return strcmp(((const incident_key_t *)a)->id, ((const incident_key_t *)b)->id);
}

/* Each incident's rank in byte order of its id (the ground truth sorts by it). */
static jc_status_t rank_incidents(gen_world_t *w, jc_error_t *err)
{
    incident_key_t *keys = malloc(w->nincidents * sizeof *keys);
    if (keys == NULL)
        return jc_error_set(err, JC_ERR_NOMEM, "out of memory ranking incidents");
    for (size_t i = 0; i < w->nincidents; i++)
        keys[i] = (incident_key_t){w->incidents[i].id, i};
    qsort(keys, w->nincidents, sizeof *keys, compare_incident_keys);
    for (size_t r = 0; r < w->nincidents; r++)
        w->incidents[keys[r].index].sort_rank = (uint32_t)r;
    free(keys);
    return JC_OK;
}

/* A few incidents per month (3-5 per 30 days), never more than there are responses. */
static jc_status_t plan_incidents(gen_world_t *w, gen_rng_t *rng, uint64_t responses,
                                  jc_error_t *err)
{
    int64_t days = w->to_day - w->from_day + 1;
    uint64_t k = (uint64_t)(days * (3 + (int64_t)gen_rng_below(rng, 3)) + 15) / 30;
    k = k < 1 ? 1 : k;
    k = k > responses ? responses : k;
    w->incidents = calloc((size_t)k, sizeof *w->incidents);
    if (w->incidents == NULL)
        return jc_error_set(err, JC_ERR_NOMEM, "out of memory for incidents");
    w->nincidents = (size_t)k;
    for (size_t i = 0; i < w->nincidents; i++)
        draw_incident(w, rng, i);
    return rank_incidents(w, err);
}

static void response_counts(gen_rng_t *rng, uint8_t hazard, gen_disaster_t *d)
{
    double r = hazard_shape[hazard].responders * (0.3 + 1.4 * gen_rng_unit(rng));
    d->responders = r < 1 ? 1 : (int32_t)(r + 0.5);
    d->party_members = (int32_t)(d->responders * (0.45 + 0.4 * gen_rng_unit(rng)));
    d->evacuated = exp_count(rng, hazard_shape[hazard].evacuated);
    d->rescued = gen_rng_poisson(rng, hazard_shape[hazard].rescued);
    d->households = exp_count(rng, hazard_shape[hazard].households);
    d->injured = gen_rng_poisson(rng, hazard_shape[hazard].injured);
    d->deaths = gen_rng_chance(rng, hazard_shape[hazard].deaths) ? 1 + gen_rng_poisson(rng, 0.4)
                                                                   : 0;
}

static void draw_response(batch_t *b, gen_rng_t *rng, const unsigned *weights)
{
    const gen_world_t *w = b->w;
    size_t i = gen_rng_pick(rng, weights, w->nincidents);
    const gen_incident_t *inc = &w->incidents[i];
    size_t county = inc->counties[0];
    if (inc->ncounties > 1 && !gen_rng_chance(rng, 0.55))
        county = inc->counties[1 + gen_rng_below(rng, inc->ncounties - 1)];
    double u = gen_rng_unit(rng);
    int64_t at = inc->start_ms + (int64_t)((double)inc->span_ms * u * u);
    gen_event_t *e = new_event(b, JC_DISASTER_RESPONSE, at, county,
                               gen_written_code(&w->counties[county], rng), rng);
    e->u.disaster.incident = (uint32_t)i;
    response_counts(rng, inc->hazard, &e->u.disaster);
}

static jc_status_t draw_disasters(batch_t *b, gen_world_t *w, uint64_t seed, uint64_t n,
                                  jc_error_t *err)
{
    if (n == 0)
        return JC_OK;
    gen_rng_t rng;
    gen_rng_seed(&rng, seed, GEN_STREAM_DISASTERS);
    jc_status_t st = plan_incidents(w, &rng, n, err);
    if (st != JC_OK)
        return st;
    unsigned *weights = malloc(w->nincidents * sizeof *weights);
    if (weights == NULL)
        return jc_error_set(err, JC_ERR_NOMEM, "out of memory for incidents");
    for (size_t i = 0; i < w->nincidents; i++)
        weights[i] = w->incidents[i].weight;
    for (uint64_t i = 0; i < n; i++)
        draw_response(b, &rng, weights);
    free(weights);
    return JC_OK;
}

/* ---- trainings ---- */

/* Training base weights (jc_training_base_t order: HUAXI_JIANGSU, SHOUGUANG_SHANDONG,
 * PROVINCIAL, PREFECTURE, COUNTY, ONLINE) for village heads, heads of poor villages, others. */
static const unsigned heads_bases[JC_TRAINING_BASE_COUNT] = {12, 12, 20, 20, 20, 16};
static const unsigned poor_heads_bases[JC_TRAINING_BASE_COUNT] = {18, 18, 18, 18, 16, 12};
static const unsigned other_bases[JC_TRAINING_BASE_COUNT] = {2, 2, 10, 20, 36, 30};
static const int32_t base_hours[JC_TRAINING_BASE_COUNT][2] = {
    {80, 160}, {80, 160}, {24, 56}, {16, 40}, {8, 24}, {2, 12}};

static uint8_t pick_base(gen_rng_t *rng, uint8_t role, int poor)
{
    int head = role == JC_ROLE_VILLAGE_SECRETARY || role == JC_ROLE_VILLAGE_DIRECTOR;
    const unsigned *weights = !head ? other_bases : poor ? poor_heads_bases : heads_bases;
    return (uint8_t)gen_rng_pick(rng, weights, JC_TRAINING_BASE_COUNT);
}

static void draw_training(batch_t *b, gen_rng_t *rng, int late)
{
    const gen_world_t *w = b->w;
    size_t county = pick_county(w, rng);
    const gen_county_t *c = &w->counties[county];
    uint32_t no = pool_member(rng, c->trainees, 1.3);
    int32_t day = late ? late_day(w, rng) : pick_day(w, rng, 0.4);
    gen_event_t *e = new_event(b, JC_TRAINING_COMPLETION, time_in_day(rng, day, training_hours),
                               county, gen_written_code(c, rng), rng);
    if (late)
        make_late(b, e, rng);
    gen_training_t *t = &e->u.training;
    t->trainee_county = (uint32_t)county;
    t->trainee_no = no;
    t->role = gen_trainee_role(c, no);
    t->poor_village = (uint8_t)gen_trainee_poor(c, no);
    t->base = pick_base(rng, t->role, t->poor_village);
    t->programme = (uint8_t)gen_rng_below(rng, 2);
    t->hours = (int32_t)gen_rng_range(rng, base_hours[t->base][0], base_hours[t->base][1]);
    t->passed = (uint8_t)gen_rng_chance(rng, t->base == JC_BASE_ONLINE ? 0.96 : 0.92);
}

static void draw_trainings(batch_t *b, uint64_t seed, uint64_t n, uint64_t late)
{
    gen_rng_t rng;
    gen_rng_seed(&rng, seed, GEN_STREAM_TRAININGS);
    for (uint64_t i = 0; i < n; i++)
        draw_training(b, &rng, i < late);
}

/* ---- the whole run ---- */

typedef struct quotas {
    uint64_t visits, petitions, trainings, disasters, late_visits, late_trainings;
} quotas_t;

static uint64_t share_of(uint64_t n, double share, uint64_t left)
{
    uint64_t q = (uint64_t)llround((double)n * share);
    return q < left ? q : left;
}

static quotas_t split_quotas(uint64_t n, uint64_t late)
{
    quotas_t q;
    q.visits = share_of(n, SHARE_VISITS, n);
    q.petitions = share_of(n, SHARE_PETITIONS, n - q.visits);
    q.trainings = share_of(n, SHARE_TRAININGS, n - q.visits - q.petitions);
    q.disasters = n - q.visits - q.petitions - q.trainings;
    uint64_t can_be_late = q.visits + q.trainings;
    late = late < can_be_late ? late : can_be_late;
    q.late_visits = can_be_late ? (uint64_t)llround((double)late * q.visits / can_be_late) : 0;
    q.late_visits = q.late_visits < q.visits ? q.late_visits : q.visits;
    q.late_trainings = late - q.late_visits;
    return q;
}

jc_status_t gen_model_events(gen_world_t *w, const gen_config_t *cfg, uint64_t originals,
                             uint64_t late, gen_event_t **out, size_t *n, gen_counts_t *counts,
                             jc_error_t *err)
{
    quotas_t q = split_quotas(originals, late);
    batch_t b = {.w = w, .cap = (size_t)originals, .counts = counts};
    b.ev = malloc((originals ? (size_t)originals : 1) * sizeof *b.ev);
    if (b.ev == NULL)
        return jc_error_set(err, JC_ERR_NOMEM, "out of memory for %llu events",
                            (unsigned long long)originals);
    draw_visits(&b, cfg->seed, q.visits, q.late_visits);
    draw_trainings(&b, cfg->seed, q.trainings, q.late_trainings);
    jc_status_t st = draw_disasters(&b, w, cfg->seed, q.disasters, err);
    if (st != JC_OK) {
        free(b.ev);
        return st;
    }
    draw_petitions(&b, cfg->seed, q.petitions);
    *out = b.ev;
    *n = b.n;
    return JC_OK;
}
