/*
 * reference.c: Guizhou's counties, prefectures and code changes (see jiceng/reference.h).
 *
 * The build embeds the CSVs of schemas/reference/ (lib/internal.h). The first call of any
 * function here parses them, once per process under pthread_once, with libcsv (through
 * jc_csv_each_row, csvrows.c): the header row names the columns, and only the columns this
 * module needs are taken from each row (the changes file's later columns are free text and are
 * never looked at). The result is kept for the life of the process: counties sorted by code,
 * prefectures, and three tables indexed by code - 520000 over the province's code space
 * 520000..529999:
 *
 *   county_slot[]     1 + index of the current county with that code, or 0
 *   prefecture_slot[] 1 + index of the prefecture with that code, or 0
 *   current[]         the current county code that code resolves to, or 0
 *
 * current[] is filled once by following every old code's chain of changes (with a cycle
 * guard), so jc_county_resolve, which validation calls for every event, is one bounds check
 * and one load. A failure while parsing is stored and returned by every later call.
 */
#include "jiceng/reference.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define CODE_BASE 520000
#define CODE_SPAN 10000 /* 520000..529999: every code in the province */
#define MAX_WANTED 5    /* most columns any file is read for */

#define COUNTIES_FILE "guizhou_counties.csv"
#define PREFECTURES_FILE "guizhou_prefectures.csv"
#define CHANGES_FILE "guizhou_code_changes.csv"

static struct {
    jc_status_t status;
    jc_error_t error;
    jc_county_t *counties;
    size_t ncounties, county_cap;
    jc_prefecture_t *prefectures;
    size_t nprefectures, prefecture_cap;
    uint16_t county_slot[CODE_SPAN];
    uint16_t prefecture_slot[CODE_SPAN];
    int32_t next_code[CODE_SPAN]; /* the changes file: old code -> new code, or 0 */
    int32_t current[CODE_SPAN];
} ref;

static pthread_once_t ref_once = PTHREAD_ONCE_INIT;

/* ---- reading one CSV file's wanted columns ---- */

/* Handles one data row: cells[i] is the column wanted[i], row its 1-based line. */
typedef jc_status_t (*row_fn)(const char *const *cells, size_t row, jc_error_t *err);

typedef struct table_reader {
    const char *file;
    const char *const *wanted; /* column names, in the order row_fn receives them */
    size_t nwanted;
    row_fn on_row;
    size_t col_of[MAX_WANTED]; /* header position of each wanted column */
    size_t rows;               /* rows seen, the header included */
} table_reader_t;

static jc_status_t map_header(table_reader_t *t, const char **fields, size_t n, jc_error_t *err)
{
    for (size_t w = 0; w < t->nwanted; w++) {
        size_t c = 0;
        while (c < n && strcmp(fields[c], t->wanted[w]) != 0)
            c++;
        if (c == n)
            return jc_error_set(err, JC_ERR_PARSE, "%s: header has no column '%s'", t->file,
                                t->wanted[w]);
        t->col_of[w] = c;
    }
    return JC_OK;
}

static jc_status_t pick_columns(const char **fields, size_t n, size_t row, void *ud,
                                jc_error_t *err)
{
    table_reader_t *t = ud;
    t->rows = row;
    if (row == 1)
        return map_header(t, fields, n, err);
    const char *cells[MAX_WANTED];
    for (size_t w = 0; w < t->nwanted; w++) {
        if (t->col_of[w] >= n)
            return jc_error_set(err, JC_ERR_PARSE, "%s:%zu: %s: missing (row has %zu fields)",
                                t->file, row, t->wanted[w], n);
        cells[w] = fields[t->col_of[w]];
    }
    return t->on_row(cells, row, err);
}

/* Parse the embedded file, calling on_row with the wanted columns of every data row. */
static jc_status_t read_table(const char *file, const char *const *wanted, size_t nwanted,
                              row_fn on_row, jc_error_t *err)
{
    const jc_embedded_file_t *f =
        jc_embedded_find(jc_embedded_reference, jc_embedded_reference_count, file);
    if (f == NULL)
        return jc_error_set(err, JC_ERR_IO, "%s: not embedded in the library", file);
    table_reader_t t = {.file = file, .wanted = wanted, .nwanted = nwanted, .on_row = on_row};
    jc_status_t st = jc_csv_each_row(file, f->data, f->len, pick_columns, &t, err);
    if (st == JC_OK && t.rows < 2)
        st = jc_error_set(err, JC_ERR_PARSE, "%s: no data rows", file);
    return st;
}

/* ---- the three files ---- */

static int in_span(int32_t code)
{
    return code >= CODE_BASE && code < CODE_BASE + CODE_SPAN;
}

/* A six-digit Guizhou code (52xxxx) from text, or a parse error naming file, row and column
 * (*code is then 0, so it is defined on every path). */
static jc_status_t parse_code(const char *text, const char *file, size_t row, const char *column,
                              int32_t *code, jc_error_t *err)
{
    char *end;
    long v = strtol(text, &end, 10);
    *code = 0;
    if (strlen(text) != 6 || *end != '\0' || !in_span((int32_t)v))
        return jc_error_set(err, JC_ERR_PARSE, "%s:%zu: %s: '%s' is not a Guizhou code (52xxxx)",
                            file, row, column, text);
    *code = (int32_t)v;
    return JC_OK;
}

static jc_status_t copy_name(const char *text, const char *file, size_t row, const char *column,
                             const char **out, jc_error_t *err)
{
    if (*text == '\0')
        return jc_error_set(err, JC_ERR_PARSE, "%s:%zu: %s: empty", file, row, column);
    char *copy = strdup(text);
    if (copy == NULL)
        return jc_error_set(err, JC_ERR_NOMEM, "%s:%zu: %s: out of memory", file, row, column);
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

static const char *const prefecture_columns[] = {"code", "name_zh", "name_pinyin"};

static jc_status_t add_prefecture(const char *const *cells, size_t row, jc_error_t *err)
{
    jc_prefecture_t *all =
        grow(ref.prefectures, &ref.prefecture_cap, ref.nprefectures, sizeof *all);
    if (all == NULL)
        return jc_error_set(err, JC_ERR_NOMEM, "%s:%zu: out of memory", PREFECTURES_FILE, row);
    ref.prefectures = all;
    jc_prefecture_t *p = &all[ref.nprefectures];
    *p = (jc_prefecture_t){0};
    ref.nprefectures++; /* counted now, so a failure below frees what was copied */
    jc_status_t st;
    if ((st = parse_code(cells[0], PREFECTURES_FILE, row, "code", &p->code, err)) != JC_OK ||
        (st = copy_name(cells[1], PREFECTURES_FILE, row, "name_zh", &p->name_zh, err)) != JC_OK ||
        (st = copy_name(cells[2], PREFECTURES_FILE, row, "name_pinyin", &p->name_pinyin,
                        err)) != JC_OK)
        return st;
    if (ref.prefecture_slot[p->code - CODE_BASE] != 0)
        return jc_error_set(err, JC_ERR_PARSE, "%s:%zu: code: %" PRId32 " listed twice",
                            PREFECTURES_FILE, row, p->code);
    ref.prefecture_slot[p->code - CODE_BASE] = (uint16_t)ref.nprefectures;
    return JC_OK;
}

static const char *const county_columns[] = {"code", "name_zh", "name_pinyin", "kind",
                                             "prefecture_code"};
_Static_assert(JC_ARRAY_LEN(county_columns) <= MAX_WANTED, "raise MAX_WANTED");

static jc_status_t add_county(const char *const *cells, size_t row, jc_error_t *err)
{
    jc_county_t *all = grow(ref.counties, &ref.county_cap, ref.ncounties, sizeof *all);
    if (all == NULL)
        return jc_error_set(err, JC_ERR_NOMEM, "%s:%zu: out of memory", COUNTIES_FILE, row);
    ref.counties = all;
    jc_county_t *c = &all[ref.ncounties];
    *c = (jc_county_t){0};
    ref.ncounties++;
    jc_status_t st;
    if ((st = parse_code(cells[0], COUNTIES_FILE, row, "code", &c->code, err)) != JC_OK ||
        (st = copy_name(cells[1], COUNTIES_FILE, row, "name_zh", &c->name_zh, err)) != JC_OK ||
        (st = copy_name(cells[2], COUNTIES_FILE, row, "name_pinyin", &c->name_pinyin,
                        err)) != JC_OK ||
        (st = copy_name(cells[3], COUNTIES_FILE, row, "kind", &c->kind, err)) != JC_OK ||
        (st = parse_code(cells[4], COUNTIES_FILE, row, "prefecture_code", &c->prefecture_code,
                         err)) != JC_OK)
        return st;
    if (ref.prefecture_slot[c->prefecture_code - CODE_BASE] == 0)
        return jc_error_set(err, JC_ERR_PARSE, "%s:%zu: prefecture_code: %" PRId32
                            " is not in " PREFECTURES_FILE, COUNTIES_FILE, row,
                            c->prefecture_code);
    return JC_OK;
}

static const char *const change_columns[] = {"old_code", "new_code"};

static jc_status_t add_change(const char *const *cells, size_t row, jc_error_t *err)
{
    if (cells[0][0] == '\0')
        return JC_OK; /* a creation (e.g. 观山湖区): no old code to map */
    int32_t old_code, new_code;
    jc_status_t st = parse_code(cells[0], CHANGES_FILE, row, "old_code", &old_code, err);
    if (st == JC_OK)
        st = parse_code(cells[1], CHANGES_FILE, row, "new_code", &new_code, err);
    if (st != JC_OK)
        return st;
    if (ref.next_code[old_code - CODE_BASE] != 0)
        return jc_error_set(err, JC_ERR_PARSE, "%s:%zu: old_code: %" PRId32 " changed twice",
                            CHANGES_FILE, row, old_code);
    ref.next_code[old_code - CODE_BASE] = new_code;
    return JC_OK;
}

/* ---- building the lookup tables ---- */

static int by_code(const void *a, const void *b)
{
    int32_t x = ((const jc_county_t *)a)->code, y = ((const jc_county_t *)b)->code;
    return (x > y) - (x < y);
}

static jc_status_t index_counties(jc_error_t *err)
{
    qsort(ref.counties, ref.ncounties, sizeof *ref.counties, by_code);
    for (size_t i = 0; i < ref.ncounties; i++) {
        int32_t code = ref.counties[i].code;
        if (ref.county_slot[code - CODE_BASE] != 0)
            return jc_error_set(err, JC_ERR_PARSE, "%s: code: %" PRId32 " listed twice",
                                COUNTIES_FILE, code);
        ref.county_slot[code - CODE_BASE] = (uint16_t)(i + 1);
    }
    return JC_OK;
}

/* Follow code's chain of changes to its end: the first current county, or the last code of a
 * chain that reaches none. A chain longer than the number of codes must loop: an error, with
 * *end left at start. */
static jc_status_t chain_end(int32_t start, int32_t *end, jc_error_t *err)
{
    int32_t code = start;
    *end = start;
    for (int steps = 0; steps <= CODE_SPAN; steps++) {
        if (ref.county_slot[code - CODE_BASE] != 0 || ref.next_code[code - CODE_BASE] == 0) {
            *end = code;
            return JC_OK;
        }
        code = ref.next_code[code - CODE_BASE];
    }
    return jc_error_set(err, JC_ERR_PARSE, "%s: the changes from %" PRId32 " form a cycle",
                        CHANGES_FILE, start);
}

static jc_status_t resolve_all(jc_error_t *err)
{
    for (int32_t i = 0; i < CODE_SPAN; i++) {
        int32_t end;
        jc_status_t st = chain_end(CODE_BASE + i, &end, err);
        if (st != JC_OK)
            return st;
        ref.current[i] = ref.county_slot[end - CODE_BASE] != 0 ? end : 0;
    }
    return JC_OK;
}

static void free_all(void)
{
    for (size_t i = 0; i < ref.ncounties; i++) {
        free((char *)ref.counties[i].name_zh);
        free((char *)ref.counties[i].name_pinyin);
        free((char *)ref.counties[i].kind);
    }
    for (size_t i = 0; i < ref.nprefectures; i++) {
        free((char *)ref.prefectures[i].name_zh);
        free((char *)ref.prefectures[i].name_pinyin);
    }
    free(ref.counties);
    free(ref.prefectures);
    jc_error_t keep = ref.error;
    memset(&ref, 0, sizeof ref);
    ref.error = keep;
}

static jc_status_t load_all(jc_error_t *err)
{
    jc_status_t st;
    if ((st = read_table(PREFECTURES_FILE, prefecture_columns,
                         JC_ARRAY_LEN(prefecture_columns), add_prefecture, err)) != JC_OK ||
        (st = read_table(COUNTIES_FILE, county_columns, JC_ARRAY_LEN(county_columns),
                         add_county, err)) != JC_OK ||
        (st = index_counties(err)) != JC_OK ||
        (st = read_table(CHANGES_FILE, change_columns, JC_ARRAY_LEN(change_columns), add_change,
                         err)) != JC_OK)
        return st;
    return resolve_all(err);
}

static void load_once(void)
{
    jc_error_clear(&ref.error);
    jc_status_t st = load_all(&ref.error);
    if (st != JC_OK)
        free_all();
    ref.status = st;
}

/* ---- the API ---- */

jc_status_t jc_reference_init(jc_error_t *err)
{
    int e = pthread_once(&ref_once, load_once);
    if (e != 0)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "reference data: pthread_once: %s",
                            strerror(e));
    if (ref.status != JC_OK && err != NULL)
        *err = ref.error;
    return ref.status;
}

static int ready(void)
{
    return jc_reference_init(NULL) == JC_OK;
}

size_t jc_county_count(void)
{
    return ready() ? ref.ncounties : 0;
}

const jc_county_t *jc_county_at(size_t i)
{
    return ready() && i < ref.ncounties ? &ref.counties[i] : NULL;
}

const jc_county_t *jc_county_by_code(int32_t code)
{
    if (!ready() || !in_span(code) || ref.county_slot[code - CODE_BASE] == 0)
        return NULL;
    return &ref.counties[ref.county_slot[code - CODE_BASE] - 1];
}

size_t jc_prefecture_count(void)
{
    return ready() ? ref.nprefectures : 0;
}

const jc_prefecture_t *jc_prefecture_at(size_t i)
{
    return ready() && i < ref.nprefectures ? &ref.prefectures[i] : NULL;
}

const jc_prefecture_t *jc_prefecture_by_code(int32_t code)
{
    if (!ready() || !in_span(code) || ref.prefecture_slot[code - CODE_BASE] == 0)
        return NULL;
    return &ref.prefectures[ref.prefecture_slot[code - CODE_BASE] - 1];
}

/* The message for a code that resolves to no county: say what it is when the data knows. */
static jc_status_t unknown_county(int32_t code, jc_error_t *err)
{
    int32_t end = code;
    if (in_span(code) && chain_end(code, &end, NULL) == JC_OK && end != code &&
        jc_prefecture_by_code(end) != NULL)
        return jc_error_set(err, JC_ERR_UNKNOWN_COUNTY, "%" PRId32 " is an old prefecture code "
                            "(now %" PRId32 "), not a county", code, end);
    if (jc_prefecture_by_code(code) != NULL)
        return jc_error_set(err, JC_ERR_UNKNOWN_COUNTY,
                            "%" PRId32 " is a prefecture code, not a county", code);
    return jc_error_set(err, JC_ERR_UNKNOWN_COUNTY,
                        "%" PRId32 " is not one of Guizhou's %zu counties nor an old code of one",
                        code, ref.ncounties);
}

jc_status_t jc_county_resolve(int32_t code, int32_t *current, jc_error_t *err)
{
    jc_status_t st = jc_reference_init(err);
    if (st != JC_OK)
        return st;
    if (current == NULL)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "jc_county_resolve: current is NULL");
    int32_t c = in_span(code) ? ref.current[code - CODE_BASE] : 0;
    if (c == 0)
        return unknown_county(code, err);
    *current = c;
    return JC_OK;
}
