/*
 * fold.h: one batch of events folded into per-key deltas for the aggregate tables.
 *
 * The batch keeps, per aggregate table of schemas/sql/001_core.sql, a map from the row's key
 * (county, local day, category) to the sums the batch adds, and per distinct table (cadres,
 * incidents, trainees by county and day) the set of keys it saw. A flush turns each map into
 * ONE upsert statement, so PostgreSQL's work follows the number of distinct keys per batch,
 * not the number of events.
 */
#ifndef JC_FOLD_H
#define JC_FOLD_H

#include <stdint.h>

#include "jiceng/event.h"
#include "keymap.h"

#define JC_FOLD_MAX_SUMS 10

/* An aggregate table: its key columns (county_code, day, then up to two enum dimensions),
 * and either sum columns or one distinct text id column. */
typedef struct jc_agg_table {
    const char *name;
    int ndims;
    const char *dim_cols[2];
    int nsums;
    const char *sum_cols[JC_FOLD_MAX_SUMS];
    const char *id_col; /* distinct tables: the id column; NULL for sum tables */
} jc_agg_table_t;

typedef enum {
    JC_AGG_VISITS,
    JC_AGG_VISIT_CADRES,
    JC_AGG_PETITIONS,
    JC_AGG_DISASTERS,
    JC_AGG_INCIDENTS,
    JC_AGG_TRAININGS,
    JC_AGG_TRAINEES,
    JC_AGG_COUNT
} jc_agg_id_t;

/* The key of every map: county, day (days since 1970-01-01, local), dims (enum indexes), and
 * for distinct tables the id, NUL-padded so keys compare bytewise. */
typedef struct jc_fold_key {
    int32_t county;
    int32_t day;
    int32_t dim[2];
    char id[JC_ID_MAX + 4];
} jc_fold_key_t;

typedef struct jc_fold {
    jc_keymap_t maps[JC_AGG_COUNT];
    int64_t newest_event_ms; /* the newest occurred_at folded (0 if none) */
    uint64_t events;
} jc_fold_t;

/* The table descriptions, indexed by jc_agg_id_t. */
extern const jc_agg_table_t jc_agg_tables[JC_AGG_COUNT];

/* The enum symbols of dimension d of table t (for writing rows). */
const char *jc_fold_dim_symbol(jc_agg_id_t t, int d, int32_t index);

void jc_fold_init(jc_fold_t *f);
void jc_fold_free(jc_fold_t *f);
void jc_fold_reset(jc_fold_t *f);

/* Fold one validated event. JC_ERR_NOMEM if a map cannot grow. */
jc_status_t jc_fold_event(jc_fold_t *f, const jc_event_t *ev);

#endif
