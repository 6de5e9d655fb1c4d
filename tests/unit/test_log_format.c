/*
 * test_log_format.c: the programs' log lines (cli/cli.h, issue 12 item 3) captured in a memory
 * stream: text lines as before ("NAME: message"); JSON lines, one object a line with exactly
 * ts (RFC 3339 UTC with milliseconds), level, program, event and msg, read back with jansson;
 * quotes, backslashes, newlines and other control characters escaped, UTF-8 kept, bytes that
 * are not UTF-8 (a character cut in two) replaced by U+FFFD so that the line stays JSON;
 * filtering by level; --log-format / --log-level from flags and the environment, and their usage
 * errors; the "config" line shows the options but no secret. No service is contacted.
 */
#include "testenv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

/* The memory stream's buffer (static: the stream keeps its address until closed). */
static char *captured;
static size_t captured_len;

/* Write the occurrences with sink (its out replaced by a memory stream); return the text. */
static char *capture(jc_cli_log_t *sink, void (*emit)(jc_cli_log_t *))
{
    captured = NULL;
    FILE *out = open_memstream(&captured, &captured_len);
    assert_non_null(out);
    sink->out = out;
    emit(sink);
    fclose(out);
    sink->out = NULL;
    return captured;
}

static void emit_levels(jc_cli_log_t *sink)
{
    jc_cli_log(sink, JC_LOG_DEBUG, "reject", "a debug line");
    jc_cli_log(sink, JC_LOG_INFO, "start", "an info line");
    jc_cli_log(sink, JC_LOG_WARN, "pg_retry", "a warn line");
    jc_cli_log(sink, JC_LOG_ERROR, "exit", "an error line");
}

static void text_lines_filtered_by_level(void **state)
{
    (void)state;
    jc_cli_log_t sink = {.name = "jc-test", .min = JC_LOG_WARN};
    char *text = capture(&sink, emit_levels);
    assert_string_equal(text, "jc-test: a warn line\njc-test: an error line\n");
    free(text);
    sink.min = JC_LOG_DEBUG;
    text = capture(&sink, emit_levels);
    assert_string_equal(text, "jc-test: a debug line\njc-test: an info line\n"
                              "jc-test: a warn line\njc-test: an error line\n");
    free(text);
}

/* true if ts reads YYYY-MM-DDTHH:MM:SS.mmmZ */
static bool rfc3339_ms_utc(const char *ts)
{
    const char *shape = "dddd-dd-ddTdd:dd:dd.dddZ";
    if (strlen(ts) != strlen(shape))
        return false;
    for (size_t i = 0; shape[i]; i++)
        if (shape[i] == 'd' ? (ts[i] < '0' || ts[i] > '9') : ts[i] != shape[i])
            return false;
    return true;
}

/* The JSON lines of text, each checked for its five keys (and no other): the objects. */
static size_t parse_lines(const char *text, json_t **objs, size_t max)
{
    size_t n = 0;
    for (const char *line = text; *line != '\0'; n++) {
        const char *nl = strchr(line, '\n');
        assert_non_null(nl); /* every line ends with a newline */
        assert_true(n < max);
        json_error_t jerr;
        objs[n] = json_loadb(line, (size_t)(nl - line), 0, &jerr);
        if (objs[n] == NULL)
            fail_msg("not JSON (%s): %.*s", jerr.text, (int)(nl - line), line);
        assert_true(json_is_object(objs[n]));
        assert_int_equal(json_object_size(objs[n]), 5);
        const char *keys[] = {"ts", "level", "program", "event", "msg"};
        for (size_t k = 0; k < 5; k++)
            assert_true(json_is_string(json_object_get(objs[n], keys[k])));
        assert_true(rfc3339_ms_utc(json_string_value(json_object_get(objs[n], "ts"))));
        line = nl + 1;
    }
    return n;
}

static const char *field(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static void json_lines_filtered_by_level(void **state)
{
    (void)state;
    jc_cli_log_t sink = {.name = "jc-test", .min = JC_LOG_INFO, .format = JC_CLI_LOG_JSON};
    char *text = capture(&sink, emit_levels);
    json_t *objs[8];
    size_t n = parse_lines(text, objs, 8);
    assert_int_equal(n, 3);
    assert_string_equal(field(objs[0], "level"), "info");
    assert_string_equal(field(objs[0], "event"), "start");
    assert_string_equal(field(objs[0], "program"), "jc-test");
    assert_string_equal(field(objs[0], "msg"), "an info line");
    assert_string_equal(field(objs[1], "level"), "warn");
    assert_string_equal(field(objs[1], "event"), "pg_retry");
    assert_string_equal(field(objs[2], "level"), "error");
    assert_string_equal(field(objs[2], "event"), "exit");
    /* the keys in a fixed order, for people reading the raw lines */
    assert_true(strncmp(text, "{\"ts\":\"", 7) == 0);
    assert_non_null(strstr(text, "\",\"level\":\"info\",\"program\":\"jc-test\",\"event\":\"start\","
                                 "\"msg\":\"an info line\"}\n"));
    for (size_t i = 0; i < n; i++)
        json_decref(objs[i]);
    free(text);
}

/* What a message may hold: quotes, a backslash, newlines, a tab, other control characters,
 * CJK, and a three-byte character cut after its first two bytes (as the library's 1023-byte
 * limit may cut one), then a lone continuation byte and an overlong NUL. */
static const char nasty[] = "say \"hi\" \\ back\nline2\r\n\ttab \x01\x1f end 花果园 cut:\xe8\xb1"
                            " lone:\x80 overlong:\xc0\x80.";
static const char repaired[] = "say \"hi\" \\ back\nline2\r\n\ttab \x01\x1f end 花果园 cut:\xef\xbf\xbd"
                               "\xef\xbf\xbd lone:\xef\xbf\xbd overlong:\xef\xbf\xbd\xef\xbf\xbd.";

static void emit_nasty(jc_cli_log_t *sink)
{
    jc_cli_log(sink, JC_LOG_WARN, "we\"ird\n", nasty);
}

static void json_escapes_and_repairs(void **state)
{
    (void)state;
    jc_cli_log_t sink = {.name = "jc-\"test\"", .min = JC_LOG_DEBUG, .format = JC_CLI_LOG_JSON};
    char *text = capture(&sink, emit_nasty);
    /* one physical line: the newlines of the message are escaped */
    assert_non_null(strchr(text, '\n'));
    assert_int_equal(strchr(text, '\n')[1], '\0');
    for (const char *c = text; *c != '\n'; c++)
        assert_true((unsigned char)*c >= 0x20);
    assert_non_null(strstr(text, "say \\\"hi\\\" \\\\ back\\nline2\\r\\n\\ttab \\u0001\\u001F end"));
    json_t *objs[2];
    assert_int_equal(parse_lines(text, objs, 2), 1);
    assert_string_equal(field(objs[0], "msg"), repaired);
    assert_string_equal(field(objs[0], "event"), "we\"ird\n");
    assert_string_equal(field(objs[0], "program"), "jc-\"test\"");
    json_decref(objs[0]);
    free(text);
}

static void emit_long(jc_cli_log_t *sink)
{
    char big[5000];
    memset(big, 'y', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    jc_cli_logf(sink, JC_LOG_INFO, "config", "config: %s %d", big, 7);
}

static void logf_formats_any_length(void **state)
{
    (void)state;
    jc_cli_log_t sink = {.name = "jc-test", .min = JC_LOG_INFO};
    char *text = capture(&sink, emit_long);
    assert_int_equal(strlen(text), strlen("jc-test: config: ") + 4999 + strlen(" 7\n"));
    assert_string_equal(text + strlen(text) - 3, " 7\n");
    free(text);
}

/* ---- the options ---- */

static const jc_option_t options[] = {
    {"pg.conninfo", "conninfo", "JC_LOGTEST_CONNINFO", NULL, "STR", "a conninfo"},
    {"api.token", "api-token", "JC_LOGTEST_TOKEN", NULL, "T", "a secret by its name"},
    {"jiceng.topic.prefix", "topic-prefix", NULL, "", "PREFIX", "topic prefix"},
    {"group.id", "group", NULL, "g1", "NAME", "group"},
    JC_CLI_LOG_OPTIONS,
};

static const jc_program_t program = {
    .name = "jc-test", .synopsis = "[OPTIONS]", .options = options,
    .noptions = sizeof options / sizeof options[0],
};

static int clean_env(void **state)
{
    (void)state;
    const char *vars[] = {"JICENG_CONFIG", "JICENG_ENV_FILE", "JICENG_STATE", "JICENG_LOG_FORMAT",
                          "JICENG_LOG_LEVEL", "JC_LOGTEST_CONNINFO", "JC_LOGTEST_TOKEN"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        unsetenv(vars[i]);
    return 0;
}

/* Configure a sink from argv (NULL-terminated; --env-file /dev/null keeps the stack out). */
static jc_status_t configure(jc_cli_log_t *sink, jc_config_t **cfg, jc_error_t *err, char **argv)
{
    int argc = 0;
    while (argv[argc] != NULL)
        argc++;
    *cfg = jc_config_new(&program, err);
    assert_non_null(*cfg);
    jc_status_t st = jc_config_load(*cfg, argc, argv, err);
    if (st != JC_OK)
        fail_msg("load: %s", err->message);
    return jc_cli_log_configure(sink, *cfg, err);
}

static void options_from_flags_and_environment(void **state)
{
    (void)state;
    jc_cli_log_t sink = {.name = "jc-test"};
    jc_config_t *cfg;
    jc_error_t err;
    char *defaults[] = {"jc-test", "--env-file", "/dev/null", NULL};
    assert_int_equal(configure(&sink, &cfg, &err, defaults), JC_OK);
    assert_int_equal(sink.format, JC_CLI_LOG_TEXT);
    assert_int_equal(sink.min, JC_LOG_INFO);
    jc_config_free(cfg);
    char *flags[] = {"jc-test", "--env-file", "/dev/null", "--log-format", "json",
                     "--log-level", "warn", NULL};
    assert_int_equal(configure(&sink, &cfg, &err, flags), JC_OK);
    assert_int_equal(sink.format, JC_CLI_LOG_JSON);
    assert_int_equal(sink.min, JC_LOG_WARN);
    jc_config_free(cfg);
    setenv("JICENG_LOG_FORMAT", "JSON", 1);
    setenv("JICENG_LOG_LEVEL", "debug", 1);
    assert_int_equal(configure(&sink, &cfg, &err, defaults), JC_OK);
    assert_int_equal(sink.format, JC_CLI_LOG_JSON);
    assert_int_equal(sink.min, JC_LOG_DEBUG);
    jc_config_free(cfg);
}

static void bad_values_are_usage_errors(void **state)
{
    (void)state;
    jc_cli_log_t sink = {.name = "jc-test"};
    jc_config_t *cfg;
    jc_error_t err;
    char *format[] = {"jc-test", "--env-file", "/dev/null", "--log-format", "xml", NULL};
    assert_int_equal(configure(&sink, &cfg, &err, format), JC_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "--log-format"));
    assert_non_null(strstr(err.message, "'xml' is not text or json"));
    jc_config_free(cfg);
    setenv("JICENG_LOG_LEVEL", "loud", 1);
    char *level[] = {"jc-test", "--env-file", "/dev/null", NULL};
    assert_int_equal(configure(&sink, &cfg, &err, level), JC_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "'loud' is not debug, info, warn or error"));
    jc_config_free(cfg);
    jc_log_level_t l = JC_LOG_INFO;
    assert_true(jc_cli_log_level_parse("ERROR", &l));
    assert_int_equal(l, JC_LOG_ERROR);
    assert_false(jc_cli_log_level_parse("", &l));
    assert_false(jc_cli_log_level_parse(NULL, &l));
}

static jc_config_t *config_cfg;

static void emit_config(jc_cli_log_t *sink)
{
    jc_cli_log_config(sink, &program, config_cfg);
}

static void config_line_without_secrets(void **state)
{
    (void)state;
    jc_cli_log_t sink = {.name = "jc-test"};
    jc_error_t err;
    setenv("JC_LOGTEST_CONNINFO", "host=db user=agg password=hunter2 dbname=j", 1);
    setenv("JC_LOGTEST_TOKEN", "s3cr3t-token", 1);
    char *argv[] = {"jc-test", "--env-file", "/dev/null", "--topic-prefix", "t1.",
                    "-X", "client.id=c 1", "-X", "sasl.oauthbearer.config=clientSecret=xyzzy",
                    NULL};
    assert_int_equal(configure(&sink, &config_cfg, &err, argv), JC_OK);
    char *text = capture(&sink, emit_config);
    assert_null(strstr(text, "hunter2"));
    assert_null(strstr(text, "s3cr3t"));
    assert_null(strstr(text, "xyzzy"));
    assert_string_equal(text, "jc-test: config: pg.conninfo='host=db user=agg password=*** "
                              "dbname=j' api.token=*** jiceng.topic.prefix=t1. group.id=g1 "
                              "log.format=text log.level=info; kafka properties: "
                              "client.id='c 1' sasl.oauthbearer.config=***; configuration file "
                              "none\n");
    free(text);
    jc_config_free(config_cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(text_lines_filtered_by_level),
        cmocka_unit_test(json_lines_filtered_by_level),
        cmocka_unit_test(json_escapes_and_repairs),
        cmocka_unit_test(logf_formats_any_length),
        cmocka_unit_test_setup_teardown(options_from_flags_and_environment, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(bad_values_are_usage_errors, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(config_line_without_secrets, clean_env, clean_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
