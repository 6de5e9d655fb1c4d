/*
 * check.c: the checks a consumed record goes through, in order (see check.h).
 *
 * The order is the table STEPS: one row per step, its name and the function that runs it. A
 * step reads the record and what the steps before it found (the frame's schema id, the signing
 * key, the decoded event), all kept in the verdict; the first step that refuses stops the run
 * and its status and reason are the verdict's. Every refusal names its step's subject in the
 * reason; none quotes more of the record than a county code, a key id or a schema id.
 */
#include "check.h"

#include <stdio.h>
#include <string.h>

#include "../internal.h"
#include "jiceng/reference.h"
#include "jiceng/validate.h"

typedef jc_status_t (*step_fn)(jc_codec_t *codec, jc_keyring_t *ring, const jc_record_t *rec,
                               int64_t now_ms, jc_verdict_t *v);

/* frame: the value must be a Confluent-framed record of a known schema. */
static jc_status_t check_frame(jc_codec_t *codec, jc_keyring_t *ring, const jc_record_t *rec,
                               int64_t now_ms, jc_verdict_t *v)
{
    (void)ring;
    (void)now_ms;
    if (rec->value == NULL)
        return jc_error_set(&v->err, JC_ERR_TRUNCATED, "the record's value is null");
    return jc_codec_frame(codec, rec->value, rec->value_len, &v->schema_id, NULL, &v->err);
}

/* JC_BENCH_UNSIGNED is defined only by bench/CMakeLists.txt, for the benchmark's unsigned
 * comparison library (bench/README.md), never for an installed library or a program: it leaves
 * the signature and county steps out of STEPS. */
#ifndef JC_BENCH_UNSIGNED
/* signature: the timestamp keys are judged by is the broker's, and the signature verifies. */
static jc_status_t check_signature(jc_codec_t *codec, jc_keyring_t *ring,
                                   const jc_record_t *rec, int64_t now_ms, jc_verdict_t *v)
{
    (void)codec;
    (void)now_ms;
    if (rec->timestamp_type != RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME)
        return jc_error_set(&v->err, JC_ERR_UNAUTHORIZED, "timestamp: the record's timestamp "
                            "was not set by the broker, and signing keys are judged by it "
                            "(topic %s needs message.timestamp.type=LogAppendTime)", rec->topic);
    jc_signed_record_t sr = {
        .topic = rec->topic,
        .key = rec->key,
        .key_len = rec->key_len,
        .value = rec->value,
        .value_len = rec->value_len,
        .timestamp_ms = rec->timestamp_ms,
    };
    jc_signed_record_headers(&sr, rec->headers);
    return jc_sign_verify(ring, &sr, &v->key, &v->sign, &v->err);
}
#endif

static jc_status_t check_decode(jc_codec_t *codec, jc_keyring_t *ring, const jc_record_t *rec,
                                int64_t now_ms, jc_verdict_t *v)
{
    (void)ring;
    (void)now_ms;
    return jc_codec_decode(codec, rec->value, rec->value_len, &v->event, &v->schema_id, &v->err);
}

#ifndef JC_BENCH_UNSIGNED /* bench/ only: see check_signature */
/* county: the event's county (old codes mapped) is the signing key's. A code the reference data
 * does not know (yet) is JC_ERR_UNKNOWN_COUNTY, not unauthorized: the record is authentic, and
 * once a county or code change is added (issue 13, item 6) `redrive --status unknown_county`
 * sends it through every check again, this one included. */
static jc_status_t check_county(jc_codec_t *codec, jc_keyring_t *ring, const jc_record_t *rec,
                                int64_t now_ms, jc_verdict_t *v)
{
    (void)codec;
    (void)ring;
    (void)rec;
    (void)now_ms;
    int32_t current;
    if (v->key == NULL) /* only if the signature step did not run first */
        return jc_error_set(&v->err, JC_ERR_UNAUTHORIZED, "county: no verified signing key");
    jc_status_t st = jc_county_resolve(v->event.county_code, &current, &v->err);
    if (st != JC_OK)
        return st;
    return jc_sign_check_county(v->key, v->event.county_code, &v->sign, &v->err);
}
#endif

static jc_status_t check_topic(jc_codec_t *codec, jc_keyring_t *ring, const jc_record_t *rec,
                               int64_t now_ms, jc_verdict_t *v)
{
    (void)codec;
    (void)ring;
    (void)now_ms;
    if (v->event.type == rec->topic_type)
        return JC_OK;
    return jc_error_set(&v->err, JC_ERR_WRONG_TOPIC, "a %s event (schema id %d) on topic %s, "
                        "which carries %s events", jc_event_type_name(v->event.type),
                        (int)v->schema_id, rec->topic, jc_event_type_name(rec->topic_type));
}

/* The record key as a county code: exactly six ASCII digits. */
static int key_code(const jc_record_t *rec, int32_t *code)
{
    const unsigned char *k = rec->key;
    if (k == NULL || rec->key_len != 6)
        return 0;
    int32_t n = 0;
    for (size_t i = 0; i < 6; i++) {
        if (k[i] < '0' || k[i] > '9')
            return 0;
        n = n * 10 + (k[i] - '0');
    }
    *code = n;
    return 1;
}

/* key: present, a county code, and the same current county as the event's. */
static jc_status_t check_key(jc_codec_t *codec, jc_keyring_t *ring, const jc_record_t *rec,
                             int64_t now_ms, jc_verdict_t *v)
{
    (void)codec;
    (void)ring;
    (void)now_ms;
    int32_t code, key_county, event_county, event_code = v->event.county_code;
    if (rec->key == NULL)
        return jc_error_set(&v->err, JC_ERR_WRONG_KEY, "the record key is null; it must be the "
                            "event's county code (%d)", (int)event_code);
    if (!key_code(rec, &code))
        return jc_error_set(&v->err, JC_ERR_WRONG_KEY, "the record key (%zu bytes) is not a "
                            "six-digit county code; it must be the event's (%d)", rec->key_len,
                            (int)event_code);
    if (jc_county_resolve(code, &key_county, NULL) != JC_OK)
        return jc_error_set(&v->err, JC_ERR_WRONG_KEY, "the record key %06d is not (and does not "
                            "map to) a county; it must be the event's county code (%d)",
                            (int)code, (int)event_code);
    if (jc_county_resolve(event_code, &event_county, NULL) != JC_OK || event_county != key_county)
        return jc_error_set(&v->err, JC_ERR_WRONG_KEY, "the record key %06d (county %d) is not "
                            "the event's county %d", (int)code, (int)key_county, (int)event_code);
    return JC_OK;
}

static jc_status_t check_validation(jc_codec_t *codec, jc_keyring_t *ring,
                                    const jc_record_t *rec, int64_t now_ms, jc_verdict_t *v)
{
    (void)codec;
    (void)ring;
    (void)rec;
    return jc_event_validate(&v->event, now_ms, JC_DEFAULT_MAX_SKEW_MS, &v->err);
}

/* The order of the checks (docs/signing.md, "Order of checks on a consumed message"). */
static const struct step {
    jc_check_step_t step;
    const char *name;
    step_fn run;
} STEPS[] = {
    {JC_CHECK_FRAME, "frame", check_frame},
#ifndef JC_BENCH_UNSIGNED /* bench/ only: see check_signature */
    {JC_CHECK_SIGNATURE, "signature", check_signature},
#endif
    {JC_CHECK_DECODE, "decode", check_decode},
#ifndef JC_BENCH_UNSIGNED
    {JC_CHECK_COUNTY, "county", check_county},
#endif
    {JC_CHECK_TOPIC, "topic", check_topic},
    {JC_CHECK_KEY, "key", check_key},
    {JC_CHECK_VALIDATION, "validation", check_validation},
};

const char *jc_check_step_name(jc_check_step_t step)
{
    for (size_t i = 0; i < JC_ARRAY_LEN(STEPS); i++)
        if (STEPS[i].step == step)
            return STEPS[i].name;
    return step == JC_CHECK_PASSED ? "passed" : "unknown";
}

jc_status_t jc_check_record(jc_codec_t *codec, jc_keyring_t *ring, const jc_record_t *rec,
                            int64_t now_ms, jc_verdict_t *v)
{
    v->step = JC_CHECK_PASSED;
    v->status = JC_OK;
    v->sign = JC_SIGN_OK;
    v->schema_id = -1;
    v->key = NULL;
    jc_event_init(&v->event, rec->topic_type);
    jc_error_clear(&v->err);
    for (size_t i = 0; i < JC_ARRAY_LEN(STEPS); i++) {
        jc_status_t st = STEPS[i].run(codec, ring, rec, now_ms, v);
        if (st != JC_OK) {
            v->step = STEPS[i].step;
            v->status = st;
            return st;
        }
    }
    return JC_OK;
}
