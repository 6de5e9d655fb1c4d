/*
 * loader.h: the dedup-ledger loader: a thread with its own PostgreSQL connection that reads
 * newly assigned partitions' ledgers (jc_sink_load_ledger) while the aggregator's thread keeps
 * consuming its other partitions (see loader.c).
 */
#ifndef JC_LOADER_H
#define JC_LOADER_H

#include <stdint.h>

#include "dedup.h"
#include "jiceng/common.h"

typedef struct jc_loader jc_loader_t;

/* What jc_loader_take hands back: a finished load, or a note that a load is being retried. */
typedef struct jc_loaded {
    uint64_t ticket;      /* the request's */
    const char *topic;    /* the request's */
    int32_t partition;
    int retrying;         /* 1: err says why; the load goes on after retry_ms */
    int retry_ms;
    jc_status_t status;   /* JC_OK: seen holds the ledger; else err says why */
    jc_dedup_t seen;      /* the caller's on JC_OK (it must free it) */
    int64_t took_ms;      /* from the request to the end of the load */
    jc_error_t err;
} jc_loaded_t;

/* Start the thread; it connects (conninfo) when the first request arrives. */
jc_loader_t *jc_loader_start(const char *conninfo, int retention_days, jc_error_t *err);

/* Stop the thread (an unfinished load is abandoned) and free everything. NULL is fine. */
void jc_loader_stop(jc_loader_t *l);

/* Ask for (topic, partition)'s ledger; ticket names the request (unique, chosen by the caller).
 * topic must stay valid until the load is taken or cancelled. */
jc_status_t jc_loader_request(jc_loader_t *l, const char *topic, int32_t partition, uint64_t ticket);

/* Forget a request: dropped if queued, its result discarded if it is being loaded. */
void jc_loader_cancel(jc_loader_t *l, uint64_t ticket);

/* 1 and *out if a load finished (or a retry was noted) since the last call, else 0. */
int jc_loader_take(jc_loader_t *l, jc_loaded_t *out);

#endif
