/*
 * jiceng/validate.h: the contract's rules for field values.
 *
 * Every event is validated before it is produced and again after it is consumed: event_id a
 * canonical UUID, strings non-empty (where required), bounded and valid UTF-8, counts
 * non-negative, enums in range, county_code one of the province's 88 counties (an older code is
 * mapped to its current one, following chains; a prefecture code or anything else is
 * rejected), occurred_at (and a petition's received_at) not before JC_EARLIEST_EVENT_MS and
 * not later than now plus a small skew, and petition steps consistent within themselves
 * (stage-specific fields present, received_at <= occurred_at). revision is a count (>= 0); a
 * withdrawal (withdrawn true) is held to every rule, as it is the full event re-sent.
 */
#ifndef JICENG_VALIDATE_H
#define JICENG_VALIDATE_H

#include <stdint.h>

#include "jiceng/event.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Default allowance for clocks running ahead: 5 minutes. */
#define JC_DEFAULT_MAX_SKEW_MS (5 * 60 * 1000)

/** The earliest time an event may carry: 2000-01-01T00:00:00+08:00 (epoch ms). Fixed by the
 *  contract, not configurable, so that every producer, every consumer and every replay reach
 *  the same verdict; it predates the province's digital records (the county code changes start
 *  in 2011) and rejects the usual mistakes: a zero or default time, and epoch seconds sent as
 *  milliseconds (any date of this century then falls in January 1970). docs/architecture.md,
 *  "Event contract". */
#define JC_EARLIEST_EVENT_MS INT64_C(946656000000)

/** Validate ev against the contract at time now_ms (epoch ms), allowing occurred_at up to
 *  max_skew_ms in the future. On success ev is in canonical form: ev->county_code holds the
 *  current code (an old code is rewritten in place) and event_id is in lower case (a UUID is
 *  the same UUID in either case, so a re-send that differs only in the case of its id is the
 *  same event to dedup and to the content hash). On failure ev is left as it was, the status
 *  names the rule (JC_ERR_NEGATIVE_COUNT, JC_ERR_UNKNOWN_COUNTY, JC_ERR_TOO_EARLY, ...) and
 *  err's message names the field and value. */
JC_API jc_status_t jc_event_validate(jc_event_t *ev, int64_t now_ms, int64_t max_skew_ms,
                                     jc_error_t *err);

/** 1 if the n bytes at s are valid UTF-8 (no overlongs, surrogates or code points > U+10FFFF). */
JC_API int jc_utf8_valid(const char *s, size_t n);

/** 1 if s is a canonical UUID text: 36 characters, 8-4-4-4-12 hex digits, any case. */
JC_API int jc_uuid_valid(const char *s);

/** Parse a canonical UUID text into its 16 bytes; JC_ERR_BAD_UUID if it is not one. */
JC_API jc_status_t jc_uuid_parse(const char *s, uint8_t out[16], jc_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
