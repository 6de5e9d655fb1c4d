/*
 * fuzz_decode.c: the libFuzzer target for decoding untrusted Kafka message bytes.
 *
 * Each input goes through the consumer-side path: jc_codec_decode, then jc_event_validate.
 * Beyond "no crash, no leak, no undefined behaviour" (the sanitizers' job) it checks two
 * properties on every input that decodes: re-encoding with the same schema id and decoding
 * again gives an equal event, and the NDJSON form of the event parses back to an equal event.
 * A violated property aborts, which the fuzzer reports as a finding.
 *
 * Built two ways: with clang and -fsanitize=fuzzer for fuzzing (tests/fuzz/run), and with the
 * normal compiler into fuzz-replay (replay.c), which ctest runs over the committed corpus.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "jiceng/codec.h"
#include "jiceng/ndjson.h"
#include "jiceng/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
void fuzz_decode_cleanup(void);

/* Kept across inputs, as a consumer keeps them across messages. */
static jc_codec_t *codec;
static jc_buf_t buf;

void fuzz_decode_cleanup(void)
{
    jc_codec_free(codec);
    jc_buf_free(&buf);
    codec = NULL;
}

static void check(int ok, const char *what, const jc_error_t *err)
{
    if (!ok) {
        fprintf(stderr, "fuzz_decode: property violated: %s (%s)\n", what, err ? err->message : "");
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    jc_error_t err;
    if (codec == NULL) {
        if ((codec = jc_codec_new(&err)) == NULL)
            check(0, "codec", &err);
        atexit(fuzz_decode_cleanup); /* before the leak check at exit */
    }
    jc_event_t ev, again;
    int32_t id;
    if (jc_codec_decode(codec, data, size, &ev, &id, &err) != JC_OK)
        return 0;
    check(jc_codec_encode_as(codec, id, &ev, &buf, &err) == JC_OK, "re-encode", &err);
    check(jc_codec_decode(codec, buf.data, buf.len, &again, NULL, &err) == JC_OK, "decode re-encoded", &err);
    check(jc_event_equal(&ev, &again), "re-encoded event equal", NULL);
    if (jc_event_validate(&ev, 4102444800000LL /* 2100-01-01 */, 0, &err) != JC_OK)
        return 0;
    jc_buf_reset(&buf);
    check(jc_ndjson_format(&ev, &buf, &err) == JC_OK, "ndjson format", &err);
    check(jc_ndjson_parse((const char *)buf.data, buf.len, &again, &err) == JC_OK, "ndjson parse", &err);
    check(jc_event_equal(&ev, &again), "ndjson event equal", NULL);
    return 0;
}
