/*
 * jiceng/aggregator.h: the aggregating consumer behind jiceng-aggregate.
 *
 * It subscribes to the four event topics in one consumer group (cooperative-sticky), and
 * keeps the aggregate tables of schemas/sql/ exactly in step with them:
 *   - on assignment it reads each partition's next offset from PostgreSQL (the truth; Kafka's
 *     committed offsets are updated too, for lag tools) and the partition's dedup ledger;
 *   - it checks each record in a fixed order, the first failure deciding the reject status:
 *     frame, signature (against the signing keys of jiceng.signing_keys, judged by the
 *     record's timestamp), decode, county (the event's is the signing key's), topic, key,
 *     validation, dedup (docs/signing.md, "Order of checks"); and folds the events that pass
 *     into in-memory deltas for a batch bounded by count and time;
 *   - it flushes a batch in ONE transaction (offset compare-and-set, ledger, one upsert per
 *     table, rejects with their records' key, value and headers) and only then produces the
 *     batch's rejects to the dead-letter topic (original headers, then jiceng.* ones: source
 *     topic, partition and offset, status, reason, and the length and SHA-256 of the record's
 *     key and value). jiceng.rejects is the record of truth; a copy is still either delivered
 *     (cut to fit the topic if it is too large: its length header then says how long the whole
 *     was) or counted as failed (dead_letter_failed), never dropped unsaid. Retriable delivery
 *     errors are retried by librdkafka within message.timeout.ms (30 s by default here), and
 *     the copy is produced again up to 3 times in all; at the end of a run the copies still in
 *     flight are waited for, up to message.timeout.ms, and then counted as failed;
 *   - a closed batch is written by a flush thread on a PostgreSQL connection of its own while
 *     the next batch is consumed (at most one at a time, committed in order; a second
 *     connection per instance);
 *   - before partitions are revoked it flushes; when they are lost it drops the uncommitted
 *     batch and re-reads from PostgreSQL;
 *   - PostgreSQL is first reached by jc_aggregator_run, which waits for it (connection, schema
 *     check, reference data, signing keys) with the same backoff as below, until the stop
 *     flag, or pg_start_wait_ms if set; the reference data (counties, code changes) is read
 *     again between batches on jc_aggregator_reload_reference or when its version moved;
 *   - a PostgreSQL error rolls back, backs off, reconnects and retries the same batch: a batch
 *     is never skipped; a failed compare-and-set (fenced by a rebalance, or a commit that
 *     succeeded although its acknowledgement was lost) drops the batch and re-reads the
 *     partitions' offsets and ledgers.
 * Memory is bounded by the batch (events, distinct keys, rejects) and the dedup sets of the
 * assigned partitions (the ids inside the retention window, each with its version record:
 * about 55-85 bytes per id), not the backlog.
 *
 * It prints nothing. What happens is reported through the configuration's log callback
 * (jiceng/log.h), with these event keys:
 *   pg_retry             warn   PostgreSQL failed (or is not there yet at start: the message
 *                               begins "at start:"); retried after a pause
 *   pg_ready             info   PostgreSQL answered at start after failing at first
 *   batch_dropped        warn   a flush was fenced; the batch is dropped and read again
 *   dead_letter_failed   error  a reject's copy never reached the dead-letter topic (the reject
 *                               itself is in jiceng.rejects): the record, the reason
 *   dead_letter_retry    warn   a copy failed in a way that may pass (timeout, transport,
 *                               unknown topic); it is produced again
 *   dead_letter_cut      info   a copy was delivered cut to fit the dead-letter topic
 *   ledger_expiry_failed warn   the hourly expiry of old dedup ledger entries was skipped
 *   dedup_trimmed        info   the hourly trim dropped ids older than the dedup window from
 *                               the partitions' sets in memory (how many)
 *   dedup_trim_failed    warn   a partition's set could not be compacted (no memory); it stays
 *                               as it is until the next hour
 *   generation_retired   warn   at start: the configured generation is retired, the reports read
 *                               another one (jiceng/generation.h)
 *   signing_keys_read    debug  the signing keys were read (how many, and up to which record
 *                               time they hold)
 *   signing_keys_skipped warn   keys no keyring accepts were left out (said when their number
 *                               changes)
 *   signing_keys_behind  warn   a record is timestamped past what keys just read are known to
 *                               hold: the broker's clock is ahead of PostgreSQL's (once a
 *                               minute at most)
 *   kafka_error          warn   the consumer reported an error (librdkafka keeps retrying)
 *   kafka_log            any    a log line of librdkafka itself ("FACILITY: text"), of the
 *                               consumer or the dead-letter producer
 *   partitions_assigned, partitions_revoked, partitions_lost   info   a rebalance: how many
 *                               partitions changed (each named), how many are held now
 *   rejects              warn   after a commit, the batch's rejects: "N reject(s) in batch:
 *                               STATUS=count,...; first: TOPIC [P] @OFFSET (STATUS), ..."
 *   reject               debug  after a commit, one per reject: TOPIC [P] @OFFSET STATUS: reason
 *   reference_loaded     info   at start: the reference data read from PostgreSQL (version,
 *                               counts, how many codes resolve unlike the built-in data)
 *   reference_reloaded   info   between batches, asked or at a new reference version: read
 *                               again (why, version, counts) and installed, or unchanged
 *   reference_reload_failed warn  that read failed; the installed data stays, retried in 5 s
 * and its counters through a periodic hook (on_stats) that receives a copy of them. Both
 * callbacks run only in the threads that call jc_aggregator_new, jc_aggregator_run and
 * jc_aggregator_free (librdkafka's log lines are queued and served there).
 */
#ifndef JICENG_AGGREGATOR_H
#define JICENG_AGGREGATOR_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "jiceng/common.h"
#include "jiceng/event.h"
#include "jiceng/log.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- metrics types (issue 12) ---- */
#define JC_HISTOGRAM_MAX 16   /**< upper bounds a histogram may have */
#define JC_STATS_COUNTIES 128 /**< county slots in the stats (the reference has 88) */

/** A histogram: counts[i] observations <= bounds[i] and > bounds[i-1]; counts[nbounds] those
 *  above the last bound. bounds points to static data (kept valid by copies). */
typedef struct jc_histogram {
    const double *bounds;
    size_t nbounds;
    uint64_t counts[JC_HISTOGRAM_MAX + 1];
    uint64_t count;
    double sum;
} jc_histogram_t;

/** The librdkafka properties (NULL-terminated name, value pairs) that bound the aggregator's
 *  prefetch by bytes; the consumer sets them before the caller's kafka_properties, which may
 *  override them. For tools that must consume as the aggregator does (bench-replay). */
JC_API const char *const *jc_aggregator_prefetch_properties(void);

/** Count v into h. */
JC_API void jc_histogram_observe(jc_histogram_t *h, double v);

#define JC_LATENCY_EXACT_MS 1024 /**< below this a latency has its own 1 ms bucket */
#define JC_LATENCY_STEP_MS 64    /**< above it, buckets are this wide */
#define JC_LATENCY_BUCKETS 2048  /**< so the last one begins at 66,560 ms and takes the rest */

/** Latencies in milliseconds, fine enough for exact percentiles where they matter (1 ms up to
 *  1,024 ms, 64 ms above) and the exact maximum. */
typedef struct jc_latency {
    uint64_t counts[JC_LATENCY_BUCKETS];
    uint64_t count;
    int64_t max_ms;
    double sum_ms;
} jc_latency_t;

/** Count a latency of ms milliseconds (a negative one counts as 0: clocks of one host). */
JC_API void jc_latency_observe(jc_latency_t *l, int64_t ms);

/** The q-quantile (0 < q <= 1) in ms: the least bucket bound with at least q of the count at
 *  or below it (exact below JC_LATENCY_EXACT_MS; the maximum itself if that is smaller);
 *  -1 when nothing was counted. */
JC_API int64_t jc_latency_quantile(const jc_latency_t *l, double q);

/** One assigned partition's lag: the high watermark the client last saw minus the offset
 *  committed to PostgreSQL. */
typedef struct jc_partition_lag {
    const char *topic;
    int32_t partition;
    int64_t lag;
} jc_partition_lag_t;

/** Counters since jc_aggregator_new. */
typedef struct jc_aggregator_stats {
    uint64_t consumed;    /**< messages read from Kafka */
    uint64_t applied;     /**< events folded into committed batches */
    uint64_t duplicates;  /**< re-sent events skipped (already applied) */
    uint64_t rejected;    /**< messages kept in rejects (incl. conflicting duplicates) */
    uint64_t batches;     /**< committed flushes */
    uint64_t fenced;      /**< batches dropped by a failed compare-and-set */
    uint64_t pg_retries;  /**< flush attempts repeated after a PostgreSQL error */
    uint64_t dedup_ids;   /**< ids held in the dedup sets (as of the last snapshot) */
    uint64_t dedup_bytes; /**< bytes those sets hold (as of the last snapshot) */
    uint64_t partitions;  /**< partitions assigned now */
    uint64_t rebalances;  /**< assignment changes: partitions assigned, revoked or lost */
    int64_t last_commit_ms; /**< when the last batch committed (UTC epoch ms); 0: none yet */
    uint64_t key_loads;   /**< times the signing keys were read from PostgreSQL */
    uint64_t dead_letters;        /**< rejects' copies delivered to the dead-letter topic */
    uint64_t dead_letters_cut;    /**< ... of them cut to fit the topic */
    uint64_t dead_letter_retries; /**< copies produced again after a retriable failure */
    uint64_t dead_letter_failed;  /**< copies that never reached the topic (their rejects are
                                       in jiceng.rejects); a program should say so in its exit
                                       status */
    /* ---- metrics (issue 12, jiceng/metrics.h renders them): the counters below move only
     * when a batch commits, so a dropped or fenced batch never counts and the applied ones
     * equal what the aggregate tables hold. Indexed by event type (the topic's type). ---- */
    const char *topics[JC_EVENT_TYPE_COUNT];               /**< the topic names (with prefix) */
    uint64_t consumed_by_type[JC_EVENT_TYPE_COUNT];        /**< messages of committed batches */
    uint64_t applied_by_type[JC_EVENT_TYPE_COUNT];         /**< events applied */
    uint64_t duplicates_by_type[JC_EVENT_TYPE_COUNT];      /**< re-sends skipped */
    uint64_t corrected_by_type[JC_EVENT_TYPE_COUNT];       /**< corrections applied (issue 13) */
    uint64_t withdrawn_by_type[JC_EVENT_TYPE_COUNT];       /**< withdrawals applied */
    uint64_t rejected_by[JC_EVENT_TYPE_COUNT][JC_STATUS_COUNT_]; /**< rejects by topic, status */
    jc_histogram_t flush_seconds;  /**< time from a flush's start to its commit (retries too) */
    jc_histogram_t batch_events;   /**< messages per committed batch */
    /* freshness (issue 14, item 3): per committed message, the time from its record timestamp
     * to the commit that made it visible in PostgreSQL (this host's clock on both ends when
     * the producer runs here; a producer's clock ahead of ours counts as 0) */
    jc_latency_t freshness_ms; /**< percentiles (bench/freshness.sh) and, at fixed bounds,
                                    the metrics' histogram (lib/metrics.c) */
    int64_t newest_record_ms;      /**< record timestamp of the newest applied event; 0: none */
    int64_t county_newest_ms[JC_STATS_COUNTIES]; /**< newest applied occurred_at per county, by
                                                      index in jc_county_at order; 0: none */
    const jc_partition_lag_t *lag; /**< each assigned partition's lag at the snapshot (valid
                                        during the on_stats call only) */
    size_t nlag;
    int pg_ok;      /**< the last PostgreSQL contact succeeded: the start, a commit, or the
                         probe (select 1) run every 5 s while nothing commits; a retry clears it.
                         While retries wait, on_stats is still called once subscribed */
    int subscribed; /**< in the group: subscribed (holding partitions or waiting for them) */
} jc_aggregator_stats_t;

/** Called with a copy of the counters; the copy is valid during the call only. */
typedef void (*jc_aggregator_stats_cb)(void *opaque, const jc_aggregator_stats_t *snapshot);

typedef struct jc_aggregator_config {
    const char *bootstrap;        /**< Kafka bootstrap servers (required) */
    const char *group_id;         /**< consumer group (default JC_AGGREGATOR_GROUP) */
    const char *conninfo;         /**< libpq conninfo or URI ("" uses PG* variables) of a role
                                       that reads jiceng.signing_keys and writes the
                                       aggregates, progress, ledger and rejects */
    const char *topic_prefix;     /**< prepended to every topic name (default "") */
    int batch_max_events;         /**< flush after this many messages (default 50000) */
    int batch_max_ms;             /**< ... or this long after the batch's first message (250) */
    int ledger_retention_days;    /**< dedup window, by arrival (default 400) */
    int exit_when_caught_up;      /**< stop once every assigned partition is at its end and
                                       flushed (for the demo, tests and benchmarks) */
    const char *const *kafka_properties; /**< NULL-terminated name, value pairs for librdkafka:
                                              the consumer takes those that librdkafka does not
                                              mark as producers' only, the dead-letter producer
                                              those it does not mark as consumers' only */
    int pg_start_wait_ms;         /**< at the start of a run, give up waiting for PostgreSQL
                                       after this long (0: wait until stopped) */
    jc_log_cb log;                /**< what happens (events below); NULL: nothing is reported */
    void *log_opaque;             /**< passed to log */
    jc_aggregator_stats_cb on_stats; /**< called about every stats_interval_ms while running,
                                          and once when jc_aggregator_run ends; may be NULL */
    void *stats_opaque;           /**< passed to on_stats */
    int stats_interval_ms;        /**< default 1000 */
    int end_offsets_interval_ms;  /**< refresh the start and end offsets of every partition of
                                       the group's topics in jiceng.end_offsets this often, from
                                       a thread of its own, for the lag read from PostgreSQL
                                       (default 5000; log events end_offsets_failed warn,
                                       end_offsets_recovered info, end_offsets_refreshed debug) */
    int generation;               /**< generations (issue 13, item 4; jiceng/generation.h): the
                                       generation it writes (0 or 1: generation 1, schema jiceng;
                                       N > 1: schema jiceng_gen_N, as group <group_id>-gen<N>);
                                       it must exist and not be dropped */
    /* reference data (issue 13, item 6): read from PostgreSQL at start and between batches */
    int reference_check_ms;       /**< read jiceng.reference_version this often (between
                                       batches) and reload the reference data when it moved
                                       (default 10000; negative: never, only on
                                       jc_aggregator_reload_reference) */
} jc_aggregator_config_t;

/** The consumer group when the configuration names none. */
#define JC_AGGREGATOR_GROUP "jiceng-aggregate"

typedef struct jc_aggregator jc_aggregator_t;

/** Create the consumer and the dead-letter producer (nothing is connected yet). NULL with err
 *  set on failure. */
JC_API jc_aggregator_t *jc_aggregator_new(const jc_aggregator_config_t *cfg, jc_error_t *err);

/** Wait for PostgreSQL (retrying with backoff until *stop or pg_start_wait_ms: JC_ERR_PG),
 *  check that its schema has every migration this library has (JC_ERR_SCHEMA_VERSION
 *  otherwise: the aggregator does not migrate; see jiceng/migrate.h), read and install the
 *  reference data (jiceng/reference.h; JC_ERR_PARSE if it is inconsistent) and the signing
 *  keys; consume until *stop becomes non-zero (e.g. from a SIGTERM handler) or, with
 *  exit_when_caught_up, until caught up; flush; leave the group; wait for the dead-letter
 *  copies in flight. JC_OK on a clean stop (even if some dead-letter copies failed: see
 *  dead_letter_failed in the stats). */
JC_API jc_status_t jc_aggregator_run(jc_aggregator_t *agg, volatile sig_atomic_t *stop,
                                     jc_error_t *err);

/** The counters so far: the ones the loop counts are current, the dedup figures are those of
 *  the last snapshot (taken for each on_stats call and at the end of jc_aggregator_run, while
 *  the partitions are still held). Valid until the next call into the aggregator; read it from
 *  the thread that runs it, or after jc_aggregator_run has returned. */
JC_API const jc_aggregator_stats_t *jc_aggregator_stats(const jc_aggregator_t *agg);

/** Close everything (NULL is fine). */
JC_API void jc_aggregator_free(jc_aggregator_t *agg);

/** Ask a running aggregator to read the reference data (counties, prefectures, code changes)
 *  from PostgreSQL again, between two batches (issue 13, item 6; jiceng/reference.h). It only
 *  sets a flag, so any thread or a signal handler (SIGHUP) may call it. */
JC_API void jc_aggregator_reload_reference(jc_aggregator_t *agg);

#ifdef __cplusplus
}
#endif
#endif
