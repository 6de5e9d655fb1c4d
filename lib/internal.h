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

/* The embedded file called name in a set, or NULL. */
const jc_embedded_file_t *jc_embedded_find(const jc_embedded_file_t *set, size_t count,
                                           const char *name);

/* Set the fields that schema versions after v1 added to their declared defaults
 * (catalog.c reads them from the newest schema of ev->type). */
void jc_catalog_apply_defaults(jc_event_t *ev);

#endif
