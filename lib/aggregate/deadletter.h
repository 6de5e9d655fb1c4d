/*
 * deadletter.h: the dead-letter copies of the aggregator's rejects. Once a batch has committed
 * (its rejects are in jiceng.rejects, the record of truth), aggregator.c hands each reject here;
 * its copy goes to the dead-letter topic with the record's key, value (null kept distinct from
 * empty) and headers, followed by jiceng.* headers saying where it came from, why it was
 * refused, and the length and SHA-256 (hex) of the record's key and value as consumed:
 *   jiceng.source.topic, jiceng.source.partition, jiceng.source.offset
 *   jiceng.status, jiceng.reason
 *   jiceng.key.length, jiceng.key.sha256, jiceng.value.length, jiceng.value.sha256
 *       (both null for a null key or value; a copy whose key or value is shorter than its
 *       length header was cut to fit the topic: the whole record is in jiceng.rejects)
 *   jiceng.headers.dropped   only when the record's own headers alone did not fit: how many
 *                            were left out of the copy
 * A reader takes the last header of each jiceng.* name (a record may carry such names itself).
 *
 * Every copy ends delivered or counted as failed, never silently lost; the counters are the
 * dead_letter* ones of jiceng/aggregator.h's stats, the log events dead_letter_retry,
 * dead_letter_cut and dead_letter_failed. All calls, and the log callback, run in the
 * aggregator's thread.
 */
#ifndef JC_DEADLETTER_H
#define JC_DEADLETTER_H

#include "batch.h"
#include "jiceng/aggregator.h"

typedef struct jc_deadletter jc_deadletter_t;

typedef struct jc_deadletter_config {
    const char *bootstrap;               /* Kafka bootstrap servers */
    const char *topic;                   /* the dead-letter topic, prefix included */
    const char *const *kafka_properties; /* the aggregator's; the producer takes those that
                                            are not for consumers only */
    jc_log_cb log;                       /* what happens; may be NULL */
    void *log_opaque;
    jc_aggregator_stats_t *stats;        /* the dead_letter* counters are kept here */
} jc_deadletter_config_t;

/* The dead-letter producer. NULL with err set if it cannot be made. */
jc_deadletter_t *jc_deadletter_new(const jc_deadletter_config_t *cfg, jc_error_t *err);

/* Produce r's copy. The copy takes r's key, value and headers (r is left without them; its
 * topic must outlive d). Never fails: a copy that cannot be produced is counted and logged. */
void jc_deadletter_send(jc_deadletter_t *d, jc_reject_t *r);

/* Serve delivery reports without blocking, and produce again the copies that are due. */
void jc_deadletter_poll(jc_deadletter_t *d);

/* Wait for every copy to be delivered or to fail, at most the producer's message.timeout.ms
 * and a margin; a copy still unsettled then is purged and counted as failed. */
void jc_deadletter_drain(jc_deadletter_t *d);

/* Close the producer and free what is left (NULL is fine). */
void jc_deadletter_free(jc_deadletter_t *d);

#endif
