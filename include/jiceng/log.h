/*
 * jiceng/log.h: how the library reports what happens while it runs (retries, dropped batches,
 * Kafka errors), since it never prints.
 *
 * A long-running part of the library (the aggregator, jiceng/aggregator.h) takes a jc_log_cb
 * and an opaque pointer in its configuration and calls it once per occurrence with a level,
 * an event key and a message. The event key is short, stable and machine-readable
 * ("pg_retry", "batch_dropped", ...: each component lists the keys it uses), so that a program
 * can count events or write structured log lines without parsing messages; the message is one
 * line of text for people, without a trailing newline. What to show, and where, is the
 * program's choice; without a callback nothing is reported.
 */
#ifndef JICENG_LOG_H
#define JICENG_LOG_H

#include "jiceng/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** How much an occurrence matters, least first. */
typedef enum jc_log_level {
    JC_LOG_DEBUG, /**< detail for whoever investigates (e.g. partitions assigned) */
    JC_LOG_INFO,  /**< a normal but notable step (e.g. migrations applied) */
    JC_LOG_WARN,  /**< something went wrong and is being handled (e.g. a retry) */
    JC_LOG_ERROR, /**< something went wrong and was not fully handled (e.g. a copy not sent) */
} jc_log_level_t;

/** Called once per occurrence. event is a short stable key, message one line of text; both
 *  are valid during the call only. Each component says from which threads it calls. */
typedef void (*jc_log_cb)(void *opaque, jc_log_level_t level, const char *event,
                          const char *message);

/** The level's lower-case name: "debug", "info", "warn" or "error" ("?" for anything else). */
JC_API const char *jc_log_level_name(jc_log_level_t level);

#ifdef __cplusplus
}
#endif
#endif
