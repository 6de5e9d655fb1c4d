/*
 * buf.c: the growable byte buffer (jiceng/buf.h), and jc_grow for the library's growable arrays
 * (internal.h). Capacity doubles, so appends are amortised O(1); a buffer always keeps one spare
 * byte so the content can be NUL-terminated for text use.
 */
#include "jiceng/buf.h"

#include <stdlib.h>
#include <string.h>

#include "internal.h"

jc_status_t jc_grow(void **v, size_t *cap, size_t n, size_t size, size_t first)
{
    if (n < *cap)
        return JC_OK;
    size_t c = *cap ? *cap * 2 : first;
    void *p = realloc(*v, c * size);
    if (p == NULL)
        return JC_ERR_NOMEM;
    *v = p;
    *cap = c;
    return JC_OK;
}

jc_status_t jc_buf_reserve(jc_buf_t *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return JC_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1) {
        if (cap > SIZE_MAX / 2)
            return JC_ERR_NOMEM;
        cap *= 2;
    }
    uint8_t *p = realloc(b->data, cap);
    if (p == NULL)
        return JC_ERR_NOMEM;
    b->data = p;
    b->cap = cap;
    return JC_OK;
}

jc_status_t jc_buf_append(jc_buf_t *b, const void *p, size_t n)
{
    if (jc_buf_reserve(b, n) != JC_OK)
        return JC_ERR_NOMEM;
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return JC_OK;
}

jc_status_t jc_buf_append_str(jc_buf_t *b, const char *s)
{
    return jc_buf_append(b, s, strlen(s));
}

void jc_buf_reset(jc_buf_t *b)
{
    b->len = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

void jc_buf_free(jc_buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
