/*
 * test_ndjson.c: the NDJSON mapping: format->parse round trips of all four event types
 * (Chinese text kept readable), the exact line layout, timestamps as ISO text or epoch ms,
 * optional fields (petition's nullables, visit's v2 hours_on_site, the envelope's revision and
 * withdrawn: present, absent meaning 0/false, or of the wrong type), and every parse and
 * format error by its status code. Variants of a valid line are made with jansson: take the
 * valid object, drop or replace one member, dump it, parse it.
 */
#include "testenv.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "jiceng/fields.h"
#include "jiceng/jtime.h"
#include "jiceng/ndjson.h"

#define UUID "0190a6b8-7c3e-7d2a-9f41-3b5c2e8d1a07"
#define T_ISO "2026-11-03T09:15:00.250+08:00"
#define T_MS 1793668500250LL /* the same instant */

static const char *const VISIT_LINE =
    "{\"type\":\"visit\",\"event_id\":\"" UUID "\",\"occurred_at\":\"" T_ISO "\","
    "\"county_code\":520111,\"source\":\"花溪区网格系统\",\"cadre_id\":\"C-001\","
    "\"cadre_level\":\"TOWNSHIP\",\"township\":\"青岩镇\",\"village\":\"龙井村\","
    "\"households_visited\":12,\"people_met\":30,\"deeds_done\":2,\"problems_solved\":1,"
    "\"stayed_overnight\":true}";

static void fill_envelope(jc_event_t *ev, jc_event_type_t type)
{
    jc_event_init(ev, type);
    strcpy(ev->event_id, UUID);
    ev->occurred_at = T_MS;
    ev->county_code = 520111;
    strcpy(ev->source, "花溪区网格系统");
}

static void sample_visit(jc_event_t *ev)
{
    fill_envelope(ev, JC_VISIT);
    jc_visit_t *v = &ev->u.visit;
    strcpy(v->cadre_id, "C-001");
    v->cadre_level = JC_CADRE_TOWNSHIP;
    strcpy(v->township, "青岩镇");
    strcpy(v->village, "龙井村");
    v->households_visited = 12;
    v->people_met = 30;
    v->deeds_done = 2;
    v->problems_solved = 1;
    v->stayed_overnight = true;
    v->hours_on_site = 5;
}

static void sample_petition(jc_event_t *ev)
{
    fill_envelope(ev, JC_PETITION);
    jc_petition_t *p = &ev->u.petition;
    strcpy(p->petition_id, "XF-2026-0042");
    p->stage = JC_STAGE_FOLLOWED_UP;
    p->channel = JC_CHANNEL_HOTLINE;
    p->people = 3;
    p->received_at.present = true;
    p->received_at.ms = T_MS - 7 * JC_DAY_MS;
    p->satisfied = 1;
}

static void sample_disaster(jc_event_t *ev)
{
    fill_envelope(ev, JC_DISASTER_RESPONSE);
    jc_disaster_response_t *d = &ev->u.disaster_response;
    strcpy(d->incident_id, "山体滑坡-0007");
    d->hazard = JC_HAZARD_LANDSLIDE;
    d->responders = 40;
    d->party_member_responders = 25;
    d->people_evacuated = 120;
    d->people_rescued = 4;
    d->deaths = 0;
    d->injured = 2;
    d->households_assisted = 33;
}

static void sample_training(jc_event_t *ev)
{
    fill_envelope(ev, JC_TRAINING_COMPLETION);
    jc_training_completion_t *t = &ev->u.training_completion;
    strcpy(t->trainee_id, "T-88");
    t->trainee_role = JC_ROLE_GRADUATE_VILLAGE_OFFICIAL;
    strcpy(t->programme, "乡村振兴带头人培训班");
    t->training_base = JC_BASE_HUAXI_JIANGSU;
    t->hours = 40;
    t->passed = true;
    t->from_poor_village = true;
}

static jc_status_t parse_str(const char *line, jc_event_t *ev, jc_error_t *err)
{
    return jc_ndjson_parse(line, strlen(line), ev, err);
}

/* Parse VISIT_LINE with member replaced by value (value NULL: member removed). */
static jc_status_t parse_visit_with(const char *member, json_t *value, jc_event_t *ev,
                                    jc_error_t *err)
{
    json_t *obj = json_loads(VISIT_LINE, 0, NULL);
    assert_non_null(obj);
    if (value != NULL)
        assert_int_equal(json_object_set_new(obj, member, value), 0);
    else
        assert_int_equal(json_object_del(obj, member), 0);
    char *line = json_dumps(obj, JSON_COMPACT);
    assert_non_null(line);
    jc_status_t st = parse_str(line, ev, err);
    free(line);
    json_decref(obj);
    return st;
}

/* Expect parse_visit_with to fail with code and a message containing needle. */
static void visit_fails(const char *member, json_t *value, jc_status_t code, const char *needle)
{
    jc_event_t ev;
    jc_error_t err;
    assert_int_equal(parse_visit_with(member, value, &ev, &err), code);
    assert_int_equal(err.code, code);
    if (strstr(err.message, needle) == NULL)
        fail_msg("message '%s' does not mention '%s'", err.message, needle);
}

static void expect_parse_error(const char *line, jc_status_t code, const char *needle)
{
    jc_event_t ev;
    jc_error_t err;
    assert_int_equal(parse_str(line, &ev, &err), code);
    assert_int_equal(err.code, code);
    if (strstr(err.message, needle) == NULL)
        fail_msg("message '%s' does not mention '%s'", err.message, needle);
}

static void round_trip(void (*make)(jc_event_t *), const char *prefix)
{
    jc_event_t in, out;
    jc_buf_t buf = {0};
    jc_error_t err;
    make(&in);
    assert_int_equal(jc_ndjson_format(&in, &buf, &err), JC_OK);
    assert_true(buf.len > 0 && buf.data[buf.len - 1] == '\n');
    assert_int_equal(strncmp((char *)buf.data, prefix, strlen(prefix)), 0);
    assert_non_null(strstr((char *)buf.data, "\"source\":\"花溪区网格系统\""));
    memset(&out, 0x5a, sizeof out);
    assert_int_equal(jc_ndjson_parse((char *)buf.data, buf.len, &out, &err), JC_OK);
    assert_true(jc_event_equal(&in, &out));
    jc_buf_free(&buf);
}

static void round_trips_every_type(void **state)
{
    (void)state;
    round_trip(sample_visit, "{\"type\":\"visit\",\"event_id\":");
    round_trip(sample_petition, "{\"type\":\"petition\",\"event_id\":");
    round_trip(sample_disaster, "{\"type\":\"disaster_response\",\"event_id\":");
    round_trip(sample_training, "{\"type\":\"training_completion\",\"event_id\":");
}

static void format_layout_is_exact(void **state)
{
    (void)state;
    jc_event_t ev;
    jc_buf_t buf = {0};
    sample_petition(&ev);
    ev.u.petition.satisfied = JC_NULL;
    ev.revision = 2;
    ev.withdrawn = true;
    assert_int_equal(jc_buf_append_str(&buf, "prev\n"), JC_OK); /* format appends */
    assert_int_equal(jc_ndjson_format(&ev, &buf, NULL), JC_OK);
    assert_string_equal((char *)buf.data,
                        "prev\n{\"type\":\"petition\",\"event_id\":\"" UUID "\","
                        "\"occurred_at\":\"" T_ISO "\",\"county_code\":520111,"
                        "\"source\":\"花溪区网格系统\",\"revision\":2,\"withdrawn\":true,"
                        "\"petition_id\":\"XF-2026-0042\",\"stage\":\"FOLLOWED_UP\",\"channel\":\"HOTLINE\",\"people\":3,"
                        "\"received_at\":\"2026-10-27T09:15:00.250+08:00\",\"satisfied\":null}\n");
    jc_buf_free(&buf);
}

static void epoch_ms_and_iso_are_equal(void **state)
{
    (void)state;
    jc_event_t a, b, c;
    assert_int_equal(parse_str(VISIT_LINE, &a, NULL), JC_OK);
    assert_int_equal(a.occurred_at, T_MS);
    assert_int_equal(parse_visit_with("occurred_at", json_integer(T_MS), &b, NULL), JC_OK);
    assert_int_equal(parse_visit_with("occurred_at", json_string("2026-11-03T01:15:00.250Z"),
                                      &c, NULL), JC_OK);
    assert_true(jc_event_equal(&a, &b));
    assert_true(jc_event_equal(&a, &c));
}

static void parses_line_fields(void **state)
{
    (void)state;
    jc_event_t ev;
    assert_int_equal(parse_str(VISIT_LINE, &ev, NULL), JC_OK);
    assert_int_equal(ev.type, JC_VISIT);
    assert_string_equal(ev.event_id, UUID);
    assert_int_equal(ev.county_code, 520111);
    assert_string_equal(ev.u.visit.township, "青岩镇");
    assert_int_equal(ev.u.visit.cadre_level, JC_CADRE_TOWNSHIP);
    assert_int_equal(ev.u.visit.people_met, 30);
    assert_true(ev.u.visit.stayed_overnight);
}

static void visit_without_hours_on_site_gets_default(void **state)
{
    (void)state;
    jc_event_t ev;
    memset(&ev, 0x5a, sizeof ev);
    assert_int_equal(parse_str(VISIT_LINE, &ev, NULL), JC_OK);
    assert_int_equal(ev.u.visit.hours_on_site, 0);
    assert_int_equal(parse_visit_with("hours_on_site", json_integer(6), &ev, NULL), JC_OK);
    assert_int_equal(ev.u.visit.hours_on_site, 6);
}

/* revision and withdrawn: absent means 0 and false (every older line stays valid), present
 * they are read; of the wrong JSON type or out of range they are errors naming the field. A
 * negative revision parses, and validation rejects it (test_validate.c). */
static void revision_and_withdrawn(void **state)
{
    (void)state;
    jc_event_t ev;
    memset(&ev, 0x5a, sizeof ev);
    assert_int_equal(parse_str(VISIT_LINE, &ev, NULL), JC_OK);
    assert_int_equal(ev.revision, 0);
    assert_false(ev.withdrawn);
    assert_int_equal(parse_visit_with("revision", json_integer(3), &ev, NULL), JC_OK);
    assert_int_equal(ev.revision, 3);
    assert_false(ev.withdrawn);
    assert_int_equal(parse_visit_with("withdrawn", json_true(), &ev, NULL), JC_OK);
    assert_int_equal(ev.revision, 0);
    assert_true(ev.withdrawn);
    assert_int_equal(parse_visit_with("revision", json_integer(-1), &ev, NULL), JC_OK);
    assert_int_equal(ev.revision, -1);
    visit_fails("revision", json_string("1"), JC_ERR_BAD_FIELD, "'revision' must be an integer");
    visit_fails("revision", json_real(1.5), JC_ERR_BAD_FIELD, "revision");
    visit_fails("revision", json_null(), JC_ERR_BAD_FIELD, "revision");
    visit_fails("revision", json_integer(INT64_C(1) << 31), JC_ERR_BAD_FIELD, "revision");
    visit_fails("withdrawn", json_integer(1), JC_ERR_BAD_FIELD,
                "'withdrawn' must be true or false");
    visit_fails("withdrawn", json_string("true"), JC_ERR_BAD_FIELD, "withdrawn");
    visit_fails("withdrawn", json_null(), JC_ERR_BAD_FIELD, "withdrawn");
}

static void petition_nullables_may_be_null_or_absent(void **state)
{
    (void)state;
    const char *absent = "{\"type\":\"petition\",\"event_id\":\"" UUID "\",\"occurred_at\":"
                         "1793668500250,\"county_code\":520111,\"source\":\"s\","
                         "\"petition_id\":\"P\",\"stage\":\"RECEIVED\",\"channel\":\"LETTER\","
                         "\"people\":1}";
    const char *nulls = "{\"type\":\"petition\",\"event_id\":\"" UUID "\",\"occurred_at\":"
                        "1793668500250,\"county_code\":520111,\"source\":\"s\","
                        "\"petition_id\":\"P\",\"stage\":\"RECEIVED\",\"channel\":\"LETTER\","
                        "\"people\":1,\"received_at\":null,\"satisfied\":null}";
    const char *set = "{\"type\":\"petition\",\"event_id\":\"" UUID "\",\"occurred_at\":"
                      "1793668500250,\"county_code\":520111,\"source\":\"s\","
                      "\"petition_id\":\"P\",\"stage\":\"FOLLOWED_UP\",\"channel\":\"LETTER\","
                      "\"people\":1,\"received_at\":\"2026-11-01T00:00:00Z\",\"satisfied\":false}";
    jc_event_t a, b, c;
    assert_int_equal(parse_str(absent, &a, NULL), JC_OK);
    assert_int_equal(parse_str(nulls, &b, NULL), JC_OK);
    assert_false(a.u.petition.received_at.present);
    assert_int_equal(a.u.petition.satisfied, JC_NULL);
    assert_true(jc_event_equal(&a, &b));
    assert_int_equal(parse_str(set, &c, NULL), JC_OK);
    assert_true(c.u.petition.received_at.present);
    assert_int_equal(c.u.petition.received_at.ms, 1793491200000LL);
    assert_int_equal(c.u.petition.satisfied, 0);
    expect_parse_error("{\"type\":\"petition\",\"event_id\":\"" UUID "\",\"occurred_at\":0,"
                       "\"county_code\":1,\"source\":\"s\",\"petition_id\":\"P\","
                       "\"stage\":\"RECEIVED\",\"channel\":\"LETTER\",\"people\":1,"
                       "\"satisfied\":\"yes\"}", JC_ERR_BAD_FIELD, "satisfied");
}

static void negative_counts_are_left_to_validation(void **state)
{
    (void)state;
    jc_event_t ev;
    assert_int_equal(parse_visit_with("people_met", json_integer(-3), &ev, NULL), JC_OK);
    assert_int_equal(ev.u.visit.people_met, -3);
    assert_int_equal(parse_visit_with("deeds_done", json_integer(INT32_MIN), &ev, NULL), JC_OK);
    assert_int_equal(ev.u.visit.deeds_done, INT32_MIN);
}

static void missing_required_field(void **state)
{
    (void)state;
    visit_fails("village", NULL, JC_ERR_MISSING_FIELD, "village");
    visit_fails("event_id", NULL, JC_ERR_MISSING_FIELD, "event_id");
    visit_fails("stayed_overnight", NULL, JC_ERR_MISSING_FIELD, "stayed_overnight");
}

static void unknown_member(void **state)
{
    (void)state;
    visit_fails("housholds_visited", json_integer(1), JC_ERR_BAD_FIELD, "housholds_visited");
    visit_fails("received_at", json_null(), JC_ERR_BAD_FIELD, "received_at"); /* petition's */
}

static void wrong_json_type(void **state)
{
    (void)state;
    visit_fails("people_met", json_string("30"), JC_ERR_BAD_FIELD, "people_met");
    visit_fails("people_met", json_real(3.0), JC_ERR_BAD_FIELD, "integer");
    visit_fails("stayed_overnight", json_integer(1), JC_ERR_BAD_FIELD, "true or false");
    visit_fails("township", json_integer(7), JC_ERR_BAD_FIELD, "township");
    visit_fails("cadre_level", json_integer(3), JC_ERR_BAD_FIELD, "cadre_level");
    visit_fails("occurred_at", json_true(), JC_ERR_BAD_FIELD, "occurred_at");
    visit_fails("county_code", json_null(), JC_ERR_BAD_FIELD, "county_code");
    visit_fails("hours_on_site", json_null(), JC_ERR_BAD_FIELD, "hours_on_site");
}

static void bad_enum_symbol(void **state)
{
    (void)state;
    visit_fails("cadre_level", json_string("MAYOR"), JC_ERR_ENUM_RANGE, "MAYOR");
    visit_fails("cadre_level", json_string("township"), JC_ERR_ENUM_RANGE, "cadre_level");
}

static void string_too_long(void **state)
{
    (void)state;
    char id[JC_ID_MAX + 2];
    memset(id, 'x', sizeof id - 1);
    id[sizeof id - 1] = '\0';
    visit_fails("cadre_id", json_string(id), JC_ERR_TOO_LONG, "cadre_id");
    id[JC_ID_MAX] = '\0'; /* exactly the bound fits */
    jc_event_t ev;
    assert_int_equal(parse_visit_with("cadre_id", json_string(id), &ev, NULL), JC_OK);
    assert_int_equal(strlen(ev.u.visit.cadre_id), JC_ID_MAX);
    /* 43 three-byte characters are 129 bytes: over JC_TEXT_MAX though only 43 characters */
    char text[43 * 3 + 1] = "";
    for (int i = 0; i < 43; i++)
        strcat(text, "村");
    visit_fails("village", json_string(text), JC_ERR_TOO_LONG, "village");
    visit_fails("event_id", json_string(UUID "0"), JC_ERR_TOO_LONG, "event_id");
}

static void invalid_json(void **state)
{
    (void)state;
    expect_parse_error("{\"type\":\"visit\",", JC_ERR_PARSE, "column");
    expect_parse_error("", JC_ERR_PARSE, "invalid JSON");
    expect_parse_error("{\"type\":\"visit\"} x", JC_ERR_PARSE, "invalid JSON");
    expect_parse_error("{\"type\":\"visit\",\"type\":\"visit\"}", JC_ERR_PARSE, "duplicate");
    expect_parse_error("{\"type\":\"visit\",\"source\":\"\xff\"}", JC_ERR_PARSE, "invalid JSON");
    expect_parse_error("[1,2]", JC_ERR_BAD_FIELD, "object");
    jc_event_t ev;
    assert_int_equal(jc_ndjson_parse(NULL, 3, &ev, NULL), JC_ERR_INVALID_ARG);
}

static void missing_or_unknown_type(void **state)
{
    (void)state;
    visit_fails("type", NULL, JC_ERR_MISSING_FIELD, "type");
    visit_fails("type", json_string("inspection"), JC_ERR_BAD_FIELD, "inspection");
    visit_fails("type", json_integer(0), JC_ERR_BAD_FIELD, "type");
    /* a valid visit body under another type is full of unknown members */
    visit_fails("type", json_string("petition"), JC_ERR_BAD_FIELD, "unknown member");
}

static void bad_timestamp(void **state)
{
    (void)state;
    visit_fails("occurred_at", json_string("2026-11-03T09:15:00"), JC_ERR_BAD_FIELD,
                "occurred_at");
    visit_fails("occurred_at", json_string("2023-02-29T00:00:00Z"), JC_ERR_BAD_FIELD,
                "2023-02-29");
    visit_fails("occurred_at", json_real(1793668500250.0), JC_ERR_BAD_FIELD, "occurred_at");
}

static void int_out_of_int32_range(void **state)
{
    (void)state;
    visit_fails("households_visited", json_integer((json_int_t)INT32_MAX + 1), JC_ERR_BAD_FIELD,
                "households_visited");
    visit_fails("county_code", json_integer((json_int_t)INT32_MIN - 1), JC_ERR_BAD_FIELD,
                "county_code");
}

/* VISIT_LINE with the raw JSON text of village and of people_met given. */
static jc_status_t parse_visit_raw(const char *village, const char *people_met, jc_event_t *ev,
                                   jc_error_t *err)
{
    char line[1024];
    snprintf(line, sizeof line,
             "{\"type\":\"visit\",\"event_id\":\"" UUID "\",\"occurred_at\":\"" T_ISO "\","
             "\"county_code\":520111,\"source\":\"s\",\"cadre_id\":\"C-001\","
             "\"cadre_level\":\"TOWNSHIP\",\"township\":\"t\",\"village\":%s,"
             "\"households_visited\":12,\"people_met\":%s,\"deeds_done\":2,"
             "\"problems_solved\":1,\"stayed_overnight\":true}", village, people_met);
    return parse_str(line, ev, err);
}

static void raw_fails(const char *village, const char *people_met, jc_status_t code,
                      const char *needle)
{
    jc_event_t ev;
    jc_error_t err;
    jc_status_t st = parse_visit_raw(village, people_met, &ev, &err);
    if (st != code)
        fail_msg("village %s people_met %s: %s (%s), expected %s", village, people_met,
                 jc_status_name(st), st ? err.message : "", jc_status_name(code));
    if (strstr(err.message, needle) == NULL)
        fail_msg("message '%s' does not mention '%s'", err.message, needle);
}

/* An integer beyond 64 bits is a bad value of its field, said so, not a cancelled parse. */
static void int_out_of_int64_range(void **state)
{
    (void)state;
    raw_fails("\"v\"", "99999999999999999999", JC_ERR_BAD_FIELD, "people_met");
    raw_fails("\"v\"", "-99999999999999999999", JC_ERR_BAD_FIELD, "-99999999999999999999");
    raw_fails("\"v\"", "9223372036854775808", JC_ERR_BAD_FIELD, "outside the 32-bit");
    visit_fails("occurred_at", json_string("x"), JC_ERR_BAD_FIELD, "occurred_at");
    json_t *obj = json_loads(VISIT_LINE, 0, NULL);
    char *line = json_dumps(obj, JSON_COMPACT);
    char big[1024];
    const char *at = strstr(line, "\"occurred_at\":");
    assert_non_null(at);
    at += strlen("\"occurred_at\":");
    const char *after = strchr(at, ',');
    snprintf(big, sizeof big, "%.*s123456789012345678901234567890%s", (int)(at - line), line,
             after);
    expect_parse_error(big, JC_ERR_BAD_FIELD, "occurred_at");
    expect_parse_error(big, JC_ERR_BAD_FIELD, "123456789012345678901234567890");
    free(line);
    json_decref(obj);
    /* the most negative 64-bit integer is one */
    raw_fails("\"v\"", "-9223372036854775808", JC_ERR_BAD_FIELD, "outside the 32-bit");
}

/* A lone UTF-16 surrogate escape has no character: the line is rejected, not given a '?'. */
static void lone_surrogate_is_rejected(void **state)
{
    (void)state;
    raw_fails("\"\\ud800\"", "1", JC_ERR_PARSE, "surrogate");
    raw_fails("\"\\uDBFF\"", "1", JC_ERR_PARSE, "surrogate");
    raw_fails("\"\\udc00\"", "1", JC_ERR_PARSE, "surrogate");
    raw_fails("\"a\\ud800\\u0041\"", "1", JC_ERR_PARSE, "surrogate");
    raw_fails("\"a\\ud800\\ud800\\udc00\"", "1", JC_ERR_PARSE, "surrogate");
    raw_fails("\"a\\ude00\\ud83d\"", "1", JC_ERR_PARSE, "surrogate");
    expect_parse_error("{\"\\ud800\":1}", JC_ERR_PARSE, "surrogate"); /* in a key */
    raw_fails("{\"x\":\"\\ud800\"}", "1", JC_ERR_PARSE, "surrogate"); /* nested */
    jc_event_t ev;
    assert_int_equal(parse_visit_raw("\"\\ud83d\\ude00\\u6751\"", "1", &ev, NULL), JC_OK);
    assert_string_equal(ev.u.visit.village, "\xF0\x9F\x98\x80村"); /* a pair is a character */
    assert_int_equal(parse_visit_raw("\"\\\\ud800\"", "1", &ev, NULL), JC_OK);
    assert_string_equal(ev.u.visit.village, "\\ud800"); /* an escaped backslash, then text */
    assert_int_equal(parse_visit_raw("\"?\"", "1", &ev, NULL), JC_OK);
    assert_string_equal(ev.u.visit.village, "?");
}

/* A line that ends before its JSON value does says where: at its end. */
static void early_end_is_placed_at_the_end(void **state)
{
    (void)state;
    expect_parse_error("{\"type\":\"visit\",", JC_ERR_PARSE, "column 17");
    expect_parse_error("{\"type\":\"visit\",\"source\":\"abc", JC_ERR_PARSE, "column 30");
    expect_parse_error("{\"type\":\"visit\",\"source\":\"abc", JC_ERR_PARSE, "ends");
}

static void far_timestamps_are_written_as_epoch_ms(void **state)
{
    (void)state;
    /* local years 0000..9999 are ISO text; instants outside them are numbers */
    const int64_t last_iso = 253402271999999LL;
    const int64_t first_iso = -62167248000000LL; /* 0000-01-01T00:00:00+08:00 */
    const int64_t cases[] = {last_iso, last_iso + 1, INT64_MAX, INT64_MIN, first_iso,
                             first_iso - 1};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        jc_event_t in, out;
        jc_buf_t buf = {0};
        sample_visit(&in);
        in.occurred_at = cases[i];
        assert_int_equal(jc_ndjson_format(&in, &buf, NULL), JC_OK);
        bool iso = strstr((char *)buf.data, "\"occurred_at\":\"") != NULL;
        assert_int_equal(iso, i == 0 || i == 4);
        assert_int_equal(jc_ndjson_parse((char *)buf.data, buf.len, &out, NULL), JC_OK);
        assert_int_equal(out.occurred_at, cases[i]);
        jc_buf_free(&buf);
    }
}

static void format_errors_leave_buffer_unchanged(void **state)
{
    (void)state;
    jc_event_t ev;
    jc_buf_t buf = {0};
    jc_error_t err;
    assert_int_equal(jc_buf_append_str(&buf, "kept"), JC_OK);
    sample_visit(&ev);
    ev.u.visit.cadre_level = JC_CADRE_LEVEL_COUNT;
    assert_int_equal(jc_ndjson_format(&ev, &buf, &err), JC_ERR_ENUM_RANGE);
    assert_non_null(strstr(err.message, "cadre_level"));
    sample_visit(&ev);
    strcpy(ev.u.visit.village, "\xe6\x9d");
    assert_int_equal(jc_ndjson_format(&ev, &buf, &err), JC_ERR_BAD_UTF8);
    assert_non_null(strstr(err.message, "village"));
    sample_petition(&ev);
    ev.u.petition.satisfied = 5;
    assert_int_equal(jc_ndjson_format(&ev, &buf, &err), JC_ERR_BAD_FIELD);
    assert_non_null(strstr(err.message, "satisfied"));
    sample_visit(&ev);
    memset(ev.source, 'a', sizeof ev.source); /* no NUL within the buffer */
    assert_int_equal(jc_ndjson_format(&ev, &buf, &err), JC_ERR_TOO_LONG);
    ev.type = JC_EVENT_TYPE_COUNT;
    assert_int_equal(jc_ndjson_format(&ev, &buf, &err), JC_ERR_INVALID_ARG);
    assert_int_equal(buf.len, 4);
    assert_string_equal((char *)buf.data, "kept");
    jc_buf_free(&buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trips_every_type),
        cmocka_unit_test(format_layout_is_exact),
        cmocka_unit_test(epoch_ms_and_iso_are_equal),
        cmocka_unit_test(parses_line_fields),
        cmocka_unit_test(visit_without_hours_on_site_gets_default),
        cmocka_unit_test(revision_and_withdrawn),
        cmocka_unit_test(petition_nullables_may_be_null_or_absent),
        cmocka_unit_test(negative_counts_are_left_to_validation),
        cmocka_unit_test(missing_required_field),
        cmocka_unit_test(unknown_member),
        cmocka_unit_test(wrong_json_type),
        cmocka_unit_test(bad_enum_symbol),
        cmocka_unit_test(string_too_long),
        cmocka_unit_test(invalid_json),
        cmocka_unit_test(missing_or_unknown_type),
        cmocka_unit_test(bad_timestamp),
        cmocka_unit_test(int_out_of_int32_range),
        cmocka_unit_test(int_out_of_int64_range),
        cmocka_unit_test(lone_surrogate_is_rejected),
        cmocka_unit_test(early_end_is_placed_at_the_end),
        cmocka_unit_test(far_timestamps_are_written_as_epoch_ms),
        cmocka_unit_test(format_errors_leave_buffer_unchanged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
