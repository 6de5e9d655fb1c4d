/*
 * dedup.c: compact per-partition set of applied event ids and their records (see dedup.h).
 *
 * Open addressing with linear probing over 16-byte slots; the home slot is the fingerprint's
 * high 32 bits scaled to the capacity (multiply-shift, so the capacity need not be a power of
 * two and can grow by half rather than double, which is what keeps the cost at or under 32
 * bytes per id). Records go to an arena that grows by half too; a slot keeps its record's
 * position, so a record read from the set is valid until the set next changes.
 *
 * Memory: a table or arena of 64 KiB or more is mapped straight from the kernel (mem_*): a
 * table replaced by a bigger one and a freed set go back to the system at once, and a mapped
 * arena grows with mremap (Linux; elsewhere a copy), which moves its pages instead of leaving
 * the old block's pages in the heap. Resident memory then follows the live sets, and
 * jc_dedup_bytes counts it: a mapped arena's untouched tail is not resident, so it counts the
 * bytes written since the arena was mapped (arena_touched), rounded up to pages.
 *
 * Stamps: the arena is written in time order, so a record's stamp is that of the last mark at
 * or before its position (mark_of); a mark is added when a record is put under a stamp higher
 * than the newest mark's. jc_dedup_trim finds the first position to keep (the first mark
 * stamped at or after the bound) and makes it the set's expiry line (expired_below): an entry
 * whose record lies before it is no longer found, and counts as free for a put of its id. That
 * costs one sequential pass over the slots (counting the ids it drops), so a daily trim of a
 * long window (a 400-day one drops a 400th of the ids) stays cheap. Memory is reclaimed when
 * at least a quarter of the arena is before the line or replaced: then, in two passes over the
 * slots, the live records are sized per mark and copied into a new arena at their mark's
 * cursor, so the new arena is in mark order again and its marks are the old ones' that kept
 * records, at their new positions; the table is rebuilt without the expired entries. A grown
 * table leaves them out as well (stale counts them until then).
 */
#define _GNU_SOURCE /* MAP_ANONYMOUS, mremap */
#include "dedup.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../internal.h"
#include "jiceng/jtime.h"
#include "ledger.h"

#define SLOT 16
#define MAP_AT ((size_t)64 << 10) /* tables and arenas this large are mmap()ed */
#define DAY_MS 86400000LL

static size_t page_size(void)
{
    long p = sysconf(_SC_PAGESIZE);
    return p > 0 ? (size_t)p : 4096;
}

static size_t round_up(size_t n, size_t to)
{
    return (n + to - 1) / to * to;
}

/* ---- memory: the heap below MAP_AT, mappings from there on --------------------------- */

/* bytes of memory (zeroed if zero; a mapping always is), or NULL. */
static void *mem_alloc(size_t bytes, int zero)
{
    if (bytes < MAP_AT)
        return zero ? calloc(1, bytes) : malloc(bytes);
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void mem_free(void *p, size_t bytes)
{
    if (p == NULL)
        return;
    if (bytes < MAP_AT)
        free(p);
    else
        munmap(p, bytes);
}

/* p (old bytes, of which the first used matter) resized to bytes, or NULL (p unchanged). */
static void *mem_resize(void *p, size_t old, size_t bytes, size_t used)
{
    if (old < MAP_AT && bytes < MAP_AT)
        return realloc(p, bytes);
#ifdef MREMAP_MAYMOVE
    if (old >= MAP_AT && bytes >= MAP_AT) {
        void *q = mremap(p, old, bytes, MREMAP_MAYMOVE);
        return q == MAP_FAILED ? NULL : q;
    }
#endif
    void *q = mem_alloc(bytes, 0);
    if (q != NULL && used > 0)
        memcpy(q, p, used);
    if (q != NULL)
        mem_free(p, old);
    return q;
}

/* ---- the table ----------------------------------------------------------------------- */

jc_dedup_key_t jc_dedup_key(const uint8_t id[16])
{
    jc_dedup_key_t k;
    k.a = jc_hash64(id, 16, 0x6a6963656e67ULL) | 1;
    k.b = (uint32_t)jc_hash64(id, 16, 0x64656475702dULL);
    return k;
}

uint32_t jc_dedup_day(int64_t unix_ms)
{
    return unix_ms > 0 ? (uint32_t)(unix_ms / DAY_MS) : 0;
}

void jc_dedup_init(jc_dedup_t *d)
{
    memset(d, 0, sizeof *d);
    d->stamp = jc_dedup_day(jc_now_ms());
}

void jc_dedup_free(jc_dedup_t *d)
{
    mem_free(d->slots, d->cap * SLOT);
    mem_free(d->arena, d->arena_cap);
    free(d->marks);
    jc_dedup_init(d);
}

void jc_dedup_clear(jc_dedup_t *d)
{
    if (d->slots != NULL)
        memset(d->slots, 0, d->cap * SLOT);
    d->count = d->stale = 0;
    d->arena_len = 0;
    d->dead = 0;
    d->nmarks = 0;
    d->expired_below = 0;
}

void jc_dedup_set_stamp(jc_dedup_t *d, uint32_t stamp)
{
    d->stamp = stamp;
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

/* The key and record position of slot s; 0 if it is empty. */
static int slot_get(const uint8_t *s, jc_dedup_key_t *k, uint32_t *at)
{
    memcpy(&k->a, s, 8);
    if (k->a == 0)
        return 0;
    memcpy(&k->b, s + 8, 4);
    memcpy(at, s + 12, 4);
    return 1;
}

/* The bytes of the record at (its length varint and itself); *n its length. */
static size_t record_size(const jc_dedup_t *d, uint32_t at, uint64_t *n)
{
    size_t used = jc_varint_get(d->arena + at, d->arena + d->arena_len, n);
    return used + (size_t)*n;
}

/* The record at position at: its bytes (*rec) and length (*len). */
static void record_at(const jc_dedup_t *d, uint32_t at, const uint8_t **rec, size_t *len)
{
    uint64_t n;
    size_t size = record_size(d, at, &n);
    *rec = d->arena + at + (size - (size_t)n);
    *len = (size_t)n;
}

int jc_dedup_find(const jc_dedup_t *d, jc_dedup_key_t k, const uint8_t **rec, size_t *len)
{
    if (d->cap == 0)
        return 0;
    jc_dedup_key_t got;
    uint32_t at;
    if (!slot_get(probe(d->slots, d->cap, k), &got, &at) || at < d->expired_below)
        return 0;
    record_at(d, at, rec, len);
    return 1;
}

/* A zeroed table of cap slots holding every unexpired entry of d's (with its position), or
 * NULL. */
static uint8_t *rehash(const jc_dedup_t *d, size_t cap)
{
    uint8_t *slots = mem_alloc(cap * SLOT, 1);
    if (slots == NULL)
        return NULL;
    for (size_t i = 0; i < d->cap; i++) {
        jc_dedup_key_t k;
        uint32_t at;
        if (slot_get(d->slots + i * SLOT, &k, &at) && at >= d->expired_below)
            set_slot(probe(slots, cap, k), k, at);
    }
    return slots;
}

static jc_status_t grow(jc_dedup_t *d)
{
    size_t cap = d->cap < 64 ? 128 : d->cap + d->cap / 2;
    uint8_t *slots = rehash(d, cap);
    if (slots == NULL)
        return JC_ERR_NOMEM;
    mem_free(d->slots, d->cap * SLOT);
    d->slots = slots;
    d->cap = cap;
    d->stale = 0;
    return JC_OK;
}

/* ---- the arena and its marks --------------------------------------------------------- */

/* A mark for the record about to go at arena_len, if the set's stamp is past the newest. */
static jc_status_t mark(jc_dedup_t *d)
{
    if (d->nmarks > 0 && d->marks[d->nmarks - 1].stamp >= d->stamp)
        return JC_OK;
    if (jc_grow((void **)&d->marks, &d->cap_marks, d->nmarks, sizeof *d->marks, 4) != JC_OK)
        return JC_ERR_NOMEM;
    d->marks[d->nmarks++] = (jc_dedup_mark_t){d->stamp, (uint32_t)d->arena_len};
    return JC_OK;
}

/* Make room for need bytes in the arena. */
static jc_status_t arena_room(jc_dedup_t *d, size_t need)
{
    if (need <= d->arena_cap)
        return JC_OK;
    size_t cap = d->arena_cap < 4096 ? 4096 : d->arena_cap + d->arena_cap / 2;
    if (cap < need)
        cap = need;
    if (cap >= MAP_AT)
        cap = round_up(cap, page_size());
    uint8_t *p = mem_resize(d->arena, d->arena_cap, cap, d->arena_len);
    if (p == NULL)
        return JC_ERR_NOMEM;
    if (d->arena_cap < MAP_AT) /* newly mapped (or still in the heap): what it holds is written */
        d->arena_touched = d->arena_len;
    d->arena = p;
    d->arena_cap = cap;
    return JC_OK;
}

/* Append a record (its length, then its bytes) to the arena; its position into *at. */
static jc_status_t arena_add(jc_dedup_t *d, const uint8_t *rec, size_t len, uint32_t *at)
{
    size_t need = d->arena_len + JC_VARINT_MAX + len;
    if (need > UINT32_MAX || arena_room(d, need) != JC_OK || mark(d) != JC_OK)
        return JC_ERR_NOMEM;
    *at = (uint32_t)d->arena_len;
    d->arena_len += jc_varint_put(d->arena + d->arena_len, len);
    memcpy(d->arena + d->arena_len, rec, len);
    d->arena_len += len;
    if (d->arena_len > d->arena_touched)
        d->arena_touched = d->arena_len;
    return JC_OK;
}

jc_status_t jc_dedup_put(jc_dedup_t *d, jc_dedup_key_t k, const uint8_t *rec, size_t len)
{
    uint32_t at, had;
    uint64_t n;
    if ((d->count + d->stale + 1) * 4 > d->cap * 3 && grow(d) != JC_OK)
        return JC_ERR_NOMEM;
    if (arena_add(d, rec, len, &at) != JC_OK)
        return JC_ERR_NOMEM;
    uint8_t *s = probe(d->slots, d->cap, k);
    jc_dedup_key_t old;
    int occupied = slot_get(s, &old, &had);
    if (occupied && had >= d->expired_below) {
        d->dead += record_size(d, had, &n);
    } else {
        d->count++;
        d->stale -= occupied; /* an expired entry of the id: live again */
    }
    set_slot(s, k, at);
    return JC_OK;
}

jc_status_t jc_dedup_merge(jc_dedup_t *dst, const jc_dedup_t *src)
{
    for (size_t i = 0; i < src->cap; i++) {
        const uint8_t *rec;
        jc_dedup_key_t k;
        uint32_t at;
        size_t len;
        if (!slot_get(src->slots + i * SLOT, &k, &at) || at < src->expired_below)
            continue;
        record_at(src, at, &rec, &len); /* the slot has it: no second probe */
        if (jc_dedup_put(dst, k, rec, len) != JC_OK)
            return JC_ERR_NOMEM;
    }
    return JC_OK;
}

size_t jc_dedup_bytes(const jc_dedup_t *d)
{
    size_t page = page_size(), table = d->cap * SLOT;
    size_t arena = d->arena_cap < MAP_AT ? d->arena_cap : round_up(d->arena_touched, page);
    return (table < MAP_AT ? table : round_up(table, page)) + arena + d->cap_marks * sizeof *d->marks;
}

/* ---- trimming ------------------------------------------------------------------------ */

/* The mark a record position falls under (the last one at or before it). */
static size_t mark_of(const jc_dedup_t *d, uint32_t at)
{
    size_t lo = 0, hi = d->nmarks;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (d->marks[mid].at <= at)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* A trim's plan: what stays, mark by mark. */
typedef struct trim {
    uint32_t cut;   /* records before this position are dropped */
    size_t *size;   /* per mark: bytes of its live records */
    size_t *cursor; /* per mark: where its next record goes in the new arena */
    size_t live, dropped, bytes;
} trim_t;

/* Pass 1: count what stays under each mark; then each mark's first position in the new arena. */
static void trim_plan(const jc_dedup_t *d, trim_t *t)
{
    for (size_t i = 0; i < d->cap; i++) {
        jc_dedup_key_t k;
        uint32_t at;
        uint64_t n;
        if (!slot_get(d->slots + i * SLOT, &k, &at))
            continue;
        if (at < t->cut) {
            t->dropped++;
            continue;
        }
        t->live++;
        t->size[mark_of(d, at)] += record_size(d, at, &n);
    }
    for (size_t m = 0; m < d->nmarks; m++) {
        t->cursor[m] = t->bytes;
        t->bytes += t->size[m];
    }
}

/* Pass 2: copy the live records into arena (mark by mark) and their entries into slots
 * (cap slots; NULL: d's own slots, repointed in place). */
static void trim_copy(jc_dedup_t *d, trim_t *t, uint8_t *arena, uint8_t *slots, size_t cap)
{
    for (size_t i = 0; i < d->cap; i++) {
        uint8_t *s = d->slots + i * SLOT;
        jc_dedup_key_t k;
        uint32_t at;
        uint64_t n;
        if (!slot_get(s, &k, &at) || at < t->cut)
            continue;
        size_t m = mark_of(d, at), size = record_size(d, at, &n);
        uint32_t to = (uint32_t)t->cursor[m];
        memcpy(arena + to, d->arena + at, size);
        t->cursor[m] += size;
        set_slot(slots != NULL ? probe(slots, cap, k) : s, k, to);
    }
}

/* The marks that kept records, at their new positions (cursor - size, after trim_copy). */
static void trim_marks(jc_dedup_t *d, const trim_t *t)
{
    size_t kept = 0;
    for (size_t m = 0; m < d->nmarks; m++)
        if (t->size[m] > 0)
            d->marks[kept++] = (jc_dedup_mark_t){d->marks[m].stamp, (uint32_t)(t->cursor[m] - t->size[m])};
    d->nmarks = kept;
}

/* Put trim t's new arena (cap bytes) and table (NULL: the old one stays) in place. */
static void trim_install(jc_dedup_t *d, trim_t *t, uint8_t *arena, size_t arena_cap, uint8_t *slots,
                         size_t cap)
{
    trim_marks(d, t);
    mem_free(d->arena, d->arena_cap);
    d->arena = arena;
    d->arena_cap = arena_cap;
    d->arena_len = d->arena_touched = t->bytes;
    d->dead = 0;
    d->expired_below = 0;
    d->stale = 0;
    if (slots != NULL || t->live == 0) {
        mem_free(d->slots, d->cap * SLOT);
        d->slots = slots;
        d->cap = slots != NULL ? cap : 0;
    }
    d->count = t->live;
}

/* The table size for n ids after a trim: half full, the bottom of the band put keeps. */
static size_t trimmed_cap(size_t n)
{
    return n == 0 ? 0 : n < 64 ? 128 : 2 * n;
}

/* The unexpired entries whose record lies before position to. */
static size_t count_before(const jc_dedup_t *d, uint32_t to)
{
    size_t n = 0;
    for (size_t i = 0; i < d->cap; i++) {
        jc_dedup_key_t k;
        uint32_t at;
        if (slot_get(d->slots + i * SLOT, &k, &at))
            n += at >= d->expired_below && at < to;
    }
    return n;
}

/* Move the expiry line to cut (never back): the entries before it are dropped. */
static size_t expire(jc_dedup_t *d, uint32_t cut)
{
    if (cut <= d->expired_below)
        return 0;
    size_t n = count_before(d, cut);
    d->count -= n;
    d->stale += n;
    d->expired_below = cut;
    return n;
}

jc_status_t jc_dedup_trim(jc_dedup_t *d, uint32_t oldest, size_t *dropped)
{
    trim_t t = {.cut = (uint32_t)d->arena_len};
    size_t keep = 0;
    while (keep < d->nmarks && d->marks[keep].stamp < oldest)
        keep++;
    if (keep < d->nmarks)
        t.cut = d->marks[keep].at;
    size_t n = expire(d, t.cut);
    if (dropped != NULL)
        *dropped = n;
    t.cut = d->expired_below;
    size_t reclaim = (size_t)t.cut + d->dead; /* about: a replaced record may be before the line */
    if (reclaim == 0 || reclaim * 4 < d->arena_len)
        return JC_OK; /* too little to win back yet */
    t.size = calloc(2 * d->nmarks, sizeof *t.size);
    if (t.size == NULL)
        return JC_ERR_NOMEM;
    t.cursor = t.size + d->nmarks;
    trim_plan(d, &t);
    size_t cap = t.dropped > 0 ? trimmed_cap(t.live) : 0;
    size_t arena_cap = t.bytes < MAP_AT ? t.bytes : round_up(t.bytes, page_size());
    uint8_t *arena = t.bytes > 0 ? mem_alloc(arena_cap, 0) : NULL;
    uint8_t *slots = cap > 0 ? mem_alloc(cap * SLOT, 1) : NULL;
    if ((t.bytes > 0 && arena == NULL) || (cap > 0 && slots == NULL)) {
        mem_free(arena, arena_cap);
        mem_free(slots, cap * SLOT);
        free(t.size);
        return JC_ERR_NOMEM;
    }
    trim_copy(d, &t, arena, slots, cap);
    trim_install(d, &t, arena, t.bytes > 0 ? arena_cap : 0, slots, cap);
    free(t.size);
    return JC_OK;
}
