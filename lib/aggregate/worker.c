/*
 * worker.c: starting and stopping the aggregator's helper threads (worker.h). The stop flag is
 * raised under the lock and the condition broadcast, so a thread waiting for work sees it;
 * the owner's loop checks it between jobs (a job already running finishes first).
 */
#include "worker.h"

jc_status_t jc_worker_start(jc_worker_t *w, void *(*fn)(void *), void *arg, const char *what,
                            jc_error_t *err)
{
    w->started = w->stopping = false;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->wake, NULL);
    if (pthread_create(&w->thread, NULL, fn, arg) != 0)
        return jc_error_set(err, JC_ERR_NOMEM, "%s: cannot start a thread", what);
    w->started = true;
    return JC_OK;
}

void jc_worker_stop(jc_worker_t *w)
{
    pthread_mutex_lock(&w->lock);
    w->stopping = true;
    pthread_cond_broadcast(&w->wake);
    pthread_mutex_unlock(&w->lock);
    if (w->started)
        pthread_join(w->thread, NULL);
    w->started = false;
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
}

struct timespec jc_worker_deadline(int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}
