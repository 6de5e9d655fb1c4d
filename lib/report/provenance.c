/*
 * provenance.c: what a report reflects (issue 13, item 3): the generation of the aggregates and
 * the offsets per partition its consumers had applied, read from jiceng.report_generation
 * (generated over the current generation's progress, lib/aggregate/aggsql.c) in the report's
 * own repeatable-read transaction, so they are the figures' own; shown in the JSON
 * ("provenance") and as a footer line of the text and HTML; and each run recorded in
 * jiceng.report_runs with the SHA-256 of its output (the output rendered again into memory:
 * rendering is deterministic, so the digest is the one of the bytes written).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "../digest.h"
#include "jiceng/jtime.h"
#include "model.h"

jc_status_t rp_fetch_provenance(PGconn *c, jc_report_t *r, jc_error_t *err)
{
    PGresult *q = PQexec(c, "select generation, offsets::text, "
                            "(select count(*) from jsonb_each(offsets)), "
                            "(select coalesce(sum(value::bigint), 0) from jsonb_each_text(offsets)) "
                            "from jiceng.report_generation");
    if (PQresultStatus(q) != PGRES_TUPLES_OK || PQntuples(q) != 1) {
        jc_error_set(err, JC_ERR_PG, "report: reading jiceng.report_generation: %s",
                     PQresultStatus(q) == PGRES_TUPLES_OK ? "not one row" : PQresultErrorMessage(q));
        PQclear(q);
        return JC_ERR_PG;
    }
    r->generation = atoi(PQgetvalue(q, 0, 0));
    r->offsets = strdup(PQgetvalue(q, 0, 1));
    r->offsets_partitions = atoll(PQgetvalue(q, 0, 2));
    r->offsets_messages = atoll(PQgetvalue(q, 0, 3));
    PQclear(q);
    return r->offsets != NULL ? JC_OK : jc_error_set(err, JC_ERR_NOMEM, "report: out of memory");
}

const char *rp_provenance_text(const jc_report_t *r, char *buf, size_t len)
{
    snprintf(buf, len, "数据版本 Provenance: generation %d, %lld messages applied over %lld partitions "
             "(per partition in the JSON output and jiceng.report_runs)", r->generation,
             (long long)r->offsets_messages, (long long)r->offsets_partitions);
    return buf;
}

static const char *region_text(const jc_report_t *r, char *buf, size_t len)
{
    static const char *const level[] = {"province", "prefecture", "county"};
    int l = (int)r->region.level;
    snprintf(buf, len, "%s:%d", l >= 0 && l < 3 ? level[l] : "?", (int)r->region.code);
    return buf;
}

jc_status_t rp_record_run(PGconn *c, const jc_report_t *r, jc_report_format_t format, jc_error_t *err)
{
    static const char *const names[] = {"text", "csv", "json", "html"};
    char *bytes = NULL, hex[JC_SHA256_HEX_SIZE], from[16], to[16], region[48], gen[16];
    size_t n = 0;
    FILE *m = open_memstream(&bytes, &n);
    if (m == NULL)
        return jc_error_set(err, JC_ERR_NOMEM, "report: recording the run: out of memory");
    jc_status_t st = jc_report_write(r, format, m, err);
    if (fclose(m) != 0 && st == JC_OK)
        st = jc_error_set(err, JC_ERR_NOMEM, "report: recording the run: out of memory");
    if (st == JC_OK)
        st = jc_sha256_hex(bytes, n, hex, err);
    free(bytes);
    if (st != JC_OK)
        return st;
    jc_day_format(r->period.from, from, sizeof from);
    jc_day_format(r->period.to, to, sizeof to);
    snprintf(gen, sizeof gen, "%d", r->generation);
    const char *v[7] = {from, to, region_text(r, region, sizeof region),
                        (int)format >= 0 && (int)format < 4 ? names[format] : "?", gen, r->offsets, hex};
    PGresult *q = PQexecParams(c, "insert into jiceng.report_runs (period_from, period_to, region, format, "
                                  "generation, offsets, digest) values ($1, $2, $3, $4, $5, $6::jsonb, $7)",
                               7, NULL, v, NULL, NULL, 0);
    if (PQresultStatus(q) != PGRES_COMMAND_OK)
        st = jc_error_set(err, JC_ERR_PG, "report: written, but recording it in jiceng.report_runs failed: %s",
                          PQresultErrorMessage(q));
    PQclear(q);
    return st;
}
