/*
 * jiceng/generation.h: generations of the aggregates (issue 13, item 4).
 *
 * A generation is a PostgreSQL schema with every aggregate table (derived from the aggregate
 * description, jiceng/aggregates.h), its own consumer_progress, dedup_ledger and end_offsets;
 * the rejects (keyed by topic, partition and offset, so a rebuild adds none twice) and the
 * signing keys stay shared in schema jiceng. Generation 1 is schema jiceng
 * itself; generation N > 1 is schema jiceng_gen_N. jiceng.generations (migration 011) lists
 * them with their state (building, current, retired, dropped). The report views read the
 * current generation; an aggregator writes the generation it is configured with
 * (jc_aggregator_config_t.generation), as consumer group <group>-gen<N> for N > 1.
 *
 * jc_generation_create, _promote and _drop need the migration role (they create and drop
 * schemas and views); each runs in one transaction of its own under an exclusive lock on
 * jiceng.generations.
 */
#ifndef JICENG_GENERATION_H
#define JICENG_GENERATION_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "jiceng/buf.h"
#include "jiceng/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define JC_GENERATION_SCHEMA_MAX 32 /**< bytes for a generation's schema name, NUL included */

/** The schema of generation n into out: "jiceng" for 1 (or less), "jiceng_gen_<n>" above. */
JC_API void jc_generation_schema(int n, char *out, size_t size);

/** conninfo (a libpq conninfo or URI; NULL or "" for the PG* variables) with the option
 *  search_path=<generation n's schema> added to its options (those of conninfo, else
 *  $PGOPTIONS), as a keyword=value conninfo in
 *  *out (malloc'd: the caller frees it). The aggregator's statements name a generation's own
 *  tables unqualified, so every connection it opens writes generation n. JC_ERR_INVALID_ARG if
 *  conninfo does not parse, JC_ERR_NOMEM. */
JC_API jc_status_t jc_generation_conninfo(const char *conninfo, int n, char **out, jc_error_t *err);

/** Check that generation n exists and is not dropped (what an aggregator does at start):
 *  JC_ERR_INVALID_ARG saying so otherwise; *state (if not NULL, 16 bytes) receives its state. */
JC_API jc_status_t jc_generation_check(PGconn *c, int n, char *state, jc_error_t *err);

/** Make a new generation (state building): its schema, its aggregate tables derived from the
 *  description, its consumer_progress and dedup_ledger, grants to the aggregator's role. *n
 *  receives its number. */
JC_API jc_status_t jc_generation_create(PGconn *c, int *n, jc_error_t *err);

/** Make generation n (building or retired) current, in one transaction: refuse
 *  (JC_ERR_MISMATCH, naming the partitions behind) unless its consumed offsets reach, within
 *  max_lag messages per partition, the newest end offsets PostgreSQL knows (jiceng.end_offsets,
 *  refreshed by running aggregators, and the current generation's own progress); then
 *  re-create the report views over it, mark it current and the previous current one
 *  retired. */
JC_API jc_status_t jc_generation_promote(PGconn *c, int n, int64_t max_lag, jc_error_t *err);

/** Drop generation n: refused (JC_ERR_INVALID_ARG) for the current one or one already dropped.
 *  A schema jiceng_gen_N is dropped; generation 1's tables are emptied instead (migrations name
 *  them). Stop its aggregators first. */
JC_API jc_status_t jc_generation_drop(PGconn *c, int n, jc_error_t *err);

/** The generations as a text table (id, schema, state, messages consumed, created, promoted,
 *  dropped) into out (replaced). */
JC_API jc_status_t jc_generation_list(PGconn *c, jc_buf_t *out, jc_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
