/*
 * lag.c: the consumer groups' lag from PostgreSQL alone (jiceng/lag.h).
 *
 * One query over jiceng.report_consumer_lag; values come back as text and are parsed strictly
 * (a non-integer is an error, never a zero). The table is laid out in columns as wide as their
 * widest cell (group ids and topic names are Kafka names: ASCII), numbers right-aligned.
 */
#include "jiceng/lag.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../internal.h"
#include "../pgexec.h"

#define NCOLS 7
#define CELL 260 /* a cell: a group id or topic name (at most 255 bytes), a number, an age */

static const char *const headings[NCOLS] = {"group", "topic", "partition", "next offset",
                                            "end offset", "lag", "age"};
static const bool right[NCOLS] = {false, false, true, true, true, true, true};

const char *jc_lag_age_text(int64_t ms, char *buf, size_t len)
{
    static const struct { int64_t ms; const char *name; } units[] = {
        {86400000, "d"}, {3600000, "h"}, {60000, "min"}, {1000, "s"}};
    if (ms < 0) {
        snprintf(buf, len, "-");
        return buf;
    }
    if (ms < 1000) {
        snprintf(buf, len, "%lld ms", (long long)ms);
        return buf;
    }
    size_t u = 0;
    while (ms < units[u].ms)
        u++;
    int64_t whole = ms / units[u].ms;
    if (u + 1 == JC_ARRAY_LEN(units) || (ms % units[u].ms) / units[u + 1].ms == 0)
        snprintf(buf, len, "%lld %s", (long long)whole, units[u].name);
    else
        snprintf(buf, len, "%lld %s %lld %s", (long long)whole, units[u].name,
                 (long long)((ms % units[u].ms) / units[u + 1].ms), units[u + 1].name);
    return buf;
}

/* ---- reading --------------------------------------------------------------------------- */

static jc_status_t parse_int(const char *s, const char *what, int64_t *v, jc_error_t *err)
{
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0')
        return jc_error_set(err, JC_ERR_PG, "report_consumer_lag: %s '%s' is not an integer", what, s);
    *v = x;
    return JC_OK;
}

/* Column c of row i as an integer, or def if null. */
static jc_status_t int_at(PGresult *r, int i, int c, int64_t def, int64_t *v, jc_error_t *err)
{
    if (PQgetisnull(r, i, c)) {
        *v = def;
        return JC_OK;
    }
    return parse_int(PQgetvalue(r, i, c), PQfname(r, c), v, err);
}

static jc_status_t lag_row(PGresult *r, int i, jc_lag_row_t *row, jc_error_t *err)
{
    int64_t partition = 0;
    snprintf(row->group_id, sizeof row->group_id, "%s", PQgetvalue(r, i, 0));
    snprintf(row->topic, sizeof row->topic, "%s", PQgetvalue(r, i, 1));
    jc_status_t st = int_at(r, i, 2, 0, &partition, err);
    if (st == JC_OK)
        st = int_at(r, i, 3, -1, &row->next_offset, err);
    if (st == JC_OK)
        st = int_at(r, i, 4, -1, &row->end_offset, err);
    if (st == JC_OK)
        st = int_at(r, i, 5, 0, &row->lag, err);
    if (st == JC_OK)
        st = int_at(r, i, 6, -1, &row->age_ms, err);
    row->partition = (int32_t)partition;
    return st;
}

jc_status_t jc_lag_read(PGconn *conn, jc_lag_row_t **rows, size_t *n, jc_error_t *err)
{
    PGresult *r = NULL;
    *rows = NULL;
    *n = 0;
    jc_status_t st = jc_pg_exec(conn, "reading jiceng.report_consumer_lag",
                                "select group_id, topic, partition, next_offset, end_offset, lag, "
                                "lag_age_ms from jiceng.report_consumer_lag order by 1, 2, 3",
                                0, NULL, &r, NULL, err);
    if (st != JC_OK)
        return st;
    size_t count = (size_t)PQntuples(r);
    *rows = calloc(count ? count : 1, sizeof **rows);
    if (*rows == NULL)
        st = jc_error_set(err, JC_ERR_NOMEM, "lag: out of memory");
    for (size_t i = 0; st == JC_OK && i < count; i++)
        st = lag_row(r, (int)i, &(*rows)[i], err);
    PQclear(r);
    if (st != JC_OK) {
        free(*rows);
        *rows = NULL;
        return st;
    }
    *n = count;
    return JC_OK;
}

/* ---- the table -------------------------------------------------------------------------- */

typedef char line_t[NCOLS][CELL];

/* The cells of one partition's line. */
static void row_cells(const jc_lag_row_t *row, line_t cells)
{
    snprintf(cells[0], CELL, "%s", row->group_id);
    snprintf(cells[1], CELL, "%s", row->topic);
    snprintf(cells[2], CELL, "%d", (int)row->partition);
    if (row->next_offset >= 0)
        snprintf(cells[3], CELL, "%lld", (long long)row->next_offset);
    else
        snprintf(cells[3], CELL, "-");
    if (row->end_offset >= 0)
        snprintf(cells[4], CELL, "%lld", (long long)row->end_offset);
    else
        snprintf(cells[4], CELL, "-");
    snprintf(cells[5], CELL, "%lld", (long long)row->lag);
    jc_lag_age_text(row->age_ms, cells[6], CELL);
}

/* A group's total: the sum of its partitions' lags, the age of its oldest figure. */
static void total_cells(const jc_lag_row_t *rows, size_t n, line_t cells)
{
    int64_t lag = 0, age = -1;
    for (size_t i = 0; i < n; i++) {
        lag += rows[i].lag;
        if (rows[i].age_ms > age)
            age = rows[i].age_ms;
    }
    snprintf(cells[0], CELL, "%s", rows[0].group_id);
    snprintf(cells[1], CELL, "(total)");
    snprintf(cells[2], CELL, "%zu", n);
    snprintf(cells[3], CELL, " ");
    snprintf(cells[4], CELL, " ");
    snprintf(cells[5], CELL, "%lld", (long long)lag);
    jc_lag_age_text(age, cells[6], CELL);
}

static jc_status_t append_line(jc_buf_t *out, line_t cells, const size_t *width)
{
    char text[NCOLS * (CELL + 2) + 2];
    size_t len = 0;
    for (int c = 0; c < NCOLS; c++) {
        int w = (int)width[c];
        len += (size_t)snprintf(text + len, sizeof text - len, right[c] ? "%*s%s" : "%-*s%s", w,
                                cells[c], c + 1 < NCOLS ? "  " : "");
    }
    while (len > 0 && text[len - 1] == ' ')
        len--;
    text[len++] = '\n';
    return jc_buf_append(out, text, len);
}

/* The lines: the heading, then each group's rows and its total. */
static size_t layout(const jc_lag_row_t *rows, size_t n, line_t *lines)
{
    size_t k = 0;
    for (int c = 0; c < NCOLS; c++)
        snprintf(lines[k][c], CELL, "%s", headings[c]);
    k++;
    for (size_t first = 0, i = 0; i < n; i++) {
        row_cells(&rows[i], lines[k++]);
        if (i + 1 == n || strcmp(rows[i + 1].group_id, rows[first].group_id) != 0) {
            total_cells(&rows[first], i + 1 - first, lines[k++]);
            first = i + 1;
        }
    }
    return k;
}

jc_status_t jc_lag_table(const jc_lag_row_t *rows, size_t n, jc_buf_t *out)
{
    if (n == 0)
        return jc_buf_append_str(out, "no consumer group has progress or end offsets in this "
                                      "database yet\n");
    line_t *lines = calloc(2 * n + 1, sizeof *lines);
    if (lines == NULL)
        return JC_ERR_NOMEM;
    size_t k = layout(rows, n, lines), width[NCOLS] = {0};
    for (size_t i = 0; i < k; i++)
        for (int c = 0; c < NCOLS; c++)
            if (strlen(lines[i][c]) > width[c])
                width[c] = strlen(lines[i][c]);
    jc_status_t st = JC_OK;
    for (size_t i = 0; st == JC_OK && i < k; i++)
        st = append_line(out, lines[i], width);
    free(lines);
    return st;
}
