/*
 * samples.h: valid sample events for tests, varied by a seed so that many distinct events can
 * be made (different ids, counts, enum values, Chinese and ASCII text).
 */
#ifndef JC_SAMPLES_H
#define JC_SAMPLES_H

#include <stdint.h>

#include "jiceng/event.h"

/* Fill ev with a valid event of type, varied by seed; occurred_at is base_ms minus a few hours. */
void jc_test_sample(jc_event_t *ev, jc_event_type_t type, uint32_t seed, int64_t base_ms);

#endif
