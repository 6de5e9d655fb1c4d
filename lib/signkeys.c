/*
 * signkeys.c: issuing, closing and listing signing keys in jiceng.signing_keys (see
 * jiceng/signkeys.h).
 *
 * Each statement is a constant below, run with text parameters through jc_pg_exec. Times are
 * computed by the database (clock_timestamp() plus the table's own notice function and the
 * margin) and read back as epoch milliseconds, so the program's clock plays no part. A batch of
 * changes runs in one transaction; an issued key whose id is taken (INSERT ... ON CONFLICT DO
 * NOTHING returns no row) is retried with ".2" ... ".9" appended. The secret is passed as a
 * bytea hex text parameter, wiped afterwards; error messages are cut before any "Failing row
 * contains" detail, which PostgreSQL fills with the row's values where the role may read them.
 */
#include "jiceng/signkeys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "jiceng/jtime.h"
#include "jiceng/reference.h"
#include "digest.h"
#include "pgexec.h"

/* $1 key id, $2 county, $3 secret (bytea hex), $4 margin in ms */
static const char sql_issue[] =
    "insert into jiceng.signing_keys (key_id, county_code, secret, valid_from) "
    "values ($1, $2::integer, $3::bytea, clock_timestamp() + jiceng.signing_key_notice() + "
    "$4::bigint * interval '1 millisecond') "
    "on conflict (key_id) do nothing "
    "returning (extract(epoch from valid_from) * 1000)::bigint";

/* $1 county, $2 grace in ms, $3 margin in ms, $4 the one key id to close ('' for all) */
static const char sql_close[] =
    "with t as (select clock_timestamp() + greatest(jiceng.signing_key_notice() + "
    "$3::bigint * interval '1 millisecond', $2::bigint * interval '1 millisecond') as at) "
    "update jiceng.signing_keys k set valid_until = t.at from t "
    "where k.county_code = $1::integer and ($4 = '' or k.key_id = $4) "
    "and (k.valid_until is null or k.valid_until > t.at) "
    "returning k.key_id, (extract(epoch from k.valid_until) * 1000)::bigint";

/* $1 county (0: all) */
static const char sql_list[] =
    "select key_id, county_code, (extract(epoch from valid_from) * 1000)::bigint, "
    "(extract(epoch from valid_until) * 1000)::bigint, "
    "(extract(epoch from created_at) * 1000)::bigint "
    "from jiceng.signing_keys where $1::integer = 0 or county_code = $1::integer "
    "order by county_code, valid_from, key_id";

static const char sql_clock[] = "select (extract(epoch from clock_timestamp()) * 1000)::bigint";

/* The longest id jc_signkey_id makes plus a ".N" suffix fits in a key id. */
#define ID_SUFFIX_MAX 9

void jc_signkey_id(int32_t county, int64_t now_ms, char *buf, size_t len)
{
    time_t t = (time_t)(now_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char stamp[16];
    strftime(stamp, sizeof stamp, "%Y%m%d%H%M%S", &tm);
    snprintf(buf, len, "%06ld-%s", (long)county, stamp);
}

/* Keep a server message short of the row detail, which may show column values. */
static jc_status_t scrub(jc_status_t st, jc_error_t *err)
{
    char *detail = err != NULL ? strstr(err->message, "Failing row contains") : NULL;
    if (detail != NULL)
        snprintf(detail, sizeof err->message - (size_t)(detail - err->message),
                 "(row not shown)");
    return st;
}

static int64_t column_ms(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? JC_SIGN_OPEN_END : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

/* Insert the key of ch under its id, or the id with a suffix if that is taken. */
static jc_status_t issue(PGconn *c, jc_signkey_change_t *ch, jc_error_t *err)
{
    char county[16], margin[24], hex[2 + 2 * JC_SIGN_SECRET_BYTES + 1], id[JC_SIGN_KEY_ID_MAX + 1];
    snprintf(county, sizeof county, "%ld", (long)ch->county);
    snprintf(margin, sizeof margin, "%d", JC_SIGNKEY_MARGIN_MS);
    memcpy(hex, "\\x", 2);
    jc_hex(ch->secret, JC_SIGN_SECRET_BYTES, hex + 2);
    jc_status_t st = JC_ERR_MISMATCH;
    for (int n = 1; n <= ID_SUFFIX_MAX && st == JC_ERR_MISMATCH; n++) {
        if (n == 1)
            snprintf(id, sizeof id, "%s", ch->key_id);
        else
            snprintf(id, sizeof id, "%.*s.%d", JC_SIGN_KEY_ID_MAX - 2, ch->key_id, n);
        const char *params[] = {id, county, hex, margin};
        PGresult *r = NULL;
        st = jc_pg_exec(c, "issue a signing key", sql_issue, 4, params, &r, NULL, err);
        if (st != JC_OK)
            break;
        if (PQntuples(r) == 1) {
            ch->valid_from_ms = column_ms(r, 0, 0);
            snprintf(ch->key_id, sizeof ch->key_id, "%s", id);
        } else {
            st = JC_ERR_MISMATCH; /* taken: try the next suffix */
        }
        PQclear(r);
    }
    OPENSSL_cleanse(hex, sizeof hex);
    if (st == JC_ERR_MISMATCH)
        return jc_error_set(err, st, "signing key ids %s to %s.%d are all taken", ch->key_id,
                            ch->key_id, ID_SUFFIX_MAX);
    return scrub(st, err);
}

static jc_status_t close_keys(PGconn *c, jc_signkey_change_t *ch, jc_error_t *err)
{
    char county[16], grace[24], margin[24];
    snprintf(county, sizeof county, "%ld", (long)ch->county);
    snprintf(grace, sizeof grace, "%lld", (long long)(ch->grace_ms > 0 ? ch->grace_ms : 0));
    snprintf(margin, sizeof margin, "%d", JC_SIGNKEY_MARGIN_MS);
    const char *params[] = {county, grace, margin, ch->only_key_id ? ch->only_key_id : ""};
    PGresult *r = NULL;
    jc_status_t st = jc_pg_exec(c, "close signing keys", sql_close, 4, params, &r, NULL, err);
    if (st != JC_OK)
        return scrub(st, err);
    ch->closed = PQntuples(r);
    ch->valid_until_ms = ch->closed > 0 ? column_ms(r, 0, 1) : JC_SIGN_OPEN_END;
    PQclear(r);
    return JC_OK;
}

static jc_status_t check_change(const jc_signkey_change_t *ch, jc_error_t *err)
{
    int32_t current;
    if (jc_county_resolve(ch->county, &current, NULL) != JC_OK || current != ch->county)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "signing keys: %ld is not a current "
                            "county code", (long)ch->county);
    if (ch->op == JC_SIGNKEY_ISSUE &&
        (ch->secret == NULL || !jc_sign_key_id_valid(ch->key_id, strlen(ch->key_id)) ||
         strlen(ch->key_id) > JC_SIGN_KEY_ID_MAX - 2))
        return jc_error_set(err, JC_ERR_INVALID_ARG, "signing keys: issuing needs a secret and "
                            "a key id of 1..%d of [A-Za-z0-9._-]", JC_SIGN_KEY_ID_MAX - 2);
    if (ch->op != JC_SIGNKEY_ISSUE && ch->op != JC_SIGNKEY_CLOSE)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "signing keys: unknown change");
    return JC_OK;
}

jc_status_t jc_signkeys_apply(PGconn *c, jc_signkey_change_t *changes, size_t n, jc_error_t *err)
{
    if (c == NULL || (changes == NULL && n > 0))
        return jc_error_set(err, JC_ERR_INVALID_ARG, "jc_signkeys_apply: NULL argument");
    jc_status_t st = JC_OK;
    for (size_t i = 0; i < n && st == JC_OK; i++)
        st = check_change(&changes[i], err);
    if (st != JC_OK || n == 0)
        return st;
    if ((st = jc_pg_exec(c, "begin", "begin", 0, NULL, NULL, NULL, err)) != JC_OK)
        return st;
    for (size_t i = 0; i < n && st == JC_OK; i++)
        st = changes[i].op == JC_SIGNKEY_ISSUE ? issue(c, &changes[i], err)
                                               : close_keys(c, &changes[i], err);
    if (st == JC_OK)
        st = scrub(jc_pg_exec(c, "commit the signing keys", "commit", 0, NULL, NULL, NULL, err),
                   err);
    if (st != JC_OK)
        jc_pg_rollback(c);
    return st;
}

jc_status_t jc_signkeys_list(PGconn *c, int32_t county, jc_signkey_info_t **out, size_t *n,
                             jc_error_t *err)
{
    if (c == NULL || out == NULL || n == NULL)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "jc_signkeys_list: NULL argument");
    *out = NULL;
    *n = 0;
    char code[16];
    snprintf(code, sizeof code, "%ld", (long)county);
    const char *params[] = {code};
    PGresult *r = NULL;
    jc_status_t st = jc_pg_exec(c, "list signing keys", sql_list, 1, params, &r, NULL, err);
    if (st != JC_OK)
        return st;
    int rows = PQntuples(r);
    if (rows > 0 && (*out = calloc((size_t)rows, sizeof **out)) == NULL)
        st = jc_error_set(err, JC_ERR_NOMEM, "out of memory for %d signing keys", rows);
    for (int i = 0; st == JC_OK && i < rows; i++) {
        jc_signkey_info_t *k = &(*out)[i];
        snprintf(k->key_id, sizeof k->key_id, "%s", PQgetvalue(r, i, 0));
        k->county = (int32_t)strtol(PQgetvalue(r, i, 1), NULL, 10);
        k->valid_from_ms = column_ms(r, i, 2);
        k->valid_until_ms = column_ms(r, i, 3);
        k->created_at_ms = column_ms(r, i, 4);
    }
    if (st == JC_OK)
        *n = (size_t)rows;
    PQclear(r);
    return st;
}

jc_status_t jc_signkeys_clock(PGconn *c, int64_t *now_ms, jc_error_t *err)
{
    PGresult *r = NULL;
    jc_status_t st = jc_pg_exec(c, "read the database clock", sql_clock, 0, NULL, &r, NULL, err);
    if (st == JC_OK) {
        *now_ms = column_ms(r, 0, 0);
        PQclear(r);
    }
    return st;
}

jc_status_t jc_signkeys_wait_until(PGconn *c, int64_t at_ms, jc_error_t *err)
{
    for (;;) {
        int64_t now = 0;
        jc_status_t st = jc_signkeys_clock(c, &now, err);
        if (st != JC_OK || now >= at_ms)
            return st;
        int64_t wait = at_ms - now + 10;
        nanosleep(&(struct timespec){(time_t)(wait / 1000), (long)(wait % 1000) * 1000000L}, NULL);
    }
}
