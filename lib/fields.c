/*
 * fields.c: the field table of every event type (see jiceng/fields.h).
 *
 * Each entry ties a contract name to its kind and its place in jc_event_t. The enum symbol
 * lists here must equal the Avro enums in schemas/avro/ symbol for symbol: the catalog checks
 * that at start-up, so a schema edit that forgets the C side fails loudly, not silently.
 */
#include "jiceng/fields.h"

#include <stddef.h>
#include <string.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define EV(member) offsetof(jc_event_t, member)
#define STR(member, name)                                                                      \
    {name, JC_FIELD_STRING, EV(member), sizeof(((jc_event_t *)0)->member), NULL, 0, false}
#define NUM(kind, member, name) {name, kind, EV(member), 0, NULL, 0, false}
#define ENUM(member, name, syms)                                                               \
    {name, JC_FIELD_ENUM, EV(member), 0, syms, (int)ARRAY_LEN(syms), false}

static const char *const cadre_levels[] = {"PROVINCIAL", "PREFECTURE", "COUNTY", "TOWNSHIP",
                                           "VILLAGE_TASK_FORCE"};
static const char *const stages[] = {"RECEIVED", "RESOLVED", "FOLLOWED_UP"};
static const char *const channels[] = {"RECEPTION", "HOME_VISIT", "LETTER", "HOTLINE", "ONLINE"};
static const char *const hazards[] = {"FLOOD", "LANDSLIDE", "RAIN_SNOW_FREEZE", "DROUGHT",
                                      "ROCKFALL", "EARTHQUAKE", "FIRE", "OTHER"};
static const char *const roles[] = {"VILLAGE_SECRETARY", "VILLAGE_DIRECTOR", "VILLAGE_CADRE",
                                    "GRADUATE_VILLAGE_OFFICIAL", "PARTY_MEMBER", "TOWNSHIP_CADRE"};
static const char *const bases[] = {"HUAXI_JIANGSU", "SHOUGUANG_SHANDONG", "PROVINCIAL",
                                    "PREFECTURE", "COUNTY", "ONLINE"};

/* The envelope every type shares. revision and withdrawn (the corrections contract, schema
 * versions visit v3 and the other types' v2) have defaults, so older messages and text input
 * without them read as 0 and false; they enter the content hash only when set (jc_field_t). */
#define ENVELOPE                                                                              \
    {"event_id", JC_FIELD_UUID, EV(event_id), sizeof(((jc_event_t *)0)->event_id), NULL, 0,   \
     false},                                                                                  \
        NUM(JC_FIELD_TIMESTAMP, occurred_at, "occurred_at"),                                  \
        NUM(JC_FIELD_COUNTY, county_code, "county_code"), STR(source, "source"),              \
        {"revision", JC_FIELD_COUNT, EV(revision), 0, NULL, 0, true},                         \
        {"withdrawn", JC_FIELD_BOOL, EV(withdrawn), 0, NULL, 0, true}

static const jc_field_t visit_fields[] = {
    ENVELOPE,
    STR(u.visit.cadre_id, "cadre_id"),
    ENUM(u.visit.cadre_level, "cadre_level", cadre_levels),
    STR(u.visit.township, "township"),
    STR(u.visit.village, "village"),
    NUM(JC_FIELD_COUNT, u.visit.households_visited, "households_visited"),
    NUM(JC_FIELD_COUNT, u.visit.people_met, "people_met"),
    NUM(JC_FIELD_COUNT, u.visit.deeds_done, "deeds_done"),
    NUM(JC_FIELD_COUNT, u.visit.problems_solved, "problems_solved"),
    NUM(JC_FIELD_BOOL, u.visit.stayed_overnight, "stayed_overnight"),
    NUM(JC_FIELD_COUNT, u.visit.hours_on_site, "hours_on_site"),
};

static const jc_field_t petition_fields[] = {
    ENVELOPE,
    STR(u.petition.petition_id, "petition_id"),
    ENUM(u.petition.stage, "stage", stages),
    ENUM(u.petition.channel, "channel", channels),
    NUM(JC_FIELD_COUNT, u.petition.people, "people"),
    NUM(JC_FIELD_OPT_TIMESTAMP, u.petition.received_at, "received_at"),
    NUM(JC_FIELD_OPT_BOOL, u.petition.satisfied, "satisfied"),
};

static const jc_field_t disaster_fields[] = {
    ENVELOPE,
    STR(u.disaster_response.incident_id, "incident_id"),
    ENUM(u.disaster_response.hazard, "hazard", hazards),
    NUM(JC_FIELD_COUNT, u.disaster_response.responders, "responders"),
    NUM(JC_FIELD_COUNT, u.disaster_response.party_member_responders, "party_member_responders"),
    NUM(JC_FIELD_COUNT, u.disaster_response.people_evacuated, "people_evacuated"),
    NUM(JC_FIELD_COUNT, u.disaster_response.people_rescued, "people_rescued"),
    NUM(JC_FIELD_COUNT, u.disaster_response.deaths, "deaths"),
    NUM(JC_FIELD_COUNT, u.disaster_response.injured, "injured"),
    NUM(JC_FIELD_COUNT, u.disaster_response.households_assisted, "households_assisted"),
};

static const jc_field_t training_fields[] = {
    ENVELOPE,
    STR(u.training_completion.trainee_id, "trainee_id"),
    ENUM(u.training_completion.trainee_role, "trainee_role", roles),
    STR(u.training_completion.programme, "programme"),
    ENUM(u.training_completion.training_base, "training_base", bases),
    NUM(JC_FIELD_COUNT, u.training_completion.hours, "hours"),
    NUM(JC_FIELD_BOOL, u.training_completion.passed, "passed"),
    NUM(JC_FIELD_BOOL, u.training_completion.from_poor_village, "from_poor_village"),
};

/* One row per event type: its name in the contract, its topic and its fields. Adding a type
 * is one row here (and its field table above); every per-type list elsewhere derives from it. */
static const struct {
    const char *name;
    const char *topic;
    const jc_field_t *fields;
    size_t count;
} types[] = {
    [JC_VISIT] = {"visit", "jiceng.visits", visit_fields, ARRAY_LEN(visit_fields)},
    [JC_PETITION] = {"petition", "jiceng.petitions", petition_fields, ARRAY_LEN(petition_fields)},
    [JC_DISASTER_RESPONSE] = {"disaster_response", "jiceng.disaster-responses", disaster_fields,
                              ARRAY_LEN(disaster_fields)},
    [JC_TRAINING_COMPLETION] = {"training_completion", "jiceng.trainings", training_fields,
                                ARRAY_LEN(training_fields)},
};
_Static_assert(ARRAY_LEN(types) == JC_EVENT_TYPE_COUNT,
               "one row in types[] per jc_event_type_t (tests/unit check none is empty)");

const char *jc_event_type_name(jc_event_type_t type)
{
    return (unsigned)type < JC_EVENT_TYPE_COUNT ? types[type].name : "unknown";
}

const char *jc_event_topic(jc_event_type_t type)
{
    return (unsigned)type < JC_EVENT_TYPE_COUNT ? types[type].topic : NULL;
}

const jc_field_t *jc_event_fields(jc_event_type_t type, size_t *count)
{
    if ((unsigned)type >= JC_EVENT_TYPE_COUNT) {
        *count = 0;
        return NULL;
    }
    *count = types[type].count;
    return types[type].fields;
}

const jc_field_t *jc_event_field(jc_event_type_t type, const char *name)
{
    size_t n;
    const jc_field_t *f = jc_event_fields(type, &n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(f[i].name, name) == 0)
            return &f[i];
    return NULL;
}

int jc_field_symbol_index(const jc_field_t *f, const char *symbol)
{
    for (int i = 0; i < f->nsymbols; i++)
        if (strcmp(f->symbols[i], symbol) == 0)
            return i;
    return -1;
}
