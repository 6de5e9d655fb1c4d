/*
 * test_pgarray.c: the PostgreSQL array literals the flush sends (lib/pgarray.c).
 *
 * Every literal is read back by a small parser written here from PostgreSQL's rules for a
 * one-dimensional array literal (array_in: elements between braces separated by commas;
 * a quoted element ends at an unescaped '"', a backslash escapes the next character anywhere;
 * an unquoted element is trimmed of white space, and the unquoted word NULL, in any case, is
 * the null value), so an id with quotes, backslashes, commas, braces, spaces, the words NULL
 * or null, nothing at all, or Chinese text must come back exactly, and a null stays a null.
 * A failed append (the literal's limit, standing in for memory running out) must make the
 * literal fail as a whole: jc_pgarray_end returns NULL until the next begin.
 */
#include "testenv.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "../../lib/internal.h"

#define MAX_ELEMS 32

typedef struct elem {
    bool null;
    char text[128];
} elem_t;

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* One element at *p into e; false if malformed. */
static bool parse_elem(const char **p, elem_t *e)
{
    const char *s = *p;
    size_t n = 0, kept = 0; /* kept: length up to the last escaped or non-space character */
    bool quoted = false, escaped_any = false;
    while (is_space(*s))
        s++;
    if (*s == '"') {
        quoted = true;
        s++;
        while (*s != '"') {
            if (*s == '\0')
                return false;
            if (*s == '\\' && *++s == '\0')
                return false;
            if (n + 1 >= sizeof e->text)
                return false;
            e->text[n++] = *s++;
        }
        s++;
        while (is_space(*s))
            s++;
        kept = n;
    } else {
        while (*s != ',' && *s != '}') {
            if (*s == '\0' || *s == '{' || *s == '"')
                return false;
            bool escaped = *s == '\\';
            if (escaped && *++s == '\0')
                return false;
            if (n + 1 >= sizeof e->text)
                return false;
            escaped_any |= escaped;
            e->text[n++] = *s;
            if (escaped || !is_space(*s))
                kept = n;
            s++;
        }
    }
    e->text[kept] = '\0';
    e->null = !quoted && !escaped_any && strcasecmp(e->text, "NULL") == 0;
    if (kept == 0 && !quoted)
        return false; /* an unquoted empty element is an error in PostgreSQL */
    *p = s;
    return true;
}

/* Parse a one-dimensional literal into e[0..*n); false if malformed. */
static bool parse(const char *lit, elem_t *e, size_t *n)
{
    const char *p = lit;
    *n = 0;
    while (is_space(*p))
        p++;
    if (*p++ != '{')
        return false;
    while (is_space(*p))
        p++;
    if (*p == '}')
        return *++p == '\0';
    for (;;) {
        if (*n == MAX_ELEMS || !parse_elem(&p, &e[(*n)++]))
            return false;
        if (*p == '}')
            return *++p == '\0';
        if (*p++ != ',')
            return false;
    }
}

/* The values a literal must carry (NULL entries stand for the null value). */
static const char *const tricky[] = {
    "plain",
    "with \"quotes\"",
    "\"",
    "back\\slash",
    "\\",
    "trailing backslash\\",
    "comma, inside",
    "{braces}",
    "}",
    "{",
    "NULL",
    "null",
    NULL,
    "",
    "  spaces around  ",
    " ",
    "花果园",
    "贵阳市 \"南明区\", {1}\\",
    "'single' quotes",
    "tab\there",
    "new\nline",
};

static void text_round_trips(void **state)
{
    (void)state;
    jc_pgarray_t a = {0};
    elem_t e[MAX_ELEMS];
    size_t n, count = sizeof tricky / sizeof tricky[0];
    jc_pgarray_begin(&a);
    for (size_t i = 0; i < count; i++) {
        if (tricky[i] != NULL)
            jc_pgarray_text(&a, tricky[i]);
        else
            jc_pgarray_null(&a);
    }
    const char *lit = jc_pgarray_end(&a);
    assert_non_null(lit);
    if (!parse(lit, e, &n))
        fail_msg("not a valid array literal: %s", lit);
    assert_int_equal(n, count);
    for (size_t i = 0; i < count; i++) {
        if (tricky[i] == NULL) {
            assert_true(e[i].null);
            continue;
        }
        if (e[i].null)
            fail_msg("element %zu (%s) came back as the null value from %s", i, tricky[i], lit);
        if (strcmp(e[i].text, tricky[i]) != 0)
            fail_msg("element %zu: sent [%s], got [%s] from %s", i, tricky[i], e[i].text, lit);
    }
    jc_pgarray_free(&a);
}

static void each_value_alone_round_trips(void **state)
{
    (void)state;
    jc_pgarray_t a = {0};
    elem_t e[MAX_ELEMS];
    size_t n;
    for (size_t i = 0; i < sizeof tricky / sizeof tricky[0]; i++) {
        if (tricky[i] == NULL)
            continue;
        jc_pgarray_begin(&a);
        jc_pgarray_text(&a, tricky[i]);
        const char *lit = jc_pgarray_end(&a);
        assert_non_null(lit);
        if (!parse(lit, e, &n) || n != 1 || e[0].null || strcmp(e[0].text, tricky[i]) != 0)
            fail_msg("[%s] does not come back from %s", tricky[i], lit);
    }
    jc_pgarray_free(&a);
}

static void numbers_hex_and_empty(void **state)
{
    (void)state;
    jc_pgarray_t a = {0};
    elem_t e[MAX_ELEMS];
    size_t n;
    jc_pgarray_begin(&a);
    const char *lit = jc_pgarray_end(&a);
    assert_non_null(lit);
    assert_string_equal(lit, "{}");
    assert_true(parse(lit, e, &n));
    assert_int_equal(n, 0);

    jc_pgarray_begin(&a);
    jc_pgarray_int(&a, INT64_MIN);
    jc_pgarray_int(&a, 0);
    jc_pgarray_int(&a, INT64_MAX);
    jc_pgarray_null(&a);
    jc_pgarray_hex(&a, "\x00\xff\x10", 3);
    jc_pgarray_hex(&a, "", 0);
    lit = jc_pgarray_end(&a);
    assert_non_null(lit);
    assert_true(parse(lit, e, &n));
    assert_int_equal(n, 6);
    assert_string_equal(e[0].text, "-9223372036854775808");
    assert_string_equal(e[1].text, "0");
    assert_string_equal(e[2].text, "9223372036854775807");
    assert_true(e[3].null);
    assert_string_equal(e[4].text, "00ff10");
    assert_false(e[5].null);
    assert_string_equal(e[5].text, "");
    jc_pgarray_free(&a);
}

/* A failed append fails the literal as a whole, whatever is appended after it, until begin. */
static void a_failed_append_is_sticky(void **state)
{
    (void)state;
    jc_pgarray_t a = {0};
    a.limit = 16;
    jc_pgarray_begin(&a);
    jc_pgarray_int(&a, 1);
    jc_pgarray_text(&a, "far too long for sixteen bytes");
    assert_true(a.failed);
    jc_pgarray_int(&a, 2); /* fits again, but the literal already lost an element */
    jc_pgarray_null(&a);
    assert_null(jc_pgarray_end(&a));
    assert_null(jc_pgarray_end(&a));

    jc_pgarray_begin(&a); /* a new literal starts clean */
    jc_pgarray_int(&a, 1);
    jc_pgarray_text(&a, "short");
    const char *lit = jc_pgarray_end(&a);
    assert_non_null(lit);
    assert_string_equal(lit, "{1,\"short\"}");

    a.limit = 10; /* "{1,\"short\"" is 10 bytes: the closing brace no longer fits */
    jc_pgarray_begin(&a);
    jc_pgarray_int(&a, 1);
    jc_pgarray_text(&a, "short");
    assert_false(a.failed);
    assert_null(jc_pgarray_end(&a));

    a.limit = 10; /* each kind of append fails on its own */
    jc_pgarray_begin(&a);
    jc_pgarray_hex(&a, "0123456789", 10);
    assert_true(a.failed);
    jc_pgarray_begin(&a);
    jc_pgarray_int(&a, INT64_MIN);
    assert_true(a.failed);
    jc_pgarray_begin(&a);
    for (int i = 0; i < 5; i++)
        jc_pgarray_null(&a);
    assert_true(a.failed);
    jc_pgarray_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(text_round_trips),
        cmocka_unit_test(each_value_alone_round_trips),
        cmocka_unit_test(numbers_hex_and_empty),
        cmocka_unit_test(a_failed_append_is_sticky),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
