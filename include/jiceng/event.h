/*
 * jiceng/event.h: the typed C form of the four event types (the event contract).
 *
 * One struct, jc_event_t, carries any event: the envelope every type shares (event_id,
 * occurred_at, county_code, source) and a union of the per-type bodies. Strings are fixed-size,
 * NUL-terminated buffers sized to the contract's bounds, so decoding never allocates per event
 * and a jc_event_t can be reused across records. Field names, types and bounds follow the Avro
 * schemas in schemas/avro/; jiceng/fields.h describes every field as data, and the codec,
 * NDJSON mapping and validation are all driven by that one description.
 */
#ifndef JICENG_EVENT_H
#define JICENG_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include "jiceng/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define JC_UUID_LEN 36   /**< canonical text form 8-4-4-4-12 */
#define JC_ID_MAX 64     /**< bytes of an entity id: cadre_id, petition_id, incident_id, trainee_id */
#define JC_TEXT_MAX 128  /**< bytes of a name: source, township, village, programme */

typedef enum jc_event_type {
    JC_VISIT = 0,
    JC_PETITION,
    JC_DISASTER_RESPONSE,
    JC_TRAINING_COMPLETION,
    JC_EVENT_TYPE_COUNT
} jc_event_type_t;

typedef enum { JC_CADRE_PROVINCIAL, JC_CADRE_PREFECTURE, JC_CADRE_COUNTY, JC_CADRE_TOWNSHIP,
               JC_CADRE_VILLAGE_TASK_FORCE, JC_CADRE_LEVEL_COUNT } jc_cadre_level_t;
typedef enum { JC_STAGE_RECEIVED, JC_STAGE_RESOLVED, JC_STAGE_FOLLOWED_UP,
               JC_PETITION_STAGE_COUNT } jc_petition_stage_t;
typedef enum { JC_CHANNEL_RECEPTION, JC_CHANNEL_HOME_VISIT, JC_CHANNEL_LETTER, JC_CHANNEL_HOTLINE,
               JC_CHANNEL_ONLINE, JC_PETITION_CHANNEL_COUNT } jc_petition_channel_t;
typedef enum { JC_HAZARD_FLOOD, JC_HAZARD_LANDSLIDE, JC_HAZARD_RAIN_SNOW_FREEZE, JC_HAZARD_DROUGHT,
               JC_HAZARD_ROCKFALL, JC_HAZARD_EARTHQUAKE, JC_HAZARD_FIRE, JC_HAZARD_OTHER,
               JC_HAZARD_COUNT } jc_hazard_t;
typedef enum { JC_ROLE_VILLAGE_SECRETARY, JC_ROLE_VILLAGE_DIRECTOR, JC_ROLE_VILLAGE_CADRE,
               JC_ROLE_GRADUATE_VILLAGE_OFFICIAL, JC_ROLE_PARTY_MEMBER, JC_ROLE_TOWNSHIP_CADRE,
               JC_TRAINEE_ROLE_COUNT } jc_trainee_role_t;
typedef enum { JC_BASE_HUAXI_JIANGSU, JC_BASE_SHOUGUANG_SHANDONG, JC_BASE_PROVINCIAL,
               JC_BASE_PREFECTURE, JC_BASE_COUNTY, JC_BASE_ONLINE,
               JC_TRAINING_BASE_COUNT } jc_training_base_t;

/** A nullable timestamp (epoch milliseconds, UTC). */
typedef struct jc_opt_time {
    bool present;
    int64_t ms;
} jc_opt_time_t;

/** A nullable boolean: JC_NULL, 0 (false) or 1 (true). */
typedef int8_t jc_opt_bool_t;
#define JC_NULL ((int8_t)-1)

/** A cadre's field visit. */
typedef struct jc_visit {
    char cadre_id[JC_ID_MAX + 1];
    int32_t cadre_level; /**< jc_cadre_level_t */
    char township[JC_TEXT_MAX + 1];
    char village[JC_TEXT_MAX + 1];
    int32_t households_visited;
    int32_t people_met;
    int32_t deeds_done;
    int32_t problems_solved;
    bool stayed_overnight;
    int32_t hours_on_site; /**< schema v2; a v1 message gets the v2 schema's default */
} jc_visit_t;

/** One step in a citizen petition's life. */
typedef struct jc_petition {
    char petition_id[JC_ID_MAX + 1];
    int32_t stage;   /**< jc_petition_stage_t */
    int32_t channel; /**< jc_petition_channel_t */
    int32_t people;  /**< size of the visiting batch */
    jc_opt_time_t received_at; /**< on RESOLVED and FOLLOWED_UP */
    jc_opt_bool_t satisfied;   /**< on FOLLOWED_UP; JC_NULL when the petitioner did not answer */
} jc_petition_t;

/** A disaster response. */
typedef struct jc_disaster_response {
    char incident_id[JC_ID_MAX + 1];
    int32_t hazard; /**< jc_hazard_t */
    int32_t responders;
    int32_t party_member_responders;
    int32_t people_evacuated;
    int32_t people_rescued;
    int32_t deaths;
    int32_t injured;
    int32_t households_assisted;
} jc_disaster_response_t;

/** A training completion. */
typedef struct jc_training_completion {
    char trainee_id[JC_ID_MAX + 1];
    int32_t trainee_role; /**< jc_trainee_role_t */
    char programme[JC_TEXT_MAX + 1];
    int32_t training_base; /**< jc_training_base_t */
    int32_t hours;
    bool passed;
    bool from_poor_village;
} jc_training_completion_t;

/** Any event: the envelope, then the body selected by type. */
typedef struct jc_event {
    jc_event_type_t type;
    char event_id[JC_UUID_LEN + 1];
    int64_t occurred_at;  /**< epoch milliseconds, UTC (event time) */
    int32_t county_code;  /**< six-digit code; validation maps older codes to current ones */
    char source[JC_TEXT_MAX + 1];
    int32_t revision;     /**< 0 for the original; a higher revision replaces the event (>= 0;
                               schemas visit v3, petition/disaster_response/training_completion
                               v2; an older message or text input without it gets 0). Hashed by
                               jc_event_hash only when not 0 */
    bool withdrawn;       /**< true: this revision removes the event (default false); it is the
                               full, valid event re-sent with the next revision. Hashed only
                               when true */
    union {
        jc_visit_t visit;
        jc_petition_t petition;
        jc_disaster_response_t disaster_response;
        jc_training_completion_t training_completion;
    } u;
} jc_event_t;

/** The type's contract name: "visit", "petition", "disaster_response", "training_completion". */
JC_API const char *jc_event_type_name(jc_event_type_t type);

/** The type named name (as above); JC_ERR_INVALID_ARG if none. */
JC_API jc_status_t jc_event_type_from_name(const char *name, jc_event_type_t *type,
                                           jc_error_t *err);

/** The Kafka topic of a type: "jiceng.visits", "jiceng.petitions",
 *  "jiceng.disaster-responses", "jiceng.trainings". */
JC_API const char *jc_event_topic(jc_event_type_t type);

/** The dead-letter topic. */
#define JC_DEAD_LETTER_TOPIC "jiceng.dead-letter"

/** Reset ev to an empty event of the given type: strings empty, numbers 0, optionals null,
 *  fields added by later schema versions at their defaults. */
JC_API void jc_event_init(jc_event_t *ev, jc_event_type_t type);

/** A 64-bit hash of the event's content (type and every field's value, as jc_event_equal
 *  compares them): equal events hash equal, so a re-sent event can be told from a different
 *  event that reuses its event_id. */
JC_API uint64_t jc_event_hash(const jc_event_t *ev);

/** Field-by-field equality (strings compared as strings, the unused tail of buffers ignored). */
JC_API bool jc_event_equal(const jc_event_t *a, const jc_event_t *b);

#ifdef __cplusplus
}
#endif
#endif
