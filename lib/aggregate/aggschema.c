/*
 * aggschema.c: what the migrator does with the aggregate description (aggsql.h): check that
 * the database has every described table and column, and (re)create the report views.
 *
 * jc_migrate drops the generated views before applying migrations (so a migration may alter
 * an aggregate table) and, after them, checks the columns and creates the views again, all in
 * its one transaction under its advisory lock. The check reads information_schema.columns
 * once and compares every column the flush writes with its expected type, so a description
 * row added without its migration stops the program at start-up, naming the column, instead
 * of failing every flush.
 */
#include "aggsql.h"

#include <string.h>

#include "../pgexec.h"
#include "jiceng/generation.h"

/* The type information_schema reports for a column of each role. */
#define T_COUNTY "integer"
#define T_DAY "date"
#define T_TEXT "text"
#define T_SUM "bigint"

/* The data type of jiceng.table.column in r (table, column, type rows), or NULL. */
static const char *column_type(PGresult *r, const char *table, const char *column)
{
    for (int i = 0; i < PQntuples(r); i++)
        if (strcmp(PQgetvalue(r, i, 0), table) == 0 && strcmp(PQgetvalue(r, i, 1), column) == 0)
            return PQgetvalue(r, i, 2);
    return NULL;
}

static jc_status_t expect_column(PGresult *r, const jc_aggregate_t *a, const char *column,
                                 const char *type, jc_error_t *err)
{
    const char *got = column_type(r, a->table, column);
    if (got == NULL)
        return jc_error_set(err, JC_ERR_PG, "the database has no column jiceng.%s.%s, which the aggregate "
                            "description (lib/aggregate/aggregates.c) names: is its migration missing?",
                            a->table, column);
    if (strcmp(got, type) != 0)
        return jc_error_set(err, JC_ERR_PG, "jiceng.%s.%s is %s in the database; the aggregate description "
                            "writes %s", a->table, column, got, type);
    return JC_OK;
}

static jc_status_t check_aggregate(PGresult *r, const jc_aggregate_t *a, jc_error_t *err)
{
    jc_status_t st = expect_column(r, a, "county_code", T_COUNTY, err);
    if (st == JC_OK)
        st = expect_column(r, a, "day", T_DAY, err);
    for (int d = 0; st == JC_OK && d < a->ndims; d++)
        st = expect_column(r, a, a->dims[d], T_TEXT, err);
    for (int c = 0; st == JC_OK && c < a->ncolumns; c++)
        st = expect_column(r, a, a->columns[c].name, T_SUM, err);
    if (st == JC_OK && a->kind == JC_AGG_DISTINCT)
        st = expect_column(r, a, a->id, T_TEXT, err);
    if (st == JC_OK && a->kind == JC_AGG_DISTINCT) /* corrections: versions in force (010) */
        st = expect_column(r, a, "events", T_SUM, err);
    return st;
}

static jc_status_t check_columns_in(PGconn *c, const char *schema, jc_error_t *err);

jc_status_t jc_agg_check_columns(PGconn *c, jc_error_t *err)
{
    return check_columns_in(c, "jiceng", err);
}

/* generations (issue 13, item 4): the check on the tables of schema. */
static jc_status_t check_columns_in(PGconn *c, const char *schema, jc_error_t *err)
{
    const char *v[1] = {schema};
    size_t n;
    const jc_aggregate_t *all = jc_aggregates(&n);
    PGresult *r = NULL;
    if (jc_aggregates_check(err) != JC_OK)
        return JC_ERR_INVALID_ARG;
    jc_status_t st = jc_pg_exec(c, "reading the aggregate tables' columns",
                                "select table_name::text, column_name::text, data_type::text "
                                "from information_schema.columns where table_schema = $1",
                                1, v, &r, NULL, err);
    for (size_t i = 0; st == JC_OK && i < n; i++)
        st = check_aggregate(r, &all[i], err);
    PQclear(r);
    return st;
}

/* Run, per aggregate, the statements make writes. */
static jc_status_t run_each(PGconn *c, const char *what,
                            jc_status_t (*make)(const jc_aggregate_t *, jc_buf_t *), jc_error_t *err)
{
    size_t n;
    const jc_aggregate_t *all = jc_aggregates(&n);
    jc_buf_t sql = {0};
    jc_status_t st = jc_aggregates_check(err);
    for (size_t i = 0; st == JC_OK && i < n; i++) {
        if (make(&all[i], &sql) != JC_OK)
            st = jc_error_set(err, JC_ERR_NOMEM, "%s of %s: out of memory", what, all[i].table);
        else
            st = jc_pg_check(c, PQexec(c, (const char *)sql.data), what, NULL, NULL, err);
    }
    jc_buf_free(&sql);
    return st;
}

jc_status_t jc_agg_drop_views(PGconn *c, jc_error_t *err)
{
    jc_status_t st = run_each(c, "dropping the report views", jc_agg_drop_views_sql, err);
    if (st == JC_OK) /* generations: the provenance view reads a generation's progress */
        st = jc_pg_check(c, PQexec(c, "drop view if exists jiceng.report_generation"),
                         "dropping the report views", NULL, NULL, err);
    return st;
}

/* generations (issue 13, item 4): over the current generation's tables (aggsql.h). */
jc_status_t jc_agg_create_views(PGconn *c, jc_error_t *err)
{
    int gen = 1;
    char schema[JC_GENERATION_SCHEMA_MAX];
    jc_status_t st = jc_gen_current_synced(c, &gen, err);
    jc_generation_schema(gen, schema, sizeof schema);
    return st == JC_OK ? jc_agg_create_views_over(c, schema, gen, err) : st;
}

jc_status_t jc_agg_create_views_over(PGconn *c, const char *schema, int generation, jc_error_t *err)
{
    size_t n;
    const jc_aggregate_t *all = jc_aggregates(&n);
    jc_buf_t sql = {0};
    jc_status_t st = check_columns_in(c, schema, err);
    if (st == JC_OK)
        st = run_each(c, "creating the report views", jc_agg_drop_views_sql, err);
    for (size_t i = 0; st == JC_OK && i < n; i++) {
        if (jc_agg_create_views_sql_in(&all[i], schema, &sql) != JC_OK)
            st = jc_error_set(err, JC_ERR_NOMEM, "creating the report views of %s: out of memory", all[i].table);
        else
            st = jc_pg_check(c, PQexec(c, (const char *)sql.data), "creating the report views", NULL, NULL, err);
    }
    if (st == JC_OK && jc_agg_generation_view_sql(schema, generation, &sql) != JC_OK)
        st = jc_error_set(err, JC_ERR_NOMEM, "creating jiceng.report_generation: out of memory");
    else if (st == JC_OK)
        st = jc_pg_check(c, PQexec(c, (const char *)sql.data), "creating jiceng.report_generation", NULL, NULL, err);
    jc_buf_free(&sql);
    return st;
}
