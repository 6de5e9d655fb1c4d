/*
 * test_codec.c: the schema catalog and the codec.
 *
 * Round trips of every type; schema evolution (a v1 visit decodes with v2's default, any
 * older message with revision 0 and withdrawn false; the newest schemas carry both right after
 * source); the content hash of an original unchanged by the revision fields (golden values
 * computed by the code before they existed); and every defect of untrusted bytes by its status
 * code. Malformed messages are built with a small Avro
 * writer of the test's own (varints, strings) for visit v1, so the expected wire layout is
 * stated here independently of the codec under test.
 */
#include "testenv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jiceng/catalog.h"
#include "jiceng/codec.h"
#include "jiceng/fields.h"
#include "samples.h"

#define BASE_MS 1764300000000LL /* 2025-11-28 */

/* ---- an independent writer for visit v1 (schema id 1) ---- */

struct wire {
    uint8_t b[4096];
    size_t n;
};

static void put_byte(struct wire *w, uint8_t x) { w->b[w->n++] = x; }

static void put_long(struct wire *w, int64_t v)
{
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    while (z & ~0x7fULL) {
        put_byte(w, (uint8_t)((z & 0x7f) | 0x80));
        z >>= 7;
    }
    put_byte(w, (uint8_t)z);
}

static void put_str(struct wire *w, const char *s, size_t n)
{
    put_long(w, (int64_t)n);
    memcpy(w->b + w->n, s, n);
    w->n += n;
}

static void put_cstr(struct wire *w, const char *s) { put_str(w, s, strlen(s)); }

enum visit_part { UP_TO_SOURCE, UP_TO_CADRE_LEVEL, WHOLE };

/* A visit v1 message; the part argument stops early so a test can append its own bytes. */
static void visit_v1(struct wire *w, enum visit_part part, const char *township)
{
    w->n = 0;
    const uint8_t header[5] = {0, 0, 0, 0, 1};
    memcpy(w->b, header, 5);
    w->n = 5;
    put_cstr(w, "0190f5a2-0001-7abc-8def-000000000001");
    put_long(w, BASE_MS);
    put_long(w, 520102);
    if (part == UP_TO_SOURCE)
        return;
    put_cstr(w, "src");
    put_cstr(w, "cadre-1");
    if (part == UP_TO_CADRE_LEVEL)
        return;
    put_long(w, 2); /* COUNTY */
    put_cstr(w, township);
    put_cstr(w, "village");
    for (int i = 0; i < 4; i++)
        put_long(w, i + 1);
    put_byte(w, 1);
}

static jc_codec_t *codec;

static int setup(void **state)
{
    (void)state;
    jc_error_t err;
    codec = jc_codec_new(&err);
    if (codec == NULL)
        fail_msg("jc_codec_new: %s", err.message);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    jc_codec_free(codec);
    return 0;
}

static jc_status_t decode(const struct wire *w, jc_event_t *ev, jc_error_t *err)
{
    return jc_codec_decode(codec, w->b, w->n, ev, NULL, err);
}

/* ---- catalog ---- */

/* Every event type has a name, a topic and fields, each distinct, and its name maps back to it:
 * a type added to jc_event_type_t without its row in lib/fields.c fails here. */
static void every_type_is_described(void **state)
{
    (void)state;
    for (int t = 0; t < JC_EVENT_TYPE_COUNT; t++) {
        size_t n = 0;
        const char *name = jc_event_type_name((jc_event_type_t)t);
        assert_non_null(jc_event_topic((jc_event_type_t)t));
        assert_non_null(jc_event_fields((jc_event_type_t)t, &n));
        assert_true(n > 4); /* the envelope and a body */
        jc_event_type_t back;
        assert_int_equal(jc_event_type_from_name(name, &back, NULL), JC_OK);
        assert_int_equal(back, t);
        for (int u = 0; u < t; u++) {
            assert_string_not_equal(name, jc_event_type_name((jc_event_type_t)u));
            assert_string_not_equal(jc_event_topic((jc_event_type_t)t), jc_event_topic((jc_event_type_t)u));
        }
    }
    jc_error_t err;
    jc_event_type_t t;
    assert_int_equal(jc_event_type_from_name("meeting", &t, &err), JC_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "visit, petition, disaster_response, training_completion"));
}

static void catalog_lists_every_type_with_fixed_ids(void **state)
{
    (void)state;
    assert_int_equal(jc_catalog_init(NULL), JC_OK);
    assert_true(jc_catalog_count() >= 5);
    assert_int_equal(jc_catalog_by_id(1)->type, JC_VISIT);
    assert_int_equal(jc_catalog_by_id(1)->version, 1);
    assert_int_equal(jc_catalog_by_id(2)->type, JC_PETITION);
    assert_int_equal(jc_catalog_by_id(3)->type, JC_DISASTER_RESPONSE);
    assert_int_equal(jc_catalog_by_id(4)->type, JC_TRAINING_COMPLETION);
    assert_int_equal(jc_catalog_by_id(5)->version, 2);
    /* the corrections contract: visit v3, the others' v2 */
    assert_int_equal(jc_catalog_latest(JC_VISIT)->id, 6);
    assert_int_equal(jc_catalog_by_id(6)->version, 3);
    for (int t = JC_PETITION; t < JC_EVENT_TYPE_COUNT; t++) {
        assert_int_equal(jc_catalog_latest((jc_event_type_t)t)->id, 6 + t);
        assert_int_equal(jc_catalog_by_id(6 + t)->version, 2);
        assert_int_equal(jc_catalog_by_id(6 + t)->type, t);
    }
    assert_false(jc_catalog_by_id(1)->latest);
    assert_null(jc_catalog_by_id(0));
    assert_null(jc_catalog_by_id(999));
    for (size_t i = 0; i < jc_catalog_count(); i++)
        for (size_t j = i + 1; j < jc_catalog_count(); j++)
            assert_true(jc_catalog_at(i)->fingerprint != jc_catalog_at(j)->fingerprint);
}

static void fingerprint_matches_avro_spec_vectors(void **state)
{
    (void)state;
    /* CRC-64-AVRO of the canonical form of the primitive schemas, from the Avro spec's test
     * data (share/test/data/schema-tests.txt): "int" -> 0x7275d51a3f395c8f */
    assert_true(jc_fingerprint64("\"int\"", 5) == 0x7275d51a3f395c8fULL);
    assert_true(jc_fingerprint64("\"null\"", 6) == 0x63dd24e7cc258f8aULL);
    assert_true(jc_fingerprint64("", 0) == 0xc15d213aa4d7a795ULL);
}

/* ---- round trips ---- */

static void every_type_round_trips(void **state)
{
    (void)state;
    jc_buf_t buf = {0};
    jc_event_t in, out;
    jc_error_t err;
    for (int t = 0; t < JC_EVENT_TYPE_COUNT; t++) {
        for (uint32_t seed = 0; seed < 200; seed++) {
            jc_test_sample(&in, (jc_event_type_t)t, seed, BASE_MS);
            if (jc_codec_encode(codec, &in, &buf, &err) != JC_OK)
                fail_msg("encode %s: %s", jc_event_type_name(t), err.message);
            assert_int_equal(buf.data[0], 0);
            int32_t id;
            if (jc_codec_decode(codec, buf.data, buf.len, &out, &id, &err) != JC_OK)
                fail_msg("decode %s seed %u: %s", jc_event_type_name(t), seed, err.message);
            assert_int_equal(id, jc_catalog_latest((jc_event_type_t)t)->id);
            assert_true(jc_event_equal(&in, &out));
        }
    }
    jc_buf_free(&buf);
}

static void independent_v1_bytes_decode(void **state)
{
    (void)state;
    struct wire w;
    jc_event_t ev;
    jc_error_t err;
    visit_v1(&w, WHOLE, "花溪镇");
    if (decode(&w, &ev, &err) != JC_OK)
        fail_msg("decode: %s", err.message);
    assert_int_equal(ev.type, JC_VISIT);
    assert_string_equal(ev.event_id, "0190f5a2-0001-7abc-8def-000000000001");
    assert_true(ev.occurred_at == BASE_MS);
    assert_int_equal(ev.county_code, 520102);
    assert_string_equal(ev.u.visit.township, "花溪镇");
    assert_int_equal(ev.u.visit.cadre_level, JC_CADRE_COUNTY);
    assert_int_equal(ev.u.visit.households_visited, 1);
    assert_int_equal(ev.u.visit.problems_solved, 4);
    assert_true(ev.u.visit.stayed_overnight);
    assert_int_equal(ev.u.visit.hours_on_site, 0); /* v2's default */
    assert_int_equal(ev.revision, 0);              /* v3's defaults */
    assert_false(ev.withdrawn);
}

static void v1_and_v2_decode_into_one_struct(void **state)
{
    (void)state;
    jc_buf_t buf = {0};
    jc_event_t in, out;
    jc_error_t err;
    jc_test_sample(&in, JC_VISIT, 7, BASE_MS);
    in.u.visit.hours_on_site = 6;
    assert_int_equal(jc_codec_encode_as(codec, 1, &in, &buf, &err), JC_OK);
    assert_int_equal(jc_codec_decode(codec, buf.data, buf.len, &out, NULL, &err), JC_OK);
    assert_int_equal(out.u.visit.hours_on_site, 0); /* v1 has no such field: the default */
    out.u.visit.hours_on_site = 6;
    assert_true(jc_event_equal(&in, &out));
    size_t v1_len = buf.len;
    assert_int_equal(jc_codec_encode_as(codec, 5, &in, &buf, &err), JC_OK);
    assert_int_equal(buf.len, v1_len + 1); /* v2 adds one int */
    assert_int_equal(jc_codec_decode(codec, buf.data, buf.len, &out, NULL, &err), JC_OK);
    assert_int_equal(out.u.visit.hours_on_site, 6);
    assert_int_equal(jc_codec_encode_as(codec, 2, &in, &buf, &err), JC_ERR_INVALID_ARG);
    jc_buf_free(&buf);
}

/* The first place needle occurs in the n bytes at hay, or NULL. */
static const uint8_t *find_bytes(const uint8_t *hay, size_t n, const char *needle, size_t len)
{
    for (size_t i = 0; i + len <= n; i++)
        if (memcmp(hay + i, needle, len) == 0)
            return hay + i;
    return NULL;
}

/* The newest schemas carry revision and withdrawn right after source; every older schema
 * leaves them out, and its messages decode with revision 0 and withdrawn false. */
static void revision_and_withdrawn_on_the_wire(void **state)
{
    (void)state;
    jc_buf_t buf = {0};
    jc_event_t in, out;
    jc_error_t err;
    for (int t = 0; t < JC_EVENT_TYPE_COUNT; t++) {
        jc_test_sample(&in, (jc_event_type_t)t, 11, BASE_MS);
        in.revision = 300; /* zigzag varint 600: d8 04 */
        in.withdrawn = true;
        assert_int_equal(jc_codec_encode(codec, &in, &buf, &err), JC_OK);
        const uint8_t *src = find_bytes(buf.data, buf.len, in.source, strlen(in.source));
        assert_non_null(src);
        assert_memory_equal(src + strlen(in.source), "\xd8\x04\x01", 3);
        assert_int_equal(jc_codec_decode(codec, buf.data, buf.len, &out, NULL, &err), JC_OK);
        assert_true(jc_event_equal(&in, &out));
        for (size_t i = 0; i < jc_catalog_count(); i++) {
            const jc_schema_info_t *s = jc_catalog_at(i);
            if (s->type != (jc_event_type_t)t || s->latest)
                continue;
            assert_int_equal(jc_codec_encode_as(codec, s->id, &in, &buf, &err), JC_OK);
            assert_int_equal(jc_codec_decode(codec, buf.data, buf.len, &out, NULL, &err), JC_OK);
            assert_int_equal(out.revision, 0);
            assert_false(out.withdrawn);
        }
    }
    jc_buf_free(&buf);
}

/* The content hash of an original (revision 0, not withdrawn) is what it was before revision
 * and withdrawn existed, so hashes stored in ledgers stay valid (values computed with the
 * library at the commit before them); a correction or a withdrawal hashes differently. */
static void content_hash_of_an_original_is_unchanged(void **state)
{
    (void)state;
    static const uint64_t golden[JC_EVENT_TYPE_COUNT] = {
        0x59acda40af222f8fULL, 0x8b4a3e3e56fa8e73ULL, 0x9acba410833bce7aULL, 0x987c003ad54b0c0dULL};
    for (int t = 0; t < JC_EVENT_TYPE_COUNT; t++) {
        jc_event_t ev, other;
        jc_test_sample(&ev, (jc_event_type_t)t, 7, BASE_MS);
        assert_true(jc_event_hash(&ev) == golden[t]);
        other = ev;
        other.revision = 1;
        assert_true(jc_event_hash(&other) != golden[t]);
        assert_false(jc_event_equal(&ev, &other));
        other.withdrawn = true;
        uint64_t both = jc_event_hash(&other);
        other.revision = 0;
        assert_true(jc_event_hash(&other) != golden[t] && jc_event_hash(&other) != both);
    }
}

/* ---- defects ---- */

static void every_truncation_is_truncated(void **state)
{
    (void)state;
    struct wire w;
    jc_event_t ev;
    jc_error_t err;
    visit_v1(&w, WHOLE, "t");
    size_t full = w.n;
    for (size_t n = 0; n < full; n++) {
        jc_status_t st = jc_codec_decode(codec, w.b, n, &ev, NULL, &err);
        if (st != JC_ERR_TRUNCATED)
            fail_msg("prefix of %zu bytes: %s (%s)", n, jc_status_name(st), err.message);
    }
}

static void oversized_bad_magic_unknown_schema_trailing(void **state)
{
    (void)state;
    jc_event_t ev;
    jc_error_t err;
    int32_t id;
    uint8_t *big = calloc(1, JC_MAX_MESSAGE_BYTES + 1);
    assert_int_equal(jc_codec_decode(codec, big, JC_MAX_MESSAGE_BYTES + 1, &ev, NULL, &err), JC_ERR_OVERSIZED);
    free(big);
    struct wire w;
    visit_v1(&w, WHOLE, "t");
    w.b[0] = 1;
    assert_int_equal(decode(&w, &ev, &err), JC_ERR_BAD_MAGIC);
    w.b[0] = 0;
    w.b[4] = 99;
    assert_int_equal(jc_codec_decode(codec, w.b, w.n, &ev, &id, &err), JC_ERR_UNKNOWN_SCHEMA);
    assert_int_equal(id, 99);
    assert_non_null(strstr(err.message, "99"));
    w.b[4] = 1;
    put_byte(&w, 0);
    assert_int_equal(decode(&w, &ev, &err), JC_ERR_TRAILING_BYTES);
}

static void invalid_utf8_and_nul_rejected(void **state)
{
    (void)state;
    struct wire w;
    jc_event_t ev;
    jc_error_t err;
    visit_v1(&w, WHOLE, "\xe8\x8a");          /* a truncated 3-byte sequence */
    assert_int_equal(decode(&w, &ev, &err), JC_ERR_BAD_UTF8);
    assert_non_null(strstr(err.message, "township"));
    visit_v1(&w, WHOLE, "\xc0\xaf");          /* overlong '/' */
    assert_int_equal(decode(&w, &ev, &err), JC_ERR_BAD_UTF8);
    visit_v1(&w, UP_TO_CADRE_LEVEL, NULL);
    put_long(&w, 0);
    put_str(&w, "a\0b", 3);
    put_cstr(&w, "village");
    for (int i = 0; i < 4; i++)
        put_long(&w, 0);
    put_byte(&w, 0);
    assert_int_equal(decode(&w, &ev, &err), JC_ERR_BAD_UTF8);
    assert_non_null(strstr(err.message, "NUL"));
}

static void enum_out_of_range(void **state)
{
    (void)state;
    struct wire w;
    jc_event_t ev;
    jc_error_t err;
    visit_v1(&w, UP_TO_CADRE_LEVEL, NULL);
    put_long(&w, 5); /* CadreLevel has 5 symbols: 0..4 */
    put_cstr(&w, "t");
    assert_int_equal(decode(&w, &ev, &err), JC_ERR_ENUM_RANGE);
    assert_non_null(strstr(err.message, "cadre_level"));
    visit_v1(&w, UP_TO_CADRE_LEVEL, NULL);
    put_long(&w, -1);
    assert_int_equal(decode(&w, &ev, &err), JC_ERR_ENUM_RANGE);
}

static void negative_and_huge_lengths(void **state)
{
    (void)state;
    struct wire w;
    jc_event_t ev;
    jc_error_t err;
    visit_v1(&w, UP_TO_SOURCE, NULL);
    put_long(&w, -1);
    assert_int_equal(decode(&w, &ev, &err), JC_ERR_NEGATIVE_LENGTH);
    assert_non_null(strstr(err.message, "source"));
    visit_v1(&w, UP_TO_SOURCE, NULL);
    put_long(&w, INT64_MAX / 4); /* must not be allocated */
    assert_int_equal(decode(&w, &ev, &err), JC_ERR_TRUNCATED);
    visit_v1(&w, UP_TO_SOURCE, NULL);
    for (int i = 0; i < 11; i++)
        put_byte(&w, 0xff);
    assert_int_equal(decode(&w, &ev, &err), JC_ERR_MALFORMED);
}

static void string_over_its_bound_is_too_long(void **state)
{
    (void)state;
    char township[JC_TEXT_MAX + 2];
    memset(township, 'x', sizeof township - 1);
    township[sizeof township - 1] = '\0'; /* 129 bytes: one more than allowed */
    struct wire w;
    jc_event_t ev;
    jc_error_t err;
    visit_v1(&w, WHOLE, township);
    assert_int_equal(decode(&w, &ev, &err), JC_ERR_TOO_LONG);
    township[JC_TEXT_MAX] = '\0'; /* exactly 128 */
    visit_v1(&w, WHOLE, township);
    assert_int_equal(decode(&w, &ev, &err), JC_OK);
    assert_int_equal(strlen(ev.u.visit.township), JC_TEXT_MAX);
}

static void bad_boolean_and_union_branch(void **state)
{
    (void)state;
    struct wire w;
    jc_event_t ev;
    jc_error_t err;
    visit_v1(&w, WHOLE, "t");
    w.b[w.n - 1] = 2;
    assert_int_equal(decode(&w, &ev, &err), JC_ERR_MALFORMED);
    /* a petition (id 2) whose received_at union says branch 2 */
    jc_buf_t buf = {0};
    jc_event_t p;
    jc_test_sample(&p, JC_PETITION, 0, BASE_MS); /* RECEIVED: received_at null, satisfied null */
    assert_int_equal(jc_codec_encode(codec, &p, &buf, &err), JC_OK);
    assert_int_equal(buf.data[buf.len - 2], 0); /* received_at: branch 0 (null) */
    buf.data[buf.len - 2] = 4;                  /* zigzag 2 */
    assert_int_equal(jc_codec_decode(codec, buf.data, buf.len, &ev, NULL, &err), JC_ERR_MALFORMED);
    jc_buf_free(&buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_type_is_described),
        cmocka_unit_test(catalog_lists_every_type_with_fixed_ids),
        cmocka_unit_test(fingerprint_matches_avro_spec_vectors),
        cmocka_unit_test(every_type_round_trips),
        cmocka_unit_test(independent_v1_bytes_decode),
        cmocka_unit_test(v1_and_v2_decode_into_one_struct),
        cmocka_unit_test(revision_and_withdrawn_on_the_wire),
        cmocka_unit_test(content_hash_of_an_original_is_unchanged),
        cmocka_unit_test(every_truncation_is_truncated),
        cmocka_unit_test(oversized_bad_magic_unknown_schema_trailing),
        cmocka_unit_test(invalid_utf8_and_nul_rejected),
        cmocka_unit_test(enum_out_of_range),
        cmocka_unit_test(negative_and_huge_lengths),
        cmocka_unit_test(string_over_its_bound_is_too_long),
        cmocka_unit_test(bad_boolean_and_union_branch),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
