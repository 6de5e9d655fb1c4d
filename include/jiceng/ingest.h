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
 * ("record_hex" instead of "record" if the record is not valid UTF-8). A record longer than
 * JC_REJECT_RECORD_MAX bytes (a 50 MB line) is kept as its first JC_REJECT_RECORD_MAX bytes (cut
 * back to a whole UTF-8 character), followed by "record_bytes" (its whole length) and
 * "record_sha256" (the SHA-256 of all its bytes, lower-case hex); those two members appear only
 * on a cut record. Each line is written whole with one write(2); a write that fails is cut off
 * again, so the file holds whole lines only. To report an undelivered record, its text is kept
 * until its delivery report arrives, in a pool of reusable slots, so memory is bounded by what
 * librdkafka has in flight (queue.buffering.max.messages).
 *
 * Stopping. When *opts->stop becomes non-zero (a signal handler sets it; the library installs
 * none and prints nothing), reading stops before the next record, the records sent are given
 * up to stop_wait_ms to get their delivery reports, and what is still without one is purged
 * and written to the rejects file as undelivered ("... the run was stopped before its delivery
 * report arrived": it may still have reached the broker; re-sending it is safe, a duplicate is
 * counted once). counts->last_source and last_line say where reading stopped. If the rejects
 * file cannot be written (a full disk), reading stops the same way (the records in flight are
 * still waited for in full), and every rejected or undelivered record that could not be
 * written is counted in counts->unwritten and handed to on_unwritten, so that each record is
 * still accounted for: delivered, in the rejects file, unwritten (and said where the caller
 * shows it), or after the place where reading stopped.
 */
#ifndef JICENG_INGEST_H
#define JICENG_INGEST_H

#include <signal.h>
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
    uint64_t unwritten;   /**< rejected or undelivered records the rejects file could not take
                               (each was given to on_unwritten) */
    bool interrupted;     /**< *stop was set during the run */
    bool stopped;         /**< reading stopped early (*stop, or the rejects file failed): the
                               records after last_source:last_line were not read */
    const char *last_source; /**< the input of the last record read ("<stdin>" for "-"; one of
                                  the caller's input strings otherwise), NULL if none */
    long last_line;          /**< the line that record starts on, 0 if none */
} jc_ingest_counts_t;

/** Called with the counts so far; they are valid during the call only. */
typedef void (*jc_ingest_progress_cb)(void *opaque, const jc_ingest_counts_t *counts);

/** Called for a rejected or undelivered record that the rejects file could not take, with
 *  where it came from (source and the line it starts on), its status and the reason it was
 *  rejected or undelivered. */
typedef void (*jc_ingest_unwritten_cb)(void *opaque, const char *source, long line,
                                       jc_status_t status, const char *reason);

typedef struct jc_ingest_opts {
    jc_format_t format;
    jc_event_type_t csv_type;   /**< the event type of CSV inputs */
    const char *const *inputs;  /**< paths; "-" is standard input */
    size_t ninputs;             /**< 0: standard input */
    const char *rejects_path;   /**< where rejected and undelivered records are appended
                                     (required) */
    const char *const *props;   /**< producer properties (jiceng/producer.h); when every
                                     input is a regular file, linger.ms defaults to 50 (a
                                     stream keeps the producer's 5), unless props set it */
    bool dry_run;               /**< parse and validate (and encode) only; no broker needed;
                                     with jiceng.signing.keys in props, a record whose county
                                     has no key is rejected too, as the producer would */
    jc_ingest_progress_cb on_progress; /**< called at most every JC_INGEST_PROGRESS_MS while
                                            records are read or awaited, and once at the end
                                            (in the calling thread); NULL: never */
    void *progress_opaque;      /**< passed to on_progress */
    volatile sig_atomic_t *stop; /**< stop when it becomes non-zero (see above); NULL: never */
    int stop_wait_ms;           /**< after a stop, how long to wait for delivery reports;
                                     0: JC_INGEST_STOP_WAIT_MS */
    jc_ingest_unwritten_cb on_unwritten; /**< see above; NULL: counted only */
    void *unwritten_opaque;     /**< passed to on_unwritten */
} jc_ingest_opts_t;

/** The shortest interval between two progress calls. */
#define JC_INGEST_PROGRESS_MS 250

/** The default wait for delivery reports after a stop. */
#define JC_INGEST_STOP_WAIT_MS 10000

/** The longest record text written whole to the rejects file: 64 KiB. */
#define JC_REJECT_RECORD_MAX (64 * 1024)

/** Run the inputs through to Kafka (or only validate, with dry_run) and fill counts, also on
 *  failure. Returns JC_OK when every input was read to its end, or reading was stopped by
 *  *stop (counts->interrupted, counts->stopped), and every sent record has its delivery report
 *  or was purged after a stop, whatever was rejected or undelivered (see counts);
 *  JC_ERR_INVALID_ARG without inputs or a rejects file; JC_ERR_IO if an input or the rejects
 *  file cannot be opened, read or written (a rejects file that fails stops the run: see
 *  above), other codes if the producer cannot be created. Records already sent are waited for
 *  in every case (after a stop, up to stop_wait_ms). */
JC_API jc_status_t jc_ingest_run(const jc_ingest_opts_t *opts, jc_ingest_counts_t *counts,
                                 jc_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
