/*
 * dedup.h: the in-memory side of the dedup ledger: a compact set of the event ids one
 * partition has applied, each with a hash of the event's content.
 *
 * An entry is 16 bytes: a 96-bit fingerprint of the 128-bit event id and a 32-bit content
 * hash. The table is kept between half and three-quarters full (it grows by half), so it
 * costs 21 to 32 bytes per event. A false "seen before" needs two ids whose 96-bit
 * fingerprints collide: for 10 million ids in one partition's window that is a chance of about
 * 1e-15; the full ids stay in PostgreSQL's ledger. A conflicting duplicate (same id, other
 * content) is recognised unless the two contents' 32-bit hashes collide (1 in 4 billion), in
 * which case it is treated as a plain re-send: not counted twice, but not kept in rejects.
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
    uint8_t *slots; /* cap entries of 16 bytes: a (8), b (4), content (4) */
    size_t cap, count;
} jc_dedup_t;

/* The fingerprint of a 16-byte event id. */
jc_dedup_key_t jc_dedup_key(const uint8_t id[16]);

void jc_dedup_init(jc_dedup_t *d);
void jc_dedup_free(jc_dedup_t *d);
void jc_dedup_clear(jc_dedup_t *d); /* empty it, keeping the memory */

/* 1 and *content if the id is in the set, else 0. */
int jc_dedup_find(const jc_dedup_t *d, jc_dedup_key_t k, uint32_t *content);

/* Add an id not yet in the set. JC_ERR_NOMEM if the table cannot grow. */
jc_status_t jc_dedup_add(jc_dedup_t *d, jc_dedup_key_t k, uint32_t content);

/* Add every id of src to dst, which must hold none of them (the aggregator adds an id to a
 * batch's set only after not finding it in the committed one). */
jc_status_t jc_dedup_merge(jc_dedup_t *dst, const jc_dedup_t *src);

/* Bytes the table holds. */
size_t jc_dedup_bytes(const jc_dedup_t *d);

#endif
