/*
 * append.c: building text in a jc_buf_t for the renderers (model.h): printf-style appends and
 * HTML escaping. The buffer grows as needed; the only failure is running out of memory. And
 * writing a composed buffer out, for the text and HTML renderers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "model.h"

jc_status_t rp_appendf(jc_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || jc_buf_reserve(b, (size_t)n + 1) != JC_OK)
        return JC_ERR_NOMEM;
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return JC_OK;
}

jc_status_t rp_append_html(jc_buf_t *b, const char *s)
{
    jc_status_t st = JC_OK;
    for (const char *p = s; st == JC_OK && *p != '\0'; p++) {
        switch (*p) {
        case '&': st = jc_buf_append_str(b, "&amp;"); break;
        case '<': st = jc_buf_append_str(b, "&lt;"); break;
        case '>': st = jc_buf_append_str(b, "&gt;"); break;
        case '"': st = jc_buf_append_str(b, "&quot;"); break;
        default: st = jc_buf_append(b, p, 1); break;
        }
    }
    return st;
}

jc_status_t rp_write_composed(jc_buf_t *b, jc_status_t compose_st, FILE *out, const char *what,
                              jc_error_t *err)
{
    if (compose_st != JC_OK) {
        jc_buf_free(b);
        return jc_error_set(err, JC_ERR_NOMEM, "report: out of memory composing the %s", what);
    }
    size_t len = b->len, written = len ? fwrite(b->data, 1, len, out) : 0;
    jc_buf_free(b);
    if (written != len || ferror(out))
        return jc_error_set(err, JC_ERR_IO, "report: writing the %s failed", what);
    return JC_OK;
}
