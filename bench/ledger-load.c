/*
 * bench/ledger-load: the time to load one partition's dedup ledger (issue 12, item 7).
 *
 * Run by bench/ledger-load.sh, which makes a scratch database, migrates it and passes its
 * conninfo. This program writes a synthetic ledger of IDS ids for one partition (rows of 100,000
 * entries, random-looking ids from sha256, made by PostgreSQL), in FORMAT 2 (default: as the
 * aggregator writes them since migration 010, each id with the record of a typical visit, built
 * here by the library's own encoder, lib/aggregate/ledger.h) or FORMAT 1 (20-byte entries, id
 * and content hash, as before), then times, ROUNDS times each:
 *   - jc_sink_load_ledger into an empty set: the query plus building the set, as the loader
 *     thread does it (and as drop_batch's reload does it on the aggregator's thread);
 *   - the loader's round trip: jc_loader_request to the set handed back by jc_loader_take (its
 *     own connection, made once before the first round is timed);
 * and prints each round, the median, the set's size and its bytes per id.
 *
 * usage: bench-ledger-load CONNINFO [IDS [ROUNDS [FORMAT]]]   (defaults 1000000, 5, 2)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "dedup.h"
#include "jiceng/aggregates.h"
#include "jiceng/jtime.h"
#include "ledger.h"
#include "loader.h"
#include "pgsink.h"

#define TOPIC "bench.ledger-load"
#define PER_ROW 100000L

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* A typical visit's ledger record, preceded by its length (what follows each id in a format 2
 * entry), as hex; an empty string if it cannot be built. */
static void visit_record_hex(char *hex, size_t size)
{
    jc_event_t ev;
    jc_event_init(&ev, JC_VISIT);
    ev.occurred_at = 1791941400000LL; /* 2026-10-14T09:30:00+08:00 */
    ev.county_code = 520102;
    snprintf(ev.u.visit.cadre_id, sizeof ev.u.visit.cadre_id, "GY-0142");
    ev.u.visit.cadre_level = 2;
    ev.u.visit.households_visited = 6;
    ev.u.visit.people_met = 14;
    ev.u.visit.deeds_done = 1;
    ev.u.visit.problems_solved = 2;
    ev.u.visit.hours_on_site = 3;
    jc_buf_t rec = {0};
    size_t n;
    const jc_aggregate_t *all = jc_aggregates(&n);
    jc_agg_row_t row;
    hex[0] = '\0';
    jc_status_t st = jc_record_begin(&rec, 0x9e3779b9u, 0, false, ev.county_code, jc_local_day(ev.occurred_at));
    for (size_t t = 0; t < n && st == JC_OK; t++)
        if (all[t].type == JC_VISIT && (st = jc_agg_event_row(&all[t], &ev, &row)) == JC_OK)
            st = jc_record_put_row(&rec, &all[t], &row);
    uint8_t len[JC_VARINT_MAX];
    size_t nlen = jc_varint_put(len, rec.len), w = 0;
    for (size_t i = 0; st == JC_OK && i < nlen + rec.len && w + 3 < size; i++)
        w += (size_t)snprintf(hex + w, size - w, "%02x", i < nlen ? len[i] : rec.data[i - nlen]);
    jc_buf_free(&rec);
}

static int write_ledger(PGconn *c, long ids, int format)
{
    char sql[2048], record[512] = "";
    if (format == 2)
        visit_record_hex(record, sizeof record);
    snprintf(sql, sizeof sql,
             "delete from jiceng.dedup_ledger where topic = '" TOPIC "';"
             "insert into jiceng.dedup_ledger (topic, partition, first_offset, entries, format) "
             "select '" TOPIC "', 0, g * %ld, string_agg(substring(sha256(int8send(g * %ld + i)) "
             "from 1 for %d) || decode('%s', 'hex'), ''::bytea order by i), %d "
             "from generate_series(0, %ld) g, generate_series(0, %ld - 1) i "
             "where g * %ld + i < %ld group by g",
             PER_ROW, PER_ROW, format == 2 ? 16 : 20, record, format, (ids - 1) / PER_ROW, PER_ROW,
             PER_ROW, ids);
    PGresult *r = PQexec(c, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        fprintf(stderr, "bench-ledger-load: writing the ledger: %s", PQerrorMessage(c));
    PQclear(r);
    return ok;
}

/* One round through the loader thread: seconds, or -1. */
static double via_loader(jc_loader_t *l, uint64_t ticket, size_t *count)
{
    jc_loaded_t got;
    double t0 = seconds();
    if (jc_loader_request(l, TOPIC, 0, ticket) != JC_OK)
        return -1;
    for (;;) {
        if (jc_loader_take(l, &got)) {
            if (got.retrying) {
                fprintf(stderr, "bench-ledger-load: loader: %s\n", got.err.message);
                continue;
            }
            break;
        }
        struct timespec ts = {0, 1000000L};
        nanosleep(&ts, NULL);
    }
    double t = seconds() - t0;
    *count = got.seen.count;
    jc_dedup_free(&got.seen);
    return got.status == JC_OK ? t : -1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench-ledger-load CONNINFO [IDS [ROUNDS [FORMAT]]]\n");
        return 2;
    }
    long ids = argc > 2 ? atol(argv[2]) : 1000000L;
    int rounds = argc > 3 ? atoi(argv[3]) : 5;
    int format = argc > 4 ? atoi(argv[4]) : 2;
    if (ids < 1 || rounds < 1 || rounds > 100 || (format != 1 && format != 2)) {
        fprintf(stderr, "bench-ledger-load: IDS >= 1, 1 <= ROUNDS <= 100, FORMAT 1 or 2\n");
        return 2;
    }
    PGconn *c = PQconnectdb(argv[1]);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "bench-ledger-load: %s", PQerrorMessage(c));
        return 1;
    }
    double t0 = seconds();
    if (!write_ledger(c, ids, format))
        return 1;
    printf("ledger of %ld ids (format %d) written in %.2f s\n", ids, format, seconds() - t0);
    double sink[100], loader[100];
    jc_error_t err;
    jc_dedup_t seen;
    size_t count = 0, bytes = 0;
    for (int i = 0; i < rounds; i++) {
        jc_dedup_init(&seen);
        double s = seconds();
        if (jc_sink_load_ledger(c, TOPIC, 0, 400, &seen, &err) != JC_OK) {
            fprintf(stderr, "bench-ledger-load: %s\n", err.message);
            return 1;
        }
        sink[i] = seconds() - s;
        count = seen.count;
        bytes = jc_dedup_bytes(&seen);
        jc_dedup_free(&seen);
        printf("jc_sink_load_ledger  round %d: %8.1f ms, %zu ids\n", i + 1, sink[i] * 1e3, count);
    }
    jc_loader_t *l = jc_loader_start(argv[1], 400, &err);
    size_t n = 0;
    if (l == NULL || via_loader(l, 1, &n) < 0) { /* its connection, untimed */
        fprintf(stderr, "bench-ledger-load: loader: %s\n", l ? "load failed" : err.message);
        return 1;
    }
    for (int i = 0; i < rounds; i++) {
        loader[i] = via_loader(l, (uint64_t)i + 2, &n);
        if (loader[i] < 0)
            return 1;
        printf("loader round trip    round %d: %8.1f ms, %zu ids\n", i + 1, loader[i] * 1e3, n);
    }
    jc_loader_stop(l);
    printf("\nmedian over %d rounds, %ld ids: jc_sink_load_ledger %.1f ms, loader round trip "
           "%.1f ms; the set: %zu ids, %zu bytes (%.1f bytes/id)\n", rounds, ids,
           median(sink, rounds) * 1e3, median(loader, rounds) * 1e3, count, bytes,
           count ? (double)bytes / (double)count : 0.0);
    PQclear(PQexec(c, "delete from jiceng.dedup_ledger where topic = '" TOPIC "'"));
    PQfinish(c);
    return 0;
}
