/*
 * pgsink.h: the aggregator's PostgreSQL side: reading a partition's stored offset and dedup
 * ledger on assignment, and flushing a batch in one transaction.
 */
#ifndef JC_PGSINK_H
#define JC_PGSINK_H

#include <libpq-fe.h>

#include "batch.h"

/* The stored next offset of (group, topic, partition) into *next; -1 if none is stored. */
jc_status_t jc_sink_load_offset(PGconn *c, const char *group, const char *topic, int32_t partition,
                                int64_t *next, jc_error_t *err);

/* Add the partition's ledger entries younger than retention_days to *seen. */
jc_status_t jc_sink_load_ledger(PGconn *c, const char *topic, int32_t partition, int retention_days,
                                jc_dedup_t *seen, jc_error_t *err);

/* Apply a batch in ONE transaction: compare-and-set of every partition's offset, the ledger
 * rows, one upsert per aggregate table, the rejects; commit. JC_ERR_FENCED (rolled back) if a
 * partition's stored offset is no longer what the batch started from; JC_ERR_PG on any other
 * database error (rolled back; the connection may be dead). */
jc_status_t jc_sink_flush(PGconn *c, const jc_batch_t *b, jc_error_t *err);

/* Delete ledger rows older than retention_days. */
jc_status_t jc_sink_expire_ledger(PGconn *c, int retention_days, jc_error_t *err);

#endif
