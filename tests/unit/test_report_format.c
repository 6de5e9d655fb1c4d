/*
 * test_report_format.c: how the report writes numbers and lines up columns: Chinese magnitudes
 * (万 below 亿, three significant digits, trailing zeros dropped, rounding up into the next
 * unit), thousands separators, percentages and changes, the display width of CJK and other
 * text, and padding that lines up mixed Chinese/Latin cells by display width.
 */
#include "testenv.h"

#include <string.h>

#include "jiceng/report.h"

static void cn(int64_t v, const char *want)
{
    char buf[32];
    assert_string_equal(jc_format_cn(v, buf, sizeof buf), want);
}

static void small_numbers_stay_plain(void **state)
{
    (void)state;
    cn(0, "0");
    cn(7, "7");
    cn(8600, "8600");
    cn(9999, "9999");
    cn(-42, "-42");
}

static void wan_keeps_three_significant_digits(void **state)
{
    (void)state;
    cn(10000, "1万");
    cn(12345, "1.23万");
    cn(23200, "2.32万");   /* the seed figures' 23,200 cadres */
    cn(86000, "8.6万");    /* 86,000 deeds */
    cn(299000, "29.9万");  /* the brief's example */
    cn(2990000, "299万");  /* 2.99 million people */
    cn(12345678, "1235万");
    cn(-299000, "-29.9万");
}

static void yi_for_hundreds_of_millions(void **state)
{
    (void)state;
    cn(100000000, "1亿");
    cn(120000000, "1.2亿");
    cn(9677000000LL, "96.8亿");
    cn(99999999, "1亿");      /* 9999.9999万 rounds to 10000万: moves up a unit */
    cn(99994999, "9999万");
    cn(99995000, "1亿");
}

static void rounding_within_a_unit(void **state)
{
    (void)state;
    cn(99999, "10万");   /* 9.9999万 -> 10.00 -> trailing zeros dropped */
    cn(100500, "10.1万"); /* 10.05 rounds up (binary 10.05 is just above) */
    cn(1000000, "100万");
    cn(10050, "1万");     /* 1.005 is just below in binary: 1.00 */
}

static void grouped_percent_change(void **state)
{
    (void)state;
    char buf[32];
    assert_string_equal(jc_format_grouped(0, buf, sizeof buf), "0");
    assert_string_equal(jc_format_grouped(999, buf, sizeof buf), "999");
    assert_string_equal(jc_format_grouped(299000, buf, sizeof buf), "299,000");
    assert_string_equal(jc_format_grouped(-1234567, buf, sizeof buf), "-1,234,567");
    assert_string_equal(jc_format_percent(2338, 4095, buf, sizeof buf), "57.1%");
    assert_string_equal(jc_format_percent(5, 4, buf, sizeof buf), "125.0%");
    assert_string_equal(jc_format_percent(0, 0, buf, sizeof buf), "—");
    assert_string_equal(jc_format_change(1032, 1000, buf, sizeof buf), "+3.2%");
    assert_string_equal(jc_format_change(960, 1000, buf, sizeof buf), "-4.0%");
    assert_string_equal(jc_format_change(1000, 1000, buf, sizeof buf), "+0.0%");
    assert_string_equal(jc_format_change(5, 0, buf, sizeof buf), "新增");
    assert_string_equal(jc_format_change(0, 0, buf, sizeof buf), "—");
}

static void display_width_counts_cjk_twice(void **state)
{
    (void)state;
    assert_int_equal(jc_display_width(""), 0);
    assert_int_equal(jc_display_width("Guiyang"), 7);
    assert_int_equal(jc_display_width("贵阳市"), 6);
    assert_int_equal(jc_display_width("贵阳市 Guiyang"), 14);
    assert_int_equal(jc_display_width("29.9万"), 6);
    assert_int_equal(jc_display_width("县(市、区)"), 10);   /* ideographic comma is wide */
    assert_int_equal(jc_display_width("（全角）"), 8);       /* fullwidth parentheses */
    assert_int_equal(jc_display_width("—"), 1);            /* em dash: narrow */
    assert_int_equal(jc_display_width("e\xcc\x81"), 1);    /* e + combining acute */
    assert_int_equal(jc_display_width("\xe4\xb8"), 2);     /* truncated sequence: bytes count */
    assert_int_equal(jc_display_width("\xff" "a"), 2);     /* invalid byte */
    assert_int_equal(jc_display_width("\xf0\xa0\x80\x80"), 2); /* U+20000, CJK extension B */
}

/* Pad the cells of a two-column table and check each row is equally wide and the right column
 * starts and ends at the same display column on every row. */
static void padding_aligns_mixed_text(void **state)
{
    (void)state;
    const char *names[] = {"黔东南苗族侗族自治州 Qiandongnan", "贵阳市 Guiyang", "Sandu", "六盘水市"};
    const char *values[] = {"2418", "3.1万", "—", "1"};
    size_t name_w = 0, value_w = 0;
    for (int i = 0; i < 4; i++) {
        if (jc_display_width(names[i]) > name_w)
            name_w = jc_display_width(names[i]);
        if (jc_display_width(values[i]) > value_w)
            value_w = jc_display_width(values[i]);
    }
    for (int i = 0; i < 4; i++) {
        jc_buf_t b = {0};
        assert_int_equal(jc_text_pad(&b, names[i], name_w, JC_ALIGN_LEFT), JC_OK);
        size_t start = b.len;
        assert_int_equal(jc_display_width((const char *)b.data), name_w);
        assert_int_equal(jc_buf_append_str(&b, "  "), JC_OK);
        assert_int_equal(jc_text_pad(&b, values[i], value_w, JC_ALIGN_RIGHT), JC_OK);
        assert_int_equal(jc_display_width((const char *)b.data), name_w + 2 + value_w);
        /* the value is the last thing on the line: right-aligned */
        assert_string_equal((const char *)b.data + b.len - strlen(values[i]), values[i]);
        assert_true(b.len > start);
        jc_buf_free(&b);
    }
}

static void padding_never_cuts(void **state)
{
    (void)state;
    jc_buf_t b = {0};
    assert_int_equal(jc_text_pad(&b, "贵阳市", 2, JC_ALIGN_RIGHT), JC_OK);
    assert_string_equal((const char *)b.data, "贵阳市");
    jc_buf_reset(&b);
    assert_int_equal(jc_text_pad(&b, "万", 5, JC_ALIGN_RIGHT), JC_OK);
    assert_string_equal((const char *)b.data, "   万");
    jc_buf_reset(&b);
    assert_int_equal(jc_text_pad(&b, "万", 5, JC_ALIGN_LEFT), JC_OK);
    assert_string_equal((const char *)b.data, "万   ");
    jc_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(small_numbers_stay_plain),
        cmocka_unit_test(wan_keeps_three_significant_digits),
        cmocka_unit_test(yi_for_hundreds_of_millions),
        cmocka_unit_test(rounding_within_a_unit),
        cmocka_unit_test(grouped_percent_change),
        cmocka_unit_test(display_width_counts_cjk_twice),
        cmocka_unit_test(padding_aligns_mixed_text),
        cmocka_unit_test(padding_never_cuts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
