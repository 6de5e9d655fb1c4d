/*
 * width.c: how many terminal columns text takes, and padding to a width (jiceng/report.h).
 *
 * Each UTF-8 sequence is decoded to its code point; East Asian wide and fullwidth characters
 * (the ranges of Unicode's EastAsianWidth W and F that matter for the report: CJK, kana,
 * hangul, CJK punctuation, fullwidth forms, the supplementary ideographic planes) take two
 * columns, combining marks and zero-width characters none, everything else one. This does not
 * depend on the process locale, so the output is the same under any LANG.
 */
#include <string.h>

#include "jiceng/report.h"

typedef struct range {
    unsigned lo, hi;
} range_t;

static const range_t wide[] = {
    {0x1100, 0x115F},   {0x2E80, 0x303E},   {0x3041, 0x33FF},   {0x3400, 0x4DBF},
    {0x4E00, 0x9FFF},   {0xA000, 0xA4CF},   {0xAC00, 0xD7A3},   {0xF900, 0xFAFF},
    {0xFE30, 0xFE4F},   {0xFF00, 0xFF60},   {0xFFE0, 0xFFE6},   {0x1F300, 0x1F64F},
    {0x1F900, 0x1F9FF}, {0x20000, 0x2FFFD}, {0x30000, 0x3FFFD},
};

static const range_t zero[] = {
    {0x0300, 0x036F}, {0x200B, 0x200F}, {0x20D0, 0x20FF}, {0xFE00, 0xFE0F}, {0xFE20, 0xFE2F},
};

static int in_ranges(unsigned cp, const range_t *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (cp >= r[i].lo && cp <= r[i].hi)
            return 1;
    return 0;
}

/* Decode one UTF-8 sequence at s; *cp receives the code point (0xFFFD for an invalid byte).
 * Returns the bytes consumed (at least 1). */
static size_t decode(const unsigned char *s, unsigned *cp)
{
    size_t n = s[0] < 0x80 ? 1 : (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3
             : (s[0] & 0xF8) == 0xF0 ? 4 : 0;
    if (n == 0) {
        *cp = 0xFFFD;
        return 1;
    }
    unsigned v = n == 1 ? s[0] : s[0] & (0x7F >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *cp = 0xFFFD;
            return 1;
        }
        v = v << 6 | (s[i] & 0x3F);
    }
    *cp = v;
    return n;
}

size_t jc_display_width(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t w = 0;
    while (*p != '\0') {
        unsigned cp;
        p += decode(p, &cp);
        if (in_ranges(cp, wide, sizeof wide / sizeof wide[0]))
            w += 2;
        else if (!in_ranges(cp, zero, sizeof zero / sizeof zero[0]))
            w += 1;
    }
    return w;
}

static jc_status_t append_spaces(jc_buf_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (jc_buf_append(b, " ", 1) != JC_OK)
            return JC_ERR_NOMEM;
    return JC_OK;
}

jc_status_t jc_text_pad(jc_buf_t *b, const char *s, size_t width, jc_align_t align)
{
    size_t w = jc_display_width(s);
    size_t fill = w < width ? width - w : 0;
    if (align == JC_ALIGN_RIGHT && append_spaces(b, fill) != JC_OK)
        return JC_ERR_NOMEM;
    if (jc_buf_append_str(b, s) != JC_OK)
        return JC_ERR_NOMEM;
    return align == JC_ALIGN_LEFT ? append_spaces(b, fill) : JC_OK;
}
