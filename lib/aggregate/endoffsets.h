/*
 * endoffsets.h: the end-offset refresher of a running aggregator (endoffsets.c). Not installed.
 *
 * It keeps jiceng.end_offsets (schemas/sql/006_end_offsets.sql) up to date for the consumer
 * group: every interval it asks the broker for the start and end offsets of every partition of
 * the group's four event topics, whichever consumer holds them, and writes them with the time
 * it asked, so that the lag read from PostgreSQL alone (report_consumer_lag) moves while a
 * consumer of the group stalls, and ages when none runs. It works in a thread of its own, with
 * its own Kafka client and PostgreSQL connection, so it never holds up consumption; every
 * broker request is bounded by a timeout.
 *
 * It reports nothing from its thread: what went wrong waits for jc_endoffsets_report, which the
 * aggregator calls from its own thread (its housekeeping), so the log callback runs where the
 * aggregator's contract says it does.
 */
#ifndef JC_ENDOFFSETS_H
#define JC_ENDOFFSETS_H

#include "jiceng/aggregator.h"

/* Refresh every this many milliseconds when the configuration says 0. */
#define JC_END_OFFSETS_INTERVAL_MS 5000

typedef struct jc_endoffsets jc_endoffsets_t;

/* Create the client and start the thread for cfg's group, topics (cfg's prefix and the event
 * topics), brokers, Kafka properties and database; every cfg->end_offsets_interval_ms
 * (JC_END_OFFSETS_INTERVAL_MS if 0 or less). cfg's strings must outlive it. NULL with err set
 * if the client or the thread cannot be made. */
jc_endoffsets_t *jc_endoffsets_start(const jc_aggregator_config_t *cfg, jc_error_t *err);

/* From the aggregator's thread: log through cfg's log callback what changed since the last
 * call: end_offsets_failed (warn; again at most once a minute while it keeps failing),
 * end_offsets_recovered (info), end_offsets_refreshed (debug, the first time only). */
void jc_endoffsets_report(jc_endoffsets_t *r);

/* Stop the thread (waiting for a round under way, bounded by its timeouts) and free it. NULL
 * is fine. */
void jc_endoffsets_stop(jc_endoffsets_t *r);

#endif
