/*
 * revise.c: corrections, withdrawals and county-moving corrections of a run's events (see
 * model.h; docs/generator.md, "Corrections and withdrawals").
 *
 * The originals are drawn first (model.c); this then appends new versions, each made from the
 * latest version of one event ("chain": every version of one event_id): a copy with the next
 * revision, the same event_id (its timestamp and random bits), arriving 10 minutes to 7 days
 * after the version it replaces, so it follows it in the file, and so in the county's partition.
 *
 *   correction    other values: measures (people met, hours, responders, ...), the day (moved
 *                 1-3 days, staying in the period; not for petition steps, whose times tie the
 *                 steps together, nor for late events), or the category (cadre level, petition
 *                 channel, training base). A quarter of them correct an event already
 *                 corrected, so some events are corrected twice or more.
 *   withdrawal    the version in force re-sent with withdrawn true; 30% withdraw a corrected
 *                 event. Nothing follows a withdrawal.
 *   county move   a correction into another county: the aggregator must reject it
 *                 (county_changed) and keep the version in force. The county is one of the same
 *                 partition class (gen_partition_class), so the correction meets its original in
 *                 the same partition for any topic of 1, 2, 3, 4, 6, 8, 12 or 24 partitions.
 *                 Nothing follows a county move.
 *
 * Everything is drawn from the seed's revisions stream, so the originals do not change with
 * these rates.
 */
#include <stdlib.h>
#include <string.h>

#include "model.h"

#define SHARE_AGAIN 0.25          /* corrections of an event already corrected */
#define SHARE_WITHDRAW_CORRECTED 0.3
#define DELAY_MIN_MS (10LL * 60 * 1000)
#define DELAY_MAX_MS (7LL * GEN_DAY_MS)
#define PICK_TRIES 64

typedef struct chain {
    size_t last;      /* index of its latest version */
    uint8_t final;    /* withdrawn or moved: nothing may follow */
} chain_t;

typedef struct reviser {
    const gen_world_t *w;
    gen_event_t *ev;
    size_t n, originals;
    chain_t *chains;          /* per original (its seq) */
    uint32_t *corrected;      /* chains with a correction, for second corrections */
    size_t ncorrected;
    gen_counts_t *counts;
    gen_rng_t rng;
    uint32_t cls[GEN_MAX_COUNTIES]; /* each county's partition class */
} reviser_t;

/* ---- which event ---- */

/* A county of the same partition class as county c, other than c, into *to (each equally
 * likely); 0 if there is none. */
static int partner_county(const reviser_t *r, size_t c, gen_rng_t *rng, size_t *to)
{
    size_t found = 0;
    for (size_t i = 0; i < r->w->ncounties; i++)
        if (i != c && r->cls[i] == r->cls[c] && gen_rng_below(rng, ++found) == 0)
            *to = i; /* reservoir choice */
    return found > 0;
}

static int eligible(const reviser_t *r, size_t chain, gen_version_t kind)
{
    if (r->chains[chain].final)
        return 0;
    size_t ignored;
    gen_rng_t probe = r->rng; /* a look, not a draw */
    return kind != GEN_COUNTY_MOVE ||
           partner_county(r, r->ev[r->chains[chain].last].county, &probe, &ignored);
}

/* A chain to revise (preferring corrected ones with probability again), or -1 if none is left:
 * random picks first, then a scan from a random start. */
static long pick_chain(reviser_t *r, gen_version_t kind, double again)
{
    int from_corrected = r->ncorrected > 0 && gen_rng_chance(&r->rng, again);
    for (int t = 0; t < PICK_TRIES; t++) {
        size_t c = from_corrected ? r->corrected[gen_rng_below(&r->rng, r->ncorrected)]
                                  : (size_t)gen_rng_below(&r->rng, r->originals);
        if (eligible(r, c, kind))
            return (long)c;
    }
    size_t start = (size_t)gen_rng_below(&r->rng, r->originals);
    for (size_t k = 0; k < r->originals; k++)
        if (eligible(r, (start + k) % r->originals, kind))
            return (long)((start + k) % r->originals);
    return -1;
}

/* ---- what changes ---- */

static int32_t nudge(gen_rng_t *rng, int32_t v, int32_t lo, int32_t most)
{
    int32_t d = (int32_t)gen_rng_range(rng, 1, most);
    return gen_rng_chance(rng, 0.5) && v - d >= lo ? v - d : v + d;
}

static uint8_t other_symbol(gen_rng_t *rng, uint8_t v, int nsymbols)
{
    return (uint8_t)((v + 1 + gen_rng_below(rng, (uint64_t)nsymbols - 1)) % (uint64_t)nsymbols);
}

/* Change one or more measures; 0 if the event has none a correction changes (a RESOLVED
 * step: its measures are its times). */
static int correct_measures(gen_event_t *e, gen_rng_t *rng)
{
    switch ((jc_event_type_t)e->type) {
    case JC_VISIT: {
        gen_visit_t *v = &e->u.visit;
        v->people = nudge(rng, v->people, 1, 9);
        v->households = v->households > v->people ? v->people : v->households;
        v->hours = nudge(rng, v->hours, 1, 2);
        v->deeds += gen_rng_chance(rng, 0.3);
        return 1;
    }
    case JC_PETITION: {
        gen_petition_t *p = &e->u.petition;
        if (p->stage == JC_STAGE_RECEIVED)
            p->people = nudge(rng, p->people, 1, 2);
        else if (p->stage == JC_STAGE_FOLLOWED_UP)
            p->satisfied = (int8_t)(p->satisfied == 1 ? 0 : 1);
        return p->stage != JC_STAGE_RESOLVED;
    }
    case JC_DISASTER_RESPONSE: {
        gen_disaster_t *d = &e->u.disaster;
        d->responders = nudge(rng, d->responders, 1, 10);
        d->party_members = d->party_members > d->responders ? d->responders : d->party_members;
        d->evacuated = nudge(rng, d->evacuated, 0, 20);
        d->injured += gen_rng_chance(rng, 0.3);
        return 1;
    }
    case JC_TRAINING_COMPLETION: {
        gen_training_t *t = &e->u.training;
        t->hours = nudge(rng, t->hours, 1, 8);
        t->passed = gen_rng_chance(rng, 0.3) ? !t->passed : t->passed;
        return 1;
    }
    case JC_EVENT_TYPE_COUNT: break;
    }
    return 0;
}

/* Move the event 1-3 days, staying in the period; 0 if it may not move (a petition step, a
 * late event) or no day fits. */
static int correct_day(const gen_world_t *w, gen_event_t *e, gen_rng_t *rng)
{
    if (e->type == JC_PETITION || e->at < w->start_ms)
        return 0;
    int64_t sign = gen_rng_chance(rng, 0.5) ? 1 : -1, first = gen_rng_range(rng, 1, 3);
    for (int k = 0; k < 6; k++) {
        int64_t days = (k < 3 ? sign : -sign) * (1 + (first - 1 + k % 3) % 3);
        int64_t at = e->at + days * GEN_DAY_MS;
        if (at >= w->start_ms && at < w->end_ms) {
            e->at = at;
            return 1;
        }
    }
    return 0;
}

/* Another category: cadre level, petition channel or training base; 0 for a disaster
 * response (its hazard is the incident's). */
static int correct_category(gen_event_t *e, gen_rng_t *rng)
{
    switch ((jc_event_type_t)e->type) {
    case JC_VISIT:
        e->u.visit.level = other_symbol(rng, e->u.visit.level, JC_CADRE_LEVEL_COUNT);
        return 1;
    case JC_PETITION:
        e->u.petition.channel = other_symbol(rng, e->u.petition.channel, JC_PETITION_CHANNEL_COUNT);
        return 1;
    case JC_TRAINING_COMPLETION:
        e->u.training.base = other_symbol(rng, e->u.training.base, JC_TRAINING_BASE_COUNT);
        return 1;
    default: return 0;
    }
}

/* A correction: 40% measures, 30% the day, 30% the category, falling back in that order to
 * whatever the event allows. */
static void correct(reviser_t *r, gen_event_t *e)
{
    uint64_t u = gen_rng_below(&r->rng, 10);
    if (u >= 4 && u < 7 && correct_day(r->w, e, &r->rng)) {
        r->counts->moved_day++;
    } else if (u >= 7 && correct_category(e, &r->rng)) {
        r->counts->moved_category++;
    } else if (!correct_measures(e, &r->rng)) {
        correct_category(e, &r->rng); /* a RESOLVED step: its channel */
        r->counts->moved_category++;
    }
}

/* ---- new versions ---- */

static void add_version(reviser_t *r, size_t chain, gen_version_t kind)
{
    size_t prev = r->chains[chain].last, i = r->n++;
    gen_event_t *e = &r->ev[i];
    *e = r->ev[prev];
    e->seq = (uint32_t)i;
    e->revision = (uint16_t)(e->revision + 1);
    e->version = (uint8_t)kind;
    e->withdrawn = kind == GEN_WITHDRAWAL;
    e->late = 0; /* "late" counts originals */
    e->arrival += gen_rng_range(&r->rng, DELAY_MIN_MS, DELAY_MAX_MS);
    r->chains[chain].last = i;
    if (kind == GEN_CORRECTION) {
        correct(r, e);
        if (e->revision == 1)
            r->corrected[r->ncorrected++] = (uint32_t)chain;
        else
            r->counts->corrected_twice += e->revision == 2;
    } else if (kind == GEN_WITHDRAWAL) {
        r->chains[chain].final = 1;
        r->counts->withdrawn_corrected += e->revision > 1;
    } else {
        size_t to = e->county;
        partner_county(r, e->county, &r->rng, &to);
        e->county = (uint32_t)to;
        e->written_code = r->w->counties[to].code;
        r->chains[chain].final = 1;
    }
}

/* Make up to *want versions of kind; *want becomes how many were made. */
static void add_versions(reviser_t *r, gen_version_t kind, double again, uint64_t *want)
{
    uint64_t made = 0;
    for (; made < *want; made++) {
        long c = pick_chain(r, kind, again);
        if (c < 0)
            break;
        add_version(r, (size_t)c, kind);
    }
    *want = made;
}

jc_status_t gen_revise_events(const gen_world_t *w, const gen_config_t *cfg, gen_event_t **ev,
                              size_t *n, gen_counts_t *counts, jc_error_t *err)
{
    uint64_t total = counts->corrections + counts->withdrawals + counts->county_moves;
    if (total == 0 || *n == 0) {
        counts->corrections = counts->withdrawals = counts->county_moves = 0;
        return JC_OK;
    }
    reviser_t r = {.w = w, .n = *n, .originals = *n, .counts = counts};
    gen_event_t *grown = realloc(*ev, (*n + total) * sizeof **ev);
    if (grown != NULL)
        *ev = grown;
    r.ev = *ev;
    r.chains = calloc(*n, sizeof *r.chains);
    r.corrected = calloc(*n, sizeof *r.corrected);
    if (grown == NULL || r.chains == NULL || r.corrected == NULL) {
        free(r.chains);
        free(r.corrected);
        return jc_error_set(err, JC_ERR_NOMEM, "out of memory for corrections");
    }
    for (size_t i = 0; i < *n; i++)
        r.chains[r.ev[i].seq].last = i; /* originals: seq is the creation index */
    for (size_t c = 0; c < w->ncounties; c++)
        r.cls[c] = gen_partition_class(w->counties[c].code);
    gen_rng_seed(&r.rng, cfg->seed, GEN_STREAM_REVISIONS);
    add_versions(&r, GEN_CORRECTION, SHARE_AGAIN, &counts->corrections);
    add_versions(&r, GEN_WITHDRAWAL, SHARE_WITHDRAW_CORRECTED, &counts->withdrawals);
    add_versions(&r, GEN_COUNTY_MOVE, 0, &counts->county_moves);
    *n = r.n;
    free(r.chains);
    free(r.corrected);
    return JC_OK;
}
