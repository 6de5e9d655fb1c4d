/*
 * jiceng/signkeys.h: the signing-key table (jiceng.signing_keys, migration 004) as provisioning
 * changes it: issuing a county system's key, closing its keys, listing them without secrets.
 *
 * The table is the aggregator's keyring (jiceng/sign.h, docs/signing.md). Keys are never
 * deleted, a key id never changes hands, and every change takes effect in the future only: the
 * table's triggers refuse a valid_from or valid_until earlier than jiceng.signing_key_notice()
 * after the commit. So a new key is valid from clock_timestamp() + that notice +
 * JC_SIGNKEY_MARGIN_MS, and a key is closed at the same instant at the earliest; a rotation
 * closes the old key later, after a grace period, so that records signed with it and still in
 * flight are appended while it is valid. All times are the database's clock.
 *
 * These calls need only what the migration role may do on the table: INSERT, UPDATE of
 * valid_until, SELECT of every column but the secret. The secret travels as a statement
 * parameter (TLS on the wire), never in SQL text or a message; note that a server logging
 * every modifying statement (log_statement = mod or all) would log its parameters, so that
 * setting must stay off for the role that provisions keys.
 */
#ifndef JICENG_SIGNKEYS_H
#define JICENG_SIGNKEYS_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "jiceng/common.h"
#include "jiceng/sign.h"

#ifdef __cplusplus
extern "C" {
#endif

/** How much later than the table's notice period a change is made to take effect, so that the
 *  transaction has time to commit. */
#define JC_SIGNKEY_MARGIN_MS 5000

/** A key as listed: everything but the secret. */
typedef struct jc_signkey_info {
    char key_id[JC_SIGN_KEY_ID_MAX + 1];
    int32_t county;
    int64_t valid_from_ms;
    int64_t valid_until_ms; /**< JC_SIGN_OPEN_END if open */
    int64_t created_at_ms;
} jc_signkey_info_t;

/** One change of jc_signkeys_apply. */
typedef enum jc_signkey_op {
    JC_SIGNKEY_ISSUE, /**< insert a new key for county */
    JC_SIGNKEY_CLOSE, /**< close the county's keys (or one of them) that are open or would
                           close later than wanted */
} jc_signkey_op_t;

typedef struct jc_signkey_change {
    jc_signkey_op_t op;
    int32_t county;                        /**< a current county code */
    /* JC_SIGNKEY_ISSUE */
    char key_id[JC_SIGN_KEY_ID_MAX + 1];   /**< in: the id wanted (jc_signkey_id); out: the one
                                                used: ".2" ... ".9" is appended if it is taken */
    const unsigned char *secret;           /**< JC_SIGN_SECRET_BYTES bytes */
    int64_t valid_from_ms;                 /**< out: when it becomes valid */
    /* JC_SIGNKEY_CLOSE */
    int64_t grace_ms;                      /**< close at now + max(grace, notice + margin) */
    const char *only_key_id;               /**< close this key of the county only (a rotation's
                                                old one); NULL: every key of the county */
    int64_t valid_until_ms;                /**< out: the end set (if closed > 0) */
    int closed;                            /**< out: how many keys it closed */
} jc_signkey_change_t;

/** The key id jiceng-access gives a new key: "<county>-<yyyymmddHHMMSS>" (UTC) at now_ms, e.g.
 *  "520102-20261130230501", into buf (at least JC_SIGN_KEY_ID_MAX + 1 bytes). */
JC_API void jc_signkey_id(int32_t county, int64_t now_ms, char *buf, size_t len);

/** Apply the changes in order, in one transaction (all or none). conn must not be inside a
 *  transaction. JC_ERR_PG naming the change on a database error (e.g. the table's triggers or
 *  privileges refuse it), JC_ERR_MISMATCH if no free key id is found, JC_ERR_INVALID_ARG on
 *  bad arguments. */
JC_API jc_status_t jc_signkeys_apply(PGconn *conn, jc_signkey_change_t *changes, size_t n,
                                     jc_error_t *err);

/** The keys of county (0: of every county), ordered by county, valid_from and key id, into a
 *  malloc'd array *out (free() it) of *n entries. */
JC_API jc_status_t jc_signkeys_list(PGconn *conn, int32_t county, jc_signkey_info_t **out,
                                    size_t *n, jc_error_t *err);

/** The database's clock now, in epoch milliseconds. */
JC_API jc_status_t jc_signkeys_clock(PGconn *conn, int64_t *now_ms, jc_error_t *err);

/** Wait until the database's clock reaches at_ms (e.g. a new key's valid_from). */
JC_API jc_status_t jc_signkeys_wait_until(PGconn *conn, int64_t at_ms, jc_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
