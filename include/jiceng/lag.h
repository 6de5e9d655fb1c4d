/*
 * jiceng/lag.h: how far behind the topics each consumer group is, read from PostgreSQL alone
 * (no Kafka access needed: the report role may read it), for `jiceng-aggregate status`.
 *
 * The figures come from the view jiceng.report_consumer_lag (schemas/sql/006_end_offsets.sql):
 * per consumer group, topic and partition, the group's next offset, the partition's end offset
 * as a running consumer of the group last observed it (every consumer refreshes those of all
 * the group's partitions on a timer), lag = end - next, and the age of that observation. With
 * no consumer of a group running, nothing refreshes its figures and their age grows: an old
 * age says the lag may be larger than shown.
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
} jc_lag_row_t;

/** Read every group's partitions from jiceng.report_consumer_lag, ordered by group, topic and
 *  partition, into *rows (malloc'ed, free() it; *n of them). */
JC_API jc_status_t jc_lag_read(PGconn *conn, jc_lag_row_t **rows, size_t *n, jc_error_t *err);

/** Append rows as a text table (a header, one line per partition, each group closed by a line
 *  with its total lag and the age of its oldest figure) to out; "no consumer group has ..."
 *  if there are none. JC_ERR_NOMEM if out cannot grow. */
JC_API jc_status_t jc_lag_table(const jc_lag_row_t *rows, size_t n, jc_buf_t *out);

/** An age as a reader reads it: "850 ms", "12 s", "4 min 5 s", "2 h 3 min", "3 d 4 h"; "-"
 *  if negative. Returns buf. */
JC_API const char *jc_lag_age_text(int64_t ms, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
