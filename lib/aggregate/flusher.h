/*
 * flusher.h: the flush thread (issue 14, item 1): writes one batch at a time to PostgreSQL
 * (jc_sink_flush) on a connection of its own, while the aggregator's thread goes on consuming,
 * decoding and folding the next batch (see flusher.c and aggregator.c, "Overlapped flush").
 */
#ifndef JC_FLUSHER_H
#define JC_FLUSHER_H

#include <stdint.h>

#include "batch.h"
#include "jiceng/common.h"

typedef struct jc_flusher jc_flusher_t;

/* Start the thread; it connects (conninfo) at its first batch, and again after an error. */
jc_flusher_t *jc_flusher_start(const char *conninfo, jc_error_t *err);

/* Stop the thread (after the batch it is writing, if any: that transaction commits or rolls
 * back, never half) and free everything. NULL is fine. */
void jc_flusher_stop(jc_flusher_t *f);

/* Give the thread batch b to write. The flusher must be idle (no batch submitted whose result
 * was not taken). Everything b points to must stay unchanged until the result is taken. */
void jc_flusher_submit(jc_flusher_t *f, const jc_batch_t *b);

/* Wait up to timeout_ms (0: do not wait) for the submitted batch's result: 1 with *st (JC_OK:
 * committed, at *commit_ms, wall clock; else jc_sink_flush's status, err saying why: the
 * transaction was rolled back), after which the flusher is idle; 0 if it is still being
 * written. */
int jc_flusher_result(jc_flusher_t *f, int timeout_ms, jc_status_t *st, int64_t *commit_ms,
                      jc_error_t *err);

#endif
