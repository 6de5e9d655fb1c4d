/*
 * pgsink.c: the aggregator's PostgreSQL side (see pgsink.h).
 *
 * A flush is one transaction of a handful of statements whatever the batch size:
 *   1. compare-and-set of the partitions' offsets: one UPDATE over unnest()ed arrays whose
 *      WHERE demands next_offset = the value the batch started from, plus one INSERT ... ON
 *      CONFLICT DO NOTHING for partitions seen for the first time; if fewer rows change than
 *      the batch has partitions, another consumer has moved on: roll back (JC_ERR_FENCED).
 *      Doing this first also takes the rows' locks, so two consumers racing for a partition
 *      serialise here and the loser fails the comparison;
 *   2. one dedup-ledger row per partition (format 2, ledger.h: each id the batch applied or
 *      replaced with its version's record, as one bytea, sent in binary);
 *   3. one INSERT ... SELECT FROM unnest(...) ON CONFLICT DO UPDATE per aggregate table (sums
 *      added; a distinct table's events, the versions in force per key, added), all columns as
 *      array parameters; the statement and the arrays' order come from the aggregate
 *      description (jc_agg_upsert_sql), the rows from the fold's maps. Corrections make deltas
 *      negative. A sums row stays when it reaches 0 (it exists once any applied version
 *      touched its key, however the versions fell into batches: a key whose deltas net to 0
 *      in the batch is written too, as the generator's truth expects, docs/generator.md). A
 *      distinct row must not outlive its last version in force: keys whose events delta is 0
 *      are left out, and the keys with a negative one are given to one DELETE
 *      (jc_agg_prune_sql) that removes those of their rows left at events 0;
 *   4. one INSERT of the rejects, with their headers (sent as three flat arrays, reject number,
 *      name and value, and gathered per reject into jiceng.record_header arrays by a join);
 * then COMMIT. Generations (issue 13, item 4): a generation's own tables (consumer_progress,
 * dedup_ledger, the aggregate tables) are named unqualified, and the aggregator's connections
 * set search_path to the schema of the generation it writes (jiceng/generation.h); the rejects
 * stay in schema jiceng, shared. Every array literal is checked before it is sent (jc_pgarray_end is NULL after
 * any failed append), as is the statement text: an incomplete array would insert nothing and
 * commit the batch's offsets without its deltas, so it fails the flush (JC_ERR_NOMEM, rolled
 * back) instead.
 */
#include "pgsink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../internal.h"
#include "../pgexec.h"
#include "jiceng/jtime.h"
#include "ledger.h"

#define OFFSET_COLS 6 /* topic, partition, expected, next, high watermark, newest event */
#define REJECT_COLS 9 /* topic, partition, offset, key, payload, status, reason, schema id, event id */
#define HEADER_COLS 3 /* the rejects' headers, flattened: reject number (1-based), name, value */
/* The most array parameters one statement takes: an aggregate's key, its sums or its id, or
 * the offsets', or the rejects' columns. */
#define MAX_COLS (2 + JC_AGG_MAX_DIMS + JC_AGG_MAX_COLUMNS + 2)
_Static_assert(MAX_COLS >= OFFSET_COLS && MAX_COLS >= REJECT_COLS + HEADER_COLS && JC_AGG_MAX_COLUMNS >= 1,
               "MAX_COLS must hold every statement's array parameters");

/* The arrays' texts, or JC_ERR_NOMEM naming what if any of them failed (pgarray.c). */
static jc_status_t end_arrays(jc_pgarray_t *col, int n, const char **v, const char *what, jc_error_t *err)
{
    int failed = 0;
    for (int i = 0; i < n; i++)
        failed |= (v[i] = jc_pgarray_end(&col[i])) == NULL;
    return failed ? jc_error_set(err, JC_ERR_NOMEM, "flush: out of memory building the arrays of %s", what)
                  : JC_OK;
}

jc_status_t jc_sink_load_offset(PGconn *c, const char *group, const char *topic, int32_t partition,
                                int64_t *next, jc_error_t *err)
{
    char part[16];
    snprintf(part, sizeof part, "%d", (int)partition);
    const char *v[3] = {group, topic, part};
    PGresult *r = NULL;
    jc_status_t st = jc_pg_exec(c, "reading consumer_progress",
                                "select next_offset from consumer_progress "
                                "where group_id = $1 and topic = $2 and partition = $3",
                                3, v, &r, NULL, err);
    if (st != JC_OK)
        return st;
    *next = PQntuples(r) > 0 ? atoll(PQgetvalue(r, 0, 0)) : -1;
    PQclear(r);
    return JC_OK;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A format 1 row (before migration 010): 20-byte entries, id and content hash; each id not yet
 * in the set becomes a revision 0 whose contribution is unknown. */
static jc_status_t add_old_entries(jc_dedup_t *seen, const uint8_t *p, size_t len, jc_buf_t *rec)
{
    for (size_t off = 0; off + JC_LEDGER_OLD_ENTRY <= len; off += JC_LEDGER_OLD_ENTRY) {
        jc_dedup_key_t k = jc_dedup_key(p + off);
        const uint8_t *had;
        size_t hlen;
        if (jc_dedup_find(seen, k, &had, &hlen))
            continue;
        if (jc_record_old(rec, be32(p + off + 16)) != JC_OK || jc_dedup_put(seen, k, rec->data, rec->len) != JC_OK)
            return JC_ERR_NOMEM;
    }
    return JC_OK;
}

/* A format 2 row: (id, record) entries; rows are read in offset order, so a later entry (a
 * correction) replaces the id's earlier one. */
static jc_status_t add_entries(jc_dedup_t *seen, const uint8_t *p, size_t len)
{
    const uint8_t *end = p + len, *id, *rec;
    size_t rlen;
    int more;
    while ((more = jc_ledger_next(&p, end, &id, &rec, &rlen)) > 0)
        if (jc_dedup_put(seen, jc_dedup_key(id), rec, rlen) != JC_OK)
            return JC_ERR_NOMEM;
    return more == 0 ? JC_OK : JC_ERR_MALFORMED;
}

/* Row i's entries, stamped with its created_at day (dedup.h, "Retention"). */
static jc_status_t add_row(jc_dedup_t *seen, PGresult *r, int i, jc_buf_t *rec)
{
    const uint8_t *p = (const uint8_t *)PQgetvalue(r, i, 1);
    size_t len = (size_t)PQgetlength(r, i, 1);
    if (PQgetlength(r, i, 2) == 4)
        jc_dedup_set_stamp(seen, be32((const uint8_t *)PQgetvalue(r, i, 2)));
    if (PQgetlength(r, i, 0) == 4 && be32((const uint8_t *)PQgetvalue(r, i, 0)) == 1)
        return add_old_entries(seen, p, len, rec);
    return add_entries(seen, p, len);
}

jc_status_t jc_sink_load_ledger(PGconn *c, const char *topic, int32_t partition, int retention_days,
                                jc_dedup_t *seen, jc_error_t *err)
{
    char part[16], days[16];
    snprintf(part, sizeof part, "%d", (int)partition);
    snprintf(days, sizeof days, "%d", retention_days);
    const char *v[3] = {topic, part, days};
    PGresult *r = PQexecParams(c, "select format::int4, entries, floor(extract(epoch from created_at) / 86400)::int4 "
                                  "from dedup_ledger where topic = $1 and "
                                  "partition = $2 and created_at > now() - make_interval(days => $3::int) "
                                  "order by first_offset",
                               3, NULL, v, NULL, NULL, 1);
    jc_status_t st = jc_pg_check(c, r, "reading dedup_ledger", &r, NULL, err);
    if (st != JC_OK)
        return st;
    jc_buf_t rec = {0};
    for (int i = 0; i < PQntuples(r) && st == JC_OK; i++)
        st = add_row(seen, r, i, &rec);
    jc_dedup_set_stamp(seen, jc_dedup_day(jc_now_ms())); /* what the run adds next: today's */
    PQclear(r);
    jc_buf_free(&rec);
    if (st == JC_ERR_MALFORMED)
        return jc_error_set(err, st, "%s [%d]: a dedup_ledger row does not decode", topic, (int)partition);
    return st == JC_OK ? JC_OK
                       : jc_error_set(err, JC_ERR_NOMEM, "%s [%d]: no memory for the dedup set", topic, (int)partition);
}

jc_status_t jc_sink_expire_ledger(PGconn *c, int retention_days, jc_error_t *err)
{
    char days[16];
    snprintf(days, sizeof days, "%d", retention_days);
    const char *v[1] = {days};
    return jc_pg_exec(c, "expiring dedup_ledger",
                      "delete from dedup_ledger where created_at < now() - make_interval(days => $1::int)",
                      1, v, NULL, NULL, err);
}

/* ---- flush ----------------------------------------------------------------------------- */

static jc_status_t flush_offsets(PGconn *c, const jc_batch_t *b, jc_pgarray_t *col, jc_error_t *err)
{
    for (int pass = 0; pass < 2; pass++) { /* 0: partitions with a stored offset, 1: new ones */
        long want = 0, rows = 0;
        for (int i = 0; i < OFFSET_COLS; i++)
            jc_pgarray_begin(&col[i]);
        for (size_t i = 0; i < b->nparts; i++) {
            const jc_slice_t *p = &b->parts[i]->half[b->half];
            if ((p->from >= 0) != (pass == 0))
                continue;
            want++;
            jc_pgarray_text(&col[0], b->parts[i]->topic);
            jc_pgarray_int(&col[1], b->parts[i]->partition);
            jc_pgarray_int(&col[2], p->from);
            jc_pgarray_int(&col[3], p->next);
            jc_pgarray_int(&col[4], p->high_watermark > p->next ? p->high_watermark : p->next);
            jc_pgarray_int(&col[5], p->newest_ms);
        }
        if (want == 0)
            continue;
        const char *v[1 + OFFSET_COLS] = {b->group_id};
        jc_status_t st = end_arrays(col, OFFSET_COLS, v + 1, "consumer_progress", err);
        if (st == JC_OK)
            st = jc_pg_exec(c, "advancing offsets", pass == 0 ?
            "update consumer_progress p set next_offset = u.n, high_watermark = u.hw, "
            " newest_event_at = greatest(p.newest_event_at, case when u.ne > 0 then to_timestamp(u.ne / 1000.0) end), "
            " updated_at = now() "
            "from unnest($2::text[], $3::int[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[]) "
            " as u(topic, partition, expected, n, hw, ne) "
            "where p.group_id = $1 and p.topic = u.topic and p.partition = u.partition and p.next_offset = u.expected"
            :
            "insert into consumer_progress (group_id, topic, partition, next_offset, high_watermark, newest_event_at) "
            "select $1, u.topic, u.partition, u.n, u.hw, case when u.ne > 0 then to_timestamp(u.ne / 1000.0) end "
            "from unnest($2::text[], $3::int[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[]) "
            " as u(topic, partition, expected, n, hw, ne) on conflict do nothing",
            1 + OFFSET_COLS, v, NULL, &rows, err);
        if (st != JC_OK)
            return st;
        if (rows != want)
            return jc_error_set(err, JC_ERR_FENCED, "offset compare-and-set: %ld of %ld partitions still "
                                "at the offsets this batch started from: another consumer moved on", rows, want);
    }
    return JC_OK;
}

static jc_status_t flush_ledger(PGconn *c, const jc_batch_t *b, jc_error_t *err)
{
    for (size_t i = 0; i < b->nparts; i++) {
        const jc_slice_t *p = &b->parts[i]->half[b->half];
        if (p->ledger.len == 0)
            continue;
        char part[16], first[24];
        snprintf(part, sizeof part, "%d", (int)b->parts[i]->partition);
        snprintf(first, sizeof first, "%lld", (long long)p->first);
        const char *v[4] = {b->parts[i]->topic, part, first, (const char *)p->ledger.data};
        int lens[4] = {0, 0, 0, (int)p->ledger.len};
        int fmts[4] = {0, 0, 0, 1};
        jc_status_t st = jc_pg_check(c, PQexecParams(c,
            "insert into dedup_ledger (topic, partition, first_offset, entries, format) "
            "values ($1, $2, $3, $4, 2)",
            4, NULL, v, lens, fmts, 0), "writing dedup_ledger", NULL, NULL, err);
        if (st != JC_OK)
            return st;
    }
    return JC_OK;
}

/* The key columns of k (county, day, dims, and a distinct table's id) onto col[0..]. */
static int key_columns(jc_pgarray_t *col, const jc_aggregate_t *a, const jc_fold_key_t *k)
{
    char day[16];
    int i = 0;
    jc_pgarray_int(&col[i++], k->county);
    jc_day_format(k->day, day, sizeof day);
    jc_pgarray_text(&col[i++], day);
    for (int d = 0; d < a->ndims; d++)
        jc_pgarray_text(&col[i++], jc_agg_dim_symbol(a, d, k->dim[d]));
    return i;
}

/* How many deltas an entry of a's map holds (the sums, or a distinct key's events). */
static int deltas(const jc_aggregate_t *a)
{
    return a->kind == JC_AGG_DISTINCT ? 1 : a->ncolumns;
}

/* 1 if any of the entry's deltas is negative, 0 if none, -1 if all are 0 (nothing to write).
 * A sums entry is always written (0 or 1): its row exists once a version touched its key. */
static int delta_sign(const jc_aggregate_t *a, const int64_t *s)
{
    int any = a->kind == JC_AGG_SUMS, neg = 0;
    for (int x = 0; x < deltas(a); x++) {
        any |= s[x] != 0;
        neg |= s[x] < 0;
    }
    return neg ? 1 : any ? 0 : -1;
}

/* Run statement sql (made by make) with the ncols arrays of col. */
static jc_status_t run_arrays(PGconn *c, const jc_aggregate_t *a, jc_pgarray_t *col, int ncols,
                              jc_status_t (*make)(const jc_aggregate_t *, const char *, jc_buf_t *),
                              jc_buf_t *sql, jc_error_t *err)
{
    const char *v[MAX_COLS];
    jc_status_t st = end_arrays(col, ncols, v, a->table, err);
    if (st == JC_OK && make(a, NULL, sql) != JC_OK)
        st = jc_error_set(err, JC_ERR_NOMEM, "flush: out of memory composing a statement of %s", a->table);
    if (st == JC_OK)
        st = jc_pg_exec(c, a->table, (const char *)sql->data, ncols, v, NULL, NULL, err);
    return st;
}

static jc_status_t upsert_sql(const jc_aggregate_t *a, const char *schema, jc_buf_t *sql)
{
    return jc_agg_upsert_sql(a, schema, JC_AGG_ROWS_ARRAYS, sql);
}

/* One aggregate's map as its upsert: one array per column, in the order of jc_agg_upsert_sql
 * (county, day, dims, then the sums, or the id and the events); distinct keys whose events
 * delta is 0 are left out. Then, if a distinct key had a negative delta (corrections), those
 * keys' rows left at events 0 are deleted (jc_agg_prune_sql). */
static jc_status_t flush_table(PGconn *c, const jc_aggregate_t *a, const jc_keymap_t *m, jc_pgarray_t *col,
                               jc_buf_t *sql, jc_error_t *err)
{
    int ncols = 2 + a->ndims + a->ncolumns + 2 * (a->kind == JC_AGG_DISTINCT);
    size_t rows = 0, negative = 0;
    for (int i = 0; i < ncols; i++)
        jc_pgarray_begin(&col[i]);
    for (size_t e = 0; e < m->count; e++) {
        const jc_fold_key_t *k = (const jc_fold_key_t *)jc_keymap_key(m, e);
        const int64_t *s = (const int64_t *)jc_keymap_value(m, e);
        int sign = delta_sign(a, s);
        if (sign < 0)
            continue;
        negative += sign;
        rows++;
        int i = key_columns(col, a, k);
        for (int x = 0; x < a->ncolumns; x++)
            jc_pgarray_int(&col[i++], s[x]);
        if (a->kind == JC_AGG_DISTINCT) {
            jc_pgarray_text(&col[i++], k->id);
            jc_pgarray_int(&col[i++], s[0]);
        }
    }
    jc_status_t st = rows > 0 ? run_arrays(c, a, col, ncols, upsert_sql, sql, err) : JC_OK;
    if (st != JC_OK || negative == 0 || a->kind != JC_AGG_DISTINCT)
        return st;
    int nkey = 2 + a->ndims + (a->kind == JC_AGG_DISTINCT);
    for (int i = 0; i < nkey; i++)
        jc_pgarray_begin(&col[i]);
    for (size_t e = 0; e < m->count; e++) {
        const jc_fold_key_t *k = (const jc_fold_key_t *)jc_keymap_key(m, e);
        if (delta_sign(a, (const int64_t *)jc_keymap_value(m, e)) != 1)
            continue;
        int i = key_columns(col, a, k);
        if (a->kind == JC_AGG_DISTINCT)
            jc_pgarray_text(&col[i], k->id);
    }
    return run_arrays(c, a, col, nkey, jc_agg_prune_sql, sql, err);
}

/* A byte string as a bytea element for decode(x, 'hex'), or NULL. */
static void bytes_or_null(jc_pgarray_t *a, const jc_buf_t *b, bool null)
{
    if (null)
        jc_pgarray_null(a);
    else
        jc_pgarray_hex(a, b->data, b->len);
}

/* The headers of reject number n (1-based) onto the three header arrays, in their order. */
static void reject_headers(jc_pgarray_t *col, size_t n, const rd_kafka_headers_t *h)
{
    const char *name;
    const void *value;
    size_t size;
    for (size_t i = 0; h != NULL && rd_kafka_header_get_all(h, i, &name, &value, &size) ==
                                        RD_KAFKA_RESP_ERR_NO_ERROR; i++) {
        jc_pgarray_int(&col[0], (int64_t)n);
        jc_pgarray_hex(&col[1], name, strlen(name));
        if (value == NULL)
            jc_pgarray_null(&col[2]);
        else
            jc_pgarray_hex(&col[2], value, size);
    }
}

static jc_status_t flush_rejects(PGconn *c, const jc_batch_t *b, jc_pgarray_t *col, jc_error_t *err)
{
    if (b->nrejects == 0)
        return JC_OK;
    for (int i = 0; i < REJECT_COLS + HEADER_COLS; i++)
        jc_pgarray_begin(&col[i]);
    for (size_t i = 0; i < b->nrejects; i++) {
        const jc_reject_t *r = &b->rejects[i];
        jc_pgarray_text(&col[0], r->topic);
        jc_pgarray_int(&col[1], r->partition);
        jc_pgarray_int(&col[2], r->offset);
        bytes_or_null(&col[3], &r->key, r->key_null);
        bytes_or_null(&col[4], &r->payload, r->payload_null);
        jc_pgarray_text(&col[5], jc_status_name(r->status));
        jc_pgarray_text(&col[6], r->reason);
        if (r->schema_id >= 0)
            jc_pgarray_int(&col[7], r->schema_id);
        else
            jc_pgarray_null(&col[7]);
        if (r->event_id[0] != '\0')
            jc_pgarray_text(&col[8], r->event_id);
        else
            jc_pgarray_null(&col[8]);
        reject_headers(&col[REJECT_COLS], i + 1, r->headers);
    }
    const char *v[REJECT_COLS + HEADER_COLS];
    jc_status_t st = end_arrays(col, REJECT_COLS + HEADER_COLS, v, "rejects", err);
    if (st != JC_OK)
        return st;
    return jc_pg_exec(c, "writing rejects",
                      "with h as (select x.i, array_agg(row(decode(x.n, 'hex'), decode(x.v, 'hex'))::jiceng.record_header "
                      "order by x.ord) as hs from unnest($10::int[], $11::text[], $12::text[]) with ordinality "
                      "as x(i, n, v, ord) group by x.i) "
                      "insert into jiceng.rejects (topic, partition, kafka_offset, msg_key, payload, status, reason, schema_id, "
                      "event_id, headers) "
                      "select u.t, u.p, u.o, decode(u.k, 'hex'), decode(u.v, 'hex'), u.s, u.r, u.id, u.e, coalesce(h.hs, '{}') "
                      "from unnest($1::text[], $2::int[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], "
                      "$8::int[], $9::text[]) with ordinality as u(t, p, o, k, v, s, r, id, e, i) "
                      "left join h on h.i = u.i on conflict do nothing",
                      REJECT_COLS + HEADER_COLS, v, NULL, NULL, err);
}

static jc_status_t flush_body(PGconn *c, const jc_batch_t *b, jc_pgarray_t *col, jc_buf_t *sql, jc_error_t *err)
{
    size_t n;
    const jc_aggregate_t *all = jc_aggregates(&n);
    jc_status_t st = flush_offsets(c, b, col, err);
    if (st == JC_OK)
        st = flush_ledger(c, b, err);
    for (size_t t = 0; t < n && st == JC_OK; t++)
        if (b->fold->maps[t].count > 0)
            st = flush_table(c, &all[t], &b->fold->maps[t], col, sql, err);
    if (st == JC_OK)
        st = flush_rejects(c, b, col, err);
    return st;
}

jc_status_t jc_sink_flush(PGconn *c, const jc_batch_t *b, jc_error_t *err)
{
    jc_pgarray_t col[MAX_COLS] = {0};
    jc_buf_t sql = {0};
    jc_status_t st = jc_pg_exec(c, "begin", "begin", 0, NULL, NULL, NULL, err);
    if (st == JC_OK)
        st = flush_body(c, b, col, &sql, err);
    if (st == JC_OK)
        st = jc_pg_exec(c, "commit", "commit", 0, NULL, NULL, NULL, err);
    else
        jc_pg_rollback(c);
    for (int i = 0; i < MAX_COLS; i++)
        jc_pgarray_free(&col[i]);
    jc_buf_free(&sql);
    return st;
}
