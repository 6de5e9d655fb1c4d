/*
 * batch.h: what one flush carries to PostgreSQL, shared by the consumer loop (aggregator.c)
 * and the SQL side (pgsink.c).
 */
#ifndef JC_BATCH_H
#define JC_BATCH_H

#include <stdbool.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "dedup.h"
#include "fold.h"
#include "jiceng/buf.h"
#include "ledger.h"

/* One assigned partition: what PostgreSQL holds for it, and what the open batch adds. */
typedef struct jc_part {
    const char *topic;
    jc_event_type_t type; /* the type of event the topic carries */
    int32_t partition;
    int64_t stored;       /* next_offset stored in PostgreSQL; -1 if it has no row yet */
    int64_t next;         /* batch: offset after the last message it consumed */
    int64_t first;        /* batch: offset of its first message */
    int64_t high_watermark;
    int64_t newest_ms;    /* batch: newest occurred_at applied (0 if none) */
    int in_batch;         /* the open batch has consumed from it */
    int eof;              /* reached the end of the partition (nothing consumed since) */
    int loading;          /* paused while the loader reads its ledger (loader.h) */
    uint64_t ticket;      /* loading: the loader's request */
    uint64_t batches_at;  /* loading: batches committed when it was asked for */
    jc_dedup_t seen;      /* ids applied by committed batches, within the dedup window, with
                             the record of each one's version in force (ledger.h) */
    jc_dedup_t pending;   /* ids the open batch applies or replaces (these records win) */
    jc_buf_t ledger;      /* the open batch's ids and records, as format 2 entries (ledger.h) */
} jc_part_t;

/* A rejected message, kept until its batch commits: everything needed to write it to
 * jiceng.rejects and the dead-letter topic exactly as it was consumed. */
typedef struct jc_reject {
    const char *topic;
    int32_t partition;
    int64_t offset;
    jc_buf_t key, payload;
    bool key_null, payload_null; /* the record's key / value was null (not empty) */
    rd_kafka_headers_t *headers; /* a copy of the record's headers; NULL if it had none */
    jc_status_t status;
    char reason[512];
    int32_t schema_id;    /* -1 if unknown */
    char event_id[JC_UUID_LEN + 1];
} jc_reject_t;

typedef struct jc_batch {
    const char *group_id;
    jc_part_t **parts;    /* the partitions in the batch (in_batch) */
    size_t nparts;
    jc_fold_t *fold;
    jc_reject_t *rejects;
    size_t nrejects;
} jc_batch_t;

#endif
