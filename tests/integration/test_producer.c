/*
 * test_producer.c: jc_producer against the real local broker. Events of all four types (and a
 * second event of one county, and one with an old county code) go through jc_producer_send to
 * scratch topics; each is read back with a plain librdkafka consumer at the partition and
 * offset its delivery report named, and must be byte for byte what jc_codec_encode makes of
 * the validated event, keyed by the (current) county code in decimal, in the partition
 * librdkafka's murmur2_random gives that key. Also: a full librdkafka queue makes sending wait
 * for room rather than fail; a validation failure is returned at once
 * with no delivery report; an unknown property is named; and with no broker, freeing the
 * producer reports every pending event as NOT delivered.
 */
#include "kafkatest.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jiceng/codec.h"
#include "jiceng/jtime.h"
#include "jiceng/producer.h"
#include "jiceng/validate.h"
#include "samples.h"

#define PARTITIONS 6
#define NEVENTS 6

struct report {
    int calls;
    jc_status_t status;
    int32_t partition;
    int64_t offset;
};

static void on_delivery(void *opaque, jc_status_t status, int32_t partition, int64_t offset,
                        const char *errstr, void *ud)
{
    (void)errstr;
    struct report *r = opaque;
    r->calls++;
    r->status = status;
    r->partition = partition;
    r->offset = offset;
    (*(int *)ud)++;
}

/* Six valid events: one per type, a second visit of the first visit's county, and a visit with
 * the old code 522423 (which maps through 520522 to 520581). */
static void make_events(jc_event_t ev[NEVENTS])
{
    int64_t now = jc_now_ms();
    for (int t = 0; t < JC_EVENT_TYPE_COUNT; t++)
        jc_test_sample(&ev[t], (jc_event_type_t)t, 1000u + (uint32_t)t, now);
    jc_test_sample(&ev[4], JC_VISIT, 2024u, now);
    ev[4].county_code = ev[0].county_code;
    jc_test_sample(&ev[5], JC_VISIT, 77u, now);
    ev[5].county_code = 522423;
}

/* The message at topic [partition] @offset, read with a group-less assigned consumer. */
static rd_kafka_message_t *fetch(rd_kafka_t *rk, const char *topic, int32_t partition,
                                 int64_t offset)
{
    rd_kafka_topic_partition_list_t *tp = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(tp, topic, partition)->offset = offset;
    assert_int_equal(rd_kafka_assign(rk, tp), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(tp);
    for (int i = 0; i < 300; i++) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (m == NULL)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR && m->offset == offset)
            return m;
        if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
            fail_msg("consume %s [%d]: %s", topic, (int)partition, rd_kafka_message_errstr(m));
        rd_kafka_message_destroy(m);
    }
    fail_msg("%s [%d] @%lld not read back within 30 s", topic, (int)partition, (long long)offset);
    return NULL;
}

/* A consumer as the administrator: the load generator, a county principal, may not read. */
static rd_kafka_t *plain_consumer(void)
{
    char errstr[512];
    rd_kafka_conf_t *conf = jc_test_rdkafka_conf("admin");
    const char *set[][2] = {{"group.id", "jiceng-test-producer"},
                            {"enable.auto.commit", "false"}};
    for (size_t i = 0; i < 2; i++)
        assert_int_equal(rd_kafka_conf_set(conf, set[i][0], set[i][1], errstr, sizeof errstr),
                         RD_KAFKA_CONF_OK);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    if (rk == NULL)
        fail_msg("consumer: %s", errstr);
    return rk;
}

/* Check one delivered event against what was expected of it. */
static void check_message(rd_kafka_t *rk, const char *topic, const struct report *r,
                          const jc_buf_t *want, int32_t county)
{
    rd_kafka_message_t *m = fetch(rk, topic, r->partition, r->offset);
    char key[16];
    int keylen = snprintf(key, sizeof key, "%d", (int)county);
    assert_int_equal(m->key_len, (size_t)keylen);
    assert_memory_equal(m->key, key, (size_t)keylen);
    assert_int_equal(m->len, want->len);
    assert_memory_equal(m->payload, want->data, want->len);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    int32_t expected = rd_kafka_msg_partitioner_murmur2_random(rkt, key, (size_t)keylen,
                                                               PARTITIONS, NULL, NULL);
    assert_int_equal(r->partition, expected);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_message_destroy(m);
}

static void four_types_read_back_byte_exact(void **state)
{
    (void)state;
    char prefix[64];
    jc_test_topic_prefix(prefix, sizeof prefix);
    jc_test_topics_create(prefix, PARTITIONS);
    const char *props[JC_TEST_PROPS_MAX];
    jc_test_props(props, "loadgen", prefix);
    jc_error_t err;
    int reports = 0;
    jc_producer_t *p = jc_producer_new(props, on_delivery, &reports, &err);
    if (p == NULL)
        fail_msg("producer: %s", err.message);

    jc_event_t ev[NEVENTS], expected[NEVENTS];
    jc_buf_t want[NEVENTS] = {{0}};
    struct report rep[NEVENTS] = {{0}};
    jc_codec_t *codec = jc_codec_new(&err);
    assert_non_null(codec);
    make_events(ev);
    for (int i = 0; i < NEVENTS; i++) {
        expected[i] = ev[i];
        assert_int_equal(jc_event_validate(&expected[i], jc_now_ms(), JC_DEFAULT_MAX_SKEW_MS,
                                           &err), JC_OK);
        assert_int_equal(jc_codec_encode(codec, &expected[i], &want[i], &err), JC_OK);
        if (jc_producer_send(p, &ev[i], &rep[i], &err) != JC_OK)
            fail_msg("send %d: %s", i, err.message);
    }
    assert_int_equal(ev[5].county_code, 520581); /* mapped in place */
    assert_int_equal(jc_producer_flush(p, 30000, &err), JC_OK);
    assert_int_equal(reports, NEVENTS);
    assert_int_equal(jc_producer_outstanding(p), 0);

    rd_kafka_t *rk = plain_consumer();
    for (int i = 0; i < NEVENTS; i++) {
        assert_int_equal(rep[i].calls, 1);
        assert_int_equal(rep[i].status, JC_OK);
        check_message(rk, jc_producer_topic(p, ev[i].type), &rep[i], &want[i],
                      expected[i].county_code);
        jc_buf_free(&want[i]);
    }
    assert_int_equal(rep[4].partition, rep[0].partition); /* one county, one partition */
    char petitions[128];
    snprintf(petitions, sizeof petitions, "%sjiceng.petitions", prefix);
    assert_string_equal(jc_producer_topic(p, JC_PETITION), petitions);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    jc_codec_free(codec);
    jc_producer_free(p);
    jc_test_topics_delete(prefix);
}

/* With room for only 4 messages in librdkafka's queue, sending 40 waits for room (serving
 * delivery reports) instead of failing, and every event is delivered once. */
static void full_queue_waits_for_room(void **state)
{
    (void)state;
    char prefix[64];
    jc_test_topic_prefix(prefix, sizeof prefix);
    jc_test_topics_create(prefix, PARTITIONS);
    const char *props[JC_TEST_PROPS_MAX];
    jc_test_props(props, "loadgen", prefix);
    jc_test_props_add(props, "queue.buffering.max.messages", "4");
    jc_error_t err;
    int reports = 0;
    jc_producer_t *p = jc_producer_new(props, on_delivery, &reports, &err);
    if (p == NULL)
        fail_msg("producer: %s", err.message);
    struct report rep[40] = {{0}};
    for (uint32_t i = 0; i < 40; i++) {
        jc_event_t ev;
        jc_test_sample(&ev, (jc_event_type_t)(i % JC_EVENT_TYPE_COUNT), i, jc_now_ms());
        if (jc_producer_send(p, &ev, &rep[i], &err) != JC_OK)
            fail_msg("send %u: %s", i, err.message);
        assert_true(jc_producer_outstanding(p) <= 4);
    }
    assert_int_equal(jc_producer_flush(p, 30000, &err), JC_OK);
    assert_int_equal(reports, 40);
    for (int i = 0; i < 40; i++) {
        assert_int_equal(rep[i].calls, 1);
        assert_int_equal(rep[i].status, JC_OK);
    }
    jc_producer_free(p);
    jc_test_topics_delete(prefix);
}

static void invalid_event_is_refused_without_a_report(void **state)
{
    (void)state;
    const char *props[JC_TEST_PROPS_MAX];
    jc_test_props(props, "loadgen", "unused.");
    jc_error_t err;
    int reports = 0;
    jc_producer_t *p = jc_producer_new(props, on_delivery, &reports, &err);
    assert_non_null(p);
    jc_event_t ev;
    jc_test_sample(&ev, JC_DISASTER_RESPONSE, 5, jc_now_ms());
    ev.county_code = 999999;
    struct report r = {0};
    assert_int_equal(jc_producer_send(p, &ev, &r, &err), JC_ERR_UNKNOWN_COUNTY);
    jc_test_sample(&ev, JC_VISIT, 5, jc_now_ms());
    ev.u.visit.people_met = -1;
    assert_int_equal(jc_producer_send(p, &ev, &r, &err), JC_ERR_NEGATIVE_COUNT);
    assert_int_equal(jc_producer_outstanding(p), 0);
    assert_int_equal(jc_producer_flush(p, 1000, &err), JC_OK);
    jc_producer_free(p);
    assert_int_equal(reports, 0);
    assert_int_equal(r.calls, 0);
}

static void unknown_property_is_named(void **state)
{
    (void)state;
    const char *keys = jc_test_keyring();
    const char *props[] = {"bootstrap.servers", "127.0.0.1:1", "lingerr.ms", "5",
                           "jiceng.signing.keys", keys, NULL};
    jc_error_t err;
    assert_null(jc_producer_new(props, NULL, NULL, &err));
    assert_int_equal(err.code, JC_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "lingerr.ms"));
    const char *props2[] = {"bootstrap.servers", "127.0.0.1:1", "jiceng.topic.prefx", "x",
                            "jiceng.signing.keys", keys, NULL};
    assert_null(jc_producer_new(props2, NULL, NULL, &err));
    assert_non_null(strstr(err.message, "jiceng.topic.prefx"));
    const char *none[] = {"linger.ms", "5", "jiceng.signing.keys", keys, NULL};
    assert_null(jc_producer_new(none, NULL, NULL, &err));
    assert_non_null(strstr(err.message, "bootstrap.servers"));
}

/* With nobody listening, nothing is ever reported delivered: freeing reports all as failed. */
static void pending_events_are_reported_undelivered_on_free(void **state)
{
    (void)state;
    const char *props[] = {"bootstrap.servers", "127.0.0.1:1", "log_level", "0",
                           "jiceng.signing.keys", jc_test_keyring(), NULL};
    jc_error_t err;
    int reports = 0;
    jc_producer_t *p = jc_producer_new(props, on_delivery, &reports, &err);
    assert_non_null(p);
    jc_event_t ev[3];
    struct report r[3] = {{0}};
    for (int i = 0; i < 3; i++) {
        jc_test_sample(&ev[i], (jc_event_type_t)i, (uint32_t)i, jc_now_ms());
        assert_int_equal(jc_producer_send(p, &ev[i], &r[i], &err), JC_OK);
    }
    assert_int_equal(jc_producer_flush(p, 200, &err), JC_ERR_TIMEOUT);
    assert_int_equal(jc_producer_outstanding(p), 3);
    jc_producer_free(p);
    assert_int_equal(reports, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(r[i].calls, 1);
        assert_int_not_equal(r[i].status, JC_OK);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(four_types_read_back_byte_exact),
        cmocka_unit_test(full_queue_waits_for_room),
        cmocka_unit_test(invalid_event_is_refused_without_a_report),
        cmocka_unit_test(unknown_property_is_named),
        cmocka_unit_test(pending_events_are_reported_undelivered_on_free),
    };
    jc_test_env_load();
    return cmocka_run_group_tests(tests, NULL, jc_test_topics_cleanup);
}
