/*
 * config.c: the programs' options from defaults, a configuration file, the stack's env file,
 * the environment and flags (see cli.h for the precedence, the pass-through rules and the
 * handling of secrets).
 *
 * jc_config_load works in five steps. getopt_long parses argv with a long-option array built
 * from the program's table (plus the built-ins --config, --env-file, -X and --help), recording
 * each flag's value and collecting -X properties; a flag or property that holds a secret is
 * refused there. The stack's env file is parsed into a list, checked (a secret in it requires
 * mode 0600) and loaded into the environment without overwriting. The configuration file (chosen
 * only now, so that the program's variable may come from the env file) is read with
 * jc_envfile_parse: table keys are remembered per option, other "kafka." keys become
 * pass-through properties, KEY_file entries read KEY's value from a file, anything else is an
 * error, and a secret among the entries requires mode 0600. Then each option takes the first of
 * flag, environment (X, else the file X_FILE names), file and default that has a value. Finally
 * the client property list is assembled, every Kafka property in it is tried on a scratch
 * rd_kafka_conf_t, so that a misspelt property is reported before anything connects, and the
 * private key ssl.key.location names is checked like a secret file. Strings read from files
 * are owned by the configuration and wiped when it is freed; flag values point into argv. The
 * --help text is help.c's; the wrapper for main() is cli.c's; secrets.c recognises secrets.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <fcntl.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <openssl/crypto.h>

#include "jiceng/buf.h"
#include "jiceng/envfile.h"
#include "jiceng/secretfile.h"

enum source { SRC_NONE, SRC_DEFAULT, SRC_FILE, SRC_ENV, SRC_ENV_FILE, SRC_FLAG };

/* The longest value read from a file (X_FILE, KEY_file). */
#define SECRET_FILE_MAX 65536

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
    const char *config_from;   /* how it was named: "--config", "$JICENG_CONFIG", ... */
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
    for (size_t i = 0; i < n; i++) {
        OPENSSL_cleanse((void *)owned[i], strlen(owned[i])); /* may be a secret */
        free((void *)owned[i]);
    }
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

/* ---- secrets on the command line ---- */

/* A command line is visible to every user of the machine (ps, /proc): refuse a secret there,
 * naming the option and where to put it instead, never the value. */
static jc_status_t refuse_command_line_secrets(const jc_config_t *cfg, jc_error_t *err)
{
    for (size_t i = 0; i < cfg->prog->noptions; i++) {
        const jc_option_t *o = &cfg->prog->options[i];
        const char *v = cfg->flag_value[i];
        if (v == NULL || !(jc_cli_secret_name(o->key) || jc_cli_value_has_password(v)))
            continue;
        char env[300] = "";
        if (o->env != NULL)
            snprintf(env, sizeof env, "$%s or $%s_FILE, or ", o->env, o->env);
        return jc_error_set(err, JC_ERR_INVALID_ARG, "--%s: the value holds a secret, and a "
                            "command line is visible to every user of the machine; give it in "
                            "%sthe configuration file (%s or %s_file), readable by its owner "
                            "only%s", o->flag, env, o->key, o->key,
                            jc_cli_value_has_password(v) ? "; or leave the password out and "
                            "let libpq find it in PGPASSFILE" : "");
    }
    size_t n;
    const char **p = ptrs(&cfg->flag_props, &n);
    for (size_t k = 0; k + 1 < n; k += 2)
        if (jc_cli_secret_name(p[k]) || jc_cli_value_has_password(p[k + 1]))
            return jc_error_set(err, JC_ERR_INVALID_ARG, "-X %s: the value holds a secret, and "
                                "a command line is visible to every user of the machine; put "
                                "kafka.%s (or kafka.%s_file=PATH) in the configuration file, "
                                "readable by its owner only", p[k], p[k], p[k]);
    return JC_OK;
}

/* ---- values read from files (X_FILE, KEY_file) ---- */

/* The contents of path, which must be readable by its owner only, without one trailing
 * newline, owned by cfg, into *out. what names the setting for messages. */
static jc_status_t read_value_file(jc_config_t *cfg, const char *path, const char *what,
                                   const char **out, jc_error_t *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return jc_error_set(err, JC_ERR_IO, "%s: %s: %s", what, path, strerror(errno));
    char buf[SECRET_FILE_MAX + 1];
    size_t len = 0;
    jc_status_t st = jc_secret_fd_check(fd, path, err);
    while (st == JC_OK && len < sizeof buf) {
        ssize_t r = read(fd, buf + len, sizeof buf - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            st = jc_error_set(err, JC_ERR_IO, "%s: %s: %s", what, path, strerror(errno));
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    if (st == JC_OK && len > SECRET_FILE_MAX)
        st = jc_error_set(err, JC_ERR_IO, "%s: %s: longer than %d bytes", what, path,
                          SECRET_FILE_MAX);
    if (st == JC_OK && memchr(buf, '\0', len) != NULL)
        st = jc_error_set(err, JC_ERR_PARSE, "%s: %s: holds a NUL byte", what, path);
    if (len > 0 && buf[len - 1] == '\n')
        len--;
    if (len > 0 && buf[len - 1] == '\r')
        len--;
    if (st == JC_OK && (*out = own(cfg, buf, len, err)) == NULL)
        st = JC_ERR_NOMEM;
    OPENSSL_cleanse(buf, sizeof buf);
    return st;
}

/* ---- step 2: the stack's env file ---- */

struct env_ctx {
    jc_config_t *cfg;
    jc_buf_t pairs;  /* const char *: name, value (owned by cfg) */
    bool secret;     /* an entry holds a secret */
};

static jc_status_t on_env_entry(const char *key, const char *value, int line, void *ud,
                                jc_error_t *err)
{
    (void)line;
    struct env_ctx *ctx = ud;
    ctx->secret = ctx->secret || jc_cli_secret_name(key) || jc_cli_value_has_password(value);
    return add_property(ctx->cfg, &ctx->pairs, key, strlen(key), value, err);
}

/* Parse the env file first and load it only if it is fit to hold what it holds. */
static jc_status_t load_stack_env(jc_config_t *cfg, jc_error_t *err)
{
    char buf[4096];
    const char *path = cfg->env_path;
    if (path == NULL)
        path = jc_envfile_stack_path(NULL, buf, sizeof buf);
    if (path == NULL)
        return JC_OK;
    struct env_ctx ctx = {.cfg = cfg};
    jc_status_t st = jc_envfile_parse(path, on_env_entry, &ctx, err);
    if (st == JC_OK && ctx.secret)
        st = jc_secret_file_check(path, err);
    size_t n;
    const char **p = ptrs(&ctx.pairs, &n);
    for (size_t k = 0; st == JC_OK && k + 1 < n; k += 2)
        if (setenv(p[k], p[k + 1], 0) != 0)
            st = jc_error_set(err, JC_ERR_NOMEM, "setenv %s: %s", p[k], strerror(errno));
    jc_buf_free(&ctx.pairs);
    return st;
}

/* ---- step 3: the configuration file ---- */

struct file_ctx {
    jc_config_t *cfg;
    const char *path;
    bool secret; /* an entry holds a secret */
};

/* A configuration-file entry: a table key, a kafka.PROPERTY, or either with "_file" appended
 * (the value is read from the file it names). */
static jc_status_t on_file_entry(const char *key, const char *value, int line, void *ud,
                                 jc_error_t *err)
{
    struct file_ctx *ctx = ud;
    jc_config_t *cfg = ctx->cfg;
    size_t klen = strlen(key);
    char stem[256];
    bool indirect = option_index(cfg, key) < 0 && klen > 5 && klen - 5 < sizeof stem &&
                    strcmp(key + klen - 5, "_file") == 0;
    if (indirect) {
        memcpy(stem, key, klen - 5);
        stem[klen - 5] = '\0';
        key = stem;
    }
    int i = option_index(cfg, key);
    bool kafka = i < 0 && !cfg->prog->no_kafka && strncmp(key, "kafka.", 6) == 0 && key[6];
    if (i < 0 && !kafka)
        return jc_error_set(err, JC_ERR_PARSE, "%s:%d: unknown key '%s%s' (not an option of "
                            "%s%s)", ctx->path, line, key, indirect ? "_file" : "",
                            cfg->prog->name, cfg->prog->no_kafka ? "" : ", nor a kafka.PROPERTY");
    if (indirect) {
        char what[300];
        snprintf(what, sizeof what, "%s:%d: %s_file", ctx->path, line, key);
        jc_status_t st = read_value_file(cfg, value, what, &value, err);
        if (st != JC_OK)
            return st;
    } else {
        ctx->secret = ctx->secret || jc_cli_secret_name(key) || jc_cli_value_has_password(value);
    }
    if (kafka)
        return add_property(cfg, &cfg->file_props, key + 6, strlen(key + 6), value, err);
    cfg->file_value[i] = own(cfg, value, strlen(value), err);
    return cfg->file_value[i] != NULL ? JC_OK : JC_ERR_NOMEM;
}

/* Which configuration file: --config, else the program's variable, else $JICENG_CONFIG. */
static const char *config_file_path(jc_config_t *cfg)
{
    static const char *const general = "JICENG_CONFIG";
    const char *vars[] = {cfg->prog->config_env, general};
    if (cfg->config_path != NULL) {
        cfg->config_from = "--config";
        return cfg->config_path;
    }
    for (size_t i = 0; i < 2; i++) {
        const char *path = vars[i] != NULL ? getenv(vars[i]) : NULL;
        if (path != NULL && *path != '\0') {
            cfg->config_from = vars[i];
            return path;
        }
    }
    return NULL;
}

static jc_status_t read_config_file(jc_config_t *cfg, jc_error_t *err)
{
    const char *path = config_file_path(cfg);
    if (path == NULL)
        return JC_OK;
    if ((path = own(cfg, path, strlen(path), err)) == NULL) /* getenv's may change */
        return JC_ERR_NOMEM;
    cfg->loaded_config = path;
    if (access(path, R_OK) != 0)
        return jc_error_set(err, JC_ERR_IO, "configuration file %s (from %s%s): %s", path,
                            strcmp(cfg->config_from, "--config") == 0 ? "" : "$",
                            cfg->config_from, strerror(errno));
    struct file_ctx ctx = {cfg, path, false};
    jc_status_t st = jc_envfile_parse(path, on_file_entry, &ctx, err);
    if (st == JC_OK && ctx.secret)
        st = jc_secret_file_check(path, err);
    return st;
}

/* ---- step 4: resolve ---- */

/* Option i from the environment: $X, else the file $X_FILE names (not both). *v stays NULL if
 * neither is set. */
static jc_status_t env_value(jc_config_t *cfg, size_t i, const char **v, enum source *src,
                             jc_error_t *err)
{
    const jc_option_t *o = &cfg->prog->options[i];
    char name[256];
    *v = NULL;
    if (o->env == NULL)
        return JC_OK;
    snprintf(name, sizeof name, "%s_FILE", o->env);
    const char *direct = getenv(o->env), *file = getenv(name);
    bool has_direct = direct != NULL && *direct != '\0', has_file = file != NULL && *file;
    if (has_direct && has_file)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "both $%s and $%s are set: use one",
                            o->env, name);
    if (has_direct) {
        *v = direct;
        *src = SRC_ENV;
        return JC_OK;
    }
    if (!has_file)
        return JC_OK;
    char what[300];
    snprintf(what, sizeof what, "$%s", name);
    *src = SRC_ENV_FILE;
    return read_value_file(cfg, file, what, v, err);
}

static jc_status_t resolve_options(jc_config_t *cfg, jc_error_t *err)
{
    for (size_t i = 0; i < cfg->prog->noptions; i++) {
        const jc_option_t *o = &cfg->prog->options[i];
        const char *env = NULL;
        enum source env_src = SRC_ENV;
        if (cfg->flag_value[i] == NULL) {
            jc_status_t st = env_value(cfg, i, &env, &env_src, err);
            if (st != JC_OK)
                return st;
        }
        if (cfg->flag_value[i] != NULL) {
            cfg->value[i] = cfg->flag_value[i];
            cfg->source[i] = SRC_FLAG;
        } else if (env != NULL) {
            cfg->value[i] = env;
            cfg->source[i] = env_src;
        } else if (cfg->file_value[i] != NULL) {
            cfg->value[i] = cfg->file_value[i];
            cfg->source[i] = SRC_FILE;
        } else {
            cfg->value[i] = o->def;
            cfg->source[i] = o->def ? SRC_DEFAULT : SRC_NONE;
        }
    }
    return JC_OK;
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

/* librdkafka reads the private key ssl.key.location names: it must be its owner's only. */
static jc_status_t check_private_key(const jc_config_t *cfg, jc_error_t *err)
{
    const char *key = NULL;
    for (const char *const *p = jc_config_client_properties(cfg); p[0] != NULL; p += 2)
        if (strcmp(p[0], "ssl.key.location") == 0)
            key = p[1];
    return key != NULL && *key != '\0' ? jc_secret_file_check(key, err) : JC_OK;
}

jc_status_t jc_config_load(jc_config_t *cfg, int argc, char **argv, jc_error_t *err)
{
    if (cfg == NULL || argc < 1 || argv == NULL)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "jc_config_load: no arguments");
    jc_status_t st = parse_flags(cfg, argc, argv, err);
    if (st != JC_OK || cfg->help)
        return st;
    if ((st = refuse_command_line_secrets(cfg, err)) != JC_OK ||
        (st = load_stack_env(cfg, err)) != JC_OK || (st = read_config_file(cfg, err)) != JC_OK ||
        (st = resolve_options(cfg, err)) != JC_OK || (st = build_properties(cfg, err)) != JC_OK ||
        (st = check_kafka_properties(cfg, err)) != JC_OK)
        return st;
    return check_private_key(cfg, err);
}

const char *jc_config_file(const jc_config_t *cfg)
{
    return cfg->loaded_config;
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
    int n = snprintf(buf, len, "%s%s", o->flag ? "--" : "", o->flag ? o->flag : o->key);
    if (n < 0 || (size_t)n >= len)
        return; /* a message: cut short */
    char *rest = buf + n;
    size_t room = len - (size_t)n;
    switch (cfg->source[i]) {
    case SRC_FLAG: snprintf(rest, room, " (from the command line)"); break;
    case SRC_ENV: snprintf(rest, room, " (from $%s)", o->env); break;
    case SRC_ENV_FILE: snprintf(rest, room, " (from the file $%s_FILE names)", o->env); break;
    case SRC_FILE: snprintf(rest, room, " (from the configuration file)"); break;
    case SRC_DEFAULT: snprintf(rest, room, " (the default)"); break;
    case SRC_NONE: break;
    }
}

/* The option's value as a message may show it: a secret's never, passwords masked. */
static const char *shown_value(const jc_config_t *cfg, int i, char *buf, size_t len)
{
    if (jc_cli_secret_name(cfg->prog->options[i].key))
        return "***";
    return jc_cli_mask(cfg->value[i], buf, len);
}

/* The value of the option with key into *v, its description (for messages) into name and the
 * value as a message may show it into shown; an unknown key or an unset value is an error
 * naming the option. */
static jc_status_t required_value(const jc_config_t *cfg, const char *key, const char **v,
                                  char *name, size_t len, char *shown, size_t shown_len,
                                  jc_error_t *err)
{
    int i = option_index(cfg, key);
    if (i < 0)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "no option '%s'", key);
    describe_option(cfg, i, name, len);
    *v = cfg->value[i];
    const char *sv = *v != NULL ? shown_value(cfg, i, shown, shown_len) : "";
    if (sv != shown)
        snprintf(shown, shown_len, "%s", sv);
    if (*v == NULL)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "%s is required", name);
    return JC_OK;
}

jc_status_t jc_config_get_long(const jc_config_t *cfg, const char *key, long min, long max,
                               long *out, jc_error_t *err)
{
    char name[256], shown[256];
    const char *v;
    if (required_value(cfg, key, &v, name, sizeof name, shown, sizeof shown, err) != JC_OK)
        return JC_ERR_INVALID_ARG;
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (*v == '\0' || *end != '\0' || errno != 0 || n < min || n > max)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "%s: '%s' is not a whole number in "
                            "%ld..%ld", name, shown, min, max);
    *out = n;
    return JC_OK;
}

jc_status_t jc_config_get_double(const jc_config_t *cfg, const char *key, double min,
                                 double max, double *out, jc_error_t *err)
{
    char name[256], shown[256];
    const char *v;
    if (required_value(cfg, key, &v, name, sizeof name, shown, sizeof shown, err) != JC_OK)
        return JC_ERR_INVALID_ARG;
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (*v == '\0' || *end != '\0' || errno != 0 || !isfinite(x) || x < min || x > max)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "%s: '%s' is not a number in %g..%g", name,
                            shown, min, max);
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
    char name[256], shown[256];
    describe_option(cfg, i, name, sizeof name);
    return jc_error_set(err, JC_ERR_INVALID_ARG, "%s: '%s' is not true or false", name,
                        shown_value(cfg, i, shown, sizeof shown));
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
