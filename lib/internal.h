/*
 * internal.h: what the library's own modules share and nothing outside the library sees.
 */
#ifndef JICENG_INTERNAL_H
#define JICENG_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "jiceng/event.h"

#define JC_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* A file embedded at build time (cmake/embed.cmake). */
typedef struct jc_embedded_file {
    const char *name;      /* path relative to its source directory, e.g. "visit.v1.avsc" */
    const unsigned char *data; /* the bytes, NUL-terminated for convenience */
    size_t len;            /* without the NUL */
} jc_embedded_file_t;

/* The embedded sets (generated sources). */
extern const jc_embedded_file_t jc_embedded_avro[];
extern const size_t jc_embedded_avro_count;
extern const jc_embedded_file_t jc_embedded_reference[];
extern const size_t jc_embedded_reference_count;
extern const jc_embedded_file_t jc_embedded_sql[];
extern const size_t jc_embedded_sql_count;

/* The embedded file called name in a set, or NULL. */
const jc_embedded_file_t *jc_embedded_find(const jc_embedded_file_t *set, size_t count,
                                           const char *name);

/* 64-bit hash of n bytes with a seed (hash.c). */
uint64_t jc_hash64(const void *data, size_t n, uint64_t seed);

/* Fold the string s onto one line in place (error.c; every error message and log message goes
 * through it): each run of control characters, with the spaces on either side of it, becomes
 * one space, and none is left at the start or the end. */
void jc_one_line(char *s);

/* ---- CSV (csvrows.c, over libcsv) ---- */

/* Called once per row with its fields (NUL-terminated) and 1-based row number; a status other
 * than JC_OK stops the parse and is returned. */
typedef jc_status_t (*jc_csv_row_cb)(const char **fields, size_t nfields, size_t row, void *ud,
                                     jc_error_t *err);

/* Parse len bytes of CSV (RFC 4180 quoting; what names the source in messages). */
jc_status_t jc_csv_each_row(const char *what, const void *data, size_t len, jc_csv_row_cb cb,
                            void *ud, jc_error_t *err);

/* ---- growable arrays (buf.c) ---- */

/* Make room for element n of the array *v of *cap elements of size bytes: nothing if n < *cap,
 * else the capacity doubles (first elements to begin with). JC_ERR_NOMEM (the array unchanged)
 * if it cannot grow. Used as jc_grow((void **)&arr, &cap, count, sizeof *arr, 64). */
jc_status_t jc_grow(void **v, size_t *cap, size_t n, size_t size, size_t first);

/* ---- PostgreSQL array literals (pgarray.c) ---- */

#include <stdbool.h>

#include "jiceng/buf.h"

/* An array literal being built. failed is sticky: once an append fails (out of memory, or the
 * literal would pass limit bytes), every later append is skipped and jc_pgarray_end returns
 * NULL, so a half-built array can never be sent as if it were whole. */
typedef struct jc_pgarray {
    jc_buf_t buf;
    size_t limit; /* most bytes the literal may take; 0: as many as memory allows */
    bool failed;
} jc_pgarray_t;

/* Start an empty literal, keeping the allocation (and limit) and clearing failed. */
void jc_pgarray_begin(jc_pgarray_t *a);
void jc_pgarray_int(jc_pgarray_t *a, int64_t v);
void jc_pgarray_text(jc_pgarray_t *a, const char *s); /* always quoted, '"' and '\' escaped */
void jc_pgarray_null(jc_pgarray_t *a);
void jc_pgarray_hex(jc_pgarray_t *a, const void *data, size_t len); /* for decode(x, 'hex') */
/* Close the literal: its text, or NULL if any append since begin failed. */
const char *jc_pgarray_end(jc_pgarray_t *a) __attribute__((warn_unused_result));
/* Release the allocation. */
void jc_pgarray_free(jc_pgarray_t *a);

/* ---- the catalog's parsed schemas, shared with the codec ---- */

#include <avro.h>

#include "jiceng/catalog.h"

#define JC_MAX_FIELDS 32

/* How one writer field is laid out on the wire, enough to pre-scan untrusted bytes. */
typedef enum jc_wire_kind {
    JC_WIRE_NULL,
    JC_WIRE_BOOLEAN,
    JC_WIRE_INT,
    JC_WIRE_LONG,
    JC_WIRE_FLOAT,
    JC_WIRE_DOUBLE,
    JC_WIRE_STRING, /* string or bytes: a length, then that many bytes */
    JC_WIRE_ENUM,
    JC_WIRE_UNION,
} jc_wire_kind_t;

typedef struct jc_wire_step {
    const char *name;              /* the field's name, for messages */
    jc_wire_kind_t kind;
    int32_t nsymbols;              /* JC_WIRE_ENUM */
    int nbranches;                 /* JC_WIRE_UNION: branches, each a non-union kind */
    jc_wire_kind_t branch[4];
    int32_t branch_nsymbols[4];
} jc_wire_step_t;

typedef struct jc_schema_entry {
    jc_schema_info_t info;
    avro_schema_t schema;          /* the writer schema, parsed once */
    size_t nwire;                  /* fields of this schema, in schema order */
    jc_wire_step_t wire[JC_MAX_FIELDS];
    int field_index[JC_MAX_FIELDS]; /* per C field (table order): index in this schema, or -1 */
} jc_schema_entry_t;

/* The parsed entry for a schema id, or NULL (runs jc_catalog_init). */
const jc_schema_entry_t *jc_catalog_entry(int32_t id);

/* Set the fields that schema versions after v1 added to their declared defaults
 * (catalog.c reads them from the newest schema of ev->type). */
void jc_catalog_apply_defaults(jc_event_t *ev);

#endif
