/*
 * csvrows.c: CSV text to rows of fields, through libcsv.
 *
 * libcsv calls back once per field and once per end of row; this collects a row's fields (as
 * NUL-terminated copies in one growing buffer) and hands the whole row to the caller's
 * callback with its 1-based line number. The library's embedded CSVs (catalog, reference data)
 * and, later, CSV input files share it.
 */
#include <csv.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "jiceng/buf.h"

#define MAX_COLUMNS 64

struct row_state {
    jc_buf_t text;              /* the row's fields, each NUL-terminated */
    size_t starts[MAX_COLUMNS]; /* offset of each field in text */
    size_t nfields;
    size_t row;
    int too_many;
    jc_csv_row_cb cb;
    void *ud;
    jc_status_t status;
    jc_error_t *err;
    const char *what;
};

static void on_field(void *data, size_t len, void *ud)
{
    struct row_state *s = ud;
    if (s->nfields == MAX_COLUMNS) {
        s->too_many = 1;
        return;
    }
    s->starts[s->nfields++] = s->text.len;
    if (jc_buf_append(&s->text, data ? data : "", len) != JC_OK ||
        jc_buf_append(&s->text, "", 1) != JC_OK)
        s->status = JC_ERR_NOMEM;
}

static void on_row_end(int c, void *ud)
{
    (void)c;
    struct row_state *s = ud;
    s->row++;
    if (s->status == JC_OK && s->too_many)
        s->status = jc_error_set(s->err, JC_ERR_PARSE, "%s:%zu: more than %d columns", s->what,
                                 s->row, MAX_COLUMNS);
    if (s->status == JC_OK) {
        const char *fields[MAX_COLUMNS];
        for (size_t i = 0; i < s->nfields; i++)
            fields[i] = (const char *)s->text.data + s->starts[i];
        s->status = s->cb(fields, s->nfields, s->row, s->ud, s->err);
    }
    s->nfields = 0;
    s->too_many = 0;
    jc_buf_reset(&s->text);
}

jc_status_t jc_csv_each_row(const char *what, const void *data, size_t len, jc_csv_row_cb cb,
                            void *ud, jc_error_t *err)
{
    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_APPEND_NULL) != 0)
        return jc_error_set(err, JC_ERR_NOMEM, "%s: csv_init failed", what);
    struct row_state s = {.cb = cb, .ud = ud, .status = JC_OK, .err = err, .what = what};
    if (csv_parse(&p, data, len, on_field, on_row_end, &s) != len && s.status == JC_OK)
        s.status = jc_error_set(err, JC_ERR_PARSE, "%s:%zu: %s", what, s.row + 1,
                                csv_strerror(csv_error(&p)));
    if (s.status == JC_OK && csv_fini(&p, on_field, on_row_end, &s) != 0)
        s.status = jc_error_set(err, JC_ERR_PARSE, "%s:%zu: %s", what, s.row + 1,
                                csv_strerror(csv_error(&p)));
    if (s.status == JC_ERR_NOMEM)
        jc_error_set(err, JC_ERR_NOMEM, "%s: out of memory", what);
    csv_free(&p);
    jc_buf_free(&s.text);
    return s.status;
}
