/*
 * jiceng/sign.h: record signatures, so that a county system publishes for its own county only.
 *
 * Kafka does not tell a consumer who wrote a record, so the record proves it: the producer
 * signs it with HMAC-SHA256 under its county system's signing key, and puts the key's id and
 * the signature in two record headers. The signed bytes (docs/signing.md is the specification
 * for third-party producers) are
 *
 *     "jiceng-sig-v1" || u32be(len(topic)) || topic || field(key) || field(value)
 *     field(null) = u32be(0xFFFFFFFF)        field(bytes) = u32be(len) || bytes
 *
 * so a null key or value differs from an empty one, and no byte can move from one part to
 * another. Headers: JC_SIGN_HEADER_KEY_ID (the key id, 1..64 of [A-Za-z0-9._-]) and
 * JC_SIGN_HEADER_SIG ("v1:" and 64 lowercase hex digits).
 *
 * Producer side: a jc_signer_t holds one key of one county (from a key file, jc_signer_load)
 * and adds the two headers to a record; a jc_signers_t holds the signers of a producer, one per
 * county (a key file, or a directory of them for a producer that plays several county systems,
 * jc_signers_load), and finds the one for a record's county. Consumer side: a jc_keyring_t holds every key ever issued, with its
 * county and validity period [valid_from, valid_until), judged by the record's timestamp; keys
 * are never deleted, so replaying a topic from offset 0 reaches the verdicts of the live run.
 * jc_sign_verify checks the headers, the key and the MAC before the value is decoded;
 * jc_sign_check_county checks, once the event is decoded, that its county (old codes mapped to
 * the current one) is the key's. Every refusal is JC_ERR_UNAUTHORIZED, with a jc_sign_verdict_t
 * saying which check failed and a message naming it.
 *
 * Secrets are wiped (OPENSSL_cleanse) when a signer or keyring is freed and never appear in a
 * message. A signer and a keyring each keep MAC contexts they reuse: neither is thread-safe;
 * use one per thread.
 */
#ifndef JICENG_SIGN_H
#define JICENG_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "jiceng/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define JC_SIGN_TAG "jiceng-sig-v1"          /**< the version tag the signed bytes start with */
#define JC_SIGN_TAG_LEN 13                   /**< its length (no NUL) */
#define JC_SIGN_NULL_LEN 0xFFFFFFFFu         /**< the length prefix that stands for null */
#define JC_SIGN_HEADER_KEY_ID "jiceng.key-id" /**< record header: the signing key's id */
#define JC_SIGN_HEADER_SIG "jiceng.sig"      /**< record header: "v1:" + 64 lowercase hex */
#define JC_SIGN_SIG_PREFIX "v1:"             /**< the signature header's version prefix */
#define JC_SIGN_KEY_ID_MAX 64                /**< longest key id, in bytes */
#define JC_SIGN_SECRET_BYTES 32              /**< a signing key's secret */
#define JC_SIGN_MAC_BYTES 32                 /**< an HMAC-SHA256 */
#define JC_SIGN_SIG_LEN 67                   /**< the signature header's length: 3 + 64 */
#define JC_SIGN_OPEN_END INT64_MAX           /**< valid_until_ms of a key not (yet) closed */

/** Which check refused a record (the status is JC_ERR_UNAUTHORIZED for all but JC_SIGN_OK). */
typedef enum jc_sign_verdict {
    JC_SIGN_OK = 0,
    JC_SIGN_MISSING,        /**< a signature header is absent */
    JC_SIGN_MALFORMED,      /**< a header is not in its format, or occurs more than once */
    JC_SIGN_UNKNOWN_KEY,    /**< no key has this id */
    JC_SIGN_NOT_YET_VALID,  /**< the record's timestamp is before the key's valid_from */
    JC_SIGN_KEY_CLOSED,     /**< the record's timestamp is at or after the key's valid_until */
    JC_SIGN_BAD_SIGNATURE,  /**< the MAC does not match the record */
    JC_SIGN_WRONG_COUNTY,   /**< the event's county is not the key's county */
    JC_SIGN_VERDICT_COUNT_  /**< not a verdict: the number of them */
} jc_sign_verdict_t;

/** A verdict's short name: "ok", "missing", "malformed", "unknown-key", "not-yet-valid",
 *  "key-closed", "bad-signature", "wrong-county". Never NULL. */
JC_API const char *jc_sign_verdict_name(jc_sign_verdict_t v);

/* ---- the signature itself ------------------------------------------------------------- */

/** The HMAC-SHA256 of a record under secret (secret_len > 0 bytes): the MAC of the signed bytes
 *  above. key == NULL means a null key (key_len must then be 0); likewise value. Lengths must
 *  be below 0xFFFFFFFF. A one-off call (it sets up a MAC context each time): for many records
 *  use a jc_signer_t. JC_ERR_INVALID_ARG on bad arguments. */
JC_API jc_status_t jc_sign_compute(const unsigned char *secret, size_t secret_len,
                                   const char *topic, const void *key, size_t key_len,
                                   const void *value, size_t value_len,
                                   unsigned char mac[JC_SIGN_MAC_BYTES], jc_error_t *err);

/** Format mac as the signature header's value, "v1:" + 64 lowercase hex digits, NUL-terminated. */
JC_API void jc_sign_format(const unsigned char mac[JC_SIGN_MAC_BYTES],
                           char out[JC_SIGN_SIG_LEN + 1]);

/** Parse a signature header's value (len bytes, not NUL-terminated) strictly: exactly "v1:" and
 *  64 lowercase hex digits. Returns 1 and fills mac, or 0 if it is anything else. */
JC_API int jc_sign_parse(const void *header, size_t len, unsigned char mac[JC_SIGN_MAC_BYTES]);

/** 1 if id (len bytes) is a valid key id: 1 to JC_SIGN_KEY_ID_MAX bytes of [A-Za-z0-9._-]. */
JC_API int jc_sign_key_id_valid(const void *id, size_t len);

/** Parse a secret written as exactly 64 hex digits (either case). JC_ERR_PARSE otherwise; the
 *  message never quotes the text. */
JC_API jc_status_t jc_sign_secret_from_hex(const char *hex,
                                           unsigned char secret[JC_SIGN_SECRET_BYTES],
                                           jc_error_t *err);

/** A new random secret from OpenSSL's CSPRNG. JC_ERR_IO if it cannot supply one. */
JC_API jc_status_t jc_sign_secret_generate(unsigned char secret[JC_SIGN_SECRET_BYTES],
                                           jc_error_t *err);

/* ---- producer side: one key, signing records ------------------------------------------ */

typedef struct jc_signer jc_signer_t;

/** A signer for key_id (valid per jc_sign_key_id_valid) that signs for county (a county code;
 *  an old code is mapped to the current one, jc_county_resolve: JC_ERR_INVALID_ARG if it maps
 *  to none) with secret (copied; the caller may wipe its copy). */
JC_API jc_status_t jc_signer_new(const char *key_id, int32_t county,
                                 const unsigned char secret[JC_SIGN_SECRET_BYTES],
                                 jc_signer_t **out, jc_error_t *err);

/** A signer from a key file: KEY=VALUE lines (jiceng/envfile.h) with exactly `key_id=ID`,
 *  `county=CODE` (six digits) and `secret=<64 hex digits>`, comments allowed. The file must be
 *  readable by its owner only (jc_secret_file_check: JC_ERR_INSECURE_FILE otherwise);
 *  JC_ERR_PARSE for a missing, repeated, unknown or malformed entry or a county code that is
 *  not (and does not map to) a county. */
JC_API jc_status_t jc_signer_load(const char *path, jc_signer_t **out, jc_error_t *err);

/** Write a key file for jc_signer_load: created with mode 0600 and never over an existing file
 *  (O_EXCL: JC_ERR_IO if path exists). county must be a county code (JC_ERR_INVALID_ARG). */
JC_API jc_status_t jc_sign_key_file_write(const char *path, const char *key_id, int32_t county,
                                          const unsigned char secret[JC_SIGN_SECRET_BYTES],
                                          jc_error_t *err);

/** Wipe the signer's secret and free it. NULL is allowed. */
JC_API void jc_signer_free(jc_signer_t *s);

/** The signer's key id (the JC_SIGN_HEADER_KEY_ID value it writes). */
JC_API const char *jc_signer_key_id(const jc_signer_t *s);

/** The county the signer signs for (the current code). */
JC_API int32_t jc_signer_county(const jc_signer_t *s);

/** The signature header's value for a record (key/value NULL for null, as jc_sign_compute). */
JC_API jc_status_t jc_signer_sign(jc_signer_t *s, const char *topic, const void *key,
                                  size_t key_len, const void *value, size_t value_len,
                                  char sig[JC_SIGN_SIG_LEN + 1], jc_error_t *err);

/** Sign a record and add both headers to hdrs (for RD_KAFKA_V_HEADERS). JC_ERR_KAFKA if
 *  librdkafka refuses a header. */
JC_API jc_status_t jc_signer_add_headers(jc_signer_t *s, rd_kafka_headers_t *hdrs,
                                         const char *topic, const void *key, size_t key_len,
                                         const void *value, size_t value_len, jc_error_t *err);

/** The signers of one producer: at most one per county. */
typedef struct jc_signers jc_signers_t;

/** The file name ending of the key files jc_signers_load reads from a directory. */
#define JC_SIGN_KEY_FILE_SUFFIX ".key"

/** Load a producer's signers from path: a key file (one county system), or a directory whose
 *  files named *.key (JC_SIGN_KEY_FILE_SUFFIX; other names are ignored) are key files, one per
 *  county (a producer that plays several county systems, as the demo's load generator does).
 *  Every key file must pass jc_signer_load. JC_ERR_INVALID_ARG if two files hold keys for the
 *  same county or a directory holds no key file; JC_ERR_IO if path cannot be read. */
JC_API jc_status_t jc_signers_load(const char *path, jc_signers_t **out, jc_error_t *err);

/** The signer for county (a current code), or NULL if there is none. O(log n). */
JC_API jc_signer_t *jc_signers_find(const jc_signers_t *set, int32_t county);

/** How many signers (counties) the set holds. */
JC_API size_t jc_signers_count(const jc_signers_t *set);

/** The i-th signer in county order (i < jc_signers_count), for listing. */
JC_API const jc_signer_t *jc_signers_at(const jc_signers_t *set, size_t i);

/** Wipe and free every signer and the set. NULL is allowed. */
JC_API void jc_signers_free(jc_signers_t *set);

/* ---- consumer side: every key, verifying records -------------------------------------- */

/** One signing key as issued: it signs for county_code in [valid_from_ms, valid_until_ms). */
typedef struct jc_sign_key {
    char key_id[JC_SIGN_KEY_ID_MAX + 1];
    int32_t county_code;                       /**< the county it signs for (current code) */
    unsigned char secret[JC_SIGN_SECRET_BYTES];
    int64_t valid_from_ms;                     /**< first record timestamp it is valid for */
    int64_t valid_until_ms;                    /**< first one it is not; JC_SIGN_OPEN_END if open */
} jc_sign_key_t;

typedef struct jc_keyring jc_keyring_t;

/** An empty keyring. */
JC_API jc_status_t jc_keyring_new(jc_keyring_t **out, jc_error_t *err);

/** Wipe every secret and free the ring. NULL is allowed. */
JC_API void jc_keyring_free(jc_keyring_t *ring);

/** Add key (copied), or update the validity of the key with its id. A key id keeps its secret
 *  and county for ever: a different secret or county for an existing id is JC_ERR_INVALID_ARG,
 *  as are an invalid id, valid_until_ms < valid_from_ms, or a county code that is not (and does
 *  not map to) a county (jc_county_resolve). Pointers from jc_keyring_find stay valid until the
 *  ring is freed. */
JC_API jc_status_t jc_keyring_put(jc_keyring_t *ring, const jc_sign_key_t *key,
                                  jc_error_t *err);

/** The number of keys. */
JC_API size_t jc_keyring_count(const jc_keyring_t *ring);

/** The key with this id (id_len bytes), or NULL. O(log n). */
JC_API const jc_sign_key_t *jc_keyring_find(const jc_keyring_t *ring, const void *key_id,
                                            size_t id_len);

/** May key_id sign a record with timestamp record_ts_ms for county? The key must exist, be
 *  valid at record_ts_ms, and, unless county is 0 (not known yet), sign for county after old
 *  codes are mapped (jc_sign_check_county). JC_OK with *key_out set (if key_out is not NULL),
 *  or JC_ERR_UNAUTHORIZED with *verdict (if not NULL) saying why. */
JC_API jc_status_t jc_keyring_check(const jc_keyring_t *ring, const void *key_id,
                                    size_t id_len, int64_t record_ts_ms, int32_t county,
                                    const jc_sign_key_t **key_out, jc_sign_verdict_t *verdict,
                                    jc_error_t *err);

/** Does key sign for county? Both codes are mapped to current ones (jc_county_resolve); a code
 *  that maps to no county is another county's. JC_OK, or JC_ERR_UNAUTHORIZED with
 *  JC_SIGN_WRONG_COUNTY. */
JC_API jc_status_t jc_sign_check_county(const jc_sign_key_t *key, int32_t county,
                                        jc_sign_verdict_t *verdict, jc_error_t *err);

/** What jc_sign_verify needs of a consumed record. key and value NULL mean null (as librdkafka
 *  gives them); key_id and sig point at the two headers' values, NULL if absent. */
typedef struct jc_signed_record {
    const char *topic;
    const void *key;
    size_t key_len;
    const void *value;
    size_t value_len;
    int64_t timestamp_ms;  /**< the record's timestamp (LogAppendTime on the event topics) */
    const void *key_id;
    size_t key_id_len;
    const void *sig;
    size_t sig_len;
    int repeated;          /**< non-zero: a signature header occurs more than once */
} jc_signed_record_t;

/** Fill rec's key_id, sig and repeated from a consumed message's headers (hdrs may be NULL: no
 *  headers). A header present with a null value is taken as present and empty (malformed). */
JC_API void jc_signed_record_headers(jc_signed_record_t *rec, const rd_kafka_headers_t *hdrs);

/** Check a record's signature before its value is decoded: both headers present, once each and
 *  well-formed, the key known and valid at the record's timestamp, the MAC equal (compared in
 *  constant time). JC_OK with *key_out (if not NULL) the signing key, whose county the decoded
 *  event must then have (jc_sign_check_county); else JC_ERR_UNAUTHORIZED with *verdict. */
JC_API jc_status_t jc_sign_verify(jc_keyring_t *ring, const jc_signed_record_t *rec,
                                  const jc_sign_key_t **key_out, jc_sign_verdict_t *verdict,
                                  jc_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
