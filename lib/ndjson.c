/*
 * ndjson.c: events as NDJSON lines (jiceng/ndjson.h), by walking the field table.
 *
 * Parsing: jansson reads the line (duplicate keys rejected), "type" picks the event type and
 * jc_event_init resets the event to that type's empty value with schema defaults applied. Every
 * other member must name a field of the type; then each field of the table is read from its
 * member by the field's kind. A field may be omitted only if it is optional, which is decided
 * from the schemas rather than spelt out here: nullable kinds (JC_FIELD_OPT_*) are optional,
 * and so is any field to which the newest Avro schema of the type gives a "default" (today
 * visit.hours_on_site, added in v2), since an Avro reader fills such a field in when a writer
 * left it out. That set is computed once per process from the catalog (jc_catalog_latest) and
 * kept as a bit mask per type. On failure ev holds whatever was read so far.
 *
 * Formatting: a jansson object is built in table order with "type" first, timestamps as
 * jc_time_format text and nulls as null, and dumped compactly straight into the caller's
 * buffer, non-ASCII text left as UTF-8. A timestamp whose Shanghai year has no four-digit
 * ISO form (before 0000 or after 9999) is written as epoch milliseconds, which parsing also
 * accepts, so every value survives a format/parse round trip.
 */
#include "jiceng/ndjson.h"

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "jiceng/catalog.h"
#include "jiceng/fields.h"
#include "jiceng/jtime.h"

#define TIME_TEXT_MAX 40
/* The instants whose Shanghai local time lies in years 0000..9999, the range the ISO form
 * YYYY can express: 0000-01-01 is day -719528 and 10000-01-01 is day 2932897. */
#define ISO_MIN_MS (-719528LL * JC_DAY_MS - JC_SHANGHAI_OFFSET_MS)
#define ISO_END_MS (2932897LL * JC_DAY_MS - JC_SHANGHAI_OFFSET_MS)

/* ---- which fields may be omitted ---- */

static pthread_once_t optional_once = PTHREAD_ONCE_INIT;
static uint64_t optional_mask[JC_EVENT_TYPE_COUNT]; /* bit i: field i of the table */
static jc_error_t optional_err;                     /* why the masks could not be computed */

/* The "fields" array of a schema's JSON text, or NULL. */
static json_t *schema_fields(json_t *schema)
{
    json_t *fields = json_object_get(schema, "fields");
    return json_is_array(fields) ? fields : NULL;
}

/* 1 if the schema's field called name declares a default. */
static bool schema_has_default(json_t *fields, const char *name)
{
    size_t i;
    json_t *fj;
    json_array_foreach(fields, i, fj) {
        const char *n = json_string_value(json_object_get(fj, "name"));
        if (n != NULL && strcmp(n, name) == 0)
            return json_object_get(fj, "default") != NULL;
    }
    return false;
}

static jc_status_t compute_optional_mask(jc_event_type_t type)
{
    const jc_schema_info_t *info = jc_catalog_latest(type);
    if (info == NULL)
        return jc_error_set(&optional_err, JC_ERR_UNKNOWN_SCHEMA,
                            "no schema for event type %s", jc_event_type_name(type));
    json_error_t jerr;
    json_t *schema = json_loads(info->json, 0, &jerr);
    json_t *fields = schema_fields(schema);
    if (fields == NULL) {
        json_decref(schema);
        return jc_error_set(&optional_err, JC_ERR_PARSE, "schema %s has no fields array",
                            info->file);
    }
    size_t n;
    const jc_field_t *f = jc_event_fields(type, &n);
    for (size_t i = 0; i < n && i < 64; i++)
        if (f[i].kind == JC_FIELD_OPT_TIMESTAMP || f[i].kind == JC_FIELD_OPT_BOOL ||
            schema_has_default(fields, f[i].name))
            optional_mask[type] |= UINT64_C(1) << i;
    json_decref(schema);
    return JC_OK;
}

static void compute_optional_masks(void)
{
    if (jc_catalog_init(&optional_err) != JC_OK)
        return;
    for (int t = 0; t < JC_EVENT_TYPE_COUNT; t++)
        if (compute_optional_mask((jc_event_type_t)t) != JC_OK)
            return;
}

/* Make sure the masks are known; the catalog's error if they cannot be. */
static jc_status_t optional_masks_ready(jc_error_t *err)
{
    pthread_once(&optional_once, compute_optional_masks);
    if (optional_err.code != JC_OK)
        return jc_error_set(err, optional_err.code, "ndjson: %s", optional_err.message);
    return JC_OK;
}

static bool field_optional(jc_event_type_t type, size_t index)
{
    return index < 64 && (optional_mask[type] >> index & 1) != 0;
}

/* ---- parsing ---- */

static const char *json_kind_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a real number";
    case JSON_TRUE: return "true";
    case JSON_FALSE: return "false";
    case JSON_NULL: return "null";
    }
    return "something else";
}

static jc_status_t wrong_type(const jc_field_t *f, const json_t *v, const char *expected,
                              jc_error_t *err)
{
    return jc_error_set(err, JC_ERR_BAD_FIELD, "field '%s' must be %s, not %s", f->name,
                        expected, json_kind_name(v));
}

static jc_status_t read_string(const jc_field_t *f, const json_t *v, char *dst, jc_error_t *err)
{
    if (!json_is_string(v))
        return wrong_type(f, v, "a string", err);
    size_t len = json_string_length(v);
    if (len > f->size - 1)
        return jc_error_set(err, JC_ERR_TOO_LONG, "field '%s' is %zu bytes, longer than %zu",
                            f->name, len, f->size - 1);
    memcpy(dst, json_string_value(v), len + 1);
    return JC_OK;
}

static jc_status_t read_timestamp(const jc_field_t *f, const json_t *v, int64_t *dst,
                                  jc_error_t *err)
{
    if (json_is_integer(v)) {
        *dst = (int64_t)json_integer_value(v);
        return JC_OK;
    }
    if (!json_is_string(v))
        return wrong_type(f, v, "an ISO-8601 string or epoch milliseconds", err);
    jc_error_t terr;
    if (jc_time_parse(json_string_value(v), dst, &terr) != JC_OK)
        return jc_error_set(err, terr.code, "field '%s': %s", f->name, terr.message);
    return JC_OK;
}

static jc_status_t read_int32(const jc_field_t *f, const json_t *v, int32_t *dst,
                              jc_error_t *err)
{
    if (!json_is_integer(v))
        return wrong_type(f, v, "an integer", err);
    json_int_t n = json_integer_value(v);
    if (n < INT32_MIN || n > INT32_MAX)
        return jc_error_set(err, JC_ERR_BAD_FIELD, "field '%s' value %lld is outside the "
                            "32-bit integer range", f->name, (long long)n);
    *dst = (int32_t)n;
    return JC_OK;
}

static jc_status_t read_enum(const jc_field_t *f, const json_t *v, int32_t *dst,
                             jc_error_t *err)
{
    if (!json_is_string(v))
        return wrong_type(f, v, "a symbol string", err);
    int i = jc_field_symbol_index(f, json_string_value(v));
    if (i < 0)
        return jc_error_set(err, JC_ERR_ENUM_RANGE, "field '%s': '%.64s' is not one of its "
                            "symbols", f->name, json_string_value(v));
    *dst = i;
    return JC_OK;
}

/* Read member v (never NULL; maybe JSON null) into field f of ev. */
static jc_status_t read_field(const jc_field_t *f, const json_t *v, jc_event_t *ev,
                              jc_error_t *err)
{
    void *dst = jc_field_ptr(ev, f);
    switch (f->kind) {
    case JC_FIELD_UUID:
    case JC_FIELD_STRING:
        return read_string(f, v, dst, err);
    case JC_FIELD_TIMESTAMP:
        return read_timestamp(f, v, dst, err);
    case JC_FIELD_COUNTY:
    case JC_FIELD_COUNT:
        return read_int32(f, v, dst, err);
    case JC_FIELD_ENUM:
        return read_enum(f, v, dst, err);
    case JC_FIELD_BOOL:
        if (!json_is_boolean(v))
            return wrong_type(f, v, "true or false", err);
        *(bool *)dst = json_is_true(v);
        return JC_OK;
    case JC_FIELD_OPT_TIMESTAMP: {
        jc_opt_time_t *t = dst;
        t->present = !json_is_null(v);
        return t->present ? read_timestamp(f, v, &t->ms, err) : JC_OK;
    }
    case JC_FIELD_OPT_BOOL:
        if (!json_is_boolean(v) && !json_is_null(v))
            return wrong_type(f, v, "true, false or null", err);
        *(jc_opt_bool_t *)dst = json_is_null(v) ? JC_NULL : json_is_true(v);
        return JC_OK;
    }
    return jc_error_set(err, JC_ERR_INVALID_ARG, "field '%s' has an unknown kind", f->name);
}

/* The event type named by the object's "type" member. */
static jc_status_t read_type(const json_t *obj, jc_event_type_t *type, jc_error_t *err)
{
    const json_t *v = json_object_get(obj, "type");
    if (v == NULL)
        return jc_error_set(err, JC_ERR_MISSING_FIELD, "member 'type' is missing");
    if (!json_is_string(v))
        return jc_error_set(err, JC_ERR_BAD_FIELD, "member 'type' must be a string, not %s",
                            json_kind_name(v));
    if (jc_event_type_from_name(json_string_value(v), type, NULL) != JC_OK)
        return jc_error_set(err, JC_ERR_BAD_FIELD, "member 'type': '%.64s' is not an event "
                            "type (visit, petition, disaster_response, training_completion)",
                            json_string_value(v));
    return JC_OK;
}

/* Every member other than "type" must be a field of the type. */
static jc_status_t check_members(json_t *obj, jc_event_type_t type, jc_error_t *err)
{
    const char *key;
    const json_t *v;
    json_object_foreach(obj, key, v) {
        if (strcmp(key, "type") != 0 && jc_event_field(type, key) == NULL)
            return jc_error_set(err, JC_ERR_BAD_FIELD, "unknown member '%.64s' for a %s event",
                                key, jc_event_type_name(type));
    }
    return JC_OK;
}

static jc_status_t read_fields(const json_t *obj, jc_event_t *ev, jc_error_t *err)
{
    size_t n;
    const jc_field_t *f = jc_event_fields(ev->type, &n);
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_object_get(obj, f[i].name);
        if (v == NULL) {
            if (field_optional(ev->type, i))
                continue;
            return jc_error_set(err, JC_ERR_MISSING_FIELD, "required field '%s' of a %s event "
                                "is missing", f[i].name, jc_event_type_name(ev->type));
        }
        jc_status_t st = read_field(&f[i], v, ev, err);
        if (st != JC_OK)
            return st;
    }
    return JC_OK;
}

static jc_status_t read_object(json_t *obj, jc_event_t *ev, jc_error_t *err)
{
    if (!json_is_object(obj))
        return jc_error_set(err, JC_ERR_BAD_FIELD, "an NDJSON line must be a JSON object, "
                            "not %s", json_kind_name(obj));
    jc_event_type_t type;
    jc_status_t st = read_type(obj, &type, err);
    if (st != JC_OK)
        return st;
    jc_event_init(ev, type);
    if ((st = check_members(obj, type, err)) != JC_OK)
        return st;
    return read_fields(obj, ev, err);
}

jc_status_t jc_ndjson_parse(const char *line, size_t len, jc_event_t *ev, jc_error_t *err)
{
    if ((line == NULL && len > 0) || ev == NULL)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "jc_ndjson_parse: NULL argument");
    jc_status_t st = optional_masks_ready(err);
    if (st != JC_OK)
        return st;
    json_error_t jerr;
    json_t *root = json_loadb(line ? line : "", len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL)
        return jc_error_set(err, JC_ERR_PARSE, "invalid JSON at line %d column %d (byte %d): %s",
                            jerr.line, jerr.column, jerr.position, jerr.text);
    st = read_object(root, ev, err);
    json_decref(root);
    return st;
}

/* ---- formatting ---- */

static json_t *timestamp_json(int64_t ms)
{
    if (ms < ISO_MIN_MS || ms >= ISO_END_MS)
        return json_integer((json_int_t)ms);
    char text[TIME_TEXT_MAX];
    jc_time_format(ms, text, sizeof text);
    return json_string(text);
}

/* A JSON string of field f's text; JC_ERR_BAD_UTF8 / JC_ERR_TOO_LONG if it has none. */
static jc_status_t string_json(const jc_field_t *f, const char *s, json_t **out,
                               jc_error_t *err)
{
    size_t len = strnlen(s, f->size);
    if (len == f->size)
        return jc_error_set(err, JC_ERR_TOO_LONG, "field '%s' is not NUL-terminated within "
                            "its %zu bytes", f->name, f->size);
    if ((*out = json_stringn(s, len)) != NULL)
        return JC_OK;
    json_t *raw = json_stringn_nocheck(s, len); /* tells bad UTF-8 from no memory */
    json_decref(raw);
    if (raw != NULL)
        return jc_error_set(err, JC_ERR_BAD_UTF8, "field '%s' is not valid UTF-8", f->name);
    return jc_error_set(err, JC_ERR_NOMEM, "field '%s': out of memory", f->name);
}

static jc_status_t enum_json(const jc_field_t *f, int32_t i, json_t **out, jc_error_t *err)
{
    if (i < 0 || i >= f->nsymbols)
        return jc_error_set(err, JC_ERR_ENUM_RANGE, "field '%s' holds %d, not a symbol index "
                            "(0..%d)", f->name, (int)i, f->nsymbols - 1);
    *out = json_string(f->symbols[i]);
    return JC_OK;
}

static jc_status_t opt_bool_json(const jc_field_t *f, jc_opt_bool_t b, json_t **out,
                                 jc_error_t *err)
{
    if (b != JC_NULL && b != 0 && b != 1)
        return jc_error_set(err, JC_ERR_BAD_FIELD, "field '%s' holds %d, not null, 0 or 1",
                            f->name, (int)b);
    *out = b == JC_NULL ? json_null() : json_boolean(b);
    return JC_OK;
}

/* The JSON value of field f of ev in *out (NULL after JC_OK means out of memory). */
static jc_status_t field_json(const jc_field_t *f, const jc_event_t *ev, json_t **out,
                              jc_error_t *err)
{
    const void *p = jc_field_cptr(ev, f);
    *out = NULL;
    switch (f->kind) {
    case JC_FIELD_UUID:
    case JC_FIELD_STRING:
        return string_json(f, p, out, err);
    case JC_FIELD_TIMESTAMP:
        *out = timestamp_json(*(const int64_t *)p);
        return JC_OK;
    case JC_FIELD_COUNTY:
    case JC_FIELD_COUNT:
        *out = json_integer(*(const int32_t *)p);
        return JC_OK;
    case JC_FIELD_ENUM:
        return enum_json(f, *(const int32_t *)p, out, err);
    case JC_FIELD_BOOL:
        *out = json_boolean(*(const bool *)p);
        return JC_OK;
    case JC_FIELD_OPT_TIMESTAMP: {
        const jc_opt_time_t *t = p;
        *out = t->present ? timestamp_json(t->ms) : json_null();
        return JC_OK;
    }
    case JC_FIELD_OPT_BOOL:
        return opt_bool_json(f, *(const jc_opt_bool_t *)p, out, err);
    }
    return jc_error_set(err, JC_ERR_INVALID_ARG, "field '%s' has an unknown kind", f->name);
}

/* Set obj[name] = v, taking v's reference; out of memory if v is NULL or the set fails. */
static jc_status_t put_member(json_t *obj, const char *name, json_t *v, jc_error_t *err)
{
    if (v == NULL || json_object_set_new(obj, name, v) != 0)
        return jc_error_set(err, JC_ERR_NOMEM, "ndjson: out of memory setting '%s'", name);
    return JC_OK;
}

static jc_status_t build_object(const jc_event_t *ev, json_t *obj, jc_error_t *err)
{
    jc_status_t st = put_member(obj, "type", json_string(jc_event_type_name(ev->type)), err);
    size_t n;
    const jc_field_t *f = jc_event_fields(ev->type, &n);
    for (size_t i = 0; i < n && st == JC_OK; i++) {
        json_t *v;
        if ((st = field_json(&f[i], ev, &v, err)) == JC_OK)
            st = put_member(obj, f[i].name, v, err);
    }
    return st;
}

static int append_to_buf(const char *buffer, size_t size, void *data)
{
    return jc_buf_append(data, buffer, size) == JC_OK ? 0 : -1;
}

jc_status_t jc_ndjson_format(const jc_event_t *ev, jc_buf_t *out, jc_error_t *err)
{
    if (ev == NULL || out == NULL)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "jc_ndjson_format: NULL argument");
    if ((unsigned)ev->type >= JC_EVENT_TYPE_COUNT)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "jc_ndjson_format: event type %d is not "
                            "one of the %d", (int)ev->type, JC_EVENT_TYPE_COUNT);
    json_t *obj = json_object();
    if (obj == NULL)
        return jc_error_set(err, JC_ERR_NOMEM, "ndjson: out of memory");
    size_t start = out->len;
    jc_status_t st = build_object(ev, obj, err);
    if (st == JC_OK && (json_dump_callback(obj, append_to_buf, out,
                                           JSON_COMPACT | JSON_PRESERVE_ORDER) != 0 ||
                        jc_buf_append(out, "\n", 1) != JC_OK))
        st = jc_error_set(err, JC_ERR_NOMEM, "ndjson: out of memory writing a %s event",
                          jc_event_type_name(ev->type));
    json_decref(obj);
    if (st != JC_OK && out->data != NULL) {
        out->len = start;
        out->data[start] = '\0';
    }
    return st;
}
