/*
 * plan.h: the aggregate description (jiceng/aggregates.h) compiled for the per-event fold:
 * every field name resolved to its place and kind in jc_event_t, every condition's symbol to
 * its index, so that folding an event reads memory and compares integers only. Not installed.
 */
#ifndef JC_AGG_PLAN_H
#define JC_AGG_PLAN_H

#include <stddef.h>

#include "jiceng/aggregates.h"
#include "jiceng/fields.h"

/* One sum column, compiled. */
typedef struct jc_agg_col_plan {
    jc_agg_op_t op;
    jc_field_kind_t kind;  /* the source field's kind */
    size_t offset;         /* the source field's offset in jc_event_t */
    int64_t arg;
    bool when;             /* a condition applies: */
    size_t when_offset;    /*   the enum field's offset */
    int32_t when_index;    /*   the symbol index it must hold */
} jc_agg_col_plan_t;

/* One aggregate, compiled. */
typedef struct jc_agg_plan {
    const jc_aggregate_t *agg;
    const jc_field_t *dim[JC_AGG_MAX_DIMS];
    size_t id_offset;      /* distinct: the id field's offset (a NUL-terminated string) */
    jc_agg_col_plan_t col[JC_AGG_MAX_COLUMNS];
} jc_agg_plan_t;

/* The whole description, compiled: the plans in description order, and per event type the
 * indexes of its aggregates. */
typedef struct jc_agg_plans {
    jc_agg_plan_t agg[JC_AGG_MAX_TABLES];
    int ntype[JC_EVENT_TYPE_COUNT];
    int by_type[JC_EVENT_TYPE_COUNT][JC_AGG_MAX_TABLES];
} jc_agg_plans_t;

/* Compile one aggregate a into p; JC_ERR_INVALID_ARG naming what is wrong. */
jc_status_t jc_agg_compile(const jc_aggregate_t *a, jc_agg_plan_t *p, jc_error_t *err);

/* The description of jc_aggregates(), compiled on first use (thread-safe); NULL with err set
 * if it does not compile. */
const jc_agg_plans_t *jc_agg_plans(jc_error_t *err);

/* The row ev (of p's event type) contributes to p's aggregate. */
void jc_agg_plan_row(const jc_agg_plan_t *p, const jc_event_t *ev, jc_agg_row_t *row);

/* True if s is a plain SQL identifier ([a-z_][a-z0-9_]*), safe to splice into SQL text. */
bool jc_agg_identifier(const char *s);

#endif
