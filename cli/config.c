/*
 * config.c: the programs' options from defaults, a configuration file, the stack's env file,
 * the environment and flags (see cli.h for the precedence and the pass-through rules).
 *
 * jc_config_load works in four steps. getopt_long parses argv with a long-option array built
 * from the program's table (plus the built-ins --config, --env-file, -X and --help), recording
 * each flag's value and collecting -X properties. The configuration file, if any, is read with
 * jc_envfile_parse: table keys are remembered per option, other "kafka." keys become
 * pass-through properties, anything else is an error. The stack's env file is loaded into the
 * environment without overwriting. Finally each option takes the first of flag, environment,
 * file and default that has a value, and the client property list is assembled and every Kafka
 * property in it is tried on a scratch rd_kafka_conf_t, so that a misspelt property is reported
 * before anything connects. Strings read from files are owned by the configuration; flag
 * values point into argv. The --help text is help.c's; the wrapper for main() is cli.c's.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <librdkafka/rdkafka.h>

#include "jiceng/buf.h"
#include "jiceng/envfile.h"

enum source { SRC_NONE, SRC_DEFAULT, SRC_FILE, SRC_ENV, SRC_FLAG };

/* getopt_long return values of the built-in long-only options; table options are OPT_BASE+i */
enum { OPT_CONFIG = 1, OPT_ENV_FILE = 2, OPT_BASE = 256 };

struct jc_config {
    const jc_program_t *prog;
    const char **flag_value; /* per option: from argv, or NULL */
    char **file_value;       /* per option: from the configuration file (owned), or NULL */
    const char **value;      /* per option: the resolved value */
    enum source *source;     /* per option: where value came from */
    const char *config_path; /* --config */
    const char *env_path;    /* --env-file */
    const char *loaded_config; /* the configuration file actually read, for messages */
    bool help;
    char **operands;
    int noperands;
    jc_buf_t owned;     /* char *: strings this configuration allocated */
    jc_buf_t file_props; /* const char *: name, value pairs from the configuration file */
    jc_buf_t flag_props; /* const char *: name, value pairs from -X */
    jc_buf_t props;      /* const char *: the client property list, NULL-terminated */
};

/* ---- small helpers ---- */

static jc_status_t push_ptr(jc_buf_t *b, const void *p, jc_error_t *err)
{
    if (jc_buf_append(b, &p, sizeof p) != JC_OK)
        return jc_error_set(err, JC_ERR_NOMEM, "config: out of memory");
    return JC_OK;
}

static const char **ptrs(const jc_buf_t *b, size_t *count)
{
    *count = b->len / sizeof(const char *);
    return (const char **)(void *)b->data;
}

/* A copy of n bytes of s owned by cfg, or NULL (err set). The copy is filled before it is
 * recorded, so that nothing ever holds uninitialized bytes. */
static char *own(jc_config_t *cfg, const char *s, size_t n, jc_error_t *err)
{
    char *copy = malloc(n + 1);
    if (copy == NULL) {
        jc_error_set(err, JC_ERR_NOMEM, "config: out of memory");
        return NULL;
    }
    memcpy(copy, s, n);
    copy[n] = '\0';
    if (push_ptr(&cfg->owned, copy, err) != JC_OK) {
        free(copy);
        return NULL;
    }
    return copy;
}

static int option_index(const jc_config_t *cfg, const char *key)
{
    for (size_t i = 0; i < cfg->prog->noptions; i++)
        if (strcmp(cfg->prog->options[i].key, key) == 0)
            return (int)i;
    return -1;
}

/* Split "name=value" into an owned pair appended to list. */
static jc_status_t add_property(jc_config_t *cfg, jc_buf_t *list, const char *name, size_t nlen,
                                const char *value, jc_error_t *err)
{
    char *n = own(cfg, name, nlen, err);
    char *v = n ? own(cfg, value, strlen(value), err) : NULL;
    if (v == NULL)
        return JC_ERR_NOMEM;
    jc_status_t st = push_ptr(list, n, err);
    return st == JC_OK ? push_ptr(list, v, err) : st;
}

/* ---- lifetime ---- */

jc_config_t *jc_config_new(const jc_program_t *prog, jc_error_t *err)
{
    if (prog == NULL || (prog->options == NULL && prog->noptions > 0)) {
        jc_error_set(err, JC_ERR_INVALID_ARG, "jc_config_new: no program description");
        return NULL;
    }
    jc_config_t *cfg = calloc(1, sizeof *cfg);
    size_t n = prog->noptions + 1;
    if (cfg != NULL) {
        cfg->prog = prog;
        cfg->flag_value = calloc(n, sizeof *cfg->flag_value);
        cfg->file_value = calloc(n, sizeof *cfg->file_value);
        cfg->value = calloc(n, sizeof *cfg->value);
        cfg->source = calloc(n, sizeof *cfg->source);
    }
    if (cfg == NULL || cfg->flag_value == NULL || cfg->file_value == NULL ||
        cfg->value == NULL || cfg->source == NULL) {
        jc_config_free(cfg);
        jc_error_set(err, JC_ERR_NOMEM, "config: out of memory");
        return NULL;
    }
    return cfg;
}

void jc_config_free(jc_config_t *cfg)
{
    if (cfg == NULL)
        return;
    size_t n;
    const char **owned = ptrs(&cfg->owned, &n);
    for (size_t i = 0; i < n; i++)
        free((void *)owned[i]);
    jc_buf_free(&cfg->owned);
    jc_buf_free(&cfg->file_props);
    jc_buf_free(&cfg->flag_props);
    jc_buf_free(&cfg->props);
    free(cfg->flag_value);
    free(cfg->file_value);
    free(cfg->value);
    free(cfg->source);
    free(cfg);
}

/* ---- step 1: flags ---- */

static struct option *build_longopts(const jc_program_t *prog, jc_error_t *err)
{
    struct option *lo = calloc(prog->noptions + 5, sizeof *lo);
    if (lo == NULL) {
        jc_error_set(err, JC_ERR_NOMEM, "config: out of memory");
        return NULL;
    }
    size_t n = 0;
    for (size_t i = 0; i < prog->noptions; i++) {
        const jc_option_t *o = &prog->options[i];
        if (o->flag != NULL)
            lo[n++] = (struct option){o->flag, o->arg ? required_argument : no_argument, NULL,
                                      OPT_BASE + (int)i};
    }
    lo[n++] = (struct option){"config", required_argument, NULL, OPT_CONFIG};
    lo[n++] = (struct option){"env-file", required_argument, NULL, OPT_ENV_FILE};
    if (!prog->no_kafka)
        lo[n++] = (struct option){"kafka-property", required_argument, NULL, 'X'};
    lo[n++] = (struct option){"help", no_argument, NULL, 'h'};
    return lo;
}

static jc_status_t flag_property(jc_config_t *cfg, const char *arg, jc_error_t *err)
{
    const char *eq = strchr(arg, '=');
    if (eq == NULL || eq == arg)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "-X '%s': expected PROPERTY=VALUE", arg);
    return add_property(cfg, &cfg->flag_props, arg, (size_t)(eq - arg), eq + 1, err);
}

/* getopt_long said ':' (missing argument) or '?' (unknown option, or an argument given to a
 * switch, in which case optopt holds the switch's value). */
static jc_status_t bad_flag(int ch, int argc, char **argv, jc_error_t *err)
{
    const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
    if (ch == ':')
        return jc_error_set(err, JC_ERR_INVALID_ARG, "option '%s' requires an argument", arg);
    if (optopt == 'h' || optopt == OPT_CONFIG || optopt == OPT_ENV_FILE || optopt >= OPT_BASE)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "option '%s' takes no argument", arg);
    if (optopt != 0)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "unrecognized option '-%c'", optopt);
    return jc_error_set(err, JC_ERR_INVALID_ARG, "unrecognized option '%s'", arg);
}

static jc_status_t take_flag(jc_config_t *cfg, int ch, int argc, char **argv, jc_error_t *err)
{
    switch (ch) {
    case 'h': cfg->help = true; return JC_OK;
    case 'X': return flag_property(cfg, optarg, err);
    case OPT_CONFIG: cfg->config_path = optarg; return JC_OK;
    case OPT_ENV_FILE: cfg->env_path = optarg; return JC_OK;
    default: break;
    }
    if (ch < OPT_BASE || (size_t)(ch - OPT_BASE) >= cfg->prog->noptions)
        return bad_flag(ch, argc, argv, err);
    size_t i = (size_t)(ch - OPT_BASE);
    cfg->flag_value[i] = cfg->prog->options[i].arg ? optarg : "true";
    return JC_OK;
}

static jc_status_t parse_flags(jc_config_t *cfg, int argc, char **argv, jc_error_t *err)
{
    struct option *lo = build_longopts(cfg->prog, err);
    if (lo == NULL)
        return JC_ERR_NOMEM;
    optind = 0; /* glibc: start afresh, so that a process may load more than once */
    opterr = 0;
    jc_status_t st = JC_OK;
    int ch;
    const char *shortopts = cfg->prog->no_kafka ? ":h" : ":hX:";
    while (st == JC_OK && (ch = getopt_long(argc, argv, shortopts, lo, NULL)) != -1)
        st = take_flag(cfg, ch, argc, argv, err);
    free(lo);
    if (st == JC_OK) {
        cfg->operands = argv + optind;
        cfg->noperands = argc - optind;
    }
    return st;
}

/* ---- step 2: the configuration file ---- */

struct file_ctx {
    jc_config_t *cfg;
    const char *path;
};

static jc_status_t on_file_entry(const char *key, const char *value, int line, void *ud,
                                 jc_error_t *err)
{
    struct file_ctx *ctx = ud;
    jc_config_t *cfg = ctx->cfg;
    int i = option_index(cfg, key);
    if (i >= 0) {
        cfg->file_value[i] = own(cfg, value, strlen(value), err);
        return cfg->file_value[i] != NULL ? JC_OK : JC_ERR_NOMEM;
    }
    if (!cfg->prog->no_kafka && strncmp(key, "kafka.", 6) == 0 && key[6] != '\0')
        return add_property(cfg, &cfg->file_props, key + 6, strlen(key + 6), value, err);
    return jc_error_set(err, JC_ERR_PARSE, "%s:%d: unknown key '%s' (not an option of %s%s)",
                        ctx->path, line, key, cfg->prog->name,
                        cfg->prog->no_kafka ? "" : ", nor a kafka.PROPERTY");
}

static jc_status_t read_config_file(jc_config_t *cfg, jc_error_t *err)
{
    const char *path = cfg->config_path;
    if (path == NULL) {
        path = getenv("JICENG_CONFIG");
        if (path == NULL || *path == '\0')
            return JC_OK;
    }
    cfg->loaded_config = path;
    struct file_ctx ctx = {cfg, path};
    return jc_envfile_parse(path, on_file_entry, &ctx, err);
}

/* ---- step 3: the stack's env file ---- */

static jc_status_t load_stack_env(const jc_config_t *cfg, jc_error_t *err)
{
    char buf[4096];
    const char *path = cfg->env_path;
    if (path == NULL)
        path = jc_envfile_stack_path(NULL, buf, sizeof buf);
    return path != NULL ? jc_envfile_load(path, 0, err) : JC_OK;
}

/* ---- step 4: resolve ---- */

static void resolve_options(jc_config_t *cfg)
{
    for (size_t i = 0; i < cfg->prog->noptions; i++) {
        const jc_option_t *o = &cfg->prog->options[i];
        const char *env = o->env ? getenv(o->env) : NULL;
        if (cfg->flag_value[i] != NULL) {
            cfg->value[i] = cfg->flag_value[i];
            cfg->source[i] = SRC_FLAG;
        } else if (env != NULL && *env != '\0') {
            cfg->value[i] = env;
            cfg->source[i] = SRC_ENV;
        } else if (cfg->file_value[i] != NULL) {
            cfg->value[i] = cfg->file_value[i];
            cfg->source[i] = SRC_FILE;
        } else {
            cfg->value[i] = o->def;
            cfg->source[i] = o->def ? SRC_DEFAULT : SRC_NONE;
        }
    }
}

static jc_status_t append_pairs(jc_buf_t *out, const jc_buf_t *pairs, jc_error_t *err)
{
    size_t n;
    const char **p = ptrs(pairs, &n);
    jc_status_t st = JC_OK;
    for (size_t i = 0; i < n && st == JC_OK; i++)
        st = push_ptr(out, p[i], err);
    return st;
}

static jc_status_t build_properties(jc_config_t *cfg, jc_error_t *err)
{
    jc_buf_reset(&cfg->props);
    jc_status_t st = JC_OK;
    for (size_t i = 0; i < cfg->prog->noptions && st == JC_OK; i++) {
        const char *key = cfg->prog->options[i].key;
        if (cfg->value[i] == NULL)
            continue;
        if (strncmp(key, "kafka.", 6) == 0)
            key += 6;
        else if (strncmp(key, "jiceng.", 7) != 0)
            continue;
        if ((st = push_ptr(&cfg->props, key, err)) == JC_OK)
            st = push_ptr(&cfg->props, cfg->value[i], err);
    }
    if (st == JC_OK)
        st = append_pairs(&cfg->props, &cfg->file_props, err);
    if (st == JC_OK)
        st = append_pairs(&cfg->props, &cfg->flag_props, err);
    return st == JC_OK ? push_ptr(&cfg->props, NULL, err) : st;
}

/* Try every Kafka property on a scratch configuration: unknown names and bad values fail now. */
static jc_status_t check_kafka_properties(const jc_config_t *cfg, jc_error_t *err)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *const *p = jc_config_client_properties(cfg);
    char errstr[256];
    jc_status_t st = JC_OK;
    for (; st == JC_OK && p[0] != NULL; p += 2) {
        if (strncmp(p[0], "jiceng.", 7) != 0 &&
            rd_kafka_conf_set(conf, p[0], p[1], errstr, sizeof errstr) != RD_KAFKA_CONF_OK)
            st = jc_error_set(err, JC_ERR_INVALID_ARG, "Kafka property '%s': %s", p[0], errstr);
    }
    rd_kafka_conf_destroy(conf);
    return st;
}

jc_status_t jc_config_load(jc_config_t *cfg, int argc, char **argv, jc_error_t *err)
{
    if (cfg == NULL || argc < 1 || argv == NULL)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "jc_config_load: no arguments");
    jc_status_t st = parse_flags(cfg, argc, argv, err);
    if (st != JC_OK || cfg->help)
        return st;
    if ((st = read_config_file(cfg, err)) != JC_OK || (st = load_stack_env(cfg, err)) != JC_OK)
        return st;
    resolve_options(cfg);
    if ((st = build_properties(cfg, err)) != JC_OK)
        return st;
    return check_kafka_properties(cfg, err);
}

/* ---- queries ---- */

bool jc_config_help_requested(const jc_config_t *cfg)
{
    return cfg->help;
}

const char *jc_config_get(const jc_config_t *cfg, const char *key)
{
    int i = option_index(cfg, key);
    return i >= 0 ? cfg->value[i] : NULL;
}

/* How to name option i in a message: its flag or key, and where its value came from. */
static void describe_option(const jc_config_t *cfg, int i, char *buf, size_t len)
{
    const jc_option_t *o = &cfg->prog->options[i];
    const char *from = "";
    switch (cfg->source[i]) {
    case SRC_FLAG: from = " (from the command line)"; break;
    case SRC_ENV: from = " (from $"; break;
    case SRC_FILE: from = " (from the configuration file)"; break;
    case SRC_DEFAULT: from = " (the default)"; break;
    case SRC_NONE: break;
    }
    snprintf(buf, len, "%s%s%s%s%s", o->flag ? "--" : "", o->flag ? o->flag : o->key, from,
             cfg->source[i] == SRC_ENV ? o->env : "", cfg->source[i] == SRC_ENV ? ")" : "");
}

/* The value of the option with key into *v and its description (for messages) into name; an
 * unknown key or an unset value is an error naming the option. */
static jc_status_t required_value(const jc_config_t *cfg, const char *key, const char **v,
                                  char *name, size_t len, jc_error_t *err)
{
    int i = option_index(cfg, key);
    if (i < 0)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "no option '%s'", key);
    describe_option(cfg, i, name, len);
    *v = cfg->value[i];
    if (*v == NULL)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "%s is required", name);
    return JC_OK;
}

jc_status_t jc_config_get_long(const jc_config_t *cfg, const char *key, long min, long max,
                               long *out, jc_error_t *err)
{
    char name[256];
    const char *v;
    if (required_value(cfg, key, &v, name, sizeof name, err) != JC_OK)
        return JC_ERR_INVALID_ARG;
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (*v == '\0' || *end != '\0' || errno != 0 || n < min || n > max)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "%s: '%s' is not a whole number in "
                            "%ld..%ld", name, v, min, max);
    *out = n;
    return JC_OK;
}

jc_status_t jc_config_get_double(const jc_config_t *cfg, const char *key, double min,
                                 double max, double *out, jc_error_t *err)
{
    char name[256];
    const char *v;
    if (required_value(cfg, key, &v, name, sizeof name, err) != JC_OK)
        return JC_ERR_INVALID_ARG;
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (*v == '\0' || *end != '\0' || errno != 0 || !isfinite(x) || x < min || x > max)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "%s: '%s' is not a number in %g..%g", name,
                            v, min, max);
    *out = x;
    return JC_OK;
}

jc_status_t jc_config_get_bool(const jc_config_t *cfg, const char *key, bool *out,
                               jc_error_t *err)
{
    static const char *const yes[] = {"true", "1", "yes"}, *const no[] = {"false", "0", "no"};
    int i = option_index(cfg, key);
    if (i < 0)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "no option '%s'", key);
    const char *v = cfg->value[i];
    *out = false;
    if (v == NULL)
        return JC_OK;
    for (size_t k = 0; k < 3; k++) {
        if (strcasecmp(v, yes[k]) == 0 || strcasecmp(v, no[k]) == 0) {
            *out = strcasecmp(v, yes[k]) == 0;
            return JC_OK;
        }
    }
    char name[256];
    describe_option(cfg, i, name, sizeof name);
    return jc_error_set(err, JC_ERR_INVALID_ARG, "%s: '%s' is not true or false", name, v);
}

char **jc_config_operands(const jc_config_t *cfg, int *count)
{
    *count = cfg->noperands;
    return cfg->operands;
}

const char *const *jc_config_client_properties(const jc_config_t *cfg)
{
    static const char *const none[] = {NULL};
    size_t n;
    const char **p = ptrs(&cfg->props, &n);
    return n > 0 ? p : none;
}

void jc_config_usage(const jc_config_t *cfg, FILE *out)
{
    jc_program_usage(cfg->prog, out);
}
