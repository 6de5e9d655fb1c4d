/*
 * logopts.c: the log options every program that takes the library's log callback shares
 * (cli.h, JC_CLI_LOG_OPTIONS: log.format and log.level, from the file, $JICENG_LOG_FORMAT /
 * $JICENG_LOG_LEVEL or --log-format / --log-level like any option), and the "config" line a
 * program logs at start.
 *
 * The config line walks the program's own option table (so a new option shows up without
 * being named here), then the librdkafka properties that pass through, skipping the first
 * pairs of jc_config_client_properties, which are the table's kafka.* and jiceng.* options
 * (cli.h: they come first, in table order). A value is shown as jc_cli_mask shows a conninfo,
 * quoted when it is empty or holds a space; it is "***" when its name says it is a secret
 * (jc_cli_secret_name) or when it is a librdkafka sasl.* property (SASL configuration strings
 * such as sasl.oauthbearer.config may carry a client secret under any name).
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jiceng/buf.h"

bool jc_cli_log_level_parse(const char *word, jc_log_level_t *out)
{
    static const jc_log_level_t levels[] = {JC_LOG_DEBUG, JC_LOG_INFO, JC_LOG_WARN, JC_LOG_ERROR};
    for (size_t i = 0; word != NULL && i < sizeof levels / sizeof levels[0]; i++)
        if (strcasecmp(word, jc_log_level_name(levels[i])) == 0) {
            *out = levels[i];
            return true;
        }
    return false;
}

jc_status_t jc_cli_log_configure(jc_cli_log_t *sink, const jc_config_t *cfg, jc_error_t *err)
{
    const char *format = jc_config_get(cfg, "log.format");
    const char *level = jc_config_get(cfg, "log.level");
    if (format == NULL || strcasecmp(format, "text") == 0)
        sink->format = JC_CLI_LOG_TEXT;
    else if (strcasecmp(format, "json") == 0)
        sink->format = JC_CLI_LOG_JSON;
    else
        return jc_error_set(err, JC_ERR_INVALID_ARG, "--log-format (log.format, "
                            "$JICENG_LOG_FORMAT): '%s' is not text or json", format);
    if (level == NULL) {
        sink->min = JC_LOG_INFO;
        return JC_OK;
    }
    if (!jc_cli_log_level_parse(level, &sink->min))
        return jc_error_set(err, JC_ERR_INVALID_ARG, "--log-level (log.level, "
                            "$JICENG_LOG_LEVEL): '%s' is not debug, info, warn or error", level);
    return JC_OK;
}

/* ---- the config line ---- */

static bool secret_property(const char *name, const char *value)
{
    return jc_cli_secret_name(name) || strncmp(name, "sasl.", 5) == 0 ||
           jc_cli_value_has_password(value);
}

/* " name=value" onto b, the value as shown (masked, quoted if need be). */
static void append_setting(jc_buf_t *b, const char *name, const char *value, bool secret)
{
    char masked[1024];
    const char *shown = secret && !jc_cli_value_has_password(value)
                            ? "***"
                            : jc_cli_mask(value, masked, sizeof masked);
    bool quote = *shown == '\0' || strpbrk(shown, " \t") != NULL;
    jc_buf_append_str(b, " ");
    jc_buf_append_str(b, name);
    jc_buf_append_str(b, quote ? "='" : "=");
    jc_buf_append_str(b, shown);
    if (quote)
        jc_buf_append_str(b, "'");
}

/* The table's options that jc_config_client_properties lists first. */
static size_t table_properties(const jc_program_t *prog, const jc_config_t *cfg)
{
    size_t n = 0;
    for (size_t i = 0; i < prog->noptions; i++) {
        const char *key = prog->options[i].key;
        if (jc_config_get(cfg, key) != NULL &&
            (strncmp(key, "kafka.", 6) == 0 || strncmp(key, "jiceng.", 7) == 0))
            n++;
    }
    return n;
}

void jc_cli_log_config(jc_cli_log_t *sink, const jc_program_t *prog, const jc_config_t *cfg)
{
    jc_buf_t b = {0};
    jc_buf_append_str(&b, "config:");
    for (size_t i = 0; i < prog->noptions; i++) {
        const char *key = prog->options[i].key, *v = jc_config_get(cfg, key);
        if (v != NULL)
            append_setting(&b, key, v, jc_cli_secret_name(key));
    }
    const char *const *p = jc_config_client_properties(cfg);
    size_t skip = table_properties(prog, cfg), shown = 0;
    for (size_t k = 0; p[0] != NULL; p += 2, k++) {
        if (k < skip)
            continue;
        jc_buf_append_str(&b, shown++ == 0 ? "; kafka properties:" : "");
        append_setting(&b, p[0], p[1], secret_property(p[0], p[1]));
    }
    const char *file = jc_config_file(cfg);
    jc_buf_append_str(&b, "; configuration file ");
    jc_buf_append_str(&b, file != NULL ? file : "none");
    jc_cli_log(sink, JC_LOG_INFO, "config", b.data != NULL ? (const char *)b.data : "config:");
    jc_buf_free(&b);
}
