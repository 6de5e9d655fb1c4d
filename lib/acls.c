/*
 * acls.c: who may do what on the broker, described once (see jiceng/admin.h, "Roles").
 *
 * The table `grants` below is the one description of every role's Kafka ACLs: for each role, a
 * target (the four event topics, the dead-letter topic, the health check's topic, a consumer
 * group prefix, or the cluster) and the operations on it, as a bit mask of jc_acl_operation_t.
 * jc_acl_role_set expands the rows of one role into ALLOW bindings for one principal: the event
 * and dead-letter topics are named with the topic prefix (literal names; these bindings are the
 * role's "topic" scope, repeated for every prefix it is granted on), the rest exist once
 * whatever the prefix (the "shared" scope: the cluster, PREFIXED group names, the health topic,
 * which the health check never prefixes). jc_acl_role_topic_binding recognises a binding of a
 * role's topic scope under any prefix, which is how a revoke decides whether the shared
 * bindings are still needed (lib/admin.c). Nothing here talks to Kafka.
 */
#include <stdio.h>
#include <string.h>

#include "jiceng/admin.h"
#include "jiceng/aggregator.h"
#include "jiceng/event.h"
#include "jiceng/health.h"
#include "kafkautil.h"

/* What a row of the table is on. */
enum target { T_EVENT_TOPICS, T_DEAD_LETTER, T_HEALTH_TOPIC, T_GROUP, T_CLUSTER };

#define OP(o) (1u << (o))

static const struct grant {
    jc_acl_role_t role;
    enum target target;
    const char *group; /* T_GROUP: the group id prefix */
    unsigned ops;      /* OP(jc_acl_operation_t) | ... */
} grants[] = {
    /* a county system publishes its events; nothing else (no read, no dead-letter, no create) */
    {JC_ROLE_COUNTY, T_EVENT_TOPICS, NULL, OP(JC_ACL_WRITE) | OP(JC_ACL_DESCRIBE)},
    {JC_ROLE_COUNTY, T_CLUSTER, NULL, OP(JC_ACL_IDEMPOTENT_WRITE)},
    /* the aggregator consumes the event topics in its groups and sends rejects to the
     * dead-letter topic */
    {JC_ROLE_AGGREGATOR, T_EVENT_TOPICS, NULL, OP(JC_ACL_READ) | OP(JC_ACL_DESCRIBE)},
    {JC_ROLE_AGGREGATOR, T_DEAD_LETTER, NULL, OP(JC_ACL_WRITE) | OP(JC_ACL_DESCRIBE)},
    {JC_ROLE_AGGREGATOR, T_GROUP, JC_AGGREGATOR_GROUP, OP(JC_ACL_READ)},
    /* the steward reads the dead-letter topic in its own groups and re-drives records to the
     * event topics: the only role besides the administrator that reads the dead-letter topic */
    {JC_ROLE_STEWARD, T_EVENT_TOPICS, NULL, OP(JC_ACL_WRITE) | OP(JC_ACL_DESCRIBE)},
    {JC_ROLE_STEWARD, T_DEAD_LETTER, NULL, OP(JC_ACL_READ) | OP(JC_ACL_DESCRIBE)},
    {JC_ROLE_STEWARD, T_GROUP, JC_STEWARD_GROUP, OP(JC_ACL_READ)},
    {JC_ROLE_STEWARD, T_CLUSTER, NULL, OP(JC_ACL_IDEMPOTENT_WRITE)},
    /* the health check creates, writes and reads back its own topic */
    {JC_ROLE_HEALTH, T_HEALTH_TOPIC, NULL,
     OP(JC_ACL_CREATE) | OP(JC_ACL_READ) | OP(JC_ACL_WRITE) | OP(JC_ACL_DESCRIBE)},
    {JC_ROLE_HEALTH, T_GROUP, JC_HEALTH_GROUP, OP(JC_ACL_READ)},
};

#define NGRANTS (sizeof grants / sizeof grants[0])

static const char *const role_names[JC_ACL_ROLE_COUNT] = {
    [JC_ROLE_COUNTY] = "county",
    [JC_ROLE_AGGREGATOR] = "aggregator",
    [JC_ROLE_STEWARD] = "steward",
    [JC_ROLE_HEALTH] = "health",
};

const char *jc_acl_role_name(jc_acl_role_t role)
{
    return (unsigned)role < JC_ACL_ROLE_COUNT ? role_names[role] : "unknown";
}

jc_status_t jc_acl_role_parse(const char *name, jc_acl_role_t *out, jc_error_t *err)
{
    for (int r = 0; name != NULL && r < JC_ACL_ROLE_COUNT; r++)
        if (strcmp(name, role_names[r]) == 0) {
            *out = (jc_acl_role_t)r;
            return JC_OK;
        }
    return jc_error_set(err, JC_ERR_INVALID_ARG, "unknown role '%s' (county, aggregator, "
                        "steward or health)", name ? name : "(null)");
}

/* The topic names (without prefix) a topic-scope target stands for; their number. */
static int target_topics(enum target t, const char *names[JC_EVENT_TYPE_COUNT])
{
    if (t == T_DEAD_LETTER) {
        names[0] = JC_DEAD_LETTER_TOPIC;
        return 1;
    }
    if (t != T_EVENT_TOPICS)
        return 0;
    for (int e = 0; e < JC_EVENT_TYPE_COUNT; e++)
        names[e] = jc_event_topic((jc_event_type_t)e);
    return JC_EVENT_TYPE_COUNT;
}

bool jc_acl_role_has_topic_scope(jc_acl_role_t role)
{
    const char *names[JC_EVENT_TYPE_COUNT];
    for (size_t g = 0; g < NGRANTS; g++)
        if (grants[g].role == role && target_topics(grants[g].target, names) > 0)
            return true;
    return false;
}

/* Append one binding per operation in ops on (resource, name) to out. */
static jc_status_t add_bindings(jc_acl_t out[JC_ACL_SET_MAX], size_t *n, const char *principal,
                                jc_acl_resource_t resource, const char *name, bool prefixed,
                                unsigned ops, jc_error_t *err)
{
    for (int op = 0; op < JC_ACL_OPERATION_OTHER; op++) {
        if (!(ops & OP(op)))
            continue;
        if (*n == JC_ACL_SET_MAX)
            return jc_error_set(err, JC_ERR_INVALID_ARG, "more than %d ACLs in a role's set",
                                JC_ACL_SET_MAX);
        jc_acl_t *a = &out[(*n)++];
        memset(a, 0, sizeof *a);
        snprintf(a->principal, sizeof a->principal, "%s", principal);
        snprintf(a->name, sizeof a->name, "%s", name);
        a->resource = resource;
        a->prefixed = prefixed;
        a->operation = (jc_acl_operation_t)op;
    }
    return JC_OK;
}

/* The bindings of one row of the table, for the scopes asked for. */
static jc_status_t grant_bindings(const struct grant *g, const char *principal,
                                  const char *topic_prefix, unsigned scopes,
                                  jc_acl_t out[JC_ACL_SET_MAX], size_t *n, jc_error_t *err)
{
    const char *names[JC_EVENT_TYPE_COUNT];
    int ntopics = target_topics(g->target, names);
    if (ntopics > 0) {
        jc_status_t st = JC_OK;
        char full[JC_TOPIC_NAME_MAX + 1];
        for (int i = 0; (scopes & JC_ACL_SCOPE_TOPICS) && i < ntopics && st == JC_OK; i++)
            if ((st = jc_kafka_topic_name(topic_prefix, names[i], full, err)) == JC_OK)
                st = add_bindings(out, n, principal, JC_ACL_TOPIC, full, false, g->ops, err);
        return st;
    }
    if (!(scopes & JC_ACL_SCOPE_SHARED))
        return JC_OK;
    switch (g->target) {
    case T_HEALTH_TOPIC:
        return add_bindings(out, n, principal, JC_ACL_TOPIC, JC_HEALTH_TOPIC, false, g->ops, err);
    case T_GROUP:
        return add_bindings(out, n, principal, JC_ACL_GROUP, g->group, true, g->ops, err);
    case T_CLUSTER:
        return add_bindings(out, n, principal, JC_ACL_CLUSTER, JC_ACL_CLUSTER_NAME, false,
                            g->ops, err);
    case T_EVENT_TOPICS:
    case T_DEAD_LETTER:
        break;
    }
    return JC_OK;
}

jc_status_t jc_acl_role_set(jc_acl_role_t role, const char *principal, const char *topic_prefix,
                            unsigned scopes, jc_acl_t out[JC_ACL_SET_MAX], size_t *n,
                            jc_error_t *err)
{
    *n = 0;
    if ((unsigned)role >= JC_ACL_ROLE_COUNT)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "unknown role %d", (int)role);
    if (principal == NULL || strncmp(principal, "User:", 5) != 0 || !principal[5] ||
        strlen(principal) >= sizeof out[0].principal)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "a role's ACLs need a principal User:NAME "
                            "(at most %zu characters), not '%.80s'",
                            sizeof out[0].principal - 1, principal ? principal : "(null)");
    jc_status_t st = JC_OK;
    for (size_t g = 0; g < NGRANTS && st == JC_OK; g++)
        if (grants[g].role == role)
            st = grant_bindings(&grants[g], principal, topic_prefix ? topic_prefix : "", scopes,
                                out, n, err);
    return st;
}

/* true if name is some prefix followed by base */
static bool ends_with(const char *name, const char *base)
{
    size_t ln = strlen(name), lb = strlen(base);
    return ln >= lb && strcmp(name + ln - lb, base) == 0;
}

bool jc_acl_role_topic_binding(jc_acl_role_t role, const jc_acl_t *acl)
{
    if (acl->deny || acl->prefixed || acl->resource != JC_ACL_TOPIC ||
        acl->operation >= JC_ACL_OPERATION_OTHER)
        return false;
    for (size_t g = 0; g < NGRANTS; g++) {
        const char *names[JC_EVENT_TYPE_COUNT];
        int ntopics = grants[g].role == role ? target_topics(grants[g].target, names) : 0;
        for (int i = 0; i < ntopics; i++)
            if ((grants[g].ops & OP(acl->operation)) && ends_with(acl->name, names[i]))
                return true;
    }
    return false;
}
