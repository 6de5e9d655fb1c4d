/*
 * bench/produce: events per second from an NDJSON file to the local Kafka broker, through the
 * same path as jiceng-produce, against plain librdkafka as the limit.
 *
 * 1. jiceng: jc_ingest_run on the file, exactly what jiceng-produce runs: read lines, parse
 *    (jansson), validate, encode (avro-c), produce with jc_producer, wait for every delivery
 *    report. Timed from start to the last report.
 * 2. plain: the same events parsed, validated and encoded beforehand (not timed), then sent
 *    with a bare librdkafka producer with the same settings (idempotence, acks=all, lz4,
 *    linger.ms=5, murmur2_random), the same keys, payloads and topics; timed likewise.
 * The ratio jiceng/plain is what the library's own work costs. Both runs write to scratch
 * topics under a fresh prefix, deleted at the end unless --keep is given.
 *
 * Without a FILE, a file of --events events (1,000,000 by default; the four types in turn,
 * made by tests/support/samples.c) is generated first.
 *
 * On the secured stack both runs produce as the producing identity (the configuration file:
 * --config, else $JICENG_PRODUCE_CONFIG, the load generator: TLS with its certificate), and the
 * jiceng run signs every record with the keys of jiceng.signing.keys (--signing-keys, else
 * $JICENG_SIGNING_KEYS); the plain run sends the same payloads unsigned. The scratch topics are
 * made and deleted as the administrator (--admin-config, else $JICENG_ADMIN_CONFIG: its kafka.*
 * entries), and the producing identity needs WRITE and DESCRIBE on them: bench/produce.sh gives
 * the prefix the role ACLs (`stack grant-prefix`) and runs this with the stack's identities.
 *
 * Built twice (bench/CMakeLists.txt): bench-produce, and bench-produce-unsigned on bench/'s own
 * compile of the library with JC_BENCH_UNSIGNED (its producer signs nothing), which only
 * bench/produce.sh's comparison with plaintext runs.
 *
 * usage: bench-produce [--events N] [--partitions N] [--keep] [--admin-config FILE]
 *                      [--signing-keys PATH] [-X prop=value] [FILE]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "cli.h"
#include "jiceng/admin.h"
#include "jiceng/envfile.h"
#include "jiceng/codec.h"
#include "jiceng/ingest.h"
#include "jiceng/jtime.h"
#include "jiceng/ndjson.h"
#include "jiceng/reader.h"
#include "jiceng/validate.h"
#include "samples.h"

static const jc_option_t options[] = {
    {"kafka.bootstrap.servers", "bootstrap", "JICENG_KAFKA_BOOTSTRAP", NULL, "LIST",
     "Kafka bootstrap servers"},
    {"jiceng.topic.prefix", "topic-prefix", NULL, NULL, "PREFIX",
     "scratch topic prefix (default: bench<pid>-<time>.)"},
    {"jiceng.signing.keys", "signing-keys", "JICENG_SIGNING_KEYS", NULL, "PATH",
     "signing key file, or a directory of them, one per county (the jiceng run signs)"},
    {"admin.config", "admin-config", "JICENG_ADMIN_CONFIG", NULL, "FILE",
     "the identity that creates and deletes the scratch topics (its kafka.* entries)"},
    {"events", "events", NULL, "1000000", "N", "events to generate when no FILE is given"},
    {"partitions", "partitions", NULL, "12", "N", "partitions of the scratch topics"},
    {"keep", "keep", NULL, "false", NULL, "keep the scratch topics"},
};

static const jc_program_t program = {
    .name = "bench-produce", .synopsis = "[OPTIONS] [FILE]",
    .about = "Events/s through jiceng-produce's path vs. plain librdkafka, same payloads.",
    .options = options, .noptions = sizeof options / sizeof options[0],
    .config_env = "JICENG_PRODUCE_CONFIG",
};

/* Pre-encoded messages for the plain run. */
struct encoded {
    jc_buf_t bytes;   /* payloads back to back */
    size_t *offset;   /* n + 1 offsets into bytes */
    int32_t *county;
    uint8_t *type;
    size_t n;
};

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- input ---- */

static int generate(const char *path, long n)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        perror(path);
        return -1;
    }
    jc_buf_t line = {0};
    jc_event_t ev;
    int64_t now = jc_now_ms();
    int rc = 0;
    for (long i = 0; i < n && rc == 0; i++) {
        jc_test_sample(&ev, (jc_event_type_t)(i % JC_EVENT_TYPE_COUNT), (uint32_t)i, now);
        jc_buf_reset(&line);
        if (jc_ndjson_format(&ev, &line, NULL) != JC_OK ||
            fwrite(line.data, 1, line.len, f) != line.len)
            rc = -1;
    }
    jc_buf_free(&line);
    if (fclose(f) != 0 || rc != 0) {
        fprintf(stderr, "bench-produce: could not write %s\n", path);
        return -1;
    }
    return 0;
}

static int add_message(struct encoded *e, const jc_buf_t *msg, const jc_event_t *ev, size_t cap)
{
    if (e->n == cap)
        return -1;
    if (jc_buf_append(&e->bytes, msg->data, msg->len) != JC_OK)
        return -1;
    e->county[e->n] = ev->county_code;
    e->type[e->n] = (uint8_t)ev->type;
    e->offset[++e->n] = e->bytes.len;
    return 0;
}

/* Parse, validate and encode the whole file into memory (the plain run's input). */
static int preencode(const char *path, size_t cap, struct encoded *e)
{
    FILE *f = fopen(path, "r");
    jc_error_t err;
    jc_codec_t *codec = jc_codec_new(&err);
    jc_reader_t *r = f && codec ? jc_reader_new(f, JC_FORMAT_NDJSON, JC_VISIT, &err) : NULL;
    e->offset = calloc(cap + 1, sizeof *e->offset);
    e->county = calloc(cap, sizeof *e->county);
    e->type = calloc(cap, sizeof *e->type);
    int rc = r && e->offset && e->county && e->type ? 0 : -1;
    jc_record_t rec;
    jc_event_t ev;
    jc_status_t st;
    jc_buf_t msg = {0};
    while (rc == 0 && jc_reader_next(r, &rec, &ev, &st, &err))
        if (st == JC_OK &&
            jc_event_validate(&ev, jc_now_ms(), JC_DEFAULT_MAX_SKEW_MS, NULL) == JC_OK &&
            jc_codec_encode(codec, &ev, &msg, NULL) == JC_OK)
            rc = add_message(e, &msg, &ev, cap);
    jc_buf_free(&msg);
    jc_reader_free(r);
    jc_codec_free(codec);
    if (f != NULL)
        fclose(f);
    return rc;
}

/* ---- the plain librdkafka run ---- */

static void count_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    long *counts = opaque;
    counts[m->err == RD_KAFKA_RESP_ERR_NO_ERROR ? 0 : 1]++;
}

static int set_all(rd_kafka_conf_t *conf, const char *const *p)
{
    char errstr[512];
    for (; p[0] != NULL; p += 2) {
        if (strncmp(p[0], "jiceng.", 7) != 0 &&
            rd_kafka_conf_set(conf, p[0], p[1], errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
            fprintf(stderr, "bench-produce: %s: %s\n", p[0], errstr);
            return -1;
        }
    }
    return 0;
}

static rd_kafka_t *plain_producer(const char *const *props, long *counts)
{
    static const char *const same[] = {"enable.idempotence", "true", "acks", "all",
                                       "compression.codec", "lz4", "linger.ms", "5",
                                       "partitioner", "murmur2_random", NULL};
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (set_all(conf, same) != 0 || set_all(conf, props) != 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_opaque(conf, counts);
    rd_kafka_conf_set_dr_msg_cb(conf, count_dr);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (rk == NULL) {
        fprintf(stderr, "bench-produce: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
    }
    return rk;
}

static double run_plain(const char *const *props, const char *prefix, const struct encoded *e,
                        long *counts)
{
    rd_kafka_t *rk = plain_producer(props, counts);
    if (rk == NULL)
        return -1;
    rd_kafka_topic_t *rkt[JC_EVENT_TYPE_COUNT];
    char name[300];
    for (int t = 0; t < JC_EVENT_TYPE_COUNT; t++) {
        snprintf(name, sizeof name, "%s%s", prefix, jc_event_topic((jc_event_type_t)t));
        rkt[t] = rd_kafka_topic_new(rk, name, NULL);
    }
    double t0 = seconds();
    for (size_t i = 0; i < e->n; i++) {
        char key[16];
        int keylen = snprintf(key, sizeof key, "%d", (int)e->county[i]);
        while (rd_kafka_produce(rkt[e->type[i]], RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY,
                                e->bytes.data + e->offset[i], e->offset[i + 1] - e->offset[i],
                                key, (size_t)keylen, NULL) != 0) {
            if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                return -1;
            rd_kafka_poll(rk, 100);
        }
        if (i % 64 == 0)
            rd_kafka_poll(rk, 0);
    }
    rd_kafka_flush(rk, -1);
    double secs = seconds() - t0;
    for (int t = 0; t < JC_EVENT_TYPE_COUNT; t++)
        rd_kafka_topic_destroy(rkt[t]);
    rd_kafka_destroy(rk);
    return secs;
}

/* ---- main ---- */

static const char **with_prefix(const char *const *props, const char *prefix)
{
    size_t n = 0;
    while (props[n] != NULL)
        n++;
    const char **all = calloc(n + 3, sizeof *all);
    if (all != NULL) {
        memcpy(all, props, n * sizeof *all);
        all[n] = "jiceng.topic.prefix";
        all[n + 1] = prefix;
    }
    return all;
}

/* The administrator's properties: the kafka.* entries of its identity file (prefix removed),
 * then jiceng.topic.prefix. */
struct admin_props {
    jc_buf_t strings; /* "name\0value\0" pairs */
    const char *list[64];
};

static jc_status_t on_admin_entry(const char *key, const char *value, int line, void *ud,
                                  jc_error_t *err)
{
    (void)line;
    jc_buf_t *b = ud;
    if (strncmp(key, "kafka.", 6) != 0)
        return JC_OK;
    if (jc_buf_append(b, key + 6, strlen(key + 6) + 1) != JC_OK ||
        jc_buf_append(b, value, strlen(value) + 1) != JC_OK)
        return jc_error_set(err, JC_ERR_NOMEM, "out of memory");
    return JC_OK;
}

static int read_admin_props(const char *path, const char *prefix, struct admin_props *a)
{
    jc_error_t err;
    if (path == NULL || *path == '\0') {
        fprintf(stderr, "bench-produce: no administrator identity: --admin-config or "
                        "$JICENG_ADMIN_CONFIG\n");
        return -1;
    }
    if (jc_envfile_parse(path, on_admin_entry, &a->strings, &err) != JC_OK) {
        fprintf(stderr, "bench-produce: %s\n", err.message);
        return -1;
    }
    size_t n = 0;
    for (size_t off = 0; off < a->strings.len && n + 4 < 64; n++) {
        a->list[n] = (const char *)a->strings.data + off;
        off += strlen(a->list[n]) + 1;
    }
    a->list[n++] = "jiceng.topic.prefix";
    a->list[n++] = prefix;
    a->list[n] = NULL;
    return 0;
}

static int topics(const char *const *props, int partitions, int create)
{
    jc_error_t err;
    jc_admin_t *a = jc_admin_new(props, 30000, &err);
    jc_topic_settings_t s = {partitions, 1, -1};
    jc_status_t st = a == NULL ? err.code
                               : create ? jc_admin_create_topics(a, &s, NULL, &err)
                                        : jc_admin_delete_topics(a, &err);
    jc_admin_free(a);
    if (st != JC_OK)
        fprintf(stderr, "bench-produce: topics: %s\n", err.message);
    return st == JC_OK ? 0 : -1;
}

static int bench(const jc_config_t *cfg, const char *input, const char *const *props,
                 const char *prefix)
{
    char rejects[128];
    snprintf(rejects, sizeof rejects, "/tmp/bench-produce-%ld.rejects", (long)getpid());
    jc_ingest_opts_t o = {.format = JC_FORMAT_NDJSON, .inputs = &input, .ninputs = 1,
                          .rejects_path = rejects, .props = props};
    jc_ingest_counts_t c;
    jc_error_t err;
    double t0 = seconds();
    jc_status_t st = jc_ingest_run(&o, &c, &err);
    double jsecs = seconds() - t0;
    if (st != JC_OK || c.delivered != c.read) {
        fprintf(stderr, "bench-produce: jiceng run: %s; read %llu delivered %llu (see %s)\n",
                st ? err.message : "not all delivered", (unsigned long long)c.read,
                (unsigned long long)c.delivered, rejects);
        return 1;
    }
    struct encoded e = {0};
    long counts[2] = {0, 0};
    if (preencode(input, (size_t)c.read, &e) != 0) {
        fprintf(stderr, "bench-produce: could not pre-encode %s\n", input);
        return 1;
    }
    double psecs = run_plain(props, prefix, &e, counts);
    double jrate = (double)c.delivered / jsecs, prate = (double)counts[0] / psecs;
    printf("bench-produce: %llu events, %.0f bytes/event encoded, %s partitions, topics %s*\n",
           (unsigned long long)c.read, (double)e.bytes.len / (double)e.n,
           jc_config_get(cfg, "partitions"), prefix);
    printf("  jiceng-produce path (parse+validate+encode+produce): %9.0f events/s (%.2f s)\n",
           jrate, jsecs);
    printf("  plain librdkafka, pre-encoded payloads:              %9.0f events/s (%.2f s)%s\n",
           prate, psecs, counts[1] ? "  (SOME NOT DELIVERED)" : "");
    printf("  ratio jiceng / plain: %.2f\n", jrate / prate);
    jc_buf_free(&e.bytes);
    free(e.offset);
    free(e.county);
    free(e.type);
    unlink(rejects);
    return psecs > 0 && counts[1] == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    jc_config_t *cfg = NULL;
    int rc = jc_config_main(&program, argc, argv, &cfg);
    if (rc >= 0)
        return rc;
    long events = 0, partitions = 0;
    bool keep = false;
    int nops;
    char **ops = jc_config_operands(cfg, &nops);
    jc_error_t err;
    if (jc_config_get_long(cfg, "events", 1, 100000000, &events, &err) != JC_OK ||
        jc_config_get_long(cfg, "partitions", 1, 1000, &partitions, &err) != JC_OK ||
        jc_config_get_bool(cfg, "keep", &keep, &err) != JC_OK || nops > 1) {
        fprintf(stderr, "bench-produce: %s\n", nops > 1 ? "one FILE at most" : err.message);
        jc_config_free(cfg);
        return 2;
    }
    char prefix[64], generated[128] = "";
    if (jc_config_get(cfg, "jiceng.topic.prefix") != NULL)
        snprintf(prefix, sizeof prefix, "%s", jc_config_get(cfg, "jiceng.topic.prefix"));
    else
        snprintf(prefix, sizeof prefix, "bench%ld-%lld.", (long)getpid(), (long long)time(NULL));
    const char **props = with_prefix(jc_config_client_properties(cfg), prefix);
    struct admin_props admin = {0};
    const char *input = nops == 1 ? ops[0] : generated;
    rc = read_admin_props(jc_config_get(cfg, "admin.config"), prefix, &admin);
    if (rc == 0 && nops == 0) {
        snprintf(generated, sizeof generated, "/tmp/bench-produce-%ld.ndjson", (long)getpid());
        rc = generate(generated, events);
    }
    if (rc >= 0 && props != NULL && topics(admin.list, (int)partitions, 1) == 0) {
        rc = bench(cfg, input, props, prefix);
        if (!keep)
            topics(admin.list, (int)partitions, 0);
    } else {
        rc = 1;
    }
    if (generated[0] != '\0')
        unlink(generated);
    jc_buf_free(&admin.strings);
    free(props);
    jc_config_free(cfg);
    return rc;
}
