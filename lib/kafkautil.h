/*
 * kafkautil.h: what the library's Kafka clients (producer.c, admin.c, the aggregator's consumer
 * and dead-letter producer) share and nothing outside the library sees: applying property
 * lists (all of them, or only those meant for one kind of client), making a client whose log
 * lines go to a jc_log_cb, topic names under a prefix, and turning librdkafka errors into
 * status codes.
 *
 * Property lists are NULL-terminated arrays of name, value pairs (jiceng/producer.h). Names
 * starting with "jiceng." are settings of libjiceng itself, not of librdkafka:
 *   jiceng.topic.prefix   prepended to every topic name (tests and benchmarks use scratch
 *                         topics such as "t1234." + "jiceng.visits")
 *   jiceng.signing.keys   the producer's signing keys: a key file or a directory of them
 *                         (jiceng/sign.h, jc_signers_load); other clients ignore it
 */
#ifndef JICENG_KAFKAUTIL_H
#define JICENG_KAFKAUTIL_H

#include <stdbool.h>
#include <stddef.h>

#include <librdkafka/rdkafka.h>

#include "jiceng/common.h"
#include "jiceng/log.h"

#define JC_PROP_TOPIC_PREFIX "jiceng.topic.prefix"
#define JC_PROP_SIGNING_KEYS "jiceng.signing.keys"

/* Longest topic name Kafka accepts. */
#define JC_TOPIC_NAME_MAX 249

/* Set each pair on conf in order (a later pair overrides an earlier one). jiceng.* names are
 * checked against the known ones and skipped. JC_ERR_INVALID_ARG naming the property on an
 * unknown name or a bad value. */
jc_status_t jc_kafka_conf_apply(rd_kafka_conf_t *conf, const char *const *props,
                                jc_error_t *err);

/* A positive numeric property of conf as librdkafka holds it (defaults included), or def when
 * it is unset, not a number or not positive. */
long jc_kafka_conf_number(rd_kafka_conf_t *conf, const char *name, long def);

/* Like jc_kafka_conf_apply, for a client of one type: a property that librdkafka's own table
 * (rd_kafka_conf_properties_show, the C/P column of its CONFIGURATION.md) marks as the other
 * type's only is skipped, so that one list can configure a consumer and a producer and neither
 * warns (CONFWARN) about the other's properties. Properties marked for both, and names the
 * table lacks, are applied (an unknown name is still an error). */
jc_status_t jc_kafka_conf_apply_for(rd_kafka_conf_t *conf, rd_kafka_type_t type,
                                    const char *const *props, jc_error_t *err);

/* *out = a new conf for a client of type: defaults first, then the caller's props (which may
 * override them), each by jc_kafka_conf_apply_for. On failure *out is NULL (nothing leaks). */
jc_status_t jc_kafka_conf_layered(rd_kafka_type_t type, const char *const *defaults,
                                  const char *const *props, rd_kafka_conf_t **out,
                                  jc_error_t *err);

/* Where a client made by jc_kafka_client_new sends its log lines. The client's opaque (set on
 * the conf with rd_kafka_conf_set_opaque) must point at a struct whose FIRST member is this. */
typedef struct jc_kafka_logger {
    jc_log_cb log; /* NULL: the lines are dropped */
    void *opaque;
} jc_kafka_logger_t;

/* rd_kafka_new(type, conf) with log.queue set and the client's log lines queued on its main
 * queue, so that they reach the logger (event "kafka_log", "FACILITY: text") only from the
 * thread that polls the client (a consumer's main queue is forwarded to its consumer queue by
 * rd_kafka_poll_set_consumer). conf is consumed, also on failure. NULL with err set. */
rd_kafka_t *jc_kafka_client_new(rd_kafka_type_t type, rd_kafka_conf_t *conf, jc_error_t *err);

/* Whether a delivery error may go away by itself (timeouts, transport, leadership, a topic not
 * (yet) known): a copy that failed so is worth producing again. */
bool jc_kafka_retriable(rd_kafka_resp_err_t e);

/* The bytes of a header list's names and values (0 for NULL). */
size_t jc_kafka_headers_bytes(const rd_kafka_headers_t *h);

/* The value of the last pair called name in props (NULL allowed), or def. */
const char *jc_kafka_prop(const char *const *props, const char *name, const char *def);

/* prefix + base into buf (JC_TOPIC_NAME_MAX + 1 bytes); JC_ERR_INVALID_ARG if too long. */
jc_status_t jc_kafka_topic_name(const char *prefix, const char *base, char *buf,
                                jc_error_t *err);

/* JC_ERR_TIMEOUT for timeouts and unreachable brokers, JC_ERR_KAFKA for the rest. */
jc_status_t jc_kafka_status(rd_kafka_resp_err_t e);

#endif
