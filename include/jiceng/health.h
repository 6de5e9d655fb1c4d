/*
 * jiceng/health.h: round-trip checks of the services the pipeline depends on.
 *
 * Each check does real work against the service rather than asking whether a port is open:
 * the Kafka check produces a message to the health topic and consumes it back; the PostgreSQL
 * check creates a temporary table, writes a row and reads it back. Operations tools and the
 * integration tests use them to prove a stack is usable.
 */
#ifndef JICENG_HEALTH_H
#define JICENG_HEALTH_H

#include <stdint.h>

#include "jiceng/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The topic the Kafka check writes to (one partition, created on first use). */
#define JC_HEALTH_TOPIC "jiceng.health"
#define JC_HEALTH_GROUP "jiceng-health" /**< consumer group of the probe (a prefix its ACL allows) */

/** What a successful check saw. */
typedef struct jc_health_report {
    char server[160];   /**< the broker id and address, or PostgreSQL's version string */
    int32_t partition;  /**< Kafka: partition of the probe message (-1 for PostgreSQL) */
    int64_t offset;     /**< Kafka: offset of the probe message (-1 for PostgreSQL) */
    double millis;      /**< wall time of the whole round trip */
} jc_health_report_t;

/** Produce a unique probe message to JC_HEALTH_TOPIC on the brokers at bootstrap (creating the
 *  topic if needed), consume it back from its offset in consumer group JC_HEALTH_GROUP and
 *  compare it byte for byte. props (NULL-terminated name, value pairs, may be NULL) are more
 *  librdkafka properties, applied after the check's own: the client's identity (security.protocol,
 *  ssl.* files). Fails with JC_ERR_TIMEOUT if the brokers do not answer within timeout_ms,
 *  JC_ERR_KAFKA on a client error (e.g. refused authentication or authorization),
 *  JC_ERR_MISMATCH if what came back differs. report may be NULL. */
JC_API jc_status_t jc_health_kafka(const char *bootstrap, const char *const *props, int timeout_ms,
                                   jc_health_report_t *report, jc_error_t *err);

/** Connect with conninfo (a libpq connection string or URI; PG* variables apply), create a
 *  temporary table, insert a row, read it back and compare. Fails with JC_ERR_PG. */
JC_API jc_status_t jc_health_pg(const char *conninfo, jc_health_report_t *report,
                                jc_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
