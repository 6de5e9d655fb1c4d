/*
 * keys.c: reading jiceng.signing_keys into a keyring (see keys.h).
 *
 * One statement reads the horizon (now() plus the table's notice period, jiceng.
 * signing_key_notice(), in the same snapshot) and every key; times come as epoch milliseconds
 * rounded up, which keeps "valid_from <= t < valid_until" and "t < horizon" exact for the
 * whole-millisecond record timestamps they are compared with. The secret travels as hex text
 * and is wiped from the result, and the key copy from the stack, as soon as the keyring has its
 * own copy.
 */
#include "keys.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "../pgexec.h"

#define LOAD_SQL                                                                                \
    "select ceil(extract(epoch from now() + jiceng.signing_key_notice()) * 1000)::bigint, "    \
    "k.key_id, k.county_code, encode(k.secret, 'hex'), "                                       \
    "ceil(extract(epoch from k.valid_from) * 1000)::bigint, "                                  \
    "ceil(extract(epoch from k.valid_until) * 1000)::bigint "                                  \
    "from (values (1)) as one (x) left join jiceng.signing_keys k on true"

enum { COL_HORIZON, COL_KEY_ID, COL_COUNTY, COL_SECRET, COL_FROM, COL_UNTIL };

/* A whole number from a result cell; 0 if it is not one. */
static int cell_int64(const PGresult *r, int row, int col, int64_t *out)
{
    const char *s = PQgetvalue(r, row, col);
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0')
        return 0;
    *out = v;
    return 1;
}

/* Row `row` as a key, or a refusal naming the row (no secret in it). */
static jc_status_t row_key(const PGresult *r, int row, jc_sign_key_t *key, jc_error_t *err)
{
    const char *id = PQgetvalue(r, row, COL_KEY_ID);
    int64_t county = 0;
    memset(key, 0, sizeof *key);
    if (strlen(id) >= sizeof key->key_id)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "signing key '%.80s...': id too long", id);
    memcpy(key->key_id, id, strlen(id) + 1);
    key->valid_until_ms = JC_SIGN_OPEN_END;
    if (!cell_int64(r, row, COL_COUNTY, &county) || !cell_int64(r, row, COL_FROM, &key->valid_from_ms) ||
        (!PQgetisnull(r, row, COL_UNTIL) && !cell_int64(r, row, COL_UNTIL, &key->valid_until_ms)))
        return jc_error_set(err, JC_ERR_INVALID_ARG, "signing key '%s': unreadable county or "
                            "validity", key->key_id);
    key->county_code = (int32_t)county;
    return jc_sign_secret_from_hex(PQgetvalue(r, row, COL_SECRET), key->secret, err);
}

/* Every key row of r into ring; refused rows counted in *skipped, the first in skip_err. */
static jc_status_t fill_ring(PGresult *r, jc_keyring_t *ring, size_t *skipped,
                             jc_error_t *skip_err, jc_error_t *err)
{
    jc_status_t st = JC_OK;
    for (int i = 0; i < PQntuples(r) && st == JC_OK; i++) {
        if (PQgetisnull(r, i, COL_KEY_ID))
            continue; /* the left join's row when there are no keys */
        jc_sign_key_t key;
        jc_error_t why;
        jc_status_t put = row_key(r, i, &key, &why);
        if (put == JC_OK)
            put = jc_keyring_put(ring, &key, &why);
        OPENSSL_cleanse(&key, sizeof key);
        if (put == JC_ERR_NOMEM)
            st = jc_error_set(err, JC_ERR_NOMEM, "out of memory for the signing keys");
        else if (put != JC_OK && (*skipped)++ == 0 && skip_err != NULL)
            *skip_err = why;
    }
    return st;
}

/* Overwrite the secrets' text in the result before it is freed. */
static void wipe_secrets(PGresult *r)
{
    for (int i = 0; i < PQntuples(r); i++) {
        char *hex = PQgetvalue(r, i, COL_SECRET);
        OPENSSL_cleanse(hex, strlen(hex));
    }
}

jc_status_t jc_keys_load(PGconn *c, jc_keys_t *k, jc_error_t *skip_err, jc_error_t *err)
{
    PGresult *r = NULL;
    jc_status_t st = jc_pg_exec(c, "reading signing_keys", LOAD_SQL, 0, NULL, &r, NULL, err);
    if (st != JC_OK)
        return st;
    int64_t horizon = 0;
    jc_keyring_t *ring = NULL;
    size_t skipped = 0;
    if (PQntuples(r) < 1 || !cell_int64(r, 0, COL_HORIZON, &horizon))
        st = jc_error_set(err, JC_ERR_PG, "reading signing_keys: no horizon in the result");
    if (st == JC_OK)
        st = jc_keyring_new(&ring, err);
    if (st == JC_OK)
        st = fill_ring(r, ring, &skipped, skip_err, err);
    wipe_secrets(r);
    PQclear(r);
    if (st != JC_OK) {
        jc_keyring_free(ring);
        return st;
    }
    jc_keyring_free(k->ring);
    k->ring = ring;
    k->horizon_ms = horizon;
    k->skipped = skipped;
    return JC_OK;
}

void jc_keys_free(jc_keys_t *k)
{
    jc_keyring_free(k->ring);
    k->ring = NULL;
}
