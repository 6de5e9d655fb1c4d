/*
 * truth.h: the ground truth of a run, DIR/expected/<file>.csv, computed from the model's events.
 */
#ifndef GEN_TRUTH_H
#define GEN_TRUTH_H

#include "model.h"

/* Write the daily aggregates and distinct-entity files for the valid events ev[0..n) (no
 * re-sends, no malformed records) into dir (which exists). */
jc_status_t gen_truth_write(const gen_world_t *w, const gen_event_t *ev, size_t n,
                            const char *dir, jc_error_t *err);

#endif
