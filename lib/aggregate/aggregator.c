/*
 * aggregator.c: the aggregating consumer's Kafka side (see jiceng/aggregator.h).
 *
 * The loop polls messages and handles each. The checks run in this order, and the first that
 * fails decides the reject status (check.c runs the first seven; docs/signing.md, "Order of
 * checks", is the specification):
 *   frame       size, magic byte, known schema id              JC_ERR_OVERSIZED, _BAD_MAGIC, ...
 *   signature   broker timestamp, headers, key valid at the record's timestamp, MAC
 *                                                              JC_ERR_UNAUTHORIZED
 *   decode      the Avro body                                  JC_ERR_TRUNCATED, _MALFORMED, ...
 *   county      the event's county is the signing key's        JC_ERR_UNAUTHORIZED
 *               (a code that maps to no county)                JC_ERR_UNKNOWN_COUNTY
 *   topic       the event's type is the topic's                JC_ERR_WRONG_TOPIC
 *   key         the record key maps to the event's county      JC_ERR_WRONG_KEY
 *   validation  the contract's value rules                     JC_ERR_NEGATIVE_COUNT, ...
 *   dedup       the event id's version in force, looked up in the partition's dedup sets
 *               (the open batch's, then the committed ones), decides with the event's revision
 *               (revise.h): a re-send is skipped, a correction or withdrawal replaces it
 *                          JC_ERR_CONFLICTING_DUPLICATE, _STALE_REVISION, _UNKNOWN_ORIGINAL,
 *                                                              _COUNTY_CHANGED
 * then the event is folded (a replacement: the version in force's contribution, kept in its
 * ledger record, subtracted and the new one's added, in the same batch). A reject keeps the record's key, value (null distinct from empty)
 * and headers for jiceng.rejects; after its batch commits, deadletter.c sends its copy to the
 * dead-letter topic (original headers, then jiceng.* ones saying where it came from and why),
 * and counts and logs a copy that never gets there.
 *
 * Signing keys (keys.h) are read from jiceng.signing_keys at start and again before a record
 * timestamped at or past the copy's horizon (database time of the read plus the table's notice
 * period: about every 10 s while live, never during a replay of old records), at most once a
 * second; and, at most once every 10 s, when a record names a key id the copy lacks. Keys are
 * judged by the record's timestamp, so a closed key takes effect by its valid_until, whenever
 * the copy is read.
 *
 * Reference data (issue 13, item 6; refdata.h): the counties and code changes are read from
 * PostgreSQL at start and, only between batches, again on jc_aggregator_reload_reference
 * (SIGHUP) or when jiceng.reference_version moved; a new snapshot has the keys read again.
 *
 * A batch closes when it holds batch_max_events messages, when batch_max_ms have passed
 * since its first message, when its rejects hold 16 MiB, or as soon as it has drained what the
 * broker had (batch_drained: light load commits at once, a backlog fills batches); pgsink.c then writes it in one
 * transaction. Only after that commit does the in-memory state move on (the batch's ids join
 * the committed set, the stored offsets advance, Kafka's committed offsets are updated for lag
 * tools, the rejects go to the dead-letter topic), so a crash at any point leaves PostgreSQL and
 * memory consistent: the next owner of a partition starts from PostgreSQL.
 *
 * Overlapped flush (issue 14, item 1): a closed batch "flies": the flush thread (flusher.h)
 * writes it on its own connection while this thread consumes, checks and folds the next one.
 * Two batch states alternate (bs[cur] open, bs[cur ^ 1] flying), and each partition has a slice
 * for each (batch.h: next offset, pending ids, ledger bytes). At most one batch flies, and the
 * next one is handed over only after it has landed, so batches commit in order, and each one's
 * offset compare-and-set expects where the one before ended (a slice's from: the flying slice's
 * next, else the stored offset). An id's version in force is looked up in the open batch, then
 * the flying one, then the committed set. Landing happens on this thread (land): a commit
 * moves memory on as above; a PostgreSQL error hands the same batch over again after a
 * backoff; fencing drops both batches and reads their partitions again from PostgreSQL. A
 * drained batch waits while one flies (what arrives meanwhile joins it); a full one waits for
 * the landing. Rebalances, the end of the run and every drop first let the flying batch land.
 *
 * PostgreSQL is first reached when the run starts (not when the aggregator is made): the
 * connection, the schema check and the signing keys are retried with the same backoff as
 * mid-run (log pg_retry) until they succeed, the stop flag is raised, or pg_start_wait_ms has
 * passed; only a schema that is too old ends the run at once.
 *
 * Partitions come and go through the cooperative rebalance callback: on assignment each
 * partition's stored offset is read, it is assigned there and paused, and the loader thread
 * (loader.h) reads its dedup ledger meanwhile; between polls the loop takes the finished ledgers
 * and resumes their partitions (take_ledgers), so the other partitions are consumed throughout;
 * a message of a partition still loading is passed over (read again after the load). Before a
 * revocation the open batch is flushed; when partitions are lost the batch is dropped and the
 * remaining partitions are rewound to their stored offsets.
 *
 * Nothing is printed: occurrences go to the configuration's log callback through jc_logf
 * (librdkafka's own log lines too, queued with log.queue so that they are served by the polls
 * of this thread), and every stats_interval_ms the loop refreshes the figures it does not keep
 * up to date as it goes (the dedup sets' sizes) and hands a copy of the counters to on_stats.
 */
#include "jiceng/aggregator.h"

#include <stdio.h>
#include <stdlib.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "../internal.h"
#include "../kafkautil.h"
#include "../logging.h"
#include "check.h"
#include "deadletter.h"
#include "endoffsets.h"
#include "jiceng/codec.h"
#include "jiceng/generation.h"
#include "jiceng/jtime.h"
#include "jiceng/migrate.h"
#include "jiceng/reference.h" /* metrics: county index */
#include "jiceng/validate.h"
#include "keys.h"
#include "loader.h"
#include "flusher.h"
#include "pgsink.h"
#include "refdata.h" /* reference data (issue 13, item 6) */
#include "revise.h"

#define MAX_PARTITIONS 1024
#define MAX_REJECT_BYTES (16u << 20)
#define EXPIRE_EVERY_MS (3600 * 1000)
#define KEYS_MIN_RELOAD_MS 1000        /* reading the keys for a record past their horizon */
#define KEYS_UNKNOWN_RELOAD_MS 10000   /* ... for a key id they lack */
#define KEYS_BEHIND_WARN_MS 60000      /* between two signing_keys_behind warnings */

/* metrics (issue 12): what a batch adds to the stats when it commits. */
typedef struct batch_counts {
    uint64_t consumed[JC_EVENT_TYPE_COUNT], applied[JC_EVENT_TYPE_COUNT],
        duplicates[JC_EVENT_TYPE_COUNT];
    uint64_t corrected[JC_EVENT_TYPE_COUNT], withdrawn[JC_EVENT_TYPE_COUNT]; /* corrections */
    int64_t newest_record_ms, county_newest_ms[JC_STATS_COUNTIES];
} batch_counts_t;

/* One batch on the consumer's side: the open one, or the one the flush thread writes. */
typedef struct batch_state {
    jc_part_t **parts;    /* the partitions it consumed from (their slice in_batch) */
    size_t nparts, cap_parts;
    jc_fold_t fold;
    jc_reject_t *rejects;
    size_t nrejects, cap_rejects, reject_bytes;
    uint64_t msgs;
    int64_t started_ms;   /* monotonic: its first message */
    int64_t *ts;          /* freshness: its messages' record timestamps (msgs of them) */
    size_t cap_ts;
    double flush_started; /* metrics: monotonic seconds, when it was handed to the flusher */
    batch_counts_t counts;
} batch_state_t;

struct jc_aggregator {
    jc_kafka_logger_t logger; /* first: the consumer's opaque (kafkautil.h) */
    jc_aggregator_config_t cfg;
    char topics[JC_EVENT_TYPE_COUNT][256];
    char dlq_topic[256];
    rd_kafka_t *rk;
    jc_deadletter_t *dlq; /* the rejects' dead-letter copies (deadletter.h) */
    jc_endoffsets_t *end_offsets; /* refreshes jiceng.end_offsets for the lag (endoffsets.h) */
    jc_loader_t *loader; /* reads new partitions' ledgers outside the callback (loader.h) */
    uint64_t last_ticket; /* the loader's last request */
    PGconn *pg;
    jc_codec_t *codec;
    jc_keys_t keys;
    int64_t keys_read_ms, keys_unknown_ms, keys_warned_ms; /* monotonic */
    size_t keys_skipped_said; /* skipped keys last reported */
    jc_verdict_t verdict;     /* the checks' verdict on the message being handled */
    jc_buf_t record; /* corrections: the ledger record of the event being applied (ledger.h) */
    jc_part_t *by_type[JC_EVENT_TYPE_COUNT][MAX_PARTITIONS];
    size_t nassigned;
    size_t neof;       /* assigned partitions at their end */
    size_t nloading;   /* assigned partitions waiting for their ledgers (the loader's) */
    /* the two batches (overlapped flush): bs[cur] is open, bs[cur ^ 1] is with the flush
     * thread while flying; a batch's index is also the slice of each partition it uses */
    batch_state_t bs[2];
    int cur, flying;
    int flight_attempt;  /* PostgreSQL attempts at writing the flying batch */
    jc_flusher_t *flusher;
    jc_aggregator_stats_t stats;
    jc_status_t fatal; /* an error raised where it could not be returned (callbacks) */
    jc_error_t fatal_err;
    volatile sig_atomic_t *stop;
    int64_t last_expire_ms, last_stats_ms;
    int assigned_once;
    jc_partition_lag_t lag[JC_EVENT_TYPE_COUNT * MAX_PARTITIONS]; /* metrics */
    int64_t pg_seen_ms;     /* monotonic: the last PostgreSQL success (commit or probe) */
    jc_refdata_t ref;       /* reference data (issue 13, item 6): when to read it (refdata.h) */
    /* generations (issue 13, item 4): the conninfo with search_path set to the generation's
     * schema, and the group <group>-gen<N> of a generation above 1 (jiceng/generation.h) */
    char *gen_conninfo;
    char gen_group[256];
    int gen_building; /* the generation was building at start: a rebuild, whose rejects the live
                         run has already copied to the dead-letter topic (and written to the
                         shared jiceng.rejects, where a rebuild adds none twice): no copies */
};

/* Report an occurrence through the configuration's log callback (jiceng/log.h). */
#define LOG(a, level, event, ...) \
    jc_logf((a)->cfg.log, (a)->cfg.log_opaque, level, event, __VA_ARGS__)

static volatile sig_atomic_t never; /* the stop flag until jc_aggregator_run is given one */

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void set_fatal(jc_aggregator_t *a, const jc_error_t *err)
{
    if (a->fatal == JC_OK) {
        a->fatal = err->code != JC_OK ? err->code : JC_ERR_KAFKA;
        a->fatal_err = *err;
    }
}

/* ---- PostgreSQL connection, with retries ----------------------------------------------- */

static jc_status_t pg_connect(jc_aggregator_t *a, jc_error_t *err)
{
    if (a->pg != NULL && PQstatus(a->pg) == CONNECTION_OK)
        return JC_OK;
    PQfinish(a->pg);
    a->pg = PQconnectdb(a->cfg.conninfo);
    if (PQstatus(a->pg) != CONNECTION_OK)
        return jc_error_set(err, JC_ERR_PG, "postgres: connect: %s", PQerrorMessage(a->pg));
    return JC_OK;
}

static void stats_while_waiting(jc_aggregator_t *a);

/* Back off before retry number n (1, 2, ...): 0.2 s doubling to 10 s. 0 if told to stop. */
static int backoff(jc_aggregator_t *a, int n, const jc_error_t *err)
{
    int ms = 200;
    for (int i = 1; i < n && ms < 10000; i++)
        ms *= 2;
    if (ms > 10000)
        ms = 10000;
    LOG(a, JC_LOG_WARN, "pg_retry", "%s; retrying in %d ms", err->message, ms);
    a->stats.pg_ok = 0; /* metrics */
    for (int waited = 0; waited < ms; waited += 100) {
        if (*a->stop)
            return 0;
        sleep_ms(100);
        stats_while_waiting(a); /* metrics: the loop is alive, PostgreSQL is not */
    }
    return 1;
}

/* ---- partitions ---------------------------------------------------------------------- */

static int type_of_topic(const jc_aggregator_t *a, const char *topic)
{
    for (int t = 0; t < JC_EVENT_TYPE_COUNT; t++)
        if (strcmp(topic, a->topics[t]) == 0)
            return t;
    return -1;
}

static jc_part_t **slot_of(jc_aggregator_t *a, const char *topic, int32_t partition)
{
    int t = type_of_topic(a, topic);
    if (t < 0 || partition < 0 || partition >= MAX_PARTITIONS)
        return NULL;
    return &a->by_type[t][partition];
}

/* Read a partition's stored offset (and its ledger if ledger_too), retrying while PostgreSQL is
 * unavailable. On assignment only the offset is read here (the loader reads the ledger); a
 * dropped batch's partitions read both, before they are consumed again (drop_batch). */
static jc_status_t read_partition(jc_aggregator_t *a, jc_part_t *p, int ledger_too, jc_error_t *err)
{
    for (int attempt = 1;; attempt++) {
        if (ledger_too)
            jc_dedup_clear(&p->seen);
        jc_status_t st = pg_connect(a, err);
        if (st == JC_OK)
            st = jc_sink_load_offset(a->pg, a->cfg.group_id, p->topic, p->partition, &p->stored, err);
        if (st == JC_OK && ledger_too)
            st = jc_sink_load_ledger(a->pg, p->topic, p->partition, a->cfg.ledger_retention_days, &p->seen, err);
        if (st != JC_ERR_PG)
            return st;
        if (!backoff(a, attempt, err))
            return st;
    }
}

static void set_eof(jc_aggregator_t *a, jc_part_t *p, int eof)
{
    if (p->eof != eof)
        a->neof += eof ? 1 : (size_t)-1;
    p->eof = eof;
}

static void set_loading(jc_aggregator_t *a, jc_part_t *p, int loading)
{
    if (p->loading != loading)
        a->nloading += loading ? 1 : (size_t)-1;
    p->loading = loading;
}

/* p's low and high watermarks as its last fetch reported them (cached by the client; no
 * request): 1 if known, 0 if p has not been fetched yet. */
static int watermarks(const jc_aggregator_t *a, const jc_part_t *p, int64_t *lo, int64_t *hi)
{
    return rd_kafka_get_watermark_offsets(a->rk, p->topic, p->partition, lo, hi) ==
               RD_KAFKA_RESP_ERR_NO_ERROR && *hi >= 0;
}

/* Consuming p from next (-1: nothing stored, its low watermark) has reached the high
 * watermark its last fetch reported: nothing more was there to take. */
static int fetched_to_end(const jc_aggregator_t *a, const jc_part_t *p, int64_t next)
{
    int64_t lo, hi;
    return watermarks(a, p, &lo, &hi) && (next >= 0 ? next : lo) >= hi;
}

/* Where p stands once the flying batch lands: where that batch leaves p if p is in it, else
 * its stored offset (-1 if none). */
static int64_t after_flight(const jc_aggregator_t *a, const jc_part_t *p)
{
    const jc_slice_t *flying = &p->half[a->cur ^ 1];
    return flying->in_batch ? flying->next : p->stored; /* in_batch: only while it flies */
}

static jc_part_t *part_add(jc_aggregator_t *a, const char *topic, int32_t partition, jc_error_t *err)
{
    jc_part_t **slot = slot_of(a, topic, partition);
    if (slot == NULL) {
        jc_error_set(err, JC_ERR_INVALID_ARG, "%s [%d]: not an event topic or partition >= %d",
                     topic, (int)partition, MAX_PARTITIONS);
        return NULL;
    }
    if (*slot == NULL) {
        jc_part_t *p = calloc(1, sizeof *p);
        if (p == NULL) {
            jc_error_set(err, JC_ERR_NOMEM, "out of memory");
            return NULL;
        }
        p->type = (jc_event_type_t)type_of_topic(a, topic);
        p->topic = a->topics[p->type];
        p->partition = partition;
        *slot = p;
        a->nassigned++;
        a->stats.partitions = a->nassigned;
    }
    jc_part_t *p = *slot;
    set_eof(a, p, 0);
    if (p->loading)
        jc_loader_cancel(a->loader, p->ticket); /* asked again below */
    set_loading(a, p, 0);
    return read_partition(a, p, 0, err) == JC_OK ? p : NULL;
}

/* Ask the loader for p's ledger; p stays paused (and its messages passed over) until then. */
static jc_status_t part_load(jc_aggregator_t *a, jc_part_t *p, jc_error_t *err)
{
    p->ticket = ++a->last_ticket;
    set_loading(a, p, 1);
    p->batches_at = a->stats.batches;
    jc_dedup_free(&p->seen);
    if (jc_loader_request(a->loader, p->topic, p->partition, p->ticket) != JC_OK)
        return jc_error_set(err, JC_ERR_NOMEM, "out of memory");
    return JC_OK;
}

static void part_remove(jc_aggregator_t *a, const char *topic, int32_t partition)
{
    jc_part_t **slot = slot_of(a, topic, partition);
    if (slot == NULL || *slot == NULL)
        return;
    jc_part_t *p = *slot;
    set_eof(a, p, 0);
    if (p->loading && a->loader != NULL)
        jc_loader_cancel(a->loader, p->ticket);
    set_loading(a, p, 0);
    jc_dedup_free(&p->seen);
    for (int h = 0; h < 2; h++) {
        jc_dedup_free(&p->half[h].pending);
        jc_buf_free(&p->half[h].ledger);
    }
    free(p);
    *slot = NULL;
    a->nassigned--;
    a->stats.partitions = a->nassigned;
}

/* ---- the open batch ------------------------------------------------------------------ */

static batch_state_t *open_batch(jc_aggregator_t *a)
{
    return &a->bs[a->cur];
}

static batch_state_t *flight(jc_aggregator_t *a)
{
    return &a->bs[a->cur ^ 1];
}

static void free_rejects(batch_state_t *s)
{
    for (size_t i = 0; i < s->nrejects; i++) {
        jc_buf_free(&s->rejects[i].key);
        jc_buf_free(&s->rejects[i].payload);
        if (s->rejects[i].headers != NULL)
            rd_kafka_headers_destroy(s->rejects[i].headers);
    }
    s->nrejects = 0;
    s->reject_bytes = 0;
}

/* Forget batch h: its partitions' slices, its fold, rejects and counts. */
static void clear_batch(jc_aggregator_t *a, int h)
{
    batch_state_t *s = &a->bs[h];
    for (size_t i = 0; i < s->nparts; i++) {
        jc_slice_t *sl = &s->parts[i]->half[h];
        sl->in_batch = 0;
        sl->newest_ms = 0;
        jc_dedup_clear(&sl->pending);
        jc_buf_reset(&sl->ledger);
    }
    s->nparts = 0;
    s->msgs = 0; /* and with it ts */
    memset(&s->counts, 0, sizeof s->counts); /* metrics */
    jc_fold_reset(&s->fold);
    free_rejects(s);
}

/* p joins the open batch at offset: its compare-and-set will expect the offset where the
 * flying batch leaves p, if p is in it, else the stored one. */
static jc_status_t join_batch(jc_aggregator_t *a, jc_part_t *p, int64_t offset)
{
    batch_state_t *s = open_batch(a);
    jc_slice_t *sl = &p->half[a->cur];
    if (sl->in_batch)
        return JC_OK;
    if (jc_grow((void **)&s->parts, &s->cap_parts, s->nparts, sizeof *s->parts, 64) != JC_OK)
        return JC_ERR_NOMEM;
    if (s->nparts == 0 && s->nrejects == 0)
        s->started_ms = jc_mono_ms();
    s->parts[s->nparts++] = p;
    sl->in_batch = 1;
    sl->first = offset;
    sl->from = after_flight(a, p);
    return JC_OK;
}

/* Keep message m as a reject of the open batch: its key, value (null kept distinct from
 * empty) and headers (hdrs, NULL if none) as consumed. */
static jc_status_t keep_reject(jc_aggregator_t *a, const jc_part_t *p, const rd_kafka_message_t *m,
                               const rd_kafka_headers_t *hdrs, jc_status_t status,
                               const char *reason, int32_t schema_id, const char *event_id)
{
    batch_state_t *s = open_batch(a);
    if (jc_grow((void **)&s->rejects, &s->cap_rejects, s->nrejects, sizeof *s->rejects, 64) != JC_OK)
        return JC_ERR_NOMEM;
    jc_reject_t *r = &s->rejects[s->nrejects++];
    memset(r, 0, sizeof *r);
    r->topic = p->topic;
    r->partition = p->partition;
    r->offset = m->offset;
    r->status = status;
    r->schema_id = schema_id;
    r->key_null = m->key == NULL;
    r->payload_null = m->payload == NULL;
    snprintf(r->reason, sizeof r->reason, "%s", reason);
    snprintf(r->event_id, sizeof r->event_id, "%s", event_id ? event_id : "");
    if (hdrs != NULL && (r->headers = rd_kafka_headers_copy(hdrs)) == NULL)
        return JC_ERR_NOMEM;
    if (jc_buf_append(&r->key, m->key ? m->key : "", m->key_len) != JC_OK ||
        jc_buf_append(&r->payload, m->payload ? m->payload : "", m->len) != JC_OK)
        return JC_ERR_NOMEM;
    s->reject_bytes += m->len + m->key_len + jc_kafka_headers_bytes(hdrs);
    return JC_OK;
}

/* metrics: an applied event, by type, record timestamp and county (counted at commit). */
static void count_applied(jc_aggregator_t *a, const jc_part_t *p, const rd_kafka_message_t *m,
                          const jc_event_t *ev)
{
    batch_counts_t *n = &open_batch(a)->counts;
    n->applied[p->type]++;
    int64_t ts = rd_kafka_message_timestamp(m, NULL);
    if (ts > n->newest_record_ms)
        n->newest_record_ms = ts;
    const jc_county_t *c = jc_county_by_code(ev->county_code), *first = jc_county_at(0);
    size_t i = c != NULL && first != NULL ? (size_t)(c - first) : JC_STATS_COUNTIES;
    if (i < JC_STATS_COUNTIES && ev->occurred_at > n->county_newest_ms[i])
        n->county_newest_ms[i] = ev->occurred_at;
}

/* ---- corrections (issue 13): the version in force of each id, and what replaces it ---- */

/* The version in force of id k in p: the open batch's, then the flying batch's (each replaces
 * what came before), then the committed one. 0 if p has applied no version of it, 1 with *v,
 * -1 if its record is damaged. */
static int version_in_force(const jc_aggregator_t *a, const jc_part_t *p, jc_dedup_key_t k,
                            jc_version_t *v)
{
    const uint8_t *rec;
    size_t len;
    const jc_slice_t *flying = &p->half[a->cur ^ 1];
    if (!jc_dedup_find(&p->half[a->cur].pending, k, &rec, &len) &&
        !(flying->in_batch && jc_dedup_find(&flying->pending, k, &rec, &len)) &&
        !jc_dedup_find(&p->seen, k, &rec, &len))
        return 0;
    return jc_record_decode(rec, len, v) == JC_OK ? 1 : -1;
}

/* Fold ev (+ its contribution) and make it the version in force of id in the open batch: its
 * record (a->record) into p's pending set and p's ledger row. */
static jc_status_t fold_version(jc_aggregator_t *a, jc_part_t *p, const uint8_t id[16],
                                jc_dedup_key_t k, uint32_t content, const jc_event_t *ev)
{
    jc_slice_t *sl = &p->half[a->cur];
    jc_status_t st = jc_record_begin(&a->record, content, ev->revision, ev->withdrawn,
                                     ev->county_code, jc_local_day(ev->occurred_at));
    if (st == JC_OK)
        st = jc_fold_event_rec(&open_batch(a)->fold, ev, &a->record);
    if (st != JC_OK)
        return st;
    if (jc_dedup_put(&sl->pending, k, a->record.data, a->record.len) != JC_OK ||
        jc_ledger_append(&sl->ledger, id, a->record.data, a->record.len) != JC_OK)
        return JC_ERR_NOMEM;
    return JC_OK;
}

/* Apply one decoded, validated event, as the decision table says (revise.h): skip a re-send,
 * keep a reject, fold a new id, or replace the version in force (subtract it, add this one). */
static jc_status_t apply_event(jc_aggregator_t *a, jc_part_t *p, const rd_kafka_message_t *m,
                               const rd_kafka_headers_t *hdrs, const jc_event_t *ev,
                               int32_t schema_id)
{
    uint8_t id[16];
    if (jc_uuid_parse(ev->event_id, id, NULL) != JC_OK)
        return JC_ERR_BAD_UUID; /* validated before: cannot happen */
    jc_dedup_key_t k = jc_dedup_key(id);
    uint32_t content = (uint32_t)jc_event_hash(ev);
    jc_version_t prior;
    int seen = version_in_force(a, p, k, &prior);
    if (seen < 0)
        return JC_ERR_MALFORMED; /* our own record: cannot happen */
    char reason[400];
    jc_status_t why;
    jc_revise_t r = jc_revise_decide(seen ? &prior : NULL, ev->event_id, ev->revision, content,
                                     ev->county_code, &why, reason, sizeof reason);
    batch_state_t *s = open_batch(a);
    if (r == JC_REVISE_DUPLICATE) {
        a->stats.duplicates++;
        s->counts.duplicates[p->type]++; /* metrics */
        return JC_OK;
    }
    if (r == JC_REVISE_REPLACE && (why = jc_fold_subtract(&s->fold, p->type, &prior)) != JC_OK) {
        if (why != JC_ERR_MALFORMED)
            return why;
        snprintf(reason, sizeof reason, "event_id %s revision %d: the record of the version in force "
                 "(revision %d) does not match the aggregate description (it changed since), so it "
                 "cannot be subtracted", ev->event_id, (int)ev->revision, (int)prior.revision);
        r = JC_REVISE_REJECT;
        why = JC_ERR_UNKNOWN_ORIGINAL;
    }
    if (r == JC_REVISE_REJECT)
        return keep_reject(a, p, m, hdrs, why, reason, schema_id, ev->event_id);
    jc_status_t st = fold_version(a, p, id, k, content, ev);
    if (st != JC_OK)
        return st;
    jc_slice_t *sl = &p->half[a->cur];
    if (ev->occurred_at > sl->newest_ms)
        sl->newest_ms = ev->occurred_at;
    count_applied(a, p, m, ev); /* metrics */
    if (r == JC_REVISE_REPLACE) {
        if (ev->withdrawn)
            s->counts.withdrawn[p->type]++;
        else
            s->counts.corrected[p->type]++;
    }
    return JC_OK;
}

/* ---- signing keys ------------------------------------------------------------------- */

/* Read the signing keys once (keys.h); report keys left out when their number changes. */
static jc_status_t read_keys(jc_aggregator_t *a, jc_error_t *err)
{
    jc_error_t skipped;
    jc_status_t st = pg_connect(a, err);
    if (st == JC_OK)
        st = jc_keys_load(a->pg, &a->keys, &skipped, err);
    if (st != JC_OK)
        return st;
    a->keys_read_ms = jc_mono_ms();
    a->stats.key_loads++;
    if (a->keys.skipped != a->keys_skipped_said && a->keys.skipped > 0)
        LOG(a, JC_LOG_WARN, "signing_keys_skipped", "%zu signing key(s) left out, which sign "
            "nothing (the first: %s)", a->keys.skipped, skipped.message);
    a->keys_skipped_said = a->keys.skipped;
    char horizon[40];
    jc_time_format(a->keys.horizon_ms, horizon, sizeof horizon);
    LOG(a, JC_LOG_DEBUG, "signing_keys_read", "%zu signing key(s); they judge records "
        "timestamped before %s", jc_keyring_count(a->keys.ring), horizon);
    return JC_OK;
}

/* read_keys, retrying while PostgreSQL is unavailable. */
static jc_status_t reread_keys(jc_aggregator_t *a, jc_error_t *err)
{
    for (int attempt = 1;; attempt++) {
        jc_status_t st = read_keys(a, err);
        if (st != JC_ERR_PG || !backoff(a, attempt, err))
            return st;
    }
}

/* Make the keys fit to judge rec: read them again if rec is timestamped at or past their
 * horizon, unless they were read less than a second ago (then the broker's clock is ahead of
 * PostgreSQL's by more than the notice period: said once a minute). A record whose timestamp is
 * not the broker's is refused whatever the keys, so it reads nothing. */
static jc_status_t keys_for(jc_aggregator_t *a, const jc_record_t *rec, jc_error_t *err)
{
    if (rec->timestamp_type != RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME ||
        rec->timestamp_ms < a->keys.horizon_ms)
        return JC_OK;
    int64_t now = jc_mono_ms();
    jc_status_t st = JC_OK;
    if (now - a->keys_read_ms >= KEYS_MIN_RELOAD_MS)
        st = reread_keys(a, err);
    if (st == JC_OK && rec->timestamp_ms >= a->keys.horizon_ms &&
        now - a->keys_warned_ms >= KEYS_BEHIND_WARN_MS) {
        char ts[40], horizon[40];
        a->keys_warned_ms = now;
        jc_time_format(rec->timestamp_ms, ts, sizeof ts);
        jc_time_format(a->keys.horizon_ms, horizon, sizeof horizon);
        LOG(a, JC_LOG_WARN, "signing_keys_behind", "a record of %s is timestamped %s, past %s, "
            "up to which the signing keys just read are known to hold: is the broker's clock "
            "ahead of PostgreSQL's?", rec->topic, ts, horizon);
    }
    return st;
}

/* ---- one message ------------------------------------------------------------------------ */

/* The checks' verdict on m (check.h) into a->verdict; a key id the keys lack has them read
 * again first, at most every KEYS_UNKNOWN_RELOAD_MS. */
static jc_status_t judge(jc_aggregator_t *a, const jc_record_t *rec, jc_error_t *err)
{
    jc_status_t st = keys_for(a, rec, err);
    if (st != JC_OK)
        return st;
    jc_verdict_t *v = &a->verdict;
    jc_check_record(a->codec, a->keys.ring, rec, jc_now_ms(), v);
    if (v->step == JC_CHECK_SIGNATURE && v->sign == JC_SIGN_UNKNOWN_KEY &&
        jc_mono_ms() - a->keys_unknown_ms >= KEYS_UNKNOWN_RELOAD_MS) {
        a->keys_unknown_ms = jc_mono_ms();
        if ((st = reread_keys(a, err)) == JC_OK)
            jc_check_record(a->codec, a->keys.ring, rec, jc_now_ms(), v);
    }
    return st;
}

/* freshness: keep the record timestamp of the batch's next message until the commit. */
static jc_status_t note_timestamp(jc_aggregator_t *a, int64_t ts)
{
    batch_state_t *s = open_batch(a);
    if (jc_grow((void **)&s->ts, &s->cap_ts, s->msgs, sizeof *s->ts, 4096) != JC_OK)
        return JC_ERR_NOMEM;
    s->ts[s->msgs] = ts;
    return JC_OK;
}

static jc_status_t handle_message(jc_aggregator_t *a, const rd_kafka_message_t *m, jc_error_t *err)
{
    jc_part_t **slot = slot_of(a, rd_kafka_topic_name(m->rkt), m->partition);
    jc_part_t *p = slot ? *slot : NULL;
    if (p == NULL)
        return JC_OK; /* not (or no longer) ours */
    if (p->loading)
        return JC_OK; /* fetched before the pause took effect: read again after the load */
    set_eof(a, p, m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF);
    if (p->eof)
        return JC_OK;
    rd_kafka_headers_t *hdrs = NULL;
    if (rd_kafka_message_headers(m, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR)
        hdrs = NULL; /* none, or unparsable: then it has no signature either */
    jc_record_t rec = {
        .topic = p->topic, .topic_type = p->type,
        .key = m->key, .key_len = m->key_len, .value = m->payload, .value_len = m->len,
        .headers = hdrs,
    };
    rec.timestamp_ms = rd_kafka_message_timestamp(m, &rec.timestamp_type);
    jc_status_t st = judge(a, &rec, err); /* before the batch moves past m: it may fail */
    if (st != JC_OK)
        return st;
    a->stats.consumed++;
    const jc_verdict_t *v = &a->verdict;
    st = join_batch(a, p, m->offset);
    if (st == JC_OK)
        st = note_timestamp(a, rec.timestamp_ms);
    if (st == JC_OK) {
        p->half[a->cur].next = m->offset + 1;
        open_batch(a)->msgs++;
        open_batch(a)->counts.consumed[p->type]++; /* metrics */
        st = v->status != JC_OK
             ? keep_reject(a, p, m, hdrs, v->status, v->err.message, v->schema_id,
                           v->step > JC_CHECK_DECODE ? v->event.event_id : NULL)
             : apply_event(a, p, m, hdrs, &v->event, v->schema_id);
    }
    return st == JC_OK ? JC_OK
           : jc_error_set(err, st, "%s [%d] @%lld: %s", p->topic, (int)p->partition,
                          (long long)m->offset, jc_status_name(st));
}

/* ---- the flying batch: its outcome -------------------------------------------------- */

static void commit_to_kafka(jc_aggregator_t *a, const batch_state_t *s, int h)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)s->nparts);
    for (size_t i = 0; i < s->nparts; i++)
        rd_kafka_topic_partition_list_add(l, s->parts[i]->topic, s->parts[i]->partition)->offset =
            s->parts[i]->half[h].next;
    rd_kafka_commit(a->rk, l, 1); /* asynchronous, for lag tools only: PostgreSQL is the truth */
    rd_kafka_topic_partition_list_destroy(l);
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* metrics: the batch s, committed at commit_ms (wall clock), joins the stats. */
static void count_commit(jc_aggregator_t *a, const batch_state_t *s, int64_t commit_ms)
{
    jc_aggregator_stats_t *st = &a->stats;
    const batch_counts_t *n = &s->counts;
    for (int t = 0; t < JC_EVENT_TYPE_COUNT; t++) {
        st->consumed_by_type[t] += n->consumed[t];
        st->applied_by_type[t] += n->applied[t];
        st->duplicates_by_type[t] += n->duplicates[t];
        st->corrected_by_type[t] += n->corrected[t];
        st->withdrawn_by_type[t] += n->withdrawn[t];
    }
    for (size_t i = 0; i < s->nrejects; i++) {
        int t = type_of_topic(a, s->rejects[i].topic);
        if (t >= 0 && s->rejects[i].status < JC_STATUS_COUNT_)
            st->rejected_by[t][s->rejects[i].status]++;
    }
    if (n->newest_record_ms > st->newest_record_ms)
        st->newest_record_ms = n->newest_record_ms;
    for (int i = 0; i < JC_STATS_COUNTIES; i++)
        if (n->county_newest_ms[i] > st->county_newest_ms[i])
            st->county_newest_ms[i] = n->county_newest_ms[i];
    jc_histogram_observe(&st->flush_seconds, mono_s() - s->flush_started);
    jc_histogram_observe(&st->batch_events, (double)s->msgs);
    for (uint64_t i = 0; i < s->msgs; i++) {
        int64_t ms = s->ts[i] > 0 && commit_ms > s->ts[i] ? commit_ms - s->ts[i] : 0;
        jc_latency_observe(&st->freshness_ms, ms);
    }
    st->pg_ok = 1;
    a->pg_seen_ms = jc_mono_ms();
}

/* ---- the committed batch's rejects in the log (issue 12, item 3: "logs") ---- */
#define REJECTS_NAMED 3 /* how many rejects the batch's line names by place */

/* One debug line per reject (event "reject") and one warn line per batch (event "rejects"):
 * "N rejects in batch: STATUS=count,...; first: TOPIC [P] @OFFSET (STATUS), ...". */
static void log_rejects(jc_aggregator_t *a, const batch_state_t *s)
{
    if (s->nrejects == 0)
        return;
    size_t count[JC_STATUS_COUNT_] = {0};
    char line[900], *end = line + sizeof line, *w = line;
    w += snprintf(w, sizeof line, "%zu reject(s) in batch:", s->nrejects);
    for (size_t i = 0; i < s->nrejects; i++) {
        const jc_reject_t *r = &s->rejects[i];
        LOG(a, JC_LOG_DEBUG, "reject", "reject: %s [%d] @%lld %s: %s", r->topic,
            (int)r->partition, (long long)r->offset, jc_status_name(r->status), r->reason);
        if ((unsigned)r->status < JC_STATUS_COUNT_)
            count[r->status]++;
    }
    for (int st = 0; st < JC_STATUS_COUNT_ && w < end; st++)
        if (count[st] > 0)
            w += snprintf(w, (size_t)(end - w), "%s%s=%zu", w[-1] == ':' ? " " : ",",
                          jc_status_name((jc_status_t)st), count[st]);
    for (size_t i = 0; i < s->nrejects && i < REJECTS_NAMED && w < end; i++)
        w += snprintf(w, (size_t)(end - w), "%s%s [%d] @%lld (%s)", i ? ", " : "; first: ",
                      s->rejects[i].topic, (int)s->rejects[i].partition,
                      (long long)s->rejects[i].offset, jc_status_name(s->rejects[i].status));
    LOG(a, JC_LOG_WARN, "rejects", "%s%s", line, s->nrejects > REJECTS_NAMED ? ", ..." : "");
}

/* The flying batch committed (at commit_ms): only now does memory move on. */
static jc_status_t committed(jc_aggregator_t *a, int64_t commit_ms)
{
    int h = a->cur ^ 1;
    batch_state_t *s = flight(a);
    uint32_t today = jc_dedup_day(jc_now_ms()); /* the stamp of the ids it commits (dedup.h) */
    for (size_t i = 0; i < s->nparts; i++) {
        jc_part_t *p = s->parts[i];
        p->stored = p->half[h].next;
        jc_dedup_set_stamp(&p->seen, today);
        if (jc_dedup_merge(&p->seen, &p->half[h].pending) != JC_OK)
            return JC_ERR_NOMEM;
    }
    commit_to_kafka(a, s, h);
    log_rejects(a, s); /* before the dead-letter copies take their bytes */
    for (size_t i = 0; i < s->nrejects && !a->gen_building; i++) /* generations: see gen_building */
        jc_deadletter_send(a->dlq, &s->rejects[i]); /* takes the reject's bytes */
    jc_deadletter_poll(a->dlq);
    a->stats.applied += s->fold.events;
    a->stats.rejected += s->nrejects;
    a->stats.batches++;
    a->stats.last_commit_ms = jc_now_ms();
    count_commit(a, s, commit_ms); /* metrics */
    clear_batch(a, h);
    a->flying = 0;
    return JC_OK;
}

/* Add batch h's partitions not yet in l to l, at their stored offsets (re-read with their
 * ledgers from PostgreSQL first if reload). */
static jc_status_t rewind_list(jc_aggregator_t *a, int h, int reload, rd_kafka_topic_partition_list_t *l,
                               jc_error_t *err)
{
    const batch_state_t *s = &a->bs[h];
    for (size_t i = 0; i < s->nparts; i++) {
        jc_part_t *p = s->parts[i];
        if (rd_kafka_topic_partition_list_find(l, p->topic, p->partition) != NULL)
            continue;
        jc_status_t st = reload ? read_partition(a, p, 1, err) : JC_OK;
        if (st != JC_OK)
            return st;
        rd_kafka_topic_partition_list_add(l, p->topic, p->partition)->offset =
            p->stored >= 0 ? p->stored : RD_KAFKA_OFFSET_BEGINNING;
    }
    return JC_OK;
}

/* Forget the open batch and the flying one (which the flusher no longer holds), and rewind
 * their partitions to their stored offsets (re-reading them and their ledgers from PostgreSQL
 * if reload). */
static jc_status_t drop_batch(jc_aggregator_t *a, int reload, jc_error_t *err)
{
    int h = a->cur;
    rd_kafka_topic_partition_list_t *l =
        rd_kafka_topic_partition_list_new((int)(a->bs[0].nparts + a->bs[1].nparts) + 1);
    jc_status_t st = rewind_list(a, h, reload, l, err);
    if (st == JC_OK && a->flying)
        st = rewind_list(a, h ^ 1, reload, l, err);
    clear_batch(a, h);
    clear_batch(a, h ^ 1);
    a->flying = 0;
    if (st == JC_OK && l->cnt > 0) {
        rd_kafka_error_t *e = rd_kafka_seek_partitions(a->rk, l, 10000);
        if (e != NULL) {
            st = jc_error_set(err, JC_ERR_KAFKA, "rewinding after a dropped batch: %s", rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
        }
    }
    rd_kafka_topic_partition_list_destroy(l);
    return st;
}

/* Hand the flying batch to the flush thread (again, after a PostgreSQL error). */
static void submit(jc_aggregator_t *a)
{
    batch_state_t *s = flight(a);
    jc_batch_t b = {a->cfg.group_id, s->parts, s->nparts, a->cur ^ 1, &s->fold, s->rejects, s->nrejects};
    jc_flusher_submit(a->flusher, &b);
}

/* What the flying batch's outcome st asks: its bookkeeping if it committed; on a PostgreSQL
 * error, a retry after a backoff (it stays flying); if fenced, both batches dropped and their
 * partitions read again from PostgreSQL. Any other failure, or a stop while retrying, drops
 * both batches (not committed: whoever consumes their partitions reads them again). */
static jc_status_t land(jc_aggregator_t *a, jc_status_t st, int64_t commit_ms, jc_error_t *err)
{
    if (st == JC_OK)
        return committed(a, commit_ms);
    if (st == JC_ERR_FENCED) {
        LOG(a, JC_LOG_WARN, "batch_dropped", "batch dropped: %s", err->message);
        a->stats.fenced++;
        return drop_batch(a, 1, err);
    }
    if (st == JC_ERR_PG) {
        a->stats.pg_retries++;
        if (backoff(a, a->flight_attempt++, err)) {
            submit(a);
            return JC_OK;
        }
    }
    jc_error_t ignored;
    drop_batch(a, 0, &ignored);
    return st;
}

/* Wait for the flying batch, if any, and land it (retries included). */
static jc_status_t settle(jc_aggregator_t *a, jc_error_t *err)
{
    while (a->flying) {
        jc_status_t st;
        int64_t commit_ms;
        if (!jc_flusher_result(a->flusher, 100, &st, &commit_ms, err)) {
            stats_while_waiting(a); /* metrics: the loop is alive */
            continue;
        }
        if ((st = land(a, st, commit_ms, err)) != JC_OK)
            return st;
    }
    return JC_OK;
}

/* Land the flying batch if its result is in within wait_ms (0: do not wait; a retry's backoff
 * waits anyway). */
static jc_status_t land_if_done(jc_aggregator_t *a, int wait_ms, jc_error_t *err)
{
    jc_status_t st;
    int64_t commit_ms;
    if (!a->flying || !jc_flusher_result(a->flusher, wait_ms, &st, &commit_ms, err))
        return JC_OK;
    return land(a, st, commit_ms, err);
}

static void note_watermarks(jc_aggregator_t *a, const batch_state_t *s, int h)
{
    for (size_t i = 0; i < s->nparts; i++) {
        int64_t lo, hi;
        jc_part_t *p = s->parts[i];
        if (watermarks(a, p, &lo, &hi))
            p->half[h].high_watermark = hi;
    }
}

/* Close the open batch: once the flying one has landed, it flies (the flush thread writes it)
 * while the next one opens. */
static jc_status_t start_flush(jc_aggregator_t *a, jc_error_t *err)
{
    jc_status_t st = settle(a, err);
    batch_state_t *s = open_batch(a);
    if (st != JC_OK || s->nparts == 0)
        return st;
    s->flush_started = mono_s(); /* metrics */
    note_watermarks(a, s, a->cur);
    a->cur ^= 1;
    a->flying = 1;
    a->flight_attempt = 1;
    submit(a);
    return JC_OK;
}

/* Write the open batch and wait until it has landed: committed, or dropped if fenced. */
static jc_status_t flush(jc_aggregator_t *a, jc_error_t *err)
{
    jc_status_t st = start_flush(a, err);
    return st == JC_OK ? settle(a, err) : st;
}

/* ---- rebalancing --------------------------------------------------------------------- */

/* parts as "topic[0,1] other[2]" into out (truncated with "..." if it does not fit). */
static void list_parts(const rd_kafka_topic_partition_list_t *parts, char *out, size_t size)
{
    size_t n = 0;
    out[0] = '\0';
    for (int i = 0; i < parts->cnt && n < size; i++) {
        const rd_kafka_topic_partition_t *tp = &parts->elems[i];
        int same = i > 0 && strcmp(tp->topic, parts->elems[i - 1].topic) == 0;
        int w = same ? snprintf(out + n - 1, size - n + 1, ",%d]", (int)tp->partition) - 1
                     : snprintf(out + n, size - n, "%s%s[%d]", i ? " " : "", tp->topic,
                                (int)tp->partition);
        n += (size_t)w;
    }
    if (n >= size && size > 4)
        memcpy(out + size - 4, "...", 4);
}

/* One info line per rebalance (issue 12: operators see every assignment and revocation): what
 * changed (every partition), and how many are held now. */
static void note_rebalance(jc_aggregator_t *a, const char *event, const char *what,
                           const rd_kafka_topic_partition_list_t *parts)
{
    if (parts->cnt == 0)
        return;
    a->stats.rebalances++;
    char list[800];
    list_parts(parts, list, sizeof list);
    LOG(a, JC_LOG_INFO, event, "%d partition(s) %s (first %s [%d]); %zu held; %s", parts->cnt,
        what, parts->elems[0].topic, (int)parts->elems[0].partition, a->nassigned, list);
}

static void on_assign(jc_aggregator_t *a, rd_kafka_topic_partition_list_t *parts)
{
    jc_error_t err;
    for (int i = 0; i < parts->cnt; i++) {
        rd_kafka_topic_partition_t *tp = &parts->elems[i];
        jc_part_t *p = part_add(a, tp->topic, tp->partition, &err);
        if (p == NULL) {
            set_fatal(a, &err);
            return;
        }
        tp->offset = p->stored >= 0 ? p->stored : RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_error_t *e = rd_kafka_incremental_assign(a->rk, parts);
    if (e != NULL) {
        jc_error_set(&err, JC_ERR_KAFKA, "incremental assign: %s", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        set_fatal(a, &err);
        return;
    }
    rd_kafka_pause_partitions(a->rk, parts); /* until their ledgers are read: take_ledgers */
    for (int i = 0; i < parts->cnt; i++)
        if (part_load(a, *slot_of(a, parts->elems[i].topic, parts->elems[i].partition), &err) != JC_OK)
            set_fatal(a, &err);
    a->assigned_once = 1;
    note_rebalance(a, "partitions_assigned", "assigned", parts);
}

static void on_revoke(jc_aggregator_t *a, rd_kafka_topic_partition_list_t *parts)
{
    jc_error_t err;
    int lost = rd_kafka_assignment_lost(a->rk);
    jc_status_t st = settle(a, &err); /* the flying batch lands first, whatever the case */
    if (st == JC_OK)
        st = lost ? drop_batch(a, 0, &err) : flush(a, &err);
    if (st != JC_OK && (open_batch(a)->nparts > 0 || a->flying))
        st = drop_batch(a, 0, &err); /* not committed: whoever gets the partitions reads it again */
    if (st != JC_OK && !*a->stop)
        set_fatal(a, &err);
    for (int i = 0; i < parts->cnt; i++)
        part_remove(a, parts->elems[i].topic, parts->elems[i].partition);
    rd_kafka_error_t *e = rd_kafka_incremental_unassign(a->rk, parts);
    if (e != NULL) {
        jc_error_set(&err, JC_ERR_KAFKA, "incremental unassign: %s", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        set_fatal(a, &err);
    }
    if (lost)
        note_rebalance(a, "partitions_lost", "lost", parts);
    else
        note_rebalance(a, "partitions_revoked", "revoked", parts);
}

/* Consume p again from its stored offset: resume it and seek there (the pause drops what was
 * fetched, but a message may have been handed to us before it took effect and passed over, and
 * the fetcher may have moved on meanwhile). An end-of-partition librdkafka reported while p was
 * paused is not reported again: if the high watermark it knows is the stored offset, p is at
 * its end now (a message, if any comes, says otherwise). */
static jc_status_t part_resume(jc_aggregator_t *a, jc_part_t *p, jc_error_t *err)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, p->topic, p->partition)->offset =
        p->stored >= 0 ? p->stored : RD_KAFKA_OFFSET_BEGINNING;
    jc_status_t st = JC_OK;
    rd_kafka_resp_err_t re = rd_kafka_resume_partitions(a->rk, l);
    if (re == RD_KAFKA_RESP_ERR_NO_ERROR)
        re = l->elems[0].err;
    if (re != RD_KAFKA_RESP_ERR_NO_ERROR)
        st = jc_error_set(err, JC_ERR_KAFKA, "%s [%d]: resume: %s", p->topic, (int)p->partition,
                          rd_kafka_err2str(re));
    rd_kafka_error_t *e = st == JC_OK ? rd_kafka_seek_partitions(a->rk, l, 10000) : NULL;
    if (e != NULL) {
        st = jc_error_set(err, JC_ERR_KAFKA, "%s [%d]: seek after the ledger load: %s", p->topic,
                          (int)p->partition, rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
    rd_kafka_topic_partition_list_destroy(l);
    int64_t lo, hi;
    if (st == JC_OK && watermarks(a, p, &lo, &hi) && (p->stored >= 0 ? p->stored : lo) == hi)
        set_eof(a, p, 1);
    return st;
}

/* Between polls: hand the loader's finished ledgers to their partitions (unless revoked or
 * asked again since) and resume them; log its retries. */
static jc_status_t take_ledgers(jc_aggregator_t *a, jc_error_t *err)
{
    jc_loaded_t r;
    while (jc_loader_take(a->loader, &r)) {
        if (r.retrying) {
            LOG(a, JC_LOG_WARN, "pg_retry", "%s; retrying in %d ms", r.err.message, r.retry_ms);
            continue;
        }
        jc_part_t **slot = slot_of(a, r.topic, r.partition);
        jc_part_t *p = slot ? *slot : NULL;
        if (p == NULL || !p->loading || p->ticket != r.ticket) {
            jc_dedup_free(&r.seen);
            continue;
        }
        if (r.status != JC_OK) {
            *err = r.err;
            return r.status;
        }
        jc_dedup_free(&p->seen);
        p->seen = r.seen;
        set_loading(a, p, 0);
        LOG(a, JC_LOG_DEBUG, "ledger_loaded", "%s [%d]: %zu id(s) of its dedup ledger read in "
            "%lld ms; %llu batch(es) committed meanwhile", p->topic, (int)p->partition,
            p->seen.count, (long long)r.took_ms,
            (unsigned long long)(a->stats.batches - p->batches_at));
        jc_status_t st = part_resume(a, p, err);
        if (st != JC_OK)
            return st;
    }
    return JC_OK;
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    (void)rk;
    jc_aggregator_t *a = opaque;
    jc_error_t why;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS && settle(a, &why) != JC_OK && !*a->stop)
        set_fatal(a, &why); /* the flying batch lands before any partition changes hands */
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS)
        on_assign(a, parts);
    else
        on_revoke(a, parts);
}

/* ---- set-up ---------------------------------------------------------------------------- */

/* librdkafka's prefetch, bounded by bytes (issue 14, item 4), so that RSS does not grow with
 * the backlog: at most queued.max.messages.kbytes queued, at most fetch.max.bytes a fetch
 * (what one fetch may add beyond the bound). The message count is set out of the way.
 * Once the queue reaches a bound, librdkafka 2.0's fetcher looks at it again only when its
 * broker thread next wakes, at the latest a second later (librdkafka issue #2879; 2.1 made
 * that wait a setting, fetch.queue.backoff.ms): a bound the loop drains in less than a second
 * starves it. Measured (docs/benchmarks.md): 16 MiB held the decode-only consumer to 254,000
 * events/s (about two fetches a second) and end to end to 173,000; 32 MiB, about a second of
 * what the loop consumes, 410,000 and 218,000, for about 115 MiB more RSS (librdkafka counts
 * only the messages' keys and values, not their headers or per-message structures).
 * fetch.wait.max.ms: how long the broker holds a fetch that finds nothing (500 ms by
 * default). A fetch of partitions all at their end waits that long; at start (the first fetch
 * may hold only a partition whose offset was resolved first) and at the end of a replay
 * (the end-of-partition report comes with the fetch after the last message) that was half a
 * second each; 100 ms costs an idle consumer ten fetch requests a second instead of two. */
#define PREFETCH "queued.min.messages", "10000000", "queued.max.messages.kbytes", "32768", \
                 "fetch.max.bytes", "8388608", "fetch.wait.max.ms", "100"
static const char *const prefetch[] = {PREFETCH, NULL};

const char *const *jc_aggregator_prefetch_properties(void)
{
    return prefetch;
}

/* The consumer: our settings, then the caller's properties (which may override them) except
 * those librdkafka marks as producers' only (they are the dead-letter producer's). */
static rd_kafka_t *new_consumer(jc_aggregator_t *a, jc_error_t *err)
{
    const char *const consumer[] = {
        "bootstrap.servers", a->cfg.bootstrap,
        "group.id", a->cfg.group_id,
        "partition.assignment.strategy", "cooperative-sticky",
        "enable.auto.commit", "false",
        "enable.auto.offset.store", "false",
        "enable.partition.eof", "true",
        "auto.offset.reset", "earliest",
        PREFETCH,
        NULL,
    };
    rd_kafka_conf_t *conf;
    if (jc_kafka_conf_layered(RD_KAFKA_CONSUMER, consumer, a->cfg.kafka_properties, &conf, err) != JC_OK)
        return NULL;
    rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
    rd_kafka_conf_set_opaque(conf, a);
    return jc_kafka_client_new(RD_KAFKA_CONSUMER, conf, err);
}

static jc_deadletter_t *new_dead_letter(jc_aggregator_t *a, jc_error_t *err)
{
    jc_deadletter_config_t c = {
        .bootstrap = a->cfg.bootstrap, .topic = a->dlq_topic,
        .kafka_properties = a->cfg.kafka_properties, .log = a->cfg.log,
        .log_opaque = a->cfg.log_opaque, .stats = &a->stats,
    };
    return jc_deadletter_new(&c, err);
}

static void apply_defaults(jc_aggregator_config_t *c)
{
    if (c->group_id == NULL)
        c->group_id = JC_AGGREGATOR_GROUP;
    if (c->conninfo == NULL)
        c->conninfo = "";
    if (c->topic_prefix == NULL)
        c->topic_prefix = "";
    if (c->batch_max_events <= 0)
        c->batch_max_events = 50000;
    if (c->batch_max_ms <= 0)
        c->batch_max_ms = 250;
    if (c->ledger_retention_days <= 0)
        c->ledger_retention_days = 400;
    if (c->stats_interval_ms <= 0)
        c->stats_interval_ms = 1000;
    if (c->reference_check_ms == 0)
        c->reference_check_ms = 10000; /* reference data (issue 13, item 6) */
}

/* generations (issue 13, item 4): the generation exists and is not dropped (else the run
 * ends: JC_ERR_INVALID_ARG is not retried); a warning if it is retired. */
static jc_status_t check_generation(jc_aggregator_t *a, jc_error_t *err)
{
    char state[16] = "";
    int n = a->cfg.generation > 1 ? a->cfg.generation : 1;
    jc_status_t st = jc_generation_check(a->pg, n, state, err);
    a->gen_building = st == JC_OK && strcmp(state, "building") == 0;
    if (st == JC_OK && strcmp(state, "retired") == 0)
        LOG(a, JC_LOG_WARN, "generation_retired", "generation %d is retired: the reports read "
            "another one (jiceng-aggregate generations)", n);
    return st;
}

/* generations: the conninfo (search_path) and group of the configured generation. */
static jc_status_t use_generation(jc_aggregator_t *a, jc_error_t *err)
{
    int n = a->cfg.generation > 1 ? a->cfg.generation : 1;
    if (jc_generation_conninfo(a->cfg.conninfo, n, &a->gen_conninfo, err) != JC_OK)
        return JC_ERR_INVALID_ARG;
    a->cfg.conninfo = a->gen_conninfo;
    if (n > 1) {
        snprintf(a->gen_group, sizeof a->gen_group, "%s-gen%d", a->cfg.group_id, n);
        a->cfg.group_id = a->gen_group;
    }
    return JC_OK;
}

/* Connect, check that the database has this library's schema (it is not migrated here: the
 * aggregator's role may not change it; jiceng/migrate.h), read the reference data (refdata.h)
 * and the signing keys. */
static jc_status_t open_pg(jc_aggregator_t *a, jc_error_t *err)
{
    jc_status_t st = pg_connect(a, err);
    if (st == JC_OK)
        st = jc_schema_require(a->pg, NULL, err);
    if (st == JC_OK)
        st = check_generation(a, err);
    if (st == JC_OK)
        st = jc_refdata_start(&a->ref, a->pg, err);
    return st == JC_OK ? read_keys(a, err) : st;
}

/* open_pg, retried with backoff while PostgreSQL fails, until the stop flag is raised or
 * pg_start_wait_ms (if set) has passed: then a JC_ERR_PG saying so. */
static jc_status_t wait_for_pg(jc_aggregator_t *a, jc_error_t *err)
{
    int64_t started = jc_mono_ms();
    for (int attempt = 1;; attempt++) {
        jc_status_t st = open_pg(a, err);
        if (st == JC_OK && attempt > 1)
            LOG(a, JC_LOG_INFO, "pg_ready", "PostgreSQL answered at start after %d attempt(s)",
                attempt);
        if (st == JC_OK) { /* metrics */
            a->stats.pg_ok = 1;
            a->pg_seen_ms = jc_mono_ms();
        }
        if (st != JC_ERR_PG)
            return st;
        PQfinish(a->pg);
        a->pg = NULL;
        char why[sizeof err->message];
        snprintf(why, sizeof why, "%s", err->message);
        int64_t waited = jc_mono_ms() - started;
        if (a->cfg.pg_start_wait_ms > 0 && waited >= a->cfg.pg_start_wait_ms)
            return jc_error_set(err, JC_ERR_PG, "PostgreSQL still unavailable after %lld s of "
                                "waiting at start: %s", (long long)(waited / 1000), why);
        jc_error_set(err, JC_ERR_PG, "at start: %s", why);
        if (!backoff(a, attempt, err))
            return jc_error_set(err, JC_ERR_PG, "stopped while waiting for PostgreSQL at "
                                "start: %s", why);
    }
}

/* metrics: the histograms' bounds (seconds per flush, messages per batch) and topic names. */
static const double flush_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
static const double batch_bounds[] = {1, 10, 100, 1000, 5000, 10000, 25000, 50000, 100000};
_Static_assert(sizeof flush_bounds / sizeof flush_bounds[0] <= JC_HISTOGRAM_MAX &&
                   sizeof batch_bounds / sizeof batch_bounds[0] <= JC_HISTOGRAM_MAX,
               "a histogram has at most JC_HISTOGRAM_MAX bounds");

static void init_metrics(jc_aggregator_t *a)
{
    a->stats.flush_seconds.bounds = flush_bounds;
    a->stats.flush_seconds.nbounds = sizeof flush_bounds / sizeof flush_bounds[0];
    a->stats.batch_events.bounds = batch_bounds;
    a->stats.batch_events.nbounds = sizeof batch_bounds / sizeof batch_bounds[0];
    for (int t = 0; t < JC_EVENT_TYPE_COUNT; t++)
        a->stats.topics[t] = a->topics[t];
    a->stats.lag = a->lag;
}

jc_aggregator_t *jc_aggregator_new(const jc_aggregator_config_t *cfg, jc_error_t *err)
{
    if (cfg == NULL || cfg->bootstrap == NULL || *cfg->bootstrap == '\0') {
        jc_error_set(err, JC_ERR_INVALID_ARG, "no Kafka bootstrap servers");
        return NULL;
    }
    jc_aggregator_t *a = calloc(1, sizeof *a);
    if (a == NULL) {
        jc_error_set(err, JC_ERR_NOMEM, "out of memory");
        return NULL;
    }
    a->cfg = *cfg;
    apply_defaults(&a->cfg);
    for (int t = 0; t < JC_EVENT_TYPE_COUNT; t++)
        snprintf(a->topics[t], sizeof a->topics[t], "%s%s", a->cfg.topic_prefix, jc_event_topic(t));
    snprintf(a->dlq_topic, sizeof a->dlq_topic, "%s%s", a->cfg.topic_prefix, JC_DEAD_LETTER_TOPIC);
    a->logger.log = a->cfg.log;
    a->logger.opaque = a->cfg.log_opaque;
    a->stop = &never;
    init_metrics(a);
    jc_fold_init(&a->bs[0].fold);
    jc_fold_init(&a->bs[1].fold);
    jc_refdata_init(&a->ref, a->cfg.reference_check_ms, a->cfg.log, a->cfg.log_opaque);
    if (use_generation(a, err) != JC_OK || (a->codec = jc_codec_new(err)) == NULL ||
        (a->rk = new_consumer(a, err)) == NULL || (a->dlq = new_dead_letter(a, err)) == NULL ||
        (a->end_offsets = jc_endoffsets_start(&a->cfg, err)) == NULL ||
        (a->loader = jc_loader_start(a->cfg.conninfo, a->cfg.ledger_retention_days, err)) == NULL ||
        (a->flusher = jc_flusher_start(a->cfg.conninfo, err)) == NULL) {
        jc_aggregator_free(a);
        return NULL;
    }
    rd_kafka_poll_set_consumer(a->rk);
    return a;
}

/* ---- the loop -------------------------------------------------------------------------- */

/* p is consumed to the end its last fetch saw: librdkafka said so, or the offset after the
 * last message taken from it (open batch, else flying one, else stored, else its low
 * watermark) has reached the high watermark that fetch reported (cached by the client; no
 * request). The second answers as soon as the last message is taken; the end-of-partition
 * report comes only with the next fetch, which finds nothing and is held by the broker
 * (fetch.wait.max.ms). */
static int at_end(const jc_aggregator_t *a, const jc_part_t *p)
{
    if (p->eof)
        return 1;
    if (p->loading)
        return 0;
    const jc_slice_t *open = &p->half[a->cur];
    return fetched_to_end(a, p, open->in_batch ? open->next : after_flight(a, p));
}

/* Every assigned partition is at its end: all reported so, or, when the local queue is empty
 * (idle), each at_end (a walk over the partitions). */
static int caught_up(const jc_aggregator_t *a, int idle)
{
    if (!a->assigned_once || a->nassigned == 0)
        return 0;
    if (a->neof == a->nassigned)
        return 1;
    if (!idle)
        return 0;
    for (int t = 0; t < JC_EVENT_TYPE_COUNT; t++)
        for (int i = 0; i < MAX_PARTITIONS; i++)
            if (a->by_type[t][i] != NULL && !at_end(a, a->by_type[t][i]))
                return 0;
    return 1;
}

static int batch_due(const jc_aggregator_t *a, int64_t now)
{
    const batch_state_t *s = &a->bs[a->cur];
    if (s->nparts == 0)
        return 0;
    return s->msgs >= (uint64_t)a->cfg.batch_max_events ||
           now - s->started_ms >= a->cfg.batch_max_ms || s->reject_bytes >= MAX_REJECT_BYTES;
}

/* The batch has caught up with what its partitions' last fetches saw: each one's next offset
 * has reached the high watermark the broker reported with its last fetch (cached by the
 * client; no request). Under a backlog that is false, so the batch grows to its limits; when
 * the load is light it is true as soon as the local queue is drained, and the batch commits at
 * once instead of waiting for batch_max_ms: the events are visible in PostgreSQL a flush
 * after they arrive, and the batch size adapts (what arrives during one flush is the next
 * batch). */
static int batch_drained(const jc_aggregator_t *a)
{
    const batch_state_t *s = &a->bs[a->cur];
    for (size_t i = 0; i < s->nparts; i++)
        if (!fetched_to_end(a, s->parts[i], s->parts[i]->half[a->cur].next))
            return 0;
    return s->nparts > 0;
}

/* metrics: each assigned partition's lag, from the high watermark the client last saw (from
 * its fetches; a partition not fetched yet is left out) and the offset PostgreSQL holds. */
static void refresh_lag(jc_aggregator_t *a)
{
    a->stats.nlag = 0;
    a->stats.lag = a->lag;
    for (int t = 0; t < JC_EVENT_TYPE_COUNT; t++)
        for (int i = 0; i < MAX_PARTITIONS; i++) {
            const jc_part_t *p = a->by_type[t][i];
            int64_t lo, hi;
            if (p == NULL || !watermarks(a, p, &lo, &hi))
                continue;
            int64_t from = p->stored >= 0 ? p->stored : lo;
            jc_partition_lag_t *l = &a->lag[a->stats.nlag++];
            l->topic = p->topic;
            l->partition = p->partition;
            l->lag = hi > from && from >= 0 ? hi - from : 0;
        }
}

/* metrics: while idle, check that PostgreSQL still answers (pg_ok for /readyz) every
 * PG_PROBE_MS since the last success; a failure closes the connection (the next flush
 * reconnects) and is tried again after PG_PROBE_MS. */
#define PG_PROBE_MS 5000
static void probe_pg(jc_aggregator_t *a, int64_t now)
{
    if (now - a->pg_seen_ms < PG_PROBE_MS || open_batch(a)->nparts > 0 || a->flying)
        return;
    jc_error_t err;
    PGresult *r = pg_connect(a, &err) == JC_OK ? PQexec(a->pg, "select 1") : NULL;
    a->stats.pg_ok = r != NULL && PQresultStatus(r) == PGRES_TUPLES_OK;
    PQclear(r);
    if (!a->stats.pg_ok) {
        PQfinish(a->pg);
        a->pg = NULL;
    }
    a->pg_seen_ms = now;
}

/* The figures the loop does not keep up to date as it goes: the sizes of the dedup sets. While
 * no partition is held they keep their last values (the end of a run reports them). */
static void refresh_stats(jc_aggregator_t *a)
{
    refresh_lag(a); /* metrics */
    if (a->nassigned == 0)
        return;
    a->stats.dedup_ids = a->stats.dedup_bytes = 0;
    for (int t = 0; t < JC_EVENT_TYPE_COUNT; t++)
        for (int p = 0; p < MAX_PARTITIONS; p++)
            if (a->by_type[t][p] != NULL) {
                a->stats.dedup_ids += a->by_type[t][p]->seen.count;
                a->stats.dedup_bytes += jc_dedup_bytes(&a->by_type[t][p]->seen);
            }
}

/* Hand on_stats a copy of the counters, so that it never sees them change under it. */
static void publish_stats(jc_aggregator_t *a)
{
    if (a->cfg.on_stats == NULL)
        return;
    jc_aggregator_stats_t snapshot = a->stats;
    a->cfg.on_stats(a->cfg.stats_opaque, &snapshot);
}

/* Drop from the partitions' dedup sets the ids committed before the dedup window (hourly,
 * with the ledger's expiry; dedup.h, jc_dedup_trim). A set that cannot be compacted (no
 * memory) stays as it is until the next hour. */
static void trim_dedup(jc_aggregator_t *a)
{
    uint32_t today = jc_dedup_day(jc_now_ms()), days = (uint32_t)a->cfg.ledger_retention_days;
    uint32_t oldest = today > days ? today - days : 0;
    size_t dropped = 0, n = 0;
    for (int t = 0; t < JC_EVENT_TYPE_COUNT; t++)
        for (int p = 0; p < MAX_PARTITIONS; p++) {
            if (a->by_type[t][p] == NULL)
                continue;
            if (jc_dedup_trim(&a->by_type[t][p]->seen, oldest, &n) != JC_OK)
                LOG(a, JC_LOG_WARN, "dedup_trim_failed", "%s [%d]: no memory to trim its dedup set",
                    a->by_type[t][p]->topic, p);
            dropped += n;
        }
    if (dropped > 0)
        LOG(a, JC_LOG_INFO, "dedup_trimmed", "%zu id(s) older than the %u-day dedup window dropped "
            "from memory", dropped, days);
}

/* glibc keeps what a thread's arena frees for that arena's next allocations and gives back
 * to the kernel only the free top of its heaps. librdkafka's broker thread allocates the
 * fetched messages and this loop frees them, so free pages between live ones stayed resident
 * (peak RSS minus the dedup state at 1M events: 317 MiB, 263 with this, the rate unchanged;
 * docs/benchmarks.md). malloc_trim returns every arena's free pages; once a second. */
static void return_free_memory(void)
{
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
}

static void housekeeping(jc_aggregator_t *a, int64_t now)
{
    jc_endoffsets_report(a->end_offsets); /* log what the refresher's thread met */
    jc_deadletter_poll(a->dlq); /* delivery reports; copies due again */
    if (now - a->last_expire_ms >= EXPIRE_EVERY_MS) {
        jc_error_t err;
        a->last_expire_ms = now;
        if (pg_connect(a, &err) != JC_OK ||
            jc_sink_expire_ledger(a->pg, a->cfg.ledger_retention_days, &err) != JC_OK)
            LOG(a, JC_LOG_WARN, "ledger_expiry_failed", "ledger expiry skipped: %s", err.message);
        trim_dedup(a);
    }
    if (now - a->last_stats_ms >= a->cfg.stats_interval_ms) {
        a->last_stats_ms = now;
        probe_pg(a, now); /* metrics */
        return_free_memory();
        refresh_stats(a);
        publish_stats(a);
    }
}

/* metrics: while a PostgreSQL retry waits, the counters are still handed on every
 * stats_interval_ms once the loop runs (subscribed), so that a watcher sees the loop alive and
 * PostgreSQL down. */
static void stats_while_waiting(jc_aggregator_t *a)
{
    int64_t now = jc_mono_ms();
    if (a->stats.subscribed && now - a->last_stats_ms >= a->cfg.stats_interval_ms) {
        a->last_stats_ms = now;
        refresh_stats(a);
        publish_stats(a);
    }
}

static jc_status_t subscribe(jc_aggregator_t *a, jc_error_t *err)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(JC_EVENT_TYPE_COUNT);
    for (int t = 0; t < JC_EVENT_TYPE_COUNT; t++)
        rd_kafka_topic_partition_list_add(l, a->topics[t], RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(a->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    a->stats.subscribed = e == RD_KAFKA_RESP_ERR_NO_ERROR; /* metrics */
    return e == RD_KAFKA_RESP_ERR_NO_ERROR ? JC_OK
           : jc_error_set(err, JC_ERR_KAFKA, "subscribe: %s", rd_kafka_err2str(e));
}

/* ---- reference data (issue 13, item 6; refdata.h) ---- */

/* metrics: the per-county slots follow their counties from snapshot old to the installed one. */
static void remap_counties(int64_t *ms, const jc_reference_t *old)
{
    int64_t was[JC_STATS_COUNTIES];
    size_t n;
    const jc_county_t *c = jc_reference_counties(old, &n), *first = jc_county_at(0);
    memcpy(was, ms, sizeof was);
    memset(ms, 0, sizeof was);
    for (size_t i = 0; i < n && i < JC_STATS_COUNTIES; i++) {
        const jc_county_t *now = jc_county_by_code(c[i].code);
        size_t j = now != NULL && first != NULL ? (size_t)(now - first) : JC_STATS_COUNTIES;
        if (j < JC_STATS_COUNTIES)
            ms[j] = was[i];
    }
}

/* Between batches (none open, so no verdict changes within one): the reference data read
 * again if asked or if its version moved; after a new snapshot the signing keys are read again
 * (a key of a county just added is accepted now). */
static jc_status_t reference_between_batches(jc_aggregator_t *a, int64_t now, jc_error_t *err)
{
    const jc_reference_t *old = NULL;
    jc_error_t why;
    if (!jc_refdata_due(&a->ref, now) ||
        !jc_refdata_between_batches(&a->ref, pg_connect(a, &why) == JC_OK ? a->pg : NULL, now,
                                    &old))
        return JC_OK;
    for (int h = 0; h < 2; h++) /* metrics */
        remap_counties(a->bs[h].counts.county_newest_ms, old);
    remap_counties(a->stats.county_newest_ms, old);
    publish_stats(a);
    return reread_keys(a, err);
}

void jc_aggregator_reload_reference(jc_aggregator_t *a)
{
    if (a != NULL)
        jc_refdata_request(&a->ref);
}

static jc_status_t consume(jc_aggregator_t *a, jc_error_t *err)
{
    while (!*a->stop && a->fatal == JC_OK) {
        /* an open batch polls without waiting: an empty queue may mean it can commit now; a
         * flying one, and the ledgers being loaded, are looked at every few ms */
        const batch_state_t *open = open_batch(a);
        int wait_ms = open->nparts ? 0 : a->flying || a->nloading ? 5 : 100;
        rd_kafka_message_t *m = rd_kafka_consumer_poll(a->rk, wait_ms);
        int drained = m == NULL && batch_drained(a);
        if (m == NULL && open->nparts > 0 && !drained)
            m = rd_kafka_consumer_poll(a->rk, 10); /* more is on its way */
        int idle = m == NULL;
        jc_status_t st = JC_OK;
        if (m != NULL) {
            if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                LOG(a, JC_LOG_WARN, "kafka_error", "kafka: %s", rd_kafka_message_errstr(m));
            else
                st = handle_message(a, m, err);
            rd_kafka_message_destroy(m);
        }
        if (st != JC_OK || (st = take_ledgers(a, err)) != JC_OK)
            return st;
        /* drained while a batch flies: wait a little for it rather than spin */
        if ((st = land_if_done(a, drained && a->flying ? 5 : 0, err)) != JC_OK)
            return st;
        int64_t now = jc_mono_ms();
        int done = a->cfg.exit_when_caught_up && caught_up(a, idle);
        /* a drained batch closes once nothing flies (else it takes what arrives meanwhile); a
         * full or old one closes at once, waiting for the flying one to land first */
        if ((batch_due(a, now) || (drained && !a->flying) || (done && open->nparts > 0)) &&
            (st = start_flush(a, err)) != JC_OK)
            return st;
        if (done && open_batch(a)->nparts == 0 && !a->flying)
            break;
        if (open_batch(a)->nparts == 0 && (st = reference_between_batches(a, now, err)) != JC_OK)
            return st;
        housekeeping(a, now);
    }
    if (a->fatal != JC_OK) {
        *err = a->fatal_err;
        return a->fatal;
    }
    return JC_OK;
}

jc_status_t jc_aggregator_run(jc_aggregator_t *a, volatile sig_atomic_t *stop, jc_error_t *err)
{
    a->stop = stop != NULL ? stop : &never;
    a->last_expire_ms = a->last_stats_ms = jc_mono_ms();
    a->last_expire_ms -= EXPIRE_EVERY_MS; /* expire once at start */
    jc_status_t st = wait_for_pg(a, err);
    if (st == JC_OK)
        st = subscribe(a, err);
    if (st == JC_OK)
        st = consume(a, err);
    if (st == JC_OK)
        st = flush(a, err);
    refresh_stats(a); /* the dedup figures, while the partitions are still held */
    a->stats.subscribed = 0; /* metrics: leaving the group */
    rd_kafka_consumer_close(a->rk); /* revokes, which flushes what is left */
    if (st == JC_OK && a->fatal != JC_OK) {
        *err = a->fatal_err;
        st = a->fatal;
    }
    jc_deadletter_drain(a->dlq); /* every copy delivered, or counted as failed */
    publish_stats(a);
    return st;
}

const jc_aggregator_stats_t *jc_aggregator_stats(const jc_aggregator_t *a)
{
    return &a->stats;
}

void jc_aggregator_free(jc_aggregator_t *a)
{
    if (a == NULL)
        return;
    jc_endoffsets_stop(a->end_offsets);
    jc_loader_stop(a->loader);
    a->loader = NULL;
    jc_flusher_stop(a->flusher); /* after the batch it writes, if any; before the partitions go */
    a->flusher = NULL;
    if (a->rk != NULL)
        rd_kafka_destroy(a->rk);
    jc_deadletter_free(a->dlq);
    for (int t = 0; t < JC_EVENT_TYPE_COUNT; t++)
        for (int p = 0; p < MAX_PARTITIONS; p++)
            if (a->by_type[t][p] != NULL)
                part_remove(a, a->topics[t], p);
    for (int h = 0; h < 2; h++) {
        free_rejects(&a->bs[h]);
        free(a->bs[h].rejects);
        free(a->bs[h].parts);
        free(a->bs[h].ts);
        jc_fold_free(&a->bs[h].fold);
    }
    jc_buf_free(&a->record);
    jc_codec_free(a->codec);
    jc_keys_free(&a->keys);
    PQfinish(a->pg);
    free(a->gen_conninfo);
    free(a);
}
