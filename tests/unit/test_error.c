/*
 * test_error.c: status names and jc_error_t formatting; every message is one line.
 */
#include "testenv.h"

#include <stdio.h>
#include <string.h>

#include "jiceng/common.h"

static void every_status_has_a_distinct_name(void **state)
{
    (void)state;
    for (int a = 0; a < JC_STATUS_COUNT_; a++) {
        assert_string_not_equal(jc_status_name((jc_status_t)a), "JC_ERR_UNKNOWN");
        for (int b = a + 1; b < JC_STATUS_COUNT_; b++)
            assert_string_not_equal(jc_status_name((jc_status_t)a), jc_status_name((jc_status_t)b));
    }
    assert_string_equal(jc_status_name((jc_status_t)JC_STATUS_COUNT_), "JC_ERR_UNKNOWN");
    assert_string_equal(jc_status_name((jc_status_t)-1), "JC_ERR_UNKNOWN");
}

static void error_set_formats_truncates_and_returns_code(void **state)
{
    (void)state;
    jc_error_t err;
    assert_int_equal(jc_error_set(&err, JC_ERR_IO, "open %s: %d", "x.ndjson", 7), JC_ERR_IO);
    assert_int_equal(err.code, JC_ERR_IO);
    assert_string_equal(err.message, "open x.ndjson: 7");
    char big[2000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    jc_error_set(&err, JC_ERR_PARSE, "%s", big);
    assert_int_equal(strlen(err.message), sizeof err.message - 1);
    assert_int_equal(jc_error_set(NULL, JC_ERR_PG, "ignored"), JC_ERR_PG);
    jc_error_clear(&err);
    assert_int_equal(err.code, JC_OK);
    assert_string_equal(err.message, "");
}

/* libpq's messages hold several lines (DETAIL, HINT, a caret under the query) and end in a
 * newline; an error built from one is one line, whatever else it quotes. */
static void messages_are_one_line(void **state)
{
    (void)state;
    jc_error_t err;
    const char *libpq = "ERROR:  relation \"jiceng.nope\" does not exist\n"
                        "LINE 1: select * from jiceng.nope\n"
                        "                      ^\n";
    jc_error_set(&err, JC_ERR_PG, "postgres: %s: %s", "read", libpq);
    assert_string_equal(err.message, "postgres: read: ERROR:  relation \"jiceng.nope\" does not "
                                     "exist LINE 1: select * from jiceng.nope ^");
    jc_error_set(&err, JC_ERR_PG, "connect: %s; retrying",
                 "connection to server at \"127.0.0.1\", port 1 failed: Connection refused\n"
                 "\tIs the server running on that host and accepting TCP/IP connections?\r\n");
    assert_string_equal(err.message, "connect: connection to server at \"127.0.0.1\", port 1 "
                                     "failed: Connection refused Is the server running on that "
                                     "host and accepting TCP/IP connections? ; retrying");
    jc_error_set(&err, JC_ERR_PARSE, "\n\n  quoted \x1b[31mred\x7f  \n");
    assert_string_equal(err.message, "quoted [31mred");
    jc_error_set(&err, JC_ERR_PARSE, "\n");
    assert_string_equal(err.message, "");
    jc_error_set(&err, JC_ERR_PARSE, "  kept  as  is ");
    assert_string_equal(err.message, "  kept  as  is ");
    assert_null(strpbrk(err.message, "\n\r\t"));
}

static void version_is_semver(void **state)
{
    (void)state;
    int a, b, c;
    assert_int_equal(sscanf(jc_version(), "%d.%d.%d", &a, &b, &c), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_status_has_a_distinct_name),
        cmocka_unit_test(error_set_formats_truncates_and_returns_code),
        cmocka_unit_test(messages_are_one_line),
        cmocka_unit_test(version_is_semver),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
