/*
 * test_dedup.c: the consumer's in-memory dedup set and per-batch maps (lib/aggregate).
 *
 * The set must find every id added, not find ids never added (over a million random ones),
 * keep each id's record, survive growth, replacement and merging, and keep its slots at or
 * under 32 bytes per id, the bound the documentation promises; trimming to a retention window
 * drops exactly the ids stamped before it, keeps the others with their records in force and
 * reclaims replaced records. The ledger's records and entries
 * (ledger.h) round-trip and refuse damage; the corrections' decision table (revise.h) gives
 * each case its action, status and reason.
 */
#include "testenv.h"

#include <string.h>

#include "../../lib/aggregate/dedup.h"
#include "../../lib/aggregate/keymap.h"
#include "../../lib/aggregate/ledger.h"
#include "../../lib/aggregate/revise.h"

static void make_id(uint32_t n, uint8_t id[16])
{
    memset(id, 0, 16);
    memcpy(id, "\x01\x92\xf0\xc4", 4); /* a UUIDv7-like time prefix shared by all */
    memcpy(id + 12, &n, 4);
}

/* A record whose content hash is content (the rest as a version with a known contribution of
 * no rows): what the set stores for an id. */
static const jc_buf_t *record(uint32_t content)
{
    static jc_buf_t rec;
    assert_int_equal(jc_record_begin(&rec, content, 0, false, 520102, 20000), JC_OK);
    return &rec;
}

static void put(jc_dedup_t *d, const uint8_t id[16], uint32_t content)
{
    const jc_buf_t *r = record(content);
    assert_int_equal(jc_dedup_put(d, jc_dedup_key(id), r->data, r->len), JC_OK);
}

/* 1 and the content of id's record in d, or 0. */
static int find(const jc_dedup_t *d, const uint8_t id[16], uint32_t *content)
{
    const uint8_t *rec;
    size_t len;
    jc_version_t v;
    if (!jc_dedup_find(d, jc_dedup_key(id), &rec, &len))
        return 0;
    assert_int_equal(jc_record_decode(rec, len, &v), JC_OK);
    *content = v.content;
    return 1;
}

static void finds_what_was_added_and_nothing_else(void **state)
{
    (void)state;
    jc_dedup_t d;
    jc_dedup_init(&d);
    uint8_t id[16];
    uint32_t content;
    const uint32_t n = 300000;
    for (uint32_t i = 0; i < n; i++) {
        make_id(i, id);
        assert_false(find(&d, id, &content));
        put(&d, id, i * 7u);
    }
    assert_int_equal(d.count, n);
    for (uint32_t i = 0; i < n; i++) {
        make_id(i, id);
        assert_true(find(&d, id, &content));
        assert_int_equal(content, i * 7u);
    }
    for (uint32_t i = n; i < n + 1000000; i++) {
        make_id(i, id);
        assert_false(find(&d, id, &content));
    }
    double per_id = (double)(d.cap * 16) / (double)d.count;
    print_message("dedup: %u ids in %zu bytes of slots, %.1f bytes per id, and %zu of records\n", n,
                  d.cap * 16, per_id, d.arena_len);
    assert_true(per_id <= 32.0);
    jc_dedup_free(&d);
}

/* The slots stay at or under 32 bytes per id, the arena at or under one and a half times what
 * its records take (plus its first 4 KiB and a page), and jc_dedup_bytes counts what is
 * resident: a mapped arena (64 KiB on) only as far as it is written. */
static void bytes_per_id_stay_within_bound_through_growth(void **state)
{
    (void)state;
    jc_dedup_t d;
    jc_dedup_init(&d);
    uint8_t id[16];
    for (uint32_t i = 0; i < 200000; i++) {
        make_id(i, id);
        put(&d, id, 0);
        if (i >= 1000) { /* past the first, fixed-size table */
            assert_true(d.cap * 16 <= 32 * d.count);
            assert_true(d.arena_cap <= d.arena_len + d.arena_len / 2 + 2 * 4096 + JC_VARINT_MAX + 64);
        }
        if (d.arena_cap >= 65536) /* mapped: the unwritten tail is not counted */
            assert_true(jc_dedup_bytes(&d) <= d.cap * 16 + 4096 + d.arena_len + 4096 +
                                                 d.cap_marks * sizeof *d.marks);
    }
    jc_dedup_free(&d);
}

static void merge_replace_and_clear(void **state)
{
    (void)state;
    jc_dedup_t a, b;
    jc_dedup_init(&a);
    jc_dedup_init(&b);
    uint8_t id[16];
    uint32_t content;
    for (uint32_t i = 0; i < 5000; i++) {
        make_id(i, id);
        put(i < 3000 ? &a : &b, id, i);
    }
    make_id(10, id);
    put(&b, id, 77); /* b replaces one of a's */
    put(&b, id, 78); /* ... twice: the last stands */
    assert_int_equal(jc_dedup_merge(&a, &b), JC_OK);
    assert_int_equal(a.count, 5000);
    assert_true(find(&a, id, &content));
    assert_int_equal(content, 78);
    make_id(4999, id);
    assert_true(find(&a, id, &content));
    assert_int_equal(content, 4999);
    make_id(11, id);
    assert_true(find(&a, id, &content));
    assert_int_equal(content, 11);
    jc_dedup_clear(&b);
    assert_int_equal(b.count, 0);
    assert_int_equal(b.arena_len, 0);
    make_id(4999, id);
    assert_false(find(&b, id, &content));
    jc_dedup_free(&a);
    jc_dedup_free(&b);
}

/* ---- retention: stamps and jc_dedup_trim ------------------------------------------------ */

#define PER_DAY 30000u /* ids a day: enough for a mapped table and arena */

/* Bytes one record of the test's takes in the arena (its length varint, then itself). */
static size_t record_bytes(void)
{
    uint8_t tmp[JC_VARINT_MAX];
    return jc_varint_put(tmp, record(0)->len) + record(0)->len;
}

/* Three days of ids (day 100: 0.., 101: PER_DAY.., 102: 2 * PER_DAY..); on day 101 the first
 * 1000 of day 101's are re-put (replaced within the window), on day 102 the first 500 of day
 * 100's are corrected (their version in force is then day 102's). Trimming to day 101 drops
 * day 100's other ids, keeps everything else findable with its version in force, and (a third
 * of the arena to win back: compacted) leaves exactly the live records in the arena, the
 * replaced ones reclaimed. */
static void trim_drops_exactly_the_old_entries(void **state)
{
    (void)state;
    jc_dedup_t d;
    jc_dedup_init(&d);
    uint8_t id[16];
    uint32_t content;
    for (uint32_t day = 100; day <= 102; day++) {
        jc_dedup_set_stamp(&d, day);
        for (uint32_t i = 0; i < PER_DAY; i++) {
            make_id((day - 100) * PER_DAY + i, id);
            put(&d, id, (day - 100) * PER_DAY + i);
        }
        for (uint32_t i = 0; i < 1000 && day == 101; i++) {
            make_id(PER_DAY + i, id);
            put(&d, id, 7000000 + i);
        }
        for (uint32_t i = 0; i < 500 && day == 102; i++) {
            make_id(i, id);
            put(&d, id, 8000000 + i);
        }
    }
    assert_int_equal(d.count, 3 * PER_DAY);
    assert_int_equal(d.dead, 1500 * record_bytes());
    size_t bytes_before = jc_dedup_bytes(&d), dropped = 0;
    assert_int_equal(jc_dedup_trim(&d, 101, &dropped), JC_OK);
    assert_int_equal(dropped, PER_DAY - 500);
    assert_int_equal(d.count, 2 * PER_DAY + 500);
    assert_int_equal(d.dead, 0);
    assert_int_equal(d.arena_len, d.count * record_bytes()); /* nothing but the live records */
    assert_true(jc_dedup_bytes(&d) < bytes_before);
    for (uint32_t n = 0; n < 3 * PER_DAY; n++) {
        make_id(n, id);
        int found = find(&d, id, &content);
        if (n < PER_DAY) {
            assert_int_equal(found, n < 500);
            if (found)
                assert_int_equal(content, 8000000 + n);
        } else {
            assert_true(found);
            assert_int_equal(content, n < PER_DAY + 1000 ? 7000000 + n - PER_DAY : n);
        }
    }
    /* the set goes on: a new day's ids, then trims that keep only them, then nothing */
    jc_dedup_set_stamp(&d, 103);
    make_id(9000000, id);
    put(&d, id, 9);
    assert_int_equal(jc_dedup_trim(&d, 102, &dropped), JC_OK);
    assert_int_equal(dropped, PER_DAY); /* day 101's, the re-put ones included */
    assert_int_equal(d.count, PER_DAY + 500 + 1);
    assert_int_equal(jc_dedup_trim(&d, 103, &dropped), JC_OK);
    assert_int_equal(d.count, 1);
    assert_true(find(&d, id, &content));
    assert_int_equal(content, 9);
    make_id(2 * PER_DAY, id);
    assert_false(find(&d, id, &content));
    assert_int_equal(jc_dedup_trim(&d, 104, &dropped), JC_OK);
    assert_int_equal(dropped, 1);
    assert_int_equal(d.count, 0);
    assert_int_equal(d.arena_len, 0);
    make_id(9000000, id);
    assert_false(find(&d, id, &content));
    put(&d, id, 10); /* an emptied set takes ids again */
    assert_true(find(&d, id, &content));
    assert_int_equal(content, 10);
    jc_dedup_free(&d);
}

/* Nothing older than the bound: a trim only reclaims replaced records, the table untouched. A
 * stamp lower than one already used counts as the newest (kept longer, never dropped early). A
 * merge stamps with the destination's stamp (the commit's day), not the source's. */
static void trim_reclaims_and_stamps_never_go_back(void **state)
{
    (void)state;
    jc_dedup_t d, pending;
    jc_dedup_init(&d);
    jc_dedup_init(&pending);
    uint8_t id[16];
    uint32_t content;
    size_t dropped = 1;
    jc_dedup_set_stamp(&d, 105);
    for (uint32_t i = 0; i < 100; i++) {
        make_id(i, id);
        put(&d, id, i);
        put(&d, id, i + 1000); /* replaces it */
    }
    uint8_t *slots = d.slots;
    assert_int_equal(jc_dedup_trim(&d, 105, &dropped), JC_OK);
    assert_int_equal(dropped, 0);
    assert_ptr_equal(d.slots, slots);
    assert_int_equal(d.arena_len, 100 * record_bytes());
    jc_dedup_set_stamp(&d, 104); /* backwards: counts as 105 */
    make_id(100, id);
    put(&d, id, 100);
    assert_int_equal(jc_dedup_trim(&d, 105, &dropped), JC_OK);
    assert_int_equal(dropped, 0);
    assert_true(find(&d, id, &content));
    /* a batch's pending set, stamped long ago, merged on day 106 */
    jc_dedup_set_stamp(&pending, 1);
    make_id(200, id);
    put(&pending, id, 200);
    jc_dedup_set_stamp(&d, 106);
    assert_int_equal(jc_dedup_merge(&d, &pending), JC_OK);
    assert_int_equal(jc_dedup_trim(&d, 106, &dropped), JC_OK);
    assert_int_equal(dropped, 101);
    assert_int_equal(d.count, 1);
    assert_true(find(&d, id, &content));
    assert_int_equal(content, 200);
    assert_int_equal(jc_dedup_day(86400000LL * 20000 + 5), 20000);
    assert_int_equal(jc_dedup_day(86400000LL * 20000 - 1), 19999);
    jc_dedup_free(&pending);
    jc_dedup_free(&d);
}

/* The table's occupied slots. */
static size_t occupied(const jc_dedup_t *d)
{
    size_t n = 0;
    for (size_t i = 0; i < d->cap; i++) {
        uint64_t a;
        memcpy(&a, d->slots + i * 16, 8);
        n += a != 0;
    }
    return n;
}

/* Ten days of 2000 ids each: dropping one day (a tenth) only moves the expiry line: those ids
 * are not found any more and the count leaves them out, but the arena is not rewritten (less
 * than a quarter to win back). A dropped id put again is live again; growth leaves the expired
 * entries behind; once a quarter of the arena is dropped, a trim compacts it. */
static void trim_of_a_small_share_only_hides(void **state)
{
    (void)state;
    jc_dedup_t d;
    jc_dedup_init(&d);
    uint8_t id[16];
    uint32_t content;
    size_t dropped = 0;
    for (uint32_t n = 0; n < 20000; n++) {
        jc_dedup_set_stamp(&d, 100 + n / 2000);
        make_id(n, id);
        put(&d, id, n);
    }
    size_t arena_len = d.arena_len;
    assert_int_equal(jc_dedup_trim(&d, 101, &dropped), JC_OK);
    assert_int_equal(dropped, 2000);
    assert_int_equal(d.count, 18000);
    assert_int_equal(d.arena_len, arena_len); /* not compacted */
    assert_int_equal(occupied(&d), 20000);
    for (uint32_t n = 0; n < 20000; n++) {
        make_id(n, id);
        assert_int_equal(find(&d, id, &content), n >= 2000);
    }
    jc_dedup_set_stamp(&d, 110);
    make_id(5, id);
    put(&d, id, 55); /* dropped, now put again */
    assert_int_equal(d.count, 18001);
    assert_true(find(&d, id, &content));
    assert_int_equal(content, 55);
    for (uint32_t n = 100000; n < 110000; n++) { /* grows the table */
        make_id(n, id);
        put(&d, id, n);
    }
    assert_int_equal(d.count, 28001);
    assert_int_equal(d.stale, 0);
    assert_int_equal(occupied(&d), 28001); /* the expired entries left behind */
    assert_int_equal(jc_dedup_trim(&d, 101, &dropped), JC_OK); /* again: nothing more */
    assert_int_equal(dropped, 0);
    assert_int_equal(jc_dedup_trim(&d, 103, &dropped), JC_OK); /* 6000 of 30001 records */
    assert_int_equal(dropped, 4000);
    assert_int_equal(d.arena_len, 30001 * record_bytes());
    assert_int_equal(jc_dedup_trim(&d, 104, &dropped), JC_OK); /* 8000: compacted */
    assert_int_equal(dropped, 2000);
    assert_int_equal(d.count, 22001);
    assert_int_equal(d.arena_len, 22001 * record_bytes());
    for (uint32_t n = 0; n < 20000; n++) {
        make_id(n, id);
        assert_int_equal(find(&d, id, &content), n >= 8000 || n == 5);
        if (n == 5)
            assert_int_equal(content, 55);
    }
    make_id(109999, id);
    assert_true(find(&d, id, &content));
    assert_int_equal(content, 109999);
    jc_dedup_free(&d);
}

/* ---- the ledger's records and entries (ledger.h) --------------------------------------- */

static void varints_round_trip(void **state)
{
    (void)state;
    const int64_t values[] = {0, 1, -1, 63, -64, 64, 127, 128, 300, -300, INT32_MAX, INT32_MIN,
                              INT64_MAX, INT64_MIN};
    uint8_t buf[JC_VARINT_MAX];
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        uint64_t u;
        size_t n = jc_varint_put(buf, jc_zigzag(values[i]));
        assert_true(n >= 1 && n <= JC_VARINT_MAX);
        assert_int_equal(jc_varint_get(buf, buf + n, &u), n);
        assert_true(jc_unzigzag(u) == values[i]);
        assert_int_equal(jc_varint_get(buf, buf + n - 1, &u), 0); /* cut short */
    }
}

/* A record with rows of a sums and a distinct aggregate decodes to the same header and rows,
 * an entry of it to the same id and record; damage is reported, not read past. */
static void records_and_entries_round_trip(void **state)
{
    (void)state;
    const jc_aggregate_t *sums = jc_aggregate_named("disaster_responses_daily");
    const jc_aggregate_t *ids = jc_aggregate_named("disaster_incidents");
    assert_non_null(sums);
    assert_non_null(ids);
    jc_agg_row_t r1, r2, got;
    memset(&r1, 0, sizeof r1);
    memset(&r2, 0, sizeof r2);
    r1.dim[0] = 3;
    for (int c = 0; c < sums->ncolumns; c++)
        r1.value[c] = c % 2 ? -(int64_t)c * 1000003 : c;
    r2.dim[0] = 2;
    r2.id = "INC-2026-0042";
    jc_buf_t rec = {0}, ledger = {0};
    assert_int_equal(jc_record_begin(&rec, 0xdeadbeefu, 7, true, 520102, -3), JC_OK);
    assert_int_equal(jc_record_put_row(&rec, sums, &r1), JC_OK);
    assert_int_equal(jc_record_put_row(&rec, ids, &r2), JC_OK);
    r2.id = NULL; /* a withdrawn version's distinct row: none */
    assert_int_equal(jc_record_put_row(&rec, ids, &r2), JC_OK);

    jc_version_t v;
    assert_int_equal(jc_record_decode(rec.data, rec.len, &v), JC_OK);
    assert_int_equal(v.content, 0xdeadbeefu);
    assert_int_equal(v.revision, 7);
    assert_true(v.withdrawn);
    assert_true(v.known);
    assert_int_equal(v.county, 520102);
    assert_int_equal(v.day, -3);
    const uint8_t *p = v.rows;
    char id[JC_ID_MAX + 1];
    assert_int_equal(jc_record_next_row(sums, &v, &p, &got, id), JC_OK);
    assert_int_equal(got.county, 520102);
    assert_int_equal(got.day, -3);
    assert_int_equal(got.dim[0], 3);
    for (int c = 0; c < sums->ncolumns; c++)
        assert_true(got.value[c] == r1.value[c]);
    assert_int_equal(jc_record_next_row(ids, &v, &p, &got, id), JC_OK);
    assert_int_equal(got.dim[0], 2);
    assert_string_equal(got.id, "INC-2026-0042");
    assert_int_equal(jc_record_next_row(ids, &v, &p, &got, id), JC_OK);
    assert_null(got.id);
    assert_ptr_equal(p, v.rows + v.rows_len);
    /* read against another description (a sums table with another column count): refused */
    p = v.rows;
    assert_int_equal(jc_record_next_row(jc_aggregate_named("visits_daily"), &v, &p, &got, id),
                     JC_ERR_MALFORMED);
    /* cut anywhere: header or rows refused, never read past */
    for (size_t cut = 0; cut < rec.len; cut++) {
        jc_version_t w;
        if (jc_record_decode(rec.data, cut, &w) != JC_OK)
            continue;
        p = w.rows;
        jc_status_t st = jc_record_next_row(sums, &w, &p, &got, id);
        if (st == JC_OK)
            st = jc_record_next_row(ids, &w, &p, &got, id);
        if (st == JC_OK)
            st = jc_record_next_row(ids, &w, &p, &got, id);
        assert_int_equal(st, JC_ERR_MALFORMED);
    }

    /* a format 1 entry: revision 0, content only, contribution unknown */
    jc_buf_t old = {0};
    assert_int_equal(jc_record_old(&old, 42), JC_OK);
    assert_int_equal(jc_record_decode(old.data, old.len, &v), JC_OK);
    assert_int_equal(v.content, 42);
    assert_int_equal(v.revision, 0);
    assert_false(v.known);
    assert_false(v.withdrawn);

    /* entries: (id, record) twice, in order */
    uint8_t id1[16], id2[16];
    make_id(1, id1);
    make_id(2, id2);
    assert_int_equal(jc_ledger_append(&ledger, id1, rec.data, rec.len), JC_OK);
    assert_int_equal(jc_ledger_append(&ledger, id2, old.data, old.len), JC_OK);
    const uint8_t *q = ledger.data, *end = q + ledger.len, *eid, *erec;
    size_t elen;
    assert_int_equal(jc_ledger_next(&q, end, &eid, &erec, &elen), 1);
    assert_memory_equal(eid, id1, 16);
    assert_int_equal(elen, rec.len);
    assert_memory_equal(erec, rec.data, rec.len);
    assert_int_equal(jc_ledger_next(&q, end, &eid, &erec, &elen), 1);
    assert_memory_equal(eid, id2, 16);
    assert_memory_equal(erec, old.data, old.len);
    assert_int_equal(jc_ledger_next(&q, end, &eid, &erec, &elen), 0);
    q = ledger.data;
    assert_int_equal(jc_ledger_next(&q, end - 1, &eid, &erec, &elen), 1);
    assert_int_equal(jc_ledger_next(&q, end - 1, &eid, &erec, &elen), -1); /* cut short */
    jc_buf_free(&rec);
    jc_buf_free(&old);
    jc_buf_free(&ledger);
}

/* ---- the decision table (revise.h) -------------------------------------------------- */

typedef struct decision {
    const char *what;
    bool seen, known, withdrawn;     /* the version in force: present, contribution known */
    int32_t in_force, content_had, county_had;
    int32_t revision, content, county; /* the event */
    jc_revise_t want;
    jc_status_t status;
    const char *reason;              /* a part of the reason */
} decision_t;

static const decision_t decisions[] = {
    {"new id, revision 0", false, true, false, 0, 0, 0, 0, 5, 520102, JC_REVISE_APPLY, JC_OK, NULL},
    {"new id, revision 1", false, true, false, 0, 0, 0, 1, 5, 520102, JC_REVISE_REJECT,
     JC_ERR_UNKNOWN_ORIGINAL, "no version of it has been applied"},
    {"re-send", true, true, false, 0, 5, 520102, 0, 5, 520102, JC_REVISE_DUPLICATE, JC_OK, NULL},
    {"re-sent correction", true, true, false, 2, 9, 520102, 2, 9, 520102, JC_REVISE_DUPLICATE, JC_OK, NULL},
    {"same revision, other content", true, true, false, 0, 5, 520102, 0, 6, 520102, JC_REVISE_REJECT,
     JC_ERR_CONFLICTING_DUPLICATE, "already applied with other content"},
    {"older revision", true, true, false, 2, 5, 520102, 1, 6, 520102, JC_REVISE_REJECT,
     JC_ERR_STALE_REVISION, "older than the revision in force (2)"},
    {"revision 0 after a correction", true, true, false, 1, 5, 520102, 0, 4, 520102, JC_REVISE_REJECT,
     JC_ERR_STALE_REVISION, "revision 0 is older"},
    {"correction", true, true, false, 0, 5, 520102, 1, 6, 520102, JC_REVISE_REPLACE, JC_OK, NULL},
    {"correction skipping revisions", true, true, false, 1, 5, 520102, 5, 6, 520102, JC_REVISE_REPLACE,
     JC_OK, NULL},
    {"correction, same content", true, true, false, 0, 5, 520102, 1, 5, 520102, JC_REVISE_REPLACE, JC_OK,
     NULL},
    {"correction of a withdrawn version", true, true, true, 1, 5, 520102, 2, 6, 520102,
     JC_REVISE_REPLACE, JC_OK, NULL},
    {"correction to another county", true, true, false, 0, 5, 520102, 1, 6, 520103, JC_REVISE_REJECT,
     JC_ERR_COUNTY_CHANGED, "of county 520103, the version in force (revision 0) of county 520102"},
    {"correction of a format 1 entry", true, false, false, 0, 5, 0, 1, 6, 520102, JC_REVISE_REJECT,
     JC_ERR_UNKNOWN_ORIGINAL, "before the dedup ledger kept what each event adds"},
    {"re-send of a format 1 entry", true, false, false, 0, 5, 0, 0, 5, 520102, JC_REVISE_DUPLICATE,
     JC_OK, NULL},
};

static void the_decision_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof decisions / sizeof decisions[0]; i++) {
        const decision_t *d = &decisions[i];
        jc_version_t v = {.content = (uint32_t)d->content_had, .revision = d->in_force,
                          .withdrawn = d->withdrawn, .known = d->known, .county = d->county_had};
        jc_status_t status = JC_ERR_NOMEM; /* anything but the expected */
        char reason[400] = "";
        jc_revise_t got = jc_revise_decide(d->seen ? &v : NULL, "0192f0c4-6a1e-7cc3-9a51-3f2b8e1d4c77",
                                           d->revision, (uint32_t)d->content, d->county, &status,
                                           reason, sizeof reason);
        if (got != d->want || status != d->status)
            fail_msg("%s: decision %d status %s, expected %d %s", d->what, (int)got, jc_status_name(status),
                     (int)d->want, jc_status_name(d->status));
        if (d->reason != NULL && (strstr(reason, d->reason) == NULL ||
                                  strstr(reason, "0192f0c4-6a1e-7cc3-9a51-3f2b8e1d4c77") == NULL))
            fail_msg("%s: reason '%s' lacks '%s' or the event id", d->what, reason, d->reason);
    }
}

static void keymap_sums_per_key_in_insertion_order(void **state)
{
    (void)state;
    jc_keymap_t m;
    jc_keymap_init(&m, 84, 3 * sizeof(int64_t)); /* a key size that is not a multiple of 8 */
    uint8_t key[84];
    for (int round = 0; round < 3; round++) {
        for (int k = 0; k < 10000; k++) {
            memset(key, 0, sizeof key);
            memcpy(key, &k, sizeof k);
            int inserted;
            int64_t *v = jc_keymap_upsert(&m, key, &inserted);
            assert_non_null(v);
            assert_int_equal(inserted, round == 0);
            assert_int_equal(((uintptr_t)v) % 8, 0); /* int64_t values are aligned */
            v[0] += 1;
            v[2] += k;
        }
    }
    assert_int_equal(m.count, 10000);
    for (size_t i = 0; i < m.count; i++) {
        int k;
        memcpy(&k, jc_keymap_key(&m, i), sizeof k);
        assert_int_equal(k, (int)i);
        const int64_t *v = (const int64_t *)jc_keymap_value(&m, i);
        assert_int_equal(v[0], 3);
        assert_int_equal(v[1], 0);
        assert_int_equal(v[2], 3 * (int64_t)i);
    }
    jc_keymap_reset(&m);
    assert_int_equal(m.count, 0);
    jc_keymap_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(finds_what_was_added_and_nothing_else),
        cmocka_unit_test(bytes_per_id_stay_within_bound_through_growth),
        cmocka_unit_test(merge_replace_and_clear),
        cmocka_unit_test(trim_drops_exactly_the_old_entries),
        cmocka_unit_test(trim_reclaims_and_stamps_never_go_back),
        cmocka_unit_test(trim_of_a_small_share_only_hides),
        cmocka_unit_test(varints_round_trip),
        cmocka_unit_test(records_and_entries_round_trip),
        cmocka_unit_test(the_decision_table),
        cmocka_unit_test(keymap_sums_per_key_in_insertion_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
