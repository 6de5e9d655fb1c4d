/*
 * interop_codec.c: our codec's side of the interoperability test with fastavro
 * (avro_interop.py).
 *
 *   interop-codec encode N   for every schema in the catalog, N sample events encoded with it,
 *                            one line each: SCHEMA_ID HEX NDJSON (the event as we see it)
 *   interop-codec decode     for every line of hex on stdin, the decoded event as NDJSON, or
 *                            "ERROR STATUS message"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jiceng/catalog.h"
#include "jiceng/codec.h"
#include "jiceng/ndjson.h"
#include "samples.h"

static int encode_samples(jc_codec_t *codec, int n)
{
    jc_buf_t msg = {0}, text = {0};
    jc_event_t ev;
    jc_error_t err;
    for (size_t i = 0; i < jc_catalog_count(); i++) {
        const jc_schema_info_t *s = jc_catalog_at(i);
        for (int k = 0; k < n; k++) {
            jc_test_sample(&ev, s->type, (uint32_t)(k * 7 + 3), 1764300000000LL);
            jc_buf_reset(&text);
            if (jc_codec_encode_as(codec, s->id, &ev, &msg, &err) != JC_OK ||
                jc_codec_decode(codec, msg.data, msg.len, &ev, NULL, &err) != JC_OK ||
                jc_ndjson_format(&ev, &text, &err) != JC_OK) {
                fprintf(stderr, "interop-codec: %s\n", err.message);
                return 1;
            }
            printf("%d ", (int)s->id);
            for (size_t b = 0; b < msg.len; b++)
                printf("%02x", msg.data[b]);
            printf(" %s", (const char *)text.data);
        }
    }
    jc_buf_free(&msg);
    jc_buf_free(&text);
    return 0;
}

static int decode_lines(jc_codec_t *codec)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    static uint8_t bytes[JC_MAX_MESSAGE_BYTES];
    jc_buf_t text = {0};
    while ((n = getline(&line, &cap, stdin)) > 0) {
        size_t len = 0;
        for (ssize_t i = 0; i + 1 < n && line[i] != '\n' && len < sizeof bytes; i += 2)
            sscanf(line + i, "%2hhx", &bytes[len++]);
        jc_event_t ev;
        jc_error_t err;
        jc_buf_reset(&text);
        jc_status_t st = jc_codec_decode(codec, bytes, len, &ev, NULL, &err);
        if (st == JC_OK)
            st = jc_ndjson_format(&ev, &text, &err);
        if (st == JC_OK)
            fputs((const char *)text.data, stdout);
        else
            printf("ERROR %s %s\n", jc_status_name(st), err.message);
    }
    free(line);
    jc_buf_free(&text);
    return 0;
}

int main(int argc, char **argv)
{
    jc_error_t err;
    jc_codec_t *codec = jc_codec_new(&err);
    if (codec == NULL) {
        fprintf(stderr, "interop-codec: %s\n", err.message);
        return 1;
    }
    int rc = 2;
    if (argc == 3 && strcmp(argv[1], "encode") == 0)
        rc = encode_samples(codec, atoi(argv[2]));
    else if (argc == 2 && strcmp(argv[1], "decode") == 0)
        rc = decode_lines(codec);
    else
        fprintf(stderr, "usage: interop-codec encode N | interop-codec decode\n");
    jc_codec_free(codec);
    return rc;
}
