/*
 * producer.c: events to Kafka for county systems (see jiceng/producer.h).
 *
 * One librdkafka producer, configured with the defaults of producer.h and then the caller's
 * properties, holds one topic handle per event type (so no topic lookup per message) and the
 * producer itself as its opaque. jc_producer_send validates, encodes into the producer's one
 * reusable buffer and produces with RD_KAFKA_MSG_F_COPY, so the buffer is free again at once;
 * the caller's per-event opaque travels as librdkafka's message opaque and comes back in the
 * delivery report callback, which maps librdkafka's outcome to a status and calls the user's
 * callback. A count of accepted-but-unreported events backs jc_producer_outstanding and lets
 * jc_producer_free purge and report what is still pending instead of losing it silently.
 *
 * Signing: the signers (jiceng/sign.h, one per county, each with its keyed MAC context) are
 * loaded once from jiceng.signing.keys when the producer is made; a producer without them is
 * not made. Each record gets a fresh header list holding the key id and the HMAC of (topic,
 * key, value) under its county's signer, found by binary search on the validated (current)
 * county code; librdkafka owns the list once it accepts the message.
 */
#include "jiceng/producer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "jiceng/buf.h"
#include "jiceng/codec.h"
#include "jiceng/jtime.h"
#include "jiceng/sign.h"
#include "jiceng/validate.h"
#include "kafkautil.h"

/* JC_BENCH_UNSIGNED is defined only by bench/CMakeLists.txt, for the benchmark's unsigned
 * comparison library (bench/README.md), never for an installed library or a program: its
 * producer loads no signers and sends records without signature headers. */
#ifdef JC_BENCH_UNSIGNED
#define SIGNING 0
#else
#define SIGNING 1
#endif

struct jc_producer {
    rd_kafka_t *rk;
    rd_kafka_topic_t *topics[JC_EVENT_TYPE_COUNT];
    jc_codec_t *codec;
    jc_signers_t *signers;
    jc_buf_t buf;
    jc_delivery_cb on_delivery;
    void *ud;
    int outstanding;
};

static const char *const default_props[] = {
    "enable.idempotence", "true",
    "acks", "all",
    "compression.codec", "lz4",
    "linger.ms", "5",
    "partitioner", "murmur2_random",
    "allow.auto.create.topics", "false",
    NULL,
};

/* ---- delivery reports ---- */

static void on_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    jc_producer_t *p = opaque;
    p->outstanding--;
    if (p->on_delivery == NULL)
        return;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR)
        p->on_delivery(m->_private, JC_OK, m->partition, m->offset, NULL, p->ud);
    else
        p->on_delivery(m->_private, jc_kafka_status(m->err), m->partition, -1,
                       rd_kafka_err2str(m->err), p->ud);
}

/* ---- set-up ---- */

static rd_kafka_t *new_client(jc_producer_t *p, const char *const *props, jc_error_t *err)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (jc_kafka_conf_apply(conf, default_props, err) != JC_OK ||
        jc_kafka_conf_apply(conf, props, err) != JC_OK) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_opaque(conf, p);
    rd_kafka_conf_set_dr_msg_cb(conf, on_dr);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (rk == NULL) {
        rd_kafka_conf_destroy(conf);
        jc_error_set(err, JC_ERR_KAFKA, "kafka producer: %s", errstr);
    }
    return rk;
}

static jc_status_t open_topics(jc_producer_t *p, const char *prefix, jc_error_t *err)
{
    char name[JC_TOPIC_NAME_MAX + 1];
    for (int t = 0; t < JC_EVENT_TYPE_COUNT; t++) {
        jc_status_t st = jc_kafka_topic_name(prefix, jc_event_topic((jc_event_type_t)t), name,
                                             err);
        if (st != JC_OK)
            return st;
        p->topics[t] = rd_kafka_topic_new(p->rk, name, NULL);
        if (p->topics[t] == NULL)
            return jc_error_set(err, JC_ERR_KAFKA, "kafka topic %s: %s", name,
                                rd_kafka_err2str(rd_kafka_last_error()));
    }
    return JC_OK;
}

/* The signers named by jiceng.signing.keys: required, since every record is signed. */
static jc_status_t load_signers(jc_producer_t *p, const char *const *props, jc_error_t *err)
{
    const char *path = jc_kafka_prop(props, JC_PROP_SIGNING_KEYS, NULL);
    if (path == NULL || *path == '\0')
        return jc_error_set(err, JC_ERR_INVALID_ARG, "kafka producer: %s is required: every "
                            "record is signed with its county system's key (docs/signing.md); "
                            "give a key file or a directory of key files", JC_PROP_SIGNING_KEYS);
    return jc_signers_load(path, &p->signers, err);
}

jc_producer_t *jc_producer_new(const char *const *props, jc_delivery_cb on_delivery, void *ud,
                               jc_error_t *err)
{
    if (jc_kafka_prop(props, "bootstrap.servers", NULL) == NULL &&
        jc_kafka_prop(props, "metadata.broker.list", NULL) == NULL) {
        jc_error_set(err, JC_ERR_INVALID_ARG, "kafka producer: bootstrap.servers is required");
        return NULL;
    }
    jc_producer_t *p = calloc(1, sizeof *p);
    if (p == NULL) {
        jc_error_set(err, JC_ERR_NOMEM, "kafka producer: out of memory");
        return NULL;
    }
    p->on_delivery = on_delivery;
    p->ud = ud;
    if ((SIGNING && load_signers(p, props, err) != JC_OK) ||
        (p->codec = jc_codec_new(err)) == NULL ||
        (p->rk = new_client(p, props, err)) == NULL ||
        open_topics(p, jc_kafka_prop(props, JC_PROP_TOPIC_PREFIX, ""), err) != JC_OK) {
        jc_producer_free(p);
        return NULL;
    }
    return p;
}

/* ---- sending ---- */

static jc_status_t produce_error(jc_producer_t *p, rd_kafka_topic_t *rkt, rd_kafka_resp_err_t e,
                                 jc_error_t *err)
{
    char reason[512];
    if (e == RD_KAFKA_RESP_ERR__FATAL)
        rd_kafka_fatal_error(p->rk, reason, sizeof reason);
    else
        snprintf(reason, sizeof reason, "%s", rd_kafka_err2str(e));
    return jc_error_set(err, JC_ERR_KAFKA, "produce to %s: %s", rd_kafka_topic_name(rkt),
                        reason);
}

/* Enqueue one message with its headers, serving delivery reports while librdkafka's queue is
 * full. librdkafka owns hdrs once it accepts the message; on failure they are freed here. */
static jc_status_t enqueue(jc_producer_t *p, rd_kafka_topic_t *rkt, const char *key,
                           size_t keylen, rd_kafka_headers_t *hdrs, void *opaque,
                           jc_error_t *err)
{
    for (;;) {
        rd_kafka_resp_err_t e = rd_kafka_producev(
            p->rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_VALUE(p->buf.data, p->buf.len),
            RD_KAFKA_V_KEY(key, keylen), RD_KAFKA_V_HEADERS(hdrs),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
            p->outstanding++;
            return JC_OK;
        }
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            if (hdrs != NULL) /* none when unsigned (JC_BENCH_UNSIGNED) */
                rd_kafka_headers_destroy(hdrs);
            return produce_error(p, rkt, e, err);
        }
        rd_kafka_poll(p->rk, 100);
    }
}

/* The signature headers of the encoded record (p->buf) for topic and key, into *out. */
static jc_status_t sign_record(jc_producer_t *p, jc_signer_t *signer, rd_kafka_topic_t *rkt,
                               const char *key, size_t keylen, rd_kafka_headers_t **out,
                               jc_error_t *err)
{
    rd_kafka_headers_t *hdrs = rd_kafka_headers_new(2);
    if (hdrs == NULL)
        return jc_error_set(err, JC_ERR_NOMEM, "out of memory for record headers");
    jc_status_t st = jc_signer_add_headers(signer, hdrs, rd_kafka_topic_name(rkt), key, keylen,
                                           p->buf.data, p->buf.len, err);
    if (st != JC_OK) {
        rd_kafka_headers_destroy(hdrs);
        return st;
    }
    *out = hdrs;
    return JC_OK;
}

jc_status_t jc_producer_send(jc_producer_t *p, jc_event_t *ev, void *opaque, jc_error_t *err)
{
    if (p == NULL || ev == NULL || (unsigned)ev->type >= JC_EVENT_TYPE_COUNT)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "jc_producer_send: no producer, no event "
                            "or an unknown event type");
    jc_status_t st = jc_event_validate(ev, jc_now_ms(), JC_DEFAULT_MAX_SKEW_MS, err);
    jc_signer_t *signer = NULL;
    if (SIGNING && st == JC_OK &&
        (signer = jc_signers_find(p->signers, ev->county_code)) == NULL)
        st = jc_error_set(err, JC_ERR_UNAUTHORIZED, "no signing key for county %d",
                          (int)ev->county_code);
    if (st == JC_OK)
        st = jc_codec_encode(p->codec, ev, &p->buf, err);
    if (st != JC_OK)
        return st;
    char key[16];
    size_t keylen = (size_t)snprintf(key, sizeof key, "%d", (int)ev->county_code);
    rd_kafka_topic_t *rkt = p->topics[ev->type];
    rd_kafka_headers_t *hdrs = NULL;
    st = SIGNING ? sign_record(p, signer, rkt, key, keylen, &hdrs, err) : JC_OK;
    return st == JC_OK ? enqueue(p, rkt, key, keylen, hdrs, opaque, err) : st;
}

/* ---- waiting ---- */

int jc_producer_poll(jc_producer_t *p, int timeout_ms)
{
    return p != NULL ? rd_kafka_poll(p->rk, timeout_ms) : 0;
}

jc_status_t jc_producer_flush(jc_producer_t *p, int timeout_ms, jc_error_t *err)
{
    if (p == NULL)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "jc_producer_flush: no producer");
    rd_kafka_flush(p->rk, timeout_ms);
    if (p->outstanding > 0)
        return jc_error_set(err, JC_ERR_TIMEOUT, "%d events still without a delivery report "
                            "after %d ms", p->outstanding, timeout_ms);
    return JC_OK;
}

int jc_producer_outstanding(const jc_producer_t *p)
{
    return p != NULL ? p->outstanding : 0;
}

const char *jc_producer_topic(const jc_producer_t *p, jc_event_type_t type)
{
    if (p == NULL || (unsigned)type >= JC_EVENT_TYPE_COUNT)
        return NULL;
    return rd_kafka_topic_name(p->topics[type]);
}

/* Purge what is still pending and serve the resulting (failed) delivery reports. */
static void purge_outstanding(jc_producer_t *p)
{
    rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    for (int i = 0; i < 100 && p->outstanding > 0; i++)
        rd_kafka_poll(p->rk, 100);
}

void jc_producer_free(jc_producer_t *p)
{
    if (p == NULL)
        return;
    if (p->rk != NULL && p->outstanding > 0)
        purge_outstanding(p);
    for (int t = 0; t < JC_EVENT_TYPE_COUNT; t++)
        if (p->topics[t] != NULL)
            rd_kafka_topic_destroy(p->topics[t]);
    if (p->rk != NULL)
        rd_kafka_destroy(p->rk);
    jc_codec_free(p->codec);
    jc_signers_free(p->signers);
    jc_buf_free(&p->buf);
    free(p);
}
