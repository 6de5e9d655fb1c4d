/*
 * refdata.h: the aggregator's reference data (issue 13, item 6): the counties, prefectures and
 * code changes of the database (migration 009), not of the build, decide a running aggregator's
 * verdicts. Not installed.
 *
 * At the start of a run they are read and installed (jiceng/reference.h); then, only between
 * batches and from the loop's thread, they are read again when asked (SIGHUP: the program calls
 * jc_aggregator_reload_reference, which only sets a flag) or when jiceng.reference_version has
 * moved (one single-row select every check_ms). A snapshot that differs from the installed one
 * is installed; an equal one is dropped (the version is remembered either way). A failed read
 * keeps the installed data, is logged and is tried again after REFDATA_RETRY_MS.
 *
 * Log events (jiceng/aggregator.h lists them): reference_loaded (info, at start),
 * reference_reloaded (info: why, the version, the counts, how many codes now resolve
 * differently, or "unchanged"), reference_reload_failed (warn).
 */
#ifndef JC_REFDATA_H
#define JC_REFDATA_H

#include <stdatomic.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "jiceng/log.h"
#include "jiceng/reference.h"

#define REFDATA_RETRY_MS 5000 /* after a failed read */

typedef struct jc_refdata {
    atomic_int requested; /* jc_refdata_request: from any thread or a signal handler */
    int check_ms;         /* between two version checks; < 0: never */
    int64_t version;      /* jiceng.reference_version of the last read; -1: none yet */
    int64_t checked_ms;   /* monotonic: the last version check */
    int64_t retry_ms;     /* monotonic: when to read again after a failure; 0: none due */
    jc_log_cb log;
    void *log_opaque;
} jc_refdata_t;

void jc_refdata_init(jc_refdata_t *rd, int check_ms, jc_log_cb log, void *log_opaque);

/* Ask for a read at the next point between batches; async-signal-safe (a lock-free store). */
void jc_refdata_request(jc_refdata_t *rd);

/* Is a read or a version check due (asked, a failed read to retry, check_ms passed)? */
int jc_refdata_due(jc_refdata_t *rd, int64_t now_ms);

/* Read and install the database's reference data (log reference_loaded). JC_ERR_PG if a
 * statement failed (the caller retries), JC_ERR_PARSE if the data is inconsistent. */
jc_status_t jc_refdata_start(jc_refdata_t *rd, PGconn *c, jc_error_t *err);

/* Between batches: read again if asked, if a failed read is due again, or if the version has
 * moved (checked at most every check_ms), on c (NULL: PostgreSQL is unreachable, a failure).
 * 1 if another snapshot was installed (*old: the one it replaced, still valid), 0 otherwise
 * (failures are logged). */
int jc_refdata_between_batches(jc_refdata_t *rd, PGconn *c, int64_t now_ms,
                               const jc_reference_t **old);

#endif
