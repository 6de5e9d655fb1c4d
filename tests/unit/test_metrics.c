/*
 * test_metrics.c: the Prometheus exposition of the aggregator's counters (jiceng/metrics.h),
 * without services: every agreed metric name is there with its HELP and TYPE lines, counters
 * end in _total, every sample belongs to a declared metric, histogram buckets are cumulative and
 * end with +Inf equal to _count, label values are escaped (\, ", newline), figures and ages are
 * the stats', and the process figures come from /proc. Also the fine latency buckets behind the
 * freshness percentiles (jc_latency_quantile): exact to the millisecond below 1,024 ms, never
 * above the maximum.
 */
#include "testenv.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jiceng/metrics.h"
#include "jiceng/reference.h"

#define NOW_MS 1800000000000LL

/* The names agreed with the alert rules (docs/operations.md, "Metrics and health"). */
static const char *const agreed[] = {
    "jiceng_build_info", "jiceng_consumed_messages_total", "jiceng_applied_events_total",
    "jiceng_duplicate_events_total", "jiceng_rejected_messages_total",
    "jiceng_batch_flush_duration_seconds", "jiceng_batch_events", "jiceng_pg_retries_total",
    "jiceng_fenced_batches_total", "jiceng_rebalances_total", "jiceng_assigned_partitions",
    "jiceng_partition_lag_messages", "jiceng_newest_applied_event_age_seconds",
    "jiceng_last_commit_age_seconds", "jiceng_dedup_ids", "jiceng_dedup_bytes",
    "jiceng_county_newest_event_age_seconds", "jiceng_client_certificate_expiry_seconds",
    "jiceng_dead_letters_total", "jiceng_dead_letter_failed_total",
    "jiceng_event_freshness_seconds", "jiceng_corrected_events_total",
    "jiceng_withdrawn_events_total", "process_resident_memory_bytes",
    "process_cpu_seconds_total", "process_start_time_seconds",
};

static const double bounds[] = {1, 10, 100};

static jc_aggregator_stats_t *sample_stats(void)
{
    static jc_aggregator_stats_t s;
    static jc_partition_lag_t lag[] = {{"jiceng.visits", 3, 42}};
    memset(&s, 0, sizeof s);
    s.applied_by_type[JC_VISIT] = 7;
    s.applied_by_type[JC_PETITION] = 5;
    s.consumed_by_type[JC_VISIT] = 9;
    s.rejected_by[JC_VISIT][JC_ERR_BAD_MAGIC] = 2;
    s.pg_retries = 4;
    s.partitions = 12;
    s.last_commit_ms = NOW_MS - 2500;
    s.flush_seconds.bounds = s.batch_events.bounds = bounds;
    s.flush_seconds.nbounds = s.batch_events.nbounds = 3;
    double seen[] = {0.5, 1, 5, 50, 500, 7};
    for (size_t i = 0; i < sizeof seen / sizeof seen[0]; i++)
        jc_histogram_observe(&s.batch_events, seen[i]);
    s.lag = lag;
    s.nlag = 1;
    s.county_newest_ms[0] = NOW_MS - 60000;
    return &s;
}

static char *render(const jc_aggregator_stats_t *s, const jc_metrics_process_t *p)
{
    jc_buf_t out = {0};
    assert_int_equal(jc_metrics_render(s, p, NOW_MS, &out), JC_OK);
    assert_int_equal(jc_buf_append(&out, "", 1), JC_OK);
    return (char *)out.data;
}

/* The line of text that starts with prefix (whole-line start), or NULL. */
static const char *line_starting(const char *text, const char *prefix)
{
    size_t n = strlen(prefix);
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (strncmp(l, prefix, n) == 0)
            return l;
    return NULL;
}

/* The value of the sample whose name and labels are exactly series; fails if absent. */
static double value_of(const char *text, const char *series)
{
    char prefix[512];
    snprintf(prefix, sizeof prefix, "%s ", series);
    const char *l = line_starting(text, prefix);
    if (l == NULL)
        fail_msg("no sample %s", series);
    return l == NULL ? -1 : strtod(l + strlen(prefix), NULL);
}

static void agreed_names_with_help_and_type(void **state)
{
    (void)state;
    jc_metrics_process_t p = {.cert_not_after_ms = NOW_MS + 86400000, .version = "9.9.9"};
    char *text = render(sample_stats(), &p);
    char want[200];
    for (size_t i = 0; i < sizeof agreed / sizeof agreed[0]; i++) {
        snprintf(want, sizeof want, "# HELP %s ", agreed[i]);
        if (line_starting(text, want) == NULL)
            fail_msg("no HELP line for %s", agreed[i]);
        snprintf(want, sizeof want, "# TYPE %s ", agreed[i]);
        const char *type = line_starting(text, want);
        if (type == NULL)
            fail_msg("no TYPE line for %s", agreed[i]);
        const char *kind = type == NULL ? "" : type + strlen(want);
        size_t n = strlen(agreed[i]);
        int total = n > 6 && strcmp(agreed[i] + n - 6, "_total") == 0;
        if ((strncmp(kind, "counter\n", 8) == 0) != total)
            fail_msg("%s: counter if and only if named _total", agreed[i]);
    }
    assert_int_equal(value_of(text, "jiceng_build_info{version=\"9.9.9\"}"), 1);
    assert_int_equal(value_of(text, "jiceng_client_certificate_expiry_seconds"), 86400);
    free(text);
}

/* Every sample line's name is a declared metric's (histograms: _bucket, _sum, _count). */
static void every_sample_is_declared(void **state)
{
    (void)state;
    jc_metrics_process_t p = {0};
    char *text = render(sample_stats(), &p);
    char declared[64][80];
    size_t ndeclared = 0, nsamples = 0;
    for (char *l = text; *l; l = strchr(l, '\n') + 1) {
        char name[80];
        if (sscanf(l, "# TYPE %79s", name) == 1 && ndeclared < 64)
            snprintf(declared[ndeclared++], sizeof declared[0], "%s", name);
        if (*l == '#')
            continue;
        size_t n = strcspn(l, "{ ");
        assert_true(n > 0 && n < sizeof name);
        assert_true(isalpha((unsigned char)l[0]) || l[0] == '_');
        int found = 0;
        for (size_t i = 0; i < ndeclared && !found; i++) {
            size_t d = strlen(declared[i]);
            found = strncmp(l, declared[i], d) == 0 &&
                    (n == d || (n > d && (strncmp(l + d, "_bucket", n - d) == 0 ||
                                          strncmp(l + d, "_sum", n - d) == 0 ||
                                          strncmp(l + d, "_count", n - d) == 0)));
        }
        if (!found)
            fail_msg("sample of an undeclared metric: %.*s", (int)n, l);
        nsamples++;
    }
    assert_true(nsamples > 20);
    free(text);
}

static void histogram_buckets_are_cumulative(void **state)
{
    (void)state;
    jc_metrics_process_t p = {0};
    char *text = render(sample_stats(), &p);
    /* observed 0.5, 1, 5, 50, 500, 7 with bounds 1, 10, 100 */
    assert_int_equal(value_of(text, "jiceng_batch_events_bucket{le=\"1\"}"), 2);
    assert_int_equal(value_of(text, "jiceng_batch_events_bucket{le=\"10\"}"), 4);
    assert_int_equal(value_of(text, "jiceng_batch_events_bucket{le=\"100\"}"), 5);
    assert_int_equal(value_of(text, "jiceng_batch_events_bucket{le=\"+Inf\"}"), 6);
    assert_int_equal(value_of(text, "jiceng_batch_events_count"), 6);
    assert_true(value_of(text, "jiceng_batch_events_sum") == 563.5);
    /* an empty histogram: its buckets, +Inf, sum and count are all 0 */
    assert_int_equal(value_of(text, "jiceng_batch_flush_duration_seconds_bucket{le=\"+Inf\"}"), 0);
    assert_int_equal(value_of(text, "jiceng_batch_flush_duration_seconds_count"), 0);
    free(text);
}

static void figures_labels_and_ages(void **state)
{
    (void)state;
    jc_metrics_process_t p = {0};
    char *text = render(sample_stats(), &p);
    assert_int_equal(value_of(text, "jiceng_applied_events_total{type=\"visit\"}"), 7);
    assert_int_equal(value_of(text, "jiceng_applied_events_total{type=\"petition\"}"), 5);
    assert_int_equal(value_of(text, "jiceng_consumed_messages_total{topic=\"jiceng.visits\"}"), 9);
    assert_int_equal(value_of(text, "jiceng_rejected_messages_total{topic=\"jiceng.visits\","
                                    "reason=\"JC_ERR_BAD_MAGIC\"}"), 2);
    assert_null(line_starting(text, "jiceng_rejected_messages_total{topic=\"jiceng.petitions\""));
    assert_int_equal(value_of(text, "jiceng_pg_retries_total"), 4);
    assert_int_equal(value_of(text, "jiceng_assigned_partitions"), 12);
    assert_int_equal(value_of(text, "jiceng_partition_lag_messages{topic=\"jiceng.visits\","
                                    "partition=\"3\"}"), 42);
    assert_true(value_of(text, "jiceng_last_commit_age_seconds") == 2.5);
    /* no applied event yet, no certificate: no sample (not a misleading 0 or a huge age) */
    assert_null(line_starting(text, "jiceng_newest_applied_event_age_seconds "));
    assert_null(line_starting(text, "jiceng_client_certificate_expiry_seconds "));
    char county[120];
    snprintf(county, sizeof county, "jiceng_county_newest_event_age_seconds{county=\"%d\"}",
             (int)jc_county_at(0)->code);
    assert_int_equal(value_of(text, county), 60);
    free(text);
}

static void label_values_are_escaped(void **state)
{
    (void)state;
    jc_aggregator_stats_t *s = sample_stats();
    s->topics[JC_VISIT] = "odd\\topic \"quoted\"\nnext";
    jc_metrics_process_t p = {.version = "v\"1\\"};
    char *text = render(s, &p);
    assert_int_equal(value_of(text, "jiceng_consumed_messages_total{topic=\"odd\\\\topic "
                                    "\\\"quoted\\\"\\nnext\"}"), 9);
    assert_int_equal(value_of(text, "jiceng_build_info{version=\"v\\\"1\\\\\"}"), 1);
    s->topics[JC_VISIT] = NULL;
    free(text);
}

static void process_figures_from_proc(void **state)
{
    (void)state;
    jc_metrics_process_t p = {0};
    jc_error_t err;
    assert_int_equal(jc_metrics_process_read(&p, &err), JC_OK);
    assert_true(p.resident_bytes > 1e5);
    assert_true(p.cpu_seconds >= 0);
    double now = (double)time(NULL);
    assert_true(p.start_time_seconds > now - 3600 && p.start_time_seconds <= now + 2);
}

static void latency_percentiles(void **state)
{
    (void)state;
    static jc_latency_t l;
    memset(&l, 0, sizeof l);
    assert_int_equal(jc_latency_quantile(&l, 0.5), -1);
    for (int ms = 1; ms <= 100; ms++)
        jc_latency_observe(&l, ms);
    assert_int_equal(jc_latency_quantile(&l, 0.5), 50);
    assert_int_equal(jc_latency_quantile(&l, 0.95), 95);
    assert_int_equal(jc_latency_quantile(&l, 0.99), 99);
    assert_int_equal(jc_latency_quantile(&l, 1.0), 100);
    jc_latency_observe(&l, -7); /* a producer clock ahead of ours: 0 */
    assert_int_equal(l.counts[0], 1);
    jc_latency_observe(&l, 5000); /* coarse bucket 4,992..5,055, capped at the maximum */
    assert_int_equal(jc_latency_quantile(&l, 1.0), 5000);
    jc_latency_observe(&l, 5050);
    assert_int_equal(jc_latency_quantile(&l, 1.0), 5050);
    assert_int_equal(jc_latency_quantile(&l, 101.0 / 103.0), 100);
    jc_latency_observe(&l, 10LL * 3600 * 1000); /* ten hours: the last bucket */
    assert_int_equal(l.counts[JC_LATENCY_BUCKETS - 1], 1);
    assert_int_equal(jc_latency_quantile(&l, 1.0), 10LL * 3600 * 1000);
    assert_int_equal(l.count, 104);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(agreed_names_with_help_and_type),
        cmocka_unit_test(every_sample_is_declared),
        cmocka_unit_test(histogram_buckets_are_cumulative),
        cmocka_unit_test(figures_labels_and_ages),
        cmocka_unit_test(label_values_are_escaped),
        cmocka_unit_test(process_figures_from_proc),
        cmocka_unit_test(latency_percentiles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
