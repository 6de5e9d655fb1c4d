/*
 * test_producer_sign.c: jc_producer signs every record (include/jiceng/producer.h), against
 * librdkafka's in-process mock cluster, so no service is needed.
 *
 * A producer without jiceng.signing.keys is not made. With a directory of key files (counties
 * 520102 and 520581), events of 520102 and of 522423 (an old code of 520581) are sent and come
 * back from the mock broker with the headers jiceng.key-id and jiceng.sig, which jc_sign_verify
 * accepts under a keyring of the same keys, the key's county being the event's; an event of
 * 520103, which has no key, is refused with JC_ERR_UNAUTHORIZED and never sent. The C API
 * carries the corrections contract: a correction sent with revision 2 and withdrawn true comes
 * back with both (the newest schema), and a negative revision is refused
 * (JC_ERR_NEGATIVE_COUNT) and never sent.
 */
#include "testenv.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jiceng/catalog.h"
#include "jiceng/codec.h"
#include "jiceng/event.h"
#include "jiceng/jtime.h"
#include "jiceng/producer.h"
#include "jiceng/sign.h"
#include "samples.h"

static char dir[64];

static const struct {
    const char *file, *key_id;
    int32_t county;
    unsigned char fill;
} KEYS[] = {
    {"520102.key", "520102-k1", 520102, 0x51},
    {"520581.key", "520581-k1", 520581, 0x58},
};

static int make_keys(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/jc_psign_XXXXXX");
    assert_non_null(mkdtemp(dir));
    for (size_t i = 0; i < 2; i++) {
        char path[128];
        unsigned char secret[32];
        memset(secret, KEYS[i].fill, sizeof secret);
        snprintf(path, sizeof path, "%s/%s", dir, KEYS[i].file);
        assert_int_equal(jc_sign_key_file_write(path, KEYS[i].key_id, KEYS[i].county, secret,
                                                NULL), JC_OK);
    }
    return 0;
}

static int remove_keys(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static void no_keys_no_producer(void **state)
{
    (void)state;
    jc_error_t err;
    const char *props[] = {"bootstrap.servers", "127.0.0.1:1", NULL};
    assert_null(jc_producer_new(props, NULL, NULL, &err));
    assert_int_equal(err.code, JC_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "jiceng.signing.keys is required"));
    const char *props2[] = {"bootstrap.servers", "127.0.0.1:1", "jiceng.signing.keys",
                            "/nonexistent/keys", NULL};
    assert_null(jc_producer_new(props2, NULL, NULL, &err));
    assert_int_equal(err.code, JC_ERR_IO);
}

static int delivered, failed;

/* What verify_topic decoded: the sum of the revisions and the number withdrawn. */
static int seen_revisions, seen_withdrawn;

static void note_event(const rd_kafka_message_t *m)
{
    jc_error_t err;
    jc_codec_t *codec = jc_codec_new(&err);
    assert_non_null(codec);
    jc_event_t ev;
    int32_t id;
    assert_int_equal(jc_codec_decode(codec, m->payload, m->len, &ev, &id, &err), JC_OK);
    assert_int_equal(id, jc_catalog_latest(ev.type)->id);
    seen_revisions += ev.revision;
    seen_withdrawn += ev.withdrawn;
    jc_codec_free(codec);
}

static void on_delivery(void *opaque, jc_status_t st, int32_t partition, int64_t offset,
                        const char *errstr, void *ud)
{
    (void)opaque, (void)partition, (void)offset, (void)ud;
    if (st == JC_OK)
        delivered++;
    else {
        failed++;
        fprintf(stderr, "not delivered: %s\n", errstr);
    }
}

/* Read the messages of topic's partitions from the mock cluster, verifying each signature,
 * until expect have come and then half a second more (to see any extra one). */
static int verify_topic(const char *bootstraps, const char *topic, jc_keyring_t *ring,
                        int expect)
{
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    assert_int_equal(rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps, errstr,
                                       sizeof errstr), RD_KAFKA_CONF_OK);
    assert_int_equal(rd_kafka_conf_set(conf, "group.id", "t", errstr, sizeof errstr),
                     RD_KAFKA_CONF_OK);
    rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    assert_non_null(c);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(4);
    for (int p = 0; p < 4; p++)
        rd_kafka_topic_partition_list_add(parts, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    assert_int_equal(rd_kafka_assign(c, parts), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(parts);
    int verified = 0;
    int64_t deadline = jc_mono_ms() + 10000;
    while (jc_mono_ms() < deadline) {
        if (verified == expect && deadline > jc_mono_ms() + 500)
            deadline = jc_mono_ms() + 500;
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 200);
        if (m == NULL)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            rd_kafka_headers_t *h = NULL;
            assert_int_equal(rd_kafka_message_headers(m, &h), RD_KAFKA_RESP_ERR_NO_ERROR);
            const void *v;
            size_t n;
            assert_int_equal(rd_kafka_header_get_last(h, "jiceng.key-id", &v, &n), 0);
            assert_int_equal(rd_kafka_header_get_last(h, "jiceng.sig", &v, &n), 0);
            jc_signed_record_t rec = {.topic = topic, .key = m->key, .key_len = m->key_len,
                                      .value = m->payload, .value_len = m->len,
                                      .timestamp_ms = jc_now_ms()};
            jc_signed_record_headers(&rec, h);
            const jc_sign_key_t *key = NULL;
            jc_error_t err;
            if (jc_sign_verify(ring, &rec, &key, NULL, &err) != JC_OK)
                fail_msg("%s: %s", topic, err.message);
            /* the record key is the event's current county, and the signing key's */
            char county[16];
            snprintf(county, sizeof county, "%d", (int)key->county_code);
            assert_int_equal(m->key_len, strlen(county));
            assert_memory_equal(m->key, county, m->key_len);
            note_event(m);
            verified++;
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    return verified;
}

static void every_record_is_signed_with_its_countys_key(void **state)
{
    (void)state;
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_t *host = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    assert_non_null(host);
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(host, 1);
    assert_non_null(mc);
    const char *boot = rd_kafka_mock_cluster_bootstraps(mc);
    for (int t = 0; t < JC_EVENT_TYPE_COUNT; t++)
        rd_kafka_mock_topic_create(mc, jc_event_topic((jc_event_type_t)t), 4, 1);

    const char *props[] = {"bootstrap.servers", boot, "jiceng.signing.keys", dir, NULL};
    jc_error_t err;
    jc_producer_t *p = jc_producer_new(props, on_delivery, NULL, &err);
    if (p == NULL)
        fail_msg("%s", err.message);
    struct {
        jc_event_type_t type;
        int32_t county;
        jc_status_t want;
    } sends[] = {
        {JC_VISIT, 520102, JC_OK},
        {JC_PETITION, 520102, JC_OK},
        {JC_VISIT, 522423, JC_OK},  /* old code of 520581: signed with 520581's key */
        {JC_VISIT, 520103, JC_ERR_UNAUTHORIZED},
        {JC_VISIT, 520102, JC_ERR_NEGATIVE_COUNT}, /* revision -1 */
    };
    delivered = failed = 0;
    for (size_t i = 0; i < sizeof sends / sizeof sends[0]; i++) {
        jc_event_t ev;
        jc_test_sample(&ev, sends[i].type, (uint32_t)i + 1, jc_now_ms());
        ev.county_code = sends[i].county;
        ev.revision = i == 0 ? 2 : i == 4 ? -1 : 0; /* a correction that withdraws; a bad one */
        ev.withdrawn = i == 0;
        jc_status_t st = jc_producer_send(p, &ev, NULL, &err);
        assert_int_equal(st, sends[i].want);
        if (st == JC_ERR_UNAUTHORIZED)
            assert_non_null(strstr(err.message, "no signing key for county 520103"));
        if (st == JC_ERR_NEGATIVE_COUNT)
            assert_non_null(strstr(err.message, "revision"));
    }
    assert_int_equal(jc_producer_flush(p, 10000, &err), JC_OK);
    assert_int_equal(delivered, 3);
    assert_int_equal(failed, 0);
    jc_producer_free(p);

    jc_keyring_t *ring;
    assert_int_equal(jc_keyring_new(&ring, NULL), JC_OK);
    for (size_t i = 0; i < 2; i++) {
        jc_sign_key_t k = {.county_code = KEYS[i].county, .valid_from_ms = 0,
                           .valid_until_ms = JC_SIGN_OPEN_END};
        snprintf(k.key_id, sizeof k.key_id, "%s", KEYS[i].key_id);
        memset(k.secret, KEYS[i].fill, sizeof k.secret);
        assert_int_equal(jc_keyring_put(ring, &k, NULL), JC_OK);
    }
    seen_revisions = seen_withdrawn = 0;
    assert_int_equal(verify_topic(boot, jc_event_topic(JC_VISIT), ring, 2), 2);
    assert_int_equal(verify_topic(boot, jc_event_topic(JC_PETITION), ring, 1), 1);
    assert_int_equal(seen_revisions, 2);
    assert_int_equal(seen_withdrawn, 1);
    jc_keyring_free(ring);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(host);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_keys_no_producer),
        cmocka_unit_test_setup_teardown(every_record_is_signed_with_its_countys_key, make_keys,
                                        remove_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
