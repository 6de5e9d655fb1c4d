/*
 * check.h: the checks a consumed record goes through before its event may count, in their
 * order (docs/signing.md, "Order of checks"), as one function that needs no Kafka connection
 * and no database: the aggregator hands it each message, the unit tests records built in
 * memory.
 *
 *   frame       size, magic byte, schema id (jc_codec_frame)
 *   signature   the record's timestamp is the broker's (LogAppendTime), then jc_sign_verify:
 *               both headers, the key known and valid at the record's timestamp, the MAC
 *   decode      the Avro body (jc_codec_decode)
 *   county      the event's county is the signing key's (jc_sign_check_county); the second half
 *               of the signature check, which needs the decoded event
 *   topic       the event's type is the topic's
 *   key         the record key is present, six digits, and maps to the event's current county
 *   validation  the contract's value rules (jc_event_validate)
 *
 * The first step that refuses decides the verdict. Dedup, the last check of all, needs the
 * partition's state and is the aggregator's.
 */
#ifndef JC_CHECK_H
#define JC_CHECK_H

#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "jiceng/codec.h"
#include "jiceng/event.h"
#include "jiceng/sign.h"

typedef enum jc_check_step {
    JC_CHECK_FRAME,
    JC_CHECK_SIGNATURE,
    JC_CHECK_DECODE,
    JC_CHECK_COUNTY,
    JC_CHECK_TOPIC,
    JC_CHECK_KEY,
    JC_CHECK_VALIDATION,
    JC_CHECK_PASSED /* not a step: every step let the record through */
} jc_check_step_t;

/* "frame", "signature", "decode", "county", "topic", "key", "validation", "passed". */
const char *jc_check_step_name(jc_check_step_t step);

/* A consumed record, as the checks see it. key and value NULL mean null (as librdkafka gives
 * them), distinct from empty. */
typedef struct jc_record {
    const char *topic;
    jc_event_type_t topic_type;       /* the type of event the topic carries */
    const void *key;
    size_t key_len;
    const void *value;
    size_t value_len;
    const rd_kafka_headers_t *headers; /* NULL: none */
    int64_t timestamp_ms;
    rd_kafka_timestamp_type_t timestamp_type;
} jc_record_t;

typedef struct jc_verdict {
    jc_check_step_t step;     /* the step that refused the record; JC_CHECK_PASSED if none did */
    jc_status_t status;       /* JC_OK if it passed, else the reject status */
    jc_sign_verdict_t sign;   /* which signature check refused it (JC_SIGN_OK otherwise) */
    int32_t schema_id;        /* the frame's schema id; -1 if unreadable */
    const jc_sign_key_t *key; /* the signing key, once the signature is verified */
    jc_event_t event;         /* the event, once decoded (its county code current once valid) */
    jc_error_t err;           /* why it was refused */
} jc_verdict_t;

/* Run the checks on rec with the codec and the keyring (valid for rec's timestamp: the caller
 * reloads it first if needed) at time now_ms (for validation). Returns v->status. */
jc_status_t jc_check_record(jc_codec_t *codec, jc_keyring_t *ring, const jc_record_t *rec,
                            int64_t now_ms, jc_verdict_t *v);

#endif
