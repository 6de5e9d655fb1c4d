/*
 * metrics.c: the Prometheus text exposition of the aggregator's counters (jiceng/metrics.h).
 *
 * One table, `metrics` below, describes every metric: its name, help text, Prometheus type and
 * where its figures come from (a shape, saying how the figures are laid out and labelled, and
 * the offset of the field in jc_aggregator_stats_t or jc_metrics_process_t). render() walks the
 * table and writes each metric's HELP and TYPE lines and samples; label values are escaped as
 * the format asks (backslash, double quote, newline). Times kept as epoch milliseconds are shown
 * as ages in seconds at the time of rendering, and left out while there is none (0).
 *
 * Also here: the process figures from /proc/self, a certificate's not-after time (OpenSSL), and
 * the histogram's observe.
 */
#define _DEFAULT_SOURCE /* timegm */
#include "jiceng/metrics.h"

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "jiceng/event.h"
#include "jiceng/reference.h"

typedef enum { COUNTER, GAUGE, HISTOGRAM } mtype_t;

typedef enum {
    S_U64,             /* a uint64_t of the stats */
    S_AGE,             /* an int64_t epoch ms of the stats, as seconds before now */
    S_BY_TOPIC,        /* uint64_t[type], labelled by topic */
    S_BY_TYPE,         /* uint64_t[type], labelled by event type */
    S_BY_TOPIC_REASON, /* rejected_by: topic and reject status; only those that occurred */
    S_HISTOGRAM,       /* a jc_histogram_t of the stats */
    S_LATENCY,         /* a jc_latency_t of the stats, in seconds at fixed bounds */
    S_LAG,             /* the partitions' lag: topic, partition */
    S_COUNTY_AGE,      /* county_newest_ms: seconds before now, per county code */
    P_DOUBLE,          /* a double of the process figures */
    P_UNTIL,           /* an int64_t epoch ms of the process figures, as seconds after now */
    P_INFO,            /* 1, labelled by the version */
} shape_t;

typedef struct metric {
    const char *name;
    const char *help;
    mtype_t type;
    shape_t shape;
    size_t offset; /* of the field, in the stats or (P_*) the process figures */
} metric_t;

#define S(f) offsetof(jc_aggregator_stats_t, f)
#define P(f) offsetof(jc_metrics_process_t, f)

static const metric_t metrics[] = {
    {"jiceng_build_info", "Build version (always 1).", GAUGE, P_INFO, 0},
    {"jiceng_consumed_messages_total", "Messages consumed, by topic (counted when their batch "
     "commits).", COUNTER, S_BY_TOPIC, S(consumed_by_type)},
    {"jiceng_applied_events_total", "Events applied to the aggregates, by event type.",
     COUNTER, S_BY_TYPE, S(applied_by_type)},
    {"jiceng_duplicate_events_total", "Re-sent events skipped (already applied), by event "
     "type.", COUNTER, S_BY_TYPE, S(duplicates_by_type)},
    {"jiceng_corrected_events_total", "Corrections applied (a higher revision replacing the "
     "version in force), by event type.", COUNTER, S_BY_TYPE, S(corrected_by_type)},
    {"jiceng_withdrawn_events_total", "Withdrawals applied, by event type.", COUNTER, S_BY_TYPE,
     S(withdrawn_by_type)},
    {"jiceng_rejected_messages_total", "Messages kept in jiceng.rejects, by topic and reject "
     "status.", COUNTER, S_BY_TOPIC_REASON, S(rejected_by)},
    {"jiceng_batch_flush_duration_seconds", "Time from a batch flush's start to its commit, "
     "PostgreSQL retries included.", HISTOGRAM, S_HISTOGRAM, S(flush_seconds)},
    {"jiceng_batch_events", "Messages per committed batch.", HISTOGRAM, S_HISTOGRAM,
     S(batch_events)},
    {"jiceng_event_freshness_seconds", "Per committed message, the time from its record "
     "timestamp to the commit that made it visible in PostgreSQL.", HISTOGRAM, S_LATENCY,
     S(freshness_ms)},
    {"jiceng_pg_retries_total", "Flush attempts repeated after a PostgreSQL error.", COUNTER,
     S_U64, S(pg_retries)},
    {"jiceng_fenced_batches_total", "Batches dropped by a failed offset compare-and-set.",
     COUNTER, S_U64, S(fenced)},
    {"jiceng_rebalances_total", "Assignment changes (partitions assigned, revoked or lost).",
     COUNTER, S_U64, S(rebalances)},
    {"jiceng_assigned_partitions", "Partitions assigned to this instance.", GAUGE, S_U64,
     S(partitions)},
    {"jiceng_partition_lag_messages", "High watermark seen by the client minus the offset "
     "committed to PostgreSQL, per assigned partition.", GAUGE, S_LAG, 0},
    {"jiceng_newest_applied_event_age_seconds", "Age of the newest applied event's record "
     "timestamp.", GAUGE, S_AGE, S(newest_record_ms)},
    {"jiceng_last_commit_age_seconds", "Time since the last batch committed.", GAUGE, S_AGE,
     S(last_commit_ms)},
    {"jiceng_dedup_ids", "Event ids held in the dedup sets.", GAUGE, S_U64, S(dedup_ids)},
    {"jiceng_dedup_bytes", "Bytes the dedup sets hold.", GAUGE, S_U64, S(dedup_bytes)},
    {"jiceng_county_newest_event_age_seconds", "Age of the newest applied event's occurred_at, "
     "per county code (counties with an event since the start).", GAUGE, S_COUNTY_AGE, 0},
    {"jiceng_client_certificate_expiry_seconds", "Seconds until the Kafka client certificate's "
     "not-after time.", GAUGE, P_UNTIL, P(cert_not_after_ms)},
    {"jiceng_dead_letters_total", "Rejects' copies delivered to the dead-letter topic.",
     COUNTER, S_U64, S(dead_letters)},
    {"jiceng_dead_letter_failed_total", "Rejects' copies that never reached the dead-letter "
     "topic.", COUNTER, S_U64, S(dead_letter_failed)},
    {"process_resident_memory_bytes", "Resident memory size in bytes.", GAUGE, P_DOUBLE,
     P(resident_bytes)},
    {"process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", COUNTER,
     P_DOUBLE, P(cpu_seconds)},
    {"process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
     GAUGE, P_DOUBLE, P(start_time_seconds)},
};

static const char *const type_names[] = {"counter", "gauge", "histogram"};

/* ---- writing ---------------------------------------------------------------------------- */

typedef struct out {
    jc_buf_t *buf;
    jc_status_t st;
} out_t;

static void put(out_t *o, const char *s, size_t n)
{
    if (o->st == JC_OK)
        o->st = jc_buf_append(o->buf, s, n);
}

static void putf(out_t *o, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0 || o->st != JC_OK)
        return;
    if ((size_t)n < sizeof small) {
        put(o, small, (size_t)n);
        return;
    }
    if ((o->st = jc_buf_reserve(o->buf, (size_t)n + 1)) != JC_OK)
        return;
    va_start(ap, fmt);
    vsnprintf((char *)o->buf->data + o->buf->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    o->buf->len += (size_t)n;
}

/* s with \ and newline escaped, and " too if quote (label values; HELP text leaves it). */
static void put_escaped(out_t *o, const char *s, int quote)
{
    for (; *s; s++) {
        if (*s == '\\')
            put(o, "\\\\", 2);
        else if (*s == '\n')
            put(o, "\\n", 2);
        else if (*s == '"' && quote)
            put(o, "\\\"", 2);
        else
            put(o, s, 1);
    }
}

static void put_double(out_t *o, double v)
{
    if (isnan(v))
        putf(o, "NaN");
    else if (isinf(v))
        putf(o, v > 0 ? "+Inf" : "-Inf");
    else
        putf(o, "%.15g", v);
}

/* One sample: name[suffix]{k1="v1",k2="v2"} value (labels with a NULL name left out). */
static void sample(out_t *o, const metric_t *m, const char *suffix, const char *k1,
                   const char *v1, const char *k2, const char *v2, double value)
{
    putf(o, "%s%s", m->name, suffix);
    if (k1 != NULL) {
        putf(o, "{%s=\"", k1);
        put_escaped(o, v1, 1);
        if (k2 != NULL) {
            putf(o, "\",%s=\"", k2);
            put_escaped(o, v2, 1);
        }
        put(o, "\"}", 2);
    }
    put(o, " ", 1);
    put_double(o, value);
    put(o, "\n", 1);
}

/* ---- the shapes -------------------------------------------------------------------------- */

static void histogram(out_t *o, const metric_t *m, const jc_histogram_t *h)
{
    uint64_t cum = 0;
    char le[40];
    size_t n = h->nbounds < JC_HISTOGRAM_MAX ? h->nbounds : JC_HISTOGRAM_MAX;
    for (size_t i = 0; i < n; i++) {
        cum += h->counts[i];
        snprintf(le, sizeof le, "%.15g", h->bounds[i]);
        sample(o, m, "_bucket", "le", le, NULL, NULL, (double)cum);
    }
    sample(o, m, "_bucket", "le", "+Inf", NULL, NULL, (double)h->count);
    sample(o, m, "_sum", NULL, NULL, NULL, NULL, h->sum);
    sample(o, m, "_count", NULL, NULL, NULL, NULL, (double)h->count);
}

/* A jc_latency_t as a histogram in seconds: its fine buckets summed up to each of these bounds
 * (each an exact bucket's end, below JC_LATENCY_EXACT_MS, or a coarse bucket's end above). */
static int64_t latency_bound(size_t i);
static const int64_t latency_bounds_ms[] = {10, 25, 50, 75, 100, 150, 200, 300, 500, 1000};

static void latency_histogram(out_t *o, const metric_t *m, const jc_latency_t *l)
{
    uint64_t cum = 0;
    size_t i = 0;
    char le[40];
    for (size_t b = 0; b < sizeof latency_bounds_ms / sizeof latency_bounds_ms[0]; b++) {
        for (; i < JC_LATENCY_BUCKETS && latency_bound(i) <= latency_bounds_ms[b]; i++)
            cum += l->counts[i];
        snprintf(le, sizeof le, "%.15g", (double)latency_bounds_ms[b] / 1000.0);
        sample(o, m, "_bucket", "le", le, NULL, NULL, (double)cum);
    }
    sample(o, m, "_bucket", "le", "+Inf", NULL, NULL, (double)l->count);
    sample(o, m, "_sum", NULL, NULL, NULL, NULL, l->sum_ms / 1000.0);
    sample(o, m, "_count", NULL, NULL, NULL, NULL, (double)l->count);
}

static const char *topic_of(const jc_aggregator_stats_t *s, int t)
{
    return s->topics[t] != NULL ? s->topics[t] : jc_event_topic((jc_event_type_t)t);
}

static void by_topic_reason(out_t *o, const metric_t *m, const jc_aggregator_stats_t *s)
{
    for (int t = 0; t < JC_EVENT_TYPE_COUNT; t++)
        for (int r = 0; r < JC_STATUS_COUNT_; r++)
            if (s->rejected_by[t][r] > 0)
                sample(o, m, "", "topic", topic_of(s, t), "reason",
                       jc_status_name((jc_status_t)r), (double)s->rejected_by[t][r]);
}

static void lag(out_t *o, const metric_t *m, const jc_aggregator_stats_t *s)
{
    char part[16];
    for (size_t i = 0; s->lag != NULL && i < s->nlag; i++) {
        snprintf(part, sizeof part, "%d", (int)s->lag[i].partition);
        sample(o, m, "", "topic", s->lag[i].topic, "partition", part, (double)s->lag[i].lag);
    }
}

static void county_ages(out_t *o, const metric_t *m, const jc_aggregator_stats_t *s,
                        int64_t now_ms)
{
    char code[16];
    for (size_t i = 0; i < JC_STATS_COUNTIES; i++) {
        const jc_county_t *c = s->county_newest_ms[i] > 0 ? jc_county_at(i) : NULL;
        if (c == NULL)
            continue;
        snprintf(code, sizeof code, "%d", (int)c->code);
        sample(o, m, "", "county", code, NULL, NULL,
               (double)(now_ms - s->county_newest_ms[i]) / 1000.0);
    }
}

static void samples(out_t *o, const metric_t *m, const jc_aggregator_stats_t *s,
                    const jc_metrics_process_t *p, int64_t now_ms)
{
    const char *sf = (const char *)s + m->offset, *pf = (const char *)p + m->offset;
    int64_t ms;
    switch (m->shape) {
    case S_U64:
        sample(o, m, "", NULL, NULL, NULL, NULL, (double)*(const uint64_t *)(const void *)sf);
        break;
    case S_AGE:
        if ((ms = *(const int64_t *)(const void *)sf) > 0)
            sample(o, m, "", NULL, NULL, NULL, NULL, (double)(now_ms - ms) / 1000.0);
        break;
    case S_BY_TOPIC:
    case S_BY_TYPE:
        for (int t = 0; t < JC_EVENT_TYPE_COUNT; t++)
            sample(o, m, "", m->shape == S_BY_TOPIC ? "topic" : "type",
                   m->shape == S_BY_TOPIC ? topic_of(s, t) : jc_event_type_name((jc_event_type_t)t),
                   NULL, NULL, (double)((const uint64_t *)(const void *)sf)[t]);
        break;
    case S_BY_TOPIC_REASON:
        by_topic_reason(o, m, s);
        break;
    case S_HISTOGRAM:
        histogram(o, m, (const jc_histogram_t *)(const void *)sf);
        break;
    case S_LATENCY:
        latency_histogram(o, m, (const jc_latency_t *)(const void *)sf);
        break;
    case S_LAG:
        lag(o, m, s);
        break;
    case S_COUNTY_AGE:
        county_ages(o, m, s, now_ms);
        break;
    case P_DOUBLE:
        sample(o, m, "", NULL, NULL, NULL, NULL, *(const double *)(const void *)pf);
        break;
    case P_UNTIL:
        if ((ms = *(const int64_t *)(const void *)pf) != 0)
            sample(o, m, "", NULL, NULL, NULL, NULL, (double)(ms - now_ms) / 1000.0);
        break;
    case P_INFO:
        sample(o, m, "", "version", p->version != NULL ? p->version : jc_version(), NULL, NULL, 1);
        break;
    }
}

jc_status_t jc_metrics_render(const jc_aggregator_stats_t *s, const jc_metrics_process_t *p,
                              int64_t now_ms, jc_buf_t *out)
{
    out_t o = {out, JC_OK};
    for (size_t i = 0; i < sizeof metrics / sizeof metrics[0]; i++) {
        const metric_t *m = &metrics[i];
        putf(&o, "# HELP %s ", m->name);
        put_escaped(&o, m->help, 0);
        putf(&o, "\n# TYPE %s %s\n", m->name, type_names[m->type]);
        samples(&o, m, s, p, now_ms);
    }
    return o.st;
}

/* ---- histograms -------------------------------------------------------------------------- */

void jc_histogram_observe(jc_histogram_t *h, double v)
{
    size_t n = h->nbounds < JC_HISTOGRAM_MAX ? h->nbounds : JC_HISTOGRAM_MAX, i = 0;
    while (i < n && v > h->bounds[i])
        i++;
    h->counts[i]++;
    h->count++;
    h->sum += v;
}

/* ---- latencies (fine buckets for percentiles) ------------------------------------------- */

static size_t latency_bucket(int64_t ms)
{
    if (ms < JC_LATENCY_EXACT_MS)
        return (size_t)ms;
    int64_t i = JC_LATENCY_EXACT_MS + (ms - JC_LATENCY_EXACT_MS) / JC_LATENCY_STEP_MS;
    return i < JC_LATENCY_BUCKETS ? (size_t)i : JC_LATENCY_BUCKETS - 1;
}

/* The largest latency bucket i holds (its upper bound), in ms. */
static int64_t latency_bound(size_t i)
{
    if (i < JC_LATENCY_EXACT_MS)
        return (int64_t)i;
    if (i == JC_LATENCY_BUCKETS - 1)
        return INT64_MAX; /* open-ended: the maximum bounds it */
    return JC_LATENCY_EXACT_MS + (int64_t)(i - JC_LATENCY_EXACT_MS + 1) * JC_LATENCY_STEP_MS - 1;
}

void jc_latency_observe(jc_latency_t *l, int64_t ms)
{
    if (ms < 0)
        ms = 0;
    l->counts[latency_bucket(ms)]++;
    l->count++;
    l->sum_ms += (double)ms;
    if (ms > l->max_ms)
        l->max_ms = ms;
}

int64_t jc_latency_quantile(const jc_latency_t *l, double q)
{
    if (l->count == 0)
        return -1;
    double want = q * (double)l->count;
    uint64_t cum = 0;
    for (size_t i = 0; i < JC_LATENCY_BUCKETS; i++) {
        cum += l->counts[i];
        if ((double)cum >= want && cum > 0) {
            int64_t b = latency_bound(i);
            return b < l->max_ms ? b : l->max_ms;
        }
    }
    return l->max_ms;
}

/* ---- the process ------------------------------------------------------------------------- */

/* The system's boot time (epoch seconds), from /proc/stat's btime; 0 if unknown. */
static double boot_time(void)
{
    FILE *f = fopen("/proc/stat", "r");
    char line[256];
    double bt = 0;
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "btime %lf", &bt) == 1)
            break;
    if (f != NULL)
        fclose(f);
    return bt;
}

jc_status_t jc_metrics_process_read(jc_metrics_process_t *p, jc_error_t *err)
{
    char buf[1024];
    FILE *f = fopen("/proc/self/stat", "r");
    size_t n = f != NULL ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f != NULL)
        fclose(f);
    buf[n] = '\0';
    const char *rest = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
    unsigned long long utime = 0, stime = 0, start = 0;
    /* after ')': state (3), then fields 4..13, utime (14), stime (15), 16..21, starttime (22) */
    if (rest == NULL || sscanf(rest + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu "
                               "%*d %*d %*d %*d %*d %*d %llu", &utime, &stime, &start) != 3)
        return jc_error_set(err, JC_ERR_IO, "/proc/self/stat: unreadable");
    long rss_pages = 0;
    f = fopen("/proc/self/statm", "r");
    int ok = f != NULL && fscanf(f, "%*s %ld", &rss_pages) == 1;
    if (f != NULL)
        fclose(f);
    if (!ok)
        return jc_error_set(err, JC_ERR_IO, "/proc/self/statm: unreadable");
    double ticks = (double)sysconf(_SC_CLK_TCK);
    p->resident_bytes = (double)rss_pages * (double)sysconf(_SC_PAGESIZE);
    p->cpu_seconds = (double)(utime + stime) / ticks;
    p->start_time_seconds = boot_time() + (double)start / ticks;
    return JC_OK;
}

jc_status_t jc_metrics_cert_not_after(const char *path, int64_t *not_after_ms, jc_error_t *err)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return jc_error_set(err, JC_ERR_IO, "%s: cannot be read", path);
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    int ok = x != NULL && ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1;
    X509_free(x);
    if (!ok)
        return jc_error_set(err, JC_ERR_PARSE, "%s: no PEM certificate in it", path);
    *not_after_ms = (int64_t)timegm(&tm) * 1000;
    return JC_OK;
}
