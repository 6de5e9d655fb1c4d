/*
 * jiceng/ingest.h: files of events (NDJSON or CSV) to Kafka, with nothing lost.
 *
 * jc_ingest_run reads every input with jiceng/reader.h, sends each record that parses through
 * jiceng/producer.h (which validates, encodes and produces it) and waits for every delivery
 * report. Nothing vanishes: each record that fails to parse or validate ("rejected"), or that
 * librdkafka could not deliver ("undelivered"), is appended to the rejects file as one NDJSON
 * object (a record whose county the producer holds no signing key for is rejected with status
 * JC_ERR_UNAUTHORIZED, reason "no signing key for county N"):
 *
 *   {"source": "visits.ndjson", "line": 7, "status": "JC_ERR_NEGATIVE_COUNT",
 *    "reason": "...", "record": "<the record exactly as read>"}
 *
 * ("record_hex" instead of "record" if the record is not valid UTF-8). To report an undelivered
 * record, its text is kept until its delivery report arrives, in a pool of reusable slots, so
 * memory is bounded by what librdkafka has in flight (queue.buffering.max.messages).
 */
#ifndef JICENG_INGEST_H
#define JICENG_INGEST_H

#include <stdbool.h>
#include <stdint.h>

#include "jiceng/reader.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct jc_ingest_counts {
    uint64_t read;        /**< records read */
    uint64_t valid;       /**< records that parsed and validated */
    uint64_t sent;        /**< records handed to librdkafka */
    uint64_t delivered;   /**< records the broker acknowledged */
    uint64_t rejected;    /**< records that failed to parse or validate */
    uint64_t undelivered; /**< records sent (or refused by librdkafka) but not delivered */
} jc_ingest_counts_t;

/** Called with the counts so far; they are valid during the call only. */
typedef void (*jc_ingest_progress_cb)(void *opaque, const jc_ingest_counts_t *counts);

typedef struct jc_ingest_opts {
    jc_format_t format;
    jc_event_type_t csv_type;   /**< the event type of CSV inputs */
    const char *const *inputs;  /**< paths; "-" is standard input */
    size_t ninputs;             /**< 0: standard input */
    const char *rejects_path;   /**< where rejected and undelivered records are appended
                                     (required) */
    const char *const *props;   /**< producer properties (jiceng/producer.h) */
    bool dry_run;               /**< parse and validate (and encode) only; no broker needed;
                                     with jiceng.signing.keys in props, a record whose county
                                     has no key is rejected too, as the producer would */
    jc_ingest_progress_cb on_progress; /**< called at most every JC_INGEST_PROGRESS_MS while
                                            records are read or awaited, and once at the end
                                            (in the calling thread); NULL: never */
    void *progress_opaque;      /**< passed to on_progress */
} jc_ingest_opts_t;

/** The shortest interval between two progress calls. */
#define JC_INGEST_PROGRESS_MS 250

/** Run the inputs through to Kafka (or only validate, with dry_run) and fill counts, also on
 *  failure. Returns JC_OK when every input was read to its end and every sent record has its
 *  delivery report, whatever was rejected or undelivered (see counts); JC_ERR_INVALID_ARG
 *  without inputs or a rejects file; JC_ERR_IO if an input or the rejects file cannot be
 *  opened, read or written, other codes if the producer cannot be created. Records already
 *  sent are waited for in every case. */
JC_API jc_status_t jc_ingest_run(const jc_ingest_opts_t *opts, jc_ingest_counts_t *counts,
                                 jc_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
