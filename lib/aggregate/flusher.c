/*
 * flusher.c: the flush thread (flusher.h).
 *
 * Why a thread: a flush is one PostgreSQL transaction of a handful of statements (pgsink.c);
 * while it runs, the aggregator's thread used to wait, idle, about a third of a replay's wall
 * time. Now it hands the closed batch over and consumes the next one meanwhile; it hands over
 * the next batch only once this one's result is taken, so batches commit one at a time, in
 * order, and each one's offset compare-and-set starts from where the previous one ended.
 *
 * How: one thread, one connection of its own, one slot (the batch to write, then its result)
 * under one lock. The thread waits for a batch, writes it without the lock (jc_sink_flush),
 * files the result and signals. It neither retries nor logs: the aggregator decides what a
 * failure means (retry with backoff, drop on fencing) and logs from its own thread. After a
 * failure whose connection is broken, the connection is closed and opened again for the next
 * batch.
 */
#include "flusher.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "jiceng/jtime.h"
#include "pgsink.h"
#include "worker.h"

struct jc_flusher {
    char *conninfo;
    PGconn *pg; /* the thread's only */
    jc_worker_t w;
    pthread_cond_t done; /* signalled when a result is filed */
    /* under w.lock */
    bool busy, has_result;
    jc_batch_t batch;
    jc_status_t status;
    int64_t commit_ms;
    jc_error_t err;
};

static jc_status_t write_batch(jc_flusher_t *f, const jc_batch_t *b, jc_error_t *err)
{
    if (f->pg == NULL || PQstatus(f->pg) != CONNECTION_OK) {
        PQfinish(f->pg);
        f->pg = PQconnectdb(f->conninfo);
        if (PQstatus(f->pg) != CONNECTION_OK)
            return jc_error_set(err, JC_ERR_PG, "postgres (flush): connect: %s", PQerrorMessage(f->pg));
    }
    jc_status_t st = jc_sink_flush(f->pg, b, err);
    if (st != JC_OK && PQstatus(f->pg) != CONNECTION_OK) {
        PQfinish(f->pg);
        f->pg = NULL;
    }
    return st;
}

static void *run(void *arg)
{
    jc_flusher_t *f = arg;
    pthread_mutex_lock(&f->w.lock);
    while (!f->w.stopping) {
        if (!f->busy || f->has_result) {
            pthread_cond_wait(&f->w.wake, &f->w.lock);
            continue;
        }
        jc_batch_t b = f->batch;
        jc_error_t err;
        memset(&err, 0, sizeof err);
        pthread_mutex_unlock(&f->w.lock);
        jc_status_t st = write_batch(f, &b, &err);
        int64_t at = jc_now_ms();
        pthread_mutex_lock(&f->w.lock);
        f->status = st;
        f->commit_ms = at;
        f->err = err;
        f->has_result = true;
        pthread_cond_broadcast(&f->done);
    }
    pthread_mutex_unlock(&f->w.lock);
    return NULL;
}

jc_flusher_t *jc_flusher_start(const char *conninfo, jc_error_t *err)
{
    jc_flusher_t *f = calloc(1, sizeof *f);
    if (f == NULL || (f->conninfo = strdup(conninfo ? conninfo : "")) == NULL) {
        free(f);
        jc_error_set(err, JC_ERR_NOMEM, "out of memory");
        return NULL;
    }
    pthread_cond_init(&f->done, NULL);
    if (jc_worker_start(&f->w, run, f, "flush", err) != JC_OK) {
        jc_flusher_stop(f);
        return NULL;
    }
    return f;
}

void jc_flusher_stop(jc_flusher_t *f)
{
    if (f == NULL)
        return;
    jc_worker_stop(&f->w);
    PQfinish(f->pg);
    pthread_cond_destroy(&f->done);
    free(f->conninfo);
    free(f);
}

void jc_flusher_submit(jc_flusher_t *f, const jc_batch_t *b)
{
    pthread_mutex_lock(&f->w.lock);
    f->batch = *b;
    f->busy = true;
    f->has_result = false;
    pthread_cond_broadcast(&f->w.wake);
    pthread_mutex_unlock(&f->w.lock);
}

int jc_flusher_result(jc_flusher_t *f, int timeout_ms, jc_status_t *st, int64_t *commit_ms,
                      jc_error_t *err)
{
    struct timespec until = jc_worker_deadline(timeout_ms > 0 ? timeout_ms : 0);
    pthread_mutex_lock(&f->w.lock);
    while (timeout_ms > 0 && f->busy && !f->has_result)
        if (pthread_cond_timedwait(&f->done, &f->w.lock, &until) != 0)
            break;
    int got = f->busy && f->has_result;
    if (got) {
        *st = f->status;
        *commit_ms = f->commit_ms;
        *err = f->err;
        f->busy = f->has_result = false;
    }
    pthread_mutex_unlock(&f->w.lock);
    return got;
}
