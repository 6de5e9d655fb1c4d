/*
 * html.c: the report as one self-contained HTML page.
 *
 * Everything is inline: the CSS in a <style> element, the charts as <svg> (svg.c), fonts from
 * the reader's system (Noto Sans CJK SC and the usual Chinese system fonts, then sans-serif);
 * no script, no image, no link, so it opens offline and prints as it shows. Each headline
 * figure is a card carrying its JSON key and raw value (data-key="visits.cadres" data-value=
 * "23200") beside the number as a reader sees it (2.32万), so a check can hold the page
 * against the JSON. Text from the database (place names, group ids) is HTML-escaped.
 */
#include <string.h>

#include "jiceng/jtime.h"
#include "jiceng/lag.h"
#include "model.h"

static const char *const numerals[] = {"一", "二", "三", "四", "五", "六", "七", "八", "九", "十"};

static const char style[] =
    "*{box-sizing:border-box}"
    "body{margin:0;background:#f3f0ea;color:#222;font:15px/1.5 \"Noto Sans CJK SC\",\"Noto Sans SC\","
    "\"Source Han Sans SC\",\"PingFang SC\",\"Microsoft YaHei\",sans-serif}"
    ".wrap{max-width:1180px;margin:0 auto;padding:0 24px}"
    "header.top{background:linear-gradient(120deg,#8e1414,#b52a1c);color:#fff;padding:26px 0 22px}"
    ".kicker{font-size:14px;letter-spacing:.12em;opacity:.85}"
    "h1{margin:4px 0 10px;font-size:34px;font-weight:700}h1 .py{font-size:20px;font-weight:400;opacity:.8;margin-left:10px}"
    ".meta{display:flex;flex-wrap:wrap;gap:6px 28px;font-size:14px;opacity:.95}"
    ".meta b{font-weight:700;margin-right:6px}"
    ".kpis{display:grid;grid-template-columns:repeat(6,1fr);gap:10px;margin-top:16px}"
    ".kpi{background:rgba(255,255,255,.12);border-radius:6px;padding:8px 12px}"
    ".kpi .v{font-size:28px;font-weight:700;line-height:1.2}.kpi .l{font-size:13px;opacity:.9}"
    "section{background:#fff;border-radius:8px;margin:18px 0;padding:16px 22px 20px;"
    "box-shadow:0 1px 3px rgba(60,40,20,.12)}"
    "h2{margin:0 0 12px;font-size:21px;border-left:5px solid #b52a1c;padding-left:10px}"
    "h2 small,h3 small{font-size:13px;color:#777;font-weight:400;margin-left:8px}"
    "h3{font-size:16px;margin:16px 0 6px}"
    ".cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(210px,1fr));gap:10px}"
    ".card{border:1px solid #eee3d6;border-radius:6px;padding:10px 12px;background:#fffdf9}"
    ".card .v{font-size:27px;font-weight:700;color:#a31d12;line-height:1.2;font-variant-numeric:tabular-nums}"
    ".card .l{font-size:14px;margin-top:2px}.card .e{font-size:11.5px;color:#888;line-height:1.3}"
    "table{border-collapse:collapse;width:100%;font-size:13.5px}"
    "th{background:#f6efe6;font-weight:600;text-align:right;padding:5px 8px;white-space:nowrap}"
    "th:first-child,td:first-child{text-align:left}"
    "td{padding:4px 8px;border-bottom:1px solid #f0e8de;text-align:right;font-variant-numeric:tabular-nums;"
    "white-space:nowrap}"
    "tr.zero td{color:#aaa}td .py,.chip .py{color:#888;font-size:12px;margin-left:4px}"
    ".two{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:18px}"
    ".up{color:#1d7a3a}.down{color:#b3261e}"
    ".charts{display:grid;grid-template-columns:repeat(3,1fr);gap:12px}"
    "svg.chart{width:100%;height:auto;display:block}"
    "svg .bar{fill:#b52a1c}svg .bar.old{fill:#e4b4a8}svg .bar.prev{fill:#9a9a9a}"
    "svg .axis{stroke:#999;stroke-width:1}svg .grid{stroke:#e6e0d8;stroke-width:1}"
    "svg text{font-family:inherit;fill:#333}svg .tick,svg .month{font-size:10px;fill:#777}"
    "svg .year{font-size:9px;fill:#999}svg .last{font-size:11px;font-weight:700;fill:#a31d12}"
    "svg .ctitle{font-size:15px;font-weight:700}svg .csub{font-size:11px;fill:#888}"
    "svg .name{font-size:14px}svg .py{font-size:11px;fill:#888}svg .val{font-size:13px}"
    "svg .legend{font-size:12px;fill:#555}svg .up{fill:#1d7a3a}svg .down{fill:#b3261e}"
    ".silence p{margin:6px 0}.chip{display:inline-block;background:#f6efe6;border-radius:4px;"
    "padding:1px 8px;margin:2px 4px 2px 0;font-size:13px}"
    ".none{color:#1d7a3a}.notes{font-size:12.5px;color:#666;margin:10px 0 30px}"
    "@media print{body{background:#fff}section{box-shadow:none;break-inside:avoid}}";

/* ---- helpers ---- */

static jc_status_t place(jc_buf_t *b, const rp_place_t *p)
{
    jc_status_t st = rp_append_html(b, p->name_zh);
    if (st == JC_OK)
        st = rp_appendf(b, "<span class=\"py\">");
    if (st == JC_OK)
        st = rp_append_html(b, p->name_pinyin);
    return st == JC_OK ? rp_appendf(b, "</span>") : st;
}

static jc_status_t section_open(jc_buf_t *b, const char *id, int n, const char *zh, const char *en)
{
    return rp_appendf(b, "<section id=\"%s\"><h2>%s、%s<small>%s</small></h2>", id, numerals[n], zh, en);
}

/* ---- header ---- */

static jc_status_t fresh_meta(const jc_report_t *r, jc_buf_t *b)
{
    int64_t lag, age, newest;
    char t[40], l[160];
    bool any = rp_freshness_total(r, &lag, &age, &newest);
    if (r->nfresh == 0)
        return rp_appendf(b, "<span><b>数据</b>尚无汇总数据 nothing aggregated yet</span>");
    return rp_appendf(b, "<span id=\"freshness-summary\"><b>数据截至</b>%s · 积压 %s "
                         "<small>(newest event, consumer lag)</small></span>",
                      any ? rp_time_text(newest, t, sizeof t) : "—", rp_lag_text(lag, age, l, sizeof l));
}

/* The six figures a reader sees first, in the header band (the cards below repeat them). */
static jc_status_t key_figures(const jc_report_t *r, jc_buf_t *b)
{
    jc_status_t st = rp_appendf(b, "<div class=\"kpis\">");
    for (size_t i = 0; st == JC_OK && i < RP_NKPIS; i++) {
        char text[32];
        const rp_kpi_t *k = &rp_kpis[i];
        st = rp_appendf(b, "<div class=\"kpi\" data-kpi=\"%s.%s\"><div class=\"v\">%s</div><div class=\"l\">%s</div></div>",
                        rp_sections[k->section].key, k->figure->key,
                        rp_figure_text(k->figure, r->raw[k->section], text, sizeof text), k->label);
    }
    return st == JC_OK ? rp_appendf(b, "</div>") : st;
}

static jc_status_t page_header(const jc_report_t *r, jc_buf_t *b)
{
    char label[64], period[160], plabel[64];
    jc_period_label(r->period, label, sizeof label);
    jc_status_t st = rp_appendf(b, "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
                                   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                                   "<title>");
    if (st == JC_OK)
        st = rp_append_html(b, r->place.name_zh);
    if (st == JC_OK)
        st = rp_appendf(b, "基层工作报告 · %s</title><style>%s</style></head><body>"
                           "<header class=\"top\"><div class=\"wrap\"><div class=\"kicker\">基层工作报告 · "
                           "GRASSROOTS WORK REPORT</div><h1>", label, style);
    if (st == JC_OK)
        st = place(b, &r->place);
    if (st == JC_OK)
        st = rp_appendf(b, "</h1><div class=\"meta\"><span><b>期间</b>%s</span>"
                           "<span><b>对比</b>%s</span><span><b>范围</b>%s · %zu个县级行政区</span>",
                        rp_period_text(r->period, period, sizeof period),
                        jc_period_label(r->previous, plabel, sizeof plabel), rp_level_zh(r->region.level),
                        r->ncounties);
    if (st == JC_OK)
        st = fresh_meta(r, b);
    if (st == JC_OK)
        st = rp_appendf(b, "</div>");
    if (st == JC_OK)
        st = key_figures(r, b);
    return st == JC_OK ? rp_appendf(b, "</div></header><main class=\"wrap\">") : st;
}

/* ---- headline ---- */

static jc_status_t card(jc_buf_t *b, const char *section, const rp_figure_t *f, const int64_t *raw)
{
    char text[32], value[40] = "";
    double v;
    if (f->kind == RP_COUNT)
        snprintf(value, sizeof value, "%lld", (long long)raw[f->num]);
    else if (rp_figure_value(f, raw, &v))
        snprintf(value, sizeof value, "%.17g", v);
    return rp_appendf(b, "<div class=\"card\" data-key=\"%s.%s\" data-value=\"%s\"><div class=\"v\">%s%s</div>"
                         "<div class=\"l\">%s</div><div class=\"e\">%s</div></div>",
                      section, f->key, value, rp_figure_text(f, raw, text, sizeof text),
                      f->kind == RP_DAYS ? "<small> 天</small>" : "", f->zh, f->en);
}

static jc_status_t breakdown_table(const jc_report_t *r, int bd, jc_buf_t *b)
{
    const rp_breakdown_def_t *d = &rp_breakdowns[bd];
    jc_status_t st = rp_appendf(b, "<div><h3>%s<small>%s</small></h3><table><tr><th></th>", d->zh, d->en);
    for (size_t c = 0; st == JC_OK && c < d->ncolumns; c++) {
        char label[64];
        st = rp_appendf(b, "<th>%s</th>", rp_short_label(rp_count_figure(d->section, d->columns[c])->zh, label, sizeof label));
    }
    for (size_t i = 0; st == JC_OK && i < d->nsymbols; i++) {
        const int64_t *v = r->breakdown[bd][i];
        st = rp_appendf(b, "</tr><tr%s><td>%s<span class=\"py\">%s</span></td>", v[d->columns[0]] ? "" : " class=\"zero\"",
                        d->symbols[i].zh, d->symbols[i].en);
        for (size_t c = 0; st == JC_OK && c < d->ncolumns; c++) {
            char t[32];
            st = rp_appendf(b, "<td>%s</td>", jc_format_cn(v[d->columns[c]], t, sizeof t));
        }
    }
    return st == JC_OK ? rp_appendf(b, "</tr></table></div>") : st;
}

static jc_status_t headline_section(const jc_report_t *r, int s, jc_buf_t *b)
{
    const rp_section_def_t *d = &rp_sections[s];
    int tables = 0;
    jc_status_t st = section_open(b, d->key, s, d->zh, d->en);
    if (st == JC_OK)
        st = rp_appendf(b, "<div class=\"cards\">");
    for (size_t i = 0; st == JC_OK && i < d->nfigures; i++)
        if (!d->figures[i].detail)
            st = card(b, d->key, &d->figures[i], r->raw[s]);
    if (st == JC_OK)
        st = rp_appendf(b, "</div>");
    for (int bd = 0; bd < RP_NBREAKDOWNS; bd++)
        tables += rp_breakdowns[bd].section == s;
    if (st == JC_OK && tables > 1)
        st = rp_appendf(b, "<div class=\"two\">");
    for (int bd = 0; st == JC_OK && bd < RP_NBREAKDOWNS; bd++)
        if (rp_breakdowns[bd].section == s)
            st = breakdown_table(r, bd, b);
    if (st == JC_OK && tables > 1)
        st = rp_appendf(b, "</div>");
    return st == JC_OK ? rp_appendf(b, "</section>") : st;
}

/* ---- ranking ---- */

static jc_status_t ranking_head(const jc_report_t *r, jc_buf_t *b)
{
    return rp_appendf(b, "<table><tr><th>排名</th><th style=\"text-align:left\">%s</th><th>%s</th><th>较上期</th>"
                         "<th>%s</th><th>较上期</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr>",
                      rp_level_zh(r->row_level), rp_metrics[M_CADRES].zh, rp_metrics[M_VISITS].zh,
                      rp_metrics[M_PEOPLE].zh, rp_metrics[M_PETITIONS].zh, rp_metrics[M_RESOLVED].zh,
                      rp_metrics[M_RESPONSES].zh, rp_metrics[M_COMPLETIONS].zh);
}

static jc_status_t change_cell(jc_buf_t *b, int64_t cur, int64_t prev)
{
    char t[32];
    return rp_appendf(b, "<td class=\"%s\">%s</td>", cur >= prev ? "up" : "down", jc_format_change(cur, prev, t, sizeof t));
}

static jc_status_t ranking_row(const rp_row_t *x, jc_buf_t *b)
{
    static const int rest[] = {M_PEOPLE, M_PETITIONS, M_RESOLVED, M_RESPONSES, M_COMPLETIONS};
    char t[32];
    jc_status_t st = rp_appendf(b, "<tr data-code=\"%d\"><td>%d</td><td style=\"text-align:left\">", (int)x->place.code, x->rank);
    if (st == JC_OK)
        st = place(b, &x->place);
    if (st == JC_OK)
        st = rp_appendf(b, "</td><td>%s</td>", jc_format_cn(x->cur[M_CADRES], t, sizeof t));
    if (st == JC_OK)
        st = change_cell(b, x->cur[M_CADRES], x->prev[M_CADRES]);
    if (st == JC_OK)
        st = rp_appendf(b, "<td>%s</td>", jc_format_cn(x->cur[M_VISITS], t, sizeof t));
    if (st == JC_OK)
        st = change_cell(b, x->cur[M_VISITS], x->prev[M_VISITS]);
    for (size_t k = 0; st == JC_OK && k < sizeof rest / sizeof rest[0]; k++)
        st = rp_appendf(b, "<td>%s</td>", jc_format_cn(x->cur[rest[k]], t, sizeof t));
    return st == JC_OK ? rp_appendf(b, "</tr>") : st;
}

static jc_status_t ranking_section(const jc_report_t *r, int n, jc_buf_t *b)
{
    char zh[64], en[96], prev[64];
    snprintf(zh, sizeof zh, "分%s比较", rp_level_zh(r->row_level));
    snprintf(en, sizeof en, "by %s, ranked by distinct cadres; change against %s", rp_level_key(r->row_level),
             rp_range_text(r->previous, prev, sizeof prev));
    jc_status_t st = section_open(b, "ranking", n, zh, en);
    if (st == JC_OK)
        st = rp_svg_ranking(r, b);
    if (st == JC_OK)
        st = ranking_head(r, b);
    for (size_t i = 0; st == JC_OK && i < r->nrows; i++)
        st = ranking_row(&r->rows[i], b);
    return st == JC_OK ? rp_appendf(b, "</table></section>") : st;
}

/* ---- trend, silence, freshness ---- */

static jc_status_t trend_section(const jc_report_t *r, int n, jc_buf_t *b)
{
    static const int shown[] = {M_CADRES, M_VISITS, M_PEOPLE, M_PETITIONS, M_RESPONSES, M_COMPLETIONS};
    jc_status_t st = section_open(b, "trend", n, "近12个月走势", "monthly trend, last 12 months (深色: 本期 dark: this period)");
    if (st == JC_OK)
        st = rp_appendf(b, "<div class=\"charts\">");
    for (size_t i = 0; st == JC_OK && i < sizeof shown / sizeof shown[0]; i++)
        st = rp_svg_trend(r, shown[i], b);
    return st == JC_OK ? rp_appendf(b, "</div></section>") : st;
}

static jc_status_t silent_type(const jc_report_t *r, int s, jc_buf_t *b)
{
    size_t k = rp_silent_count(r, s);
    jc_status_t st = rp_appendf(b, "<p data-silent=\"%s\" data-count=\"%zu\"><b>%s</b> <small>%s</small>: ",
                                rp_sections[s].key, k, rp_sections[s].zh, rp_sections[s].en);
    if (st == JC_OK && k == 0)
        return rp_appendf(b, "<span class=\"none\">无 — 全部 %zu 个县有报告</span></p>", r->ncounties);
    if (st == JC_OK)
        st = rp_appendf(b, "%zu 个县无报告<br>", k);
    for (size_t i = 0; st == JC_OK && i < r->ncounties; i++) {
        if (!r->silent[s][i])
            continue;
        st = rp_appendf(b, "<span class=\"chip\">");
        if (st == JC_OK)
            st = place(b, &r->counties[i].county);
        if (st == JC_OK)
            st = rp_appendf(b, "</span>");
    }
    return st == JC_OK ? rp_appendf(b, "</p>") : st;
}

static jc_status_t silence_section(const jc_report_t *r, int n, jc_buf_t *b)
{
    jc_status_t st = section_open(b, "silence", n, "无报告的县", "counties that reported nothing in the period");
    if (st == JC_OK)
        st = rp_appendf(b, "<div class=\"silence\">");
    for (int s = 0; st == JC_OK && s < RP_NSECTIONS; s++)
        st = silent_type(r, s, b);
    return st == JC_OK ? rp_appendf(b, "</div></section>") : st;
}

static jc_status_t fresh_row(const rp_fresh_t *f, jc_buf_t *b)
{
    char t1[40], t2[40], age[32];
    jc_status_t st = rp_appendf(b, "<tr><td>");
    if (st == JC_OK)
        st = rp_append_html(b, f->group_id);
    if (st == JC_OK)
        st = rp_appendf(b, "</td><td>%lld</td><td>%lld</td><td>%s</td><td>%lld</td><td>%s%s</td><td>%s</td></tr>",
                        (long long)f->topics, (long long)f->partitions,
                        f->has_newest ? rp_time_text(f->newest_ms, t1, sizeof t1) : "—", (long long)f->lag,
                        f->has_lag_age ? jc_lag_age_text(f->lag_age_ms, age, sizeof age) : "—",
                        f->has_lag_age ? " 前 ago" : "",
                        f->has_updated ? rp_time_text(f->updated_ms, t2, sizeof t2) : "—");
    return st;
}

static jc_status_t freshness_section(const jc_report_t *r, int n, jc_buf_t *b)
{
    jc_status_t st = section_open(b, "freshness", n, "数据时效", "data freshness (北京时间 UTC+8)");
    if (st == JC_OK)
        st = rp_appendf(b, "<table><tr><th>消费组 consumer group</th><th>主题 topics</th><th>分区 partitions</th>"
                           "<th>最新事件 newest event</th><th>积压 lag</th><th>积压观测于 lag observed</th>"
                           "<th>更新于 updated</th></tr>");
    for (size_t i = 0; st == JC_OK && i < r->nfresh; i++)
        st = fresh_row(&r->fresh[i], b);
    return st == JC_OK ? rp_appendf(b, "</table></section>") : st;
}

static jc_status_t notes(const jc_report_t *r, jc_buf_t *b)
{
    char t[40], p[200]; /* p: provenance (issue 13, item 3) */
    return rp_appendf(b, "<p class=\"notes\">口径：下基层干部、灾情、参训人员为期间内、地区内去重计数。办结率 = 本期办结 ÷ 本期受理"
                         "（此前受理、本期办结的也计入，故可超过100%%）；平均办结用时与N日内办结占比按本期办结计；"
                         "满意率 = 满意 ÷ 有答复的回访。1万 = 10,000，1亿 = 100,000,000。<br>"
                         "Distinct cadres, incidents and trainees are exact distinct counts over the period and region. "
                         "Resolution rate = resolutions in the period ÷ receipts in the period. "
                         "Generated %s (UTC+8) by jiceng-report.</p><p class=\"provenance\">%s</p>"
                         "</main></body></html>\n",
                      rp_time_text(r->generated_ms, t, sizeof t), rp_provenance_text(r, p, sizeof p));
}

jc_status_t rp_write_html(const jc_report_t *r, FILE *out, jc_error_t *err)
{
    static const rp_layout_t html = {page_header, headline_section, ranking_section,
                                     trend_section, silence_section, freshness_section, notes};
    return rp_render(r, &html, out, "HTML", err);
}
