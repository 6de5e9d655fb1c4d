/*
 * jiceng-aggregate: the aggregating consumer daemon (jiceng/aggregator.h), or, with the
 * operand `migrate`, just the schema migrations (jiceng/migrate.h), run with the migration
 * role's conninfo (pg.migrate.conninfo; pg.conninfo if that is not set). The daemon itself
 * never migrates: it refuses a database whose schema is older than the library's, saying how
 * to migrate it.
 *
 * Run any number of instances with the same group id: Kafka shares the partitions among them,
 * PostgreSQL keeps every partition's offset, and each batch lands exactly once. SIGTERM or
 * SIGINT flushes the open batch and leaves the group; the exit status is then 0, or
 * EXIT_DEAD_LETTER when some rejects' dead-letter copies never reached the topic (the rejects
 * themselves are in jiceng.rejects). At start it waits for PostgreSQL (--pg-wait bounds that).
 * SIGHUP has it read the reference data (counties, code changes) again between two batches, as
 * it also does when their version in the database moves (--reference-check).
 *
 * The library prints nothing: its log lines come to jc_cli_log (stderr, info and above unless
 * --log-level says otherwise, or debug with -X debug=...; text or, with --log-format json, one
 * JSON object a line), together with the program's own: start, config (no secret), shutdown
 * (the counters) and why a run failed (exit); its periodic stats snapshot drives the progress
 * line, shown when stderr is a terminal.
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "jiceng/aggregator.h"
#include "jiceng/event.h"
#include "jiceng/generation.h"
#include "jiceng/lag.h"
#include "jiceng/migrate.h"
#include "jiceng/jtime.h"
#include "jiceng/redrive.h"
#include "http.h"
#include "notify.h"

static const jc_option_t options[] = {
    {"kafka.bootstrap.servers", "bootstrap", "JICENG_KAFKA_BOOTSTRAP", NULL, "LIST",
     "Kafka bootstrap servers"},
    {"pg.conninfo", "conninfo", "JICENG_PG_CONNINFO", NULL, "STR",
     "libpq conninfo or URI of the database, as the aggregator's role (PG* apply)"},
    {"pg.migrate.conninfo", "migrate-conninfo", "JICENG_MIGRATE_CONNINFO", NULL, "STR",
     "... as the migration role, for `migrate` (default: --conninfo)"},
    {"group.id", "group", "JICENG_GROUP_ID", JC_AGGREGATOR_GROUP, "NAME",
     "consumer group; PostgreSQL keeps its offsets per group"},
    {"jiceng.topic.prefix", "topic-prefix", "JICENG_TOPIC_PREFIX", "", "PREFIX",
     "prepended to the topic names (jiceng.visits, ...)"},
    {"batch.max.events", "batch-events", "JICENG_BATCH_MAX_EVENTS", "50000", "N",
     "flush a batch after this many messages"},
    {"batch.max.ms", "batch-ms", "JICENG_BATCH_MAX_MS", "250", "MS",
     "... or this many milliseconds after its first message"},
    {"dedup.retention.days", "retention-days", "JICENG_DEDUP_RETENTION_DAYS", "400", "DAYS",
     "how long event ids are remembered for deduplication (by arrival)"},
    {"exit.caught.up", "until-caught-up", NULL, "false", NULL,
     "exit once every assigned partition is consumed to its end and flushed"},
    {"pg.start.wait", "pg-wait", "JICENG_PG_WAIT", "0", "SECONDS",
     "at start, wait at most this long for PostgreSQL (0: until stopped)"},
    /* metrics and health endpoints (issue 12, items 1 and 2; http.h) */
    {"metrics.listen", "metrics-listen", "JICENG_METRICS_LISTEN", NULL, "HOST:PORT",
     "serve /metrics, /healthz, /readyz (default off; host 127.0.0.1; port 0: any free one)"},
    {"metrics.tls.cert", "metrics-tls-cert", NULL, NULL, "FILE",
     "metrics over HTTPS: certificate (PEM); required off loopback"},
    {"metrics.tls.key", "metrics-tls-key", NULL, NULL, "FILE",
     "... its private key (PEM, owner-only)"},
    {"metrics.auth.user", "metrics-user", NULL, NULL, "NAME",
     "metrics basic authentication user; required off loopback"},
    {"metrics.auth.password", NULL, "JICENG_METRICS_PASSWORD", NULL, "SECRET",
     "... its password: metrics.auth.password_file=FILE in the configuration file or\n"
     "$JICENG_METRICS_PASSWORD_FILE (an owner-only file)"},
    /* `status` (issue 12, item 4) */
    {"status.format", "format", NULL, "text", "FORMAT", "status: text or json"},
    {"status.stale", "stale", NULL, NULL, "SECONDS",
     "status: exit 1 if a partition with lag has not committed for this long"},
    /* `redrive` (issue 13, item 5; jiceng/redrive.h) */
    {"redrive.status", "status", NULL, NULL, "LIST",
     "redrive: the reject statuses to re-drive, comma-separated (e.g. unauthorized); required"},
    {"redrive.topic", "topic", NULL, NULL, "TOPIC",
     "redrive: only rejects of this topic (its full name, prefix included)"},
    {"redrive.since", "since", NULL, NULL, "TIME",
     "redrive: only rejects rejected at or after this ISO 8601 time (with offset)"},
    {"redrive.until", "until", NULL, NULL, "TIME", "redrive: ... and before this one"},
    {"redrive.limit", "limit", NULL, "0", "N", "redrive: at most N rejects (0: all)"},
    {"redrive.dry_run", "dry-run", NULL, "false", NULL,
     "redrive: only count what would be re-driven"},
    /* generations (issue 13, item 4; jiceng/generation.h) */
    {"generation", "generation", "JICENG_GENERATION", "1", "N",
     "the generation of the aggregates to write (1: schema jiceng; N: jiceng_gen_N, as group\n"
     "<group>-genN); `rebuild --generation N` resumes building N"},
    {"promote.max_lag", "max-lag", NULL, "0", "N",
     "promote: allow each partition to be at most N messages behind the newest end offset"},
    /* reference data (issue 13, item 6; jiceng/reference.h) */
    {"reference.check", "reference-check", "JICENG_REFERENCE_CHECK", "10", "SECONDS",
     "check this often, between batches, for new reference data in PostgreSQL (0: at start and "
     "on SIGHUP only)"},
    JC_CLI_LOG_OPTIONS, /* --log-format, --log-level (issue 12, item 3) */
};

/* The exit status when the run ended well but some dead-letter copies failed. */
#define EXIT_DEAD_LETTER 3

static const jc_program_t program = {
    .name = "jiceng-aggregate",
    .config_env = "JICENG_AGGREGATE_CONFIG",
    .synopsis = "[migrate|status|redrive|rebuild|promote N|drop N|generations] [OPTIONS]",
    .about = "Consumes the jiceng event topics in a consumer group and keeps the daily aggregates\n"
             "in PostgreSQL exactly once (offsets, dedup ledger, aggregates and rejects are\n"
             "written in one transaction per batch). `migrate` applies the schema (as the\n"
             "migration role) and exits; the daemon refuses an older schema. `status` prints\n"
             "each group's lag per partition (next offset, end offset, lag, age of the figure,\n"
             "age of the last commit, newest event) from PostgreSQL alone (--conninfo: the\n"
             "aggregator's or the report role), as a table or --format json; with --stale\n"
             "SECONDS it exits 1 if a partition has lag and no commit for longer (a check).\n"
             "librdkafka properties pass through with -X (e.g. -X session.timeout.ms=6000): each\n"
             "goes to the consumer, the dead-letter producer or both, as librdkafka marks it.\n"
             "`redrive --status LIST` re-publishes the rejects of those statuses (key, headers,\n"
             "value) to their topics and marks them re-driven (run it as the steward: --config\n"
             "$JICENG_STEWARD_CONFIG, with the aggregator's --conninfo; docs/operations.md).\n"
             "`rebuild` (migration role for the schema, then the aggregator's) makes a new\n"
             "generation of the aggregates and fills it from offset 0 until caught up; `promote N`\n"
             "switches the report views to generation N once it has caught up; `drop N` removes a\n"
             "generation that is not current; `generations` lists them (docs/operations.md).",
    .epilogue = "exit status: 0 stopped cleanly (SIGTERM/SIGINT, or caught up), 1 failed,\n"
                "2 usage or configuration error, 3 stopped cleanly but some rejects' copies\n"
                "never reached the dead-letter topic (the rejects are in jiceng.rejects; the\n"
                "log says which: dead_letter_failed); `status`: 0, or 1 if it failed or found a\n"
                "stale partition (listed on stderr), 2 usage error; `redrive`: 0, 1 if some\n"
                "rejects were not re-driven or the run failed, 2 usage error; `rebuild`, `promote`,\n"
                "`drop`, `generations`: 0, 1 if it failed or was refused (saying why), 2 usage error",
    .options = options,
    .noptions = sizeof options / sizeof options[0],
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* SIGHUP: the running aggregator reads the reference data again between two batches (issue 13,
 * item 6); jc_aggregator_reload_reference only sets a lock-free flag. */
static _Atomic(jc_aggregator_t *) running;

static void on_hangup(int sig)
{
    (void)sig;
    jc_aggregator_t *a = atomic_load(&running);
    if (a != NULL)
        jc_aggregator_reload_reference(a);
}

/* The progress line, from the aggregator's stats snapshots. */
static void show_progress(void *opaque, const jc_aggregator_stats_t *s)
{
    jc_progress_t *p = opaque;
    jc_progress_show(p, "consumed %llu (%.0f/s), applied %llu, duplicates %llu, rejected %llu, "
                     "partitions %llu", (unsigned long long)s->consumed,
                     jc_progress_rate(p, s->consumed), (unsigned long long)s->applied,
                     (unsigned long long)s->duplicates, (unsigned long long)s->rejected,
                     (unsigned long long)s->partitions);
}

static jc_status_t read_config(const jc_config_t *cfg, jc_aggregator_config_t *c, jc_error_t *err)
{
    long events = 0, ms = 0, days = 0, wait = 0;
    bool until = false;
    jc_status_t st = jc_config_get_long(cfg, "batch.max.events", 1, 10000000, &events, err);
    if (st == JC_OK)
        st = jc_config_get_long(cfg, "batch.max.ms", 1, 3600000, &ms, err);
    if (st == JC_OK)
        st = jc_config_get_long(cfg, "dedup.retention.days", 1, 36500, &days, err);
    if (st == JC_OK)
        st = jc_config_get_bool(cfg, "exit.caught.up", &until, err);
    if (st == JC_OK)
        st = jc_config_get_long(cfg, "pg.start.wait", 0, 2000000, &wait, err); /* ms fit an int */
    long generation = 1; /* generations (issue 13, item 4) */
    if (st == JC_OK)
        st = jc_config_get_long(cfg, "generation", 1, 1000000000L, &generation, err);
    long ref_check = 10; /* reference data (issue 13, item 6) */
    if (st == JC_OK)
        st = jc_config_get_long(cfg, "reference.check", 0, 86400, &ref_check, err);
    memset(c, 0, sizeof *c);
    c->bootstrap = jc_config_get(cfg, "kafka.bootstrap.servers");
    c->conninfo = jc_config_get(cfg, "pg.conninfo");
    c->group_id = jc_config_get(cfg, "group.id");
    c->topic_prefix = jc_config_get(cfg, "jiceng.topic.prefix");
    c->batch_max_events = (int)events;
    c->batch_max_ms = (int)ms;
    c->ledger_retention_days = (int)days;
    c->exit_when_caught_up = until;
    c->pg_start_wait_ms = (int)(wait * 1000);
    c->generation = (int)generation;
    c->reference_check_ms = ref_check > 0 ? (int)(ref_check * 1000) : -1;
    c->kafka_properties = jc_config_client_properties(cfg);
    if (st == JC_OK && (c->bootstrap == NULL || *c->bootstrap == '\0'))
        st = jc_error_set(err, JC_ERR_INVALID_ARG, "no Kafka bootstrap servers: use --bootstrap, "
                          "JICENG_KAFKA_BOOTSTRAP or an env file");
    return st;
}

/* The migration role's conninfo: pg.migrate.conninfo, else pg.conninfo. */
static const char *migrate_conninfo(const jc_config_t *cfg)
{
    const char *c = jc_config_get(cfg, "pg.migrate.conninfo");
    return c != NULL && *c != '\0' ? c : jc_config_get(cfg, "pg.conninfo");
}

static jc_exit_t run_migrate(const char *conninfo)
{
    PGconn *c = PQconnectdb(conninfo ? conninfo : "");
    jc_error_t err;
    int applied = 0;
    jc_exit_t rc = JC_EXIT_OK;
    if (PQstatus(c) != CONNECTION_OK) {
        jc_error_set(&err, JC_ERR_PG, "postgres: %s", PQerrorMessage(c)); /* one line */
        rc = jc_cli_fail(program.name, JC_EXIT_FAILURE, "%s", err.message);
    } else if (jc_migrate(c, &applied, &err) != JC_OK) {
        rc = jc_cli_fail(program.name, JC_EXIT_FAILURE, "%s", err.message);
    } else {
        printf("migrations: %d applied now, %d built in\n", applied, jc_migrations_builtin());
    }
    PQfinish(c);
    return rc;
}

/* `status` (issue 12, item 4): --format and --stale SECONDS (-1: none) into *json and
 * *stale_ms; a usage error otherwise. */
static jc_status_t status_options(const jc_config_t *cfg, bool *json, int64_t *stale_ms,
                                  jc_error_t *err)
{
    const char *format = jc_config_get(cfg, "status.format");
    long stale = -1;
    *json = format != NULL && strcmp(format, "json") == 0;
    if (format != NULL && !*json && strcmp(format, "text") != 0)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "--format: '%s' is not text or json", format);
    if (jc_config_get(cfg, "status.stale") != NULL &&
        jc_config_get_long(cfg, "status.stale", 0, 3153600000L, &stale, err) != JC_OK)
        return JC_ERR_INVALID_ARG;
    *stale_ms = stale < 0 ? -1 : (int64_t)stale * 1000;
    return JC_OK;
}

/* With a limit: the stale partitions on stderr; true if there are any. */
static bool report_stale(const jc_lag_row_t *rows, size_t n, int64_t stale_ms)
{
    jc_buf_t lines = {0};
    size_t count = 0;
    if (stale_ms < 0 || jc_lag_stale_lines(rows, n, stale_ms, &lines, &count) != JC_OK)
        count = stale_ms < 0 ? 0 : 1; /* out of memory: still say it is not known to be fine */
    if (count > 0)
        fprintf(stderr, "%s: %zu stale partition(s), with lag and no commit for over %lld s:\n%s",
                program.name, count, (long long)(stale_ms / 1000),
                lines.data != NULL ? (const char *)lines.data : "");
    jc_buf_free(&lines);
    return count > 0;
}

/* `status`: every consumer group's lag per partition, from PostgreSQL alone (jiceng/lag.h), as
 * a table or JSON; exit 1 if a partition is stale (--stale), 2 on a usage error. */
static jc_exit_t run_status(const jc_config_t *cfg)
{
    jc_error_t err;
    bool json = false;
    int64_t stale_ms = -1;
    if (status_options(cfg, &json, &stale_ms, &err) != JC_OK)
        return jc_cli_fail(program.name, JC_EXIT_USAGE, "%s", err.message);
    const char *conninfo = jc_config_get(cfg, "pg.conninfo");
    PGconn *c = PQconnectdb(conninfo ? conninfo : "");
    jc_lag_row_t *rows = NULL;
    size_t n = 0;
    jc_buf_t out = {0};
    jc_status_t st = PQstatus(c) == CONNECTION_OK
                         ? jc_lag_read(c, &rows, &n, &err)
                         : jc_error_set(&err, JC_ERR_PG, "postgres: %s", PQerrorMessage(c));
    if (st == JC_OK && (json ? jc_lag_json(rows, n, stale_ms, &out) : jc_lag_table(rows, n, &out)) != JC_OK)
        st = jc_error_set(&err, JC_ERR_NOMEM, "status: out of memory");
    if (st == JC_OK && (fwrite(out.data, 1, out.len, stdout) != out.len || fflush(stdout) != 0))
        st = jc_error_set(&err, JC_ERR_IO, "status: writing stdout failed");
    bool stale = st == JC_OK && report_stale(rows, n, stale_ms);
    jc_buf_free(&out);
    free(rows);
    PQfinish(c);
    if (st != JC_OK)
        return jc_cli_fail(program.name, JC_EXIT_FAILURE, "%s", err.message);
    return stale ? JC_EXIT_FAILURE : JC_EXIT_OK;
}

/* ---- `redrive` (issue 13, item 5; jiceng/redrive.h) ---- */

/* An optional ISO 8601 time option into *ms (def when unset); a usage error otherwise. */
static jc_status_t redrive_time(const jc_config_t *cfg, const char *key, int64_t def,
                                int64_t *ms, jc_error_t *err)
{
    const char *v = jc_config_get(cfg, key);
    *ms = def;
    if (v == NULL || *v == '\0' || jc_time_parse(v, ms, err) == JC_OK)
        return JC_OK;
    return jc_error_set(err, JC_ERR_INVALID_ARG, "--%s: '%s' is not an ISO 8601 time with an "
                        "offset (e.g. 2026-12-01T08:00:00+08:00)", key + 8, v);
}

/* The redrive options into c (statuses into the caller's array); a usage error otherwise. */
static jc_status_t redrive_options(const jc_config_t *cfg, jc_redrive_config_t *c,
                                   jc_status_t *statuses, jc_error_t *err)
{
    long limit = 0;
    const char *list = jc_config_get(cfg, "redrive.status");
    memset(c, 0, sizeof *c);
    if (list == NULL || *list == '\0')
        return jc_error_set(err, JC_ERR_INVALID_ARG, "redrive: --status is required (e.g. "
                            "--status unauthorized,unknown_county)");
    jc_status_t st = jc_redrive_statuses(list, statuses, JC_REDRIVE_MAX_STATUSES, &c->nstatuses, err);
    if (st == JC_OK)
        st = redrive_time(cfg, "redrive.since", INT64_MIN, &c->since_ms, err);
    if (st == JC_OK)
        st = redrive_time(cfg, "redrive.until", INT64_MAX, &c->until_ms, err);
    if (st == JC_OK)
        st = jc_config_get_long(cfg, "redrive.limit", 0, 1000000000L, &limit, err);
    if (st == JC_OK)
        st = jc_config_get_bool(cfg, "redrive.dry_run", &c->dry_run, err);
    c->statuses = statuses;
    c->limit = limit;
    c->topic = jc_config_get(cfg, "redrive.topic");
    c->bootstrap = jc_config_get(cfg, "kafka.bootstrap.servers");
    c->conninfo = jc_config_get(cfg, "pg.conninfo");
    c->kafka_properties = jc_config_client_properties(cfg);
    return st;
}

static void print_count(const char *what, const jc_redrive_count_t *n)
{
    printf("%s: selected %llu, delivered %llu, failed %llu\n", what,
           (unsigned long long)n->selected, (unsigned long long)n->delivered,
           (unsigned long long)n->failed);
}

/* `redrive`: re-publish the selected rejects, print the figures (in total and per status);
 * exit 0, 1 if some failed or the run stopped, 2 on a usage error. */
static jc_exit_t run_redrive(const jc_config_t *cfg)
{
    jc_cli_log_t sink = {.name = program.name};
    jc_status_t statuses[JC_REDRIVE_MAX_STATUSES];
    jc_redrive_count_t by_status[JC_REDRIVE_MAX_STATUSES], total;
    jc_redrive_config_t c;
    jc_error_t err;
    if (jc_cli_log_configure(&sink, cfg, &err) != JC_OK ||
        redrive_options(cfg, &c, statuses, &err) != JC_OK)
        return jc_cli_fail(program.name, JC_EXIT_USAGE, "%s", err.message);
    c.log = jc_cli_log;
    c.log_opaque = &sink;
    jc_status_t st = jc_redrive_run(&c, by_status, &total, &err);
    print_count(c.dry_run ? "redrive (dry run)" : "redrive", &total);
    for (size_t i = 0; i < c.nstatuses; i++)
        print_count(jc_status_name(statuses[i]), &by_status[i]);
    fflush(stdout);
    if (st != JC_OK)
        return jc_cli_fail(program.name, st == JC_ERR_INVALID_ARG ? JC_EXIT_USAGE : JC_EXIT_FAILURE,
                           "%s", err.message);
    return total.failed > 0 ? JC_EXIT_FAILURE : JC_EXIT_OK;
}

/* ---- log lines of note (issue 12, item 3): start, config, shutdown, why it failed ---- */

/* "start": version, group, topics, bootstrap servers. */
static void log_start(jc_cli_log_t *sink, const jc_aggregator_config_t *c)
{
    char topics[1200] = "";
    size_t len = 0;
    for (int t = 0; t < JC_EVENT_TYPE_COUNT && len < sizeof topics; t++)
        len += (size_t)snprintf(topics + len, sizeof topics - len, "%s%s%s", t ? "," : "",
                                c->topic_prefix ? c->topic_prefix : "", jc_event_topic(t));
    jc_cli_logf(sink, JC_LOG_INFO, "start", "start: %s %s, pid %ld, group %s, topics %s, "
                "dead letters to %s%s, bootstrap %s", program.name, jc_version(), (long)getpid(),
                c->group_id ? c->group_id : JC_AGGREGATOR_GROUP, topics,
                c->topic_prefix ? c->topic_prefix : "", JC_DEAD_LETTER_TOPIC, c->bootstrap);
}

/* "shutdown": the run's counters. */
static void summary(jc_cli_log_t *sink, const jc_aggregator_stats_t *s)
{
    jc_cli_logf(sink, JC_LOG_INFO, "shutdown", "consumed %llu, applied %llu, duplicates %llu, "
            "rejected %llu, batches %llu, fenced %llu, postgres retries %llu, dedup ids %llu "
            "(%llu bytes), signing keys read %llu times, dead letters %llu (%llu cut, %llu "
            "retries, %llu failed)", (unsigned long long)s->consumed, (unsigned long long)s->applied,
            (unsigned long long)s->duplicates, (unsigned long long)s->rejected,
            (unsigned long long)s->batches, (unsigned long long)s->fenced,
            (unsigned long long)s->pg_retries, (unsigned long long)s->dedup_ids,
            (unsigned long long)s->dedup_bytes, (unsigned long long)s->key_loads,
            (unsigned long long)s->dead_letters, (unsigned long long)s->dead_letters_cut,
            (unsigned long long)s->dead_letter_retries, (unsigned long long)s->dead_letter_failed);
    unsigned long long corrected = 0, withdrawn = 0;
    for (int t = 0; t < JC_EVENT_TYPE_COUNT; t++) {
        corrected += s->corrected_by_type[t];
        withdrawn += s->withdrawn_by_type[t];
    }
    if (corrected + withdrawn > 0)
        jc_cli_logf(sink, JC_LOG_INFO, "revisions", "of the applied events, %llu corrections "
                    "replaced the version in force and %llu withdrawals removed it", corrected,
                    withdrawn);
    const jc_latency_t *f = &s->freshness_ms;
    if (f->count > 0)
        jc_cli_logf(sink, JC_LOG_INFO, "freshness", "freshness of %llu committed messages "
                    "(record timestamp to commit): p50 %lld ms, p95 %lld ms, p99 %lld ms, max "
                    "%lld ms", (unsigned long long)f->count, (long long)jc_latency_quantile(f, 0.5),
                    (long long)jc_latency_quantile(f, 0.95), (long long)jc_latency_quantile(f, 0.99),
                    (long long)f->max_ms);
}

/* An "exit" line at error level (in the log's format, so a JSON log stays JSON); returns code. */
static jc_exit_t failed(jc_cli_log_t *sink, jc_exit_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static jc_exit_t failed(jc_cli_log_t *sink, jc_exit_t code, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    jc_cli_log(sink, JC_LOG_ERROR, "exit", msg);
    return code;
}

/* The exit status of a run that ended with st (err), saying why when it is not 0. */
static jc_exit_t exit_status(jc_cli_log_t *sink, jc_status_t st, const jc_error_t *err,
                             const jc_aggregator_stats_t *s)
{
    if (st == JC_ERR_SCHEMA_VERSION)
        return failed(sink, JC_EXIT_FAILURE, "%s: run `%s migrate` with the "
                      "migration role (--migrate-conninfo or JICENG_MIGRATE_CONNINFO)",
                      err->message, program.name);
    if (st != JC_OK)
        return failed(sink, JC_EXIT_FAILURE, "%s (%s)", err->message, jc_status_name(st));
    if (s->dead_letter_failed > 0)
        return failed(sink, (jc_exit_t)EXIT_DEAD_LETTER, "%llu reject(s) not "
                      "copied to the dead-letter topic (they are in jiceng.rejects; see "
                      "dead_letter_failed above)", (unsigned long long)s->dead_letter_failed);
    return JC_EXIT_OK;
}

/* Whether librdkafka's debug contexts are on (-X debug=...): then debug lines are wanted. */
static bool kafka_debug(const char *const *props)
{
    bool on = false;
    for (; props[0] != NULL; props += 2)
        if (strcmp(props[0], "debug") == 0)
            on = props[1][0] != '\0';
    return on;
}

/* ---- metrics and health endpoints (issue 12, items 1 and 2; http.h) ---- */

/* The value of librdkafka property name among props (name, value pairs), or NULL. */
static const char *kafka_property(const char *const *props, const char *name)
{
    const char *v = NULL;
    for (; props != NULL && props[0] != NULL; props += 2)
        if (strcmp(props[0], name) == 0)
            v = props[1];
    return v;
}

/* Start the endpoints if metrics.listen is set (wrapping c's on_stats): a configuration that
 * is unsafe or incomplete is a usage error. */
static jc_exit_t start_metrics(const jc_config_t *cfg, jc_aggregator_config_t *c, jc_http_t **out)
{
    jc_http_config_t hc = {
        .listen = jc_config_get(cfg, "metrics.listen"),
        .tls_cert = jc_config_get(cfg, "metrics.tls.cert"),
        .tls_key = jc_config_get(cfg, "metrics.tls.key"),
        .user = jc_config_get(cfg, "metrics.auth.user"),
        .password = jc_config_get(cfg, "metrics.auth.password"),
        .client_cert = kafka_property(c->kafka_properties, "ssl.certificate.location"),
    };
    jc_error_t err;
    *out = NULL;
    if (hc.listen == NULL || *hc.listen == '\0')
        return JC_EXIT_OK;
    if (jc_http_check(&hc, &err) != JC_OK)
        return jc_cli_fail(program.name, JC_EXIT_USAGE, "%s", err.message);
    if ((*out = jc_http_start(&hc, c, &err)) == NULL)
        return jc_cli_fail(program.name, JC_EXIT_FAILURE, "%s", err.message);
    return JC_EXIT_OK;
}

static jc_exit_t run_daemon(jc_aggregator_config_t *c, const jc_config_t *cfg)
{
    jc_progress_t progress;
    jc_progress_init(&progress, program.name);
    jc_cli_log_t sink = {.name = program.name, .progress = &progress};
    jc_error_t err;
    if (jc_cli_log_configure(&sink, cfg, &err) != JC_OK)
        return jc_cli_fail(program.name, JC_EXIT_USAGE, "%s", err.message);
    if (kafka_debug(c->kafka_properties)) /* librdkafka's debug lines are wanted */
        sink.min = JC_LOG_DEBUG;
    log_start(&sink, c);
    jc_cli_log_config(&sink, &program, cfg);
    c->log = jc_cli_log;
    c->log_opaque = &sink;
    if (jc_progress_enabled(&progress)) {
        c->on_stats = show_progress;
        c->stats_opaque = &progress;
    }
    jc_http_t *http; /* metrics and health endpoints, when metrics.listen is set */
    jc_exit_t http_rc = start_metrics(cfg, c, &http);
    if (http_rc != JC_EXIT_OK)
        return http_rc;
    jc_sd_notify_t notify; /* systemd readiness and watchdog (notify.h): wraps the callbacks */
    jc_sd_attach(&notify, c, &stop_requested);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_hangup; /* reference data (issue 13, item 6) */
    sigaction(SIGHUP, &sa, NULL);
    jc_aggregator_t *a = jc_aggregator_new(c, &err);
    if (a == NULL) {
        jc_http_stop(http);
        return failed(&sink, JC_EXIT_FAILURE, "%s", err.message);
    }
    atomic_store(&running, a);
    jc_status_t st = jc_aggregator_run(a, &stop_requested, &err);
    atomic_store(&running, NULL);
    jc_sd_stopping(&notify);
    jc_progress_end(&progress);
    summary(&sink, jc_aggregator_stats(a));
    jc_exit_t rc = exit_status(&sink, st, &err, jc_aggregator_stats(a));
    jc_aggregator_free(a);
    jc_http_stop(http);
    return rc;
}

/* ---- generations (issue 13, item 4; jiceng/generation.h): rebuild, promote, drop ---- */

static bool is_generation_command(const char *op)
{
    return strcmp(op, "rebuild") == 0 || strcmp(op, "promote") == 0 || strcmp(op, "drop") == 0 ||
           strcmp(op, "generations") == 0;
}

/* The generation number operand of promote or drop into *gen; a usage error otherwise. */
static jc_status_t generation_operand(char **operands, int n, int *gen, jc_error_t *err)
{
    char *end = NULL;
    long v = n == 2 ? strtol(operands[1], &end, 10) : 0;
    if (n != 2 || end == operands[1] || *end != '\0' || v < 1 || v > 1000000000L)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "%s: expected one generation number (e.g. "
                            "`%s 2`)", operands[0], operands[0]);
    *gen = (int)v;
    return JC_OK;
}

/* `rebuild`: a new generation (or --generation N, still building), filled by this program as
 * its aggregator until caught up. The schema work runs as the migration role, the aggregation
 * as the aggregator's. */
static jc_exit_t run_rebuild(const jc_config_t *cfg, PGconn *pg)
{
    jc_aggregator_config_t c;
    jc_error_t err;
    char state[16] = "";
    if (read_config(cfg, &c, &err) != JC_OK)
        return jc_cli_fail(program.name, JC_EXIT_USAGE, "%s", err.message);
    int gen = c.generation;
    if (gen > 1 && jc_generation_check(pg, gen, state, &err) == JC_OK && strcmp(state, "building") != 0)
        jc_error_set(&err, JC_ERR_INVALID_ARG, "generation %d is %s, not building", gen, state);
    if (gen > 1 ? strcmp(state, "building") != 0 : jc_generation_create(pg, &gen, &err) != JC_OK)
        return jc_cli_fail(program.name, JC_EXIT_FAILURE, "rebuild: %s", err.message);
    char schema[JC_GENERATION_SCHEMA_MAX];
    jc_generation_schema(gen, schema, sizeof schema);
    printf("generation %d (schema %s): building from offset 0\n", gen, schema);
    fflush(stdout);
    c.generation = gen;
    c.exit_when_caught_up = 1;
    jc_exit_t rc = run_daemon(&c, cfg);
    if (rc == JC_EXIT_OK)
        printf("generation %d has caught up: `%s promote %d` switches the reports to it\n", gen,
               program.name, gen);
    return rc;
}

static jc_exit_t run_generation(const jc_config_t *cfg, char **operands, int n)
{
    const char *op = operands[0], *conninfo = migrate_conninfo(cfg);
    jc_error_t err;
    int gen = 0;
    long max_lag = 0;
    if ((strcmp(op, "promote") == 0 || strcmp(op, "drop") == 0) &&
        generation_operand(operands, n, &gen, &err) != JC_OK)
        return jc_cli_fail(program.name, JC_EXIT_USAGE, "%s", err.message);
    if ((strcmp(op, "rebuild") == 0 || strcmp(op, "generations") == 0) && n != 1)
        return jc_cli_fail(program.name, JC_EXIT_USAGE, "%s takes no operand", op);
    if (jc_config_get_long(cfg, "promote.max_lag", 0, 2000000000L, &max_lag, &err) != JC_OK)
        return jc_cli_fail(program.name, JC_EXIT_USAGE, "%s", err.message);
    PGconn *pg = PQconnectdb(conninfo ? conninfo : "");
    jc_exit_t rc = JC_EXIT_OK;
    jc_status_t st = JC_OK;
    jc_buf_t out = {0};
    if (PQstatus(pg) != CONNECTION_OK)
        st = jc_error_set(&err, JC_ERR_PG, "postgres: %s", PQerrorMessage(pg));
    else if (jc_schema_require(pg, NULL, &err) != JC_OK)
        st = JC_ERR_SCHEMA_VERSION;
    else if (strcmp(op, "rebuild") == 0)
        rc = run_rebuild(cfg, pg);
    else if (strcmp(op, "promote") == 0 && (st = jc_generation_promote(pg, gen, max_lag, &err)) == JC_OK)
        printf("generation %d is current: the reports read it. Restart the aggregators with "
               "--generation %d (stop those of the old one)\n", gen, gen);
    else if (strcmp(op, "drop") == 0 && (st = jc_generation_drop(pg, gen, &err)) == JC_OK)
        printf("generation %d dropped\n", gen);
    else if (strcmp(op, "generations") == 0 && (st = jc_generation_list(pg, &out, &err)) == JC_OK)
        fwrite(out.data, 1, out.len, stdout);
    jc_buf_free(&out);
    PQfinish(pg);
    if (st != JC_OK)
        return jc_cli_fail(program.name, JC_EXIT_FAILURE, "%s: %s", op, err.message);
    return rc;
}

int main(int argc, char **argv)
{
    jc_config_t *cfg = NULL;
    int rc = jc_config_main(&program, argc, argv, &cfg);
    if (rc >= 0)
        return rc;
    int n;
    char **operands = jc_config_operands(cfg, &n);
    jc_aggregator_config_t c;
    jc_error_t err;
    int migrate_only = n == 1 && strcmp(operands[0], "migrate") == 0;
    int status_only = n == 1 && strcmp(operands[0], "status") == 0;
    int redrive_only = n == 1 && strcmp(operands[0], "redrive") == 0; /* issue 13, item 5 */
    if (n >= 1 && is_generation_command(operands[0])) /* issue 13, item 4 */
        rc = run_generation(cfg, operands, n);
    else if (n > 1 || (n == 1 && !migrate_only && !status_only && !redrive_only))
        rc = jc_cli_fail(program.name, JC_EXIT_USAGE, "unexpected operand '%s' (only `migrate`, "
                         "`status` or `redrive`)", operands[n - 1]);
    else if (redrive_only)
        rc = run_redrive(cfg);
    else if (migrate_only)
        rc = run_migrate(migrate_conninfo(cfg));
    else if (status_only)
        rc = run_status(cfg);
    else if (read_config(cfg, &c, &err) != JC_OK)
        rc = jc_cli_fail(program.name, JC_EXIT_USAGE, "%s", err.message);
    else
        rc = run_daemon(&c, cfg);
    jc_config_free(cfg);
    return rc;
}
