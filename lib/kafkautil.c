/*
 * kafkautil.c: property lists, clients with their log lines routed, prefixed topic names and
 * error mapping for the library's Kafka clients (see kafkautil.h).
 *
 * Which client a property is for is librdkafka's own knowledge, not a list kept here: its
 * property table (rd_kafka_conf_properties_show, written into memory with open_memstream) has
 * one row per property, "name | C/P | range | default | ...", in two tables (global and topic
 * properties) with the same columns; the C/P cell is "C", "P" or "*". The table is read once
 * per property list applied, which happens when a client is made.
 */
#include "kafkautil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logging.h"

static const char *const known_jiceng_props[] = {JC_PROP_TOPIC_PREFIX, JC_PROP_SIGNING_KEYS};

static jc_status_t check_jiceng_prop(const char *name, jc_error_t *err)
{
    for (size_t i = 0; i < sizeof known_jiceng_props / sizeof known_jiceng_props[0]; i++)
        if (strcmp(name, known_jiceng_props[i]) == 0)
            return JC_OK;
    return jc_error_set(err, JC_ERR_INVALID_ARG, "unknown setting '%s' (libjiceng knows %s "
                        "and %s)", name, JC_PROP_TOPIC_PREFIX, JC_PROP_SIGNING_KEYS);
}

/* librdkafka's property table as text (NUL-terminated; free it), or NULL if out of memory. */
static char *property_table(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (f == NULL)
        return NULL;
    rd_kafka_conf_properties_show(f);
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

/* The C/P cell of name's row in table: 'C', 'P' or '*'; 0 if the table has no such row. */
static char property_scope(const char *table, const char *name)
{
    size_t n = strlen(name);
    for (const char *line = table; line != NULL && *line != '\0';) {
        if (strncmp(line, name, n) == 0 && (line[n] == ' ' || line[n] == '|')) {
            const char *cell = strchr(line, '|');
            const char *eol = strchr(line, '\n');
            if (cell != NULL && (eol == NULL || cell < eol)) {
                cell += strspn(cell + 1, " ") + 1;
                if (*cell == 'C' || *cell == 'P' || *cell == '*')
                    return *cell;
            }
        }
        line = strchr(line, '\n');
        line = line != NULL ? line + 1 : NULL;
    }
    return 0;
}

/* Whether a property of scope (property_scope) is for a client of type (-1: any client). */
static bool scope_fits(char scope, int type)
{
    if (type < 0 || scope == 0 || scope == '*')
        return true;
    return scope == (type == RD_KAFKA_CONSUMER ? 'C' : 'P');
}

/* Set the pairs of props on conf, those for a client of type only (-1: all of them). */
static jc_status_t apply_props(rd_kafka_conf_t *conf, int type, const char *const *props,
                               jc_error_t *err)
{
    char errstr[256];
    char *table = NULL;
    if (type >= 0 && props != NULL && props[0] != NULL && (table = property_table()) == NULL)
        return jc_error_set(err, JC_ERR_NOMEM, "out of memory reading librdkafka's properties");
    jc_status_t st = JC_OK;
    for (; st == JC_OK && props != NULL && props[0] != NULL; props += 2) {
        if (props[1] == NULL)
            st = jc_error_set(err, JC_ERR_INVALID_ARG, "Kafka property '%s' has no value",
                              props[0]);
        else if (strncmp(props[0], "jiceng.", 7) == 0)
            st = check_jiceng_prop(props[0], err);
        else if (table != NULL && !scope_fits(property_scope(table, props[0]), type))
            continue;
        else if (rd_kafka_conf_set(conf, props[0], props[1], errstr, sizeof errstr) !=
                 RD_KAFKA_CONF_OK)
            st = jc_error_set(err, JC_ERR_INVALID_ARG, "Kafka property '%s': %s", props[0],
                              errstr);
    }
    free(table);
    return st;
}

jc_status_t jc_kafka_conf_apply(rd_kafka_conf_t *conf, const char *const *props,
                                jc_error_t *err)
{
    return apply_props(conf, -1, props, err);
}

jc_status_t jc_kafka_conf_apply_for(rd_kafka_conf_t *conf, rd_kafka_type_t type,
                                    const char *const *props, jc_error_t *err)
{
    return apply_props(conf, (int)type, props, err);
}

/* librdkafka's log lines, served by the polls of the client's thread (log.queue), to the
 * logger its opaque starts with. */
static void log_line(const rd_kafka_t *rk, int severity, const char *facility, const char *line)
{
    const jc_kafka_logger_t *l = rd_kafka_opaque(rk);
    if (l != NULL)
        jc_logf(l->log, l->opaque, jc_log_level_from_syslog(severity), "kafka_log", "%s: %s",
                facility, line);
}

rd_kafka_t *jc_kafka_client_new(rd_kafka_type_t type, rd_kafka_conf_t *conf, jc_error_t *err)
{
    char errstr[512];
    if (rd_kafka_conf_set(conf, "log.queue", "true", errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        jc_error_set(err, JC_ERR_KAFKA, "kafka client: log.queue: %s", errstr);
        return NULL;
    }
    rd_kafka_conf_set_log_cb(conf, log_line);
    rd_kafka_t *rk = rd_kafka_new(type, conf, errstr, sizeof errstr);
    if (rk == NULL) {
        rd_kafka_conf_destroy(conf);
        jc_error_set(err, JC_ERR_KAFKA, "kafka client: %s", errstr);
        return NULL;
    }
    rd_kafka_resp_err_t e = rd_kafka_set_log_queue(rk, NULL);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_destroy(rk);
        jc_error_set(err, JC_ERR_KAFKA, "kafka client: log queue: %s", rd_kafka_err2str(e));
        return NULL;
    }
    return rk;
}

bool jc_kafka_retriable(rd_kafka_resp_err_t e)
{
    switch (e) {
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
        return true;
    default:
        return false;
    }
}

size_t jc_kafka_headers_bytes(const rd_kafka_headers_t *h)
{
    const char *name;
    const void *value;
    size_t size, total = 0;
    for (size_t i = 0; h != NULL && rd_kafka_header_get_all(h, i, &name, &value, &size) ==
                                        RD_KAFKA_RESP_ERR_NO_ERROR; i++)
        total += strlen(name) + size;
    return total;
}

const char *jc_kafka_prop(const char *const *props, const char *name, const char *def)
{
    const char *v = def;
    for (; props != NULL && props[0] != NULL && props[1] != NULL; props += 2)
        if (strcmp(props[0], name) == 0)
            v = props[1];
    return v;
}

jc_status_t jc_kafka_topic_name(const char *prefix, const char *base, char *buf,
                                jc_error_t *err)
{
    int n = snprintf(buf, JC_TOPIC_NAME_MAX + 1, "%s%s", prefix ? prefix : "", base);
    if (n < 0 || n > JC_TOPIC_NAME_MAX)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "topic name '%s%s' is longer than %d "
                            "characters", prefix ? prefix : "", base, JC_TOPIC_NAME_MAX);
    return JC_OK;
}

jc_status_t jc_kafka_status(rd_kafka_resp_err_t e)
{
    switch (e) {
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
        return JC_ERR_TIMEOUT;
    default:
        return JC_ERR_KAFKA;
    }
}

long jc_kafka_conf_number(rd_kafka_conf_t *conf, const char *name, long def)
{
    char v[64];
    size_t n = sizeof v;
    if (rd_kafka_conf_get(conf, name, v, &n) != RD_KAFKA_CONF_OK)
        return def;
    char *end;
    long x = strtol(v, &end, 10);
    return end != v && *end == '\0' && x > 0 ? x : def;
}

jc_status_t jc_kafka_conf_layered(rd_kafka_type_t type, const char *const *defaults,
                                  const char *const *props, rd_kafka_conf_t **out,
                                  jc_error_t *err)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    jc_status_t st = jc_kafka_conf_apply_for(conf, type, defaults, err);
    if (st == JC_OK)
        st = jc_kafka_conf_apply_for(conf, type, props, err);
    if (st != JC_OK) {
        rd_kafka_conf_destroy(conf);
        conf = NULL;
    }
    *out = conf;
    return st;
}
