/*
 * jiceng/migrate.h: the PostgreSQL schema, applied by the programs themselves.
 *
 * schemas/sql/NNN_name.sql are numbered migrations embedded in libjiceng at build time.
 * jc_migrate applies the ones a database lacks, in order, each exactly once, recorded in
 * jiceng.schema_migrations, and brings the reference tables (counties, prefectures, code
 * changes) in line with the built-in reference data. It runs in one transaction under an
 * advisory lock, so several consumers starting together apply each migration once.
 */
#ifndef JICENG_MIGRATE_H
#define JICENG_MIGRATE_H

#include <libpq-fe.h>

#include "jiceng/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Apply pending migrations and sync the reference tables on conn (which must not be inside a
 *  transaction). *applied (if not NULL) receives how many migrations this call applied. */
JC_API jc_status_t jc_migrate(PGconn *conn, int *applied, jc_error_t *err);

/** How many migrations are built in (the newest version number, as they are numbered 1..N). */
JC_API int jc_migrations_builtin(void);

#ifdef __cplusplus
}
#endif
#endif
