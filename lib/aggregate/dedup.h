/*
 * dedup.h: the in-memory side of the dedup ledger: per partition, each event id applied and the
 * version of it in force (revision, content hash and contribution, as a ledger record,
 * ledger.h), so that a re-send is recognised and a correction can subtract what it replaces
 * without a round trip.
 *
 * A slot is 16 bytes: a 96-bit fingerprint of the 128-bit event id and the 32-bit position of
 * the id's record in the set's arena, where records are stored one after the other, each
 * preceded by its length as a varint. The table is kept between half and three-quarters full
 * (it grows by half), so the slots cost 21 to 32 bytes per id; the arena adds the record's
 * length (about 20 to 40 bytes an event: see docs/architecture.md, "Corrections"). A replaced
 * record stays in the arena until the set is trimmed (jc_dedup_trim) or rebuilt.
 *
 * Retention: every record carries a coarse stamp, by convention the UTC day its id was
 * committed (jc_dedup_day; at a load, the ledger row's created_at day). A set holds one stamp
 * for what is put next (jc_dedup_set_stamp); since records are appended in time order, the
 * stamps cost nothing per id: the set keeps a short list of (stamp, first arena position)
 * marks, one per stamp change. A stamp lower than the newest mark's counts as that mark's
 * (kept longer, never dropped early). jc_dedup_trim drops the ids whose record is stamped
 * before a bound, and compacts the arena once enough is to be won back, reclaiming replaced
 * records as well.
 *
 * Memory: the table and the arena are mapped from the kernel once they reach 64 KiB, so a
 * grown or freed one goes back to the system at once instead of leaving holes in the
 * allocator's heap, and jc_dedup_bytes is what the set keeps resident.
 *
 * A false "seen before" needs two ids whose 96-bit fingerprints collide: for 10 million ids in
 * one partition's window that is a chance of about 1e-15; the full ids stay in PostgreSQL's
 * ledger.
 */
#ifndef JC_DEDUP_H
#define JC_DEDUP_H

#include <stddef.h>
#include <stdint.h>

#include "jiceng/common.h"

typedef struct jc_dedup_key {
    uint64_t a; /* fingerprint, high 64 bits (never 0: 0 marks an empty slot) */
    uint32_t b; /* fingerprint, low 32 bits */
} jc_dedup_key_t;

/* Where the records of one stamp begin in the arena. */
typedef struct jc_dedup_mark {
    uint32_t stamp;
    uint32_t at;
} jc_dedup_mark_t;

typedef struct jc_dedup {
    uint8_t *slots; /* cap entries of 16 bytes: a (8), b (4), record position (4) */
    size_t cap, count;
    uint8_t *arena; /* the records: varint length, then the record's bytes */
    size_t arena_len, arena_cap;
    size_t arena_touched; /* a mapped arena: the bytes written since it was mapped (resident) */
    size_t dead;          /* bytes of replaced records, reclaimed by jc_dedup_trim */
    uint32_t expired_below; /* entries whose record lies before this position are dropped */
    size_t stale;         /* such entries still in the table (count leaves them out) */
    uint32_t stamp;       /* the stamp of the records put next */
    jc_dedup_mark_t *marks; /* ascending stamps and positions; marks[0].at == 0 */
    size_t nmarks, cap_marks;
} jc_dedup_t;

/* The fingerprint of a 16-byte event id. */
jc_dedup_key_t jc_dedup_key(const uint8_t id[16]);

void jc_dedup_init(jc_dedup_t *d);
void jc_dedup_free(jc_dedup_t *d);
void jc_dedup_clear(jc_dedup_t *d); /* empty it, keeping the memory (and the stamp) */

/* 1 with the id's record (*rec, *len; valid until the set next changes) if it is in the set,
 * else 0. */
int jc_dedup_find(const jc_dedup_t *d, jc_dedup_key_t k, const uint8_t **rec, size_t *len);

/* Set the id's record: add the id, or replace its record if it is there. JC_ERR_NOMEM if the
 * table or the arena cannot grow (the arena holds at most 4 GiB). rec may not point into d. */
jc_status_t jc_dedup_put(jc_dedup_t *d, jc_dedup_key_t k, const uint8_t *rec, size_t len);

/* jc_dedup_put every id of src into dst (src's records replace dst's). */
jc_status_t jc_dedup_merge(jc_dedup_t *dst, const jc_dedup_t *src);

/* Bytes the set keeps resident: its table, its arena (a mapped one: the pages written) and
 * its marks. */
size_t jc_dedup_bytes(const jc_dedup_t *d);

/* The stamp convention: the UTC day (days since 1970-01-01) of a Unix time in milliseconds. */
uint32_t jc_dedup_day(int64_t unix_ms);

/* The stamp the records put from now on get (jc_dedup_put, jc_dedup_merge: they are stamped
 * with dst's). jc_dedup_init sets today's; the aggregator sets today's before merging a
 * committed batch, so that a set kept for days stamps each commit with its own day. */
void jc_dedup_set_stamp(jc_dedup_t *d, uint32_t stamp);

/* Drop every id whose record is stamped before oldest: from now on it is not found (a put of
 * it adds it anew), and count leaves it out. *dropped (may be NULL): ids dropped. When at
 * least a quarter of the arena is then dropped or replaced records, the set is compacted: the
 * arena rewritten with the records in force only and the table rebuilt at its smallest size
 * (positions change: records read before are invalid). Costs a pass over the table, plus the
 * compaction's copy when there is one (about 0.1 us an id). JC_ERR_NOMEM if the compaction
 * cannot get memory (the ids are dropped all the same; their memory is won back at a later
 * trim). Call it between lookups, never while holding a record read from d. For a dedup window
 * of N days: oldest = jc_dedup_day(now) - N keeps each id at least N days after its commit,
 * as long as PostgreSQL keeps its ledger row (created_at > now() - N days), and at most a day
 * longer. */
jc_status_t jc_dedup_trim(jc_dedup_t *d, uint32_t oldest, size_t *dropped);

#endif
