/*
 * jiceng/lag.h: how far behind the topics each consumer group is, read from PostgreSQL alone
 * (no Kafka access needed: the report role may read it), for `jiceng-aggregate status`.
 *
 * The figures come from the view jiceng.report_consumer_lag (schemas/sql/006_end_offsets.sql,
 * 007_status.sql): per consumer group, topic and partition, the group's next offset, the
 * partition's end offset as a running consumer of the group last observed it (every consumer
 * refreshes those of all the group's partitions on a timer), when that was and its age, lag =
 * end - next, the newest event the group applied from the partition (its occurred_at) and how
 * long ago the group last committed the partition. With no consumer of a group running,
 * nothing refreshes its figures and their age grows: an old age says the lag may be larger
 * than shown. Ages are computed by PostgreSQL (its clock, at the query's start).
 *
 * Staleness (`status --stale SECONDS`, a monitoring check): a partition is stale when it has
 * lag and the group has not committed it for longer than the limit, or never has: messages
 * wait and nobody applies them. A partition without lag is never stale, however long ago its
 * last commit (an idle topic is healthy).
 */
#ifndef JICENG_LAG_H
#define JICENG_LAG_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "jiceng/buf.h"
#include "jiceng/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** One partition of one consumer group. */
typedef struct jc_lag_row {
    char group_id[256];
    char topic[256];
    int32_t partition;
    int64_t next_offset; /**< the next offset the group applies; -1: it has consumed none */
    int64_t end_offset;  /**< the offset the next message appended will get */
    int64_t lag;         /**< end_offset - next_offset (from the start offset if -1), >= 0 */
    int64_t age_ms;      /**< how long ago end_offset was observed, at the query's start */
    int64_t observed_ms; /**< when end_offset was observed (UTC epoch ms); -1: unknown */
    int64_t newest_event_ms; /**< the newest applied event's occurred_at (UTC epoch ms); -1:
                                  none applied */
    int64_t commit_age_ms;   /**< how long ago the group last committed this partition; -1:
                                  never */
} jc_lag_row_t;

/** Read every group's partitions from jiceng.report_consumer_lag, ordered by group, topic and
 *  partition, into *rows (malloc'ed, free() it; *n of them). */
JC_API jc_status_t jc_lag_read(PGconn *conn, jc_lag_row_t **rows, size_t *n, jc_error_t *err);

/** Append rows as a text table (a header; one line per partition: next offset, end offset,
 *  lag, the age of the end offset, the age of the last commit, the newest event in Asia/Shanghai
 *  time; each group closed by a line with its total lag, the age of its oldest figure, its
 *  latest commit and newest event) to out; "no consumer group has ..." if there are none.
 *  JC_ERR_NOMEM if out cannot grow. */
JC_API jc_status_t jc_lag_table(const jc_lag_row_t *rows, size_t n, jc_buf_t *out);

/** Append rows as one JSON object and a newline to out:
 *    {"groups":[{"group","partitions","lag","end_offset_age_ms" (the oldest), "last_commit_age_ms"
 *      (the latest; null: never), "stale_partitions" (with a limit only)}],
 *     "partitions":[{"group","topic","partition","next_offset" (null: none consumed),
 *      "end_offset","end_offset_observed_at" (RFC 3339 UTC, ms),"end_offset_age_ms","lag",
 *      "newest_event_at","last_commit_age_ms", "stale" (with a limit only)}],
 *     "stale_seconds" (with a limit only)}
 *  unknown figures as null. stale_ms < 0: no limit. JC_ERR_NOMEM if out of memory. */
JC_API jc_status_t jc_lag_json(const jc_lag_row_t *rows, size_t n, int64_t stale_ms,
                               jc_buf_t *out);

/** 1 if row is stale against stale_ms (see above): lag > 0 and its last commit older than
 *  stale_ms, or none. */
JC_API int jc_lag_stale(const jc_lag_row_t *row, int64_t stale_ms);

/** Append a line for each stale row ("GROUP TOPIC [P]: lag N, last commit 12 s ago (over
 *  10 s)", or "never committed") to out; the number of stale rows into *count. JC_ERR_NOMEM if
 *  out cannot grow. */
JC_API jc_status_t jc_lag_stale_lines(const jc_lag_row_t *rows, size_t n, int64_t stale_ms,
                                      jc_buf_t *out, size_t *count);

/** An age as a reader reads it: "850 ms", "12 s", "4 min 5 s", "2 h 3 min", "3 d 4 h"; "-"
 *  if negative. Returns buf. */
JC_API const char *jc_lag_age_text(int64_t ms, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
