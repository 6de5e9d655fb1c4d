/*
 * loader.c: the dedup-ledger loader (loader.h).
 *
 * Why a thread: reading a partition's ledger (a million ids take about a second) used to happen
 * inside the rebalance callback, which stops the whole consumer. Now the callback only reads the
 * new partitions' stored offsets, assigns them paused and asks this thread for their ledgers;
 * the aggregator's loop takes the finished sets between polls and resumes those partitions.
 *
 * How: one thread, one PostgreSQL connection of its own (opened at the first request, reopened
 * after an error), a queue of requests and a list of results, both under one lock. The thread
 * takes the oldest request, loads its ledger into a set of its own (jc_sink_load_ledger, without
 * the lock), and files the set as a result, unless the request was cancelled meanwhile (then
 * the set is freed). A PostgreSQL error is retried with the aggregator's backoff (0.2 s doubling
 * to 10 s), each retry filed as a note the aggregator logs (the library logs from its own thread
 * only). Nothing the thread touches is shared with the aggregator outside the lock: the set
 * changes hands only through the result list.
 */
#include "loader.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "jiceng/jtime.h"
#include "../internal.h"
#include "pgsink.h"
#include "worker.h"

typedef struct request {
    const char *topic;
    int32_t partition;
    uint64_t ticket;
    int64_t asked_ms; /* monotonic */
} request_t;

struct jc_loader {
    char *conninfo;
    int retention_days;
    PGconn *pg; /* the thread's only */
    jc_worker_t w;
    /* under w.lock */
    request_t *queue;
    size_t nqueue, cap_queue;
    uint64_t current;       /* the ticket being loaded, 0 if none */
    bool current_cancelled;
    jc_loaded_t *done;
    size_t ndone, cap_done;
};

/* File a result (under lock). A result that cannot be filed (no memory) is lost: its set is
 * freed, and the partition stays paused until it is revoked. */
static void file_result(jc_loader_t *l, jc_loaded_t *r)
{
    if (jc_grow((void **)&l->done, &l->cap_done, l->ndone, sizeof *l->done, 16) != JC_OK) {
        jc_dedup_free(&r->seen);
        return;
    }
    l->done[l->ndone++] = *r;
}

static int backoff_ms(int attempt)
{
    int ms = 200;
    for (int i = 1; i < attempt && ms < 10000; i++)
        ms *= 2;
    return ms > 10000 ? 10000 : ms;
}

/* Wait ms, or until stopped or the current request is cancelled (under lock). */
static void wait_ms(jc_loader_t *l, int ms)
{
    struct timespec ts = jc_worker_deadline(ms);
    while (!l->w.stopping && !l->current_cancelled)
        if (pthread_cond_timedwait(&l->w.wake, &l->w.lock, &ts) != 0)
            break;
}

static jc_status_t load_once(jc_loader_t *l, const request_t *q, jc_dedup_t *seen, jc_error_t *err)
{
    if (l->pg == NULL || PQstatus(l->pg) != CONNECTION_OK) {
        PQfinish(l->pg);
        l->pg = PQconnectdb(l->conninfo);
        if (PQstatus(l->pg) != CONNECTION_OK)
            return jc_error_set(err, JC_ERR_PG, "postgres (ledger loader): connect: %s",
                                PQerrorMessage(l->pg));
    }
    return jc_sink_load_ledger(l->pg, q->topic, q->partition, l->retention_days, seen, err);
}

/* Load q's ledger, retrying PostgreSQL errors; called and returns under lock. */
static void load(jc_loader_t *l, const request_t *q)
{
    jc_loaded_t r;
    memset(&r, 0, sizeof r);
    r.ticket = q->ticket;
    r.topic = q->topic;
    r.partition = q->partition;
    for (int attempt = 1;; attempt++) {
        pthread_mutex_unlock(&l->w.lock);
        jc_dedup_init(&r.seen);
        r.status = load_once(l, q, &r.seen, &r.err);
        if (r.status != JC_OK)
            jc_dedup_free(&r.seen);
        if (r.status == JC_ERR_PG) {
            PQfinish(l->pg);
            l->pg = NULL;
        }
        pthread_mutex_lock(&l->w.lock);
        if (l->w.stopping || l->current_cancelled) {
            jc_dedup_free(&r.seen);
            return;
        }
        if (r.status != JC_ERR_PG)
            break;
        jc_loaded_t note = r;
        note.retrying = 1;
        note.retry_ms = backoff_ms(attempt);
        file_result(l, &note);
        wait_ms(l, note.retry_ms);
        if (l->w.stopping || l->current_cancelled)
            return;
    }
    r.took_ms = jc_mono_ms() - q->asked_ms;
    file_result(l, &r);
}

static void *run(void *arg)
{
    jc_loader_t *l = arg;
    pthread_mutex_lock(&l->w.lock);
    while (!l->w.stopping) {
        if (l->nqueue == 0) {
            pthread_cond_wait(&l->w.wake, &l->w.lock);
            continue;
        }
        request_t q = l->queue[0];
        memmove(l->queue, l->queue + 1, --l->nqueue * sizeof *l->queue);
        l->current = q.ticket;
        l->current_cancelled = false;
        load(l, &q);
        l->current = 0;
    }
    pthread_mutex_unlock(&l->w.lock);
    return NULL;
}

jc_loader_t *jc_loader_start(const char *conninfo, int retention_days, jc_error_t *err)
{
    jc_loader_t *l = calloc(1, sizeof *l);
    if (l == NULL || (l->conninfo = strdup(conninfo ? conninfo : "")) == NULL) {
        free(l);
        jc_error_set(err, JC_ERR_NOMEM, "out of memory");
        return NULL;
    }
    l->retention_days = retention_days;
    if (jc_worker_start(&l->w, run, l, "ledger loader", err) != JC_OK) {
        jc_loader_stop(l);
        return NULL;
    }
    return l;
}

void jc_loader_stop(jc_loader_t *l)
{
    if (l == NULL)
        return;
    jc_worker_stop(&l->w);
    for (size_t i = 0; i < l->ndone; i++)
        jc_dedup_free(&l->done[i].seen);
    free(l->done);
    free(l->queue);
    PQfinish(l->pg);
    free(l->conninfo);
    free(l);
}

jc_status_t jc_loader_request(jc_loader_t *l, const char *topic, int32_t partition, uint64_t ticket)
{
    pthread_mutex_lock(&l->w.lock);
    int ok = jc_grow((void **)&l->queue, &l->cap_queue, l->nqueue, sizeof *l->queue, 16) == JC_OK;
    if (ok) {
        l->queue[l->nqueue++] = (request_t){topic, partition, ticket, jc_mono_ms()};
        pthread_cond_broadcast(&l->w.wake);
    }
    pthread_mutex_unlock(&l->w.lock);
    return ok ? JC_OK : JC_ERR_NOMEM;
}

void jc_loader_cancel(jc_loader_t *l, uint64_t ticket)
{
    pthread_mutex_lock(&l->w.lock);
    for (size_t i = 0; i < l->nqueue; i++)
        if (l->queue[i].ticket == ticket) {
            memmove(l->queue + i, l->queue + i + 1, (l->nqueue - i - 1) * sizeof *l->queue);
            l->nqueue--;
            break;
        }
    if (l->current == ticket) {
        l->current_cancelled = true;
        pthread_cond_broadcast(&l->w.wake);
    }
    for (size_t i = 0; i < l->ndone;) /* filed, not yet taken */
        if (l->done[i].ticket == ticket) {
            jc_dedup_free(&l->done[i].seen);
            memmove(l->done + i, l->done + i + 1, (l->ndone - i - 1) * sizeof *l->done);
            l->ndone--;
        } else {
            i++;
        }
    pthread_mutex_unlock(&l->w.lock);
}

int jc_loader_take(jc_loader_t *l, jc_loaded_t *out)
{
    pthread_mutex_lock(&l->w.lock);
    int got = l->ndone > 0;
    if (got) {
        *out = l->done[0];
        memmove(l->done, l->done + 1, --l->ndone * sizeof *l->done);
    }
    pthread_mutex_unlock(&l->w.lock);
    return got;
}
