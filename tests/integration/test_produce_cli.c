/*
 * test_produce_cli.c: the jiceng-produce program as a county IT team runs it, against the real
 * local broker and scratch topics, as the stack's load generator (its client certificate,
 * $JICENG_PRODUCE_CONFIG, and its signing keys, jc_test_keyring).
 *
 * An NDJSON file with good lines and one of each kind of bad line (invalid JSON, a negative
 * count, an unknown county 999999, a bad enum symbol, a missing field) must end with exactly
 * the bad lines, with their line numbers, statuses and original text, in the rejects file,
 * exit status 1, and the good lines in the topics. --dry-run finds the same lines without a
 * broker. A CSV file goes the same way. With the bootstrap address pointing where nothing
 * listens (127.0.0.1:1, standing in for a broker that went away; the shared broker is never
 * stopped) and message.timeout.ms=3000, every record must be listed undelivered with the
 * delivery error, delivered=0 and exit status 1.
 */
#include "kafkatest.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jiceng/buf.h"
#include "jiceng/jtime.h"
#include "jiceng/ndjson.h"
#include "samples.h"

static char dir[64];

static int make_dir(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/jc_produce_XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int remove_dir(void **state)
{
    (void)state;
    jc_test_shell("rm -rf '%s'", dir);
    return jc_test_topics_cleanup(state);
}

/* ---- input lines ---- */

static void sample_line(jc_buf_t *out, jc_event_type_t type, uint32_t seed)
{
    jc_event_t ev;
    jc_test_sample(&ev, type, seed, jc_now_ms());
    assert_int_equal(jc_ndjson_format(&ev, out, NULL), JC_OK);
}

/* A sample line with member set to value (NULL: member removed). */
static void changed_line(jc_buf_t *out, jc_event_type_t type, uint32_t seed, const char *member,
                         json_t *value)
{
    jc_buf_t line = {0};
    sample_line(&line, type, seed);
    json_t *obj = json_loads((char *)line.data, 0, NULL);
    assert_non_null(obj);
    if (value != NULL)
        json_object_set_new(obj, member, value);
    else
        json_object_del(obj, member);
    char *text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    jc_buf_append_str(out, text);
    jc_buf_append_str(out, "\n");
    free(text);
    json_decref(obj);
    jc_buf_free(&line);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

/* The text of line n (1-based) of text, without its line break, into buf. */
static void nth_line(const char *text, long n, char *buf, size_t len)
{
    for (long i = 1; i < n && text != NULL; i++)
        text = strchr(text, '\n') ? strchr(text, '\n') + 1 : NULL;
    assert_non_null(text);
    size_t l = strcspn(text, "\n");
    if (l > 0 && text[l - 1] == '\r')
        l--; /* records are reported without their line break, CRLF included */
    assert_true(l < len);
    memcpy(buf, text, l);
    buf[l] = '\0';
}

/* ---- the rejects file ---- */

struct reject_want {
    long line;
    const char *status;
};

/* The rejects file holds exactly the wanted lines (any order), each with its source and its
 * original text, and reason containing reason_part. */
static void check_rejects(const char *rejects, const char *source, const char *input,
                          const struct reject_want *want, size_t n, const char *reason_part)
{
    char *text = jc_test_slurp(rejects);
    size_t found = 0;
    char *save = NULL;
    for (char *l = strtok_r(text, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save)) {
        json_error_t jerr;
        json_t *obj = json_loads(l, 0, &jerr);
        if (obj == NULL)
            fail_msg("rejects line is not JSON: %s: %s", jerr.text, l);
        long line = (long)json_integer_value(json_object_get(obj, "line"));
        const char *status = json_string_value(json_object_get(obj, "status"));
        size_t i = 0;
        while (i < n && want[i].line != line)
            i++;
        if (i == n || status == NULL || strcmp(status, want[i].status) != 0)
            fail_msg("unexpected reject: %s", l);
        char original[8192];
        nth_line(input, line, original, sizeof original);
        assert_string_equal(json_string_value(json_object_get(obj, "record")), original);
        assert_string_equal(json_string_value(json_object_get(obj, "source")), source);
        const char *reason = json_string_value(json_object_get(obj, "reason"));
        assert_non_null(reason);
        if (reason_part != NULL && strstr(reason, reason_part) == NULL)
            fail_msg("reason '%s' lacks '%s'", reason, reason_part);
        found++;
        json_decref(obj);
    }
    free(text);
    assert_int_equal(found, n);
}

static void check_summary(const char *errfile, const char *want)
{
    char *text = jc_test_slurp(errfile);
    if (strstr(text, want) == NULL)
        fail_msg("stderr lacks '%s':\n%s", want, text);
    free(text);
}

/* ---- the tests ---- */

/* Lines 1-10: good, invalid JSON, good, negative count, unknown county, bad enum, missing
 * field, good, blank, good. */
static void malformed_input(jc_buf_t *in)
{
    sample_line(in, JC_VISIT, 11);
    jc_buf_append_str(in, "{\"type\":\"visit\",\"event_id\":\n");
    sample_line(in, JC_PETITION, 12);
    changed_line(in, JC_VISIT, 13, "households_visited", json_integer(-1));
    changed_line(in, JC_DISASTER_RESPONSE, 14, "county_code", json_integer(999999));
    changed_line(in, JC_TRAINING_COMPLETION, 15, "trainee_role", json_string("ASTRONAUT"));
    changed_line(in, JC_VISIT, 16, "cadre_id", NULL);
    sample_line(in, JC_DISASTER_RESPONSE, 17);
    jc_buf_append_str(in, "\n");
    sample_line(in, JC_TRAINING_COMPLETION, 18);
}

static const struct reject_want malformed_rejects[] = {
    {2, "JC_ERR_PARSE"},          {4, "JC_ERR_NEGATIVE_COUNT"}, {5, "JC_ERR_UNKNOWN_COUNTY"},
    {6, "JC_ERR_ENUM_RANGE"},     {7, "JC_ERR_MISSING_FIELD"},
};

static void malformed_lines_go_to_rejects_and_good_ones_are_delivered(void **state)
{
    (void)state;
    char prefix[64], input[128], rejects[128], errfile[128];
    jc_test_topic_prefix(prefix, sizeof prefix);
    jc_test_topics_create(prefix, 3);
    snprintf(input, sizeof input, "%s/mixed.ndjson", dir);
    snprintf(rejects, sizeof rejects, "%s/mixed.rejects", dir);
    snprintf(errfile, sizeof errfile, "%s/mixed.err", dir);
    jc_buf_t in = {0};
    malformed_input(&in);
    write_text(input, (char *)in.data);

    int rc = jc_test_shell("'%s' --config '%s' --signing-keys '%s' --topic-prefix '%s' "
                           "--rejects '%s' '%s' 2>'%s'", JC_PRODUCE_BIN,
                           jc_test_env("JICENG_PRODUCE_CONFIG"), jc_test_keyring(), prefix,
                           rejects, input, errfile);
    check_summary(errfile, "read 9, sent 4, delivered 4, rejected 5, undelivered 0");
    assert_int_equal(rc, 1);
    check_rejects(rejects, input, (char *)in.data, malformed_rejects, 5, NULL);
    int64_t total = 0;
    for (int t = 0; t < JC_EVENT_TYPE_COUNT; t++) {
        char topic[128];
        snprintf(topic, sizeof topic, "%s%s", prefix, jc_event_topic((jc_event_type_t)t));
        int64_t n = jc_test_topic_messages(topic);
        assert_int_equal(n, 1); /* one good line of each type */
        total += n;
    }
    assert_int_equal(total, 4);
    jc_buf_free(&in);
    jc_test_topics_delete(prefix);
}

static void dry_run_finds_the_same_lines_without_a_broker(void **state)
{
    (void)state;
    char input[128], rejects[128], errfile[128];
    snprintf(input, sizeof input, "%s/dry.ndjson", dir);
    snprintf(rejects, sizeof rejects, "%s/dry.rejects", dir);
    snprintf(errfile, sizeof errfile, "%s/dry.err", dir);
    jc_buf_t in = {0};
    malformed_input(&in);
    write_text(input, (char *)in.data);
    int rc = jc_test_shell("'%s' --dry-run --bootstrap 127.0.0.1:1 --rejects '%s' - <'%s' 2>'%s'",
                           JC_PRODUCE_BIN, rejects, input, errfile);
    check_summary(errfile, "read 9, sent 0, delivered 0, rejected 5, undelivered 0 (dry run: 4 "
                           "valid");
    assert_int_equal(rc, 1);
    check_rejects(rejects, "<stdin>", (char *)in.data, malformed_rejects, 5, NULL);
    jc_buf_free(&in);
}

static void csv_file_is_delivered_and_its_bad_row_rejected(void **state)
{
    (void)state;
    char prefix[64], input[128], rejects[128], errfile[128], text[2048];
    jc_test_topic_prefix(prefix, sizeof prefix);
    jc_test_topics_create(prefix, 3);
    snprintf(input, sizeof input, "%s/visits.csv", dir);
    snprintf(rejects, sizeof rejects, "%s/visits.rejects", dir);
    snprintf(errfile, sizeof errfile, "%s/visits.err", dir);
    long long t = (long long)jc_now_ms() - 3600 * 1000;
    snprintf(text, sizeof text,
             "event_id,occurred_at,county_code,source,cadre_id,cadre_level,township,village,"
             "households_visited,people_met,deeds_done,problems_solved,stayed_overnight\r\n"
             "0190f5a2-0001-7abc-8def-000000000001,%lld,520111,csv,C-1,COUNTY,青岩镇,龙井村,"
             "1,2,3,4,true\r\n"
             "0190f5a2-0001-7abc-8def-000000000002,%lld,522423,csv,C-2,TOWNSHIP,\"a, b\","
             "\"say \"\"hi\"\"\",5,6,7,8,false\r\n"
             "0190f5a2-0001-7abc-8def-000000000003,%lld,110101,csv,C-3,TOWNSHIP,t,v,1,1,1,1,"
             "false\r\n", t, t, t);
    write_text(input, text);
    int rc = jc_test_shell("'%s' --config '%s' --signing-keys '%s' --topic-prefix '%s' "
                           "--format csv --type visit --rejects '%s' '%s' 2>'%s'",
                           JC_PRODUCE_BIN, jc_test_env("JICENG_PRODUCE_CONFIG"),
                           jc_test_keyring(), prefix, rejects, input, errfile);
    check_summary(errfile, "read 3, sent 2, delivered 2, rejected 1, undelivered 0");
    assert_int_equal(rc, 1);
    const struct reject_want want[] = {{4, "JC_ERR_UNKNOWN_COUNTY"}};
    check_rejects(rejects, input, text, want, 1, "110101");
    char topic[128];
    snprintf(topic, sizeof topic, "%sjiceng.visits", prefix);
    assert_int_equal(jc_test_topic_messages(topic), 2);
    jc_test_topics_delete(prefix);
}

static void broker_down_every_record_is_undelivered(void **state)
{
    (void)state;
    char input[128], rejects[128], errfile[128];
    snprintf(input, sizeof input, "%s/down.ndjson", dir);
    snprintf(rejects, sizeof rejects, "%s/down.rejects", dir);
    snprintf(errfile, sizeof errfile, "%s/down.err", dir);
    jc_buf_t in = {0};
    for (int t = 0; t < JC_EVENT_TYPE_COUNT; t++)
        sample_line(&in, (jc_event_type_t)t, 40u + (uint32_t)t);
    write_text(input, (char *)in.data);
    int rc = jc_test_shell("'%s' --config '%s' --signing-keys '%s' --bootstrap 127.0.0.1:1 "
                           "-X message.timeout.ms=3000 --rejects '%s' '%s' 2>'%s'",
                           JC_PRODUCE_BIN, jc_test_env("JICENG_PRODUCE_CONFIG"),
                           jc_test_keyring(), rejects, input, errfile);
    check_summary(errfile, "read 4, sent 4, delivered 0, rejected 0, undelivered 4");
    assert_int_equal(rc, 1);
    const struct reject_want want[] = {{1, "JC_ERR_TIMEOUT"}, {2, "JC_ERR_TIMEOUT"},
                                       {3, "JC_ERR_TIMEOUT"}, {4, "JC_ERR_TIMEOUT"}};
    check_rejects(rejects, input, (char *)in.data, want, 4, "not delivered: Local: Message timed out");
    jc_buf_free(&in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(malformed_lines_go_to_rejects_and_good_ones_are_delivered),
        cmocka_unit_test(dry_run_finds_the_same_lines_without_a_broker),
        cmocka_unit_test(csv_file_is_delivered_and_its_bad_row_rejected),
        cmocka_unit_test(broker_down_every_record_is_undelivered),
    };
    jc_test_env_load();
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
