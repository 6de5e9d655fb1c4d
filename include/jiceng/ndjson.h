/*
 * jiceng/ndjson.h: events as NDJSON lines, the format county systems publish with.
 *
 * One JSON object per line: a "type" member naming the event type ("visit", "petition",
 * "disaster_response", "training_completion"), then the contract's fields by their schema names.
 * Timestamps are accepted as ISO-8601 with an offset or as epoch milliseconds, and written as
 * ISO-8601 (Asia/Shanghai, +08:00); enums are their symbols; absent nullable fields are null
 * (or omitted on input); revision and withdrawn may be omitted on input (0 and false) and are
 * always written. Parsing uses yajl's event parser, formatting uses jansson; errors name
 * the field and the reason.
 */
#ifndef JICENG_NDJSON_H
#define JICENG_NDJSON_H

#include <stddef.h>

#include "jiceng/buf.h"
#include "jiceng/event.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Parse one line (len bytes, no newline needed) into ev. Checks JSON syntax, the type, that
 *  every required field is present with the right JSON type, enum symbols, string bounds and
 *  UTF-8; it does not apply the value rules of jc_event_validate. Unknown members are errors
 *  (JC_ERR_BAD_FIELD), so a misspelt field is not silently dropped. JC_ERR_PARSE says where
 *  (the column; a line that ends too early, at its end); a \u escape that is half of a UTF-16
 *  surrogate pair without the other half is JC_ERR_PARSE too (it is no character), and an
 *  integer beyond 64 bits is a value outside its field's range (JC_ERR_BAD_FIELD). */
JC_API jc_status_t jc_ndjson_parse(const char *line, size_t len, jc_event_t *ev, jc_error_t *err);

/** Append ev as one JSON object and a newline to out. */
JC_API jc_status_t jc_ndjson_format(const jc_event_t *ev, jc_buf_t *out, jc_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
