/*
 * redrive.c: re-driving rejected messages to their topics (see jiceng/redrive.h).
 *
 * One PostgreSQL connection and one idempotent acks=all producer (its defaults first, then the
 * caller's properties except those librdkafka marks as the consumer's, kafkautil.h). The run
 * is a loop of batches, each one transaction:
 *   1. select at most JC_REDRIVE_BATCH rows not re-driven yet, past the previous batch's last
 *      primary key (keyset order: a row that failed stays unmarked and is not met again in this
 *      run), locking them (FOR UPDATE SKIP LOCKED: a concurrent run skips them); the headers
 *      come as one result row per header (left join lateral unnest ... with ordinality), so a
 *      record spans consecutive result rows;
 *   2. produce every record (key, value and headers as selected; librdkafka is given pointers
 *      into the batch, which lives until every delivery report is in) and flush: each record
 *      ends delivered (its new partition and offset kept) or failed (logged: redrive_failed);
 *      what is still unsettled after message.timeout.ms and a margin is purged, then failed;
 *   3. mark the delivered rows (one update from arrays, jc_pgarray) and commit.
 * With dry_run, step 1 only, and the transaction is rolled back. Bytes come in libpq's text
 * form and are unescaped with PQunescapeBytea; a null key, value or header value stays null
 * (librdkafka sends a NULL pointer as null and a zero-length buffer as empty).
 */
#include "jiceng/redrive.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>

#include "../internal.h"
#include "../kafkautil.h"
#include "../logging.h"
#include "../pgexec.h"
#include "jiceng/jtime.h"

#define RD_DRAIN_MARGIN_MS 5000
#define RD_PURGE_WAIT_MS 2000

typedef enum { REC_PENDING, REC_DELIVERED, REC_FAILED } rec_state_t;

/* One selected reject: its row's key, the record's bytes (PQunescapeBytea's; NULL: null). */
typedef struct record {
    char *topic; /* points into the result */
    int32_t partition, new_partition;
    int64_t offset, new_offset;
    size_t status;                  /* index into cfg->statuses */
    unsigned char *key, *value;     /* PQfreemem */
    size_t key_len, value_len;
    rd_kafka_headers_t *headers;    /* NULL: none; librdkafka's once produced */
    rec_state_t state;
} record_t;

typedef struct redrive {
    jc_kafka_logger_t logger; /* first: the producer's opaque (kafkautil.h) */
    const jc_redrive_config_t *cfg;
    rd_kafka_t *rk;
    PGconn *pg;
    int timeout_ms;           /* the producer's message.timeout.ms */
    PGresult *res;            /* the batch's rows */
    record_t *recs;
    size_t n, cap;
    size_t inflight;
    char last_topic[JC_TOPIC_NAME_MAX + 1]; /* the previous batch's last key ("": none) */
    int32_t last_partition;
    int64_t last_offset;
    jc_redrive_count_t *by_status, *total;
} redrive_t;

#define LOG(r, level, event, ...) \
    jc_logf((r)->logger.log, (r)->logger.opaque, level, event, __VA_ARGS__)

/* ---- statuses -------------------------------------------------------------------------- */

/* The status called word ("JC_ERR_X" or "x", any case), or JC_STATUS_COUNT_. */
static jc_status_t status_by_name(const char *word, size_t len)
{
    for (int s = 1; s < JC_STATUS_COUNT_; s++) {
        const char *name = jc_status_name((jc_status_t)s);
        const char *shortname = strncmp(name, "JC_ERR_", 7) == 0 ? name + 7 : name;
        if ((strlen(name) == len && strncasecmp(name, word, len) == 0) ||
            (strlen(shortname) == len && strncasecmp(shortname, word, len) == 0))
            return (jc_status_t)s;
    }
    return JC_STATUS_COUNT_;
}

jc_status_t jc_redrive_statuses(const char *list, jc_status_t *out, size_t max, size_t *n,
                                jc_error_t *err)
{
    *n = 0;
    for (const char *p = list != NULL ? list : ""; ; p++) {
        size_t len = strcspn(p, ",");
        jc_status_t s = len > 0 ? status_by_name(p, len) : JC_STATUS_COUNT_;
        if (s == JC_STATUS_COUNT_)
            return jc_error_set(err, JC_ERR_INVALID_ARG, "status '%.*s' is not a reject status "
                                "(e.g. unauthorized or JC_ERR_UNAUTHORIZED)", (int)len, p);
        size_t i = 0;
        while (i < *n && out[i] != s)
            i++;
        if (i == *n && *n == max)
            return jc_error_set(err, JC_ERR_INVALID_ARG, "more than %zu statuses", max);
        if (i == *n)
            out[(*n)++] = s;
        p += len;
        if (*p == '\0')
            return JC_OK;
    }
}

/* ---- the producer ---------------------------------------------------------------------- */

static void count(redrive_t *r, const record_t *rec, rec_state_t state)
{
    jc_redrive_count_t *c[] = {&r->by_status[rec->status], r->total};
    for (size_t i = 0; i < 2; i++) {
        if (state == REC_DELIVERED)
            c[i]->delivered++;
        else
            c[i]->failed++;
    }
}

static void fail(redrive_t *r, record_t *rec, const char *why)
{
    rec->state = REC_FAILED;
    LOG(r, JC_LOG_ERROR, "redrive_failed", "reject %s [%d] @%lld (%s) not re-driven: %s; it "
        "stays in jiceng.rejects for a later run", rec->topic, (int)rec->partition,
        (long long)rec->offset, jc_status_name(r->cfg->statuses[rec->status]), why);
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    redrive_t *r = opaque;
    record_t *rec = m->_private;
    r->inflight--;
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fail(r, rec, rd_kafka_err2str(m->err));
        return;
    }
    rec->state = REC_DELIVERED;
    rec->new_partition = m->partition;
    rec->new_offset = m->offset;
}

static jc_status_t new_producer(redrive_t *r, jc_error_t *err)
{
    const char *const defaults[] = {
        "bootstrap.servers", r->cfg->bootstrap,
        "enable.idempotence", "true",
        "acks", "all",
        "partitioner", "murmur2_random", /* as every jiceng producer: a key keeps its partition */
        "allow.auto.create.topics", "false",
        "message.timeout.ms", "30000",
        NULL,
    };
    rd_kafka_conf_t *conf;
    jc_status_t st = jc_kafka_conf_layered(RD_KAFKA_PRODUCER, defaults, r->cfg->kafka_properties,
                                           &conf, err);
    if (st != JC_OK)
        return st;
    r->timeout_ms = (int)jc_kafka_conf_number(conf, "message.timeout.ms", 30000);
    rd_kafka_conf_set_opaque(conf, r);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    r->rk = jc_kafka_client_new(RD_KAFKA_PRODUCER, conf, err);
    return r->rk != NULL ? JC_OK : JC_ERR_KAFKA;
}

/* Hand rec to librdkafka, waiting for room in its queue; a refusal fails the record. */
static void produce(redrive_t *r, record_t *rec)
{
    rd_kafka_resp_err_t e;
    do {
        e = rd_kafka_producev(r->rk, RD_KAFKA_V_TOPIC(rec->topic),
                              RD_KAFKA_V_KEY(rec->key, rec->key_len),
                              RD_KAFKA_V_VALUE(rec->value, rec->value_len),
                              RD_KAFKA_V_HEADERS(rec->headers), RD_KAFKA_V_OPAQUE(rec),
                              RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(r->rk, 100);
    } while (e == RD_KAFKA_RESP_ERR__QUEUE_FULL);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fail(r, rec, rd_kafka_err2str(e));
        return;
    }
    rec->headers = NULL; /* librdkafka's now */
    r->inflight++;
}

/* Every record of the batch produced and settled: delivered or failed. */
static void publish(redrive_t *r)
{
    for (size_t i = 0; i < r->n; i++)
        produce(r, &r->recs[i]);
    rd_kafka_flush(r->rk, r->timeout_ms + RD_DRAIN_MARGIN_MS);
    if (r->inflight > 0)
        rd_kafka_purge(r->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    for (int64_t end = jc_mono_ms() + RD_PURGE_WAIT_MS; r->inflight > 0 && jc_mono_ms() < end;)
        rd_kafka_poll(r->rk, 100); /* the purged records' reports: failed */
    for (size_t i = 0; i < r->n; i++)
        if (r->recs[i].state == REC_PENDING)
            fail(r, &r->recs[i], "no delivery report in time");
}

/* ---- the batch ------------------------------------------------------------------------- */

static const char select_sql[] =
    "with sel as ("
    " select topic, partition, kafka_offset, status, msg_key, payload, headers"
    " from jiceng.rejects"
    " where redriven_at is null and status = any($1::text[])"
    "  and ($2::text is null or topic = $2::text)"
    "  and ($3::bigint is null or rejected_at >= to_timestamp($3::bigint / 1000.0))"
    "  and ($4::bigint is null or rejected_at < to_timestamp($4::bigint / 1000.0))"
    "  and ($5::text is null or (topic, partition, kafka_offset) > ($5::text, $6::integer, $7::bigint))"
    " order by topic, partition, kafka_offset"
    " limit $8::bigint"
    " for update skip locked)"
    " select s.topic, s.partition, s.kafka_offset, s.status, s.msg_key, s.payload,"
    "  h.n is null, h.name, h.value"
    " from sel s left join lateral unnest(s.headers) with ordinality as h(name, value, n) on true"
    " order by s.topic, s.partition, s.kafka_offset, h.n";

enum { C_TOPIC, C_PARTITION, C_OFFSET, C_STATUS, C_KEY, C_VALUE, C_NOHDR, C_HNAME, C_HVALUE };

static void free_batch(redrive_t *r)
{
    for (size_t i = 0; i < r->n; i++) {
        PQfreemem(r->recs[i].key);
        PQfreemem(r->recs[i].value);
        if (r->recs[i].headers != NULL)
            rd_kafka_headers_destroy(r->recs[i].headers);
    }
    r->n = 0;
    PQclear(r->res);
    r->res = NULL;
}

/* Column col of result row i unescaped into *out (NULL for SQL null) and *len. */
static jc_status_t bytes_at(redrive_t *r, int i, int col, unsigned char **out, size_t *len,
                            jc_error_t *err)
{
    *out = NULL;
    *len = 0;
    if (PQgetisnull(r->res, i, col))
        return JC_OK;
    *out = PQunescapeBytea((const unsigned char *)PQgetvalue(r->res, i, col), len);
    return *out != NULL ? JC_OK : jc_error_set(err, JC_ERR_NOMEM, "redrive: out of memory");
}

/* Result row i's header appended to rec's list. */
static jc_status_t add_header(redrive_t *r, record_t *rec, int i, jc_error_t *err)
{
    unsigned char *name = NULL, *value = NULL;
    size_t nlen = 0, vlen = 0;
    jc_status_t st = bytes_at(r, i, C_HNAME, &name, &nlen, err);
    if (st == JC_OK)
        st = bytes_at(r, i, C_HVALUE, &value, &vlen, err);
    if (st == JC_OK && rec->headers == NULL && (rec->headers = rd_kafka_headers_new(8)) == NULL)
        st = jc_error_set(err, JC_ERR_NOMEM, "redrive: out of memory");
    if (st == JC_OK && rd_kafka_header_add(rec->headers, name != NULL ? (const char *)name : "",
                                           (ssize_t)nlen, value, (ssize_t)vlen) != 0)
        st = jc_error_set(err, JC_ERR_NOMEM, "redrive: out of memory");
    PQfreemem(name);
    PQfreemem(value);
    return st;
}

static size_t status_index(const redrive_t *r, const char *name)
{
    for (size_t i = 0; i < r->cfg->nstatuses; i++)
        if (strcmp(jc_status_name(r->cfg->statuses[i]), name) == 0)
            return i;
    return 0; /* not reached: the query selects these statuses only */
}

/* Result row i starts a new record. */
static jc_status_t new_record(redrive_t *r, int i, jc_error_t *err)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        record_t *recs = realloc(r->recs, cap * sizeof *recs);
        if (recs == NULL)
            return jc_error_set(err, JC_ERR_NOMEM, "redrive: out of memory");
        r->recs = recs;
        r->cap = cap;
    }
    record_t *rec = &r->recs[r->n++];
    memset(rec, 0, sizeof *rec);
    rec->topic = PQgetvalue(r->res, i, C_TOPIC);
    rec->partition = (int32_t)strtol(PQgetvalue(r->res, i, C_PARTITION), NULL, 10);
    rec->offset = strtoll(PQgetvalue(r->res, i, C_OFFSET), NULL, 10);
    rec->status = status_index(r, PQgetvalue(r->res, i, C_STATUS));
    rec->new_partition = -1;
    rec->new_offset = -1;
    jc_status_t st = bytes_at(r, i, C_KEY, &rec->key, &rec->key_len, err);
    return st == JC_OK ? bytes_at(r, i, C_VALUE, &rec->value, &rec->value_len, err) : st;
}

/* The result's rows into records: a row whose key differs from the previous one starts one. */
static jc_status_t read_records(redrive_t *r, jc_error_t *err)
{
    jc_status_t st = JC_OK;
    for (int i = 0; st == JC_OK && i < PQntuples(r->res); i++) {
        record_t *prev = r->n > 0 ? &r->recs[r->n - 1] : NULL;
        bool same = prev != NULL && strcmp(prev->topic, PQgetvalue(r->res, i, C_TOPIC)) == 0 &&
                    prev->partition == (int32_t)strtol(PQgetvalue(r->res, i, C_PARTITION), NULL, 10) &&
                    prev->offset == strtoll(PQgetvalue(r->res, i, C_OFFSET), NULL, 10);
        if (!same)
            st = new_record(r, i, err);
        if (st == JC_OK && strcmp(PQgetvalue(r->res, i, C_NOHDR), "f") == 0)
            st = add_header(r, &r->recs[r->n - 1], i, err);
    }
    return st;
}

/* An optional bigint parameter: NULL when open (is_open), else its text in buf. */
static const char *opt_int(bool is_open, int64_t v, char *buf, size_t len)
{
    if (is_open)
        return NULL;
    snprintf(buf, len, "%" PRId64, v);
    return buf;
}

/* Select (and lock) the next batch of at most want rows. */
static jc_status_t select_batch(redrive_t *r, int64_t want, jc_error_t *err)
{
    const jc_redrive_config_t *c = r->cfg;
    jc_pgarray_t statuses = {0};
    jc_pgarray_begin(&statuses);
    for (size_t i = 0; i < c->nstatuses; i++)
        jc_pgarray_text(&statuses, jc_status_name(c->statuses[i]));
    char since[24], until[24], part[16], off[24], lim[24];
    bool first = r->last_topic[0] == '\0';
    snprintf(lim, sizeof lim, "%" PRId64, want);
    const char *params[8] = {
        jc_pgarray_end(&statuses), c->topic,
        opt_int(c->since_ms == INT64_MIN, c->since_ms, since, sizeof since),
        opt_int(c->until_ms == INT64_MAX, c->until_ms, until, sizeof until),
        first ? NULL : r->last_topic,
        opt_int(first, r->last_partition, part, sizeof part),
        opt_int(first, r->last_offset, off, sizeof off), lim,
    };
    jc_status_t st = params[0] == NULL
                         ? jc_error_set(err, JC_ERR_NOMEM, "redrive: out of memory")
                         : jc_pg_exec(r->pg, "selecting rejects", select_sql, 8, params, &r->res,
                                      NULL, err);
    jc_pgarray_free(&statuses);
    if (st == JC_OK)
        st = read_records(r, err);
    return st;
}

static const char mark_sql[] =
    "update jiceng.rejects r"
    " set redriven_at = now(), redriven_partition = u.p, redriven_offset = u.o"
    " from unnest($1::text[], $2::integer[], $3::bigint[], $4::integer[], $5::bigint[])"
    "  as u(t, sp, so, p, o)"
    " where r.topic = u.t and r.partition = u.sp and r.kafka_offset = u.so";

/* Mark the delivered records re-driven, in the open transaction. */
static jc_status_t mark(redrive_t *r, size_t delivered, jc_error_t *err)
{
    jc_pgarray_t a[5];
    memset(a, 0, sizeof a);
    for (size_t k = 0; k < 5; k++)
        jc_pgarray_begin(&a[k]);
    for (size_t i = 0; i < r->n; i++) {
        const record_t *rec = &r->recs[i];
        if (rec->state != REC_DELIVERED)
            continue;
        jc_pgarray_text(&a[0], rec->topic);
        jc_pgarray_int(&a[1], rec->partition);
        jc_pgarray_int(&a[2], rec->offset);
        jc_pgarray_int(&a[3], rec->new_partition);
        jc_pgarray_int(&a[4], rec->new_offset);
    }
    const char *params[5];
    bool ok = true;
    for (size_t k = 0; k < 5; k++)
        ok = (params[k] = jc_pgarray_end(&a[k])) != NULL && ok;
    long rows = 0;
    jc_status_t st = ok ? jc_pg_exec(r->pg, "marking rejects re-driven", mark_sql, 5, params,
                                     NULL, &rows, err)
                        : jc_error_set(err, JC_ERR_NOMEM, "redrive: out of memory");
    for (size_t k = 0; k < 5; k++)
        jc_pgarray_free(&a[k]);
    if (st == JC_OK && (size_t)rows != delivered)
        st = jc_error_set(err, JC_ERR_PG, "redrive: marked %ld rows re-driven, expected %zu",
                          rows, delivered);
    return st;
}

/* Count the batch's outcome once it is final: committed (marked) or not. */
static void settle(redrive_t *r, bool marked)
{
    for (size_t i = 0; i < r->n; i++) {
        record_t *rec = &r->recs[i];
        if (rec->state == REC_DELIVERED && !marked)
            fail(r, rec, "published, but marking it failed: a later run publishes it again");
        count(r, rec, rec->state);
    }
}

/* One batch: select, publish, mark, commit. *more: a full batch was selected. */
static jc_status_t batch(redrive_t *r, int64_t want, bool *more, jc_error_t *err)
{
    *more = false;
    jc_status_t st = jc_pg_exec(r->pg, "begin", "begin", 0, NULL, NULL, NULL, err);
    if (st == JC_OK)
        st = select_batch(r, want, err);
    if (st != JC_OK) {
        jc_pg_rollback(r->pg);
        return st;
    }
    for (size_t i = 0; i < r->n; i++) {
        r->by_status[r->recs[i].status].selected++;
        r->total->selected++;
    }
    *more = (int64_t)r->n == want;
    if (r->n > 0) {
        const record_t *last = &r->recs[r->n - 1];
        snprintf(r->last_topic, sizeof r->last_topic, "%s", last->topic);
        r->last_partition = last->partition;
        r->last_offset = last->offset;
    }
    if (r->cfg->dry_run || r->n == 0) {
        jc_pg_rollback(r->pg);
        return JC_OK;
    }
    publish(r);
    size_t delivered = 0;
    for (size_t i = 0; i < r->n; i++)
        delivered += r->recs[i].state == REC_DELIVERED;
    st = delivered > 0 ? mark(r, delivered, err) : JC_OK;
    if (st == JC_OK)
        st = jc_pg_exec(r->pg, "commit", "commit", 0, NULL, NULL, NULL, err);
    else
        jc_pg_rollback(r->pg);
    settle(r, st == JC_OK);
    LOG(r, JC_LOG_INFO, "redrive_batch", "re-drove %zu of %zu rejects (up to %s [%d] @%lld)%s",
        st == JC_OK ? delivered : 0, r->n, r->last_topic, (int)r->last_partition,
        (long long)r->last_offset, st == JC_OK ? "" : "; the batch is not marked");
    return st;
}

/* ---- the run --------------------------------------------------------------------------- */

static jc_status_t check_config(const jc_redrive_config_t *c, jc_error_t *err)
{
    if (c->nstatuses == 0 || c->statuses == NULL)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "redrive: no status given (--status)");
    if (c->limit < 0)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "redrive: the limit may not be negative");
    if (c->since_ms != INT64_MIN && c->until_ms != INT64_MAX && c->since_ms >= c->until_ms)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "redrive: --since is not before --until");
    if (!c->dry_run && (c->bootstrap == NULL || *c->bootstrap == '\0'))
        return jc_error_set(err, JC_ERR_INVALID_ARG, "redrive: no Kafka bootstrap servers");
    return JC_OK;
}

static jc_status_t connect_pg(redrive_t *r, jc_error_t *err)
{
    r->pg = PQconnectdb(r->cfg->conninfo != NULL ? r->cfg->conninfo : "");
    if (PQstatus(r->pg) == CONNECTION_OK)
        return JC_OK;
    jc_error_set(err, JC_ERR_PG, "postgres: %s", PQerrorMessage(r->pg));
    jc_one_line(err->message);
    return JC_ERR_PG;
}

jc_status_t jc_redrive_run(const jc_redrive_config_t *cfg, jc_redrive_count_t *by_status,
                           jc_redrive_count_t *total, jc_error_t *err)
{
    memset(total, 0, sizeof *total);
    for (size_t i = 0; i < cfg->nstatuses; i++)
        memset(&by_status[i], 0, sizeof by_status[i]);
    jc_status_t st = check_config(cfg, err);
    if (st != JC_OK)
        return st;
    redrive_t r = {.logger = {cfg->log, cfg->log_opaque}, .cfg = cfg,
                   .by_status = by_status, .total = total};
    st = connect_pg(&r, err);
    if (st == JC_OK && !cfg->dry_run)
        st = new_producer(&r, err);
    for (bool more = true; st == JC_OK && more;) {
        int64_t left = cfg->limit > 0 ? cfg->limit - (int64_t)total->selected : JC_REDRIVE_BATCH;
        int64_t want = left < JC_REDRIVE_BATCH ? left : JC_REDRIVE_BATCH;
        st = want > 0 ? batch(&r, want, &more, err) : JC_OK;
        more = more && want > 0;
        free_batch(&r);
    }
    free(r.recs);
    if (r.rk != NULL)
        rd_kafka_destroy(r.rk);
    PQfinish(r.pg);
    return st;
}
