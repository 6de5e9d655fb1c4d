/*
 * jiceng/admin.h: the pipeline's Kafka topics: the four event topics (jc_event_topic) and the
 * dead-letter topic (JC_DEAD_LETTER_TOPIC); and the ACLs of every role on them.
 *
 * Creation is idempotent and never alters a topic: a topic that exists with the requested
 * partition count is left as it is; one that exists with a DIFFERENT count is an error naming
 * the topic and both counts (deduplication relies on a county always landing in the same
 * partition, which a changed count would break); missing topics are created with
 * CreateTopics, the requested replication factor and retention.ms (unlimited, -1, by default),
 * and message.timestamp.type=LogAppendTime: the broker, not the producer, stamps every record,
 * and a signing key's validity is judged by that stamp (docs/signing.md), so no producer can
 * backdate a record into a closed key's period. The dead-letter topic gets it too: only the
 * aggregator writes there, each copy says where it came from in its jiceng.source.* headers,
 * and a broker's clock is the one every topic of the pipeline then agrees on. An existing topic
 * with another timestamp type is an error of jc_admin_create_topics (it is not altered: Kafka's
 * kafka-configs tool can). Existing topics are described with a metadata request and
 * DescribeConfigs.
 *
 * ACLs: roles. Every principal but the administrator (a Kafka super user, like the broker) holds
 * one of four roles, each a set of ALLOW bindings described once, as data, in lib/acls.c:
 *   county      a county system (User:county-520102; the stack's loadgen plays all of them):
 *               WRITE, DESCRIBE the four event topics; IDEMPOTENT_WRITE on the cluster. No read
 *               anywhere, no dead-letter topic, no topic creation (issue 10).
 *   aggregator  READ, DESCRIBE the event topics; WRITE, DESCRIBE the dead-letter topic; READ the
 *               consumer groups whose id starts with JC_AGGREGATOR_GROUP.
 *   steward     WRITE, DESCRIBE the event topics (re-drive); READ, DESCRIBE the dead-letter topic
 *               in groups whose id starts with JC_STEWARD_GROUP; IDEMPOTENT_WRITE. Nobody else
 *               but the administrator reads the dead-letter topic.
 *   health      CREATE, READ, WRITE, DESCRIBE JC_HEALTH_TOPIC; READ groups JC_HEALTH_GROUP*.
 * A role's set has two scopes. The bindings on the event and dead-letter topics (literal names,
 * with the client's topic prefix) are its topic scope: granted once per prefix a principal
 * holds the role on (the real topics, or a test's scratch topics). The rest (the cluster, the
 * group prefixes, the health topic, which is never prefixed) is its shared scope, the same
 * whatever the prefix.
 *
 * jc_admin_grant_role creates a role's whole set for a principal on the client's prefix.
 * jc_admin_revoke_role removes the topic scope on the client's prefix, and the shared scope only
 * when nothing else needs it: when the principal then holds none of the role's topic-scope
 * bindings under any prefix (so revoking a county's scratch prefix keeps the IDEMPOTENT_WRITE
 * its other prefixes need). A role without a topic scope (health) is held on the real topics
 * only: revoking it under a non-empty prefix removes nothing. The check and the deletion are
 * two requests: an administrator granting the same principal the same role at the same moment
 * may lose the shared bindings (grant again). jc_admin_create_acls, jc_admin_delete_acls and
 * jc_admin_describe_acls apply, remove and list bindings (CreateAcls, DeleteAcls,
 * DescribeAcls). Creating a binding that exists and deleting one that does not are no-ops, so
 * granting and revoking are idempotent. The client must be the Kafka administrator; note that
 * librdkafka 2.0.2 reports a DescribeAcls the broker refused as an empty list, not an error.
 *
 * A client is configured with the same property list as jiceng/producer.h: librdkafka
 * properties (bootstrap.servers, security settings, ...) plus "jiceng.topic.prefix", which is
 * prepended to every topic name so that tests and benchmarks can use scratch topics.
 */
#ifndef JICENG_ADMIN_H
#define JICENG_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jiceng/common.h"
#include "jiceng/event.h"

#ifdef __cplusplus
extern "C" {
#endif

/** How many topics the pipeline has: the four event topics, then the dead-letter topic. */
#define JC_TOPIC_COUNT (JC_EVENT_TYPE_COUNT + 1)

/** What to create missing topics with. A topic is also created with min.insync.replicas =
 *  JC_TOPIC_MIN_INSYNC(its replication factor): with three replicas, a write acknowledged by
 *  all in-sync replicas (the producers' acks=all) is on at least two brokers, and one broker
 *  may be down without stopping writes. */
typedef struct jc_topic_settings {
    int partitions;          /**< default 12 */
    int replication_factor;  /**< default 0: JC_TOPIC_AUTO_REPLICAS */
    int64_t retention_ms;    /**< default -1: keep forever */
} jc_topic_settings_t;

#define JC_TOPIC_SETTINGS_DEFAULT {12, 0, -1}

/** replication_factor 0: as many replicas as the cluster's metadata lists brokers (live ones,
 *  so create topics while every broker is up), at most this many. */
#define JC_TOPIC_AUTO_REPLICAS 3

/** The min.insync.replicas a topic with replication factor rf is created with. */
#define JC_TOPIC_MIN_INSYNC(rf) ((rf) >= 3 ? 2 : 1)

/** The message.timestamp.type every pipeline topic is created with. */
#define JC_TOPIC_TIMESTAMP_TYPE "LogAppendTime"

/** One topic as the cluster has it. */
typedef struct jc_topic_state {
    char name[250];          /**< the full name, prefix included */
    bool exists;
    bool created;            /**< created by this call */
    int partitions;          /**< 0 if missing */
    int replication_factor;  /**< replicas of partition 0; 0 if missing */
    char timestamp_type[32]; /**< its message.timestamp.type; "" if missing or not known */
    int min_insync_replicas; /**< its min.insync.replicas; 0 if missing or not known */
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

/** Create whichever of the topics are missing, with settings (NULL: the defaults) and
 *  JC_TOPIC_TIMESTAMP_TYPE, and check that the existing ones have settings->partitions
 *  partitions and that timestamp type. JC_ERR_MISMATCH naming the topic and both values if one
 *  does not (nothing is altered); JC_ERR_KAFKA / JC_ERR_TIMEOUT if creation fails. out (may be
 *  NULL) receives the final state of every topic. */
JC_API jc_status_t jc_admin_create_topics(jc_admin_t *admin, const jc_topic_settings_t *settings,
                                          jc_topic_state_t out[JC_TOPIC_COUNT],
                                          jc_error_t *err);

/** Delete the topics (those that exist). Meant for scratch topics of tests and benchmarks
 *  (use a jiceng.topic.prefix); jiceng-topics does not offer it. */
JC_API jc_status_t jc_admin_delete_topics(jc_admin_t *admin, jc_error_t *err);

/* ---- ACLs ------------------------------------------------------------------------------- */

/** What an ACL binding is on. */
typedef enum jc_acl_resource {
    JC_ACL_TOPIC,
    JC_ACL_GROUP,
    JC_ACL_CLUSTER,          /**< the name is "kafka-cluster" */
    JC_ACL_RESOURCE_OTHER,   /**< another kind, as listed by jc_admin_describe_acls */
} jc_acl_resource_t;

/** What a binding allows (or denies). */
typedef enum jc_acl_operation {
    JC_ACL_ALL,
    JC_ACL_READ,
    JC_ACL_WRITE,
    JC_ACL_CREATE,
    JC_ACL_DELETE,
    JC_ACL_ALTER,
    JC_ACL_DESCRIBE,
    JC_ACL_IDEMPOTENT_WRITE,
    JC_ACL_OPERATION_OTHER,  /**< another operation, as listed */
} jc_acl_operation_t;

/** One ACL binding (from any host). */
typedef struct jc_acl {
    char principal[128];          /**< e.g. "User:county-520102" */
    jc_acl_resource_t resource;
    char name[250];               /**< topic or group name; "kafka-cluster" for the cluster */
    bool prefixed;                /**< the name is a prefix (else literal) */
    jc_acl_operation_t operation;
    bool deny;                    /**< a DENY binding (jiceng makes ALLOW bindings only) */
} jc_acl_t;

/** The cluster resource's name in Kafka's ACLs. */
#define JC_ACL_CLUSTER_NAME "kafka-cluster"

/** The consumer group id prefix of the steward (the dead-letter topic's reader). */
#define JC_STEWARD_GROUP "jiceng-steward"

/** The roles (see "ACLs: roles" above). */
typedef enum jc_acl_role {
    JC_ROLE_COUNTY,
    JC_ROLE_AGGREGATOR,
    JC_ROLE_STEWARD,
    JC_ROLE_HEALTH,
} jc_acl_role_t;

#define JC_ACL_ROLE_COUNT 4

/** Which part of a role's set (bit flags). */
enum {
    JC_ACL_SCOPE_TOPICS = 1, /**< the event and dead-letter topics, with the topic prefix */
    JC_ACL_SCOPE_SHARED = 2, /**< the cluster, the group prefixes, the health topic */
    JC_ACL_SCOPE_ALL = 3,
};

/** The most bindings a role's set has. */
#define JC_ACL_SET_MAX 16

/** "county", "aggregator", "steward", "health" ("unknown" for anything else). */
JC_API const char *jc_acl_role_name(jc_acl_role_t role);

/** The role named name; JC_ERR_INVALID_ARG naming the roles if there is none. */
JC_API jc_status_t jc_acl_role_parse(const char *name, jc_acl_role_t *out, jc_error_t *err);

/** The bindings of role's set in scopes (JC_ACL_SCOPE_*) for principal ("User:NAME"), its topics
 *  named with topic_prefix (NULL: none), into out, *n of them. JC_ERR_INVALID_ARG if the
 *  principal is not User:NAME or does not fit, or a topic name would be too long. */
JC_API jc_status_t jc_acl_role_set(jc_acl_role_t role, const char *principal,
                                   const char *topic_prefix, unsigned scopes,
                                   jc_acl_t out[JC_ACL_SET_MAX], size_t *n, jc_error_t *err);

/** true if role's set has a topic scope (all roles but health). */
JC_API bool jc_acl_role_has_topic_scope(jc_acl_role_t role);

/** true if acl is one of role's topic-scope bindings under some topic prefix (any principal). */
JC_API bool jc_acl_role_topic_binding(jc_acl_role_t role, const jc_acl_t *acl);

/** Create role's whole set for principal on the client's topic prefix (those in place are left
 *  as they are); *created (may be NULL) receives how many were missing. */
JC_API jc_status_t jc_admin_grant_role(jc_admin_t *admin, jc_acl_role_t role,
                                       const char *principal, size_t *created, jc_error_t *err);

/** Remove role's topic scope on the client's topic prefix from principal, and its shared scope
 *  if nothing else needs it (see "ACLs: roles"); *deleted (may be NULL) receives how many
 *  bindings went. */
JC_API jc_status_t jc_admin_revoke_role(jc_admin_t *admin, jc_acl_role_t role,
                                        const char *principal, size_t *deleted,
                                        jc_error_t *err);

/** Create the n ALLOW bindings (existing ones are left as they are). JC_ERR_KAFKA naming the
 *  binding if the broker refuses one (e.g. the client is not the administrator). */
JC_API jc_status_t jc_admin_create_acls(jc_admin_t *admin, const jc_acl_t *acls, size_t n,
                                        jc_error_t *err);

/** Delete every binding of principal, on any resource; *deleted (may be NULL) receives how
 *  many there were. */
JC_API jc_status_t jc_admin_delete_acls(jc_admin_t *admin, const char *principal,
                                        size_t *deleted, jc_error_t *err);

/** List the bindings of principal (NULL: of everyone) into a malloc'd array *out (free() it)
 *  of *n entries, sorted by principal, resource, name and operation. */
JC_API jc_status_t jc_admin_describe_acls(jc_admin_t *admin, const char *principal,
                                          jc_acl_t **out, size_t *n, jc_error_t *err);

/** "TOPIC", "GROUP", "CLUSTER", "OTHER". */
JC_API const char *jc_acl_resource_name(jc_acl_resource_t r);

/** "ALL", "READ", "WRITE", "CREATE", "DELETE", "ALTER", "DESCRIBE", "IDEMPOTENT_WRITE",
 *  "OTHER". */
JC_API const char *jc_acl_operation_name(jc_acl_operation_t op);

/** Release the client (NULL is fine). */
JC_API void jc_admin_free(jc_admin_t *admin);

#ifdef __cplusplus
}
#endif
#endif
