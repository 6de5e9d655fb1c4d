/*
 * notify.c: systemd notifications from jiceng-aggregate (see notify.h for what is sent when).
 *
 * jc_sd_attach saves the configuration's on_stats and log callbacks and puts its own in their
 * place; each of ours calls the saved one first, then sends one datagram through libsystemd's
 * sd_notify (several newline-separated assignments at once: "WATCHDOG=1\nSTATUS=..."). Both run
 * in the aggregator's thread, so the state needs no lock. The watchdog timeout comes from
 * sd_watchdog_enabled ($WATCHDOG_USEC, for this process only).
 */
#include "notify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-daemon.h>

/* The library's stats interval when the configuration leaves it 0 (jiceng/aggregator.h). */
enum { LIBRARY_STATS_INTERVAL_MS = 1000 };

static void send_state(jc_sd_notify_t *n, const char *state)
{
    int r = sd_notify(0, state);
    if (r >= 0 || n->failed)
        return;
    n->failed = true;
    if (n->log != NULL) {
        char msg[160];
        snprintf(msg, sizeof msg, "sd_notify failed (%s); systemd is not told about this "
                 "instance's state (said once)", strerror(-r));
        n->log(n->log_opaque, JC_LOG_WARN, "sd_notify_failed", msg);
    }
}

/* STOPPING=1 once, as soon as the stop flag is seen; true if the program is stopping. */
static bool note_stopping(jc_sd_notify_t *n)
{
    if (n->stopping)
        return true;
    if (n->stop == NULL || !*n->stop)
        return false;
    jc_sd_stopping(n);
    return true;
}

static void on_stats(void *opaque, const jc_aggregator_stats_t *s)
{
    jc_sd_notify_t *n = opaque;
    if (n->stats != NULL)
        n->stats(n->stats_opaque, s);
    if (note_stopping(n))
        return;
    char state[256];
    snprintf(state, sizeof state, "%sWATCHDOG=1\nSTATUS=partitions %llu, consumed %llu, applied "
             "%llu, duplicates %llu, rejected %llu, batches %llu",
             n->ready ? "" : "READY=1\n", (unsigned long long)s->partitions,
             (unsigned long long)s->consumed, (unsigned long long)s->applied,
             (unsigned long long)s->duplicates, (unsigned long long)s->rejected,
             (unsigned long long)s->batches);
    n->ready = true;
    send_state(n, state);
}

static void on_log(void *opaque, jc_log_level_t level, const char *event, const char *message)
{
    jc_sd_notify_t *n = opaque;
    if (n->log != NULL)
        n->log(n->log_opaque, level, event, message);
    if (note_stopping(n)) /* e.g. the revocation while leaving the group */
        return;
    if (strcmp(event, "pg_retry") == 0)
        send_state(n, "WATCHDOG=1\nSTATUS=waiting for PostgreSQL (pg_retry in the log)");
}

/* A quarter of the watchdog timeout, if that is shorter than the interval c would use. */
static void bound_stats_interval(const jc_sd_notify_t *n, jc_aggregator_config_t *c)
{
    if (n->watchdog_usec == 0)
        return;
    uint64_t quarter_ms = n->watchdog_usec / 4000;
    int interval = c->stats_interval_ms > 0 ? c->stats_interval_ms : LIBRARY_STATS_INTERVAL_MS;
    if (quarter_ms < (uint64_t)interval)
        c->stats_interval_ms = quarter_ms > 0 ? (int)quarter_ms : 1;
}

void jc_sd_attach(jc_sd_notify_t *n, jc_aggregator_config_t *c, volatile sig_atomic_t *stop)
{
    memset(n, 0, sizeof *n);
    const char *socket = getenv("NOTIFY_SOCKET");
    if (socket == NULL || *socket == '\0')
        return;
    n->active = true;
    n->stop = stop;
    n->stats = c->on_stats;
    n->stats_opaque = c->stats_opaque;
    n->log = c->log;
    n->log_opaque = c->log_opaque;
    if (sd_watchdog_enabled(0, &n->watchdog_usec) <= 0)
        n->watchdog_usec = 0;
    bound_stats_interval(n, c);
    c->on_stats = on_stats;
    c->stats_opaque = n;
    c->log = on_log;
    c->log_opaque = n;
    send_state(n, "STATUS=starting: connecting to PostgreSQL and Kafka");
}

void jc_sd_stopping(jc_sd_notify_t *n)
{
    if (!n->active || n->stopping)
        return;
    n->stopping = true;
    send_state(n, "STOPPING=1\nSTATUS=stopping: flushing, leaving the group");
}
