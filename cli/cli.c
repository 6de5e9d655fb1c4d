/*
 * cli.c: how a program starts and speaks (cli.h): jc_config_main keeps secrets out of core
 * files, loads the configuration and turns --help and usage errors into output and an exit
 * status; jc_cli_fail prints one message line; jc_cli_log is the log callback every program
 * gives the library, writing the lines at or above its level as "NAME: message" after ending
 * any progress line.
 */
#define _DEFAULT_SOURCE /* prctl(2) */

#include "cli.h"

#include <stdarg.h>
#include <sys/resource.h>
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

void jc_cli_log(void *opaque, jc_log_level_t level, const char *event, const char *message)
{
    (void)event; /* the message says it for people; structured output would use it */
    const jc_cli_log_t *sink = opaque;
    if (level < sink->min)
        return;
    if (sink->progress != NULL)
        jc_progress_end(sink->progress);
    FILE *out = sink->out != NULL ? sink->out : stderr;
    fprintf(out, "%s: %s\n", sink->name, message);
    fflush(out);
}
