/*
 * jiceng-health: prove that the Kafka brokers and the PostgreSQL database the pipeline is
 * configured for are usable, by a real round trip through each (jiceng/health.h).
 *
 * Options come from the shared configuration mechanism (cli.h), later sources winning: defaults, the config file
 * (--config, $JICENG_CONFIG), the stack's env file (--env-file, $JICENG_ENV_FILE, or
 * $JICENG_STATE/stack.env as written by deploy/local/stack), the environment
 * (JICENG_KAFKA_BOOTSTRAP, JICENG_PG_CONNINFO; libpq's PG* variables apply underneath the
 * conninfo), then the flags. The Kafka check connects with the client properties of its
 * configuration (JICENG_HEALTH_CONFIG: the health principal's TLS identity).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "jiceng/health.h"

static const jc_option_t options[] = {
    {"kafka.bootstrap.servers", "bootstrap", "JICENG_KAFKA_BOOTSTRAP", NULL, "LIST",
     "Kafka bootstrap servers"},
    {"pg.conninfo", "conninfo", "JICENG_PG_CONNINFO", NULL, "STR",
     "libpq conninfo or URI (PG* variables apply)"},
    {"timeout.ms", "timeout-ms", NULL, "10000", "N",
     "how long each service may take to answer"},
    {"skip.kafka", "skip-kafka", NULL, "false", NULL, "check PostgreSQL only"},
    {"skip.pg", "skip-pg", NULL, "false", NULL, "check Kafka only"},
};

static const jc_program_t program = {
    .name = "jiceng-health",
    .synopsis = "[OPTIONS]",
    .about = "Round-trips a probe through Kafka (produce, consume back) and PostgreSQL (temporary\n"
             "table written and read) and reports what answered.",
    .epilogue = "exit status: 0 every check passed, 1 a check failed, 2 usage or configuration error",
    .options = options,
    .noptions = sizeof options / sizeof options[0],
    .config_env = "JICENG_HEALTH_CONFIG",
};

struct settings {
    const char *bootstrap, *conninfo;
    long timeout_ms;
    bool skip_kafka, skip_pg;
};

static jc_status_t read_settings(const jc_config_t *cfg, struct settings *s, jc_error_t *err)
{
    int noperands;
    jc_config_operands(cfg, &noperands);
    if (noperands != 0)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "no operands expected");
    s->bootstrap = jc_config_get(cfg, "kafka.bootstrap.servers");
    s->conninfo = jc_config_get(cfg, "pg.conninfo");
    jc_status_t st = jc_config_get_long(cfg, "timeout.ms", 1, 3600000, &s->timeout_ms, err);
    if (st == JC_OK)
        st = jc_config_get_bool(cfg, "skip.kafka", &s->skip_kafka, err);
    if (st == JC_OK)
        st = jc_config_get_bool(cfg, "skip.pg", &s->skip_pg, err);
    if (st == JC_OK && !s->skip_kafka && s->bootstrap == NULL)
        st = jc_error_set(err, JC_ERR_INVALID_ARG, "no Kafka bootstrap servers: use "
                          "--bootstrap, JICENG_KAFKA_BOOTSTRAP or an env file");
    return st;
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
    jc_config_t *cfg = NULL;
    int rc = jc_config_main(&program, argc, argv, &cfg);
    if (rc >= 0)
        return rc;
    struct settings s;
    jc_error_t e;
    if (read_settings(cfg, &s, &e) != JC_OK) {
        jc_config_free(cfg);
        return jc_cli_fail(program.name, JC_EXIT_USAGE, "%s", e.message);
    }
    int failed = 0;
    jc_health_report_t r;
    if (!s.skip_kafka)
        failed |= report("kafka", jc_health_kafka(s.bootstrap, jc_config_client_properties(cfg), (int)s.timeout_ms, &r, &e), &r, &e);
    if (!s.skip_pg)
        failed |= report("postgres", jc_health_pg(s.conninfo ? s.conninfo : "", &r, &e), &r, &e);
    jc_config_free(cfg);
    return failed ? JC_EXIT_FAILURE : JC_EXIT_OK;
}
