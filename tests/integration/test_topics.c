/*
 * test_topics.c: topic administration (jiceng/admin.h and the jiceng-topics program) against
 * the real local broker, on scratch topics under a unique prefix: creating twice is fine and
 * reports the topics as existing the second time; creating with another partition count fails
 * with JC_ERR_MISMATCH naming the topic and both counts and leaves the topic as it was; a
 * missing topic is described as missing; an unreachable broker is a timeout.
 */
#include "kafkatest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jiceng/event.h"

static jc_admin_t *admin_for(const char *prefix, const char *props[JC_TEST_PROPS_MAX])
{
    jc_test_props(props, "admin", prefix);
    jc_error_t err;
    jc_admin_t *a = jc_admin_new(props, 30000, &err);
    if (a == NULL)
        fail_msg("admin client: %s", err.message);
    return a;
}

static void create_is_idempotent_and_never_alters(void **state)
{
    (void)state;
    char prefix[64];
    const char *props[JC_TEST_PROPS_MAX];
    jc_test_topic_prefix(prefix, sizeof prefix);
    jc_test_topics_track(prefix);
    jc_admin_t *a = admin_for(prefix, props);
    jc_topic_state_t s[JC_TOPIC_COUNT];
    jc_error_t err;

    assert_int_equal(jc_admin_describe_topics(a, s, &err), JC_OK);
    for (int i = 0; i < JC_TOPIC_COUNT; i++)
        assert_false(s[i].exists);

    jc_topic_settings_t three = {3, 1, -1};
    if (jc_admin_create_topics(a, &three, s, &err) != JC_OK)
        fail_msg("create: %s", err.message);
    for (int i = 0; i < JC_TOPIC_COUNT; i++) {
        assert_true(s[i].exists);
        assert_true(s[i].created);
        assert_int_equal(s[i].partitions, 3);
        assert_int_equal(s[i].replication_factor, 1);
    }
    char visits[128], dead[128];
    snprintf(visits, sizeof visits, "%s%s", prefix, jc_event_topic(JC_VISIT));
    snprintf(dead, sizeof dead, "%s%s", prefix, JC_DEAD_LETTER_TOPIC);
    assert_string_equal(s[0].name, visits);
    assert_string_equal(s[JC_TOPIC_COUNT - 1].name, dead);

    assert_int_equal(jc_admin_create_topics(a, &three, s, &err), JC_OK); /* again: fine */
    for (int i = 0; i < JC_TOPIC_COUNT; i++) {
        assert_true(s[i].exists);
        assert_false(s[i].created);
    }

    jc_topic_settings_t five = {5, 1, -1};
    assert_int_equal(jc_admin_create_topics(a, &five, s, &err), JC_ERR_MISMATCH);
    assert_non_null(strstr(err.message, visits));
    assert_non_null(strstr(err.message, "3 partitions"));
    assert_non_null(strstr(err.message, "5"));
    assert_int_equal(jc_admin_describe_topics(a, s, &err), JC_OK);
    for (int i = 0; i < JC_TOPIC_COUNT; i++)
        assert_int_equal(s[i].partitions, 3); /* untouched */

    assert_int_equal(jc_admin_delete_topics(a, &err), JC_OK);
    jc_admin_free(a);
    jc_test_topics_delete(prefix); /* forgets it; the topics are gone already */
}

static void unreachable_broker_times_out(void **state)
{
    (void)state;
    const char *props[] = {"bootstrap.servers", "127.0.0.1:1", "log_level", "0", NULL};
    jc_error_t err;
    jc_admin_t *a = jc_admin_new(props, 1500, &err);
    assert_non_null(a);
    jc_topic_state_t s[JC_TOPIC_COUNT];
    assert_int_equal(jc_admin_describe_topics(a, s, &err), JC_ERR_TIMEOUT);
    jc_admin_free(a);
    const char *bad[] = {"bootstrap.servers", "127.0.0.1:1", "no.such.thing", "1", NULL};
    assert_null(jc_admin_new(bad, 1500, &err));
    assert_non_null(strstr(err.message, "no.such.thing"));
}

static void program_creates_lists_and_refuses_other_counts(void **state)
{
    (void)state;
    char prefix[64], out[128], cmd[1024];
    jc_test_topic_prefix(prefix, sizeof prefix);
    jc_test_topics_track(prefix);
    snprintf(out, sizeof out, "/tmp/jc_topics_%ld.out", (long)getpid());
    snprintf(cmd, sizeof cmd, "'%s' --config '%s' --topic-prefix '%s'", JC_TOPICS_BIN,
             jc_test_env("JICENG_ADMIN_CONFIG"), prefix);

    assert_int_equal(jc_test_shell("%s create --partitions 2 >'%s' 2>&1", cmd, out), 0);
    char *text = jc_test_slurp(out);
    assert_non_null(strstr(text, "jiceng.visits"));
    assert_non_null(strstr(text, "created  2 partitions"));
    free(text);

    assert_int_equal(jc_test_shell("%s create --partitions 2 >'%s' 2>&1", cmd, out), 0);
    text = jc_test_slurp(out);
    assert_non_null(strstr(text, "exists   2 partitions"));
    assert_null(strstr(text, "created"));
    free(text);

    assert_int_equal(jc_test_shell("%s create --partitions 7 >'%s' 2>&1", cmd, out), 1);
    text = jc_test_slurp(out);
    assert_non_null(strstr(text, "has 2 partitions, not the 7 asked for"));
    assert_non_null(strstr(text, "JC_ERR_MISMATCH"));
    free(text);

    assert_int_equal(jc_test_shell("%s list >'%s' 2>&1", cmd, out), 0);
    text = jc_test_slurp(out);
    assert_non_null(strstr(text, "jiceng.dead-letter"));
    assert_null(strstr(text, "missing"));
    free(text);

    assert_int_equal(jc_test_shell("%s frobnicate >'%s' 2>&1", cmd, out), 2);
    remove(out);
    jc_test_topics_delete(prefix);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(create_is_idempotent_and_never_alters),
        cmocka_unit_test(unreachable_broker_times_out),
        cmocka_unit_test(program_creates_lists_and_refuses_other_counts),
    };
    jc_test_env_load();
    return cmocka_run_group_tests(tests, NULL, jc_test_topics_cleanup);
}
