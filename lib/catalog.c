/*
 * catalog.c: the schema catalog built into the library (see jiceng/catalog.h).
 *
 * On first use (pthread_once) it reads the embedded schemas/avro/catalog.csv, parses every
 * listed .avsc with avro-c, and for each schema:
 *   - builds a wire plan (jc_wire_step_t per field) that lets the codec pre-scan untrusted
 *     bytes before avro-c touches them;
 *   - maps every C field (jiceng/fields.h) to its index in the schema, checking that the Avro
 *     type matches the field's kind and that enum symbols match the C list exactly;
 *   - computes the CRC-64-AVRO fingerprint of its Parsing Canonical Form.
 * The newest version of each type must carry every C field; a field an older version lacks
 * must have a "default" in the newest, which is read here (with jansson: avro-c 1.11 keeps no
 * defaults) and applied by jc_catalog_apply_defaults.
 */
#include "jiceng/catalog.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "jiceng/buf.h"
#include "jiceng/fields.h"

#define MAX_SCHEMAS 64

struct field_default {
    bool has;
    bool is_null;
    int64_t value; /* integers, booleans, enum symbol index */
};

static struct {
    jc_schema_entry_t entries[MAX_SCHEMAS];
    size_t count;
    const jc_schema_entry_t *latest[JC_EVENT_TYPE_COUNT];
    struct field_default defaults[JC_EVENT_TYPE_COUNT][JC_MAX_FIELDS];
    jc_status_t status;
    jc_error_t err;
} cat;

static pthread_once_t cat_once = PTHREAD_ONCE_INIT;

/* ---- CRC-64-AVRO --------------------------------------------------------------------- */

#define CRC64_AVRO_EMPTY 0xc15d213aa4d7a795ULL
static uint64_t crc64_table[256];
static pthread_once_t crc64_once = PTHREAD_ONCE_INIT;

static void crc64_build(void)
{
    for (int i = 0; i < 256; i++) {
        uint64_t fp = (uint64_t)i;
        for (int j = 0; j < 8; j++)
            fp = (fp >> 1) ^ (CRC64_AVRO_EMPTY & -(fp & 1));
        crc64_table[i] = fp;
    }
}

uint64_t jc_fingerprint64(const void *data, size_t len)
{
    pthread_once(&crc64_once, crc64_build);
    const unsigned char *p = data;
    uint64_t fp = CRC64_AVRO_EMPTY;
    for (size_t i = 0; i < len; i++)
        fp = (fp >> 8) ^ crc64_table[(fp ^ p[i]) & 0xff];
    return fp;
}

/* ---- Parsing Canonical Form ---------------------------------------------------------- */

struct pcf_names {
    char seen[MAX_SCHEMAS][256];
    size_t n;
};

static int is_primitive(const char *t)
{
    static const char *const prims[] = {"null", "boolean", "int", "long",
                                        "float", "double", "bytes", "string"};
    for (size_t i = 0; i < JC_ARRAY_LEN(prims); i++)
        if (strcmp(t, prims[i]) == 0)
            return 1;
    return 0;
}

static void fullname(const char *name, const char *ns, char *out, size_t len)
{
    if (strchr(name, '.') != NULL || ns == NULL || *ns == '\0')
        snprintf(out, len, "%s", name);
    else
        snprintf(out, len, "%s.%s", ns, name);
}

static int pcf_seen(struct pcf_names *names, const char *full)
{
    for (size_t i = 0; i < names->n; i++)
        if (strcmp(names->seen[i], full) == 0)
            return 1;
    if (names->n < MAX_SCHEMAS)
        snprintf(names->seen[names->n++], sizeof names->seen[0], "%s", full);
    return 0;
}

static jc_status_t pcf_append(json_t *s, const char *ns, jc_buf_t *o, struct pcf_names *names);

static jc_status_t pcf_named(json_t *s, const char *type, const char *ns, jc_buf_t *o,
                             struct pcf_names *names)
{
    const char *name = json_string_value(json_object_get(s, "name"));
    const char *own_ns = json_string_value(json_object_get(s, "namespace"));
    if (name == NULL)
        return JC_ERR_PARSE;
    char full[256];
    fullname(name, own_ns ? own_ns : ns, full, sizeof full);
    jc_status_t st = JC_OK;
    if (pcf_seen(names, full)) {
        jc_buf_append_str(o, "\"");
        jc_buf_append_str(o, full);
        return jc_buf_append_str(o, "\"");
    }
    char inner_ns[256];
    snprintf(inner_ns, sizeof inner_ns, "%s", full);
    char *dot = strrchr(inner_ns, '.');
    if (dot != NULL)
        *dot = '\0';
    else
        inner_ns[0] = '\0';
    jc_buf_append_str(o, "{\"name\":\"");
    jc_buf_append_str(o, full);
    jc_buf_append_str(o, "\",\"type\":\"");
    jc_buf_append_str(o, type);
    jc_buf_append_str(o, "\"");
    if (strcmp(type, "record") == 0) {
        json_t *fields = json_object_get(s, "fields");
        size_t i;
        json_t *f;
        jc_buf_append_str(o, ",\"fields\":[");
        json_array_foreach(fields, i, f) {
            const char *fname = json_string_value(json_object_get(f, "name"));
            if (fname == NULL)
                return JC_ERR_PARSE;
            jc_buf_append_str(o, i ? ",{\"name\":\"" : "{\"name\":\"");
            jc_buf_append_str(o, fname);
            jc_buf_append_str(o, "\",\"type\":");
            if ((st = pcf_append(json_object_get(f, "type"), inner_ns, o, names)) != JC_OK)
                return st;
            jc_buf_append_str(o, "}");
        }
        jc_buf_append_str(o, "]");
    } else if (strcmp(type, "enum") == 0) {
        json_t *syms = json_object_get(s, "symbols");
        size_t i;
        json_t *sym;
        jc_buf_append_str(o, ",\"symbols\":[");
        json_array_foreach(syms, i, sym) {
            jc_buf_append_str(o, i ? ",\"" : "\"");
            jc_buf_append_str(o, json_string_value(sym));
            jc_buf_append_str(o, "\"");
        }
        jc_buf_append_str(o, "]");
    } else { /* fixed */
        char size[32];
        snprintf(size, sizeof size, ",\"size\":%lld",
                 (long long)json_integer_value(json_object_get(s, "size")));
        jc_buf_append_str(o, size);
    }
    return jc_buf_append_str(o, "}");
}

/* Append the Parsing Canonical Form of schema s (enclosing namespace ns) to o. */
static jc_status_t pcf_append(json_t *s, const char *ns, jc_buf_t *o, struct pcf_names *names)
{
    if (json_is_string(s)) {
        const char *t = json_string_value(s);
        char full[256];
        if (is_primitive(t))
            snprintf(full, sizeof full, "%s", t);
        else
            fullname(t, ns, full, sizeof full);
        jc_buf_append_str(o, "\"");
        jc_buf_append_str(o, full);
        return jc_buf_append_str(o, "\"");
    }
    if (json_is_array(s)) {
        size_t i;
        json_t *b;
        jc_buf_append_str(o, "[");
        json_array_foreach(s, i, b) {
            if (i)
                jc_buf_append_str(o, ",");
            jc_status_t st = pcf_append(b, ns, o, names);
            if (st != JC_OK)
                return st;
        }
        return jc_buf_append_str(o, "]");
    }
    json_t *type = json_object_get(s, "type");
    if (!json_is_string(type))
        return type ? pcf_append(type, ns, o, names) : JC_ERR_PARSE;
    const char *t = json_string_value(type);
    if (is_primitive(t))
        return pcf_append(type, ns, o, names);
    if (strcmp(t, "record") == 0 || strcmp(t, "enum") == 0 || strcmp(t, "fixed") == 0)
        return pcf_named(s, t, ns, o, names);
    if (strcmp(t, "array") == 0 || strcmp(t, "map") == 0) {
        int arr = t[0] == 'a';
        jc_buf_append_str(o, arr ? "{\"type\":\"array\",\"items\":" : "{\"type\":\"map\",\"values\":");
        jc_status_t st = pcf_append(json_object_get(s, arr ? "items" : "values"), ns, o, names);
        if (st != JC_OK)
            return st;
        return jc_buf_append_str(o, "}");
    }
    return pcf_append(type, ns, o, names); /* a reference to a named type */
}

/* ---- loading ------------------------------------------------------------------------- */

static jc_status_t wire_kind_of(avro_schema_t s, jc_wire_kind_t *kind, int32_t *nsymbols)
{
    *nsymbols = 0;
    switch (avro_typeof(s)) {
    case AVRO_NULL: *kind = JC_WIRE_NULL; return JC_OK;
    case AVRO_BOOLEAN: *kind = JC_WIRE_BOOLEAN; return JC_OK;
    case AVRO_INT32: *kind = JC_WIRE_INT; return JC_OK;
    case AVRO_INT64: *kind = JC_WIRE_LONG; return JC_OK;
    case AVRO_FLOAT: *kind = JC_WIRE_FLOAT; return JC_OK;
    case AVRO_DOUBLE: *kind = JC_WIRE_DOUBLE; return JC_OK;
    case AVRO_STRING:
    case AVRO_BYTES: *kind = JC_WIRE_STRING; return JC_OK;
    case AVRO_ENUM:
        *kind = JC_WIRE_ENUM;
        *nsymbols = (int32_t)avro_schema_enum_number_of_symbols(s);
        return JC_OK;
    default: return JC_ERR_PARSE;
    }
}

static jc_status_t wire_step_of(avro_schema_t s, jc_wire_step_t *st)
{
    memset(st, 0, sizeof *st);
    if (avro_typeof(s) != AVRO_UNION)
        return wire_kind_of(s, &st->kind, &st->nsymbols);
    st->kind = JC_WIRE_UNION;
    st->nbranches = (int)avro_schema_union_size(s);
    if (st->nbranches < 1 || st->nbranches > 4)
        return JC_ERR_PARSE;
    for (int b = 0; b < st->nbranches; b++)
        if (wire_kind_of(avro_schema_union_branch(s, b), &st->branch[b], &st->branch_nsymbols[b]) != JC_OK)
            return JC_ERR_PARSE;
    return JC_OK;
}

static int enum_matches(avro_schema_t s, const jc_field_t *f)
{
    if ((int)avro_schema_enum_number_of_symbols(s) != f->nsymbols)
        return 0;
    for (int i = 0; i < f->nsymbols; i++)
        if (strcmp(avro_schema_enum_get(s, i), f->symbols[i]) != 0)
            return 0;
    return 1;
}

static int nullable_of(avro_schema_t s, avro_type_t t)
{
    return avro_typeof(s) == AVRO_UNION && avro_schema_union_size(s) == 2 &&
           avro_typeof(avro_schema_union_branch(s, 0)) == AVRO_NULL &&
           avro_typeof(avro_schema_union_branch(s, 1)) == t;
}

static int kind_matches(const jc_field_t *f, avro_schema_t s)
{
    switch (f->kind) {
    case JC_FIELD_UUID:
    case JC_FIELD_STRING: return avro_typeof(s) == AVRO_STRING;
    case JC_FIELD_TIMESTAMP: return avro_typeof(s) == AVRO_INT64;
    case JC_FIELD_COUNTY:
    case JC_FIELD_COUNT: return avro_typeof(s) == AVRO_INT32;
    case JC_FIELD_BOOL: return avro_typeof(s) == AVRO_BOOLEAN;
    case JC_FIELD_ENUM: return avro_typeof(s) == AVRO_ENUM && enum_matches(s, f);
    case JC_FIELD_OPT_TIMESTAMP: return nullable_of(s, AVRO_INT64);
    case JC_FIELD_OPT_BOOL: return nullable_of(s, AVRO_BOOLEAN);
    }
    return 0;
}

static jc_status_t map_fields(jc_schema_entry_t *e, jc_error_t *err)
{
    const char *file = e->info.file;
    size_t nc;
    const jc_field_t *cf = jc_event_fields(e->info.type, &nc);
    for (size_t c = 0; c < nc; c++)
        e->field_index[c] = -1;
    e->nwire = avro_schema_record_size(e->schema);
    if (e->nwire > JC_MAX_FIELDS)
        return jc_error_set(err, JC_ERR_PARSE, "%s: more than %d fields", file, JC_MAX_FIELDS);
    for (size_t i = 0; i < e->nwire; i++) {
        const char *name = avro_schema_record_field_name(e->schema, (int)i);
        avro_schema_t fs = avro_schema_record_field_get_by_index(e->schema, (int)i);
        jc_status_t ws = wire_step_of(fs, &e->wire[i]);
        e->wire[i].name = name;
        if (ws != JC_OK)
            return jc_error_set(err, JC_ERR_PARSE, "%s: field %s has a type the codec does not support", file, name);
        const jc_field_t *f = jc_event_field(e->info.type, name);
        if (f == NULL)
            return jc_error_set(err, JC_ERR_PARSE, "%s: field %s has no C field in lib/fields.c", file, name);
        if (!kind_matches(f, fs))
            return jc_error_set(err, JC_ERR_PARSE, "%s: field %s does not match its C field's kind or enum symbols", file, name);
        e->field_index[f - cf] = (int)i;
    }
    return JC_OK;
}

static jc_status_t load_defaults(const jc_schema_entry_t *latest, jc_error_t *err)
{
    json_error_t je;
    json_t *root = json_loads(latest->info.json, 0, &je);
    if (root == NULL)
        return jc_error_set(err, JC_ERR_PARSE, "%s: %s", latest->info.file, je.text);
    size_t nc, i;
    const jc_field_t *cf = jc_event_fields(latest->info.type, &nc);
    json_t *f;
    jc_status_t st = JC_OK;
    json_array_foreach(json_object_get(root, "fields"), i, f) {
        json_t *def = json_object_get(f, "default");
        const jc_field_t *c = jc_event_field(latest->info.type, json_string_value(json_object_get(f, "name")));
        if (def == NULL || c == NULL)
            continue;
        struct field_default *d = &cat.defaults[latest->info.type][c - cf];
        d->has = true;
        d->is_null = json_is_null(def);
        if (json_is_integer(def))
            d->value = json_integer_value(def);
        else if (json_is_boolean(def))
            d->value = json_is_true(def);
        else if (json_is_string(def) && c->kind == JC_FIELD_ENUM)
            d->value = jc_field_symbol_index(c, json_string_value(def));
        else if (!d->is_null)
            st = jc_error_set(err, JC_ERR_PARSE, "%s: default of %s is not supported", latest->info.file, c->name);
    }
    json_decref(root);
    return st;
}

static jc_status_t catalog_row(const char **fld, size_t n, size_t row, void *ud, jc_error_t *err)
{
    (void)ud;
    if (row == 1) /* header: id,type,version,file */
        return n == 4 && strcmp(fld[0], "id") == 0 ? JC_OK
               : jc_error_set(err, JC_ERR_PARSE, "catalog.csv:1: expected header id,type,version,file");
    if (n != 4 || cat.count == MAX_SCHEMAS)
        return jc_error_set(err, JC_ERR_PARSE, "catalog.csv:%zu: expected 4 columns", row);
    jc_schema_entry_t *e = &cat.entries[cat.count];
    char *end;
    long id = strtol(fld[0], &end, 10);
    if (*end != '\0' || id <= 0 || id > INT32_MAX)
        return jc_error_set(err, JC_ERR_PARSE, "catalog.csv:%zu: bad id '%s'", row, fld[0]);
    if (cat.count > 0 && id <= cat.entries[cat.count - 1].info.id)
        return jc_error_set(err, JC_ERR_PARSE, "catalog.csv:%zu: ids must be unique and ascending", row);
    if (jc_event_type_from_name(fld[1], &e->info.type, err) != JC_OK)
        return JC_ERR_PARSE;
    const jc_embedded_file_t *file = jc_embedded_find(jc_embedded_avro, jc_embedded_avro_count, fld[3]);
    if (file == NULL)
        return jc_error_set(err, JC_ERR_PARSE, "catalog.csv:%zu: %s is not embedded", row, fld[3]);
    e->info.id = (int32_t)id;
    e->info.version = atoi(fld[2]);
    e->info.file = file->name;
    e->info.json = (const char *)file->data;
    cat.count++;
    return JC_OK;
}

static jc_status_t load_schema(jc_schema_entry_t *e, jc_error_t *err)
{
    if (avro_schema_from_json_length(e->info.json, strlen(e->info.json), &e->schema) != 0)
        return jc_error_set(err, JC_ERR_PARSE, "%s: %s", e->info.file, avro_strerror());
    if (avro_typeof(e->schema) != AVRO_RECORD)
        return jc_error_set(err, JC_ERR_PARSE, "%s: not a record schema", e->info.file);
    json_error_t je;
    json_t *root = json_loads(e->info.json, 0, &je);
    if (root == NULL)
        return jc_error_set(err, JC_ERR_PARSE, "%s: %s", e->info.file, je.text);
    jc_buf_t pcf = {0};
    struct pcf_names names = {.n = 0};
    jc_status_t st = pcf_append(root, "", &pcf, &names);
    json_decref(root);
    if (st != JC_OK) {
        jc_buf_free(&pcf);
        return jc_error_set(err, JC_ERR_PARSE, "%s: cannot form its canonical form", e->info.file);
    }
    e->info.fingerprint = jc_fingerprint64(pcf.data, pcf.len);
    jc_buf_free(&pcf);
    return map_fields(e, err);
}

static jc_status_t check_evolution(jc_error_t *err)
{
    for (size_t i = 0; i < cat.count; i++) {
        const jc_schema_entry_t *e = &cat.entries[i];
        size_t nc;
        const jc_field_t *cf = jc_event_fields(e->info.type, &nc);
        for (size_t c = 0; c < nc; c++) {
            if (e->field_index[c] >= 0)
                continue;
            if (e->info.latest)
                return jc_error_set(err, JC_ERR_PARSE, "%s: newest %s schema lacks field %s",
                                    e->info.file, jc_event_type_name(e->info.type), cf[c].name);
            if (!cat.defaults[e->info.type][c].has)
                return jc_error_set(err, JC_ERR_PARSE, "%s lacks %s and the newest schema gives it no default",
                                    e->info.file, cf[c].name);
        }
    }
    return JC_OK;
}

static jc_status_t catalog_load(jc_error_t *err)
{
    const jc_embedded_file_t *csv = jc_embedded_find(jc_embedded_avro, jc_embedded_avro_count, "catalog.csv");
    if (csv == NULL)
        return jc_error_set(err, JC_ERR_PARSE, "catalog.csv is not embedded");
    jc_status_t st = jc_csv_each_row("catalog.csv", csv->data, csv->len, catalog_row, NULL, err);
    for (size_t i = 0; st == JC_OK && i < cat.count; i++)
        st = load_schema(&cat.entries[i], err);
    for (size_t i = 0; st == JC_OK && i < cat.count; i++) {
        jc_schema_entry_t *e = &cat.entries[i];
        const jc_schema_entry_t **l = &cat.latest[e->info.type];
        if (*l == NULL || (*l)->info.version < e->info.version)
            *l = e;
    }
    for (int t = 0; st == JC_OK && t < JC_EVENT_TYPE_COUNT; t++) {
        if (cat.latest[t] == NULL)
            return jc_error_set(err, JC_ERR_PARSE, "catalog has no schema for %s", jc_event_type_name(t));
        ((jc_schema_entry_t *)cat.latest[t])->info.latest = true;
        st = load_defaults(cat.latest[t], err);
    }
    return st == JC_OK ? check_evolution(err) : st;
}

static void catalog_once(void)
{
    cat.status = catalog_load(&cat.err);
    if (cat.status != JC_OK)
        cat.count = 0;
}

jc_status_t jc_catalog_init(jc_error_t *err)
{
    pthread_once(&cat_once, catalog_once);
    if (cat.status != JC_OK && err != NULL)
        *err = cat.err;
    return cat.status;
}

size_t jc_catalog_count(void)
{
    jc_catalog_init(NULL);
    return cat.count;
}

const jc_schema_info_t *jc_catalog_at(size_t i)
{
    return i < jc_catalog_count() ? &cat.entries[i].info : NULL;
}

const jc_schema_entry_t *jc_catalog_entry(int32_t id)
{
    size_t n = jc_catalog_count();
    if (n > 0 && id >= cat.entries[0].info.id && id <= cat.entries[n - 1].info.id) {
        /* ids are ascending and nearly dense: binary search */
        size_t lo = 0, hi = n;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (cat.entries[mid].info.id < id)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < n && cat.entries[lo].info.id == id)
            return &cat.entries[lo];
    }
    return NULL;
}

const jc_schema_info_t *jc_catalog_by_id(int32_t id)
{
    const jc_schema_entry_t *e = jc_catalog_entry(id);
    return e ? &e->info : NULL;
}

const jc_schema_info_t *jc_catalog_latest(jc_event_type_t type)
{
    if ((unsigned)type >= JC_EVENT_TYPE_COUNT || jc_catalog_count() == 0)
        return NULL;
    return &cat.latest[type]->info;
}

bool jc_field_optional(jc_event_type_t type, size_t index)
{
    size_t n;
    const jc_field_t *f = jc_event_fields(type, &n);
    if (index >= n || index >= JC_MAX_FIELDS)
        return false;
    if (f[index].kind == JC_FIELD_OPT_TIMESTAMP || f[index].kind == JC_FIELD_OPT_BOOL)
        return true;
    return jc_catalog_count() > 0 && cat.defaults[type][index].has;
}

void jc_catalog_apply_defaults(jc_event_t *ev)
{
    if ((unsigned)ev->type >= JC_EVENT_TYPE_COUNT || jc_catalog_count() == 0)
        return;
    size_t nc;
    const jc_field_t *cf = jc_event_fields(ev->type, &nc);
    for (size_t c = 0; c < nc; c++) {
        const struct field_default *d = &cat.defaults[ev->type][c];
        if (!d->has || d->is_null)
            continue; /* null defaults are what jc_event_init already set */
        void *p = jc_field_ptr(ev, &cf[c]);
        switch (cf[c].kind) {
        case JC_FIELD_COUNT:
        case JC_FIELD_COUNTY:
        case JC_FIELD_ENUM: *(int32_t *)p = (int32_t)d->value; break;
        case JC_FIELD_TIMESTAMP: *(int64_t *)p = d->value; break;
        case JC_FIELD_BOOL: *(bool *)p = d->value != 0; break;
        case JC_FIELD_OPT_BOOL: *(jc_opt_bool_t *)p = (jc_opt_bool_t)(d->value != 0); break;
        case JC_FIELD_OPT_TIMESTAMP: ((jc_opt_time_t *)p)->present = true; ((jc_opt_time_t *)p)->ms = d->value; break;
        default: break;
        }
    }
}
