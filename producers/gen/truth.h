/*
 * truth.h: the ground truth of a run, DIR/expected/<file>.csv, computed from the model's events.
 */
#ifndef GEN_TRUTH_H
#define GEN_TRUTH_H

#include "model.h"

/* Write the daily aggregates and distinct-entity files for the valid events ev[0..n) (every
 * version of every event: originals, corrections, withdrawals, county moves; no re-sends, no
 * malformed records) into dir (which exists). */
jc_status_t gen_truth_write(const gen_world_t *w, const gen_event_t *ev, size_t n,
                            const char *dir, jc_error_t *err);

/* Write dir/revisions.csv (every line of an event with more than one version, and what a
 * consumer makes of it) and dir/consumer_rejects.csv (the lines the aggregator rejects:
 * county moves) for the events ev[0..n), line_of[i] being ev[i]'s line in events.ndjson. */
jc_status_t gen_truth_write_revisions(const gen_world_t *w, const gen_event_t *ev, size_t n,
                                      const uint32_t *line_of, const char *dir,
                                      jc_error_t *err);

#endif
