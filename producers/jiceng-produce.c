/*
 * jiceng-produce: send events from NDJSON or CSV files (or standard input) to Kafka, the way
 * county IT teams publish them.
 *
 * A thin program: options come from the shared configuration mechanism (cli.h: defaults,
 * config file, the stack's env file, environment, flags; the county system's config file,
 * written by jiceng-access, is named by --config or $JICENG_PRODUCE_CONFIG) and the work is
 * jc_ingest_run (jiceng/ingest.h): read, validate, sign, send, wait for every delivery report,
 * and append every rejected or undelivered record to the rejects file. Every record is signed
 * with its county's key from jiceng.signing.keys; there is no unsigned mode, and a record whose
 * county has no key is a reject. The summary line goes to stderr; a progress line too, from the
 * ingest's progress callback, when stderr is a terminal; and one line for each record the
 * rejects file could not take (a full disk), from the ingest's unwritten callback.
 *
 * Signals: SIGTERM or SIGINT sets the ingest's stop flag (the handler says so on stderr with
 * write(2), which is safe there), and the run ends as jiceng/ingest.h describes: reading stops,
 * delivery reports are awaited for up to --stop-wait milliseconds, what has none is written to
 * the rejects file, the summary says where reading stopped, and the exit status is 1. The
 * handler is installed without SA_RESTART, so a read from a pipe or terminal that is waiting
 * for input returns at once. A second signal aborts at once: the handler says so and re-raises
 * it with the default action, so the process ends by that signal.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "jiceng/ingest.h"

static const jc_option_t options[] = {
    {"kafka.bootstrap.servers", "bootstrap", "JICENG_KAFKA_BOOTSTRAP", NULL, "LIST",
     "Kafka bootstrap servers (host:port,...)"},
    {"jiceng.topic.prefix", "topic-prefix", "JICENG_TOPIC_PREFIX", "", "PREFIX",
     "prepended to every topic name (for scratch topics)"},
    {"jiceng.signing.keys", "signing-keys", "JICENG_SIGNING_KEYS", NULL, "PATH",
     "signing key file (mode 0600), or a directory of them (*.key, one per county); required"},
    {"format", "format", NULL, "ndjson", "ndjson|csv", "input format"},
    {"type", "type", NULL, NULL, "TYPE",
     "event type of CSV input: visit, petition, disaster_response, training_completion"},
    {"rejects", "rejects", "JICENG_REJECTS", "jiceng-produce.rejects.ndjson", "FILE",
     "append rejected and undelivered records here (NDJSON)"},
    {"dry-run", "dry-run", NULL, "false", NULL, "parse and validate only; send nothing"},
    {"stop-wait", "stop-wait", NULL, "10000", "MS",
     "after SIGTERM or SIGINT, wait this long for delivery reports before giving up on them"},
};

static const jc_program_t program = {
    .name = "jiceng-produce",
    .synopsis = "[OPTIONS] [FILE...]",
    .about = "Reads events from each FILE (\"-\" or none: standard input), one per NDJSON line\n"
             "or CSV row (header row of field names; --format csv --type TYPE), validates\n"
             "them, signs each with its county's key, sends them to Kafka and waits for every\n"
             "delivery report. Rejected (also: no signing key for the county) and undelivered\n"
             "records are appended to the rejects file; a summary goes to stderr.\n"
             "\n"
             "The rejects file has one JSON object per line: source, line, status, reason and\n"
             "record (the original text; record_hex if it is not UTF-8). A record longer than\n"
             "65536 bytes is cut to its first 65536 (a whole UTF-8 character), and record_bytes\n"
             "(its length) and record_sha256 (of all of it, hex) follow. If the rejects file\n"
             "cannot be written (a full disk), the run stops: each record it could not take is\n"
             "listed on stderr instead.\n"
             "\n"
             "On SIGTERM or SIGINT reading stops, delivery reports are awaited (--stop-wait),\n"
             "records without one go to the rejects file as undelivered, and the summary says\n"
             "after which line reading stopped. A second signal aborts at once.",
    .epilogue = "Kafka settings pass through to librdkafka, e.g. -X message.timeout.ms=5000.\n"
                "exit status: 0 everything delivered, 1 something rejected or undelivered, or\n"
                "stopped by a signal, 2 usage, configuration or input error (also: the rejects\n"
                "file could not be written); a second signal: killed by that signal",
    .options = options,
    .noptions = sizeof options / sizeof options[0],
    .config_env = "JICENG_PRODUCE_CONFIG",
};

static volatile sig_atomic_t stop_signal; /* the first SIGTERM or SIGINT, 0 before one */

static void say(const char *text)
{
    ssize_t rc = write(STDERR_FILENO, text, strlen(text));
    (void)rc; /* nothing to do about a failed message in a signal handler */
}

static void on_signal(int sig)
{
    if (stop_signal == 0) {
        stop_signal = sig;
        say(sig == SIGINT ? "jiceng-produce: SIGINT: stopping (a second signal aborts at once)\n"
                          : "jiceng-produce: SIGTERM: stopping (a second signal aborts at once)\n");
        return;
    }
    say("jiceng-produce: second signal: aborting at once; records awaiting their delivery "
        "reports are NOT in the rejects file, and there is no summary\n");
    signal(sig, SIG_DFL);
    raise(sig);
}

static void catch_stop_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: a waiting read returns */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
}

static void show_unwritten(void *opaque, const char *source, long line, jc_status_t status,
                           const char *reason)
{
    jc_progress_t *p = opaque;
    jc_progress_end(p);
    fprintf(stderr, "%s: NOT in the rejects file: %s:%ld: %s: %s\n", program.name, source, line,
            jc_status_name(status), reason);
}

static void show_progress(void *opaque, const jc_ingest_counts_t *c)
{
    jc_progress_t *p = opaque;
    jc_progress_show(p, "read %llu (%.0f records/s), delivered %llu, rejected %llu",
                     (unsigned long long)c->read, jc_progress_average(p, c->read),
                     (unsigned long long)c->delivered, (unsigned long long)c->rejected);
}

static jc_status_t ingest_options(const jc_config_t *cfg, jc_progress_t *progress,
                                  jc_ingest_opts_t *o, jc_error_t *err)
{
    const char *format = jc_config_get(cfg, "format");
    const char *type = jc_config_get(cfg, "type");
    int n;
    memset(o, 0, sizeof *o);
    if (strcmp(format, "ndjson") != 0 && strcmp(format, "csv") != 0)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "--format: '%s' is not ndjson or csv",
                            format);
    o->format = strcmp(format, "csv") == 0 ? JC_FORMAT_CSV : JC_FORMAT_NDJSON;
    if (o->format == JC_FORMAT_CSV && type == NULL)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "--format csv needs --type");
    if (o->format == JC_FORMAT_NDJSON && type != NULL)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "--type is for CSV input (NDJSON lines "
                            "name their type)");
    if (type != NULL && jc_event_type_from_name(type, &o->csv_type, err) != JC_OK)
        return JC_ERR_INVALID_ARG;
    o->inputs = (const char *const *)jc_config_operands(cfg, &n);
    o->ninputs = (size_t)n;
    o->rejects_path = jc_config_get(cfg, "rejects");
    o->props = jc_config_client_properties(cfg);
    if (jc_progress_enabled(progress)) {
        o->on_progress = show_progress;
        o->progress_opaque = progress;
    }
    o->on_unwritten = show_unwritten;
    o->unwritten_opaque = progress;
    o->stop = &stop_signal;
    long wait_ms;
    if (jc_config_get_long(cfg, "stop-wait", 1, 24L * 3600 * 1000, &wait_ms, err) != JC_OK)
        return JC_ERR_INVALID_ARG;
    o->stop_wait_ms = (int)wait_ms;
    return jc_config_get_bool(cfg, "dry-run", &o->dry_run, err);
}

static void summary(const jc_ingest_opts_t *o, const jc_ingest_counts_t *c)
{
    fprintf(stderr, "%s: read %llu, sent %llu, delivered %llu, rejected %llu, "
            "undelivered %llu", program.name, (unsigned long long)c->read,
            (unsigned long long)c->sent, (unsigned long long)c->delivered, (unsigned long long)c->rejected,
            (unsigned long long)c->undelivered);
    if (o->dry_run)
        fprintf(stderr, " (dry run: %llu valid, nothing sent)", (unsigned long long)c->valid);
    if (c->rejected + c->undelivered > c->unwritten)
        fprintf(stderr, "; see %s", o->rejects_path);
    if (c->unwritten > 0)
        fprintf(stderr, "; %llu of them NOT in it (listed above)",
                (unsigned long long)c->unwritten);
    if (c->interrupted)
        fprintf(stderr, "; stopped by %s", stop_signal == SIGINT ? "SIGINT" : "SIGTERM");
    if (c->stopped && c->last_source != NULL)
        fprintf(stderr, "; reading stopped after the record at %s:%ld, the rest of the input "
                "was not read", c->last_source, c->last_line);
    else if (c->stopped)
        fprintf(stderr, "; reading stopped before the first record, no input was read");
    fputc('\n', stderr);
}

int main(int argc, char **argv)
{
    jc_config_t *cfg = NULL;
    int rc = jc_config_main(&program, argc, argv, &cfg);
    if (rc >= 0)
        return rc;
    jc_ingest_opts_t o;
    jc_ingest_counts_t c;
    jc_error_t err;
    jc_progress_t progress;
    jc_progress_init(&progress, program.name);
    catch_stop_signals();
    if (ingest_options(cfg, &progress, &o, &err) != JC_OK) {
        jc_config_free(cfg);
        return jc_cli_fail(program.name, JC_EXIT_USAGE, "%s", err.message);
    }
    jc_status_t st = jc_ingest_run(&o, &c, &err);
    jc_progress_end(&progress);
    if (st != JC_OK)
        jc_cli_fail(program.name, JC_EXIT_USAGE, "%s (%s)", err.message, jc_status_name(st));
    summary(&o, &c);
    jc_config_free(cfg);
    if (st != JC_OK)
        return JC_EXIT_USAGE;
    return c.rejected + c.undelivered > 0 || c.interrupted ? JC_EXIT_FAILURE : JC_EXIT_OK;
}
