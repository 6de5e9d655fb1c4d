/*
 * test_kafkautil.c: one property list for two kinds of client (issue 11, item 14): a property
 * librdkafka marks as consumers' only is not set on a producer's configuration, a producers'
 * one not on a consumer's, one for both on both; unknown names and jiceng.* names behave as
 * with jc_kafka_conf_apply. And the SHA-256 hex digest the dead-letter copies' headers carry.
 */
#include "testenv.h"

#include <string.h>

#include "../../lib/digest.h"
#include "../../lib/kafkautil.h"

/* Whether conf has name set to value (a topic property in its default topic configuration). */
static int has(rd_kafka_conf_t *conf, const char *name, const char *value)
{
    char v[256];
    size_t n = sizeof v;
    if (rd_kafka_conf_get(conf, name, v, &n) == RD_KAFKA_CONF_OK)
        return strcmp(v, value) == 0;
    rd_kafka_topic_conf_t *t = rd_kafka_conf_get_default_topic_conf(conf);
    n = sizeof v;
    return t != NULL && rd_kafka_topic_conf_get(t, name, v, &n) == RD_KAFKA_CONF_OK &&
           strcmp(v, value) == 0;
}

static const char *const props[] = {
    "fetch.max.bytes", "8388608",        /* C */
    "auto.offset.reset", "error",        /* C, a topic property */
    "message.timeout.ms", "4321",        /* P, a topic property */
    "linger.ms", "17",                   /* P */
    "socket.timeout.ms", "12345",        /* * */
    "jiceng.topic.prefix", "t.",         /* ours: checked, never set */
    NULL,
};

static void each_client_takes_its_own_properties(void **state)
{
    (void)state;
    jc_error_t err;
    rd_kafka_conf_t *c = rd_kafka_conf_new(), *p = rd_kafka_conf_new();
    assert_int_equal(jc_kafka_conf_apply_for(c, RD_KAFKA_CONSUMER, props, &err), JC_OK);
    assert_int_equal(jc_kafka_conf_apply_for(p, RD_KAFKA_PRODUCER, props, &err), JC_OK);
    assert_true(has(c, "fetch.max.bytes", "8388608"));
    assert_false(has(p, "fetch.max.bytes", "8388608"));
    assert_true(has(c, "auto.offset.reset", "error"));
    assert_false(has(p, "auto.offset.reset", "error"));
    assert_true(has(p, "message.timeout.ms", "4321"));
    assert_false(has(c, "message.timeout.ms", "4321"));
    assert_true(has(p, "linger.ms", "17"));
    assert_false(has(c, "linger.ms", "17"));
    assert_true(has(c, "socket.timeout.ms", "12345"));
    assert_true(has(p, "socket.timeout.ms", "12345"));
    rd_kafka_conf_destroy(c);
    rd_kafka_conf_destroy(p);
}

static void unknown_names_are_still_refused(void **state)
{
    (void)state;
    jc_error_t err;
    const char *const bad[] = {"fetch.max.byte", "1", NULL};
    const char *const ours[] = {"jiceng.nonsense", "1", NULL};
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    assert_int_equal(jc_kafka_conf_apply_for(c, RD_KAFKA_PRODUCER, bad, &err), JC_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "fetch.max.byte"));
    assert_int_equal(jc_kafka_conf_apply_for(c, RD_KAFKA_CONSUMER, ours, &err), JC_ERR_INVALID_ARG);
    assert_int_equal(jc_kafka_conf_apply(c, bad, &err), JC_ERR_INVALID_ARG);
    rd_kafka_conf_destroy(c);
}

static void sha256_hex_matches_the_standard_vectors(void **state)
{
    (void)state;
    jc_error_t err;
    char hex[JC_SHA256_HEX_SIZE];
    assert_int_equal(jc_sha256_hex("abc", 3, hex, &err), JC_OK);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_int_equal(jc_sha256_hex(NULL, 0, hex, &err), JC_OK);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_client_takes_its_own_properties),
        cmocka_unit_test(unknown_names_are_still_refused),
        cmocka_unit_test(sha256_hex_matches_the_standard_vectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
