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
 *  write `return jc_error_set(err, JC_ERR_IO, "open %s: %s", path, strerror(errno));`. */
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
