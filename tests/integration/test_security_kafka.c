/*
 * test_security_kafka.c: the broker refuses what the security contract says it must
 * (deploy/local/stack, "Kafka principals and ACLs"; issue 10, "Acceptance"), seen through
 * libjiceng and Debian's librdkafka, the clients the programs use. Every refusal is paired with
 * a request that differs only in the thing under test and is allowed, so that a refusal for an
 * unrelated reason (a wrong port, a missing topic) cannot pass:
 *   - a plaintext client, a TLS client without a certificate, and a client whose certificate
 *     is from the stack's CA but has a subject no rule maps (the PostgreSQL server's) are
 *     refused where the administrator's certificate is served;
 *   - a county principal (loadgen) writes the event topics, but cannot read one, create a
 *     topic or write the dead-letter topic;
 *   - the aggregator reads the event topics in groups jiceng-aggregate*, writes the
 *     dead-letter topic, but cannot write an event topic (jc_producer, signed, is refused by the
 *     broker), read in another group, or read the dead-letter topic;
 *   - the steward (the re-drive) writes the event topics; the health check cannot;
 *   - the dead-letter topic is read by the administrator and by the steward, in groups
 *     jiceng-steward* only, and by nobody else: not the aggregator, a county principal or the
 *     health check; the steward reads no event topic.
 * Scratch topics under a prefix with the role ACLs (kafkatest.h); one visit is published first
 * so that there is something to read.
 */
#include "kafkatest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jiceng/aggregator.h"
#include "jiceng/jtime.h"
#include "jiceng/producer.h"
#include "samples.h"

static char prefix[64];
static char visits[128], dead_letter[128];

/* ---- property lists ---- */

/* Set name to value in props (replacing it, or appended); value NULL removes it. */
static void props_edit(const char *props[JC_TEST_PROPS_MAX], const char *name, const char *value)
{
    int i = 0;
    while (props[i] != NULL && strcmp(props[i], name) != 0)
        i += 2;
    if (props[i] == NULL) {
        if (value != NULL)
            jc_test_props_add(props, name, value);
        return;
    }
    if (value != NULL) {
        props[i + 1] = value;
        return;
    }
    for (; props[i + 2] != NULL; i += 2) {
        props[i] = props[i + 2];
        props[i + 1] = props[i + 3];
    }
    props[i] = NULL;
}

/* Describe the prefix's topics with props (the first request a client makes). */
static jc_status_t describe(const char *props[JC_TEST_PROPS_MAX], jc_error_t *err)
{
    jc_admin_t *a = jc_admin_new(props, 6000, err);
    if (a == NULL)
        fail_msg("admin client: %s", err->message);
    jc_topic_state_t s[JC_TOPIC_COUNT];
    jc_status_t st = jc_admin_describe_topics(a, s, err);
    jc_admin_free(a);
    return st;
}

/* ---- plain librdkafka clients as an identity ---- */

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    *(rd_kafka_resp_err_t *)m->_private = m->err;
}

/* The delivery error of one message from identity to topic. */
static rd_kafka_resp_err_t produce_one(const char *identity, const char *topic)
{
    char errstr[512];
    rd_kafka_conf_t *conf = jc_test_rdkafka_conf(identity);
    assert_int_equal(rd_kafka_conf_set(conf, "message.timeout.ms", "15000", errstr, sizeof errstr),
                     RD_KAFKA_CONF_OK);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (rk == NULL)
        fail_msg("producer as %s: %s", identity, errstr);
    rd_kafka_resp_err_t result = RD_KAFKA_RESP_ERR__IN_PROGRESS;
    rd_kafka_resp_err_t e = rd_kafka_producev(
        rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY("520102", 6), RD_KAFKA_V_VALUE("x", 1),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(&result), RD_KAFKA_V_END);
    assert_int_equal(e, RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_flush(rk, 20000);
    rd_kafka_destroy(rk);
    fprintf(stderr, "  %s writes %s: %s\n", identity, topic, rd_kafka_err2name(result));
    return result;
}

/* The first error of rk's messages (polled with next), or NO_ERROR once a message has been
 * read; _TIMED_OUT if neither came within 20 s. */
static rd_kafka_resp_err_t first_result(rd_kafka_message_t *(*next)(void *), void *ud)
{
    for (int i = 0; i < 200; i++) {
        rd_kafka_message_t *m = next(ud);
        rd_kafka_resp_err_t e = m != NULL ? m->err : RD_KAFKA_RESP_ERR__TIMED_OUT;
        if (m != NULL)
            rd_kafka_message_destroy(m);
        if (e != RD_KAFKA_RESP_ERR__TIMED_OUT && e != RD_KAFKA_RESP_ERR__PARTITION_EOF)
            return e;
    }
    return RD_KAFKA_RESP_ERR__TIMED_OUT;
}

static rd_kafka_message_t *next_in_group(void *rk)
{
    return rd_kafka_consumer_poll(rk, 100);
}

static rd_kafka_message_t *next_in_partition(void *rkt)
{
    return rd_kafka_consume(rkt, 0, 100);
}

/* identity reads topic from the start: subscribed in group, or (group NULL) partition 0 with
 * the simple consumer API, which makes no group request at all. The result of first_result. */
static rd_kafka_resp_err_t consume_one(const char *identity, const char *group, const char *topic)
{
    char errstr[512];
    rd_kafka_conf_t *conf = jc_test_rdkafka_conf(identity);
    const char *set[][2] = {{"enable.auto.commit", "false"}, {"auto.offset.reset", "earliest"},
                            {"group.id", group}};
    for (size_t i = 0; i < (group != NULL ? 3 : 2); i++)
        assert_int_equal(rd_kafka_conf_set(conf, set[i][0], set[i][1], errstr, sizeof errstr),
                         RD_KAFKA_CONF_OK);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    if (rk == NULL)
        fail_msg("consumer as %s: %s", identity, errstr);
    rd_kafka_resp_err_t result;
    if (group != NULL) {
        rd_kafka_topic_partition_list_t *tp = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(tp, topic, RD_KAFKA_PARTITION_UA);
        assert_int_equal(rd_kafka_subscribe(rk, tp), RD_KAFKA_RESP_ERR_NO_ERROR);
        rd_kafka_topic_partition_list_destroy(tp);
        result = first_result(next_in_group, rk);
        rd_kafka_consumer_close(rk);
    } else {
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
        assert_int_equal(rd_kafka_consume_start(rkt, 0, RD_KAFKA_OFFSET_BEGINNING), 0);
        result = first_result(next_in_partition, rkt);
        rd_kafka_consume_stop(rkt, 0);
        rd_kafka_topic_destroy(rkt);
    }
    rd_kafka_destroy(rk);
    fprintf(stderr, "  %s reads %s %s%s: %s\n", identity, topic,
            group != NULL ? "in group " : "without a group", group != NULL ? group : "",
            rd_kafka_err2name(result));
    return result;
}

/* The error of a metadata request for topic as identity: TOPIC_AUTHORIZATION_FAILED when it may
 * not even DESCRIBE the topic (and so may not READ it: READ implies DESCRIBE); librdkafka's
 * consumer then waits for the topic instead of failing. */
static rd_kafka_resp_err_t metadata_error(const char *identity, const char *topic)
{
    char errstr[512];
    rd_kafka_conf_t *conf = jc_test_rdkafka_conf(identity);
    assert_int_equal(rd_kafka_conf_set(conf, "allow.auto.create.topics", "false", errstr,
                                       sizeof errstr), RD_KAFKA_CONF_OK);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (rk == NULL)
        fail_msg("client as %s: %s", identity, errstr);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, 15000);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
        assert_int_equal(md->topic_cnt, 1);
        e = md->topics[0].err;
        rd_kafka_metadata_destroy(md);
    }
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    fprintf(stderr, "  %s describes %s: %s\n", identity, topic, rd_kafka_err2name(e));
    return e;
}

/* ---- fixtures ---- */

static void delivered(void *opaque, jc_status_t status, int32_t partition, int64_t offset,
                      const char *errstr, void *ud)
{
    (void)partition;
    (void)offset;
    (void)ud;
    if (status != JC_OK)
        fprintf(stderr, "  not delivered: %s\n", errstr);
    *(jc_status_t *)opaque = status;
}

/* Send one signed visit with jc_producer as identity; the delivery status. */
static jc_status_t send_visit(const char *identity)
{
    const char *props[JC_TEST_PROPS_MAX];
    jc_test_props(props, identity, prefix);
    props_edit(props, "jiceng.signing.keys", jc_test_keyring());
    props_edit(props, "message.timeout.ms", "15000");
    jc_error_t err;
    jc_producer_t *p = jc_producer_new(props, delivered, NULL, &err);
    if (p == NULL)
        fail_msg("producer as %s: %s", identity, err.message);
    jc_event_t ev;
    jc_test_sample(&ev, JC_VISIT, 7, jc_now_ms());
    jc_status_t status = JC_ERR_TIMEOUT;
    assert_int_equal(jc_producer_send(p, &ev, &status, &err), JC_OK);
    jc_producer_flush(p, 20000, &err);
    jc_producer_free(p);
    return status;
}

static int setup(void **state)
{
    (void)state;
    jc_test_topic_prefix(prefix, sizeof prefix);
    snprintf(visits, sizeof visits, "%sjiceng.visits", prefix);
    snprintf(dead_letter, sizeof dead_letter, "%sjiceng.dead-letter", prefix);
    jc_test_topics_create(prefix, 1);
    return send_visit("loadgen") == JC_OK ? 0 : -1; /* what the readers read */
}

/* ---- who may connect ---- */

static void only_clients_with_a_mapped_certificate_connect(void **state)
{
    (void)state;
    const char *props[JC_TEST_PROPS_MAX];
    jc_error_t err;
    jc_test_props(props, "admin", prefix);
    props_edit(props, "log_level", "0");
    if (describe(props, &err) != JC_OK)
        fail_msg("the administrator's certificate: %s", err.message);

    char cert[1024], key[1024];
    snprintf(cert, sizeof cert, "%s/certs/postgres.crt", jc_test_env("JICENG_PKI"));
    snprintf(key, sizeof key, "%s/private/postgres.key", jc_test_env("JICENG_PKI"));
    props_edit(props, "ssl.certificate.location", cert);
    props_edit(props, "ssl.key.location", key);
    assert_int_not_equal(describe(props, &err), JC_OK);
    fprintf(stderr, "  a certificate with an unmapped subject: %s\n", err.message);

    props_edit(props, "ssl.certificate.location", NULL);
    props_edit(props, "ssl.key.location", NULL);
    assert_int_not_equal(describe(props, &err), JC_OK);
    fprintf(stderr, "  TLS without a client certificate: %s\n", err.message);

    props_edit(props, "security.protocol", "plaintext");
    props_edit(props, "ssl.ca.location", NULL);
    assert_int_not_equal(describe(props, &err), JC_OK);
    fprintf(stderr, "  plaintext: %s\n", err.message);
}

/* ---- the county principal ---- */

static void county_writes_event_topics_only(void **state)
{
    (void)state;
    assert_int_equal(produce_one("loadgen", visits), RD_KAFKA_RESP_ERR_NO_ERROR);
    assert_int_equal(produce_one("loadgen", dead_letter),
                     RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
}

static void county_cannot_read(void **state)
{
    (void)state;
    char group[96];
    snprintf(group, sizeof group, "jiceng-aggregate-sec-%ld", (long)getpid());
    assert_int_equal(consume_one("aggregator", NULL, visits), RD_KAFKA_RESP_ERR_NO_ERROR);
    assert_int_equal(consume_one("loadgen", NULL, visits),
                     RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
    /* nor in a group: it may use none */
    assert_int_equal(consume_one("aggregator", group, visits), RD_KAFKA_RESP_ERR_NO_ERROR);
    assert_int_equal(consume_one("loadgen", group, visits),
                     RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED);
}

static void county_cannot_create_a_topic(void **state)
{
    (void)state;
    char fresh[64];
    jc_test_topic_prefix(fresh, sizeof fresh);
    jc_test_topics_track(fresh);
    const char *props[JC_TEST_PROPS_MAX];
    jc_test_props(props, "loadgen", fresh);
    jc_error_t err;
    jc_admin_t *a = jc_admin_new(props, 15000, &err);
    if (a == NULL)
        fail_msg("admin client as loadgen: %s", err.message);
    jc_topic_settings_t one = {1, 1, -1};
    jc_status_t st = jc_admin_create_topics(a, &one, NULL, &err);
    jc_admin_free(a);
    fprintf(stderr, "  loadgen creates topics: %s\n", err.message);
    assert_int_not_equal(st, JC_OK);
    assert_non_null(strstr(err.message, "uthorization"));
    jc_test_topics_create(fresh, 1); /* the administrator may */
    jc_test_topics_delete(fresh);
}

/* ---- the aggregator ---- */

static void aggregator_writes_the_dead_letter_topic_only(void **state)
{
    (void)state;
    assert_int_equal(produce_one("aggregator", dead_letter), RD_KAFKA_RESP_ERR_NO_ERROR);
    assert_int_equal(produce_one("aggregator", visits),
                     RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
    /* and the library's producer, signing with a valid key, is refused by the broker too */
    assert_int_not_equal(send_visit("aggregator"), JC_OK);
}

static void aggregator_reads_in_its_groups_only(void **state)
{
    (void)state;
    char mine[96], other[96];
    snprintf(mine, sizeof mine, "jiceng-aggregate-sec-sub-%ld", (long)getpid());
    snprintf(other, sizeof other, "sec-other-%ld", (long)getpid());
    assert_int_equal(consume_one("aggregator", mine, visits), RD_KAFKA_RESP_ERR_NO_ERROR);
    assert_int_equal(consume_one("aggregator", other, visits),
                     RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED);
}

static void aggregator_cannot_read_the_dead_letter_topic(void **state)
{
    (void)state;
    assert_int_equal(consume_one("admin", NULL, dead_letter), RD_KAFKA_RESP_ERR_NO_ERROR);
    assert_int_equal(consume_one("aggregator", NULL, dead_letter),
                     RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
}

/* ---- the other services ---- */

static void steward_writes_event_topics_health_does_not(void **state)
{
    (void)state;
    assert_int_equal(produce_one("steward", visits), RD_KAFKA_RESP_ERR_NO_ERROR);
    assert_int_equal(produce_one("health", visits), RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
}

/* ---- the dead-letter topic's readers ---- */

static void only_the_steward_reads_the_dead_letter_topic(void **state)
{
    (void)state;
    char mine[96], other[96];
    snprintf(mine, sizeof mine, JC_STEWARD_GROUP "-sec-%ld", (long)getpid());
    snprintf(other, sizeof other, JC_AGGREGATOR_GROUP "-sec-dlq-%ld", (long)getpid());
    /* something to read: the aggregator's copy of a reject */
    assert_int_equal(produce_one("aggregator", dead_letter), RD_KAFKA_RESP_ERR_NO_ERROR);
    assert_int_equal(consume_one("steward", mine, dead_letter), RD_KAFKA_RESP_ERR_NO_ERROR);
    assert_int_equal(consume_one("steward", other, dead_letter),
                     RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED);
    assert_int_equal(consume_one("admin", NULL, dead_letter), RD_KAFKA_RESP_ERR_NO_ERROR);
    /* the aggregator may describe it (it writes there) but not read it; the others may not
     * even describe it */
    assert_int_equal(consume_one("aggregator", NULL, dead_letter),
                     RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
    assert_int_equal(metadata_error("steward", dead_letter), RD_KAFKA_RESP_ERR_NO_ERROR);
    assert_int_equal(metadata_error("loadgen", dead_letter),
                     RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
    assert_int_equal(metadata_error("health", dead_letter),
                     RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
    /* the steward re-drives to the event topics but does not read them */
    assert_int_equal(consume_one("aggregator", NULL, visits), RD_KAFKA_RESP_ERR_NO_ERROR);
    assert_int_equal(consume_one("steward", NULL, visits),
                     RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(only_clients_with_a_mapped_certificate_connect),
        cmocka_unit_test(county_writes_event_topics_only),
        cmocka_unit_test(county_cannot_read),
        cmocka_unit_test(county_cannot_create_a_topic),
        cmocka_unit_test(aggregator_writes_the_dead_letter_topic_only),
        cmocka_unit_test(aggregator_reads_in_its_groups_only),
        cmocka_unit_test(aggregator_cannot_read_the_dead_letter_topic),
        cmocka_unit_test(steward_writes_event_topics_health_does_not),
        cmocka_unit_test(only_the_steward_reads_the_dead_letter_topic),
    };
    jc_test_env_load();
    return cmocka_run_group_tests(tests, setup, jc_test_topics_cleanup);
}
