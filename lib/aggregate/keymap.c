/*
 * keymap.c: fixed-size-key hash map for per-batch aggregation (see keymap.h).
 *
 * The index is a power-of-two array of 32-bit entry numbers probed linearly and kept at most
 * half full, so lookups touch one or two cache lines of index plus the entry itself.
 */
#include "keymap.h"

#include <stdlib.h>
#include <string.h>

#include "../internal.h"

void jc_keymap_init(jc_keymap_t *m, size_t key_size, size_t value_size)
{
    memset(m, 0, sizeof *m);
    m->key_size = key_size;
    m->value_size = value_size;
    m->value_offset = (key_size + 7) & ~(size_t)7;
    m->entry_size = (m->value_offset + value_size + 7) & ~(size_t)7;
}

void jc_keymap_free(jc_keymap_t *m)
{
    free(m->entries);
    free(m->index);
    jc_keymap_init(m, m->key_size, m->value_size);
}

void jc_keymap_reset(jc_keymap_t *m)
{
    m->count = 0;
    if (m->index != NULL)
        memset(m->index, 0, m->index_cap * sizeof *m->index);
}

static size_t slot_of(const jc_keymap_t *m, const void *key)
{
    return (size_t)jc_hash64(key, m->key_size, 0) & (m->index_cap - 1);
}

static int grow_index(jc_keymap_t *m)
{
    size_t cap = m->index_cap ? m->index_cap * 2 : 1024;
    uint32_t *idx = calloc(cap, sizeof *idx);
    if (idx == NULL)
        return -1;
    free(m->index);
    m->index = idx;
    m->index_cap = cap;
    for (size_t i = 0; i < m->count; i++) {
        size_t s = slot_of(m, jc_keymap_key(m, i));
        while (idx[s] != 0)
            s = (s + 1) & (cap - 1);
        idx[s] = (uint32_t)(i + 1);
    }
    return 0;
}

static int grow_entries(jc_keymap_t *m)
{
    size_t cap = m->cap ? m->cap * 2 : 512;
    uint8_t *e = realloc(m->entries, cap * m->entry_size);
    if (e == NULL)
        return -1;
    m->entries = e;
    m->cap = cap;
    return 0;
}

void *jc_keymap_upsert(jc_keymap_t *m, const void *key, int *inserted)
{
    if ((m->count + 1) * 2 > m->index_cap && grow_index(m) != 0)
        return NULL;
    size_t s = slot_of(m, key);
    while (m->index[s] != 0) {
        size_t i = m->index[s] - 1;
        if (memcmp(jc_keymap_key(m, i), key, m->key_size) == 0) {
            *inserted = 0;
            return jc_keymap_value(m, i);
        }
        s = (s + 1) & (m->index_cap - 1);
    }
    if (m->count == m->cap && grow_entries(m) != 0)
        return NULL;
    size_t i = m->count++;
    memcpy(jc_keymap_key(m, i), key, m->key_size);
    memset(jc_keymap_key(m, i) + m->key_size, 0, m->entry_size - m->key_size);
    m->index[s] = (uint32_t)(i + 1);
    *inserted = 1;
    return jc_keymap_value(m, i);
}
