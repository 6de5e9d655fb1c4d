/*
 * run.c: one jiceng-gen run (gen_run in gen.h): the model's events put in arrival order with
 * re-sends and malformed records mixed in, written as events.ndjson, with the ground truth
 * and the manifest beside it.
 *
 * The lines of events.ndjson are planned before any is written. The valid events, sorted by
 * arrival (occurred_at, or for a late event a time in the period), take ranks 1..n; a line's
 * sort key is its rank shifted left by SUB_BITS, plus a random "sub-position" for the lines
 * that slot in between. A re-send of the event at rank r gets a rank after r (within the next
 * DUP_WINDOW lines), so it always comes after its original; a malformed record gets any rank
 * from 0 (before the first event) to n. Sorting the plan by key (ties by plan index) fixes
 * every line's number, and the lines are then rendered in that order: a re-send is rendered
 * from the same compact event as its original, so its bytes are the same.
 *
 * Corrections, withdrawals and county moves (revise.c) are valid events like the originals, each
 * arriving after the version it replaces; a re-send of a version is placed before the next
 * version of its event (so it is a duplicate, never a stale revision), and a county move, which
 * the aggregator rejects, is never re-sent.
 *
 * Re-sends, rejects and the ground truth are written to expected/; the manifest (jansson)
 * records the configuration and the counts, nothing that depends on the clock, so the same
 * configuration gives the same bytes.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gen.h"
#include "jiceng/jtime.h"
#include "jiceng/ndjson.h"
#include "malformed.h"
#include "model.h"
#include "truth.h"

#define SUB_BITS 21
#define DUP_WINDOW 2000
#define PROGRESS_EVERY 65536
#define PATH_BYTES 4096
#define OUT_BUFFER (1 << 20)

typedef enum line_kind { LINE_ORIGINAL, LINE_DUPLICATE, LINE_MALFORMED } line_kind_t;

typedef struct line_plan {
    uint64_t key;
    uint32_t index; /* position in the plan: breaks ties */
    uint32_t ref;   /* the event (original, re-sent, or a malformed record's template) */
    uint8_t kind;   /* line_kind_t */
    uint8_t bad;    /* gen_bad_kind_t of a malformed record */
} line_plan_t;

typedef struct run {
    const gen_config_t *cfg;
    gen_world_t world;
    gen_event_t *ev;
    size_t nev;
    line_plan_t *plan;
    size_t nplan;
    gen_counts_t counts;
    uint64_t bad_counts[GEN_BAD_KIND_COUNT];
    uint32_t *line_of; /* per event (arrival order): its line in events.ndjson */
    char expected[PATH_BYTES];
} run_t;

/* ---- files ---- */

static jc_status_t join_path(char *out, const char *dir, const char *name, jc_error_t *err)
{
    if ((size_t)snprintf(out, PATH_BYTES, "%s/%s", dir, name) >= PATH_BYTES)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "path too long: %s/%s", dir,
                            name);
    return JC_OK;
}

static jc_status_t make_dir(const char *path, jc_error_t *err)
{
    if (mkdir(path, 0777) != 0 && errno != EEXIST)
        return jc_error_set(err, JC_ERR_IO, "mkdir %s: %s", path, strerror(errno));
    return JC_OK;
}

static jc_status_t open_file(const char *dir, const char *name, FILE **f, jc_error_t *err)
{
    char path[PATH_BYTES];
    jc_status_t st = join_path(path, dir, name, err);
    if (st != JC_OK)
        return st;
    if ((*f = fopen(path, "w")) == NULL)
        return jc_error_set(err, JC_ERR_IO, "create %s: %s", path, strerror(errno));
    return JC_OK;
}

/* Close f (if open), reporting a write error on it unless an earlier error is being returned. */
static jc_status_t close_file(FILE *f, const char *name, jc_status_t st, jc_error_t *err)
{
    if (f == NULL)
        return st;
    int failed = ferror(f);
    if (fclose(f) != 0 || failed) {
        if (st == JC_OK)
            st = jc_error_set(err, JC_ERR_IO, "write %s: %s", name,
                              strerror(errno));
    }
    return st;
}

/* ---- planning the lines ---- */

static int compare_arrival(const void *pa, const void *pb)
{
    const gen_event_t *a = pa, *b = pb;
    if (a->arrival != b->arrival)
        return a->arrival < b->arrival ? -1 : 1;
    return (a->seq > b->seq) - (a->seq < b->seq);
}

static int compare_plan(const void *pa, const void *pb)
{
    const line_plan_t *a = pa, *b = pb;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return (a->index > b->index) - (a->index < b->index);
}

static uint64_t sub_position(gen_rng_t *rng)
{
    return 1 + gen_rng_below(rng, (UINT64_C(1) << SUB_BITS) - 1);
}

static void plan_line(run_t *r, uint64_t key, size_t ref, line_kind_t kind, int bad)
{
    line_plan_t *p = &r->plan[r->nplan];
    p->key = key;
    p->index = (uint32_t)r->nplan++;
    p->ref = (uint32_t)ref;
    p->kind = (uint8_t)kind;
    p->bad = (uint8_t)bad;
}

/* Per event (arrival order), the rank of the next version of the same event, or the last
 * rank + 1: a re-send must come before it. */
static uint64_t *next_version_ranks(const run_t *r)
{
    size_t n = r->nev;
    uint64_t *next = malloc((n ? n : 1) * sizeof *next);
    size_t *last = malloc((n ? n : 1) * sizeof *last); /* by origin (< n): latest index + 1 */
    if (next == NULL || last == NULL) {
        free(next);
        free(last);
        return NULL;
    }
    memset(last, 0, n * sizeof *last);
    for (size_t i = 0; i < n; i++) {
        next[i] = n + 1;
        size_t *l = &last[r->ev[i].origin];
        if (*l > 0)
            next[*l - 1] = i + 1; /* ranks are 1-based */
        *l = i + 1;
    }
    free(last);
    return next;
}

/* A re-send's event: any valid event but a county move (which the aggregator rejects each
 * time, so a copy is no duplicate). There is always an original. */
static size_t resent_event(const run_t *r, gen_rng_t *rng)
{
    for (;;) {
        size_t of = (size_t)gen_rng_below(rng, r->nev);
        if (r->ev[of].version != GEN_COUNTY_MOVE)
            return of;
    }
}

static jc_status_t plan_lines(run_t *r, jc_error_t *err)
{
    size_t n = r->nev, total = n + r->counts.duplicates + r->counts.malformed;
    r->plan = malloc(total * sizeof *r->plan);
    uint64_t *next = next_version_ranks(r);
    if (r->plan == NULL || next == NULL) {
        free(next);
        return jc_error_set(err, JC_ERR_NOMEM, "out of memory planning lines");
    }
    gen_rng_t rng;
    gen_rng_seed(&rng, r->cfg->seed, GEN_STREAM_ORDER);
    for (size_t i = 0; i < n; i++)
        plan_line(r, (uint64_t)(i + 1) << SUB_BITS, i, LINE_ORIGINAL, 0);
    for (uint64_t k = 0; k < r->counts.duplicates; k++) {
        size_t of = resent_event(r, &rng);
        uint64_t rank = of + 1 + gen_rng_below(&rng, DUP_WINDOW); /* original's: of + 1 */
        rank = rank > n ? n : rank;
        rank = rank >= next[of] ? next[of] - 1 : rank; /* before the next version's line */
        plan_line(r, rank << SUB_BITS | sub_position(&rng), of, LINE_DUPLICATE, 0);
    }
    free(next);
    int first_kind = (int)gen_rng_below(&rng, GEN_BAD_KIND_COUNT);
    for (uint64_t k = 0; k < r->counts.malformed; k++) {
        uint64_t rank = gen_rng_below(&rng, n + 1);
        size_t tmpl = (size_t)gen_rng_below(&rng, n);
        int bad = (int)((first_kind + k) % GEN_BAD_KIND_COUNT);
        plan_line(r, rank << SUB_BITS | sub_position(&rng), tmpl, LINE_MALFORMED, bad);
        r->bad_counts[bad]++;
    }
    qsort(r->plan, r->nplan, sizeof *r->plan, compare_plan);
    return JC_OK;
}

/* ---- writing events.ndjson, duplicates.csv and rejects.csv ---- */

typedef struct writers {
    FILE *events, *dups, *rejects;
    jc_buf_t line;
    jc_event_t ev;
    gen_rng_t bad_rng;
} writers_t;

static jc_status_t render_line(run_t *r, writers_t *wr, const line_plan_t *p, jc_error_t *err)
{
    jc_buf_reset(&wr->line);
    if (p->kind == LINE_MALFORMED)
        return gen_bad_line(&r->world, &r->ev[p->ref], (gen_bad_kind_t)p->bad, &wr->bad_rng,
                            &wr->line, err);
    gen_render(&r->world, &r->ev[p->ref], &wr->ev);
    return jc_ndjson_format(&wr->ev, &wr->line, err);
}

static void note_line(run_t *r, const writers_t *wr, const line_plan_t *p, size_t lineno)
{
    if (p->kind == LINE_ORIGINAL)
        r->line_of[p->ref] = (uint32_t)lineno;
    else if (p->kind == LINE_DUPLICATE)
        fprintf(wr->dups, "%zu,%s,%d\n", lineno, wr->ev.event_id, (int)wr->ev.revision);
    else if (p->kind == LINE_MALFORMED)
        fprintf(wr->rejects, "%zu,%s\n", lineno,
                jc_status_name(gen_bad_status((gen_bad_kind_t)p->bad)));
}

static void show_progress(const run_t *r, size_t done)
{
    if (r->cfg->progress && (done % PROGRESS_EVERY == 0 || done == r->nplan))
        fprintf(stderr, "\rjiceng-gen: %zu/%zu lines%s", done, r->nplan,
                done == r->nplan ? "\n" : "");
}

static jc_status_t write_lines(run_t *r, writers_t *wr, jc_error_t *err)
{
    fputs("line,event_id,revision\n", wr->dups);
    fputs("line,reason\n", wr->rejects);
    for (size_t i = 0; i < r->nplan; i++) {
        jc_status_t st = render_line(r, wr, &r->plan[i], err);
        if (st != JC_OK)
            return st;
        if (fwrite(wr->line.data, 1, wr->line.len, wr->events) != wr->line.len)
            return jc_error_set(err, JC_ERR_IO, "write events.ndjson: %s",
                                strerror(errno));
        note_line(r, wr, &r->plan[i], i + 1);
        show_progress(r, i + 1);
    }
    return JC_OK;
}

static jc_status_t write_events(run_t *r, jc_error_t *err)
{
    writers_t wr = {0};
    gen_rng_seed(&wr.bad_rng, r->cfg->seed, GEN_STREAM_MALFORMED);
    jc_status_t st = open_file(r->cfg->out_dir, "events.ndjson", &wr.events, err);
    if (st == JC_OK && setvbuf(wr.events, NULL, _IOFBF, OUT_BUFFER) != 0)
        st = jc_error_set(err, JC_ERR_IO, "setvbuf failed");
    if (st == JC_OK)
        st = open_file(r->expected, "duplicates.csv", &wr.dups, err);
    if (st == JC_OK)
        st = open_file(r->expected, "rejects.csv", &wr.rejects, err);
    if (st == JC_OK)
        st = write_lines(r, &wr, err);
    st = close_file(wr.events, "events.ndjson", st, err);
    st = close_file(wr.dups, "expected/duplicates.csv", st, err);
    st = close_file(wr.rejects, "expected/rejects.csv", st, err);
    jc_buf_free(&wr.line);
    return st;
}

/* ---- the manifest ---- */

/* Set o[name] = n; NULL (o released) if o is NULL or that fails. */
static json_t *put_count(json_t *o, const char *name, uint64_t n)
{
    if (o != NULL && json_object_set_new(o, name, json_integer((json_int_t)n)) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *type_counts(const run_t *r)
{
    json_t *o = json_object();
    for (int t = 0; t < JC_EVENT_TYPE_COUNT; t++)
        o = put_count(o, jc_event_type_name((jc_event_type_t)t), r->counts.by_type[t]);
    return o;
}

static json_t *bad_counts(const run_t *r)
{
    json_t *o = json_object();
    for (int k = 0; k < GEN_BAD_KIND_COUNT; k++)
        o = put_count(o, gen_bad_name((gen_bad_kind_t)k), r->bad_counts[k]);
    return o;
}

static void describe(const run_t *r, const char *from, const char *to, char *buf, size_t len)
{
    snprintf(buf, len,
             "Synthetic grassroots-work events for Guizhou's 88 counties, %s to %s "
             "(Asia/Shanghai days), seed %llu. events.ndjson has %llu lines: %llu valid events "
             "(of which %llu late: they happened 20-90 days before the period but arrive in "
             "it), %llu corrections, %llu withdrawals and %llu corrections into another "
             "county (to be rejected), %llu exact re-sends of earlier lines and %llu malformed "
             "records. expected/ holds the ground truth: the version in force of each event, "
             "re-sends and malformed records excluded, computed from the model rather than "
             "from the lines. See docs/generator.md.",
             from, to, (unsigned long long)r->cfg->seed, (unsigned long long)r->counts.lines,
             (unsigned long long)r->counts.originals, (unsigned long long)r->counts.late,
             (unsigned long long)r->counts.corrections, (unsigned long long)r->counts.withdrawals,
             (unsigned long long)r->counts.county_moves, (unsigned long long)r->counts.duplicates,
             (unsigned long long)r->counts.malformed);
}

static json_t *revision_counts(const run_t *r)
{
    const gen_counts_t *c = &r->counts;
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:i}",
                     "corrections", (json_int_t)c->corrections,
                     "withdrawals", (json_int_t)c->withdrawals,
                     "county_moves", (json_int_t)c->county_moves,
                     "moved_day", (json_int_t)c->moved_day,
                     "moved_category", (json_int_t)c->moved_category,
                     "corrected_twice", (json_int_t)c->corrected_twice,
                     "withdrawn_after_correction", (json_int_t)c->withdrawn_corrected,
                     "partition_classes", GEN_PARTITION_CLASSES);
}

static json_t *manifest(const run_t *r)
{
    char from[16], to[16], text[1536];
    gen_day_text(r->cfg->from_day, from, sizeof from);
    gen_day_text(r->cfg->to_day, to, sizeof to);
    describe(r, from, to, text, sizeof text);
    return json_pack(
        "{s:s, s:s, s:s, s:I, s:{s:s, s:s, s:i, s:s}, s:I, s:I, s:o, s:I, s:I, s:I, s:I, s:o,"
        " s:I, s:I, s:o, s:{s:f, s:f, s:f, s:f, s:f, s:f}}",
        "generator", "jiceng-gen", "library_version", jc_version(), "description", text,
        "seed", (json_int_t)r->cfg->seed,
        "period", "from", from, "to", to, "days", (int)(r->cfg->to_day - r->cfg->from_day + 1),
        "time_zone", "Asia/Shanghai (UTC+08:00)",
        "lines", (json_int_t)r->counts.lines, "valid_events", (json_int_t)r->counts.originals,
        "counts_by_type", type_counts(r), "duplicates", (json_int_t)r->counts.duplicates,
        "late", (json_int_t)r->counts.late, "malformed", (json_int_t)r->counts.malformed,
        "old_county_codes", (json_int_t)r->counts.old_codes, "malformed_by_kind", bad_counts(r),
        "petitions", (json_int_t)r->counts.petitions,
        "disaster_incidents", (json_int_t)r->world.nincidents, "revisions", revision_counts(r),
        "rates", "duplicate", r->cfg->dup_rate, "late", r->cfg->late_rate, "malformed",
        r->cfg->malformed_rate, "correction", r->cfg->correction_rate, "withdrawal",
        r->cfg->withdrawal_rate, "county_move", r->cfg->county_move_rate);
}

static jc_status_t write_manifest(const run_t *r, jc_error_t *err)
{
    json_t *m = manifest(r);
    if (m == NULL)
        return jc_error_set(err, JC_ERR_NOMEM, "could not build the manifest");
    FILE *f;
    jc_status_t st = open_file(r->cfg->out_dir, "manifest.json", &f, err);
    if (st == JC_OK) {
        if (json_dumpf(m, f, JSON_INDENT(2) | JSON_REAL_PRECISION(6)) != 0 || fputc('\n', f) == EOF)
            st = jc_error_set(err, JC_ERR_IO, "write manifest.json: %s",
                              strerror(errno));
        st = close_file(f, "manifest.json", st, err);
    }
    json_decref(m);
    return st;
}

/* ---- the run ---- */

static uint64_t share_of(const gen_config_t *cfg, double rate)
{
    return (uint64_t)llround((double)cfg->events * rate);
}

/* How many lines of each kind: re-sends, malformed records, corrections, withdrawals and
 * county moves by their rates, at least one original (revisions go first, then re-sends). */
static void count_lines(const gen_config_t *cfg, gen_counts_t *c)
{
    c->lines = cfg->events;
    c->duplicates = share_of(cfg, cfg->dup_rate);
    c->malformed = share_of(cfg, cfg->malformed_rate);
    c->corrections = share_of(cfg, cfg->correction_rate);
    c->withdrawals = share_of(cfg, cfg->withdrawal_rate);
    c->county_moves = share_of(cfg, cfg->county_move_rate);
    if (c->duplicates + c->malformed + c->corrections + c->withdrawals + c->county_moves >=
        c->lines)
        c->corrections = c->withdrawals = c->county_moves = 0;
    if (c->duplicates + c->malformed >= c->lines) {
        c->duplicates = 0;
        c->malformed = c->malformed < c->lines ? c->malformed : c->lines - 1;
    }
    c->originals = c->lines - c->duplicates - c->malformed - c->corrections - c->withdrawals -
                   c->county_moves;
}

static jc_status_t prepare(run_t *r, jc_error_t *err)
{
    jc_status_t st = gen_world_init(&r->world, r->cfg, err);
    if (st != JC_OK)
        return st;
    count_lines(r->cfg, &r->counts);
    uint64_t late = (uint64_t)llround((double)r->cfg->events * r->cfg->late_rate);
    st = gen_model_events(&r->world, r->cfg, r->counts.originals, late, &r->ev, &r->nev,
                          &r->counts, err);
    if (st == JC_OK)
        st = gen_revise_events(&r->world, r->cfg, &r->ev, &r->nev, &r->counts, err);
    if (st != JC_OK)
        return st;
    r->counts.lines = r->counts.originals + r->counts.corrections + r->counts.withdrawals +
                      r->counts.county_moves + r->counts.duplicates + r->counts.malformed;
    qsort(r->ev, r->nev, sizeof *r->ev, compare_arrival);
    r->line_of = calloc(r->nev ? r->nev : 1, sizeof *r->line_of);
    if (r->line_of == NULL)
        return jc_error_set(err, JC_ERR_NOMEM, "out of memory");
    return plan_lines(r, err);
}

static jc_status_t write_all(run_t *r, jc_error_t *err)
{
    jc_status_t st = make_dir(r->cfg->out_dir, err);
    if (st == JC_OK)
        st = join_path(r->expected, r->cfg->out_dir, "expected", err);
    if (st == JC_OK)
        st = make_dir(r->expected, err);
    if (st == JC_OK)
        st = write_events(r, err);
    if (st == JC_OK)
        st = gen_truth_write(&r->world, r->ev, r->nev, r->expected, err);
    if (st == JC_OK)
        st = gen_truth_write_revisions(&r->world, r->ev, r->nev, r->line_of, r->expected, err);
    if (st == JC_OK)
        st = write_manifest(r, err);
    return st;
}

jc_status_t gen_run(const gen_config_t *cfg, int64_t now_ms, jc_error_t *err)
{
    jc_status_t st = gen_config_check(cfg, now_ms, err);
    if (st != JC_OK)
        return st;
    run_t *r = calloc(1, sizeof *r);
    if (r == NULL)
        return jc_error_set(err, JC_ERR_NOMEM, "out of memory");
    r->cfg = cfg;
    st = prepare(r, err);
    if (st == JC_OK)
        st = write_all(r, err);
    free(r->plan);
    free(r->line_of);
    free(r->ev);
    gen_world_free(&r->world);
    free(r);
    return st;
}
