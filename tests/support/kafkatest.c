/*
 * kafkatest.c: scratch topics, watermarks and program runs for producer-side integration tests
 * (see kafkatest.h). Topics are made and removed with libjiceng's own admin API; watermarks
 * come from a plain librdkafka consumer handle.
 */
#include "kafkatest.h"

#include <librdkafka/rdkafka.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void jc_test_topic_prefix(char *buf, size_t len)
{
    static int counter;
    snprintf(buf, len, "jt%ld-%lld-%d.", (long)getpid(), (long long)time(NULL), ++counter);
}

void jc_test_props(const char *props[5], const char *prefix)
{
    props[0] = "bootstrap.servers";
    props[1] = jc_test_env("JICENG_KAFKA_BOOTSTRAP");
    props[2] = "jiceng.topic.prefix";
    props[3] = prefix;
    props[4] = NULL;
}

#define MAX_TRACKED 32
static char tracked[MAX_TRACKED][64];

void jc_test_topics_track(const char *prefix)
{
    for (int i = 0; i < MAX_TRACKED; i++) {
        if (tracked[i][0] == '\0') {
            snprintf(tracked[i], sizeof tracked[i], "%s", prefix);
            return;
        }
    }
    fail_msg("more than %d scratch topic prefixes", MAX_TRACKED);
}

static void untrack(const char *prefix)
{
    for (int i = 0; i < MAX_TRACKED; i++)
        if (strcmp(tracked[i], prefix) == 0)
            tracked[i][0] = '\0';
}

int jc_test_topics_cleanup(void **state)
{
    (void)state;
    for (int i = 0; i < MAX_TRACKED; i++) {
        if (tracked[i][0] != '\0') {
            char prefix[64];
            memcpy(prefix, tracked[i], sizeof prefix);
            jc_test_topics_delete(prefix);
        }
    }
    return 0;
}

void jc_test_topics_create(const char *prefix, int partitions)
{
    jc_test_topics_track(prefix);
    const char *props[5];
    jc_test_props(props, prefix);
    jc_error_t err;
    jc_admin_t *a = jc_admin_new(props, 30000, &err);
    if (a == NULL)
        fail_msg("admin client: %s", err.message);
    jc_topic_settings_t s = {partitions, 1, -1};
    jc_status_t st = jc_admin_create_topics(a, &s, NULL, &err);
    jc_admin_free(a);
    if (st != JC_OK)
        fail_msg("create topics under %s: %s", prefix, err.message);
}

void jc_test_topics_delete(const char *prefix)
{
    untrack(prefix);
    const char *props[5];
    jc_test_props(props, prefix);
    jc_error_t err;
    jc_admin_t *a = jc_admin_new(props, 30000, &err);
    if (a == NULL || jc_admin_delete_topics(a, &err) != JC_OK)
        fprintf(stderr, "note: could not delete topics under %s: %s\n", prefix, err.message);
    jc_admin_free(a);
}

int64_t jc_test_topic_messages(const char *topic)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", jc_test_env("JICENG_KAFKA_BOOTSTRAP"),
                          errstr, sizeof errstr) != RD_KAFKA_CONF_OK)
        fail_msg("%s", errstr);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    assert_non_null(rk);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, 20000);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR || md->topic_cnt != 1 || md->topics[0].err != 0)
        fail_msg("metadata of %s: %s", topic, rd_kafka_err2str(e ? e : md->topics[0].err));
    int64_t total = 0;
    for (int p = 0; p < md->topics[0].partition_cnt; p++) {
        int64_t lo, hi;
        /* a partition just created may briefly answer "not leader": retry for a while */
        for (int attempt = 0; attempt < 100; attempt++) {
            e = rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 20000);
            if (e != RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION &&
                e != RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE)
                break;
            nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
        }
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
            fail_msg("watermarks of %s [%d]: %s", topic, p, rd_kafka_err2str(e));
        total += hi;
    }
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    return total;
}

int jc_test_shell(const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof cmd);
    fprintf(stderr, "$ %s\n", cmd);
    int status = system(cmd);
    return status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

char *jc_test_slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    size_t got;
    while ((got = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += got;
        if (cap - len - 1 == 0) {
            buf = realloc(buf, cap *= 2);
            assert_non_null(buf);
        }
    }
    fclose(f);
    buf[len] = '\0';
    return buf;
}
