/*
 * admin.c: creating and describing the pipeline's topics, and a county system's ACLs (see
 * jiceng/admin.h).
 *
 * The client is a producer-type librdkafka handle (any handle carries the admin API) with
 * allow.auto.create.topics=false, so that describing a missing topic never creates it. A topic
 * is described by a metadata request for that one topic: UNKNOWN_TOPIC_OR_PART means missing,
 * otherwise its partition count and partition 0's replica count are read. Creation first
 * describes all five topics and refuses if any existing one has another partition count, then
 * sends one CreateTopics request for the missing ones (retention.ms set per topic), accepts
 * TOPIC_ALREADY_EXISTS from a concurrent creator, and finally polls the metadata until every
 * topic is visible with a leader for each partition (so that a producer started right after
 * can write to them) and re-checks the counts. Each topic is created with the configuration
 * of topic_configs (retention.ms comes from the settings, min.insync.replicas from the
 * replication factor, which a factor of 0 takes from the number of brokers in a metadata
 * answer, capped at JC_TOPIC_AUTO_REPLICAS); one DescribeConfigs request reads the timestamp
 * type and min.insync.replicas of the existing topics.
 *
 * ACLs: jiceng's jc_acl_t is translated to and from librdkafka's AclBinding (ALLOW, any host).
 * Creating sends one CreateAcls request and checks every binding's result; deleting sends one
 * DeleteAcls request (a filter matching the principal on any resource, or one exact binding
 * per filter) and adds up the matches; describing sends one DescribeAcls filter and copies and
 * sorts what comes back. Roles (lib/acls.c has their sets): granting describes the principal's
 * bindings, counts which of the set are missing and creates the set if any is; revoking
 * deletes the topic scope on the client's prefix, describes what the principal has left, and
 * deletes the shared scope if none of it is a topic-scope binding of the role.
 */
#include "jiceng/admin.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "jiceng/event.h"
#include "jiceng/jtime.h"
#include "kafkautil.h"

struct jc_admin {
    rd_kafka_t *rk;
    int timeout_ms;
    char prefix[JC_TOPIC_NAME_MAX + 1];
    char names[JC_TOPIC_COUNT][JC_TOPIC_NAME_MAX + 1];
};

/* The configuration every pipeline topic is created with (besides retention.ms). */
static const char *const topic_configs[] = {
    "message.timestamp.type", JC_TOPIC_TIMESTAMP_TYPE,
    NULL,
};

/* ---- set-up ---- */

static jc_status_t topic_names(jc_admin_t *a, const char *prefix, jc_error_t *err)
{
    jc_status_t st = JC_OK;
    for (int t = 0; t < JC_EVENT_TYPE_COUNT && st == JC_OK; t++)
        st = jc_kafka_topic_name(prefix, jc_event_topic((jc_event_type_t)t), a->names[t], err);
    if (st == JC_OK)
        st = jc_kafka_topic_name(prefix, JC_DEAD_LETTER_TOPIC, a->names[JC_EVENT_TYPE_COUNT],
                                 err);
    return st;
}

static rd_kafka_t *admin_client(const char *const *props, jc_error_t *err)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *const defaults[] = {"allow.auto.create.topics", "false", "log_level", "3", NULL};
    if (jc_kafka_conf_apply(conf, defaults, err) != JC_OK ||
        jc_kafka_conf_apply(conf, props, err) != JC_OK) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (rk == NULL) {
        rd_kafka_conf_destroy(conf);
        jc_error_set(err, JC_ERR_KAFKA, "kafka admin client: %s", errstr);
    }
    return rk;
}

jc_admin_t *jc_admin_new(const char *const *props, int timeout_ms, jc_error_t *err)
{
    if (timeout_ms <= 0 || (jc_kafka_prop(props, "bootstrap.servers", NULL) == NULL &&
                            jc_kafka_prop(props, "metadata.broker.list", NULL) == NULL)) {
        jc_error_set(err, JC_ERR_INVALID_ARG, "kafka admin client: bootstrap.servers and a "
                     "positive timeout are required");
        return NULL;
    }
    jc_admin_t *a = calloc(1, sizeof *a);
    if (a == NULL) {
        jc_error_set(err, JC_ERR_NOMEM, "kafka admin client: out of memory");
        return NULL;
    }
    a->timeout_ms = timeout_ms;
    snprintf(a->prefix, sizeof a->prefix, "%s", jc_kafka_prop(props, JC_PROP_TOPIC_PREFIX, ""));
    if (topic_names(a, a->prefix, err) != JC_OK ||
        (a->rk = admin_client(props, err)) == NULL) {
        free(a);
        return NULL;
    }
    return a;
}

void jc_admin_free(jc_admin_t *a)
{
    if (a == NULL)
        return;
    rd_kafka_destroy(a->rk);
    free(a);
}

/* ---- admin requests ---- */

/* Wait for the result event of an admin request on q. */
static rd_kafka_event_t *await_result(jc_admin_t *a, rd_kafka_queue_t *q, const char *what,
                                      jc_status_t *st, jc_error_t *err)
{
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, a->timeout_ms + 5000);
    if (ev == NULL)
        *st = jc_error_set(err, JC_ERR_TIMEOUT, "%s: no answer in %d ms", what, a->timeout_ms);
    else if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR)
        *st = jc_error_set(err, jc_kafka_status(rd_kafka_event_error(ev)), "%s: %s", what,
                           rd_kafka_event_error_string(ev));
    return ev;
}

static rd_kafka_AdminOptions_t *admin_options(jc_admin_t *a, rd_kafka_admin_op_t op)
{
    char errstr[256];
    rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(a->rk, op);
    if (o != NULL) {
        rd_kafka_AdminOptions_set_operation_timeout(o, a->timeout_ms, errstr, sizeof errstr);
        rd_kafka_AdminOptions_set_request_timeout(o, a->timeout_ms, errstr, sizeof errstr);
    }
    return o;
}

/* ---- describing ---- */

/* true if every partition of t has a leader (a producer can write to all of them) */
static bool leaders_known(const rd_kafka_metadata_topic_t *t)
{
    for (int i = 0; i < t->partition_cnt; i++)
        if (t->partitions[i].leader < 0 || t->partitions[i].err != RD_KAFKA_RESP_ERR_NO_ERROR)
            return false;
    return t->err == RD_KAFKA_RESP_ERR_NO_ERROR;
}

static jc_status_t read_topic_metadata(const rd_kafka_metadata_topic_t *t, jc_topic_state_t *s,
                                       bool *ready, jc_error_t *err)
{
    *ready = leaders_known(t);
    if (t->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
        return JC_OK;
    if (t->err != RD_KAFKA_RESP_ERR_NO_ERROR && t->partition_cnt == 0)
        return jc_error_set(err, JC_ERR_KAFKA, "topic %s: %s", s->name, rd_kafka_err2str(t->err));
    s->exists = true;
    s->partitions = t->partition_cnt;
    s->replication_factor = t->partition_cnt > 0 ? t->partitions[0].replica_cnt : 0;
    return JC_OK;
}

/* Describe one topic into s; *ready (if not NULL) says whether all its partitions have
 * leaders. */
static jc_status_t describe_topic(jc_admin_t *a, const char *name, jc_topic_state_t *s,
                                  bool *ready, jc_error_t *err)
{
    bool ready_local;
    ready = ready ? ready : &ready_local;
    *ready = false;
    bool created = s->created;
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name);
    s->created = created;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(a->rk, name, NULL);
    if (rkt == NULL)
        return jc_error_set(err, JC_ERR_KAFKA, "topic %s: %s", name,
                            rd_kafka_err2str(rd_kafka_last_error()));
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(a->rk, 0, rkt, &md, a->timeout_ms);
    jc_status_t st;
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
        st = jc_error_set(err, jc_kafka_status(e), "kafka metadata request for %s: %s", name,
                          rd_kafka_err2str(e));
    else if (md->topic_cnt != 1)
        st = jc_error_set(err, JC_ERR_KAFKA, "kafka metadata for %s: %d topics in the answer",
                          name, md->topic_cnt);
    else
        st = read_topic_metadata(&md->topics[0], s, ready, err);
    if (md != NULL)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    return st;
}

/* Keep one configuration entry of a topic in its state if it is one jc_topic_state_t holds. */
static void read_config_entry(const rd_kafka_ConfigEntry_t *c, jc_topic_state_t *s)
{
    const char *name = rd_kafka_ConfigEntry_name(c), *v = rd_kafka_ConfigEntry_value(c);
    if (strcmp(name, "message.timestamp.type") == 0)
        snprintf(s->timestamp_type, sizeof s->timestamp_type, "%s", v ? v : "");
    else if (strcmp(name, "min.insync.replicas") == 0)
        s->min_insync_replicas = v ? atoi(v) : 0;
}

/* Copy message.timestamp.type and min.insync.replicas from a DescribeConfigs answer into the
 * state of their topic. */
static jc_status_t read_config_results(rd_kafka_event_t *ev, jc_topic_state_t s[JC_TOPIC_COUNT],
                                       jc_error_t *err)
{
    size_t n = 0;
    const rd_kafka_ConfigResource_t **res =
        rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev), &n);
    for (size_t r = 0; r < n; r++) {
        const char *name = rd_kafka_ConfigResource_name(res[r]);
        if (rd_kafka_ConfigResource_error(res[r]) != RD_KAFKA_RESP_ERR_NO_ERROR)
            return jc_error_set(err, JC_ERR_KAFKA, "describe the configuration of topic %s: %s",
                                name, rd_kafka_ConfigResource_error_string(res[r]));
        size_t nc = 0;
        const rd_kafka_ConfigEntry_t **c = rd_kafka_ConfigResource_configs(res[r], &nc);
        for (size_t k = 0; k < nc; k++)
            for (int i = 0; i < JC_TOPIC_COUNT; i++)
                if (strcmp(s[i].name, name) == 0)
                    read_config_entry(c[k], &s[i]);
    }
    return JC_OK;
}

/* Fill the timestamp type and min.insync.replicas of every existing topic (one
 * DescribeConfigs request). */
static jc_status_t describe_timestamp_types(jc_admin_t *a, jc_topic_state_t s[JC_TOPIC_COUNT],
                                           jc_error_t *err)
{
    rd_kafka_ConfigResource_t *res[JC_TOPIC_COUNT];
    size_t n = 0;
    for (int i = 0; i < JC_TOPIC_COUNT; i++)
        if (s[i].exists)
            res[n++] = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, s[i].name);
    if (n == 0)
        return JC_OK;
    jc_status_t st = JC_OK;
    rd_kafka_queue_t *q = rd_kafka_queue_new(a->rk);
    rd_kafka_AdminOptions_t *o = admin_options(a, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
    rd_kafka_DescribeConfigs(a->rk, res, n, o, q);
    rd_kafka_event_t *ev = await_result(a, q, "describe topic configurations", &st, err);
    if (st == JC_OK)
        st = read_config_results(ev, s, err);
    if (ev != NULL)
        rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_queue_destroy(q);
    rd_kafka_ConfigResource_destroy_array(res, n);
    return st;
}

jc_status_t jc_admin_describe_topics(jc_admin_t *a, jc_topic_state_t out[JC_TOPIC_COUNT],
                                     jc_error_t *err)
{
    if (a == NULL || out == NULL)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "jc_admin_describe_topics: NULL argument");
    jc_status_t st = JC_OK;
    for (int i = 0; i < JC_TOPIC_COUNT && st == JC_OK; i++) {
        out[i].created = false;
        st = describe_topic(a, a->names[i], &out[i], NULL, err);
    }
    return st == JC_OK ? describe_timestamp_types(a, out, err) : st;
}

/* ---- creating ---- */

static jc_status_t check_partitions(const jc_topic_state_t s[JC_TOPIC_COUNT], int want,
                                    jc_error_t *err)
{
    for (int i = 0; i < JC_TOPIC_COUNT; i++)
        if (s[i].exists && s[i].partitions != want)
            return jc_error_set(err, JC_ERR_MISMATCH, "topic %s has %d partitions, not the %d "
                                "asked for; it is left unchanged (a county must keep landing "
                                "in the same partition)", s[i].name, s[i].partitions, want);
    return JC_OK;
}

static jc_status_t check_timestamp_types(const jc_topic_state_t s[JC_TOPIC_COUNT],
                                         jc_error_t *err)
{
    for (int i = 0; i < JC_TOPIC_COUNT; i++)
        if (s[i].exists && strcmp(s[i].timestamp_type, JC_TOPIC_TIMESTAMP_TYPE) != 0)
            return jc_error_set(err, JC_ERR_MISMATCH, "topic %s has message.timestamp.type=%s, "
                                "not %s; it is left unchanged (signing keys are judged by the "
                                "broker's timestamp: alter it with kafka-configs --alter "
                                "--add-config message.timestamp.type=%s)", s[i].name,
                                s[i].timestamp_type[0] ? s[i].timestamp_type : "(unknown)",
                                JC_TOPIC_TIMESTAMP_TYPE, JC_TOPIC_TIMESTAMP_TYPE);
    return JC_OK;
}

static rd_kafka_NewTopic_t *new_topic(const char *name, const jc_topic_settings_t *set,
                                      jc_error_t *err)
{
    char errstr[512], retention[32], min_insync[16];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(name, set->partitions,
                                                    set->replication_factor, errstr,
                                                    sizeof errstr);
    if (nt == NULL) {
        jc_error_set(err, JC_ERR_INVALID_ARG, "topic %s: %s", name, errstr);
        return NULL;
    }
    snprintf(retention, sizeof retention, "%" PRId64, set->retention_ms);
    snprintf(min_insync, sizeof min_insync, "%d", JC_TOPIC_MIN_INSYNC(set->replication_factor));
    rd_kafka_resp_err_t e = rd_kafka_NewTopic_set_config(nt, "retention.ms", retention);
    const char *bad = "retention.ms";
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
        e = rd_kafka_NewTopic_set_config(nt, "min.insync.replicas", min_insync);
        bad = "min.insync.replicas";
    }
    for (const char *const *c = topic_configs; e == RD_KAFKA_RESP_ERR_NO_ERROR && c[0]; c += 2) {
        e = rd_kafka_NewTopic_set_config(nt, c[0], c[1]);
        bad = c[0];
    }
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_NewTopic_destroy(nt);
        jc_error_set(err, JC_ERR_KAFKA, "topic %s: %s: %s", name, bad, rd_kafka_err2str(e));
        return NULL;
    }
    return nt;
}

/* Check each topic's result: created, already there (a concurrent creator), or an error. */
static jc_status_t read_create_results(rd_kafka_event_t *ev, jc_topic_state_t s[JC_TOPIC_COUNT],
                                       jc_error_t *err)
{
    size_t n = 0;
    const rd_kafka_topic_result_t **res =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    for (size_t r = 0; r < n; r++) {
        rd_kafka_resp_err_t e = rd_kafka_topic_result_error(res[r]);
        const char *name = rd_kafka_topic_result_name(res[r]);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
            return jc_error_set(err, jc_kafka_status(e), "create topic %s: %s", name,
                                rd_kafka_topic_result_error_string(res[r]));
        for (int i = 0; i < JC_TOPIC_COUNT; i++)
            if (e == RD_KAFKA_RESP_ERR_NO_ERROR && strcmp(s[i].name, name) == 0)
                s[i].created = true;
    }
    return JC_OK;
}

static jc_status_t create_missing(jc_admin_t *a, const jc_topic_settings_t *set,
                                  jc_topic_state_t s[JC_TOPIC_COUNT], jc_error_t *err)
{
    rd_kafka_NewTopic_t *nts[JC_TOPIC_COUNT];
    size_t n = 0;
    jc_status_t st = JC_OK;
    for (int i = 0; i < JC_TOPIC_COUNT && st == JC_OK; i++) {
        if (s[i].exists)
            continue;
        if ((nts[n] = new_topic(s[i].name, set, err)) == NULL)
            st = JC_ERR_INVALID_ARG;
        else
            n++;
    }
    if (st == JC_OK && n > 0) {
        rd_kafka_queue_t *q = rd_kafka_queue_new(a->rk);
        rd_kafka_AdminOptions_t *o = admin_options(a, RD_KAFKA_ADMIN_OP_CREATETOPICS);
        rd_kafka_CreateTopics(a->rk, nts, n, o, q);
        rd_kafka_event_t *ev = await_result(a, q, "create topics", &st, err);
        if (st == JC_OK)
            st = read_create_results(ev, s, err);
        if (ev != NULL)
            rd_kafka_event_destroy(ev);
        rd_kafka_AdminOptions_destroy(o);
        rd_kafka_queue_destroy(q);
    }
    rd_kafka_NewTopic_destroy_array(nts, n);
    return st;
}

static bool all_exist(const jc_topic_state_t s[JC_TOPIC_COUNT])
{
    for (int i = 0; i < JC_TOPIC_COUNT; i++)
        if (!s[i].exists)
            return false;
    return true;
}

/* Describe until every topic is in the metadata with a leader for each partition, or the
 * timeout passes. */
static jc_status_t await_topics(jc_admin_t *a, jc_topic_state_t s[JC_TOPIC_COUNT],
                                jc_error_t *err)
{
    int64_t deadline = jc_mono_ms() + a->timeout_ms;
    for (;;) {
        jc_status_t st = JC_OK;
        bool ready = true, one_ready;
        for (int i = 0; i < JC_TOPIC_COUNT && st == JC_OK; i++) {
            st = describe_topic(a, a->names[i], &s[i], &one_ready, err);
            ready = ready && one_ready;
        }
        if (st != JC_OK || (ready && all_exist(s)))
            return st;
        if (jc_mono_ms() > deadline)
            return jc_error_set(err, JC_ERR_TIMEOUT, "created topics not ready (in the "
                                "metadata, with partition leaders) within %d ms",
                                a->timeout_ms);
        nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
    }
}

/* The replication factor for JC_TOPIC_AUTO_REPLICAS: the brokers a metadata answer lists. */
static jc_status_t auto_replicas(jc_admin_t *a, int *replicas, jc_error_t *err)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(a->rk, 0, NULL, &md, a->timeout_ms);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
        return jc_error_set(err, jc_kafka_status(e), "kafka metadata request (the number of "
                            "brokers): %s", rd_kafka_err2str(e));
    *replicas = md->broker_cnt < JC_TOPIC_AUTO_REPLICAS ? md->broker_cnt : JC_TOPIC_AUTO_REPLICAS;
    rd_kafka_metadata_destroy(md);
    return *replicas >= 1 ? JC_OK : jc_error_set(err, JC_ERR_KAFKA, "kafka metadata lists no "
                                                 "broker");
}

jc_status_t jc_admin_create_topics(jc_admin_t *a, const jc_topic_settings_t *settings,
                                   jc_topic_state_t out[JC_TOPIC_COUNT], jc_error_t *err)
{
    static const jc_topic_settings_t defaults = JC_TOPIC_SETTINGS_DEFAULT;
    jc_topic_settings_t set_local = settings ? *settings : defaults;
    const jc_topic_settings_t *set = &set_local;
    jc_topic_state_t local[JC_TOPIC_COUNT];
    jc_topic_state_t *s = out ? out : local;
    if (a == NULL || set->partitions < 1 || set->replication_factor < 0)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "create topics: a client, at least one "
                            "partition and a replication factor of at least 0 (0: from the "
                            "cluster) are required");
    jc_status_t st = JC_OK;
    if (set->replication_factor == 0)
        st = auto_replicas(a, &set_local.replication_factor, err);
    if (st == JC_OK)
        st = jc_admin_describe_topics(a, s, err);
    if (st == JC_OK)
        st = check_partitions(s, set->partitions, err);
    if (st == JC_OK)
        st = check_timestamp_types(s, err);
    if (st == JC_OK && !all_exist(s)) {
        st = create_missing(a, set, s, err);
        if (st == JC_OK)
            st = await_topics(a, s, err);
        if (st == JC_OK)
            st = describe_timestamp_types(a, s, err);
        if (st == JC_OK)
            st = check_partitions(s, set->partitions, err);
        if (st == JC_OK)
            st = check_timestamp_types(s, err);
    }
    return st;
}

/* ---- deleting (scratch topics) ---- */

static jc_status_t read_delete_results(rd_kafka_event_t *ev, jc_error_t *err)
{
    size_t n = 0;
    const rd_kafka_topic_result_t **res =
        rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &n);
    for (size_t r = 0; r < n; r++) {
        rd_kafka_resp_err_t e = rd_kafka_topic_result_error(res[r]);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
            return jc_error_set(err, jc_kafka_status(e), "delete topic %s: %s",
                                rd_kafka_topic_result_name(res[r]),
                                rd_kafka_topic_result_error_string(res[r]));
    }
    return JC_OK;
}

jc_status_t jc_admin_delete_topics(jc_admin_t *a, jc_error_t *err)
{
    jc_topic_state_t s[JC_TOPIC_COUNT];
    jc_status_t st = jc_admin_describe_topics(a, s, err);
    rd_kafka_DeleteTopic_t *dts[JC_TOPIC_COUNT];
    size_t n = 0;
    for (int i = 0; i < JC_TOPIC_COUNT && st == JC_OK; i++)
        if (s[i].exists)
            dts[n++] = rd_kafka_DeleteTopic_new(s[i].name);
    if (st == JC_OK && n > 0) {
        rd_kafka_queue_t *q = rd_kafka_queue_new(a->rk);
        rd_kafka_AdminOptions_t *o = admin_options(a, RD_KAFKA_ADMIN_OP_DELETETOPICS);
        rd_kafka_DeleteTopics(a->rk, dts, n, o, q);
        rd_kafka_event_t *ev = await_result(a, q, "delete topics", &st, err);
        if (st == JC_OK)
            st = read_delete_results(ev, err);
        if (ev != NULL)
            rd_kafka_event_destroy(ev);
        rd_kafka_AdminOptions_destroy(o);
        rd_kafka_queue_destroy(q);
    }
    rd_kafka_DeleteTopic_destroy_array(dts, n);
    return st;
}

/* ---- ACLs ---- */

/* jiceng's resource kinds and operations, and librdkafka's: described once, used both ways. */
static const struct {
    jc_acl_resource_t jc;
    rd_kafka_ResourceType_t rd;
    const char *name;
} acl_resources[] = {
    {JC_ACL_TOPIC, RD_KAFKA_RESOURCE_TOPIC, "TOPIC"},
    {JC_ACL_GROUP, RD_KAFKA_RESOURCE_GROUP, "GROUP"},
    {JC_ACL_CLUSTER, RD_KAFKA_RESOURCE_BROKER, "CLUSTER"},
};

static const struct {
    jc_acl_operation_t jc;
    rd_kafka_AclOperation_t rd;
    const char *name;
} acl_operations[] = {
    {JC_ACL_ALL, RD_KAFKA_ACL_OPERATION_ALL, "ALL"},
    {JC_ACL_READ, RD_KAFKA_ACL_OPERATION_READ, "READ"},
    {JC_ACL_WRITE, RD_KAFKA_ACL_OPERATION_WRITE, "WRITE"},
    {JC_ACL_CREATE, RD_KAFKA_ACL_OPERATION_CREATE, "CREATE"},
    {JC_ACL_DELETE, RD_KAFKA_ACL_OPERATION_DELETE, "DELETE"},
    {JC_ACL_ALTER, RD_KAFKA_ACL_OPERATION_ALTER, "ALTER"},
    {JC_ACL_DESCRIBE, RD_KAFKA_ACL_OPERATION_DESCRIBE, "DESCRIBE"},
    {JC_ACL_IDEMPOTENT_WRITE, RD_KAFKA_ACL_OPERATION_IDEMPOTENT_WRITE, "IDEMPOTENT_WRITE"},
};

#define NRESOURCES (sizeof acl_resources / sizeof acl_resources[0])
#define NOPERATIONS (sizeof acl_operations / sizeof acl_operations[0])

const char *jc_acl_resource_name(jc_acl_resource_t r)
{
    for (size_t i = 0; i < NRESOURCES; i++)
        if (acl_resources[i].jc == r)
            return acl_resources[i].name;
    return "OTHER";
}

const char *jc_acl_operation_name(jc_acl_operation_t op)
{
    for (size_t i = 0; i < NOPERATIONS; i++)
        if (acl_operations[i].jc == op)
            return acl_operations[i].name;
    return "OTHER";
}

/* librdkafka's binding (or filter, with ANY/NULL fields) for acl. */
static rd_kafka_AclBinding_t *to_binding(const jc_acl_t *acl, jc_error_t *err)
{
    char errstr[512];
    rd_kafka_ResourceType_t r = RD_KAFKA_RESOURCE_UNKNOWN;
    rd_kafka_AclOperation_t op = RD_KAFKA_ACL_OPERATION_UNKNOWN;
    for (size_t i = 0; i < NRESOURCES; i++)
        if (acl_resources[i].jc == acl->resource)
            r = acl_resources[i].rd;
    for (size_t i = 0; i < NOPERATIONS; i++)
        if (acl_operations[i].jc == acl->operation)
            op = acl_operations[i].rd;
    rd_kafka_AclBinding_t *b = rd_kafka_AclBinding_new(
        r, acl->name, acl->prefixed ? RD_KAFKA_RESOURCE_PATTERN_PREFIXED
                                    : RD_KAFKA_RESOURCE_PATTERN_LITERAL,
        acl->principal, "*", op,
        acl->deny ? RD_KAFKA_ACL_PERMISSION_TYPE_DENY : RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW,
        errstr, sizeof errstr);
    if (b == NULL)
        jc_error_set(err, JC_ERR_INVALID_ARG, "ACL %s %s %s for %s: %s",
                     jc_acl_operation_name(acl->operation), jc_acl_resource_name(acl->resource),
                     acl->name, acl->principal, errstr);
    return b;
}

/* jiceng's form of a binding librdkafka listed. */
static void from_binding(const rd_kafka_AclBinding_t *b, jc_acl_t *acl)
{
    memset(acl, 0, sizeof *acl);
    const char *principal = rd_kafka_AclBinding_principal(b), *name = rd_kafka_AclBinding_name(b);
    snprintf(acl->principal, sizeof acl->principal, "%s", principal ? principal : "");
    snprintf(acl->name, sizeof acl->name, "%s", name ? name : "");
    acl->resource = JC_ACL_RESOURCE_OTHER;
    for (size_t i = 0; i < NRESOURCES; i++)
        if (acl_resources[i].rd == rd_kafka_AclBinding_restype(b))
            acl->resource = acl_resources[i].jc;
    acl->operation = JC_ACL_OPERATION_OTHER;
    for (size_t i = 0; i < NOPERATIONS; i++)
        if (acl_operations[i].rd == rd_kafka_AclBinding_operation(b))
            acl->operation = acl_operations[i].jc;
    acl->prefixed =
        rd_kafka_AclBinding_resource_pattern_type(b) == RD_KAFKA_RESOURCE_PATTERN_PREFIXED;
    acl->deny = rd_kafka_AclBinding_permission_type(b) == RD_KAFKA_ACL_PERMISSION_TYPE_DENY;
}

/* Send one ACL request (run) and wait for its result event. */
static rd_kafka_event_t *acl_request(jc_admin_t *a, rd_kafka_admin_op_t op, const char *what,
                                     void (*run)(jc_admin_t *, rd_kafka_AdminOptions_t *,
                                                 rd_kafka_queue_t *, void *),
                                     void *arg, jc_status_t *st, jc_error_t *err)
{
    rd_kafka_queue_t *q = rd_kafka_queue_new(a->rk);
    rd_kafka_AdminOptions_t *o = admin_options(a, op);
    run(a, o, q, arg);
    rd_kafka_event_t *ev = await_result(a, q, what, st, err);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_queue_destroy(q);
    return ev;
}

struct binding_list {
    rd_kafka_AclBinding_t **v;
    size_t n;
};

static void run_create(jc_admin_t *a, rd_kafka_AdminOptions_t *o, rd_kafka_queue_t *q,
                       void *arg)
{
    struct binding_list *l = arg;
    rd_kafka_CreateAcls(a->rk, l->v, l->n, o, q);
}

static void run_delete(jc_admin_t *a, rd_kafka_AdminOptions_t *o, rd_kafka_queue_t *q,
                       void *arg)
{
    struct binding_list *l = arg;
    rd_kafka_DeleteAcls(a->rk, l->v, l->n, o, q);
}

static void run_describe(jc_admin_t *a, rd_kafka_AdminOptions_t *o, rd_kafka_queue_t *q,
                         void *arg)
{
    struct binding_list *l = arg;
    rd_kafka_DescribeAcls(a->rk, l->v[0], o, q);
}

static jc_status_t read_create_acl_results(rd_kafka_event_t *ev, const jc_acl_t *acls,
                                           size_t n, jc_error_t *err)
{
    size_t got = 0;
    const rd_kafka_acl_result_t **res =
        rd_kafka_CreateAcls_result_acls(rd_kafka_event_CreateAcls_result(ev), &got);
    for (size_t i = 0; i < got && i < n; i++) {
        const rd_kafka_error_t *e = rd_kafka_acl_result_error(res[i]);
        if (e != NULL && rd_kafka_error_code(e) != RD_KAFKA_RESP_ERR_NO_ERROR)
            return jc_error_set(err, JC_ERR_KAFKA, "create ACL %s %s %s for %s: %s",
                                jc_acl_operation_name(acls[i].operation),
                                jc_acl_resource_name(acls[i].resource), acls[i].name,
                                acls[i].principal, rd_kafka_error_string(e));
    }
    if (got != n)
        return jc_error_set(err, JC_ERR_KAFKA, "create ACLs: %zu results for %zu bindings",
                            got, n);
    return JC_OK;
}

jc_status_t jc_admin_create_acls(jc_admin_t *a, const jc_acl_t *acls, size_t n, jc_error_t *err)
{
    if (a == NULL || (acls == NULL && n > 0))
        return jc_error_set(err, JC_ERR_INVALID_ARG, "jc_admin_create_acls: NULL argument");
    if (n == 0)
        return JC_OK;
    struct binding_list l = {calloc(n, sizeof *l.v), 0};
    if (l.v == NULL)
        return jc_error_set(err, JC_ERR_NOMEM, "out of memory for ACLs");
    jc_status_t st = JC_OK;
    for (; l.n < n && st == JC_OK; l.n++)
        if ((l.v[l.n] = to_binding(&acls[l.n], err)) == NULL)
            st = JC_ERR_INVALID_ARG;
    if (st == JC_OK) {
        rd_kafka_event_t *ev = acl_request(a, RD_KAFKA_ADMIN_OP_CREATEACLS, "create ACLs",
                                           run_create, &l, &st, err);
        if (st == JC_OK)
            st = read_create_acl_results(ev, acls, n, err);
        if (ev != NULL)
            rd_kafka_event_destroy(ev);
    }
    for (size_t i = 0; i < l.n; i++)
        if (l.v[i] != NULL)
            rd_kafka_AclBinding_destroy(l.v[i]);
    free(l.v);
    return st;
}

/* A filter for every binding of principal (NULL: of anyone), on any resource. */
static rd_kafka_AclBindingFilter_t *principal_filter(const char *principal, jc_error_t *err)
{
    char errstr[512];
    rd_kafka_AclBindingFilter_t *f = rd_kafka_AclBindingFilter_new(
        RD_KAFKA_RESOURCE_ANY, NULL, RD_KAFKA_RESOURCE_PATTERN_ANY, principal, NULL,
        RD_KAFKA_ACL_OPERATION_ANY, RD_KAFKA_ACL_PERMISSION_TYPE_ANY, errstr, sizeof errstr);
    if (f == NULL)
        jc_error_set(err, JC_ERR_INVALID_ARG, "ACL filter for %s: %s",
                     principal ? principal : "everyone", errstr);
    return f;
}

/* Send one DeleteAcls request with the n filters in l; *deleted (may be NULL) is increased by
 * how many bindings matched. what names the request in messages. */
static jc_status_t delete_filters(jc_admin_t *a, struct binding_list *l, const char *what,
                                  size_t *deleted, jc_error_t *err)
{
    jc_status_t st = JC_OK;
    rd_kafka_event_t *ev = acl_request(a, RD_KAFKA_ADMIN_OP_DELETEACLS, what, run_delete, l,
                                       &st, err);
    size_t nres = 0;
    const rd_kafka_DeleteAcls_result_response_t **res =
        st == JC_OK ? rd_kafka_DeleteAcls_result_responses(rd_kafka_event_DeleteAcls_result(ev),
                                                           &nres)
                    : NULL;
    for (size_t i = 0; i < nres && st == JC_OK; i++) {
        const rd_kafka_error_t *e = rd_kafka_DeleteAcls_result_response_error(res[i]);
        size_t matched = 0;
        if (e != NULL && rd_kafka_error_code(e) != RD_KAFKA_RESP_ERR_NO_ERROR)
            st = jc_error_set(err, JC_ERR_KAFKA, "%s: %s", what, rd_kafka_error_string(e));
        rd_kafka_DeleteAcls_result_response_matching_acls(res[i], &matched);
        if (deleted != NULL)
            *deleted += matched;
    }
    if (ev != NULL)
        rd_kafka_event_destroy(ev);
    return st;
}

jc_status_t jc_admin_delete_acls(jc_admin_t *a, const char *principal, size_t *deleted,
                                 jc_error_t *err)
{
    if (deleted != NULL)
        *deleted = 0;
    if (a == NULL || principal == NULL)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "jc_admin_delete_acls: a principal is "
                            "required");
    rd_kafka_AclBindingFilter_t *f = principal_filter(principal, err);
    if (f == NULL)
        return JC_ERR_INVALID_ARG;
    char what[200];
    snprintf(what, sizeof what, "delete the ACLs of %s", principal);
    struct binding_list l = {&f, 1};
    jc_status_t st = delete_filters(a, &l, what, deleted, err);
    rd_kafka_AclBinding_destroy(f);
    return st;
}

/* Delete exactly the n bindings acls (those that exist); *deleted is increased by how many
 * did. */
static jc_status_t delete_exact(jc_admin_t *a, const jc_acl_t *acls, size_t n, size_t *deleted,
                                jc_error_t *err)
{
    if (n == 0)
        return JC_OK;
    rd_kafka_AclBinding_t *v[JC_ACL_SET_MAX];
    struct binding_list l = {v, 0};
    jc_status_t st = n <= JC_ACL_SET_MAX ? JC_OK
                                        : jc_error_set(err, JC_ERR_INVALID_ARG, "delete %zu ACLs: "
                                                       "at most %d at once", n, JC_ACL_SET_MAX);
    for (; st == JC_OK && l.n < n; l.n++)
        if ((v[l.n] = to_binding(&acls[l.n], err)) == NULL)
            st = JC_ERR_INVALID_ARG;
    char what[200];
    snprintf(what, sizeof what, "delete the ACLs of %s", n > 0 ? acls[0].principal : "");
    if (st == JC_OK)
        st = delete_filters(a, &l, what, deleted, err);
    for (size_t i = 0; i < l.n; i++)
        if (v[i] != NULL)
            rd_kafka_AclBinding_destroy(v[i]);
    return st;
}

static int acl_cmp(const void *pa, const void *pb)
{
    const jc_acl_t *x = pa, *y = pb;
    int c = strcmp(x->principal, y->principal);
    if (c == 0)
        c = (int)x->resource - (int)y->resource;
    if (c == 0)
        c = strcmp(x->name, y->name);
    if (c == 0)
        c = (int)x->operation - (int)y->operation;
    return c != 0 ? c : (int)x->deny - (int)y->deny;
}

jc_status_t jc_admin_describe_acls(jc_admin_t *a, const char *principal, jc_acl_t **out,
                                   size_t *n, jc_error_t *err)
{
    if (a == NULL || out == NULL || n == NULL)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "jc_admin_describe_acls: NULL argument");
    *out = NULL;
    *n = 0;
    rd_kafka_AclBindingFilter_t *f = principal_filter(principal, err);
    if (f == NULL)
        return JC_ERR_INVALID_ARG;
    struct binding_list l = {&f, 1};
    jc_status_t st = JC_OK;
    rd_kafka_event_t *ev = acl_request(a, RD_KAFKA_ADMIN_OP_DESCRIBEACLS, "describe ACLs",
                                       run_describe, &l, &st, err);
    size_t got = 0;
    const rd_kafka_AclBinding_t **b =
        st == JC_OK ? rd_kafka_DescribeAcls_result_acls(rd_kafka_event_DescribeAcls_result(ev),
                                                        &got)
                    : NULL;
    if (got > 0 && (*out = calloc(got, sizeof **out)) == NULL)
        st = jc_error_set(err, JC_ERR_NOMEM, "out of memory for %zu ACLs", got);
    for (size_t i = 0; st == JC_OK && i < got; i++)
        from_binding(b[i], &(*out)[i]);
    if (st == JC_OK && got > 0) {
        qsort(*out, got, sizeof **out, acl_cmp);
        *n = got;
    }
    if (ev != NULL)
        rd_kafka_event_destroy(ev);
    rd_kafka_AclBinding_destroy(f);
    return st;
}

/* ---- roles ---- */

static bool same_binding(const jc_acl_t *x, const jc_acl_t *y)
{
    return x->resource == y->resource && x->operation == y->operation && x->deny == y->deny &&
           x->prefixed == y->prefixed && strcmp(x->name, y->name) == 0;
}

jc_status_t jc_admin_grant_role(jc_admin_t *a, jc_acl_role_t role, const char *principal,
                                size_t *created, jc_error_t *err)
{
    if (created != NULL)
        *created = 0;
    if (a == NULL)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "jc_admin_grant_role: NULL client");
    jc_acl_t want[JC_ACL_SET_MAX], *have = NULL;
    size_t nwant = 0, nhave = 0, missing = 0;
    jc_status_t st = jc_acl_role_set(role, principal, a->prefix, JC_ACL_SCOPE_ALL, want, &nwant,
                                     err);
    if (st == JC_OK)
        st = jc_admin_describe_acls(a, principal, &have, &nhave, err);
    for (size_t i = 0; st == JC_OK && i < nwant; i++) {
        bool present = false;
        for (size_t k = 0; k < nhave && !present; k++)
            present = same_binding(&have[k], &want[i]);
        missing += !present;
    }
    free(have);
    if (st == JC_OK && missing > 0)
        st = jc_admin_create_acls(a, want, nwant, err);
    if (st == JC_OK && created != NULL)
        *created = missing;
    return st;
}

/* true if principal (whose remaining bindings are have) no longer needs role's shared scope */
static bool shared_unneeded(const jc_admin_t *a, jc_acl_role_t role, const jc_acl_t *have,
                            size_t nhave)
{
    if (!jc_acl_role_has_topic_scope(role))
        return a->prefix[0] == '\0';
    for (size_t k = 0; k < nhave; k++)
        if (jc_acl_role_topic_binding(role, &have[k]))
            return false;
    return true;
}

jc_status_t jc_admin_revoke_role(jc_admin_t *a, jc_acl_role_t role, const char *principal,
                                 size_t *deleted, jc_error_t *err)
{
    if (deleted != NULL)
        *deleted = 0;
    if (a == NULL)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "jc_admin_revoke_role: NULL client");
    size_t gone = 0, n = 0, nhave = 0;
    jc_acl_t set[JC_ACL_SET_MAX], *have = NULL;
    jc_status_t st = jc_acl_role_set(role, principal, a->prefix, JC_ACL_SCOPE_TOPICS, set, &n,
                                     err);
    if (st == JC_OK)
        st = delete_exact(a, set, n, &gone, err);
    if (st == JC_OK)
        st = jc_admin_describe_acls(a, principal, &have, &nhave, err);
    if (st == JC_OK && shared_unneeded(a, role, have, nhave)) {
        st = jc_acl_role_set(role, principal, a->prefix, JC_ACL_SCOPE_SHARED, set, &n, err);
        if (st == JC_OK)
            st = delete_exact(a, set, n, &gone, err);
    }
    free(have);
    if (deleted != NULL)
        *deleted = gone;
    return st;
}
