/*
 * kafkatest.c: scratch topics, client properties, the load generator's keys, watermarks and
 * program runs for producer-side integration tests (see kafkatest.h). Topics are made and
 * removed with libjiceng's own admin API as the administrator; their ACLs come from the stack
 * script; watermarks come from a plain librdkafka consumer handle. An identity's properties are
 * read once from its NAME.conf and kept for the life of the process.
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

#include "jiceng/envfile.h"

void jc_test_topic_prefix(char *buf, size_t len)
{
    static int counter;
    snprintf(buf, len, "jt%ld-%lld-%d.", (long)getpid(), (long long)time(NULL), ++counter);
}

/* ---- identities ---- */

#define MAX_IDENTITIES 8
#define MAX_ENTRIES 12

struct identity {
    char name[32];
    int n;                      /* entries */
    char *kv[2 * MAX_ENTRIES];  /* librdkafka name, value */
};

static struct identity identities[MAX_IDENTITIES];

static jc_status_t on_conf_entry(const char *key, const char *value, int line, void *ud,
                                 jc_error_t *err)
{
    (void)line;
    (void)err;
    struct identity *id = ud;
    if (strncmp(key, "kafka.", 6) != 0)
        return JC_OK;
    if (id->n == MAX_ENTRIES)
        fail_msg("more than %d kafka.* entries in %s.conf", MAX_ENTRIES, id->name);
    id->kv[2 * id->n] = strdup(key + 6);
    id->kv[2 * id->n + 1] = strdup(value);
    assert_non_null(id->kv[2 * id->n]);
    assert_non_null(id->kv[2 * id->n + 1]);
    id->n++;
    return JC_OK;
}

/* The identity's entries, read from $JICENG_CLIENTS/NAME.conf the first time. */
static const struct identity *identity(const char *name)
{
    int i = 0;
    for (; i < MAX_IDENTITIES && identities[i].name[0] != '\0'; i++)
        if (strcmp(identities[i].name, name) == 0)
            return &identities[i];
    if (i == MAX_IDENTITIES)
        fail_msg("more than %d identities", MAX_IDENTITIES);
    struct identity *id = &identities[i];
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.conf", jc_test_env("JICENG_CLIENTS"), name);
    jc_error_t err;
    if (jc_envfile_parse(path, on_conf_entry, id, &err) != JC_OK)
        fail_msg("the stack's identity %s: %s", name, err.message);
    if (id->n == 0)
        fail_msg("%s has no kafka.* entries", path);
    snprintf(id->name, sizeof id->name, "%s", name);
    return id;
}

void jc_test_props_add(const char *props[JC_TEST_PROPS_MAX], const char *name, const char *value)
{
    int n = 0;
    while (props[n] != NULL)
        n += 2;
    if (n + 2 >= JC_TEST_PROPS_MAX)
        fail_msg("more than %d test properties", JC_TEST_PROPS_MAX / 2 - 1);
    props[n] = name;
    props[n + 1] = value;
    props[n + 2] = NULL;
}

void jc_test_props(const char *props[JC_TEST_PROPS_MAX], const char *identity_name,
                   const char *prefix)
{
    const struct identity *id = identity(identity_name);
    props[0] = NULL;
    for (int i = 0; i < id->n; i++)
        jc_test_props_add(props, id->kv[2 * i], id->kv[2 * i + 1]);
    if (prefix != NULL)
        jc_test_props_add(props, "jiceng.topic.prefix", prefix);
    if (strcmp(identity_name, "loadgen") == 0)
        jc_test_props_add(props, "jiceng.signing.keys", jc_test_keyring());
}

rd_kafka_conf_t *jc_test_rdkafka_conf(const char *identity_name)
{
    const struct identity *id = identity(identity_name);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char errstr[512];
    for (int i = 0; i < id->n; i++)
        if (rd_kafka_conf_set(conf, id->kv[2 * i], id->kv[2 * i + 1], errstr, sizeof errstr) !=
            RD_KAFKA_CONF_OK)
            fail_msg("%s.conf: %s", identity_name, errstr);
    return conf;
}

/* ---- the load generator's signing keys ---- */

/* The first line a command prints, into buf; fails the test if it fails or prints nothing. */
static void command_line(const char *cmd, char *buf, size_t len)
{
    FILE *p = popen(cmd, "r");
    if (p == NULL)
        fail_msg("cannot run %s", cmd);
    int got = fgets(buf, (int)len, p) != NULL;
    int status = pclose(p);
    if (!got || status != 0)
        fail_msg("%s failed (status %d)", cmd, status);
    buf[strcspn(buf, "\n")] = '\0';
}

const char *jc_test_keyring(void)
{
    static char ring[1024];
    if (ring[0] == '\0')
        command_line("'" JC_TEST_SOURCE_DIR "/tests/support/signing-keys' keyring", ring,
                     sizeof ring);
    return ring;
}

/* ---- scratch topics ---- */

/* stack grant-prefix or revoke-prefix PREFIX; its exit status */
static int stack_prefix(const char *command, const char *prefix)
{
    return jc_test_shell("'" JC_TEST_SOURCE_DIR "/deploy/local/stack' %s '%s' >/dev/null 2>&1",
                         command, prefix);
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
    if (stack_prefix("grant-prefix", prefix) != 0)
        fail_msg("stack grant-prefix %s failed", prefix);
    const char *props[JC_TEST_PROPS_MAX];
    jc_test_props(props, "admin", prefix);
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
    const char *props[JC_TEST_PROPS_MAX];
    jc_test_props(props, "admin", prefix);
    jc_error_t err;
    jc_admin_t *a = jc_admin_new(props, 30000, &err);
    if (a == NULL || jc_admin_delete_topics(a, &err) != JC_OK)
        fprintf(stderr, "note: could not delete topics under %s: %s\n", prefix, err.message);
    jc_admin_free(a);
    if (stack_prefix("revoke-prefix", prefix) != 0)
        fprintf(stderr, "note: could not revoke the ACLs on %s*\n", prefix);
}

int64_t jc_test_topic_messages(const char *topic)
{
    char errstr[512];
    rd_kafka_conf_t *conf = jc_test_rdkafka_conf("admin");
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
