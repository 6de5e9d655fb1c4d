/*
 * test_reference.c: the embedded reference data: counts, order, lookups by code, and the
 * resolution of old county codes to current ones (chains, single steps, rejections); and
 * snapshots (issue 13, item 6): built from rows, refused when inconsistent, installed in place
 * of the built-in one (lookups follow, earlier pointers stay valid, lookups racing installs in
 * other threads see one snapshot or the other), the built-in one installed back.
 */
#include "testenv.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "jiceng/reference.h"

static void init_succeeds_and_is_idempotent(void **state)
{
    (void)state;
    jc_error_t err;
    assert_int_equal(jc_reference_init(&err), JC_OK);
    assert_int_equal(jc_reference_init(&err), JC_OK);
    assert_int_equal(jc_reference_init(NULL), JC_OK);
}

static void *resolve_in_thread(void *arg)
{
    int32_t *out = arg;
    if (jc_county_resolve(522423, out, NULL) != JC_OK)
        *out = -1;
    return NULL;
}

static void concurrent_first_use_agrees(void **state)
{
    (void)state;
    pthread_t t[4];
    int32_t out[4] = {0};
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, resolve_in_thread, &out[i]), 0);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(out[i], 520581);
    }
}

static void has_88_counties_in_code_order(void **state)
{
    (void)state;
    assert_int_equal(jc_county_count(), 88);
    for (size_t i = 1; i < jc_county_count(); i++)
        assert_true(jc_county_at(i - 1)->code < jc_county_at(i)->code);
    assert_null(jc_county_at(88));
}

static void has_9_prefectures_and_every_county_has_one(void **state)
{
    (void)state;
    assert_int_equal(jc_prefecture_count(), 9);
    assert_null(jc_prefecture_at(9));
    for (size_t i = 0; i < jc_county_count(); i++) {
        const jc_county_t *c = jc_county_at(i);
        const jc_prefecture_t *p = jc_prefecture_by_code(c->prefecture_code);
        assert_non_null(p);
        assert_int_equal(p->code, c->prefecture_code);
        assert_true(c->name_zh[0] != '\0' && c->name_pinyin[0] != '\0' && c->kind[0] != '\0');
    }
}

static void known_names_are_found_by_code(void **state)
{
    (void)state;
    const jc_county_t *c = jc_county_by_code(520102);
    assert_non_null(c);
    assert_int_equal(c->code, 520102);
    assert_string_equal(c->name_zh, "南明区");
    assert_string_equal(c->name_pinyin, "Nanming");
    assert_string_equal(c->kind, "district");
    assert_int_equal(c->prefecture_code, 520100);
    c = jc_county_by_code(520581);
    assert_non_null(c);
    assert_string_equal(c->name_zh, "黔西市");
    const jc_prefecture_t *p = jc_prefecture_by_code(520100);
    assert_non_null(p);
    assert_string_equal(p->name_zh, "贵阳市");
    assert_string_equal(p->name_pinyin, "Guiyang");
    assert_string_equal(jc_prefecture_by_code(522700)->name_pinyin, "Qiannan");
}

static void old_and_unknown_codes_are_not_counties(void **state)
{
    (void)state;
    assert_null(jc_county_by_code(522423)); /* old: resolve it instead */
    assert_null(jc_county_by_code(520100)); /* a prefecture */
    assert_null(jc_county_by_code(0));
    assert_null(jc_county_by_code(-520102));
    assert_null(jc_prefecture_by_code(520102));
    assert_null(jc_prefecture_by_code(999999));
}

static int32_t resolved(int32_t code)
{
    int32_t out = 0;
    jc_error_t err;
    assert_int_equal(jc_county_resolve(code, &out, &err), JC_OK);
    return out;
}

static void current_codes_map_to_themselves(void **state)
{
    (void)state;
    for (size_t i = 0; i < jc_county_count(); i++)
        assert_int_equal(resolved(jc_county_at(i)->code), jc_county_at(i)->code);
}

static void old_codes_follow_their_changes(void **state)
{
    (void)state;
    assert_int_equal(resolved(522423), 520581); /* 522423 -> 520522 -> 520581 */
    assert_int_equal(resolved(520522), 520581);
    assert_int_equal(resolved(520221), 520204); /* 水城县 -> 水城区 */
    assert_int_equal(resolved(520114), 520111); /* 小河区 merged into 花溪区 */
    assert_int_equal(resolved(522230), 520603); /* 万山特区 -> 万山区 */
}

static void assert_unknown(int32_t code, const char *expect_in_message)
{
    int32_t out = 12345;
    jc_error_t err;
    assert_int_equal(jc_county_resolve(code, &out, &err), JC_ERR_UNKNOWN_COUNTY);
    assert_int_equal(err.code, JC_ERR_UNKNOWN_COUNTY);
    assert_int_equal(out, 12345); /* untouched on failure */
    assert_non_null(strstr(err.message, expect_in_message));
}

static void prefecture_and_foreign_codes_are_rejected(void **state)
{
    (void)state;
    assert_unknown(522400, "old prefecture code"); /* 毕节地区 -> 520500, a prefecture */
    assert_unknown(520100, "prefecture code");
    assert_unknown(999999, "999999");
    assert_unknown(0, "not one of");
    assert_unknown(-520102, "-520102");
    assert_unknown(520199, "520199");
}

static void resolve_rejects_null_output(void **state)
{
    (void)state;
    jc_error_t err;
    assert_int_equal(jc_county_resolve(520102, NULL, &err), JC_ERR_INVALID_ARG);
}

/* ---- snapshots (issue 13, item 6) ---- */

/* A new unfinished snapshot holding the built-in rows. */
static jc_reference_t *copy_of_builtin(void)
{
    const jc_reference_t *b = jc_reference_builtin();
    jc_reference_t *r = NULL;
    size_t n;
    assert_non_null(b);
    assert_int_equal(jc_reference_new(&r, NULL), JC_OK);
    const jc_prefecture_t *p = jc_reference_prefectures(b, &n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(jc_reference_add_prefecture(r, &p[i], NULL), JC_OK);
    const jc_county_t *c = jc_reference_counties(b, &n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(jc_reference_add_county(r, &c[i], NULL), JC_OK);
    const jc_code_change_t *ch = jc_reference_changes(b, &n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(jc_reference_add_change(r, &ch[i], NULL), JC_OK);
    return r;
}

static void builtin_is_installed_at_first(void **state)
{
    (void)state;
    size_t n;
    const jc_reference_t *b = jc_reference_builtin();
    assert_non_null(b);
    assert_ptr_equal(jc_reference_current(), b);
    assert_int_equal(jc_reference_version(b), 0);
    const jc_code_change_t *ch = jc_reference_changes(b, &n);
    assert_int_equal(n, 27); /* the CSV's rows but the one creation (观山湖区) */
    assert_int_equal(ch[0].old_code, 522400);
    assert_int_equal(ch[0].new_code, 520500);
    assert_int_equal(ch[0].year, 2011);
    assert_non_null(strstr(ch[0].change, "毕节"));
    jc_reference_t *copy = copy_of_builtin();
    assert_int_equal(jc_reference_finish(copy, 5, NULL), JC_OK);
    assert_true(jc_reference_equal(copy, b));
    assert_int_equal(jc_reference_diff(copy, b), 0);
    jc_reference_free(copy);
}

static void add(jc_reference_t *r, int32_t code, int32_t prefecture)
{
    char name[16];
    snprintf(name, sizeof name, "c%d", (int)code);
    if (prefecture == 0) {
        jc_prefecture_t p = {code, "州", "Zhou"};
        assert_int_equal(jc_reference_add_prefecture(r, &p, NULL), JC_OK);
    } else {
        jc_county_t c = {code, "县", name, "county", prefecture};
        assert_int_equal(jc_reference_add_county(r, &c, NULL), JC_OK);
    }
}

static void change(jc_reference_t *r, int32_t from, int32_t to)
{
    jc_code_change_t ch = {from, to, 2026, "test"};
    assert_int_equal(jc_reference_add_change(r, &ch, NULL), JC_OK);
}

static void snapshot_from_rows_resolves(void **state)
{
    (void)state;
    jc_reference_t *r = NULL;
    jc_error_t err;
    int32_t out = 0;
    assert_int_equal(jc_reference_new(&r, &err), JC_OK);
    change(r, 520198, 520199); /* rows in any order: resolved when finished */
    change(r, 520199, 520103);
    change(r, 520197, 520100);
    add(r, 520103, 520100);
    add(r, 520102, 520100);
    add(r, 520100, 0);
    assert_int_equal(jc_reference_finish(r, 7, &err), JC_OK);
    assert_int_equal(jc_reference_version(r), 7);
    assert_int_equal(jc_reference_resolve(r, 520198, &out, &err), JC_OK);
    assert_int_equal(out, 520103);
    assert_int_equal(jc_reference_resolve(r, 520102, &out, &err), JC_OK);
    assert_int_equal(out, 520102);
    assert_int_equal(jc_reference_resolve(r, 520197, &out, &err), JC_ERR_UNKNOWN_COUNTY);
    assert_non_null(strstr(err.message, "old prefecture code"));
    assert_int_equal(jc_reference_resolve(r, 520581, &out, &err), JC_ERR_UNKNOWN_COUNTY);
    assert_non_null(strstr(err.message, "2 counties"));
    size_t n;
    const jc_county_t *c = jc_reference_counties(r, &n);
    assert_int_equal(n, 2);
    assert_int_equal(c[0].code, 520102); /* code order */
    assert_string_equal(c[1].name_pinyin, "c520103");
    assert_false(jc_reference_equal(r, jc_reference_builtin()));
    assert_true(jc_reference_diff(r, jc_reference_builtin()) > 80);
    assert_ptr_equal(jc_reference_current(), jc_reference_builtin()); /* not installed */
    jc_reference_free(r);
}

/* finish(r) fails with JC_ERR_PARSE and a message holding needle; r is freed. */
static void finish_refused(jc_reference_t *r, const char *needle)
{
    jc_error_t err;
    assert_int_equal(jc_reference_finish(r, 1, &err), JC_ERR_PARSE);
    assert_non_null(strstr(err.message, needle));
    jc_reference_free(r);
}

static void inconsistent_rows_are_refused(void **state)
{
    (void)state;
    jc_reference_t *r = NULL;
    jc_error_t err;
    assert_int_equal(jc_reference_new(&r, NULL), JC_OK);
    add(r, 520100, 0);
    jc_prefecture_t p = {520100, "州", "Zhou"};
    assert_int_equal(jc_reference_add_prefecture(r, &p, &err), JC_ERR_PARSE);
    assert_non_null(strstr(err.message, "listed twice"));
    jc_county_t yunnan = {530102, "区", "Wuhua", "district", 520100};
    assert_int_equal(jc_reference_add_county(r, &yunnan, &err), JC_ERR_PARSE);
    assert_non_null(strstr(err.message, "530102"));
    jc_county_t unnamed = {520102, "", "Nanming", "district", 520100};
    assert_int_equal(jc_reference_add_county(r, &unnamed, &err), JC_ERR_PARSE);
    assert_non_null(strstr(err.message, "name_zh: empty"));
    jc_code_change_t self = {520102, 520102, 0, NULL};
    assert_int_equal(jc_reference_add_change(r, &self, &err), JC_ERR_PARSE);
    change(r, 520198, 520199);
    assert_int_equal(jc_reference_add_change(r, &(jc_code_change_t){520198, 520102, 0, ""}, &err),
                     JC_ERR_PARSE);
    assert_non_null(strstr(err.message, "changed twice"));
    change(r, 520199, 520198);
    finish_refused(r, "cycle");

    assert_int_equal(jc_reference_new(&r, NULL), JC_OK);
    add(r, 520102, 520100); /* no such prefecture */
    finish_refused(r, "is no prefecture");

    assert_int_equal(jc_reference_new(&r, NULL), JC_OK);
    add(r, 520100, 0);
    add(r, 520102, 520100);
    add(r, 520102, 520100);
    finish_refused(r, "listed twice");

    assert_int_equal(jc_reference_new(&r, NULL), JC_OK);
    add(r, 520100, 0);
    finish_refused(r, "no counties");

    assert_int_equal(jc_reference_new(&r, NULL), JC_OK);
    add(r, 520100, 0);
    add(r, 520102, 520100);
    assert_int_equal(jc_reference_install(r, &err), JC_ERR_INVALID_ARG); /* not finished */
    assert_int_equal(jc_reference_finish(r, 1, NULL), JC_OK);
    assert_int_equal(jc_reference_add_prefecture(r, &(jc_prefecture_t){520200, "州", "Z"}, &err),
                     JC_ERR_INVALID_ARG); /* finished */
    assert_int_equal(jc_reference_finish(r, 1, &err), JC_ERR_INVALID_ARG);
    jc_reference_free(r);
}

static void install_swaps_and_keeps_old_pointers(void **state)
{
    (void)state;
    const jc_reference_t *builtin = jc_reference_builtin();
    const jc_county_t *nanming = jc_county_by_code(520102);
    int32_t out = 0;
    jc_error_t err;
    assert_int_equal(jc_county_resolve(520198, &out, &err), JC_ERR_UNKNOWN_COUNTY);
    /* the built-in data, a county 520199 and an old code 520198 of it */
    jc_reference_t *next = copy_of_builtin();
    add(next, 520199, 520100);
    change(next, 520198, 520199);
    assert_int_equal(jc_reference_finish(next, 42, NULL), JC_OK);
    assert_int_equal(jc_reference_diff(builtin, next), 2);
    assert_int_equal(jc_reference_install(next, &err), JC_OK);
    assert_ptr_equal(jc_reference_current(), next);
    assert_int_equal(jc_county_count(), 89);
    assert_int_equal(jc_county_resolve(520198, &out, &err), JC_OK);
    assert_int_equal(out, 520199);
    assert_int_equal(jc_county_resolve(522423, &out, &err), JC_OK); /* the old chains too */
    assert_int_equal(out, 520581);
    assert_non_null(jc_county_by_code(520199));
    assert_ptr_not_equal(jc_county_by_code(520102), nanming); /* the new snapshot's row ... */
    assert_string_equal(nanming->name_zh, "南明区");          /* ... the old one still valid */
    jc_reference_free(next); /* installed: ignored (ASan would see a use after free below) */
    assert_int_equal(jc_reference_install(builtin, &err), JC_OK); /* back */
    assert_int_equal(jc_county_count(), 88);
    assert_int_equal(jc_county_resolve(520198, &out, &err), JC_ERR_UNKNOWN_COUNTY);
    assert_int_equal(jc_reference_resolve(next, 520198, &out, &err), JC_OK);
    assert_int_equal(out, 520199);
}

static atomic_int racing;

static void *resolve_while_installing(void *arg)
{
    int *bad = arg;
    while (atomic_load(&racing)) {
        int32_t out = 0;
        if (jc_county_resolve(522423, &out, NULL) != JC_OK || out != 520581 ||
            jc_county_by_code(520102) == NULL)
            (*bad)++;
    }
    return NULL;
}

static void lookups_race_installs(void **state)
{
    (void)state;
    jc_reference_t *other = copy_of_builtin();
    add(other, 520199, 520100);
    assert_int_equal(jc_reference_finish(other, 1, NULL), JC_OK);
    pthread_t t[3];
    int bad[3] = {0};
    atomic_store(&racing, 1);
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&t[i], NULL, resolve_while_installing, &bad[i]), 0);
    for (int i = 0; i < 2000; i++)
        assert_int_equal(jc_reference_install(i % 2 ? jc_reference_builtin() : other, NULL),
                         JC_OK);
    atomic_store(&racing, 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(bad[i], 0);
    }
    assert_ptr_equal(jc_reference_current(), jc_reference_builtin());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(concurrent_first_use_agrees),
        cmocka_unit_test(init_succeeds_and_is_idempotent),
        cmocka_unit_test(has_88_counties_in_code_order),
        cmocka_unit_test(has_9_prefectures_and_every_county_has_one),
        cmocka_unit_test(known_names_are_found_by_code),
        cmocka_unit_test(old_and_unknown_codes_are_not_counties),
        cmocka_unit_test(current_codes_map_to_themselves),
        cmocka_unit_test(old_codes_follow_their_changes),
        cmocka_unit_test(prefecture_and_foreign_codes_are_rejected),
        cmocka_unit_test(resolve_rejects_null_output),
        cmocka_unit_test(builtin_is_installed_at_first),
        cmocka_unit_test(snapshot_from_rows_resolves),
        cmocka_unit_test(inconsistent_rows_are_refused),
        cmocka_unit_test(install_swaps_and_keeps_old_pointers),
        cmocka_unit_test(lookups_race_installs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
