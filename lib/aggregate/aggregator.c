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
#include "pgsink.h"
#include "refdata.h" /* reference data (issue 13, item 6) */
#include "revise.h"

#define MAX_PARTITIONS 1024
#define MAX_REJECT_BYTES (16u << 20)
#define EXPIRE_EVERY_MS (3600 * 1000)
#define KEYS_MIN_RELOAD_MS 1000        /* reading the keys for a record past their horizon */
#define KEYS_UNKNOWN_RELOAD_MS 10000   /* ... for a key id they lack */
#define KEYS_BEHIND_WARN_MS 60000      /* between two signing_keys_behind warnings */

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
    jc_fold_t fold;
    jc_buf_t record; /* corrections: the ledger record of the event being applied (ledger.h) */
    jc_part_t *by_type[JC_EVENT_TYPE_COUNT][MAX_PARTITIONS];
    size_t nassigned;
    size_t neof;       /* assigned partitions at their end */
    jc_part_t **batch; /* partitions in the open batch */
    size_t nbatch, cap_batch;
    jc_reject_t *rejects;
    size_t nrejects, cap_rejects, reject_bytes;
    uint64_t batch_msgs;
    int64_t batch_started_ms;
    int64_t *batch_ts; /* freshness: the open batch's record timestamps (batch_msgs of them) */
    size_t cap_ts;
    jc_aggregator_stats_t stats;
    jc_status_t fatal; /* an error raised where it could not be returned (callbacks) */
    jc_error_t fatal_err;
    volatile sig_atomic_t *stop;
    int64_t last_expire_ms, last_stats_ms;
    int assigned_once;
    /* metrics (issue 12): what the open batch adds when it commits; the partitions' lag */
    struct {
        uint64_t consumed[JC_EVENT_TYPE_COUNT], applied[JC_EVENT_TYPE_COUNT],
            duplicates[JC_EVENT_TYPE_COUNT];
        uint64_t corrected[JC_EVENT_TYPE_COUNT], withdrawn[JC_EVENT_TYPE_COUNT]; /* corrections */
        int64_t newest_record_ms, county_newest_ms[JC_STATS_COUNTIES];
    } counts;
    jc_partition_lag_t lag[JC_EVENT_TYPE_COUNT * MAX_PARTITIONS];
    double flush_started;   /* monotonic seconds */
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
    p->loading = 0;
    return read_partition(a, p, 0, err) == JC_OK ? p : NULL;
}

/* Ask the loader for p's ledger; p stays paused (and its messages passed over) until then. */
static jc_status_t part_load(jc_aggregator_t *a, jc_part_t *p, jc_error_t *err)
{
    p->ticket = ++a->last_ticket;
    p->loading = 1;
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
    jc_dedup_free(&p->seen);
    jc_dedup_free(&p->pending);
    jc_buf_free(&p->ledger);
    free(p);
    *slot = NULL;
    a->nassigned--;
    a->stats.partitions = a->nassigned;
}

/* ---- the open batch ------------------------------------------------------------------ */

static void free_rejects(jc_aggregator_t *a)
{
    for (size_t i = 0; i < a->nrejects; i++) {
        jc_buf_free(&a->rejects[i].key);
        jc_buf_free(&a->rejects[i].payload);
        if (a->rejects[i].headers != NULL)
            rd_kafka_headers_destroy(a->rejects[i].headers);
    }
    a->nrejects = 0;
    a->reject_bytes = 0;
}

static void clear_batch(jc_aggregator_t *a)
{
    for (size_t i = 0; i < a->nbatch; i++) {
        jc_part_t *p = a->batch[i];
        p->in_batch = 0;
        p->newest_ms = 0;
        jc_dedup_clear(&p->pending);
        jc_buf_reset(&p->ledger);
    }
    a->nbatch = 0;
    a->batch_msgs = 0; /* and with it batch_ts */
    memset(&a->counts, 0, sizeof a->counts); /* metrics */
    jc_fold_reset(&a->fold);
    free_rejects(a);
}

static jc_status_t join_batch(jc_aggregator_t *a, jc_part_t *p, int64_t offset)
{
    if (p->in_batch)
        return JC_OK;
    if (a->nbatch == a->cap_batch) {
        size_t cap = a->cap_batch ? a->cap_batch * 2 : 64;
        jc_part_t **b = realloc(a->batch, cap * sizeof *b);
        if (b == NULL)
            return JC_ERR_NOMEM;
        a->batch = b;
        a->cap_batch = cap;
    }
    if (a->nbatch == 0 && a->nrejects == 0)
        a->batch_started_ms = jc_mono_ms();
    a->batch[a->nbatch++] = p;
    p->in_batch = 1;
    p->first = offset;
    return JC_OK;
}

/* Keep message m as a reject of the open batch: its key, value (null kept distinct from
 * empty) and headers (hdrs, NULL if none) as consumed. */
static jc_status_t keep_reject(jc_aggregator_t *a, const jc_part_t *p, const rd_kafka_message_t *m,
                               const rd_kafka_headers_t *hdrs, jc_status_t status,
                               const char *reason, int32_t schema_id, const char *event_id)
{
    if (a->nrejects == a->cap_rejects) {
        size_t cap = a->cap_rejects ? a->cap_rejects * 2 : 64;
        jc_reject_t *r = realloc(a->rejects, cap * sizeof *r);
        if (r == NULL)
            return JC_ERR_NOMEM;
        a->rejects = r;
        a->cap_rejects = cap;
    }
    jc_reject_t *r = &a->rejects[a->nrejects++];
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
    a->reject_bytes += m->len + m->key_len + jc_kafka_headers_bytes(hdrs);
    return JC_OK;
}

/* metrics: an applied event, by type, record timestamp and county (counted at commit). */
static void count_applied(jc_aggregator_t *a, const jc_part_t *p, const rd_kafka_message_t *m,
                          const jc_event_t *ev)
{
    a->counts.applied[p->type]++;
    int64_t ts = rd_kafka_message_timestamp(m, NULL);
    if (ts > a->counts.newest_record_ms)
        a->counts.newest_record_ms = ts;
    const jc_county_t *c = jc_county_by_code(ev->county_code), *first = jc_county_at(0);
    size_t i = c != NULL && first != NULL ? (size_t)(c - first) : JC_STATS_COUNTIES;
    if (i < JC_STATS_COUNTIES && ev->occurred_at > a->counts.county_newest_ms[i])
        a->counts.county_newest_ms[i] = ev->occurred_at;
}

/* ---- corrections (issue 13): the version in force of each id, and what replaces it ---- */

/* The version in force of id k in p: the open batch's (which replaces the committed one), then
 * the committed one. 0 if p has applied no version of it, 1 with *v, -1 if its record is
 * damaged. */
static int version_in_force(const jc_part_t *p, jc_dedup_key_t k, jc_version_t *v)
{
    const uint8_t *rec;
    size_t len;
    if (!jc_dedup_find(&p->pending, k, &rec, &len) && !jc_dedup_find(&p->seen, k, &rec, &len))
        return 0;
    return jc_record_decode(rec, len, v) == JC_OK ? 1 : -1;
}

/* Fold ev (+ its contribution) and make it the version in force of id in the open batch: its
 * record (a->record) into p's pending set and p's ledger row. */
static jc_status_t fold_version(jc_aggregator_t *a, jc_part_t *p, const uint8_t id[16],
                                jc_dedup_key_t k, uint32_t content, const jc_event_t *ev)
{
    jc_status_t st = jc_record_begin(&a->record, content, ev->revision, ev->withdrawn,
                                     ev->county_code, jc_local_day(ev->occurred_at));
    if (st == JC_OK)
        st = jc_fold_event_rec(&a->fold, ev, &a->record);
    if (st != JC_OK)
        return st;
    if (jc_dedup_put(&p->pending, k, a->record.data, a->record.len) != JC_OK ||
        jc_ledger_append(&p->ledger, id, a->record.data, a->record.len) != JC_OK)
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
    int seen = version_in_force(p, k, &prior);
    if (seen < 0)
        return JC_ERR_MALFORMED; /* our own record: cannot happen */
    char reason[400];
    jc_status_t why;
    jc_revise_t r = jc_revise_decide(seen ? &prior : NULL, ev->event_id, ev->revision, content,
                                     ev->county_code, &why, reason, sizeof reason);
    if (r == JC_REVISE_DUPLICATE) {
        a->stats.duplicates++;
        a->counts.duplicates[p->type]++; /* metrics */
        return JC_OK;
    }
    if (r == JC_REVISE_REPLACE && (why = jc_fold_subtract(&a->fold, p->type, &prior)) != JC_OK) {
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
    if (ev->occurred_at > p->newest_ms)
        p->newest_ms = ev->occurred_at;
    count_applied(a, p, m, ev); /* metrics */
    if (r == JC_REVISE_REPLACE) {
        if (ev->withdrawn)
            a->counts.withdrawn[p->type]++;
        else
            a->counts.corrected[p->type]++;
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
    int64_t now = jc_mono_ms();
    if (v->step == JC_CHECK_SIGNATURE && v->sign == JC_SIGN_UNKNOWN_KEY &&
        now - a->keys_unknown_ms >= KEYS_UNKNOWN_RELOAD_MS) {
        a->keys_unknown_ms = now;
        if ((st = reread_keys(a, err)) == JC_OK)
            jc_check_record(a->codec, a->keys.ring, rec, jc_now_ms(), v);
    }
    return st;
}

/* freshness: keep the record timestamp of the batch's next message until the commit. */
static jc_status_t note_timestamp(jc_aggregator_t *a, int64_t ts)
{
    if (a->batch_msgs == a->cap_ts) {
        size_t cap = a->cap_ts ? 2 * a->cap_ts : 4096;
        int64_t *t = realloc(a->batch_ts, cap * sizeof *t);
        if (t == NULL)
            return JC_ERR_NOMEM;
        a->batch_ts = t;
        a->cap_ts = cap;
    }
    a->batch_ts[a->batch_msgs] = ts;
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
        p->next = m->offset + 1;
        a->batch_msgs++;
        a->counts.consumed[p->type]++; /* metrics */
        st = v->status != JC_OK
             ? keep_reject(a, p, m, hdrs, v->status, v->err.message, v->schema_id,
                           v->step > JC_CHECK_DECODE ? v->event.event_id : NULL)
             : apply_event(a, p, m, hdrs, &v->event, v->schema_id);
    }
    return st == JC_OK ? JC_OK
           : jc_error_set(err, st, "%s [%d] @%lld: %s", p->topic, (int)p->partition,
                          (long long)m->offset, jc_status_name(st));
}

/* ---- after a flush: commit, or drop -------------------------------------------------- */

static void commit_to_kafka(jc_aggregator_t *a)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)a->nbatch);
    for (size_t i = 0; i < a->nbatch; i++)
        rd_kafka_topic_partition_list_add(l, a->batch[i]->topic, a->batch[i]->partition)->offset = a->batch[i]->next;
    rd_kafka_commit(a->rk, l, 1); /* asynchronous, for lag tools only: PostgreSQL is the truth */
    rd_kafka_topic_partition_list_destroy(l);
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* metrics: the committed batch's counts join the stats. */
static void count_commit(jc_aggregator_t *a)
{
    jc_aggregator_stats_t *s = &a->stats;
    for (int t = 0; t < JC_EVENT_TYPE_COUNT; t++) {
        s->consumed_by_type[t] += a->counts.consumed[t];
        s->applied_by_type[t] += a->counts.applied[t];
        s->duplicates_by_type[t] += a->counts.duplicates[t];
        s->corrected_by_type[t] += a->counts.corrected[t];
        s->withdrawn_by_type[t] += a->counts.withdrawn[t];
    }
    for (size_t i = 0; i < a->nrejects; i++) {
        int t = type_of_topic(a, a->rejects[i].topic);
        if (t >= 0 && a->rejects[i].status < JC_STATUS_COUNT_)
            s->rejected_by[t][a->rejects[i].status]++;
    }
    if (a->counts.newest_record_ms > s->newest_record_ms)
        s->newest_record_ms = a->counts.newest_record_ms;
    for (int i = 0; i < JC_STATS_COUNTIES; i++)
        if (a->counts.county_newest_ms[i] > s->county_newest_ms[i])
            s->county_newest_ms[i] = a->counts.county_newest_ms[i];
    jc_histogram_observe(&s->flush_seconds, mono_s() - a->flush_started);
    jc_histogram_observe(&s->batch_events, (double)a->batch_msgs);
    int64_t now = jc_now_ms();
    for (uint64_t i = 0; i < a->batch_msgs; i++) {
        int64_t ms = a->batch_ts[i] > 0 && now > a->batch_ts[i] ? now - a->batch_ts[i] : 0;
        jc_latency_observe(&s->freshness_ms, ms);
    }
    s->pg_ok = 1;
    a->pg_seen_ms = jc_mono_ms();
}

/* ---- the committed batch's rejects in the log (issue 12, item 3: "logs") ---- */
#define REJECTS_NAMED 3 /* how many rejects the batch's line names by place */

/* One debug line per reject (event "reject") and one warn line per batch (event "rejects"):
 * "N rejects in batch: STATUS=count,...; first: TOPIC [P] @OFFSET (STATUS), ...". */
static void log_rejects(jc_aggregator_t *a)
{
    if (a->nrejects == 0)
        return;
    size_t count[JC_STATUS_COUNT_] = {0};
    char line[900], *end = line + sizeof line, *w = line;
    w += snprintf(w, sizeof line, "%zu reject(s) in batch:", a->nrejects);
    for (size_t i = 0; i < a->nrejects; i++) {
        const jc_reject_t *r = &a->rejects[i];
        LOG(a, JC_LOG_DEBUG, "reject", "reject: %s [%d] @%lld %s: %s", r->topic,
            (int)r->partition, (long long)r->offset, jc_status_name(r->status), r->reason);
        if ((unsigned)r->status < JC_STATUS_COUNT_)
            count[r->status]++;
    }
    for (int st = 0; st < JC_STATUS_COUNT_ && w < end; st++)
        if (count[st] > 0)
            w += snprintf(w, (size_t)(end - w), "%s%s=%zu", w[-1] == ':' ? " " : ",",
                          jc_status_name((jc_status_t)st), count[st]);
    for (size_t i = 0; i < a->nrejects && i < REJECTS_NAMED && w < end; i++)
        w += snprintf(w, (size_t)(end - w), "%s%s [%d] @%lld (%s)", i ? ", " : "; first: ",
                      a->rejects[i].topic, (int)a->rejects[i].partition,
                      (long long)a->rejects[i].offset, jc_status_name(a->rejects[i].status));
    LOG(a, JC_LOG_WARN, "rejects", "%s%s", line, a->nrejects > REJECTS_NAMED ? ", ..." : "");
}

static jc_status_t committed(jc_aggregator_t *a)
{
    for (size_t i = 0; i < a->nbatch; i++) {
        jc_part_t *p = a->batch[i];
        p->stored = p->next;
        if (jc_dedup_merge(&p->seen, &p->pending) != JC_OK)
            return JC_ERR_NOMEM;
    }
    commit_to_kafka(a);
    log_rejects(a); /* before the dead-letter copies take their bytes */
    for (size_t i = 0; i < a->nrejects && !a->gen_building; i++) /* generations: see gen_building */
        jc_deadletter_send(a->dlq, &a->rejects[i]); /* takes the reject's bytes */
    jc_deadletter_poll(a->dlq);
    a->stats.applied += a->fold.events;
    a->stats.rejected += a->nrejects;
    a->stats.batches++;
    a->stats.last_commit_ms = jc_now_ms();
    count_commit(a); /* metrics */
    clear_batch(a);
    return JC_OK;
}

/* Rewind the batch's partitions to their stored offsets (re-reading them and their ledgers
 * from PostgreSQL if reload), and forget the batch. */
static jc_status_t drop_batch(jc_aggregator_t *a, int reload, jc_error_t *err)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)a->nbatch + 1);
    jc_status_t st = JC_OK;
    for (size_t i = 0; i < a->nbatch && st == JC_OK; i++) {
        jc_part_t *p = a->batch[i];
        if (reload)
            st = read_partition(a, p, 1, err);
        rd_kafka_topic_partition_list_add(l, p->topic, p->partition)->offset =
            p->stored >= 0 ? p->stored : RD_KAFKA_OFFSET_BEGINNING;
    }
    clear_batch(a);
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

static void note_watermarks(jc_aggregator_t *a)
{
    for (size_t i = 0; i < a->nbatch; i++) {
        int64_t lo, hi;
        jc_part_t *p = a->batch[i];
        if (rd_kafka_get_watermark_offsets(a->rk, p->topic, p->partition, &lo, &hi) == RD_KAFKA_RESP_ERR_NO_ERROR)
            p->high_watermark = hi;
    }
}

/* Write the open batch: retried on PostgreSQL errors until it commits or is fenced. */
static jc_status_t flush(jc_aggregator_t *a, jc_error_t *err)
{
    if (a->nbatch == 0)
        return JC_OK;
    a->flush_started = mono_s(); /* metrics */
    note_watermarks(a);
    jc_batch_t b = {a->cfg.group_id, a->batch, a->nbatch, &a->fold, a->rejects, a->nrejects};
    for (int attempt = 1;; attempt++) {
        jc_status_t st = pg_connect(a, err);
        if (st == JC_OK)
            st = jc_sink_flush(a->pg, &b, err);
        if (st == JC_OK)
            return committed(a);
        if (st == JC_ERR_FENCED) {
            LOG(a, JC_LOG_WARN, "batch_dropped", "batch dropped: %s", err->message);
            a->stats.fenced++;
            return drop_batch(a, 1, err);
        }
        if (st != JC_ERR_PG)
            return st;
        a->stats.pg_retries++;
        if (PQstatus(a->pg) != CONNECTION_OK) {
            PQfinish(a->pg);
            a->pg = NULL;
        }
        if (!backoff(a, attempt, err))
            return st; /* stopping: the batch was not committed and will be read again */
    }
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
    jc_status_t st = lost ? drop_batch(a, 0, &err) : flush(a, &err);
    if (st != JC_OK && a->nbatch > 0)
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
    if (st == JC_OK &&
        rd_kafka_get_watermark_offsets(a->rk, p->topic, p->partition, &lo, &hi) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        hi >= 0 && (p->stored >= 0 ? p->stored : lo) == hi)
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
        p->loading = 0;
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
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS)
        on_assign(a, parts);
    else
        on_revoke(a, parts);
}

/* ---- set-up ---------------------------------------------------------------------------- */

/* The consumer: our settings, then the caller's properties (which may override them) except
 * those librdkafka marks as producers' only (they are the dead-letter producer's). */
/* librdkafka's prefetch, bounded by bytes (issue 14, item 4). librdkafka 2.0 pauses a
 * partition's fetching for a second whenever its queue holds queued.min.messages (100,000 by
 * default), which starved the consumer (decode-only 145,000 events/s against a bare consume's
 * 632,000, measured); so the message count is set out of the way and the bytes bound the
 * prefetch instead: at most queued.max.messages.kbytes queued (16 MiB), at most
 * fetch.max.bytes per fetch. RSS then no longer grows with the backlog. */
#define PREFETCH "queued.min.messages", "10000000", "queued.max.messages.kbytes", "16384", \
                 "fetch.max.bytes", "16777216"
static const char *const prefetch[] = {PREFETCH, NULL};

const char *const *jc_aggregator_prefetch_properties(void)
{
    return prefetch;
}

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
    jc_fold_init(&a->fold);
    jc_refdata_init(&a->ref, a->cfg.reference_check_ms, a->cfg.log, a->cfg.log_opaque);
    if (use_generation(a, err) != JC_OK || (a->codec = jc_codec_new(err)) == NULL ||
        (a->rk = new_consumer(a, err)) == NULL || (a->dlq = new_dead_letter(a, err)) == NULL ||
        (a->end_offsets = jc_endoffsets_start(&a->cfg, err)) == NULL ||
        (a->loader = jc_loader_start(a->cfg.conninfo, a->cfg.ledger_retention_days, err)) == NULL) {
        jc_aggregator_free(a);
        return NULL;
    }
    rd_kafka_poll_set_consumer(a->rk);
    return a;
}

/* ---- the loop -------------------------------------------------------------------------- */

static int caught_up(const jc_aggregator_t *a)
{
    return a->assigned_once && a->nassigned > 0 && a->neof == a->nassigned;
}

static int batch_due(const jc_aggregator_t *a, int64_t now)
{
    if (a->nbatch == 0)
        return 0;
    return a->batch_msgs >= (uint64_t)a->cfg.batch_max_events ||
           now - a->batch_started_ms >= a->cfg.batch_max_ms || a->reject_bytes >= MAX_REJECT_BYTES;
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
    for (size_t i = 0; i < a->nbatch; i++) {
        int64_t lo, hi;
        const jc_part_t *p = a->batch[i];
        if (rd_kafka_get_watermark_offsets(a->rk, p->topic, p->partition, &lo, &hi) !=
                RD_KAFKA_RESP_ERR_NO_ERROR || hi < 0 || p->next < hi)
            return 0;
    }
    return a->nbatch > 0;
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
            if (p == NULL || rd_kafka_get_watermark_offsets(a->rk, p->topic, p->partition, &lo,
                                                            &hi) != RD_KAFKA_RESP_ERR_NO_ERROR ||
                hi < 0)
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
    if (now - a->pg_seen_ms < PG_PROBE_MS || a->nbatch > 0)
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
    }
    if (now - a->last_stats_ms >= a->cfg.stats_interval_ms) {
        a->last_stats_ms = now;
        probe_pg(a, now); /* metrics */
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
    remap_counties(a->counts.county_newest_ms, old); /* metrics */
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
        /* an open batch polls without waiting: an empty queue may mean it can commit now */
        rd_kafka_message_t *m = rd_kafka_consumer_poll(a->rk, a->nbatch ? 0 : 100);
        int drained = m == NULL && batch_drained(a);
        if (m == NULL && a->nbatch > 0 && !drained)
            m = rd_kafka_consumer_poll(a->rk, 10); /* more is on its way */
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
        int64_t now = jc_mono_ms();
        int done = a->cfg.exit_when_caught_up && caught_up(a);
        if ((batch_due(a, now) || drained || (done && a->nbatch > 0)) &&
            (st = flush(a, err)) != JC_OK)
            return st;
        if (done && a->nbatch == 0)
            break;
        if (a->nbatch == 0 && (st = reference_between_batches(a, now, err)) != JC_OK)
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
    if (a->rk != NULL)
        rd_kafka_destroy(a->rk);
    jc_deadletter_free(a->dlq);
    for (int t = 0; t < JC_EVENT_TYPE_COUNT; t++)
        for (int p = 0; p < MAX_PARTITIONS; p++)
            if (a->by_type[t][p] != NULL)
                part_remove(a, a->topics[t], p);
    free_rejects(a);
    free(a->rejects);
    free(a->batch);
    free(a->batch_ts);
    jc_fold_free(&a->fold);
    jc_buf_free(&a->record);
    jc_codec_free(a->codec);
    jc_keys_free(&a->keys);
    PQfinish(a->pg);
    free(a->gen_conninfo);
    free(a);
}
