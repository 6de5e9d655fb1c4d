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

/* A partition's share of one batch. Each partition has two (jc_part_t.half): the open batch
 * fills one while the flush thread writes the other (aggregator.c, "Overlapped flush"). */
typedef struct jc_slice {
    int in_batch;         /* the batch has consumed from the partition */
    int64_t from;         /* the stored offset the batch's compare-and-set expects: where the
                             previous batch ended; -1 if the partition has no row yet */
    int64_t first;        /* offset of the batch's first message of the partition */
    int64_t next;         /* offset after the last message it consumed */
    int64_t high_watermark;
    int64_t newest_ms;    /* newest occurred_at applied (0 if none) */
    jc_dedup_t pending;   /* ids the batch applies or replaces (these records win) */
    jc_buf_t ledger;      /* the batch's ids and records, as format 2 entries (ledger.h) */
} jc_slice_t;

/* One assigned partition: what PostgreSQL holds for it, and its shares of the two batches. */
typedef struct jc_part {
    const char *topic;
    jc_event_type_t type; /* the type of event the topic carries */
    int32_t partition;
    int64_t stored;       /* next_offset stored in PostgreSQL; -1 if it has no row yet */
    int eof;              /* reached the end of the partition (nothing consumed since) */
    int loading;          /* paused while the loader reads its ledger (loader.h) */
    uint64_t ticket;      /* loading: the loader's request */
    uint64_t batches_at;  /* loading: batches committed when it was asked for */
    jc_dedup_t seen;      /* ids applied by committed batches, within the dedup window, with
                             the record of each one's version in force (ledger.h) */
    jc_slice_t half[2];   /* its shares of the open batch and of the batch being flushed */
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
    jc_part_t **parts;    /* the partitions in the batch */
    size_t nparts;
    int half;             /* which of each partition's slices is this batch's */
    jc_fold_t *fold;
    jc_reject_t *rejects;
    size_t nrejects;
} jc_batch_t;

#endif
