/*
 * malformed.c: malformed records, each a real event with exactly one thing wrong (see
 * malformed.h).
 *
 * A record starts as a valid event rendered by the model. Faults that jc_event_t can hold (a
 * negative count, a foreign county code, a far-future occurred_at, an occurred_at in seconds
 * rather than milliseconds, before the contract's earliest time) are set in the event
 * before jc_ndjson_format writes it; faults it cannot hold (a missing member, an unknown
 * symbol or type, an over-long text) are made by editing the formatted object with jansson;
 * invalid JSON is the formatted line cut short at an ASCII byte (so the file stays UTF-8)
 * or followed by a stray brace. Only one field is broken, so the status the library reports
 * is the one gen_bad_status names: the others parse and validate.
 */
#include "malformed.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "jiceng/fields.h"
#include "jiceng/ndjson.h"

#define FUTURE_YEARS 100

static const struct {
    const char *name;
    jc_status_t status;
} kinds[GEN_BAD_KIND_COUNT] = {
    [GEN_BAD_JSON] = {"invalid_json", JC_ERR_PARSE},
    [GEN_BAD_MISSING_FIELD] = {"missing_field", JC_ERR_MISSING_FIELD},
    [GEN_BAD_NEGATIVE] = {"negative_count", JC_ERR_NEGATIVE_COUNT},
    [GEN_BAD_COUNTY] = {"unknown_county", JC_ERR_UNKNOWN_COUNTY},
    [GEN_BAD_ENUM] = {"unknown_symbol", JC_ERR_ENUM_RANGE},
    [GEN_BAD_TYPE] = {"unknown_type", JC_ERR_BAD_FIELD},
    [GEN_BAD_TOO_LONG] = {"text_too_long", JC_ERR_TOO_LONG},
    [GEN_BAD_FUTURE] = {"future_time", JC_ERR_FUTURE_TIME},
    [GEN_BAD_SECONDS] = {"time_in_seconds", JC_ERR_TOO_EARLY},
};

/* Per event type, what each fault breaks: required members to delete (never one the contract
 * lets a writer omit), an enum member and a symbol it does not have, a text member to make too
 * long, and a count member to make negative. One row per type: the assertion below and
 * fault_of() keep a type added without its row from passing silently. */
static const struct {
    const char *required[3];
    const char *enum_member, *bad_symbol, *text_member, *count_member;
} faults[] = {
    [JC_VISIT] = {{"cadre_id", "people_met", "occurred_at"}, "cadre_level", "MINISTERIAL", "village",
                  "people_met"},
    [JC_PETITION] = {{"petition_id", "stage", "county_code"}, "channel", "WECHAT", "source", "people"},
    [JC_DISASTER_RESPONSE] = {{"incident_id", "responders", "event_id"}, "hazard", "TSUNAMI", "source",
                              "injured"},
    [JC_TRAINING_COMPLETION] = {{"trainee_id", "hours", "source"}, "training_base", "BEIJING",
                                "programme", "hours"},
};
_Static_assert(sizeof faults / sizeof faults[0] == JC_EVENT_TYPE_COUNT,
               "malformed.c: one row of faults per event type");

static const char *const bad_types[] = {"inspection", "visits", "Visit", "meeting"};
static const int32_t bad_counties[] = {999999, 520100, 520000, 530102};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

jc_status_t gen_bad_status(gen_bad_kind_t kind)
{
    return kinds[kind].status;
}

const char *gen_bad_name(gen_bad_kind_t kind)
{
    return kinds[kind].name;
}

/* ---- faults set in the event ---- */

static void make_negative(jc_event_t *ev, gen_rng_t *rng)
{
    const jc_field_t *f = jc_event_field(ev->type, faults[ev->type].count_member);
    if (f == NULL || f->kind != JC_FIELD_COUNT)
        abort(); /* the faults table names a count member the type does not have */
    *(int32_t *)jc_field_ptr(ev, f) = -(int32_t)gen_rng_range(rng, 1, 20);
}

static void break_event(const gen_world_t *w, jc_event_t *ev, gen_bad_kind_t kind,
                        gen_rng_t *rng)
{
    if (kind == GEN_BAD_NEGATIVE)
        make_negative(ev, rng);
    else if (kind == GEN_BAD_COUNTY)
        ev->county_code = bad_counties[gen_rng_below(rng, ARRAY_LEN(bad_counties))];
    else if (kind == GEN_BAD_FUTURE)
        ev->occurred_at = w->end_ms + FUTURE_YEARS * 365 * GEN_DAY_MS +
                          (int64_t)gen_rng_below(rng, GEN_DAY_MS);
    else if (kind == GEN_BAD_SECONDS)
        ev->occurred_at /= 1000;
}

/* ---- faults made in the JSON ---- */

/* The text of member name repeated until it is longer than JC_TEXT_MAX bytes. */
static json_t *overlong_text(json_t *obj, const char *name)
{
    const char *s = json_string_value(json_object_get(obj, name));
    size_t len = s != NULL ? strlen(s) : 0;
    if (len == 0)
        return NULL;
    char text[2 * JC_TEXT_MAX + 2];
    size_t used = 0;
    while (used <= JC_TEXT_MAX) {
        memcpy(text + used, s, len < JC_TEXT_MAX ? len : JC_TEXT_MAX);
        used += len < JC_TEXT_MAX ? len : JC_TEXT_MAX;
    }
    return json_stringn(text, used);
}

static int edit_object(json_t *obj, jc_event_type_t type, gen_bad_kind_t kind, gen_rng_t *rng)
{
    switch (kind) {
    case GEN_BAD_MISSING_FIELD:
        return json_object_del(obj, faults[type].required[gen_rng_below(rng, 3)]);
    case GEN_BAD_ENUM:
        return json_object_set_new(obj, faults[type].enum_member, json_string(faults[type].bad_symbol));
    case GEN_BAD_TYPE: {
        const char *name = bad_types[gen_rng_below(rng, ARRAY_LEN(bad_types))];
        return json_object_set_new(obj, "type", json_string(name));
    }
    default: /* GEN_BAD_TOO_LONG */
        return json_object_set_new(obj, faults[type].text_member, overlong_text(obj, faults[type].text_member));
    }
}

/* Replace the valid line at out[start..] by the edited object. */
static jc_status_t edit_line(jc_buf_t *out, size_t start, jc_event_type_t type,
                             gen_bad_kind_t kind, gen_rng_t *rng, jc_error_t *err)
{
    json_error_t jerr;
    json_t *obj = json_loadb((const char *)out->data + start, out->len - start, 0, &jerr);
    if (obj == NULL)
        return jc_error_set(err, JC_ERR_MISMATCH, "a formatted line does not "
                            "parse: %s", jerr.text);
    char *text = edit_object(obj, type, kind, rng) == 0 ? json_dumps(obj, JSON_COMPACT) : NULL;
    json_decref(obj);
    if (text == NULL)
        return jc_error_set(err, JC_ERR_NOMEM, "out of memory editing a line");
    out->len = start;
    jc_status_t st = jc_buf_append_str(out, text);
    free(text);
    if (st == JC_OK)
        st = jc_buf_append(out, "\n", 1);
    return st != JC_OK ? jc_error_set(err, st, "out of memory") : JC_OK;
}

/* Cut the line at out[start..] short at an ASCII byte, or add a stray brace after it. */
static jc_status_t spoil_json(jc_buf_t *out, size_t start, gen_rng_t *rng, jc_error_t *err)
{
    size_t len = out->len - start - 1; /* without the newline */
    out->len = start + len;
    if (gen_rng_chance(rng, 0.3)) {
        if (jc_buf_append(out, "}\n", 2) != JC_OK)
            return jc_error_set(err, JC_ERR_NOMEM, "out of memory");
        return JC_OK;
    }
    size_t cut = len / 3 + (size_t)gen_rng_below(rng, len / 2);
    while (cut > 1 && out->data[start + cut] >= 0x80)
        cut--;
    out->len = start + cut;
    return jc_buf_append(out, "\n", 1) == JC_OK
               ? JC_OK
               : jc_error_set(err, JC_ERR_NOMEM, "out of memory");
}

jc_status_t gen_bad_line(const gen_world_t *w, const gen_event_t *e, gen_bad_kind_t kind,
                         gen_rng_t *rng, jc_buf_t *out, jc_error_t *err)
{
    gen_event_t fresh = *e;
    fresh.id_bits = gen_rng_next(rng);
    fresh.id_ms = fresh.at;
    fresh.revision = 0; /* a fresh event, even when its template is a correction */
    fresh.withdrawn = 0;
    jc_event_t ev;
    gen_render(w, &fresh, &ev);
    break_event(w, &ev, kind, rng);
    size_t start = out->len;
    jc_status_t st = jc_ndjson_format(&ev, out, err);
    if (st != JC_OK)
        return st;
    switch (kind) {
    case GEN_BAD_JSON:
        return spoil_json(out, start, rng, err);
    case GEN_BAD_MISSING_FIELD:
    case GEN_BAD_ENUM:
    case GEN_BAD_TYPE:
    case GEN_BAD_TOO_LONG:
        return edit_line(out, start, ev.type, kind, rng, err);
    default:
        return JC_OK;
    }
}
