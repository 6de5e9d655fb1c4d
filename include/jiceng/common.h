/*
 * jiceng/common.h: what every public header of libjiceng shares.
 *
 * JC_API marks the functions the shared library exports (everything else is hidden), and
 * jc_error_t is how every fallible call reports failure: it returns a jc_status_t and, when the
 * caller passed a jc_error_t, fills it with the same code and a message that names what failed
 * and why. A NULL jc_error_t is allowed wherever one is taken.
 */
#ifndef JICENG_COMMON_H
#define JICENG_COMMON_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define JC_API __attribute__((visibility("default")))

/** Status codes. 0 is success; every failure has its own code so callers and tests can tell
 *  them apart without parsing messages. */
typedef enum jc_status {
    JC_OK = 0,
    JC_ERR_INVALID_ARG, /**< a caller passed something unusable (NULL, empty, out of range) */
    JC_ERR_NOMEM,       /**< an allocation failed */
    JC_ERR_IO,          /**< a file could not be opened, read or written */
    JC_ERR_PARSE,       /**< text input (a config or env file) is malformed */
    JC_ERR_KAFKA,       /**< the Kafka client reported an error */
    JC_ERR_PG,          /**< PostgreSQL reported an error */
    JC_ERR_TIMEOUT,     /**< a service did not answer in time */
    JC_ERR_MISMATCH,    /**< a round trip returned something other than what was sent */
    /* decoding untrusted bytes (jiceng/codec.h) */
    JC_ERR_TRUNCATED,       /**< the message ends before the record does */
    JC_ERR_OVERSIZED,       /**< the message is larger than JC_MAX_MESSAGE_BYTES */
    JC_ERR_BAD_MAGIC,       /**< byte 0 is not the Confluent wire format's magic byte 0 */
    JC_ERR_UNKNOWN_SCHEMA,  /**< the schema id is not in the catalog */
    JC_ERR_NEGATIVE_LENGTH, /**< a string or bytes length prefix is negative */
    JC_ERR_TRAILING_BYTES,  /**< bytes are left after the record */
    JC_ERR_MALFORMED,       /**< other undecodable Avro (bad union branch, bad varint, ...) */
    /* field values (decoded, parsed from NDJSON/CSV, or validated) */
    JC_ERR_BAD_UTF8,        /**< a string is not valid UTF-8 */
    JC_ERR_ENUM_RANGE,      /**< an enum index or symbol is not one of the schema's */
    JC_ERR_TOO_LONG,        /**< a string exceeds its bound (JC_ID_MAX, JC_TEXT_MAX) */
    JC_ERR_MISSING_FIELD,   /**< a required field is absent */
    JC_ERR_BAD_FIELD,       /**< a field has the wrong type or an unparsable value */
    JC_ERR_EMPTY_FIELD,     /**< a required string is empty */
    JC_ERR_BAD_UUID,        /**< event_id is not a canonical UUID */
    JC_ERR_NEGATIVE_COUNT,  /**< a count is negative */
    JC_ERR_UNKNOWN_COUNTY,  /**< county_code is not (and does not map to) one of the 88 */
    JC_ERR_FUTURE_TIME,     /**< occurred_at is later than now plus the allowed skew */
    JC_ERR_INCONSISTENT,    /**< fields contradict each other (e.g. received after resolved) */
    /* consuming */
    JC_ERR_CONFLICTING_DUPLICATE, /**< an event_id already applied, with different content */
    JC_ERR_FENCED,          /**< another consumer owns the partition now (offset CAS failed) */
    /* security (jiceng/sign.h, jiceng/secretfile.h) */
    JC_ERR_UNAUTHORIZED,    /**< a record's signature or signing key does not allow it */
    JC_ERR_INSECURE_FILE,   /**< a file holding a secret is readable by group or others */
    /* consuming: a record's place (docs/signing.md, "Order of checks") */
    JC_ERR_WRONG_TOPIC,     /**< a record's event type is not the type of the topic it is on */
    JC_ERR_WRONG_KEY,       /**< a record's key is null or not its event's county */
    /* the database (jiceng/migrate.h) */
    JC_ERR_SCHEMA_VERSION,  /**< the database schema is older than this library needs */
    /* validation, added after the codes above (their values stay) */
    JC_ERR_TOO_EARLY,       /**< a timestamp is before JC_EARLIEST_EVENT_MS (jiceng/validate.h) */
    /* corrections (docs/architecture.md, "Corrections"), added after the codes above */
    JC_ERR_STALE_REVISION,    /**< an event's revision is lower than the one in force */
    JC_ERR_UNKNOWN_ORIGINAL,  /**< a revision above 0 of an id the partition never applied */
    JC_ERR_COUNTY_CHANGED,    /**< a correction names another county than the event in force */
    JC_STATUS_COUNT_    /**< not a status: the number of them */
} jc_status_t;

/** A failure: its code and a human-readable message naming the record or service and reason. */
typedef struct jc_error {
    jc_status_t code;
    char message[512];
} jc_error_t;

/** The symbolic name of a status code, e.g. "JC_ERR_KAFKA". Never NULL. */
JC_API const char *jc_status_name(jc_status_t code);

/** Set err (if not NULL) to code and a printf-style message; returns code, so a caller can
 *  write `return jc_error_set(err, JC_ERR_IO, "open %s: %s", path, strerror(errno));`. The
 *  message is always one line: each run of control characters in it (a libpq message's
 *  newlines) becomes one space, and none is left at the end. */
JC_API jc_status_t jc_error_set(jc_error_t *err, jc_status_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** Clear err (if not NULL) to JC_OK with an empty message. */
JC_API void jc_error_clear(jc_error_t *err);

/** The library's version, "MAJOR.MINOR.PATCH". */
JC_API const char *jc_version(void);

#ifdef __cplusplus
}
#endif
#endif
