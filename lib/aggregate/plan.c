/*
 * plan.c: compiling the aggregate description (aggregates.c) against the field table
 * (lib/fields.c), and one event's row of an aggregate (see plan.h, jiceng/aggregates.h).
 *
 * Compiling checks every name the description uses -- fields exist in the event type with a
 * kind the operation can read, conditions name an enum symbol, SQL names are plain
 * identifiers short enough for PostgreSQL (which would otherwise truncate them silently) --
 * and keeps each field's offset and kind. The description is compiled once (pthread_once);
 * an error is kept and returned to every caller, so a wrong row fails loudly at start-up
 * (jc_migrate, the fold's first use), not per event and not silently. The per-event work
 * (jc_agg_plan_row) then reads the event at fixed offsets and compares integers. A withdrawn
 * event (issue 13) adds only its JC_AGG_WITHDRAWN columns and no distinct row (its row's id is
 * NULL); JC_AGG_CORRECTED counts a version with revision > 0 that is not withdrawn.
 */
#include "plan.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "jiceng/jtime.h"

#define PG_NAME_MAX 63        /* PostgreSQL identifiers: NAMEDATALEN - 1 bytes */
#define VIEW_NAME_EXTRA 24    /* "report_" + stem + "_prefecture_daily" */

bool jc_agg_identifier(const char *s)
{
    if (s == NULL || *s == '\0' || strlen(s) > PG_NAME_MAX || (*s >= '0' && *s <= '9'))
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return false;
    return true;
}

/* Set err to "aggregate TABLE[, column COL]: <message>". */
static jc_status_t bad(jc_error_t *err, const jc_aggregate_t *a, const jc_agg_column_t *c,
                       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static jc_status_t bad(jc_error_t *err, const jc_aggregate_t *a, const jc_agg_column_t *c,
                       const char *fmt, ...)
{
    char what[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return jc_error_set(err, JC_ERR_INVALID_ARG, "aggregate %s%s%s: %s", a->table ? a->table : "(unnamed)",
                        c ? ", column " : "", c && c->name ? c->name : "", what);
}

static const char *type_name(jc_event_type_t t)
{
    return jc_event_type_name(t) ? jc_event_type_name(t) : "?";
}

/* The field called name of a's event type with one of the kinds in mask (1 << kind). */
static jc_status_t find_field(const jc_aggregate_t *a, const jc_agg_column_t *c, const char *role,
                              const char *name, unsigned mask, const jc_field_t **out, jc_error_t *err)
{
    const jc_field_t *f = name ? jc_event_field(a->type, name) : NULL;
    if (f == NULL)
        return bad(err, a, c, "%s '%s' is not a field of %s", role, name ? name : "(none)",
                   type_name(a->type));
    if (!(mask & (1u << f->kind)))
        return bad(err, a, c, "%s '%s' has a kind (%d) this use cannot read", role, name, (int)f->kind);
    *out = f;
    return JC_OK;
}

#define KIND(k) (1u << (k))

/* The kinds each operation can read its value from. */
static unsigned op_kinds(jc_agg_op_t op)
{
    switch (op) {
    case JC_AGG_ONE:
    case JC_AGG_CORRECTED:
    case JC_AGG_WITHDRAWN: return 0;
    case JC_AGG_VALUE: return KIND(JC_FIELD_COUNT) | KIND(JC_FIELD_BOOL);
    case JC_AGG_PRESENT: return KIND(JC_FIELD_OPT_BOOL) | KIND(JC_FIELD_OPT_TIMESTAMP);
    case JC_AGG_TRUE: return KIND(JC_FIELD_BOOL) | KIND(JC_FIELD_OPT_BOOL);
    case JC_AGG_SECONDS_SINCE:
    case JC_AGG_WITHIN: return KIND(JC_FIELD_TIMESTAMP) | KIND(JC_FIELD_OPT_TIMESTAMP);
    }
    return 0;
}

static jc_status_t compile_condition(const jc_aggregate_t *a, const jc_agg_column_t *c,
                                     jc_agg_col_plan_t *p, jc_error_t *err)
{
    const jc_field_t *f;
    if ((c->when_field == NULL) != (c->when_symbol == NULL))
        return bad(err, a, c, "a condition needs both when_field and when_symbol");
    if (c->when_field == NULL)
        return JC_OK;
    if (find_field(a, c, "condition field", c->when_field, KIND(JC_FIELD_ENUM), &f, err) != JC_OK)
        return JC_ERR_INVALID_ARG;
    int index = jc_field_symbol_index(f, c->when_symbol);
    if (index < 0)
        return bad(err, a, c, "'%s' is not a symbol of %s", c->when_symbol, c->when_field);
    p->when = true;
    p->when_offset = f->offset;
    p->when_index = index;
    return JC_OK;
}

static jc_status_t compile_column(const jc_aggregate_t *a, const jc_agg_column_t *c,
                                  jc_agg_col_plan_t *p, jc_error_t *err)
{
    memset(p, 0, sizeof *p);
    if (!jc_agg_identifier(c->name))
        return bad(err, a, c, "the column name is not a plain SQL identifier");
    if (c->zh == NULL || c->en == NULL)
        return bad(err, a, c, "the column needs both report labels (zh, en)");
    if ((unsigned)c->op > JC_AGG_WITHDRAWN)
        return bad(err, a, c, "unknown operation %d", (int)c->op);
    if (c->arg != 0 && c->op != JC_AGG_WITHIN)
        return bad(err, a, c, "arg is only for JC_AGG_WITHIN");
    if (c->op == JC_AGG_WITHIN && c->arg < 0)
        return bad(err, a, c, "a negative bound");
    p->op = c->op;
    p->arg = c->arg;
    if (op_kinds(c->op) == 0) { /* JC_AGG_ONE, JC_AGG_CORRECTED, JC_AGG_WITHDRAWN */
        if (c->field != NULL)
            return bad(err, a, c, "operation %d takes no field (it has '%s')", (int)c->op, c->field);
    } else {
        const jc_field_t *f;
        if (find_field(a, c, "field", c->field, op_kinds(c->op), &f, err) != JC_OK)
            return JC_ERR_INVALID_ARG;
        p->kind = f->kind;
        p->offset = f->offset;
    }
    return compile_condition(a, c, p, err);
}

/* The key columns' names: county_code, day, the dimensions, the id. */
static bool is_key_column(const jc_aggregate_t *a, const char *name)
{
    if (strcmp(name, "county_code") == 0 || strcmp(name, "day") == 0)
        return true;
    for (int d = 0; d < a->ndims; d++)
        if (strcmp(a->dims[d], name) == 0)
            return true;
    return a->id != NULL && strcmp(a->id, name) == 0;
}

static jc_status_t compile_columns(const jc_aggregate_t *a, jc_agg_plan_t *p, jc_error_t *err)
{
    if (a->ncolumns < 1 || a->ncolumns > JC_AGG_MAX_COLUMNS || a->columns == NULL)
        return bad(err, a, NULL, "a sums table needs 1 to %d columns (has %d)", JC_AGG_MAX_COLUMNS,
                   a->ncolumns);
    for (int i = 0; i < a->ncolumns; i++) {
        const jc_agg_column_t *c = &a->columns[i];
        if (compile_column(a, c, &p->col[i], err) != JC_OK)
            return JC_ERR_INVALID_ARG;
        if (is_key_column(a, c->name))
            return bad(err, a, c, "the name of a key column");
        for (int k = 0; k < i; k++)
            if (strcmp(a->columns[k].name, c->name) == 0)
                return bad(err, a, c, "described twice");
    }
    return JC_OK;
}

static jc_status_t compile_key(const jc_aggregate_t *a, jc_agg_plan_t *p, jc_error_t *err)
{
    if (a->ndims < 0 || a->ndims > JC_AGG_MAX_DIMS)
        return bad(err, a, NULL, "%d dimensions (at most %d)", a->ndims, JC_AGG_MAX_DIMS);
    for (int d = 0; d < a->ndims; d++)
        if (find_field(a, NULL, "dimension", a->dims[d], KIND(JC_FIELD_ENUM), &p->dim[d], err) != JC_OK)
            return JC_ERR_INVALID_ARG;
    if (a->kind == JC_AGG_SUMS)
        return a->id == NULL ? JC_OK : bad(err, a, NULL, "a sums table has no id");
    const jc_field_t *id;
    if (find_field(a, NULL, "id", a->id, KIND(JC_FIELD_STRING), &id, err) != JC_OK)
        return JC_ERR_INVALID_ARG;
    if (id->size > JC_ID_MAX + 1)
        return bad(err, a, NULL, "id '%s' may be longer than JC_ID_MAX bytes", a->id);
    p->id_offset = id->offset;
    return JC_OK;
}

static jc_status_t compile_names(const jc_aggregate_t *a, jc_error_t *err)
{
    if (!jc_agg_identifier(a->table) || !jc_agg_identifier(a->stem) || !jc_agg_identifier(a->key))
        return bad(err, a, NULL, "table, stem and key must be plain SQL identifiers");
    if (strlen(a->stem) + VIEW_NAME_EXTRA > PG_NAME_MAX)
        return bad(err, a, NULL, "stem '%s' is too long for its view names", a->stem);
    if (a->zh == NULL || a->en == NULL)
        return bad(err, a, NULL, "the aggregate needs both report labels (zh, en)");
    if ((unsigned)a->type >= JC_EVENT_TYPE_COUNT)
        return bad(err, a, NULL, "unknown event type %d", (int)a->type);
    if (a->kind != JC_AGG_SUMS && a->kind != JC_AGG_DISTINCT)
        return bad(err, a, NULL, "unknown kind %d", (int)a->kind);
    if (a->kind == JC_AGG_DISTINCT && (a->ncolumns != 0 || a->columns != NULL))
        return bad(err, a, NULL, "a distinct table has no sum columns");
    return JC_OK;
}

jc_status_t jc_agg_compile(const jc_aggregate_t *a, jc_agg_plan_t *p, jc_error_t *err)
{
    memset(p, 0, sizeof *p);
    p->agg = a;
    jc_status_t st = compile_names(a, err);
    if (st == JC_OK)
        st = compile_key(a, p, err);
    if (st == JC_OK && a->kind == JC_AGG_SUMS)
        st = compile_columns(a, p, err);
    return st;
}

/* ---- the description, compiled once ------------------------------------------------------ */

static pthread_once_t plans_once = PTHREAD_ONCE_INIT;
static jc_agg_plans_t plans;
static jc_error_t plans_err;

/* all[i]'s table and stem differ from those of all[0..i). */
static jc_status_t unique_names(const jc_aggregate_t *all, size_t i, jc_error_t *err)
{
    for (size_t k = 0; k < i; k++)
        if (strcmp(all[k].table, all[i].table) == 0 || strcmp(all[k].stem, all[i].stem) == 0)
            return bad(err, &all[i], NULL, "table or stem also used by %s", all[k].table);
    return JC_OK;
}

static void compile_all(void)
{
    size_t n;
    const jc_aggregate_t *all = jc_aggregates(&n);
    jc_error_clear(&plans_err);
    for (size_t i = 0; i < n; i++) {
        if (jc_agg_compile(&all[i], &plans.agg[i], &plans_err) != JC_OK ||
            unique_names(all, i, &plans_err) != JC_OK)
            return;
        jc_event_type_t t = all[i].type;
        plans.by_type[t][plans.ntype[t]++] = (int)i;
    }
}

const jc_agg_plans_t *jc_agg_plans(jc_error_t *err)
{
    pthread_once(&plans_once, compile_all);
    if (plans_err.code == JC_OK)
        return &plans;
    if (err != NULL)
        *err = plans_err;
    return NULL;
}

jc_status_t jc_aggregates_check(jc_error_t *err)
{
    return jc_agg_plans(err) != NULL ? JC_OK : JC_ERR_INVALID_ARG;
}

/* ---- one event's row ------------------------------------------------------------------- */

/* The time the field holds, false if an optional one is null. */
static bool field_time(const jc_agg_col_plan_t *c, const char *at, int64_t *t)
{
    if (c->kind == JC_FIELD_TIMESTAMP) {
        *t = *(const int64_t *)(const void *)at;
        return true;
    }
    const jc_opt_time_t *o = (const jc_opt_time_t *)(const void *)at;
    *t = o->ms;
    return o->present;
}

static int64_t column_value(const jc_agg_col_plan_t *c, const jc_event_t *ev)
{
    const char *base = (const char *)ev, *at = base + c->offset;
    int64_t t;
    if (c->when && *(const int32_t *)(const void *)(base + c->when_offset) != c->when_index)
        return 0;
    switch (c->op) {
    case JC_AGG_ONE:
        return 1;
    case JC_AGG_VALUE:
        return c->kind == JC_FIELD_BOOL ? *(const bool *)at : *(const int32_t *)(const void *)at;
    case JC_AGG_PRESENT:
        return c->kind == JC_FIELD_OPT_BOOL ? *(const jc_opt_bool_t *)at != JC_NULL
                                            : ((const jc_opt_time_t *)(const void *)at)->present;
    case JC_AGG_TRUE:
        return c->kind == JC_FIELD_OPT_BOOL ? *(const jc_opt_bool_t *)at == 1 : *(const bool *)at;
    case JC_AGG_SECONDS_SINCE:
        return field_time(c, at, &t) ? (ev->occurred_at - t) / 1000 : 0;
    case JC_AGG_WITHIN:
        return field_time(c, at, &t) && (ev->occurred_at - t) / 1000 <= c->arg;
    case JC_AGG_CORRECTED:
        return ev->revision > 0 && !ev->withdrawn;
    case JC_AGG_WITHDRAWN:
        return ev->withdrawn;
    }
    return 0;
}

void jc_agg_plan_row(const jc_agg_plan_t *p, const jc_event_t *ev, jc_agg_row_t *row)
{
    const jc_aggregate_t *a = p->agg;
    const char *base = (const char *)ev;
    row->county = ev->county_code;
    row->day = jc_local_day(ev->occurred_at);
    for (int d = 0; d < JC_AGG_MAX_DIMS; d++)
        row->dim[d] = d < a->ndims ? *(const int32_t *)(const void *)(base + p->dim[d]->offset) : 0;
    /* a withdrawn version adds its JC_AGG_WITHDRAWN columns only, and no distinct row */
    row->id = a->kind == JC_AGG_DISTINCT && !ev->withdrawn ? base + p->id_offset : NULL;
    for (int c = 0; c < a->ncolumns; c++)
        row->value[c] = !ev->withdrawn || p->col[c].op == JC_AGG_WITHDRAWN ? column_value(&p->col[c], ev) : 0;
}

/* The compiled plan of a, which must be one of jc_aggregates(); NULL if not or if the
 * description does not compile. */
static const jc_agg_plan_t *plan_of(const jc_aggregate_t *a)
{
    size_t n;
    const jc_aggregate_t *all = jc_aggregates(&n);
    const jc_agg_plans_t *ps = jc_agg_plans(NULL);
    if (ps == NULL || a < all || a >= all + n)
        return NULL;
    return &ps->agg[a - all];
}

jc_status_t jc_agg_event_row(const jc_aggregate_t *a, const jc_event_t *ev, jc_agg_row_t *row)
{
    const jc_agg_plan_t *p = plan_of(a);
    if (p == NULL || ev->type != a->type)
        return JC_ERR_INVALID_ARG;
    jc_agg_plan_row(p, ev, row);
    return JC_OK;
}

const char *jc_agg_dim_symbol(const jc_aggregate_t *a, int d, int32_t index)
{
    const jc_agg_plan_t *p = plan_of(a);
    if (p == NULL || d < 0 || d >= a->ndims)
        return "?";
    const jc_field_t *f = p->dim[d];
    return index >= 0 && index < f->nsymbols ? f->symbols[index] : "?";
}
