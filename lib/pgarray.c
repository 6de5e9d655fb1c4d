/*
 * pgarray.c: PostgreSQL array literals ('{1,2,"a b"}') built in a jc_buf_t, so that many rows
 * travel as one parameter per column of one `insert ... select from unnest($1::int[], ...)`
 * statement. Text elements are always quoted, with '"' and '\' escaped; NULL is unquoted.
 */
#include <inttypes.h>
#include <stdio.h>

#include "internal.h"

void jc_pgarray_begin(jc_buf_t *b)
{
    jc_buf_reset(b);
    jc_buf_append(b, "{", 1);
}

static void separate(jc_buf_t *b)
{
    if (b->len > 1)
        jc_buf_append(b, ",", 1);
}

void jc_pgarray_int(jc_buf_t *b, int64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%" PRId64, v);
    separate(b);
    jc_buf_append(b, num, (size_t)n);
}

void jc_pgarray_text(jc_buf_t *b, const char *s)
{
    separate(b);
    jc_buf_append(b, "\"", 1);
    for (const char *run = s;; s++) {
        if (*s == '"' || *s == '\\' || *s == '\0') {
            jc_buf_append(b, run, (size_t)(s - run));
            if (*s == '\0')
                break;
            jc_buf_append(b, "\\", 1);
            run = s;
        }
    }
    jc_buf_append(b, "\"", 1);
}

void jc_pgarray_null(jc_buf_t *b)
{
    separate(b);
    jc_buf_append(b, "NULL", 4);
}

void jc_pgarray_hex(jc_buf_t *b, const void *data, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    const unsigned char *p = data;
    separate(b);
    jc_buf_reserve(b, len * 2 + 2);
    jc_buf_append(b, "\"", 1);
    for (size_t i = 0; i < len; i++) {
        char h[2] = {digits[p[i] >> 4], digits[p[i] & 15]};
        jc_buf_append(b, h, 2);
    }
    jc_buf_append(b, "\"", 1);
}

const char *jc_pgarray_end(jc_buf_t *b)
{
    jc_buf_append(b, "}", 1);
    return (const char *)b->data;
}
