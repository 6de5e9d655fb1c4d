/*
 * endoffsets.c: the end-offset refresher (endoffsets.h).
 *
 * One thread per running aggregator. Each round, started every interval:
 *   1. one Metadata request for the group's four topics (the client knows only those: a topic
 *      handle is made for each at start, and the request asks for the locally known topics);
 *      a topic the broker does not have is left out (the consumer itself says so);
 *   2. two ListOffsets rounds for all their partitions at once (rd_kafka_offsets_for_times with
 *      the special timestamps -1, the end offset, and -2, the start offset: librdkafka sends one
 *      request per partition leader), each bounded by QUERY_TIMEOUT_MS; a partition with an
 *      error is left out and the round counts as failed;
 *   3. one upsert of all the partitions' offsets into jiceng.end_offsets, the observation time
 *      being the database's clock less the milliseconds since step 2 began (so the figure is
 *      never younger than it is); a row moves only forward in time, so two consumers of the
 *      group writing at once never set it back.
 * The client is a consumer without a group (it never subscribes and holds no partitions): the
 * aggregator's Kafka properties meant for consumers apply to it (jc_kafka_conf_apply_for). Its log lines
 * come from librdkafka's threads; the last warning or worse is kept to explain a failure.
 * The outcome of each round is kept under the lock for jc_endoffsets_report, called from the
 * aggregator's thread, which does all the logging.
 */
#include "endoffsets.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "../internal.h"
#include "../kafkautil.h"
#include "../logging.h"
#include "../pgexec.h"
#include "jiceng/jtime.h"

#define QUERY_TIMEOUT_MS 5000   /* each broker request of a round */
#define FAIL_REPEAT_MS 60000    /* between two end_offsets_failed lines of one failure */
#define NCOLS 4                 /* topic, partition, start offset, end offset */

/* end_offsets unqualified: the aggregator's generation's (search_path, jiceng/generation.h) */
static const char UPSERT_SQL[] =
    "insert into end_offsets as e "
    "(group_id, topic, partition, start_offset, end_offset, observed_at) "
    "select $1, u.t, u.p, u.s, u.e, clock_timestamp() - make_interval(secs => $6::float8 / 1000) "
    "from unnest($2::text[], $3::int[], $4::bigint[], $5::bigint[]) as u(t, p, s, e) "
    "on conflict (group_id, topic, partition) do update set start_offset = excluded.start_offset, "
    "end_offset = excluded.end_offset, observed_at = excluded.observed_at "
    "where excluded.observed_at > e.observed_at";

struct jc_endoffsets {
    jc_aggregator_config_t cfg;
    int interval_ms;
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt[JC_EVENT_TYPE_COUNT];
    PGconn *pg;
    jc_pgarray_t col[NCOLS];
    pthread_t thread;
    bool started;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    /* under lock */
    bool stopping;
    bool failing;        /* the last round failed */
    uint64_t refreshed;  /* rounds that stored every partition */
    size_t partitions;   /* how many the last good round stored */
    char problem[512];   /* why the last round failed */
    char kafka_said[256]; /* the client's last warning or worse */
    /* the aggregator's thread only (jc_endoffsets_report) */
    bool said_failing, said_refreshed;
    int64_t said_ms;
};

#define LOG(r, level, event, ...) \
    jc_logf((r)->cfg.log, (r)->cfg.log_opaque, level, event, __VA_ARGS__)

/* ---- the Kafka client -------------------------------------------------------------------- */

/* librdkafka's threads: keep the last warning or worse, to explain a failed round. */
static void kafka_log(const rd_kafka_t *rk, int severity, const char *facility, const char *line)
{
    jc_endoffsets_t *r = rd_kafka_opaque(rk);
    if (severity > 4) /* LOG_WARNING */
        return;
    pthread_mutex_lock(&r->lock);
    snprintf(r->kafka_said, sizeof r->kafka_said, "%s: %s", facility, line);
    pthread_mutex_unlock(&r->lock);
}

static jc_status_t new_client(jc_endoffsets_t *r, jc_error_t *err)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *const ours[] = {"bootstrap.servers", r->cfg.bootstrap,
                                "client.id", "jiceng-aggregate-end-offsets", NULL};
    jc_status_t st = jc_kafka_conf_apply(conf, ours, err);
    if (st == JC_OK)
        st = jc_kafka_conf_apply_for(conf, RD_KAFKA_CONSUMER, r->cfg.kafka_properties, err);
    if (st != JC_OK) {
        rd_kafka_conf_destroy(conf);
        return st;
    }
    rd_kafka_conf_set_opaque(conf, r);
    rd_kafka_conf_set_log_cb(conf, kafka_log);
    char errstr[512];
    if ((r->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr)) == NULL) {
        rd_kafka_conf_destroy(conf);
        return jc_error_set(err, JC_ERR_KAFKA, "end offsets: kafka client: %s", errstr);
    }
    for (int t = 0; t < JC_EVENT_TYPE_COUNT; t++) {
        char name[JC_TOPIC_NAME_MAX + 1];
        if ((st = jc_kafka_topic_name(r->cfg.topic_prefix, jc_event_topic((jc_event_type_t)t), name, err)) != JC_OK)
            return st;
        if ((r->rkt[t] = rd_kafka_topic_new(r->rk, name, NULL)) == NULL)
            return jc_error_set(err, JC_ERR_KAFKA, "end offsets: topic %s: %s", name,
                                rd_kafka_err2str(rd_kafka_last_error()));
    }
    return JC_OK;
}

/* ---- one round ---------------------------------------------------------------------------- */

/* Every partition of the topics the metadata names without error, sorted, offsets set to 0. */
static rd_kafka_topic_partition_list_t *partitions_of(const struct rd_kafka_metadata *md)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(64);
    for (int t = 0; t < md->topic_cnt; t++) {
        const rd_kafka_metadata_topic_t *mt = &md->topics[t];
        for (int p = 0; mt->err == RD_KAFKA_RESP_ERR_NO_ERROR && p < mt->partition_cnt; p++)
            rd_kafka_topic_partition_list_add(l, mt->topic, mt->partitions[p].id);
    }
    rd_kafka_topic_partition_list_sort(l, NULL, NULL);
    return l;
}

/* The partitions of the group's topics, from one Metadata request; NULL with err set. */
static rd_kafka_topic_partition_list_t *read_partitions(jc_endoffsets_t *r, jc_error_t *err)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(r->rk, 0, NULL, &md, QUERY_TIMEOUT_MS);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        jc_error_set(err, jc_kafka_status(e), "end offsets: metadata: %s", rd_kafka_err2str(e));
        return NULL;
    }
    rd_kafka_topic_partition_list_t *l = partitions_of(md);
    rd_kafka_metadata_destroy(md);
    return l;
}

/* Ask the leaders for each partition's offset at the special timestamp which (-1 end, -2
 * start): in l, whose offsets it replaces. */
static jc_status_t list_offsets(jc_endoffsets_t *r, rd_kafka_topic_partition_list_t *l,
                                int64_t which, jc_error_t *err)
{
    for (int i = 0; i < l->cnt; i++)
        l->elems[i].offset = which;
    rd_kafka_resp_err_t e = rd_kafka_offsets_for_times(r->rk, l, QUERY_TIMEOUT_MS);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
        return JC_OK;
    return jc_error_set(err, jc_kafka_status(e), "end offsets: list %s offsets: %s",
                        which == RD_KAFKA_OFFSET_END ? "end" : "start", rd_kafka_err2str(e));
}

/* Whether partition i has both offsets; the first one that has not is named in err. */
static bool usable(const rd_kafka_topic_partition_list_t *ends,
                   const rd_kafka_topic_partition_list_t *starts, int i, size_t *bad, jc_error_t *err)
{
    const rd_kafka_topic_partition_t *e = &ends->elems[i], *s = &starts->elems[i];
    rd_kafka_resp_err_t why = e->err != RD_KAFKA_RESP_ERR_NO_ERROR ? e->err : s->err;
    if (why == RD_KAFKA_RESP_ERR_NO_ERROR && e->offset >= 0 && s->offset >= 0)
        return true;
    if ((*bad)++ == 0)
        jc_error_set(err, JC_ERR_KAFKA, "end offsets: %s [%d]: %s", e->topic, (int)e->partition,
                     why != RD_KAFKA_RESP_ERR_NO_ERROR ? rd_kafka_err2str(why) : "no offset returned");
    return false;
}

static jc_status_t pg_ready(jc_endoffsets_t *r, jc_error_t *err)
{
    if (r->pg != NULL && PQstatus(r->pg) == CONNECTION_OK)
        return JC_OK;
    PQfinish(r->pg);
    r->pg = PQconnectdb(r->cfg.conninfo);
    if (PQstatus(r->pg) == CONNECTION_OK)
        return JC_OK;
    jc_error_set(err, JC_ERR_PG, "end offsets: postgres: connect: %s", PQerrorMessage(r->pg));
    PQfinish(r->pg);
    r->pg = NULL;
    return JC_ERR_PG;
}

/* Upsert the usable partitions, observed asked_ms (monotonic); *stored of them. A partition
 * without offsets fails the round (JC_ERR_KAFKA) after the others are stored. */
static jc_status_t store(jc_endoffsets_t *r, const rd_kafka_topic_partition_list_t *ends,
                         const rd_kafka_topic_partition_list_t *starts, int64_t asked_ms,
                         size_t *stored, jc_error_t *err)
{
    jc_error_t bad_err;
    size_t bad = 0;
    *stored = 0;
    for (int c = 0; c < NCOLS; c++)
        jc_pgarray_begin(&r->col[c]);
    for (int i = 0; i < ends->cnt; i++) {
        if (!usable(ends, starts, i, &bad, &bad_err))
            continue;
        jc_pgarray_text(&r->col[0], ends->elems[i].topic);
        jc_pgarray_int(&r->col[1], ends->elems[i].partition);
        jc_pgarray_int(&r->col[2], starts->elems[i].offset);
        jc_pgarray_int(&r->col[3], ends->elems[i].offset);
        (*stored)++;
    }
    const char *v[2 + NCOLS] = {r->cfg.group_id};
    bool failed = false;
    for (int c = 0; c < NCOLS; c++)
        failed |= (v[1 + c] = jc_pgarray_end(&r->col[c])) == NULL;
    if (failed)
        return jc_error_set(err, JC_ERR_NOMEM, "end offsets: out of memory building the arrays");
    char age[32];
    jc_status_t st = *stored > 0 ? pg_ready(r, err) : JC_OK;
    if (st == JC_OK && *stored > 0) {
        snprintf(age, sizeof age, "%lld", (long long)(jc_mono_ms() - asked_ms));
        v[1 + NCOLS] = age;
        st = jc_pg_exec(r->pg, "end offsets: writing end_offsets", UPSERT_SQL, 2 + NCOLS, v,
                        NULL, NULL, err);
    }
    if (st == JC_OK && bad > 0) {
        *err = bad_err;
        if (bad > 1)
            snprintf(err->message + strlen(err->message), sizeof err->message - strlen(err->message),
                     " (and %zu more partitions)", bad - 1);
        st = JC_ERR_KAFKA;
    }
    return st;
}

/* One round: the partitions, their offsets, stored; *stored partitions written. */
static jc_status_t refresh_once(jc_endoffsets_t *r, size_t *stored, jc_error_t *err)
{
    *stored = 0;
    rd_kafka_poll(r->rk, 0);
    rd_kafka_topic_partition_list_t *ends = read_partitions(r, err);
    if (ends == NULL)
        return err->code;
    if (ends->cnt == 0) { /* no topic yet: nothing to observe */
        rd_kafka_topic_partition_list_destroy(ends);
        return JC_OK;
    }
    rd_kafka_topic_partition_list_t *starts = rd_kafka_topic_partition_list_copy(ends);
    int64_t asked = jc_mono_ms();
    jc_status_t st = list_offsets(r, ends, RD_KAFKA_OFFSET_END, err);
    if (st == JC_OK)
        st = list_offsets(r, starts, RD_KAFKA_OFFSET_BEGINNING, err);
    if (st == JC_OK)
        st = store(r, ends, starts, asked, stored, err);
    if (st == JC_ERR_PG && r->pg != NULL && PQstatus(r->pg) != CONNECTION_OK) {
        PQfinish(r->pg); /* reconnect next round */
        r->pg = NULL;
    }
    rd_kafka_topic_partition_list_destroy(starts);
    rd_kafka_topic_partition_list_destroy(ends);
    return st;
}

/* ---- the thread ------------------------------------------------------------------------- */

/* Under the lock: what the round came to, for jc_endoffsets_report. */
static void note_round(jc_endoffsets_t *r, jc_status_t st, size_t stored, const jc_error_t *err)
{
    r->failing = st != JC_OK;
    if (st == JC_OK) {
        r->refreshed++;
        r->partitions = stored;
    } else if (r->kafka_said[0] != '\0' && st != JC_ERR_PG) {
        snprintf(r->problem, sizeof r->problem, "%.290s (kafka said: %.200s)", err->message, r->kafka_said);
    } else {
        snprintf(r->problem, sizeof r->problem, "%s", err->message);
    }
    r->kafka_said[0] = '\0';
}

/* Under the lock: wait until deadline_ms (monotonic) or until told to stop. */
static void wait_until(jc_endoffsets_t *r, int64_t deadline_ms)
{
    struct timespec ts;
    ts.tv_sec = (time_t)(deadline_ms / 1000);
    ts.tv_nsec = (long)(deadline_ms % 1000) * 1000000L;
    while (!r->stopping && jc_mono_ms() < deadline_ms)
        pthread_cond_timedwait(&r->wake, &r->lock, &ts);
}

static void *refresher(void *arg)
{
    jc_endoffsets_t *r = arg;
    pthread_mutex_lock(&r->lock);
    while (!r->stopping) {
        int64_t began = jc_mono_ms();
        pthread_mutex_unlock(&r->lock);
        jc_error_t err = {0};
        size_t stored = 0;
        jc_status_t st = refresh_once(r, &stored, &err);
        pthread_mutex_lock(&r->lock);
        note_round(r, st, stored, &err);
        wait_until(r, began + r->interval_ms);
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

/* The lock, and a condition variable timed on the monotonic clock (jc_mono_ms's). */
static int init_sync(jc_endoffsets_t *r)
{
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0)
        return -1;
    int rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (rc == 0)
        rc = pthread_cond_init(&r->wake, &ca);
    pthread_condattr_destroy(&ca);
    if (rc == 0 && (rc = pthread_mutex_init(&r->lock, NULL)) != 0)
        pthread_cond_destroy(&r->wake);
    return rc;
}

/* Start the thread with every signal blocked, so that signals go to the program's threads. */
static int start_thread(jc_endoffsets_t *r)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&r->thread, NULL, refresher, r);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    r->started = rc == 0;
    return rc;
}

jc_endoffsets_t *jc_endoffsets_start(const jc_aggregator_config_t *cfg, jc_error_t *err)
{
    jc_endoffsets_t *r = calloc(1, sizeof *r);
    if (r == NULL) {
        jc_error_set(err, JC_ERR_NOMEM, "end offsets: out of memory");
        return NULL;
    }
    r->cfg = *cfg;
    r->interval_ms = cfg->end_offsets_interval_ms > 0 ? cfg->end_offsets_interval_ms
                                                       : JC_END_OFFSETS_INTERVAL_MS;
    if (init_sync(r) != 0) {
        free(r);
        jc_error_set(err, JC_ERR_NOMEM, "end offsets: cannot make a lock");
        return NULL;
    }
    if (new_client(r, err) != JC_OK) {
        jc_endoffsets_stop(r);
        return NULL;
    }
    if (start_thread(r) != 0) {
        jc_endoffsets_stop(r);
        jc_error_set(err, JC_ERR_NOMEM, "end offsets: cannot start the refresher thread");
        return NULL;
    }
    return r;
}

void jc_endoffsets_report(jc_endoffsets_t *r)
{
    if (r == NULL)
        return;
    int64_t now = jc_mono_ms();
    pthread_mutex_lock(&r->lock);
    if (r->failing && (!r->said_failing || now - r->said_ms >= FAIL_REPEAT_MS)) {
        LOG(r, JC_LOG_WARN, "end_offsets_failed", "%s; the lag figure in PostgreSQL is not "
            "refreshed (retrying every %d ms)", r->problem, r->interval_ms);
        r->said_failing = true;
        r->said_ms = now;
    } else if (!r->failing && r->said_failing && r->refreshed > 0) {
        LOG(r, JC_LOG_INFO, "end_offsets_recovered", "end offsets refreshed again (%zu partitions)",
            r->partitions);
        r->said_failing = false;
    }
    if (!r->said_refreshed && r->refreshed > 0) {
        LOG(r, JC_LOG_DEBUG, "end_offsets_refreshed", "end offsets of %zu partitions refreshed "
            "in PostgreSQL every %d ms", r->partitions, r->interval_ms);
        r->said_refreshed = true;
    }
    pthread_mutex_unlock(&r->lock);
}

void jc_endoffsets_stop(jc_endoffsets_t *r)
{
    if (r == NULL)
        return;
    if (r->started) {
        pthread_mutex_lock(&r->lock);
        r->stopping = true;
        pthread_cond_signal(&r->wake);
        pthread_mutex_unlock(&r->lock);
        pthread_join(r->thread, NULL);
    }
    for (int t = 0; t < JC_EVENT_TYPE_COUNT; t++)
        if (r->rkt[t] != NULL)
            rd_kafka_topic_destroy(r->rkt[t]);
    if (r->rk != NULL)
        rd_kafka_destroy(r->rk);
    for (int c = 0; c < NCOLS; c++)
        jc_pgarray_free(&r->col[c]);
    PQfinish(r->pg);
    pthread_cond_destroy(&r->wake);
    pthread_mutex_destroy(&r->lock);
    free(r);
}
