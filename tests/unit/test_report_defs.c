/*
 * test_report_defs.c: the report's sections, figures, breakdowns and metrics as rp_defs_init
 * derives them from the aggregate description (lib/report/defs.c), without a database: a
 * section per event type pairing its sum and distinct aggregates; a count figure for every sum
 * column, labelled and marked detail as the description says, and one for the distinct count;
 * the derived figures dividing the columns their names say; the breakdowns showing every count
 * that has their dimension; the metrics picking the columns they name.
 */
#include "testenv.h"

#include <string.h>

#include "../../lib/report/model.h"

static void init(void)
{
    jc_error_t err;
    if (rp_defs_init(&err) != JC_OK)
        fail_msg("rp_defs_init: %s", err.message);
}

/* Section s's figure called key. */
static const rp_figure_t *figure(int s, const char *key)
{
    const rp_figure_t *f = rp_find_figure(s, key);
    if (f == NULL)
        fail_msg("section %s has no figure %s", rp_sections[s].key, key);
    return f;
}

static int column(int s, const char *name)
{
    int i = jc_agg_column_index(rp_sections[s].sums, name);
    assert_true(i >= 0);
    return i;
}

static void a_count_per_column(void **state)
{
    (void)state;
    init();
    for (int s = 0; s < RP_NSECTIONS; s++) {
        const rp_section_def_t *d = &rp_sections[s];
        assert_non_null(d->sums);
        assert_int_equal(d->sums->type, s);
        assert_int_equal(d->sums->kind, JC_AGG_SUMS);
        assert_string_equal(d->key, d->sums->key);
        size_t counts = 0;
        for (int c = 0; c < d->sums->ncolumns; c++) {
            const jc_agg_column_t *col = &d->sums->columns[c];
            const rp_figure_t *f = rp_count_figure(s, c);
            assert_non_null(f);
            assert_string_equal(f->key, col->name);
            assert_string_equal(f->zh, col->zh);
            assert_string_equal(f->en, col->en);
            assert_int_equal(f->detail, col->detail);
        }
        if (d->distinct != NULL) {
            assert_int_equal(d->distinct->type, s);
            const rp_figure_t *f = rp_count_figure(s, d->sums->ncolumns);
            assert_non_null(f);
            assert_string_equal(f->key, d->distinct->key);
        }
        for (size_t i = 0; i < d->nfigures; i++)
            counts += d->figures[i].kind == RP_COUNT;
        assert_int_equal(counts, (size_t)d->sums->ncolumns + (d->distinct != NULL));
    }
    assert_string_equal(rp_sections[JC_VISIT].distinct->key, "cadres");
    assert_null(rp_sections[JC_PETITION].distinct);
}

static void derived_figures_divide_their_columns(void **state)
{
    (void)state;
    init();
    const rp_figure_t *f = figure(JC_PETITION, "resolution_rate");
    assert_int_equal(f->kind, RP_RATIO);
    assert_int_equal(f->num, column(JC_PETITION, "resolved"));
    assert_int_equal(f->den, column(JC_PETITION, "received"));
    f = figure(JC_PETITION, "mean_resolution_days");
    assert_int_equal(f->kind, RP_DAYS);
    assert_int_equal(f->num, column(JC_PETITION, "resolution_seconds"));
    assert_int_equal(f->den, column(JC_PETITION, "resolved"));
    f = figure(JC_PETITION, "satisfaction_rate");
    assert_int_equal(f->num, column(JC_PETITION, "satisfied"));
    assert_int_equal(f->den, column(JC_PETITION, "followups_answered"));
    f = figure(JC_TRAINING_COMPLETION, "pass_rate");
    assert_int_equal(f->num, column(JC_TRAINING_COMPLETION, "passed"));
    assert_int_equal(f->den, column(JC_TRAINING_COMPLETION, "completions"));

    int64_t raw[RP_MAX_VALUES] = {0};
    double v;
    raw[column(JC_PETITION, "resolved")] = 3;
    raw[column(JC_PETITION, "received")] = 4;
    raw[column(JC_PETITION, "resolution_seconds")] = 3 * 2 * 86400;
    assert_true(rp_figure_value(figure(JC_PETITION, "resolution_rate"), raw, &v));
    assert_true(v == 0.75);
    assert_true(rp_figure_value(figure(JC_PETITION, "mean_resolution_days"), raw, &v));
    assert_true(v == 2.0);
    assert_false(rp_figure_value(figure(JC_PETITION, "satisfaction_rate"), raw, &v));
}

static void breakdowns_show_the_counts_with_their_dimension(void **state)
{
    (void)state;
    init();
    const rp_breakdown_def_t *h = &rp_breakdowns[RP_BY_HAZARD];
    const rp_section_def_t *d = &rp_sections[JC_DISASTER_RESPONSE];
    assert_true(h->with_distinct);
    assert_int_equal(h->ncolumns, (size_t)d->sums->ncolumns + 1); /* incidents have hazards */
    assert_int_equal(h->columns[0], d->sums->ncolumns);           /* shown first, as listed */
    assert_int_equal(h->nsymbols, JC_HAZARD_COUNT);
    const rp_breakdown_def_t *r = &rp_breakdowns[RP_BY_ROLE];
    assert_false(r->with_distinct); /* trainees have no role */
    assert_int_equal(r->ncolumns, (size_t)rp_sections[JC_TRAINING_COMPLETION].sums->ncolumns);
    for (int b = 0; b < RP_NBREAKDOWNS; b++)
        for (size_t c = 0; c < rp_breakdowns[b].ncolumns; c++) {
            const rp_figure_t *f = rp_count_figure(rp_breakdowns[b].section, rp_breakdowns[b].columns[c]);
            assert_non_null(f);
            assert_false(f->detail);
        }
}

static void metrics_pick_their_columns(void **state)
{
    (void)state;
    init();
    assert_int_equal(rp_metrics[M_CADRES].index, rp_sections[JC_VISIT].sums->ncolumns);
    assert_int_equal(rp_metrics[M_PEOPLE].index, column(JC_VISIT, "people_met"));
    assert_int_equal(rp_metrics[M_RESOLVED].index, column(JC_PETITION, "resolved"));
    assert_int_equal(rp_metrics[M_COMPLETIONS].index, column(JC_TRAINING_COMPLETION, "completions"));
    for (int k = 0; k < RP_NKPIS; k++)
        assert_string_equal(rp_kpis[k].figure->key, rp_kpis[k].key);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_count_per_column),
        cmocka_unit_test(derived_figures_divide_their_columns),
        cmocka_unit_test(breakdowns_show_the_counts_with_their_dimension),
        cmocka_unit_test(metrics_pick_their_columns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
