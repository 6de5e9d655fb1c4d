/*
 * jiceng/codec.h: typed events to and from Kafka message bytes.
 *
 * Messages use the Confluent wire format: byte 0 is the magic byte 0, bytes 1-4 the schema id
 * (big-endian), then the Avro binary encoding of one record with the schema that id names.
 * Encoding writes with the newest schema of the event's type unless told otherwise. Decoding
 * reads with the writer schema the id names (through avro-c's value interface, one reusable
 * value per schema) and maps it onto jc_event_t; fields the writer schema lacks get the newest
 * schema's defaults. Decoding untrusted bytes never crashes or leaks: every defect is a
 * specific jc_status_t (JC_ERR_TRUNCATED, JC_ERR_BAD_MAGIC, JC_ERR_UNKNOWN_SCHEMA, ...).
 *
 * A jc_codec_t holds reusable buffers and values: use one per thread.
 */
#ifndef JICENG_CODEC_H
#define JICENG_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "jiceng/buf.h"
#include "jiceng/event.h"

#ifdef __cplusplus
extern "C" {
#endif

#define JC_WIRE_MAGIC 0x00
#define JC_WIRE_HEADER_LEN 5
/** The largest message the codec accepts; anything larger is JC_ERR_OVERSIZED. */
#define JC_MAX_MESSAGE_BYTES (64 * 1024)

typedef struct jc_codec jc_codec_t;

/** A codec over the built-in catalog; NULL (with err set) if the catalog is unusable. */
JC_API jc_codec_t *jc_codec_new(jc_error_t *err);

JC_API void jc_codec_free(jc_codec_t *codec);

/** Encode ev with the newest schema of its type into out (replacing its content). The event is
 *  not validated here (see jiceng/validate.h); strings must fit their bounds. */
JC_API jc_status_t jc_codec_encode(jc_codec_t *codec, const jc_event_t *ev, jc_buf_t *out,
                                   jc_error_t *err);

/** Encode ev with a given schema id of its type (an older version, for compatibility). Fields
 *  that version lacks are left out. */
JC_API jc_status_t jc_codec_encode_as(jc_codec_t *codec, int32_t schema_id, const jc_event_t *ev,
                                      jc_buf_t *out, jc_error_t *err);

/** Check a message's frame without decoding its body: at most JC_MAX_MESSAGE_BYTES, at least
 *  the 5-byte header, the magic byte, a schema id in the catalog (JC_ERR_OVERSIZED,
 *  JC_ERR_TRUNCATED, JC_ERR_BAD_MAGIC, JC_ERR_UNKNOWN_SCHEMA). *schema_id (if not NULL) as
 *  jc_codec_decode gives it; *type (if not NULL) the schema's event type. jc_codec_decode
 *  starts with this check. */
JC_API jc_status_t jc_codec_frame(jc_codec_t *codec, const void *data, size_t len,
                                  int32_t *schema_id, jc_event_type_t *type, jc_error_t *err);

/** Decode one message into ev. *schema_id (if not NULL) receives the writer's schema id, also
 *  when the id is unknown (-1 if the header itself is unreadable). Strings are checked for
 *  UTF-8 and bounds, enums for range; field values are not otherwise validated. */
JC_API jc_status_t jc_codec_decode(jc_codec_t *codec, const void *data, size_t len,
                                   jc_event_t *ev, int32_t *schema_id, jc_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
