/*
 * malformed.h: the kinds of malformed record jiceng-gen mixes into events.ndjson, and how
 * each is made from a valid event.
 */
#ifndef GEN_MALFORMED_H
#define GEN_MALFORMED_H

#include "jiceng/buf.h"
#include "model.h"

typedef enum gen_bad_kind {
    GEN_BAD_JSON,          /* not JSON: cut off mid-write, or a stray brace after the object */
    GEN_BAD_MISSING_FIELD, /* a required member deleted */
    GEN_BAD_NEGATIVE,      /* a count below zero */
    GEN_BAD_COUNTY,        /* a code outside the province, or a prefecture's code */
    GEN_BAD_ENUM,          /* a symbol the schema does not have */
    GEN_BAD_TYPE,          /* "type" names no event type */
    GEN_BAD_TOO_LONG,      /* a text over 128 bytes */
    GEN_BAD_FUTURE,        /* occurred_at a century after the period */
    GEN_BAD_SECONDS,       /* occurred_at in seconds, not milliseconds: a time in January 1970 */
    GEN_BAD_KIND_COUNT
} gen_bad_kind_t;

/* The status jc_ndjson_parse or, after it, jc_event_validate reports for a line of kind. */
jc_status_t gen_bad_status(gen_bad_kind_t kind);

/* A short name of kind for the manifest, e.g. "invalid_json". */
const char *gen_bad_name(gen_bad_kind_t kind);

/* Append one malformed line of kind (newline included) to out: e rendered with a fresh
 * event_id drawn from rng, then broken in one way drawn from rng. */
jc_status_t gen_bad_line(const gen_world_t *w, const gen_event_t *e, gen_bad_kind_t kind,
                         gen_rng_t *rng, jc_buf_t *out, jc_error_t *err);

#endif
