/*
 * deadletter.c: the dead-letter copies of the aggregator's rejects (see deadletter.h).
 *
 * One idempotent librdkafka producer (acks=all) writes the copies. Its defaults come first,
 * then the aggregator's properties except those librdkafka marks as the consumer's
 * (kafkautil.h), so -X fetch.max.bytes reaches the consumer only and -X message.timeout.ms
 * this producer only. Each copy is a struct that owns the reject's key, value and headers;
 * librdkafka is given pointers into it (no copy, no free) and the struct as the message's
 * opaque, so the delivery report finds it and it lives until it is settled:
 *   delivered                  counted (dead_letters; dead_letters_cut if it was cut), freed;
 *   too large for the topic    cut shorter and produced again (below);
 *   retriable (timeouts, transport, leadership, unknown topic: jc_kafka_retriable)
 *                              produced again, at most DL_ATTEMPTS times in all
 *                              (dead_letter_retries, log dead_letter_retry);
 *   anything else, or out of attempts
 *                              counted (dead_letter_failed), logged (dead_letter_failed, naming
 *                              the record's topic, partition and offset and the reason), freed.
 * Copies to produce again wait on a list until the next poll: nothing is produced from inside
 * a delivery report.
 *
 * Size. The broker refuses a record batch larger than the topic's max.message.bytes, which this
 * client cannot read (the aggregator may not describe configs). So each batch holds one copy
 * (batch.num.messages=1: a refusal is then that copy's own), and the producer learns the limit:
 * `bad` is the smallest size refused so far, `ok` the largest delivered below it, and a copy
 * must fit in their midpoint (message.max.bytes, the producer's own limit, until something is
 * refused). A copy that does not fit has its key and value cut (a prefix is kept; value first,
 * then key), and when the record's own headers alone do not fit, they are left out; the length
 * and SHA-256 headers, computed once from the whole record, say what was cut. A copy refused as
 * too large is cut again at the next attempt, at most DL_MAX_CUTS times and only while it gets
 * smaller. Sizes are estimated the same way everywhere (record_bytes), so the learning holds.
 *
 * At the end, jc_deadletter_drain waits for the copies in flight (a failure is then final),
 * purges what is left after the producer's message.timeout.ms plus a margin, and counts it.
 */
#include "deadletter.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../digest.h"
#include "../kafkautil.h"
#include "../logging.h"
#include "jiceng/jtime.h"

#define DL_ATTEMPTS 3          /* tries of one copy on retriable errors, the first included */
#define DL_MAX_CUTS 32         /* cuts of one copy after the topic refused it as too large */
#define DL_RECORD_OVERHEAD 512 /* bytes of framing assumed per record (batch, lengths, ...) */
#define DL_HEADER_OVERHEAD 8   /* ... and per header (its lengths) */
#define DL_DRAIN_MARGIN_MS 5000
#define DL_PURGE_WAIT_MS 2000

typedef struct copy {
    struct copy *prev, *next; /* every live copy (d->live), for the end */
    struct copy *again;       /* the list of copies to produce again (d->again) */
    jc_reject_t r;            /* the reject: key, value and headers owned */
    char key_sha[JC_SHA256_HEX_SIZE], value_sha[JC_SHA256_HEX_SIZE]; /* "" when null */
    size_t key_len, value_len; /* bytes of key and value the current attempt sends */
    size_t sent;               /* record_bytes of the current attempt */
    int attempts, cuts;
} copy_t;

struct jc_deadletter {
    jc_kafka_logger_t logger; /* first: the producer's opaque (kafkautil.h) */
    rd_kafka_t *rk;
    char topic[256];
    jc_aggregator_stats_t *stats;
    size_t max_bytes;   /* the producer's message.max.bytes */
    size_t ok, bad;     /* largest size delivered below bad; smallest refused (SIZE_MAX: none) */
    int timeout_ms;     /* the producer's message.timeout.ms */
    copy_t *live;       /* every copy not yet settled */
    copy_t *again;      /* copies to produce again at the next poll */
    size_t inflight;    /* copies librdkafka holds */
    bool draining;      /* the end: a retriable failure is final */
};

#define LOG(d, level, event, ...) jc_logf((d)->logger.log, (d)->logger.opaque, level, event, __VA_ARGS__)

/* ---- sizes and shapes -------------------------------------------------------------------- */

/* The size a record with headers h and kv bytes of key and value is taken to have. */
static size_t record_bytes(const rd_kafka_headers_t *h, size_t kv)
{
    return DL_RECORD_OVERHEAD + kv + jc_kafka_headers_bytes(h) +
           DL_HEADER_OVERHEAD * rd_kafka_header_cnt(h);
}

/* The most bytes a copy may take now (see "Size" above). */
static size_t current_fit(const jc_deadletter_t *d)
{
    if (d->bad == SIZE_MAX)
        return d->max_bytes;
    return d->ok + (d->bad - d->ok) / 2;
}

static bool add_header(rd_kafka_headers_t *h, const char *name, const char *value)
{
    return rd_kafka_header_add(h, name, -1, value, value != NULL ? -1 : 0) ==
           RD_KAFKA_RESP_ERR_NO_ERROR;
}

/* jiceng.NAME.length and jiceng.NAME.sha256 of a key or value: null for a null one. */
static bool add_field_headers(rd_kafka_headers_t *h, const char *field, const jc_buf_t *b,
                              bool null, const char *sha)
{
    char name[32], len[24];
    snprintf(len, sizeof len, "%zu", b->len);
    snprintf(name, sizeof name, "jiceng.%s.length", field);
    bool ok = add_header(h, name, null ? NULL : len);
    snprintf(name, sizeof name, "jiceng.%s.sha256", field);
    return ok && add_header(h, name, null ? NULL : sha);
}

/* A copy's headers: the record's own in order (unless originals is false), then the jiceng.*
 * ones of deadletter.h. NULL if out of memory. */
static rd_kafka_headers_t *copy_headers(const copy_t *c, bool originals)
{
    const jc_reject_t *r = &c->r;
    rd_kafka_headers_t *h = originals && r->headers != NULL ? rd_kafka_headers_copy(r->headers)
                                                            : rd_kafka_headers_new(10);
    if (h == NULL)
        return NULL;
    char part[16], off[24], dropped[24];
    snprintf(part, sizeof part, "%d", (int)r->partition);
    snprintf(off, sizeof off, "%lld", (long long)r->offset);
    snprintf(dropped, sizeof dropped, "%zu", r->headers != NULL ? rd_kafka_header_cnt(r->headers) : 0);
    bool ok = add_header(h, "jiceng.source.topic", r->topic) &&
              add_header(h, "jiceng.source.partition", part) &&
              add_header(h, "jiceng.source.offset", off) &&
              add_header(h, "jiceng.status", jc_status_name(r->status)) &&
              add_header(h, "jiceng.reason", r->reason) &&
              add_field_headers(h, "key", &r->key, r->key_null, c->key_sha) &&
              add_field_headers(h, "value", &r->payload, r->payload_null, c->value_sha) &&
              (originals || r->headers == NULL || add_header(h, "jiceng.headers.dropped", dropped));
    if (!ok) {
        rd_kafka_headers_destroy(h);
        return NULL;
    }
    return h;
}

static size_t min_size(size_t a, size_t b)
{
    return a < b ? a : b;
}

/* This attempt's headers, with c's key_len, value_len and sent set to fit current_fit: the
 * record's own headers left out if they alone overflow it, then the value, then the key cut. */
static rd_kafka_headers_t *shape(const jc_deadletter_t *d, copy_t *c)
{
    size_t fit = current_fit(d);
    rd_kafka_headers_t *h = copy_headers(c, true);
    if (h != NULL && c->r.headers != NULL && record_bytes(h, 0) > fit) {
        rd_kafka_headers_destroy(h);
        h = copy_headers(c, false);
    }
    if (h == NULL)
        return NULL;
    size_t bare = record_bytes(h, 0);
    size_t room = fit > bare ? fit - bare : 0;
    c->key_len = min_size(c->r.key.len, room);
    c->value_len = min_size(c->r.payload.len, room - c->key_len);
    c->sent = record_bytes(h, c->key_len + c->value_len);
    return h;
}

static bool was_cut(const copy_t *c)
{
    return c->key_len < c->r.key.len || c->value_len < c->r.payload.len;
}

/* ---- settling a copy --------------------------------------------------------------------- */

static void unlink_copy(jc_deadletter_t *d, copy_t *c)
{
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        d->live = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
}

static void free_copy(jc_deadletter_t *d, copy_t *c)
{
    unlink_copy(d, c);
    jc_buf_free(&c->r.key);
    jc_buf_free(&c->r.payload);
    if (c->r.headers != NULL)
        rd_kafka_headers_destroy(c->r.headers);
    free(c);
}

static void fail_copy(jc_deadletter_t *d, copy_t *c, const char *why)
{
    d->stats->dead_letter_failed++;
    LOG(d, JC_LOG_ERROR, "dead_letter_failed", "dead-letter copy of %s [%d] @%lld (%s) not "
        "delivered to %s: %s; the reject is kept in jiceng.rejects", c->r.topic,
        (int)c->r.partition, (long long)c->r.offset, jc_status_name(c->r.status), d->topic, why);
    free_copy(d, c);
}

static void delivered(jc_deadletter_t *d, copy_t *c)
{
    d->stats->dead_letters++;
    if (c->sent > d->ok && c->sent < d->bad)
        d->ok = c->sent;
    if (was_cut(c)) {
        d->stats->dead_letters_cut++;
        LOG(d, JC_LOG_INFO, "dead_letter_cut", "dead-letter copy of %s [%d] @%lld delivered "
            "cut to fit %s: key %zu of %zu bytes, value %zu of %zu bytes (the whole record is "
            "in jiceng.rejects)", c->r.topic, (int)c->r.partition, (long long)c->r.offset,
            d->topic, c->key_len, c->r.key.len, c->value_len, c->r.payload.len);
    }
    free_copy(d, c);
}

static void produce_again(jc_deadletter_t *d, copy_t *c)
{
    c->again = d->again;
    d->again = c;
}

/* The outcome e of c's attempt (from its delivery report, or from producing it). */
static void settle(jc_deadletter_t *d, copy_t *c, rd_kafka_resp_err_t e)
{
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
        delivered(d, c);
    } else if (e == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE && c->cuts < DL_MAX_CUTS) {
        if (c->sent < d->bad)
            d->bad = c->sent;
        if (d->ok >= d->bad)
            d->ok = 0; /* the topic's limit went down */
        c->cuts++;
        produce_again(d, c);
    } else if (jc_kafka_retriable(e) && !d->draining && c->attempts + 1 < DL_ATTEMPTS) {
        c->attempts++;
        d->stats->dead_letter_retries++;
        LOG(d, JC_LOG_WARN, "dead_letter_retry", "dead-letter copy of %s [%d] @%lld: %s; "
            "producing it again (attempt %d of %d)", c->r.topic, (int)c->r.partition,
            (long long)c->r.offset, rd_kafka_err2str(e), c->attempts + 1, DL_ATTEMPTS);
        produce_again(d, c);
    } else {
        fail_copy(d, c, rd_kafka_err2str(e));
    }
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    jc_deadletter_t *d = opaque;
    d->inflight--;
    settle(d, m->_private, m->err);
}

/* ---- producing --------------------------------------------------------------------------- */

/* NULL for a null key or value, never for an empty one (librdkafka sends a non-NULL pointer
 * with length 0 as an empty value). */
static void *field_bytes(const jc_buf_t *b, bool null)
{
    static char empty[1];
    return null ? NULL : b->data != NULL ? (void *)b->data : empty;
}

static void produce_copy(jc_deadletter_t *d, copy_t *c)
{
    size_t before = c->sent;
    rd_kafka_headers_t *h = shape(d, c);
    if (h == NULL) {
        fail_copy(d, c, "out of memory building its headers");
        return;
    }
    if (c->cuts > 0 && c->sent >= before) {
        rd_kafka_headers_destroy(h);
        fail_copy(d, c, "the topic refuses it as too large and it cannot be cut further");
        return;
    }
    rd_kafka_resp_err_t e = rd_kafka_producev(
        d->rk, RD_KAFKA_V_TOPIC(d->topic),
        RD_KAFKA_V_KEY(field_bytes(&c->r.key, c->r.key_null), c->key_len),
        RD_KAFKA_V_VALUE(field_bytes(&c->r.payload, c->r.payload_null), c->value_len),
        RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_OPAQUE(c), RD_KAFKA_V_END);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
        d->inflight++;
        return;
    }
    rd_kafka_headers_destroy(h); /* librdkafka owns the headers only once it took the message */
    settle(d, c, e);
}

/* Produce the copies waiting to go again (their failures may queue them once more: the list is
 * taken first). */
static void produce_waiting(jc_deadletter_t *d)
{
    copy_t *c = d->again;
    d->again = NULL;
    while (c != NULL) {
        copy_t *next = c->again;
        produce_copy(d, c);
        c = next;
    }
}

/* A copy of r, taking r's key, value and headers; NULL if out of memory or hashing failed
 * (err says which). */
static copy_t *new_copy(jc_reject_t *r, jc_error_t *err)
{
    copy_t *c = calloc(1, sizeof *c);
    if (c == NULL) {
        jc_error_set(err, JC_ERR_NOMEM, "out of memory");
        return NULL;
    }
    if ((!r->key_null && jc_sha256_hex(r->key.data, r->key.len, c->key_sha, err) != JC_OK) ||
        (!r->payload_null &&
         jc_sha256_hex(r->payload.data, r->payload.len, c->value_sha, err) != JC_OK)) {
        free(c);
        return NULL;
    }
    c->r = *r;
    memset(&r->key, 0, sizeof r->key);
    memset(&r->payload, 0, sizeof r->payload);
    r->headers = NULL;
    return c;
}

void jc_deadletter_send(jc_deadletter_t *d, jc_reject_t *r)
{
    jc_error_t err;
    copy_t *c = new_copy(r, &err);
    if (c == NULL) {
        d->stats->dead_letter_failed++;
        LOG(d, JC_LOG_ERROR, "dead_letter_failed", "dead-letter copy of %s [%d] @%lld (%s) not "
            "made: %s; the reject is kept in jiceng.rejects", r->topic, (int)r->partition,
            (long long)r->offset, jc_status_name(r->status), err.message);
        return;
    }
    c->next = d->live;
    if (d->live != NULL)
        d->live->prev = c;
    d->live = c;
    produce_copy(d, c);
}

void jc_deadletter_poll(jc_deadletter_t *d)
{
    rd_kafka_poll(d->rk, 0);
    produce_waiting(d);
}

void jc_deadletter_drain(jc_deadletter_t *d)
{
    int64_t deadline = jc_mono_ms() + d->timeout_ms + DL_DRAIN_MARGIN_MS;
    d->draining = true;
    produce_waiting(d);
    while ((d->inflight > 0 || d->again != NULL) && jc_mono_ms() < deadline) {
        rd_kafka_poll(d->rk, 100);
        produce_waiting(d);
    }
    if (d->inflight > 0)
        rd_kafka_purge(d->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    for (int64_t end = jc_mono_ms() + DL_PURGE_WAIT_MS; d->inflight > 0 && jc_mono_ms() < end;)
        rd_kafka_poll(d->rk, 100); /* the purged copies' reports: counted as failed */
    for (copy_t *c = d->again; c != NULL;) {
        copy_t *next = c->again;
        fail_copy(d, c, "still not delivered when the aggregator stopped");
        c = next;
    }
    d->again = NULL;
    if (d->inflight > 0) {
        d->stats->dead_letter_failed += d->inflight;
        LOG(d, JC_LOG_ERROR, "dead_letter_failed", "%zu dead-letter copies to %s left unsettled "
            "at the end; their rejects are kept in jiceng.rejects", d->inflight, d->topic);
        d->inflight = 0;
    }
}

/* ---- set-up -------------------------------------------------------------------------------- */

static rd_kafka_t *new_producer(jc_deadletter_t *d, const jc_deadletter_config_t *cfg,
                                jc_error_t *err)
{
    const char *const defaults[] = {
        "bootstrap.servers", cfg->bootstrap,
        "enable.idempotence", "true",
        "acks", "all",
        "allow.auto.create.topics", "false", /* jiceng-topics creates it, configured */
        "batch.num.messages", "1",            /* a size refusal is then one copy's own */
        "message.timeout.ms", "30000",        /* a copy's delivery bound; the drain's too */
        "queue.buffering.max.kbytes", "65536", /* copies in flight: 4 batches' rejects */
        NULL,
    };
    rd_kafka_conf_t *conf; /* ours first, then the caller's, which may override them */
    if (jc_kafka_conf_layered(RD_KAFKA_PRODUCER, defaults, cfg->kafka_properties, &conf, err) != JC_OK)
        return NULL;
    d->max_bytes = (size_t)jc_kafka_conf_number(conf, "message.max.bytes", 1000000);
    d->timeout_ms = (int)jc_kafka_conf_number(conf, "message.timeout.ms", 30000);
    rd_kafka_conf_set_opaque(conf, d);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    return jc_kafka_client_new(RD_KAFKA_PRODUCER, conf, err);
}

jc_deadletter_t *jc_deadletter_new(const jc_deadletter_config_t *cfg, jc_error_t *err)
{
    jc_deadletter_t *d = calloc(1, sizeof *d);
    if (d == NULL) {
        jc_error_set(err, JC_ERR_NOMEM, "out of memory");
        return NULL;
    }
    d->logger.log = cfg->log;
    d->logger.opaque = cfg->log_opaque;
    d->stats = cfg->stats;
    d->bad = SIZE_MAX;
    snprintf(d->topic, sizeof d->topic, "%s", cfg->topic);
    if ((d->rk = new_producer(d, cfg, err)) == NULL) {
        free(d);
        return NULL;
    }
    return d;
}

void jc_deadletter_free(jc_deadletter_t *d)
{
    if (d == NULL)
        return;
    rd_kafka_destroy(d->rk); /* no report is served any more: the copies are freed below */
    while (d->live != NULL)
        free_copy(d, d->live);
    free(d);
}
