/*
 * svg.c: the HTML report's charts as inline SVG (no script, no external asset).
 *
 * rp_svg_trend draws one small bar chart of a metric over the twelve trend months: bars in
 * the report period dark, earlier months light, a round scale (nice_ceiling) with its top and
 * middle gridlines labelled in 万/亿, month numbers under the bars (and the
 * year under January and the first month), and the value of the period's last month above its
 * bar. rp_svg_ranking draws the ranking as horizontal bars of distinct cadres, each with a thin
 * bar for the previous period and the value and change at its end. Sizes are in SVG user
 * units; the page scales the charts to its width. Text uses the page's fonts (CSS classes).
 */
#include <string.h>

#include "jiceng/jtime.h"
#include "model.h"

#define TREND_W 360
#define TREND_H 200
#define T_X0 52                /* the trend plot's left edge, baseline, width and height */
#define T_Y0 (TREND_H - 34)
#define T_PW (TREND_W - 60)
#define T_PH (TREND_H - 80)
#define RANK_W 1100
#define RANK_ROW 34
#define RANK_LABEL 230

/* A round scale top at least v: 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of ten
 * (for small v, the next even number), so the half-way gridline is a round number too. */
static int64_t nice_ceiling(int64_t v)
{
    static const int steps[] = {10, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100};
    if (v <= 20)
        return v <= 2 ? 2 : v + v % 2;
    int64_t p = 1;
    while (p <= v / 10)
        p *= 10;
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (p * steps[i] / 10 >= v)
            return p * steps[i] / 10;
    return 10 * p;
}

/* ---- trend ---- */

static int64_t trend_max(const jc_report_t *r, int metric)
{
    int64_t max = 0;
    for (int i = 0; i < RP_TREND_MONTHS; i++)
        if (r->months[i].v[metric] > max)
            max = r->months[i].v[metric];
    return max;
}

static bool in_period(const jc_report_t *r, int i)
{
    int32_t first = jc_month_add(r->trend.from, i);
    return jc_month_add(first, 1) - 1 >= r->period.from;
}

static jc_status_t trend_axes(jc_buf_t *b, int64_t top)
{
    const int x0 = T_X0, y0 = T_Y0, plot_w = T_PW, plot_h = T_PH;
    char v1[32], v2[32];
    jc_status_t st = JC_OK;
    for (int k = 0; st == JC_OK && k <= 2; k++) {
        int y = y0 - plot_h * k / 2;
        st = rp_appendf(b, "<line class=\"%s\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>", k ? "grid" : "axis",
                        x0, y, x0 + plot_w, y);
    }
    if (st == JC_OK)
        st = rp_appendf(b, "<text class=\"tick\" x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>"
                           "<text class=\"tick\" x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>",
                        x0 - 4, y0 - plot_h + 4, jc_format_cn(top, v1, sizeof v1), x0 - 4, y0 - plot_h / 2 + 4,
                        jc_format_cn(top / 2, v2, sizeof v2));
    return st;
}

static jc_status_t trend_bar(const jc_report_t *r, int metric, int i, int64_t top, jc_buf_t *b)
{
    const int x0 = T_X0, y0 = T_Y0, plot_w = T_PW, plot_h = T_PH;
    int slot = plot_w / RP_TREND_MONTHS, x = x0 + slot * i + 3, w = slot - 6;
    int64_t v = r->months[i].v[metric];
    int h = (int)(v * plot_h / top);
    int month = (r->months[i].month[5] - '0') * 10 + (r->months[i].month[6] - '0');
    jc_status_t st = rp_appendf(b, "<rect class=\"%s\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"><title>%s: %lld</title></rect>"
                                   "<text class=\"month\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">%d月</text>",
                                in_period(r, i) ? "bar" : "bar old", x, y0 - h, w, h, r->months[i].month,
                                (long long)v, x + w / 2, y0 + 14, month);
    if (st == JC_OK && (month == 1 || i == 0))
        st = rp_appendf(b, "<text class=\"year\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">%.4s</text>", x + w / 2,
                        y0 + 27, r->months[i].month);
    if (st == JC_OK && i == RP_TREND_MONTHS - 1) {
        char t[32];
        st = rp_appendf(b, "<text class=\"last\" x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>", x + w,
                        y0 - h - 5, jc_format_cn(v, t, sizeof t));
    }
    return st;
}

jc_status_t rp_svg_trend(const jc_report_t *r, int metric, jc_buf_t *b)
{
    int64_t top = nice_ceiling(trend_max(r, metric));
    const rp_metric_t *m = &rp_metrics[metric];
    jc_status_t st = rp_appendf(b, "<svg class=\"chart trend\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"%s %s\">"
                                   "<text class=\"ctitle\" x=\"6\" y=\"20\">%s</text>"
                                   "<text class=\"csub\" x=\"6\" y=\"36\">%s</text>",
                                TREND_W, TREND_H, m->zh, m->en, m->zh, m->en);
    if (st == JC_OK)
        st = trend_axes(b, top);
    for (int i = 0; st == JC_OK && i < RP_TREND_MONTHS; i++)
        st = trend_bar(r, metric, i, top, b);
    return st == JC_OK ? rp_appendf(b, "</svg>") : st;
}

/* ---- ranking ---- */

static int64_t ranking_max(const jc_report_t *r)
{
    int64_t max = 0;
    for (size_t i = 0; i < r->nrows; i++) {
        if (r->rows[i].cur[M_CADRES] > max)
            max = r->rows[i].cur[M_CADRES];
        if (r->rows[i].prev[M_CADRES] > max)
            max = r->rows[i].prev[M_CADRES];
    }
    return max > 0 ? max : 1;
}

static jc_status_t ranking_legend(jc_buf_t *b, const jc_report_t *r)
{
    char label[64], plabel[64];
    return rp_appendf(b, "<rect class=\"bar\" x=\"%d\" y=\"6\" width=\"14\" height=\"12\"/>"
                         "<text class=\"legend\" x=\"%d\" y=\"17\">本期 %s</text>"
                         "<rect class=\"bar prev\" x=\"%d\" y=\"9\" width=\"14\" height=\"6\"/>"
                         "<text class=\"legend\" x=\"%d\" y=\"17\">上期 %s</text>",
                      RANK_LABEL, RANK_LABEL + 20, jc_period_label(r->period, label, sizeof label),
                      RANK_LABEL + 200, RANK_LABEL + 220, jc_period_label(r->previous, plabel, sizeof plabel));
}

static jc_status_t ranking_row(jc_buf_t *b, const rp_row_t *row, size_t i, int64_t max)
{
    const int plot_w = RANK_W - RANK_LABEL - 150, y = 32 + (int)i * RANK_ROW;
    int w = (int)(row->cur[M_CADRES] * plot_w / max), pw = (int)(row->prev[M_CADRES] * plot_w / max);
    char v[32], ch[32];
    jc_status_t st = rp_appendf(b, "<text class=\"name\" x=\"%d\" y=\"%d\" text-anchor=\"end\">", RANK_LABEL - 10, y + 15);
    if (st == JC_OK)
        st = rp_append_html(b, row->place.name_zh);
    if (st == JC_OK)
        st = rp_appendf(b, " <tspan class=\"py\">");
    if (st == JC_OK)
        st = rp_append_html(b, row->place.name_pinyin);
    if (st == JC_OK)
        st = rp_appendf(b, "</tspan></text><rect class=\"bar\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"16\"/>"
                           "<rect class=\"bar prev\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"6\"/>"
                           "<text class=\"val\" x=\"%d\" y=\"%d\">%s <tspan class=\"%s\">%s</tspan></text>",
                        RANK_LABEL, y + 2, w, RANK_LABEL, y + 20, pw, RANK_LABEL + (w > pw ? w : pw) + 8, y + 15,
                        jc_format_cn(row->cur[M_CADRES], v, sizeof v),
                        row->cur[M_CADRES] >= row->prev[M_CADRES] ? "up" : "down",
                        jc_format_change(row->cur[M_CADRES], row->prev[M_CADRES], ch, sizeof ch));
    return st;
}

jc_status_t rp_svg_ranking(const jc_report_t *r, jc_buf_t *b)
{
    int64_t max = ranking_max(r);
    int h = 40 + (int)r->nrows * RANK_ROW;
    jc_status_t st = rp_appendf(b, "<svg class=\"chart ranking\" viewBox=\"0 0 %d %d\" role=\"img\" "
                                   "aria-label=\"下基层干部 distinct cadres\">", RANK_W, h);
    if (st == JC_OK)
        st = ranking_legend(b, r);
    for (size_t i = 0; st == JC_OK && i < r->nrows; i++)
        st = ranking_row(b, &r->rows[i], i, max);
    return st == JC_OK ? rp_appendf(b, "</svg>") : st;
}
