/*
 * fold.h: one batch of events folded into per-key deltas for the aggregate tables.
 *
 * The batch keeps, per aggregate of the description (jiceng/aggregates.h), a map from the
 * row's key (county, local day, dimensions, and for a distinct table the id) to what the batch
 * adds: the sums of a sum table's columns, the net number of event versions in force for a
 * distinct table's key. A correction folds the replaced version's contribution (from its
 * ledger record, ledger.h) with the sign -1 and the new one's with +1, so deltas may be
 * negative.
 * A flush turns each map into ONE upsert statement, so PostgreSQL's work follows the number of
 * distinct keys per batch, not the number of events.
 */
#ifndef JC_FOLD_H
#define JC_FOLD_H

#include <stdint.h>

#include "jiceng/aggregates.h"
#include "keymap.h"
#include "ledger.h"
#include "plan.h"

/* The key of every map: county, day (days since 1970-01-01, local), dims (symbol indexes), and
 * for distinct tables the id, NUL-padded so keys compare bytewise. A sum table's map keys only
 * the part before id. */
typedef struct jc_fold_key {
    int32_t county;
    int32_t day;
    int32_t dim[JC_AGG_MAX_DIMS];
    char id[JC_ID_MAX + 4];
} jc_fold_key_t;

typedef struct jc_fold {
    const jc_agg_plans_t *plans; /* the compiled description; NULL if it does not compile */
    jc_keymap_t maps[JC_AGG_MAX_TABLES]; /* per aggregate, in jc_aggregates() order (the
                                            rest stay empty) */
    int64_t newest_event_ms;     /* the newest occurred_at folded (0 if none) */
    uint64_t events;
} jc_fold_t;

/* Set up an empty fold. If the aggregate description does not compile, every jc_fold_event
 * fails (jc_aggregates_check says why; jc_migrate fails on it first). */
void jc_fold_init(jc_fold_t *f);
void jc_fold_free(jc_fold_t *f);
void jc_fold_reset(jc_fold_t *f);

/* Fold one validated event. JC_ERR_NOMEM if a map cannot grow; JC_ERR_INVALID_ARG if the
 * event's type is unknown or the description does not compile. */
jc_status_t jc_fold_event(jc_fold_t *f, const jc_event_t *ev);

/* jc_fold_event, and if rec is not NULL append the event's rows to the record begun in rec
 * (jc_record_begin; ledger.h), so the ledger can subtract them later. */
jc_status_t jc_fold_event_rec(jc_fold_t *f, const jc_event_t *ev, jc_buf_t *rec);

/* Subtract the contribution of a version in force (a decoded ledger record of an event of type
 * type, known). JC_ERR_MALFORMED if its rows do not decode against the description. */
jc_status_t jc_fold_subtract(jc_fold_t *f, jc_event_type_t type, const jc_version_t *v);

#endif
