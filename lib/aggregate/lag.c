/*
 * lag.c: the consumer groups' lag from PostgreSQL alone (jiceng/lag.h).
 *
 * One query over jiceng.report_consumer_lag; values come back as text and are parsed strictly
 * (a non-integer is an error, never a zero); times come as epoch milliseconds and ages as
 * milliseconds computed by PostgreSQL, null as -1. The table is laid out in columns as wide as
 * their widest cell (group ids and topic names are Kafka names: ASCII), numbers right-aligned.
 * The JSON form is built with jansson; staleness is one predicate (jc_lag_stale) that the JSON,
 * the stale lines and the program's exit status share.
 */
#include "jiceng/lag.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>

#include <jansson.h>

#include "../internal.h"
#include "../pgexec.h"
#include "jiceng/jtime.h"

#define NCOLS 9
#define CELL 260 /* a cell: a group id or topic name (at most 255 bytes), a number, an age */

static const char *const headings[NCOLS] = {"group", "topic", "partition", "next offset",
                                            "end offset", "lag", "age", "last commit",
                                            "newest event"};
static const bool right[NCOLS] = {false, false, true, true, true, true, true, true, false};

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
    if (st == JC_OK)
        st = int_at(r, i, 7, -1, &row->observed_ms, err);
    if (st == JC_OK)
        st = int_at(r, i, 8, -1, &row->newest_event_ms, err);
    if (st == JC_OK)
        st = int_at(r, i, 9, -1, &row->commit_age_ms, err);
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
                                "lag_age_ms, round(extract(epoch from lag_observed_at) * 1000)::bigint, "
                                "round(extract(epoch from newest_event_at) * 1000)::bigint, "
                                "commit_age_ms from jiceng.report_consumer_lag order by 1, 2, 3",
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
    jc_lag_age_text(row->commit_age_ms, cells[7], CELL);
    if (row->newest_event_ms >= 0)
        jc_time_format(row->newest_event_ms, cells[8], CELL);
    else
        snprintf(cells[8], CELL, "-");
}

/* A group's figures over its n rows: summed lag, the oldest end offset's age, the latest
 * commit's age (-1: none), the newest event (-1: none). */
struct group_total {
    int64_t lag, age_ms, commit_age_ms, newest_event_ms;
};

static struct group_total group_total(const jc_lag_row_t *rows, size_t n)
{
    struct group_total t = {0, -1, -1, -1};
    for (size_t i = 0; i < n; i++) {
        t.lag += rows[i].lag;
        if (rows[i].age_ms > t.age_ms)
            t.age_ms = rows[i].age_ms;
        if (rows[i].commit_age_ms >= 0 &&
            (t.commit_age_ms < 0 || rows[i].commit_age_ms < t.commit_age_ms))
            t.commit_age_ms = rows[i].commit_age_ms;
        if (rows[i].newest_event_ms > t.newest_event_ms)
            t.newest_event_ms = rows[i].newest_event_ms;
    }
    return t;
}

/* A group's total line (group_total). */
static void total_cells(const jc_lag_row_t *rows, size_t n, line_t cells)
{
    struct group_total t = group_total(rows, n);
    snprintf(cells[0], CELL, "%s", rows[0].group_id);
    snprintf(cells[1], CELL, "(total)");
    snprintf(cells[2], CELL, "%zu", n);
    snprintf(cells[3], CELL, " ");
    snprintf(cells[4], CELL, " ");
    snprintf(cells[5], CELL, "%lld", (long long)t.lag);
    jc_lag_age_text(t.age_ms, cells[6], CELL);
    jc_lag_age_text(t.commit_age_ms, cells[7], CELL);
    if (t.newest_event_ms >= 0)
        jc_time_format(t.newest_event_ms, cells[8], CELL);
    else
        snprintf(cells[8], CELL, "-");
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

/* ---- staleness ------------------------------------------------------------------------- */

int jc_lag_stale(const jc_lag_row_t *row, int64_t stale_ms)
{
    return row->lag > 0 && (row->commit_age_ms < 0 || row->commit_age_ms > stale_ms);
}

jc_status_t jc_lag_stale_lines(const jc_lag_row_t *rows, size_t n, int64_t stale_ms,
                               jc_buf_t *out, size_t *count)
{
    char line[700], age[64], limit[32], ago[32];
    jc_status_t st = JC_OK;
    *count = 0;
    jc_lag_age_text(stale_ms, limit, sizeof limit);
    for (size_t i = 0; st == JC_OK && i < n; i++) {
        if (!jc_lag_stale(&rows[i], stale_ms))
            continue;
        (*count)++;
        if (rows[i].commit_age_ms < 0)
            snprintf(age, sizeof age, "never committed");
        else
            snprintf(age, sizeof age, "last commit %s ago",
                     jc_lag_age_text(rows[i].commit_age_ms, ago, sizeof ago));
        snprintf(line, sizeof line, "%s %s [%d]: lag %lld, %s (over %s)\n", rows[i].group_id,
                 rows[i].topic, (int)rows[i].partition, (long long)rows[i].lag, age, limit);
        st = jc_buf_append_str(out, line);
    }
    return st;
}

/* ---- JSON ------------------------------------------------------------------------------ */

/* v as a JSON integer, or null when negative (unknown). */
static json_t *int_or_null(int64_t v)
{
    return v >= 0 ? json_integer((json_int_t)v) : json_null();
}

/* epoch ms as RFC 3339 UTC with milliseconds, or null when negative (unknown). */
static json_t *time_or_null(int64_t ms)
{
    if (ms < 0)
        return json_null();
    char buf[40];
    struct tm tm;
    time_t secs = (time_t)(ms / 1000);
    gmtime_r(&secs, &tm);
    size_t k = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + k, sizeof buf - k, ".%03dZ", (int)(ms % 1000));
    return json_string(buf);
}

/* json_object_set_new for each (key, value) pair until a NULL key; false if any failed (every
 * value is released either way). */
static bool set_all(json_t *o, const char *key, json_t *v, ...)
{
    bool ok = o != NULL;
    va_list ap;
    va_start(ap, v);
    while (key != NULL) {
        if (v == NULL || !ok || json_object_set_new(o, key, v) != 0) {
            ok = false;
            json_decref(v);
        }
        key = va_arg(ap, const char *);
        if (key != NULL)
            v = va_arg(ap, json_t *);
    }
    va_end(ap);
    return ok;
}

static json_t *partition_json(const jc_lag_row_t *r, int64_t stale_ms)
{
    json_t *o = json_object();
    bool ok = set_all(o, "group", json_string(r->group_id), "topic", json_string(r->topic),
                      "partition", json_integer(r->partition),
                      "next_offset", int_or_null(r->next_offset),
                      "end_offset", int_or_null(r->end_offset),
                      "end_offset_observed_at", time_or_null(r->observed_ms),
                      "end_offset_age_ms", int_or_null(r->age_ms),
                      "lag", json_integer((json_int_t)r->lag),
                      "newest_event_at", time_or_null(r->newest_event_ms),
                      "last_commit_age_ms", int_or_null(r->commit_age_ms), (const char *)NULL);
    if (ok && stale_ms >= 0)
        ok = set_all(o, "stale", json_boolean(jc_lag_stale(r, stale_ms)), (const char *)NULL);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *group_json(const jc_lag_row_t *rows, size_t n, int64_t stale_ms)
{
    struct group_total t = group_total(rows, n);
    json_t *o = json_object();
    bool ok = set_all(o, "group", json_string(rows[0].group_id),
                      "partitions", json_integer((json_int_t)n),
                      "lag", json_integer((json_int_t)t.lag),
                      "end_offset_age_ms", int_or_null(t.age_ms),
                      "last_commit_age_ms", int_or_null(t.commit_age_ms),
                      "newest_event_at", time_or_null(t.newest_event_ms), (const char *)NULL);
    size_t stale = 0;
    for (size_t i = 0; i < n; i++)
        stale += stale_ms >= 0 && jc_lag_stale(&rows[i], stale_ms);
    if (ok && stale_ms >= 0)
        ok = set_all(o, "stale_partitions", json_integer((json_int_t)stale), (const char *)NULL);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* The groups' and partitions' arrays of the document doc. */
static bool fill_json(json_t *doc, const jc_lag_row_t *rows, size_t n, int64_t stale_ms)
{
    json_t *groups = json_array(), *parts = json_array();
    bool ok = set_all(doc, "groups", groups, "partitions", parts, (const char *)NULL);
    for (size_t first = 0, i = 0; ok && i < n; i++) {
        ok = json_array_append_new(parts, partition_json(&rows[i], stale_ms)) == 0;
        if (ok && (i + 1 == n || strcmp(rows[i + 1].group_id, rows[first].group_id) != 0)) {
            ok = json_array_append_new(groups, group_json(&rows[first], i + 1 - first, stale_ms)) == 0;
            first = i + 1;
        }
    }
    if (ok && stale_ms >= 0)
        ok = set_all(doc, "stale_seconds", json_integer((json_int_t)(stale_ms / 1000)),
                     (const char *)NULL);
    return ok;
}

jc_status_t jc_lag_json(const jc_lag_row_t *rows, size_t n, int64_t stale_ms, jc_buf_t *out)
{
    json_t *doc = json_object();
    char *text = doc != NULL && fill_json(doc, rows, n, stale_ms)
                     ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER)
                     : NULL;
    json_decref(doc);
    jc_status_t st = text != NULL ? jc_buf_append_str(out, text) : JC_ERR_NOMEM;
    if (st == JC_OK)
        st = jc_buf_append_str(out, "\n");
    free(text);
    return st;
}
