/*
 * generation.c: generations of the aggregates (issue 13, item 4; see jiceng/generation.h).
 *
 * A generation's schema holds the tables an aggregator writes for it: every aggregate table,
 * made from the description (aggsql.c, jc_agg_table_sql), and the per-generation bookkeeping
 * listed once below (own_tables), copied from generation 1's with `like ... including all` so
 * that whatever a migration gives those (columns, defaults, indexes) a new generation has too.
 * The aggregator names these tables unqualified and connects with search_path set to its
 * generation's schema (jc_generation_conninfo); everything else it touches (rejects, signing
 * keys, end offsets) it names in schema jiceng, shared by all generations.
 *
 * create, promote and drop each run in one transaction that first takes an exclusive lock on
 * jiceng.generations, so two of them never interleave. promote judges "caught up" against the
 * newest end offsets PostgreSQL holds (the end_offsets of the generation and of the current
 * one, which their running aggregators refresh every few seconds, and the current
 * generation's progress), lists
 * every partition further behind than allowed, and only then re-creates the report views over
 * the generation's tables (aggschema.c) and switches the states: a report (one transaction)
 * sees the old generation or the new one, never a mix and never one half built.
 */
#include "jiceng/generation.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../internal.h"
#include "../pgexec.h"
#include "aggsql.h"

/* The bookkeeping each generation has of its own (generation 1's are in schema jiceng). */
static const char *const own_tables[] = {"consumer_progress", "dedup_ledger", "end_offsets"};

#define LOCK_SQL "lock table jiceng.generations in exclusive mode"
#define LOCK_WAIT "60s" /* the longest create, promote or drop waits for a lock */

void jc_generation_schema(int n, char *out, size_t size)
{
    if (n <= 1)
        snprintf(out, size, "jiceng");
    else
        snprintf(out, size, "jiceng_gen_%d", n);
}

/* ---- the aggregator's connection --------------------------------------------------------- */

/* Append s to b as a conninfo value: single-quoted, ' and \ escaped. */
static jc_status_t put_value(jc_buf_t *b, const char *s)
{
    jc_status_t st = jc_buf_append(b, "'", 1);
    for (; st == JC_OK && *s != '\0'; s++) {
        if (*s == '\'' || *s == '\\')
            st = jc_buf_append(b, "\\", 1);
        if (st == JC_OK)
            st = jc_buf_append(b, s, 1);
    }
    return st == JC_OK ? jc_buf_append(b, "'", 1) : st;
}

static jc_status_t put_option(jc_buf_t *b, const char *keyword, const char *value)
{
    jc_status_t st = b->len > 0 ? jc_buf_append(b, " ", 1) : JC_OK;
    if (st == JC_OK)
        st = jc_buf_append(b, keyword, strlen(keyword));
    if (st == JC_OK)
        st = jc_buf_append(b, "=", 1);
    return st == JC_OK ? put_value(b, value) : st;
}

jc_status_t jc_generation_conninfo(const char *conninfo, int n, char **out, jc_error_t *err)
{
    char *why = NULL, schema[JC_GENERATION_SCHEMA_MAX], options[1024];
    PQconninfoOption *opts = PQconninfoParse(conninfo != NULL ? conninfo : "", &why);
    *out = NULL;
    if (opts == NULL) {
        jc_error_set(err, JC_ERR_INVALID_ARG, "conninfo: %s", why != NULL ? why : "out of memory");
        PQfreemem(why);
        return JC_ERR_INVALID_ARG;
    }
    jc_generation_schema(n, schema, sizeof schema);
    jc_buf_t b = {0};
    jc_status_t st = JC_OK;
    const char *given = getenv("PGOPTIONS") != NULL ? getenv("PGOPTIONS") : ""; /* libpq's default */
    for (PQconninfoOption *o = opts; st == JC_OK && o->keyword != NULL; o++) {
        if (o->val == NULL)
            continue;
        if (strcmp(o->keyword, "options") == 0)
            given = o->val; /* kept (rather than PGOPTIONS), with ours after it */
        else
            st = put_option(&b, o->keyword, o->val);
    }
    snprintf(options, sizeof options, "%s%s-c search_path=%s", given, *given ? " " : "", schema);
    if (st == JC_OK)
        st = put_option(&b, "options", options);
    if (st == JC_OK)
        st = jc_buf_append(&b, "", 1); /* the terminating NUL */
    PQconninfoFree(opts);
    if (st != JC_OK) {
        jc_buf_free(&b);
        return jc_error_set(err, JC_ERR_NOMEM, "conninfo: out of memory");
    }
    *out = (char *)b.data;
    return JC_OK;
}

/* ---- reading generations ------------------------------------------------------------------ */

/* Generation n's state into state (16 bytes): JC_ERR_INVALID_ARG if there is no such one. */
static jc_status_t read_state(PGconn *c, int n, char *state, jc_error_t *err)
{
    char id[16];
    snprintf(id, sizeof id, "%d", n);
    const char *v[1] = {id};
    PGresult *r = NULL;
    jc_status_t st = jc_pg_exec(c, "reading jiceng.generations",
                                "select state from jiceng.generations where id = $1", 1, v, &r, NULL, err);
    if (st != JC_OK)
        return st;
    if (PQntuples(r) == 0)
        st = jc_error_set(err, JC_ERR_INVALID_ARG, "there is no generation %d (jiceng.generations)", n);
    else
        snprintf(state, 16, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return st;
}

jc_status_t jc_generation_check(PGconn *c, int n, char *state, jc_error_t *err)
{
    char s[16] = "";
    jc_status_t st = read_state(c, n, s, err);
    if (st == JC_OK && strcmp(s, "dropped") == 0)
        st = jc_error_set(err, JC_ERR_INVALID_ARG, "generation %d was dropped", n);
    if (state != NULL)
        snprintf(state, 16, "%s", s);
    return st;
}

/* Run sql (no parameters) and read one integer from its first row (0 if it has none). */
static jc_status_t query_int(PGconn *c, const char *what, const char *sql, int *out, jc_error_t *err)
{
    PGresult *r = NULL;
    jc_status_t st = jc_pg_exec(c, what, sql, 0, NULL, &r, NULL, err);
    if (st != JC_OK)
        return st;
    *out = PQntuples(r) > 0 && !PQgetisnull(r, 0, 0) ? atoi(PQgetvalue(r, 0, 0)) : 0;
    PQclear(r);
    return JC_OK;
}

/* Run make's statements (per aggregate, for schema). */
static jc_status_t each_aggregate(PGconn *c, const char *schema, const char *what,
                                  jc_status_t (*make)(const jc_aggregate_t *, const char *, jc_buf_t *),
                                  jc_error_t *err)
{
    size_t n;
    const jc_aggregate_t *all = jc_aggregates(&n);
    jc_buf_t sql = {0};
    jc_status_t st = jc_aggregates_check(err);
    for (size_t i = 0; st == JC_OK && i < n; i++) {
        if (make(&all[i], schema, &sql) != JC_OK)
            st = jc_error_set(err, JC_ERR_NOMEM, "%s %s.%s: out of memory", what, schema, all[i].table);
        else
            st = jc_pg_check(c, PQexec(c, (const char *)sql.data), what, NULL, NULL, err);
    }
    jc_buf_free(&sql);
    return st;
}

jc_status_t jc_gen_current_synced(PGconn *c, int *generation, jc_error_t *err)
{
    int exists = 0;
    *generation = 1;
    jc_status_t st = query_int(c, "reading jiceng.generations",
                               "select (to_regclass('jiceng.generations') is not null)::int", &exists, err);
    if (st != JC_OK || !exists)
        return st;
    PGresult *r = NULL;
    st = jc_pg_exec(c, "reading jiceng.generations", "select id, state from jiceng.generations "
                    "where state in ('building', 'current') order by id", 0, NULL, &r, NULL, err);
    for (int i = 0; st == JC_OK && i < PQntuples(r); i++) {
        int n = atoi(PQgetvalue(r, i, 0));
        char schema[JC_GENERATION_SCHEMA_MAX];
        jc_generation_schema(n, schema, sizeof schema);
        if (strcmp(PQgetvalue(r, i, 1), "current") == 0)
            *generation = n;
        if (n > 1)
            st = each_aggregate(c, schema, "adding the described columns", jc_agg_add_columns_sql, err);
    }
    PQclear(r);
    return st;
}

/* ---- one transaction under the lock ------------------------------------------------------- */

typedef jc_status_t (*locked_fn)(PGconn *c, int n, void *arg, jc_error_t *err);

static jc_status_t locked(PGconn *c, int n, void *arg, locked_fn body, jc_error_t *err)
{
    jc_status_t st = jc_pg_check(c, PQexec(c, "begin"), "begin", NULL, NULL, err);
    if (st == JC_OK)
        st = jc_pg_check(c, PQexec(c, "set local client_min_messages = warning"), "quiet", NULL, NULL, err);
    /* never wait forever behind another transaction (an aggregator stopped mid-flush): fail,
     * rolled back, saying which lock it could not get */
    if (st == JC_OK)
        st = jc_pg_check(c, PQexec(c, "set local lock_timeout = '" LOCK_WAIT "'"), "lock_timeout", NULL, NULL, err);
    if (st == JC_OK)
        st = jc_pg_check(c, PQexec(c, LOCK_SQL), "locking jiceng.generations", NULL, NULL, err);
    if (st == JC_OK)
        st = body(c, n, arg, err);
    if (st == JC_OK)
        st = jc_pg_check(c, PQexec(c, "commit"), "commit", NULL, NULL, err);
    else
        jc_pg_rollback(c);
    return st;
}

/* Run sql, formatted with the schema name (every %s is it). */
static jc_status_t exec_in(PGconn *c, const char *what, const char *fmt, const char *schema, jc_error_t *err)
{
    char sql[1024];
    snprintf(sql, sizeof sql, fmt, schema, schema, schema);
    return jc_pg_check(c, PQexec(c, sql), what, NULL, NULL, err);
}

/* ---- create --------------------------------------------------------------------------------- */

static jc_status_t create_body(PGconn *c, int unused, void *arg, jc_error_t *err)
{
    (void)unused;
    int *n = arg;
    char schema[JC_GENERATION_SCHEMA_MAX], sql[256];
    jc_status_t st = query_int(c, "numbering the generation",
                               "select nextval(pg_get_serial_sequence('jiceng.generations', 'id'))", n, err);
    if (st != JC_OK)
        return st;
    jc_generation_schema(*n, schema, sizeof schema);
    snprintf(sql, sizeof sql, "insert into jiceng.generations (id, schema_name, state) "
             "values (%d, '%s', 'building')", *n, schema);
    st = jc_pg_check(c, PQexec(c, sql), "recording the generation", NULL, NULL, err);
    if (st == JC_OK)
        st = exec_in(c, "creating the generation's schema", "create schema %s", schema, err);
    if (st == JC_OK)
        st = each_aggregate(c, schema, "creating", jc_agg_table_sql, err);
    for (size_t i = 0; st == JC_OK && i < JC_ARRAY_LEN(own_tables); i++) {
        snprintf(sql, sizeof sql, "create table %%s.%s (like jiceng.%s including all)", own_tables[i],
                 own_tables[i]);
        st = exec_in(c, "creating the generation's bookkeeping", sql, schema, err);
    }
    if (st == JC_OK) /* the aggregator's role (where it exists) writes it, as it does jiceng */
        st = exec_in(c, "granting the generation to the aggregator",
                     "do $$ begin if exists (select from pg_roles where rolname = 'jiceng_aggregate') then "
                     "grant usage on schema %s to jiceng_aggregate; "
                     "grant select, insert, update, delete on all tables in schema %s to jiceng_aggregate; "
                     "end if; end $$", schema, err);
    return st;
}

jc_status_t jc_generation_create(PGconn *c, int *n, jc_error_t *err)
{
    *n = 0;
    return locked(c, 0, n, create_body, err);
}

/* ---- promote -------------------------------------------------------------------------------- */

/* Per partition: the newest end offset known (refreshed by the current generation's
 * aggregators or the generation's, or what the current generation has consumed), the
 * generation's next offset (its start offset if it has none), and those further behind than
 * $1. %s: the current generation's schema (three times), then the generation's (twice). */
#define LAGGING_SQL                                                                                    \
    "with known as (select topic, partition, end_offset as e, start_offset as s from %s.end_offsets "   \
    " union all select topic, partition, next_offset, null from %s.consumer_progress "                   \
    " union all select topic, partition, end_offset, start_offset from %s.end_offsets), "                \
    "ends as (select topic, partition, max(e) as e, min(s) as s from known group by 1, 2), "              \
    "got as (select topic, partition, max(next_offset) as n from %s.consumer_progress group by 1, 2) "    \
    "select ends.topic, ends.partition, coalesce(got.n, ends.s, 0), ends.e from ends "                   \
    "left join got using (topic, partition) where ends.e - coalesce(got.n, ends.s, 0) > $1::bigint "     \
    "order by 1, 2"

typedef struct promote_arg {
    int64_t max_lag;
} promote_arg_t;

/* JC_ERR_MISMATCH listing the partitions of schema further behind than max_lag. */
static jc_status_t check_caught_up(PGconn *c, int n, const char *schema, const char *current,
                                   int64_t max_lag, jc_error_t *err)
{
    char sql[1024], lag[24];
    snprintf(sql, sizeof sql, LAGGING_SQL, current, current, schema, schema);
    snprintf(lag, sizeof lag, "%lld", (long long)max_lag);
    const char *v[1] = {lag};
    PGresult *r = NULL;
    jc_status_t st = jc_pg_exec(c, "comparing the generation's offsets", sql, 1, v, &r, NULL, err);
    if (st != JC_OK || PQntuples(r) == 0) {
        PQclear(r);
        return st;
    }
    char list[400] = "";
    size_t len = 0;
    for (int i = 0; i < PQntuples(r) && len < sizeof list; i++)
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%s [%s] at %s of %s", i ? ", " : "",
                                PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2),
                                PQgetvalue(r, i, 3));
    st = jc_error_set(err, JC_ERR_MISMATCH, "generation %d has not caught up: %d partition(s) more "
                      "than %lld behind: %s", n, PQntuples(r), (long long)max_lag, list);
    PQclear(r);
    return st;
}

static jc_status_t promote_body(PGconn *c, int n, void *arg, jc_error_t *err)
{
    const promote_arg_t *p = arg;
    char state[16] = "", schema[JC_GENERATION_SCHEMA_MAX], current[JC_GENERATION_SCHEMA_MAX], sql[256];
    int now = 1;
    jc_status_t st = read_state(c, n, state, err);
    if (st == JC_OK && strcmp(state, "building") != 0 && strcmp(state, "retired") != 0)
        st = jc_error_set(err, JC_ERR_INVALID_ARG, "generation %d is %s: only a building or retired "
                          "generation can be promoted", n, state);
    /* the read-only check first: a generation that has not caught up is refused without
     * touching its tables (adding columns locks them against its running aggregators) */
    if (st == JC_OK)
        st = query_int(c, "reading jiceng.generations", "select coalesce(max(id) filter (where "
                       "state = 'current'), 1)::int from jiceng.generations", &now, err);
    jc_generation_schema(n, schema, sizeof schema);
    jc_generation_schema(now, current, sizeof current);
    if (st == JC_OK)
        st = check_caught_up(c, n, schema, current, p->max_lag, err);
    if (st == JC_OK)
        st = jc_gen_current_synced(c, &now, err); /* and the described columns added */
    if (st == JC_OK)
        st = jc_agg_drop_views(c, err);
    if (st == JC_OK)
        st = jc_agg_create_views_over(c, schema, n, err);
    snprintf(sql, sizeof sql, "update jiceng.generations set state = case when id = %d then 'current' "
             "else 'retired' end, promoted_at = case when id = %d then now() else promoted_at end "
             "where id = %d or state = 'current'", n, n, n);
    if (st == JC_OK)
        st = jc_pg_check(c, PQexec(c, sql), "recording the promotion", NULL, NULL, err);
    return st;
}

jc_status_t jc_generation_promote(PGconn *c, int n, int64_t max_lag, jc_error_t *err)
{
    promote_arg_t p = {max_lag < 0 ? 0 : max_lag};
    return locked(c, n, &p, promote_body, err);
}

/* ---- drop ----------------------------------------------------------------------------------- */

/* Generation 1: its tables emptied (migrations name them, so they stay). */
static jc_status_t empty_first(PGconn *c, jc_error_t *err)
{
    size_t n;
    const jc_aggregate_t *all = jc_aggregates(&n);
    char sql[256];
    jc_status_t st = JC_OK;
    for (size_t i = 0; st == JC_OK && i < n; i++)
        st = exec_in(c, "emptying generation 1", "truncate jiceng.%s", all[i].table, err);
    for (size_t i = 0; st == JC_OK && i < JC_ARRAY_LEN(own_tables); i++) {
        snprintf(sql, sizeof sql, "truncate jiceng.%s", own_tables[i]);
        st = jc_pg_check(c, PQexec(c, sql), "emptying generation 1", NULL, NULL, err);
    }
    return st;
}

static jc_status_t drop_body(PGconn *c, int n, void *arg, jc_error_t *err)
{
    (void)arg;
    char state[16] = "", schema[JC_GENERATION_SCHEMA_MAX], sql[160];
    jc_status_t st = read_state(c, n, state, err);
    if (st == JC_OK && strcmp(state, "current") == 0)
        st = jc_error_set(err, JC_ERR_INVALID_ARG, "generation %d is current: the reports read it; "
                          "promote another one first", n);
    if (st == JC_OK && strcmp(state, "dropped") == 0)
        st = jc_error_set(err, JC_ERR_INVALID_ARG, "generation %d was dropped already", n);
    jc_generation_schema(n, schema, sizeof schema);
    if (st == JC_OK)
        st = n == 1 ? empty_first(c, err)
                    : exec_in(c, "dropping the generation's schema", "drop schema %s cascade", schema, err);
    snprintf(sql, sizeof sql, "update jiceng.generations set state = 'dropped', dropped_at = now() "
             "where id = %d", n);
    if (st == JC_OK)
        st = jc_pg_check(c, PQexec(c, sql), "recording the drop", NULL, NULL, err);
    return st;
}

jc_status_t jc_generation_drop(PGconn *c, int n, jc_error_t *err)
{
    return locked(c, n, NULL, drop_body, err);
}

/* ---- list ----------------------------------------------------------------------------------- */

/* The messages generation n has consumed (its progress summed), as text into buf; "-" if it
 * was dropped or its progress cannot be read. */
static const char *consumed(PGconn *c, int n, const char *state, char *buf, size_t len)
{
    char schema[JC_GENERATION_SCHEMA_MAX], sql[160];
    jc_generation_schema(n, schema, sizeof schema);
    snprintf(sql, sizeof sql, "select coalesce(sum(next_offset), 0) from %s.consumer_progress", schema);
    PGresult *r = strcmp(state, "dropped") != 0 ? PQexec(c, sql) : NULL;
    snprintf(buf, len, "%s", PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 ? PQgetvalue(r, 0, 0) : "-");
    PQclear(r);
    return buf;
}

jc_status_t jc_generation_list(PGconn *c, jc_buf_t *out, jc_error_t *err)
{
    PGresult *r = NULL;
    jc_buf_reset(out);
    jc_status_t st = jc_pg_exec(c, "reading jiceng.generations",
        "select id, schema_name, state, to_char(created_at, 'YYYY-MM-DD\"T\"HH24:MI:SSOF'), "
        "coalesce(to_char(promoted_at, 'YYYY-MM-DD\"T\"HH24:MI:SSOF'), '-'), "
        "coalesce(to_char(dropped_at, 'YYYY-MM-DD\"T\"HH24:MI:SSOF'), '-') from jiceng.generations order by id",
        0, NULL, &r, NULL, err);
    if (st != JC_OK)
        return st;
    char line[256], n[32];
    snprintf(line, sizeof line, "%-10s %-16s %-8s %-12s %-22s %-22s %s\n", "generation", "schema", "state",
             "consumed", "created", "promoted", "dropped");
    st = jc_buf_append(out, line, strlen(line));
    for (int i = 0; st == JC_OK && i < PQntuples(r); i++) {
        snprintf(line, sizeof line, "%-10s %-16s %-8s %-12s %-22s %-22s %s\n", PQgetvalue(r, i, 0),
                 PQgetvalue(r, i, 1), PQgetvalue(r, i, 2),
                 consumed(c, atoi(PQgetvalue(r, i, 0)), PQgetvalue(r, i, 2), n, sizeof n),
                 PQgetvalue(r, i, 3), PQgetvalue(r, i, 4), PQgetvalue(r, i, 5));
        st = jc_buf_append(out, line, strlen(line));
    }
    PQclear(r);
    return st == JC_OK ? JC_OK : jc_error_set(err, JC_ERR_NOMEM, "generations: out of memory");
}
