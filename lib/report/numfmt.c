/*
 * numfmt.c: numbers as the report's readers read them (jiceng/report.h).
 *
 * Chinese counts large numbers in 万 (10^4) and 亿 (10^8): 299,000 is 29.9万. jc_format_cn
 * divides by the unit and keeps three significant digits (two decimals below ten units, one
 * below a hundred, none above), then drops trailing zeros; if rounding reaches 10,000万 the
 * number moves up to 亿. Percentages and changes keep one decimal.
 */
#include <stdio.h>
#include <string.h>

#include "jiceng/report.h"

#define WAN 1e4
#define YI 1e8

/* "12.30" -> "12.3", "10.00" -> "10" */
static void drop_trailing_zeros(char *s)
{
    if (strchr(s, '.') == NULL)
        return;
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == '0')
        s[--n] = '\0';
    if (n > 0 && s[n - 1] == '.')
        s[n - 1] = '\0';
}

/* m units with three significant digits into buf; returns the rounded value printed */
static double three_digits(double m, char *buf, size_t len)
{
    int decimals = m < 10 ? 2 : m < 100 ? 1 : 0;
    snprintf(buf, len, "%.*f", decimals, m);
    double shown = 0;
    sscanf(buf, "%lf", &shown);
    drop_trailing_zeros(buf);
    return shown;
}

const char *jc_format_cn(int64_t v, char *buf, size_t len)
{
    const char *sign = v < 0 ? "-" : "";
    double a = v < 0 ? -(double)v : (double)v;
    char digits[32];
    if (a < WAN) {
        snprintf(buf, len, "%lld", (long long)v);
        return buf;
    }
    const char *unit = "万";
    if (a >= YI || three_digits(a / WAN, digits, sizeof digits) >= WAN) {
        unit = "亿";
        three_digits(a / YI, digits, sizeof digits);
    }
    snprintf(buf, len, "%s%s%s", sign, digits, unit);
    return buf;
}

const char *jc_format_grouped(int64_t v, char *buf, size_t len)
{
    char digits[32], out[48];
    unsigned long long a = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    int n = snprintf(digits, sizeof digits, "%llu", a), o = 0;
    if (v < 0)
        out[o++] = '-';
    for (int i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = '\0';
    snprintf(buf, len, "%s", out);
    return buf;
}

const char *jc_format_percent(int64_t num, int64_t den, char *buf, size_t len)
{
    if (den == 0)
        snprintf(buf, len, "—");
    else
        snprintf(buf, len, "%.1f%%", (double)num * 100.0 / (double)den);
    return buf;
}

const char *jc_format_change(int64_t cur, int64_t prev, char *buf, size_t len)
{
    if (prev == 0)
        snprintf(buf, len, "%s", cur == 0 ? "—" : "新增");
    else
        snprintf(buf, len, "%+.1f%%", (double)(cur - prev) * 100.0 / (double)prev);
    return buf;
}
