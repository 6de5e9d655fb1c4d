/*
 * pgexec.c: the one way the library runs a PostgreSQL statement and checks its result.
 *
 * Every statement goes through jc_pg_exec (text parameters, optionally binary ones) or
 * jc_pg_check (a result already obtained): a result other than COMMAND_OK or TUPLES_OK becomes
 * JC_ERR_PG with "postgres: <what>: <server message>" (jc_error_set folds libpq's several lines,
 * DETAIL and HINT, onto one). On success the caller may keep the result (out) or not.
 */
#include "pgexec.h"

#include <stdlib.h>

jc_status_t jc_pg_check(PGconn *c, PGresult *r, const char *what, PGresult **out, long *rows,
                        jc_error_t *err)
{
    ExecStatusType s = PQresultStatus(r);
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
        jc_error_set(err, JC_ERR_PG, "postgres: %s: %s", what,
                     r != NULL ? PQresultErrorMessage(r) : PQerrorMessage(c));
        PQclear(r);
        return JC_ERR_PG;
    }
    if (rows != NULL)
        *rows = atol(PQcmdTuples(r));
    if (out != NULL)
        *out = r;
    else
        PQclear(r);
    return JC_OK;
}

jc_status_t jc_pg_exec(PGconn *c, const char *what, const char *sql, int n,
                       const char *const *values, PGresult **out, long *rows, jc_error_t *err)
{
    return jc_pg_check(c, PQexecParams(c, sql, n, NULL, values, NULL, NULL, 0), what, out, rows, err);
}

void jc_pg_rollback(PGconn *c)
{
    if (PQstatus(c) == CONNECTION_OK)
        PQclear(PQexec(c, "rollback"));
}
