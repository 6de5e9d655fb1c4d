/*
 * bench/replay: events per second through jiceng-aggregate's consumer, end to end, against
 * the limit (Kafka read + decode) and a baseline (one upsert per event).
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
 *      ru_maxrss, read before anything else runs), the dedup sets' size, and the checks
 *      applied + duplicates + rejected == consumed == messages in the topics;
 *   2. the limit: a plain librdkafka consumer (its own fresh group, same assignor) that reads
 *      every message and only decodes and validates it (jc_codec_decode + jc_event_validate).
 *      Before it, the heap is trimmed and the peak RSS reset (clear_refs), so its own peak shows
 *      what librdkafka's prefetch alone holds with the same settings;
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
#include "jiceng/validate.h"

#define TARGET_EVENTS_PER_S 100000.0
#define TARGET_BASELINE_RATIO 20.0
#define GOAL_LIMIT_RATIO 0.5
#define STALL_MS 60000
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
};

static const jc_program_t program = {
    .name = "bench-replay", .synopsis = "--topic-prefix PREFIX --conninfo STR [OPTIONS]",
    .about = "End-to-end events/s of the aggregator over pre-produced topics into an empty\n"
             "database, against a decode-only consumer (the limit) and one upsert per event\n"
             "(the baseline); peak RSS and dedup state; consistency of the counters.",
    .options = options, .noptions = sizeof options / sizeof options[0],
    .config_env = "JICENG_AGGREGATE_CONFIG",
};

struct opts {
    const char *conninfo, *baseline_conninfo, *prefix;
    char group[128];
    long baseline_events, batch_events, batch_ms;
    const char *const *props; /* librdkafka properties, bootstrap and prefix included */
};

struct backlog {
    int partitions[JC_EVENT_TYPE_COUNT];
    int64_t messages[JC_EVENT_TYPE_COUNT];
    int64_t total;
};

struct rate {
    uint64_t messages, ok;
    double secs, first_secs; /* wall time; time to the first message */
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

/* A consumer with the pass-through properties; with group, in that (fresh) group. */
static rd_kafka_t *plain_consumer(const struct opts *o, const char *group)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    int rc = 0;
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

/* The next message, or NULL after STALL_MS without one (reported). Errors are skipped. */
static rd_kafka_message_t *next_message(rd_kafka_t *rk)
{
    double deadline = seconds() + STALL_MS / 1000.0;
    while (seconds() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (m == NULL)
            continue;
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

static int run_end_to_end(const struct opts *o, struct rate *r, jc_aggregator_stats_t *s)
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
    double t0 = seconds();
    jc_aggregator_t *a = jc_aggregator_new(&c, &err);
    jc_status_t st = a != NULL ? jc_aggregator_run(a, NULL, &err) : err.code;
    r->secs = seconds() - t0;
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

static void report_memory(const jc_aggregator_stats_t *s, long rss_before_kb)
{
    struct rusage ru;
    long hwm_kb = proc_status_kb("VmHWM");
    long maxrss_kb = getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : -1;
    double peak = (double)(hwm_kb > maxrss_kb ? hwm_kb : maxrss_kb) * 1024.0;
    double rest = peak - (double)s->dedup_bytes;
    printf("  memory: RSS before jc_aggregator_new %.1f MiB; peak RSS VmHWM %.1f MiB, "
           "ru_maxrss %.1f MiB\n", rss_before_kb / 1024.0, hwm_kb / 1024.0, maxrss_kb / 1024.0);
    printf("  dedup state: %llu ids, %.1f MiB, %.1f bytes/id (bound: 32)\n",
           (unsigned long long)s->dedup_ids, mib((double)s->dedup_bytes),
           s->dedup_ids ? (double)s->dedup_bytes / (double)s->dedup_ids : 0.0);
    printf("  peak RSS - dedup bytes: %.1f MiB (should stay flat as the backlog grows)\n",
           mib(rest));
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

/* ---- 2. the limit: read and decode only ---------------------------------------------- */

static int consume_decode(rd_kafka_t *rk, jc_codec_t *codec, int64_t total, double t0,
                          struct rate *r)
{
    jc_event_t ev;
    while ((int64_t)r->messages < total) {
        rd_kafka_message_t *m = next_message(rk);
        if (m == NULL)
            return -1;
        if (r->messages++ == 0)
            r->first_secs = seconds() - t0;
        r->ok += (uint64_t)decode_valid(codec, m, &ev);
        rd_kafka_message_destroy(m);
    }
    return 0;
}

static int run_limit(const struct opts *o, const struct backlog *b, struct rate *r)
{
    char group[160];
    snprintf(group, sizeof group, "%s-limit", o->group);
    jc_error_t err;
    jc_codec_t *codec = jc_codec_new(&err);
    if (codec == NULL) {
        fprintf(stderr, "bench-replay: codec: %s\n", err.message);
        return -1;
    }
    double t0 = seconds();
    rd_kafka_t *rk = plain_consumer(o, group);
    int rc = rk != NULL && subscribe_all(o, rk) == 0 ? consume_decode(rk, codec, b->total, t0, r)
                                                      : -1;
    if (rk != NULL) {
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
    }
    r->secs = seconds() - t0;
    jc_codec_free(codec);
    return rc;
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
    double t0 = 0;
    int rc = codec != NULL ? 0 : -1;
    while (rc == 0 && r->ok < want) {
        rd_kafka_message_t *m = next_message(rk);
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

static void print_targets(double e2e, double limit, double base)
{
    printf("targets:\n");
    printf("  end to end >= %.0f events/s: %.0f events/s, %s\n", TARGET_EVENTS_PER_S, e2e,
           verdict(e2e >= TARGET_EVENTS_PER_S));
    if (base < 0)
        printf("  end to end / baseline >= %.0fx: not measured\n", TARGET_BASELINE_RATIO);
    else
        printf("  end to end / baseline >= %.0fx: %.1fx, %s\n", TARGET_BASELINE_RATIO,
               base > 0 ? e2e / base : 0.0,
               verdict(base > 0 && e2e / base >= TARGET_BASELINE_RATIO));
    printf("  end to end / limit (reported; long-term goal %.1f): %.2f\n", GOAL_LIMIT_RATIO,
           limit > 0 ? e2e / limit : 0.0);
}

/* The baseline phase; *rate stays -1 when --baseline-events is 0 (not measured), 0 if it failed. */
static int measure_baseline(const struct opts *o, const struct backlog *b, double *rate)
{
    struct rate base = {0};
    if (o->baseline_events == 0) {
        printf("2b. baseline: not measured (--baseline-events 0)\n");
        return 0;
    }
    printf("2b. baseline: one prepared INSERT ... ON CONFLICT DO UPDATE per event, autocommit, "
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

static int measure(const struct opts *o, const struct backlog *b)
{
    struct rate e = {0}, l = {0};
    jc_aggregator_stats_t s;
    memset(&s, 0, sizeof s);
    long rss_before = proc_status_kb("VmRSS");
    printf("1. end to end: jc_aggregator_t, exactly once, dedup on, from offset 0 into an empty "
           "database (group %s)\n", o->group);
    print_loadavg("before:");
    int rc = run_end_to_end(o, &e, &s);
    print_loadavg("after:");
    if (rc == 0) {
        printf("  %llu messages in %.2f s: %.0f events/s\n", (unsigned long long)e.messages,
               e.secs, rate_of(&e, e.messages));
        report_memory(&s, rss_before);
        rc = check_counts(&s, b);
    }
    printf("2a. limit: plain librdkafka consumer, decode+validate only (group %s-limit)\n", o->group);
    int reset = reset_peak_rss();
    long rss_limit_before = proc_status_kb("VmRSS");
    print_loadavg("before:");
    int lrc = run_limit(o, b, &l);
    print_loadavg("after:");
    printf("  %llu messages (%llu valid) in %.2f s (first message after %.2f s): %.0f events/s\n",
           (unsigned long long)l.messages, (unsigned long long)l.ok, l.secs, l.first_secs,
           rate_of(&l, l.messages));
    if (reset == 0)
        printf("  memory: RSS before %.1f MiB (heap trimmed, peak reset); peak RSS VmHWM %.1f MiB: "
               "what librdkafka's prefetch alone holds with the same settings\n",
               rss_limit_before / 1024.0, proc_status_kb("VmHWM") / 1024.0);
    double base_rate = -1;
    int brc = measure_baseline(o, b, &base_rate);
    print_targets(rate_of(&e, e.messages), lrc == 0 ? rate_of(&l, l.messages) : 0, base_rate);
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
