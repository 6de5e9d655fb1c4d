/*
 * test_validate.c: the contract's value rules: a valid event of each type passes, and every
 * rule's failure is reported by its own status code with the field named; old county codes
 * are rewritten and ids lower-cased (only on success); UTF-8 and UUID edge cases; the
 * contract's earliest time and the future-time skew boundary; revisions (>= 0) and
 * withdrawals (the whole event, still held to every rule).
 */
#include "testenv.h"

#include <stdio.h>
#include <string.h>

#include "jiceng/validate.h"

#define NOW INT64_C(1700000000000)
#define SKEW JC_DEFAULT_MAX_SKEW_MS
#define UUID "123e4567-e89b-12d3-a456-426614174000"

static void base(jc_event_t *ev, jc_event_type_t type)
{
    memset(ev, 0, sizeof *ev);
    ev->type = type;
    strcpy(ev->event_id, UUID);
    ev->occurred_at = NOW - 60000;
    ev->county_code = 520102;
    strcpy(ev->source, "unit-test");
}

static jc_event_t visit(void)
{
    jc_event_t ev;
    base(&ev, JC_VISIT);
    jc_visit_t *v = &ev.u.visit;
    strcpy(v->cadre_id, "cadre-0001");
    v->cadre_level = JC_CADRE_VILLAGE_TASK_FORCE;
    strcpy(v->township, "青岩镇");
    strcpy(v->village, "龙井村");
    v->households_visited = 12;
    v->people_met = 30;
    v->hours_on_site = 6;
    return ev;
}

/* A petition step at stage, received an hour before it occurred unless RECEIVED. */
static jc_event_t petition(jc_petition_stage_t stage)
{
    jc_event_t ev;
    base(&ev, JC_PETITION);
    jc_petition_t *p = &ev.u.petition;
    strcpy(p->petition_id, "P-2024-000123");
    p->stage = stage;
    p->channel = JC_CHANNEL_HOTLINE;
    p->people = 2;
    p->satisfied = JC_NULL;
    if (stage != JC_STAGE_RECEIVED)
        p->received_at = (jc_opt_time_t){true, ev.occurred_at - 3600000};
    return ev;
}

static jc_event_t disaster(void)
{
    jc_event_t ev;
    base(&ev, JC_DISASTER_RESPONSE);
    jc_disaster_response_t *d = &ev.u.disaster_response;
    strcpy(d->incident_id, "INC-7");
    d->hazard = JC_HAZARD_LANDSLIDE;
    d->responders = 40;
    d->party_member_responders = 25;
    d->people_evacuated = 120;
    return ev;
}

static jc_event_t training(void)
{
    jc_event_t ev;
    base(&ev, JC_TRAINING_COMPLETION);
    jc_training_completion_t *t = &ev.u.training_completion;
    strcpy(t->trainee_id, "T-42");
    t->trainee_role = JC_ROLE_VILLAGE_SECRETARY;
    strcpy(t->programme, "华西村基层干部培训");
    t->training_base = JC_BASE_HUAXI_JIANGSU;
    t->hours = 40;
    t->passed = true;
    return ev;
}

/* Validate ev; assert the status and, on failure, that the message contains needle. */
static void expect(jc_event_t ev, jc_status_t code, const char *needle)
{
    jc_error_t err;
    jc_error_clear(&err);
    jc_status_t st = jc_event_validate(&ev, NOW, SKEW, &err);
    if (st != code)
        fail_msg("expected %s, got %s: %s", jc_status_name(code), jc_status_name(st),
                 err.message);
    if (code != JC_OK) {
        assert_int_equal(err.code, code);
        if (strstr(err.message, needle) == NULL)
            fail_msg("message '%s' lacks '%s'", err.message, needle);
    }
}

/* ---- valid events ---- */

static void valid_event_of_each_type_passes(void **state)
{
    (void)state;
    expect(visit(), JC_OK, NULL);
    expect(petition(JC_STAGE_RECEIVED), JC_OK, NULL);
    expect(petition(JC_STAGE_RESOLVED), JC_OK, NULL);
    expect(petition(JC_STAGE_FOLLOWED_UP), JC_OK, NULL);
    expect(disaster(), JC_OK, NULL);
    expect(training(), JC_OK, NULL);
}

static void zero_counts_and_uppercase_uuid_pass(void **state)
{
    (void)state;
    jc_event_t ev = visit();
    ev.u.visit.households_visited = 0;
    strcpy(ev.event_id, "123E4567-E89B-12D3-A456-42661417400F");
    expect(ev, JC_OK, NULL);
}

/* A UUID is the same UUID in either case: a valid event leaves validation with its id in lower
 * case, so an upper-case re-send has the same id and the same content hash as the original; a
 * rejected one keeps its id as written (the reject quotes what was sent). */
static void uuids_leave_validation_in_lower_case(void **state)
{
    (void)state;
    jc_event_t lower = visit(), upper = visit(), mixed = visit();
    strcpy(lower.event_id, "0192f0c4-6a1e-7cc3-9a51-3f2b8e1d4c77");
    strcpy(upper.event_id, "0192F0C4-6A1E-7CC3-9A51-3F2B8E1D4C77");
    strcpy(mixed.event_id, "0192f0C4-6a1E-7cC3-9A51-3f2B8e1D4c77");
    assert_int_not_equal(jc_event_hash(&lower), jc_event_hash(&upper));
    assert_int_equal(jc_event_validate(&upper, NOW, SKEW, NULL), JC_OK);
    assert_int_equal(jc_event_validate(&mixed, NOW, SKEW, NULL), JC_OK);
    assert_int_equal(jc_event_validate(&lower, NOW, SKEW, NULL), JC_OK);
    assert_string_equal(upper.event_id, lower.event_id);
    assert_string_equal(mixed.event_id, lower.event_id);
    assert_true(jc_event_equal(&upper, &lower));
    assert_true(jc_event_hash(&upper) == jc_event_hash(&lower));
    upper.u.visit.people_met = -1;
    strcpy(upper.event_id, "0192F0C4-6A1E-7CC3-9A51-3F2B8E1D4C77");
    assert_int_equal(jc_event_validate(&upper, NOW, SKEW, NULL), JC_ERR_NEGATIVE_COUNT);
    assert_string_equal(upper.event_id, "0192F0C4-6A1E-7CC3-9A51-3F2B8E1D4C77");
}

/* ---- per-field rules ---- */

static void bad_uuids_are_rejected(void **state)
{
    (void)state;
    const char *bad[] = {"",
                         "123e4567e89b12d3a456426614174000",
                         "123e4567-e89b-12d3-a456-42661417400",
                         "123e4567-e89b-12d3-a456-42661417400g",
                         "123e4567-e89b-12d3-a456_426614174000",
                         "{23e4567-e89b-12d3-a456-426614174000",
                         "123e4567-e89b-12d3-a456-4266141740\xc3\xa9"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        jc_event_t ev = visit();
        snprintf(ev.event_id, sizeof ev.event_id, "%s", bad[i]);
        expect(ev, JC_ERR_BAD_UUID, "event_id: not a canonical UUID");
    }
    jc_event_t ev = visit();
    memset(ev.event_id, 'a', sizeof ev.event_id); /* no NUL at all */
    expect(ev, JC_ERR_BAD_UUID, "longer than 36");
    ev = visit();
    ev.event_id[3] = 'x';
    expect(ev, JC_ERR_BAD_UUID, "'123x4567-");
}

static void empty_strings_are_rejected(void **state)
{
    (void)state;
    jc_event_t ev = visit();
    ev.source[0] = '\0';
    expect(ev, JC_ERR_EMPTY_FIELD, "source: empty");
    ev = visit();
    ev.u.visit.village[0] = '\0';
    expect(ev, JC_ERR_EMPTY_FIELD, "village: empty");
    ev = training();
    ev.u.training_completion.programme[0] = '\0';
    expect(ev, JC_ERR_EMPTY_FIELD, "programme: empty");
}

static void strings_must_fit_their_buffer(void **state)
{
    (void)state;
    jc_event_t ev = visit();
    memset(ev.u.visit.cadre_id, 'a', sizeof ev.u.visit.cadre_id); /* no room for the NUL */
    expect(ev, JC_ERR_TOO_LONG, "cadre_id: longer than 64 bytes");
    ev = visit();
    memset(ev.u.visit.cadre_id, 'a', JC_ID_MAX); /* exactly the bound: fine */
    ev.u.visit.cadre_id[JC_ID_MAX] = '\0';
    expect(ev, JC_OK, NULL);
    ev = visit();
    memset(ev.source, 'b', sizeof ev.source);
    expect(ev, JC_ERR_TOO_LONG, "source: longer than 128 bytes");
}

static void strings_must_be_utf8(void **state)
{
    (void)state;
    jc_event_t ev = visit();
    strcpy(ev.u.visit.township, "Qingyan\xc0\xaf");
    expect(ev, JC_ERR_BAD_UTF8, "township: invalid UTF-8 at byte 7");
    ev = disaster();
    strcpy(ev.u.disaster_response.incident_id, "INC\xed\xa0\x80");
    expect(ev, JC_ERR_BAD_UTF8, "incident_id");
}

static void negative_counts_are_rejected(void **state)
{
    (void)state;
    jc_event_t ev = visit();
    ev.u.visit.households_visited = -3;
    expect(ev, JC_ERR_NEGATIVE_COUNT, "households_visited: negative count -3");
    ev = visit();
    ev.u.visit.hours_on_site = -1;
    expect(ev, JC_ERR_NEGATIVE_COUNT, "hours_on_site");
    ev = petition(JC_STAGE_RECEIVED);
    ev.u.petition.people = INT32_MIN;
    expect(ev, JC_ERR_NEGATIVE_COUNT, "people: negative count -2147483648");
    ev = disaster();
    ev.u.disaster_response.deaths = -1;
    expect(ev, JC_ERR_NEGATIVE_COUNT, "deaths");
    ev = training();
    ev.u.training_completion.hours = -40;
    expect(ev, JC_ERR_NEGATIVE_COUNT, "hours: negative count -40");
}

/* A correction's revision is 0 or more; a withdrawal is the full event re-sent with withdrawn
 * true and must itself be valid (docs/architecture.md, "Event contract: revisions"). */
static void revisions_and_withdrawals(void **state)
{
    (void)state;
    jc_event_t ev = visit();
    ev.revision = INT32_MAX;
    ev.withdrawn = true;
    expect(ev, JC_OK, NULL);
    ev.revision = -1;
    expect(ev, JC_ERR_NEGATIVE_COUNT, "revision: negative count -1");
    ev = petition(JC_STAGE_RESOLVED);
    ev.revision = 2;
    ev.withdrawn = true;
    expect(ev, JC_OK, NULL);
    ev.u.petition.received_at.present = false; /* withdrawn, yet still a RESOLVED step */
    expect(ev, JC_ERR_MISSING_FIELD, "received_at");
    ev = training();
    ev.withdrawn = true;
    ev.u.training_completion.programme[0] = '\0';
    expect(ev, JC_ERR_EMPTY_FIELD, "programme");
}

static void enums_must_be_in_range(void **state)
{
    (void)state;
    jc_event_t ev = visit();
    ev.u.visit.cadre_level = JC_CADRE_LEVEL_COUNT;
    expect(ev, JC_ERR_ENUM_RANGE, "cadre_level: enum index 5");
    ev = visit();
    ev.u.visit.cadre_level = -1;
    expect(ev, JC_ERR_ENUM_RANGE, "cadre_level: enum index -1");
    ev = petition(JC_STAGE_RECEIVED);
    ev.u.petition.stage = 3;
    expect(ev, JC_ERR_ENUM_RANGE, "stage");
    ev = disaster();
    ev.u.disaster_response.hazard = 8;
    expect(ev, JC_ERR_ENUM_RANGE, "hazard");
    ev = training();
    ev.u.training_completion.training_base = 6;
    expect(ev, JC_ERR_ENUM_RANGE, "training_base");
}

static void old_county_code_is_rewritten(void **state)
{
    (void)state;
    jc_event_t ev = visit();
    ev.county_code = 522423;
    assert_int_equal(jc_event_validate(&ev, NOW, SKEW, NULL), JC_OK);
    assert_int_equal(ev.county_code, 520581);
    ev.county_code = 520221;
    assert_int_equal(jc_event_validate(&ev, NOW, SKEW, NULL), JC_OK);
    assert_int_equal(ev.county_code, 520204);
}

static void rejected_event_keeps_its_county_code(void **state)
{
    (void)state;
    jc_event_t ev = visit();
    ev.county_code = 522423;
    ev.u.visit.deeds_done = -1;
    assert_int_equal(jc_event_validate(&ev, NOW, SKEW, NULL), JC_ERR_NEGATIVE_COUNT);
    assert_int_equal(ev.county_code, 522423);
}

static void unknown_counties_are_rejected(void **state)
{
    (void)state;
    const int32_t bad[] = {522400, 520100, 999999, 0, -1, 520199};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        jc_event_t ev = visit();
        ev.county_code = bad[i];
        char needle[32];
        snprintf(needle, sizeof needle, "county_code: %d", (int)bad[i]);
        expect(ev, JC_ERR_UNKNOWN_COUNTY, needle);
    }
}

/* The contract's floor, 2000-01-01T00:00:00+08:00, inclusive; 1970 (zero, a negative time, a
 * time in seconds) is before it, and a time in seconds is named as one. */
static void occurred_at_has_a_floor(void **state)
{
    (void)state;
    assert_true(JC_EARLIEST_EVENT_MS == INT64_C(946684800000) - 8 * 3600 * 1000);
    jc_event_t ev = visit();
    ev.occurred_at = JC_EARLIEST_EVENT_MS;
    expect(ev, JC_OK, NULL);
    ev.occurred_at = JC_EARLIEST_EVENT_MS - 1;
    expect(ev, JC_ERR_TOO_EARLY, "occurred_at: 946655999999 is before 946656000000 "
                                 "(2000-01-01T00:00:00.000+08:00), the earliest time");
    ev.occurred_at = 0;
    expect(ev, JC_ERR_TOO_EARLY, "occurred_at: 0 is before");
    ev.occurred_at = -5;
    expect(ev, JC_ERR_TOO_EARLY, "occurred_at: -5 is before");
    ev.occurred_at = INT64_MIN;
    expect(ev, JC_ERR_TOO_EARLY, "occurred_at: -9223372036854775808 is before");
    ev.occurred_at = NOW / 1000; /* 2023-11-14 in seconds: 1970-01-20 in milliseconds */
    expect(ev, JC_ERR_TOO_EARLY, "occurred_at: 1700000000 is before 946656000000 "
                                 "(2000-01-01T00:00:00.000+08:00), the earliest time the contract "
                                 "accepts (epoch milliseconds); it reads as a time in seconds");
    ev.occurred_at = 86400000; /* 1970-01-02: not a plausible time in seconds either */
    jc_error_t err;
    assert_int_equal(jc_event_validate(&ev, NOW, SKEW, &err), JC_ERR_TOO_EARLY);
    assert_null(strstr(err.message, "in seconds"));
}

static void skew_boundary_is_inclusive(void **state)
{
    (void)state;
    jc_event_t ev = visit();
    ev.occurred_at = NOW + SKEW;
    expect(ev, JC_OK, NULL);
    ev.occurred_at = NOW + SKEW + 1;
    expect(ev, JC_ERR_FUTURE_TIME, "occurred_at: 1700000300001 is later than now");
    ev.occurred_at = NOW + 1;
    assert_int_equal(jc_event_validate(&ev, NOW, 0, NULL), JC_ERR_FUTURE_TIME);
    ev.occurred_at = NOW;
    assert_int_equal(jc_event_validate(&ev, NOW, 0, NULL), JC_OK);
}

static void huge_skew_saturates_instead_of_overflowing(void **state)
{
    (void)state;
    jc_event_t ev = visit();
    ev.occurred_at = INT64_MAX;
    assert_int_equal(jc_event_validate(&ev, NOW, INT64_MAX, NULL), JC_OK);
    assert_int_equal(jc_event_validate(&ev, INT64_MAX - 1, 5, NULL), JC_OK);
    assert_int_equal(jc_event_validate(&ev, NOW, SKEW, NULL), JC_ERR_FUTURE_TIME);
}

static void bad_arguments_are_rejected(void **state)
{
    (void)state;
    jc_error_t err;
    assert_int_equal(jc_event_validate(NULL, NOW, SKEW, &err), JC_ERR_INVALID_ARG);
    jc_event_t ev = visit();
    assert_int_equal(jc_event_validate(&ev, NOW, -1, &err), JC_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "max_skew_ms"));
    ev.type = JC_EVENT_TYPE_COUNT;
    assert_int_equal(jc_event_validate(&ev, NOW, SKEW, &err), JC_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "type"));
}

static void optional_values_must_be_well_formed(void **state)
{
    (void)state;
    jc_event_t ev = petition(JC_STAGE_RESOLVED);
    ev.u.petition.received_at.ms = 0;
    expect(ev, JC_ERR_TOO_EARLY, "received_at: 0 is before 946656000000");
    ev.u.petition.received_at.ms = JC_EARLIEST_EVENT_MS - 1;
    expect(ev, JC_ERR_TOO_EARLY, "received_at: 946655999999 is before");
    ev.u.petition.received_at.ms = JC_EARLIEST_EVENT_MS;
    expect(ev, JC_OK, NULL);
    ev = petition(JC_STAGE_FOLLOWED_UP);
    ev.u.petition.satisfied = 5;
    expect(ev, JC_ERR_BAD_FIELD, "satisfied: 5 is not null");
}

/* ---- rules across fields ---- */

static void received_step_has_no_later_fields(void **state)
{
    (void)state;
    jc_event_t ev = petition(JC_STAGE_RECEIVED);
    ev.u.petition.received_at = (jc_opt_time_t){true, NOW - 1};
    expect(ev, JC_ERR_INCONSISTENT, "received_at");
    ev = petition(JC_STAGE_RECEIVED);
    ev.u.petition.satisfied = 1;
    expect(ev, JC_ERR_INCONSISTENT, "satisfied: true on a RECEIVED step");
}

static void resolved_step_needs_received_at_before_it(void **state)
{
    (void)state;
    jc_event_t ev = petition(JC_STAGE_RESOLVED);
    ev.u.petition.received_at.present = false;
    expect(ev, JC_ERR_MISSING_FIELD, "received_at: missing on a RESOLVED step");
    ev = petition(JC_STAGE_RESOLVED);
    ev.u.petition.received_at.ms = ev.occurred_at + 1;
    expect(ev, JC_ERR_INCONSISTENT, "is after occurred_at");
    ev.u.petition.received_at.ms = ev.occurred_at; /* same instant: fine */
    expect(ev, JC_OK, NULL);
    ev = petition(JC_STAGE_RESOLVED);
    ev.u.petition.satisfied = 0;
    expect(ev, JC_ERR_INCONSISTENT, "satisfied: false on a RESOLVED step");
}

static void followed_up_step_rules(void **state)
{
    (void)state;
    jc_event_t ev = petition(JC_STAGE_FOLLOWED_UP);
    ev.u.petition.received_at.present = false;
    expect(ev, JC_ERR_MISSING_FIELD, "received_at: missing on a FOLLOWED_UP step");
    ev = petition(JC_STAGE_FOLLOWED_UP);
    ev.u.petition.received_at.ms = ev.occurred_at + 1000;
    expect(ev, JC_ERR_INCONSISTENT, "received_at");
    for (int8_t s = -1; s <= 1; s++) { /* null, false, true all allowed */
        ev = petition(JC_STAGE_FOLLOWED_UP);
        ev.u.petition.satisfied = s;
        expect(ev, JC_OK, NULL);
    }
}

static void party_members_cannot_exceed_responders(void **state)
{
    (void)state;
    jc_event_t ev = disaster();
    ev.u.disaster_response.party_member_responders = 41;
    expect(ev, JC_ERR_INCONSISTENT, "party_member_responders: 41 exceeds responders 40");
    ev.u.disaster_response.party_member_responders = 40;
    expect(ev, JC_OK, NULL);
}

/* ---- UTF-8 and UUID functions ---- */

#define UTF8(lit) jc_utf8_valid(lit, sizeof(lit) - 1)

static void utf8_accepts_well_formed_text(void **state)
{
    (void)state;
    assert_true(jc_utf8_valid("", 0));
    assert_true(jc_utf8_valid(NULL, 0));
    assert_true(UTF8("plain ascii that is longer than eight bytes"));
    assert_true(UTF8("南明区 Nanming"));
    assert_true(UTF8("\xc2\x80"));             /* U+0080, smallest 2-byte */
    assert_true(UTF8("\xe0\xa0\x80"));         /* U+0800, smallest 3-byte */
    assert_true(UTF8("\xed\x9f\xbf"));         /* U+D7FF, just below the surrogates */
    assert_true(UTF8("\xee\x80\x80"));         /* U+E000, just above */
    assert_true(UTF8("\xf0\x90\x80\x80"));     /* U+10000, smallest 4-byte */
    assert_true(UTF8("\xf4\x8f\xbf\xbf"));     /* U+10FFFF, the largest */
    assert_true(UTF8("a\0b"));                 /* U+0000 is a character */
}

static void utf8_rejects_malformed_text(void **state)
{
    (void)state;
    assert_false(jc_utf8_valid(NULL, 1));
    assert_false(UTF8("\xc0\xaf"));            /* overlong '/' */
    assert_false(UTF8("\xc1\xbf"));            /* overlong */
    assert_false(UTF8("\xe0\x80\xaf"));        /* overlong 3-byte */
    assert_false(UTF8("\xf0\x80\x80\xaf"));    /* overlong 4-byte */
    assert_false(UTF8("\xed\xa0\x80"));        /* U+D800, a surrogate */
    assert_false(UTF8("\xed\xbf\xbf"));        /* U+DFFF */
    assert_false(UTF8("\xf4\x90\x80\x80"));    /* U+110000 */
    assert_false(UTF8("\xf5\x80\x80\x80"));    /* no such lead byte */
    assert_false(UTF8("\xff"));
    assert_false(UTF8("\x80"));                /* a lone continuation byte */
    assert_false(UTF8("\xe5\x8d"));            /* truncated 3-byte */
    assert_false(UTF8("\xf0\x9f\x98"));        /* truncated 4-byte */
    assert_false(UTF8("\xe5\x8d" "A"));        /* continuation replaced by ASCII */
    assert_false(UTF8("0123456789abcdef\xc3")); /* truncated after the fast ASCII path */
    assert_false(UTF8("01234567\xe5\x8d\x97" "89abcdef\xed\xa0\x80"));
    /* the length decides, not a NUL: a truncated sequence before the end is caught */
    assert_false(jc_utf8_valid("\xe5\x8d\x97", 2));
}

static void uuid_validity(void **state)
{
    (void)state;
    assert_true(jc_uuid_valid(UUID));
    assert_true(jc_uuid_valid("FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF"));
    assert_false(jc_uuid_valid(NULL));
    assert_false(jc_uuid_valid(UUID "0"));        /* 37 characters */
    assert_false(jc_uuid_valid("123e4567-e89b-12d3-a456-42661417400")); /* 35 */
    assert_false(jc_uuid_valid("123e4567-e89b-12d3-a4560426614174000")); /* hyphen at 23 */
    assert_false(jc_uuid_valid("123e4567e-89b-12d3-a456-426614174000")); /* hyphen moved */
    assert_false(jc_uuid_valid(" 23e4567-e89b-12d3-a456-426614174000"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_event_of_each_type_passes),
        cmocka_unit_test(revisions_and_withdrawals),
        cmocka_unit_test(zero_counts_and_uppercase_uuid_pass),
        cmocka_unit_test(uuids_leave_validation_in_lower_case),
        cmocka_unit_test(bad_uuids_are_rejected),
        cmocka_unit_test(empty_strings_are_rejected),
        cmocka_unit_test(strings_must_fit_their_buffer),
        cmocka_unit_test(strings_must_be_utf8),
        cmocka_unit_test(negative_counts_are_rejected),
        cmocka_unit_test(enums_must_be_in_range),
        cmocka_unit_test(old_county_code_is_rewritten),
        cmocka_unit_test(rejected_event_keeps_its_county_code),
        cmocka_unit_test(unknown_counties_are_rejected),
        cmocka_unit_test(occurred_at_has_a_floor),
        cmocka_unit_test(skew_boundary_is_inclusive),
        cmocka_unit_test(huge_skew_saturates_instead_of_overflowing),
        cmocka_unit_test(bad_arguments_are_rejected),
        cmocka_unit_test(optional_values_must_be_well_formed),
        cmocka_unit_test(received_step_has_no_later_fields),
        cmocka_unit_test(resolved_step_needs_received_at_before_it),
        cmocka_unit_test(followed_up_step_rules),
        cmocka_unit_test(party_members_cannot_exceed_responders),
        cmocka_unit_test(utf8_accepts_well_formed_text),
        cmocka_unit_test(utf8_rejects_malformed_text),
        cmocka_unit_test(uuid_validity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
