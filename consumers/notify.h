/*
 * notify.h: jiceng-aggregate's side of systemd's service notification protocol (sd_notify(3),
 * from libsystemd), for a Type=notify unit with WatchdogSec= (deploy/systemd/). Program-side
 * only: the library knows nothing of systemd; this wraps the callbacks of its configuration.
 *
 * What the service manager is told, and when:
 *   STATUS=starting ...   at jc_sd_attach (before the aggregator connects);
 *   READY=1               at the first stats call: PostgreSQL answered, the schema is current,
 *                         the consumer has subscribed and the loop runs. It may still wait for
 *                         partitions (an instance beyond the partition count never gets any and
 *                         is a healthy standby), so readiness does not wait for an assignment;
 *   WATCHDOG=1            at every stats call (the loop is alive) and at every PostgreSQL retry
 *                         (alive, waiting for the database, which the status line says);
 *   STATUS=...            the counters at every stats call;
 *   STOPPING=1            once: at the first callback (stats, or a log line such as the
 *                         revocation while leaving the group) after the stop flag is set, or
 *                         at jc_sd_stopping, whichever comes first.
 * The stats interval is lowered to a quarter of the watchdog timeout when it is longer, so that
 * a live loop pats the watchdog at least twice per timeout. Without $NOTIFY_SOCKET (not started
 * by systemd) jc_sd_attach changes nothing and nothing is ever sent.
 */
#ifndef JICENG_NOTIFY_H
#define JICENG_NOTIFY_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "jiceng/aggregator.h"

/** The wrapping's state; lives as long as the aggregator that uses it. */
typedef struct jc_sd_notify {
    bool active;                   /**< $NOTIFY_SOCKET was set: the callbacks are wrapped */
    bool ready, stopping, failed;  /**< READY=1 / STOPPING=1 sent; a send failed (said once) */
    uint64_t watchdog_usec;        /**< the manager's watchdog timeout; 0: none */
    volatile sig_atomic_t *stop;   /**< the program's stop flag */
    jc_aggregator_stats_cb stats;  /**< the callbacks that were there before, called first */
    void *stats_opaque;
    jc_log_cb log;
    void *log_opaque;
} jc_sd_notify_t;

/** If started by systemd ($NOTIFY_SOCKET), wrap c's on_stats and log callbacks (set them first)
 *  and bound its stats interval by the watchdog; send STATUS=starting. stop is the flag the
 *  program's signal handler sets. A failure to send is reported once through c's log callback
 *  (event "sd_notify_failed", warn) and does not stop the program. */
void jc_sd_attach(jc_sd_notify_t *n, jc_aggregator_config_t *c, volatile sig_atomic_t *stop);

/** Send STOPPING=1 if it has not been sent (after jc_aggregator_run returns). */
void jc_sd_stopping(jc_sd_notify_t *n);

#endif
