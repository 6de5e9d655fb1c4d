/*
 * ledger.c: encoding and decoding the dedup ledger's records and entries (see ledger.h).
 *
 * Records are written with a small stack buffer per field and appended to a jc_buf_t; decoding
 * checks every length against the end of the record, so a damaged ledger row (or one written
 * under another aggregate description) is reported as JC_ERR_MALFORMED, never read past.
 */
#include "ledger.h"

#include <string.h>

size_t jc_varint_put(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

size_t jc_varint_get(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
    uint64_t x = 0;
    for (size_t n = 0; n < JC_VARINT_MAX && p + n < end; n++) {
        x |= (uint64_t)(p[n] & 0x7f) << (7 * n);
        if (!(p[n] & 0x80)) {
            *v = x;
            return n + 1;
        }
    }
    return 0;
}

static jc_status_t put_u(jc_buf_t *b, uint64_t v)
{
    uint8_t tmp[JC_VARINT_MAX];
    return jc_buf_append(b, tmp, jc_varint_put(tmp, v));
}

static jc_status_t put_s(jc_buf_t *b, int64_t v)
{
    return put_u(b, jc_zigzag(v));
}

static jc_status_t header(jc_buf_t *rec, uint32_t content, int32_t revision, unsigned flags)
{
    uint8_t be[4] = {(uint8_t)(content >> 24), (uint8_t)(content >> 16), (uint8_t)(content >> 8),
                     (uint8_t)content};
    jc_buf_reset(rec);
    jc_status_t st = jc_buf_append(rec, be, 4);
    if (st == JC_OK)
        st = put_u(rec, (uint32_t)revision);
    return st == JC_OK ? put_u(rec, flags) : st;
}

jc_status_t jc_record_begin(jc_buf_t *rec, uint32_t content, int32_t revision, bool withdrawn,
                            int32_t county, int32_t day)
{
    jc_status_t st = header(rec, content, revision, withdrawn ? JC_VERSION_WITHDRAWN : 0);
    if (st == JC_OK)
        st = put_s(rec, county);
    return st == JC_OK ? put_s(rec, day) : st;
}

jc_status_t jc_record_old(jc_buf_t *rec, uint32_t content)
{
    return header(rec, content, 0, JC_VERSION_UNKNOWN);
}

jc_status_t jc_record_put_row(jc_buf_t *rec, const jc_aggregate_t *a, const jc_agg_row_t *row)
{
    jc_status_t st = a->kind == JC_AGG_SUMS ? put_u(rec, (uint64_t)a->ncolumns) : JC_OK;
    for (int d = 0; d < a->ndims && st == JC_OK; d++)
        st = put_u(rec, (uint32_t)row->dim[d]);
    if (a->kind == JC_AGG_SUMS) {
        for (int c = 0; c < a->ncolumns && st == JC_OK; c++)
            st = put_s(rec, row->value[c]);
        return st;
    }
    size_t n = row->id != NULL ? strnlen(row->id, JC_ID_MAX) : 0;
    if (st == JC_OK)
        st = put_u(rec, row->id != NULL ? n + 1 : 0);
    return st == JC_OK && n > 0 ? jc_buf_append(rec, row->id, n) : st;
}

/* Read one varint from *p (advanced) into *v; false at a damaged or missing one. */
static bool get_u(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    size_t n = jc_varint_get(*p, end, v);
    *p += n;
    return n > 0;
}

static bool get_s(const uint8_t **p, const uint8_t *end, int64_t *v)
{
    uint64_t u;
    if (!get_u(p, end, &u))
        return false;
    *v = jc_unzigzag(u);
    return true;
}

jc_status_t jc_record_decode(const uint8_t *rec, size_t len, jc_version_t *v)
{
    const uint8_t *p = rec + 4, *end = rec + len;
    uint64_t revision, flags;
    int64_t county, day;
    memset(v, 0, sizeof *v);
    if (len < 4 || !get_u(&p, end, &revision) || !get_u(&p, end, &flags) || revision > INT32_MAX)
        return JC_ERR_MALFORMED;
    v->content = (uint32_t)rec[0] << 24 | (uint32_t)rec[1] << 16 | (uint32_t)rec[2] << 8 | rec[3];
    v->revision = (int32_t)revision;
    v->withdrawn = flags & JC_VERSION_WITHDRAWN;
    v->known = !(flags & JC_VERSION_UNKNOWN);
    if (!v->known)
        return JC_OK;
    if (!get_s(&p, end, &county) || !get_s(&p, end, &day) || county != (int32_t)county ||
        day != (int32_t)day)
        return JC_ERR_MALFORMED;
    v->county = (int32_t)county;
    v->day = (int32_t)day;
    v->rows = p;
    v->rows_len = (size_t)(end - p);
    return JC_OK;
}

jc_status_t jc_record_next_row(const jc_aggregate_t *a, const jc_version_t *v, const uint8_t **p,
                               jc_agg_row_t *row, char id[JC_ID_MAX + 1])
{
    const uint8_t *end = v->rows + v->rows_len;
    uint64_t u;
    memset(row, 0, sizeof *row);
    row->county = v->county;
    row->day = v->day;
    if (a->kind == JC_AGG_SUMS && (!get_u(p, end, &u) || u != (uint64_t)a->ncolumns))
        return JC_ERR_MALFORMED;
    for (int d = 0; d < a->ndims; d++) {
        if (!get_u(p, end, &u) || u > INT32_MAX)
            return JC_ERR_MALFORMED;
        row->dim[d] = (int32_t)u;
    }
    if (a->kind == JC_AGG_SUMS) {
        for (int c = 0; c < a->ncolumns; c++)
            if (!get_s(p, end, &row->value[c]))
                return JC_ERR_MALFORMED;
        return JC_OK;
    }
    if (!get_u(p, end, &u) || u > JC_ID_MAX + 1 || (size_t)(end - *p) < (u ? u - 1 : 0))
        return JC_ERR_MALFORMED;
    if (u > 0) {
        memcpy(id, *p, u - 1);
        id[u - 1] = '\0';
        *p += u - 1;
        row->id = id;
    }
    return JC_OK;
}

jc_status_t jc_ledger_append(jc_buf_t *ledger, const uint8_t id[16], const uint8_t *rec, size_t len)
{
    jc_status_t st = jc_buf_append(ledger, id, 16);
    if (st == JC_OK)
        st = put_u(ledger, len);
    return st == JC_OK ? jc_buf_append(ledger, rec, len) : st;
}

int jc_ledger_next(const uint8_t **p, const uint8_t *end, const uint8_t **id, const uint8_t **rec,
                   size_t *len)
{
    const uint8_t *q = *p;
    uint64_t n;
    if (q == end)
        return 0;
    if ((size_t)(end - q) < 16)
        return -1;
    *id = q;
    q += 16;
    if (!get_u(&q, end, &n) || n < 4 || n > (uint64_t)(end - q))
        return -1;
    *rec = q;
    *len = (size_t)n;
    *p = q + n;
    return 1;
}
