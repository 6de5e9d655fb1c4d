/*
 * samples.c: valid sample events (see samples.h). Written field by field on purpose, not
 * through the field table, so that tests of table-driven code are not checked by that table.
 */
#include "samples.h"

#include <stdio.h>
#include <string.h>

static const int32_t counties[] = {520102, 520111, 520281, 520581, 522601, 522701, 520502};
static const char *const townships[] = {"花溪镇", "Qingyan", "龙里镇", "都匀经济开发区"};

void jc_test_sample(jc_event_t *ev, jc_event_type_t type, uint32_t seed, int64_t base_ms)
{
    jc_event_init(ev, type);
    snprintf(ev->event_id, sizeof ev->event_id, "0190f5a2-%04x-7abc-8def-%012x",
             (unsigned)(seed & 0xffff), (unsigned)(seed * 2654435761u));
    ev->occurred_at = base_ms - (int64_t)(seed % 72) * 3600 * 1000 - seed % 1000;
    ev->county_code = counties[seed % 7];
    snprintf(ev->source, sizeof ev->source, "county-system-%u", seed % 5);
    switch (type) {
    case JC_VISIT: {
        jc_visit_t *v = &ev->u.visit;
        snprintf(v->cadre_id, sizeof v->cadre_id, "cadre-%05u", seed % 977);
        v->cadre_level = (int32_t)(seed % JC_CADRE_LEVEL_COUNT);
        snprintf(v->township, sizeof v->township, "%s", townships[seed % 4]);
        snprintf(v->village, sizeof v->village, "第%u村", seed % 40);
        v->households_visited = (int32_t)(seed % 13);
        v->people_met = (int32_t)(seed % 50);
        v->deeds_done = (int32_t)(seed % 3);
        v->problems_solved = (int32_t)(seed % 2);
        v->stayed_overnight = seed % 3 == 0;
        v->hours_on_site = (int32_t)(seed % 9);
        break;
    }
    case JC_PETITION: {
        jc_petition_t *p = &ev->u.petition;
        snprintf(p->petition_id, sizeof p->petition_id, "P-%08u", seed);
        p->stage = (int32_t)(seed % JC_PETITION_STAGE_COUNT);
        p->channel = (int32_t)(seed % JC_PETITION_CHANNEL_COUNT);
        p->people = 1 + (int32_t)(seed % 6);
        if (p->stage != JC_STAGE_RECEIVED) {
            p->received_at.present = true;
            p->received_at.ms = ev->occurred_at - (int64_t)(seed % 30) * 86400000;
        }
        if (p->stage == JC_STAGE_FOLLOWED_UP)
            p->satisfied = seed % 4 == 0 ? JC_NULL : (jc_opt_bool_t)(seed % 2);
        break;
    }
    case JC_DISASTER_RESPONSE: {
        jc_disaster_response_t *d = &ev->u.disaster_response;
        snprintf(d->incident_id, sizeof d->incident_id, "INC-%u", seed % 31);
        d->hazard = (int32_t)(seed % JC_HAZARD_COUNT);
        d->responders = 10 + (int32_t)(seed % 90);
        d->party_member_responders = d->responders / 2;
        d->people_evacuated = (int32_t)(seed % 500);
        d->people_rescued = (int32_t)(seed % 20);
        d->deaths = (int32_t)(seed % 97 == 0);
        d->injured = (int32_t)(seed % 4);
        d->households_assisted = (int32_t)(seed % 120);
        break;
    }
    case JC_TRAINING_COMPLETION: {
        jc_training_completion_t *t = &ev->u.training_completion;
        snprintf(t->trainee_id, sizeof t->trainee_id, "T-%06u", seed % 5000);
        t->trainee_role = (int32_t)(seed % JC_TRAINEE_ROLE_COUNT);
        snprintf(t->programme, sizeof t->programme, "%s", seed % 2 ? "村干部能力提升班" : "Rural e-commerce");
        t->training_base = (int32_t)(seed % JC_TRAINING_BASE_COUNT);
        t->hours = 8 + (int32_t)(seed % 40);
        t->passed = seed % 10 != 0;
        t->from_poor_village = seed % 3 == 0;
        break;
    }
    case JC_EVENT_TYPE_COUNT: /* not a type: -Wswitch names a type added without a case */
        break;
    }
}
