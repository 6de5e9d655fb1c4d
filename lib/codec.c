/*
 * codec.c: typed events to and from Confluent-framed Avro (see jiceng/codec.h).
 *
 * Decoding untrusted bytes happens in three steps:
 *   1. the frame (jc_codec_frame, which a consumer also calls alone before anything else):
 *      size bounds, magic byte, schema id looked up in the catalog;
 *   2. a pre-scan of the Avro body against the writer schema's wire plan (catalog.c): every
 *      varint bounded, every length non-negative and within the message, every enum index and
 *      union branch in range, nothing left over. avro-c 1.11.1 allocates whatever a string
 *      length says before reading it, so nothing reaches avro-c that could make it allocate
 *      more than the message holds, and each defect gets its own status code;
 *   3. avro_value_read into the schema's reusable generic value, then a walk of the C field
 *      table copying each field out (strings checked for bounds and UTF-8), with fields the
 *      writer lacks left at the newest schema's defaults.
 * Encoding walks the writer schema's fields, sets the reusable value from the event and writes
 * it with a memory writer straight into the caller's buffer after the 5-byte header.
 */
#include "jiceng/codec.h"

#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "jiceng/fields.h"
#include "jiceng/validate.h"

#define MAX_SCHEMA_ID 4096

struct slot {
    const jc_schema_entry_t *entry;
    avro_value_iface_t *iface;
    avro_value_t value;
    int wire_to_c[JC_MAX_FIELDS]; /* schema field index -> C field index */
};

struct jc_codec {
    struct slot *slots[MAX_SCHEMA_ID + 1];
    avro_reader_t reader;
    avro_writer_t writer;
};

jc_codec_t *jc_codec_new(jc_error_t *err)
{
    if (jc_catalog_init(err) != JC_OK)
        return NULL;
    jc_codec_t *c = calloc(1, sizeof *c);
    static const char empty[1];
    if (c != NULL) {
        c->reader = avro_reader_memory(empty, 0);
        c->writer = avro_writer_memory((char *)empty, 0);
    }
    if (c == NULL || c->reader == NULL || c->writer == NULL) {
        jc_codec_free(c);
        jc_error_set(err, JC_ERR_NOMEM, "jc_codec_new: out of memory");
        return NULL;
    }
    return c;
}

void jc_codec_free(jc_codec_t *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i <= MAX_SCHEMA_ID; i++) {
        if (c->slots[i] == NULL)
            continue;
        avro_value_decref(&c->slots[i]->value);
        avro_value_iface_decref(c->slots[i]->iface);
        free(c->slots[i]);
    }
    if (c->reader)
        avro_reader_free(c->reader);
    if (c->writer)
        avro_writer_free(c->writer);
    free(c);
}

/* The catalog's entry for a schema id the codec handles; NULL (err set) if it is unknown. */
static const jc_schema_entry_t *known_schema(int32_t id, jc_error_t *err)
{
    const jc_schema_entry_t *e = jc_catalog_entry(id);
    if (e == NULL || id < 0 || id > MAX_SCHEMA_ID) {
        jc_error_set(err, JC_ERR_UNKNOWN_SCHEMA, "schema id %d is not in the catalog", (int)id);
        return NULL;
    }
    return e;
}

/* The reusable value for a schema id, created on first use; NULL if the id is unknown. */
static struct slot *slot_for(jc_codec_t *c, int32_t id, jc_error_t *err)
{
    const jc_schema_entry_t *e = known_schema(id, err);
    if (e == NULL)
        return NULL;
    if (c->slots[id] != NULL)
        return c->slots[id];
    struct slot *s = calloc(1, sizeof *s);
    if (s == NULL || (s->iface = avro_generic_class_from_schema(e->schema)) == NULL ||
        avro_generic_value_new(s->iface, &s->value) != 0) {
        if (s && s->iface)
            avro_value_iface_decref(s->iface);
        free(s);
        jc_error_set(err, JC_ERR_NOMEM, "schema id %d: cannot create avro value: %s", (int)id, avro_strerror());
        return NULL;
    }
    s->entry = e;
    size_t nc;
    jc_event_fields(e->info.type, &nc);
    for (size_t f = 0; f < nc; f++)
        if (e->field_index[f] >= 0)
            s->wire_to_c[e->field_index[f]] = (int)f;
    c->slots[id] = s;
    return s;
}

/* ---- pre-scan of untrusted Avro ------------------------------------------------------ */

struct cursor {
    const uint8_t *p, *end;
    const char *field;
    jc_error_t *err;
};

/* The zigzag varint at the cursor into *out (0 when it fails: the caller's value is always
 * defined, whatever status jc_error_set hands back). */
static jc_status_t scan_varint(struct cursor *c, int64_t *out)
{
    uint64_t v = 0;
    *out = 0;
    for (int i = 0; i < 10; i++) {
        if (c->p == c->end)
            return jc_error_set(c->err, JC_ERR_TRUNCATED, "%s: message ends inside a number", c->field);
        uint8_t b = *c->p++;
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *out = (int64_t)((v >> 1) ^ -(v & 1));
            return JC_OK;
        }
    }
    return jc_error_set(c->err, JC_ERR_MALFORMED, "%s: varint longer than 10 bytes", c->field);
}

static jc_status_t scan_fixed(struct cursor *c, size_t n)
{
    if ((size_t)(c->end - c->p) < n)
        return jc_error_set(c->err, JC_ERR_TRUNCATED, "%s: message ends inside the value", c->field);
    c->p += n;
    return JC_OK;
}

static jc_status_t scan_kind(struct cursor *c, jc_wire_kind_t kind, int32_t nsymbols)
{
    int64_t v = 0;
    jc_status_t st;
    switch (kind) {
    case JC_WIRE_NULL: return JC_OK;
    case JC_WIRE_FLOAT: return scan_fixed(c, 4);
    case JC_WIRE_DOUBLE: return scan_fixed(c, 8);
    case JC_WIRE_LONG: return scan_varint(c, &v);
    case JC_WIRE_BOOLEAN:
        if ((st = scan_fixed(c, 1)) != JC_OK)
            return st;
        return c->p[-1] <= 1 ? JC_OK
               : jc_error_set(c->err, JC_ERR_MALFORMED, "%s: boolean byte %u is not 0 or 1", c->field, c->p[-1]);
    case JC_WIRE_INT:
        if ((st = scan_varint(c, &v)) != JC_OK)
            return st;
        return v >= INT32_MIN && v <= INT32_MAX ? JC_OK
               : jc_error_set(c->err, JC_ERR_MALFORMED, "%s: %lld does not fit an int", c->field, (long long)v);
    case JC_WIRE_STRING:
        if ((st = scan_varint(c, &v)) != JC_OK)
            return st;
        if (v < 0)
            return jc_error_set(c->err, JC_ERR_NEGATIVE_LENGTH, "%s: negative length %lld", c->field, (long long)v);
        if (v > c->end - c->p)
            return jc_error_set(c->err, JC_ERR_TRUNCATED, "%s: length %lld but %zu bytes left", c->field,
                                (long long)v, (size_t)(c->end - c->p));
        c->p += v;
        return JC_OK;
    case JC_WIRE_ENUM:
        if ((st = scan_varint(c, &v)) != JC_OK)
            return st;
        return v >= 0 && v < nsymbols ? JC_OK
               : jc_error_set(c->err, JC_ERR_ENUM_RANGE, "%s: enum index %lld outside 0..%d", c->field,
                              (long long)v, (int)nsymbols - 1);
    case JC_WIRE_UNION: break;
    }
    return jc_error_set(c->err, JC_ERR_MALFORMED, "%s: unsupported wire kind", c->field);
}

static jc_status_t scan_body(const jc_schema_entry_t *e, const uint8_t *p, size_t len, jc_error_t *err)
{
    struct cursor c = {p, p + len, NULL, err};
    for (size_t i = 0; i < e->nwire; i++) {
        const jc_wire_step_t *w = &e->wire[i];
        c.field = w->name;
        jc_status_t st;
        if (w->kind != JC_WIRE_UNION) {
            st = scan_kind(&c, w->kind, w->nsymbols);
        } else {
            int64_t b;
            if ((st = scan_varint(&c, &b)) != JC_OK)
                return st;
            if (b < 0 || b >= w->nbranches)
                return jc_error_set(err, JC_ERR_MALFORMED, "%s: union branch %lld outside 0..%d",
                                    c.field, (long long)b, w->nbranches - 1);
            st = scan_kind(&c, w->branch[b], w->branch_nsymbols[b]);
        }
        if (st != JC_OK)
            return st;
    }
    if (c.p != c.end)
        return jc_error_set(err, JC_ERR_TRAILING_BYTES, "%zu bytes after the record", (size_t)(c.end - c.p));
    return JC_OK;
}

/* ---- decode -------------------------------------------------------------------------- */

static jc_status_t copy_string(avro_value_t *fv, const jc_field_t *f, char *dst, jc_error_t *err)
{
    const char *s;
    size_t size;
    if (avro_value_get_string(fv, &s, &size) != 0)
        return jc_error_set(err, JC_ERR_MALFORMED, "%s: %s", f->name, avro_strerror());
    size_t len = size > 0 ? size - 1 : 0;
    if (len >= f->size)
        return jc_error_set(err, JC_ERR_TOO_LONG, "%s: %zu bytes, at most %zu allowed", f->name, len, f->size - 1);
    if (memchr(s, '\0', len) != NULL)
        return jc_error_set(err, JC_ERR_BAD_UTF8, "%s: contains a NUL byte", f->name);
    if (!jc_utf8_valid(s, len))
        return jc_error_set(err, JC_ERR_BAD_UTF8, "%s: not valid UTF-8", f->name);
    memcpy(dst, s, len);
    dst[len] = '\0';
    return JC_OK;
}

/* The value of a nullable field: *present and, if present, the branch in *branch. */
static int nullable_branch(avro_value_t *fv, avro_value_t *branch, bool *present)
{
    int disc;
    if (avro_value_get_discriminant(fv, &disc) != 0)
        return -1;
    *present = disc == 1;
    return *present ? avro_value_get_current_branch(fv, branch) : 0;
}

static jc_status_t copy_field(avro_value_t *fv, const jc_field_t *f, jc_event_t *ev, jc_error_t *err)
{
    void *p = jc_field_ptr(ev, f);
    avro_value_t br;
    bool present = false;
    int rc = 0, i = 0;
    switch (f->kind) {
    case JC_FIELD_UUID:
    case JC_FIELD_STRING: return copy_string(fv, f, p, err);
    case JC_FIELD_TIMESTAMP: rc = avro_value_get_long(fv, p); break;
    case JC_FIELD_COUNTY:
    case JC_FIELD_COUNT: rc = avro_value_get_int(fv, p); break;
    case JC_FIELD_BOOL: rc = avro_value_get_boolean(fv, &i); *(bool *)p = i != 0; break;
    case JC_FIELD_ENUM:
        rc = avro_value_get_enum(fv, &i);
        if (rc == 0 && (i < 0 || i >= f->nsymbols))
            return jc_error_set(err, JC_ERR_ENUM_RANGE, "%s: enum index %d out of range", f->name, i);
        *(int32_t *)p = i;
        break;
    case JC_FIELD_OPT_TIMESTAMP: {
        jc_opt_time_t *t = p;
        rc = nullable_branch(fv, &br, &present);
        t->present = present;
        if (rc == 0 && present)
            rc = avro_value_get_long(&br, &t->ms);
        break;
    }
    case JC_FIELD_OPT_BOOL:
        rc = nullable_branch(fv, &br, &present);
        *(jc_opt_bool_t *)p = JC_NULL;
        if (rc == 0 && present && (rc = avro_value_get_boolean(&br, &i)) == 0)
            *(jc_opt_bool_t *)p = (jc_opt_bool_t)(i != 0);
        break;
    }
    return rc == 0 ? JC_OK : jc_error_set(err, JC_ERR_MALFORMED, "%s: %s", f->name, avro_strerror());
}

static int32_t read_be32(const uint8_t *p)
{
    return (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
}

jc_status_t jc_codec_frame(jc_codec_t *c, const void *data, size_t len, int32_t *schema_id,
                           jc_event_type_t *type, jc_error_t *err)
{
    (void)c; /* the catalog it was made over is loaded */
    const uint8_t *b = data;
    if (schema_id != NULL)
        *schema_id = -1;
    if (len > JC_MAX_MESSAGE_BYTES)
        return jc_error_set(err, JC_ERR_OVERSIZED, "message of %zu bytes exceeds %d", len, JC_MAX_MESSAGE_BYTES);
    if (len < JC_WIRE_HEADER_LEN)
        return jc_error_set(err, JC_ERR_TRUNCATED, "message of %zu bytes is shorter than the 5-byte header", len);
    if (b[0] != JC_WIRE_MAGIC)
        return jc_error_set(err, JC_ERR_BAD_MAGIC, "magic byte is 0x%02x, not 0x00", b[0]);
    int32_t id = read_be32(b + 1);
    if (schema_id != NULL)
        *schema_id = id;
    const jc_schema_entry_t *e = known_schema(id, err);
    if (e == NULL)
        return JC_ERR_UNKNOWN_SCHEMA;
    if (type != NULL)
        *type = e->info.type;
    return JC_OK;
}

jc_status_t jc_codec_decode(jc_codec_t *c, const void *data, size_t len, jc_event_t *ev,
                            int32_t *schema_id, jc_error_t *err)
{
    const uint8_t *b = data;
    int32_t id;
    jc_status_t st = jc_codec_frame(c, data, len, &id, NULL, err);
    if (schema_id != NULL)
        *schema_id = id;
    if (st != JC_OK)
        return st;
    struct slot *s = slot_for(c, id, err);
    if (s == NULL)
        return JC_ERR_UNKNOWN_SCHEMA;
    st = scan_body(s->entry, b + JC_WIRE_HEADER_LEN, len - JC_WIRE_HEADER_LEN, err);
    if (st != JC_OK)
        return st;
    avro_reader_memory_set_source(c->reader, (const char *)b + JC_WIRE_HEADER_LEN,
                                  (int64_t)(len - JC_WIRE_HEADER_LEN));
    if (avro_value_read(c->reader, &s->value) != 0)
        return jc_error_set(err, JC_ERR_MALFORMED, "avro: %s", avro_strerror());
    jc_event_init(ev, s->entry->info.type);
    size_t nc;
    const jc_field_t *cf = jc_event_fields(ev->type, &nc);
    for (size_t f = 0; f < nc; f++) {
        int idx = s->entry->field_index[f];
        avro_value_t fv;
        if (idx < 0)
            continue; /* not in this writer's schema: keeps its default */
        if (avro_value_get_by_index(&s->value, (size_t)idx, &fv, NULL) != 0)
            return jc_error_set(err, JC_ERR_MALFORMED, "%s: %s", cf[f].name, avro_strerror());
        if ((st = copy_field(&fv, &cf[f], ev, err)) != JC_OK)
            return st;
    }
    return JC_OK;
}

/* ---- encode -------------------------------------------------------------------------- */

static int set_nullable(avro_value_t *fv, bool present, avro_value_t *branch)
{
    int rc = avro_value_set_branch(fv, present ? 1 : 0, branch);
    return rc != 0 || present ? rc : avro_value_set_null(branch);
}

static jc_status_t set_field(avro_value_t *fv, const jc_field_t *f, const jc_event_t *ev, jc_error_t *err)
{
    const void *p = jc_field_cptr(ev, f);
    avro_value_t br;
    int rc = 0;
    switch (f->kind) {
    case JC_FIELD_UUID:
    case JC_FIELD_STRING: {
        size_t len = strnlen(p, f->size);
        if (len == f->size)
            return jc_error_set(err, JC_ERR_TOO_LONG, "%s: not NUL-terminated within %zu bytes", f->name, f->size);
        rc = avro_value_set_string_len(fv, p, len + 1);
        break;
    }
    case JC_FIELD_TIMESTAMP: rc = avro_value_set_long(fv, *(const int64_t *)p); break;
    case JC_FIELD_COUNTY:
    case JC_FIELD_COUNT: rc = avro_value_set_int(fv, *(const int32_t *)p); break;
    case JC_FIELD_BOOL: rc = avro_value_set_boolean(fv, *(const bool *)p); break;
    case JC_FIELD_ENUM: {
        int32_t i = *(const int32_t *)p;
        if (i < 0 || i >= f->nsymbols)
            return jc_error_set(err, JC_ERR_ENUM_RANGE, "%s: enum index %d out of range", f->name, (int)i);
        rc = avro_value_set_enum(fv, i);
        break;
    }
    case JC_FIELD_OPT_TIMESTAMP: {
        const jc_opt_time_t *t = p;
        if ((rc = set_nullable(fv, t->present, &br)) == 0 && t->present)
            rc = avro_value_set_long(&br, t->ms);
        break;
    }
    case JC_FIELD_OPT_BOOL: {
        jc_opt_bool_t b = *(const jc_opt_bool_t *)p;
        if ((rc = set_nullable(fv, b != JC_NULL, &br)) == 0 && b != JC_NULL)
            rc = avro_value_set_boolean(&br, b != 0);
        break;
    }
    }
    return rc == 0 ? JC_OK : jc_error_set(err, JC_ERR_MALFORMED, "%s: %s", f->name, avro_strerror());
}

jc_status_t jc_codec_encode_as(jc_codec_t *c, int32_t schema_id, const jc_event_t *ev,
                               jc_buf_t *out, jc_error_t *err)
{
    struct slot *s = slot_for(c, schema_id, err);
    if (s == NULL)
        return JC_ERR_UNKNOWN_SCHEMA;
    if (s->entry->info.type != ev->type)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "schema id %d is for %s, the event is a %s",
                            (int)schema_id, jc_event_type_name(s->entry->info.type), jc_event_type_name(ev->type));
    size_t nc;
    const jc_field_t *cf = jc_event_fields(ev->type, &nc);
    for (size_t i = 0; i < s->entry->nwire; i++) {
        avro_value_t fv;
        if (avro_value_get_by_index(&s->value, i, &fv, NULL) != 0)
            return jc_error_set(err, JC_ERR_MALFORMED, "avro: %s", avro_strerror());
        jc_status_t st = set_field(&fv, &cf[s->wire_to_c[i]], ev, err);
        if (st != JC_OK)
            return st;
    }
    jc_buf_reset(out);
    if (jc_buf_reserve(out, JC_WIRE_HEADER_LEN + JC_MAX_MESSAGE_BYTES) != JC_OK)
        return jc_error_set(err, JC_ERR_NOMEM, "encode: out of memory");
    uint8_t *h = out->data;
    h[0] = JC_WIRE_MAGIC;
    h[1] = (uint8_t)((uint32_t)schema_id >> 24);
    h[2] = (uint8_t)((uint32_t)schema_id >> 16);
    h[3] = (uint8_t)((uint32_t)schema_id >> 8);
    h[4] = (uint8_t)schema_id;
    avro_writer_memory_set_dest(c->writer, (char *)h + JC_WIRE_HEADER_LEN,
                                JC_MAX_MESSAGE_BYTES - JC_WIRE_HEADER_LEN);
    if (avro_value_write(c->writer, &s->value) != 0)
        return jc_error_set(err, JC_ERR_OVERSIZED, "encode: record exceeds %d bytes: %s",
                            JC_MAX_MESSAGE_BYTES, avro_strerror());
    out->len = JC_WIRE_HEADER_LEN + (size_t)avro_writer_tell(c->writer);
    return JC_OK;
}

jc_status_t jc_codec_encode(jc_codec_t *c, const jc_event_t *ev, jc_buf_t *out, jc_error_t *err)
{
    const jc_schema_info_t *latest = jc_catalog_latest(ev->type);
    if (latest == NULL)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "no schema for event type %d", (int)ev->type);
    return jc_codec_encode_as(c, latest->id, ev, out, err);
}
