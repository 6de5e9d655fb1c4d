/*
 * text.c: the report as aligned terminal text.
 *
 * Everything tabular goes through one grid: cells are filled row by row, then every column is
 * padded to its widest cell by display width (jc_display_width: a CJK character takes two
 * columns), numbers right-aligned, text left-aligned. Labels are Chinese with English beside
 * them, place names Chinese with pinyin, counts in 万/亿 (jc_format_cn). Long lists (the
 * silent counties) are wrapped at WRAP columns.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "jiceng/lag.h"
#include "model.h"

#define CELL 112
#define WRAP 100

static const char *const numerals[] = {"一", "二", "三", "四", "五", "六", "七", "八", "九", "十"};

/* ---- grid ---- */

typedef struct grid {
    size_t ncols, nrows, cap;
    char (*cells)[CELL];
    const jc_align_t *align;
} grid_t;

static jc_status_t grid_row(grid_t *g)
{
    if (g->nrows == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 16;
        char(*cells)[CELL] = realloc(g->cells, cap * g->ncols * sizeof *cells);
        if (cells == NULL)
            return JC_ERR_NOMEM;
        g->cells = cells;
        g->cap = cap;
    }
    memset(g->cells[g->nrows * g->ncols], 0, g->ncols * sizeof *g->cells);
    g->nrows++;
    return JC_OK;
}

/* Set column col of the last row. */
static void grid_set(grid_t *g, size_t col, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void grid_set(grid_t *g, size_t col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->cells[(g->nrows - 1) * g->ncols + col], CELL, fmt, ap);
    va_end(ap);
}

static void trim_line(jc_buf_t *b, size_t start)
{
    while (b->len > start && b->data[b->len - 1] == ' ')
        b->data[--b->len] = '\0';
}

static jc_status_t grid_render(const grid_t *g, const char *indent, jc_buf_t *b)
{
    size_t width[16] = {0};
    for (size_t i = 0; i < g->nrows * g->ncols; i++) {
        size_t w = jc_display_width(g->cells[i]);
        if (w > width[i % g->ncols])
            width[i % g->ncols] = w;
    }
    jc_status_t st = JC_OK;
    for (size_t r = 0; st == JC_OK && r < g->nrows; r++) {
        size_t start = b->len;
        st = jc_buf_append_str(b, indent);
        for (size_t c = 0; st == JC_OK && c < g->ncols; c++) {
            st = jc_text_pad(b, g->cells[r * g->ncols + c], width[c], g->align[c]);
            if (st == JC_OK && c + 1 < g->ncols)
                st = jc_buf_append_str(b, "  ");
        }
        trim_line(b, start);
        if (st == JC_OK)
            st = jc_buf_append_str(b, "\n");
    }
    return st;
}

static void grid_free(grid_t *g)
{
    free(g->cells);
    g->cells = NULL;
}

/* ---- header ---- */

static jc_status_t region_line(const jc_report_t *r, jc_buf_t *b)
{
    const rp_place_t *p = &r->place;
    if (r->region.level == JC_REGION_PROVINCE)
        return rp_appendf(b, "地区 region    全省 %s %s (%zu 个县级行政区 counties)\n", p->name_zh,
                          p->name_pinyin, r->ncounties);
    if (r->region.level == JC_REGION_PREFECTURE)
        return rp_appendf(b, "地区 region    %s %s (市州 prefecture %d, %zu 个县级行政区 counties)\n",
                          p->name_zh, p->name_pinyin, (int)p->code, r->ncounties);
    return rp_appendf(b, "地区 region    %s %s (县 county %d, %s %s)\n", p->name_zh, p->name_pinyin,
                      (int)p->code, r->counties[0].prefecture.name_zh, r->counties[0].prefecture.name_pinyin);
}

static jc_status_t freshness_line(const jc_report_t *r, jc_buf_t *b)
{
    int64_t lag, age, newest;
    char t[40], l[160];
    bool any = rp_freshness_total(r, &lag, &age, &newest);
    if (r->nfresh == 0)
        return rp_appendf(b, "数据 data      尚无汇总数据 nothing aggregated yet\n");
    return rp_appendf(b, "数据 data      最新事件 newest event %s%s; 积压 consumer lag %s\n",
                      any ? rp_time_text(newest, t, sizeof t) : "— (尚无汇总数据 nothing aggregated yet)",
                      any ? " (北京时间 UTC+8)" : "", rp_lag_text(lag, age, l, sizeof l));
}

static jc_status_t header(const jc_report_t *r, jc_buf_t *b)
{
    char period[160], previous[160];
    jc_status_t st = rp_appendf(b, "%s基层工作报告  %s grassroots work report\n%s\n", r->place.name_zh,
                                r->place.name_pinyin, "==========================================================");
    if (st == JC_OK)
        st = region_line(r, b);
    if (st == JC_OK)
        st = rp_appendf(b, "期间 period    %s\n", rp_period_text(r->period, period, sizeof period));
    if (st == JC_OK)
        st = rp_appendf(b, "对比 compared  %s\n", rp_period_text(r->previous, previous, sizeof previous));
    if (st == JC_OK)
        st = freshness_line(r, b);
    return st;
}

/* ---- headline sections ---- */

static jc_status_t section_title(jc_buf_t *b, int n, const char *zh, const char *en)
{
    return rp_appendf(b, "\n%s、%s  %s\n", numerals[n], zh, en);
}

static jc_status_t figures(const jc_report_t *r, int s, jc_buf_t *b)
{
    static const jc_align_t align[3] = {JC_ALIGN_LEFT, JC_ALIGN_LEFT, JC_ALIGN_RIGHT};
    const rp_section_def_t *d = &rp_sections[s];
    grid_t g = {3, 0, 0, NULL, align};
    jc_status_t st = JC_OK;
    for (size_t i = 0; st == JC_OK && i < d->nfigures; i++) {
        char v[32];
        if (d->figures[i].detail || (st = grid_row(&g)) != JC_OK)
            continue;
        grid_set(&g, 0, "%s", d->figures[i].zh);
        grid_set(&g, 1, "%s", d->figures[i].en);
        grid_set(&g, 2, "%s", rp_figure_text(&d->figures[i], r->raw[s], v, sizeof v));
    }
    if (st == JC_OK)
        st = grid_render(&g, "  ", b);
    grid_free(&g);
    return st;
}

static jc_status_t breakdown_header(grid_t *g, const rp_breakdown_def_t *d)
{
    if (grid_row(g) != JC_OK)
        return JC_ERR_NOMEM;
    grid_set(g, 0, "%s %s", d->zh, d->en);
    for (size_t c = 0; c < d->ncolumns; c++) {
        char label[CELL];
        grid_set(g, c + 1, "%s", rp_short_label(rp_count_figure(d->section, d->columns[c])->zh, label, sizeof label));
    }
    return JC_OK;
}

static jc_status_t breakdown(const jc_report_t *r, int bd, jc_buf_t *b)
{
    static const jc_align_t align[16] = {JC_ALIGN_LEFT, JC_ALIGN_RIGHT, JC_ALIGN_RIGHT, JC_ALIGN_RIGHT,
                                         JC_ALIGN_RIGHT, JC_ALIGN_RIGHT, JC_ALIGN_RIGHT, JC_ALIGN_RIGHT,
                                         JC_ALIGN_RIGHT, JC_ALIGN_RIGHT, JC_ALIGN_RIGHT};
    const rp_breakdown_def_t *d = &rp_breakdowns[bd];
    grid_t g = {d->ncolumns + 1, 0, 0, NULL, align};
    jc_status_t st = breakdown_header(&g, d);
    for (size_t i = 0; st == JC_OK && i < d->nsymbols; i++) {
        if ((st = grid_row(&g)) != JC_OK)
            break;
        grid_set(&g, 0, "%s %s", d->symbols[i].zh, d->symbols[i].en);
        for (size_t c = 0; c < d->ncolumns; c++) {
            char v[32];
            grid_set(&g, c + 1, "%s", jc_format_cn(r->breakdown[bd][i][d->columns[c]], v, sizeof v));
        }
    }
    if (st == JC_OK)
        st = rp_appendf(b, "\n");
    if (st == JC_OK)
        st = grid_render(&g, "  ", b);
    grid_free(&g);
    return st;
}

static jc_status_t section(const jc_report_t *r, int s, jc_buf_t *b)
{
    jc_status_t st = section_title(b, s, rp_sections[s].zh, rp_sections[s].en);
    if (st == JC_OK)
        st = figures(r, s, b);
    for (int bd = 0; st == JC_OK && bd < RP_NBREAKDOWNS; bd++)
        if (rp_breakdowns[bd].section == s)
            st = breakdown(r, bd, b);
    return st;
}

/* ---- ranking and trend ---- */

static const jc_align_t ranking_align[11] = {JC_ALIGN_RIGHT, JC_ALIGN_LEFT, JC_ALIGN_RIGHT, JC_ALIGN_RIGHT,
                                             JC_ALIGN_RIGHT, JC_ALIGN_RIGHT, JC_ALIGN_RIGHT, JC_ALIGN_RIGHT,
                                             JC_ALIGN_RIGHT, JC_ALIGN_RIGHT, JC_ALIGN_RIGHT};

static jc_status_t ranking_header(grid_t *g, const jc_report_t *r)
{
    static const int cols[9] = {M_CADRES, -1, M_VISITS, -1, M_PEOPLE, M_PETITIONS, M_RESOLVED, M_RESPONSES,
                                M_COMPLETIONS};
    for (int line = 0; line < 2; line++) {
        if (grid_row(g) != JC_OK)
            return JC_ERR_NOMEM;
        grid_set(g, 0, "%s", line ? "rank" : "排名");
        grid_set(g, 1, "%s", line ? rp_level_key(r->row_level) : rp_level_zh(r->row_level));
        for (int c = 0; c < 9; c++)
            grid_set(g, (size_t)c + 2, "%s", cols[c] < 0 ? (line ? "change" : "较上期")
                                         : line ? rp_metrics[cols[c]].en : rp_metrics[cols[c]].zh);
    }
    return JC_OK;
}

static void ranking_cells(grid_t *g, const rp_row_t *row)
{
    char v[9][32];
    grid_set(g, 0, "%d", row->rank);
    grid_set(g, 1, "%s %s", row->place.name_zh, row->place.name_pinyin);
    jc_format_cn(row->cur[M_CADRES], v[0], sizeof v[0]);
    jc_format_change(row->cur[M_CADRES], row->prev[M_CADRES], v[1], sizeof v[1]);
    jc_format_cn(row->cur[M_VISITS], v[2], sizeof v[2]);
    jc_format_change(row->cur[M_VISITS], row->prev[M_VISITS], v[3], sizeof v[3]);
    jc_format_cn(row->cur[M_PEOPLE], v[4], sizeof v[4]);
    jc_format_cn(row->cur[M_PETITIONS], v[5], sizeof v[5]);
    jc_format_cn(row->cur[M_RESOLVED], v[6], sizeof v[6]);
    jc_format_cn(row->cur[M_RESPONSES], v[7], sizeof v[7]);
    jc_format_cn(row->cur[M_COMPLETIONS], v[8], sizeof v[8]);
    for (int c = 0; c < 9; c++)
        grid_set(g, (size_t)c + 2, "%s", v[c]);
}

static jc_status_t ranking(const jc_report_t *r, int n, jc_buf_t *b)
{
    char prev[64];
    grid_t g = {11, 0, 0, NULL, ranking_align};
    jc_status_t st = rp_appendf(b, "\n%s、分%s  By %s, ranked by distinct cadres (较上期 change against %s)\n",
                                numerals[n], rp_level_zh(r->row_level), rp_level_key(r->row_level),
                                rp_range_text(r->previous, prev, sizeof prev));
    if (st == JC_OK)
        st = ranking_header(&g, r);
    for (size_t i = 0; st == JC_OK && i < r->nrows; i++)
        if ((st = grid_row(&g)) == JC_OK)
            ranking_cells(&g, &r->rows[i]);
    if (st == JC_OK)
        st = grid_render(&g, "  ", b);
    grid_free(&g);
    return st;
}

static jc_status_t trend(const jc_report_t *r, int n, jc_buf_t *b)
{
    static const jc_align_t align[8] = {JC_ALIGN_LEFT, JC_ALIGN_RIGHT, JC_ALIGN_RIGHT, JC_ALIGN_RIGHT,
                                        JC_ALIGN_RIGHT, JC_ALIGN_RIGHT, JC_ALIGN_RIGHT, JC_ALIGN_RIGHT};
    grid_t g = {RP_NMETRICS + 1, 0, 0, NULL, align};
    jc_status_t st = section_title(b, n, "近12个月", "Monthly trend, last 12 months");
    for (int line = 0; st == JC_OK && line < 2; line++) {
        if ((st = grid_row(&g)) != JC_OK)
            break;
        grid_set(&g, 0, "%s", line ? "month" : "月份");
        for (int m = 0; m < RP_NMETRICS; m++)
            grid_set(&g, (size_t)m + 1, "%s", line ? rp_metrics[m].en : rp_metrics[m].zh);
    }
    for (int i = 0; st == JC_OK && i < RP_TREND_MONTHS; i++) {
        if ((st = grid_row(&g)) != JC_OK)
            break;
        grid_set(&g, 0, "%s", r->months[i].month);
        for (int m = 0; m < RP_NMETRICS; m++) {
            char v[32];
            grid_set(&g, (size_t)m + 1, "%s", jc_format_cn(r->months[i].v[m], v, sizeof v));
        }
    }
    if (st == JC_OK)
        st = grid_render(&g, "  ", b);
    grid_free(&g);
    return st;
}

/* ---- silence and freshness ---- */

/* Append the silent counties of section s, wrapped at WRAP columns under an indent. */
static jc_status_t silent_list(const jc_report_t *r, int s, jc_buf_t *b)
{
    size_t col = 4;
    jc_status_t st = rp_appendf(b, "    ");
    for (size_t i = 0; st == JC_OK && i < r->ncounties; i++) {
        char name[160];
        if (!r->silent[s][i])
            continue;
        snprintf(name, sizeof name, "%s %s", r->counties[i].county.name_zh, r->counties[i].county.name_pinyin);
        size_t w = jc_display_width(name) + 2;
        if (col > 4 && col + w > WRAP) {
            trim_line(b, 0);
            st = rp_appendf(b, "\n    ");
            col = 4;
        }
        if (st == JC_OK)
            st = rp_appendf(b, "%s, ", name);
        col += w;
    }
    if (st == JC_OK) {
        b->len -= 2; /* the last ", " */
        b->data[b->len] = '\0';
        st = rp_appendf(b, "\n");
    }
    return st;
}

static jc_status_t silence(const jc_report_t *r, int n, jc_buf_t *b)
{
    jc_status_t st = section_title(b, n, "无报告的县", "Counties that reported nothing in the period");
    for (int s = 0; st == JC_OK && s < RP_NSECTIONS; s++) {
        size_t k = rp_silent_count(r, s);
        st = rp_appendf(b, "  %s %s: ", rp_sections[s].zh, rp_sections[s].en);
        if (st == JC_OK && k == 0)
            st = rp_appendf(b, "无 none (全部 %zu 个县有报告 every county reported)\n", r->ncounties);
        else if (st == JC_OK)
            st = rp_appendf(b, "%zu / %zu 个县无报告 counties silent\n", k, r->ncounties);
        if (st == JC_OK && k > 0)
            st = silent_list(r, s, b);
    }
    return st;
}

static jc_status_t freshness(const jc_report_t *r, int n, jc_buf_t *b)
{
    static const jc_align_t align[7] = {JC_ALIGN_LEFT, JC_ALIGN_RIGHT, JC_ALIGN_RIGHT, JC_ALIGN_LEFT,
                                        JC_ALIGN_RIGHT, JC_ALIGN_RIGHT, JC_ALIGN_LEFT};
    static const char *const head[2][7] = {{"消费组", "主题", "分区", "最新事件", "积压", "积压观测于", "更新于"},
                                           {"consumer group", "topics", "partitions", "newest event", "lag",
                                            "lag observed", "updated"}};
    grid_t g = {7, 0, 0, NULL, align};
    jc_status_t st = section_title(b, n, "数据时效", "Data freshness (北京时间 UTC+8)");
    for (int line = 0; st == JC_OK && line < 2; line++)
        if ((st = grid_row(&g)) == JC_OK)
            for (int c = 0; c < 7; c++)
                grid_set(&g, (size_t)c, "%s", head[line][c]);
    for (size_t i = 0; st == JC_OK && i < r->nfresh; i++) {
        const rp_fresh_t *f = &r->fresh[i];
        char t1[40], t2[40], age[32];
        if ((st = grid_row(&g)) != JC_OK)
            break;
        grid_set(&g, 0, "%s", f->group_id);
        grid_set(&g, 1, "%lld", (long long)f->topics);
        grid_set(&g, 2, "%lld", (long long)f->partitions);
        grid_set(&g, 3, "%s", f->has_newest ? rp_time_text(f->newest_ms, t1, sizeof t1) : "—");
        grid_set(&g, 4, "%lld", (long long)f->lag);
        if (f->has_lag_age)
            grid_set(&g, 5, "%s 前 ago", jc_lag_age_text(f->lag_age_ms, age, sizeof age));
        else
            grid_set(&g, 5, "—");
        grid_set(&g, 6, "%s", f->has_updated ? rp_time_text(f->updated_ms, t2, sizeof t2) : "—");
    }
    if (st == JC_OK)
        st = grid_render(&g, "  ", b);
    grid_free(&g);
    return st;
}

static jc_status_t notes(const jc_report_t *r, jc_buf_t *b)
{
    char t[40], p[200]; /* p: provenance (issue 13, item 3) */
    return rp_appendf(b, "\n口径 Notes: 下基层干部、灾情、参训人员为期间内、地区内去重计数 (exact distinct counts over the period\n"
                         "and region). 办结率 = 本期办结 ÷ 本期受理 (resolutions in the period ÷ receipts in the period; a\n"
                         "petition received earlier and resolved now counts, so it can exceed 100%%). 办结用时和N日内办结占比\n"
                         "按本期办结计 (of resolutions in the period). 满意率 = 满意 ÷ 有答复的回访. 1万 = 10,000; 1亿 = 10^8.\n"
                         "生成于 generated %s (北京时间 UTC+8) by jiceng-report.\n%s\n",
                      rp_time_text(r->generated_ms, t, sizeof t), rp_provenance_text(r, p, sizeof p));
}

jc_status_t rp_write_text(const jc_report_t *r, FILE *out, jc_error_t *err)
{
    static const rp_layout_t text = {header, section, ranking, trend, silence, freshness, notes};
    return rp_render(r, &text, out, "text", err);
}
