/*
 * cli.c: how a program starts and speaks (cli.h): jc_config_main keeps secrets out of core
 * files, loads the configuration and turns --help and usage errors into output and an exit
 * status; jc_cli_fail prints one message line; jc_cli_log is the log callback every program
 * gives the library, writing the lines at or above its level after ending any progress line,
 * as "NAME: message" or as one JSON object a line (ts, level, program, event, msg), which
 * jansson builds and escapes; the message is made valid UTF-8 first (jansson refuses anything
 * else), each byte that does not belong to a well-formed sequence becoming U+FFFD. Every line
 * goes out in one stdio call, so lines from other threads never interleave within one.
 */
#define _DEFAULT_SOURCE /* prctl(2) */

#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <jansson.h>

#include "jiceng/validate.h"
#ifdef __linux__
#include <sys/prctl.h>
#endif

/* A program may hold passwords and keys in memory: no core file, and (Linux) not dumpable, so
 * other processes of the same user cannot read its memory or environment either. */
static void protect_memory(void)
{
    struct rlimit none = {0, 0};
    setrlimit(RLIMIT_CORE, &none);
#ifdef __linux__
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
}

int jc_config_main(const jc_program_t *prog, int argc, char **argv, jc_config_t **out)
{
    protect_memory();
    jc_error_t err;
    jc_config_t *cfg = jc_config_new(prog, &err);
    if (cfg != NULL && jc_config_load(cfg, argc, argv, &err) == JC_OK) {
        if (!jc_config_help_requested(cfg)) {
            *out = cfg;
            return -1;
        }
        jc_config_usage(cfg, stdout);
        jc_config_free(cfg);
        return JC_EXIT_OK;
    }
    fprintf(stderr, "%s: %s\n%s: see --help\n", prog->name, err.message, prog->name);
    jc_config_free(cfg);
    return JC_EXIT_USAGE;
}

jc_exit_t jc_cli_fail(const char *name, jc_exit_t code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return code;
}

/* ---- log lines ---- */

/* s with every byte outside a well-formed UTF-8 sequence replaced by U+FFFD, malloc'ed; NULL
 * if out of memory. */
static char *utf8_repaired(const char *s)
{
    static const char replacement[] = "\xEF\xBF\xBD";
    size_t n = strlen(s), len = 0;
    char *out = malloc(3 * n + 1); /* at worst every byte is replaced */
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < n;) {
        size_t k = (unsigned char)s[i] < 0x80 ? 1 : 0;
        for (size_t try = 2; k == 0 && try <= 4 && i + try <= n; try++)
            if (jc_utf8_valid(s + i, try))
                k = try;
        if (k == 0) {
            memcpy(out + len, replacement, 3);
            len += 3;
            i++;
            continue;
        }
        memcpy(out + len, s + i, k);
        len += k;
        i += k;
    }
    out[len] = '\0';
    return out;
}

/* Now as RFC 3339 in UTC with milliseconds: 2026-12-01T05:07:17.123Z. */
static void rfc3339_now(char *buf, size_t len)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, len - n, ".%03ldZ", ts.tv_nsec / 1000000L);
}

/* Add key: s (made valid UTF-8) to o; false if out of memory. */
static bool set_text(json_t *o, const char *key, const char *s)
{
    char *fixed = utf8_repaired(s != NULL ? s : "");
    json_t *v = fixed != NULL ? json_string(fixed) : NULL;
    free(fixed);
    return v != NULL && json_object_set_new(o, key, v) == 0;
}

/* The JSON line of one occurrence (without the newline), malloc'ed; NULL if out of memory. */
static char *json_line(const jc_cli_log_t *sink, jc_log_level_t level, const char *event,
                       const char *message)
{
    char ts[40];
    rfc3339_now(ts, sizeof ts);
    json_t *o = json_object();
    bool ok = o != NULL && set_text(o, "ts", ts) &&
              set_text(o, "level", jc_log_level_name(level)) &&
              set_text(o, "program", sink->name) && set_text(o, "event", event) &&
              set_text(o, "msg", message);
    char *line = ok ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    return line;
}

void jc_cli_log(void *opaque, jc_log_level_t level, const char *event, const char *message)
{
    const jc_cli_log_t *sink = opaque;
    if (level < sink->min)
        return;
    if (sink->progress != NULL)
        jc_progress_end(sink->progress);
    FILE *out = sink->out != NULL ? sink->out : stderr;
    char *line = sink->format == JC_CLI_LOG_JSON ? json_line(sink, level, event, message) : NULL;
    if (line != NULL)
        fprintf(out, "%s\n", line);
    else if (sink->format == JC_CLI_LOG_JSON) /* out of memory: still a line, still JSON */
        fprintf(out, "{\"level\":\"%s\",\"event\":\"log_failed\",\"msg\":\"out of memory\"}\n",
                jc_log_level_name(level));
    else
        fprintf(out, "%s: %s\n", sink->name, message);
    fflush(out);
    free(line);
}

void jc_cli_logf(jc_cli_log_t *sink, jc_log_level_t level, const char *event, const char *fmt,
                 ...)
{
    char small[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    char *big = NULL;
    if (n >= (int)sizeof small && (big = malloc((size_t)n + 1)) != NULL) {
        va_start(ap, fmt);
        vsnprintf(big, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    jc_cli_log(sink, level, event, big != NULL ? big : n >= 0 ? small : "(unformattable)");
    free(big);
}
