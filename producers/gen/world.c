/*
 * world.c: the generator's fixed world (see model.h and docs/generator.md): county weights
 * and pools, names, older county codes, local days, and rendering a compact gen_event_t as
 * the jc_event_t it stands for.
 *
 * Counties come from the library's reference data (jc_county_at); everything else about a
 * county is a pure function of its code: its weight from the tier it falls in (Guiyang's
 * districts, prefecture seats, the most populous counties, county-level cities, the rest),
 * its cadre and trainee pools from that weight, its township and village counts, names and
 * each pool member's attributes from gen_hash of the code. Nothing here draws from a stream,
 * so the same member always has the same level, township and role.
 *
 * Days are computed here, not with jiceng/jtime.h: the ground truth must not share code with
 * what it checks. Asia/Shanghai is UTC+8 all year, so a local day is a floor division of the
 * instant plus eight hours, and its date text comes from the C library's gmtime_r.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model.h"

#define CADRES_TOTAL 23200   /* cadres who went down in one campaign (seed figures) */
#define TRAINEES_TOTAL 17229 /* 11,000 village cadres trained + 6,229 graduate officials */
#define MIN_POOL 40
#define OLD_CODE_SHARE 0.06  /* of the events of a county that had an older code */

/* ---- counties: weights, pools, older codes ---- */

/* Prefecture seats (the prefecture government's district or city) outside Guiyang. */
static const int32_t seats[] = {520201, 520302, 520402, 520502, 520602, 522301, 522601, 522701};
/* Counties with a registered population of about a million or more. */
static const int32_t populous[] = {520526, 520281, 520524, 520525, 520521, 520304, 520581};

/* Older codes still used by some county systems, from schemas/reference/
 * guizhou_code_changes.csv (old code -> the current code it ends up as). */
static const struct {
    int32_t old_code, current;
} old_codes[] = {
    {522401, 520502}, {522422, 520521}, {522423, 520581}, {520522, 520581}, {522424, 520523},
    {522425, 520524}, {522426, 520525}, {522427, 520526}, {522428, 520527}, {522201, 520602},
    {522230, 520603}, {522222, 520621}, {522223, 520622}, {522224, 520623}, {522225, 520624},
    {522226, 520625}, {522227, 520626}, {522228, 520627}, {522229, 520628}, {520114, 520111},
    {520421, 520403}, {520321, 520304}, {520222, 520281}, {522322, 522302}, {520221, 520204},
};

static int listed(const int32_t *codes, size_t n, int32_t code)
{
    for (size_t i = 0; i < n; i++)
        if (codes[i] == code)
            return 1;
    return 0;
}

/* The county's weight in tenths: the tier rule documented in docs/generator.md. */
static unsigned county_weight(const jc_county_t *c)
{
    if (c->prefecture_code == 520100 && strcmp(c->kind, "district") == 0)
        return 30;
    if (listed(seats, sizeof seats / sizeof seats[0], c->code))
        return 25;
    if (listed(populous, sizeof populous / sizeof populous[0], c->code))
        return 20;
    if (strcmp(c->kind, "city") == 0)
        return 15;
    return 10;
}

static uint32_t pool_size(uint32_t total, unsigned weight, unsigned total_weight)
{
    uint32_t n = (uint32_t)(((uint64_t)total * weight + total_weight / 2) / total_weight);
    return n < MIN_POOL ? MIN_POOL : n;
}

static jc_status_t add_old_codes(gen_world_t *w, jc_error_t *err)
{
    for (size_t i = 0; i < sizeof old_codes / sizeof old_codes[0]; i++) {
        gen_county_t *c = NULL;
        for (size_t k = 0; k < w->ncounties && c == NULL; k++)
            if (w->counties[k].code == old_codes[i].current)
                c = &w->counties[k];
        if (c == NULL || c->nold == GEN_MAX_OLD_CODES)
            return jc_error_set(err, JC_ERR_MISMATCH, "old code %" PRId32
                                " maps to %" PRId32 ", not a county of the reference data",
                                old_codes[i].old_code, old_codes[i].current);
        c->old_codes[c->nold++] = old_codes[i].old_code;
    }
    return JC_OK;
}

/* Each county's prefecture as a range of indexes (the counties are in code order, so a
 * prefecture's counties are adjacent). */
static void find_neighbours(gen_world_t *w)
{
    for (size_t i = 0; i < w->ncounties; i++) {
        size_t first = i, last = i;
        int32_t pref = w->counties[i].ref->prefecture_code;
        while (first > 0 && w->counties[first - 1].ref->prefecture_code == pref)
            first--;
        while (last + 1 < w->ncounties && w->counties[last + 1].ref->prefecture_code == pref)
            last++;
        w->counties[i].first_neighbour = first;
        w->counties[i].neighbours = last - first + 1;
    }
}

static void size_pools(gen_world_t *w)
{
    unsigned total = 0;
    for (size_t i = 0; i < w->ncounties; i++)
        total += w->counties[i].weight;
    for (size_t i = 0; i < w->ncounties; i++) {
        gen_county_t *c = &w->counties[i];
        c->cadres = pool_size(CADRES_TOTAL, c->weight, total);
        c->trainees = pool_size(TRAINEES_TOTAL, c->weight, total);
        c->townships = 8 + (uint32_t)(gen_hash((uint64_t)c->code, 1) % 18); /* mean 16.5 */
    }
}

jc_status_t gen_world_init(gen_world_t *w, const gen_config_t *cfg, jc_error_t *err)
{
    memset(w, 0, sizeof *w);
    jc_status_t st = jc_reference_init(err);
    if (st != JC_OK)
        return st;
    w->ncounties = jc_county_count();
    if (w->ncounties == 0 || w->ncounties > GEN_MAX_COUNTIES)
        return jc_error_set(err, JC_ERR_MISMATCH, "the reference data has %zu "
                            "counties (expected 1..%d)", w->ncounties, GEN_MAX_COUNTIES);
    for (size_t i = 0; i < w->ncounties; i++) {
        gen_county_t *c = &w->counties[i];
        c->ref = jc_county_at(i);
        c->code = c->ref->code;
        c->weight = w->weights[i] = county_weight(c->ref);
    }
    find_neighbours(w);
    size_pools(w);
    w->from_day = cfg->from_day;
    w->to_day = cfg->to_day;
    w->start_ms = gen_day_start(cfg->from_day);
    w->end_ms = gen_day_start(cfg->to_day + 1);
    return add_old_codes(w, err);
}

void gen_world_free(gen_world_t *w)
{
    free(w->incidents);
    w->incidents = NULL;
    w->nincidents = 0;
}

int32_t gen_written_code(const gen_county_t *c, gen_rng_t *rng)
{
    if (c->nold == 0 || !gen_rng_chance(rng, OLD_CODE_SHARE))
        return c->code;
    return c->old_codes[gen_rng_below(rng, c->nold)];
}

/* ---- partitions ---- */

uint32_t gen_murmur2(const void *data, size_t len)
{
    const uint32_t m = 0x5bd1e995;
    const unsigned char *p = data;
    uint32_t h = 0x9747b28cu ^ (uint32_t)len;
    size_t whole = len - len % 4;
    for (size_t i = 0; i < whole; i += 4) {
        uint32_t k = (uint32_t)p[i] | (uint32_t)p[i + 1] << 8 | (uint32_t)p[i + 2] << 16 |
                     (uint32_t)p[i + 3] << 24;
        k *= m;
        k ^= k >> 24;
        k *= m;
        h = h * m ^ k;
    }
    if (len % 4 != 0) { /* the last 1-3 bytes */
        for (size_t i = 0; i < len % 4; i++)
            h ^= (uint32_t)p[whole + i] << (8 * i);
        h *= m;
    }
    h ^= h >> 13;
    h *= m;
    return h ^ h >> 15;
}

uint32_t gen_partition_class(int32_t code)
{
    char key[16];
    int len = snprintf(key, sizeof key, "%" PRId32, code);
    return (gen_murmur2(key, (size_t)len) & 0x7fffffffu) % GEN_PARTITION_CLASSES;
}

/* ---- days ---- */

int32_t gen_day_of(int64_t ms)
{
    int64_t local = ms + GEN_UTC_OFFSET_MS;
    int64_t day = local / GEN_DAY_MS;
    if (local % GEN_DAY_MS < 0)
        day--;
    return (int32_t)day;
}

int64_t gen_day_start(int32_t day)
{
    return (int64_t)day * GEN_DAY_MS - GEN_UTC_OFFSET_MS;
}

static void day_tm(int32_t day, struct tm *tm)
{
    time_t t = (time_t)day * 86400;
    if (gmtime_r(&t, tm) == NULL)
        memset(tm, 0, sizeof *tm); /* only for years no period can reach */
}

void gen_day_text(int32_t day, char *buf, size_t len)
{
    struct tm tm;
    day_tm(day, &tm);
    if (strftime(buf, len, "%Y-%m-%d", &tm) == 0 && len > 0)
        buf[0] = '\0';
}

void gen_day_compact(int32_t day, char *buf, size_t len)
{
    struct tm tm;
    day_tm(day, &tm);
    if (strftime(buf, len, "%Y%m%d", &tm) == 0 && len > 0)
        buf[0] = '\0';
}

int gen_day_month(int32_t day)
{
    struct tm tm;
    day_tm(day, &tm);
    return tm.tm_mon + 1;
}

/* ---- pool members' fixed attributes ---- */

uint32_t gen_villages_in(const gen_county_t *c, uint32_t township)
{
    return 6 + (uint32_t)(gen_hash((uint64_t)c->code << 8 | township, 2) % 14); /* mean 12.5 */
}

uint8_t gen_cadre_level(const gen_county_t *c, uint32_t no)
{
    static const uint8_t cumulative[JC_CADRE_LEVEL_COUNT] = {6, 12, 28, 50, 100};
    unsigned r = (unsigned)(gen_hash((uint64_t)c->code << 20 | no, 3) % 100);
    uint8_t level = 0;
    while (r >= cumulative[level])
        level++;
    return level; /* PROVINCIAL 6%, PREFECTURE 6%, COUNTY 16%, TOWNSHIP 22%, TASK FORCE 50% */
}

uint32_t gen_cadre_township(const gen_county_t *c, uint32_t no)
{
    return (uint32_t)(gen_hash((uint64_t)c->code << 20 | no, 4) % c->townships);
}

uint32_t gen_cadre_village(const gen_county_t *c, uint32_t no)
{
    uint32_t t = gen_cadre_township(c, no);
    return (uint32_t)(gen_hash((uint64_t)c->code << 20 | no, 5) % gen_villages_in(c, t));
}

uint8_t gen_trainee_role(const gen_county_t *c, uint32_t no)
{
    static const uint8_t cumulative[JC_TRAINEE_ROLE_COUNT] = {16, 28, 52, 72, 90, 100};
    unsigned r = (unsigned)(gen_hash((uint64_t)c->code << 20 | no, 6) % 100);
    uint8_t role = 0;
    while (r >= cumulative[role])
        role++;
    return role;
}

int gen_trainee_poor(const gen_county_t *c, uint32_t no)
{
    /* 5,486 first-class poor villages of 17,672 administrative villages: 31% */
    return gen_hash((uint64_t)c->code << 20 | no, 7) % 1000 < 310;
}

/* ---- names ---- */

static const char *const name_first[] = {"青", "龙", "凤", "花", "新", "安", "平", "兴",
                                         "和", "阳", "云", "金", "银", "高", "长", "大",
                                         "小", "上", "下", "东", "西", "南", "北", "松"};
static const char *const name_second[] = {"坝", "寨", "坪", "堡", "沟", "岩", "塘", "湾",
                                          "冲", "场", "溪", "河", "山", "桥", "田", "林"};
#define NFIRST (sizeof name_first / sizeof name_first[0])
#define NSECOND (sizeof name_second / sizeof name_second[0])

static void place_name(uint64_t h, const char *suffix, char *buf, size_t len)
{
    snprintf(buf, len, "%s%s%s", name_first[h % NFIRST], name_second[(h >> 8) % NSECOND],
             suffix);
}

static void township_name(const gen_county_t *c, uint32_t t, char *buf, size_t len)
{
    uint64_t h = gen_hash((uint64_t)c->code << 8 | t, 8);
    place_name(h, (h >> 16) % 3 == 0 ? "乡" : "镇", buf, len);
}

static void village_name(const gen_county_t *c, uint32_t t, uint32_t v, char *buf, size_t len)
{
    place_name(gen_hash((uint64_t)c->code << 16 | t << 8 | v, 9), "村", buf, len);
}

/* Training programmes, two per base (jc_training_base_t order). */
static const char *const programmes[JC_TRAINING_BASE_COUNT][2] = {
    {"华西村集体经济发展研修班", "华西村村级治理跟班学习"},
    {"寿光现代农业产业实训班", "寿光设施蔬菜种植跟班学习"},
    {"村党组织书记示范培训班", "基层治理能力提升班"},
    {"村级后备干部培训班", "农村电子商务实务班"},
    {"农村实用技术培训班", "党员致富技能培训班"},
    {"网络党校在线课程", "政策法规网上学习"},
};

/* ---- rendering ---- */

void gen_cadre_id(const gen_world_t *w, uint32_t county, uint32_t no, char *buf, size_t len)
{
    snprintf(buf, len, "C-%06" PRId32 "-%05" PRIu32, w->counties[county].code, no);
}

void gen_trainee_id(const gen_world_t *w, uint32_t county, uint32_t no, char *buf, size_t len)
{
    snprintf(buf, len, "T-%06" PRId32 "-%05" PRIu32, w->counties[county].code, no);
}

void gen_event_id(const gen_event_t *e, char *buf, size_t len)
{
    uint64_t ts = (uint64_t)e->id_ms & UINT64_C(0xffffffffffff);
    unsigned rand_a = (unsigned)(e->id_bits >> 52);                      /* 12 bits */
    unsigned variant = 0x8000u | (unsigned)((e->id_bits >> 38) & 0x3fff); /* 10 + 14 bits */
    uint64_t node = gen_hash(e->id_bits, 10) & UINT64_C(0xffffffffffff);  /* 48 more */
    snprintf(buf, len, "%08" PRIx64 "-%04" PRIx64 "-%04x-%04x-%012" PRIx64, ts >> 16,
             ts & 0xffff, 0x7000u | rand_a, variant, node);
}

static void render_visit(const gen_world_t *w, const gen_event_t *e, jc_visit_t *v)
{
    const gen_visit_t *g = &e->u.visit;
    const gen_county_t *c = &w->counties[e->county];
    gen_cadre_id(w, g->cadre_county, g->cadre_no, v->cadre_id, sizeof v->cadre_id);
    v->cadre_level = g->level;
    township_name(c, g->township, v->township, sizeof v->township);
    village_name(c, g->township, g->village, v->village, sizeof v->village);
    v->households_visited = g->households;
    v->people_met = g->people;
    v->deeds_done = g->deeds;
    v->problems_solved = g->problems;
    v->stayed_overnight = g->overnight != 0;
    v->hours_on_site = g->hours;
}

static void render_petition(const gen_world_t *w, const gen_event_t *e, jc_petition_t *p)
{
    const gen_petition_t *g = &e->u.petition;
    char date[16];
    gen_day_compact(gen_day_of(g->received_at), date, sizeof date);
    snprintf(p->petition_id, sizeof p->petition_id, "XF-%06" PRId32 "-%s-%06" PRIu32,
             w->counties[e->county].code, date, g->petition_no);
    p->stage = g->stage;
    p->channel = g->channel;
    p->people = g->people;
    p->received_at.present = g->stage != JC_STAGE_RECEIVED;
    p->received_at.ms = p->received_at.present ? g->received_at : 0;
    p->satisfied = g->stage == JC_STAGE_FOLLOWED_UP ? g->satisfied : JC_NULL;
}

static void render_disaster(const gen_world_t *w, const gen_event_t *e,
                            jc_disaster_response_t *d)
{
    const gen_disaster_t *g = &e->u.disaster;
    const gen_incident_t *inc = &w->incidents[g->incident];
    snprintf(d->incident_id, sizeof d->incident_id, "%s", inc->id);
    d->hazard = inc->hazard;
    d->responders = g->responders;
    d->party_member_responders = g->party_members;
    d->people_evacuated = g->evacuated;
    d->people_rescued = g->rescued;
    d->deaths = g->deaths;
    d->injured = g->injured;
    d->households_assisted = g->households;
}

static void render_training(const gen_world_t *w, const gen_event_t *e,
                            jc_training_completion_t *t)
{
    const gen_training_t *g = &e->u.training;
    gen_trainee_id(w, g->trainee_county, g->trainee_no, t->trainee_id, sizeof t->trainee_id);
    t->trainee_role = g->role;
    snprintf(t->programme, sizeof t->programme, "%s", programmes[g->base][g->programme & 1]);
    t->training_base = g->base;
    t->hours = g->hours;
    t->passed = g->passed != 0;
    t->from_poor_village = g->poor_village != 0;
}

void gen_render(const gen_world_t *w, const gen_event_t *e, jc_event_t *ev)
{
    jc_event_init(ev, (jc_event_type_t)e->type);
    gen_event_id(e, ev->event_id, sizeof ev->event_id);
    ev->occurred_at = e->at;
    ev->county_code = e->written_code;
    ev->revision = e->revision;
    ev->withdrawn = e->withdrawn != 0;
    snprintf(ev->source, sizeof ev->source, "%s基层工作平台",
             w->counties[e->county].ref->name_zh);
    switch ((jc_event_type_t)e->type) {
    case JC_VISIT: render_visit(w, e, &ev->u.visit); break;
    case JC_PETITION: render_petition(w, e, &ev->u.petition); break;
    case JC_DISASTER_RESPONSE: render_disaster(w, e, &ev->u.disaster_response); break;
    case JC_TRAINING_COMPLETION: render_training(w, e, &ev->u.training_completion); break;
    case JC_EVENT_TYPE_COUNT: abort(); /* not a type */
    }
}
