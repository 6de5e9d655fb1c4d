/*
 * test_jtime.c: event time conventions: ISO-8601 parsing with offsets and fractions, the
 * rejection of impossible dates and malformed text, Shanghai local days and their text form,
 * and instants before 1970.
 */
#include "testenv.h"

#include <string.h>

#include "jiceng/jtime.h"

/* 2026-11-03T01:15:00Z: 20760 days after the epoch, plus 1h15m. */
#define T_2026_11_03_0115Z (20760LL * JC_DAY_MS + 4500000LL)

static int64_t parse_ok(const char *s)
{
    int64_t ms = -1;
    jc_error_t err;
    assert_int_equal(jc_time_parse(s, &ms, &err), JC_OK);
    return ms;
}

static void parse_bad(const char *s)
{
    int64_t ms = 12345;
    jc_error_t err;
    assert_int_equal(jc_time_parse(s, &ms, &err), JC_ERR_BAD_FIELD);
    assert_int_equal(err.code, JC_ERR_BAD_FIELD);
    assert_int_equal(ms, 12345); /* untouched on failure */
    assert_non_null(strstr(err.message, "bad timestamp"));
}

static void parses_utc_and_offsets(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("1970-01-01T00:00:00Z"), 0);
    assert_int_equal(parse_ok("2026-11-03T01:15:00Z"), T_2026_11_03_0115Z);
    assert_int_equal(parse_ok("2026-11-03T09:15:00+08:00"), T_2026_11_03_0115Z);
    assert_int_equal(parse_ok("2026-11-03 09:15:00+0800"), T_2026_11_03_0115Z);
    assert_int_equal(parse_ok("2026-11-02T20:15:00-05:00"), T_2026_11_03_0115Z);
    assert_int_equal(parse_ok("2026-11-03T06:45:00+0530"), T_2026_11_03_0115Z);
}

static void fraction_keeps_milliseconds(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("1970-01-01T00:00:00.5Z"), 500);
    assert_int_equal(parse_ok("1970-01-01T00:00:00.25Z"), 250);
    assert_int_equal(parse_ok("1970-01-01T00:00:00.123Z"), 123);
    assert_int_equal(parse_ok("1970-01-01T00:00:00.123999999Z"), 123); /* truncated */
    parse_bad("1970-01-01T00:00:00.1234567890Z"); /* 10 digits */
    parse_bad("1970-01-01T00:00:00.Z");
}

static void leap_days(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("2024-02-29T00:00:00Z") - parse_ok("2024-02-28T00:00:00Z"),
                     JC_DAY_MS);
    assert_int_equal(parse_ok("2000-02-29T00:00:00Z") - parse_ok("2000-02-28T00:00:00Z"),
                     JC_DAY_MS);
    parse_bad("2023-02-29T00:00:00Z");
    parse_bad("1900-02-29T00:00:00Z");
    int32_t day;
    assert_int_equal(jc_day_parse("2024-02-29", &day, NULL), JC_OK);
    assert_int_equal(jc_day_parse("2023-02-29", &day, NULL), JC_ERR_BAD_FIELD);
}

static void rejects_out_of_range_fields(void **state)
{
    (void)state;
    parse_bad("2026-13-01T00:00:00Z");
    parse_bad("2026-00-01T00:00:00Z");
    parse_bad("2026-04-31T00:00:00Z");
    parse_bad("2026-04-00T00:00:00Z");
    parse_bad("2026-04-30T24:00:00Z");
    parse_bad("2026-04-30T23:60:00Z");
    parse_bad("2026-04-30T23:59:60Z");
    parse_bad("2026-04-30T23:59:59+24:00");
    parse_bad("2026-04-30T23:59:59+08:60");
}

static void rejects_malformed_text_quoting_it(void **state)
{
    (void)state;
    parse_bad("2026-11-03T09:15:00"); /* no offset */
    parse_bad("2026-11-03T09:15:00+08");
    parse_bad("2026-11-03T09:15:00+8:00");
    parse_bad("2026-11-03T09:15:00Zjunk");
    parse_bad("2026-11-03T09:15:00+08:00 ");
    parse_bad("2026-11-03X09:15:00Z");
    parse_bad("2026-11-03T09:15Z");
    parse_bad("26-11-03T09:15:00Z");
    parse_bad("");
    jc_error_t err;
    int64_t ms;
    assert_int_equal(jc_time_parse("2026-02-30T00:00:00Z", &ms, &err), JC_ERR_BAD_FIELD);
    assert_non_null(strstr(err.message, "'2026-02-30T00:00:00Z'"));
    assert_int_equal(jc_time_parse(NULL, &ms, &err), JC_ERR_INVALID_ARG);
}

static void dates_before_1970(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("1969-12-31T23:59:59.999Z"), -1);
    assert_int_equal(parse_ok("1969-07-20T20:17:40Z"), -14182940000LL);
    assert_int_equal(parse_ok("1900-01-01T00:00:00Z"), -2208988800000LL);
    char buf[32];
    jc_time_format(-1, buf, sizeof buf);
    assert_string_equal(buf, "1970-01-01T07:59:59.999+08:00");
    jc_time_format(-14182940000LL, buf, sizeof buf);
    assert_string_equal(buf, "1969-07-21T04:17:40.000+08:00");
    assert_int_equal(jc_local_day(-1), 0); /* already 1970-01-01 in Shanghai */
    assert_int_equal(jc_local_day(-JC_SHANGHAI_OFFSET_MS - 1), -1);
    jc_day_format(-1, buf, sizeof buf);
    assert_string_equal(buf, "1969-12-31");
    int32_t day;
    assert_int_equal(jc_day_parse("1969-12-31", &day, NULL), JC_OK);
    assert_int_equal(day, -1);
    assert_int_equal(jc_day_parse("1600-03-01", &day, NULL), JC_OK);
    jc_day_format(day, buf, sizeof buf);
    assert_string_equal(buf, "1600-03-01");
}

static void format_is_shanghai_with_milliseconds(void **state)
{
    (void)state;
    char buf[32];
    jc_time_format(T_2026_11_03_0115Z + 250, buf, sizeof buf);
    assert_string_equal(buf, "2026-11-03T09:15:00.250+08:00");
    jc_time_format(0, buf, sizeof buf);
    assert_string_equal(buf, "1970-01-01T08:00:00.000+08:00");
    assert_int_equal(parse_ok("2026-11-03T09:15:00.250+08:00"), T_2026_11_03_0115Z + 250);
}

static void format_parse_round_trip(void **state)
{
    (void)state;
    const int64_t samples[] = {0, 1, -1, 1709164800123LL, -86400001LL, 253402271999999LL,
                               -62167219200000LL, 951782400000LL};
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        char buf[32];
        jc_time_format(samples[i], buf, sizeof buf);
        assert_int_equal(parse_ok(buf), samples[i]);
    }
}

static void local_day_crosses_midnight_in_shanghai(void **state)
{
    (void)state;
    int64_t ms = parse_ok("2026-11-27T16:00:00Z");
    char buf[16];
    jc_day_format(jc_local_day(ms), buf, sizeof buf);
    assert_string_equal(buf, "2026-11-28");
    jc_day_format(jc_local_day(ms - 1), buf, sizeof buf);
    assert_string_equal(buf, "2026-11-27");
    int32_t day;
    assert_int_equal(jc_day_parse("2026-11-28", &day, NULL), JC_OK);
    assert_int_equal(day, jc_local_day(ms));
}

static void day_parse_rejects_malformed(void **state)
{
    (void)state;
    int32_t day = 7;
    jc_error_t err;
    assert_int_equal(jc_day_parse("2026-4-01", &day, &err), JC_ERR_BAD_FIELD);
    assert_non_null(strstr(err.message, "'2026-4-01'"));
    assert_int_equal(jc_day_parse("2026-04-01x", &day, &err), JC_ERR_BAD_FIELD);
    assert_int_equal(jc_day_parse("2026-04-31", &day, &err), JC_ERR_BAD_FIELD);
    assert_int_equal(jc_day_parse("2026-13-01", &day, &err), JC_ERR_BAD_FIELD);
    assert_int_equal(day, 7);
    assert_int_equal(jc_day_parse(NULL, &day, &err), JC_ERR_INVALID_ARG);
    assert_int_equal(jc_day_parse("1970-01-01", &day, &err), JC_OK);
    assert_int_equal(day, 0);
}

static void local_day_saturates_far_out(void **state)
{
    (void)state;
    assert_int_equal(jc_local_day(INT64_MAX), INT32_MAX);
    assert_int_equal(jc_local_day(INT64_MIN), INT32_MIN);
}

static void now_is_recent(void **state)
{
    (void)state;
    int64_t now = jc_now_ms();
    assert_true(now > parse_ok("2024-01-01T00:00:00Z"));
    assert_true(now < parse_ok("2200-01-01T00:00:00Z"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_utc_and_offsets),
        cmocka_unit_test(fraction_keeps_milliseconds),
        cmocka_unit_test(leap_days),
        cmocka_unit_test(rejects_out_of_range_fields),
        cmocka_unit_test(rejects_malformed_text_quoting_it),
        cmocka_unit_test(dates_before_1970),
        cmocka_unit_test(format_is_shanghai_with_milliseconds),
        cmocka_unit_test(format_parse_round_trip),
        cmocka_unit_test(local_day_crosses_midnight_in_shanghai),
        cmocka_unit_test(day_parse_rejects_malformed),
        cmocka_unit_test(local_day_saturates_far_out),
        cmocka_unit_test(now_is_recent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
