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
 * record stays in the arena until the set is rebuilt (a load or a clear), so corrections add
 * their record's bytes again each. A false "seen before" needs two ids whose 96-bit
 * fingerprints collide: for 10 million ids in one partition's window that is a chance of about
 * 1e-15; the full ids stay in PostgreSQL's ledger.
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

typedef struct jc_dedup {
    uint8_t *slots; /* cap entries of 16 bytes: a (8), b (4), record position (4) */
    size_t cap, count;
    uint8_t *arena; /* the records: varint length, then the record's bytes */
    size_t arena_len, arena_cap;
} jc_dedup_t;

/* The fingerprint of a 16-byte event id. */
jc_dedup_key_t jc_dedup_key(const uint8_t id[16]);

void jc_dedup_init(jc_dedup_t *d);
void jc_dedup_free(jc_dedup_t *d);
void jc_dedup_clear(jc_dedup_t *d); /* empty it, keeping the memory */

/* 1 with the id's record (*rec, *len; valid until the set next changes) if it is in the set,
 * else 0. */
int jc_dedup_find(const jc_dedup_t *d, jc_dedup_key_t k, const uint8_t **rec, size_t *len);

/* Set the id's record: add the id, or replace its record if it is there. JC_ERR_NOMEM if the
 * table or the arena cannot grow (the arena holds at most 4 GiB). rec may not point into d. */
jc_status_t jc_dedup_put(jc_dedup_t *d, jc_dedup_key_t k, const uint8_t *rec, size_t len);

/* jc_dedup_put every id of src into dst (src's records replace dst's). */
jc_status_t jc_dedup_merge(jc_dedup_t *dst, const jc_dedup_t *src);

/* Bytes the table and the arena hold. */
size_t jc_dedup_bytes(const jc_dedup_t *d);

#endif
