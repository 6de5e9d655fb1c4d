/*
 * worker.h: the shape the aggregator's helper threads share (loader.c, flusher.c): a thread, a
 * lock, a condition that wakes it and a stop flag, started and stopped the same way.
 */
#ifndef JC_WORKER_H
#define JC_WORKER_H

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include "jiceng/common.h"

typedef struct jc_worker {
    pthread_t thread;
    bool started;
    bool stopping;         /* under lock: the thread is to end */
    pthread_mutex_t lock;  /* guards stopping and whatever the owner says */
    pthread_cond_t wake;   /* signalled when there is work, or on stop */
} jc_worker_t;

/* Initialise w's lock and condition and run fn(arg) on a new thread. On failure, JC_ERR_NOMEM
 * with err naming what (w is still fit for jc_worker_stop). */
jc_status_t jc_worker_start(jc_worker_t *w, void *(*fn)(void *), void *arg, const char *what,
                            jc_error_t *err);

/* Raise the stop flag, wake the thread and wait for it to end; destroy the lock and
 * condition. */
void jc_worker_stop(jc_worker_t *w);

/* The realtime clock ms from now, as pthread_cond_timedwait wants its deadline. */
struct timespec jc_worker_deadline(int ms);

#endif
