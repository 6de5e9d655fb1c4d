/*
 * ledger.h: the dedup ledger's entries: for each event id a partition applied, the version in
 * force -- its content hash, revision, withdrawn flag and its contribution to the aggregates --
 * as one compact record, the same bytes in PostgreSQL's jiceng.dedup_ledger rows and in the
 * in-memory set (dedup.h). A correction subtracts the contribution its record holds.
 *
 * A record (all integers varints, signed ones zigzag-encoded):
 *   content (4 bytes, big-endian) | revision | flags (1 withdrawn, 2 contribution unknown)
 *   then, unless the contribution is unknown: county | day (days since 1970-01-01, local) |
 *   per aggregate of the event's type (description order, plan.h):
 *     sums:     column count | each dimension's symbol index | each column's value
 *     distinct: each dimension's symbol index | id length + 1 (0: no row) | the id's bytes
 * A ledger row (format 2) is a sequence of entries: 16-byte event id | record length | record.
 * A format 1 row (before migration 010) is a sequence of 20-byte entries, id and content hash:
 * its ids load as revision 0 with an unknown contribution (jc_ledger_old_record).
 */
#ifndef JC_LEDGER_H
#define JC_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jiceng/aggregates.h"
#include "jiceng/buf.h"

#define JC_LEDGER_OLD_ENTRY 20   /* format 1: 16-byte event id + 4-byte content hash */
#define JC_LEDGER_FORMAT 2       /* what jiceng.dedup_ledger.format says of the rows we write */
#define JC_VARINT_MAX 10

enum { JC_VERSION_WITHDRAWN = 1, JC_VERSION_UNKNOWN = 2 };

/* The version in force of an event id, as its record says. */
typedef struct jc_version {
    uint32_t content;
    int32_t revision;
    bool withdrawn;
    bool known;            /* the contribution is known (false: a format 1 ledger entry) */
    int32_t county, day;   /* known only */
    const uint8_t *rows;   /* known only: the aggregates' rows, encoded (inside the record) */
    size_t rows_len;
} jc_version_t;

/* Varints: unsigned LEB128; signed values zigzag-encoded. put returns the bytes written
 * (at most JC_VARINT_MAX); get returns the bytes read, 0 if p..end holds no whole varint. */
size_t jc_varint_put(uint8_t *p, uint64_t v);
size_t jc_varint_get(const uint8_t *p, const uint8_t *end, uint64_t *v);
static inline uint64_t jc_zigzag(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }
static inline int64_t jc_unzigzag(uint64_t v) { return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); }

/* Start a record in rec (replacing its content): the header of a version with a known
 * contribution, whose rows follow (jc_record_put_row). */
jc_status_t jc_record_begin(jc_buf_t *rec, uint32_t content, int32_t revision, bool withdrawn,
                            int32_t county, int32_t day);

/* Append aggregate a's row (of the version begun) to rec. */
jc_status_t jc_record_put_row(jc_buf_t *rec, const jc_aggregate_t *a, const jc_agg_row_t *row);

/* The record of a format 1 entry (content hash only) into rec (replacing its content). */
jc_status_t jc_record_old(jc_buf_t *rec, uint32_t content);

/* Decode a record's header. JC_ERR_MALFORMED if it does not decode. */
jc_status_t jc_record_decode(const uint8_t *rec, size_t len, jc_version_t *v);

/* The next row of aggregate a from *p (advanced; the rows of v, in order): *row keyed by v's
 * county and day; a distinct row's id is copied into id (row->id NULL if the version adds no
 * row). JC_ERR_MALFORMED if it does not decode against a (e.g. the description changed). */
jc_status_t jc_record_next_row(const jc_aggregate_t *a, const jc_version_t *v, const uint8_t **p,
                               jc_agg_row_t *row, char id[JC_ID_MAX + 1]);

/* Append one format 2 entry (id, record) to a ledger row's bytes. */
jc_status_t jc_ledger_append(jc_buf_t *ledger, const uint8_t id[16], const uint8_t *rec, size_t len);

/* The next entry of a format 2 ledger row at *p (advanced): 1 with *id, *rec and *len, 0 at
 * the end, -1 if the bytes do not decode. */
int jc_ledger_next(const uint8_t **p, const uint8_t *end, const uint8_t **id, const uint8_t **rec,
                   size_t *len);

#endif
