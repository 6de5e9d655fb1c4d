/*
 * bench/codec: records per second through the codec, per event type, on one core.
 *
 * Encode: jc_codec_encode of pre-built events into one reused buffer. Decode: the whole
 * consumer-side path for one message, timed together: unframe, look up the schema, pre-scan
 * and decode with avro-c, map to jc_event_t, and jc_event_validate. 4,096 distinct events per
 * type are cycled through so that the work is not one record's cache-hot path.
 *
 * usage: bench-codec [RECORDS_PER_TYPE]   (default 2000000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jiceng/codec.h"
#include "jiceng/jtime.h"
#include "jiceng/validate.h"
#include "samples.h"

#define DISTINCT 4096

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int bench_type(jc_codec_t *codec, jc_event_type_t type, long n, int64_t now)
{
    static jc_event_t events[DISTINCT];
    static jc_buf_t msgs[DISTINCT];
    jc_buf_t buf = {0};
    jc_error_t err;
    size_t bytes = 0;
    for (int i = 0; i < DISTINCT; i++) {
        jc_test_sample(&events[i], type, (uint32_t)i * 7919u, now - 3600 * 1000);
        if (jc_codec_encode(codec, &events[i], &msgs[i], &err) != JC_OK) {
            fprintf(stderr, "encode: %s\n", err.message);
            return 1;
        }
        bytes += msgs[i].len;
    }
    double t0 = seconds();
    for (long i = 0; i < n; i++)
        if (jc_codec_encode(codec, &events[i % DISTINCT], &buf, &err) != JC_OK)
            return 1;
    double t1 = seconds();
    jc_event_t ev;
    for (long i = 0; i < n; i++) {
        const jc_buf_t *m = &msgs[i % DISTINCT];
        if (jc_codec_decode(codec, m->data, m->len, &ev, NULL, &err) != JC_OK ||
            jc_event_validate(&ev, now, JC_DEFAULT_MAX_SKEW_MS, &err) != JC_OK) {
            fprintf(stderr, "decode: %s\n", err.message);
            return 1;
        }
    }
    double t2 = seconds();
    printf("%-20s %8.0f B/rec  encode %10.0f rec/s  decode+validate %10.0f rec/s\n",
           jc_event_type_name(type), (double)bytes / DISTINCT, n / (t1 - t0), n / (t2 - t1));
    for (int i = 0; i < DISTINCT; i++)
        jc_buf_free(&msgs[i]);
    jc_buf_free(&buf);
    return 0;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 2000000;
    if (n <= 0 || (argc > 1 && strcmp(argv[1], "--help") == 0)) {
        fprintf(stderr, "usage: bench-codec [RECORDS_PER_TYPE]\n");
        return 2;
    }
    jc_error_t err;
    jc_codec_t *codec = jc_codec_new(&err);
    if (codec == NULL) {
        fprintf(stderr, "bench-codec: %s\n", err.message);
        return 1;
    }
    printf("bench-codec: %ld records per type, one thread\n", n);
    int rc = 0;
    int64_t now = jc_now_ms();
    for (int t = 0; t < JC_EVENT_TYPE_COUNT && rc == 0; t++)
        rc = bench_type(codec, (jc_event_type_t)t, n, now);
    jc_codec_free(codec);
    return rc;
}
