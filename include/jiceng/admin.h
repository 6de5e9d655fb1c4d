/*
 * jiceng/admin.h: the pipeline's Kafka topics: the four event topics (jc_event_topic) and the
 * dead-letter topic (JC_DEAD_LETTER_TOPIC).
 *
 * Creation is idempotent and never alters a topic: a topic that exists with the requested
 * partition count is left as it is; one that exists with a DIFFERENT count is an error naming
 * the topic and both counts (deduplication relies on a county always landing in the same
 * partition, which a changed count would break); missing topics are created with
 * CreateTopics, the requested replication factor and retention.ms (unlimited, -1, by default).
 * Existing topics are described with a metadata request.
 *
 * A client is configured with the same property list as jiceng/producer.h: librdkafka
 * properties (bootstrap.servers, security settings, ...) plus "jiceng.topic.prefix", which is
 * prepended to every topic name so that tests and benchmarks can use scratch topics.
 */
#ifndef JICENG_ADMIN_H
#define JICENG_ADMIN_H

#include <stdbool.h>
#include <stdint.h>

#include "jiceng/common.h"
#include "jiceng/event.h"

#ifdef __cplusplus
extern "C" {
#endif

/** How many topics the pipeline has: the four event topics, then the dead-letter topic. */
#define JC_TOPIC_COUNT (JC_EVENT_TYPE_COUNT + 1)

/** What to create missing topics with. */
typedef struct jc_topic_settings {
    int partitions;          /**< default 12 */
    int replication_factor;  /**< default 1 (the local single-broker stack) */
    int64_t retention_ms;    /**< default -1: keep forever */
} jc_topic_settings_t;

#define JC_TOPIC_SETTINGS_DEFAULT {12, 1, -1}

/** One topic as the cluster has it. */
typedef struct jc_topic_state {
    char name[250];          /**< the full name, prefix included */
    bool exists;
    bool created;            /**< created by this call */
    int partitions;          /**< 0 if missing */
    int replication_factor;  /**< replicas of partition 0; 0 if missing */
} jc_topic_state_t;

typedef struct jc_admin jc_admin_t;

/** An admin client. props: NULL-terminated name, value pairs (bootstrap.servers at least;
 *  "jiceng.topic.prefix" optional). timeout_ms bounds every request made through it.
 *  NULL with err set (JC_ERR_INVALID_ARG naming an unknown property, JC_ERR_KAFKA). */
JC_API jc_admin_t *jc_admin_new(const char *const *props, int timeout_ms, jc_error_t *err);

/** Describe the JC_TOPIC_COUNT topics (event topics in jc_event_type_t order, then the
 *  dead-letter topic) into out. JC_ERR_TIMEOUT if the brokers do not answer. */
JC_API jc_status_t jc_admin_describe_topics(jc_admin_t *admin,
                                            jc_topic_state_t out[JC_TOPIC_COUNT],
                                            jc_error_t *err);

/** Create whichever of the topics are missing, with settings (NULL: the defaults), and check
 *  that the existing ones have settings->partitions partitions. JC_ERR_MISMATCH naming the
 *  topic and both counts if one does not (nothing is altered); JC_ERR_KAFKA / JC_ERR_TIMEOUT
 *  if creation fails. out (may be NULL) receives the final state of every topic. */
JC_API jc_status_t jc_admin_create_topics(jc_admin_t *admin, const jc_topic_settings_t *settings,
                                          jc_topic_state_t out[JC_TOPIC_COUNT],
                                          jc_error_t *err);

/** Delete the topics (those that exist). Meant for scratch topics of tests and benchmarks
 *  (use a jiceng.topic.prefix); jiceng-topics does not offer it. */
JC_API jc_status_t jc_admin_delete_topics(jc_admin_t *admin, jc_error_t *err);

/** Release the client (NULL is fine). */
JC_API void jc_admin_free(jc_admin_t *admin);

#ifdef __cplusplus
}
#endif
#endif
