/*
 * aggsql.c: SQL text derived from the aggregate description: the flush's upsert statement per
 * table (jiceng/aggregates.h) and the report views (aggsql.h).
 *
 * Every name comes from the description, whose names plan.c has checked to be plain SQL
 * identifiers, so they are spliced in without quoting. Text is appended with a sticky status:
 * the first failed append (out of memory) is remembered and returned, and nothing after it is
 * appended, so a caller never executes a truncated statement.
 */
#include "aggsql.h"

#include <stdarg.h>
#include <stdio.h>

/* Append printf-style text to b unless *st already failed; a failure sets *st. */
static void put(jc_buf_t *b, jc_status_t *st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void put(jc_buf_t *b, jc_status_t *st, const char *fmt, ...)
{
    va_list ap;
    if (*st != JC_OK)
        return;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || jc_buf_reserve(b, (size_t)n) != JC_OK) {
        *st = JC_ERR_NOMEM;
        return;
    }
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* ", d1, d2" with prefix before each dimension ("a." or ""). */
static void dims(jc_buf_t *b, jc_status_t *st, const jc_aggregate_t *a, const char *prefix)
{
    for (int d = 0; d < a->ndims; d++)
        put(b, st, ", %s%s", prefix, a->dims[d]);
}

/* ---- the flush's upsert ---------------------------------------------------------------- */

/* The parameter of column n (1-based) of SQL type type, as an array or a scalar. */
static void param(jc_buf_t *b, jc_status_t *st, jc_agg_rows_t rows, int n, const char *type)
{
    put(b, st, "%s$%d::%s%s", n > 1 ? ", " : "", n, type, rows == JC_AGG_ROWS_ARRAYS ? "[]" : "");
}

jc_status_t jc_agg_upsert_sql(const jc_aggregate_t *a, const char *schema, jc_agg_rows_t rows,
                              jc_buf_t *sql)
{
    jc_status_t st = JC_OK;
    int n = 1;
    jc_buf_reset(sql);
    put(sql, &st, "insert into %s%s%s as t (county_code, day", schema ? schema : "", schema ? "." : "",
        a->table); /* NULL schema: unqualified, the connection's search_path (generations) */
    dims(sql, &st, a, "");
    for (int c = 0; c < a->ncolumns; c++)
        put(sql, &st, ", %s", a->columns[c].name);
    if (a->kind == JC_AGG_DISTINCT)
        put(sql, &st, ", %s, events", a->id);
    put(sql, &st, rows == JC_AGG_ROWS_ARRAYS ? ") select * from unnest(" : ") values (");
    param(sql, &st, rows, n++, "int");
    param(sql, &st, rows, n++, "date");
    for (int d = 0; d < a->ndims; d++)
        param(sql, &st, rows, n++, "text");
    for (int c = 0; c < a->ncolumns; c++)
        param(sql, &st, rows, n++, "bigint");
    if (a->kind == JC_AGG_DISTINCT) {
        param(sql, &st, rows, n++, "text");
        param(sql, &st, rows, n++, "bigint");
    }
    put(sql, &st, ") on conflict (county_code, day");
    dims(sql, &st, a, "");
    if (a->kind == JC_AGG_DISTINCT) {
        put(sql, &st, ", %s) do update set events = t.events + excluded.events", a->id);
        return st;
    }
    put(sql, &st, ") do update set ");
    for (int c = 0; c < a->ncolumns; c++) {
        const char *x = a->columns[c].name;
        put(sql, &st, "%s%s = t.%s + excluded.%s", c ? ", " : "", x, x, x);
    }
    return st;
}

/* ---- corrections: rows left with nothing in force ------------------------------------ */

jc_status_t jc_agg_prune_sql(const jc_aggregate_t *a, const char *schema, jc_buf_t *sql)
{
    jc_status_t st = JC_OK;
    int n = 1;
    jc_buf_reset(sql);
    put(sql, &st, "delete from %s%s%s t using unnest($%d::int[], $%d::date[]", schema ? schema : "",
        schema ? "." : "", a->table, n, n + 1); /* NULL schema: unqualified (generations) */
    n += 2;
    for (int d = 0; d < a->ndims; d++)
        put(sql, &st, ", $%d::text[]", n++);
    if (a->kind == JC_AGG_DISTINCT)
        put(sql, &st, ", $%d::text[]", n++);
    put(sql, &st, ") as u(county_code, day");
    dims(sql, &st, a, "");
    if (a->kind == JC_AGG_DISTINCT)
        put(sql, &st, ", %s", a->id);
    put(sql, &st, ") where t.county_code = u.county_code and t.day = u.day");
    for (int d = 0; d < a->ndims; d++)
        put(sql, &st, " and t.%s = u.%s", a->dims[d], a->dims[d]);
    if (a->kind == JC_AGG_DISTINCT) {
        put(sql, &st, " and t.%s = u.%s and t.events = 0", a->id, a->id);
        return st;
    }
    for (int c = 0; c < a->ncolumns; c++)
        put(sql, &st, " and t.%s = 0", a->columns[c].name);
    return st;
}

/* ---- the report views ------------------------------------------------------------------ */

/* The roll-up levels of a sums aggregate's views, dependents (roll-ups) first. */
static const char *const levels[] = {"_province", "_prefecture", ""};

jc_status_t jc_agg_drop_views_sql(const jc_aggregate_t *a, jc_buf_t *sql)
{
    jc_status_t st = JC_OK;
    jc_buf_reset(sql);
    if (a->kind == JC_AGG_DISTINCT) {
        put(sql, &st, "drop view if exists jiceng.report_%s;\n", a->stem);
        return st;
    }
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
        put(sql, &st, "drop view if exists jiceng.report_%s%s_daily;\n", a->stem, levels[i]);
    return st;
}

/* report_<stem>_daily: the table's rows with the county's and prefecture's codes and names. */
static void county_view(jc_buf_t *b, jc_status_t *st, const jc_aggregate_t *a, const char *schema)
{
    put(b, st, "create view jiceng.report_%s_daily as select r.county_code, r.county_name_zh, "
               "r.county_name_pinyin, r.prefecture_code, r.prefecture_name_zh, r.prefecture_name_pinyin, a.day",
        a->stem);
    dims(b, st, a, "a.");
    for (int c = 0; c < a->ncolumns; c++)
        put(b, st, ", a.%s", a->columns[c].name);
    put(b, st, " from %s.%s a join jiceng.report_counties r on r.county_code = a.county_code;\n",
        schema, a->table);
}

/* report_<stem><level>_daily: the county view summed per group (level's names, day, dims). */
static void rollup_view(jc_buf_t *b, jc_status_t *st, const jc_aggregate_t *a, const char *level,
                        const char *group)
{
    put(b, st, "create view jiceng.report_%s%s_daily as select %sday", a->stem, level, group);
    dims(b, st, a, "");
    for (int c = 0; c < a->ncolumns; c++)
        put(b, st, ", sum(%s)::bigint as %s", a->columns[c].name, a->columns[c].name);
    put(b, st, " from jiceng.report_%s_daily group by %sday", a->stem, group);
    dims(b, st, a, "");
    put(b, st, ";\n");
}

jc_status_t jc_agg_create_views_sql(const jc_aggregate_t *a, jc_buf_t *sql)
{
    return jc_agg_create_views_sql_in(a, "jiceng", sql);
}

/* generations (issue 13, item 4): the views over the tables of schema (a generation's). */
jc_status_t jc_agg_create_views_sql_in(const jc_aggregate_t *a, const char *schema, jc_buf_t *sql)
{
    jc_status_t st = JC_OK;
    jc_buf_reset(sql);
    if (a->kind == JC_AGG_DISTINCT) {
        put(sql, &st, "create view jiceng.report_%s as select r.county_code, r.prefecture_code, a.day", a->stem);
        dims(sql, &st, a, "a.");
        put(sql, &st, ", a.%s from %s.%s a join jiceng.report_counties r on r.county_code = a.county_code"
            " where a.events > 0;\n", a->id, schema, a->table); /* corrections: ids with a version in force */
        put(sql, &st, "grant select on jiceng.report_%s to jiceng_report;\n", a->stem);
        return st;
    }
    county_view(sql, &st, a, schema);
    rollup_view(sql, &st, a, "_prefecture", "prefecture_code, prefecture_name_zh, prefecture_name_pinyin, ");
    rollup_view(sql, &st, a, "_province", "");
    put(sql, &st, "grant select on jiceng.report_%s_daily, jiceng.report_%s_prefecture_daily, "
                  "jiceng.report_%s_province_daily to jiceng_report;\n", a->stem, a->stem, a->stem);
    return st;
}

/* ---- generations (issue 13, item 4): a generation's tables, derived from the description -- */

/* The key columns' definitions and the sums' or the id's and events', as create table has them. */
static void columns_ddl(jc_buf_t *b, jc_status_t *st, const jc_aggregate_t *a)
{
    put(b, st, "county_code integer not null, day date not null");
    for (int d = 0; d < a->ndims; d++)
        put(b, st, ", %s text not null", a->dims[d]);
    for (int c = 0; c < a->ncolumns; c++)
        put(b, st, ", %s bigint not null default 0", a->columns[c].name);
    if (a->kind == JC_AGG_DISTINCT)
        put(b, st, ", %s text not null, %s bigint not null default 0", a->id, JC_AGG_EVENTS_COLUMN);
}

jc_status_t jc_agg_table_sql(const jc_aggregate_t *a, const char *schema, jc_buf_t *sql)
{
    jc_status_t st = JC_OK;
    jc_buf_reset(sql);
    put(sql, &st, "create table %s.%s (", schema, a->table);
    columns_ddl(sql, &st, a);
    put(sql, &st, ", primary key (county_code, day");
    dims(sql, &st, a, "");
    if (a->kind == JC_AGG_DISTINCT)
        put(sql, &st, ", %s", a->id);
    put(sql, &st, "));\n");
    return st;
}

jc_status_t jc_agg_add_columns_sql(const jc_aggregate_t *a, const char *schema, jc_buf_t *sql)
{
    jc_status_t st = JC_OK;
    jc_buf_reset(sql);
    put(sql, &st, "alter table %s.%s", schema, a->table);
    for (int c = 0; c < a->ncolumns; c++)
        put(sql, &st, "%s add column if not exists %s bigint not null default 0", c ? "," : "",
            a->columns[c].name);
    if (a->kind == JC_AGG_DISTINCT)
        put(sql, &st, " add column if not exists %s bigint not null default 0", JC_AGG_EVENTS_COLUMN);
    put(sql, &st, ";\n");
    return st;
}

jc_status_t jc_agg_generation_view_sql(const char *schema, int generation, jc_buf_t *sql)
{
    jc_status_t st = JC_OK;
    jc_buf_reset(sql);
    put(sql, &st, "create or replace view jiceng.generation_progress as select * from %s.consumer_progress;\n"
                  "create or replace view jiceng.generation_end_offsets as select * from %s.end_offsets;\n"
                  "drop view if exists jiceng.report_generation;\n"
                  "create view jiceng.report_generation as select %d as generation, "
                  "(select coalesce(jsonb_object_agg(topic || '/' || partition, n order by topic, partition), "
                  "'{}'::jsonb) from (select topic, partition, max(next_offset) as n from jiceng.generation_progress "
                  "group by topic, partition) p) as offsets;\n"
                  "grant select on jiceng.report_generation to jiceng_report;\n", schema, schema, generation);
    return st;
}
