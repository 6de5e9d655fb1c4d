/*
 * admin.c: creating and describing the pipeline's topics (see jiceng/admin.h).
 *
 * The client is a producer-type librdkafka handle (any handle carries the admin API) with
 * allow.auto.create.topics=false, so that describing a missing topic never creates it. A topic
 * is described by a metadata request for that one topic: UNKNOWN_TOPIC_OR_PART means missing,
 * otherwise its partition count and partition 0's replica count are read. Creation first
 * describes all five topics and refuses if any existing one has another partition count, then
 * sends one CreateTopics request for the missing ones (retention.ms set per topic), accepts
 * TOPIC_ALREADY_EXISTS from a concurrent creator, and finally polls the metadata until every
 * topic is visible with a leader for each partition (so that a producer started right after
 * can write to them) and re-checks the counts.
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
    char names[JC_TOPIC_COUNT][JC_TOPIC_NAME_MAX + 1];
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
    if (topic_names(a, jc_kafka_prop(props, JC_PROP_TOPIC_PREFIX, ""), err) != JC_OK ||
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
    return st;
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

static rd_kafka_NewTopic_t *new_topic(const char *name, const jc_topic_settings_t *set,
                                      jc_error_t *err)
{
    char errstr[512], retention[32];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(name, set->partitions,
                                                    set->replication_factor, errstr,
                                                    sizeof errstr);
    if (nt == NULL) {
        jc_error_set(err, JC_ERR_INVALID_ARG, "topic %s: %s", name, errstr);
        return NULL;
    }
    snprintf(retention, sizeof retention, "%" PRId64, set->retention_ms);
    rd_kafka_resp_err_t e = rd_kafka_NewTopic_set_config(nt, "retention.ms", retention);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_NewTopic_destroy(nt);
        jc_error_set(err, JC_ERR_KAFKA, "topic %s: retention.ms: %s", name, rd_kafka_err2str(e));
        return NULL;
    }
    return nt;
}

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

jc_status_t jc_admin_create_topics(jc_admin_t *a, const jc_topic_settings_t *settings,
                                   jc_topic_state_t out[JC_TOPIC_COUNT], jc_error_t *err)
{
    static const jc_topic_settings_t defaults = JC_TOPIC_SETTINGS_DEFAULT;
    const jc_topic_settings_t *set = settings ? settings : &defaults;
    jc_topic_state_t local[JC_TOPIC_COUNT];
    jc_topic_state_t *s = out ? out : local;
    if (a == NULL || set->partitions < 1 || set->replication_factor < 1)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "create topics: a client, at least one "
                            "partition and a replication factor of at least 1 are required");
    jc_status_t st = jc_admin_describe_topics(a, s, err);
    if (st == JC_OK)
        st = check_partitions(s, set->partitions, err);
    if (st == JC_OK && !all_exist(s)) {
        st = create_missing(a, set, s, err);
        if (st == JC_OK)
            st = await_topics(a, s, err);
        if (st == JC_OK)
            st = check_partitions(s, set->partitions, err);
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
