/*
 * migrate.c: applies the embedded schemas/sql migrations (see jiceng/migrate.h).
 *
 * One transaction: take a transaction-scoped advisory lock (so concurrent starters queue up),
 * make sure the bookkeeping table exists, read which versions are applied, run each missing
 * migration's SQL (a file may hold many statements: the simple query protocol runs them all)
 * and record it, then upsert the reference tables (prefectures, counties, code changes) from the
 * built-in reference data. The aggregates' report views are generated from their description
 * (lib/aggregate/aggsql.h): dropped before the migrations (which may then alter the tables),
 * and, once the database is checked to have every described column, created again. Any error
 * rolls everything back.
 * The version check (jc_schema_require) reads the newest recorded version and compares it with
 * the newest built-in one.
 */
#include "jiceng/migrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate/aggsql.h"
#include "internal.h"
#include "jiceng/buf.h"
#include "jiceng/reference.h"
#include "pgexec.h"

#define MIGRATION_LOCK_KEY 0x6a696365 /* "jice" */

/* A file of many statements runs through the simple query protocol (PQexec), which
 * PQexecParams does not allow; the check is the shared one. */
static jc_status_t exec_script(PGconn *c, const char *what, const char *sql, jc_error_t *err)
{
    return jc_pg_check(c, PQexec(c, sql), what, NULL, NULL, err);
}

static int migration_version(const char *name)
{
    return atoi(name); /* "001_core.sql" -> 1 */
}

int jc_migrations_builtin(void)
{
    int newest = 0;
    for (size_t i = 0; i < jc_embedded_sql_count; i++)
        if (migration_version(jc_embedded_sql[i].name) > newest)
            newest = migration_version(jc_embedded_sql[i].name);
    return newest;
}

jc_status_t jc_schema_version(PGconn *c, int *version, jc_error_t *err)
{
    PGresult *r = NULL;
    *version = 0;
    jc_status_t st = jc_pg_exec(c, "reading the schema version",
                                "select to_regclass('jiceng.schema_migrations') is not null", 0,
                                NULL, &r, NULL, err);
    if (st != JC_OK)
        return st;
    int exists = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    if (!exists)
        return JC_OK;
    st = jc_pg_exec(c, "reading the schema version",
                    "select coalesce(max(version), 0) from jiceng.schema_migrations", 0, NULL, &r,
                    NULL, err);
    if (st != JC_OK)
        return st;
    *version = PQntuples(r) == 1 ? atoi(PQgetvalue(r, 0, 0)) : 0;
    PQclear(r);
    return JC_OK;
}

jc_status_t jc_schema_require(PGconn *c, int *version, jc_error_t *err)
{
    int have = 0, need = jc_migrations_builtin();
    jc_status_t st = jc_schema_version(c, &have, err);
    if (version != NULL)
        *version = have;
    if (st != JC_OK)
        return st;
    if (have < need)
        return jc_error_set(err, JC_ERR_SCHEMA_VERSION, "database schema is at version %d; this "
                            "libjiceng needs %d", have, need);
    return JC_OK;
}

static int is_applied(PGconn *c, int version, int *applied, jc_error_t *err)
{
    char v[16];
    snprintf(v, sizeof v, "%d", version);
    const char *params[1] = {v};
    PGresult *r = NULL;
    if (jc_pg_exec(c, "migrate: reading schema_migrations",
                   "select 1 from jiceng.schema_migrations where version = $1", 1, params, &r,
                   NULL, err) != JC_OK)
        return -1;
    *applied = PQntuples(r) > 0;
    PQclear(r);
    return 0;
}

static jc_status_t apply_one(PGconn *c, const jc_embedded_file_t *m, int *count, jc_error_t *err)
{
    int version = migration_version(m->name), applied = 0;
    if (version <= 0)
        return jc_error_set(err, JC_ERR_PARSE, "migrate: %s is not named NNN_name.sql", m->name);
    if (is_applied(c, version, &applied, err) != 0)
        return JC_ERR_PG;
    if (applied)
        return JC_OK;
    jc_status_t st = exec_script(c, m->name, (const char *)m->data, err);
    if (st != JC_OK)
        return st;
    char v[16];
    snprintf(v, sizeof v, "%d", version);
    const char *params[2] = {v, m->name};
    st = jc_pg_exec(c, "migrate: recording migration",
                    "insert into jiceng.schema_migrations (version, name) values ($1, $2)", 2,
                    params, NULL, NULL, err);
    if (st == JC_OK)
        (*count)++;
    return st;
}

static int by_name(const void *a, const void *b)
{
    return strcmp((*(const jc_embedded_file_t *const *)a)->name, (*(const jc_embedded_file_t *const *)b)->name);
}

/* The arrays' texts into v, or JC_ERR_NOMEM if building any of them failed. */
static jc_status_t end_arrays(jc_pgarray_t *a, int n, const char **v, const char *what, jc_error_t *err)
{
    int failed = 0;
    for (int i = 0; i < n; i++)
        failed |= (v[i] = jc_pgarray_end(&a[i])) == NULL;
    return failed ? jc_error_set(err, JC_ERR_NOMEM, "migrate: %s: out of memory", what) : JC_OK;
}

static jc_status_t sync_prefectures(PGconn *c, jc_pgarray_t a[3], jc_error_t *err)
{
    for (int i = 0; i < 3; i++)
        jc_pgarray_begin(&a[i]);
    size_t n;
    const jc_prefecture_t *all = jc_reference_prefectures(jc_reference_builtin(), &n);
    for (size_t i = 0; i < n; i++) {
        const jc_prefecture_t *p = &all[i];
        jc_pgarray_int(&a[0], p->code);
        jc_pgarray_text(&a[1], p->name_zh);
        jc_pgarray_text(&a[2], p->name_pinyin);
    }
    const char *pp[3];
    if (end_arrays(a, 3, pp, "prefectures", err) != JC_OK)
        return JC_ERR_NOMEM;
    return jc_pg_exec(c, "migrate: prefectures",
        "insert into jiceng.prefectures select * from unnest($1::int[], $2::text[], $3::text[]) "
        "on conflict (code) do update set name_zh = excluded.name_zh, name_pinyin = excluded.name_pinyin",
        3, pp, NULL, NULL, err);
}

static jc_status_t sync_counties(PGconn *c, jc_pgarray_t a[5], jc_error_t *err)
{
    for (int i = 0; i < 5; i++)
        jc_pgarray_begin(&a[i]);
    size_t n;
    const jc_county_t *all = jc_reference_counties(jc_reference_builtin(), &n);
    for (size_t i = 0; i < n; i++) {
        const jc_county_t *k = &all[i];
        jc_pgarray_int(&a[0], k->code);
        jc_pgarray_text(&a[1], k->name_zh);
        jc_pgarray_text(&a[2], k->name_pinyin);
        jc_pgarray_text(&a[3], k->kind);
        jc_pgarray_int(&a[4], k->prefecture_code);
    }
    const char *cp[5];
    if (end_arrays(a, 5, cp, "counties", err) != JC_OK)
        return JC_ERR_NOMEM;
    return jc_pg_exec(c, "migrate: counties",
        "insert into jiceng.counties select * from unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::int[]) "
        "on conflict (code) do update set name_zh = excluded.name_zh, name_pinyin = excluded.name_pinyin, "
        "kind = excluded.kind, prefecture_code = excluded.prefecture_code",
        5, cp, NULL, NULL, err);
}

/* The built-in code changes (migration 009's table; issue 13, item 6): a year of 0 is null. */
static jc_status_t sync_changes(PGconn *c, jc_pgarray_t a[4], jc_error_t *err)
{
    for (int i = 0; i < 4; i++)
        jc_pgarray_begin(&a[i]);
    size_t n;
    const jc_code_change_t *all = jc_reference_changes(jc_reference_builtin(), &n);
    for (size_t i = 0; i < n; i++) {
        jc_pgarray_int(&a[0], all[i].old_code);
        jc_pgarray_int(&a[1], all[i].new_code);
        jc_pgarray_int(&a[2], all[i].year);
        jc_pgarray_text(&a[3], all[i].change);
    }
    const char *v[4];
    if (end_arrays(a, 4, v, "code changes", err) != JC_OK)
        return JC_ERR_NOMEM;
    return jc_pg_exec(c, "migrate: code changes",
        "insert into jiceng.code_changes (old_code, new_code, year, change) "
        "select o, n, nullif(y, 0), t from unnest($1::int[], $2::int[], $3::int[], $4::text[]) "
        "as r (o, n, y, t) on conflict (old_code) do update set new_code = excluded.new_code, "
        "year = excluded.year, change = excluded.change",
        4, v, NULL, NULL, err);
}

static jc_status_t sync_reference(PGconn *c, jc_error_t *err)
{
    if (jc_reference_init(err) != JC_OK)
        return JC_ERR_PARSE;
    jc_pgarray_t a[5] = {0};
    jc_status_t st = sync_prefectures(c, a, err);
    if (st == JC_OK)
        st = sync_counties(c, a, err);
    if (st == JC_OK)
        st = sync_changes(c, a, err);
    for (int i = 0; i < 5; i++)
        jc_pgarray_free(&a[i]);
    return st;
}

jc_status_t jc_migrate(PGconn *c, int *applied, jc_error_t *err)
{
    int count = 0;
    const jc_embedded_file_t *files[64];
    size_t n = jc_embedded_sql_count < 64 ? jc_embedded_sql_count : 64;
    for (size_t i = 0; i < n; i++)
        files[i] = &jc_embedded_sql[i];
    qsort(files, n, sizeof files[0], by_name);
    char lock[96];
    snprintf(lock, sizeof lock, "select pg_advisory_xact_lock(%d)", MIGRATION_LOCK_KEY);
    jc_status_t st = exec_script(c, "migrate: begin", "begin", err);
    if (st == JC_OK)
        st = exec_script(c, "migrate: lock", lock, err);
    if (st == JC_OK)
        st = exec_script(c, "migrate: quiet", "set local client_min_messages = warning", err);
    if (st == JC_OK)
        st = exec_script(c, "migrate: bookkeeping",
                         "create schema if not exists jiceng; "
                         "create table if not exists jiceng.schema_migrations ("
                         " version integer primary key, name text not null,"
                         " applied_at timestamptz not null default now())", err);
    if (st == JC_OK)
        st = jc_agg_drop_views(c, err);
    for (size_t i = 0; st == JC_OK && i < n; i++)
        st = apply_one(c, files[i], &count, err);
    if (st == JC_OK)
        st = jc_agg_create_views(c, err);
    if (st == JC_OK)
        st = sync_reference(c, err);
    if (st == JC_OK)
        st = exec_script(c, "migrate: commit", "commit", err);
    else
        jc_pg_rollback(c);
    if (applied != NULL)
        *applied = st == JC_OK ? count : 0;
    return st;
}
