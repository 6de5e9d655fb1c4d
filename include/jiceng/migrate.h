/*
 * jiceng/migrate.h: the PostgreSQL schema: applying it (with the migration role, which owns
 * the schema) and checking it (with any role, before using it).
 *
 * schemas/sql/NNN_name.sql are numbered migrations embedded in libjiceng at build time.
 * jc_migrate applies the ones a database lacks, in order, each exactly once, recorded in
 * jiceng.schema_migrations, and brings the reference tables (counties, prefectures, code
 * changes) in line with the built-in reference data. It runs in one transaction under an
 * advisory lock, so several runs starting together apply each migration once. Programs that
 * use the schema do not migrate it: they check its version with jc_schema_require and refuse
 * an older one.
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

/** The newest migration applied to the database on conn into *version: 0 if none (no
 *  jiceng.schema_migrations table). JC_ERR_PG if it cannot be read. */
JC_API jc_status_t jc_schema_version(PGconn *conn, int *version, jc_error_t *err);

/** JC_OK if the database on conn has every built-in migration (a newer schema is accepted, so
 *  that a database can be migrated before its programs are upgraded); JC_ERR_SCHEMA_VERSION
 *  otherwise, with a message naming both versions; *version (if not NULL) receives the
 *  database's. */
JC_API jc_status_t jc_schema_require(PGconn *conn, int *version, jc_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
