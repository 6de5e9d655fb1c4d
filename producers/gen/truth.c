/*
 * truth.c: the ground truth, expected/<file>.csv (see truth.h and docs/generator.md).
 *
 * This is the one place that must not share code with what it checks: the consumer's fold
 * and the library's validation. It reads the model's numbers directly (the current county an
 * event happened in, whatever code its record carries; the petition's received_at; the
 * incident's hazard), takes local days from world.c's own UTC+8 arithmetic, and names enum
 * values from its own symbol tables. Only valid events are passed in, so re-sends and
 * malformed records never reach a sum.
 *
 * Every version of every event is passed in (revise.c). Per event, the version in force is
 * the one with the highest revision among those a consumer applies (all but county moves,
 * which it rejects). Each version then has a role:
 *   in force     counts as an original did, and in the sum files' `corrected` column when its
 *                revision is above 0;
 *   withdrawn    (the version in force is a withdrawal) counts only in the `withdrawn` column,
 *                on its own day and categories;
 *   replaced     counts nothing, but its row exists (all zero but for what other events put
 *                there): the consumer added it once and later subtracted it, and a sum row
 *                stays when it reaches zero;
 *   rejected     a county move: nowhere.
 * A distinct-entity row (county, day, [category,] id) has `events`, the number of events in
 * force there; a row with none is not kept (the consumer deletes it).
 *
 * Every file is made the same way: one row per version of the file's type holding the key
 * (county, day, up to two enum values, an entity id) and the metrics, sorted by key, equal
 * keys merged by adding the metrics. The sort is by the key columns as written: county codes
 * and days are fixed-width, ids are zero-padded, so numeric order is byte order; enum values
 * sort by their symbols' bytes.
 */
#include "truth.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_METRICS 12 /* petitions: 10, corrected, withdrawn */
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const char *const level_names[] = {"PROVINCIAL", "PREFECTURE", "COUNTY", "TOWNSHIP",
                                          "VILLAGE_TASK_FORCE"};
static const char *const channel_names[] = {"RECEPTION", "HOME_VISIT", "LETTER", "HOTLINE",
                                            "ONLINE"};
static const char *const hazard_names[] = {"FLOOD", "LANDSLIDE", "RAIN_SNOW_FREEZE", "DROUGHT",
                                           "ROCKFALL", "EARTHQUAKE", "FIRE", "OTHER"};
static const char *const role_names[] = {"VILLAGE_SECRETARY", "VILLAGE_DIRECTOR",
                                         "VILLAGE_CADRE", "GRADUATE_VILLAGE_OFFICIAL",
                                         "PARTY_MEMBER", "TOWNSHIP_CADRE"};
static const char *const base_names[] = {"HUAXI_JIANGSU", "SHOUGUANG_SHANDONG", "PROVINCIAL",
                                         "PREFECTURE", "COUNTY", "ONLINE"};

typedef enum id_kind { ID_NONE, ID_CADRE, ID_TRAINEE, ID_INCIDENT } id_kind_t;

typedef struct row {
    uint32_t county;         /* index: the counties are in code order */
    int32_t day;
    uint8_t e1, e2;          /* enum values */
    uint8_t r1, r2;          /* their symbols' ranks in byte order */
    uint32_t id_a, id_b;     /* cadre/trainee: county index and number; incident: rank, index */
    int64_t m[MAX_METRICS];
} row_t;

typedef struct table {
    const char *file;
    const char *header;      /* the key columns, the fill's metrics, the extra columns */
    jc_event_type_t type;
    const char *const *names1, *const *names2; /* symbols of e1 and e2, or NULL */
    id_kind_t id;
    int nmetrics;            /* what fill sets; 0: a distinct-entity file */
    void (*fill)(const gen_world_t *w, const gen_event_t *e, row_t *r);
} table_t;

/* The columns after the fill's: a sum file's corrected and withdrawn, a distinct file's
 * events. */
#define SUM_EXTRA ",corrected,withdrawn"
#define DISTINCT_EXTRA ",events"

static int ncolumns(const table_t *t)
{
    return t->nmetrics + (t->id == ID_NONE ? 2 : 1);
}

typedef enum role { ROLE_IN_FORCE, ROLE_WITHDRAWN, ROLE_REPLACED, ROLE_REJECTED } role_t;

/* The rank of names[i] among names[0..n) in byte order. */
static uint8_t symbol_rank(const char *const *names, size_t n, size_t i)
{
    uint8_t rank = 0;
    for (size_t k = 0; k < n; k++)
        rank += strcmp(names[k], names[i]) < 0;
    return rank;
}

static void set_key(row_t *r, const gen_event_t *e)
{
    r->county = e->county;
    r->day = gen_day_of(e->at);
}

static void set_enum1(row_t *r, const char *const *names, size_t n, uint8_t v)
{
    r->e1 = v;
    r->r1 = symbol_rank(names, n, v);
}

static void set_enum2(row_t *r, const char *const *names, size_t n, uint8_t v)
{
    r->e2 = v;
    r->r2 = symbol_rank(names, n, v);
}

/* ---- one row per event, per file ---- */

static void fill_visit(const gen_world_t *w, const gen_event_t *e, row_t *r)
{
    (void)w;
    const gen_visit_t *v = &e->u.visit;
    set_key(r, e);
    set_enum1(r, level_names, ARRAY_LEN(level_names), v->level);
    int64_t m[] = {1, v->households, v->people, v->deeds, v->problems, v->overnight, v->hours};
    memcpy(r->m, m, sizeof m);
}

static void fill_visit_cadre(const gen_world_t *w, const gen_event_t *e, row_t *r)
{
    (void)w;
    set_key(r, e);
    r->id_a = e->u.visit.cadre_county;
    r->id_b = e->u.visit.cadre_no;
}

/* received, people_received, resolved, resolution_seconds, within 1/7/30 days, followed_up,
 * followups_answered, satisfied */
static void fill_petition(const gen_world_t *w, const gen_event_t *e, row_t *r)
{
    (void)w;
    const gen_petition_t *p = &e->u.petition;
    set_key(r, e);
    set_enum1(r, channel_names, ARRAY_LEN(channel_names), p->channel);
    int64_t seconds = (e->at - p->received_at) / 1000; /* never negative: floor */
    if (p->stage == JC_STAGE_RECEIVED) {
        r->m[0] = 1;
        r->m[1] = p->people;
    } else if (p->stage == JC_STAGE_RESOLVED) {
        r->m[2] = 1;
        r->m[3] = seconds;
        r->m[4] = seconds <= 1 * 86400;
        r->m[5] = seconds <= 7 * 86400;
        r->m[6] = seconds <= 30 * 86400;
    } else {
        r->m[7] = 1;
        r->m[8] = p->satisfied != JC_NULL;
        r->m[9] = p->satisfied == 1;
    }
}

static void fill_disaster(const gen_world_t *w, const gen_event_t *e, row_t *r)
{
    const gen_disaster_t *d = &e->u.disaster;
    set_key(r, e);
    set_enum1(r, hazard_names, ARRAY_LEN(hazard_names), w->incidents[d->incident].hazard);
    int64_t m[] = {1, d->responders, d->party_members, d->evacuated, d->rescued, d->deaths,
                   d->injured, d->households};
    memcpy(r->m, m, sizeof m);
}

static void fill_incident(const gen_world_t *w, const gen_event_t *e, row_t *r)
{
    const gen_incident_t *inc = &w->incidents[e->u.disaster.incident];
    set_key(r, e);
    set_enum1(r, hazard_names, ARRAY_LEN(hazard_names), inc->hazard);
    r->id_a = inc->sort_rank;
    r->id_b = e->u.disaster.incident;
}

static void fill_training(const gen_world_t *w, const gen_event_t *e, row_t *r)
{
    (void)w;
    const gen_training_t *t = &e->u.training;
    set_key(r, e);
    set_enum1(r, role_names, ARRAY_LEN(role_names), t->role);
    set_enum2(r, base_names, ARRAY_LEN(base_names), t->base);
    int64_t m[] = {1, t->hours, t->passed, t->poor_village};
    memcpy(r->m, m, sizeof m);
}

static void fill_trainee(const gen_world_t *w, const gen_event_t *e, row_t *r)
{
    (void)w;
    set_key(r, e);
    r->id_a = e->u.training.trainee_county;
    r->id_b = e->u.training.trainee_no;
}

static const table_t tables[] = {
    {"visits_daily.csv",
     "county_code,day,cadre_level,visits,households_visited,people_met,deeds_done,"
     "problems_solved,overnight_stays,hours_on_site" SUM_EXTRA,
     JC_VISIT, level_names, NULL, ID_NONE, 7, fill_visit},
    {"visit_cadres.csv", "county_code,day,cadre_id" DISTINCT_EXTRA, JC_VISIT, NULL, NULL,
     ID_CADRE, 0, fill_visit_cadre},
    {"petitions_daily.csv",
     "county_code,day,channel,received,people_received,resolved,resolution_seconds,"
     "resolved_within_1d,resolved_within_7d,resolved_within_30d,followed_up,"
     "followups_answered,satisfied" SUM_EXTRA,
     JC_PETITION, channel_names, NULL, ID_NONE, 10, fill_petition},
    {"disaster_responses_daily.csv",
     "county_code,day,hazard,responses,responders,party_member_responders,people_evacuated,"
     "people_rescued,deaths,injured,households_assisted" SUM_EXTRA,
     JC_DISASTER_RESPONSE, hazard_names, NULL, ID_NONE, 8, fill_disaster},
    {"disaster_incidents.csv", "county_code,day,hazard,incident_id" DISTINCT_EXTRA,
     JC_DISASTER_RESPONSE, hazard_names, NULL, ID_INCIDENT, 0, fill_incident},
    {"trainings_daily.csv",
     "county_code,day,trainee_role,training_base,completions,hours,passed,from_poor_village"
     SUM_EXTRA, JC_TRAINING_COMPLETION, role_names, base_names, ID_NONE, 4, fill_training},
    {"training_trainees.csv", "county_code,day,trainee_id" DISTINCT_EXTRA,
     JC_TRAINING_COMPLETION, NULL, NULL, ID_TRAINEE, 0, fill_trainee},
};

/* ---- sorting and merging ---- */

static int compare_u32(uint32_t a, uint32_t b)
{
    return (a > b) - (a < b);
}

static int compare_rows(const void *pa, const void *pb)
{
    const row_t *a = pa, *b = pb;
    int c = compare_u32(a->county, b->county);
    if (c == 0)
        c = (a->day > b->day) - (a->day < b->day);
    if (c == 0)
        c = compare_u32(a->r1, b->r1);
    if (c == 0)
        c = compare_u32(a->r2, b->r2);
    if (c == 0)
        c = compare_u32(a->id_a, b->id_a);
    if (c == 0)
        c = compare_u32(a->id_b, b->id_b);
    return c;
}

/* Merge runs of equal keys of the sorted rows, adding nmetrics metrics; the new count. */
static size_t merge_rows(row_t *rows, size_t n, int nmetrics)
{
    size_t out = 0;
    for (size_t i = 0; i < n; i++) {
        if (out > 0 && compare_rows(&rows[out - 1], &rows[i]) == 0) {
            for (int k = 0; k < nmetrics; k++)
                rows[out - 1].m[k] += rows[i].m[k];
        } else {
            rows[out++] = rows[i];
        }
    }
    return out;
}

/* ---- versions ---- */

/* Each version's role (see the top): malloc'd, n entries; NULL if out of memory. */
static uint8_t *version_roles(const gen_event_t *ev, size_t n)
{
    size_t *force = calloc(n ? n : 1, sizeof *force); /* per origin: index + 1 in force */
    uint8_t *role = malloc(n ? n : 1);
    if (force == NULL || role == NULL) {
        free(force);
        free(role);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        size_t *f = &force[ev[i].origin];
        if (ev[i].version != GEN_COUNTY_MOVE && (*f == 0 || ev[i].revision > ev[*f - 1].revision))
            *f = i + 1;
    }
    for (size_t i = 0; i < n; i++) {
        if (ev[i].version == GEN_COUNTY_MOVE)
            role[i] = ROLE_REJECTED;
        else if (force[ev[i].origin] != i + 1)
            role[i] = ROLE_REPLACED;
        else
            role[i] = ev[i].withdrawn ? ROLE_WITHDRAWN : ROLE_IN_FORCE;
    }
    free(force);
    return role;
}

/* The row of version e in its role; 0 if it has none in this table. */
static int version_row(const table_t *t, const gen_world_t *w, const gen_event_t *e,
                       role_t role, row_t *r)
{
    if (role == ROLE_REJECTED || (t->id != ID_NONE && role != ROLE_IN_FORCE))
        return 0;
    t->fill(w, e, r);
    if (role != ROLE_IN_FORCE)
        memset(r->m, 0, sizeof r->m);
    if (t->id != ID_NONE)
        r->m[t->nmetrics] = 1;                          /* events */
    else if (role == ROLE_IN_FORCE)
        r->m[t->nmetrics] = e->revision > 0;            /* corrected */
    else
        r->m[t->nmetrics + 1] = role == ROLE_WITHDRAWN; /* withdrawn */
    return 1;
}

/* The table's rows: one per version of its type that has one, sorted and merged. */
static row_t *collect_rows(const table_t *t, const gen_world_t *w, const gen_event_t *ev,
                           const uint8_t *role, size_t n, size_t *count)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += ev[i].type == t->type;
    row_t *rows = calloc(k ? k : 1, sizeof *rows);
    if (rows == NULL)
        return NULL;
    k = 0;
    for (size_t i = 0; i < n; i++)
        if (ev[i].type == t->type)
            k += (size_t)version_row(t, w, &ev[i], (role_t)role[i], &rows[k]);
    qsort(rows, k, sizeof *rows, compare_rows);
    *count = merge_rows(rows, k, ncolumns(t));
    return rows;
}


/* ---- writing ---- */

static void write_id(FILE *f, const table_t *t, const gen_world_t *w, const row_t *r)
{
    char id[JC_ID_MAX + 1];
    if (t->id == ID_CADRE)
        gen_cadre_id(w, r->id_a, r->id_b, id, sizeof id);
    else if (t->id == ID_TRAINEE)
        gen_trainee_id(w, r->id_a, r->id_b, id, sizeof id);
    else
        snprintf(id, sizeof id, "%s", w->incidents[r->id_b].id);
    fprintf(f, ",%s", id);
}

static void write_row(FILE *f, const table_t *t, const gen_world_t *w, const row_t *r)
{
    char day[16];
    gen_day_text(r->day, day, sizeof day);
    fprintf(f, "%" PRId32 ",%s", w->counties[r->county].code, day);
    if (t->names1 != NULL)
        fprintf(f, ",%s", t->names1[r->e1]);
    if (t->names2 != NULL)
        fprintf(f, ",%s", t->names2[r->e2]);
    if (t->id != ID_NONE)
        write_id(f, t, w, r);
    for (int k = 0; k < ncolumns(t); k++)
        fprintf(f, ",%" PRId64, r->m[k]);
    fputc('\n', f);
}

static jc_status_t write_rows(const table_t *t, const gen_world_t *w, const row_t *rows,
                              size_t n, const char *dir, jc_error_t *err)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, t->file) >= sizeof path)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "path too long: %s", dir);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return jc_error_set(err, JC_ERR_IO, "create %s: %s", path, strerror(errno));
    fprintf(f, "%s\n", t->header);
    for (size_t i = 0; i < n; i++)
        write_row(f, t, w, &rows[i]);
    int failed = ferror(f);
    if (fclose(f) != 0 || failed)
        return jc_error_set(err, JC_ERR_IO, "write %s: %s", path, strerror(errno));
    return JC_OK;
}

jc_status_t gen_truth_write(const gen_world_t *w, const gen_event_t *ev, size_t n,
                            const char *dir, jc_error_t *err)
{
    uint8_t *role = version_roles(ev, n);
    if (role == NULL)
        return jc_error_set(err, JC_ERR_NOMEM, "out of memory for the ground truth");
    jc_status_t st = JC_OK;
    for (size_t i = 0; i < ARRAY_LEN(tables) && st == JC_OK; i++) {
        size_t count = 0;
        row_t *rows = collect_rows(&tables[i], w, ev, role, n, &count);
        if (rows == NULL)
            st = jc_error_set(err, JC_ERR_NOMEM, "out of memory for %s", tables[i].file);
        else
            st = write_rows(&tables[i], w, rows, count, dir, err);
        free(rows);
    }
    free(role);
    return st;
}

/* ---- revisions.csv and consumer_rejects.csv ---- */

/* What a consumer makes of a version, and of a re-send of it after the whole workload: in
 * force (a duplicate), replaced (stale), rejected (rejected again). */
static const char *const outcome_names[] = {
    [ROLE_IN_FORCE] = "in_force", [ROLE_WITHDRAWN] = "in_force",
    [ROLE_REPLACED] = "replaced", [ROLE_REJECTED] = "county_changed",
};

/* Per version, whether its event has more than one version; NULL if out of memory. */
static uint8_t *revised_events(const gen_event_t *ev, size_t n)
{
    uint32_t *versions = calloc(n ? n : 1, sizeof *versions); /* per origin */
    uint8_t *revised = malloc(n ? n : 1);
    if (versions == NULL || revised == NULL) {
        free(versions);
        free(revised);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        versions[ev[i].origin]++;
    for (size_t i = 0; i < n; i++)
        revised[i] = versions[ev[i].origin] > 1;
    free(versions);
    return revised;
}

static void write_revision_lines(FILE *rev, FILE *rej, const gen_event_t *ev, size_t n,
                                 const uint8_t *role, const uint8_t *revised,
                                 const uint32_t *line_of)
{
    fputs("line,event_id,revision,withdrawn,outcome\n", rev);
    fputs("line,event_id,revision,status\n", rej);
    char id[JC_UUID_LEN + 1];
    for (size_t i = 0; i < n; i++) { /* arrival order, which is line order */
        if (!revised[i])
            continue;
        gen_event_id(&ev[i], id, sizeof id);
        fprintf(rev, "%" PRIu32 ",%s,%u,%s,%s\n", line_of[i], id, (unsigned)ev[i].revision,
                ev[i].withdrawn ? "true" : "false", outcome_names[role[i]]);
        if (role[i] == ROLE_REJECTED)
            fprintf(rej, "%" PRIu32 ",%s,%u,%s\n", line_of[i], id, (unsigned)ev[i].revision,
                    jc_status_name(JC_ERR_COUNTY_CHANGED));
    }
}

static jc_status_t open_in(const char *dir, const char *name, FILE **f, jc_error_t *err)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "path too long: %s", dir);
    if ((*f = fopen(path, "w")) == NULL)
        return jc_error_set(err, JC_ERR_IO, "create %s: %s", path, strerror(errno));
    return JC_OK;
}

static jc_status_t close_in(FILE *f, const char *name, jc_status_t st, jc_error_t *err)
{
    if (f == NULL)
        return st;
    int failed = ferror(f);
    if ((fclose(f) != 0 || failed) && st == JC_OK)
        st = jc_error_set(err, JC_ERR_IO, "write %s: %s", name, strerror(errno));
    return st;
}

jc_status_t gen_truth_write_revisions(const gen_world_t *w, const gen_event_t *ev, size_t n,
                                      const uint32_t *line_of, const char *dir,
                                      jc_error_t *err)
{
    (void)w;
    uint8_t *role = version_roles(ev, n), *revised = revised_events(ev, n);
    FILE *rev = NULL, *rej = NULL;
    jc_status_t st = role && revised ? JC_OK
                     : jc_error_set(err, JC_ERR_NOMEM, "out of memory for revisions.csv");
    if (st == JC_OK)
        st = open_in(dir, "revisions.csv", &rev, err);
    if (st == JC_OK)
        st = open_in(dir, "consumer_rejects.csv", &rej, err);
    if (st == JC_OK)
        write_revision_lines(rev, rej, ev, n, role, revised, line_of);
    st = close_in(rev, "revisions.csv", st, err);
    st = close_in(rej, "consumer_rejects.csv", st, err);
    free(role);
    free(revised);
    return st;
}

