/*
 * help.c: the --help text of a program, generated from its option table (cli.h): the usage
 * line, the about paragraph, one entry per option (its flag or configuration key, its help,
 * and in brackets its key, variable and default), the built-in options (--config with the
 * program's own variable), the rules for secrets, the epilogue.
 */
#include "cli.h"

#include <string.h>

static void usage_entry(FILE *out, const char *left, const char *help, const char *details)
{
    if (strlen(left) <= 26)
        fprintf(out, "  %-26s %s\n", left, help);
    else
        fprintf(out, "  %s\n  %-26s %s\n", left, "", help);
    if (details[0] != '\0')
        fprintf(out, "  %-26s [%s]\n", "", details);
}

static void usage_option(FILE *out, const jc_option_t *o)
{
    char left[128], details[256];
    if (o->flag != NULL)
        snprintf(left, sizeof left, "--%s%s%s", o->flag, o->arg ? " " : "", o->arg ? o->arg : "");
    else
        snprintf(left, sizeof left, "%s=%s", o->key, o->arg ? o->arg : "true|false");
    int n = snprintf(details, sizeof details, "key %s", o->key);
    if (o->env != NULL && n >= 0 && (size_t)n < sizeof details)
        n += snprintf(details + n, sizeof details - (size_t)n, "; env %s", o->env);
    if (o->def != NULL && n >= 0 && (size_t)n < sizeof details)
        snprintf(details + n, sizeof details - (size_t)n, "; default %s",
                 o->def[0] ? o->def : "\"\"");
    usage_entry(out, left, o->help ? o->help : "", details);
}

void jc_program_usage(const jc_program_t *p, FILE *out)
{
    fprintf(out, "usage: %s %s\n\n", p->name, p->synopsis ? p->synopsis : "[OPTIONS]");
    if (p->about != NULL)
        fprintf(out, "%s\n\n", p->about);
    fprintf(out, "options (precedence: flag > environment > stack env file > config file > "
                 "default):\n");
    for (size_t i = 0; i < p->noptions; i++)
        usage_option(out, &p->options[i]);
    if (!p->no_kafka)
        usage_entry(out, "-X, --kafka-property P=V", "librdkafka property P, repeatable",
                    "config file: kafka.P=V");
    char config_env[160];
    snprintf(config_env, sizeof config_env, "env %s%sJICENG_CONFIG",
             p->config_env ? p->config_env : "", p->config_env ? ", else " : "");
    usage_entry(out, "--config FILE", "KEY=VALUE configuration file", config_env);
    usage_entry(out, "--env-file FILE", "the local stack's env file, loaded into the environment",
                "default $JICENG_ENV_FILE, else $JICENG_STATE/stack.env");
    usage_entry(out, "-h, --help", "this text", "");
    fprintf(out, "\nA secret (a password, a key's passphrase) is never taken from the command "
                 "line. An option's\nvariable X may name a file holding the value instead: "
                 "X_FILE=PATH; in the config file,\nKEY_file=PATH. Such files, and config or env "
                 "files holding a secret, must be mode 0600.\n");
    if (p->epilogue != NULL)
        fprintf(out, "\n%s\n", p->epilogue);
}
