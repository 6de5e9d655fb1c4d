/*
 * query.c: the report's SQL over the report views (query.h).
 *
 * The statements are composed from the sections (model.h: the view stems and sum columns of
 * the aggregate description) and the caller's key expression and scope, all fixed strings of
 * the library; the only outside values, the days and the region code, travel as parameters. A
 * statement that would not fit its buffer is an error, never cut short. Values come back as
 * text and are parsed strictly: a non-integer is an error, not a zero.
 */
#include "query.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "jiceng/jtime.h"

#define SQL_MAX 2048

const rp_group_t *rp_groups_find(const rp_groups_t *g, const char *key)
{
    for (size_t i = 0; i < g->n; i++)
        if (strcmp(g->items[i].key, key) == 0)
            return &g->items[i];
    return NULL;
}

/* The group with key, added (all zero) if missing; NULL if out of memory. */
static rp_group_t *groups_get(rp_groups_t *g, const char *key)
{
    rp_group_t *found = (rp_group_t *)rp_groups_find(g, key);
    if (found != NULL)
        return found;
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 16;
        rp_group_t *items = realloc(g->items, cap * sizeof *items);
        if (items == NULL)
            return NULL;
        g->items = items;
        g->cap = cap;
    }
    rp_group_t *n = &g->items[g->n++];
    memset(n, 0, sizeof *n);
    snprintf(n->key, sizeof n->key, "%s", key);
    return n;
}

void rp_groups_free(rp_groups_t *g)
{
    free(g->items);
    memset(g, 0, sizeof *g);
}

static jc_status_t parse_int(const char *s, int64_t *v, jc_error_t *err)
{
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0')
        return jc_error_set(err, JC_ERR_PG, "report: '%s' from the database is not an integer", s);
    *v = x;
    return JC_OK;
}

static jc_status_t query_failed(PGresult *r, const char *what, jc_error_t *err)
{
    jc_error_set(err, JC_ERR_PG, "report: reading %s: %s", what, PQresultErrorMessage(r));
    PQclear(r);
    return JC_ERR_PG;
}

/* Run sql with the period's days and the scope's code (if any) as $1, $2 [, $3]. */
static PGresult *run_scoped(PGconn *c, const char *sql, jc_period_t p, const rp_scope_t *scope)
{
    char from[16], to[16], code[16];
    jc_day_format(p.from, from, sizeof from);
    jc_day_format(p.to, to, sizeof to);
    snprintf(code, sizeof code, "%d", (int)scope->code);
    const char *params[3] = {from, to, code};
    return PQexecParams(c, sql, scope->column ? 3 : 2, NULL, params, NULL, NULL, 0);
}

static void where_clause(const rp_scope_t *scope, char *buf, size_t len)
{
    if (scope->column != NULL)
        snprintf(buf, len, "day between $1::date and $2::date and %s = $3::int", scope->column);
    else
        snprintf(buf, len, "day between $1::date and $2::date");
}

/* Append printf-style text at sql + *n (len bytes in all); false once it does not fit. */
static bool add(char *sql, size_t len, size_t *n, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static bool add(char *sql, size_t len, size_t *n, const char *fmt, ...)
{
    if (*n >= len)
        return false;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(sql + *n, len - *n, fmt, ap);
    va_end(ap);
    *n += k < 0 ? len : (size_t)k;
    return *n < len;
}

/* Compose into sql: section d's sums over its view at scope's level (or, if distinct, its
 * distinct count over its distinct view) grouped by key. False if sql is too small. */
static bool compose(const rp_section_def_t *d, bool distinct, const char *key, const rp_scope_t *scope,
                    char *sql, size_t len)
{
    char where[160];
    size_t n = 0;
    where_clause(scope, where, sizeof where);
    if (distinct)
        return add(sql, len, &n, "select (%s)::text, count(distinct %s)::bigint from jiceng.report_%s "
                   "where %s group by 1", key, d->distinct->id, d->distinct->stem, where);
    bool ok = add(sql, len, &n, "select (%s)::text", key);
    for (int i = 0; i < d->sums->ncolumns; i++)
        ok &= add(sql, len, &n, ", coalesce(sum(%s), 0)::bigint", d->sums->columns[i].name);
    return ok & add(sql, len, &n, " from jiceng.report_%s%s_daily where %s group by 1", d->sums->stem,
                    scope->infix, where);
}

/* Store each result row's values into its group, at raw indices first, first + 1, ... */
static jc_status_t store_rows(PGresult *r, int first, rp_groups_t *out, jc_error_t *err)
{
    if (first + PQnfields(r) - 1 > RP_MAX_VALUES)
        return jc_error_set(err, JC_ERR_PG, "report: %d values from the database, more than RP_MAX_VALUES",
                            first + PQnfields(r) - 1);
    for (int i = 0; i < PQntuples(r); i++) {
        rp_group_t *g = groups_get(out, PQgetvalue(r, i, 0));
        if (g == NULL)
            return jc_error_set(err, JC_ERR_NOMEM, "report: out of memory");
        for (int k = 1; k < PQnfields(r); k++)
            if (parse_int(PQgetvalue(r, i, k), &g->v[first + k - 1], err) != JC_OK)
                return JC_ERR_PG;
    }
    return JC_OK;
}

static jc_status_t fetch_into(PGconn *c, const char *sql, const char *what, jc_period_t p,
                              const rp_scope_t *scope, int first, rp_groups_t *out, jc_error_t *err)
{
    PGresult *r = run_scoped(c, sql, p, scope);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        return query_failed(r, what, err);
    jc_status_t st = store_rows(r, first, out, err);
    PQclear(r);
    return st;
}

jc_status_t rp_fetch(PGconn *c, int s, const char *key, const rp_scope_t *scope, bool distinct,
                     jc_period_t p, rp_groups_t *out, jc_error_t *err)
{
    const rp_section_def_t *d = &rp_sections[s];
    char sql[SQL_MAX];
    if (!compose(d, false, key, scope, sql, sizeof sql))
        return jc_error_set(err, JC_ERR_INVALID_ARG, "report: the query of %s is longer than %d bytes",
                            d->sums->table, SQL_MAX);
    jc_status_t st = fetch_into(c, sql, d->sums->stem, p, scope, 0, out, err);
    if (st != JC_OK || !distinct || d->distinct == NULL)
        return st;
    if (!compose(d, true, key, scope, sql, sizeof sql))
        return jc_error_set(err, JC_ERR_INVALID_ARG, "report: the query of %s is longer than %d bytes",
                            d->distinct->table, SQL_MAX);
    return fetch_into(c, sql, d->distinct->stem, p, scope, d->sums->ncolumns, out, err);
}

static void copy_text(char *dst, size_t len, const char *src)
{
    snprintf(dst, len, "%s", src);
}

static void county_row(PGresult *r, int i, rp_county_t *k)
{
    k->county.code = atoi(PQgetvalue(r, i, 0));
    copy_text(k->county.name_zh, sizeof k->county.name_zh, PQgetvalue(r, i, 1));
    copy_text(k->county.name_pinyin, sizeof k->county.name_pinyin, PQgetvalue(r, i, 2));
    k->prefecture.code = atoi(PQgetvalue(r, i, 3));
    copy_text(k->prefecture.name_zh, sizeof k->prefecture.name_zh, PQgetvalue(r, i, 4));
    copy_text(k->prefecture.name_pinyin, sizeof k->prefecture.name_pinyin, PQgetvalue(r, i, 5));
}

jc_status_t rp_fetch_counties(PGconn *c, const rp_scope_t *scope, rp_county_t **out, size_t *n,
                              jc_error_t *err)
{
    char sql[SQL_MAX], code[16];
    snprintf(sql, sizeof sql, "select county_code, county_name_zh, county_name_pinyin, prefecture_code, "
             "prefecture_name_zh, prefecture_name_pinyin from jiceng.report_counties %s%s%s order by county_code",
             scope->column ? "where " : "", scope->column ? scope->column : "", scope->column ? " = $1::int" : "");
    snprintf(code, sizeof code, "%d", (int)scope->code);
    const char *params[1] = {code};
    PGresult *r = PQexecParams(c, sql, scope->column ? 1 : 0, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        return query_failed(r, "report_counties", err);
    *n = (size_t)PQntuples(r);
    *out = calloc(*n ? *n : 1, sizeof **out);
    for (size_t i = 0; *out != NULL && i < *n; i++)
        county_row(r, (int)i, &(*out)[i]);
    PQclear(r);
    return *out ? JC_OK : jc_error_set(err, JC_ERR_NOMEM, "report: out of memory");
}

/* Column c of row i into *v, *has saying whether it was not null. */
static jc_status_t optional_int(PGresult *r, int i, int c, bool *has, int64_t *v, jc_error_t *err)
{
    *has = !PQgetisnull(r, i, c);
    *v = 0;
    return *has ? parse_int(PQgetvalue(r, i, c), v, err) : JC_OK;
}

static jc_status_t fresh_row(PGresult *r, int i, rp_fresh_t *f, jc_error_t *err)
{
    bool observed = false;
    copy_text(f->group_id, sizeof f->group_id, PQgetvalue(r, i, 0));
    jc_status_t st = parse_int(PQgetvalue(r, i, 1), &f->topics, err);
    if (st == JC_OK)
        st = parse_int(PQgetvalue(r, i, 2), &f->partitions, err);
    if (st == JC_OK)
        st = parse_int(PQgetvalue(r, i, 3), &f->lag, err);
    if (st == JC_OK)
        st = optional_int(r, i, 4, &f->has_newest, &f->newest_ms, err);
    if (st == JC_OK)
        st = optional_int(r, i, 5, &f->has_updated, &f->updated_ms, err);
    if (st == JC_OK)
        st = optional_int(r, i, 6, &observed, &f->lag_observed_ms, err);
    if (st == JC_OK)
        st = optional_int(r, i, 7, &f->has_lag_age, &f->lag_age_ms, err);
    f->has_lag_age &= observed;
    return st;
}

jc_status_t rp_fetch_freshness(PGconn *c, rp_fresh_t **out, size_t *n, jc_error_t *err)
{
    PGresult *r = PQexec(c, "select group_id, topics, partitions, lag, "
                            "round(extract(epoch from newest_event_at) * 1000)::bigint, "
                            "round(extract(epoch from updated_at) * 1000)::bigint, "
                            "round(extract(epoch from lag_observed_at) * 1000)::bigint, lag_age_ms "
                            "from jiceng.report_freshness order by group_id");
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        return query_failed(r, "report_freshness", err);
    *n = (size_t)PQntuples(r);
    *out = calloc(*n ? *n : 1, sizeof **out);
    jc_status_t st = *out ? JC_OK : jc_error_set(err, JC_ERR_NOMEM, "report: out of memory");
    for (size_t i = 0; st == JC_OK && i < *n; i++)
        st = fresh_row(r, (int)i, &(*out)[i], err);
    PQclear(r);
    return st;
}

jc_status_t rp_exec(PGconn *c, const char *sql, jc_error_t *err)
{
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        return query_failed(r, sql, err);
    PQclear(r);
    return JC_OK;
}
