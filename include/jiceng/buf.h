/*
 * jiceng/buf.h: a growable byte buffer, reused across records so that encoding and formatting
 * allocate only while the buffer still grows.
 */
#ifndef JICENG_BUF_H
#define JICENG_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "jiceng/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct jc_buf {
    uint8_t *data;
    size_t len; /**< bytes in use */
    size_t cap; /**< bytes allocated */
} jc_buf_t;

/** Make room for at least extra more bytes beyond len. JC_ERR_NOMEM on failure. */
JC_API jc_status_t jc_buf_reserve(jc_buf_t *b, size_t extra);

/** Append n bytes. */
JC_API jc_status_t jc_buf_append(jc_buf_t *b, const void *p, size_t n);

/** Append a NUL-terminated string (without the NUL; data stays NUL-terminated after it). */
JC_API jc_status_t jc_buf_append_str(jc_buf_t *b, const char *s);

/** Set len to 0, keeping the allocation. */
JC_API void jc_buf_reset(jc_buf_t *b);

/** Release the allocation; the buffer is empty and reusable afterwards. */
JC_API void jc_buf_free(jc_buf_t *b);

#ifdef __cplusplus
}
#endif
#endif
