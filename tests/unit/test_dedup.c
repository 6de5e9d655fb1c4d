/*
 * test_dedup.c: the consumer's in-memory dedup set and per-batch maps (lib/aggregate).
 *
 * The set must find every id added, not find ids never added (over a million random ones),
 * keep each id's content hash, survive growth and merging, and stay at or under 32 bytes per
 * id, the bound the documentation promises.
 */
#include "testenv.h"

#include <string.h>

#include "../../lib/aggregate/dedup.h"
#include "../../lib/aggregate/keymap.h"

static void make_id(uint32_t n, uint8_t id[16])
{
    memset(id, 0, 16);
    memcpy(id, "\x01\x92\xf0\xc4", 4); /* a UUIDv7-like time prefix shared by all */
    memcpy(id + 12, &n, 4);
}

static void finds_what_was_added_and_nothing_else(void **state)
{
    (void)state;
    jc_dedup_t d;
    jc_dedup_init(&d);
    uint8_t id[16];
    uint32_t content;
    const uint32_t n = 300000;
    for (uint32_t i = 0; i < n; i++) {
        make_id(i, id);
        jc_dedup_key_t k = jc_dedup_key(id);
        assert_false(jc_dedup_find(&d, k, &content));
        assert_int_equal(jc_dedup_add(&d, k, i * 7u), JC_OK);
    }
    assert_int_equal(d.count, n);
    for (uint32_t i = 0; i < n; i++) {
        make_id(i, id);
        assert_true(jc_dedup_find(&d, jc_dedup_key(id), &content));
        assert_int_equal(content, i * 7u);
    }
    for (uint32_t i = n; i < n + 1000000; i++) {
        make_id(i, id);
        assert_false(jc_dedup_find(&d, jc_dedup_key(id), &content));
    }
    double per_id = (double)jc_dedup_bytes(&d) / (double)d.count;
    print_message("dedup: %u ids in %zu bytes, %.1f bytes per id\n", n, jc_dedup_bytes(&d), per_id);
    assert_true(per_id <= 32.0);
    jc_dedup_free(&d);
}

static void bytes_per_id_stay_within_bound_through_growth(void **state)
{
    (void)state;
    jc_dedup_t d;
    jc_dedup_init(&d);
    uint8_t id[16];
    for (uint32_t i = 0; i < 200000; i++) {
        make_id(i, id);
        assert_int_equal(jc_dedup_add(&d, jc_dedup_key(id), 0), JC_OK);
        if (i >= 1000) /* past the first, fixed-size table */
            assert_true(jc_dedup_bytes(&d) <= 32 * d.count);
    }
    jc_dedup_free(&d);
}

static void merge_and_clear(void **state)
{
    (void)state;
    jc_dedup_t a, b;
    jc_dedup_init(&a);
    jc_dedup_init(&b);
    uint8_t id[16];
    uint32_t content;
    for (uint32_t i = 0; i < 5000; i++) {
        make_id(i, id);
        assert_int_equal(jc_dedup_add(i < 3000 ? &a : &b, jc_dedup_key(id), i), JC_OK);
    }
    assert_int_equal(jc_dedup_merge(&a, &b), JC_OK); /* disjoint, as the aggregator's are */
    assert_int_equal(a.count, 5000);
    make_id(4999, id);
    assert_true(jc_dedup_find(&a, jc_dedup_key(id), &content));
    assert_int_equal(content, 4999);
    jc_dedup_clear(&b);
    assert_int_equal(b.count, 0);
    assert_false(jc_dedup_find(&b, jc_dedup_key(id), &content));
    jc_dedup_free(&a);
    jc_dedup_free(&b);
}

static void keymap_sums_per_key_in_insertion_order(void **state)
{
    (void)state;
    jc_keymap_t m;
    jc_keymap_init(&m, 84, 3 * sizeof(int64_t)); /* a key size that is not a multiple of 8 */
    uint8_t key[84];
    for (int round = 0; round < 3; round++) {
        for (int k = 0; k < 10000; k++) {
            memset(key, 0, sizeof key);
            memcpy(key, &k, sizeof k);
            int inserted;
            int64_t *v = jc_keymap_upsert(&m, key, &inserted);
            assert_non_null(v);
            assert_int_equal(inserted, round == 0);
            assert_int_equal(((uintptr_t)v) % 8, 0); /* int64_t values are aligned */
            v[0] += 1;
            v[2] += k;
        }
    }
    assert_int_equal(m.count, 10000);
    for (size_t i = 0; i < m.count; i++) {
        int k;
        memcpy(&k, jc_keymap_key(&m, i), sizeof k);
        assert_int_equal(k, (int)i);
        const int64_t *v = (const int64_t *)jc_keymap_value(&m, i);
        assert_int_equal(v[0], 3);
        assert_int_equal(v[1], 0);
        assert_int_equal(v[2], 3 * (int64_t)i);
    }
    jc_keymap_reset(&m);
    assert_int_equal(m.count, 0);
    jc_keymap_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(finds_what_was_added_and_nothing_else),
        cmocka_unit_test(bytes_per_id_stay_within_bound_through_growth),
        cmocka_unit_test(merge_and_clear),
        cmocka_unit_test(keymap_sums_per_key_in_insertion_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
