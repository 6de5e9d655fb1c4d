/*
 * test_gen.c: jiceng-gen's workload, checked from the outside.
 *
 * The group set-up generates one workload twice into two scratch directories (in-process,
 * through gen_run) and reads the first back. The tests then prove: the two runs are byte-
 * identical and another seed differs; every line that rejects.csv does not list parses
 * (jc_ndjson_parse) and validates (jc_event_validate, against the real clock), and every
 * listed line fails with exactly the listed status, all eight kinds present; re-sends are
 * byte-identical to the earlier line with their event_id and revision and are exactly
 * duplicates.csv, and none comes after a later revision of its event; every ground-truth file
 * equals a recount of events.ndjson made here with the library (days by jc_local_day, counties
 * as validation maps them, enum symbols from the field table, re-sends and rejects excluded,
 * and the corrections contract applied line by line: per event_id the highest revision in
 * force, a withdrawal removing the event, a correction into another county rejected and
 * listed in consumer_rejects.csv), so the generator's own arithmetic is checked against the
 * library's; revisions.csv says what each version of a revised event comes to; corrections
 * move days and categories, some events are corrected twice and some corrected ones withdrawn;
 * late events lie 20-90 days before the period and nothing lies after it; county volumes are
 * clearly uneven; petition steps share a petition_id and received_at; some records carry an
 * older county code; the manifest's counts match; and a period that has not ended is refused.
 * Without a workload: the truth of a hand-made set of versions (a correction moving the day,
 * a second one changing the category, a withdrawal, a county move) is checked row by row, and
 * the partition classes use Kafka's murmur2 (the Java client's test vectors).
 */
#include "testenv.h"

#include <csv.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gen.h"
#include "model.h"
#include "truth.h"
#include "jiceng/fields.h"
#include "jiceng/jtime.h"
#include "jiceng/ndjson.h"
#include "jiceng/reference.h"
#include "jiceng/validate.h"

#define EVENTS 30000
#define SEED 20260620
#define FROM "2026-06-20"
#define TO "2026-08-10"
#define MAX_METRICS 12
#define KEY_MAX 192

static const char *const files[] = {
    "events.ndjson", "manifest.json", "expected/visits_daily.csv", "expected/visit_cadres.csv",
    "expected/petitions_daily.csv", "expected/disaster_responses_daily.csv",
    "expected/disaster_incidents.csv", "expected/trainings_daily.csv",
    "expected/training_trainees.csv", "expected/rejects.csv", "expected/duplicates.csv",
    "expected/revisions.csv", "expected/consumer_rejects.csv",
};
#define NFILES (sizeof files / sizeof files[0])

typedef struct line {
    char *text;
    size_t len;
    jc_status_t status;  /* of parse, then validate */
    jc_event_t ev;       /* valid lines: the validated event (current county code) */
    const char *reject;  /* the reason rejects.csv gives, or NULL */
    int duplicate;       /* listed in duplicates.csv */
    int consumer_reject; /* listed in consumer_rejects.csv (county_changed) */
    const char *outcome; /* what revisions.csv says, or NULL */
    int role;            /* the recount's (role_t), for counting lines */
} line_t;

/* What a counting line comes to once the corrections contract is applied (recount). */
typedef enum role {
    ROLE_NONE, ROLE_IN_FORCE, ROLE_WITHDRAWN, ROLE_REPLACED, ROLE_REJECTED
} role_t;

typedef struct world {
    char dir[2][64];
    char other[64];
    gen_config_t cfg;
    char *events;        /* events.ndjson of dir[0] */
    line_t *lines;
    size_t nlines;
} world_t;

/* ---- files ---- */

static char *read_file(const char *dir, const char *name, size_t *len)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("open %s: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n - 1 == 0)
            buf = realloc(buf, cap *= 2);
        assert_non_null(buf);
    }
    assert_int_equal(ferror(f), 0);
    fclose(f);
    buf[n] = '\0';
    if (len != NULL)
        *len = n;
    return buf;
}

static void remove_tree(const char *dir)
{
    char path[256];
    for (size_t i = 0; i < NFILES; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/expected", dir);
    rmdir(path);
    rmdir(dir);
}

static void make_scratch(char *dir)
{
    strcpy(dir, "/tmp/jc-gen-test-XXXXXX");
    assert_non_null(mkdtemp(dir));
}

/* ---- CSV through libcsv ---- */

typedef struct csv_rows {
    char ***rows;        /* rows[i][k]: field k of row i */
    size_t *widths;
    size_t n, cap;
    char **cur;
    size_t width;
} csv_rows_t;

static void on_field(void *data, size_t len, void *ud)
{
    csv_rows_t *c = ud;
    c->cur = realloc(c->cur, (c->width + 1) * sizeof *c->cur);
    c->cur[c->width] = strndup(data ? data : "", len);
    c->width++;
}

static void on_row(int ch, void *ud)
{
    (void)ch;
    csv_rows_t *c = ud;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->rows = realloc(c->rows, c->cap * sizeof *c->rows);
        c->widths = realloc(c->widths, c->cap * sizeof *c->widths);
    }
    c->rows[c->n] = c->cur;
    c->widths[c->n++] = c->width;
    c->cur = NULL;
    c->width = 0;
}

static csv_rows_t read_csv(const char *dir, const char *name)
{
    size_t len;
    char *text = read_file(dir, name, &len);
    struct csv_parser p;
    csv_rows_t rows = {0};
    assert_int_equal(csv_init(&p, CSV_STRICT | CSV_APPEND_NULL), 0);
    assert_int_equal(csv_parse(&p, text, len, on_field, on_row, &rows), len);
    assert_int_equal(csv_fini(&p, on_field, on_row, &rows), 0);
    csv_free(&p);
    free(text);
    return rows;
}

static void free_csv(csv_rows_t *c)
{
    for (size_t i = 0; i < c->n; i++) {
        for (size_t k = 0; k < c->widths[i]; k++)
            free(c->rows[i][k]);
        free(c->rows[i]);
    }
    free(c->rows);
    free(c->widths);
}

/* ---- set-up: generate twice, read back ---- */

static void generate(world_t *w, const char *dir, uint64_t seed, uint64_t events)
{
    gen_config_t cfg = w->cfg;
    cfg.out_dir = dir;
    cfg.seed = seed;
    cfg.events = events;
    jc_error_t err;
    if (gen_run(&cfg, jc_now_ms(), &err) != JC_OK)
        fail_msg("gen_run: %s", err.message);
}

static void mark_listed(world_t *w)
{
    csv_rows_t rej = read_csv(w->dir[0], "expected/rejects.csv");
    for (size_t i = 1; i < rej.n; i++) {
        size_t no = strtoul(rej.rows[i][0], NULL, 10);
        assert_true(no >= 1 && no <= w->nlines);
        w->lines[no - 1].reject = strdup(rej.rows[i][1]);
    }
    free_csv(&rej);
    csv_rows_t dup = read_csv(w->dir[0], "expected/duplicates.csv");
    for (size_t i = 1; i < dup.n; i++) {
        size_t no = strtoul(dup.rows[i][0], NULL, 10);
        assert_true(no >= 1 && no <= w->nlines);
        assert_string_equal(dup.rows[i][1], w->lines[no - 1].ev.event_id);
        assert_int_equal(strtol(dup.rows[i][2], NULL, 10), w->lines[no - 1].ev.revision);
        w->lines[no - 1].duplicate = 1;
    }
    free_csv(&dup);
    csv_rows_t rej2 = read_csv(w->dir[0], "expected/consumer_rejects.csv");
    for (size_t i = 1; i < rej2.n; i++) {
        size_t no = strtoul(rej2.rows[i][0], NULL, 10);
        assert_true(no >= 1 && no <= w->nlines);
        assert_string_equal(rej2.rows[i][3], "JC_ERR_COUNTY_CHANGED");
        w->lines[no - 1].consumer_reject = 1;
    }
    free_csv(&rej2);
    csv_rows_t rev = read_csv(w->dir[0], "expected/revisions.csv");
    for (size_t i = 1; i < rev.n; i++) {
        size_t no = strtoul(rev.rows[i][0], NULL, 10);
        assert_true(no >= 1 && no <= w->nlines);
        assert_string_equal(rev.rows[i][1], w->lines[no - 1].ev.event_id);
        assert_int_equal(strtol(rev.rows[i][2], NULL, 10), w->lines[no - 1].ev.revision);
        w->lines[no - 1].outcome = strdup(rev.rows[i][4]);
    }
    free_csv(&rev);
}

static void check_line(line_t *l, int64_t now)
{
    l->status = jc_ndjson_parse(l->text, l->len, &l->ev, NULL);
    if (l->status == JC_OK)
        l->status = jc_event_validate(&l->ev, now, JC_DEFAULT_MAX_SKEW_MS, NULL);
}

static void split_lines(world_t *w)
{
    size_t cap = EVENTS + 16;
    w->lines = calloc(cap, sizeof *w->lines);
    int64_t now = jc_now_ms();
    for (char *p = w->events; *p != '\0';) {
        char *nl = strchr(p, '\n');
        assert_non_null(nl);
        assert_true(w->nlines < cap);
        *nl = '\0';
        line_t *l = &w->lines[w->nlines++];
        l->text = p;
        l->len = (size_t)(nl - p);
        check_line(l, now);
        p = nl + 1;
    }
}

/* ---- the corrections contract, line by line ---- */

/* A line that counts: valid and not a re-send. */
static int counts(const line_t *l)
{
    return l->status == JC_OK && !l->duplicate;
}

/* A line that counts and is an event's first version. */
static int original(const line_t *l)
{
    return counts(l) && l->ev.revision == 0;
}

static int compare_by_id(const void *pa, const void *pb)
{
    const line_t *a = *(line_t *const *)pa, *b = *(line_t *const *)pb;
    int c = strcmp(a->ev.event_id, b->ev.event_id);
    return c != 0 ? c : (a > b) - (a < b); /* one array: address order is line order */
}

/* The n lines of one event in file order: the first is its original; each later one has a
 * higher revision than the version in force; one into another county is rejected (and listed
 * in consumer_rejects.csv); the last one applied is in force. */
static void apply_event(line_t **v, size_t n)
{
    line_t *force = v[0];
    if (force->ev.revision != 0 || force->consumer_reject)
        fail_msg("%s: the first line has revision %d", force->ev.event_id, (int)force->ev.revision);
    for (size_t k = 1; k < n; k++) {
        if (v[k]->ev.revision <= force->ev.revision)
            fail_msg("%s: revision %d after %d", v[k]->ev.event_id, (int)v[k]->ev.revision,
                     (int)force->ev.revision);
        if (v[k]->ev.county_code != force->ev.county_code) {
            if (!v[k]->consumer_reject)
                fail_msg("%s: a correction into another county is not in consumer_rejects.csv",
                         v[k]->ev.event_id);
            v[k]->role = ROLE_REJECTED;
            continue;
        }
        assert_false(v[k]->consumer_reject);
        force->role = ROLE_REPLACED;
        force = v[k];
    }
    force->role = force->ev.withdrawn ? ROLE_WITHDRAWN : ROLE_IN_FORCE;
}

static void apply_revisions(world_t *w)
{
    line_t **v = calloc(w->nlines, sizeof *v);
    size_t n = 0;
    for (size_t i = 0; i < w->nlines; i++)
        if (counts(&w->lines[i]))
            v[n++] = &w->lines[i];
    qsort(v, n, sizeof *v, compare_by_id);
    for (size_t i = 0, j; i < n; i = j) {
        for (j = i + 1; j < n && strcmp(v[j]->ev.event_id, v[i]->ev.event_id) == 0; j++)
            ;
        apply_event(v + i, j - i);
    }
    free(v);
}

static int setup(void **state)
{
    world_t *w = calloc(1, sizeof *w);
    jc_error_t err;
    assert_int_equal(gen_config_defaults(&w->cfg, jc_now_ms(), &err), JC_OK);
    assert_int_equal(jc_day_parse(FROM, &w->cfg.from_day, NULL), JC_OK);
    assert_int_equal(jc_day_parse(TO, &w->cfg.to_day, NULL), JC_OK);
    w->cfg.dup_rate = 0.02;
    w->cfg.late_rate = 0.01;
    w->cfg.malformed_rate = 0.004;
    w->cfg.correction_rate = 0.02;
    w->cfg.withdrawal_rate = 0.005;
    w->cfg.county_move_rate = 0.002;
    for (int i = 0; i < 2; i++) {
        make_scratch(w->dir[i]);
        generate(w, w->dir[i], SEED, EVENTS);
    }
    make_scratch(w->other);
    generate(w, w->other, SEED + 1, EVENTS);
    w->events = read_file(w->dir[0], "events.ndjson", NULL);
    split_lines(w);
    mark_listed(w);
    apply_revisions(w);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world_t *w = *state;
    for (int i = 0; i < 2; i++)
        remove_tree(w->dir[i]);
    remove_tree(w->other);
    for (size_t i = 0; i < w->nlines; i++) {
        free((char *)w->lines[i].reject);
        free((char *)w->lines[i].outcome);
    }
    free(w->lines);
    free(w->events);
    free(w);
    return 0;
}

/* ---- determinism ---- */

static void test_same_seed_same_bytes(void **state)
{
    world_t *w = *state;
    for (size_t i = 0; i < NFILES; i++) {
        size_t la, lb;
        char *a = read_file(w->dir[0], files[i], &la), *b = read_file(w->dir[1], files[i], &lb);
        if (la != lb || memcmp(a, b, la) != 0)
            fail_msg("%s differs between two runs with the same arguments", files[i]);
        free(a);
        free(b);
    }
    size_t lo;
    char *other = read_file(w->other, "events.ndjson", &lo);
    assert_true(lo != strlen(w->events) || memcmp(other, w->events, lo) != 0);
    free(other);
}

/* ---- every line parses and validates, or fails as rejects.csv says ---- */

static void test_lines_valid_or_rejected_as_listed(void **state)
{
    world_t *w = *state;
    int seen[JC_STATUS_COUNT_] = {0};
    size_t rejected = 0;
    for (size_t i = 0; i < w->nlines; i++) {
        const line_t *l = &w->lines[i];
        if (l->reject == NULL) {
            if (l->status != JC_OK)
                fail_msg("line %zu: %s, not listed in rejects.csv: %s", i + 1,
                         jc_status_name(l->status), l->text);
            continue;
        }
        rejected++;
        if (strcmp(jc_status_name(l->status), l->reject) != 0)
            fail_msg("line %zu: %s, rejects.csv says %s: %s", i + 1,
                     jc_status_name(l->status), l->reject, l->text);
        seen[l->status]++;
    }
    assert_int_equal(rejected, (size_t)(EVENTS * 0.004 + 0.5));
    const jc_status_t kinds[] = {JC_ERR_PARSE, JC_ERR_MISSING_FIELD, JC_ERR_NEGATIVE_COUNT,
                                 JC_ERR_UNKNOWN_COUNTY, JC_ERR_ENUM_RANGE, JC_ERR_BAD_FIELD,
                                 JC_ERR_TOO_LONG, JC_ERR_FUTURE_TIME, JC_ERR_TOO_EARLY};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
        if (seen[kinds[k]] == 0)
            fail_msg("no malformed line of kind %s", jc_status_name(kinds[k]));
}

/* ---- re-sends ---- */

typedef struct id_line {
    const char *id;
    int32_t revision;
    size_t line;
} id_line_t;

static int compare_id_lines(const void *pa, const void *pb)
{
    const id_line_t *a = pa, *b = pb;
    int c = strcmp(a->id, b->id);
    if (c == 0)
        c = (a->revision > b->revision) - (a->revision < b->revision);
    return c != 0 ? c : (a->line > b->line) - (a->line < b->line);
}

static void test_duplicates_are_exact_resends(void **state)
{
    world_t *w = *state;
    id_line_t *ids = calloc(w->nlines, sizeof *ids);
    size_t n = 0, resends = 0;
    for (size_t i = 0; i < w->nlines; i++)
        if (w->lines[i].status == JC_OK)
            ids[n++] = (id_line_t){w->lines[i].ev.event_id, w->lines[i].ev.revision, i};
    qsort(ids, n, sizeof *ids, compare_id_lines);
    for (size_t i = 0, first = 0; i < n; i++) {
        const line_t *l = &w->lines[ids[i].line];
        if (i > 0 && strcmp(ids[i].id, ids[first].id) == 0 &&
            ids[i].revision == ids[first].revision) {
            const line_t *orig = &w->lines[ids[first].line];
            assert_true(l->duplicate);
            assert_false(orig->duplicate);
            assert_int_equal(l->len, orig->len);
            assert_memory_equal(l->text, orig->text, l->len);
            assert_int_not_equal(orig->role, ROLE_REJECTED); /* a county move is not re-sent */
            if (i + 1 < n && strcmp(ids[i + 1].id, ids[i].id) == 0 &&
                ids[i + 1].revision != ids[i].revision)
                assert_true(ids[i].line < ids[i + 1].line); /* before the next revision */
            resends++;
        } else {
            first = i;
            assert_false(l->duplicate);
        }
    }
    assert_int_equal(resends, (size_t)(EVENTS * 0.02 + 0.5));
    free(ids);
}

/* ---- the ground truth against a recount ---- */

typedef struct agg_row {
    char key[KEY_MAX];
    int64_t m[MAX_METRICS];
} agg_row_t;

typedef struct agg {
    agg_row_t *rows;
    size_t n, cap;
} agg_t;

static void agg_add(agg_t *a, const char *key, const int64_t *m, int nm)
{
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 256;
        a->rows = realloc(a->rows, a->cap * sizeof *a->rows);
        assert_non_null(a->rows);
    }
    agg_row_t *r = &a->rows[a->n++];
    memset(r, 0, sizeof *r);
    assert_true(strlen(key) < KEY_MAX);
    strcpy(r->key, key);
    for (int k = 0; k < nm; k++)
        r->m[k] = m[k];
}

static int compare_agg_rows(const void *a, const void *b)
{
    return strcmp(((const agg_row_t *)a)->key, ((const agg_row_t *)b)->key);
}

/* Sort by key and merge equal keys, adding their metrics. */
static void agg_finish(agg_t *a)
{
    qsort(a->rows, a->n, sizeof *a->rows, compare_agg_rows);
    size_t out = 0;
    for (size_t i = 0; i < a->n; i++) {
        if (out > 0 && strcmp(a->rows[out - 1].key, a->rows[i].key) == 0) {
            for (int k = 0; k < MAX_METRICS; k++)
                a->rows[out - 1].m[k] += a->rows[i].m[k];
        } else {
            a->rows[out++] = a->rows[i];
        }
    }
    a->n = out;
}

/* What one file holds: how many key columns, how many metrics, and an event's row(s). */
typedef struct truth_file {
    const char *name;
    const char *header;
    int nkey, nm;            /* nm: the metrics the recount sets, then corrected and
                                withdrawn (a sum file) or events (a distinct file) */
    jc_event_type_t type;
    void (*recount)(const jc_event_t *ev, const char *where, char *key, int64_t *m);
} truth_file_t;

#define SUMS ",corrected,withdrawn"
#define EVENTS_COLUMN ",events"

static int distinct_file(const truth_file_t *t)
{
    return strstr(t->header, EVENTS_COLUMN) != NULL;
}

static const char *symbol(jc_event_type_t type, const char *field, int32_t i)
{
    return jc_event_field(type, field)->symbols[i];
}

/* "county,day" of an event, by the library. */
static void where_of(const jc_event_t *ev, char *buf, size_t len)
{
    char day[16];
    jc_day_format(jc_local_day(ev->occurred_at), day, sizeof day);
    snprintf(buf, len, "%d,%s", (int)ev->county_code, day);
}

static void recount_visit(const jc_event_t *ev, const char *where, char *key, int64_t *m)
{
    const jc_visit_t *v = &ev->u.visit;
    snprintf(key, KEY_MAX, "%s,%s", where, symbol(JC_VISIT, "cadre_level", v->cadre_level));
    const int64_t vals[] = {1, v->households_visited, v->people_met, v->deeds_done,
                            v->problems_solved, v->stayed_overnight, v->hours_on_site};
    memcpy(m, vals, sizeof vals);
}

static void recount_visit_cadre(const jc_event_t *ev, const char *where, char *key, int64_t *m)
{
    (void)m; /* a distinct file: the key is the row */
    snprintf(key, KEY_MAX, "%s,%s", where, ev->u.visit.cadre_id);
}

static void recount_petition(const jc_event_t *ev, const char *where, char *key, int64_t *m)
{
    const jc_petition_t *p = &ev->u.petition;
    snprintf(key, KEY_MAX, "%s,%s", where, symbol(JC_PETITION, "channel", p->channel));
    if (p->stage == JC_STAGE_RECEIVED) {
        m[0] = 1;
        m[1] = p->people;
    } else if (p->stage == JC_STAGE_RESOLVED) {
        int64_t s = (ev->occurred_at - p->received_at.ms) / 1000;
        m[2] = 1;
        m[3] = s;
        m[4] = s <= 86400;
        m[5] = s <= 7 * 86400;
        m[6] = s <= 30 * 86400;
    } else {
        m[7] = 1;
        m[8] = p->satisfied != JC_NULL;
        m[9] = p->satisfied == 1;
    }
}

static void recount_disaster(const jc_event_t *ev, const char *where, char *key, int64_t *m)
{
    const jc_disaster_response_t *d = &ev->u.disaster_response;
    snprintf(key, KEY_MAX, "%s,%s", where, symbol(JC_DISASTER_RESPONSE, "hazard", d->hazard));
    const int64_t vals[] = {1, d->responders, d->party_member_responders, d->people_evacuated,
                            d->people_rescued, d->deaths, d->injured, d->households_assisted};
    memcpy(m, vals, sizeof vals);
}

static void recount_incident(const jc_event_t *ev, const char *where, char *key, int64_t *m)
{
    (void)m; /* a distinct file: the key is the row */
    const jc_disaster_response_t *d = &ev->u.disaster_response;
    snprintf(key, KEY_MAX, "%s,%s,%s", where, symbol(JC_DISASTER_RESPONSE, "hazard",
             d->hazard), d->incident_id);
}

static void recount_training(const jc_event_t *ev, const char *where, char *key, int64_t *m)
{
    const jc_training_completion_t *t = &ev->u.training_completion;
    snprintf(key, KEY_MAX, "%s,%s,%s", where,
             symbol(JC_TRAINING_COMPLETION, "trainee_role", t->trainee_role),
             symbol(JC_TRAINING_COMPLETION, "training_base", t->training_base));
    const int64_t vals[] = {1, t->hours, t->passed, t->from_poor_village};
    memcpy(m, vals, sizeof vals);
}

static void recount_trainee(const jc_event_t *ev, const char *where, char *key, int64_t *m)
{
    (void)m; /* a distinct file: the key is the row */
    snprintf(key, KEY_MAX, "%s,%s", where, ev->u.training_completion.trainee_id);
}

static const truth_file_t truth_files[] = {
    {"expected/visits_daily.csv",
     "county_code,day,cadre_level,visits,households_visited,people_met,deeds_done,"
     "problems_solved,overnight_stays,hours_on_site" SUMS,
     3, 9, JC_VISIT, recount_visit},
    {"expected/visit_cadres.csv", "county_code,day,cadre_id" EVENTS_COLUMN, 3, 1, JC_VISIT,
     recount_visit_cadre},
    {"expected/petitions_daily.csv",
     "county_code,day,channel,received,people_received,resolved,resolution_seconds,"
     "resolved_within_1d,resolved_within_7d,resolved_within_30d,followed_up,"
     "followups_answered,satisfied" SUMS,
     3, 12, JC_PETITION, recount_petition},
    {"expected/disaster_responses_daily.csv",
     "county_code,day,hazard,responses,responders,party_member_responders,people_evacuated,"
     "people_rescued,deaths,injured,households_assisted" SUMS,
     3, 10, JC_DISASTER_RESPONSE, recount_disaster},
    {"expected/disaster_incidents.csv", "county_code,day,hazard,incident_id" EVENTS_COLUMN, 4, 1,
     JC_DISASTER_RESPONSE, recount_incident},
    {"expected/trainings_daily.csv",
     "county_code,day,trainee_role,training_base,completions,hours,passed,from_poor_village"
     SUMS, 4, 6, JC_TRAINING_COMPLETION, recount_training},
    {"expected/training_trainees.csv", "county_code,day,trainee_id" EVENTS_COLUMN, 3, 1,
     JC_TRAINING_COMPLETION, recount_trainee},
};

/* The row of a counting line by its role: in force, its metrics (and corrected if revision >
 * 0, or events 1); withdrawn, withdrawn 1 on its own key; replaced, a zero row (a sum row
 * stays when it returns to zero); rejected, none. A distinct file has rows in force only. */
static void recount_line(const truth_file_t *t, const line_t *l, agg_t *a)
{
    int distinct = distinct_file(t), extra = t->nm - (distinct ? 1 : 2);
    if (l->role == ROLE_REJECTED || (distinct && l->role != ROLE_IN_FORCE))
        return;
    char where[32], key[KEY_MAX];
    int64_t m[MAX_METRICS] = {0};
    where_of(&l->ev, where, sizeof where);
    t->recount(&l->ev, where, key, m);
    if (l->role != ROLE_IN_FORCE)
        memset(m, 0, sizeof m);
    if (distinct)
        m[extra] = 1;
    else if (l->role == ROLE_IN_FORCE)
        m[extra] = l->ev.revision > 0;
    else
        m[extra + 1] = l->role == ROLE_WITHDRAWN;
    agg_add(a, key, m, t->nm);
}

static void recount(const world_t *w, const truth_file_t *t, agg_t *a)
{
    for (size_t i = 0; i < w->nlines; i++) {
        const line_t *l = &w->lines[i];
        if (counts(l) && l->ev.type == t->type)
            recount_line(t, l, a);
    }
    agg_finish(a);
}

/* Row i's key columns compare strictly after row i-1's, column by column. */
static int row_after(const csv_rows_t *c, size_t i, int nkey)
{
    for (int k = 0; k < nkey; k++) {
        int cmp = strcmp(c->rows[i - 1][k], c->rows[i][k]);
        if (cmp != 0)
            return cmp < 0;
    }
    return 0;
}

static void load_truth(const world_t *w, const truth_file_t *t, agg_t *a)
{
    csv_rows_t c = read_csv(w->dir[0], t->name);
    assert_true(c.n >= 1);
    char header[512] = "";
    for (size_t k = 0; k < c.widths[0]; k++)
        snprintf(header + strlen(header), sizeof header - strlen(header), "%s%s", k ? "," : "",
                 c.rows[0][k]);
    assert_string_equal(header, t->header);
    for (size_t i = 1; i < c.n; i++) {
        assert_int_equal(c.widths[i], (size_t)(t->nkey + t->nm));
        if (i > 1 && !row_after(&c, i, t->nkey))
            fail_msg("%s: row %zu is not after row %zu in key order", t->name, i + 1, i);
        char key[KEY_MAX] = "";
        int64_t m[MAX_METRICS] = {0};
        for (int k = 0; k < t->nkey; k++)
            snprintf(key + strlen(key), sizeof key - strlen(key), "%s%s", k ? "," : "",
                     c.rows[i][k]);
        for (int k = 0; k < t->nm; k++) {
            char *end;
            m[k] = strtoll(c.rows[i][t->nkey + k], &end, 10);
            assert_true(*end == '\0' && end != c.rows[i][t->nkey + k]);
        }
        agg_add(a, key, m, t->nm);
    }
    free_csv(&c);
    agg_finish(a);
}

static void compare_truth(const truth_file_t *t, const agg_t *want, const agg_t *got)
{
    size_t n = want->n < got->n ? want->n : got->n;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(want->rows[i].key, got->rows[i].key) != 0)
            fail_msg("%s: recount has %s where the file has %s", t->name, want->rows[i].key,
                     got->rows[i].key);
        for (int k = 0; k < t->nm; k++)
            if (want->rows[i].m[k] != got->rows[i].m[k])
                fail_msg("%s: %s metric %d: recount %lld, file %lld", t->name,
                         want->rows[i].key, k, (long long)want->rows[i].m[k],
                         (long long)got->rows[i].m[k]);
    }
    if (want->n != got->n)
        fail_msg("%s: recount has %zu rows, the file %zu", t->name, want->n, got->n);
}

static void test_truth_equals_recount(void **state)
{
    world_t *w = *state;
    for (size_t i = 0; i < sizeof truth_files / sizeof truth_files[0]; i++) {
        agg_t want = {0}, got = {0};
        recount(w, &truth_files[i], &want);
        load_truth(w, &truth_files[i], &got);
        assert_true(got.n > 0);
        compare_truth(&truth_files[i], &want, &got);
        free(want.rows);
        free(got.rows);
    }
}

/* ---- times ---- */

static void test_late_events_and_nothing_after_the_period(void **state)
{
    world_t *w = *state;
    int64_t now = jc_now_ms(), end = ((int64_t)w->cfg.to_day + 1) * JC_DAY_MS -
                                     JC_SHANGHAI_OFFSET_MS;
    size_t late = 0;
    for (size_t i = 0; i < w->nlines; i++) {
        const line_t *l = &w->lines[i];
        if (!counts(l))
            continue;
        int32_t day = jc_local_day(l->ev.occurred_at);
        assert_true(l->ev.occurred_at < end && l->ev.occurred_at <= now);
        if (day < w->cfg.from_day) {
            late += l->ev.revision == 0; /* a correction of a late event stays on its day */
            assert_true(day >= w->cfg.from_day - 90 && day <= w->cfg.from_day - 20);
            assert_true(l->ev.type == JC_VISIT || l->ev.type == JC_TRAINING_COMPLETION);
        }
    }
    assert_int_equal(late, (size_t)(EVENTS * 0.01 + 0.5));
}

/* ---- counties ---- */

static size_t county_index(int32_t code)
{
    for (size_t i = 0; i < jc_county_count(); i++)
        if (jc_county_at(i)->code == code)
            return i;
    fail_msg("county %d is not current", (int)code);
    return 0;
}

static void test_county_volumes_are_uneven(void **state)
{
    world_t *w = *state;
    size_t per[128] = {0}, old = 0;
    assert_true(jc_county_count() <= 128);
    for (size_t i = 0; i < w->nlines; i++) {
        const line_t *l = &w->lines[i];
        if (!counts(l))
            continue;
        per[county_index(l->ev.county_code)]++;
        jc_event_t raw; /* as written, before validation mapped the code */
        assert_int_equal(jc_ndjson_parse(l->text, l->len, &raw, NULL), JC_OK);
        old += raw.county_code != l->ev.county_code;
    }
    size_t most = 0, least = (size_t)-1, present = 0;
    for (size_t i = 0; i < jc_county_count(); i++) {
        most = per[i] > most ? per[i] : most;
        least = per[i] < least ? per[i] : least;
        present += per[i] > 0;
    }
    print_message("events per county: most %zu, least %zu; %zu with an older code\n", most,
                  least, old);
    assert_int_equal(present, jc_county_count());
    assert_true(most >= 2 * least);
    assert_true(old > 0);
}

/* ---- petitions ---- */

typedef struct step {
    const char *id;
    int32_t stage;
    int64_t at, received;
} step_t;

static int compare_steps(const void *pa, const void *pb)
{
    const step_t *a = pa, *b = pb;
    int c = strcmp(a->id, b->id);
    return c != 0 ? c : (a->stage > b->stage) - (a->stage < b->stage);
}

static void check_petition(const step_t *s, size_t n, size_t *resolved, size_t *within_1d)
{
    assert_int_equal(s[0].stage, JC_STAGE_RECEIVED);
    for (size_t k = 1; k < n; k++) {
        assert_int_equal(s[k].stage, (int32_t)k); /* one step per stage, none skipped */
        assert_true(s[k].received == s[0].at);
        assert_true(s[k].at > s[k - 1].at);
    }
    if (n > 1) {
        (*resolved)++;
        *within_1d += s[1].at - s[0].at <= JC_DAY_MS;
    }
}

static void test_petition_steps_belong_together(void **state)
{
    world_t *w = *state;
    step_t *steps = calloc(w->nlines, sizeof *steps);
    size_t n = 0, petitions = 0, resolved = 0, within_1d = 0;
    for (size_t i = 0; i < w->nlines; i++) {
        const line_t *l = &w->lines[i];
        if (original(l) && l->ev.type == JC_PETITION)
            steps[n++] = (step_t){l->ev.u.petition.petition_id, l->ev.u.petition.stage,
                                  l->ev.occurred_at, l->ev.u.petition.received_at.ms};
    }
    qsort(steps, n, sizeof *steps, compare_steps);
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && strcmp(steps[j].id, steps[i].id) == 0)
            j++;
        check_petition(steps + i, j - i, &resolved, &within_1d);
        petitions++;
        i = j;
    }
    print_message("%zu petitions, %zu resolved in the period, %zu within a day\n", petitions,
                  resolved, within_1d);
    assert_true(resolved > petitions / 4 && within_1d > 0 && within_1d < resolved);
    free(steps);
}

/* ---- the manifest ---- */

static void test_manifest_counts(void **state)
{
    world_t *w = *state;
    char *text = read_file(w->dir[0], "manifest.json", NULL);
    json_error_t jerr;
    json_t *m = json_loads(text, 0, &jerr);
    assert_non_null(m);
    size_t by_type[JC_EVENT_TYPE_COUNT] = {0}, valid = 0, kinds[3] = {0};
    for (size_t i = 0; i < w->nlines; i++) {
        const line_t *l = &w->lines[i];
        if (original(l)) {
            by_type[l->ev.type]++;
            valid++;
        } else if (counts(l)) { /* a correction, a withdrawal, a county move */
            kinds[l->consumer_reject ? 2 : l->ev.withdrawn ? 1 : 0]++;
        }
    }
    json_t *rev = json_object_get(m, "revisions");
    assert_int_equal(json_integer_value(json_object_get(rev, "corrections")), kinds[0]);
    assert_int_equal(json_integer_value(json_object_get(rev, "withdrawals")), kinds[1]);
    assert_int_equal(json_integer_value(json_object_get(rev, "county_moves")), kinds[2]);
    assert_int_equal(kinds[0], (size_t)(EVENTS * 0.02 + 0.5));
    assert_int_equal(kinds[1], (size_t)(EVENTS * 0.005 + 0.5));
    assert_int_equal(kinds[2], (size_t)(EVENTS * 0.002 + 0.5));
    assert_int_equal(json_integer_value(json_object_get(m, "lines")), w->nlines);
    assert_int_equal(json_integer_value(json_object_get(m, "valid_events")), valid);
    json_t *types = json_object_get(m, "counts_by_type");
    for (int t = 0; t < JC_EVENT_TYPE_COUNT; t++) {
        const char *name = jc_event_type_name((jc_event_type_t)t);
        assert_int_equal(json_integer_value(json_object_get(types, name)), by_type[t]);
    }
    assert_true(by_type[JC_VISIT] > by_type[JC_PETITION] &&
                by_type[JC_PETITION] > by_type[JC_TRAINING_COMPLETION] &&
                by_type[JC_TRAINING_COMPLETION] > by_type[JC_DISASTER_RESPONSE]);
    assert_int_equal(json_integer_value(json_object_get(m, "seed")), SEED);
    json_decref(m);
    free(text);
}

/* ---- corrections and withdrawals ---- */

/* revisions.csv lists every line of an event with more than one version, with what the
 * recount made of it. */
static void test_revisions_listed(void **state)
{
    world_t *w = *state;
    size_t listed = 0;
    for (size_t i = 0; i < w->nlines; i++) {
        const line_t *l = &w->lines[i];
        if (!counts(l)) {
            assert_null(l->outcome);
            continue;
        }
        const char *want = l->role == ROLE_REJECTED   ? "county_changed"
                           : l->role == ROLE_REPLACED ? "replaced" : "in_force";
        int revised = l->ev.revision > 0 || l->role != ROLE_IN_FORCE;
        if (!revised) /* in force at revision 0: listed only if a county move followed */
            continue;
        if (l->outcome == NULL || strcmp(l->outcome, want) != 0)
            fail_msg("line %zu: revisions.csv says %s, the recount %s", i + 1,
                     l->outcome ? l->outcome : "nothing", want);
        listed++;
    }
    assert_true(listed > 0);
}

/* The previous version in force of line i's event (the lines before i), or NULL. */
static const line_t *previous_version(const world_t *w, size_t i)
{
    const line_t *prev = NULL;
    for (size_t k = 0; k < i; k++) {
        const line_t *l = &w->lines[k];
        if (counts(l) && l->role != ROLE_REJECTED &&
            strcmp(l->ev.event_id, w->lines[i].ev.event_id) == 0)
            prev = l;
    }
    return prev;
}

/* Corrections move days and categories and change measures; some events are corrected twice,
 * some corrected ones withdrawn; a county move lands in the same partition class. */
static void test_corrections_cover_every_case(void **state)
{
    world_t *w = *state;
    size_t moved_day = 0, moved_category = 0, twice = 0, withdrawn_corrected = 0, moves = 0;
    for (size_t i = 0; i < w->nlines; i++) {
        const line_t *l = &w->lines[i];
        if (!counts(l) || l->ev.revision == 0)
            continue;
        const line_t *prev = previous_version(w, i);
        assert_non_null(prev);
        assert_int_equal(l->ev.revision, prev->ev.revision + 1);
        if (l->role == ROLE_REJECTED) {
            assert_int_equal(gen_partition_class(l->ev.county_code),
                             gen_partition_class(prev->ev.county_code));
            moves++;
        } else if (l->ev.withdrawn) {
            withdrawn_corrected += prev->ev.revision > 0;
        } else {
            twice += l->ev.revision >= 2;
            moved_day += jc_local_day(l->ev.occurred_at) != jc_local_day(prev->ev.occurred_at);
            moved_category += l->ev.type == JC_VISIT &&
                              l->ev.u.visit.cadre_level != prev->ev.u.visit.cadre_level;
        }
    }
    print_message("corrections: %zu move the day, %zu a cadre level; %zu second or later; "
                  "%zu withdrawals of corrected events; %zu county moves\n", moved_day,
                  moved_category, twice, withdrawn_corrected, moves);
    assert_true(moved_day > 0 && moved_category > 0 && twice > 0 && withdrawn_corrected > 0);
    assert_true(moves > 0);
}

/* ---- the truth of hand-made versions ---- */

static char *read_expected(const char *dir, const char *name)
{
    char path[128];
    snprintf(path, sizeof path, "expected/%s", name);
    return read_file(dir, path, NULL);
}

/* Version k of event e: revision k, arriving an hour after the last. */
static gen_event_t version_of(const gen_event_t *e, uint32_t seq, gen_version_t kind)
{
    gen_event_t v = *e;
    v.seq = seq;
    v.revision = (uint16_t)(e->revision + 1);
    v.version = (uint8_t)kind;
    v.withdrawn = kind == GEN_WITHDRAWAL;
    v.arrival += 3600 * 1000;
    return v;
}

static gen_event_t hand_visit(uint32_t seq, uint32_t county, int32_t day, int64_t hour)
{
    gen_event_t e;
    memset(&e, 0, sizeof e);
    e.seq = e.origin = seq;
    e.type = JC_VISIT;
    e.at = e.id_ms = e.arrival = (int64_t)day * JC_DAY_MS - JC_SHANGHAI_OFFSET_MS + hour * 3600000;
    e.id_bits = 0x1234 + seq;
    e.county = county;
    e.u.visit.cadre_no = 7 + seq;
    e.u.visit.level = JC_CADRE_COUNTY;
    e.u.visit.households = 2;
    e.u.visit.people = 140; /* the typo the county corrects */
    e.u.visit.hours = 3;
    return e;
}

/* A visit corrected to another day, then to another level; one withdrawn; one moved to
 * another county (rejected); one left alone. Rows and columns exactly. */
static void test_truth_of_hand_made_versions(void **state)
{
    world_t *w = *state;
    gen_config_t cfg = w->cfg;
    gen_world_t gw;
    jc_error_t err;
    assert_int_equal(gen_world_init(&gw, &cfg, &err), JC_OK);
    int32_t d1 = cfg.from_day, d2 = cfg.from_day + 2;
    gen_event_t ev[8];
    size_t n = 0;
    ev[n++] = hand_visit(0, 0, d1, 9);                       /* A: corrected twice */
    ev[n++] = hand_visit(1, 0, d1, 10);                      /* B: withdrawn */
    ev[n++] = hand_visit(2, 1, d1, 11);                      /* C: moved county, rejected */
    ev[n++] = hand_visit(3, 0, d1, 12);                      /* D: untouched */
    ev[n] = version_of(&ev[0], 4, GEN_CORRECTION);           /* A1: day d2, 14 people */
    ev[n].at += 2 * JC_DAY_MS;
    ev[n].u.visit.people = 14;
    n++;
    ev[n] = version_of(&ev[n - 1], 5, GEN_CORRECTION);       /* A2: level TOWNSHIP */
    ev[n].u.visit.level = JC_CADRE_TOWNSHIP;
    n++;
    ev[n++] = version_of(&ev[1], 6, GEN_WITHDRAWAL);         /* B1 */
    ev[n] = version_of(&ev[2], 7, GEN_COUNTY_MOVE);          /* C1: county 2 */
    ev[n].county = 2;
    n++;
    char dir[64];
    make_scratch(dir);
    char sub[80];
    snprintf(sub, sizeof sub, "%s/expected", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    uint32_t line_of[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    assert_int_equal(gen_truth_write(&gw, ev, n, sub, &err), JC_OK);
    assert_int_equal(gen_truth_write_revisions(&gw, ev, n, line_of, sub, &err), JC_OK);
    char c0[8], c1[8], day1[16], day2[16], want[2048];
    snprintf(c0, sizeof c0, "%d", (int)gw.counties[0].code);
    snprintf(c1, sizeof c1, "%d", (int)gw.counties[1].code);
    jc_day_format(d1, day1, sizeof day1);
    jc_day_format(d2, day2, sizeof day2);
    /* d1 COUNTY: B withdrawn (withdrawn 1), D in force, A's original replaced (zero);
     * d2 COUNTY: A1 replaced (a zero row); d2 TOWNSHIP: A2 in force, corrected;
     * C in force in its own county, its move rejected. */
    snprintf(want, sizeof want,
             "county_code,day,cadre_level,visits,households_visited,people_met,deeds_done,"
             "problems_solved,overnight_stays,hours_on_site,corrected,withdrawn\n"
             "%s,%s,COUNTY,1,2,140,0,0,0,3,0,1\n"
             "%s,%s,COUNTY,0,0,0,0,0,0,0,0,0\n"
             "%s,%s,TOWNSHIP,1,2,14,0,0,0,3,1,0\n"
             "%s,%s,COUNTY,1,2,140,0,0,0,3,0,0\n",
             c0, day1, c0, day2, c0, day2, c1, day1);
    char *got = read_expected(dir, "visits_daily.csv");
    assert_string_equal(got, want);
    free(got);
    snprintf(want, sizeof want, "county_code,day,cadre_id,events\n"
             "%s,%s,C-%s-00010,1\n%s,%s,C-%s-00007,1\n%s,%s,C-%s-00009,1\n",
             c0, day1, c0, c0, day2, c0, c1, day1, c0); /* every cadre is from county 0 */
    got = read_expected(dir, "visit_cadres.csv");
    assert_string_equal(got, want);
    free(got);
    char ids[8][JC_UUID_LEN + 1];
    for (size_t i = 0; i < n; i++)
        gen_event_id(&ev[i], ids[i], sizeof ids[i]);
    snprintf(want, sizeof want, "line,event_id,revision,status\n8,%s,1,JC_ERR_COUNTY_CHANGED\n",
             ids[2]);
    got = read_expected(dir, "consumer_rejects.csv");
    assert_string_equal(got, want);
    free(got);
    snprintf(want, sizeof want, "line,event_id,revision,withdrawn,outcome\n"
             "1,%s,0,false,replaced\n2,%s,0,false,replaced\n3,%s,0,false,in_force\n"
             "5,%s,1,false,replaced\n6,%s,2,false,in_force\n7,%s,1,true,in_force\n"
             "8,%s,1,false,county_changed\n", ids[0], ids[1], ids[2], ids[0], ids[0], ids[1],
             ids[2]);
    got = read_expected(dir, "revisions.csv");
    assert_string_equal(got, want);
    free(got);
    for (size_t i = 0; i < NFILES; i++) {
        char path[160];
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(sub);
    rmdir(dir);
    gen_world_free(&gw);
}

/* gen_partition_class uses Kafka's murmur2: the Java client's own test vectors
 * (UtilsTest.testMurmur2), as signed 32-bit values. */
static void test_murmur2_vectors(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int32_t want;
    } v[] = {{"21", -973932308}, {"foobar", -790332482}, {"a-little-bit-long-string", -985981536},
             {"a-little-bit-longer-string", -1486304829},
             {"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971}, {"abc", 479470107}};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        assert_int_equal((int32_t)gen_murmur2(v[i].in, strlen(v[i].in)), v[i].want);
    assert_int_equal(gen_partition_class(520102),
                     (gen_murmur2("520102", 6) & 0x7fffffff) % GEN_PARTITION_CLASSES);
}

/* ---- refusals ---- */

static void test_unfinished_period_is_refused(void **state)
{
    world_t *w = *state;
    gen_config_t cfg = w->cfg;
    char dir[] = "/tmp/jc-gen-test-refused-never-created";
    cfg.out_dir = dir;
    int64_t now = jc_now_ms();
    cfg.to_day = jc_local_day(now); /* today: ends at the coming midnight */
    cfg.from_day = cfg.to_day - 3;
    jc_error_t err;
    assert_int_equal(gen_config_check(&cfg, now, &err), JC_ERR_INVALID_ARG);
    assert_int_equal(gen_run(&cfg, now, &err), JC_ERR_INVALID_ARG);
    assert_int_equal(access(dir, F_OK), -1);
    cfg.to_day = cfg.from_day - 1; /* yesterday's end is behind us */
    cfg.from_day -= 5;
    assert_int_equal(gen_config_check(&cfg, now, &err), JC_OK);
    cfg.events = 0;
    assert_int_equal(gen_config_check(&cfg, now, &err), JC_ERR_INVALID_ARG);
    /* late events happen up to GEN_LATE_MAX_DAYS before the period: none before the contract's
     * earliest time (JC_EARLIEST_EVENT_MS) */
    cfg.events = 1000;
    cfg.from_day = jc_local_day(JC_EARLIEST_EVENT_MS) + GEN_LATE_MAX_DAYS;
    cfg.to_day = cfg.from_day + 30;
    assert_int_equal(gen_config_check(&cfg, now, &err), JC_OK);
    cfg.from_day--;
    assert_int_equal(gen_config_check(&cfg, now, &err), JC_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "must start on or after 2000-03-31"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_seed_same_bytes),
        cmocka_unit_test(test_lines_valid_or_rejected_as_listed),
        cmocka_unit_test(test_duplicates_are_exact_resends),
        cmocka_unit_test(test_truth_equals_recount),
        cmocka_unit_test(test_late_events_and_nothing_after_the_period),
        cmocka_unit_test(test_county_volumes_are_uneven),
        cmocka_unit_test(test_petition_steps_belong_together),
        cmocka_unit_test(test_manifest_counts),
        cmocka_unit_test(test_revisions_listed),
        cmocka_unit_test(test_corrections_cover_every_case),
        cmocka_unit_test(test_truth_of_hand_made_versions),
        cmocka_unit_test(test_murmur2_vectors),
        cmocka_unit_test(test_unfinished_period_is_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
