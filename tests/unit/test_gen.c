/*
 * test_gen.c: jiceng-gen's workload, checked from the outside.
 *
 * The group set-up generates one workload twice into two scratch directories (in-process,
 * through gen_run) and reads the first back. The tests then prove: the two runs are byte-
 * identical and another seed differs; every line that rejects.csv does not list parses
 * (jc_ndjson_parse) and validates (jc_event_validate, against the real clock), and every
 * listed line fails with exactly the listed status, all eight kinds present; re-sends are
 * byte-identical to the earlier line with their event_id and are exactly duplicates.csv;
 * every ground-truth file equals a recount of events.ndjson made here with the library
 * (days by jc_local_day, counties as validation maps them, enum symbols from the field table,
 * re-sends and rejects excluded), so the generator's own arithmetic is checked against the
 * library's; late events lie 20-90 days before the period and nothing lies after it; county
 * volumes are clearly uneven; petition steps share a petition_id and received_at; some
 * records carry an older county code; the manifest's counts match; and a period that has not
 * ended is refused.
 */
#include "testenv.h"

#include <csv.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gen.h"
#include "jiceng/fields.h"
#include "jiceng/jtime.h"
#include "jiceng/ndjson.h"
#include "jiceng/reference.h"
#include "jiceng/validate.h"

#define EVENTS 30000
#define SEED 20260620
#define FROM "2026-06-20"
#define TO "2026-08-10"
#define MAX_METRICS 10
#define KEY_MAX 192

static const char *const files[] = {
    "events.ndjson", "manifest.json", "expected/visits_daily.csv", "expected/visit_cadres.csv",
    "expected/petitions_daily.csv", "expected/disaster_responses_daily.csv",
    "expected/disaster_incidents.csv", "expected/trainings_daily.csv",
    "expected/training_trainees.csv", "expected/rejects.csv", "expected/duplicates.csv",
};
#define NFILES (sizeof files / sizeof files[0])

typedef struct line {
    char *text;
    size_t len;
    jc_status_t status;  /* of parse, then validate */
    jc_event_t ev;       /* valid lines: the validated event (current county code) */
    const char *reject;  /* the reason rejects.csv gives, or NULL */
    int duplicate;       /* listed in duplicates.csv */
} line_t;

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
        w->lines[no - 1].duplicate = 1;
    }
    free_csv(&dup);
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
    for (int i = 0; i < 2; i++) {
        make_scratch(w->dir[i]);
        generate(w, w->dir[i], SEED, EVENTS);
    }
    make_scratch(w->other);
    generate(w, w->other, SEED + 1, EVENTS);
    w->events = read_file(w->dir[0], "events.ndjson", NULL);
    split_lines(w);
    mark_listed(w);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world_t *w = *state;
    for (int i = 0; i < 2; i++)
        remove_tree(w->dir[i]);
    remove_tree(w->other);
    for (size_t i = 0; i < w->nlines; i++)
        free((char *)w->lines[i].reject);
    free(w->lines);
    free(w->events);
    free(w);
    return 0;
}

/* A line that counts: valid and not a re-send. */
static int counts(const line_t *l)
{
    return l->status == JC_OK && !l->duplicate;
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
    size_t line;
} id_line_t;

static int compare_id_lines(const void *pa, const void *pb)
{
    const id_line_t *a = pa, *b = pb;
    int c = strcmp(a->id, b->id);
    return c != 0 ? c : (a->line > b->line) - (a->line < b->line);
}

static void test_duplicates_are_exact_resends(void **state)
{
    world_t *w = *state;
    id_line_t *ids = calloc(w->nlines, sizeof *ids);
    size_t n = 0, resends = 0;
    for (size_t i = 0; i < w->nlines; i++)
        if (w->lines[i].status == JC_OK)
            ids[n++] = (id_line_t){w->lines[i].ev.event_id, i};
    qsort(ids, n, sizeof *ids, compare_id_lines);
    for (size_t i = 0, first = 0; i < n; i++) {
        const line_t *l = &w->lines[ids[i].line];
        if (i > 0 && strcmp(ids[i].id, ids[first].id) == 0) {
            const line_t *orig = &w->lines[ids[first].line];
            assert_true(l->duplicate);
            assert_false(orig->duplicate);
            assert_int_equal(l->len, orig->len);
            assert_memory_equal(l->text, orig->text, l->len);
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
    int nkey, nm;
    jc_event_type_t type;
    void (*recount)(const jc_event_t *ev, const char *where, agg_t *a);
} truth_file_t;

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

static void recount_visit(const jc_event_t *ev, const char *where, agg_t *a)
{
    const jc_visit_t *v = &ev->u.visit;
    char key[KEY_MAX];
    snprintf(key, sizeof key, "%s,%s", where, symbol(JC_VISIT, "cadre_level", v->cadre_level));
    int64_t m[] = {1, v->households_visited, v->people_met, v->deeds_done, v->problems_solved,
                   v->stayed_overnight, v->hours_on_site};
    agg_add(a, key, m, 7);
}

static void recount_visit_cadre(const jc_event_t *ev, const char *where, agg_t *a)
{
    char key[KEY_MAX];
    snprintf(key, sizeof key, "%s,%s", where, ev->u.visit.cadre_id);
    agg_add(a, key, NULL, 0);
}

static void recount_petition(const jc_event_t *ev, const char *where, agg_t *a)
{
    const jc_petition_t *p = &ev->u.petition;
    char key[KEY_MAX];
    snprintf(key, sizeof key, "%s,%s", where, symbol(JC_PETITION, "channel", p->channel));
    int64_t m[MAX_METRICS] = {0};
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
    agg_add(a, key, m, 10);
}

static void recount_disaster(const jc_event_t *ev, const char *where, agg_t *a)
{
    const jc_disaster_response_t *d = &ev->u.disaster_response;
    char key[KEY_MAX];
    snprintf(key, sizeof key, "%s,%s", where, symbol(JC_DISASTER_RESPONSE, "hazard", d->hazard));
    int64_t m[] = {1, d->responders, d->party_member_responders, d->people_evacuated,
                   d->people_rescued, d->deaths, d->injured, d->households_assisted};
    agg_add(a, key, m, 8);
}

static void recount_incident(const jc_event_t *ev, const char *where, agg_t *a)
{
    const jc_disaster_response_t *d = &ev->u.disaster_response;
    char key[KEY_MAX];
    snprintf(key, sizeof key, "%s,%s,%s", where, symbol(JC_DISASTER_RESPONSE, "hazard",
             d->hazard), d->incident_id);
    agg_add(a, key, NULL, 0);
}

static void recount_training(const jc_event_t *ev, const char *where, agg_t *a)
{
    const jc_training_completion_t *t = &ev->u.training_completion;
    char key[KEY_MAX];
    snprintf(key, sizeof key, "%s,%s,%s", where,
             symbol(JC_TRAINING_COMPLETION, "trainee_role", t->trainee_role),
             symbol(JC_TRAINING_COMPLETION, "training_base", t->training_base));
    int64_t m[] = {1, t->hours, t->passed, t->from_poor_village};
    agg_add(a, key, m, 4);
}

static void recount_trainee(const jc_event_t *ev, const char *where, agg_t *a)
{
    char key[KEY_MAX];
    snprintf(key, sizeof key, "%s,%s", where, ev->u.training_completion.trainee_id);
    agg_add(a, key, NULL, 0);
}

static const truth_file_t truth_files[] = {
    {"expected/visits_daily.csv",
     "county_code,day,cadre_level,visits,households_visited,people_met,deeds_done,"
     "problems_solved,overnight_stays,hours_on_site",
     3, 7, JC_VISIT, recount_visit},
    {"expected/visit_cadres.csv", "county_code,day,cadre_id", 3, 0, JC_VISIT,
     recount_visit_cadre},
    {"expected/petitions_daily.csv",
     "county_code,day,channel,received,people_received,resolved,resolution_seconds,"
     "resolved_within_1d,resolved_within_7d,resolved_within_30d,followed_up,"
     "followups_answered,satisfied",
     3, 10, JC_PETITION, recount_petition},
    {"expected/disaster_responses_daily.csv",
     "county_code,day,hazard,responses,responders,party_member_responders,people_evacuated,"
     "people_rescued,deaths,injured,households_assisted",
     3, 8, JC_DISASTER_RESPONSE, recount_disaster},
    {"expected/disaster_incidents.csv", "county_code,day,hazard,incident_id", 4, 0,
     JC_DISASTER_RESPONSE, recount_incident},
    {"expected/trainings_daily.csv",
     "county_code,day,trainee_role,training_base,completions,hours,passed,from_poor_village",
     4, 4, JC_TRAINING_COMPLETION, recount_training},
    {"expected/training_trainees.csv", "county_code,day,trainee_id", 3, 0,
     JC_TRAINING_COMPLETION, recount_trainee},
};

static void recount(const world_t *w, const truth_file_t *t, agg_t *a)
{
    for (size_t i = 0; i < w->nlines; i++) {
        const line_t *l = &w->lines[i];
        if (!counts(l) || l->ev.type != t->type)
            continue;
        char where[32];
        where_of(&l->ev, where, sizeof where);
        t->recount(&l->ev, where, a);
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
            late++;
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
        if (counts(l) && l->ev.type == JC_PETITION)
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
    size_t by_type[JC_EVENT_TYPE_COUNT] = {0}, valid = 0;
    for (size_t i = 0; i < w->nlines; i++)
        if (counts(&w->lines[i])) {
            by_type[w->lines[i].ev.type]++;
            valid++;
        }
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
        cmocka_unit_test(test_unfinished_period_is_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
