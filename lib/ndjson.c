/*
 * ndjson.c: events as NDJSON lines (jiceng/ndjson.h), by walking the field table.
 *
 * Parsing: yajl's event (SAX) parser reads the line, collecting the top-level members (keys
 * and scalar values; strings into one arena) without building a tree: it parses about seven
 * times faster than jansson's DOM (0.8 against 5.5 us for a 380-byte line, measured here), and
 * jiceng-produce's throughput is bound by it. "type" picks the event type (a member given twice
 * is a JSON error) and jc_event_init resets the event to that type's empty value with schema
 * defaults applied. Every
 * other member must name a field of the type; then each field of the table is read from its
 * member by the field's kind. A field may be omitted only if jc_field_optional says so
 * (nullable, or given a default by the newest schema, like visit.hours_on_site, added in v2).
 * On failure ev holds whatever was read so far. Numbers come as text: an integer beyond 64 bits
 * keeps its text for the field to name. yajl turns a lone surrogate escape into '?', so a line
 * that parsed is scanned for one (a backslash in valid JSON always starts an escape); and
 * yajl's position after an early end counts from its last (empty) buffer, so that end is put
 * at the line's end.
 *
 * Formatting: a jansson object is built in table order with "type" first, timestamps as
 * jc_time_format text and nulls as null, and dumped compactly straight into the caller's
 * buffer, non-ASCII text left as UTF-8. A timestamp whose Shanghai year has no four-digit
 * ISO form (before 0000 or after 9999) is written as epoch milliseconds, which parsing also
 * accepts, so every value survives a format/parse round trip.
 */
#include "jiceng/ndjson.h"

#include <jansson.h>
#include <yajl/yajl_parse.h>
#include <errno.h>
#include <stdlib.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "jiceng/buf.h"
#include "jiceng/catalog.h"
#include "jiceng/fields.h"
#include "jiceng/jtime.h"

#define TIME_TEXT_MAX 40
/* The instants whose Shanghai local time lies in years 0000..9999, the range the ISO form
 * YYYY can express: 0000-01-01 is day -719528 and 10000-01-01 is day 2932897. */
#define ISO_MIN_MS (-719528LL * JC_DAY_MS - JC_SHANGHAI_OFFSET_MS)
#define ISO_END_MS (2932897LL * JC_DAY_MS - JC_SHANGHAI_OFFSET_MS)

/* ---- parsing: yajl's event parser collects the members, then the field table reads them ---- */

typedef enum {
    JV_NULL, JV_FALSE, JV_TRUE, JV_INTEGER, JV_BIG_INTEGER, JV_REAL, JV_STRING, JV_OBJECT, JV_ARRAY
} jv_kind_t;

/* One member's value. Strings (and keys) live in the parse's arena, at an offset, since the
 * arena may move while it grows; so does the text of an integer beyond 64 bits. */
typedef struct jv {
    jv_kind_t kind;
    long long integer;
    size_t str_off, str_len;
} jv_t;

#define MAX_MEMBERS 64
#define JC_MAX_FIELDS_PER_TYPE 64

typedef struct parse_state {
    jc_buf_t arena;          /* keys and string values, each NUL-terminated */
    size_t key_off[MAX_MEMBERS], key_len[MAX_MEMBERS];
    jv_t val[MAX_MEMBERS];
    size_t nmembers;
    int depth;               /* 0 outside the top value, 1 inside the top object */
    int too_many;
    jv_kind_t top;           /* the top-level value's kind */
    int nul_in_string;
} parse_state_t;

static const char *kind_name(jv_kind_t k)
{
    static const char *const names[] = {"null", "false", "true", "an integer",
                                        "an integer beyond 64 bits", "a real number",
                                        "a string", "an object", "an array"};
    return names[k];
}

static int keep_text(parse_state_t *ps, const unsigned char *s, size_t len, size_t *off)
{
    *off = ps->arena.len;
    if (memchr(s, '\0', len) != NULL)
        ps->nul_in_string = 1; /* "\u0000": not allowed, as jansson did not allow it */
    return jc_buf_append(&ps->arena, s, len) == JC_OK && jc_buf_append(&ps->arena, "", 1) == JC_OK;
}

/* A scalar or the start of a compound value: the top value, or a top member's value. */
static int on_value(parse_state_t *ps, jv_kind_t kind, long long i, const unsigned char *s, size_t len)
{
    if (ps->depth == 0) {
        ps->top = kind;
        return 1;
    }
    if (ps->depth > 1 || ps->nmembers == 0 || ps->too_many)
        return 1; /* inside a nested value, which is reported by its kind alone */
    jv_t *v = &ps->val[ps->nmembers - 1];
    v->kind = kind;
    v->integer = i;
    if (kind != JV_STRING && kind != JV_BIG_INTEGER)
        return 1;
    v->str_len = len;
    return keep_text(ps, s, len, &v->str_off);
}

static int cb_null(void *ctx) { return on_value(ctx, JV_NULL, 0, NULL, 0); }
static int cb_bool(void *ctx, int b) { return on_value(ctx, b ? JV_TRUE : JV_FALSE, 0, NULL, 0); }
/* Numbers arrive as their text (yajl's own integer conversion refuses INT64_MIN): a number
 * with a fraction or exponent is a real; an integer outside 64 bits keeps its text, for the
 * field it is given to to say what is wrong with it. */
static int cb_number(void *ctx, const char *text, size_t len)
{
    if (memchr(text, '.', len) || memchr(text, 'e', len) || memchr(text, 'E', len))
        return on_value(ctx, JV_REAL, 0, NULL, 0);
    const unsigned char *digits = (const unsigned char *)text;
    char buf[32];
    if (len >= sizeof buf) /* more digits than any 64-bit integer has */
        return on_value(ctx, JV_BIG_INTEGER, 0, digits, len);
    memcpy(buf, text, len);
    buf[len] = '\0';
    errno = 0;
    long long i = strtoll(buf, NULL, 10);
    if (errno == ERANGE)
        return on_value(ctx, JV_BIG_INTEGER, 0, digits, len);
    return on_value(ctx, JV_INTEGER, i, NULL, 0);
}

static int cb_string(void *ctx, const unsigned char *s, size_t len)
{
    return on_value(ctx, JV_STRING, 0, s, len);
}

static int cb_start(parse_state_t *ps, jv_kind_t kind)
{
    int ok = (kind == JV_OBJECT && ps->depth == 0) ? (ps->top = JV_OBJECT, 1)
                                                  : on_value(ps, kind, 0, NULL, 0);
    ps->depth++;
    return ok;
}

static int cb_start_map(void *ctx) { return cb_start(ctx, JV_OBJECT); }
static int cb_start_array(void *ctx) { return cb_start(ctx, JV_ARRAY); }

static int cb_end(void *ctx)
{
    ((parse_state_t *)ctx)->depth--;
    return 1;
}

static int cb_key(void *ctx, const unsigned char *key, size_t len)
{
    parse_state_t *ps = ctx;
    if (ps->depth != 1)
        return 1;
    if (ps->nmembers == MAX_MEMBERS) {
        ps->too_many = 1;
        return 1;
    }
    size_t i = ps->nmembers++;
    ps->key_len[i] = len;
    ps->val[i].kind = JV_NULL;
    return keep_text(ps, key, len, &ps->key_off[i]);
}

static const yajl_callbacks callbacks = {
    cb_null, cb_bool, NULL, NULL, cb_number, cb_string,
    cb_start_map, cb_key, cb_end, cb_start_array, cb_end,
};

static const char *text_of(const parse_state_t *ps, size_t off)
{
    return (const char *)ps->arena.data + off;
}

static jc_status_t wrong_type(const jc_field_t *f, const jv_t *v, const char *expected,
                              jc_error_t *err)
{
    return jc_error_set(err, JC_ERR_BAD_FIELD, "field '%s' must be %s, not %s", f->name,
                        expected, kind_name(v->kind));
}

static jc_status_t read_string(const parse_state_t *ps, const jc_field_t *f, const jv_t *v,
                               char *dst, jc_error_t *err)
{
    if (v->kind != JV_STRING)
        return wrong_type(f, v, "a string", err);
    if (v->str_len > f->size - 1)
        return jc_error_set(err, JC_ERR_TOO_LONG, "field '%s' is %zu bytes, longer than %zu",
                            f->name, v->str_len, f->size - 1);
    memcpy(dst, text_of(ps, v->str_off), v->str_len + 1);
    return JC_OK;
}

static jc_status_t read_timestamp(const parse_state_t *ps, const jc_field_t *f, const jv_t *v,
                                  int64_t *dst, jc_error_t *err)
{
    if (v->kind == JV_INTEGER) {
        *dst = (int64_t)v->integer;
        return JC_OK;
    }
    if (v->kind == JV_BIG_INTEGER)
        return jc_error_set(err, JC_ERR_BAD_FIELD, "field '%s' value %.64s is outside the 64-bit "
                            "range of epoch milliseconds", f->name, text_of(ps, v->str_off));
    if (v->kind != JV_STRING)
        return wrong_type(f, v, "an ISO-8601 string or epoch milliseconds", err);
    jc_error_t terr;
    if (jc_time_parse(text_of(ps, v->str_off), dst, &terr) != JC_OK)
        return jc_error_set(err, terr.code, "field '%s': %s", f->name, terr.message);
    return JC_OK;
}

static jc_status_t read_int32(const parse_state_t *ps, const jc_field_t *f, const jv_t *v,
                              int32_t *dst, jc_error_t *err)
{
    if (v->kind == JV_BIG_INTEGER)
        return jc_error_set(err, JC_ERR_BAD_FIELD, "field '%s' value %.64s is outside the "
                            "32-bit integer range", f->name, text_of(ps, v->str_off));
    if (v->kind != JV_INTEGER)
        return wrong_type(f, v, "an integer", err);
    if (v->integer < INT32_MIN || v->integer > INT32_MAX)
        return jc_error_set(err, JC_ERR_BAD_FIELD, "field '%s' value %lld is outside the "
                            "32-bit integer range", f->name, v->integer);
    *dst = (int32_t)v->integer;
    return JC_OK;
}

static jc_status_t read_enum(const parse_state_t *ps, const jc_field_t *f, const jv_t *v,
                             int32_t *dst, jc_error_t *err)
{
    if (v->kind != JV_STRING)
        return wrong_type(f, v, "a symbol string", err);
    int i = jc_field_symbol_index(f, text_of(ps, v->str_off));
    if (i < 0)
        return jc_error_set(err, JC_ERR_ENUM_RANGE, "field '%s': '%.64s' is not one of its "
                            "symbols", f->name, text_of(ps, v->str_off));
    *dst = i;
    return JC_OK;
}

/* Read member value v (maybe JSON null) into field f of ev. */
static jc_status_t read_field(const parse_state_t *ps, const jc_field_t *f, const jv_t *v,
                              jc_event_t *ev, jc_error_t *err)
{
    void *dst = jc_field_ptr(ev, f);
    switch (f->kind) {
    case JC_FIELD_UUID:
    case JC_FIELD_STRING:
        return read_string(ps, f, v, dst, err);
    case JC_FIELD_TIMESTAMP:
        return read_timestamp(ps, f, v, dst, err);
    case JC_FIELD_COUNTY:
    case JC_FIELD_COUNT:
        return read_int32(ps, f, v, dst, err);
    case JC_FIELD_ENUM:
        return read_enum(ps, f, v, dst, err);
    case JC_FIELD_BOOL:
        if (v->kind != JV_TRUE && v->kind != JV_FALSE)
            return wrong_type(f, v, "true or false", err);
        *(bool *)dst = v->kind == JV_TRUE;
        return JC_OK;
    case JC_FIELD_OPT_TIMESTAMP: {
        jc_opt_time_t *t = dst;
        t->present = v->kind != JV_NULL;
        return t->present ? read_timestamp(ps, f, v, &t->ms, err) : JC_OK;
    }
    case JC_FIELD_OPT_BOOL:
        if (v->kind != JV_TRUE && v->kind != JV_FALSE && v->kind != JV_NULL)
            return wrong_type(f, v, "true, false or null", err);
        *(jc_opt_bool_t *)dst = v->kind == JV_NULL ? JC_NULL : v->kind == JV_TRUE;
        return JC_OK;
    }
    return jc_error_set(err, JC_ERR_INVALID_ARG, "field '%s' has an unknown kind", f->name);
}

/* The index of the "type" member, or -1; JC_ERR_PARSE if it appears twice. */
static jc_status_t find_type_member(const parse_state_t *ps, long *index, jc_error_t *err)
{
    *index = -1;
    for (size_t i = 0; i < ps->nmembers; i++) {
        if (ps->key_len[i] != 4 || memcmp(text_of(ps, ps->key_off[i]), "type", 4) != 0)
            continue;
        if (*index >= 0)
            return jc_error_set(err, JC_ERR_PARSE, "invalid JSON: duplicate member 'type'");
        *index = (long)i;
    }
    return JC_OK;
}

/* The event type named by the "type" member. */
static jc_status_t read_type(const parse_state_t *ps, jc_event_type_t *type, jc_error_t *err)
{
    long i;
    jc_status_t st = find_type_member(ps, &i, err);
    if (st != JC_OK)
        return st;
    if (i < 0)
        return jc_error_set(err, JC_ERR_MISSING_FIELD, "member 'type' is missing");
    const jv_t *v = &ps->val[i];
    if (v->kind != JV_STRING)
        return jc_error_set(err, JC_ERR_BAD_FIELD, "member 'type' must be a string, not %s",
                            kind_name(v->kind));
    if (jc_event_type_from_name(text_of(ps, v->str_off), type, NULL) != JC_OK)
        return jc_error_set(err, JC_ERR_BAD_FIELD, "member 'type': '%.64s' is not an event "
                            "type (visit, petition, disaster_response, training_completion)",
                            text_of(ps, v->str_off));
    return JC_OK;
}

/* The field index of key, trying hint first (members usually come in table order); -1. */
static long field_index(const jc_field_t *f, size_t n, const char *key, size_t len, size_t hint)
{
    for (size_t k = 0; k < n; k++) {
        size_t i = (hint + k) % n;
        if (strncmp(f[i].name, key, len) == 0 && f[i].name[len] == '\0')
            return (long)i;
    }
    return -1;
}

/* Which member holds each field (-1: none): every member other than "type" must be a field
 * of the type, and appear once. */
static jc_status_t map_members(const parse_state_t *ps, jc_event_type_t type, long *member_of,
                               jc_error_t *err)
{
    size_t n;
    const jc_field_t *f = jc_event_fields(type, &n);
    if (ps->too_many)
        return jc_error_set(err, JC_ERR_BAD_FIELD, "more than %d members for a %s event",
                            MAX_MEMBERS, jc_event_type_name(type));
    for (size_t i = 0; i < n; i++)
        member_of[i] = -1;
    size_t hint = 0;
    for (size_t m = 0; m < ps->nmembers; m++) {
        const char *key = text_of(ps, ps->key_off[m]);
        if (ps->key_len[m] == 4 && memcmp(key, "type", 4) == 0)
            continue;
        long i = field_index(f, n, key, ps->key_len[m], hint);
        if (i < 0)
            return jc_error_set(err, JC_ERR_BAD_FIELD, "unknown member '%.64s' for a %s event",
                                key, jc_event_type_name(type));
        if (member_of[i] >= 0)
            return jc_error_set(err, JC_ERR_PARSE, "invalid JSON: duplicate member '%.64s'", key);
        member_of[i] = (long)m;
        hint = (size_t)i + 1;
    }
    return JC_OK;
}

static jc_status_t read_fields(const parse_state_t *ps, jc_event_t *ev, const long *member_of,
                               jc_error_t *err)
{
    size_t n;
    const jc_field_t *f = jc_event_fields(ev->type, &n);
    for (size_t i = 0; i < n; i++) {
        if (member_of[i] < 0) {
            if (jc_field_optional(ev->type, i))
                continue;
            return jc_error_set(err, JC_ERR_MISSING_FIELD, "required field '%s' of a %s event "
                                "is missing", f[i].name, jc_event_type_name(ev->type));
        }
        jc_status_t st = read_field(ps, &f[i], &ps->val[member_of[i]], ev, err);
        if (st != JC_OK)
            return st;
    }
    return JC_OK;
}

static jc_status_t read_object(const parse_state_t *ps, jc_event_t *ev, jc_error_t *err)
{
    if (ps->top != JV_OBJECT)
        return jc_error_set(err, JC_ERR_BAD_FIELD, "an NDJSON line must be a JSON object, "
                            "not %s", kind_name(ps->top));
    jc_event_type_t type;
    jc_status_t st = read_type(ps, &type, err);
    if (st != JC_OK)
        return st;
    jc_event_init(ev, type);
    long member_of[JC_MAX_FIELDS_PER_TYPE];
    if ((st = map_members(ps, type, member_of, err)) != JC_OK)
        return st;
    return read_fields(ps, ev, member_of, err);
}

/* The code unit of the \uXXXX escape at s (which holds at least 6 bytes), or -1. */
static long escape_unit(const char *s)
{
    if (s[0] != '\\' || s[1] != 'u')
        return -1;
    long u = 0;
    for (int i = 2; i < 6; i++) {
        int c = (unsigned char)s[i], d = c >= '0' && c <= '9'   ? c - '0'
                                       : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                       : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return -1;
        u = u * 16 + d;
    }
    return u;
}

#define IS_HIGH_SURROGATE(u) ((u) >= 0xD800 && (u) <= 0xDBFF)
#define IS_LOW_SURROGATE(u) ((u) >= 0xDC00 && (u) <= 0xDFFF)

/* The offset of the first \uXXXX escape in line that is a UTF-16 surrogate without its other
 * half, or -1. yajl turns such an escape into '?' or into bytes that are not UTF-8; it has no
 * character. The line is valid JSON here, so every backslash starts an escape in a string. */
static long lone_surrogate(const char *line, size_t len)
{
    size_t i = 0;
    const char *bs;
    while (i < len && (bs = memchr(line + i, '\\', len - i)) != NULL) {
        i = (size_t)(bs - line);
        long u = i + 6 <= len ? escape_unit(line + i) : -1;
        long low = IS_HIGH_SURROGATE(u) && i + 12 <= len ? escape_unit(line + i + 6) : -1;
        if (IS_LOW_SURROGATE(u) || (IS_HIGH_SURROGATE(u) && !IS_LOW_SURROGATE(low)))
            return (long)i;
        i += u < 0 ? 2 : IS_HIGH_SURROGATE(u) ? 12 : 6; /* past the escape, or the pair */
    }
    return -1;
}

/* JC_ERR_PARSE for a failed yajl parse: its reason, and where (the end of the line if the
 * line ends before the JSON value does; yajl counts from the last buffer it was given). */
static jc_status_t yajl_failure(yajl_handle h, bool at_end, size_t len, jc_error_t *err)
{
    size_t at = at_end ? len : yajl_get_bytes_consumed(h);
    unsigned char *msg = yajl_get_error(h, 0, NULL, 0);
    jc_status_t st = jc_error_set(err, JC_ERR_PARSE, "invalid JSON at line 1 column %zu (byte "
                                  "%zu): %s%s", at + 1, at,
                                  at_end ? "the line ends before the JSON value does: " : "",
                                  msg ? (const char *)msg : "parse error");
    if (msg != NULL)
        yajl_free_error(h, msg);
    return st;
}

/* Run yajl over the line into ps; JC_ERR_PARSE with the reason and the position. */
static jc_status_t scan_line(const char *line, size_t len, parse_state_t *ps, jc_error_t *err)
{
    yajl_handle h = yajl_alloc(&callbacks, NULL, ps);
    if (h == NULL)
        return jc_error_set(err, JC_ERR_NOMEM, "ndjson: out of memory");
    yajl_status ys = yajl_parse(h, (const unsigned char *)line, len);
    bool at_end = ys == yajl_status_ok;
    if (ys == yajl_status_ok)
        ys = yajl_complete_parse(h);
    long lone;
    jc_status_t st = JC_OK;
    if (ys != yajl_status_ok)
        st = yajl_failure(h, at_end, len, err);
    else if (ps->nul_in_string)
        st = jc_error_set(err, JC_ERR_PARSE, "invalid JSON: \\u0000 is not allowed in strings");
    else if ((lone = lone_surrogate(line, len)) >= 0)
        st = jc_error_set(err, JC_ERR_PARSE, "invalid JSON at line 1 column %ld (byte %ld): "
                          "%.6s is a lone UTF-16 surrogate (half of a pair without the other "
                          "half), which is no character", lone + 1, lone, line + lone);
    yajl_free(h);
    return st;
}

jc_status_t jc_ndjson_parse(const char *line, size_t len, jc_event_t *ev, jc_error_t *err)
{
    if ((line == NULL && len > 0) || ev == NULL)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "jc_ndjson_parse: NULL argument");
    jc_status_t st = jc_catalog_init(err);
    if (st != JC_OK)
        return st;
    parse_state_t ps;
    ps.arena = (jc_buf_t){0};
    ps.nmembers = 0;
    ps.depth = 0;
    ps.too_many = 0;
    ps.top = JV_NULL;
    ps.nul_in_string = 0;
    st = scan_line(line ? line : "", len, &ps, err);
    if (st == JC_OK)
        st = read_object(&ps, ev, err);
    jc_buf_free(&ps.arena);
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
