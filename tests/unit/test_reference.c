/*
 * test_reference.c: the embedded reference data: counts, order, lookups by code, and the
 * resolution of old county codes to current ones (chains, single steps, rejections).
 */
#include "testenv.h"

#include <pthread.h>
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
