/*
 * jiceng/fields.h: every field of every event type, described as data.
 *
 * The table (lib/fields.c) says for each field its contract name, its kind (which fixes both
 * its C representation in jc_event_t and its Avro type), where it lives in jc_event_t, its
 * bound and, for enums, its symbols. The codec, the NDJSON mapping and validation walk this one
 * table instead of each spelling out the fields again, and the catalog checks at start-up that
 * every schema in schemas/avro/ agrees with it.
 */
#ifndef JICENG_FIELDS_H
#define JICENG_FIELDS_H

#include <stdbool.h>
#include <stddef.h>

#include "jiceng/event.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum jc_field_kind {
    JC_FIELD_UUID,          /**< char[JC_UUID_LEN+1]; Avro string, logicalType uuid */
    JC_FIELD_STRING,        /**< char[size]; Avro string; non-empty, at most size-1 bytes, UTF-8 */
    JC_FIELD_TIMESTAMP,     /**< int64_t epoch ms; Avro long, logicalType timestamp-millis */
    JC_FIELD_COUNTY,        /**< int32_t six-digit county code; Avro int */
    JC_FIELD_COUNT,         /**< int32_t, must be >= 0; Avro int */
    JC_FIELD_BOOL,          /**< bool; Avro boolean */
    JC_FIELD_ENUM,          /**< int32_t symbol index; Avro enum */
    JC_FIELD_OPT_TIMESTAMP, /**< jc_opt_time_t; Avro ["null", timestamp-millis long] */
    JC_FIELD_OPT_BOOL,      /**< jc_opt_bool_t; Avro ["null", "boolean"] */
} jc_field_kind_t;

typedef struct jc_field {
    const char *name;             /**< contract (Avro, NDJSON, CSV header) name */
    jc_field_kind_t kind;
    size_t offset;                /**< byte offset of the value in jc_event_t */
    size_t size;                  /**< strings: buffer size including the NUL */
    const char *const *symbols;   /**< enums: the symbols, in Avro order */
    int nsymbols;                 /**< enums: how many */
    bool hash_when_set;           /**< jc_event_hash covers it only when it is not 0/false: the
                                       envelope's revision and withdrawn, added after ledgers
                                       began storing content hashes, so an event at revision 0
                                       hashes as it did before they existed */
} jc_field_t;

/** The fields of type, the envelope first (event_id, occurred_at, county_code, source, revision,
 *  withdrawn), then the body in the order of the newest schema version. *count receives how
 *  many. */
JC_API const jc_field_t *jc_event_fields(jc_event_type_t type, size_t *count);

/** The field of type called name, or NULL. */
JC_API const jc_field_t *jc_event_field(jc_event_type_t type, const char *name);

/** The index of symbol in an enum field, or -1. */
JC_API int jc_field_symbol_index(const jc_field_t *f, const char *symbol);

/** Where field f of ev lives (cast to the kind's C type). */
static inline void *jc_field_ptr(jc_event_t *ev, const jc_field_t *f)
{
    return (char *)ev + f->offset;
}
static inline const void *jc_field_cptr(const jc_event_t *ev, const jc_field_t *f)
{
    return (const char *)ev + f->offset;
}

#ifdef __cplusplus
}
#endif
#endif
