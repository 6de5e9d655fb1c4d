/*
 * kafkautil.c: property lists, prefixed topic names and error mapping for the library's Kafka
 * clients (see kafkautil.h).
 */
#include "kafkautil.h"

#include <stdio.h>
#include <string.h>

static const char *const known_jiceng_props[] = {JC_PROP_TOPIC_PREFIX, JC_PROP_SIGNING_KEYS};

static jc_status_t check_jiceng_prop(const char *name, jc_error_t *err)
{
    for (size_t i = 0; i < sizeof known_jiceng_props / sizeof known_jiceng_props[0]; i++)
        if (strcmp(name, known_jiceng_props[i]) == 0)
            return JC_OK;
    return jc_error_set(err, JC_ERR_INVALID_ARG, "unknown setting '%s' (libjiceng knows %s "
                        "and %s)", name, JC_PROP_TOPIC_PREFIX, JC_PROP_SIGNING_KEYS);
}

jc_status_t jc_kafka_conf_apply(rd_kafka_conf_t *conf, const char *const *props,
                                jc_error_t *err)
{
    char errstr[256];
    for (; props != NULL && props[0] != NULL; props += 2) {
        if (props[1] == NULL)
            return jc_error_set(err, JC_ERR_INVALID_ARG, "Kafka property '%s' has no value",
                                props[0]);
        if (strncmp(props[0], "jiceng.", 7) == 0) {
            jc_status_t st = check_jiceng_prop(props[0], err);
            if (st != JC_OK)
                return st;
        } else if (rd_kafka_conf_set(conf, props[0], props[1], errstr, sizeof errstr) !=
                   RD_KAFKA_CONF_OK) {
            return jc_error_set(err, JC_ERR_INVALID_ARG, "Kafka property '%s': %s", props[0],
                                errstr);
        }
    }
    return JC_OK;
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
