/*
 * jiceng/aggregator.h: the aggregating consumer behind jiceng-aggregate.
 *
 * It subscribes to the four event topics in one consumer group (cooperative-sticky), and
 * keeps the aggregate tables of schemas/sql/ exactly in step with them:
 *   - on assignment it reads each partition's next offset from PostgreSQL (the truth; Kafka's
 *     committed offsets are updated too, for lag tools) and the partition's dedup ledger;
 *   - it decodes, validates and folds events into in-memory deltas for a batch bounded by
 *     count and time;
 *   - it flushes a batch in ONE transaction (offset compare-and-set, ledger, one upsert per
 *     table, rejects) and only then produces the batch's rejects to the dead-letter topic;
 *   - before partitions are revoked it flushes; when they are lost it drops the uncommitted
 *     batch and re-reads from PostgreSQL;
 *   - a PostgreSQL error rolls back, backs off, reconnects and retries the same batch: a batch
 *     is never skipped; a failed compare-and-set (fenced by a rebalance, or a commit that
 *     succeeded although its acknowledgement was lost) drops the batch and re-reads the
 *     partitions' offsets and ledgers.
 * Memory is bounded by the batch (events, distinct keys, rejects) and the dedup sets of the
 * assigned partitions (at most 32 bytes per id inside the retention window), not the backlog.
 */
#ifndef JICENG_AGGREGATOR_H
#define JICENG_AGGREGATOR_H

#include <signal.h>
#include <stdint.h>

#include "jiceng/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct jc_aggregator_config {
    const char *bootstrap;        /**< Kafka bootstrap servers (required) */
    const char *group_id;         /**< consumer group (default "jiceng-aggregate") */
    const char *conninfo;         /**< libpq conninfo or URI ("" uses PG* variables) */
    const char *topic_prefix;     /**< prepended to every topic name (default "") */
    int batch_max_events;         /**< flush after this many messages (default 50000) */
    int batch_max_ms;             /**< ... or this long after the batch's first message (250) */
    int ledger_retention_days;    /**< dedup window, by arrival (default 400) */
    int exit_when_caught_up;      /**< stop once every assigned partition is at its end and
                                       flushed (for the demo, tests and benchmarks) */
    int progress;                 /**< report progress on stderr about once a second */
    const char *const *kafka_properties; /**< NULL-terminated name, value pairs for librdkafka
                                              (consumer and dead-letter producer) */
} jc_aggregator_config_t;

typedef struct jc_aggregator_stats {
    uint64_t consumed;    /**< messages read from Kafka */
    uint64_t applied;     /**< events folded into committed batches */
    uint64_t duplicates;  /**< re-sent events skipped (already applied) */
    uint64_t rejected;    /**< messages kept in rejects (incl. conflicting duplicates) */
    uint64_t batches;     /**< committed flushes */
    uint64_t fenced;      /**< batches dropped by a failed compare-and-set */
    uint64_t pg_retries;  /**< flush attempts repeated after a PostgreSQL error */
    uint64_t dedup_ids;   /**< ids held in the dedup sets now */
    uint64_t dedup_bytes; /**< bytes those sets hold */
} jc_aggregator_stats_t;

typedef struct jc_aggregator jc_aggregator_t;

/** Connect to PostgreSQL (applying migrations), create the consumer and the dead-letter
 *  producer. NULL with err set on failure. */
JC_API jc_aggregator_t *jc_aggregator_new(const jc_aggregator_config_t *cfg, jc_error_t *err);

/** Consume until *stop becomes non-zero (e.g. from a SIGTERM handler) or, with
 *  exit_when_caught_up, until caught up; flush; leave the group. JC_OK on a clean stop. */
JC_API jc_status_t jc_aggregator_run(jc_aggregator_t *agg, volatile sig_atomic_t *stop,
                                     jc_error_t *err);

/** Counters so far. */
JC_API const jc_aggregator_stats_t *jc_aggregator_stats(const jc_aggregator_t *agg);

/** Close everything (NULL is fine). */
JC_API void jc_aggregator_free(jc_aggregator_t *agg);

#ifdef __cplusplus
}
#endif
#endif
