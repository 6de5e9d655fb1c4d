/*
 * cli.h: what every jiceng program shares and libjiceng does not offer (the jiceng_cli static
 * library, linked by each program; not installed, not part of the library's API): the exit
 * statuses, the configuration mechanism with its generated --help, messages on stderr, a sink
 * for the library's log callback (jiceng/log.h) and progress lines on a terminal.
 *
 * Configuration. A program declares its options as a static table (jc_option_t): a
 * configuration key such as "kafka.bootstrap.servers", a long flag, an environment variable,
 * a default and a help text. jc_config_load resolves every option from these sources, later
 * ones winning:
 *
 *   1. the built-in default;
 *   2. the configuration file (KEY=VALUE lines, as in jiceng/envfile.h, keyed by the
 *      configuration keys);
 *   3. the local stack's env file (--env-file FILE, else jc_envfile_stack_path), loaded into the
 *      environment without overwriting what is already set, so it counts only for options whose
 *      variable it defines (JICENG_KAFKA_BOOTSTRAP, JICENG_PG_CONNINFO, ...);
 *   4. the environment;
 *   5. the flags.
 *
 * Which configuration file: --config FILE; else the program's own variable
 * (jc_program_t.config_env, e.g. $JICENG_PRODUCE_CONFIG: the identity the stack gives that
 * program); else $JICENG_CONFIG; else none. The stack's env file is loaded into the environment
 * FIRST, before the file is chosen, so the program's variable may come from it (stack.env names
 * each program's identity file); a variable already in the environment wins over the env file's,
 * as for every variable.
 *
 * Secrets (see also "secrets" below). A setting holds a secret if its name says so
 * (jc_cli_secret_name: password, passphrase, secret, token, ssl.key.pem) or its value is a
 * conninfo with a password (jc_cli_value_has_password). Then:
 *   - a configuration file or env file holding one must be readable by its owner only
 *     (jc_secret_file_check: "permissions 0644 for 'F' are too open ... chmod 600 'F'");
 *   - it may not be given as a flag or -X property (a command line is visible to every user of
 *     the machine): a usage error that names the option, not the value;
 *   - it can come from a file instead: for an option with variable X, X_FILE=PATH (in the
 *     environment or the env file) reads the value from PATH (X and X_FILE both set is an
 *     error); in a configuration file, KEY_file=PATH does the same for KEY (a table key or a
 *     kafka.PROPERTY). PATH must be readable by its owner only, whatever it holds; one trailing
 *     newline is dropped.
 * The file librdkafka's ssl.key.location names (a private key) must be readable by its owner only
 * too. Messages never quote a secret; values shown in them pass through jc_cli_mask.
 *
 * librdkafka properties pass through unchanged: a configuration-file key "kafka.X" that is not
 * an option of the table, and every -X X=VALUE / --kafka-property X=VALUE flag (repeatable),
 * become property X; each is checked against librdkafka when loading, so an unknown property is
 * a usage error that names it. jc_config_client_properties hands them, together with the
 * options whose keys start with "kafka." (prefix removed) or "jiceng." (kept), to the Kafka
 * clients of the library (jiceng/producer.h, admin.h, aggregator.h). PostgreSQL needs nothing
 * special: the conninfo option is a string for libpq, and libpq's own PG* variables apply
 * underneath it.
 *
 * --help text is generated from the table (each option with its variable and default). Every
 * program also gets -h/--help, --config and --env-file, and, unless it talks to no Kafka
 * (jc_program_t.no_kafka), -X/--kafka-property.
 */
#ifndef JICENG_CLI_H
#define JICENG_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "jiceng/common.h"
#include "jiceng/log.h"

/* ---- exit statuses ---------------------------------------------------------------------- */

/** The exit status of every jiceng program. */
typedef enum jc_exit {
    JC_EXIT_OK = 0,      /**< success */
    JC_EXIT_FAILURE = 1, /**< the work failed, or some records were rejected or undelivered */
    JC_EXIT_USAGE = 2,   /**< a usage or configuration error: nothing was done */
} jc_exit_t;

/** Print "NAME: MESSAGE" on stderr and return code, for `return jc_cli_fail(...)`. */
jc_exit_t jc_cli_fail(const char *name, jc_exit_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- configuration ---------------------------------------------------------------------- */

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
    bool no_kafka;        /**< talks to no Kafka: no -X flag, no kafka.PROPERTY file keys */
    const char *config_env; /**< the variable naming this program's configuration file when
                                 --config is absent, consulted before $JICENG_CONFIG (e.g.
                                 "JICENG_PRODUCE_CONFIG"); NULL: none */
} jc_program_t;

typedef struct jc_config jc_config_t;

/** An empty configuration for prog (which must outlive it). NULL only if out of memory. */
jc_config_t *jc_config_new(const jc_program_t *prog, jc_error_t *err);

/** Parse argv (argv[0] is the program) and resolve every option from all sources. Fails with
 *  JC_ERR_INVALID_ARG on a usage error (unrecognized option, missing argument, malformed or
 *  unknown Kafka property, a secret given on the command line, both X and X_FILE set),
 *  JC_ERR_PARSE on a configuration-file line with an unknown key or bad syntax (naming file and
 *  line), JC_ERR_INSECURE_FILE for a file holding a secret that group or others may read,
 *  JC_ERR_IO if a named file cannot be read. argv is permuted (options before operands) but not
 *  otherwise changed, and must outlive the configuration. */
jc_status_t jc_config_load(jc_config_t *cfg, int argc, char **argv, jc_error_t *err);

/** For main(): jc_config_new and jc_config_load, reporting on stderr. Returns -1 when the
 *  program should go on (*out holds the configuration, to be freed); otherwise the exit status
 *  to return: JC_EXIT_OK after printing --help to stdout, JC_EXIT_USAGE after a usage or
 *  configuration error. First it keeps the process's secrets out of core files (RLIMIT_CORE 0;
 *  on Linux also PR_SET_DUMPABLE 0, so that other processes of the same user cannot read its
 *  memory or /proc/PID/environ). */
int jc_config_main(const jc_program_t *prog, int argc, char **argv, jc_config_t **out);

/** true if -h or --help was given. */
bool jc_config_help_requested(const jc_config_t *cfg);

/** Write the --help text generated from the program's table. */
void jc_config_usage(const jc_config_t *cfg, FILE *out);

/** The same, from the table alone. */
void jc_program_usage(const jc_program_t *prog, FILE *out);

/** The resolved value of the option with this key, or NULL if it has none. */
const char *jc_config_get(const jc_config_t *cfg, const char *key);

/** The option's value as a whole number in [min, max] into *out. JC_ERR_INVALID_ARG naming the
 *  option and where the value came from if it is unset, not a number or out of range. */
jc_status_t jc_config_get_long(const jc_config_t *cfg, const char *key, long min, long max,
                               long *out, jc_error_t *err);

/** The option's value as a finite number in [min, max] into *out; errors as for
 *  jc_config_get_long. */
jc_status_t jc_config_get_double(const jc_config_t *cfg, const char *key, double min,
                                 double max, double *out, jc_error_t *err);

/** The option's value as a boolean ("true"/"false", "1"/"0", "yes"/"no"; unset is false).
 *  JC_ERR_INVALID_ARG for anything else. */
jc_status_t jc_config_get_bool(const jc_config_t *cfg, const char *key, bool *out,
                               jc_error_t *err);

/** The operands (arguments that are not options), in order; *count receives how many. */
char **jc_config_operands(const jc_config_t *cfg, int *count);

/** Kafka client properties as a NULL-terminated array of name, value pairs, lowest precedence
 *  first (a later pair overrides an earlier one of the same name): the table's options with a
 *  value whose keys start with "kafka." (prefix removed) or "jiceng." (kept), then the
 *  configuration file's pass-through "kafka." keys, then the -X flags. Owned by cfg. */
const char *const *jc_config_client_properties(const jc_config_t *cfg);

/** The configuration file that was read (for messages), or NULL if none. */
const char *jc_config_file(const jc_config_t *cfg);

/** Release cfg (NULL is fine); strings it read from files are wiped first. */
void jc_config_free(jc_config_t *cfg);

/* ---- secrets ---------------------------------------------------------------------------- */

/** true if a setting called name holds a secret by its name: it contains (in any case)
 *  password, passwd, passphrase, secret, token or key.pem. */
bool jc_cli_secret_name(const char *name);

/** true if value carries a password as a PostgreSQL conninfo does: keyword form
 *  `password=...`, a URI's `user:password@`, or a URI's query parameter `password=...`. */
bool jc_cli_value_has_password(const char *value);

/** value with every password jc_cli_value_has_password would find replaced by "***", into buf
 *  (len bytes, truncated if need be); returns buf. For messages and logs that show a conninfo:
 *  "postgresql://u:***@h/db", "host=h password=*** user=u". */
const char *jc_cli_mask(const char *value, char *buf, size_t len);

/* ---- progress lines --------------------------------------------------------------------- */

/** A progress line, rewritten in place on stderr, shown only when stderr is a terminal. */
typedef struct jc_progress {
    const char *name;    /**< prefixes the line ("NAME: ...") */
    FILE *out;           /**< stderr if it is a terminal, else NULL: nothing is shown */
    int64_t started_ms;  /**< jc_mono_ms() at jc_progress_init */
    int64_t last_ms;     /**< at the last jc_progress_rate */
    uint64_t last_count; /**< the count given to the last jc_progress_rate */
    bool open;           /**< a line is on the terminal and not yet ended */
} jc_progress_t;

/** Start: p shows lines only if stderr is a terminal. */
void jc_progress_init(jc_progress_t *p, const char *name);

/** true if lines are shown (a program need not collect figures otherwise). */
bool jc_progress_enabled(const jc_progress_t *p);

/** count per second since the previous call (the first: since jc_progress_init). */
double jc_progress_rate(jc_progress_t *p, uint64_t count);

/** count per second since jc_progress_init. */
double jc_progress_average(const jc_progress_t *p, uint64_t count);

/** Replace the line with "NAME: " and the formatted text. */
void jc_progress_show(jc_progress_t *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/** End the line (a newline), if one is open, so that other output starts on its own line. */
void jc_progress_end(jc_progress_t *p);

/* ---- the library's log lines ------------------------------------------------------------ */

/** How log lines are written. */
typedef enum jc_cli_log_format {
    JC_CLI_LOG_TEXT, /**< "NAME: message" (the default) */
    JC_CLI_LOG_JSON, /**< one JSON object a line: ts (RFC 3339 UTC, ms), level, program, event
                          (the library's stable event key), msg */
} jc_cli_log_format_t;

/** Where a program sends the library's log lines (jiceng/log.h): the opaque of jc_cli_log. */
typedef struct jc_cli_log {
    const char *name;        /**< prefixes each line ("NAME: message"); JSON: "program" */
    jc_log_level_t min;      /**< lines below this level are not shown */
    jc_progress_t *progress; /**< a progress line to end first; may be NULL */
    FILE *out;               /**< NULL: stderr */
    jc_cli_log_format_t format; /**< text (0) or JSON */
} jc_cli_log_t;

/** A jc_log_cb: one line for each occurrence at or above the minimum level (opaque is a
 *  jc_cli_log_t), written with one stdio call: "NAME: MESSAGE", or in JSON
 *  {"ts":"2026-12-01T05:07:17.123Z","level":"info","program":NAME,"event":EVENT,"msg":MESSAGE}
 *  (built with jansson: quotes, backslashes and control characters escaped; bytes that are not
 *  UTF-8, such as a multi-byte character cut by the library's 1023-byte limit, become U+FFFD). */
void jc_cli_log(void *opaque, jc_log_level_t level, const char *event, const char *message);

/** The program's own lines (start, config, shutdown ...) through the same sink: format the
 *  message (any length) and call jc_cli_log. */
void jc_cli_logf(jc_cli_log_t *sink, jc_log_level_t level, const char *event, const char *fmt,
                 ...) __attribute__((format(printf, 4, 5)));

/** The log options, declared once for every program that takes the library's log callback:
 *  put JC_CLI_LOG_OPTIONS at the end of its option table, and call jc_cli_log_configure. */
#define JC_CLI_LOG_OPTIONS                                                                   \
    {"log.format", "log-format", "JICENG_LOG_FORMAT", "text", "FORMAT",                      \
     "log lines: text (NAME: message) or json (one object a line)"},                        \
    {"log.level", "log-level", "JICENG_LOG_LEVEL", "info", "LEVEL",                          \
     "the least level logged: debug, info, warn or error"}

/** Set sink's format and minimum level from the options log.format and log.level (a table
 *  holding JC_CLI_LOG_OPTIONS). JC_ERR_INVALID_ARG naming the option and its source for a value
 *  that is not one of the words (a usage error). */
jc_status_t jc_cli_log_configure(jc_cli_log_t *sink, const jc_config_t *cfg, jc_error_t *err);

/** One line with event "config" at info: every option of prog's table that has a value as
 *  key=value, then the Kafka properties that pass through (-X, kafka.* file keys), then the
 *  configuration file; never a secret: a secret's value is "***" (by its name), a conninfo's
 *  password is masked (jc_cli_mask), librdkafka's sasl.* values are "***". */
void jc_cli_log_config(jc_cli_log_t *sink, const jc_program_t *prog, const jc_config_t *cfg);

/** The level named by word ("debug", "info", "warn", "error") into *out; false if none. */
bool jc_cli_log_level_parse(const char *word, jc_log_level_t *out);

#endif
