/*
 * kafkautil.h: what the library's Kafka clients (producer.c, admin.c) share and nothing
 * outside the library sees: applying property lists, topic names under a prefix, and turning
 * librdkafka errors into status codes.
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

#include <stddef.h>

#include <librdkafka/rdkafka.h>

#include "jiceng/common.h"

#define JC_PROP_TOPIC_PREFIX "jiceng.topic.prefix"
#define JC_PROP_SIGNING_KEYS "jiceng.signing.keys"

/* Longest topic name Kafka accepts. */
#define JC_TOPIC_NAME_MAX 249

/* Set each pair on conf in order (a later pair overrides an earlier one). jiceng.* names are
 * checked against the known ones and skipped. JC_ERR_INVALID_ARG naming the property on an
 * unknown name or a bad value. */
jc_status_t jc_kafka_conf_apply(rd_kafka_conf_t *conf, const char *const *props,
                                jc_error_t *err);

/* The value of the last pair called name in props (NULL allowed), or def. */
const char *jc_kafka_prop(const char *const *props, const char *name, const char *def);

/* prefix + base into buf (JC_TOPIC_NAME_MAX + 1 bytes); JC_ERR_INVALID_ARG if too long. */
jc_status_t jc_kafka_topic_name(const char *prefix, const char *base, char *buf,
                                jc_error_t *err);

/* JC_ERR_TIMEOUT for timeouts and unreachable brokers, JC_ERR_KAFKA for the rest. */
jc_status_t jc_kafka_status(rd_kafka_resp_err_t e);

#endif
