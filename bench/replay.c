/*
 * bench/replay: events per second through jiceng-aggregate's consumer, end to end, against
 * two limits (Kafka read + the record checks; Kafka read alone) and a baseline (one upsert per
 * event).
 *
 * The topics under --topic-prefix must already hold the events (bench/replay.sh produces
 * them) and the database must be migrated (jiceng-aggregate migrate: the aggregator does not
 * migrate) and hold no consumer progress yet. The Kafka identity is the aggregator's (--config,
 * else $JICENG_AGGREGATE_CONFIG); the baseline's scratch schema is made through
 * --baseline-conninfo, a role that may create one (the migration role on the secured stack).
 * One run measures, in this order:
 *   1. end to end: the real jc_aggregator_t (exactly once, dedup on, exit_when_caught_up) in a
 *      fresh consumer group from offset 0; events/s = messages consumed / wall time from
 *      jc_aggregator_new to the return of jc_aggregator_run. Then the peak RSS (VmHWM and
 *      ru_maxrss, read before anything else runs), the dedup sets' size, what held the memory
 *      at the largest of the RSS samples a thread takes every 250 ms (mem_sampler), and the
 *      checks applied + duplicates + rejected == consumed == messages in the topics;
 *   2a. the decode-only limit: a plain librdkafka consumer (its own fresh group, same assignor,
 *      the aggregator's prefetch bounds) that reads every message and runs the aggregator's
 *      checks on it minus dedup: signature (jc_sign_verify with every key of the database,
 *      read as the aggregator reads them; an unsigned record is decoded without), decode,
 *      county, validation; the same work as end to end minus PostgreSQL. One message in 16 is
 *      timed step by step (signature + county, decode + validation) to split its cost;
 *   2b. the bare consume: the same consumer and the same consume loop in another fresh group,
 *      each message only counted (and its bytes): what librdkafka and TLS alone allow. Both
 *      limits read with rd_kafka_consumer_poll, one message a call, as the aggregator does, or
 *      with --limit-batch N through rd_kafka_consume_batch_queue, N messages a call. Before
 *      each, the heap is trimmed and the peak RSS reset (clear_refs), so its own peak shows what
 *      librdkafka's prefetch alone holds with the same settings; its CPU time (the process's,
 *      and the consuming thread's) shows whether the loop or librdkafka's threads bound it;
 *   3. the baseline: a plain consumer that, for each of --baseline-events events, decodes,
 *      validates and runs ONE prepared INSERT ... ON CONFLICT DO UPDATE into a copy of the
 *      event type's daily table (schema bench_baseline, dropped afterwards; the row and the
 *      statement derived from the aggregate description as the consumer's are), in autocommit
 *      mode, taking each type in its share of the topics (the rest is read and skipped);
 *      timed from its first message to its last upsert (steady state, which favours it);
 *      --baseline-events 0 leaves it out (bench/replay.sh's comparison with plaintext does).
 * The load average is printed around each phase, since broker, database and benchmark share
 * the machine. Targets are printed next to the figures; nothing is asserted on time.
 *
 * Built twice (bench/CMakeLists.txt): bench-replay, and bench-replay-unsigned on bench/'s own
 * compile of the library with JC_BENCH_UNSIGNED (no signature and county checks), which only
 * bench/replay.sh's comparison with plaintext runs.
 *
 * usage: bench-replay --topic-prefix PREFIX --conninfo STR [--baseline-events N] ...
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <libpq-fe.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "jiceng/aggregates.h"
#include "jiceng/aggregator.h"
#include "jiceng/buf.h"
#include "jiceng/codec.h"
#include "cli.h"
#include "jiceng/jtime.h"
#include "jiceng/sign.h"
#include "jiceng/validate.h"

#define TARGET_EVENTS_PER_S 100000.0
#define TARGET_BASELINE_RATIO 20.0
#define GOAL_LIMIT_RATIO 0.5
#define STALL_MS 60000
#define MAX_ROUNDS 9 /* of the limits */
#define BASE_SCHEMA "bench_baseline"

static const jc_option_t options[] = {
    {"kafka.bootstrap.servers", "bootstrap", "JICENG_KAFKA_BOOTSTRAP", NULL, "LIST",
     "Kafka bootstrap servers"},
    {"pg.conninfo", "conninfo", NULL, NULL, "STR",
     "libpq conninfo of a migrated, unused scratch database (required; never the stack's own)"},
    {"pg.baseline.conninfo", "baseline-conninfo", NULL, NULL, "STR",
     "the same database as a role that may create a schema, for the baseline (default: --conninfo)"},
    {"jiceng.topic.prefix", "topic-prefix", NULL, NULL, "PREFIX",
     "prefix of the pre-produced topics (required)"},
    {"group.id", "group", NULL, NULL, "NAME",
     "consumer group (default jiceng-aggregate-bench-replay-PID; the other runs add -limit,\n"
     "-baseline)"},
    {"baseline.events", "baseline-events", NULL, "50000", "N",
     "events the one-upsert-per-event baseline writes (0: no baseline)"},
    {"batch.max.events", "batch-events", NULL, "50000", "N", "the aggregator's batch_max_events"},
    {"batch.max.ms", "batch-ms", NULL, "250", "MS", "the aggregator's batch_max_ms"},
    {"limit.batch", "limit-batch", NULL, "0", "N",
     "the limits' consume call: 0 rd_kafka_consumer_poll, one message a call (as the\n"
     "aggregator); N rd_kafka_consume_batch_queue, up to N messages a call"},
    {"limit.rounds", "limit-rounds", NULL, "1", "N",
     "rounds of the two limits, alternating (decode-only, bare, decode-only, ...); the\n"
     "side-by-side figures are their medians"},
};

static const jc_program_t program = {
    .name = "bench-replay", .synopsis = "--topic-prefix PREFIX --conninfo STR [OPTIONS]",
    .about = "End-to-end events/s of the aggregator over pre-produced topics into an empty\n"
             "database, against two limits (a consumer that only checks the records: signature,\n"
             "decode, validation; a bare consume that only counts them) and one upsert per event\n"
             "(the baseline); peak RSS and dedup state; consistency of the counters.",
    .options = options, .noptions = sizeof options / sizeof options[0],
    .config_env = "JICENG_AGGREGATE_CONFIG",
};

struct opts {
    const char *conninfo, *baseline_conninfo, *prefix;
    char group[128];
    long baseline_events, batch_events, batch_ms, limit_batch, limit_rounds;
    const char *const *props; /* librdkafka properties, bootstrap and prefix included */
};

struct backlog {
    int partitions[JC_EVENT_TYPE_COUNT];
    int64_t messages[JC_EVENT_TYPE_COUNT];
    int64_t total;
};

struct rate {
    uint64_t messages, ok, bytes; /* bytes: keys and values */
    double secs, first_secs;      /* wall time; time to the first message */
    double cpu_secs, thread_cpu_secs; /* the process's CPU time; the consuming thread's */
};

/* ---- small helpers ------------------------------------------------------------------- */

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void print_loadavg(const char *when)
{
    char line[128] = "?";
    FILE *f = fopen("/proc/loadavg", "r");
    if (f == NULL || fgets(line, sizeof line, f) == NULL)
        snprintf(line, sizeof line, "unavailable\n");
    if (f != NULL)
        fclose(f);
    printf("  load average %-28s %s", when, line);
}

/* A "VmXXX:" figure of /proc/self/status in kB, or -1. */
static long proc_status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    size_t n = strlen(key);
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, key, n) == 0 && line[n] == ':')
            kb = atol(line + n + 1);
    if (f != NULL)
        fclose(f);
    return kb;
}

/* Hand freed heap back to the system and restart the peak RSS from the current RSS (Linux:
 * clear_refs 5), so that a later phase's VmHWM is its own. 0 if the peak could be reset. */
static int reset_peak_rss(void)
{
#ifdef __GLIBC__
    malloc_trim(0);
#endif
    FILE *f = fopen("/proc/self/clear_refs", "w");
    int ok = f != NULL && fputs("5", f) >= 0;
    if (f != NULL && fclose(f) != 0)
        ok = 0;
    return ok ? 0 : -1;
}

static double mib(double bytes)
{
    return bytes / (1024.0 * 1024.0);
}

static const char *verdict(int ok)
{
    return ok ? "met" : "NOT MET";
}

static void topic_name(const struct opts *o, int type, char *out, size_t len)
{
    snprintf(out, len, "%s%s", o->prefix, jc_event_topic((jc_event_type_t)type));
}

/* ---- plain librdkafka consumers ------------------------------------------------------ */

static int conf_set(rd_kafka_conf_t *conf, const char *k, const char *v)
{
    char errstr[512];
    if (rd_kafka_conf_set(conf, k, v, errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "bench-replay: %s: %s\n", k, errstr);
        return -1;
    }
    return 0;
}

/* A consumer with the aggregator's prefetch bounds (jc_aggregator_prefetch_properties) and
 * the pass-through properties over them; with group, in that (fresh) group. */
static rd_kafka_t *plain_consumer(const struct opts *o, const char *group)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    int rc = 0;
    for (const char *const *p = jc_aggregator_prefetch_properties(); p[0] != NULL && rc == 0; p += 2)
        rc = conf_set(conf, p[0], p[1]);
    for (const char *const *p = o->props; p[0] != NULL && rc == 0; p += 2)
        if (strncmp(p[0], "jiceng.", 7) != 0)
            rc = conf_set(conf, p[0], p[1]);
    if (rc == 0)
        rc = conf_set(conf, "group.id", group) | conf_set(conf, "enable.auto.commit", "false") |
             conf_set(conf, "auto.offset.reset", "earliest") |
             conf_set(conf, "partition.assignment.strategy", "cooperative-sticky");
    char errstr[512];
    rd_kafka_t *rk = rc == 0 ? rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr) : NULL;
    if (rk == NULL) {
        if (rc == 0)
            fprintf(stderr, "bench-replay: consumer: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_poll_set_consumer(rk);
    return rk;
}

static int partitions_of(rd_kafka_t *rk, const char *topic)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    int n = -1;
    if (rkt != NULL && rd_kafka_metadata(rk, 0, rkt, &md, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR)
        n = md->topics[0].partition_cnt;
    if (md != NULL)
        rd_kafka_metadata_destroy(md);
    if (rkt != NULL)
        rd_kafka_topic_destroy(rkt);
    return n;
}

/* Messages in the four topics, from their watermarks. */
static int count_backlog(const struct opts *o, struct backlog *b)
{
    rd_kafka_t *rk = plain_consumer(o, "jiceng-aggregate-bench-replay-metadata");
    memset(b, 0, sizeof *b);
    int rc = rk != NULL ? 0 : -1;
    for (int t = 0; t < JC_EVENT_TYPE_COUNT && rc == 0; t++) {
        char name[300];
        topic_name(o, t, name, sizeof name);
        b->partitions[t] = partitions_of(rk, name);
        rc = b->partitions[t] > 0 ? 0 : -1;
        for (int p = 0; p < b->partitions[t] && rc == 0; p++) {
            int64_t lo, hi;
            rc = rd_kafka_query_watermark_offsets(rk, name, p, &lo, &hi, 10000) ==
                 RD_KAFKA_RESP_ERR_NO_ERROR ? 0 : -1;
            b->messages[t] += rc == 0 ? hi - lo : 0;
        }
        if (rc != 0)
            fprintf(stderr, "bench-replay: cannot read the partitions of %s\n", name);
        b->total += b->messages[t];
    }
    if (rk != NULL)
        rd_kafka_destroy(rk);
    if (rc == 0 && b->total == 0) {
        fprintf(stderr, "bench-replay: the topics %s* are empty\n", o->prefix);
        rc = -1;
    }
    return rc;
}

static int subscribe_all(const struct opts *o, rd_kafka_t *rk)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(JC_EVENT_TYPE_COUNT);
    char name[300];
    for (int t = 0; t < JC_EVENT_TYPE_COUNT; t++) {
        topic_name(o, t, name, sizeof name);
        rd_kafka_topic_partition_list_add(l, name, RD_KAFKA_PARTITION_UA);
    }
    rd_kafka_resp_err_t e = rd_kafka_subscribe(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
        fprintf(stderr, "bench-replay: subscribe: %s\n", rd_kafka_err2str(e));
    return e == RD_KAFKA_RESP_ERR_NO_ERROR ? 0 : -1;
}

/* Where a consumer's messages come from: rd_kafka_consumer_poll, one a call (size 0, as the
 * aggregator reads), or rd_kafka_consume_batch_queue on the consumer queue, up to size a call,
 * handed out one at a time. */
struct reader {
    rd_kafka_t *rk;
    long size;
    rd_kafka_queue_t *queue; /* size > 0 only */
    rd_kafka_message_t **batch;
    ssize_t n, next;         /* batch[next..n) not handed out yet */
};

static const char *reader_name(long size)
{
    static char name[96];
    if (size == 0)
        return "rd_kafka_consumer_poll, one message a call";
    snprintf(name, sizeof name, "rd_kafka_consume_batch_queue, up to %ld messages a call", size);
    return name;
}

/* Set up the batch mode of rd (after rd->rk and rd->size are set). 0, or -1 out of memory. */
static int reader_open(struct reader *rd)
{
    if (rd->size == 0)
        return 0;
    rd->queue = rd_kafka_queue_get_consumer(rd->rk);
    rd->batch = calloc((size_t)rd->size, sizeof *rd->batch);
    return rd->queue != NULL && rd->batch != NULL ? 0 : -1;
}

/* Free what rd holds, then close and destroy its consumer. */
static void reader_close(struct reader *rd)
{
    while (rd->next < rd->n)
        rd_kafka_message_destroy(rd->batch[rd->next++]);
    free(rd->batch);
    if (rd->queue != NULL)
        rd_kafka_queue_destroy(rd->queue);
    if (rd->rk != NULL) {
        rd_kafka_consumer_close(rd->rk);
        rd_kafka_destroy(rd->rk);
    }
}

/* One message or event of rd, or NULL after timeout_ms; a batch asks for at most want (so
 * that it does not wait for messages past the end). */
static rd_kafka_message_t *reader_poll(struct reader *rd, int64_t want, int timeout_ms)
{
    if (rd->size == 0)
        return rd_kafka_consumer_poll(rd->rk, timeout_ms);
    if (rd->next == rd->n) {
        size_t n = (size_t)(want < rd->size ? want : rd->size);
        rd->n = rd_kafka_consume_batch_queue(rd->queue, timeout_ms, rd->batch, n > 0 ? n : 1);
        rd->next = 0;
        if (rd->n <= 0) {
            rd->n = 0;
            return NULL;
        }
    }
    return rd->batch[rd->next++];
}

/* The next message, or NULL after STALL_MS without one (reported). Errors are skipped. */
static rd_kafka_message_t *next_message(struct reader *rd, int64_t want)
{
    double deadline = 0; /* the clock is read only while no message comes */
    for (;;) {
        rd_kafka_message_t *m = reader_poll(rd, want, 100);
        if (m == NULL) {
            double now = seconds();
            if (deadline == 0)
                deadline = now + STALL_MS / 1000.0;
            else if (now >= deadline)
                break;
            continue;
        }
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR)
            return m;
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
            fprintf(stderr, "bench-replay: kafka: %s\n", rd_kafka_message_errstr(m));
        rd_kafka_message_destroy(m);
    }
    fprintf(stderr, "bench-replay: no message for %d s\n", STALL_MS / 1000);
    return NULL;
}

/* Decode and validate one message into ev: 1 if it is a valid event. */
static int decode_valid(jc_codec_t *codec, const rd_kafka_message_t *m, jc_event_t *ev)
{
    return jc_codec_decode(codec, m->payload, m->len, ev, NULL, NULL) == JC_OK &&
           jc_event_validate(ev, jc_now_ms(), JC_DEFAULT_MAX_SKEW_MS, NULL) == JC_OK;
}

/* ---- 1. end to end ------------------------------------------------------------------- */

/* ---- what holds the memory (Linux): RSS by kind of mapping, sampled during end to end ---- */

enum { MEM_HEAP, MEM_ARENAS, MEM_MAPPED, MEM_OTHER, MEM_KINDS };
#define ARENA_ALIGN ((unsigned long)64 << 20) /* glibc places its per-thread heaps at 64 MiB boundaries */
#define SAMPLE_MS 250

struct mem_sampler {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int started, stop;
    long peak[MEM_KINDS]; /* kB by kind, at the sample of the largest total */
    long peak_total;
};

/* The kind of a /proc/self/smaps mapping: the main heap, an anonymous mapping at a 64 MiB
 * boundary (a glibc thread arena: librdkafka's threads, the flush and loader threads), another
 * anonymous one (the dedup sets' tables and arenas from 64 KiB on, large malloc blocks), or
 * the rest (files, stack). */
static int mem_kind(unsigned long lo, const char *path)
{
    if (strcmp(path, "[heap]") == 0)
        return MEM_HEAP;
    if (*path != '\0')
        return MEM_OTHER;
    return lo % ARENA_ALIGN == 0 ? MEM_ARENAS : MEM_MAPPED;
}

/* Resident kB by kind into kb; 0 if smaps cannot be read. */
static int mem_sample(long kb[MEM_KINDS])
{
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[512];
    int kind = MEM_OTHER;
    memset(kb, 0, MEM_KINDS * sizeof *kb);
    if (f == NULL)
        return 0;
    while (fgets(line, sizeof line, f) != NULL) {
        unsigned long lo, hi;
        char path[256] = "";
        if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %255s", &lo, &hi, path) >= 2)
            kind = mem_kind(lo, path);
        else if (strncmp(line, "Rss:", 4) == 0)
            kb[kind] += atol(line + 4);
    }
    fclose(f);
    return 1;
}

static void *mem_sampler_run(void *arg)
{
    struct mem_sampler *m = arg;
    pthread_mutex_lock(&m->lock);
    while (!m->stop) {
        long kb[MEM_KINDS], total = 0;
        pthread_mutex_unlock(&m->lock);
        int ok = mem_sample(kb);
        pthread_mutex_lock(&m->lock);
        for (int k = 0; ok && k < MEM_KINDS; k++)
            total += kb[k];
        if (ok && total > m->peak_total) {
            m->peak_total = total;
            memcpy(m->peak, kb, sizeof kb);
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += SAMPLE_MS * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        if (!m->stop)
            pthread_cond_timedwait(&m->wake, &m->lock, &ts);
    }
    pthread_mutex_unlock(&m->lock);
    return NULL;
}

static void mem_sampler_start(struct mem_sampler *m)
{
    memset(m, 0, sizeof *m);
    pthread_mutex_init(&m->lock, NULL);
    pthread_cond_init(&m->wake, NULL);
    m->started = pthread_create(&m->thread, NULL, mem_sampler_run, m) == 0;
}

static void mem_sampler_stop(struct mem_sampler *m)
{
    pthread_mutex_lock(&m->lock);
    m->stop = 1;
    pthread_cond_signal(&m->wake);
    pthread_mutex_unlock(&m->lock);
    if (m->started)
        pthread_join(m->thread, NULL);
    pthread_cond_destroy(&m->wake);
    pthread_mutex_destroy(&m->lock);
}

static int run_end_to_end(const struct opts *o, struct rate *r, jc_aggregator_stats_t *s,
                          struct mem_sampler *mem)
{
    jc_aggregator_config_t c = {
        .bootstrap = NULL, .group_id = o->group, .conninfo = o->conninfo,
        .topic_prefix = o->prefix, .batch_max_events = (int)o->batch_events,
        .batch_max_ms = (int)o->batch_ms, .exit_when_caught_up = 1,
        .kafka_properties = o->props,
    };
    for (const char *const *p = o->props; p[0] != NULL; p += 2)
        if (strcmp(p[0], "bootstrap.servers") == 0)
            c.bootstrap = p[1];
    jc_error_t err;
    mem_sampler_start(mem);
    double t0 = seconds();
    jc_aggregator_t *a = jc_aggregator_new(&c, &err);
    jc_status_t st = a != NULL ? jc_aggregator_run(a, NULL, &err) : err.code;
    r->secs = seconds() - t0;
    mem_sampler_stop(mem);
    if (a != NULL)
        *s = *jc_aggregator_stats(a);
    jc_aggregator_free(a);
    if (st != JC_OK) {
        fprintf(stderr, "bench-replay: aggregator: %s (%s)\n", err.message, jc_status_name(st));
        return -1;
    }
    r->messages = s->consumed;
    r->ok = s->applied;
    return 0;
}

static void report_memory(const jc_aggregator_stats_t *s, long rss_before_kb, const struct mem_sampler *mem)
{
    struct rusage ru;
    long hwm_kb = proc_status_kb("VmHWM");
    long maxrss_kb = getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : -1;
    double peak = (double)(hwm_kb > maxrss_kb ? hwm_kb : maxrss_kb) * 1024.0;
    double rest = peak - (double)s->dedup_bytes;
    printf("  memory: RSS before jc_aggregator_new %.1f MiB; peak RSS VmHWM %.1f MiB, "
           "ru_maxrss %.1f MiB\n", rss_before_kb / 1024.0, hwm_kb / 1024.0, maxrss_kb / 1024.0);
    printf("  dedup state: %llu ids, %.1f MiB, %.1f bytes/id (format 2 ledger: 55-85 typical, docs/architecture.md)\n",
           (unsigned long long)s->dedup_ids, mib((double)s->dedup_bytes),
           s->dedup_ids ? (double)s->dedup_bytes / (double)s->dedup_ids : 0.0);
    printf("  peak RSS - dedup bytes: %.1f MiB (should stay flat as the backlog grows)\n",
           mib(rest));
    if (mem->peak_total > 0)
        printf("  largest RSS sample (every %d ms) %.1f MiB: main heap %.1f, glibc thread arenas %.1f, "
               "other anonymous mappings %.1f (the dedup sets' among them), files and stacks %.1f\n",
               SAMPLE_MS, mem->peak_total / 1024.0, mem->peak[MEM_HEAP] / 1024.0,
               mem->peak[MEM_ARENAS] / 1024.0, mem->peak[MEM_MAPPED] / 1024.0, mem->peak[MEM_OTHER] / 1024.0);
}

static int check_counts(const jc_aggregator_stats_t *s, const struct backlog *b)
{
    uint64_t sum = s->applied + s->duplicates + s->rejected;
    int ok = sum == s->consumed && s->consumed == (uint64_t)b->total;
    printf("  consumed %llu (topics hold %lld), applied %llu + duplicates %llu + rejected %llu = "
           "%llu: %s\n", (unsigned long long)s->consumed, (long long)b->total,
           (unsigned long long)s->applied, (unsigned long long)s->duplicates,
           (unsigned long long)s->rejected, (unsigned long long)sum, ok ? "OK" : "MISMATCH");
    printf("  batches %llu, fenced %llu, postgres retries %llu\n",
           (unsigned long long)s->batches, (unsigned long long)s->fenced,
           (unsigned long long)s->pg_retries);
    return ok ? 0 : -1;
}

/* ---- 2. the limits: read and check; read only ---------------------------------------- */

/* Both limits are one consume loop (consume_all) in a fresh group from offset 0 until every
 * message of the topics has been read; what they do with each message is their function. */
typedef int (*per_message_fn)(void *ctx, const rd_kafka_message_t *m); /* 1: counts as ok */

struct limit {
    const char *suffix; /* of the group name */
    per_message_fn fn;
    void *ctx;
};

#define SPLIT_EVERY 16 /* the decode-only limit times one message in SPLIT_EVERY step by step */

/* The decode-only limit's state: the aggregator's checks minus dedup (lib/aggregate/check.c;
 * its topic and record-key steps, a few comparisons, are left out). */
struct checker {
    jc_codec_t *codec;
    jc_keyring_t *ring; /* NULL if the keys could not be read: no signature is checked */
    jc_event_t ev;
    uint64_t seen, verified, unsigned_, refused, sampled;
    double sign_secs, decode_secs; /* of the sampled messages */
};

static double cpu_seconds(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double process_cpu_seconds(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* The signature step as the aggregator runs it (a broker timestamp, then jc_sign_verify):
 * 1 verified (*key set), 0 not checked (no keyring, or a record without either signature
 * header: an unsigned backlog, decoded anyway), -1 refused. */
static int verify_signature(jc_keyring_t *ring, const rd_kafka_message_t *m,
                            const jc_sign_key_t **key)
{
    if (ring == NULL)
        return 0;
    rd_kafka_headers_t *h = NULL;
    rd_kafka_timestamp_type_t tt = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
    jc_error_t err;
    jc_signed_record_t sr = {
        .topic = rd_kafka_topic_name(m->rkt), .key = m->key, .key_len = m->key_len,
        .value = m->payload, .value_len = m->len,
    };
    sr.timestamp_ms = rd_kafka_message_timestamp(m, &tt);
    if (rd_kafka_message_headers(m, &h) != RD_KAFKA_RESP_ERR_NO_ERROR)
        h = NULL;
    jc_signed_record_headers(&sr, h);
    if (sr.key_id == NULL && sr.sig == NULL)
        return 0;
    if (tt != RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME)
        return -1;
    return jc_sign_verify(ring, &sr, key, NULL, &err) == JC_OK ? 1 : -1;
}

/* The decode-only limit's per-message function. */
static int check_message(void *ctx, const rd_kafka_message_t *m)
{
    struct checker *c = ctx;
    const jc_sign_key_t *key = NULL;
    jc_error_t err;
    int timed = c->seen++ % SPLIT_EVERY == 0;
    double t0 = timed ? seconds() : 0;
    int sig = verify_signature(c->ring, m, &key);
    double t1 = timed ? seconds() : 0;
    int ok = sig >= 0 && decode_valid(c->codec, m, &c->ev);
    double t2 = timed ? seconds() : 0;
    if (ok && sig == 1)
        ok = jc_sign_check_county(key, c->ev.county_code, NULL, &err) == JC_OK;
    if (timed) {
        c->sampled++;
        c->sign_secs += (t1 - t0) + (seconds() - t2);
        c->decode_secs += t2 - t1;
    }
    c->verified += sig == 1;
    c->unsigned_ += sig == 0;
    c->refused += sig < 0;
    return ok;
}

/* The bare consume's per-message function: nothing (the loop counts messages and bytes). */
static int count_message(void *ctx, const rd_kafka_message_t *m)
{
    (void)ctx;
    (void)m;
    return 1;
}

static int consume_all(struct reader *rd, int64_t total, double t0, const struct limit *l,
                       struct rate *r)
{
    while ((int64_t)r->messages < total) {
        rd_kafka_message_t *m = next_message(rd, total - (int64_t)r->messages);
        if (m == NULL)
            return -1;
        if (r->messages++ == 0)
            r->first_secs = seconds() - t0;
        r->bytes += m->len + m->key_len;
        r->ok += (uint64_t)l->fn(l->ctx, m);
        rd_kafka_message_destroy(m);
    }
    return 0;
}

/* One limit, timed from the consumer's creation to its destruction (as end to end is). */
static int run_limit(const struct opts *o, const struct backlog *b, const struct limit *l,
                     struct rate *r)
{
    char group[160];
    snprintf(group, sizeof group, "%s%s", o->group, l->suffix);
    double t0 = seconds(), cpu0 = process_cpu_seconds();
    double thread0 = cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
    struct reader rd = {.size = o->limit_batch};
    rd.rk = plain_consumer(o, group);
    int rc = rd.rk != NULL && reader_open(&rd) == 0 && subscribe_all(o, rd.rk) == 0
                 ? consume_all(&rd, b->total, t0, l, r)
                 : -1;
    reader_close(&rd);
    r->secs = seconds() - t0;
    r->cpu_secs = process_cpu_seconds() - cpu0;
    r->thread_cpu_secs = cpu_seconds(CLOCK_THREAD_CPUTIME_ID) - thread0;
    return rc;
}

/* Every signing key of the database, read as the aggregator reads them (lib/aggregate/keys.c:
 * times as epoch milliseconds rounded up, no end: open); NULL, said why, if they cannot be. */
#define KEYS_SQL                                                                                \
    "select key_id, county_code, encode(secret, 'hex'), "                                      \
    "ceil(extract(epoch from valid_from) * 1000)::bigint, "                                    \
    "ceil(extract(epoch from valid_until) * 1000)::bigint from jiceng.signing_keys"

static jc_status_t put_key(jc_keyring_t *ring, PGresult *r, int i, jc_error_t *err)
{
    jc_sign_key_t k;
    memset(&k, 0, sizeof k);
    snprintf(k.key_id, sizeof k.key_id, "%s", PQgetvalue(r, i, 0));
    k.county_code = (int32_t)atol(PQgetvalue(r, i, 1));
    k.valid_from_ms = atoll(PQgetvalue(r, i, 3));
    k.valid_until_ms = PQgetisnull(r, i, 4) ? JC_SIGN_OPEN_END : atoll(PQgetvalue(r, i, 4));
    jc_status_t st = jc_sign_secret_from_hex(PQgetvalue(r, i, 2), k.secret, err);
    if (st == JC_OK)
        st = jc_keyring_put(ring, &k, err);
    memset(&k, 0, sizeof k); /* the test keys of a scratch database; wiped all the same */
    return st;
}

static jc_keyring_t *load_keyring(const char *conninfo)
{
    PGconn *pg = PQconnectdb(conninfo);
    PGresult *r = PQstatus(pg) == CONNECTION_OK ? PQexec(pg, KEYS_SQL) : NULL;
    jc_keyring_t *ring = NULL;
    jc_error_t err;
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK, skipped = 0;
    snprintf(err.message, sizeof err.message, "%s", PQerrorMessage(pg));
    err.message[strcspn(err.message, "\n")] = '\0';
    if (ok)
        ok = jc_keyring_new(&ring, &err) == JC_OK;
    for (int i = 0; ok && i < PQntuples(r); i++) /* a key the ring refuses signs nothing */
        skipped += put_key(ring, r, i, &err) != JC_OK;
    for (int i = 0; i < PQntuples(r); i++) /* the secrets' text */
        memset(PQgetvalue(r, i, 2), 0, strlen(PQgetvalue(r, i, 2)));
    PQclear(r);
    PQfinish(pg);
    if (ok) {
        printf("  %zu signing keys read from the database (%d refused by the keyring)\n",
               jc_keyring_count(ring), skipped);
        return ring;
    }
    printf("  signatures NOT checked: cannot read the signing keys: %s\n", err.message);
    jc_keyring_free(ring);
    return NULL;
}

/* ---- 3. the baseline: one upsert per event, autocommit ------------------------------- */

/* The baseline writes copies of the sum tables of the aggregate description
 * (jiceng/aggregates.h), one statement per event and table, each event's row computed as the
 * consumer's fold computes it (jc_agg_event_row) and the statement derived as its flush's is
 * (jc_agg_upsert_sql, one row instead of arrays); distinct tables are not written. */

/* The text of one number parameter. */
typedef char param_t[32];
#define MAX_PARAMS (2 + JC_AGG_MAX_DIMS + JC_AGG_MAX_COLUMNS)

static const char *number(param_t p, int64_t v)
{
    snprintf(p, sizeof(param_t), "%lld", (long long)v);
    return p;
}

static int pg_ok(PGresult *r, const char *what)
{
    ExecStatusType s = PQresultStatus(r);
    int ok = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
    if (!ok)
        fprintf(stderr, "bench-replay: postgres: %s: %s", what,
                r != NULL ? PQresultErrorMessage(r) : "no result\n");
    PQclear(r);
    return ok ? 0 : -1;
}

/* The scratch schema with empty copies of the sum tables, and one prepared statement each
 * ("upsert<i>", i its index in jc_aggregates()). */
static int prepare_baseline(PGconn *pg)
{
    size_t n;
    const jc_aggregate_t *all = jc_aggregates(&n);
    if (pg_ok(PQexec(pg, "drop schema if exists " BASE_SCHEMA " cascade; create schema " BASE_SCHEMA),
              "creating " BASE_SCHEMA) != 0)
        return -1;
    for (size_t t = 0; t < n; t++) {
        if (all[t].kind != JC_AGG_SUMS)
            continue;
        jc_buf_t sql = {0};
        char create[256], name[32];
        snprintf(create, sizeof create, "create table " BASE_SCHEMA ".%s (like jiceng.%s including all)",
                 all[t].table, all[t].table);
        snprintf(name, sizeof name, "upsert%zu", t);
        int rc = pg_ok(PQexec(pg, create), "creating a baseline table");
        if (rc == 0 && jc_agg_upsert_sql(&all[t], BASE_SCHEMA, JC_AGG_ROWS_ONE, &sql) != JC_OK)
            rc = -1;
        if (rc == 0)
            rc = pg_ok(PQprepare(pg, name, (const char *)sql.data, 0, NULL), "preparing");
        jc_buf_free(&sql);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* One upsert of ev's row into sum table t (autocommit: its own transaction). */
static int upsert_row(PGconn *pg, size_t t, const jc_aggregate_t *a, const jc_event_t *ev)
{
    jc_agg_row_t row;
    param_t text[MAX_PARAMS];
    const char *v[MAX_PARAMS];
    char name[32];
    int n = 0;
    if (jc_agg_event_row(a, ev, &row) != JC_OK)
        return -1;
    v[n] = number(text[n], row.county);
    n++;
    jc_day_format(row.day, text[n], sizeof text[0]);
    v[n] = text[n];
    n++;
    for (int d = 0; d < a->ndims; d++)
        v[n++] = jc_agg_dim_symbol(a, d, row.dim[d]);
    for (int c = 0; c < a->ncolumns; c++, n++)
        v[n] = number(text[n], row.value[c]);
    snprintf(name, sizeof name, "upsert%zu", t);
    return pg_ok(PQexecPrepared(pg, name, n, v, NULL, NULL, 0), "baseline upsert");
}

/* Upsert ev into every sum table of its type. */
static int upsert_event(PGconn *pg, const jc_event_t *ev)
{
    size_t n;
    const jc_aggregate_t *all = jc_aggregates(&n);
    int rc = 0;
    for (size_t t = 0; t < n && rc == 0; t++)
        if (all[t].type == ev->type && all[t].kind == JC_AGG_SUMS)
            rc = upsert_row(pg, t, &all[t], ev);
    return rc;
}

/* Upsert events until each type has its share of want (the topics' mix); events of a type
 * whose share is full are read and skipped. */
static int consume_upsert(rd_kafka_t *rk, PGconn *pg, const uint64_t quota[JC_EVENT_TYPE_COUNT],
                          struct rate *r, uint64_t done[JC_EVENT_TYPE_COUNT])
{
    uint64_t want = 0;
    for (int t = 0; t < JC_EVENT_TYPE_COUNT; t++)
        want += quota[t];
    jc_codec_t *codec = jc_codec_new(NULL);
    jc_event_t ev;
    struct reader rd = {.rk = rk}; /* one message a call; rk is the caller's to close */
    double t0 = 0;
    int rc = codec != NULL ? 0 : -1;
    while (rc == 0 && r->ok < want) {
        rd_kafka_message_t *m = next_message(&rd, 1);
        if (m == NULL) {
            rc = -1;
            break;
        }
        if (r->messages++ == 0)
            t0 = seconds();
        if (decode_valid(codec, m, &ev) && done[ev.type] < quota[ev.type]) {
            rc = upsert_event(pg, &ev);
            r->ok++;
            done[ev.type]++;
        }
        rd_kafka_message_destroy(m);
    }
    r->secs = seconds() - t0;
    jc_codec_free(codec);
    return rc;
}

/* The event counters of the baseline's tables (their JC_AGG_ONE columns: each event counts
 * once in its type's table, e.g. received + resolved + followed_up) add up to the events. */
static int check_baseline(PGconn *pg, uint64_t want)
{
    size_t n;
    const jc_aggregate_t *all = jc_aggregates(&n);
    jc_buf_t sql = {0};
    char part[256];
    int rc = jc_buf_append_str(&sql, "select 0") == JC_OK ? 0 : -1;
    for (size_t t = 0; t < n && rc == 0; t++) {
        for (int c = 0; all[t].kind == JC_AGG_SUMS && c < all[t].ncolumns && rc == 0; c++) {
            if (all[t].columns[c].op != JC_AGG_ONE)
                continue;
            snprintf(part, sizeof part, " + (select coalesce(sum(%s), 0) from " BASE_SCHEMA ".%s)",
                     all[t].columns[c].name, all[t].table);
            rc = jc_buf_append_str(&sql, part) == JC_OK ? 0 : -1;
        }
    }
    PGresult *r = rc == 0 ? PQexec(pg, (const char *)sql.data) : NULL;
    jc_buf_free(&sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        return pg_ok(r, "checking the baseline");
    unsigned long long got = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    printf("  baseline tables count %llu events: %s\n", got, got == want ? "OK" : "MISMATCH");
    return got == want ? 0 : -1;
}

static int run_baseline(const struct opts *o, const struct backlog *b, struct rate *r)
{
    char group[160];
    uint64_t per_type[JC_EVENT_TYPE_COUNT] = {0}, quota[JC_EVENT_TYPE_COUNT];
    for (int t = 0; t < JC_EVENT_TYPE_COUNT; t++) /* rounded up: at least baseline_events */
        quota[t] = (uint64_t)((o->baseline_events * b->messages[t] + b->total - 1) / b->total);
    snprintf(group, sizeof group, "%s-baseline", o->group);
    PGconn *pg = PQconnectdb(o->baseline_conninfo);
    if (PQstatus(pg) != CONNECTION_OK) {
        fprintf(stderr, "bench-replay: postgres: %s", PQerrorMessage(pg));
        PQfinish(pg);
        return -1;
    }
    rd_kafka_t *rk = NULL;
    int rc = pg_ok(PQexec(pg, "set client_min_messages = warning"), "set");
    if (rc == 0)
        rc = prepare_baseline(pg);
    if (rc == 0)
        rc = (rk = plain_consumer(o, group)) != NULL ? subscribe_all(o, rk) : -1;
    if (rc == 0)
        rc = consume_upsert(rk, pg, quota, r, per_type);
    if (rk != NULL) {
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
    }
    if (rc == 0)
        rc = check_baseline(pg, r->ok);
    printf("  baseline sample, in the topics' mix: %llu visits, %llu petitions, %llu disaster responses, "
           "%llu trainings\n", (unsigned long long)per_type[0], (unsigned long long)per_type[1],
           (unsigned long long)per_type[2], (unsigned long long)per_type[3]);
    rc |= pg_ok(PQexec(pg, "drop schema " BASE_SCHEMA " cascade"), "dropping " BASE_SCHEMA);
    PQfinish(pg);
    return rc;
}

/* ---- main ---------------------------------------------------------------------------- */

/* 0 if the database is migrated and no consumer has stored progress in it yet (the end-to-end
 * run must start from nothing; the aggregator does not migrate). */
static int check_empty(const char *conninfo)
{
    PGconn *pg = PQconnectdb(conninfo);
    int rc = -1;
    if (PQstatus(pg) != CONNECTION_OK) {
        fprintf(stderr, "bench-replay: postgres: %s", PQerrorMessage(pg));
    } else {
        PGresult *r = PQexec(pg, "select to_regclass('jiceng.consumer_progress') is not null");
        int migrated = PQresultStatus(r) == PGRES_TUPLES_OK && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
        if (PQresultStatus(r) != PGRES_TUPLES_OK)
            fprintf(stderr, "bench-replay: postgres: %s", PQresultErrorMessage(r));
        else if (!migrated)
            fprintf(stderr, "bench-replay: the database is not migrated: run `jiceng-aggregate "
                            "migrate` on it with the migration role first\n");
        PQclear(r);
        r = migrated ? PQexec(pg, "select count(*) from jiceng.consumer_progress") : NULL;
        if (r != NULL && PQresultStatus(r) == PGRES_TUPLES_OK && strcmp(PQgetvalue(r, 0, 0), "0") == 0)
            rc = 0;
        else if (r != NULL && PQresultStatus(r) == PGRES_TUPLES_OK)
            fprintf(stderr, "bench-replay: a consumer has already used the database: give the "
                    "conninfo of an unused scratch database\n");
        else if (r != NULL)
            fprintf(stderr, "bench-replay: postgres: %s", PQresultErrorMessage(r));
        PQclear(r);
    }
    PQfinish(pg);
    return rc;
}

static double rate_of(const struct rate *r, uint64_t n)
{
    return r->secs > 0 ? (double)n / r->secs : 0.0;
}

static double ratio(double a, double b)
{
    return b > 0 ? a / b : 0.0;
}

/* The three consumers side by side, then the targets. */
static void print_targets(double e2e, double limit, double bare, double base)
{
    printf("side by side (events/s, each timed from its consumer's creation to its end):\n");
    printf("  end to end %.0f, decode-only limit %.0f, bare consume %.0f\n", e2e, limit, bare);
    printf("  end to end / bare consume: %.2f\n", ratio(e2e, bare));
    printf("  decode-only limit / bare consume: %.2f\n", ratio(limit, bare));
    printf("  end to end / decode-only limit: %.2f (long-term goal %.1f)\n", ratio(e2e, limit),
           GOAL_LIMIT_RATIO);
    printf("targets:\n");
    printf("  end to end >= %.0f events/s: %.0f events/s, %s\n", TARGET_EVENTS_PER_S, e2e,
           verdict(e2e >= TARGET_EVENTS_PER_S));
    if (base < 0)
        printf("  end to end / baseline >= %.0fx: not measured\n", TARGET_BASELINE_RATIO);
    else
        printf("  end to end / baseline >= %.0fx: %.1fx, %s\n", TARGET_BASELINE_RATIO,
               ratio(e2e, base), verdict(base > 0 && e2e / base >= TARGET_BASELINE_RATIO));
}

/* The baseline phase; *rate stays -1 when --baseline-events is 0 (not measured), 0 if it failed. */
static int measure_baseline(const struct opts *o, const struct backlog *b, double *rate)
{
    struct rate base = {0};
    if (o->baseline_events == 0) {
        printf("2c. baseline: not measured (--baseline-events 0)\n");
        return 0;
    }
    printf("2c. baseline: one prepared INSERT ... ON CONFLICT DO UPDATE per event, autocommit, "
           "into copies of the daily tables (schema " BASE_SCHEMA ")\n");
    print_loadavg("before:");
    int brc = run_baseline(o, b, &base);
    print_loadavg("after:");
    printf("  %llu events upserted (%llu messages read) in %.2f s: %.0f events/s\n",
           (unsigned long long)base.ok, (unsigned long long)base.messages, base.secs,
           rate_of(&base, base.ok));
    *rate = brc == 0 ? rate_of(&base, base.ok) : 0;
    return brc;
}

/* One limit with its own peak RSS; its rate, CPU time and memory. */
static int measure_limit(const struct opts *o, const struct backlog *b, const struct limit *l,
                         struct rate *r)
{
    int reset = reset_peak_rss();
    long rss_before = proc_status_kb("VmRSS");
    print_loadavg("before:");
    int rc = run_limit(o, b, l, r);
    print_loadavg("after:");
    double n = r->messages > 0 ? (double)r->messages : 1.0;
    printf("  %llu messages (%llu ok), %.1f MiB, in %.2f s (first message after %.2f s): "
           "%.0f events/s, %.1f MiB/s; from the first message on %.0f events/s\n",
           (unsigned long long)r->messages, (unsigned long long)r->ok, mib((double)r->bytes),
           r->secs, r->first_secs, rate_of(r, r->messages), ratio(mib((double)r->bytes), r->secs),
           ratio((double)r->messages, r->secs - r->first_secs));
    printf("  CPU: %.2f s in all (%.0f%% of one core); the consuming thread %.2f s (%.0f%% of "
           "the wall time), %.2f us a message\n", r->cpu_secs, 100.0 * ratio(r->cpu_secs, r->secs),
           r->thread_cpu_secs, 100.0 * ratio(r->thread_cpu_secs, r->secs),
           r->thread_cpu_secs / n * 1e6);
    if (reset == 0)
        printf("  memory: RSS before %.1f MiB (heap trimmed, peak reset); peak RSS VmHWM %.1f MiB: "
               "what librdkafka's prefetch alone holds with the same settings\n",
               rss_before / 1024.0, proc_status_kb("VmHWM") / 1024.0);
    return rc;
}

static void print_split(const struct checker *c, const struct rate *r)
{
    double n = c->sampled > 0 ? (double)c->sampled : 1.0;
    double sign = c->sign_secs / n, decode = c->decode_secs / n, all = (double)r->messages;
    printf("  signatures: %llu verified, %llu not checked (unsigned, or no keys), %llu refused\n",
           (unsigned long long)c->verified, (unsigned long long)c->unsigned_,
           (unsigned long long)c->refused);
    printf("  split timing (%llu messages, 1 in %d): signature + county %.2f us, decode + "
           "validation %.2f us a message; over all messages %.0f%% and %.0f%% of the wall time\n",
           (unsigned long long)c->sampled, SPLIT_EVERY, sign * 1e6, decode * 1e6,
           100.0 * ratio(sign * all, r->secs), 100.0 * ratio(decode * all, r->secs));
}

/* " (round i of n)" when there are rounds, else "". */
static const char *round_label(int i, long n)
{
    static char label[48];
    label[0] = '\0';
    if (n > 1)
        snprintf(label, sizeof label, " (round %d of %ld)", i + 1, n);
    return label;
}

/* 2a: the decode-only limit, with the database's signing keys; round i's group ends in
 * -limit, -limit-2, ... */
static int measure_decode_only(const struct opts *o, const struct backlog *b, int i,
                               struct rate *r)
{
    struct checker c;
    jc_error_t err;
    char suffix[32] = "-limit";
    memset(&c, 0, sizeof c);
    if (i > 0)
        snprintf(suffix, sizeof suffix, "-limit-%d", i + 1);
    printf("2a. decode-only limit%s: plain librdkafka consumer (%s), the aggregator's checks "
           "minus dedup: signature, decode, county, validation; no PostgreSQL (group %s%s)\n",
           round_label(i, o->limit_rounds), reader_name(o->limit_batch), o->group, suffix);
    c.codec = jc_codec_new(&err);
    if (c.codec == NULL) {
        fprintf(stderr, "bench-replay: codec: %s\n", err.message);
        return -1;
    }
    c.ring = load_keyring(o->conninfo);
    struct limit l = {suffix, check_message, &c};
    int rc = measure_limit(o, b, &l, r);
    print_split(&c, r);
    jc_keyring_free(c.ring);
    jc_codec_free(c.codec);
    return rc;
}

/* 2b: the bare consume; round i's group ends in -bare, -bare-2, ... */
static int measure_bare(const struct opts *o, const struct backlog *b, int i, struct rate *r)
{
    char suffix[32] = "-bare";
    if (i > 0)
        snprintf(suffix, sizeof suffix, "-bare-%d", i + 1);
    printf("2b. bare consume%s: the same consumer and consume loop, each message only counted "
           "(group %s%s)\n", round_label(i, o->limit_rounds), o->group, suffix);
    struct limit count = {suffix, count_message, NULL};
    return measure_limit(o, b, &count, r);
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of n rates (sorted in place). */
static double median(double *v, long n)
{
    qsort(v, (size_t)n, sizeof *v, by_value);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The rounds of the two limits, alternating; their median rates (0 if any round failed). */
static int measure_limits(const struct opts *o, const struct backlog *b, double *limit,
                          double *bare)
{
    double l[MAX_ROUNDS], c[MAX_ROUNDS];
    int rc = 0;
    for (int i = 0; i < o->limit_rounds; i++) {
        struct rate lr = {0}, cr = {0};
        rc |= measure_decode_only(o, b, i, &lr);
        rc |= measure_bare(o, b, i, &cr);
        l[i] = rate_of(&lr, lr.messages);
        c[i] = rate_of(&cr, cr.messages);
    }
    *limit = rc == 0 ? median(l, o->limit_rounds) : 0;
    *bare = rc == 0 ? median(c, o->limit_rounds) : 0;
    if (o->limit_rounds > 1)
        printf("limits over %ld rounds: decode-only median %.0f events/s (%.0f-%.0f), bare consume "
               "median %.0f events/s (%.0f-%.0f)\n", o->limit_rounds, *limit, l[0],
               l[o->limit_rounds - 1], *bare, c[0], c[o->limit_rounds - 1]);
    return rc;
}

static int measure(const struct opts *o, const struct backlog *b)
{
    struct rate e = {0};
    double limit = 0, bare = 0;
    jc_aggregator_stats_t s;
    memset(&s, 0, sizeof s);
    long rss_before = proc_status_kb("VmRSS");
    printf("1. end to end: jc_aggregator_t, exactly once, dedup on, from offset 0 into an empty "
           "database (group %s)\n", o->group);
    print_loadavg("before:");
    struct mem_sampler mem;
    int rc = run_end_to_end(o, &e, &s, &mem);
    print_loadavg("after:");
    if (rc == 0) {
        printf("  %llu messages in %.2f s: %.0f events/s\n", (unsigned long long)e.messages,
               e.secs, rate_of(&e, e.messages));
        report_memory(&s, rss_before, &mem);
        rc = check_counts(&s, b);
    }
    int lrc = measure_limits(o, b, &limit, &bare);
    double base_rate = -1;
    int brc = measure_baseline(o, b, &base_rate);
    print_targets(rate_of(&e, e.messages), limit, bare, base_rate);
    return rc == 0 && lrc == 0 && brc == 0 ? 0 : 1;
}

static int read_opts(const jc_config_t *cfg, struct opts *o)
{
    jc_error_t err;
    memset(o, 0, sizeof *o);
    o->conninfo = jc_config_get(cfg, "pg.conninfo");
    o->baseline_conninfo = jc_config_get(cfg, "pg.baseline.conninfo");
    if (o->baseline_conninfo == NULL || *o->baseline_conninfo == '\0')
        o->baseline_conninfo = o->conninfo;
    o->prefix = jc_config_get(cfg, "jiceng.topic.prefix");
    o->props = jc_config_client_properties(cfg);
    if (jc_config_get_long(cfg, "baseline.events", 0, 100000000, &o->baseline_events, &err) != JC_OK ||
        jc_config_get_long(cfg, "limit.batch", 0, 1000000, &o->limit_batch, &err) != JC_OK ||
        jc_config_get_long(cfg, "limit.rounds", 1, MAX_ROUNDS, &o->limit_rounds, &err) != JC_OK ||
        jc_config_get_long(cfg, "batch.max.events", 1, 10000000, &o->batch_events, &err) != JC_OK ||
        jc_config_get_long(cfg, "batch.max.ms", 1, 3600000, &o->batch_ms, &err) != JC_OK) {
        fprintf(stderr, "bench-replay: %s\n", err.message);
        return -1;
    }
    if (o->prefix == NULL || *o->prefix == '\0' || o->conninfo == NULL) {
        fprintf(stderr, "bench-replay: --topic-prefix and --conninfo are required\n");
        return -1;
    }
    if (jc_config_get(cfg, "group.id") != NULL)
        snprintf(o->group, sizeof o->group, "%s", jc_config_get(cfg, "group.id"));
    else
        snprintf(o->group, sizeof o->group, "jiceng-aggregate-bench-replay-%ld", (long)getpid());
    return 0;
}

int main(int argc, char **argv)
{
    jc_config_t *cfg = NULL;
    int rc = jc_config_main(&program, argc, argv, &cfg);
    if (rc >= 0)
        return rc;
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct opts o;
    struct backlog b;
    if (read_opts(cfg, &o) != 0) {
        jc_config_free(cfg);
        return 2;
    }
    rc = check_empty(o.conninfo) == 0 ? count_backlog(&o, &b) : -1;
    if (rc == 0) {
        printf("bench-replay: topics %s*: %lld messages (%lld visits, %lld petitions, "
               "%lld disaster responses, %lld trainings), %d partitions each; batches of %ld "
               "events / %ld ms; %ld cores online\n", o.prefix, (long long)b.total,
               (long long)b.messages[0], (long long)b.messages[1], (long long)b.messages[2],
               (long long)b.messages[3], b.partitions[0], o.batch_events, o.batch_ms,
               sysconf(_SC_NPROCESSORS_ONLN));
        fflush(stdout);
        rc = measure(&o, &b);
    }
    jc_config_free(cfg);
    return rc == 0 ? 0 : 1;
}
