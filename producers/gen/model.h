/*
 * model.h: the generator's world and its compact events (docs/generator.md).
 *
 * The world is built once per run from the configuration and the reference data: the 88
 * counties with a fixed weight each, their cadre and trainee pools, townships and villages,
 * their older codes, and the period. The model (model.c) then draws the valid events of the
 * run into an array of gen_event_t: a few dozen bytes each, holding numbers only. Text (ids,
 * names) is derived from those numbers when an event is rendered as a jc_event_t
 * (world.c), so a re-send renders to the same bytes as its original and the ground truth
 * (truth.c) can sort and count by the numbers.
 */
#ifndef GEN_MODEL_H
#define GEN_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "gen.h"
#include "jiceng/event.h"
#include "jiceng/reference.h"
#include "rng.h"

#define GEN_MAX_COUNTIES 128
#define GEN_MAX_OLD_CODES 3
#define GEN_INCIDENT_ID_MAX 40
#define GEN_DAY_MS (24LL * 3600 * 1000)
#define GEN_HOUR_MS (3600LL * 1000)
#define GEN_UTC_OFFSET_MS (8LL * 3600 * 1000) /* Asia/Shanghai: UTC+8, no daylight saving */

typedef struct gen_county {
    const jc_county_t *ref;
    int32_t code;
    unsigned weight;          /* relative volume, in tenths (10 = an ordinary county) */
    uint32_t cadres;          /* cadre pool: ids C-<code>-00000 .. */
    uint32_t trainees;        /* trainee pool: ids T-<code>-00000 .. */
    uint32_t townships;
    size_t first_neighbour;   /* the county's prefecture: index range in gen_world_t.counties */
    size_t neighbours;        /* counties in that prefecture, itself included */
    int32_t old_codes[GEN_MAX_OLD_CODES]; /* codes it had before (schemas/reference changes) */
    size_t nold;
} gen_county_t;

typedef struct gen_incident {
    char id[GEN_INCIDENT_ID_MAX];
    uint8_t hazard;           /* jc_hazard_t */
    size_t counties[4];       /* indexes of the affected counties, the epicentre first */
    size_t ncounties;
    int64_t start_ms, span_ms;
    unsigned weight;          /* relative number of responses */
    uint32_t sort_rank;       /* rank of id in byte order among the run's incidents */
} gen_incident_t;

typedef struct gen_world {
    gen_county_t counties[GEN_MAX_COUNTIES];
    unsigned weights[GEN_MAX_COUNTIES]; /* the counties' weights, for gen_rng_pick */
    size_t ncounties;
    int32_t from_day, to_day;
    int64_t start_ms, end_ms; /* the period as instants: [start, end) */
    gen_incident_t *incidents;
    size_t nincidents;
} gen_world_t;

typedef struct gen_visit {
    uint32_t cadre_county;    /* index of the cadre's home county */
    uint32_t cadre_no;
    uint16_t township, village;
    uint8_t level;            /* jc_cadre_level_t */
    uint8_t overnight;
    int32_t households, people, deeds, problems, hours;
} gen_visit_t;

typedef struct gen_petition {
    uint32_t petition_no;
    int32_t people;
    int64_t received_at;      /* the RECEIVED step's occurred_at (on every step) */
    uint8_t stage, channel;   /* jc_petition_stage_t, jc_petition_channel_t */
    int8_t satisfied;         /* FOLLOWED_UP only: JC_NULL, 0 or 1 */
} gen_petition_t;

typedef struct gen_disaster {
    uint32_t incident;        /* index in gen_world_t.incidents */
    int32_t responders, party_members, evacuated, rescued, deaths, injured, households;
} gen_disaster_t;

typedef struct gen_training {
    uint32_t trainee_county;
    uint32_t trainee_no;
    uint8_t role, base, programme, passed, poor_village;
    int32_t hours;
} gen_training_t;

/* What a version of an event is (revise.c). */
typedef enum gen_version {
    GEN_ORIGINAL = 0,         /* revision 0 */
    GEN_CORRECTION,           /* the next revision, other values, same county */
    GEN_WITHDRAWAL,           /* the next revision, the previous values, withdrawn */
    GEN_COUNTY_MOVE,          /* the next revision in another county: rejected county_changed */
} gen_version_t;

typedef struct gen_event {
    int64_t at;               /* occurred_at, epoch ms */
    int64_t arrival;          /* when it reaches the file: orders events.ndjson */
    int64_t id_ms;            /* the event_id's timestamp: the original's occurred_at */
    uint64_t id_bits;         /* the event_id's random bits */
    uint32_t seq;             /* creation order: unique, breaks ties */
    uint32_t origin;          /* seq of the event's original (its own seq for an original) */
    uint32_t county;          /* index of the (current) county it happened in */
    int32_t written_code;     /* the code the record carries: current or an older one */
    uint16_t revision;        /* 0 for the original */
    uint8_t version;          /* gen_version_t */
    uint8_t withdrawn;
    uint8_t type;             /* jc_event_type_t */
    uint8_t late;
    union {
        gen_visit_t visit;
        gen_petition_t petition;
        gen_disaster_t disaster;
        gen_training_t training;
    } u;
} gen_event_t;

/* The run's events by kind (what the manifest reports). */
typedef struct gen_counts {
    uint64_t lines, originals, duplicates, malformed, late, old_codes;
    uint64_t by_type[JC_EVENT_TYPE_COUNT];
    uint64_t petitions;
    uint64_t corrections, withdrawals, county_moves; /* lines of each kind (revise.c) */
    uint64_t moved_day, moved_category, corrected_twice, withdrawn_corrected;
} gen_counts_t;

/* ---- world.c ---- */

/* Build the world for cfg (counties, weights, pools; no incidents yet). */
jc_status_t gen_world_init(gen_world_t *w, const gen_config_t *cfg, jc_error_t *err);
void gen_world_free(gen_world_t *w);

/* The local day of an instant and the instant a local day starts (fixed UTC+8). */
int32_t gen_day_of(int64_t ms);
int64_t gen_day_start(int32_t day);

/* "YYYY-MM-DD" (11 bytes) and "YYYYMMDD" (9 bytes) of a day, through gmtime_r. */
void gen_day_text(int32_t day, char *buf, size_t len);
void gen_day_compact(int32_t day, char *buf, size_t len);

/* The month (1..12) of a day. */
int gen_day_month(int32_t day);

/* Render e as the jc_event_t it stands for (ids and names derived from its numbers). */
void gen_render(const gen_world_t *w, const gen_event_t *e, jc_event_t *ev);

/* The canonical text of e's event_id (37 bytes), a UUIDv7 whose time is e->at. */
void gen_event_id(const gen_event_t *e, char *buf, size_t len);

/* Ids as rendered: "C-520111-00042", "T-520111-00042", "XF-520111-20261003-000042". */
void gen_cadre_id(const gen_world_t *w, uint32_t county, uint32_t no, char *buf, size_t len);
void gen_trainee_id(const gen_world_t *w, uint32_t county, uint32_t no, char *buf, size_t len);

/* Villages in a county's township, and the attributes fixed per pool member (cadre level,
 * home township and village; trainee role and whether from a poor village). */
uint32_t gen_villages_in(const gen_county_t *c, uint32_t township);
uint8_t gen_cadre_level(const gen_county_t *c, uint32_t no);
uint32_t gen_cadre_township(const gen_county_t *c, uint32_t no);
uint32_t gen_cadre_village(const gen_county_t *c, uint32_t no);
uint8_t gen_trainee_role(const gen_county_t *c, uint32_t no);
int gen_trainee_poor(const gen_county_t *c, uint32_t no);

/* The code an event in county c carries: now and then one of c's older codes. */
int32_t gen_written_code(const gen_county_t *c, gen_rng_t *rng);

/* The county's partition class: Kafka's murmur2 of its code's decimal text (the record key),
 * positive, modulo GEN_PARTITION_CLASSES. Two counties of one class share a partition in any
 * topic whose partition count divides GEN_PARTITION_CLASSES. */
#define GEN_PARTITION_CLASSES 24 /* 1, 2, 3, 4, 6, 8, 12 and 24 partitions */
uint32_t gen_partition_class(int32_t code);

/* Kafka's murmur2 (the Java client's Utils.murmur2) of len bytes. */
uint32_t gen_murmur2(const void *data, size_t len);

/* ---- model.c ---- */

/* ---- revise.c ---- */

/* Append to the n originals *ev (malloc'd; reallocated) counts->corrections corrections,
 * counts->withdrawals withdrawals and counts->county_moves county-moving corrections, each a
 * new version of an earlier version of one event (revision + 1, arriving after it), drawn
 * from the seed's revisions stream; *n grows by how many were made (fewer if no event is left
 * to revise: the counts are set to what was made). */
jc_status_t gen_revise_events(const gen_world_t *w, const gen_config_t *cfg, gen_event_t **ev,
                              size_t *n, gen_counts_t *counts, jc_error_t *err);

/* Draw the run's valid events (no duplicates or malformed records): *out gets a malloc'd
 * array of *n events, in no particular order; counts->by_type, late, petitions, old_codes
 * are filled. Builds w's incidents. */
jc_status_t gen_model_events(gen_world_t *w, const gen_config_t *cfg, uint64_t originals,
                             uint64_t late, gen_event_t **out, size_t *n, gen_counts_t *counts,
                             jc_error_t *err);

#endif
