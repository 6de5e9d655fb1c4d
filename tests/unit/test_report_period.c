/*
 * test_report_period.c: which days and which region a report covers: --month, --year and
 * --from/--to, the default (the last full month, across a year boundary too), the previous
 * period of each kind (a shorter month, a leap year, a range of the same length just before),
 * the labels readers see, the days a report covers, and the usage errors; regions from --prefecture and --county,
 * checked against the reference data.
 */
#include "testenv.h"

#include <string.h>

#include "jiceng/jtime.h"
#include "jiceng/report.h"

static int32_t day(const char *s)
{
    int32_t d = 0;
    assert_int_equal(jc_day_parse(s, &d, NULL), JC_OK);
    return d;
}

static void assert_period(jc_period_t p, jc_period_kind_t kind, const char *from, const char *to)
{
    assert_int_equal(p.kind, kind);
    assert_int_equal(p.from, day(from));
    assert_int_equal(p.to, day(to));
}

static jc_period_t options(const char *from, const char *to, const char *month, const char *year)
{
    jc_period_t p;
    jc_error_t err;
    assert_int_equal(jc_period_from_options(from, to, month, year, day("2026-11-28"), &p, &err), JC_OK);
    return p;
}

static void usage_error(const char *from, const char *to, const char *month, const char *year,
                        const char *message)
{
    jc_period_t p;
    jc_error_t err;
    assert_int_equal(jc_period_from_options(from, to, month, year, day("2026-11-28"), &p, &err),
                     JC_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, message));
}

static void month_year_range(void **state)
{
    (void)state;
    assert_period(options(NULL, NULL, "2026-02", NULL), JC_PERIOD_MONTH, "2026-02-01", "2026-02-28");
    assert_period(options(NULL, NULL, "2024-02", NULL), JC_PERIOD_MONTH, "2024-02-01", "2024-02-29");
    assert_period(options(NULL, NULL, "2025-12", NULL), JC_PERIOD_MONTH, "2025-12-01", "2025-12-31");
    assert_period(options(NULL, NULL, NULL, "2026"), JC_PERIOD_YEAR, "2026-01-01", "2026-12-31");
    assert_period(options("2026-01-05", "2026-01-20", NULL, NULL), JC_PERIOD_RANGE, "2026-01-05", "2026-01-20");
    assert_period(options("2026-01-05", "2026-01-05", NULL, NULL), JC_PERIOD_RANGE, "2026-01-05", "2026-01-05");
}

/* The days a report covers, 2000-01-01 to 2099-12-31, bounds included; the longest period's
 * previous period is still an ordinary date. */
static void the_days_a_report_covers(void **state)
{
    (void)state;
    assert_period(options(NULL, NULL, "2000-01", NULL), JC_PERIOD_MONTH, "2000-01-01", "2000-01-31");
    assert_period(options(NULL, NULL, "2099-12", NULL), JC_PERIOD_MONTH, "2099-12-01", "2099-12-31");
    assert_period(options(NULL, NULL, NULL, "2000"), JC_PERIOD_YEAR, "2000-01-01", "2000-12-31");
    assert_period(options(NULL, NULL, NULL, "2099"), JC_PERIOD_YEAR, "2099-01-01", "2099-12-31");
    jc_period_t widest = options("2000-01-01", "2099-12-31", NULL, NULL);
    assert_period(widest, JC_PERIOD_RANGE, "2000-01-01", "2099-12-31");
    assert_period(jc_period_previous(widest), JC_PERIOD_RANGE, "1899-12-31", "1999-12-31");
}

static void default_is_last_full_month(void **state)
{
    (void)state;
    jc_period_t p;
    assert_period(options(NULL, NULL, NULL, NULL), JC_PERIOD_MONTH, "2026-10-01", "2026-10-31");
    assert_int_equal(jc_period_from_options(NULL, NULL, NULL, NULL, day("2026-01-01"), &p, NULL), JC_OK);
    assert_period(p, JC_PERIOD_MONTH, "2025-12-01", "2025-12-31");
    assert_int_equal(jc_period_from_options(NULL, NULL, NULL, NULL, day("2024-03-31"), &p, NULL), JC_OK);
    assert_period(p, JC_PERIOD_MONTH, "2024-02-01", "2024-02-29");
}

static void previous_periods(void **state)
{
    (void)state;
    assert_period(jc_period_previous(options(NULL, NULL, "2026-03", NULL)), JC_PERIOD_MONTH, "2026-02-01",
                  "2026-02-28");
    assert_period(jc_period_previous(options(NULL, NULL, "2026-01", NULL)), JC_PERIOD_MONTH, "2025-12-01",
                  "2025-12-31");
    assert_period(jc_period_previous(options(NULL, NULL, NULL, "2025")), JC_PERIOD_YEAR, "2024-01-01",
                  "2024-12-31");
    assert_period(jc_period_previous(options("2026-03-01", "2026-03-10", NULL, NULL)), JC_PERIOD_RANGE,
                  "2026-02-19", "2026-02-28");
    assert_int_equal(jc_month_first_day(day("2024-02-29")), day("2024-02-01"));
    assert_int_equal(jc_month_add(day("2026-10-31"), -11), day("2025-11-01"));
    assert_int_equal(jc_month_add(day("2026-12-15"), 1), day("2027-01-01"));
}

static void labels(void **state)
{
    (void)state;
    char buf[64];
    assert_string_equal(jc_period_label(options(NULL, NULL, "2026-01", NULL), buf, sizeof buf), "2026年1月");
    assert_string_equal(jc_period_label(options(NULL, NULL, "2026-10", NULL), buf, sizeof buf), "2026年10月");
    assert_string_equal(jc_period_label(options(NULL, NULL, NULL, "2025"), buf, sizeof buf), "2025年");
    assert_string_equal(jc_period_label(options("2026-01-05", "2026-01-20", NULL, NULL), buf, sizeof buf),
                        "2026-01-05 至 2026-01-20");
}

static void period_usage_errors(void **state)
{
    (void)state;
    usage_error(NULL, NULL, "2026-13", NULL, "month: '2026-13' is not YYYY-MM");
    usage_error(NULL, NULL, "2026-1", NULL, "is not YYYY-MM");
    usage_error(NULL, NULL, NULL, "26", "year: '26' is not YYYY");
    usage_error("2026-01-05", NULL, NULL, NULL, "from and to go together");
    usage_error("2026-02-30", "2026-03-01", NULL, NULL, "from: '2026-02-30' is not a date");
    usage_error("2026-03-02", "2026-03-01", NULL, NULL, "is before from");
    usage_error(NULL, NULL, "0001-01", NULL, "month: '0001-01' is outside the days a report "
                "covers, 2000-01-01 to 2099-12-31 (no event may be earlier than 2000-01-01)");
    usage_error(NULL, NULL, NULL, "1899", "year: '1899' is outside the days a report covers");
    usage_error(NULL, NULL, "1999-12", NULL, "month: '1999-12' is outside");
    usage_error(NULL, NULL, NULL, "2100", "year: '2100' is outside");
    usage_error(NULL, NULL, NULL, "9999", "year: '9999' is outside");
    usage_error("2026-11-01", "9999-12-31", NULL, NULL, "to: '9999-12-31' is outside the days a "
                "report covers, 2000-01-01 to 2099-12-31");
    usage_error("2026-11-01", "2100-01-01", NULL, NULL, "to: '2100-01-01' is outside");
    usage_error("1999-12-31", "2026-11-30", NULL, NULL, "from: '1999-12-31' is outside");
    usage_error("0000-01-01", "2026-11-30", NULL, NULL, "from: '0000-01-01'");
    usage_error(NULL, NULL, "2026-01", "2026", "give one period");
    usage_error("2026-01-01", "2026-01-02", "2026-01", NULL, "give one period");
}

static void regions(void **state)
{
    (void)state;
    jc_region_t g;
    jc_error_t err;
    assert_int_equal(jc_region_from_options(NULL, NULL, &g, &err), JC_OK);
    assert_int_equal(g.level, JC_REGION_PROVINCE);
    assert_int_equal(g.code, JC_PROVINCE_CODE);
    assert_int_equal(jc_region_from_options("520300", NULL, &g, &err), JC_OK);
    assert_int_equal(g.level, JC_REGION_PREFECTURE);
    assert_int_equal(g.code, 520300);
    assert_int_equal(jc_region_from_options(NULL, "520102", &g, &err), JC_OK);
    assert_int_equal(g.level, JC_REGION_COUNTY);
    assert_int_equal(g.code, 520102);
    assert_int_equal(jc_region_from_options("520100", "520102", &g, &err), JC_OK);
    assert_int_equal(g.level, JC_REGION_COUNTY);
    assert_int_equal(jc_region_from_options("520300", "520102", &g, &err), JC_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "county 520102 is not in prefecture 520300"));
    assert_int_equal(jc_region_from_options("520102", NULL, &g, &err), JC_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "no such prefecture"));
    assert_int_equal(jc_region_from_options(NULL, "999999", &g, &err), JC_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "no such county"));
    assert_int_equal(jc_region_from_options(NULL, "52010", &g, &err), JC_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "not a six-digit code"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(month_year_range),
        cmocka_unit_test(the_days_a_report_covers),
        cmocka_unit_test(default_is_last_full_month),
        cmocka_unit_test(previous_periods),
        cmocka_unit_test(labels),
        cmocka_unit_test(period_usage_errors),
        cmocka_unit_test(regions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
