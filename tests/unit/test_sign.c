/*
 * test_sign.c: record signatures (jiceng/sign.h) and the secret-file permission check
 * (jiceng/secretfile.h).
 *
 * The fixed vectors were computed without lib/sign.c: the signed bytes were written with
 * printf (and xxd -r -p for the long value) and MAC'd with
 *     openssl dgst -sha256 -mac HMAC -macopt hexkey:<secret> -r FILE
 * (and checked again with Python's hmac module). The rest checks what the signature must
 * distinguish, each refusal's verdict, the keyring's validity periods and county mapping, header
 * parsing, key files and their permissions.
 */
#include "testenv.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jiceng/secretfile.h"
#include "jiceng/sign.h"

/* 00 01 02 ... 1f */
static const unsigned char SECRET_SEQ[32] = {
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
};

struct vector {
    const char *what;
    const unsigned char *secret; /* NULL: 32 bytes of 0x42 */
    const char *topic;
    const char *key;             /* NULL: null */
    size_t key_len;
    const char *value;           /* NULL: null; "LONG": bytes i % 256 for i in 0..299 */
    size_t value_len;
    const char *expect;          /* openssl dgst -sha256 -mac HMAC output */
};

/* The signed bytes of v1, e.g.: printf 'jiceng-sig-v1\x00\x00\x00\x0djiceng.visits
 * \x00\x00\x00\x06520102\x00\x00\x00\x05hello' (one line) > v1.bin; null is \xff\xff\xff\xff. */
static const struct vector VECTORS[] = {
    {"v1 key and value", SECRET_SEQ, "jiceng.visits", "520102", 6, "hello", 5,
     "16840b0715c8fc0ab87dd4e96f18a24cc2d58d52f2c29fd2240ee369ee4c8af9"},
    {"v2 null key", SECRET_SEQ, "jiceng.visits", NULL, 0, "hello", 5,
     "69a803c9d30939e115fc7f16b7ae20654e11d19660d1ee04a172fd619d63e950"},
    {"v3 empty key", SECRET_SEQ, "jiceng.visits", "", 0, "hello", 5,
     "d4c356a4023b57cc1d8a2383544bfc4525300b8bb7d075804215246bec2745de"},
    {"v4 null value", SECRET_SEQ, "jiceng.visits", "520102", 6, NULL, 0,
     "ea72ac92eae5c28c1a4a0aa97903c0cdc521dfd0c5217dc2111ba9b8f421c527"},
    {"v5 empty value", SECRET_SEQ, "jiceng.visits", "520102", 6, "", 0,
     "fd1175fe90a36f99ffa901faa2edfba72156641b285e69c2f89c206cd651f9c1"},
    {"v6 null key and value", SECRET_SEQ, "jiceng.visits", NULL, 0, NULL, 0,
     "af8ddc80df113f9865dc6f5f88852f7ca107d5083bd13dd08cdebcd0215a9f3b"},
    {"v7 empty topic, key and value", SECRET_SEQ, "", "", 0, "", 0,
     "f839b7a508b628d6b934767b9c14e1fdf388252d5b0ce214cd1006dec2215de2"},
    /* secret 42 x 32; value built with xxd -r -p from the hex of bytes i % 256, i < 300 */
    {"v8 long value, other secret", NULL, "jiceng.petitions", "522423", 6, "LONG", 300,
     "569c0a437c81d8f04174d2e890c6e650aedeafca956648b4bc8a0f056826920d"},
};

static unsigned char long_value[300];

static const void *vector_value(const struct vector *v)
{
    if (v->value == NULL || strcmp(v->value, "LONG") != 0)
        return v->value;
    for (size_t i = 0; i < sizeof long_value; i++)
        long_value[i] = (unsigned char)(i % 256);
    return long_value;
}

static const unsigned char *vector_secret(const struct vector *v)
{
    static unsigned char forty_twos[32];
    memset(forty_twos, 0x42, sizeof forty_twos);
    return v->secret != NULL ? v->secret : forty_twos;
}

static void hex_of(const unsigned char *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
}

static void fixed_vectors_match_openssl(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof VECTORS / sizeof VECTORS[0]; i++) {
        const struct vector *v = &VECTORS[i];
        unsigned char mac[JC_SIGN_MAC_BYTES];
        char hex[65];
        jc_error_t err;
        assert_int_equal(jc_sign_compute(vector_secret(v), 32, v->topic, v->key, v->key_len,
                                         vector_value(v), v->value_len, mac, &err), JC_OK);
        hex_of(mac, sizeof mac, hex);
        if (strcmp(hex, v->expect) != 0)
            fail_msg("%s: got %s, openssl says %s", v->what, hex, v->expect);

        /* the signer (a reused MAC context) gives the same, as a header value */
        jc_signer_t *s;
        char sig[JC_SIGN_SIG_LEN + 1], want[JC_SIGN_SIG_LEN + 1];
        assert_int_equal(jc_signer_new("k1", 520102, vector_secret(v), &s, &err), JC_OK);
        for (int round = 0; round < 2; round++) {
            assert_int_equal(jc_signer_sign(s, v->topic, v->key, v->key_len, vector_value(v),
                                            v->value_len, sig, &err), JC_OK);
            snprintf(want, sizeof want, "v1:%s", v->expect);
            assert_string_equal(sig, want);
        }
        jc_signer_free(s);
    }
}

static void null_and_empty_differ(void **state)
{
    (void)state;
    /* v1..v6 share topic and secret and differ only in null/empty/present: all distinct */
    for (size_t a = 0; a < 6; a++)
        for (size_t b = a + 1; b < 6; b++)
            assert_string_not_equal(VECTORS[a].expect, VECTORS[b].expect);
}

static void format_and_parse_round_trip(void **state)
{
    (void)state;
    unsigned char mac[32], back[32];
    char sig[JC_SIGN_SIG_LEN + 1];
    for (int i = 0; i < 32; i++)
        mac[i] = (unsigned char)(i * 37 + 5);
    jc_sign_format(mac, sig);
    assert_int_equal(strlen(sig), JC_SIGN_SIG_LEN);
    assert_memory_equal(sig, "v1:", 3);
    assert_int_equal(jc_sign_parse(sig, strlen(sig), back), 1);
    assert_memory_equal(mac, back, 32);
}

static void malformed_signature_headers_are_refused(void **state)
{
    (void)state;
    const char *good = "v1:16840b0715c8fc0ab87dd4e96f18a24cc2d58d52f2c29fd2240ee369ee4c8af9";
    const char *bad[] = {
        "",
        "v1:",
        "v1:16840b0715c8fc0ab87dd4e96f18a24cc2d58d52f2c29fd2240ee369ee4c8af",    /* short */
        "v1:16840b0715c8fc0ab87dd4e96f18a24cc2d58d52f2c29fd2240ee369ee4c8af9a",  /* long */
        "v1:16840B0715C8FC0AB87DD4E96F18A24CC2D58D52F2C29FD2240EE369EE4C8AF9",   /* upper */
        "v1:16840b0715c8fc0ab87dd4e96f18a24cc2d58d52f2c29fd2240ee369ee4c8afg",   /* non-hex */
        "v1:16840b0715c8fc0ab87dd4e96f18a24cc2d58d52f2c29fd2240ee369ee4c8a 9",   /* space */
        "v2:16840b0715c8fc0ab87dd4e96f18a24cc2d58d52f2c29fd2240ee369ee4c8af9",   /* version */
        "V1:16840b0715c8fc0ab87dd4e96f18a24cc2d58d52f2c29fd2240ee369ee4c8af9",
        "v1-16840b0715c8fc0ab87dd4e96f18a24cc2d58d52f2c29fd2240ee369ee4c8af9",
        "16840b0715c8fc0ab87dd4e96f18a24cc2d58d52f2c29fd2240ee369ee4c8af9",      /* no prefix */
        "v1:FoEFsHFcj8CrjdTpbxiiTMLVjVLywp/SJA7jae5Mivk=",                       /* base64 */
    };
    unsigned char mac[32];
    assert_int_equal(jc_sign_parse(good, strlen(good), mac), 1);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (jc_sign_parse(bad[i], strlen(bad[i]), mac) != 0)
            fail_msg("accepted malformed signature header '%s'", bad[i]);
    /* a NUL inside, at the right length */
    char with_nul[JC_SIGN_SIG_LEN];
    memcpy(with_nul, good, sizeof with_nul);
    with_nul[40] = '\0';
    assert_int_equal(jc_sign_parse(with_nul, sizeof with_nul, mac), 0);
    assert_int_equal(jc_sign_parse(NULL, 0, mac), 0);
}

static void key_ids(void **state)
{
    (void)state;
    char max[JC_SIGN_KEY_ID_MAX + 2];
    memset(max, 'k', sizeof max);
    assert_true(jc_sign_key_id_valid("520102-2026a.v_1", 16));
    assert_true(jc_sign_key_id_valid(max, JC_SIGN_KEY_ID_MAX));
    assert_false(jc_sign_key_id_valid(max, JC_SIGN_KEY_ID_MAX + 1));
    assert_false(jc_sign_key_id_valid("", 0));
    assert_false(jc_sign_key_id_valid("a b", 3));
    assert_false(jc_sign_key_id_valid("a/b", 3));
    assert_false(jc_sign_key_id_valid("a\0b", 3));
    assert_false(jc_sign_key_id_valid("\xe5\x8e\xbf", 3)); /* 县 */
}

/* ---- keyring and verification ---------------------------------------------------------- */

#define T0 1790000000000LL /* 2026-09-21 */
#define HOUR (3600LL * 1000)

static jc_sign_key_t make_key(const char *id, int32_t county, unsigned char fill, int64_t from,
                              int64_t until)
{
    jc_sign_key_t k;
    memset(&k, 0, sizeof k);
    snprintf(k.key_id, sizeof k.key_id, "%s", id);
    k.county_code = county;
    memset(k.secret, fill, sizeof k.secret);
    k.valid_from_ms = from;
    k.valid_until_ms = until;
    return k;
}

struct fixture {
    jc_keyring_t *ring;
    jc_signer_t *a1, *a2, *b1, *old1;
};

/* Keys: a1 (520102, [T0, T0+10h)), a2 (520102, [T0+10h, open)), b1 (520103, open from T0),
 * old1 registered for 520581 (黔西市) whose old codes are 520522 and 522423. */
static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    jc_error_t err;
    jc_sign_key_t keys[] = {
        make_key("a1", 520102, 0xa1, T0, T0 + 10 * HOUR),
        make_key("a2", 520102, 0xa2, T0 + 10 * HOUR, JC_SIGN_OPEN_END),
        make_key("b1", 520103, 0xb1, T0, JC_SIGN_OPEN_END),
        make_key("old1", 520581, 0x01, T0, JC_SIGN_OPEN_END),
    };
    jc_signer_t **signers[] = {&f->a1, &f->a2, &f->b1, &f->old1};
    if (jc_keyring_new(&f->ring, &err) != JC_OK)
        return -1;
    for (size_t i = 0; i < 4; i++)
        if (jc_keyring_put(f->ring, &keys[i], &err) != JC_OK ||
            jc_signer_new(keys[i].key_id, keys[i].county_code, keys[i].secret, signers[i], &err) != JC_OK)
            return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    jc_keyring_free(f->ring);
    jc_signer_free(f->a1);
    jc_signer_free(f->a2);
    jc_signer_free(f->b1);
    jc_signer_free(f->old1);
    free(f);
    return 0;
}

/* A record as a consumer sees it, signed by s (NULL: unsigned) at ts. */
struct rec {
    jc_signed_record_t r;
    char sig[JC_SIGN_SIG_LEN + 1];
};

static void make_rec(struct rec *out, jc_signer_t *s, const char *topic, const char *key,
                     const char *value, int64_t ts)
{
    memset(out, 0, sizeof *out);
    out->r.topic = topic;
    out->r.key = key;
    out->r.key_len = key ? strlen(key) : 0;
    out->r.value = value;
    out->r.value_len = value ? strlen(value) : 0;
    out->r.timestamp_ms = ts;
    if (s != NULL) {
        assert_int_equal(jc_signer_sign(s, topic, key, out->r.key_len, value, out->r.value_len,
                                        out->sig, NULL), JC_OK);
        out->r.key_id = jc_signer_key_id(s);
        out->r.key_id_len = strlen(jc_signer_key_id(s));
        out->r.sig = out->sig;
        out->r.sig_len = JC_SIGN_SIG_LEN;
    }
}

/* Verify rec and expect verdict v; a refusal must be JC_ERR_UNAUTHORIZED naming the verdict. */
static void expect_verdict(jc_keyring_t *ring, const jc_signed_record_t *r, jc_sign_verdict_t v)
{
    jc_error_t err;
    jc_sign_verdict_t got = JC_SIGN_VERDICT_COUNT_;
    const jc_sign_key_t *key = NULL;
    jc_status_t st = jc_sign_verify(ring, r, &key, &got, &err);
    if (got != v)
        fail_msg("verdict %s, expected %s (%s)", jc_sign_verdict_name(got),
                 jc_sign_verdict_name(v), st == JC_OK ? "ok" : err.message);
    if (v == JC_SIGN_OK) {
        assert_int_equal(st, JC_OK);
        assert_non_null(key);
        return;
    }
    assert_int_equal(st, JC_ERR_UNAUTHORIZED);
    assert_int_equal(err.code, JC_ERR_UNAUTHORIZED);
    assert_int_equal(strncmp(err.message, jc_sign_verdict_name(v),
                             strlen(jc_sign_verdict_name(v))), 0);
}

static void a_signed_record_verifies_and_names_its_key(void **state)
{
    struct fixture *f = *state;
    struct rec r;
    make_rec(&r, f->a1, "jiceng.visits", "520102", "frame\x01payload", T0 + HOUR);
    const jc_sign_key_t *key = NULL;
    jc_sign_verdict_t v = JC_SIGN_VERDICT_COUNT_;
    assert_int_equal(jc_sign_verify(f->ring, &r.r, &key, &v, NULL), JC_OK);
    assert_int_equal(v, JC_SIGN_OK);
    assert_string_equal(key->key_id, "a1");
    assert_int_equal(key->county_code, 520102);
    /* the same record verified again (the ring's MAC context is reused) */
    expect_verdict(f->ring, &r.r, JC_SIGN_OK);
}

static void any_changed_byte_fails(void **state)
{
    struct fixture *f = *state;
    char topic[] = "jiceng.visits", key[] = "520102", value[] = "avro-bytes-here";
    struct rec r;
    make_rec(&r, f->a1, topic, key, value, T0 + HOUR);
    expect_verdict(f->ring, &r.r, JC_SIGN_OK);
    char *parts[] = {topic, key, value};
    for (size_t p = 0; p < 3; p++)
        for (size_t i = 0; i < strlen(parts[p]); i++) {
            parts[p][i] ^= 0x01;
            expect_verdict(f->ring, &r.r, JC_SIGN_BAD_SIGNATURE);
            parts[p][i] ^= 0x01;
        }
    expect_verdict(f->ring, &r.r, JC_SIGN_OK);
    /* a byte flipped in the signature itself */
    r.sig[10] = r.sig[10] == '0' ? '1' : '0';
    expect_verdict(f->ring, &r.r, JC_SIGN_BAD_SIGNATURE);
}

static void bytes_cannot_move_between_parts(void **state)
{
    struct fixture *f = *state;
    struct rec r, moved;
    make_rec(&r, f->a1, "jiceng.visits", "520102", "hello", T0 + HOUR);
    /* same concatenation, different split: key "5201", value "02hello" */
    make_rec(&moved, NULL, "jiceng.visits", "5201", "02hello", T0 + HOUR);
    moved.r.key_id = "a1";
    moved.r.key_id_len = 2;
    moved.r.sig = r.sig;
    moved.r.sig_len = JC_SIGN_SIG_LEN;
    expect_verdict(f->ring, &moved.r, JC_SIGN_BAD_SIGNATURE);
    /* topic "jiceng.visits5" and key "20102" */
    make_rec(&moved, NULL, "jiceng.visits5", "20102", "hello", T0 + HOUR);
    moved.r.key_id = "a1";
    moved.r.key_id_len = 2;
    moved.r.sig = r.sig;
    moved.r.sig_len = JC_SIGN_SIG_LEN;
    expect_verdict(f->ring, &moved.r, JC_SIGN_BAD_SIGNATURE);
}

static void null_signature_does_not_verify_empty(void **state)
{
    struct fixture *f = *state;
    struct rec r;
    make_rec(&r, f->a1, "jiceng.visits", NULL, "hello", T0 + HOUR);
    expect_verdict(f->ring, &r.r, JC_SIGN_OK);
    r.r.key = ""; /* the same record with an empty key instead of a null one */
    expect_verdict(f->ring, &r.r, JC_SIGN_BAD_SIGNATURE);
    make_rec(&r, f->a1, "jiceng.visits", "520102", "", T0 + HOUR);
    expect_verdict(f->ring, &r.r, JC_SIGN_OK);
    r.r.value = NULL; /* empty value signed, null value presented */
    expect_verdict(f->ring, &r.r, JC_SIGN_BAD_SIGNATURE);
}

static void missing_and_malformed_headers(void **state)
{
    struct fixture *f = *state;
    struct rec r;
    make_rec(&r, NULL, "jiceng.visits", "520102", "hello", T0 + HOUR);
    expect_verdict(f->ring, &r.r, JC_SIGN_MISSING);
    make_rec(&r, f->a1, "jiceng.visits", "520102", "hello", T0 + HOUR);
    r.r.sig = NULL;
    expect_verdict(f->ring, &r.r, JC_SIGN_MISSING);
    make_rec(&r, f->a1, "jiceng.visits", "520102", "hello", T0 + HOUR);
    r.r.key_id = NULL;
    expect_verdict(f->ring, &r.r, JC_SIGN_MISSING);
    make_rec(&r, f->a1, "jiceng.visits", "520102", "hello", T0 + HOUR);
    r.r.key_id = "a 1";
    r.r.key_id_len = 3;
    expect_verdict(f->ring, &r.r, JC_SIGN_MALFORMED);
    make_rec(&r, f->a1, "jiceng.visits", "520102", "hello", T0 + HOUR);
    r.r.sig_len = JC_SIGN_SIG_LEN - 1;
    expect_verdict(f->ring, &r.r, JC_SIGN_MALFORMED);
    make_rec(&r, f->a1, "jiceng.visits", "520102", "hello", T0 + HOUR);
    for (char *c = r.sig + 3; *c; c++)
        *c = (char)(*c >= 'a' && *c <= 'f' ? *c - 'a' + 'A' : *c);
    expect_verdict(f->ring, &r.r, JC_SIGN_MALFORMED); /* uppercase hex */
    make_rec(&r, f->a1, "jiceng.visits", "520102", "hello", T0 + HOUR);
    r.sig[1] = '2';
    expect_verdict(f->ring, &r.r, JC_SIGN_MALFORMED); /* "v2:" */
    make_rec(&r, f->a1, "jiceng.visits", "520102", "hello", T0 + HOUR);
    r.r.repeated = 1;
    expect_verdict(f->ring, &r.r, JC_SIGN_MALFORMED);
}

static void unknown_key(void **state)
{
    struct fixture *f = *state;
    struct rec r;
    make_rec(&r, f->a1, "jiceng.visits", "520102", "hello", T0 + HOUR);
    r.r.key_id = "a3";
    expect_verdict(f->ring, &r.r, JC_SIGN_UNKNOWN_KEY);
    /* a signer whose key the aggregator never got, using an issued key's id */
    jc_signer_t *forger;
    unsigned char guess[32] = {0};
    assert_int_equal(jc_signer_new("a1", 520102, guess, &forger, NULL), JC_OK);
    make_rec(&r, forger, "jiceng.visits", "520102", "hello", T0 + HOUR);
    expect_verdict(f->ring, &r.r, JC_SIGN_BAD_SIGNATURE);
    jc_signer_free(forger);
    /* a prefix or extension of an issued id is another id */
    make_rec(&r, f->a1, "jiceng.visits", "520102", "hello", T0 + HOUR);
    r.r.key_id = "a";
    r.r.key_id_len = 1;
    expect_verdict(f->ring, &r.r, JC_SIGN_UNKNOWN_KEY);
    r.r.key_id = "a1x";
    r.r.key_id_len = 3;
    expect_verdict(f->ring, &r.r, JC_SIGN_UNKNOWN_KEY);
}

static void validity_is_judged_by_record_timestamp(void **state)
{
    struct fixture *f = *state;
    struct rec r;
    /* a1: [T0, T0+10h) */
    make_rec(&r, f->a1, "jiceng.visits", "520102", "hello", T0);
    expect_verdict(f->ring, &r.r, JC_SIGN_OK);
    make_rec(&r, f->a1, "jiceng.visits", "520102", "hello", T0 - 1);
    expect_verdict(f->ring, &r.r, JC_SIGN_NOT_YET_VALID);
    make_rec(&r, f->a1, "jiceng.visits", "520102", "hello", T0 + 10 * HOUR - 1);
    expect_verdict(f->ring, &r.r, JC_SIGN_OK);
    make_rec(&r, f->a1, "jiceng.visits", "520102", "hello", T0 + 10 * HOUR);
    expect_verdict(f->ring, &r.r, JC_SIGN_KEY_CLOSED);
    /* its successor a2 takes over at exactly that instant: nothing falls between */
    make_rec(&r, f->a2, "jiceng.visits", "520102", "hello", T0 + 10 * HOUR);
    expect_verdict(f->ring, &r.r, JC_SIGN_OK);
    make_rec(&r, f->a2, "jiceng.visits", "520102", "hello", T0 + 10 * HOUR - 1);
    expect_verdict(f->ring, &r.r, JC_SIGN_NOT_YET_VALID);
    /* a record without a timestamp (-1) is before every key */
    make_rec(&r, f->b1, "jiceng.visits", "520103", "hello", -1);
    expect_verdict(f->ring, &r.r, JC_SIGN_NOT_YET_VALID);
}

static void closing_a_key_later_changes_only_later_records(void **state)
{
    struct fixture *f = *state;
    struct rec before, after;
    make_rec(&before, f->b1, "jiceng.visits", "520103", "hello", T0 + 5 * HOUR);
    make_rec(&after, f->b1, "jiceng.visits", "520103", "hello", T0 + 6 * HOUR);
    expect_verdict(f->ring, &after.r, JC_SIGN_OK);
    jc_sign_key_t closed = make_key("b1", 520103, 0xb1, T0, T0 + 6 * HOUR);
    assert_int_equal(jc_keyring_put(f->ring, &closed, NULL), JC_OK);
    assert_int_equal(jc_keyring_count(f->ring), 4);
    expect_verdict(f->ring, &before.r, JC_SIGN_OK);
    expect_verdict(f->ring, &after.r, JC_SIGN_KEY_CLOSED);
}

static void county_must_be_the_keys(void **state)
{
    struct fixture *f = *state;
    jc_error_t err;
    jc_sign_verdict_t v;
    const jc_sign_key_t *a1 = jc_keyring_find(f->ring, "a1", 2), *old1;
    assert_non_null(a1);
    assert_int_equal(jc_sign_check_county(a1, 520102, &v, &err), JC_OK);
    assert_int_equal(v, JC_SIGN_OK);
    /* another county's code */
    assert_int_equal(jc_sign_check_county(a1, 520103, &v, &err), JC_ERR_UNAUTHORIZED);
    assert_int_equal(v, JC_SIGN_WRONG_COUNTY);
    assert_non_null(strstr(err.message, "wrong-county"));
    assert_non_null(strstr(err.message, "520103"));
    /* a prefecture and a code that is no county */
    assert_int_equal(jc_sign_check_county(a1, 520100, &v, &err), JC_ERR_UNAUTHORIZED);
    assert_int_equal(v, JC_SIGN_WRONG_COUNTY);
    assert_int_equal(jc_sign_check_county(a1, 999999, &v, &err), JC_ERR_UNAUTHORIZED);
    /* old codes of the key's own county are its county */
    old1 = jc_keyring_find(f->ring, "old1", 4);
    assert_int_equal(jc_sign_check_county(old1, 522423, &v, &err), JC_OK);
    assert_int_equal(jc_sign_check_county(old1, 520522, &v, &err), JC_OK);
    assert_int_equal(jc_sign_check_county(old1, 520581, &v, &err), JC_OK);
    /* a key registered under an old code signs for the current county */
    jc_sign_key_t k = make_key("old2", 522423, 0x02, T0, JC_SIGN_OPEN_END);
    assert_int_equal(jc_keyring_put(f->ring, &k, &err), JC_OK);
    assert_int_equal(jc_sign_check_county(jc_keyring_find(f->ring, "old2", 4), 520581, &v, &err),
                     JC_OK);

    /* jc_keyring_check does all three: existence, time, county (0: county not checked) */
    const jc_sign_key_t *out = NULL;
    assert_int_equal(jc_keyring_check(f->ring, "a1", 2, T0, 520102, &out, &v, &err), JC_OK);
    assert_ptr_equal(out, a1);
    assert_int_equal(jc_keyring_check(f->ring, "a1", 2, T0, 520103, &out, &v, &err),
                     JC_ERR_UNAUTHORIZED);
    assert_int_equal(v, JC_SIGN_WRONG_COUNTY);
    assert_int_equal(jc_keyring_check(f->ring, "a1", 2, T0, 0, &out, &v, &err), JC_OK);
    assert_int_equal(jc_keyring_check(f->ring, "old1", 4, T0, 522423, &out, &v, &err), JC_OK);
    assert_int_equal(jc_keyring_check(f->ring, "zz", 2, T0, 520102, &out, &v, &err),
                     JC_ERR_UNAUTHORIZED);
    assert_int_equal(v, JC_SIGN_UNKNOWN_KEY);
    assert_int_equal(jc_keyring_check(f->ring, "a1", 2, T0 + 10 * HOUR, 520102, &out, &v, &err),
                     JC_ERR_UNAUTHORIZED);
    assert_int_equal(v, JC_SIGN_KEY_CLOSED);
    assert_int_equal(jc_keyring_check(f->ring, "a2", 2, T0, 520102, &out, &v, &err),
                     JC_ERR_UNAUTHORIZED);
    assert_int_equal(v, JC_SIGN_NOT_YET_VALID);
}

static void keyring_put_rules(void **state)
{
    struct fixture *f = *state;
    jc_error_t err;
    jc_sign_key_t k = make_key("a1", 520102, 0xee, T0, JC_SIGN_OPEN_END);
    /* an id keeps its secret and county */
    assert_int_equal(jc_keyring_put(f->ring, &k, &err), JC_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "never reused"));
    k = make_key("a1", 520103, 0xa1, T0, JC_SIGN_OPEN_END);
    assert_int_equal(jc_keyring_put(f->ring, &k, &err), JC_ERR_INVALID_ARG);
    k = make_key("new", 520102, 0x11, T0, T0 - 1);
    assert_int_equal(jc_keyring_put(f->ring, &k, &err), JC_ERR_INVALID_ARG);
    k = make_key("new", 520100, 0x11, T0, JC_SIGN_OPEN_END); /* a prefecture */
    assert_int_equal(jc_keyring_put(f->ring, &k, &err), JC_ERR_INVALID_ARG);
    k = make_key("bad id", 520102, 0x11, T0, JC_SIGN_OPEN_END);
    assert_int_equal(jc_keyring_put(f->ring, &k, &err), JC_ERR_INVALID_ARG);
    /* an empty period (revoked before it began) is allowed, and valid at no time */
    k = make_key("never", 520102, 0x12, T0, T0);
    assert_int_equal(jc_keyring_put(f->ring, &k, &err), JC_OK);
    jc_sign_verdict_t v;
    assert_int_equal(jc_keyring_check(f->ring, "never", 5, T0, 0, NULL, &v, &err),
                     JC_ERR_UNAUTHORIZED);
    assert_int_equal(jc_keyring_count(f->ring), 5);
}

static void many_keys_are_all_found(void **state)
{
    (void)state;
    jc_keyring_t *ring;
    assert_int_equal(jc_keyring_new(&ring, NULL), JC_OK);
    const jc_sign_key_t *seen[300];
    /* ids inserted in a scrambled order (i * 7919 mod 300) */
    for (int i = 0; i < 300; i++) {
        char id[16];
        int n = (i * 7919) % 300;
        snprintf(id, sizeof id, "k%d", n);
        jc_sign_key_t k = make_key(id, 520102, (unsigned char)n, T0, JC_SIGN_OPEN_END);
        assert_int_equal(jc_keyring_put(ring, &k, NULL), JC_OK);
    }
    assert_int_equal(jc_keyring_count(ring), 300);
    for (int n = 0; n < 300; n++) {
        char id[16];
        snprintf(id, sizeof id, "k%d", n);
        seen[n] = jc_keyring_find(ring, id, strlen(id));
        assert_non_null(seen[n]);
        assert_string_equal(seen[n]->key_id, id);
        assert_int_equal(seen[n]->secret[0], (unsigned char)n);
    }
    /* pointers stay valid as the ring grows */
    jc_sign_key_t more = make_key("k999", 520102, 1, T0, JC_SIGN_OPEN_END);
    assert_int_equal(jc_keyring_put(ring, &more, NULL), JC_OK);
    assert_ptr_equal(jc_keyring_find(ring, "k7", 2), seen[7]);
    assert_null(jc_keyring_find(ring, "k300", 4));
    jc_keyring_free(ring);
}

static void kafka_headers_carry_the_signature(void **state)
{
    struct fixture *f = *state;
    jc_error_t err;
    rd_kafka_headers_t *h = rd_kafka_headers_new(4);
    rd_kafka_header_add(h, "other", -1, "x", 1);
    assert_int_equal(jc_signer_add_headers(f->b1, h, "jiceng.trainings", "520103", 6, "v", 1,
                                           &err), JC_OK);
    struct rec r;
    make_rec(&r, NULL, "jiceng.trainings", "520103", "v", T0 + HOUR);
    jc_signed_record_headers(&r.r, h);
    assert_int_equal(r.r.key_id_len, 2);
    assert_memory_equal(r.r.key_id, "b1", 2);
    assert_int_equal(r.r.sig_len, JC_SIGN_SIG_LEN);
    assert_int_equal(r.r.repeated, 0);
    expect_verdict(f->ring, &r.r, JC_SIGN_OK);
    /* a second signature header makes the record ambiguous */
    rd_kafka_header_add(h, JC_SIGN_HEADER_SIG, -1, r.r.sig, (ssize_t)r.r.sig_len);
    jc_signed_record_headers(&r.r, h);
    expect_verdict(f->ring, &r.r, JC_SIGN_MALFORMED);
    rd_kafka_headers_destroy(h);

    /* a key id header with a null value is present but malformed */
    h = rd_kafka_headers_new(2);
    rd_kafka_header_add(h, JC_SIGN_HEADER_KEY_ID, -1, NULL, 0);
    rd_kafka_header_add(h, JC_SIGN_HEADER_SIG, -1, r.sig, -1);
    jc_signed_record_headers(&r.r, h);
    assert_non_null(r.r.key_id);
    expect_verdict(f->ring, &r.r, JC_SIGN_MALFORMED);
    rd_kafka_headers_destroy(h);

    /* no headers at all */
    jc_signed_record_headers(&r.r, NULL);
    expect_verdict(f->ring, &r.r, JC_SIGN_MISSING);
}

/* ---- files ------------------------------------------------------------------------------ */

static char *temp_path(const char *name)
{
    static char path[256];
    char dir[] = "/tmp/jc_sign_XXXXXX";
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

static void write_text(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    assert_int_equal(chmod(path, mode), 0);
}

static void secret_file_permissions(void **state)
{
    (void)state;
    char *p = temp_path("secret.env");
    jc_error_t err;
    write_text(p, "PASSWORD=x\n", 0600);
    assert_int_equal(jc_secret_file_check(p, &err), JC_OK);
    assert_int_equal(chmod(p, 0400), 0);
    assert_int_equal(jc_secret_file_check(p, &err), JC_OK);
    mode_t too_open[] = {0644, 0640, 0604, 0660, 0606, 0610, 0601, 0666, 0700 | 0020};
    for (size_t i = 0; i < sizeof too_open / sizeof too_open[0]; i++) {
        char want[320];
        assert_int_equal(chmod(p, too_open[i]), 0);
        assert_int_equal(jc_secret_file_check(p, &err), JC_ERR_INSECURE_FILE);
        assert_int_equal(err.code, JC_ERR_INSECURE_FILE);
        snprintf(want, sizeof want, "permissions %04o for '%s' are too open", (unsigned)too_open[i],
                 p);
        if (strstr(err.message, want) == NULL)
            fail_msg("message '%s' lacks '%s'", err.message, want);
        assert_non_null(strstr(err.message, "chmod 600"));
    }
    /* the descriptor form judges the same */
    assert_int_equal(chmod(p, 0644), 0);
    int fd = open(p, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(jc_secret_fd_check(fd, p, &err), JC_ERR_INSECURE_FILE);
    assert_int_equal(fchmod(fd, 0600), 0);
    assert_int_equal(jc_secret_fd_check(fd, p, &err), JC_OK);
    close(fd);
    unlink(p);
    assert_int_equal(jc_secret_file_check(p, &err), JC_ERR_IO); /* gone */
    *strrchr(p, '/') = '\0';
    assert_int_equal(jc_secret_file_check(p, &err), JC_ERR_IO); /* a directory */
    assert_non_null(strstr(err.message, "not a regular file"));
    rmdir(p);
}

static void key_file_round_trip(void **state)
{
    (void)state;
    char *p = temp_path("county.key");
    jc_error_t err;
    jc_signer_t *s;
    assert_int_equal(jc_sign_key_file_write(p, "520102-2026a", 520102, SECRET_SEQ, &err), JC_OK);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* written once: never over an existing file */
    assert_int_equal(jc_sign_key_file_write(p, "520102-2026b", 520102, SECRET_SEQ, &err),
                     JC_ERR_IO);
    assert_int_equal(jc_signer_load(p, &s, &err), JC_OK);
    assert_string_equal(jc_signer_key_id(s), "520102-2026a");
    assert_int_equal(jc_signer_county(s), 520102);
    char sig[JC_SIGN_SIG_LEN + 1];
    assert_int_equal(jc_signer_sign(s, "jiceng.visits", "520102", 6, "hello", 5, sig, &err),
                     JC_OK);
    assert_string_equal(sig, "v1:16840b0715c8fc0ab87dd4e96f18a24cc2d58d52f2c29fd2240ee369ee4c8af9");
    jc_signer_free(s);
    /* too open: refused before it is read */
    assert_int_equal(chmod(p, 0640), 0);
    assert_int_equal(jc_signer_load(p, &s, &err), JC_ERR_INSECURE_FILE);
    assert_null(s);
    assert_non_null(strstr(err.message, "0640"));
    unlink(p);
    *strrchr(p, '/') = '\0';
    rmdir(p);
}

static void key_file_errors_never_show_the_secret(void **state)
{
    (void)state;
    const char *hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    char text[256];
    struct {
        const char *body;
        const char *expect;
    } cases[] = {
        {"key_id=k1\ncounty=520102\n", "needs key_id=, county= and secret="},
        {"secret=%s\ncounty=520102\n", "needs key_id=, county= and secret="},
        {"key_id=k1\nsecret=%s\n", "needs key_id=, county= and secret="},
        {"key_id=k1\ncounty=520102\nsecret=%s0\n", "not exactly 64 hex digits"},
        {"key_id=k1\ncounty=520102\nsecret=%.63sg\n", "not exactly 64 hex digits"},
        {"key_id=k1\nkey_id=k2\ncounty=520102\nsecret=%s\n", "key_id given twice"},
        {"key_id=k1\ncounty=520102\ncounty=520103\nsecret=%s\n", "county given twice"},
        {"key_id=k 1\ncounty=520102\nsecret=%s\n", "is not 1..64"},
        {"key_id=k1\ncounty=520100\nsecret=%s\n", "county '520100' is not a county"},
        {"key_id=k1\ncounty=52010\nsecret=%s\n", "county '52010' is not a county"},
        {"key_id=k1\ncounty=+52010\nsecret=%s\n", "county '+52010' is not a county"},
        {"key_id=k1\ncounty=520102\nsecret=%s\nowner=x\n", "unknown entry 'owner'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *p = temp_path("bad.key");
        jc_error_t err;
        jc_signer_t *s;
        snprintf(text, sizeof text, cases[i].body, hex);
        write_text(p, text, 0600);
        assert_int_equal(jc_signer_load(p, &s, &err), JC_ERR_PARSE);
        assert_null(s);
        if (strstr(err.message, cases[i].expect) == NULL)
            fail_msg("case %zu: '%s' lacks '%s'", i, err.message, cases[i].expect);
        assert_null(strstr(err.message, "0405060708"));
        unlink(p);
        *strrchr(p, '/') = '\0';
        rmdir(p);
    }
}

/* A key file with an old county code signs for the current one; the writer writes that. */
static void key_files_name_the_current_county(void **state)
{
    (void)state;
    char *p = temp_path("old.key");
    jc_error_t err;
    jc_signer_t *s;
    write_text(p, "key_id=old-1\ncounty=522423\n"
               "secret=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n", 0600);
    assert_int_equal(jc_signer_load(p, &s, &err), JC_OK);
    assert_int_equal(jc_signer_county(s), 520581);
    jc_signer_free(s);
    unlink(p);
    assert_int_equal(jc_sign_key_file_write(p, "old-2", 522423, SECRET_SEQ, &err), JC_OK);
    char text[512] = {0};
    FILE *f = fopen(p, "r");
    assert_non_null(f);
    assert_true(fread(text, 1, sizeof text - 1, f) > 0);
    fclose(f);
    assert_non_null(strstr(text, "\ncounty=520581\n"));
    unlink(p);
    assert_int_equal(jc_sign_key_file_write(p, "bad", 520100, SECRET_SEQ, &err),
                     JC_ERR_INVALID_ARG);
    assert_int_equal(access(p, F_OK), -1); /* nothing written */
    *strrchr(p, '/') = '\0';
    rmdir(p);
}

/* Write DIR/NAME as a key file for county with secret byte fill. */
static void put_key(const char *dir, const char *name, const char *key_id, int32_t county,
                    unsigned char fill)
{
    char path[512];
    unsigned char secret[32];
    memset(secret, fill, sizeof secret);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    assert_int_equal(jc_sign_key_file_write(path, key_id, county, secret, NULL), JC_OK);
}

static void remove_dir(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* A producer's signers: one file, or a directory of *.key files, one per county. */
static void signers_from_a_file_or_a_directory(void **state)
{
    (void)state;
    char dir[] = "/tmp/jc_signers_XXXXXX";
    assert_non_null(mkdtemp(dir));
    jc_error_t err;
    jc_signers_t *set;
    put_key(dir, "520102.key", "520102-1", 520102, 0x11);
    put_key(dir, "520103.key", "520103-1", 520103, 0x22);
    put_key(dir, "old.key", "old-1", 522423, 0x33); /* an old code: 520581 */
    char other[600];
    snprintf(other, sizeof other, "%s/README", dir); /* not *.key: ignored */
    write_text(other, "not a key\n", 0644);
    assert_int_equal(jc_signers_load(dir, &set, &err), JC_OK);
    assert_int_equal(jc_signers_count(set), 3);
    assert_string_equal(jc_signer_key_id(jc_signers_find(set, 520102)), "520102-1");
    assert_string_equal(jc_signer_key_id(jc_signers_find(set, 520103)), "520103-1");
    assert_string_equal(jc_signer_key_id(jc_signers_find(set, 520581)), "old-1");
    assert_null(jc_signers_find(set, 520522)); /* found by the current code only */
    assert_null(jc_signers_find(set, 520111));
    assert_int_equal(jc_signer_county(jc_signers_at(set, 0)), 520102);
    assert_int_equal(jc_signer_county(jc_signers_at(set, 2)), 520581);
    assert_null(jc_signers_at(set, 3));
    /* a signer from the set signs like one made from the same secret */
    unsigned char secret[32];
    memset(secret, 0x22, sizeof secret);
    unsigned char mac[32];
    char want[JC_SIGN_SIG_LEN + 1], got[JC_SIGN_SIG_LEN + 1];
    assert_int_equal(jc_sign_compute(secret, 32, "jiceng.visits", "520103", 6, "v", 1, mac,
                                     NULL), JC_OK);
    jc_sign_format(mac, want);
    assert_int_equal(jc_signer_sign(jc_signers_find(set, 520103), "jiceng.visits", "520103", 6,
                                    "v", 1, got, NULL), JC_OK);
    assert_string_equal(got, want);
    jc_signers_free(set);

    /* one file */
    char one[600];
    snprintf(one, sizeof one, "%s/520103.key", dir);
    assert_int_equal(jc_signers_load(one, &set, &err), JC_OK);
    assert_int_equal(jc_signers_count(set), 1);
    assert_null(jc_signers_find(set, 520102));
    assert_non_null(jc_signers_find(set, 520103));
    jc_signers_free(set);

    /* two keys for one county: refused, naming both */
    put_key(dir, "zz.key", "520102-2", 520102, 0x44);
    assert_int_equal(jc_signers_load(dir, &set, &err), JC_ERR_INVALID_ARG);
    assert_null(set);
    assert_non_null(strstr(err.message, "second signing key for county 520102"));
    assert_non_null(strstr(err.message, "520102-1"));
    assert_non_null(strstr(err.message, "520102-2"));
    snprintf(other, sizeof other, "%s/zz.key", dir);
    unlink(other);

    /* a key file others may read: refused, as on its own */
    snprintf(other, sizeof other, "%s/520103.key", dir);
    assert_int_equal(chmod(other, 0644), 0);
    assert_int_equal(jc_signers_load(dir, &set, &err), JC_ERR_INSECURE_FILE);
    assert_non_null(strstr(err.message, "520103.key"));
    remove_dir(dir);

    /* an empty directory, a missing path */
    assert_non_null(mkdtemp(strcpy(dir, "/tmp/jc_signers_XXXXXX")));
    assert_int_equal(jc_signers_load(dir, &set, &err), JC_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "no signing key files"));
    remove_dir(dir);
    assert_int_equal(jc_signers_load(dir, &set, &err), JC_ERR_IO);
    assert_int_equal(jc_signers_load("", &set, &err), JC_ERR_INVALID_ARG);
}

static void secrets_from_hex_and_random(void **state)
{
    (void)state;
    unsigned char s[32], t[32];
    assert_int_equal(jc_sign_secret_from_hex(
        "000102030405060708090A0B0C0D0E0F101112131415161718191a1b1c1d1e1f", s, NULL), JC_OK);
    assert_memory_equal(s, SECRET_SEQ, 32);
    assert_int_equal(jc_sign_secret_from_hex("00", s, NULL), JC_ERR_PARSE);
    assert_int_equal(jc_sign_secret_generate(s, NULL), JC_OK);
    assert_int_equal(jc_sign_secret_generate(t, NULL), JC_OK);
    assert_memory_not_equal(s, t, 32);
}

static void bad_arguments(void **state)
{
    (void)state;
    unsigned char mac[32];
    jc_error_t err;
    assert_int_equal(jc_sign_compute(SECRET_SEQ, 32, NULL, "k", 1, "v", 1, mac, &err),
                     JC_ERR_INVALID_ARG);
    assert_int_equal(jc_sign_compute(SECRET_SEQ, 32, "t", NULL, 3, "v", 1, mac, &err),
                     JC_ERR_INVALID_ARG);
    assert_int_equal(jc_sign_compute(SECRET_SEQ, 0, "t", "k", 1, "v", 1, mac, &err),
                     JC_ERR_INVALID_ARG);
    jc_signer_t *s;
    assert_int_equal(jc_signer_new("", 520102, SECRET_SEQ, &s, &err), JC_ERR_INVALID_ARG);
    assert_int_equal(jc_signer_new("a/b", 520102, SECRET_SEQ, &s, &err), JC_ERR_INVALID_ARG);
    /* a signer signs for a county: a prefecture code or a non-code is refused */
    assert_int_equal(jc_signer_new("k1", 520100, SECRET_SEQ, &s, &err), JC_ERR_INVALID_ARG);
    assert_int_equal(jc_signer_new("k1", 0, SECRET_SEQ, &s, &err), JC_ERR_INVALID_ARG);
    assert_string_equal(jc_sign_verdict_name(JC_SIGN_KEY_CLOSED), "key-closed");
    assert_string_equal(jc_sign_verdict_name(JC_SIGN_VERDICT_COUNT_), "unknown");
    assert_string_equal(jc_status_name(JC_ERR_UNAUTHORIZED), "JC_ERR_UNAUTHORIZED");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fixed_vectors_match_openssl),
        cmocka_unit_test(null_and_empty_differ),
        cmocka_unit_test(format_and_parse_round_trip),
        cmocka_unit_test(malformed_signature_headers_are_refused),
        cmocka_unit_test(key_ids),
        cmocka_unit_test_setup_teardown(a_signed_record_verifies_and_names_its_key, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(any_changed_byte_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(bytes_cannot_move_between_parts, setup, teardown),
        cmocka_unit_test_setup_teardown(null_signature_does_not_verify_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(missing_and_malformed_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(unknown_key, setup, teardown),
        cmocka_unit_test_setup_teardown(validity_is_judged_by_record_timestamp, setup, teardown),
        cmocka_unit_test_setup_teardown(closing_a_key_later_changes_only_later_records, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(county_must_be_the_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(keyring_put_rules, setup, teardown),
        cmocka_unit_test(many_keys_are_all_found),
        cmocka_unit_test_setup_teardown(kafka_headers_carry_the_signature, setup, teardown),
        cmocka_unit_test(secret_file_permissions),
        cmocka_unit_test(key_file_round_trip),
        cmocka_unit_test(key_file_errors_never_show_the_secret),
        cmocka_unit_test(key_files_name_the_current_county),
        cmocka_unit_test(signers_from_a_file_or_a_directory),
        cmocka_unit_test(secrets_from_hex_and_random),
        cmocka_unit_test(bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
