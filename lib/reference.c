/*
 * reference.c: Guizhou's counties, prefectures and code changes, as swappable snapshots (see
 * jiceng/reference.h).
 *
 * A snapshot (struct jc_reference) holds the rows - counties sorted by code, prefectures, code
 * changes - and four tables indexed by code - 520000 over the province's code space
 * 520000..529999:
 *
 *   county_slot[]     1 + index of the current county with that code, or 0
 *   prefecture_slot[] 1 + index of the prefecture with that code, or 0
 *   next_code[]       the code an old code became, or 0
 *   current[]         the current county code that code resolves to, or 0
 *
 * current[] is filled once, when the snapshot is finished, by following every code's chain of
 * changes (with a cycle guard), so jc_county_resolve, which validation calls for every event,
 * is one load of the installed pointer, one bounds check and one load.
 *
 * Rows come from one of two places, described once in TABLES: the embedded CSVs of
 * schemas/reference/ (lib/internal.h; parsed with libcsv through jc_csv_each_row, csvrows.c:
 * the header names the columns, only the ones wanted are taken) or the same columns of the
 * database's tables (migration 009), read in one repeatable-read transaction with the
 * reference version. Either way each row arrives as text cells, in the table's column order,
 * and one function per table turns them into a typed row for jc_reference_add_*.
 *
 * The built-in snapshot is parsed once per process under pthread_once and installed. Installing
 * is an atomic pointer store under a mutex (installs are serialised, lookups take no lock); an
 * installed snapshot joins a list of kept ones and is never freed, which is what makes a lookup
 * from another thread safe at any moment and keeps every returned pointer valid.
 */
#include "jiceng/reference.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "internal.h"
#include "pgexec.h"

#define CODE_BASE 520000
#define CODE_SPAN 10000 /* 520000..529999: every code in the province */
#define MAX_WANTED 5    /* most columns any table is read for */

struct jc_reference {
    int64_t version;
    int finished;
    int kept;                   /* installed once: owned by the library, never freed */
    struct jc_reference *older; /* the kept list */
    jc_county_t *counties;
    size_t ncounties, county_cap;
    jc_prefecture_t *prefectures;
    size_t nprefectures, prefecture_cap;
    jc_code_change_t *changes;
    size_t nchanges, change_cap;
    uint16_t county_slot[CODE_SPAN];
    uint16_t prefecture_slot[CODE_SPAN];
    int32_t next_code[CODE_SPAN];
    int32_t current[CODE_SPAN];
};

static _Atomic(const jc_reference_t *) installed; /* NULL until jc_reference_init */
static jc_reference_t *builtin;
static jc_reference_t *kept_list; /* every snapshot ever installed, under install_lock */
static jc_status_t builtin_status;
static jc_error_t builtin_error;
static pthread_once_t builtin_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t install_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- typed rows into a snapshot ---- */

static int in_span(int32_t code)
{
    return code >= CODE_BASE && code < CODE_BASE + CODE_SPAN;
}

static jc_status_t check_code(int32_t code, const char *what, const char *column,
                              jc_error_t *err)
{
    if (in_span(code))
        return JC_OK;
    return jc_error_set(err, JC_ERR_PARSE, "%s: %s: %" PRId32 " is not a Guizhou code (52xxxx)",
                        what, column, code);
}

/* A copy of text into *out (empty text refused unless empty_ok), or an error naming the row. */
static jc_status_t copy_text(const char *text, int empty_ok, const char *what,
                             const char *column, const char **out, jc_error_t *err)
{
    *out = NULL;
    if (text == NULL || (*text == '\0' && !empty_ok))
        return jc_error_set(err, JC_ERR_PARSE, "%s: %s: empty", what, column);
    char *copy = strdup(text);
    if (copy == NULL)
        return jc_error_set(err, JC_ERR_NOMEM, "%s: %s: out of memory", what, column);
    *out = copy;
    return JC_OK;
}

/* items grown to hold one more than n (the capacity *cap doubles), or NULL, items intact. */
static void *grow(void *items, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return items;
    size_t want = *cap == 0 ? 16 : 2 * *cap;
    void *p = realloc(items, want * size);
    if (p != NULL)
        *cap = want;
    return p;
}

static jc_status_t open_for_rows(jc_reference_t *r, jc_error_t *err)
{
    if (r == NULL)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "reference data: no snapshot");
    if (r->finished)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "reference data: the snapshot is finished");
    return JC_OK;
}

jc_status_t jc_reference_add_prefecture(jc_reference_t *r, const jc_prefecture_t *p,
                                        jc_error_t *err)
{
    char what[48];
    jc_status_t st = open_for_rows(r, err);
    if (st != JC_OK || (st = check_code(p->code, "prefecture", "code", err)) != JC_OK)
        return st;
    snprintf(what, sizeof what, "prefecture %" PRId32, p->code);
    if (r->prefecture_slot[p->code - CODE_BASE] != 0)
        return jc_error_set(err, JC_ERR_PARSE, "%s: listed twice", what);
    jc_prefecture_t *all = grow(r->prefectures, &r->prefecture_cap, r->nprefectures, sizeof *all);
    if (all == NULL)
        return jc_error_set(err, JC_ERR_NOMEM, "%s: out of memory", what);
    r->prefectures = all;
    jc_prefecture_t *n = &all[r->nprefectures];
    *n = (jc_prefecture_t){.code = p->code};
    r->nprefectures++; /* counted now, so that a failure below frees what was copied */
    if ((st = copy_text(p->name_zh, 0, what, "name_zh", &n->name_zh, err)) != JC_OK ||
        (st = copy_text(p->name_pinyin, 0, what, "name_pinyin", &n->name_pinyin, err)) != JC_OK)
        return st;
    r->prefecture_slot[p->code - CODE_BASE] = (uint16_t)r->nprefectures;
    return JC_OK;
}

jc_status_t jc_reference_add_county(jc_reference_t *r, const jc_county_t *c, jc_error_t *err)
{
    char what[48];
    jc_status_t st = open_for_rows(r, err);
    if (st != JC_OK || (st = check_code(c->code, "county", "code", err)) != JC_OK)
        return st;
    snprintf(what, sizeof what, "county %" PRId32, c->code);
    if ((st = check_code(c->prefecture_code, what, "prefecture_code", err)) != JC_OK)
        return st;
    if (r->ncounties + 1 >= UINT16_MAX)
        return jc_error_set(err, JC_ERR_PARSE, "%s: too many counties", what);
    jc_county_t *all = grow(r->counties, &r->county_cap, r->ncounties, sizeof *all);
    if (all == NULL)
        return jc_error_set(err, JC_ERR_NOMEM, "%s: out of memory", what);
    r->counties = all;
    jc_county_t *n = &all[r->ncounties];
    *n = (jc_county_t){.code = c->code, .prefecture_code = c->prefecture_code};
    r->ncounties++;
    if ((st = copy_text(c->name_zh, 0, what, "name_zh", &n->name_zh, err)) != JC_OK ||
        (st = copy_text(c->name_pinyin, 0, what, "name_pinyin", &n->name_pinyin, err)) != JC_OK)
        return st;
    return copy_text(c->kind, 0, what, "kind", &n->kind, err);
}

jc_status_t jc_reference_add_change(jc_reference_t *r, const jc_code_change_t *ch,
                                    jc_error_t *err)
{
    char what[48];
    jc_status_t st = open_for_rows(r, err);
    if (st != JC_OK || (st = check_code(ch->old_code, "code change", "old_code", err)) != JC_OK)
        return st;
    snprintf(what, sizeof what, "code change from %" PRId32, ch->old_code);
    if ((st = check_code(ch->new_code, what, "new_code", err)) != JC_OK)
        return st;
    if (ch->new_code == ch->old_code || r->next_code[ch->old_code - CODE_BASE] != 0)
        return jc_error_set(err, JC_ERR_PARSE, "%s: %s", what, ch->new_code == ch->old_code
                            ? "changed into itself" : "old_code changed twice");
    jc_code_change_t *all = grow(r->changes, &r->change_cap, r->nchanges, sizeof *all);
    if (all == NULL)
        return jc_error_set(err, JC_ERR_NOMEM, "%s: out of memory", what);
    r->changes = all;
    jc_code_change_t *n = &all[r->nchanges];
    *n = (jc_code_change_t){.old_code = ch->old_code, .new_code = ch->new_code,
                            .year = ch->year};
    r->nchanges++;
    if ((st = copy_text(ch->change != NULL ? ch->change : "", 1, what, "change", &n->change,
                        err)) != JC_OK)
        return st;
    r->next_code[ch->old_code - CODE_BASE] = ch->new_code;
    return JC_OK;
}

jc_status_t jc_reference_new(jc_reference_t **out, jc_error_t *err)
{
    *out = calloc(1, sizeof **out);
    return *out != NULL ? JC_OK : jc_error_set(err, JC_ERR_NOMEM, "reference data: out of memory");
}

void jc_reference_free(jc_reference_t *r)
{
    if (r == NULL || r->kept)
        return;
    for (size_t i = 0; i < r->ncounties; i++) {
        free((char *)r->counties[i].name_zh);
        free((char *)r->counties[i].name_pinyin);
        free((char *)r->counties[i].kind);
    }
    for (size_t i = 0; i < r->nprefectures; i++) {
        free((char *)r->prefectures[i].name_zh);
        free((char *)r->prefectures[i].name_pinyin);
    }
    for (size_t i = 0; i < r->nchanges; i++)
        free((char *)r->changes[i].change);
    free(r->counties);
    free(r->prefectures);
    free(r->changes);
    free(r);
}

/* ---- finishing: the lookup tables ---- */

static int by_code(const void *a, const void *b)
{
    int32_t x = ((const jc_county_t *)a)->code, y = ((const jc_county_t *)b)->code;
    return (x > y) - (x < y);
}

static jc_status_t index_counties(jc_reference_t *r, jc_error_t *err)
{
    if (r->ncounties == 0) /* an emptied table must not turn every event into a reject */
        return jc_error_set(err, JC_ERR_PARSE, "reference data: no counties");
    qsort(r->counties, r->ncounties, sizeof *r->counties, by_code);
    for (size_t i = 0; i < r->ncounties; i++) {
        const jc_county_t *c = &r->counties[i];
        if (r->county_slot[c->code - CODE_BASE] != 0)
            return jc_error_set(err, JC_ERR_PARSE, "county %" PRId32 ": listed twice", c->code);
        if (r->prefecture_slot[c->prefecture_code - CODE_BASE] == 0)
            return jc_error_set(err, JC_ERR_PARSE, "county %" PRId32 ": prefecture_code %"
                                PRId32 " is no prefecture", c->code, c->prefecture_code);
        r->county_slot[c->code - CODE_BASE] = (uint16_t)(i + 1);
    }
    return JC_OK;
}

/* Follow code's chain of changes to its end: the first current county, or the last code of a
 * chain that reaches none. A chain longer than the number of codes must loop: an error, with
 * *end left at start. */
static jc_status_t chain_end(const jc_reference_t *r, int32_t start, int32_t *end,
                             jc_error_t *err)
{
    int32_t code = start;
    *end = start;
    for (int steps = 0; steps <= CODE_SPAN; steps++) {
        if (r->county_slot[code - CODE_BASE] != 0 || r->next_code[code - CODE_BASE] == 0) {
            *end = code;
            return JC_OK;
        }
        code = r->next_code[code - CODE_BASE];
    }
    return jc_error_set(err, JC_ERR_PARSE, "the code changes from %" PRId32 " form a cycle",
                        start);
}

jc_status_t jc_reference_finish(jc_reference_t *r, int64_t version, jc_error_t *err)
{
    jc_status_t st = open_for_rows(r, err);
    if (st == JC_OK)
        st = index_counties(r, err);
    for (int32_t i = 0; st == JC_OK && i < CODE_SPAN; i++) {
        int32_t end;
        st = chain_end(r, CODE_BASE + i, &end, err);
        r->current[i] = st == JC_OK && r->county_slot[end - CODE_BASE] != 0 ? end : 0;
    }
    if (st != JC_OK)
        return st;
    r->version = version;
    r->finished = 1;
    return JC_OK;
}

/* ---- rows as text: the embedded CSVs and the database's tables ---- */

/* Turns one row's cells (in its table's column order) into a typed row of r; what names the
 * row's origin for messages ("guizhou_counties.csv:12", "jiceng.counties row 12"). */
typedef jc_status_t (*row_fn)(jc_reference_t *r, const char *const *cells, const char *what,
                              jc_error_t *err);

/* A code from text: six digits (*code 0 and an error naming what and column otherwise). */
static jc_status_t parse_code(const char *text, const char *what, const char *column,
                              int32_t *code, jc_error_t *err)
{
    char *end;
    long v = strtol(text, &end, 10);
    *code = 0;
    if (strlen(text) != 6 || *end != '\0' || !in_span((int32_t)v))
        return jc_error_set(err, JC_ERR_PARSE, "%s: %s: '%s' is not a Guizhou code (52xxxx)",
                            what, column, text);
    *code = (int32_t)v;
    return JC_OK;
}

static jc_status_t prefecture_row(jc_reference_t *r, const char *const *cells, const char *what,
                                  jc_error_t *err)
{
    jc_prefecture_t p = {.name_zh = cells[1], .name_pinyin = cells[2]};
    jc_status_t st = parse_code(cells[0], what, "code", &p.code, err);
    return st == JC_OK ? jc_reference_add_prefecture(r, &p, err) : st;
}

static jc_status_t county_row(jc_reference_t *r, const char *const *cells, const char *what,
                              jc_error_t *err)
{
    jc_county_t c = {.name_zh = cells[1], .name_pinyin = cells[2], .kind = cells[3]};
    jc_status_t st = parse_code(cells[0], what, "code", &c.code, err);
    if (st == JC_OK)
        st = parse_code(cells[4], what, "prefecture_code", &c.prefecture_code, err);
    return st == JC_OK ? jc_reference_add_county(r, &c, err) : st;
}

static jc_status_t change_row(jc_reference_t *r, const char *const *cells, const char *what,
                              jc_error_t *err)
{
    if (cells[0][0] == '\0')
        return JC_OK; /* a creation (e.g. 观山湖区): no old code to map */
    jc_code_change_t ch = {.change = cells[3]};
    char *end;
    long year = strtol(cells[2], &end, 10);
    jc_status_t st = parse_code(cells[0], what, "old_code", &ch.old_code, err);
    if (st == JC_OK)
        st = parse_code(cells[1], what, "new_code", &ch.new_code, err);
    if (st == JC_OK && (*end != '\0' || year < 0 || year > 9999))
        st = jc_error_set(err, JC_ERR_PARSE, "%s: year: '%s' is not a year", what, cells[2]);
    ch.year = (int32_t)year;
    return st == JC_OK ? jc_reference_add_change(r, &ch, err) : st;
}

static const char *const prefecture_columns[] = {"code", "name_zh", "name_pinyin"};
static const char *const county_columns[] = {"code", "name_zh", "name_pinyin", "kind",
                                             "prefecture_code"};
static const char *const change_columns[] = {"old_code", "new_code", "year", "change"};
_Static_assert(JC_ARRAY_LEN(county_columns) <= MAX_WANTED, "raise MAX_WANTED");

/* The three tables, prefectures first (counties name them). */
static const struct table {
    const char *file;  /* embedded CSV */
    const char *sql;   /* the database's table (migration 009), the same column names */
    const char *const *columns;
    size_t ncolumns;
    row_fn add;
} TABLES[] = {
    {"guizhou_prefectures.csv", "jiceng.prefectures", prefecture_columns,
     JC_ARRAY_LEN(prefecture_columns), prefecture_row},
    {"guizhou_counties.csv", "jiceng.counties", county_columns, JC_ARRAY_LEN(county_columns),
     county_row},
    {"guizhou_code_changes.csv", "jiceng.code_changes", change_columns,
     JC_ARRAY_LEN(change_columns), change_row},
};

/* -- the embedded CSVs -- */

typedef struct csv_reader {
    const struct table *t;
    jc_reference_t *r;
    size_t col_of[MAX_WANTED]; /* header position of each wanted column */
    size_t rows;               /* rows seen, the header included */
} csv_reader_t;

static jc_status_t map_header(csv_reader_t *c, const char **fields, size_t n, jc_error_t *err)
{
    for (size_t w = 0; w < c->t->ncolumns; w++) {
        size_t i = 0;
        while (i < n && strcmp(fields[i], c->t->columns[w]) != 0)
            i++;
        if (i == n)
            return jc_error_set(err, JC_ERR_PARSE, "%s: header has no column '%s'", c->t->file,
                                c->t->columns[w]);
        c->col_of[w] = i;
    }
    return JC_OK;
}

static jc_status_t csv_row(const char **fields, size_t n, size_t row, void *ud, jc_error_t *err)
{
    csv_reader_t *c = ud;
    c->rows = row;
    if (row == 1)
        return map_header(c, fields, n, err);
    const char *cells[MAX_WANTED];
    char what[64];
    snprintf(what, sizeof what, "%s:%zu", c->t->file, row);
    for (size_t w = 0; w < c->t->ncolumns; w++) {
        if (c->col_of[w] >= n)
            return jc_error_set(err, JC_ERR_PARSE, "%s: %s: missing (row has %zu fields)", what,
                                c->t->columns[w], n);
        cells[w] = fields[c->col_of[w]];
    }
    return c->t->add(c->r, cells, what, err);
}

static jc_status_t read_csv(jc_reference_t *r, const struct table *t, jc_error_t *err)
{
    const jc_embedded_file_t *f =
        jc_embedded_find(jc_embedded_reference, jc_embedded_reference_count, t->file);
    if (f == NULL)
        return jc_error_set(err, JC_ERR_IO, "%s: not embedded in the library", t->file);
    csv_reader_t c = {.t = t, .r = r};
    jc_status_t st = jc_csv_each_row(t->file, f->data, f->len, csv_row, &c, err);
    if (st == JC_OK && c.rows < 2)
        st = jc_error_set(err, JC_ERR_PARSE, "%s: no data rows", t->file);
    return st;
}

static void load_builtin(void)
{
    jc_error_clear(&builtin_error);
    jc_status_t st = jc_reference_new(&builtin, &builtin_error);
    for (size_t i = 0; st == JC_OK && i < JC_ARRAY_LEN(TABLES); i++)
        st = read_csv(builtin, &TABLES[i], &builtin_error);
    if (st == JC_OK)
        st = jc_reference_finish(builtin, 0, &builtin_error);
    if (st == JC_OK) {
        builtin->kept = 1;
        kept_list = builtin;
        atomic_store_explicit(&installed, builtin, memory_order_release);
    } else {
        jc_reference_free(builtin);
        builtin = NULL;
    }
    builtin_status = st;
}

/* -- the database's tables -- */

/* "select c1, c2, ... from TABLE order by 1" into sql. */
static void table_query(const struct table *t, char *sql, size_t size)
{
    int n = snprintf(sql, size, "select ");
    for (size_t i = 0; i < t->ncolumns; i++)
        n += snprintf(sql + n, size - (size_t)n, "%s%s::text", i ? ", " : "", t->columns[i]);
    snprintf(sql + n, size - (size_t)n, " from %s order by 1", t->sql);
}

static jc_status_t read_table(PGconn *c, jc_reference_t *r, const struct table *t,
                              jc_error_t *err)
{
    char sql[256], what[96];
    PGresult *res = NULL;
    table_query(t, sql, sizeof sql);
    snprintf(what, sizeof what, "reading %s", t->sql);
    jc_status_t st = jc_pg_exec(c, what, sql, 0, NULL, &res, NULL, err);
    for (int row = 0; st == JC_OK && row < PQntuples(res); row++) {
        const char *cells[MAX_WANTED];
        for (size_t i = 0; i < t->ncolumns; i++)
            cells[i] = PQgetvalue(res, row, (int)i); /* "" for a null */
        snprintf(what, sizeof what, "%s row %d", t->sql, row + 1);
        st = t->add(r, cells, what, err);
    }
    PQclear(res);
    return st;
}

jc_status_t jc_reference_version_pg(PGconn *c, int64_t *version, jc_error_t *err)
{
    PGresult *res = NULL;
    *version = 0;
    jc_status_t st = jc_pg_exec(c, "reading jiceng.reference_version",
                                "select version from jiceng.reference_version", 0, NULL, &res,
                                NULL, err);
    if (st != JC_OK)
        return st;
    if (PQntuples(res) != 1)
        st = jc_error_set(err, JC_ERR_PG, "jiceng.reference_version has %d rows, not 1",
                          PQntuples(res));
    else
        *version = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return st;
}

jc_status_t jc_reference_load_pg(PGconn *c, jc_reference_t **out, jc_error_t *err)
{
    jc_reference_t *r = NULL;
    int64_t version = 0;
    *out = NULL;
    jc_status_t st = jc_reference_new(&r, err);
    if (st == JC_OK)
        st = jc_pg_exec(c, "reference data: begin", "begin isolation level repeatable read "
                        "read only", 0, NULL, NULL, NULL, err);
    if (st == JC_OK) {
        st = jc_reference_version_pg(c, &version, err);
        for (size_t i = 0; st == JC_OK && i < JC_ARRAY_LEN(TABLES); i++)
            st = read_table(c, r, &TABLES[i], err);
        if (st == JC_OK)
            st = jc_pg_exec(c, "reference data: commit", "commit", 0, NULL, NULL, NULL, err);
        else
            jc_pg_rollback(c);
    }
    if (st == JC_OK)
        st = jc_reference_finish(r, version, err);
    if (st != JC_OK) {
        jc_reference_free(r);
        return st;
    }
    *out = r;
    return JC_OK;
}

/* ---- installing ---- */

jc_status_t jc_reference_init(jc_error_t *err)
{
    int e = pthread_once(&builtin_once, load_builtin);
    if (e != 0)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "reference data: pthread_once: %s",
                            strerror(e));
    if (builtin_status != JC_OK && err != NULL)
        *err = builtin_error;
    return builtin_status;
}

jc_status_t jc_reference_install(const jc_reference_t *r, jc_error_t *err)
{
    jc_status_t st = jc_reference_init(err);
    if (st != JC_OK)
        return st;
    if (r == NULL || !r->finished)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "reference data: only a finished snapshot "
                            "can be installed");
    jc_reference_t *own = (jc_reference_t *)r; /* made by jc_reference_new: not const storage */
    pthread_mutex_lock(&install_lock);
    if (!own->kept) {
        own->kept = 1;
        own->older = kept_list;
        kept_list = own;
    }
    atomic_store_explicit(&installed, r, memory_order_release);
    pthread_mutex_unlock(&install_lock);
    return JC_OK;
}

/* The installed snapshot, parsing the built-in one first if need be; NULL if that failed. */
static const jc_reference_t *cur(void)
{
    const jc_reference_t *r = atomic_load_explicit(&installed, memory_order_acquire);
    if (r != NULL || jc_reference_init(NULL) != JC_OK)
        return r;
    return atomic_load_explicit(&installed, memory_order_acquire);
}

const jc_reference_t *jc_reference_current(void)
{
    return cur();
}

const jc_reference_t *jc_reference_builtin(void)
{
    return jc_reference_init(NULL) == JC_OK ? builtin : NULL;
}

/* ---- reading a snapshot ---- */

int64_t jc_reference_version(const jc_reference_t *r)
{
    return r != NULL ? r->version : 0;
}

const jc_county_t *jc_reference_counties(const jc_reference_t *r, size_t *n)
{
    *n = r != NULL ? r->ncounties : 0;
    return r != NULL ? r->counties : NULL;
}

const jc_prefecture_t *jc_reference_prefectures(const jc_reference_t *r, size_t *n)
{
    *n = r != NULL ? r->nprefectures : 0;
    return r != NULL ? r->prefectures : NULL;
}

const jc_code_change_t *jc_reference_changes(const jc_reference_t *r, size_t *n)
{
    *n = r != NULL ? r->nchanges : 0;
    return r != NULL ? r->changes : NULL;
}

static int same_text(const char *a, const char *b)
{
    return strcmp(a != NULL ? a : "", b != NULL ? b : "") == 0;
}

static int same_rows(const jc_reference_t *a, const jc_reference_t *b)
{
    for (size_t i = 0; i < a->ncounties; i++) {
        const jc_county_t *x = &a->counties[i], *y = &b->counties[i];
        if (x->code != y->code || x->prefecture_code != y->prefecture_code ||
            !same_text(x->name_zh, y->name_zh) || !same_text(x->name_pinyin, y->name_pinyin) ||
            !same_text(x->kind, y->kind))
            return 0;
    }
    for (size_t i = 0; i < a->nprefectures; i++) {
        const jc_prefecture_t *x = &a->prefectures[i];
        uint16_t slot = b->prefecture_slot[x->code - CODE_BASE];
        if (slot == 0 || !same_text(x->name_zh, b->prefectures[slot - 1].name_zh) ||
            !same_text(x->name_pinyin, b->prefectures[slot - 1].name_pinyin))
            return 0;
    }
    return memcmp(a->next_code, b->next_code, sizeof a->next_code) == 0;
}

int jc_reference_equal(const jc_reference_t *a, const jc_reference_t *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return a->ncounties == b->ncounties && a->nprefectures == b->nprefectures &&
           a->nchanges == b->nchanges && same_rows(a, b);
}

size_t jc_reference_diff(const jc_reference_t *a, const jc_reference_t *b)
{
    size_t n = 0;
    for (size_t i = 0; a != NULL && b != NULL && i < CODE_SPAN; i++)
        n += a->current[i] != b->current[i];
    return n;
}

/* The message for a code that resolves to no county: say what it is when the data knows. */
static jc_status_t unknown_county(const jc_reference_t *r, int32_t code, jc_error_t *err)
{
    int32_t end = code;
    if (in_span(code) && chain_end(r, code, &end, NULL) == JC_OK && end != code &&
        r->prefecture_slot[end - CODE_BASE] != 0)
        return jc_error_set(err, JC_ERR_UNKNOWN_COUNTY, "%" PRId32 " is an old prefecture code "
                            "(now %" PRId32 "), not a county", code, end);
    if (in_span(code) && r->prefecture_slot[code - CODE_BASE] != 0)
        return jc_error_set(err, JC_ERR_UNKNOWN_COUNTY,
                            "%" PRId32 " is a prefecture code, not a county", code);
    return jc_error_set(err, JC_ERR_UNKNOWN_COUNTY,
                        "%" PRId32 " is not one of Guizhou's %zu counties nor an old code of one",
                        code, r->ncounties);
}

jc_status_t jc_reference_resolve(const jc_reference_t *r, int32_t code, int32_t *current,
                                 jc_error_t *err)
{
    if (r == NULL || current == NULL)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "jc_county_resolve: %s is NULL",
                            r == NULL ? "the reference data" : "current");
    int32_t c = in_span(code) ? r->current[code - CODE_BASE] : 0;
    if (c == 0)
        return unknown_county(r, code, err);
    *current = c;
    return JC_OK;
}

/* ---- lookups in the installed snapshot ---- */

jc_status_t jc_county_resolve(int32_t code, int32_t *current, jc_error_t *err)
{
    const jc_reference_t *r = cur();
    if (r == NULL)
        return jc_reference_init(err);
    return jc_reference_resolve(r, code, current, err);
}

size_t jc_county_count(void)
{
    const jc_reference_t *r = cur();
    return r != NULL ? r->ncounties : 0;
}

const jc_county_t *jc_county_at(size_t i)
{
    const jc_reference_t *r = cur();
    return r != NULL && i < r->ncounties ? &r->counties[i] : NULL;
}

const jc_county_t *jc_county_by_code(int32_t code)
{
    const jc_reference_t *r = cur();
    if (r == NULL || !in_span(code) || r->county_slot[code - CODE_BASE] == 0)
        return NULL;
    return &r->counties[r->county_slot[code - CODE_BASE] - 1];
}

size_t jc_prefecture_count(void)
{
    const jc_reference_t *r = cur();
    return r != NULL ? r->nprefectures : 0;
}

const jc_prefecture_t *jc_prefecture_at(size_t i)
{
    const jc_reference_t *r = cur();
    return r != NULL && i < r->nprefectures ? &r->prefectures[i] : NULL;
}

const jc_prefecture_t *jc_prefecture_by_code(int32_t code)
{
    const jc_reference_t *r = cur();
    if (r == NULL || !in_span(code) || r->prefecture_slot[code - CODE_BASE] == 0)
        return NULL;
    return &r->prefectures[r->prefecture_slot[code - CODE_BASE] - 1];
}
