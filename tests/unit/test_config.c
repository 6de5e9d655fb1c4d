/*
 * test_config.c: the programs' shared configuration mechanism (cli/cli.h): precedence default <
 * config file < stack env file < environment < flag, librdkafka pass-through from the file and
 * from -X in order, and every usage error (unknown flag, missing argument, unknown Kafka
 * property, unknown config-file key) by status and by what the message names; the program's
 * own config-file variable (which the stack's env file may set); secrets: files that hold one
 * must be mode 0600, X_FILE and KEY_file read values from files, the command line takes none,
 * messages mask them. No service is contacted: Kafka properties are only checked against
 * librdkafka's table.
 */
#include "testenv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static const jc_option_t options[] = {
    {"kafka.bootstrap.servers", "bootstrap", "JC_TEST_BOOTSTRAP", NULL, "LIST", "brokers"},
    {"batch.max-events", "batch-max-events", "JC_TEST_BATCH", "1000", "N", "events per batch"},
    {"dry-run", "dry-run", NULL, "false", NULL, "send nothing"},
    {"jiceng.topic.prefix", "topic-prefix", NULL, "", "PREFIX", "topic prefix"},
    {"file.only", NULL, NULL, NULL, "X", "a key without a flag"},
    {"pg.conninfo", "conninfo", "JC_TEST_CONNINFO", NULL, "STR", "a conninfo"},
    {"api.token", "api-token", "JC_TEST_TOKEN", NULL, "T", "a secret by its name"},
};

static const jc_program_t program = {
    .name = "jc-test", .synopsis = "[OPTIONS] FILE...", .about = "A test program.",
    .epilogue = "exit status: 0", .options = options,
    .noptions = sizeof options / sizeof options[0], .config_env = "JC_TEST_CONFIG",
};

static char config_path[64], stack_path[64], other_path[64];

static void write_file(char *path, size_t len, const char *text)
{
    snprintf(path, len, "/tmp/jc_config_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static int clean_env(void **state)
{
    (void)state;
    const char *vars[] = {"JICENG_CONFIG", "JICENG_ENV_FILE", "JICENG_STATE",
                          "JC_TEST_BOOTSTRAP", "JC_TEST_BATCH", "JC_TEST_CONFIG",
                          "JC_TEST_CONNINFO", "JC_TEST_CONNINFO_FILE", "JC_TEST_TOKEN",
                          "JC_TEST_TOKEN_FILE", "JC_TEST_FROM_STACK"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        unsetenv(vars[i]);
    char *paths[] = {config_path, stack_path, other_path};
    for (size_t i = 0; i < 3; i++) {
        if (paths[i][0])
            unlink(paths[i]);
        paths[i][0] = '\0';
    }
    return 0;
}

/* Load argv (NULL-terminated) into a fresh configuration; the status in *st. */
static jc_config_t *load(jc_status_t *st, jc_error_t *err, char **argv)
{
    int argc = 0;
    while (argv[argc] != NULL)
        argc++;
    jc_config_t *cfg = jc_config_new(&program, err);
    assert_non_null(cfg);
    *st = jc_config_load(cfg, argc, argv, err);
    return cfg;
}

static jc_config_t *load_ok(char **argv)
{
    jc_status_t st;
    jc_error_t err;
    jc_config_t *cfg = load(&st, &err, argv);
    if (st != JC_OK)
        fail_msg("jc_config_load: %s", err.message);
    return cfg;
}

static void defaults_apply_when_nothing_is_given(void **state)
{
    (void)state;
    char *argv[] = {"jc-test", NULL};
    jc_config_t *cfg = load_ok(argv);
    assert_string_equal(jc_config_get(cfg, "batch.max-events"), "1000");
    assert_null(jc_config_get(cfg, "kafka.bootstrap.servers"));
    assert_null(jc_config_get(cfg, "no.such.key"));
    bool dry = true;
    assert_int_equal(jc_config_get_bool(cfg, "dry-run", &dry, NULL), JC_OK);
    assert_false(dry);
    jc_config_free(cfg);
}

static void file_then_env_then_flag(void **state)
{
    (void)state;
    write_file(config_path, sizeof config_path, "# jiceng\nbatch.max-events = 5\nfile.only=yes\n");
    char *argv[] = {"jc-test", "--config", config_path, NULL};
    jc_config_t *cfg = load_ok(argv);
    assert_string_equal(jc_config_get(cfg, "batch.max-events"), "5"); /* file over default */
    assert_string_equal(jc_config_get(cfg, "file.only"), "yes");
    jc_config_free(cfg);

    setenv("JC_TEST_BATCH", "7", 1);
    cfg = load_ok(argv);
    assert_string_equal(jc_config_get(cfg, "batch.max-events"), "7"); /* env over file */
    jc_config_free(cfg);

    char *argv2[] = {"jc-test", "--config", config_path, "--batch-max-events", "9", NULL};
    cfg = load_ok(argv2);
    assert_string_equal(jc_config_get(cfg, "batch.max-events"), "9"); /* flag over env */
    long n = 0;
    assert_int_equal(jc_config_get_long(cfg, "batch.max-events", 1, 100, &n, NULL), JC_OK);
    assert_int_equal(n, 9);
    jc_config_free(cfg);

    char *argv3[] = {"jc-test", "--batch-max-events=11", NULL};
    cfg = load_ok(argv3);
    assert_string_equal(jc_config_get(cfg, "batch.max-events"), "11");
    jc_config_free(cfg);
}

static void config_file_from_environment(void **state)
{
    (void)state;
    write_file(config_path, sizeof config_path, "batch.max-events=3\n");
    setenv("JICENG_CONFIG", config_path, 1);
    char *argv[] = {"jc-test", NULL};
    jc_config_t *cfg = load_ok(argv);
    assert_string_equal(jc_config_get(cfg, "batch.max-events"), "3");
    jc_config_free(cfg);
}

/* The stack's env file counts for the variables it defines, above the config file and below
 * the environment. */
static void stack_env_file_sits_between_file_and_environment(void **state)
{
    (void)state;
    write_file(config_path, sizeof config_path, "kafka.bootstrap.servers=file:1\n");
    write_file(stack_path, sizeof stack_path, "JC_TEST_BOOTSTRAP=stack:1\n");
    setenv("JICENG_ENV_FILE", stack_path, 1);
    char *argv[] = {"jc-test", "--config", config_path, NULL};
    jc_config_t *cfg = load_ok(argv);
    assert_string_equal(jc_config_get(cfg, "kafka.bootstrap.servers"), "stack:1");
    jc_config_free(cfg);

    setenv("JC_TEST_BOOTSTRAP", "env:1", 1);
    cfg = load_ok(argv);
    assert_string_equal(jc_config_get(cfg, "kafka.bootstrap.servers"), "env:1");
    assert_string_equal(getenv("JC_TEST_BOOTSTRAP"), "env:1"); /* not overwritten */
    jc_config_free(cfg);

    unsetenv("JICENG_ENV_FILE");
    unsetenv("JC_TEST_BOOTSTRAP");
    char *argv2[] = {"jc-test", "--config", config_path, "--env-file", stack_path, NULL};
    cfg = load_ok(argv2);
    assert_string_equal(jc_config_get(cfg, "kafka.bootstrap.servers"), "stack:1");
    jc_config_free(cfg);
}

/* The value of the last pair called name. */
static const char *last_prop(const char *const *p, const char *name)
{
    const char *v = NULL;
    for (; p[0] != NULL; p += 2)
        if (strcmp(p[0], name) == 0)
            v = p[1];
    return v;
}

static void kafka_properties_pass_through_in_order(void **state)
{
    (void)state;
    write_file(config_path, sizeof config_path,
               "kafka.linger.ms=7\nkafka.compression.codec=zstd\nkafka.bootstrap.servers=f:1\n");
    char *argv[] = {"jc-test", "--config", config_path, "-X", "linger.ms=9",
                    "--kafka-property", "acks=1", "--topic-prefix", "t.", "-Xclient.id=x=y", NULL};
    jc_config_t *cfg = load_ok(argv);
    const char *const *p = jc_config_client_properties(cfg);
    /* table options first (prefix "kafka." removed, "jiceng." kept), then file, then flags */
    assert_string_equal(p[0], "bootstrap.servers");
    assert_string_equal(p[1], "f:1");
    assert_string_equal(p[2], "jiceng.topic.prefix");
    assert_string_equal(p[3], "t.");
    assert_string_equal(p[4], "linger.ms");
    assert_string_equal(p[5], "7");
    assert_string_equal(last_prop(p, "linger.ms"), "9");
    assert_string_equal(last_prop(p, "compression.codec"), "zstd");
    assert_string_equal(last_prop(p, "acks"), "1");
    assert_string_equal(last_prop(p, "client.id"), "x=y");
    assert_null(last_prop(p, "batch.max-events"));
    jc_config_free(cfg);
}

static void expect_usage_error(char **argv, jc_status_t want, const char *needle)
{
    jc_status_t st;
    jc_error_t err;
    jc_config_t *cfg = load(&st, &err, argv);
    assert_int_equal(st, want);
    if (strstr(err.message, needle) == NULL)
        fail_msg("message '%s' does not name '%s'", err.message, needle);
    jc_config_free(cfg);
}

/* The program's own variable names its configuration file: after --config, before
 * $JICENG_CONFIG, and it may come from the stack's env file. */
static void program_config_variable(void **state)
{
    (void)state;
    write_file(config_path, sizeof config_path, "batch.max-events=21\n");
    write_file(other_path, sizeof other_path, "batch.max-events=22\n");
    setenv("JICENG_CONFIG", other_path, 1);
    char *argv[] = {"jc-test", NULL};
    jc_config_t *cfg = load_ok(argv);
    assert_string_equal(jc_config_get(cfg, "batch.max-events"), "22"); /* JICENG_CONFIG */
    jc_config_free(cfg);
    setenv("JC_TEST_CONFIG", config_path, 1);
    cfg = load_ok(argv);
    assert_string_equal(jc_config_get(cfg, "batch.max-events"), "21"); /* program's first */
    assert_string_equal(jc_config_file(cfg), config_path);
    jc_config_free(cfg);
    char *argv2[] = {"jc-test", "--config", other_path, NULL};
    cfg = load_ok(argv2);
    assert_string_equal(jc_config_get(cfg, "batch.max-events"), "22"); /* --config first */
    jc_config_free(cfg);

    /* from the stack's env file, which is loaded before the file is chosen */
    unsetenv("JC_TEST_CONFIG");
    unsetenv("JICENG_CONFIG");
    char text[128];
    snprintf(text, sizeof text, "JC_TEST_CONFIG=%s\n", config_path);
    write_file(stack_path, sizeof stack_path, text);
    setenv("JICENG_ENV_FILE", stack_path, 1);
    cfg = load_ok(argv);
    assert_string_equal(jc_config_get(cfg, "batch.max-events"), "21");
    jc_config_free(cfg);
    setenv("JC_TEST_CONFIG", other_path, 1); /* the environment wins over the env file */
    cfg = load_ok(argv);
    assert_string_equal(jc_config_get(cfg, "batch.max-events"), "22");
    jc_config_free(cfg);

    /* a missing file named by the variable: the message says which variable named it */
    setenv("JC_TEST_CONFIG", "/nonexistent/jc.conf", 1);
    expect_usage_error(argv, JC_ERR_IO, "/nonexistent/jc.conf (from $JC_TEST_CONFIG)");
}

/* A configuration or env file holding a secret must be its owner's only; one holding none may
 * be readable by others. */
static void files_holding_secrets_must_be_private(void **state)
{
    (void)state;
    char *argv[] = {"jc-test", NULL};
    jc_config_t *cfg;
    char want[160];
    const char *secret_bodies[] = {
        "api.token=abc\n",
        "pg.conninfo=host=h user=u password=pw dbname=d\n",
        "pg.conninfo=postgresql://u:pw@h/d\n",
        "kafka.ssl.key.password=pw\n",
    };
    for (size_t i = 0; i < sizeof secret_bodies / sizeof secret_bodies[0]; i++) {
        write_file(config_path, sizeof config_path, secret_bodies[i]);
        setenv("JC_TEST_CONFIG", config_path, 1);
        cfg = load_ok(argv); /* 0600: fine */
        jc_config_free(cfg);
        assert_int_equal(chmod(config_path, 0640), 0);
        snprintf(want, sizeof want, "permissions 0640 for '%s' are too open", config_path);
        expect_usage_error(argv, JC_ERR_INSECURE_FILE, want);
        unlink(config_path);
    }
    write_file(config_path, sizeof config_path,
               "pg.conninfo=postgresql://u@h/d?sslmode=verify-full\nbatch.max-events=4\n");
    assert_int_equal(chmod(config_path, 0644), 0);
    setenv("JC_TEST_CONFIG", config_path, 1);
    cfg = load_ok(argv); /* no secret: others may read it */
    assert_string_equal(jc_config_get(cfg, "batch.max-events"), "4");
    jc_config_free(cfg);

    /* the env file: refused before anything of it reaches the environment */
    unsetenv("JC_TEST_CONFIG");
    write_file(stack_path, sizeof stack_path, "JC_TEST_FROM_STACK=1\nDB_PASSWORD=pw\n");
    assert_int_equal(chmod(stack_path, 0604), 0);
    setenv("JICENG_ENV_FILE", stack_path, 1);
    snprintf(want, sizeof want, "permissions 0604 for '%s' are too open", stack_path);
    expect_usage_error(argv, JC_ERR_INSECURE_FILE, want);
    assert_null(getenv("JC_TEST_FROM_STACK"));
    assert_int_equal(chmod(stack_path, 0600), 0);
    cfg = load_ok(argv);
    assert_string_equal(getenv("JC_TEST_FROM_STACK"), "1");
    jc_config_free(cfg);
}

/* Write text to a new private file at path (a buffer of 64). */
static void write_private(char *path, const char *text, mode_t mode)
{
    write_file(path, 64, text);
    assert_int_equal(chmod(path, mode), 0);
}

/* X_FILE and KEY_file read a value from a private file, one trailing newline dropped. */
static void values_from_files(void **state)
{
    (void)state;
    char *argv[] = {"jc-test", NULL};
    jc_config_t *cfg;
    write_private(other_path, "tok-123\n", 0600);
    setenv("JC_TEST_TOKEN_FILE", other_path, 1);
    cfg = load_ok(argv);
    assert_string_equal(jc_config_get(cfg, "api.token"), "tok-123");
    jc_config_free(cfg);
    setenv("JC_TEST_TOKEN", "direct", 1); /* both: ambiguous */
    expect_usage_error(argv, JC_ERR_INVALID_ARG, "both $JC_TEST_TOKEN and $JC_TEST_TOKEN_FILE");
    unsetenv("JC_TEST_TOKEN");
    char *argv_flag[] = {"jc-test", "--batch-max-events", "3", NULL}; /* a flag still wins */
    cfg = load_ok(argv_flag);
    jc_config_free(cfg);
    assert_int_equal(chmod(other_path, 0644), 0); /* whatever it holds, it must be private */
    expect_usage_error(argv, JC_ERR_INSECURE_FILE, "permissions 0644");
    unsetenv("JC_TEST_TOKEN_FILE");
    unlink(other_path);

    /* the source is named in messages, and the value never */
    write_private(other_path, "lots\r\n", 0600);
    setenv("JC_TEST_BATCH_FILE", other_path, 1);
    cfg = load_ok(argv);
    long n;
    jc_error_t err;
    assert_int_equal(jc_config_get_long(cfg, "batch.max-events", 1, 9, &n, &err),
                     JC_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "from the file $JC_TEST_BATCH_FILE names"));
    assert_non_null(strstr(err.message, "'lots'"));
    jc_config_free(cfg);
    unsetenv("JC_TEST_BATCH_FILE");
    unlink(other_path);

    /* KEY_file in a config file, for table keys and kafka.PROPERTY; the config file itself
     * holds no secret then and may be readable by others */
    write_private(other_path, "s3cret pass\n", 0600);
    char text[256];
    snprintf(text, sizeof text, "api.token_file=%s\nkafka.ssl.key.password_file=%s\n",
             other_path, other_path);
    write_private(config_path, text, 0644);
    char *argv2[] = {"jc-test", "--config", config_path, NULL};
    cfg = load_ok(argv2);
    assert_string_equal(jc_config_get(cfg, "api.token"), "s3cret pass");
    assert_string_equal(last_prop(jc_config_client_properties(cfg), "ssl.key.password"),
                        "s3cret pass");
    jc_config_free(cfg);
    unlink(other_path);
    expect_usage_error(argv2, JC_ERR_IO, ":1: api.token_file");
    write_private(config_path, "nope_file=/x\n", 0600);
    expect_usage_error(argv2, JC_ERR_PARSE, "unknown key 'nope_file'");
}

/* No secret on the command line: refused, naming the option and where to put it instead. */
static void command_line_takes_no_secret(void **state)
{
    (void)state;
    struct {
        char *argv[5];
        const char *needle;
    } cases[] = {
        {{"jc-test", "--conninfo", "postgresql://u:hunter2@h/d", NULL}, "--conninfo: the value "
         "holds a secret"},
        {{"jc-test", "--conninfo", "host=h password=hunter2", NULL}, "$JC_TEST_CONNINFO_FILE"},
        {{"jc-test", "--api-token", "hunter2", NULL}, "api.token_file"},
        {{"jc-test", "-X", "ssl.key.password=hunter2", NULL}, "-X ssl.key.password: the value "
         "holds a secret"},
        {{"jc-test", "-X", "sasl.password=hunter2", NULL}, "kafka.sasl.password_file=PATH"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        jc_status_t st;
        jc_error_t err;
        int argc = 0;
        while (cases[i].argv[argc] != NULL)
            argc++;
        jc_config_t *cfg = jc_config_new(&program, &err);
        st = jc_config_load(cfg, argc, cases[i].argv, &err);
        assert_int_equal(st, JC_ERR_INVALID_ARG);
        if (strstr(err.message, cases[i].needle) == NULL)
            fail_msg("case %zu: '%s' lacks '%s'", i, err.message, cases[i].needle);
        assert_null(strstr(err.message, "hunter2"));
        jc_config_free(cfg);
    }
    char *argv[] = {"jc-test", "--conninfo", "postgresql://u@h/d?sslmode=verify-full", NULL};
    jc_config_t *cfg = load_ok(argv); /* no password: fine */
    jc_config_free(cfg);
}

/* The private key librdkafka reads must be its owner's only. */
static void private_key_file_must_be_private(void **state)
{
    (void)state;
    write_private(other_path, "-----BEGIN PRIVATE KEY-----\n", 0644);
    char prop[128];
    snprintf(prop, sizeof prop, "ssl.key.location=%s", other_path);
    char *argv[] = {"jc-test", "-X", prop, NULL};
    char want[160];
    snprintf(want, sizeof want, "permissions 0644 for '%s'", other_path);
    expect_usage_error(argv, JC_ERR_INSECURE_FILE, want);
    assert_int_equal(chmod(other_path, 0600), 0);
    jc_config_free(load_ok(argv));
}

static void passwords_are_found_and_masked(void **state)
{
    (void)state;
    struct {
        const char *in, *masked;
    } cases[] = {
        {"postgresql://u:pw@h:5432/d?sslmode=verify-full",
         "postgresql://u:***@h:5432/d?sslmode=verify-full"},
        {"postgresql://u@h/d?password=pw&sslmode=require",
         "postgresql://u@h/d?password=***&sslmode=require"},
        {"host=h password=pw user=u", "host=h password=*** user=u"},
        {"host=h password = 'p w\\'x' user=u", "host=h password = *** user=u"},
        {"PASSWORD=pw", "PASSWORD=***"},
        {"postgresql://u:p%40w@h/d", "postgresql://u:***@h/d"},
    };
    char buf[256];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_true(jc_cli_value_has_password(cases[i].in));
        jc_cli_mask(cases[i].in, buf, sizeof buf);
        assert_null(strstr(buf, "pw"));
        assert_null(strstr(buf, "p w"));
        assert_string_equal(buf, cases[i].masked);
    }
    const char *clean[] = {"postgresql://u@h/d?sslmode=verify-full", "host=h user=password",
                           "passwordless=1", "", "127.0.0.1:9092"};
    for (size_t i = 0; i < sizeof clean / sizeof clean[0]; i++) {
        assert_false(jc_cli_value_has_password(clean[i]));
        assert_string_equal(jc_cli_mask(clean[i], buf, sizeof buf), clean[i]);
    }
    assert_true(jc_cli_secret_name("kafka.ssl.key.password"));
    assert_true(jc_cli_secret_name("PGPASSWORD"));
    assert_true(jc_cli_secret_name("ssl.key.pem"));
    assert_true(jc_cli_secret_name("sasl.oauthbearer.client.secret"));
    assert_false(jc_cli_secret_name("jiceng.signing.keys"));
    assert_false(jc_cli_secret_name("ssl.key.location"));
    assert_false(jc_cli_secret_name("pg.conninfo"));
    /* truncation keeps the mask: nothing of the secret leaks into a short buffer */
    char small[20];
    jc_cli_mask("postgresql://user:secretpassword@host/db", small, sizeof small);
    assert_string_equal(small, "postgresql://user:*");
}

static void unknown_kafka_property_is_named(void **state)
{
    (void)state;
    char *argv[] = {"jc-test", "-X", "no.such.property=1", NULL};
    expect_usage_error(argv, JC_ERR_INVALID_ARG, "no.such.property");
    char *argv2[] = {"jc-test", "-X", "linger.ms", NULL};
    expect_usage_error(argv2, JC_ERR_INVALID_ARG, "PROPERTY=VALUE");
    write_file(config_path, sizeof config_path, "kafka.bogus.setting=1\n");
    char *argv3[] = {"jc-test", "--config", config_path, NULL};
    expect_usage_error(argv3, JC_ERR_INVALID_ARG, "bogus.setting");
}

static void flag_errors(void **state)
{
    (void)state;
    char *argv[] = {"jc-test", "--bogus", NULL};
    expect_usage_error(argv, JC_ERR_INVALID_ARG, "unrecognized option '--bogus'");
    char *argv2[] = {"jc-test", "-q", NULL};
    expect_usage_error(argv2, JC_ERR_INVALID_ARG, "unrecognized option '-q'");
    char *argv3[] = {"jc-test", "--batch-max-events", NULL};
    expect_usage_error(argv3, JC_ERR_INVALID_ARG, "requires an argument");
    char *argv4[] = {"jc-test", "--dry-run=yes", NULL};
    expect_usage_error(argv4, JC_ERR_INVALID_ARG, "dry-run");
}

static void config_file_errors_name_file_and_line(void **state)
{
    (void)state;
    write_file(config_path, sizeof config_path, "batch.max-events=1\nnope=2\n");
    char *argv[] = {"jc-test", "--config", config_path, NULL};
    expect_usage_error(argv, JC_ERR_PARSE, ":2: unknown key 'nope'");
    char *argv2[] = {"jc-test", "--config", "/nonexistent/jc.conf", NULL};
    expect_usage_error(argv2, JC_ERR_IO, "/nonexistent/jc.conf");
}

static void values_are_checked_naming_their_source(void **state)
{
    (void)state;
    setenv("JC_TEST_BATCH", "lots", 1);
    char *argv[] = {"jc-test", "--dry-run", NULL};
    jc_config_t *cfg = load_ok(argv);
    long n;
    jc_error_t err;
    assert_int_equal(jc_config_get_long(cfg, "batch.max-events", 1, 100, &n, &err),
                     JC_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "--batch-max-events"));
    assert_non_null(strstr(err.message, "$JC_TEST_BATCH"));
    assert_non_null(strstr(err.message, "'lots'"));
    bool dry = false;
    assert_int_equal(jc_config_get_bool(cfg, "dry-run", &dry, &err), JC_OK);
    assert_true(dry);
    jc_config_free(cfg);
}

static void operands_keep_their_order(void **state)
{
    (void)state;
    char *argv[] = {"jc-test", "a.ndjson", "--dry-run", "-", "b.ndjson", NULL};
    jc_config_t *cfg = load_ok(argv);
    int n;
    char **ops = jc_config_operands(cfg, &n);
    assert_int_equal(n, 3);
    assert_string_equal(ops[0], "a.ndjson");
    assert_string_equal(ops[1], "-");
    assert_string_equal(ops[2], "b.ndjson");
    jc_config_free(cfg);
}

/* A program that talks to no Kafka (jiceng-gen, jiceng-catalog): no -X, no kafka.* file keys,
 * no -X in its --help. */
static const jc_option_t plain_options[] = {
    {"rate", "rate", NULL, "0.5", "R", "a share"},
};
static const jc_program_t plain_program = {
    .name = "jc-plain", .options = plain_options, .noptions = 1, .no_kafka = true,
};

static jc_status_t load_plain(char **argv, jc_error_t *err, jc_config_t **out)
{
    int argc = 0;
    while (argv[argc] != NULL)
        argc++;
    *out = jc_config_new(&plain_program, err);
    assert_non_null(*out);
    return jc_config_load(*out, argc, argv, err);
}

static void programs_without_kafka_take_no_kafka_properties(void **state)
{
    (void)state;
    jc_config_t *cfg;
    jc_error_t err;
    char *argv[] = {"jc-plain", "-X", "linger.ms=5", NULL};
    assert_int_equal(load_plain(argv, &err, &cfg), JC_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "unrecognized option '-X'"));
    jc_config_free(cfg);
    char *argv2[] = {"jc-plain", "--kafka-property", "linger.ms=5", NULL};
    assert_int_equal(load_plain(argv2, &err, &cfg), JC_ERR_INVALID_ARG);
    jc_config_free(cfg);
    write_file(config_path, sizeof config_path, "kafka.linger.ms=5\n");
    char *argv3[] = {"jc-plain", "--config", config_path, NULL};
    assert_int_equal(load_plain(argv3, &err, &cfg), JC_ERR_PARSE);
    assert_non_null(strstr(err.message, "unknown key 'kafka.linger.ms'"));
    jc_config_free(cfg);
    char *argv4[] = {"jc-plain", NULL};
    assert_int_equal(load_plain(argv4, &err, &cfg), JC_OK);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    jc_config_usage(cfg, out);
    fclose(out);
    assert_null(strstr(text, "kafka-property"));
    assert_non_null(strstr(text, "--rate R"));
    free(text);
    jc_config_free(cfg);
}

static void decimals_are_checked_for_range_and_form(void **state)
{
    (void)state;
    jc_config_t *cfg;
    jc_error_t err;
    double x = -1;
    char *argv[] = {"jc-plain", NULL};
    assert_int_equal(load_plain(argv, &err, &cfg), JC_OK);
    assert_int_equal(jc_config_get_double(cfg, "rate", 0, 1, &x, &err), JC_OK);
    assert_true(x == 0.5);
    jc_config_free(cfg);
    const char *bad[] = {"1.5", "-0.1", "0.2x", "", "nan", "inf"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *argv2[] = {"jc-plain", "--rate", (char *)bad[i], NULL};
        assert_int_equal(load_plain(argv2, &err, &cfg), JC_OK);
        assert_int_equal(jc_config_get_double(cfg, "rate", 0, 1, &x, &err), JC_ERR_INVALID_ARG);
        if (strstr(err.message, "--rate (from the command line)") == NULL)
            fail_msg("'%s': message '%s' does not name the flag", bad[i], err.message);
        jc_config_free(cfg);
    }
}

static void help_is_generated_from_the_table(void **state)
{
    (void)state;
    char *argv[] = {"jc-test", "--help", NULL};
    jc_config_t *cfg = load_ok(argv);
    assert_true(jc_config_help_requested(cfg));
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    jc_config_usage(cfg, out);
    fclose(out);
    const char *want[] = {"usage: jc-test [OPTIONS] FILE...", "--batch-max-events N",
                          "env JC_TEST_BATCH", "default 1000", "--bootstrap LIST",
                          "key kafka.bootstrap.servers", "--dry-run ", "file.only=X",
                          "-X, --kafka-property", "--config FILE", "exit status: 0",
                          "env JC_TEST_CONFIG, else JICENG_CONFIG", "X_FILE=PATH"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (strstr(text, want[i]) == NULL)
            fail_msg("--help lacks '%s':\n%s", want[i], text);
    free(text);
    jc_config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(defaults_apply_when_nothing_is_given, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(file_then_env_then_flag, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(config_file_from_environment, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(stack_env_file_sits_between_file_and_environment,
                                        clean_env, clean_env),
        cmocka_unit_test_setup_teardown(kafka_properties_pass_through_in_order, clean_env,
                                        clean_env),
        cmocka_unit_test_setup_teardown(unknown_kafka_property_is_named, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(flag_errors, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(config_file_errors_name_file_and_line, clean_env,
                                        clean_env),
        cmocka_unit_test_setup_teardown(values_are_checked_naming_their_source, clean_env,
                                        clean_env),
        cmocka_unit_test_setup_teardown(operands_keep_their_order, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(help_is_generated_from_the_table, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(programs_without_kafka_take_no_kafka_properties,
                                        clean_env, clean_env),
        cmocka_unit_test_setup_teardown(decimals_are_checked_for_range_and_form, clean_env,
                                        clean_env),
        cmocka_unit_test_setup_teardown(program_config_variable, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(files_holding_secrets_must_be_private, clean_env,
                                        clean_env),
        cmocka_unit_test_setup_teardown(values_from_files, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(command_line_takes_no_secret, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(private_key_file_must_be_private, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(passwords_are_found_and_masked, clean_env, clean_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
