/*
 * jiceng-report: the provincial leadership's report on grassroots work, for a period and a
 * region, as terminal text, CSV, JSON or a self-contained HTML page (jiceng/report.h).
 *
 * A thin program: options come from the shared configuration mechanism (cli.h: defaults,
 * config file, the stack's env file, environment, flags); it turns them into
 * jc_report_options_t and calls jc_report_run, which connects as the read-only role
 * jiceng_report (report.conninfo, JICENG_REPORT_CONNINFO),
 * reads the report views and writes the report. It needs no Kafka access: the consumer's
 * progress is in PostgreSQL. Exit status: 0 written, 1 failed (database unreachable or
 * unreadable, output not writable), 2 usage.
 */
#include <stdio.h>

#include "cli.h"
#include "jiceng/jtime.h"
#include "jiceng/report.h"

static const jc_option_t options[] = {
    {"report.conninfo", "conninfo", "JICENG_REPORT_CONNINFO", NULL, "STR",
     "libpq conninfo or URI of the read-only report role (PG* variables apply)"},
    {"report.from", "from", NULL, NULL, "YYYY-MM-DD", "first day of the period (with --to)"},
    {"report.to", "to", NULL, NULL, "YYYY-MM-DD", "last day of the period, inclusive"},
    {"report.month", "month", NULL, NULL, "YYYY-MM", "the period is that calendar month"},
    {"report.year", "year", NULL, NULL, "YYYY", "the period is that calendar year"},
    {"report.prefecture", "prefecture", NULL, NULL, "CODE",
     "report on one prefecture (its counties in the table), e.g. 520300"},
    {"report.county", "county", NULL, NULL, "CODE", "report on one county, e.g. 520102"},
    {"report.format", "format", NULL, "text", "text|csv|json|html", "output format"},
    {"report.output", "output", NULL, "-", "FILE", "write here (replaced atomically); -: stdout"},
};

static const jc_program_t program = {
    .name = "jiceng-report",
    .synopsis = "[OPTIONS]",
    .about = "Builds the report on grassroots work for a period (default: the last full month;\n"
             "--month, --year or --from/--to) and a region (default: the province; --prefecture\n"
             "or --county) from the aggregate database's report views, read as the read-only\n"
             "role jiceng_report: headline figures, a ranked table by prefecture (or county)\n"
             "against the previous period, silent counties, a 12-month trend and data freshness.",
    .epilogue = "Dates are local days in Asia/Shanghai. JSON keys: docs/report-json.md.\n"
                "exit status: 0 written, 1 failed (e.g. database unreachable), 2 usage error",
    .options = options,
    .noptions = sizeof options / sizeof options[0],
};

static jc_status_t read_options(const jc_config_t *cfg, jc_report_options_t *o, jc_error_t *err)
{
    int noperands;
    jc_config_operands(cfg, &noperands);
    if (noperands != 0)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "no operands expected");
    o->conninfo = jc_config_get(cfg, "report.conninfo");
    o->output = jc_config_get(cfg, "report.output");
    jc_status_t st = jc_report_format_parse(jc_config_get(cfg, "report.format"), &o->format, err);
    if (st == JC_OK)
        st = jc_period_from_options(jc_config_get(cfg, "report.from"), jc_config_get(cfg, "report.to"),
                                    jc_config_get(cfg, "report.month"), jc_config_get(cfg, "report.year"),
                                    jc_local_day(jc_now_ms()), &o->period, err);
    if (st == JC_OK)
        st = jc_region_from_options(jc_config_get(cfg, "report.prefecture"),
                                    jc_config_get(cfg, "report.county"), &o->region, err);
    if (st == JC_OK && o->conninfo == NULL)
        st = jc_error_set(err, JC_ERR_INVALID_ARG, "no database: use --conninfo, JICENG_REPORT_CONNINFO "
                          "or an env file");
    return st;
}

int main(int argc, char **argv)
{
    jc_config_t *cfg = NULL;
    int rc = jc_config_main(&program, argc, argv, &cfg);
    if (rc >= 0)
        return rc;
    jc_report_options_t o = {0};
    jc_error_t err;
    if (read_options(cfg, &o, &err) != JC_OK)
        rc = jc_cli_fail(program.name, JC_EXIT_USAGE, "%s\n%s: see --help", err.message,
                         program.name);
    else if (jc_report_run(&o, &err) != JC_OK)
        rc = jc_cli_fail(program.name, JC_EXIT_FAILURE, "%s", err.message);
    else
        rc = JC_EXIT_OK;
    jc_config_free(cfg);
    return rc;
}
