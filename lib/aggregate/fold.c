/*
 * fold.c: folding validated events into per-batch deltas (see fold.h).
 *
 * The fold knows no event type and no column: for each aggregate of the event's type (the
 * compiled description, plan.h) it takes the event's row -- key and per-column values, the
 * same computation the benchmark's baseline uses (jc_agg_event_row) -- and adds the values
 * to the map entry of the key (sum tables) or makes sure the key is there (distinct tables).
 */
#include "fold.h"

#include <stddef.h>
#include <string.h>

/* The bytes of a map's key: up to the id for sums, the whole key for distinct tables. */
static size_t key_size(const jc_aggregate_t *a)
{
    return a->kind == JC_AGG_DISTINCT ? sizeof(jc_fold_key_t) : offsetof(jc_fold_key_t, id);
}

void jc_fold_init(jc_fold_t *f)
{
    size_t n;
    const jc_aggregate_t *all = jc_aggregates(&n);
    memset(f, 0, sizeof *f);
    f->plans = jc_agg_plans(NULL);
    for (size_t t = 0; t < n; t++)
        jc_keymap_init(&f->maps[t], key_size(&all[t]), (size_t)all[t].ncolumns * sizeof(int64_t));
}

void jc_fold_free(jc_fold_t *f)
{
    size_t n;
    jc_aggregates(&n);
    for (size_t t = 0; t < n; t++)
        jc_keymap_free(&f->maps[t]);
}

void jc_fold_reset(jc_fold_t *f)
{
    size_t n;
    jc_aggregates(&n);
    for (size_t t = 0; t < n; t++)
        jc_keymap_reset(&f->maps[t]);
    f->newest_event_ms = 0;
    f->events = 0;
}

/* Add one row of aggregate p to map m. */
static jc_status_t fold_row(jc_keymap_t *m, const jc_agg_plan_t *p, const jc_agg_row_t *row)
{
    jc_fold_key_t k;
    int inserted;
    memset(&k, 0, sizeof k);
    k.county = row->county;
    k.day = row->day;
    memcpy(k.dim, row->dim, sizeof k.dim);
    if (row->id != NULL)
        memcpy(k.id, row->id, strnlen(row->id, JC_ID_MAX));
    int64_t *sums = jc_keymap_upsert(m, &k, &inserted);
    if (sums == NULL)
        return JC_ERR_NOMEM;
    for (int c = 0; c < p->agg->ncolumns; c++)
        sums[c] += row->value[c];
    return JC_OK;
}

jc_status_t jc_fold_event(jc_fold_t *f, const jc_event_t *ev)
{
    if (f->plans == NULL || (unsigned)ev->type >= JC_EVENT_TYPE_COUNT)
        return JC_ERR_INVALID_ARG;
    const jc_agg_plans_t *ps = f->plans;
    jc_agg_row_t row;
    for (int i = 0; i < ps->ntype[ev->type]; i++) {
        int a = ps->by_type[ev->type][i];
        jc_agg_plan_row(&ps->agg[a], ev, &row);
        jc_status_t st = fold_row(&f->maps[a], &ps->agg[a], &row);
        if (st != JC_OK)
            return st;
    }
    f->events++;
    if (ev->occurred_at > f->newest_event_ms)
        f->newest_event_ms = ev->occurred_at;
    return JC_OK;
}
