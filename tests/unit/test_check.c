/*
 * test_check.c: the order of the checks on a consumed record (lib/aggregate/check.h;
 * docs/signing.md, "Order of checks"): frame, signature, decode, county, topic, key,
 * validation. The first check that fails decides the status.
 *
 * Records are built in memory as a producer would send them: a sample event encoded with the
 * codec, keyed by a county code, signed with jc_sign_compute under one of a few test keys, the
 * two signature headers in an rd_kafka_headers_t, a broker (LogAppendTime) timestamp; then one
 * or two things are spoiled and the verdict's status and step are compared with what the order
 * says. Each pair of neighbouring steps has a record that fails both, so swapping any two steps
 * fails a test here.
 */
#include "testenv.h"

#include <stdio.h>
#include <string.h>

#include "../../lib/aggregate/check.h"
#include "../../lib/aggregate/dedup.h"
#include "jiceng/jtime.h"
#include "jiceng/reference.h"
#include "jiceng/validate.h"
#include "samples.h"

#define COUNTY_A 520102 /* 南明区 */
#define COUNTY_B 520103 /* 云岩区 */
#define COUNTY_NEW 520581 /* 黔西市: the current code of 522423 (through 520522) */
#define COUNTY_OLD 522423

enum { KEY_A, KEY_B, KEY_A_CLOSED, KEY_A_NEXT, KEY_NEW, NKEYS };

static const struct {
    const char *id;
    int32_t county;
    int64_t from_offset_ms, until_offset_ms; /* relative to the fixture's now; 0: 0 / open */
} KEYS[NKEYS] = {
    [KEY_A] = {"520102-a", COUNTY_A, 0, 0},
    [KEY_B] = {"520103-a", COUNTY_B, 0, 0},
    [KEY_A_CLOSED] = {"520102-old", COUNTY_A, 0, -3600 * 1000},  /* closed an hour ago */
    [KEY_A_NEXT] = {"520102-next", COUNTY_A, 3600 * 1000, 0},    /* valid in an hour */
    [KEY_NEW] = {"520581-a", COUNTY_NEW, 0, 0},
};

static jc_codec_t *codec;
static jc_keyring_t *ring;
static int64_t now_ms;

static void secret_of(int k, unsigned char secret[JC_SIGN_SECRET_BYTES])
{
    for (int i = 0; i < JC_SIGN_SECRET_BYTES; i++)
        secret[i] = (unsigned char)(17 * k + i);
}

static int setup(void **state)
{
    (void)state;
    jc_error_t err;
    now_ms = jc_now_ms();
    if ((codec = jc_codec_new(&err)) == NULL || jc_keyring_new(&ring, &err) != JC_OK)
        return -1;
    for (int k = 0; k < NKEYS; k++) {
        jc_sign_key_t key = {.county_code = KEYS[k].county,
                             .valid_from_ms = KEYS[k].from_offset_ms ? now_ms + KEYS[k].from_offset_ms : 0,
                             .valid_until_ms = KEYS[k].until_offset_ms ? now_ms + KEYS[k].until_offset_ms
                                                                       : JC_SIGN_OPEN_END};
        snprintf(key.key_id, sizeof key.key_id, "%s", KEYS[k].id);
        secret_of(k, key.secret);
        if (jc_keyring_put(ring, &key, &err) != JC_OK)
            return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    jc_keyring_free(ring);
    jc_codec_free(codec);
    return 0;
}

/* A record being built: its bytes and headers, and the jc_record_t over them. */
struct msg {
    jc_event_t ev;
    jc_buf_t value;
    int null_value;
    char key[16];
    const char *keyp; /* NULL: null key */
    size_t key_len;
    rd_kafka_headers_t *hdrs;
    jc_record_t rec;
};

/* A valid visit of county, keyed by its code, on the visits topic, with a broker timestamp a
 * second ago; not encoded or signed yet (finish does that). */
static void start(struct msg *m, int32_t county)
{
    memset(m, 0, sizeof *m);
    jc_test_sample(&m->ev, JC_VISIT, 7, now_ms);
    m->ev.county_code = county;
    snprintf(m->key, sizeof m->key, "%06d", (int)county);
    m->keyp = m->key;
    m->key_len = strlen(m->key);
    m->rec.topic_type = JC_VISIT;
    m->rec.timestamp_ms = now_ms - 1000;
    m->rec.timestamp_type = RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME;
}

static void set_key(struct msg *m, const char *key)
{
    m->keyp = key;
    m->key_len = key ? strlen(key) : 0;
}

static void encode(struct msg *m)
{
    jc_error_t err;
    assert_int_equal(jc_codec_encode(codec, &m->ev, &m->value, &err), JC_OK);
}

/* Sign the record as it stands (topic, key, value) under key k, as the producer would. */
static void sign_with(struct msg *m, int k, const char *topic)
{
    unsigned char secret[JC_SIGN_SECRET_BYTES], mac[JC_SIGN_MAC_BYTES];
    char sig[JC_SIGN_SIG_LEN + 1];
    jc_error_t err;
    secret_of(k, secret);
    const void *value = m->null_value ? NULL : m->value.data;
    assert_int_equal(jc_sign_compute(secret, sizeof secret, topic, m->keyp, m->key_len, value,
                                     m->null_value ? 0 : m->value.len, mac, &err), JC_OK);
    jc_sign_format(mac, sig);
    m->hdrs = rd_kafka_headers_new(2);
    rd_kafka_header_add(m->hdrs, JC_SIGN_HEADER_KEY_ID, -1, KEYS[k].id, -1);
    rd_kafka_header_add(m->hdrs, JC_SIGN_HEADER_SIG, -1, sig, -1);
}

static void sign(struct msg *m, int k)
{
    sign_with(m, k, jc_event_topic(m->rec.topic_type));
}

/* Run the checks; the status and step must be these. */
static void expect(struct msg *m, jc_status_t status, jc_check_step_t step, jc_verdict_t *v)
{
    m->rec.topic = jc_event_topic(m->rec.topic_type);
    m->rec.key = m->keyp;
    m->rec.key_len = m->key_len;
    m->rec.value = m->null_value ? NULL : m->value.data;
    m->rec.value_len = m->null_value ? 0 : m->value.len;
    m->rec.headers = m->hdrs;
    jc_check_record(codec, ring, &m->rec, now_ms, v);
    if (v->status != status || v->step != step)
        fail_msg("expected %s at %s, got %s at %s: %s", jc_status_name(status),
                 jc_check_step_name(step), jc_status_name(v->status),
                 jc_check_step_name(v->step), v->err.message);
    if (status != JC_OK)
        assert_string_not_equal(v->err.message, "");
}

static void finish(struct msg *m)
{
    if (m->hdrs != NULL)
        rd_kafka_headers_destroy(m->hdrs);
    jc_buf_free(&m->value);
}

static void a_good_record_passes(void **state)
{
    (void)state;
    struct msg m;
    jc_verdict_t v;
    start(&m, COUNTY_A);
    encode(&m);
    sign(&m, KEY_A);
    expect(&m, JC_OK, JC_CHECK_PASSED, &v);
    assert_string_equal(v.key->key_id, KEYS[KEY_A].id);
    assert_true(jc_event_equal(&v.event, &m.ev));
    finish(&m);
}

/* frame | signature: an unsigned record with a bad frame is a frame failure, not unauthorized */
static void frame_before_signature(void **state)
{
    (void)state;
    struct msg m;
    jc_verdict_t v;
    start(&m, COUNTY_A);
    encode(&m);
    m.value.data[0] = 1;
    expect(&m, JC_ERR_BAD_MAGIC, JC_CHECK_FRAME, &v);
    m.value.data[0] = 0;
    m.value.data[4] = 99; /* schema id 99 */
    expect(&m, JC_ERR_UNKNOWN_SCHEMA, JC_CHECK_FRAME, &v);
    assert_int_equal(v.schema_id, 99);
    m.value.len = 3;
    expect(&m, JC_ERR_TRUNCATED, JC_CHECK_FRAME, &v);
    m.null_value = 1;
    expect(&m, JC_ERR_TRUNCATED, JC_CHECK_FRAME, &v);
    finish(&m);
    /* signed, over the bad frame: still the frame */
    start(&m, COUNTY_A);
    encode(&m);
    m.value.data[0] = 1;
    sign(&m, KEY_A);
    expect(&m, JC_ERR_BAD_MAGIC, JC_CHECK_FRAME, &v);
    finish(&m);
}

/* signature | decode: an undecodable body that is not signed is unauthorized */
static void signature_before_decode(void **state)
{
    (void)state;
    struct msg m;
    jc_verdict_t v;
    start(&m, COUNTY_A);
    encode(&m);
    m.value.len -= 3; /* the body ends early: a decode failure, were it signed */
    expect(&m, JC_ERR_UNAUTHORIZED, JC_CHECK_SIGNATURE, &v);
    assert_int_equal(v.sign, JC_SIGN_MISSING);
    sign(&m, KEY_A);
    expect(&m, JC_ERR_TRUNCATED, JC_CHECK_DECODE, &v);
    finish(&m);
    /* a signature made for other bytes */
    start(&m, COUNTY_A);
    encode(&m);
    sign(&m, KEY_A);
    m.value.len -= 3;
    expect(&m, JC_ERR_UNAUTHORIZED, JC_CHECK_SIGNATURE, &v);
    assert_int_equal(v.sign, JC_SIGN_BAD_SIGNATURE);
    finish(&m);
}

/* keys are judged by the broker's timestamp only: a producer's own timestamp is refused */
static void the_timestamp_must_be_the_brokers(void **state)
{
    (void)state;
    struct msg m;
    jc_verdict_t v;
    start(&m, COUNTY_A);
    encode(&m);
    sign(&m, KEY_A);
    m.rec.timestamp_type = RD_KAFKA_TIMESTAMP_CREATE_TIME;
    expect(&m, JC_ERR_UNAUTHORIZED, JC_CHECK_SIGNATURE, &v);
    m.rec.timestamp_type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
    expect(&m, JC_ERR_UNAUTHORIZED, JC_CHECK_SIGNATURE, &v);
    finish(&m);
}

/* decode | county: another county's key over an undecodable body is a decode failure */
static void decode_before_county(void **state)
{
    (void)state;
    struct msg m;
    jc_verdict_t v;
    start(&m, COUNTY_A);
    encode(&m);
    m.value.len -= 3;
    sign(&m, KEY_B);
    expect(&m, JC_ERR_TRUNCATED, JC_CHECK_DECODE, &v);
    finish(&m);
}

/* county: a valid signature of another county's key is unauthorized; a county code that maps
 * to no county is unknown_county (re-drivable once the reference data knows it); the key's own
 * county under an old code is its own */
static void another_countys_signing_key(void **state)
{
    (void)state;
    struct msg m;
    jc_verdict_t v;
    start(&m, COUNTY_A);
    encode(&m);
    sign(&m, KEY_B);
    expect(&m, JC_ERR_UNAUTHORIZED, JC_CHECK_COUNTY, &v);
    assert_int_equal(v.sign, JC_SIGN_WRONG_COUNTY);
    finish(&m);
    start(&m, 999999);
    encode(&m);
    sign(&m, KEY_A);
    expect(&m, JC_ERR_UNKNOWN_COUNTY, JC_CHECK_COUNTY, &v);
    finish(&m);
    start(&m, COUNTY_OLD); /* keyed by the old code too */
    encode(&m);
    sign(&m, KEY_NEW);
    expect(&m, JC_OK, JC_CHECK_PASSED, &v);
    assert_int_equal(v.event.county_code, COUNTY_NEW); /* validation maps it */
    finish(&m);
}

/* county | topic: another county's key on the wrong topic is unauthorized */
static void county_before_topic(void **state)
{
    (void)state;
    struct msg m;
    jc_verdict_t v;
    start(&m, COUNTY_A);
    m.rec.topic_type = JC_PETITION;
    encode(&m);
    sign(&m, KEY_B);
    expect(&m, JC_ERR_UNAUTHORIZED, JC_CHECK_COUNTY, &v);
    finish(&m);
}

/* topic: a record signed for the topic it is on, but of another type, is wrong_topic; one
 * signed for another topic does not verify */
static void a_signed_record_on_the_wrong_topic(void **state)
{
    (void)state;
    struct msg m;
    jc_verdict_t v;
    start(&m, COUNTY_A);
    m.rec.topic_type = JC_PETITION;
    encode(&m);
    sign(&m, KEY_A);
    expect(&m, JC_ERR_WRONG_TOPIC, JC_CHECK_TOPIC, &v);
    finish(&m);
    start(&m, COUNTY_A);
    encode(&m);
    sign_with(&m, KEY_A, jc_event_topic(JC_PETITION)); /* moved from the petitions topic */
    expect(&m, JC_ERR_UNAUTHORIZED, JC_CHECK_SIGNATURE, &v);
    assert_int_equal(v.sign, JC_SIGN_BAD_SIGNATURE);
    finish(&m);
}

/* topic | key: the wrong topic with a null key is wrong_topic */
static void topic_before_key(void **state)
{
    (void)state;
    struct msg m;
    jc_verdict_t v;
    start(&m, COUNTY_A);
    m.rec.topic_type = JC_TRAINING_COMPLETION;
    set_key(&m, NULL);
    encode(&m);
    sign(&m, KEY_A);
    expect(&m, JC_ERR_WRONG_TOPIC, JC_CHECK_TOPIC, &v);
    finish(&m);
}

static void expect_key(const char *key, int32_t event_county, int signer, jc_status_t status)
{
    struct msg m;
    jc_verdict_t v;
    start(&m, event_county);
    set_key(&m, key);
    encode(&m);
    sign(&m, signer);
    expect(&m, status, status == JC_OK ? JC_CHECK_PASSED : JC_CHECK_KEY, &v);
    finish(&m);
}

/* key: present, six digits, the event's current county (old codes accepted) */
static void the_key_must_be_the_events_county(void **state)
{
    (void)state;
    expect_key(NULL, COUNTY_A, KEY_A, JC_ERR_WRONG_KEY);
    expect_key("", COUNTY_A, KEY_A, JC_ERR_WRONG_KEY);
    expect_key("52010", COUNTY_A, KEY_A, JC_ERR_WRONG_KEY);
    expect_key("5201020", COUNTY_A, KEY_A, JC_ERR_WRONG_KEY);
    expect_key("52010x", COUNTY_A, KEY_A, JC_ERR_WRONG_KEY);
    expect_key(" 52010", COUNTY_A, KEY_A, JC_ERR_WRONG_KEY);
    expect_key("520103", COUNTY_A, KEY_A, JC_ERR_WRONG_KEY);   /* another county */
    expect_key("520100", COUNTY_A, KEY_A, JC_ERR_WRONG_KEY);   /* a prefecture */
    expect_key("999999", COUNTY_A, KEY_A, JC_ERR_WRONG_KEY);   /* nothing */
    expect_key("520102", COUNTY_A, KEY_A, JC_OK);
    expect_key("522423", COUNTY_NEW, KEY_NEW, JC_OK);          /* an old code of its county */
    expect_key("520522", COUNTY_OLD, KEY_NEW, JC_OK);          /* both old: the same county */
    expect_key("520581", COUNTY_OLD, KEY_NEW, JC_OK);
}

/* key | validation: an invalid event with the wrong key is wrong_key */
static void key_before_validation(void **state)
{
    (void)state;
    struct msg m;
    jc_verdict_t v;
    start(&m, COUNTY_A);
    m.ev.u.visit.people_met = -1;
    set_key(&m, "520103");
    encode(&m);
    sign(&m, KEY_A);
    expect(&m, JC_ERR_WRONG_KEY, JC_CHECK_KEY, &v);
    finish(&m);
    start(&m, COUNTY_A);
    m.ev.u.visit.people_met = -1;
    encode(&m);
    sign(&m, KEY_A);
    expect(&m, JC_ERR_NEGATIVE_COUNT, JC_CHECK_VALIDATION, &v);
    assert_string_equal(v.event.event_id, m.ev.event_id);
    finish(&m);
}

/* A closed key still signs what was appended before it closed, whenever the record is read;
 * a key not yet valid signs nothing before its start. */
static void keys_are_judged_by_record_time(void **state)
{
    (void)state;
    struct msg m;
    jc_verdict_t v;
    int64_t closed_at = now_ms + KEYS[KEY_A_CLOSED].until_offset_ms;
    int64_t opens_at = now_ms + KEYS[KEY_A_NEXT].from_offset_ms;
    start(&m, COUNTY_A);
    encode(&m);
    sign(&m, KEY_A_CLOSED);
    m.rec.timestamp_ms = closed_at - 1; /* now is an hour after it closed */
    expect(&m, JC_OK, JC_CHECK_PASSED, &v);
    m.rec.timestamp_ms = closed_at;
    expect(&m, JC_ERR_UNAUTHORIZED, JC_CHECK_SIGNATURE, &v);
    assert_int_equal(v.sign, JC_SIGN_KEY_CLOSED);
    finish(&m);
    start(&m, COUNTY_A);
    encode(&m);
    sign(&m, KEY_A_NEXT);
    expect(&m, JC_ERR_UNAUTHORIZED, JC_CHECK_SIGNATURE, &v);
    assert_int_equal(v.sign, JC_SIGN_NOT_YET_VALID);
    m.rec.timestamp_ms = opens_at;
    expect(&m, JC_OK, JC_CHECK_PASSED, &v);
    finish(&m);
}

/* The checked event of a record whose event_id is written as id: the id as the aggregator's
 * dedup sees it (its fingerprint) and the content hash it keeps beside it. */
static void checked_id(const char *id, jc_dedup_key_t *key, uint64_t *content, char *out)
{
    struct msg m;
    jc_verdict_t v;
    uint8_t bytes[16];
    start(&m, COUNTY_A);
    snprintf(m.ev.event_id, sizeof m.ev.event_id, "%s", id);
    encode(&m);
    sign(&m, KEY_A);
    expect(&m, JC_OK, JC_CHECK_PASSED, &v);
    assert_int_equal(jc_uuid_parse(v.event.event_id, bytes, NULL), JC_OK);
    *key = jc_dedup_key(bytes);
    *content = jc_event_hash(&v.event);
    strcpy(out, v.event.event_id);
    finish(&m);
}

/* An upper-case re-send is the same event: the checked event's id is in canonical (lower)
 * case, so the dedup key and the content hash equal the original's -- a duplicate, not a
 * conflicting duplicate. */
static void an_upper_case_resend_is_the_same_event(void **state)
{
    (void)state;
    jc_dedup_key_t k1, k2;
    uint64_t h1, h2;
    char id1[JC_UUID_LEN + 1], id2[JC_UUID_LEN + 1];
    checked_id("0192f0c4-6a1e-7cc3-9a51-3f2b8e1d4c77", &k1, &h1, id1);
    checked_id("0192F0C4-6A1E-7CC3-9A51-3F2B8E1D4C77", &k2, &h2, id2);
    assert_string_equal(id2, "0192f0c4-6a1e-7cc3-9a51-3f2b8e1d4c77");
    assert_true(k1.a == k2.a && k1.b == k2.b);
    assert_true(h1 == h2);
}

/* The step names, as the rejects' reasons and the documentation use them. */
static void step_names(void **state)
{
    (void)state;
    const char *expect_names[] = {"frame", "signature", "decode", "county", "topic", "key",
                                  "validation", "passed"};
    for (int s = JC_CHECK_FRAME; s <= JC_CHECK_PASSED; s++)
        assert_string_equal(jc_check_step_name((jc_check_step_t)s), expect_names[s]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_good_record_passes),
        cmocka_unit_test(frame_before_signature),
        cmocka_unit_test(signature_before_decode),
        cmocka_unit_test(the_timestamp_must_be_the_brokers),
        cmocka_unit_test(decode_before_county),
        cmocka_unit_test(another_countys_signing_key),
        cmocka_unit_test(county_before_topic),
        cmocka_unit_test(a_signed_record_on_the_wrong_topic),
        cmocka_unit_test(topic_before_key),
        cmocka_unit_test(the_key_must_be_the_events_county),
        cmocka_unit_test(key_before_validation),
        cmocka_unit_test(keys_are_judged_by_record_time),
        cmocka_unit_test(an_upper_case_resend_is_the_same_event),
        cmocka_unit_test(step_names),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
