/*
 * validate.c: the contract's rules for field values (see jiceng/validate.h).
 *
 * jc_event_validate walks the event type's field table (jiceng/fields.h) and checks each field
 * by its kind: canonical UUID, bounded non-empty UTF-8 string, non-negative count, enum index
 * in range, county code that resolves to a current county (jiceng/reference.h), timestamp
 * from JC_EARLIEST_EVENT_MS on and not later than now plus the allowed skew. It then checks the
 * rules that tie fields together: a petition step's stage-specific fields and a disaster
 * response's party members among its responders. The first broken rule is reported by its own
 * status code, with a message naming the field and the value. Only when every rule holds is the
 * event put in canonical form -- the resolved county code written back, UUIDs lower-cased (the
 * one place ids are canonicalised: dedup and the content hash see only validated events) --
 * so a rejected event is left as it was.
 *
 * jc_utf8_valid accepts exactly the well-formed sequences of Unicode's table 3-7 (no
 * overlongs, surrogates or code points past U+10FFFF), skipping ASCII eight bytes at a time.
 * Nothing here allocates.
 */
#include "jiceng/validate.h"

#include <inttypes.h>
#include <string.h>

#include "jiceng/fields.h"
#include "jiceng/jtime.h"
#include "jiceng/reference.h"

/* ---- UTF-8 and UUID ---- */

/* The index of the first non-ASCII byte at or after i, or n. */
static size_t skip_ascii(const unsigned char *s, size_t i, size_t n)
{
    uint64_t w;
    while (n - i >= 8) {
        memcpy(&w, s + i, 8);
        if (w & UINT64_C(0x8080808080808080))
            break;
        i += 8;
    }
    while (i < n && s[i] < 0x80)
        i++;
    return i;
}

/* The length of the well-formed multi-byte sequence at s (avail bytes left), or 0: the lead
 * byte fixes the length and the range of the second byte, which is what rules out overlongs
 * (E0, F0), surrogates (ED) and code points past U+10FFFF (F4). */
static size_t sequence_length(const unsigned char *s, size_t avail)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    size_t len;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        lo = c == 0xE0 ? 0xA0 : lo;
        hi = c == 0xED ? 0x9F : hi;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        lo = c == 0xF0 ? 0x90 : lo;
        hi = c == 0xF4 ? 0x8F : hi;
    } else {
        return 0;
    }
    if (avail < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t k = 2; k < len; k++)
        if ((s[k] & 0xC0) != 0x80)
            return 0;
    return len;
}

/* How many of the n bytes at s are valid UTF-8 before the first invalid sequence. */
static size_t utf8_valid_prefix(const unsigned char *s, size_t n)
{
    size_t i = 0;
    for (;;) {
        i = skip_ascii(s, i, n);
        if (i == n)
            return n;
        size_t len = sequence_length(s + i, n - i);
        if (len == 0)
            return i;
        i += len;
    }
}

int jc_utf8_valid(const char *s, size_t n)
{
    if (s == NULL)
        return n == 0;
    return utf8_valid_prefix((const unsigned char *)s, n) == n;
}

/* What each position of a canonical UUID must hold: 'h' a hex digit, '-' a hyphen. */
static const char uuid_shape[JC_UUID_LEN + 1] = "hhhhhhhh-hhhh-hhhh-hhhh-hhhhhhhhhhhh";

/* 1 for the bytes that are hex digits (this runs for every event: a table, not branches) */
static const unsigned char hex_digit[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
};

int jc_uuid_valid(const char *s)
{
    if (s == NULL)
        return 0;
    unsigned bad = 0;
    for (int i = 0; i < JC_UUID_LEN; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\0')
            return 0; /* a short string is never read past its end */
        bad |= uuid_shape[i] == 'h' ? !hex_digit[c] : c != '-';
    }
    return !bad && s[JC_UUID_LEN] == '\0';
}

/* A valid UUID text in lower case, in place (only its hex letters change). */
static void uuid_lower(char *s)
{
    for (int i = 0; i < JC_UUID_LEN; i++)
        if (s[i] >= 'A' && s[i] <= 'F')
            s[i] = (char)(s[i] | 0x20);
}

static uint8_t hex_value(unsigned char c)
{
    return (uint8_t)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
}

jc_status_t jc_uuid_parse(const char *s, uint8_t out[16], jc_error_t *err)
{
    if (!jc_uuid_valid(s))
        return jc_error_set(err, JC_ERR_BAD_UUID, "not a canonical UUID");
    for (int i = 0, o = 0; i < JC_UUID_LEN; i++) {
        if (uuid_shape[i] != 'h')
            continue;
        out[o / 2] = (uint8_t)(o % 2 ? out[o / 2] | hex_value((unsigned char)s[i]) : hex_value((unsigned char)s[i]) << 4);
        o++;
    }
    return JC_OK;
}

/* ---- one field by its kind ---- */

typedef struct limits {
    int64_t latest_ms; /* now plus skew: the latest acceptable occurred_at */
    int64_t now_ms;
    int64_t max_skew_ms;
} limits_t;

/* The index of the first of the n bytes at s that is not printable ASCII, or n. */
static size_t printable_prefix(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && s[i] >= 0x20 && s[i] < 0x7f)
        i++;
    return i;
}

static jc_status_t check_uuid(const jc_field_t *f, const char *s, jc_error_t *err)
{
    if (jc_uuid_valid(s))
        return JC_OK;
    size_t len = strnlen(s, f->size), shown = printable_prefix(s, len);
    if (len == f->size)
        return jc_error_set(err, JC_ERR_BAD_UUID, "%s: not a canonical UUID (longer than %d "
                            "characters)", f->name, JC_UUID_LEN);
    if (shown < len) /* quote it only when that is safe to log */
        return jc_error_set(err, JC_ERR_BAD_UUID, "%s: not a canonical UUID (byte %zu is "
                            "0x%02x)", f->name, shown, (unsigned char)s[shown]);
    return jc_error_set(err, JC_ERR_BAD_UUID, "%s: not a canonical UUID '%s'", f->name, s);
}

static jc_status_t check_string(const jc_field_t *f, const char *s, jc_error_t *err)
{
    size_t len = strnlen(s, f->size);
    if (len == f->size)
        return jc_error_set(err, JC_ERR_TOO_LONG, "%s: longer than %zu bytes", f->name,
                            f->size - 1);
    if (len == 0)
        return jc_error_set(err, JC_ERR_EMPTY_FIELD, "%s: empty", f->name);
    size_t good = utf8_valid_prefix((const unsigned char *)s, len);
    if (good != len)
        return jc_error_set(err, JC_ERR_BAD_UTF8, "%s: invalid UTF-8 at byte %zu (0x%02x)",
                            f->name, good, (unsigned char)s[good]);
    return JC_OK;
}

/* The contract's floor: JC_EARLIEST_EVENT_MS, with a hint when ms reads as a time of this
 * century in seconds. */
static jc_status_t check_floor(const jc_field_t *f, int64_t ms, jc_error_t *err)
{
    if (ms >= JC_EARLIEST_EVENT_MS)
        return JC_OK;
    char earliest[40];
    jc_time_format(JC_EARLIEST_EVENT_MS, earliest, sizeof earliest);
    int seconds = ms >= JC_EARLIEST_EVENT_MS / 1000;
    return jc_error_set(err, JC_ERR_TOO_EARLY, "%s: %" PRId64 " is before %" PRId64 " (%s), the "
                        "earliest time the contract accepts (epoch milliseconds)%s", f->name, ms,
                        (int64_t)JC_EARLIEST_EVENT_MS, earliest,
                        seconds ? "; it reads as a time in seconds" : "");
}

static jc_status_t check_time(const jc_field_t *f, int64_t ms, const limits_t *lim,
                              jc_error_t *err)
{
    jc_status_t st = check_floor(f, ms, err);
    if (st != JC_OK)
        return st;
    if (ms > lim->latest_ms)
        return jc_error_set(err, JC_ERR_FUTURE_TIME,
                            "%s: %" PRId64 " is later than now %" PRId64 " plus skew %" PRId64
                            " ms", f->name, ms, lim->now_ms, lim->max_skew_ms);
    return JC_OK;
}

static jc_status_t check_opt_time(const jc_field_t *f, const jc_opt_time_t *t, jc_error_t *err)
{
    return t->present ? check_floor(f, t->ms, err) : JC_OK;
}

static jc_status_t check_county(const jc_field_t *f, int32_t code, int32_t *current,
                                jc_error_t *err)
{
    jc_error_t why;
    jc_status_t st = jc_county_resolve(code, current, &why);
    if (st != JC_OK)
        return jc_error_set(err, st, "%s: %s", f->name, why.message);
    return JC_OK;
}

static jc_status_t check_count(const jc_field_t *f, int32_t n, jc_error_t *err)
{
    if (n < 0)
        return jc_error_set(err, JC_ERR_NEGATIVE_COUNT, "%s: negative count %" PRId32, f->name,
                            n);
    return JC_OK;
}

static jc_status_t check_enum(const jc_field_t *f, int32_t i, jc_error_t *err)
{
    if (i < 0 || i >= f->nsymbols)
        return jc_error_set(err, JC_ERR_ENUM_RANGE, "%s: enum index %" PRId32
                            " not in [0, %d)", f->name, i, f->nsymbols);
    return JC_OK;
}

static jc_status_t check_opt_bool(const jc_field_t *f, jc_opt_bool_t b, jc_error_t *err)
{
    if (b != JC_NULL && b != 0 && b != 1)
        return jc_error_set(err, JC_ERR_BAD_FIELD, "%s: %d is not null, false or true",
                            f->name, (int)b);
    return JC_OK;
}

/* Check field f of ev; a county field's current code goes to *county. */
static jc_status_t check_field(const jc_event_t *ev, const jc_field_t *f, const limits_t *lim,
                               int32_t *county, jc_error_t *err)
{
    const void *p = jc_field_cptr(ev, f);
    switch (f->kind) {
    case JC_FIELD_UUID:
        return check_uuid(f, p, err);
    case JC_FIELD_STRING:
        return check_string(f, p, err);
    case JC_FIELD_TIMESTAMP:
        return check_time(f, *(const int64_t *)p, lim, err);
    case JC_FIELD_COUNTY:
        return check_county(f, *(const int32_t *)p, county, err);
    case JC_FIELD_COUNT:
        return check_count(f, *(const int32_t *)p, err);
    case JC_FIELD_BOOL:
        return JC_OK; /* any bool is a valid boolean */
    case JC_FIELD_ENUM:
        return check_enum(f, *(const int32_t *)p, err);
    case JC_FIELD_OPT_TIMESTAMP:
        return check_opt_time(f, p, err);
    case JC_FIELD_OPT_BOOL:
        return check_opt_bool(f, *(const jc_opt_bool_t *)p, err);
    }
    return jc_error_set(err, JC_ERR_INVALID_ARG, "%s: unknown field kind %d", f->name,
                        (int)f->kind);
}

/* ---- rules across fields ---- */

/* The symbol of a petition stage already checked to be in range, from the field table. */
static const char *stage_name(int32_t stage)
{
    return jc_event_field(JC_PETITION, "stage")->symbols[stage];
}

static jc_status_t check_received_at(const jc_event_t *ev, jc_error_t *err)
{
    const jc_petition_t *p = &ev->u.petition;
    if (!p->received_at.present)
        return jc_error_set(err, JC_ERR_MISSING_FIELD, "received_at: missing on a %s step",
                            stage_name(p->stage));
    if (p->received_at.ms > ev->occurred_at)
        return jc_error_set(err, JC_ERR_INCONSISTENT,
                            "received_at: %" PRId64 " is after occurred_at %" PRId64,
                            p->received_at.ms, ev->occurred_at);
    return JC_OK;
}

static jc_status_t check_no_satisfied(const jc_petition_t *p, jc_error_t *err)
{
    if (p->satisfied != JC_NULL)
        return jc_error_set(err, JC_ERR_INCONSISTENT, "satisfied: %s on a %s step (only on "
                            "FOLLOWED_UP)", p->satisfied ? "true" : "false",
                            stage_name(p->stage));
    return JC_OK;
}

/* Stage-specific fields (the stage is already known to be in range). */
static jc_status_t check_petition(const jc_event_t *ev, jc_error_t *err)
{
    const jc_petition_t *p = &ev->u.petition;
    jc_status_t st;
    switch (p->stage) {
    case JC_STAGE_RECEIVED:
        if (p->received_at.present)
            return jc_error_set(err, JC_ERR_INCONSISTENT,
                                "received_at: %" PRId64 " set on a RECEIVED step",
                                p->received_at.ms);
        return check_no_satisfied(p, err);
    case JC_STAGE_RESOLVED:
        if ((st = check_received_at(ev, err)) != JC_OK)
            return st;
        return check_no_satisfied(p, err);
    default: /* FOLLOWED_UP: satisfied may be null or set */
        return check_received_at(ev, err);
    }
}

static jc_status_t check_disaster_response(const jc_event_t *ev, jc_error_t *err)
{
    const jc_disaster_response_t *d = &ev->u.disaster_response;
    if (d->party_member_responders > d->responders)
        return jc_error_set(err, JC_ERR_INCONSISTENT,
                            "party_member_responders: %" PRId32 " exceeds responders %" PRId32,
                            d->party_member_responders, d->responders);
    return JC_OK;
}

static jc_status_t check_across_fields(const jc_event_t *ev, jc_error_t *err)
{
    switch (ev->type) {
    case JC_PETITION:
        return check_petition(ev, err);
    case JC_DISASTER_RESPONSE:
        return check_disaster_response(ev, err);
    default:
        return JC_OK; /* visits and trainings have no rule across fields */
    }
}

/* ---- the whole event ---- */

/* The limits for now_ms and max_skew_ms (>= 0), now plus skew saturating at INT64_MAX. */
static limits_t make_limits(int64_t now_ms, int64_t max_skew_ms)
{
    limits_t lim = {.now_ms = now_ms, .max_skew_ms = max_skew_ms};
    lim.latest_ms = now_ms > INT64_MAX - max_skew_ms ? INT64_MAX : now_ms + max_skew_ms;
    return lim;
}

jc_status_t jc_event_validate(jc_event_t *ev, int64_t now_ms, int64_t max_skew_ms,
                              jc_error_t *err)
{
    if (ev == NULL)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "jc_event_validate: event is NULL");
    if (max_skew_ms < 0)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "max_skew_ms: negative %" PRId64,
                            max_skew_ms);
    size_t n;
    const jc_field_t *fields = jc_event_fields(ev->type, &n);
    if (fields == NULL)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "type: unknown event type %d",
                            (int)ev->type);
    limits_t lim = make_limits(now_ms, max_skew_ms);
    int32_t county = ev->county_code;
    for (size_t i = 0; i < n; i++) {
        jc_status_t st = check_field(ev, &fields[i], &lim, &county, err);
        if (st != JC_OK)
            return st;
    }
    jc_status_t st = check_across_fields(ev, err);
    if (st != JC_OK)
        return st;
    ev->county_code = county;
    for (size_t i = 0; i < n; i++)
        if (fields[i].kind == JC_FIELD_UUID)
            uuid_lower(jc_field_ptr(ev, &fields[i]));
    return JC_OK;
}
