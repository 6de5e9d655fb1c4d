/*
 * jiceng-topics: create and list the pipeline's Kafka topics (the four event topics and the
 * dead-letter topic).
 *
 * A thin program over jiceng/admin.h with options from the shared mechanism (cli.h); it runs as
 * the Kafka administrator, whose identity file $JICENG_ADMIN_CONFIG names (the stack's env file
 * sets it). `create` is idempotent: existing topics with the requested partition count and
 * message.timestamp.type=LogAppendTime are fine, one with another count or timestamp type is an
 * error naming both and is never altered; new topics get LogAppendTime (signing keys are judged
 * by the broker's timestamp, docs/signing.md). `list` describes them.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "jiceng/admin.h"

static const jc_option_t options[] = {
    {"kafka.bootstrap.servers", "bootstrap", "JICENG_KAFKA_BOOTSTRAP", NULL, "LIST",
     "Kafka bootstrap servers (host:port,...)"},
    {"jiceng.topic.prefix", "topic-prefix", "JICENG_TOPIC_PREFIX", "", "PREFIX",
     "prepended to every topic name (for scratch topics)"},
    {"partitions", "partitions", NULL, "12", "N", "create: partitions per topic"},
    {"replication.factor", "replication-factor", NULL, "0", "N",
     "create: replicas per partition (0: one per broker, at most 3)"},
    {"retention.ms", "retention-ms", NULL, "-1", "MS", "create: retention.ms (-1: forever)"},
    {"timeout.ms", "timeout-ms", NULL, "30000", "MS", "how long each request may take"},
};

static const jc_program_t program = {
    .name = "jiceng-topics",
    .synopsis = "[OPTIONS] create|list",
    .about = "create: create the missing topics, with message.timestamp.type=LogAppendTime;\n"
             "an existing topic must have --partitions partitions and that timestamp type (it\n"
             "is never altered). list: show each topic's partitions, replicas and timestamp\n"
             "type. Runs as the Kafka administrator ($JICENG_ADMIN_CONFIG).",
    .epilogue = "exit status: 0 success, 1 a Kafka request failed or a partition count differs,\n"
                "2 usage or configuration error",
    .options = options,
    .noptions = sizeof options / sizeof options[0],
    .config_env = "JICENG_ADMIN_CONFIG",
};

static jc_status_t topic_settings(const jc_config_t *cfg, jc_topic_settings_t *s, long *timeout,
                                  jc_error_t *err)
{
    long partitions = 0, replicas = 0, retention = 0;
    jc_status_t st = jc_config_get_long(cfg, "partitions", 1, 100000, &partitions, err);
    if (st == JC_OK)
        st = jc_config_get_long(cfg, "replication.factor", 0, 1000, &replicas, err);
    if (st == JC_OK)
        st = jc_config_get_long(cfg, "retention.ms", -1, LONG_MAX, &retention, err);
    if (st == JC_OK)
        st = jc_config_get_long(cfg, "timeout.ms", 1, 3600000, timeout, err);
    *s = (jc_topic_settings_t){(int)partitions, (int)replicas, retention};
    return st;
}

static void print_topics(const jc_topic_state_t s[JC_TOPIC_COUNT])
{
    for (int i = 0; i < JC_TOPIC_COUNT; i++) {
        if (!s[i].exists)
            printf("%-40s missing\n", s[i].name);
        else
            printf("%-40s %-8s %d partitions, replication factor %d, min.insync.replicas %d, "
                   "timestamps %s\n", s[i].name, s[i].created ? "created" : "exists",
                   s[i].partitions, s[i].replication_factor, s[i].min_insync_replicas,
                   s[i].timestamp_type[0] ? s[i].timestamp_type : "?");
    }
}

static jc_exit_t run(const jc_config_t *cfg, const char *command)
{
    jc_topic_settings_t settings;
    jc_topic_state_t s[JC_TOPIC_COUNT];
    long timeout = 0;
    jc_error_t err;
    if (topic_settings(cfg, &settings, &timeout, &err) != JC_OK)
        return jc_cli_fail(program.name, JC_EXIT_USAGE, "%s", err.message);
    jc_admin_t *admin = jc_admin_new(jc_config_client_properties(cfg), (int)timeout, &err);
    if (admin == NULL)
        return jc_cli_fail(program.name, JC_EXIT_USAGE, "%s", err.message);
    jc_status_t st = strcmp(command, "create") == 0
                         ? jc_admin_create_topics(admin, &settings, s, &err)
                         : jc_admin_describe_topics(admin, s, &err);
    jc_admin_free(admin);
    if (st != JC_OK)
        return jc_cli_fail(program.name, JC_EXIT_FAILURE, "%s (%s)", err.message,
                           jc_status_name(st));
    print_topics(s);
    return JC_EXIT_OK;
}

int main(int argc, char **argv)
{
    jc_config_t *cfg = NULL;
    int rc = jc_config_main(&program, argc, argv, &cfg);
    if (rc >= 0)
        return rc;
    int n;
    char **ops = jc_config_operands(cfg, &n);
    if (n != 1 || (strcmp(ops[0], "create") != 0 && strcmp(ops[0], "list") != 0))
        rc = jc_cli_fail(program.name, JC_EXIT_USAGE, "expected one command, create or list\n"
                         "%s: see --help", program.name);
    else
        rc = run(cfg, ops[0]);
    jc_config_free(cfg);
    return rc;
}
