/*
 * jiceng/redrive.h: re-driving rejected messages (issue 13, item 5), for `jiceng-aggregate
 * redrive`.
 *
 * Once the cause of a reject is fixed (a signing key registered, a county code added to the
 * reference data), its record can go through the aggregator again. jc_redrive_run selects the
 * rows of jiceng.rejects that were never re-driven (redriven_at is null, migration 008) with one
 * of the given statuses, optionally on one topic (its full name, prefix included) and rejected
 * in a time range, and re-publishes each record's exact key, headers (signature included) and
 * value to its topic with an idempotent acks=all producer (partitioner murmur2_random, as every
 * jiceng producer). Only after the broker acknowledged a record is its row marked re-driven
 * (redriven_at, and the new record's partition and offset), in the transaction that selected
 * it (SELECT ... FOR UPDATE SKIP LOCKED, in batches of JC_REDRIVE_BATCH rows). So:
 *   - a second run selects and publishes nothing already re-driven;
 *   - a crash between publishing and marking leaves that batch unmarked: a later run publishes
 *     it again, and the aggregator's dedup counts the event once (same event id and content);
 *   - a record that was not delivered stays unmarked, counted as failed, for a later run.
 * The re-published record is judged again by the aggregator, by the time the broker appends
 * it: it may be applied, a duplicate, or a new reject (then a new row).
 *
 * The Kafka identity must be allowed to write the event topics (the stack's steward principal,
 * JICENG_STEWARD_CONFIG); the PostgreSQL role must read jiceng.rejects and update its redriven_*
 * columns (jiceng_aggregate, migration 008). Nothing is printed: what happens goes to the log
 * callback (events redrive_batch, redrive_failed), the figures to the counts.
 */
#ifndef JICENG_REDRIVE_H
#define JICENG_REDRIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jiceng/common.h"
#include "jiceng/log.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Rows selected, locked, published and marked per transaction. */
#define JC_REDRIVE_BATCH 1000

/** The most statuses one run selects. */
#define JC_REDRIVE_MAX_STATUSES 32

/** What to re-drive, and how. */
typedef struct jc_redrive_config {
    const char *bootstrap;                 /**< Kafka bootstrap servers */
    const char *conninfo;                  /**< libpq conninfo (the aggregator's role) */
    const char *const *kafka_properties;   /**< NULL-terminated name, value pairs, applied after
                                                the defaults (those for consumers only skipped) */
    const jc_status_t *statuses;           /**< the statuses to select (at least one) */
    size_t nstatuses;
    const char *topic;                     /**< only this topic (full name); NULL: any */
    int64_t since_ms, until_ms;            /**< rejected_at in [since, until), epoch ms;
                                                INT64_MIN / INT64_MAX: open */
    int64_t limit;                         /**< at most this many rows; 0: no limit */
    bool dry_run;                          /**< select and count only: publish and mark nothing */
    jc_log_cb log;                         /**< may be NULL */
    void *log_opaque;
} jc_redrive_config_t;

/** Figures of one status (or of all). */
typedef struct jc_redrive_count {
    uint64_t selected;  /**< rows selected (with --dry-run: rows that would be re-driven) */
    uint64_t delivered; /**< acknowledged by the broker and marked re-driven */
    uint64_t failed;    /**< not delivered (or not marked): left for a later run */
} jc_redrive_count_t;

/** Parse a comma-separated list of statuses into out (max entries), *n their number. A status
 *  is its name as jiceng.rejects holds it ("JC_ERR_UNAUTHORIZED") or the part after JC_ERR_,
 *  in any case ("unauthorized"); a name given twice counts once. JC_ERR_INVALID_ARG naming the
 *  word for an unknown or empty name, or more than max. */
JC_API jc_status_t jc_redrive_statuses(const char *list, jc_status_t *out, size_t max, size_t *n,
                                       jc_error_t *err);

/** Re-drive what cfg selects (see above). by_status has cfg->nstatuses entries (the figures
 *  of cfg->statuses[i]); total gets the sums; both are zeroed first and hold what was done even
 *  when an error stops the run. JC_OK if the run went to its end (some records may have
 *  failed: see the counts); JC_ERR_INVALID_ARG for a bad configuration, JC_ERR_PG,
 *  JC_ERR_KAFKA or JC_ERR_NOMEM when the run could not go on (the batch in hand is then not
 *  marked). */
JC_API jc_status_t jc_redrive_run(const jc_redrive_config_t *cfg, jc_redrive_count_t *by_status,
                                  jc_redrive_count_t *total, jc_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
