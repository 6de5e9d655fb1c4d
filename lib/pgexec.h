/*
 * pgexec.h: running a statement and checking its result, shared by every PostgreSQL user in
 * the library (migrations, the aggregator's sink, health checks, reports). Not installed.
 */
#ifndef JC_PGEXEC_H
#define JC_PGEXEC_H

#include <libpq-fe.h>

#include "jiceng/common.h"

/* Check r (which may be NULL): JC_OK if the statement succeeded, then *rows (if not NULL) holds
 * the affected row count and *out (if not NULL) receives r, which the caller clears; otherwise
 * r is cleared and JC_ERR_PG is set in err, naming what. */
jc_status_t jc_pg_check(PGconn *c, PGresult *r, const char *what, PGresult **out, long *rows,
                        jc_error_t *err);

/* PQexecParams with n text parameters, checked as jc_pg_check does. */
jc_status_t jc_pg_exec(PGconn *c, const char *what, const char *sql, int n,
                       const char *const *values, PGresult **out, long *rows, jc_error_t *err);

/* Roll back the open transaction, if the connection is still up (result ignored: the
 * transaction is void either way). */
void jc_pg_rollback(PGconn *c);

#endif
