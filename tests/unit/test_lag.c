/*
 * test_lag.c: how the lag and its age read (jiceng/lag.h, and the report's freshness helpers
 * in lib/report/defs.c), without a database: ages in the unit a reader wants, at most two
 * units, never a negative one; the `jiceng-aggregate status` table with its columns aligned,
 * a partition the group never consumed shown as such, a total per group with its oldest age;
 * the report's lag text and totals (summed lag, the oldest figure's age, the newest event).
 */
#include "testenv.h"

#include <stdlib.h>
#include <string.h>

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

static const jc_lag_row_t rows[] = {
    {"g1", "t.visits", 0, 10, 15, 5, 1500},
    {"g1", "t.visits", 1, -1, 8, 5, 250},
    {"group-two", "t.visits", 0, 7, 7, 0, 3723000},
};

static void test_table(void **state)
{
    (void)state;
    jc_buf_t b = {0};
    assert_int_equal(jc_lag_table(rows, 3, &b), JC_OK);
    const char *want =
        "group      topic     partition  next offset  end offset  lag        age\n"
        "g1         t.visits          0           10          15    5        1 s\n"
        "g1         t.visits          1            -           8    5     250 ms\n"
        "g1         (total)           2                            10        1 s\n"
        "group-two  t.visits          0            7           7    0  1 h 2 min\n"
        "group-two  (total)           1                             0  1 h 2 min\n";
    if (strcmp((const char *)b.data, want) != 0)
        fail_msg("status table:\n%s\nexpected:\n%s", (const char *)b.data, want);
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
        cmocka_unit_test(test_report_lag_text),
        cmocka_unit_test(test_report_totals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
