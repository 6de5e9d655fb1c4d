/*
 * jiceng-health: prove that the Kafka brokers and the PostgreSQL database the pipeline is
 * configured for are usable, by a real round trip through each (jiceng/health.h).
 *
 * Configuration, later sources winning: the env file (--env-file, $JICENG_ENV_FILE, or
 * $JICENG_STATE/stack.env as written by deploy/local/stack), the environment
 * (JICENG_KAFKA_BOOTSTRAP, JICENG_PG_CONNINFO; libpq's PG* variables apply underneath the
 * conninfo), then the flags.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jiceng/envfile.h"
#include "jiceng/health.h"

enum { EXIT_CHECK_FAILED = 1, EXIT_USAGE = 2 };

static void usage(FILE *out)
{
    fprintf(out,
            "usage: jiceng-health [OPTIONS]\n"
            "\n"
            "Round-trips a probe through Kafka (produce, consume back) and PostgreSQL (temporary\n"
            "table written and read) and reports what answered.\n"
            "\n"
            "options:\n"
            "  --env-file FILE     KEY=VALUE file to read first (default: $JICENG_ENV_FILE,\n"
            "                      else $JICENG_STATE/stack.env if JICENG_STATE is set)\n"
            "  --bootstrap LIST    Kafka bootstrap servers (env JICENG_KAFKA_BOOTSTRAP)\n"
            "  --conninfo STR      libpq conninfo or URI (env JICENG_PG_CONNINFO; PG* apply)\n"
            "  --timeout-ms N      how long each service may take to answer (default 10000)\n"
            "  --skip-kafka        check PostgreSQL only\n"
            "  --skip-pg           check Kafka only\n"
            "  -h, --help          this text\n"
            "\n"
            "exit status: 0 every check passed, 1 a check failed, 2 usage or configuration error\n");
}

struct options {
    const char *env_file, *bootstrap, *conninfo;
    int timeout_ms, skip_kafka, skip_pg;
};

static int parse_args(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"env-file", required_argument, NULL, 'e'}, {"bootstrap", required_argument, NULL, 'b'},
        {"conninfo", required_argument, NULL, 'c'}, {"timeout-ms", required_argument, NULL, 't'},
        {"skip-kafka", no_argument, NULL, 'K'},     {"skip-pg", no_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'e': o->env_file = optarg; break;
        case 'b': o->bootstrap = optarg; break;
        case 'c': o->conninfo = optarg; break;
        case 't': o->timeout_ms = atoi(optarg); break;
        case 'K': o->skip_kafka = 1; break;
        case 'P': o->skip_pg = 1; break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); return -1;
        }
    }
    if (optind != argc || o->timeout_ms <= 0) {
        usage(stderr);
        return -1;
    }
    return 0;
}

/* Fill what the flags left open from the environment, after loading the env file into it. */
static int resolve_config(struct options *o)
{
    char buf[4096];
    const char *file = o->env_file ? o->env_file : jc_envfile_stack_path(NULL, buf, sizeof buf);
    jc_error_t err;
    if (file != NULL && jc_envfile_load(file, 0, &err) != JC_OK) {
        fprintf(stderr, "jiceng-health: %s\n", err.message);
        return -1;
    }
    if (o->bootstrap == NULL)
        o->bootstrap = getenv("JICENG_KAFKA_BOOTSTRAP");
    if (o->conninfo == NULL)
        o->conninfo = getenv("JICENG_PG_CONNINFO");
    if (!o->skip_kafka && o->bootstrap == NULL) {
        fprintf(stderr, "jiceng-health: no Kafka bootstrap servers: use --bootstrap, "
                        "JICENG_KAFKA_BOOTSTRAP or an env file\n");
        return -1;
    }
    return 0;
}

static int report(const char *what, jc_status_t st, const jc_health_report_t *r, const jc_error_t *e)
{
    if (st != JC_OK) {
        printf("%-10s FAILED  %s (%s)\n", what, e->message, jc_status_name(st));
        return 1;
    }
    if (r->offset >= 0)
        printf("%-10s ok      %.0f ms  %s, probe at %s [%d] @%lld\n", what, r->millis, r->server,
               JC_HEALTH_TOPIC, (int)r->partition, (long long)r->offset);
    else
        printf("%-10s ok      %.0f ms  %s\n", what, r->millis, r->server);
    return 0;
}

int main(int argc, char **argv)
{
    struct options o = {.timeout_ms = 10000};
    if (parse_args(argc, argv, &o) != 0 || resolve_config(&o) != 0)
        return EXIT_USAGE;
    int failed = 0;
    jc_health_report_t r;
    jc_error_t e;
    if (!o.skip_kafka)
        failed |= report("kafka", jc_health_kafka(o.bootstrap, o.timeout_ms, &r, &e), &r, &e);
    if (!o.skip_pg)
        failed |= report("postgres", jc_health_pg(o.conninfo ? o.conninfo : "", &r, &e), &r, &e);
    return failed ? EXIT_CHECK_FAILED : 0;
}
