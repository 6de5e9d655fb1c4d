/*
 * event.c: event types by name, and initialising and comparing jc_event_t values field by
 * field through the field table (jiceng/fields.h, which also holds each type's name and topic).
 * The content hash skips the fields marked hash_when_set (revision, withdrawn) while they are
 * 0/false, so an original hashes exactly as before those fields existed (ledgers store the
 * hash) and any correction or withdrawal hashes differently from its original.
 */
#include "jiceng/event.h"

#include <stdio.h>
#include <string.h>

#include "internal.h"
#include <stdint.h>
#include "jiceng/fields.h"

jc_status_t jc_event_type_from_name(const char *name, jc_event_type_t *type, jc_error_t *err)
{
    char known[256] = "";
    size_t len = 0;
    for (int t = 0; t < JC_EVENT_TYPE_COUNT; t++) {
        const char *n = jc_event_type_name((jc_event_type_t)t);
        if (name != NULL && strcmp(name, n) == 0) {
            *type = (jc_event_type_t)t;
            return JC_OK;
        }
        if (len < sizeof known)
            len += (size_t)snprintf(known + len, sizeof known - len, "%s%s", t ? ", " : "", n);
    }
    return jc_error_set(err, JC_ERR_INVALID_ARG, "unknown event type '%s' (%s)",
                        name ? name : "(null)", known);
}

void jc_event_init(jc_event_t *ev, jc_event_type_t type)
{
    memset(ev, 0, sizeof *ev);
    ev->type = type;
    size_t n;
    const jc_field_t *f = jc_event_fields(type, &n);
    for (size_t i = 0; i < n; i++)
        if (f[i].kind == JC_FIELD_OPT_BOOL)
            *(jc_opt_bool_t *)jc_field_ptr(ev, &f[i]) = JC_NULL;
    jc_catalog_apply_defaults(ev);
}

static bool field_equal(const jc_event_t *a, const jc_event_t *b, const jc_field_t *f)
{
    const void *pa = jc_field_cptr(a, f), *pb = jc_field_cptr(b, f);
    switch (f->kind) {
    case JC_FIELD_UUID:
    case JC_FIELD_STRING:
        return strcmp(pa, pb) == 0;
    case JC_FIELD_TIMESTAMP:
        return *(const int64_t *)pa == *(const int64_t *)pb;
    case JC_FIELD_COUNTY:
    case JC_FIELD_COUNT:
    case JC_FIELD_ENUM:
        return *(const int32_t *)pa == *(const int32_t *)pb;
    case JC_FIELD_BOOL:
        return *(const bool *)pa == *(const bool *)pb;
    case JC_FIELD_OPT_TIMESTAMP: {
        const jc_opt_time_t *ta = pa, *tb = pb;
        return ta->present == tb->present && (!ta->present || ta->ms == tb->ms);
    }
    case JC_FIELD_OPT_BOOL:
        return *(const jc_opt_bool_t *)pa == *(const jc_opt_bool_t *)pb;
    }
    return false;
}

static uint64_t field_hash(const jc_event_t *ev, const jc_field_t *f, uint64_t h)
{
    const void *p = jc_field_cptr(ev, f);
    int64_t v = 0;
    switch (f->kind) {
    case JC_FIELD_UUID:
    case JC_FIELD_STRING: return jc_hash64(p, strnlen(p, f->size), h);
    case JC_FIELD_TIMESTAMP: v = *(const int64_t *)p; break;
    case JC_FIELD_COUNTY:
    case JC_FIELD_COUNT:
    case JC_FIELD_ENUM: v = *(const int32_t *)p; break;
    case JC_FIELD_BOOL: v = *(const bool *)p; break;
    case JC_FIELD_OPT_TIMESTAMP: {
        const jc_opt_time_t *t = p;
        v = t->present ? t->ms : INT64_MIN;
        break;
    }
    case JC_FIELD_OPT_BOOL: v = *(const jc_opt_bool_t *)p; break;
    }
    return jc_hash64(&v, sizeof v, h);
}

/* A count or boolean field at 0/false (only such fields are marked hash_when_set). */
static bool field_unset(const jc_event_t *ev, const jc_field_t *f)
{
    const void *p = jc_field_cptr(ev, f);
    return f->kind == JC_FIELD_BOOL ? !*(const bool *)p : *(const int32_t *)p == 0;
}

uint64_t jc_event_hash(const jc_event_t *ev)
{
    size_t n;
    const jc_field_t *f = jc_event_fields(ev->type, &n);
    uint64_t h = (uint64_t)ev->type;
    for (size_t i = 0; i < n; i++)
        if (!f[i].hash_when_set || !field_unset(ev, &f[i]))
            h = field_hash(ev, &f[i], h);
    return h;
}

bool jc_event_equal(const jc_event_t *a, const jc_event_t *b)
{
    if (a->type != b->type)
        return false;
    size_t n;
    const jc_field_t *f = jc_event_fields(a->type, &n);
    for (size_t i = 0; i < n; i++)
        if (!field_equal(a, b, &f[i]))
            return false;
    return true;
}
