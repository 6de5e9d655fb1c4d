/*
 * test_log.c: the library's log seam (jiceng/log.h, lib/logging.h) and the programs' side of it
 * (cli/cli.h): a message reaches the callback with its level and event key, folded onto one
 * line and cut to size; no callback means no call; the programs' sink writes "NAME: message"
 * at or above its level and ends an open progress line first. No service is contacted.
 */
#include "testenv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/logging.h"
#include "cli.h"

struct seen {
    int calls;
    jc_log_level_t level;
    char event[64];
    char message[2048];
};

static void record(void *opaque, jc_log_level_t level, const char *event, const char *message)
{
    struct seen *s = opaque;
    s->calls++;
    s->level = level;
    snprintf(s->event, sizeof s->event, "%s", event);
    snprintf(s->message, sizeof s->message, "%s", message);
}

static void message_reaches_the_callback_as_one_line(void **state)
{
    (void)state;
    struct seen s = {0};
    /* as libpq words an error: several lines, a tab, a trailing newline */
    jc_logf(record, &s, JC_LOG_WARN, "pg_retry", "%s; retrying in %d ms",
            "postgres: connect: connection refused\n\tIs the server running?\n", 400);
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.level, JC_LOG_WARN);
    assert_string_equal(s.event, "pg_retry");
    assert_string_equal(s.message, "postgres: connect: connection refused Is the server "
                                   "running? ; retrying in 400 ms");
    jc_logf(record, &s, JC_LOG_INFO, "migrations_applied", "applied %d migration(s)\r\n", 3);
    assert_int_equal(s.calls, 2);
    assert_string_equal(s.message, "applied 3 migration(s)");
}

static void long_messages_are_cut_not_overrun(void **state)
{
    (void)state;
    struct seen s = {0};
    char big[4000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    jc_logf(record, &s, JC_LOG_ERROR, "dead_letter_failed", "%s", big);
    assert_int_equal(s.calls, 1);
    assert_int_equal(strlen(s.message), 1023);
}

static void no_callback_no_call(void **state)
{
    (void)state;
    jc_logf(NULL, NULL, JC_LOG_ERROR, "kafka_error", "nobody listens: %d", 1);
}

static void levels_have_names_and_syslog_maps_onto_them(void **state)
{
    (void)state;
    assert_string_equal(jc_log_level_name(JC_LOG_DEBUG), "debug");
    assert_string_equal(jc_log_level_name(JC_LOG_INFO), "info");
    assert_string_equal(jc_log_level_name(JC_LOG_WARN), "warn");
    assert_string_equal(jc_log_level_name(JC_LOG_ERROR), "error");
    assert_string_equal(jc_log_level_name((jc_log_level_t)42), "?");
    assert_int_equal(jc_log_level_from_syslog(0), JC_LOG_ERROR);
    assert_int_equal(jc_log_level_from_syslog(3), JC_LOG_ERROR);
    assert_int_equal(jc_log_level_from_syslog(4), JC_LOG_WARN);
    assert_int_equal(jc_log_level_from_syslog(5), JC_LOG_INFO);
    assert_int_equal(jc_log_level_from_syslog(6), JC_LOG_INFO);
    assert_int_equal(jc_log_level_from_syslog(7), JC_LOG_DEBUG);
}

/* The sink, and a progress line that writes into the same memory stream as if it were the
 * terminal. */
static void sink_filters_by_level_and_ends_the_progress_line(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    jc_progress_t progress;
    jc_progress_init(&progress, "jc-test");
    progress.out = out; /* as if stderr were a terminal */
    jc_cli_log_t sink = {.name = "jc-test", .min = JC_LOG_INFO, .progress = &progress,
                         .out = out};
    jc_progress_show(&progress, "consumed %d", 5);
    jc_logf(jc_cli_log, &sink, JC_LOG_DEBUG, "partitions_assigned", "not shown");
    jc_logf(jc_cli_log, &sink, JC_LOG_WARN, "batch_dropped", "batch dropped: %s", "fenced");
    jc_progress_show(&progress, "consumed %d", 9);
    jc_progress_end(&progress);
    jc_progress_end(&progress); /* nothing open: nothing written */
    fclose(out);
    assert_string_equal(text, "\rjc-test: consumed 5   \n"
                              "jc-test: batch dropped: fenced\n"
                              "\rjc-test: consumed 9   \n");
    free(text);
}

static void progress_off_the_terminal_writes_nothing(void **state)
{
    (void)state;
    jc_progress_t progress;
    jc_progress_init(&progress, "jc-test");
    progress.out = NULL; /* as when stderr is not a terminal */
    assert_false(jc_progress_enabled(&progress));
    jc_progress_show(&progress, "consumed %d", 5);
    assert_false(progress.open);
    jc_progress_end(&progress);
    assert_true(jc_progress_rate(&progress, 0) >= 0.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(message_reaches_the_callback_as_one_line),
        cmocka_unit_test(long_messages_are_cut_not_overrun),
        cmocka_unit_test(no_callback_no_call),
        cmocka_unit_test(levels_have_names_and_syslog_maps_onto_them),
        cmocka_unit_test(sink_filters_by_level_and_ends_the_progress_line),
        cmocka_unit_test(progress_off_the_terminal_writes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
