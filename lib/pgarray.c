/*
 * pgarray.c: PostgreSQL array literals ('{1,2,"a b"}') built in a buffer, so that many rows
 * travel as one parameter per column of one `insert ... select from unnest($1::int[], ...)`
 * statement. Text elements are always quoted, with '"' and '\' escaped, so no content (commas,
 * braces, spaces, the word NULL, non-ASCII) can change the array's shape; NULL is unquoted.
 *
 * Every append goes through add(), which makes a failure sticky (internal.h): after the first
 * failed append nothing more is appended and jc_pgarray_end returns NULL, which the caller
 * must check (warn_unused_result) before sending the literal.
 */
#include <inttypes.h>
#include <stdio.h>

#include "internal.h"

/* Append n bytes unless the literal already failed; a failure (no memory, past the limit)
 * marks it failed. */
static void add(jc_pgarray_t *a, const void *p, size_t n)
{
    if (a->failed)
        return;
    if ((a->limit != 0 && a->buf.len + n > a->limit) || jc_buf_append(&a->buf, p, n) != JC_OK)
        a->failed = true;
}

void jc_pgarray_begin(jc_pgarray_t *a)
{
    jc_buf_reset(&a->buf);
    a->failed = false;
    add(a, "{", 1);
}

static void separate(jc_pgarray_t *a)
{
    if (a->buf.len > 1)
        add(a, ",", 1);
}

void jc_pgarray_int(jc_pgarray_t *a, int64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%" PRId64, v);
    separate(a);
    add(a, num, (size_t)n);
}

void jc_pgarray_text(jc_pgarray_t *a, const char *s)
{
    separate(a);
    add(a, "\"", 1);
    for (const char *run = s;; s++) {
        if (*s == '"' || *s == '\\' || *s == '\0') {
            add(a, run, (size_t)(s - run));
            if (*s == '\0')
                break;
            add(a, "\\", 1);
            run = s;
        }
    }
    add(a, "\"", 1);
}

void jc_pgarray_null(jc_pgarray_t *a)
{
    separate(a);
    add(a, "NULL", 4);
}

void jc_pgarray_hex(jc_pgarray_t *a, const void *data, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    const unsigned char *p = data;
    separate(a);
    if (!a->failed && jc_buf_reserve(&a->buf, len * 2 + 2) != JC_OK)
        a->failed = true;
    add(a, "\"", 1);
    for (size_t i = 0; i < len; i++) {
        char h[2] = {digits[p[i] >> 4], digits[p[i] & 15]};
        add(a, h, 2);
    }
    add(a, "\"", 1);
}

const char *jc_pgarray_end(jc_pgarray_t *a)
{
    add(a, "}", 1);
    return a->failed ? NULL : (const char *)a->buf.data;
}

void jc_pgarray_free(jc_pgarray_t *a)
{
    jc_buf_free(&a->buf);
    a->failed = false;
}
