/*
 * jiceng/reader.h: input records (NDJSON lines or CSV rows) to events, streamed from a file.
 *
 * NDJSON: one event per line, of any type, parsed by jc_ndjson_parse (jiceng/ndjson.h); blank
 * lines are skipped. CSV (RFC 4180 quoting, through libcsv): one event type per file, given by
 * the caller; the first row is a header naming the columns by the contract's field names
 * (jiceng/fields.h). Every field must have a column except the nullable ones and those with a
 * schema default (as NDJSON lets them be omitted: hours_on_site, revision, withdrawn); an
 * unknown or repeated column is an error.
 * Cells are read by jc_field_from_text, by field kind. An empty cell of a nullable field is
 * null, of a field with a default the default. A quoted cell may span lines; but a row that
 * runs over a line break inside quotes and then cannot be read (a syntax error, the end of the
 * input, or JC_RECORD_MAX bytes) is taken for an unclosed quote on its first line: that line
 * alone is returned as the broken record (JC_ERR_PARSE, "CSV unclosed quote ..."), and the lines
 * after it are read again as rows. A UTF-8 byte-order mark at the start of the input (either
 * format) is skipped.
 *
 * Each record comes with its original text and the line it starts on, so that a rejected
 * record can be reported exactly as it was written. A broken record (bad JSON, a CSV quoting
 * error, a bad header) is returned as a record with a failure status, never skipped, and
 * reading goes on with the next line.
 */
#ifndef JICENG_READER_H
#define JICENG_READER_H

#include <stdbool.h>
#include <stdio.h>

#include "jiceng/fields.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum jc_format { JC_FORMAT_NDJSON, JC_FORMAT_CSV } jc_format_t;

/** The longest record (NDJSON line, or CSV row with its quoted line breaks) read as one: 1 MiB.
 *  A longer one is rejected with JC_ERR_TOO_LONG. */
#define JC_RECORD_MAX (1024 * 1024)

/** A record as read. Valid until the next jc_reader_next or jc_reader_free. */
typedef struct jc_record {
    const char *text; /**< the record's bytes without its final line break (NUL-terminated) */
    size_t len;
    long line;        /**< 1-based line the record starts on */
} jc_record_t;

typedef struct jc_reader jc_reader_t;

/** Set field f of ev from text, the way a CSV cell (or any text form) spells it: strings as
 *  they are (bounded: JC_ERR_TOO_LONG), timestamps as ISO-8601 with an offset or epoch
 *  milliseconds, counts and county codes as decimal 32-bit integers, booleans as true/false,
 *  enums by symbol (JC_ERR_ENUM_RANGE), nullable fields "" or "null" for null. Anything else is
 *  JC_ERR_BAD_FIELD naming the field and the text. Value rules (non-negative counts, known
 *  counties) are left to jc_event_validate, as with NDJSON. */
JC_API jc_status_t jc_field_from_text(jc_event_t *ev, const jc_field_t *f, const char *text,
                                      jc_error_t *err);

/** A reader of in (which stays the caller's to close). csv_type is the event type of a CSV
 *  input and ignored for NDJSON. NULL only if out of memory. */
JC_API jc_reader_t *jc_reader_new(FILE *in, jc_format_t format, jc_event_type_t csv_type,
                                  jc_error_t *err);

/** Read the next record into *rec and parse it into ev. Returns true with *status JC_OK (ev
 *  holds the event) or the parse failure's status (err says why, naming the field); false at
 *  the end of the input (*status JC_OK) or on a read error (*status JC_ERR_IO, err set). */
JC_API bool jc_reader_next(jc_reader_t *r, jc_record_t *rec, jc_event_t *ev,
                           jc_status_t *status, jc_error_t *err);

/** Release r (NULL is fine); the FILE is not closed. */
JC_API void jc_reader_free(jc_reader_t *r);

#ifdef __cplusplus
}
#endif
#endif
