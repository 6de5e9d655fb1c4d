/*
 * query.h: the report's reads from the report views (query.c; not installed).
 *
 * Every figure of the report is one grouped query over a section's view: sums of its
 * measures, or the distinct count over its distinct view, grouped by one key expression (a
 * constant for the headline, a region column for the ranking, the month for the trend, a
 * category column for a breakdown, the county for silence) and limited to a range of days and
 * optionally one prefecture or county. The results land in rp_groups_t, keyed by the key's
 * text, with the section's raw layout (model.h).
 */
#ifndef JC_REPORT_QUERY_H
#define JC_REPORT_QUERY_H

#include <libpq-fe.h>

#include "model.h"

typedef struct rp_group {
    char key[64];
    int64_t v[RP_MAX_VALUES];
} rp_group_t;

typedef struct rp_groups {
    rp_group_t *items;
    size_t n, cap;
} rp_groups_t;

/* Which view level and which rows. */
typedef struct rp_scope {
    const char *infix;  /* "_province", "_prefecture" or "" (per county) */
    const char *column; /* NULL: all rows; else only rows with column = code */
    int32_t code;
} rp_scope_t;

/* The group with key, or NULL. */
const rp_group_t *rp_groups_find(const rp_groups_t *g, const char *key);

/* Release the groups' storage. */
void rp_groups_free(rp_groups_t *g);

/* Add to out, per value of the key expression: section s's sums over its view at scope's
 * level (and, if distinct, its distinct count) for the days of p and scope's rows. */
jc_status_t rp_fetch(PGconn *c, int s, const char *key, const rp_scope_t *scope, bool distinct,
                     jc_period_t p, rp_groups_t *out, jc_error_t *err);

/* The counties of scope's rows (scope->infix ignored), by code, with their prefectures. */
jc_status_t rp_fetch_counties(PGconn *c, const rp_scope_t *scope, rp_county_t **out, size_t *n,
                              jc_error_t *err);

/* Every consumer group's freshness row. */
jc_status_t rp_fetch_freshness(PGconn *c, rp_fresh_t **out, size_t *n, jc_error_t *err);

/* Run a statement that returns no rows (begin, commit). */
jc_status_t rp_exec(PGconn *c, const char *sql, jc_error_t *err);

#endif
