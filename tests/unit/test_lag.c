/*
 * test_lag.c: how the lag and its age read (jiceng/lag.h, and the report's freshness helpers
 * in lib/report/defs.c), without a database: ages in the unit a reader wants, at most two
 * units, never a negative one; the `jiceng-aggregate status` table with its columns aligned,
 * a partition the group never consumed shown as such, a total per group with its oldest age,
 * latest commit and newest event; the status JSON (read back with jansson: every field, null
 * for what is unknown, times in RFC 3339 UTC, the stale flags only with a limit); the stale
 * decision (lag and a commit older than the limit, or none; never without lag) and its lines;
 * the report's lag text and totals (summed lag, the oldest figure's age, the newest event).
 */
#include "testenv.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../../lib/report/model.h"
#include "jiceng/lag.h"

static void expect_age(int64_t ms, const char *want)
{
    char buf[32];
    const char *got = jc_lag_age_text(ms, buf, sizeof buf);
    if (strcmp(got, want) != 0)
        fail_msg("age %lld ms: '%s', expected '%s'", (long long)ms, got, want);
}

static void test_age_text(void **state)
{
    (void)state;
    expect_age(-1, "-");
    expect_age(0, "0 ms");
    expect_age(999, "999 ms");
    expect_age(1000, "1 s");
    expect_age(59999, "59 s");
    expect_age(60000, "1 min");
    expect_age(65000, "1 min 5 s");
    expect_age(3600000, "1 h");
    expect_age(3723000, "1 h 2 min");
    expect_age(86400000 + 59000, "1 d");
    expect_age(3 * 86400000LL + 4 * 3600000LL + 5000, "3 d 4 h");
}

/* 2026-11-30T04:00:00.123Z, 2026-11-29T16:30:00Z, 2026-11-28T01:02:03Z */
#define T_OBSERVED 1796011200123LL
#define T_NEWEST 1795969800000LL
#define T_OLD 1795827723000LL

static const jc_lag_row_t rows[] = {
    {"g1", "t.visits", 0, 10, 15, 5, 1500, T_OBSERVED, T_NEWEST, 12000},
    {"g1", "t.visits", 1, -1, 8, 5, 250, T_OBSERVED, -1, -1},
    {"group-two", "t.visits", 0, 7, 7, 0, 3723000, T_OLD, T_OLD, 3723000},
};

static void test_table(void **state)
{
    (void)state;
    jc_buf_t b = {0};
    assert_int_equal(jc_lag_table(rows, 3, &b), JC_OK);
    const char *want =
        "group      topic     partition  next offset  end offset  lag        age  last commit  newest event\n"
        "g1         t.visits          0           10          15    5        1 s         12 s  2026-11-30T00:30:00.000+08:00\n"
        "g1         t.visits          1            -           8    5     250 ms            -  -\n"
        "g1         (total)           2                            10        1 s         12 s  2026-11-30T00:30:00.000+08:00\n"
        "group-two  t.visits          0            7           7    0  1 h 2 min    1 h 2 min  2026-11-28T09:02:03.000+08:00\n"
        "group-two  (total)           1                             0  1 h 2 min    1 h 2 min  2026-11-28T09:02:03.000+08:00\n";
    if (strcmp((const char *)b.data, want) != 0)
        fail_msg("status table:\n%s\nexpected:\n%s", (const char *)b.data, want);
    jc_buf_free(&b);
}

/* ---- JSON and staleness ---- */

static json_t *status_json(int64_t stale_ms)
{
    jc_buf_t b = {0};
    assert_int_equal(jc_lag_json(rows, 3, stale_ms, &b), JC_OK);
    assert_int_equal(b.data[b.len - 1], '\n');
    assert_null(memchr(b.data, '\n', b.len - 1)); /* one line */
    json_error_t jerr;
    json_t *doc = json_loadb((const char *)b.data, b.len, 0, &jerr);
    if (doc == NULL)
        fail_msg("status JSON does not parse (%s): %s", jerr.text, (const char *)b.data);
    jc_buf_free(&b);
    return doc;
}

static json_int_t int_of(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v))
        fail_msg("'%s' is not an integer", key);
    return json_integer_value(v);
}

static const char *str_of(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_string(v))
        fail_msg("'%s' is not a string", key);
    return json_string_value(v);
}

static void test_json(void **state)
{
    (void)state;
    json_t *doc = status_json(-1);
    json_t *parts = json_object_get(doc, "partitions"), *groups = json_object_get(doc, "groups");
    assert_int_equal(json_array_size(parts), 3);
    assert_int_equal(json_array_size(groups), 2);
    assert_null(json_object_get(doc, "stale_seconds"));
    json_t *p0 = json_array_get(parts, 0), *p1 = json_array_get(parts, 1);
    assert_string_equal(str_of(p0, "group"), "g1");
    assert_string_equal(str_of(p0, "topic"), "t.visits");
    assert_int_equal(int_of(p0, "partition"), 0);
    assert_int_equal(int_of(p0, "next_offset"), 10);
    assert_int_equal(int_of(p0, "end_offset"), 15);
    assert_int_equal(int_of(p0, "lag"), 5);
    assert_string_equal(str_of(p0, "end_offset_observed_at"), "2026-11-30T04:00:00.123Z");
    assert_int_equal(int_of(p0, "end_offset_age_ms"), 1500);
    assert_string_equal(str_of(p0, "newest_event_at"), "2026-11-29T16:30:00.000Z");
    assert_int_equal(int_of(p0, "last_commit_age_ms"), 12000);
    assert_null(json_object_get(p0, "stale"));
    assert_true(json_is_null(json_object_get(p1, "next_offset")));
    assert_true(json_is_null(json_object_get(p1, "newest_event_at")));
    assert_true(json_is_null(json_object_get(p1, "last_commit_age_ms")));
    json_t *g0 = json_array_get(groups, 0), *g1 = json_array_get(groups, 1);
    assert_string_equal(str_of(g0, "group"), "g1");
    assert_int_equal(int_of(g0, "partitions"), 2);
    assert_int_equal(int_of(g0, "lag"), 10);
    assert_int_equal(int_of(g0, "end_offset_age_ms"), 1500);
    assert_int_equal(int_of(g0, "last_commit_age_ms"), 12000);
    assert_string_equal(str_of(g1, "group"), "group-two");
    assert_int_equal(int_of(g1, "lag"), 0);
    assert_string_equal(str_of(g1, "newest_event_at"), "2026-11-28T01:02:03.000Z");
    json_decref(doc);
    /* with a limit of 10 s: partition 0 (lag, committed 12 s ago) and 1 (lag, never) are
     * stale; group-two's committed an hour ago but has no lag */
    doc = status_json(10000);
    parts = json_object_get(doc, "partitions");
    groups = json_object_get(doc, "groups");
    assert_int_equal(int_of(doc, "stale_seconds"), 10);
    assert_true(json_is_true(json_object_get(json_array_get(parts, 0), "stale")));
    assert_true(json_is_true(json_object_get(json_array_get(parts, 1), "stale")));
    assert_true(json_is_false(json_object_get(json_array_get(parts, 2), "stale")));
    assert_int_equal(int_of(json_array_get(groups, 0), "stale_partitions"), 2);
    assert_int_equal(int_of(json_array_get(groups, 1), "stale_partitions"), 0);
    json_decref(doc);
}

static void test_json_empty(void **state)
{
    (void)state;
    jc_buf_t b = {0};
    assert_int_equal(jc_lag_json(rows, 0, -1, &b), JC_OK);
    assert_string_equal((const char *)b.data, "{\"groups\":[],\"partitions\":[]}\n");
    jc_buf_free(&b);
}

static void test_stale(void **state)
{
    (void)state;
    jc_lag_row_t r = rows[0]; /* lag 5, last commit 12 s ago */
    assert_true(jc_lag_stale(&r, 11999));
    assert_false(jc_lag_stale(&r, 12000)); /* older than the limit, not as old */
    assert_false(jc_lag_stale(&r, 60000));
    r.lag = 0;
    assert_false(jc_lag_stale(&r, 0)); /* no lag: never stale */
    r.commit_age_ms = -1;
    assert_false(jc_lag_stale(&r, 0));
    r.lag = 1;
    assert_true(jc_lag_stale(&r, 86400000)); /* lag and never committed */
    jc_buf_t b = {0};
    size_t count = 99;
    assert_int_equal(jc_lag_stale_lines(rows, 3, 10000, &b, &count), JC_OK);
    assert_int_equal(count, 2);
    assert_string_equal((const char *)b.data,
                        "g1 t.visits [0]: lag 5, last commit 12 s ago (over 10 s)\n"
                        "g1 t.visits [1]: lag 5, never committed (over 10 s)\n");
    jc_buf_reset(&b);
    assert_int_equal(jc_lag_stale_lines(rows, 3, 3600000, &b, &count), JC_OK);
    assert_int_equal(count, 1);
    jc_buf_free(&b);
}

static void test_table_empty(void **state)
{
    (void)state;
    jc_buf_t b = {0};
    assert_int_equal(jc_lag_table(rows, 0, &b), JC_OK);
    assert_non_null(strstr((const char *)b.data, "no consumer group"));
    jc_buf_free(&b);
}

static void test_report_lag_text(void **state)
{
    (void)state;
    char buf[160];
    assert_string_equal(rp_lag_text(1234, 12000, buf, sizeof buf),
                        "1234 条 messages (观测于 12 s 前 observed 12 s ago)");
    assert_string_equal(rp_lag_text(0, -1, buf, sizeof buf), "— (no consumer has observed the topics)");
}

static void test_report_totals(void **state)
{
    (void)state;
    rp_fresh_t fresh[3] = {
        {.group_id = "a", .lag = 5, .has_newest = true, .newest_ms = 2000, .has_lag_age = true, .lag_age_ms = 700},
        {.group_id = "b", .lag = 7, .has_newest = true, .newest_ms = 1000, .has_lag_age = true, .lag_age_ms = 90000},
        {.group_id = "c", .lag = 1, .has_newest = false, .has_lag_age = false, .lag_age_ms = 999999},
    };
    jc_report_t r;
    memset(&r, 0, sizeof r);
    r.fresh = fresh;
    r.nfresh = 3;
    int64_t lag, age, newest;
    assert_true(rp_freshness_total(&r, &lag, &age, &newest));
    assert_int_equal(lag, 13);
    assert_int_equal(age, 90000); /* the oldest figure; c has none */
    assert_int_equal(newest, 2000);
    r.nfresh = 0;
    assert_false(rp_freshness_total(&r, &lag, &age, &newest));
    assert_int_equal(age, -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_age_text),
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_table_empty),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_json_empty),
        cmocka_unit_test(test_stale),
        cmocka_unit_test(test_report_lag_text),
        cmocka_unit_test(test_report_totals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
