/*
 * reader.c: NDJSON lines and CSV rows from a stream, as events (see jiceng/reader.h).
 *
 * Both formats read the input a physical line at a time with getline into one reused buffer.
 * NDJSON hands each non-blank line to jc_ndjson_parse. CSV feeds each line to libcsv's
 * incremental csv_parse with '\n' as the only row terminator (a '\r' before it counts as
 * trailing space), so a row ends exactly at the end of a physical line outside quotes and a
 * quoted cell may run over several lines; the lines of the row in progress are kept as its
 * original text, the cells as NUL-terminated copies in one buffer. The first row is the header:
 * each column is mapped to a field of the type, and the fields that may be left out (nullable,
 * or given a default by the newest schema) are found from the catalog's schema text. A header
 * error is kept and returned for every data row, so that no row vanishes. After a CSV syntax
 * error the parser is reset and reading resumes on the next line. A row that fails after
 * running over a line break inside quotes is cut back to its first line (an unclosed quote
 * there) and the lines after it are kept in a replay buffer that next_line reads before the
 * stream, so the rows an open quote swallowed are read again as rows. A byte-order mark
 * before the first line is dropped. Nothing is allocated per record once the buffers have grown
 * to the longest record.
 */
#include "jiceng/reader.h"

#include <csv.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jiceng/buf.h"
#include "jiceng/catalog.h"
#include "jiceng/jtime.h"
#include "jiceng/ndjson.h"

#define MAX_COLUMNS 64

struct jc_reader {
    FILE *in;
    jc_format_t format;
    jc_event_type_t type;
    char *line; /* getline's buffer */
    size_t cap;
    long lineno;
    bool eof;
    jc_buf_t replay;    /* lines to read again before the stream's next (CSV) */
    size_t replay_pos;
    /* CSV */
    struct csv_parser csv;
    bool csv_ready;
    jc_buf_t raw;   /* the lines of the row in progress (its original text) */
    jc_buf_t cells; /* the row's cells, each NUL-terminated */
    size_t starts[MAX_COLUMNS];
    size_t ncells;
    bool too_many;
    bool row_done;
    long row_line;  /* where the row in progress starts */
    bool header_done;
    jc_status_t header_status;
    jc_error_t header_err;
    const jc_field_t *column[MAX_COLUMNS];
    bool may_be_empty[MAX_COLUMNS];
    size_t ncolumns;
};

/* ---- one field from text ---- */

static jc_status_t bad_text(const jc_field_t *f, const char *text, const char *expected,
                            jc_error_t *err)
{
    return jc_error_set(err, JC_ERR_BAD_FIELD, "field '%s' must be %s, not '%.64s'", f->name,
                        expected, text);
}

static bool all_digits(const char *s)
{
    if (*s == '-')
        s++;
    if (*s == '\0')
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

static jc_status_t text_timestamp(const jc_field_t *f, const char *text, int64_t *dst,
                                  jc_error_t *err)
{
    if (all_digits(text)) {
        errno = 0;
        long long ms = strtoll(text, NULL, 10);
        if (errno != 0)
            return bad_text(f, text, "epoch milliseconds in range", err);
        *dst = (int64_t)ms;
        return JC_OK;
    }
    jc_error_t terr;
    if (jc_time_parse(text, dst, &terr) != JC_OK)
        return jc_error_set(err, terr.code, "field '%s': %s", f->name, terr.message);
    return JC_OK;
}

static jc_status_t text_int32(const jc_field_t *f, const char *text, int32_t *dst,
                              jc_error_t *err)
{
    if (!all_digits(text))
        return bad_text(f, text, "an integer", err);
    errno = 0;
    long long n = strtoll(text, NULL, 10);
    if (errno != 0 || n < INT32_MIN || n > INT32_MAX)
        return jc_error_set(err, JC_ERR_BAD_FIELD, "field '%s' value %.64s is outside the "
                            "32-bit integer range", f->name, text);
    *dst = (int32_t)n;
    return JC_OK;
}

/* 1 true, 0 false, -1 neither */
static int text_bool(const char *text)
{
    return strcmp(text, "true") == 0 ? 1 : strcmp(text, "false") == 0 ? 0 : -1;
}

static bool text_null(const char *text)
{
    return *text == '\0' || strcmp(text, "null") == 0;
}

static jc_status_t text_string(const jc_field_t *f, const char *text, char *dst,
                               jc_error_t *err)
{
    size_t len = strlen(text);
    if (len > f->size - 1)
        return jc_error_set(err, JC_ERR_TOO_LONG, "field '%s' is %zu bytes, longer than %zu",
                            f->name, len, f->size - 1);
    memcpy(dst, text, len + 1);
    return JC_OK;
}

static jc_status_t text_enum(const jc_field_t *f, const char *text, int32_t *dst,
                             jc_error_t *err)
{
    int i = jc_field_symbol_index(f, text);
    if (i < 0)
        return jc_error_set(err, JC_ERR_ENUM_RANGE, "field '%s': '%.64s' is not one of its "
                            "symbols", f->name, text);
    *dst = i;
    return JC_OK;
}

jc_status_t jc_field_from_text(jc_event_t *ev, const jc_field_t *f, const char *text,
                               jc_error_t *err)
{
    if (ev == NULL || f == NULL || text == NULL)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "jc_field_from_text: NULL argument");
    void *dst = jc_field_ptr(ev, f);
    switch (f->kind) {
    case JC_FIELD_UUID:
    case JC_FIELD_STRING:
        return text_string(f, text, dst, err);
    case JC_FIELD_TIMESTAMP:
        return text_timestamp(f, text, dst, err);
    case JC_FIELD_COUNTY:
    case JC_FIELD_COUNT:
        return text_int32(f, text, dst, err);
    case JC_FIELD_ENUM:
        return text_enum(f, text, dst, err);
    case JC_FIELD_BOOL:
        if (text_bool(text) < 0)
            return bad_text(f, text, "true or false", err);
        *(bool *)dst = text_bool(text) == 1;
        return JC_OK;
    case JC_FIELD_OPT_TIMESTAMP: {
        jc_opt_time_t *t = dst;
        t->present = !text_null(text);
        return t->present ? text_timestamp(f, text, &t->ms, err) : JC_OK;
    }
    case JC_FIELD_OPT_BOOL:
        if (!text_null(text) && text_bool(text) < 0)
            return bad_text(f, text, "true, false or empty (null)", err);
        *(jc_opt_bool_t *)dst = text_null(text) ? JC_NULL : (jc_opt_bool_t)text_bool(text);
        return JC_OK;
    }
    return jc_error_set(err, JC_ERR_INVALID_ARG, "field '%s' has an unknown kind", f->name);
}

/* ---- lines ---- */

#define BOM "\xEF\xBB\xBF" /* UTF-8's byte-order mark */

/* Take the next line to read again into r->line; its length, or -1 if out of memory. */
static ssize_t replayed_line(jc_reader_t *r)
{
    const char *p = (const char *)r->replay.data + r->replay_pos;
    size_t left = r->replay.len - r->replay_pos;
    const char *nl = memchr(p, '\n', left);
    size_t n = nl ? (size_t)(nl - p) + 1 : left;
    if (n + 1 > r->cap) {
        char *grown = realloc(r->line, n + 1);
        if (grown == NULL)
            return -1;
        r->line = grown;
        r->cap = n + 1;
    }
    memcpy(r->line, p, n);
    r->line[n] = '\0';
    r->replay_pos += n;
    return (ssize_t)n;
}

/* Read the next line of the stream into r->line; its length, or -1 at the end or on error. */
static ssize_t read_line(jc_reader_t *r, jc_status_t *status, jc_error_t *err)
{
    errno = 0;
    ssize_t n = getline(&r->line, &r->cap, r->in);
    if (n < 0) {
        r->eof = true;
        if (ferror(r->in))
            *status = jc_error_set(err, JC_ERR_IO, "read error after line %ld: %s", r->lineno,
                                   strerror(errno ? errno : EIO));
    }
    return n;
}

/* The next physical line into r->line, a line to read again first, without a byte-order mark
 * at the start of the input; its length, or -1 at the end or on error. */
static ssize_t next_line(jc_reader_t *r, jc_status_t *status, jc_error_t *err)
{
    ssize_t n;
    if (r->replay_pos < r->replay.len) {
        if ((n = replayed_line(r)) < 0)
            *status = jc_error_set(err, JC_ERR_NOMEM, "out of memory after line %ld",
                                   r->lineno);
    } else {
        n = r->eof ? -1 : read_line(r, status, err);
    }
    if (n >= 0 && r->lineno++ == 0 && n >= 3 && memcmp(r->line, BOM, 3) == 0) {
        n -= 3;
        memmove(r->line, r->line + 3, (size_t)n + 1);
    }
    return n;
}

static size_t without_line_break(const char *s, size_t n)
{
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    return n;
}

static bool blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isspace((unsigned char)s[i]))
            return false;
    return true;
}

/* ---- NDJSON ---- */

static bool next_ndjson(jc_reader_t *r, jc_record_t *rec, jc_event_t *ev, jc_status_t *status,
                        jc_error_t *err)
{
    ssize_t n;
    while ((n = next_line(r, status, err)) >= 0) {
        size_t len = without_line_break(r->line, (size_t)n);
        if (blank(r->line, len))
            continue;
        r->line[len] = '\0';
        *rec = (jc_record_t){r->line, len, r->lineno};
        if (len > JC_RECORD_MAX)
            *status = jc_error_set(err, JC_ERR_TOO_LONG, "a line of %zu bytes, longer than "
                                   "%d", len, JC_RECORD_MAX);
        else
            *status = jc_ndjson_parse(r->line, len, ev, err);
        return true;
    }
    return false;
}

/* ---- CSV: libcsv callbacks ---- */

static int csv_is_lf(unsigned char c)
{
    return c == '\n';
}

static int csv_is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

static void on_cell(void *data, size_t len, void *ud)
{
    jc_reader_t *r = ud;
    if (r->ncells == MAX_COLUMNS) {
        r->too_many = true;
        return;
    }
    r->starts[r->ncells++] = r->cells.len;
    if (jc_buf_append(&r->cells, data ? data : "", len) != JC_OK ||
        jc_buf_append(&r->cells, "", 1) != JC_OK)
        r->too_many = true; /* reported as a bad row; only on out of memory */
}

static void on_row(int c, void *ud)
{
    (void)c;
    jc_reader_t *r = ud;
    r->row_done = true;
}

static const char *cell(const jc_reader_t *r, size_t i)
{
    return (const char *)r->cells.data + r->starts[i];
}

/* Forget the row in progress (its text and cells). */
static void reset_row(jc_reader_t *r)
{
    jc_buf_reset(&r->raw);
    jc_buf_reset(&r->cells);
    r->ncells = 0;
    r->too_many = false;
    r->row_done = false;
}

/* A fresh parser: at the start, and after a syntax error, which leaves libcsv unusable. */
static jc_status_t start_csv(jc_reader_t *r, jc_error_t *err)
{
    if (r->csv_ready)
        csv_free(&r->csv);
    r->csv_ready = false;
    if (csv_init(&r->csv, CSV_STRICT | CSV_STRICT_FINI) != 0)
        return jc_error_set(err, JC_ERR_NOMEM, "csv_init: out of memory");
    csv_set_term_func(&r->csv, csv_is_lf);
    csv_set_space_func(&r->csv, csv_is_space);
    r->csv_ready = true;
    return JC_OK;
}

/* ---- CSV: the header ---- */

/* Bit i set: field i of the table may be left out (nullable, or a schema default). */
static jc_status_t optional_fields(jc_event_type_t type, uint64_t *mask, jc_error_t *err)
{
    if (jc_catalog_init(err) != JC_OK)
        return JC_ERR_UNKNOWN_SCHEMA;
    size_t n;
    jc_event_fields(type, &n);
    *mask = 0;
    for (size_t i = 0; i < n && i < 64; i++)
        if (jc_field_optional(type, i))
            *mask |= UINT64_C(1) << i;
    return JC_OK;
}

static jc_status_t map_columns(jc_reader_t *r, uint64_t optional, jc_error_t *err)
{
    size_t n;
    const jc_field_t *f = jc_event_fields(r->type, &n);
    uint64_t seen = 0;
    for (size_t j = 0; j < r->ncells; j++) {
        const jc_field_t *fj = jc_event_field(r->type, cell(r, j));
        if (fj == NULL)
            return jc_error_set(err, JC_ERR_BAD_FIELD, "unknown column '%.64s' for a %s event",
                                cell(r, j), jc_event_type_name(r->type));
        uint64_t bit = UINT64_C(1) << (fj - f);
        if (seen & bit)
            return jc_error_set(err, JC_ERR_BAD_FIELD, "column '%s' appears twice", fj->name);
        seen |= bit;
        r->column[j] = fj;
        r->may_be_empty[j] = (optional & bit) != 0;
    }
    for (size_t i = 0; i < n; i++)
        if (!(seen >> i & 1) && !(optional >> i & 1))
            return jc_error_set(err, JC_ERR_MISSING_FIELD, "no column for the required field "
                                "'%s' of a %s event", f[i].name, jc_event_type_name(r->type));
    r->ncolumns = r->ncells;
    return JC_OK;
}

/* Map the header row; a failure is kept and returned for every data row. */
static void take_header(jc_reader_t *r)
{
    jc_error_t e;
    uint64_t optional = 0;
    jc_status_t st = r->too_many ? jc_error_set(&e, JC_ERR_PARSE, "more than %d columns",
                                                MAX_COLUMNS)
                                 : optional_fields(r->type, &optional, &e);
    if (st == JC_OK)
        st = map_columns(r, optional, &e);
    if (st != JC_OK)
        jc_error_set(&r->header_err, st, "CSV header (line %ld): %s", r->row_line, e.message);
    r->header_status = st;
    r->header_done = true;
}

/* ---- CSV: rows ---- */

static jc_status_t row_event(jc_reader_t *r, jc_event_t *ev, jc_error_t *err)
{
    jc_event_init(ev, r->type);
    if (r->header_status != JC_OK)
        return jc_error_set(err, r->header_status, "%s", r->header_err.message);
    if (r->too_many)
        return jc_error_set(err, JC_ERR_PARSE, "more than %d cells", MAX_COLUMNS);
    if (r->ncells != r->ncolumns)
        return jc_error_set(err, JC_ERR_PARSE, "%zu cells, but the header has %zu columns",
                            r->ncells, r->ncolumns);
    for (size_t j = 0; j < r->ncells; j++) {
        if (*cell(r, j) == '\0' && r->may_be_empty[j])
            continue;
        jc_status_t st = jc_field_from_text(ev, r->column[j], cell(r, j), err);
        if (st != JC_OK)
            return st;
    }
    return JC_OK;
}

/* Hand out the row in progress as a record (its text stays until the next call). */
static void row_record(jc_reader_t *r, jc_record_t *rec)
{
    size_t len = without_line_break((const char *)r->raw.data, r->raw.len);
    if (r->raw.data != NULL)
        r->raw.data[len] = '\0';
    *rec = (jc_record_t){r->raw.data ? (const char *)r->raw.data : "", len, r->row_line};
}

/* A record that could not be read as a row: its text, a failure status, a fresh parser. */
static bool broken_row(jc_reader_t *r, jc_record_t *rec, jc_status_t code, const char *why,
                       jc_status_t *status, jc_error_t *err)
{
    row_record(r, rec);
    *status = jc_error_set(err, code, "%s", why);
    jc_error_t e;
    if (start_csv(r, &e) != JC_OK) {
        r->eof = true; /* no parser left: stop after this record */
        r->replay_pos = r->replay.len;
        *status = jc_error_set(err, e.code, "%s", e.message);
    }
    return true;
}

/* The length of the first line of the row in progress, its line break included. */
static size_t first_line_length(const jc_reader_t *r)
{
    const unsigned char *nl = memchr(r->raw.data, '\n', r->raw.len);
    return nl ? (size_t)(nl - r->raw.data) + 1 : r->raw.len;
}

/* Keep the lines of the row in progress after its first to be read again, before those still
 * waiting to be; the row is left its first line. */
static jc_status_t replay_after_first_line(jc_reader_t *r)
{
    size_t first = first_line_length(r), waiting = r->replay.len - r->replay_pos;
    jc_buf_t next = {0};
    if (jc_buf_append(&next, r->raw.data + first, r->raw.len - first) != JC_OK ||
        (waiting > 0 && jc_buf_append(&next, r->replay.data + r->replay_pos, waiting) != JC_OK)) {
        jc_buf_free(&next);
        return JC_ERR_NOMEM;
    }
    jc_buf_free(&r->replay);
    r->replay = next;
    r->replay_pos = 0;
    r->raw.len = first;
    r->lineno = r->row_line;
    return JC_OK;
}

/* A row that cannot be read (it runs on to runs_to) while a quoted cell is open. A quoted cell
 * may span lines, but when such a row then fails, the quote left open on its first line is
 * taken for the cause: that line alone is the record, and the lines after it are read again as
 * rows, so that an unclosed quote costs one line, not the rows it swallowed. */
static bool unclosed_quote(jc_reader_t *r, jc_record_t *rec, const char *runs_to,
                           jc_status_t *status, jc_error_t *err)
{
    bool spans_lines = first_line_length(r) < r->raw.len;
    if (spans_lines && replay_after_first_line(r) != JC_OK)
        return broken_row(r, rec, JC_ERR_NOMEM, "out of memory", status, err);
    char why[256];
    snprintf(why, sizeof why, "CSV unclosed quote: the quoted cell opened on line %ld is not "
             "closed (it runs on to %s)%s", r->row_line, runs_to,
             spans_lines ? "; the lines after it are read again as rows" : "");
    return broken_row(r, rec, JC_ERR_PARSE, why, status, err);
}

/* A completed row: the header (consumed, returns false) or a record (returns true). */
static bool complete_row(jc_reader_t *r, jc_record_t *rec, jc_event_t *ev, jc_status_t *status,
                         jc_error_t *err)
{
    if (!r->header_done) {
        take_header(r);
        reset_row(r);
        return false;
    }
    row_record(r, rec);
    *status = row_event(r, ev, err);
    return true;
}

/* At the end of the input: a last row without a final line break, or an open quote. */
static bool finish_csv(jc_reader_t *r, jc_record_t *rec, jc_event_t *ev, jc_status_t *status,
                       jc_error_t *err)
{
    if (*status != JC_OK || r->raw.len == 0 || !r->csv_ready)
        return false;
    if (csv_fini(&r->csv, on_cell, on_row, r) != 0)
        return unclosed_quote(r, rec, "the end of the input", status, err);
    return r->row_done && complete_row(r, rec, ev, status, err);
}

/* A syntax error in the row in progress: in its first line, or after an open quote. */
static bool syntax_error(jc_reader_t *r, jc_record_t *rec, jc_status_t *status, jc_error_t *err)
{
    if (csv_error(&r->csv) != CSV_EPARSE)
        return broken_row(r, rec, JC_ERR_NOMEM, "CSV parser out of memory", status, err);
    if (first_line_length(r) < r->raw.len) {
        char where[64];
        snprintf(where, sizeof where, "a syntax error on line %ld", r->lineno);
        return unclosed_quote(r, rec, where, status, err);
    }
    return broken_row(r, rec, JC_ERR_PARSE, "CSV syntax error (a quote inside an unquoted "
                      "cell, or text after a closing quote)", status, err);
}

static bool next_csv(jc_reader_t *r, jc_record_t *rec, jc_event_t *ev, jc_status_t *status,
                     jc_error_t *err)
{
    reset_row(r);
    ssize_t n;
    while ((n = next_line(r, status, err)) >= 0) {
        if (r->raw.len == 0 && blank(r->line, (size_t)n))
            continue;
        if (r->raw.len == 0)
            r->row_line = r->lineno;
        if (jc_buf_append(&r->raw, r->line, (size_t)n) != JC_OK)
            return broken_row(r, rec, JC_ERR_NOMEM, "out of memory", status, err);
        if (csv_parse(&r->csv, r->line, (size_t)n, on_cell, on_row, r) != (size_t)n)
            return syntax_error(r, rec, status, err);
        if (r->row_done && complete_row(r, rec, ev, status, err))
            return true;
        if (!r->row_done && r->raw.len > JC_RECORD_MAX)
            return unclosed_quote(r, rec, "more than 1 MiB", status, err);
    }
    return finish_csv(r, rec, ev, status, err);
}

/* ---- lifetime ---- */

jc_reader_t *jc_reader_new(FILE *in, jc_format_t format, jc_event_type_t csv_type,
                           jc_error_t *err)
{
    if (in == NULL || (format == JC_FORMAT_CSV && (unsigned)csv_type >= JC_EVENT_TYPE_COUNT)) {
        jc_error_set(err, JC_ERR_INVALID_ARG, "jc_reader_new: no input, or no event type for "
                     "CSV");
        return NULL;
    }
    jc_reader_t *r = calloc(1, sizeof *r);
    if (r == NULL) {
        jc_error_set(err, JC_ERR_NOMEM, "jc_reader_new: out of memory");
        return NULL;
    }
    r->in = in;
    r->format = format;
    r->type = csv_type;
    if (format == JC_FORMAT_CSV && start_csv(r, err) != JC_OK) {
        free(r);
        return NULL;
    }
    return r;
}

void jc_reader_free(jc_reader_t *r)
{
    if (r == NULL)
        return;
    if (r->csv_ready)
        csv_free(&r->csv);
    free(r->line);
    jc_buf_free(&r->replay);
    jc_buf_free(&r->raw);
    jc_buf_free(&r->cells);
    free(r);
}

bool jc_reader_next(jc_reader_t *r, jc_record_t *rec, jc_event_t *ev, jc_status_t *status,
                    jc_error_t *err)
{
    *status = JC_OK;
    if (r == NULL || rec == NULL || ev == NULL) {
        *status = jc_error_set(err, JC_ERR_INVALID_ARG, "jc_reader_next: NULL argument");
        return false;
    }
    if (r->format == JC_FORMAT_CSV)
        return next_csv(r, rec, ev, status, err);
    return next_ndjson(r, rec, ev, status, err);
}
