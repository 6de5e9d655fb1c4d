/*
 * jiceng/catalog.h: the schema catalog built into libjiceng.
 *
 * schemas/avro/catalog.csv fixes a numeric id for every schema version (id, type, version,
 * file); ids are never reused. At build time the catalog and every .avsc are embedded in the
 * library, so nothing is looked up on disk at run time. jc_catalog_init parses them once per
 * process (thread-safe), checks each against the C field table (jiceng/fields.h), computes each
 * schema's CRC-64-AVRO fingerprint of its Parsing Canonical Form, and reads the defaults of
 * fields that later versions added, so that older messages decode with those defaults.
 */
#ifndef JICENG_CATALOG_H
#define JICENG_CATALOG_H

#include <stdbool.h>
#include <stdint.h>

#include "jiceng/event.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct jc_schema_info {
    int32_t id;              /**< the schema id messages carry (Confluent wire format) */
    jc_event_type_t type;
    int version;             /**< 1, 2, ... per type */
    const char *file;        /**< e.g. "visit.v1.avsc" */
    const char *json;        /**< the schema text as committed */
    uint64_t fingerprint;    /**< CRC-64-AVRO (Rabin) of the Parsing Canonical Form */
    bool latest;             /**< the newest version of its type (what producers write) */
} jc_schema_info_t;

/** Parse and check the embedded catalog; idempotent and thread-safe. Every other catalog and
 *  codec call runs it implicitly; call it first to learn why the catalog is unusable. */
JC_API jc_status_t jc_catalog_init(jc_error_t *err);

/** How many schema versions the catalog holds (0 if it failed to initialise). */
JC_API size_t jc_catalog_count(void);

/** The i-th schema, in catalog (id) order; NULL past the end. */
JC_API const jc_schema_info_t *jc_catalog_at(size_t i);

/** The schema with this id, or NULL. */
JC_API const jc_schema_info_t *jc_catalog_by_id(int32_t id);

/** The newest schema of type (what producers encode with), or NULL. */
JC_API const jc_schema_info_t *jc_catalog_latest(jc_event_type_t type);

/** true if field number index of type's field table may be left out of text input (NDJSON,
 *  CSV): it is nullable, or the newest schema of the type declares a default for it. */
JC_API bool jc_field_optional(jc_event_type_t type, size_t index);

/** CRC-64-AVRO (the Rabin fingerprint of the Avro specification) of len bytes. */
JC_API uint64_t jc_fingerprint64(const void *data, size_t len);

#ifdef __cplusplus
}
#endif
#endif
