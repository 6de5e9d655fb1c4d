/*
 * run.c: the report's entry points around building it (jiceng/report.h): the format names,
 * rendering in a format, and a whole run (connect as the report role, build, write, close).
 *
 * A file output is written to a temporary file in the same directory and renamed over the
 * target only once it is complete and flushed, so a reader never sees half a report.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "model.h"

static const char *const format_names[] = {"text", "csv", "json", "html"};

jc_status_t jc_report_format_parse(const char *name, jc_report_format_t *out, jc_error_t *err)
{
    for (int i = 0; i < 4; i++)
        if (name != NULL && strcmp(name, format_names[i]) == 0) {
            *out = (jc_report_format_t)i;
            return JC_OK;
        }
    return jc_error_set(err, JC_ERR_INVALID_ARG, "format: '%s' is not text, csv, json or html",
                        name ? name : "");
}

jc_status_t jc_report_write(const jc_report_t *r, jc_report_format_t format, FILE *out, jc_error_t *err)
{
    switch (format) {
    case JC_REPORT_TEXT: return rp_write_text(r, out, err);
    case JC_REPORT_CSV: return rp_write_csv(r, out, err);
    case JC_REPORT_JSON: return rp_write_json(r, out, err);
    case JC_REPORT_HTML: return rp_write_html(r, out, err);
    }
    return jc_error_set(err, JC_ERR_INVALID_ARG, "report: unknown format %d", (int)format);
}

static jc_status_t connect_db(const char *conninfo, PGconn **c, jc_error_t *err)
{
    *c = PQconnectdb(conninfo ? conninfo : "");
    if (*c != NULL && PQstatus(*c) == CONNECTION_OK)
        return JC_OK;
    jc_error_set(err, JC_ERR_PG, "cannot connect to the report database: %s",
                 *c ? PQerrorMessage(*c) : "out of memory");
    PQfinish(*c);
    *c = NULL;
    return JC_ERR_PG;
}

static jc_status_t write_stdout(const jc_report_t *r, jc_report_format_t f, jc_error_t *err)
{
    jc_status_t st = jc_report_write(r, f, stdout, err);
    if (st == JC_OK && fflush(stdout) != 0)
        st = jc_error_set(err, JC_ERR_IO, "writing the report to standard output: %s", strerror(errno));
    return st;
}

static jc_status_t write_file(const jc_report_t *r, jc_report_format_t f, const char *path, jc_error_t *err)
{
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= sizeof tmp)
        return jc_error_set(err, JC_ERR_IO, "output: path too long");
    FILE *out = fopen(tmp, "w");
    if (out == NULL)
        return jc_error_set(err, JC_ERR_IO, "cannot create %s: %s", tmp, strerror(errno));
    jc_status_t st = jc_report_write(r, f, out, err);
    if (st == JC_OK && (fflush(out) != 0 || fsync(fileno(out)) != 0))
        st = jc_error_set(err, JC_ERR_IO, "writing %s: %s", tmp, strerror(errno));
    if (fclose(out) != 0 && st == JC_OK)
        st = jc_error_set(err, JC_ERR_IO, "closing %s: %s", tmp, strerror(errno));
    if (st == JC_OK && rename(tmp, path) != 0)
        st = jc_error_set(err, JC_ERR_IO, "renaming %s to %s: %s", tmp, path, strerror(errno));
    if (st != JC_OK)
        unlink(tmp);
    return st;
}

jc_status_t jc_report_run(const jc_report_options_t *o, jc_error_t *err)
{
    PGconn *c;
    jc_report_t *r = NULL;
    jc_status_t st = connect_db(o->conninfo, &c, err);
    if (st == JC_OK)
        st = jc_report_build(c, &o->region, &o->period, &r, err);
    if (st == JC_OK && (o->output == NULL || strcmp(o->output, "-") == 0))
        st = write_stdout(r, o->format, err);
    else if (st == JC_OK)
        st = write_file(r, o->format, o->output, err);
    if (st == JC_OK) /* provenance (issue 13, item 3): the run and its output's digest */
        st = rp_record_run(c, r, o->format, err);
    PQfinish(c);
    jc_report_free(r);
    return st;
}
