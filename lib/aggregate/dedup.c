/*
 * dedup.c: compact per-partition set of applied event ids and their records (see dedup.h).
 *
 * Open addressing with linear probing over 16-byte slots; the home slot is the fingerprint's
 * high 32 bits scaled to the capacity (multiply-shift, so the capacity need not be a power of
 * two and can grow by half rather than double, which is what keeps the cost at or under 32
 * bytes per id). Tables of a megabyte or more are mapped straight from the kernel, so a table
 * replaced by a bigger one goes back to the system at once instead of staying in the
 * allocator's heap: resident memory then follows the live table, as the bound promises.
 * Records go to an arena that grows by half too (realloc); a slot keeps its record's position,
 * so a record read from the set is valid until the set next changes.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include "dedup.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../internal.h"
#include "ledger.h"

#define SLOT 16
#define MAP_AT (1u << 20) /* tables this large are mmap()ed */

/* Zeroed memory for cap slots, or NULL. */
static uint8_t *slots_alloc(size_t cap)
{
    if (cap * SLOT < MAP_AT)
        return calloc(cap, SLOT);
    void *p = mmap(NULL, cap * SLOT, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void slots_free(uint8_t *slots, size_t cap)
{
    if (slots == NULL)
        return;
    if (cap * SLOT < MAP_AT)
        free(slots);
    else
        munmap(slots, cap * SLOT);
}

jc_dedup_key_t jc_dedup_key(const uint8_t id[16])
{
    jc_dedup_key_t k;
    k.a = jc_hash64(id, 16, 0x6a6963656e67ULL) | 1;
    k.b = (uint32_t)jc_hash64(id, 16, 0x64656475702dULL);
    return k;
}

void jc_dedup_init(jc_dedup_t *d)
{
    memset(d, 0, sizeof *d);
}

void jc_dedup_free(jc_dedup_t *d)
{
    slots_free(d->slots, d->cap);
    free(d->arena);
    jc_dedup_init(d);
}

void jc_dedup_clear(jc_dedup_t *d)
{
    if (d->slots != NULL)
        memset(d->slots, 0, d->cap * SLOT);
    d->count = 0;
    d->arena_len = 0;
}

static size_t home(jc_dedup_key_t k, size_t cap)
{
    return (size_t)(((k.a >> 32) * (uint64_t)cap) >> 32);
}

/* The slot of k, or the empty slot where it would go. */
static uint8_t *probe(const uint8_t *slots, size_t cap, jc_dedup_key_t k)
{
    size_t i = home(k, cap);
    for (;;) {
        const uint8_t *s = slots + i * SLOT;
        uint64_t a;
        uint32_t b;
        memcpy(&a, s, 8);
        if (a == 0)
            return (uint8_t *)s;
        memcpy(&b, s + 8, 4);
        if (a == k.a && b == k.b)
            return (uint8_t *)s;
        if (++i == cap)
            i = 0;
    }
}

static void set_slot(uint8_t *s, jc_dedup_key_t k, uint32_t at)
{
    memcpy(s, &k.a, 8);
    memcpy(s + 8, &k.b, 4);
    memcpy(s + 12, &at, 4);
}

int jc_dedup_find(const jc_dedup_t *d, jc_dedup_key_t k, const uint8_t **rec, size_t *len)
{
    if (d->cap == 0)
        return 0;
    const uint8_t *s = probe(d->slots, d->cap, k);
    uint64_t a, n;
    uint32_t at;
    memcpy(&a, s, 8);
    if (a == 0)
        return 0;
    memcpy(&at, s + 12, 4);
    size_t used = jc_varint_get(d->arena + at, d->arena + d->arena_len, &n);
    *rec = d->arena + at + used;
    *len = (size_t)n;
    return 1;
}

static jc_status_t grow(jc_dedup_t *d)
{
    size_t cap = d->cap < 64 ? 128 : d->cap + d->cap / 2;
    uint8_t *slots = slots_alloc(cap);
    if (slots == NULL)
        return JC_ERR_NOMEM;
    for (size_t i = 0; i < d->cap; i++) {
        const uint8_t *s = d->slots + i * SLOT;
        uint64_t a;
        memcpy(&a, s, 8);
        if (a != 0) {
            jc_dedup_key_t k = {.a = a};
            memcpy(&k.b, s + 8, 4);
            memcpy(probe(slots, cap, k), s, SLOT);
        }
    }
    slots_free(d->slots, d->cap);
    d->slots = slots;
    d->cap = cap;
    return JC_OK;
}

/* Append a record (its length, then its bytes) to the arena; its position into *at. */
static jc_status_t arena_add(jc_dedup_t *d, const uint8_t *rec, size_t len, uint32_t *at)
{
    size_t need = d->arena_len + JC_VARINT_MAX + len;
    if (need > UINT32_MAX)
        return JC_ERR_NOMEM;
    if (need > d->arena_cap) {
        size_t cap = d->arena_cap < 4096 ? 4096 : d->arena_cap + d->arena_cap / 2;
        if (cap < need)
            cap = need;
        uint8_t *p = realloc(d->arena, cap);
        if (p == NULL)
            return JC_ERR_NOMEM;
        d->arena = p;
        d->arena_cap = cap;
    }
    *at = (uint32_t)d->arena_len;
    d->arena_len += jc_varint_put(d->arena + d->arena_len, len);
    memcpy(d->arena + d->arena_len, rec, len);
    d->arena_len += len;
    return JC_OK;
}

jc_status_t jc_dedup_put(jc_dedup_t *d, jc_dedup_key_t k, const uint8_t *rec, size_t len)
{
    uint32_t at;
    if ((d->count + 1) * 4 > d->cap * 3 && grow(d) != JC_OK)
        return JC_ERR_NOMEM;
    if (arena_add(d, rec, len, &at) != JC_OK)
        return JC_ERR_NOMEM;
    uint8_t *s = probe(d->slots, d->cap, k);
    uint64_t a;
    memcpy(&a, s, 8);
    d->count += a == 0;
    set_slot(s, k, at);
    return JC_OK;
}

jc_status_t jc_dedup_merge(jc_dedup_t *dst, const jc_dedup_t *src)
{
    for (size_t i = 0; i < src->cap; i++) {
        const uint8_t *s = src->slots + i * SLOT, *rec;
        jc_dedup_key_t k;
        size_t len;
        memcpy(&k.a, s, 8);
        if (k.a == 0)
            continue;
        memcpy(&k.b, s + 8, 4);
        if (!jc_dedup_find(src, k, &rec, &len) || jc_dedup_put(dst, k, rec, len) != JC_OK)
            return JC_ERR_NOMEM;
    }
    return JC_OK;
}

size_t jc_dedup_bytes(const jc_dedup_t *d)
{
    return d->cap * SLOT + d->arena_cap;
}
