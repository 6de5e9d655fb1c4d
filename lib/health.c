/*
 * health.c: round-trip checks of Kafka and PostgreSQL (see jiceng/health.h).
 *
 * Kafka: a metadata request names the broker (and fails fast when nobody answers), the admin API
 * creates the one-partition health topic if it is missing, a producer sends a unique probe and
 * waits for its delivery report (partition, offset), and a group-less consumer assigned to that
 * exact offset reads it back for a byte comparison. PostgreSQL: one connection runs
 * version(), creates a temporary table, inserts the probe with a bound parameter and selects it.
 */
#include "jiceng/health.h"

#include "jiceng/jtime.h"
#include "kafkautil.h"
#include "pgexec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>

static void make_probe(char *buf, size_t len)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(buf, len, "health probe pid=%ld t=%lld.%09ld", (long)getpid(),
             (long long)ts.tv_sec, ts.tv_nsec);
}

/* ---- Kafka ---------------------------------------------------------------------------- */

struct delivery {
    int done;
    rd_kafka_resp_err_t err;
    int32_t partition;
    int64_t offset;
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    struct delivery *d = m->_private;
    d->done = 1;
    d->err = m->err;
    d->partition = m->partition;
    d->offset = m->offset;
}

/* Where the probe goes: the brokers, the client's own properties (its identity), the deadline. */
struct target {
    const char *bootstrap;
    const char *const *props;
    int timeout_ms;
};

static rd_kafka_t *new_client(rd_kafka_type_t type, const struct target *t, jc_error_t *err)
{
    const char *bootstrap = t->bootstrap;
    int timeout_ms = t->timeout_ms;
    char errstr[512];
    char timeout[32];
    snprintf(timeout, sizeof timeout, "%d", timeout_ms);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *const producer[] = {"bootstrap.servers", bootstrap, "message.timeout.ms", timeout,
                                    "acks", "all", "log_level", "2", NULL};
    const char *const consumer[] = {"bootstrap.servers", bootstrap, "group.id", JC_HEALTH_GROUP,
                                    "enable.auto.commit", "false", "log_level", "2", NULL};
    /* log_level 2: the check reports failures itself */
    if (jc_kafka_conf_apply(conf, type == RD_KAFKA_PRODUCER ? producer : consumer, err) != JC_OK ||
        jc_kafka_conf_apply(conf, t->props, err) != JC_OK) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    if (type == RD_KAFKA_PRODUCER)
        rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_t *rk = rd_kafka_new(type, conf, errstr, sizeof errstr);
    if (rk == NULL) {
        rd_kafka_conf_destroy(conf);
        jc_error_set(err, JC_ERR_KAFKA, "rd_kafka_new: %s", errstr);
    }
    return rk;
}

static jc_status_t describe_broker(rd_kafka_t *rk, const char *bootstrap, int timeout_ms,
                                   jc_health_report_t *report, jc_error_t *err)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, NULL, &md, timeout_ms);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
        return jc_error_set(err, e == RD_KAFKA_RESP_ERR__TRANSPORT || e == RD_KAFKA_RESP_ERR__TIMED_OUT
                                     ? JC_ERR_TIMEOUT : JC_ERR_KAFKA,
                            "kafka %s: metadata request: %s", bootstrap, rd_kafka_err2str(e));
    if (md->broker_cnt > 0)
        snprintf(report->server, sizeof report->server, "broker %d at %s:%d",
                 (int)md->brokers[0].id, md->brokers[0].host, md->brokers[0].port);
    rd_kafka_metadata_destroy(md);
    return JC_OK;
}

static jc_status_t ensure_health_topic(rd_kafka_t *rk, int timeout_ms, jc_error_t *err)
{
    char errstr[512];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(JC_HEALTH_TOPIC, 1, 1, errstr, sizeof errstr);
    if (nt == NULL)
        return jc_error_set(err, JC_ERR_KAFKA, "NewTopic %s: %s", JC_HEALTH_TOPIC, errstr);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout_ms);
    jc_status_t st = JC_OK;
    if (ev == NULL) {
        st = jc_error_set(err, JC_ERR_TIMEOUT, "create topic %s: no answer in %d ms",
                          JC_HEALTH_TOPIC, timeout_ms);
    } else if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        st = jc_error_set(err, JC_ERR_KAFKA, "create topic %s: %s", JC_HEALTH_TOPIC,
                          rd_kafka_event_error_string(ev));
    } else {
        size_t n = 0;
        const rd_kafka_topic_result_t **res =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
        for (size_t i = 0; i < n; i++) {
            rd_kafka_resp_err_t e = rd_kafka_topic_result_error(res[i]);
            if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
                st = jc_error_set(err, JC_ERR_KAFKA, "create topic %s: %s", JC_HEALTH_TOPIC,
                                  rd_kafka_topic_result_error_string(res[i]));
        }
    }
    if (ev != NULL)
        rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(nt);
    return st;
}

static jc_status_t produce_probe(const struct target *t, const char *probe,
                                 jc_health_report_t *report, jc_error_t *err)
{
    const char *bootstrap = t->bootstrap;
    int timeout_ms = t->timeout_ms;
    rd_kafka_t *rk = new_client(RD_KAFKA_PRODUCER, t, err);
    if (rk == NULL)
        return JC_ERR_KAFKA;
    jc_status_t st = describe_broker(rk, bootstrap, timeout_ms, report, err);
    if (st == JC_OK)
        st = ensure_health_topic(rk, timeout_ms, err);
    struct delivery d = {0};
    if (st == JC_OK) {
        rd_kafka_resp_err_t e = rd_kafka_producev(
            rk, RD_KAFKA_V_TOPIC(JC_HEALTH_TOPIC), RD_KAFKA_V_PARTITION(0),
            RD_KAFKA_V_VALUE((void *)probe, strlen(probe)), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_OPAQUE(&d), RD_KAFKA_V_END);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
            st = jc_error_set(err, JC_ERR_KAFKA, "produce to %s: %s", JC_HEALTH_TOPIC,
                              rd_kafka_err2str(e));
    }
    if (st == JC_OK) {
        rd_kafka_flush(rk, timeout_ms + 1000);
        if (!d.done)
            st = jc_error_set(err, JC_ERR_TIMEOUT, "produce to %s: no delivery report", JC_HEALTH_TOPIC);
        else if (d.err != RD_KAFKA_RESP_ERR_NO_ERROR)
            st = jc_error_set(err, JC_ERR_KAFKA, "delivery to %s: %s", JC_HEALTH_TOPIC,
                              rd_kafka_err2str(d.err));
        report->partition = d.partition;
        report->offset = d.offset;
    }
    rd_kafka_destroy(rk);
    return st;
}

static jc_status_t consume_probe(const struct target *t, const char *probe,
                                 const jc_health_report_t *report, jc_error_t *err)
{
    int timeout_ms = t->timeout_ms;
    rd_kafka_t *rk = new_client(RD_KAFKA_CONSUMER, t, err);
    if (rk == NULL)
        return JC_ERR_KAFKA;
    rd_kafka_topic_partition_list_t *tp = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(tp, JC_HEALTH_TOPIC, report->partition)->offset = report->offset;
    rd_kafka_resp_err_t e = rd_kafka_assign(rk, tp);
    rd_kafka_topic_partition_list_destroy(tp);
    jc_status_t st = JC_OK;
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
        st = jc_error_set(err, JC_ERR_KAFKA, "assign %s: %s", JC_HEALTH_TOPIC, rd_kafka_err2str(e));
    int64_t deadline = jc_mono_ms() + timeout_ms;
    int found = 0;
    while (st == JC_OK && !found && jc_mono_ms() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (m == NULL)
            continue;
        if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            st = jc_error_set(err, JC_ERR_KAFKA, "consume %s: %s", JC_HEALTH_TOPIC,
                              rd_kafka_message_errstr(m));
        } else if (m->offset == report->offset) {
            found = 1;
            if (m->len != strlen(probe) || memcmp(m->payload, probe, m->len) != 0)
                st = jc_error_set(err, JC_ERR_MISMATCH, "%s [%d] @%lld: read back other bytes",
                                  JC_HEALTH_TOPIC, (int)m->partition, (long long)m->offset);
        }
        rd_kafka_message_destroy(m);
    }
    if (st == JC_OK && !found)
        st = jc_error_set(err, JC_ERR_TIMEOUT, "%s [%d] @%lld: not read back within %d ms",
                          JC_HEALTH_TOPIC, (int)report->partition, (long long)report->offset,
                          timeout_ms);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return st;
}

jc_status_t jc_health_kafka(const char *bootstrap, const char *const *props, int timeout_ms,
                            jc_health_report_t *report, jc_error_t *err)
{
    const struct target t = {bootstrap, props, timeout_ms};
    jc_health_report_t local;
    if (report == NULL)
        report = &local;
    memset(report, 0, sizeof *report);
    report->partition = -1;
    report->offset = -1;
    if (bootstrap == NULL || *bootstrap == '\0' || timeout_ms <= 0)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "jc_health_kafka: bootstrap and a positive timeout are required");
    int64_t t0 = jc_mono_ms();
    char probe[96];
    make_probe(probe, sizeof probe);
    jc_status_t st = produce_probe(&t, probe, report, err);
    if (st == JC_OK)
        st = consume_probe(&t, probe, report, err);
    report->millis = (double)(jc_mono_ms() - t0);
    return st;
}

/* ---- PostgreSQL ----------------------------------------------------------------------- */

/* Run sql with up to one text parameter, named by its text in a message; on success *out (if
 * not NULL) holds the result, which the caller clears. */
static jc_status_t pg_exec(PGconn *c, const char *sql, const char *param, PGresult **out,
                           jc_error_t *err)
{
    return jc_pg_exec(c, sql, sql, param ? 1 : 0, param ? &param : NULL, out, NULL, err);
}

static jc_status_t pg_roundtrip(PGconn *c, jc_health_report_t *report, jc_error_t *err)
{
    PGresult *r = NULL;
    char probe[96];
    make_probe(probe, sizeof probe);
    jc_status_t st = pg_exec(c, "select version()", NULL, &r, err);
    if (st != JC_OK)
        return st;
    snprintf(report->server, sizeof report->server, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    if ((st = pg_exec(c, "create temporary table jc_health (id int primary key, note text not null)",
                      NULL, NULL, err)) != JC_OK ||
        (st = pg_exec(c, "insert into jc_health values (1, $1)", probe, NULL, err)) != JC_OK ||
        (st = pg_exec(c, "select note from jc_health where id = 1", NULL, &r, err)) != JC_OK)
        return st;
    if (PQntuples(r) != 1 || strcmp(PQgetvalue(r, 0, 0), probe) != 0)
        st = jc_error_set(err, JC_ERR_MISMATCH, "postgres: jc_health row read back differs");
    PQclear(r);
    return st;
}

jc_status_t jc_health_pg(const char *conninfo, jc_health_report_t *report, jc_error_t *err)
{
    jc_health_report_t local;
    if (report == NULL)
        report = &local;
    memset(report, 0, sizeof *report);
    report->partition = -1;
    report->offset = -1;
    int64_t t0 = jc_mono_ms();
    PGconn *c = PQconnectdb(conninfo != NULL ? conninfo : "");
    jc_status_t st;
    if (PQstatus(c) != CONNECTION_OK)
        st = jc_error_set(err, JC_ERR_PG, "postgres: connect: %s", PQerrorMessage(c));
    else
        st = pg_roundtrip(c, report, err);
    PQfinish(c);
    report->millis = (double)(jc_mono_ms() - t0);
    return st;
}
