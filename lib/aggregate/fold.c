/*
 * fold.c: folding validated events into per-batch deltas (see fold.h).
 *
 * The fold knows no event type and no column: for each aggregate of the event's type (the
 * compiled description, plan.h) it takes the event's row -- key and per-column values, the
 * same computation the benchmark's baseline uses (jc_agg_event_row) -- and adds the values
 * to the map entry of the key (sum tables) or counts the key's event versions (distinct
 * tables: one int64 per key). A correction's subtraction reads the replaced version's rows back
 * from its ledger record (ledger.h) and folds them with the sign -1 through the same fold_row.
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
        jc_keymap_init(&f->maps[t], key_size(&all[t]),
                       (size_t)(all[t].kind == JC_AGG_DISTINCT ? 1 : all[t].ncolumns) * sizeof(int64_t));
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

/* Add one row of aggregate p to map m, times sign (+1 or -1). */
static jc_status_t fold_row(jc_keymap_t *m, const jc_agg_plan_t *p, const jc_agg_row_t *row, int64_t sign)
{
    jc_fold_key_t k;
    int inserted;
    if (p->agg->kind == JC_AGG_DISTINCT && row->id == NULL)
        return JC_OK; /* a withdrawn version: no row */
    memset(&k, 0, sizeof k);
    k.county = row->county;
    k.day = row->day;
    memcpy(k.dim, row->dim, sizeof k.dim);
    if (row->id != NULL)
        memcpy(k.id, row->id, strnlen(row->id, JC_ID_MAX));
    int64_t *sums = jc_keymap_upsert(m, &k, &inserted);
    if (sums == NULL)
        return JC_ERR_NOMEM;
    if (p->agg->kind == JC_AGG_DISTINCT)
        sums[0] += sign;
    for (int c = 0; c < p->agg->ncolumns; c++)
        sums[c] += sign * row->value[c];
    return JC_OK;
}

jc_status_t jc_fold_event(jc_fold_t *f, const jc_event_t *ev)
{
    return jc_fold_event_rec(f, ev, NULL);
}

jc_status_t jc_fold_subtract(jc_fold_t *f, jc_event_type_t type, const jc_version_t *v)
{
    if (f->plans == NULL || (unsigned)type >= JC_EVENT_TYPE_COUNT || !v->known)
        return JC_ERR_INVALID_ARG;
    const jc_agg_plans_t *ps = f->plans;
    jc_agg_row_t row;
    char id[JC_ID_MAX + 1];
    for (int pass = 0; pass < 2; pass++) { /* 0: the whole record decodes; 1: fold it */
        const uint8_t *p = v->rows;
        for (int i = 0; i < ps->ntype[type]; i++) {
            int a = ps->by_type[type][i];
            jc_status_t st = jc_record_next_row(ps->agg[a].agg, v, &p, &row, id);
            if (st == JC_OK && pass == 1)
                st = fold_row(&f->maps[a], &ps->agg[a], &row, -1);
            if (st != JC_OK)
                return st;
        }
        if (p != v->rows + v->rows_len)
            return JC_ERR_MALFORMED;
    }
    return JC_OK;
}

jc_status_t jc_fold_event_rec(jc_fold_t *f, const jc_event_t *ev, jc_buf_t *rec)
{
    if (f->plans == NULL || (unsigned)ev->type >= JC_EVENT_TYPE_COUNT)
        return JC_ERR_INVALID_ARG;
    const jc_agg_plans_t *ps = f->plans;
    jc_agg_row_t row;
    for (int i = 0; i < ps->ntype[ev->type]; i++) {
        int a = ps->by_type[ev->type][i];
        jc_agg_plan_row(&ps->agg[a], ev, &row);
        jc_status_t st = fold_row(&f->maps[a], &ps->agg[a], &row, 1);
        if (st == JC_OK && rec != NULL)
            st = jc_record_put_row(rec, ps->agg[a].agg, &row);
        if (st != JC_OK)
            return st;
    }
    f->events++;
    if (ev->occurred_at > f->newest_event_ms)
        f->newest_event_ms = ev->occurred_at;
    return JC_OK;
}
