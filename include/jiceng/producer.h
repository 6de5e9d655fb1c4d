/*
 * jiceng/producer.h: the C API county systems link to publish events.
 *
 * jc_producer_send validates an event against the contract (jiceng/validate.h; an old county
 * code is mapped to its current one), encodes it with the newest schema of its type
 * (jiceng/codec.h: Confluent wire format), and hands it to librdkafka for the type's topic
 * (jc_event_topic), keyed by the county code in ASCII decimal, and signed (jiceng/sign.h,
 * docs/signing.md) with the signing key of the event's county: the key id and the HMAC-SHA256
 * of (topic, key, value) travel in the record headers jiceng.key-id and jiceng.sig, and the
 * aggregator counts no record without them. The partitioner is
 * murmur2_random, the Java client's default, so a county always lands in the same partition
 * whichever client wrote it. A correction is the whole event again with the same event_id
 * and county and ev->revision one more than the version it replaces; a withdrawal is the same
 * with ev->withdrawn true (both 0/false for an original, as jc_event_init leaves them; see
 * docs/architecture.md, "Event contract: revisions"). Sending is asynchronous: the result of each event arrives later
 * through the delivery callback, called from jc_producer_poll or jc_producer_flush on the
 * caller's thread, exactly once per event that jc_producer_send accepted, and only with what
 * the broker (or librdkafka) actually reported.
 *
 * Defaults, which the caller's properties override: enable.idempotence=true, acks=all,
 * compression.codec=lz4, linger.ms=5, partitioner=murmur2_random,
 * allow.auto.create.topics=false (topics are made by jiceng/admin.h).
 *
 * Signing keys: the property "jiceng.signing.keys" names a key file (a county system: key_id=,
 * county=, secret= lines, mode 0600, as jiceng-access writes it) or a directory of such files
 * named *.key, one per county (a producer that plays several county systems, such as the
 * demo's load generator). It is required: there is no unsigned mode. The keys are read once,
 * when the producer is made; after a key rotation, make a new producer (the old key stays valid
 * for a grace period, so records in flight are not lost). An event whose county has no key
 * is refused by jc_producer_send (JC_ERR_UNAUTHORIZED).
 *
 * A producer is NOT thread-safe: it owns one codec and one encoding buffer. Use it from one
 * thread, or one producer per thread.
 *
 *     const char *props[] = {"bootstrap.servers", "kafka1:9093", "security.protocol", "ssl",
 *                            ..., "jiceng.signing.keys", "/etc/jiceng/county.key", NULL};
 *     jc_producer_t *p = jc_producer_new(props, on_delivery, NULL, &err);
 *     jc_producer_send(p, &ev, my_record, &err);   // on_delivery(my_record, ...) later
 *     jc_producer_flush(p, 30000);
 *     jc_producer_free(p);
 */
#ifndef JICENG_PRODUCER_H
#define JICENG_PRODUCER_H

#include <stdint.h>

#include "jiceng/event.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct jc_producer jc_producer_t;

/** The outcome of one event. opaque is what was passed to jc_producer_send; status JC_OK means
 *  the broker acknowledged it at partition/offset; otherwise JC_ERR_TIMEOUT (not delivered
 *  within message.timeout.ms) or JC_ERR_KAFKA, with librdkafka's message in errstr (partition
 *  and offset are then -1 or unknown). ud is the producer's user data. */
typedef void (*jc_delivery_cb)(void *opaque, jc_status_t status, int32_t partition,
                               int64_t offset, const char *errstr, void *ud);

/** A producer. props: NULL-terminated name, value pairs of librdkafka properties (passed to
 *  rd_kafka_conf_set unchanged, after the defaults above) and libjiceng settings
 *  ("jiceng.signing.keys", required: see above; "jiceng.topic.prefix": prepended to every
 *  topic name). on_delivery may be NULL. NULL with err set: JC_ERR_INVALID_ARG naming an
 *  unknown property or bad value or a missing jiceng.signing.keys, the errors of
 *  jc_signers_load (JC_ERR_INSECURE_FILE for a key file others may read, JC_ERR_PARSE,
 *  JC_ERR_IO), JC_ERR_KAFKA. */
JC_API jc_producer_t *jc_producer_new(const char *const *props, jc_delivery_cb on_delivery,
                                      void *ud, jc_error_t *err);

/** Validate (at jc_now_ms(), allowing JC_DEFAULT_MAX_SKEW_MS of clock skew), encode, sign
 *  and enqueue ev. ev->county_code is rewritten to the current code if an old one was given.
 *  When librdkafka's queue is full this serves delivery reports and retries until there is
 *  room. Returns the validation status (JC_ERR_NEGATIVE_COUNT, JC_ERR_UNKNOWN_COUNTY, ...),
 *  JC_ERR_UNAUTHORIZED ("no signing key for county N") if the producer holds no key for the
 *  event's county, or JC_ERR_KAFKA if librdkafka refuses the message; in those cases no
 *  callback follows. */
JC_API jc_status_t jc_producer_send(jc_producer_t *p, jc_event_t *ev, void *opaque,
                                    jc_error_t *err);

/** Serve delivery reports, waiting up to timeout_ms for the first. Returns how many. */
JC_API int jc_producer_poll(jc_producer_t *p, int timeout_ms);

/** Wait until every accepted event has had its delivery report (or timeout_ms passes; -1:
 *  wait as long as librdkafka may take, which message.timeout.ms bounds). JC_ERR_TIMEOUT if
 *  reports are still outstanding. */
JC_API jc_status_t jc_producer_flush(jc_producer_t *p, int timeout_ms, jc_error_t *err);

/** Events accepted whose delivery report has not been served yet. */
JC_API int jc_producer_outstanding(const jc_producer_t *p);

/** The full topic name events of type go to (prefix included). */
JC_API const char *jc_producer_topic(const jc_producer_t *p, jc_event_type_t type);

/** Release p (NULL is fine). It does not wait: flush first. Events still outstanding are
 *  purged and reported through the callback as not delivered (JC_ERR_KAFKA, "purged"), since
 *  their fate is unknown; none is reported as delivered. */
JC_API void jc_producer_free(jc_producer_t *p);

#ifdef __cplusplus
}
#endif
#endif
