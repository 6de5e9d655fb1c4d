/*
 * aggsql.h: the SQL derived from the aggregate description (jiceng/aggregates.h): the text of
 * the report views (aggsql.c, with the flush's upsert, jc_agg_upsert_sql) and what the
 * migrator does with them (aggschema.c). Not installed.
 */
#ifndef JC_AGGSQL_H
#define JC_AGGSQL_H

#include <libpq-fe.h>

#include "jiceng/aggregates.h"

/* The statements (each ending in ";\n") that drop a's report views if they exist, dependents
 * first. Replace sql's content; JC_ERR_NOMEM if it cannot grow. */
jc_status_t jc_agg_drop_views_sql(const jc_aggregate_t *a, jc_buf_t *sql)
    __attribute__((warn_unused_result));

/* The statements that create a's report views and grant select on them to jiceng_report:
 * for sums, report_<stem>_daily (per county, joined with report_counties), and its roll-ups
 * report_<stem>_prefecture_daily and report_<stem>_province_daily (sums as bigint, grouped by
 * day and the dimensions); for distinct, report_<stem> (the rows with the prefecture code
 * beside the county code). Replace sql's content; JC_ERR_NOMEM if it cannot grow. */
jc_status_t jc_agg_create_views_sql(const jc_aggregate_t *a, jc_buf_t *sql)
    __attribute__((warn_unused_result));

/* Check that the database has every table and column the description names, with the type
 * the flush writes (county_code integer, day date, dimensions and ids text, sums bigint):
 * JC_ERR_PG naming the first missing or mistyped column. */
jc_status_t jc_agg_check_columns(PGconn *c, jc_error_t *err);

/* Drop every aggregate's report views (before migrations, which may then alter the tables). */
jc_status_t jc_agg_drop_views(PGconn *c, jc_error_t *err);

/* Check the columns (jc_agg_check_columns), then (re)create every aggregate's report views. */
jc_status_t jc_agg_create_views(PGconn *c, jc_error_t *err);

#endif
