/*
 * dedup.c: compact per-partition set of applied event ids (see dedup.h).
 *
 * Open addressing with linear probing over 16-byte slots; the home slot is the fingerprint's
 * high 32 bits scaled to the capacity (multiply-shift, so the capacity need not be a power of
 * two and can grow by half rather than double, which is what keeps the cost at or under 32
 * bytes per id). Tables of a megabyte or more are mapped straight from the kernel, so a table
 * replaced by a bigger one goes back to the system at once instead of staying in the
 * allocator's heap: resident memory then follows the live table, as the bound promises.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include "dedup.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../internal.h"

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
    jc_dedup_init(d);
}

void jc_dedup_clear(jc_dedup_t *d)
{
    if (d->slots != NULL)
        memset(d->slots, 0, d->cap * SLOT);
    d->count = 0;
}

static size_t home(jc_dedup_key_t k, size_t cap)
{
    return (size_t)(((k.a >> 32) * (uint64_t)cap) >> 32);
}

static void put(uint8_t *slots, size_t cap, jc_dedup_key_t k, uint32_t content)
{
    size_t i = home(k, cap);
    for (;;) {
        uint64_t a;
        memcpy(&a, slots + i * SLOT, 8);
        if (a == 0)
            break;
        if (++i == cap)
            i = 0;
    }
    uint8_t *s = slots + i * SLOT;
    memcpy(s, &k.a, 8);
    memcpy(s + 8, &k.b, 4);
    memcpy(s + 12, &content, 4);
}

int jc_dedup_find(const jc_dedup_t *d, jc_dedup_key_t k, uint32_t *content)
{
    if (d->cap == 0)
        return 0;
    size_t i = home(k, d->cap);
    for (;;) {
        const uint8_t *s = d->slots + i * SLOT;
        uint64_t a;
        uint32_t b;
        memcpy(&a, s, 8);
        if (a == 0)
            return 0;
        memcpy(&b, s + 8, 4);
        if (a == k.a && b == k.b) {
            memcpy(content, s + 12, 4);
            return 1;
        }
        if (++i == d->cap)
            i = 0;
    }
}

/* Slot i of slots: 0 if empty, else 1 with its key and content. */
static int read_slot(const uint8_t *slots, size_t i, jc_dedup_key_t *k, uint32_t *content)
{
    const uint8_t *s = slots + i * SLOT;
    memcpy(&k->a, s, 8);
    if (k->a == 0)
        return 0;
    memcpy(&k->b, s + 8, 4);
    memcpy(content, s + 12, 4);
    return 1;
}

static jc_status_t grow(jc_dedup_t *d)
{
    size_t cap = d->cap < 64 ? 128 : d->cap + d->cap / 2;
    uint8_t *slots = slots_alloc(cap);
    if (slots == NULL)
        return JC_ERR_NOMEM;
    jc_dedup_key_t k;
    uint32_t content;
    for (size_t i = 0; i < d->cap; i++)
        if (read_slot(d->slots, i, &k, &content))
            put(slots, cap, k, content);
    slots_free(d->slots, d->cap);
    d->slots = slots;
    d->cap = cap;
    return JC_OK;
}

jc_status_t jc_dedup_add(jc_dedup_t *d, jc_dedup_key_t k, uint32_t content)
{
    if ((d->count + 1) * 4 > d->cap * 3 && grow(d) != JC_OK)
        return JC_ERR_NOMEM;
    put(d->slots, d->cap, k, content);
    d->count++;
    return JC_OK;
}

jc_status_t jc_dedup_merge(jc_dedup_t *dst, const jc_dedup_t *src)
{
    jc_dedup_key_t k;
    uint32_t content;
    for (size_t i = 0; i < src->cap; i++)
        if (read_slot(src->slots, i, &k, &content) && jc_dedup_add(dst, k, content) != JC_OK)
            return JC_ERR_NOMEM;
    return JC_OK;
}

size_t jc_dedup_bytes(const jc_dedup_t *d)
{
    return d->cap * SLOT;
}
