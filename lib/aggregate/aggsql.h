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

/* ---- generations (issue 13, item 4; generation.c, aggschema.c) ---- */

/* The column of a distinct table counting the event versions in force for its key. */
#define JC_AGG_EVENTS_COLUMN "events"

/* create table schema.<a's table>: the key (county_code integer, day date, the dimensions
 * text), the sums (bigint not null default 0) or the id (text) and events (bigint not null
 * default 0), primary key the key (and the id). Replaces sql's content; JC_ERR_NOMEM. */
jc_status_t jc_agg_table_sql(const jc_aggregate_t *a, const char *schema, jc_buf_t *sql)
    __attribute__((warn_unused_result));

/* alter table schema.<a's table> add column if not exists, for every described column (default
 * 0): what a migration adding a measure does to generation 1, done to a generation's schema. */
jc_status_t jc_agg_add_columns_sql(const jc_aggregate_t *a, const char *schema, jc_buf_t *sql)
    __attribute__((warn_unused_result));

/* jc_agg_create_views_sql over the tables of schema instead of jiceng. */
jc_status_t jc_agg_create_views_sql_in(const jc_aggregate_t *a, const char *schema, jc_buf_t *sql)
    __attribute__((warn_unused_result));

/* jiceng.generation_progress, the current generation's progress (schema.consumer_progress),
 * which report_consumer_lag reads (011), and jiceng.report_generation (for the report role):
 * one row, the generation number and its consumed offsets ({"topic/partition": next offset}). */
jc_status_t jc_agg_generation_view_sql(const char *schema, int generation, jc_buf_t *sql)
    __attribute__((warn_unused_result));

/* Check the columns of schema's aggregate tables, then (re)create the report views over them
 * and jiceng.report_generation for generation (promote, and the migrator). */
jc_status_t jc_agg_create_views_over(PGconn *c, const char *schema, int generation, jc_error_t *err);

/* The current generation (1 if jiceng.generations does not exist yet), and, for each building
 * or current generation in a schema of its own, the described columns it lacks added
 * (jc_agg_add_columns_sql): so a migration that adds a measure reaches every live generation
 * (generation.c). */
jc_status_t jc_gen_current_synced(PGconn *c, int *generation, jc_error_t *err);

#endif
