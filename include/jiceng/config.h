/*
 * jiceng/config.h: the one configuration mechanism every jiceng program uses.
 *
 * A program declares its options as a static table (jc_option_t): a configuration key such as
 * "kafka.bootstrap.servers", a long flag, an environment variable, a default and a help text.
 * jc_config_load resolves every option from these sources, later ones winning:
 *
 *   1. the built-in default;
 *   2. the configuration file: --config FILE, else $JICENG_CONFIG (KEY=VALUE lines, as in
 *      jiceng/envfile.h, keyed by the configuration keys);
 *   3. the local stack's env file (--env-file FILE, else jc_envfile_stack_path), loaded into the
 *      environment without overwriting what is already set, so it counts only for options whose
 *      variable it defines (JICENG_KAFKA_BOOTSTRAP, JICENG_PG_CONNINFO, ...);
 *   4. the environment;
 *   5. the flags.
 *
 * librdkafka properties pass through unchanged: a configuration-file key "kafka.X" that is not
 * an option of the table, and every -X X=VALUE / --kafka-property X=VALUE flag (repeatable),
 * become property X; each is checked against librdkafka when loading, so an unknown property is
 * a usage error that names it. jc_config_client_properties hands them, together with the
 * options whose keys start with "kafka." (prefix removed) or "jiceng." (kept), to the Kafka
 * clients of jiceng/producer.h and jiceng/admin.h. PostgreSQL needs nothing special: the
 * conninfo option is a string for libpq, and libpq's own PG* variables apply underneath it.
 *
 * --help text is generated from the table (each option with its variable and default). Every
 * program also gets -h/--help, --config, --env-file and -X/--kafka-property.
 */
#ifndef JICENG_CONFIG_H
#define JICENG_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

#include "jiceng/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** One option of a program. */
typedef struct jc_option {
    const char *key;  /**< configuration-file key, e.g. "kafka.bootstrap.servers" */
    const char *flag; /**< long flag without the dashes, e.g. "bootstrap"; NULL: none */
    const char *env;  /**< environment variable, e.g. "JICENG_KAFKA_BOOTSTRAP"; NULL: none */
    const char *def;  /**< built-in default; NULL: unset unless given */
    const char *arg;  /**< the flag's argument as --help shows it ("N", "FILE"); NULL: the flag
                           is a switch and sets the value "true" */
    const char *help; /**< one line for --help */
} jc_option_t;

/** A program's description: what --help shows, and its option table. */
typedef struct jc_program {
    const char *name;     /**< e.g. "jiceng-produce" */
    const char *synopsis; /**< what follows the name in the usage line, e.g. "[OPTIONS] FILE..." */
    const char *about;    /**< a paragraph after the usage line; may be NULL */
    const char *epilogue; /**< text after the options (exit statuses, examples); may be NULL */
    const jc_option_t *options;
    size_t noptions;
} jc_program_t;

typedef struct jc_config jc_config_t;

/** An empty configuration for prog (which must outlive it). NULL only if out of memory. */
JC_API jc_config_t *jc_config_new(const jc_program_t *prog, jc_error_t *err);

/** Parse argv (argv[0] is the program) and resolve every option from all sources. Fails with
 *  JC_ERR_INVALID_ARG on a usage error (unrecognized option, missing argument, malformed or
 *  unknown Kafka property), JC_ERR_PARSE on a configuration-file line with an unknown key or bad
 *  syntax (naming file and line), JC_ERR_IO if a named file cannot be read. argv is permuted
 *  (options before operands) but not otherwise changed, and must outlive the configuration. */
JC_API jc_status_t jc_config_load(jc_config_t *cfg, int argc, char **argv, jc_error_t *err);

/** For main(): jc_config_new and jc_config_load, reporting on stderr. Returns -1 when the
 *  program should go on (*out holds the configuration, to be freed); otherwise the exit status
 *  to return: 0 after printing --help to stdout, 2 after a usage or configuration error. */
JC_API int jc_config_main(const jc_program_t *prog, int argc, char **argv, jc_config_t **out);

/** true if -h or --help was given. */
JC_API bool jc_config_help_requested(const jc_config_t *cfg);

/** Write the --help text generated from the program's table. */
JC_API void jc_config_usage(const jc_config_t *cfg, FILE *out);

/** The resolved value of the option with this key, or NULL if it has none. */
JC_API const char *jc_config_get(const jc_config_t *cfg, const char *key);

/** The option's value as a whole number in [min, max] into *out. JC_ERR_INVALID_ARG naming the
 *  option and where the value came from if it is unset, not a number or out of range. */
JC_API jc_status_t jc_config_get_long(const jc_config_t *cfg, const char *key, long min,
                                      long max, long *out, jc_error_t *err);

/** The option's value as a boolean ("true"/"false", "1"/"0", "yes"/"no"; unset is false).
 *  JC_ERR_INVALID_ARG for anything else. */
JC_API jc_status_t jc_config_get_bool(const jc_config_t *cfg, const char *key, bool *out,
                                      jc_error_t *err);

/** The operands (arguments that are not options), in order; *count receives how many. */
JC_API char **jc_config_operands(const jc_config_t *cfg, int *count);

/** Kafka client properties as a NULL-terminated array of name, value pairs, lowest precedence
 *  first (a later pair overrides an earlier one of the same name): the table's options with a
 *  value whose keys start with "kafka." (prefix removed) or "jiceng." (kept), then the
 *  configuration file's pass-through "kafka." keys, then the -X flags. Owned by cfg. */
JC_API const char *const *jc_config_client_properties(const jc_config_t *cfg);

/** Release cfg (NULL is fine). */
JC_API void jc_config_free(jc_config_t *cfg);

#ifdef __cplusplus
}
#endif
#endif
