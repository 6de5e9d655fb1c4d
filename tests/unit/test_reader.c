/*
 * test_reader.c: input records to events (jiceng/reader.h): jc_field_from_text for every field
 * kind and its errors; CSV read the same way as NDJSON (many sample events of all four types,
 * each written as an NDJSON line and as a CSV row, must parse to equal events); CSV quoting,
 * CRLF, multi-line cells, optional columns, header errors, syntax errors and short rows, each
 * returned as a record with its line and text and followed by the next good row; NDJSON line
 * numbers across blank lines; the envelope's revision and withdrawn in both formats: present,
 * absent or empty (0 and false), or bad (an error naming the field, on its line).
 */
#include "testenv.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jiceng/buf.h"
#include "jiceng/fields.h"
#include "jiceng/jtime.h"
#include "jiceng/ndjson.h"
#include "jiceng/reader.h"
#include "samples.h"

#define UUID "0190a6b8-7c3e-7d2a-9f41-3b5c2e8d1a07"

/* ---- jc_field_from_text ---- */

static void set_text(jc_event_t *ev, const char *name, const char *text, jc_status_t want)
{
    jc_error_t err;
    const jc_field_t *f = jc_event_field(ev->type, name);
    assert_non_null(f);
    jc_status_t st = jc_field_from_text(ev, f, text, &err);
    if (st != want)
        fail_msg("%s <- '%s': %s, expected %s (%s)", name, text, jc_status_name(st),
                 jc_status_name(want), st ? err.message : "");
    if (st != JC_OK)
        assert_non_null(strstr(err.message, name));
}

static void text_of_every_kind(void **state)
{
    (void)state;
    jc_event_t ev;
    jc_event_init(&ev, JC_VISIT);
    set_text(&ev, "event_id", UUID, JC_OK);
    assert_string_equal(ev.event_id, UUID);
    set_text(&ev, "source", "花溪区网格系统", JC_OK);
    assert_string_equal(ev.source, "花溪区网格系统");
    set_text(&ev, "occurred_at", "2026-11-03T09:15:00.250+08:00", JC_OK);
    assert_int_equal(ev.occurred_at, 1793668500250LL);
    set_text(&ev, "occurred_at", "1793668500251", JC_OK);
    assert_int_equal(ev.occurred_at, 1793668500251LL);
    set_text(&ev, "occurred_at", "yesterday", JC_ERR_BAD_FIELD);
    set_text(&ev, "county_code", "520111", JC_OK);
    assert_int_equal(ev.county_code, 520111);
    set_text(&ev, "people_met", "-3", JC_OK); /* parses; validation rejects it */
    assert_int_equal(ev.u.visit.people_met, -3);
    set_text(&ev, "people_met", "1.5", JC_ERR_BAD_FIELD);
    set_text(&ev, "people_met", "", JC_ERR_BAD_FIELD);
    set_text(&ev, "people_met", "99999999999", JC_ERR_BAD_FIELD);
    set_text(&ev, "stayed_overnight", "true", JC_OK);
    assert_true(ev.u.visit.stayed_overnight);
    set_text(&ev, "stayed_overnight", "false", JC_OK);
    assert_false(ev.u.visit.stayed_overnight);
    set_text(&ev, "stayed_overnight", "yes", JC_ERR_BAD_FIELD);
    set_text(&ev, "revision", "3", JC_OK);
    assert_int_equal(ev.revision, 3);
    set_text(&ev, "revision", "three", JC_ERR_BAD_FIELD);
    set_text(&ev, "withdrawn", "true", JC_OK);
    assert_true(ev.withdrawn);
    set_text(&ev, "withdrawn", "1", JC_ERR_BAD_FIELD);
    set_text(&ev, "cadre_level", "TOWNSHIP", JC_OK);
    assert_int_equal(ev.u.visit.cadre_level, JC_CADRE_TOWNSHIP);
    set_text(&ev, "cadre_level", "township", JC_ERR_ENUM_RANGE);
    char long_id[JC_ID_MAX + 2];
    memset(long_id, 'x', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    set_text(&ev, "cadre_id", long_id, JC_ERR_TOO_LONG);
    long_id[JC_ID_MAX] = '\0';
    set_text(&ev, "cadre_id", long_id, JC_OK);

    jc_event_init(&ev, JC_PETITION);
    set_text(&ev, "received_at", "", JC_OK);
    assert_false(ev.u.petition.received_at.present);
    set_text(&ev, "received_at", "2026-11-03T01:15:00Z", JC_OK);
    assert_true(ev.u.petition.received_at.present);
    assert_int_equal(ev.u.petition.received_at.ms, 1793668500000LL);
    set_text(&ev, "received_at", "null", JC_OK);
    assert_false(ev.u.petition.received_at.present);
    set_text(&ev, "satisfied", "true", JC_OK);
    assert_int_equal(ev.u.petition.satisfied, 1);
    set_text(&ev, "satisfied", "", JC_OK);
    assert_int_equal(ev.u.petition.satisfied, JC_NULL);
    set_text(&ev, "satisfied", "maybe", JC_ERR_BAD_FIELD);
}

/* ---- CSV read like NDJSON ---- */

/* Append s as a quoted CSV cell. */
static void csv_cell(jc_buf_t *out, const char *s, bool first)
{
    if (!first)
        jc_buf_append_str(out, ",");
    jc_buf_append_str(out, "\"");
    for (; *s; s++) {
        if (*s == '"')
            jc_buf_append_str(out, "\"\"");
        else
            jc_buf_append(out, s, 1);
    }
    jc_buf_append_str(out, "\"");
}

/* The text of a JSON member as a CSV cell spells it. */
static void cell_text(json_t *v, char *buf, size_t len)
{
    if (json_is_string(v))
        snprintf(buf, len, "%s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(buf, len, "%lld", (long long)json_integer_value(v));
    else if (json_is_boolean(v))
        snprintf(buf, len, "%s", json_is_true(v) ? "true" : "false");
    else
        buf[0] = '\0'; /* null */
}

/* An NDJSON line as a CSV header row and data row (type member dropped). */
static void ndjson_to_csv(const char *line, jc_buf_t *out)
{
    json_t *obj = json_loads(line, 0, NULL);
    assert_non_null(obj);
    const char *key;
    json_t *v;
    bool first = true;
    json_object_foreach(obj, key, v) {
        if (strcmp(key, "type") != 0) {
            csv_cell(out, key, first);
            first = false;
        }
    }
    jc_buf_append_str(out, "\r\n");
    first = true;
    json_object_foreach(obj, key, v) {
        if (strcmp(key, "type") != 0) {
            char text[512];
            cell_text(v, text, sizeof text);
            csv_cell(out, text, first);
            first = false;
        }
    }
    jc_buf_append_str(out, "\r\n");
    json_decref(obj);
}

static jc_reader_t *reader_on(const char *text, jc_format_t format, jc_event_type_t type,
                              FILE **f)
{
    *f = fmemopen((void *)text, strlen(text), "r");
    assert_non_null(*f);
    jc_reader_t *r = jc_reader_new(*f, format, type, NULL);
    assert_non_null(r);
    return r;
}

static void csv_and_ndjson_give_equal_events(void **state)
{
    (void)state;
    int64_t now = jc_now_ms();
    for (int t = 0; t < JC_EVENT_TYPE_COUNT; t++) {
        for (uint32_t seed = 0; seed < 60; seed++) {
            jc_event_t sample, from_json, from_csv;
            jc_test_sample(&sample, (jc_event_type_t)t, seed * 7919u, now);
            jc_buf_t line = {0}, csv = {0};
            assert_int_equal(jc_ndjson_format(&sample, &line, NULL), JC_OK);
            assert_int_equal(jc_ndjson_parse((char *)line.data, line.len - 1, &from_json, NULL),
                             JC_OK);
            ndjson_to_csv((char *)line.data, &csv);
            FILE *f;
            jc_reader_t *r = reader_on((char *)csv.data, JC_FORMAT_CSV, (jc_event_type_t)t, &f);
            jc_record_t rec;
            jc_status_t st;
            jc_error_t err;
            assert_true(jc_reader_next(r, &rec, &from_csv, &st, &err));
            if (st != JC_OK)
                fail_msg("%s: %s\n%s", jc_status_name(st), err.message, (char *)csv.data);
            assert_true(jc_event_equal(&from_json, &from_csv));
            assert_true(jc_event_equal(&sample, &from_csv));
            assert_int_equal(rec.line, 2);
            assert_false(jc_reader_next(r, &rec, &from_csv, &st, &err));
            assert_int_equal(st, JC_OK);
            jc_reader_free(r);
            fclose(f);
            jc_buf_free(&line);
            jc_buf_free(&csv);
        }
    }
}

/* ---- CSV details ---- */

struct expect {
    long line;
    jc_status_t status;
    const char *text; /* the record's text, or NULL not to check */
    const char *reason; /* a part of the failure's message, or NULL not to check */
};

static void read_all(const char *input, jc_format_t format, jc_event_type_t type,
                     const struct expect *want, size_t n, jc_event_t *last_ok)
{
    FILE *f;
    jc_reader_t *r = reader_on(input, format, type, &f);
    jc_record_t rec;
    jc_event_t ev;
    jc_status_t st;
    jc_error_t err;
    size_t i = 0;
    while (jc_reader_next(r, &rec, &ev, &st, &err)) {
        if (i == n)
            fail_msg("unexpected record at line %ld: %s", rec.line, rec.text);
        if (rec.line != want[i].line || st != want[i].status)
            fail_msg("record %zu: line %ld %s (%s), expected line %ld %s", i, rec.line,
                     jc_status_name(st), st ? err.message : "", want[i].line,
                     jc_status_name(want[i].status));
        if (want[i].text != NULL)
            assert_string_equal(rec.text, want[i].text);
        if (want[i].reason != NULL && strstr(err.message, want[i].reason) == NULL)
            fail_msg("record %zu (line %ld): '%s' lacks '%s'", i, rec.line, err.message,
                     want[i].reason);
        assert_int_equal(rec.len, strlen(rec.text));
        if (st == JC_OK && last_ok != NULL)
            *last_ok = ev;
        i++;
    }
    assert_int_equal(st, JC_OK);
    assert_int_equal(i, n);
    jc_reader_free(r);
    fclose(f);
}

#define VISIT_HEADER                                                                          \
    "event_id,occurred_at,county_code,source,cadre_id,cadre_level,township,village,"          \
    "households_visited,people_met,deeds_done,problems_solved,stayed_overnight"
#define VISIT_ROW(id, village) UUID ",1793668500250,520111,src," id ",TOWNSHIP,t," village     \
    ",1,2,3,4,false"

static void csv_quoting_crlf_multiline_and_defaults(void **state)
{
    (void)state;
    const char *input = VISIT_HEADER "\r\n"
                        "\r\n"
                        VISIT_ROW("C-1", "\"a, \"\"quoted\"\" village\"") "\r\n"
                        VISIT_ROW("C-2", "\"two\nline\"") "\n"
                        "   \n"
                        VISIT_ROW("C-3", "plain"); /* no final line break */
    struct expect want[] = {
        {3, JC_OK, VISIT_ROW("C-1", "\"a, \"\"quoted\"\" village\""), NULL},
        {4, JC_OK, VISIT_ROW("C-2", "\"two\nline\""), NULL},
        {7, JC_OK, VISIT_ROW("C-3", "plain"), NULL},
    };
    jc_event_t last;
    read_all(input, JC_FORMAT_CSV, JC_VISIT, want, 3, &last);
    assert_string_equal(last.u.visit.village, "plain");
    assert_int_equal(last.u.visit.problems_solved, 4);
    assert_int_equal(last.u.visit.hours_on_site, 0); /* v2 default: the column may be left out */

    const char *quoted = VISIT_HEADER ",hours_on_site\n" VISIT_ROW("C-1", "\"a,b\"") ",5\n"
                         VISIT_ROW("C-2", "v") ",\n";
    struct expect want2[] = {{2, JC_OK, NULL, NULL}, {3, JC_OK, NULL, NULL}};
    read_all(quoted, JC_FORMAT_CSV, JC_VISIT, want2, 2, &last);
    assert_int_equal(last.u.visit.hours_on_site, 0); /* empty cell: the default */
}

/* revision and withdrawn: optional columns and members; an empty cell is the default; a bad
 * value is a failed record on its own line whose reason names the field. */
static void revision_and_withdrawn_in_csv_and_ndjson(void **state)
{
    (void)state;
#define REVISION_ROWS VISIT_HEADER ",revision,withdrawn\n" VISIT_ROW("C-1", "v") ",2,true\n"
    const char *csv = REVISION_ROWS VISIT_ROW("C-2", "v") ",,\n"
                      VISIT_ROW("C-3", "v") ",x,false\n"
                      VISIT_ROW("C-4", "v") ",1,yes\n"
                      VISIT_ROW("C-5", "v") ",-1,false\n";
    struct expect want[] = {
        {2, JC_OK, NULL, NULL},
        {3, JC_OK, NULL, NULL},
        {4, JC_ERR_BAD_FIELD, VISIT_ROW("C-3", "v") ",x,false", "field 'revision' must be"},
        {5, JC_ERR_BAD_FIELD, NULL, "field 'withdrawn' must be true or false, not 'yes'"},
        {6, JC_OK, NULL, NULL}, /* parses; validation rejects a negative revision */
    };
    jc_event_t ev;
    read_all(REVISION_ROWS, JC_FORMAT_CSV, JC_VISIT, want, 1, &ev);
    assert_int_equal(ev.revision, 2);
    assert_true(ev.withdrawn);
    read_all(REVISION_ROWS VISIT_ROW("C-2", "v") ",,\n", JC_FORMAT_CSV, JC_VISIT, want, 2, &ev);
    assert_int_equal(ev.revision, 0); /* empty cells: the defaults */
    assert_false(ev.withdrawn);
    read_all(csv, JC_FORMAT_CSV, JC_VISIT, want, 5, &ev);
    assert_int_equal(ev.revision, -1);
#define REVISED_VISIT(revision)                                                               \
    "{\"type\":\"visit\",\"event_id\":\"" UUID "\",\"occurred_at\":1793668500250,"               \
    "\"county_code\":520111,\"source\":\"s\",\"revision\":" revision ",\"withdrawn\":true,"     \
    "\"cadre_id\":\"C\",\"cadre_level\":\"COUNTY\",\"township\":\"t\",\"village\":\"v\","         \
    "\"households_visited\":1,\"people_met\":2,\"deeds_done\":0,\"problems_solved\":0,"        \
    "\"stayed_overnight\":false}\n"
    const char *ndjson = REVISED_VISIT("1") "\n" REVISED_VISIT("\"2\"");
#undef REVISED_VISIT
    struct expect want_nd[] = {
        {1, JC_OK, NULL, NULL},
        {3, JC_ERR_BAD_FIELD, NULL, "field 'revision' must be an integer"},
    };
    read_all(ndjson, JC_FORMAT_NDJSON, JC_VISIT, want_nd, 2, &ev);
    assert_int_equal(ev.revision, 1);
    assert_true(ev.withdrawn);
#undef REVISION_ROWS
}

static void csv_petition_nullable_columns_may_be_absent_or_empty(void **state)
{
    (void)state;
    const char *input = "event_id,occurred_at,county_code,source,petition_id,stage,channel,people\n"
                        UUID ",2026-11-03T09:15:00+08:00,520111,s,P-1,RECEIVED,LETTER,2\n";
    jc_event_t ev;
    struct expect want[] = {{2, JC_OK, NULL, NULL}};
    read_all(input, JC_FORMAT_CSV, JC_PETITION, want, 1, &ev);
    assert_false(ev.u.petition.received_at.present);
    assert_int_equal(ev.u.petition.satisfied, JC_NULL);
    const char *with = "event_id,occurred_at,county_code,source,petition_id,stage,channel,people,"
                       "received_at,satisfied\n" UUID ",2026-11-03T09:15:00+08:00,520111,s,P-1,"
                       "FOLLOWED_UP,LETTER,2,2026-11-01T09:00:00+08:00,\n";
    read_all(with, JC_FORMAT_CSV, JC_PETITION, want, 1, &ev);
    assert_true(ev.u.petition.received_at.present);
    assert_int_equal(ev.u.petition.satisfied, JC_NULL);
}

static void csv_bad_rows_are_records_and_reading_goes_on(void **state)
{
    (void)state;
    const char *input = VISIT_HEADER "\n"
                        VISIT_ROW("C-1", "v") ",extra\n"        /* too many cells */
                        VISIT_ROW("C-2", "bad\"quote") "\n"     /* syntax error */
                        VISIT_ROW("C-3", "v") "\n"
                        "a,b\n"                                   /* too few cells */
                        UUID ",1793668500250,520111,src,C-5,GENERAL,t,v,1,2,3,4,false\n"
                        VISIT_ROW("C-6", "\"never closed") "\n";
    struct expect want[] = {
        {2, JC_ERR_PARSE, VISIT_ROW("C-1", "v") ",extra", NULL},
        {3, JC_ERR_PARSE, VISIT_ROW("C-2", "bad\"quote"), NULL},
        {4, JC_OK, NULL, NULL},
        {5, JC_ERR_PARSE, "a,b", NULL},
        {6, JC_ERR_ENUM_RANGE, NULL, NULL},
        {7, JC_ERR_PARSE, VISIT_ROW("C-6", "\"never closed"), "unclosed quote"},
    };
    read_all(input, JC_FORMAT_CSV, JC_VISIT, want, 6, NULL);
}

/* A quote left open is one reject, its line alone; the rows after it are read as rows, also
 * when one of them quotes a cell (which would otherwise close the open quote and fail), when
 * two open quotes follow each other, and when the open quote runs to the end of the input. */
static void csv_unclosed_quote_is_its_line_and_reading_resynchronises(void **state)
{
    (void)state;
    const char *input = VISIT_HEADER "\n"
                        VISIT_ROW("C-1", "\"never closed") "\n"
                        VISIT_ROW("C-2", "v") "\n"
                        VISIT_ROW("C-3", "\"a, b\"") "\n"
                        VISIT_ROW("C-4", "\"open again") "\n"
                        VISIT_ROW("C-5", "\"and again") "\r\n"
                        VISIT_ROW("C-6", "\"two\nline\"") "\n"
                        VISIT_ROW("C-7", "v") "\n"
                        VISIT_ROW("C-8", "\"open to the end") "\n"
                        VISIT_ROW("C-9", "v") "\n"
                        "\n"
                        VISIT_ROW("C-10", "v") "\n";
    struct expect want[] = {
        {2, JC_ERR_PARSE, VISIT_ROW("C-1", "\"never closed"), "unclosed quote"},
        {3, JC_OK, VISIT_ROW("C-2", "v"), NULL},
        {4, JC_OK, VISIT_ROW("C-3", "\"a, b\""), NULL},
        {5, JC_ERR_PARSE, VISIT_ROW("C-4", "\"open again"), "unclosed quote"},
        {6, JC_ERR_PARSE, VISIT_ROW("C-5", "\"and again"), "unclosed quote"},
        {7, JC_OK, VISIT_ROW("C-6", "\"two\nline\""), NULL},
        {9, JC_OK, VISIT_ROW("C-7", "v"), NULL},
        {10, JC_ERR_PARSE, VISIT_ROW("C-8", "\"open to the end"), "unclosed quote"},
        {11, JC_OK, VISIT_ROW("C-9", "v"), NULL},
        {13, JC_OK, VISIT_ROW("C-10", "v"), NULL},
    };
    read_all(input, JC_FORMAT_CSV, JC_VISIT, want, sizeof want / sizeof want[0], NULL);
}

/* A UTF-8 byte-order mark before the header (as spreadsheet programs write it) is not part of
 * the first column's name; before an NDJSON line it is not part of the JSON. */
static void byte_order_mark_is_skipped(void **state)
{
    (void)state;
    const char *csv = "\xEF\xBB\xBF" VISIT_HEADER "\r\n" VISIT_ROW("C-1", "v") "\r\n";
    struct expect want[] = {{2, JC_OK, VISIT_ROW("C-1", "v"), NULL}};
    jc_event_t ev;
    read_all(csv, JC_FORMAT_CSV, JC_VISIT, want, 1, &ev);
    assert_string_equal(ev.event_id, UUID);

    jc_event_t sample;
    jc_test_sample(&sample, JC_PETITION, 7, jc_now_ms());
    jc_buf_t line = {0};
    jc_buf_append_str(&line, "\xEF\xBB\xBF");
    assert_int_equal(jc_ndjson_format(&sample, &line, NULL), JC_OK);
    struct expect want2[] = {{1, JC_OK, (char *)line.data + 3, NULL}};
    line.data[--line.len] = '\0';
    read_all((char *)line.data, JC_FORMAT_NDJSON, JC_VISIT, want2, 1, &ev);
    assert_true(jc_event_equal(&ev, &sample));
    /* only at the start of the input: elsewhere it is the line's text, and not JSON */
    jc_buf_t two = {0};
    jc_buf_append(&two, line.data + 3, line.len - 3);
    jc_buf_append_str(&two, "\n");
    jc_buf_append(&two, line.data, line.len);
    struct expect want3[] = {{1, JC_OK, NULL, NULL}, {2, JC_ERR_PARSE, (char *)line.data, NULL}};
    read_all((char *)two.data, JC_FORMAT_NDJSON, JC_VISIT, want3, 2, NULL);
    jc_buf_free(&line);
    jc_buf_free(&two);
}

static void csv_header_errors_reject_every_row(void **state)
{
    (void)state;
    const char *unknown = VISIT_HEADER ",colour\n" VISIT_ROW("C-1", "v") ",red\n"
                          VISIT_ROW("C-2", "v") ",blue\n";
    struct expect want[] = {{2, JC_ERR_BAD_FIELD, NULL, NULL}, {3, JC_ERR_BAD_FIELD, NULL, NULL}};
    read_all(unknown, JC_FORMAT_CSV, JC_VISIT, want, 2, NULL);
    const char *missing = "event_id,occurred_at\n" UUID ",1\n";
    struct expect want2[] = {{2, JC_ERR_MISSING_FIELD, UUID ",1", NULL}};
    read_all(missing, JC_FORMAT_CSV, JC_VISIT, want2, 1, NULL);
    const char *twice = VISIT_HEADER ",village\n" VISIT_ROW("C-1", "v") ",w\n";
    struct expect want3[] = {{2, JC_ERR_BAD_FIELD, NULL, NULL}};
    read_all(twice, JC_FORMAT_CSV, JC_VISIT, want3, 1, NULL);
    read_all(VISIT_HEADER "\n", JC_FORMAT_CSV, JC_VISIT, NULL, 0, NULL); /* header only */
    read_all("", JC_FORMAT_CSV, JC_VISIT, NULL, 0, NULL);
}

static void ndjson_lines_keep_their_numbers(void **state)
{
    (void)state;
    jc_event_t sample;
    jc_test_sample(&sample, JC_TRAINING_COMPLETION, 42, jc_now_ms());
    jc_buf_t line = {0};
    assert_int_equal(jc_ndjson_format(&sample, &line, NULL), JC_OK);
    line.data[--line.len] = '\0'; /* without its newline */
    char input[4096];
    snprintf(input, sizeof input, "\n%s\r\n  \nnot json\n%s", (char *)line.data,
             (char *)line.data);
    struct expect want[] = {
        {2, JC_OK, (char *)line.data, NULL},
        {4, JC_ERR_PARSE, "not json", NULL},
        {5, JC_OK, (char *)line.data, NULL},
    };
    jc_event_t ev;
    read_all(input, JC_FORMAT_NDJSON, JC_VISIT, want, 3, &ev);
    assert_true(jc_event_equal(&ev, &sample));
    jc_buf_free(&line);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(text_of_every_kind),
        cmocka_unit_test(csv_and_ndjson_give_equal_events),
        cmocka_unit_test(csv_quoting_crlf_multiline_and_defaults),
        cmocka_unit_test(revision_and_withdrawn_in_csv_and_ndjson),
        cmocka_unit_test(csv_petition_nullable_columns_may_be_absent_or_empty),
        cmocka_unit_test(csv_bad_rows_are_records_and_reading_goes_on),
        cmocka_unit_test(csv_unclosed_quote_is_its_line_and_reading_resynchronises),
        cmocka_unit_test(byte_order_mark_is_skipped),
        cmocka_unit_test(csv_header_errors_reject_every_row),
        cmocka_unit_test(ndjson_lines_keep_their_numbers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
