/*
 * append.c: building text in a jc_buf_t for the renderers (model.h): printf-style appends and
 * HTML escaping. The buffer grows as needed; the only failure is running out of memory. And
 * the layout every format shares (rp_render: header, sections, ranking, trend, silence,
 * freshness, notes), composed into one buffer and written out.
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

static jc_status_t compose(const jc_report_t *r, const rp_layout_t *l, jc_buf_t *b)
{
    jc_status_t st = l->header(r, b);
    for (int s = 0; st == JC_OK && s < RP_NSECTIONS; s++)
        st = l->section(r, s, b);
    if (st == JC_OK)
        st = l->ranking(r, RP_NSECTIONS, b);
    if (st == JC_OK)
        st = l->trend(r, RP_NSECTIONS + 1, b);
    if (st == JC_OK)
        st = l->silence(r, RP_NSECTIONS + 2, b);
    if (st == JC_OK)
        st = l->freshness(r, RP_NSECTIONS + 3, b);
    if (st == JC_OK)
        st = l->notes(r, b);
    return st;
}

jc_status_t rp_render(const jc_report_t *r, const rp_layout_t *layout, FILE *out,
                      const char *what, jc_error_t *err)
{
    jc_buf_t b = {0};
    jc_status_t st = compose(r, layout, &b);
    return rp_write_composed(&b, st, out, what, err);
}
