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
 *
 * The library prints nothing: its log lines come to jc_cli_log (stderr, info and above), and
 * its periodic stats snapshot drives the progress line, shown when stderr is a terminal.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "jiceng/aggregator.h"
#include "jiceng/lag.h"
#include "jiceng/migrate.h"
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
};

/* The exit status when the run ended well but some dead-letter copies failed. */
#define EXIT_DEAD_LETTER 3

static const jc_program_t program = {
    .name = "jiceng-aggregate",
    .config_env = "JICENG_AGGREGATE_CONFIG",
    .synopsis = "[migrate|status] [OPTIONS]",
    .about = "Consumes the jiceng event topics in a consumer group and keeps the daily aggregates\n"
             "in PostgreSQL exactly once (offsets, dedup ledger, aggregates and rejects are\n"
             "written in one transaction per batch). `migrate` applies the schema (as the\n"
             "migration role) and exits; the daemon refuses an older schema. `status` prints\n"
             "each group's lag per partition (next offset, end offset, lag, age of the figure)\n"
             "from PostgreSQL alone (--conninfo: the aggregator's or the report role).\n"
             "librdkafka properties pass through with -X (e.g. -X session.timeout.ms=6000): each\n"
             "goes to the consumer, the dead-letter producer or both, as librdkafka marks it.",
    .epilogue = "exit status: 0 stopped cleanly (SIGTERM/SIGINT, or caught up), 1 failed,\n"
                "2 usage or configuration error, 3 stopped cleanly but some rejects' copies\n"
                "never reached the dead-letter topic (the rejects are in jiceng.rejects; the\n"
                "log says which: dead_letter_failed)",
    .options = options,
    .noptions = sizeof options / sizeof options[0],
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
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

/* `status`: every consumer group's lag per partition, from PostgreSQL alone (jiceng/lag.h). */
static jc_exit_t run_status(const char *conninfo)
{
    PGconn *c = PQconnectdb(conninfo ? conninfo : "");
    jc_error_t err;
    jc_lag_row_t *rows = NULL;
    size_t n = 0;
    jc_buf_t out = {0};
    jc_status_t st = PQstatus(c) == CONNECTION_OK
                         ? jc_lag_read(c, &rows, &n, &err)
                         : jc_error_set(&err, JC_ERR_PG, "postgres: %s", PQerrorMessage(c));
    if (st == JC_OK && jc_lag_table(rows, n, &out) != JC_OK)
        st = jc_error_set(&err, JC_ERR_NOMEM, "status: out of memory");
    if (st == JC_OK && fwrite(out.data, 1, out.len, stdout) != out.len)
        st = jc_error_set(&err, JC_ERR_IO, "status: writing stdout failed");
    jc_buf_free(&out);
    free(rows);
    PQfinish(c);
    return st == JC_OK ? JC_EXIT_OK : jc_cli_fail(program.name, JC_EXIT_FAILURE, "%s", err.message);
}

static void summary(const jc_aggregator_stats_t *s)
{
    fprintf(stderr, "%s: consumed %llu, applied %llu, duplicates %llu, rejected %llu, "
            "batches %llu, fenced %llu, postgres retries %llu, dedup ids %llu (%llu bytes), "
            "signing keys read %llu times, dead letters %llu (%llu cut, %llu retries, %llu failed)\n",
            program.name, (unsigned long long)s->consumed, (unsigned long long)s->applied,
            (unsigned long long)s->duplicates, (unsigned long long)s->rejected,
            (unsigned long long)s->batches, (unsigned long long)s->fenced,
            (unsigned long long)s->pg_retries, (unsigned long long)s->dedup_ids,
            (unsigned long long)s->dedup_bytes, (unsigned long long)s->key_loads,
            (unsigned long long)s->dead_letters, (unsigned long long)s->dead_letters_cut,
            (unsigned long long)s->dead_letter_retries, (unsigned long long)s->dead_letter_failed);
}

/* The exit status of a run that ended with st (err), saying why when it is not 0. */
static jc_exit_t exit_status(jc_status_t st, const jc_error_t *err, const jc_aggregator_stats_t *s)
{
    if (st == JC_ERR_SCHEMA_VERSION)
        return jc_cli_fail(program.name, JC_EXIT_FAILURE, "%s: run `%s migrate` with the "
                           "migration role (--migrate-conninfo or JICENG_MIGRATE_CONNINFO)",
                           err->message, program.name);
    if (st != JC_OK)
        return jc_cli_fail(program.name, JC_EXIT_FAILURE, "%s (%s)", err->message,
                           jc_status_name(st));
    if (s->dead_letter_failed > 0)
        return jc_cli_fail(program.name, (jc_exit_t)EXIT_DEAD_LETTER, "%llu reject(s) not "
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

static jc_exit_t run_daemon(jc_aggregator_config_t *c)
{
    jc_progress_t progress;
    jc_progress_init(&progress, program.name);
    jc_cli_log_t sink = {.name = program.name, .progress = &progress,
                         .min = kafka_debug(c->kafka_properties) ? JC_LOG_DEBUG : JC_LOG_INFO};
    c->log = jc_cli_log;
    c->log_opaque = &sink;
    if (jc_progress_enabled(&progress)) {
        c->on_stats = show_progress;
        c->stats_opaque = &progress;
    }
    jc_sd_notify_t notify; /* systemd readiness and watchdog (notify.h): wraps the callbacks */
    jc_sd_attach(&notify, c, &stop_requested);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    jc_error_t err;
    jc_aggregator_t *a = jc_aggregator_new(c, &err);
    if (a == NULL)
        return jc_cli_fail(program.name, JC_EXIT_FAILURE, "%s", err.message);
    jc_status_t st = jc_aggregator_run(a, &stop_requested, &err);
    jc_sd_stopping(&notify);
    jc_progress_end(&progress);
    summary(jc_aggregator_stats(a));
    jc_exit_t rc = exit_status(st, &err, jc_aggregator_stats(a));
    jc_aggregator_free(a);
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
    if (n > 1 || (n == 1 && !migrate_only && !status_only))
        rc = jc_cli_fail(program.name, JC_EXIT_USAGE, "unexpected operand '%s' (only `migrate` "
                         "or `status`)", operands[n - 1]);
    else if (migrate_only)
        rc = run_migrate(migrate_conninfo(cfg));
    else if (status_only)
        rc = run_status(jc_config_get(cfg, "pg.conninfo"));
    else if (read_config(cfg, &c, &err) != JC_OK)
        rc = jc_cli_fail(program.name, JC_EXIT_USAGE, "%s", err.message);
    else
        rc = run_daemon(&c);
    jc_config_free(cfg);
    return rc;
}
