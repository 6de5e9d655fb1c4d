/*
 * test_access.c: the pieces of jiceng-access (tools/access/access.h) that need no service:
 * county identities, the files' layout, modes and atomic writes, the config file it writes
 * (loaded back through the programs' own configuration mechanism), signing key ids, the roles'
 * ACL sets (lib/acls.c: who may read and write which topic, the two scopes), and certificates issued through openssl by a CA made with deploy/local/pki, with
 * every openssl command line recorded by a shim on PATH and searched for the CA's passphrase.
 */
#include "testenv.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access.h"
#include "cli.h"
#include "jiceng/admin.h"
#include "jiceng/aggregator.h"
#include "jiceng/health.h"
#include "jiceng/jtime.h"
#include "jiceng/sign.h"
#include "jiceng/signkeys.h"

static char scratch[64];

static int make_scratch(void **state)
{
    (void)state;
    snprintf(scratch, sizeof scratch, "/tmp/jc_access_XXXXXX");
    assert_non_null(mkdtemp(scratch));
    return 0;
}

static int remove_scratch(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static mode_t mode_of(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_mode & 07777;
}

static void county_identities(void **state)
{
    (void)state;
    jc_access_county_t c;
    jc_error_t err;
    assert_int_equal(jc_access_county_parse("520102", &c, &err), JC_OK);
    assert_int_equal(c.code, 520102);
    assert_string_equal(c.name, "county-520102");
    assert_string_equal(c.principal, "User:county-520102");
    assert_string_equal(c.subject, "CN=county-520102,OU=county,O=jiceng");
    struct {
        const char *arg, *needle;
    } bad[] = {
        {"522423", "old code of county 520581"}, /* 黔西: 522423 -> 520522 -> 520581 */
        {"520100", "prefecture"},
        {"52010", "not a six-digit county code"},
        {"5201020", "not a six-digit county code"},
        {"52010x", "not a six-digit county code"},
        {"", "not a six-digit county code"},
        {"999999", "999999"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(jc_access_county_parse(bad[i].arg, &c, &err), JC_ERR_INVALID_ARG);
        if (strstr(err.message, bad[i].needle) == NULL)
            fail_msg("'%s': '%s' lacks '%s'", bad[i].arg, err.message, bad[i].needle);
    }
}

static void layout_and_private_files(void **state)
{
    (void)state;
    jc_access_county_t c;
    jc_access_paths_t p;
    jc_error_t err;
    assert_int_equal(jc_access_county_parse("520103", &c, NULL), JC_OK);
    char out[128];
    snprintf(out, sizeof out, "%s/clients", scratch);
    assert_int_equal(jc_access_paths(out, &c, &p, &err), JC_OK);
    char want[256];
    snprintf(want, sizeof want, "%s/county-520103/county-520103.conf", out);
    assert_string_equal(p.conf, want);
    snprintf(want, sizeof want, "%s/county-520103/signing.key.new", out);
    assert_string_equal(p.signing_key_new, want);

    /* directories: made 0700; an existing one others may enter is refused */
    mode_t old = umask(022);
    assert_int_equal(jc_access_private_dir(out, &err), JC_OK);
    assert_int_equal(jc_access_private_dir(p.dir, &err), JC_OK);
    assert_int_equal(mode_of(p.dir), 0700);
    assert_int_equal(chmod(p.dir, 0755), 0);
    assert_int_equal(jc_access_private_dir(p.dir, &err), JC_ERR_INSECURE_FILE);
    assert_non_null(strstr(err.message, "permissions 0755"));
    assert_int_equal(chmod(p.dir, 0700), 0);

    /* files: 0600 whatever the umask; the same bytes again change nothing */
    bool changed = false;
    assert_int_equal(jc_access_write_private(p.ca, "abc\n", 4, &changed, &err), JC_OK);
    assert_true(changed);
    assert_int_equal(mode_of(p.ca), 0600);
    assert_int_equal(jc_access_write_private(p.ca, "abc\n", 4, &changed, &err), JC_OK);
    assert_false(changed);
    assert_int_equal(chmod(p.ca, 0644), 0);
    assert_int_equal(jc_access_write_private(p.ca, "abcd\n", 5, &changed, &err), JC_OK);
    assert_true(changed);
    assert_int_equal(mode_of(p.ca), 0600); /* a replacement is private again */
    assert_int_equal(jc_access_copy_private(p.ca, p.cert, &changed, &err), JC_OK);
    assert_true(changed);
    assert_int_equal(jc_access_copy_private("/nonexistent", p.cert, &changed, &err), JC_ERR_IO);
    umask(old);
    /* nothing but the two files: no temporary file is left behind */
    char cmd[JC_ACCESS_PATH_MAX + 64];
    snprintf(cmd, sizeof cmd, "test $(ls -A '%s' | wc -l) -eq 2", p.dir);
    assert_int_equal(system(cmd), 0);
}

/* The config file jiceng-access writes is what the programs read: load it with the shared
 * configuration mechanism, as jiceng-produce would. */
static const jc_option_t produce_like[] = {
    {"kafka.bootstrap.servers", "bootstrap", NULL, NULL, "LIST", "brokers"},
    {"jiceng.signing.keys", "signing-keys", NULL, NULL, "PATH", "keys"},
};
static const jc_program_t produce_program = {
    .name = "produce-like", .options = produce_like, .noptions = 2,
};

static void config_file_is_read_by_the_programs(void **state)
{
    (void)state;
    jc_access_county_t c;
    jc_access_paths_t p;
    jc_error_t err;
    assert_int_equal(jc_access_county_parse("520102", &c, NULL), JC_OK);
    assert_int_equal(jc_access_paths(scratch, &c, &p, &err), JC_OK);
    assert_int_equal(jc_access_private_dir(p.dir, &err), JC_OK);
    jc_buf_t text = {0};
    assert_int_equal(jc_access_conf_text(&p, &c, "127.0.0.1:9093", &text, &err), JC_OK);
    assert_int_equal(jc_access_write_private(p.conf, text.data, text.len, NULL, &err), JC_OK);
    jc_buf_free(&text);
    assert_int_equal(jc_access_conf_text(&p, &c, "", &text, &err), JC_ERR_INVALID_ARG);
    jc_buf_free(&text);
    /* the private key it names must be private for the configuration to load */
    assert_int_equal(jc_access_write_private(p.key, "k", 1, NULL, &err), JC_OK);

    char *argv[] = {"produce-like", "--config", p.conf, NULL};
    jc_config_t *cfg = jc_config_new(&produce_program, &err);
    assert_non_null(cfg);
    unsetenv("JICENG_ENV_FILE");
    unsetenv("JICENG_STATE");
    if (jc_config_load(cfg, 3, argv, &err) != JC_OK)
        fail_msg("%s", err.message);
    assert_string_equal(jc_config_get(cfg, "kafka.bootstrap.servers"), "127.0.0.1:9093");
    assert_string_equal(jc_config_get(cfg, "jiceng.signing.keys"), p.signing_key);
    const char *want[] = {"security.protocol", "ssl", "ssl.ca.location", p.ca,
                          "ssl.certificate.location", p.cert, "ssl.key.location", p.key};
    const char *const *props = jc_config_client_properties(cfg);
    for (size_t w = 0; w < sizeof want / sizeof want[0]; w += 2) {
        const char *got = NULL;
        for (const char *const *q = props; q[0] != NULL; q += 2)
            if (strcmp(q[0], want[w]) == 0)
                got = q[1];
        assert_non_null(got);
        assert_string_equal(got, want[w + 1]);
    }
    jc_config_free(cfg);
}

static void signing_key_ids(void **state)
{
    (void)state;
    char id[JC_SIGN_KEY_ID_MAX + 1];
    jc_signkey_id(520102, 1796080501000, id, sizeof id); /* 2026-11-30T23:15:01Z */
    assert_string_equal(id, "520102-20261130231501");
    assert_true(jc_sign_key_id_valid(id, strlen(id)));
}

/* The role set of role for User:x on prefix; *n bindings. */
static size_t role_set(jc_acl_role_t role, const char *prefix, unsigned scopes,
                       jc_acl_t out[JC_ACL_SET_MAX])
{
    jc_error_t err;
    size_t n = 0;
    if (jc_acl_role_set(role, "User:x", prefix, scopes, out, &n, &err) != JC_OK)
        fail_msg("role %s: %s", jc_acl_role_name(role), err.message);
    return n;
}

/* The roles whose set allows op on a resource whose name ends with base. */
static unsigned roles_allowed(jc_acl_resource_t resource, const char *base, jc_acl_operation_t op)
{
    unsigned roles = 0;
    for (int r = 0; r < JC_ACL_ROLE_COUNT; r++) {
        jc_acl_t set[JC_ACL_SET_MAX];
        size_t n = role_set((jc_acl_role_t)r, "t1.", JC_ACL_SCOPE_ALL, set);
        for (size_t i = 0; i < n; i++) {
            size_t ln = strlen(set[i].name), lb = strlen(base);
            if (set[i].resource == resource && set[i].operation == op && ln >= lb &&
                strcmp(set[i].name + ln - lb, base) == 0)
                roles |= 1u << r;
        }
    }
    return roles;
}

#define ROLE(r) (1u << (r))

static void county_acl_set(void **state)
{
    (void)state;
    jc_acl_t acls[JC_ACL_SET_MAX];
    jc_error_t err;
    size_t n = 0;
    assert_int_equal(jc_acl_role_set(JC_ROLE_COUNTY, "User:county-520102", "t1.",
                                     JC_ACL_SCOPE_ALL, acls, &n, &err), JC_OK);
    assert_int_equal(n, 9);
    int writes = 0, describes = 0, idempotent = 0;
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(acls[i].principal, "User:county-520102");
        assert_false(acls[i].deny);
        assert_false(acls[i].prefixed);
        if (acls[i].resource == JC_ACL_TOPIC) {
            assert_non_null(strstr(acls[i].name, "t1.jiceng."));
            assert_null(strstr(acls[i].name, "dead-letter"));
            writes += acls[i].operation == JC_ACL_WRITE;
            describes += acls[i].operation == JC_ACL_DESCRIBE;
        } else {
            assert_int_equal(acls[i].resource, JC_ACL_CLUSTER);
            assert_string_equal(acls[i].name, "kafka-cluster");
            idempotent += acls[i].operation == JC_ACL_IDEMPOTENT_WRITE;
        }
    }
    assert_int_equal(writes, 4);
    assert_int_equal(describes, 4);
    assert_int_equal(idempotent, 1);
    assert_int_equal(jc_acl_role_set(JC_ROLE_COUNTY, "county-520102", "t1.", JC_ACL_SCOPE_ALL,
                                     acls, &n, &err), JC_ERR_INVALID_ARG);
    assert_string_equal(jc_acl_operation_name(JC_ACL_IDEMPOTENT_WRITE), "IDEMPOTENT_WRITE");
    assert_string_equal(jc_acl_resource_name(JC_ACL_CLUSTER), "CLUSTER");
}

/* Who may do what, as issue 10 and the steward's re-drive need it. */
static void roles_allow_only_what_they_need(void **state)
{
    (void)state;
    const char *visits = jc_event_topic(JC_VISIT);
    assert_int_equal(roles_allowed(JC_ACL_TOPIC, JC_DEAD_LETTER_TOPIC, JC_ACL_READ),
                     ROLE(JC_ROLE_STEWARD));
    assert_int_equal(roles_allowed(JC_ACL_TOPIC, JC_DEAD_LETTER_TOPIC, JC_ACL_WRITE),
                     ROLE(JC_ROLE_AGGREGATOR));
    assert_int_equal(roles_allowed(JC_ACL_TOPIC, visits, JC_ACL_READ), ROLE(JC_ROLE_AGGREGATOR));
    assert_int_equal(roles_allowed(JC_ACL_TOPIC, visits, JC_ACL_WRITE),
                     ROLE(JC_ROLE_COUNTY) | ROLE(JC_ROLE_STEWARD));
    assert_int_equal(roles_allowed(JC_ACL_GROUP, JC_STEWARD_GROUP, JC_ACL_READ),
                     ROLE(JC_ROLE_STEWARD));
    assert_int_equal(roles_allowed(JC_ACL_GROUP, JC_AGGREGATOR_GROUP, JC_ACL_READ),
                     ROLE(JC_ROLE_AGGREGATOR));
    for (int op = 0; op < JC_ACL_OPERATION_OTHER; op++) /* nobody creates a pipeline topic */
        if (op == JC_ACL_CREATE || op == JC_ACL_ALL || op == JC_ACL_DELETE || op == JC_ACL_ALTER)
            assert_int_equal(roles_allowed(JC_ACL_TOPIC, visits, (jc_acl_operation_t)op), 0);
    assert_int_equal(roles_allowed(JC_ACL_TOPIC, JC_HEALTH_TOPIC, JC_ACL_CREATE),
                     ROLE(JC_ROLE_HEALTH));
}

/* The topic scope carries the prefix, the shared scope does not; together they are the set. */
static void role_scopes(void **state)
{
    (void)state;
    for (int r = 0; r < JC_ACL_ROLE_COUNT; r++) {
        jc_acl_role_t role = (jc_acl_role_t)r;
        jc_acl_t all[JC_ACL_SET_MAX], topics[JC_ACL_SET_MAX], shared[JC_ACL_SET_MAX],
            shared2[JC_ACL_SET_MAX];
        size_t na = role_set(role, "t1.", JC_ACL_SCOPE_ALL, all);
        size_t nt = role_set(role, "t1.", JC_ACL_SCOPE_TOPICS, topics);
        size_t ns = role_set(role, "t1.", JC_ACL_SCOPE_SHARED, shared);
        assert_int_equal(na, nt + ns);
        assert_true(na > 0);
        assert_int_equal(nt > 0, jc_acl_role_has_topic_scope(role));
        for (size_t i = 0; i < nt; i++) {
            assert_int_equal(strncmp(topics[i].name, "t1.jiceng.", 10), 0);
            assert_true(jc_acl_role_topic_binding(role, &topics[i]));
        }
        assert_int_equal(role_set(role, "", JC_ACL_SCOPE_SHARED, shared2), ns);
        for (size_t i = 0; i < ns; i++) {
            assert_null(strstr(shared[i].name, "t1."));
            assert_string_equal(shared[i].name, shared2[i].name);
            assert_false(jc_acl_role_topic_binding(role, &shared[i]));
        }
        jc_acl_role_t back;
        jc_error_t err;
        assert_int_equal(jc_acl_role_parse(jc_acl_role_name(role), &back, &err), JC_OK);
        assert_int_equal(back, role);
    }
    jc_acl_t b = {.principal = "User:x", .resource = JC_ACL_TOPIC, .name = "p.jiceng.visits",
                  .operation = JC_ACL_WRITE};
    assert_true(jc_acl_role_topic_binding(JC_ROLE_COUNTY, &b));
    assert_false(jc_acl_role_topic_binding(JC_ROLE_AGGREGATOR, &b)); /* it reads, not writes */
    snprintf(b.name, sizeof b.name, "p.jiceng.visits-other");
    assert_false(jc_acl_role_topic_binding(JC_ROLE_COUNTY, &b));
    jc_acl_role_t r;
    jc_error_t err;
    assert_int_equal(jc_acl_role_parse("admin", &r, &err), JC_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "unknown role 'admin'"));
}

/* ---- certificates: a CA made by deploy/local/pki, openssl's command lines recorded ---- */

static void shell(const char *fmt, const char *a, const char *b)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, fmt, a, b);
    if (system(cmd) != 0)
        fail_msg("failed: %s", cmd);
}

/* PATH gets a directory whose `openssl` records its arguments in LOG, then runs the real one. */
static void openssl_shim(const char *dir, const char *log)
{
    char path[256], text[512];
    snprintf(path, sizeof path, "%s/openssl", dir);
    snprintf(text, sizeof text, "#!/bin/sh\nprintf '%%s\\n' \"$*\" >> '%s'\nexec %s \"$@\"\n", log,
             "/usr/bin/openssl");
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, 0700), 0);
    char newpath[4096];
    snprintf(newpath, sizeof newpath, "%s:%s", dir, getenv("PATH"));
    setenv("PATH", newpath, 1);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *buf = calloc(1, 65536);
    assert_non_null(buf);
    size_t n = fread(buf, 1, 65535, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void certificates_from_the_ca(void **state)
{
    (void)state;
    char ca[128], other_ca[128], shim[128], log[160], dir[128], key[160], crt[160];
    snprintf(ca, sizeof ca, "%s/pki", scratch);
    snprintf(other_ca, sizeof other_ca, "%s/pki-other", scratch);
    snprintf(shim, sizeof shim, "%s/bin", scratch);
    snprintf(log, sizeof log, "%s/openssl-argv.log", scratch);
    snprintf(dir, sizeof dir, "%s/out", scratch);
    snprintf(key, sizeof key, "%s/tls.key", dir);
    snprintf(crt, sizeof crt, "%s/tls.crt", dir);
    shell("'" JC_TEST_SOURCE_DIR "/deploy/local/pki' init '%s' 2>/dev/null%s", ca, "");
    shell("'" JC_TEST_SOURCE_DIR "/deploy/local/pki' init '%s' 2>/dev/null%s", other_ca, "");
    shell("mkdir -m 700 '%s' '%s'", shim, dir);
    const char *old_path = getenv("PATH");
    char saved_path[4096];
    snprintf(saved_path, sizeof saved_path, "%s", old_path ? old_path : "/usr/bin:/bin");
    openssl_shim(shim, log);

    jc_error_t err;
    jc_access_cert_t c;
    const char *subject = "CN=county-520102,OU=county,O=jiceng";
    assert_int_equal(jc_access_cert_check(ca, crt, key, subject, &c, &err), JC_OK);
    assert_false(c.present);
    assert_int_equal(jc_access_issue_cert(ca, subject, 30, key, crt, &err), JC_OK);
    assert_int_equal(mode_of(key), 0600);
    assert_int_equal(mode_of(crt), 0600);
    assert_int_equal(jc_access_cert_check(ca, crt, key, subject, &c, &err), JC_OK);
    if (!c.usable)
        fail_msg("not usable: %s", c.why);
    int64_t days = (c.not_after_ms - jc_now_ms()) / 86400000;
    assert_true(days >= 29 && days <= 30);

    /* another subject, another CA, another key: each makes it unusable, saying why */
    assert_int_equal(jc_access_cert_check(ca, crt, key, "CN=county-520103,OU=county,O=jiceng",
                                          &c, &err), JC_OK);
    assert_false(c.usable);
    assert_non_null(strstr(c.why, "subject"));
    assert_int_equal(jc_access_cert_check(other_ca, crt, key, subject, &c, &err), JC_OK);
    assert_false(c.usable);
    assert_non_null(strstr(c.why, "does not verify"));
    char key2[170], crt2[170];
    snprintf(key2, sizeof key2, "%s/b.key", dir);
    snprintf(crt2, sizeof crt2, "%s/b.crt", dir);
    assert_int_equal(jc_access_issue_cert(ca, subject, 30, key2, crt2, &err), JC_OK);
    assert_int_equal(jc_access_cert_check(ca, crt, key2, subject, &c, &err), JC_OK);
    assert_false(c.usable);
    assert_non_null(strstr(c.why, "private key"));

    /* the CA's passphrase never reached a command line; it was read from its file */
    char pass_path[200];
    snprintf(pass_path, sizeof pass_path, "%s/private/ca.pass", ca);
    char *pass = slurp(pass_path), *argv_log = slurp(log);
    pass[strcspn(pass, "\n")] = '\0';
    assert_true(strlen(pass) >= 32);
    assert_null(strstr(argv_log, pass));
    assert_non_null(strstr(argv_log, "-passin file:"));
    assert_null(strstr(argv_log, "pass:"));
    assert_null(strstr(argv_log, "PRIVATE KEY"));
    free(pass);
    free(argv_log);

    /* a CA key others may read is refused before openssl runs */
    char ca_key[200];
    snprintf(ca_key, sizeof ca_key, "%s/private/ca.key", ca);
    assert_int_equal(chmod(ca_key, 0640), 0);
    assert_int_equal(jc_access_issue_cert(ca, subject, 30, key, crt, &err), JC_ERR_INSECURE_FILE);
    assert_int_equal(chmod(ca_key, 0600), 0);
    /* openssl's own failure is reported with its message: a wrong passphrase */
    snprintf(pass_path, sizeof pass_path, "%s/private/ca.pass", other_ca);
    FILE *f = fopen(pass_path, "w");
    assert_non_null(f);
    fputs("not the passphrase\n", f);
    fclose(f);
    assert_int_equal(jc_access_issue_cert(other_ca, subject, 30, key, crt, &err), JC_ERR_IO);
    assert_non_null(strstr(err.message, "openssl failed signing the certificate"));
    assert_int_equal(jc_access_cert_check(ca, crt, key, subject, &c, &err), JC_OK);
    assert_true(c.usable); /* the certificate in place is untouched */
    /* and no scratch directory is left behind */
    char cmd[300];
    snprintf(cmd, sizeof cmd, "test -z \"$(ls -A '%s' | grep issue)\"", dir);
    assert_int_equal(system(cmd), 0);
    setenv("PATH", saved_path, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(county_identities),
        cmocka_unit_test_setup_teardown(layout_and_private_files, make_scratch, remove_scratch),
        cmocka_unit_test_setup_teardown(config_file_is_read_by_the_programs, make_scratch,
                                        remove_scratch),
        cmocka_unit_test(signing_key_ids),
        cmocka_unit_test(county_acl_set),
        cmocka_unit_test(roles_allow_only_what_they_need),
        cmocka_unit_test(role_scopes),
        cmocka_unit_test_setup_teardown(certificates_from_the_ca, make_scratch, remove_scratch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
