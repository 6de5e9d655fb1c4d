/*
 * jiceng/metrics.h: the aggregator's counters (jiceng/aggregator.h) as Prometheus text
 * exposition (format 0.0.4), for jiceng-aggregate's /metrics endpoint.
 *
 * Every metric is described once, in one table in lib/metrics.c (name, help, type and which
 * field of the stats or of the process figures it shows); docs/operations.md ("Metrics and
 * health") lists them. Rendering allocates only while the output buffer grows, so a program
 * can render every stats interval into a reused buffer.
 */
#ifndef JICENG_METRICS_H
#define JICENG_METRICS_H

#include <stdint.h>

#include "jiceng/aggregator.h"
#include "jiceng/buf.h"
#include "jiceng/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The figures that are not the aggregator's: the process's and the program's. */
typedef struct jc_metrics_process {
    double resident_bytes;     /**< resident set size */
    double cpu_seconds;        /**< user + system CPU time */
    double start_time_seconds; /**< process start, UTC epoch seconds */
    int64_t cert_not_after_ms; /**< the client certificate's not-after (UTC epoch ms); 0: none */
    const char *version;       /**< build version (jc_version() if NULL) */
} jc_metrics_process_t;

/** Fill p from /proc/self (stat, statm) and sysconf; cert_not_after_ms and version are left
 *  as they are. JC_ERR_IO if /proc cannot be read (p then keeps what it had). */
JC_API jc_status_t jc_metrics_process_read(jc_metrics_process_t *p, jc_error_t *err);

/** The not-after time (UTC epoch ms) of the first certificate in the PEM file path.
 *  JC_ERR_IO (unreadable) or JC_ERR_PARSE (no certificate in it). */
JC_API jc_status_t jc_metrics_cert_not_after(const char *path, int64_t *not_after_ms,
                                             jc_error_t *err);

/** Append the exposition of s and p (ages computed at now_ms, UTC epoch ms) to out.
 *  JC_ERR_NOMEM if out cannot grow. */
JC_API jc_status_t jc_metrics_render(const jc_aggregator_stats_t *s, const jc_metrics_process_t *p,
                                     int64_t now_ms, jc_buf_t *out);

#ifdef __cplusplus
}
#endif
#endif
