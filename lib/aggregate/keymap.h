/*
 * keymap.h: a hash map from fixed-size byte keys to fixed-size values, for the per-batch
 * aggregation (fold.c). Entries live in one array in insertion order (so a flush walks them
 * sequentially); an open-addressing index of entry numbers finds them. Reset keeps the memory
 * for the next batch.
 */
#ifndef JC_KEYMAP_H
#define JC_KEYMAP_H

#include <stddef.h>
#include <stdint.h>

#include "jiceng/common.h"

typedef struct jc_keymap {
    size_t key_size, value_size, entry_size;
    size_t value_offset; /* the key rounded up to 8 bytes, so int64_t values are aligned */
    uint8_t *entries; /* count entries of entry_size bytes: key, then value */
    size_t count, cap;
    uint32_t *index;  /* 0 = empty, else entry number + 1 */
    size_t index_cap; /* a power of two */
} jc_keymap_t;

void jc_keymap_init(jc_keymap_t *m, size_t key_size, size_t value_size);
void jc_keymap_free(jc_keymap_t *m);
void jc_keymap_reset(jc_keymap_t *m);

/* The value for key, inserted zeroed if absent (*inserted says which); NULL if out of memory. */
void *jc_keymap_upsert(jc_keymap_t *m, const void *key, int *inserted);

/* The i-th entry's key and value (insertion order). */
static inline uint8_t *jc_keymap_key(const jc_keymap_t *m, size_t i)
{
    return m->entries + i * m->entry_size;
}
static inline uint8_t *jc_keymap_value(const jc_keymap_t *m, size_t i)
{
    return m->entries + i * m->entry_size + m->value_offset;
}

#endif
