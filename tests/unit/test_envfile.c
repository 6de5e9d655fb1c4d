/*
 * test_envfile.c: KEY=VALUE parsing, precedence of the environment over the file, and how the
 * stack's env file path is found.
 */
#include "testenv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jiceng/envfile.h"

static char *write_temp(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/jc_envfile_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

struct seen {
    int n;
    char keys[8][32], values[8][128];
    int lines[8];
};

static jc_status_t collect(const char *k, const char *v, int line, void *ud, jc_error_t *err)
{
    (void)err;
    struct seen *s = ud;
    snprintf(s->keys[s->n], sizeof s->keys[0], "%s", k);
    snprintf(s->values[s->n], sizeof s->values[0], "%s", v);
    s->lines[s->n++] = line;
    return JC_OK;
}

static void parses_entries_comments_and_blanks(void **state)
{
    (void)state;
    char *p = write_temp("# comment\n\nA=1\n  B_2 = two words  \nURI=postgresql://u:p@h:1/d?x=y\nEMPTY=\n");
    struct seen s = {0};
    jc_error_t err;
    assert_int_equal(jc_envfile_parse(p, collect, &s, &err), JC_OK);
    assert_int_equal(s.n, 4);
    assert_string_equal(s.keys[0], "A");
    assert_string_equal(s.values[0], "1");
    assert_int_equal(s.lines[0], 3);
    assert_string_equal(s.keys[1], "B_2");
    assert_string_equal(s.values[1], "two words");
    assert_string_equal(s.values[2], "postgresql://u:p@h:1/d?x=y");
    assert_string_equal(s.values[3], "");
    unlink(p);
}

static void rejects_line_without_equals_naming_it(void **state)
{
    (void)state;
    char *p = write_temp("A=1\nnot a pair\n");
    struct seen s = {0};
    jc_error_t err;
    assert_int_equal(jc_envfile_parse(p, collect, &s, &err), JC_ERR_PARSE);
    assert_int_equal(err.code, JC_ERR_PARSE);
    assert_non_null(strstr(err.message, ":2:"));
    unlink(p);
}

static void rejects_invalid_key(void **state)
{
    (void)state;
    char *p = write_temp("9LIVES=1\n");
    struct seen s = {0};
    jc_error_t err;
    assert_int_equal(jc_envfile_parse(p, collect, &s, &err), JC_ERR_PARSE);
    assert_non_null(strstr(err.message, "9LIVES"));
    unlink(p);
}

static void missing_file_is_io_error(void **state)
{
    (void)state;
    jc_error_t err;
    assert_int_equal(jc_envfile_load("/nonexistent/jc.env", 0, &err), JC_ERR_IO);
    assert_non_null(strstr(err.message, "/nonexistent/jc.env"));
}

static void environment_wins_over_file_unless_overwrite(void **state)
{
    (void)state;
    char *p = write_temp("JC_T_SET=file\nJC_T_NEW=file\n");
    setenv("JC_T_SET", "env", 1);
    unsetenv("JC_T_NEW");
    assert_int_equal(jc_envfile_load(p, 0, NULL), JC_OK);
    assert_string_equal(getenv("JC_T_SET"), "env");
    assert_string_equal(getenv("JC_T_NEW"), "file");
    assert_int_equal(jc_envfile_load(p, 1, NULL), JC_OK);
    assert_string_equal(getenv("JC_T_SET"), "file");
    unlink(p);
}

static void stack_path_precedence(void **state)
{
    (void)state;
    char buf[256];
    unsetenv("JICENG_ENV_FILE");
    unsetenv("JICENG_STATE");
    assert_null(jc_envfile_stack_path(NULL, buf, sizeof buf));
    assert_string_equal(jc_envfile_stack_path("/d", buf, sizeof buf), "/d/stack.env");
    setenv("JICENG_STATE", "/s", 1);
    assert_string_equal(jc_envfile_stack_path("/d", buf, sizeof buf), "/s/stack.env");
    setenv("JICENG_ENV_FILE", "/e.env", 1);
    assert_string_equal(jc_envfile_stack_path("/d", buf, sizeof buf), "/e.env");
    char tiny[4];
    assert_null(jc_envfile_stack_path("/d", tiny, sizeof tiny));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_entries_comments_and_blanks),
        cmocka_unit_test(rejects_line_without_equals_naming_it),
        cmocka_unit_test(rejects_invalid_key),
        cmocka_unit_test(missing_file_is_io_error),
        cmocka_unit_test(environment_wins_over_file_unless_overwrite),
        cmocka_unit_test(stack_path_precedence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
