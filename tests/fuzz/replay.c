/*
 * replay.c: runs the fuzz target (fuzz_decode.c) over files, without libFuzzer, so the
 * committed corpus is a regression test under the normal compiler and the sanitizer build.
 *
 * usage: fuzz-replay FILE|DIR...        run every file (directories: every file inside)
 *        fuzz-replay --write-seeds DIR  write the seed corpus: encoded sample events of every
 *                                       type and schema version
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "jiceng/catalog.h"
#include "jiceng/codec.h"
#include "samples.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        return 1;
    }
    static uint8_t buf[JC_MAX_MESSAGE_BYTES + 16];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    LLVMFuzzerTestOneInput(buf, n);
    return 0;
}

static int run_path(const char *path, int *count)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        perror(path);
        return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
        (*count)++;
        return run_file(path);
    }
    DIR *d = opendir(path);
    if (d == NULL) {
        perror(path);
        return 1;
    }
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && rc == 0) {
        if (e->d_name[0] == '.')
            continue;
        char child[4096];
        snprintf(child, sizeof child, "%s/%s", path, e->d_name);
        rc = run_path(child, count);
    }
    closedir(d);
    return rc;
}

static int write_seed(const char *dir, const char *name, const jc_buf_t *b)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(b->data, 1, b->len, f) != b->len) {
        perror(path);
        if (f)
            fclose(f);
        return 1;
    }
    return fclose(f) != 0;
}

static int write_seeds(const char *dir)
{
    jc_error_t err;
    jc_codec_t *codec = jc_codec_new(&err);
    if (codec == NULL) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    jc_buf_t b = {0};
    jc_event_t ev;
    int rc = 0;
    for (size_t i = 0; i < jc_catalog_count() && rc == 0; i++) {
        const jc_schema_info_t *s = jc_catalog_at(i);
        for (uint32_t seed = 0; seed < 3 && rc == 0; seed++) {
            jc_test_sample(&ev, s->type, seed * 101 + 1, 1764300000000LL);
            char name[64];
            snprintf(name, sizeof name, "schema%d-%u.bin", (int)s->id, seed);
            rc = jc_codec_encode_as(codec, s->id, &ev, &b, &err) != JC_OK || write_seed(dir, name, &b);
        }
    }
    jc_buf_free(&b);
    jc_codec_free(codec);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--write-seeds") == 0)
        return write_seeds(argv[2]);
    if (argc < 2 || strcmp(argv[1], "--help") == 0) {
        fprintf(stderr, "usage: fuzz-replay FILE|DIR...  |  fuzz-replay --write-seeds DIR\n");
        return 2;
    }
    int count = 0;
    for (int i = 1; i < argc; i++)
        if (run_path(argv[i], &count) != 0)
            return 1;
    printf("fuzz-replay: %d inputs, no property violated\n", count);
    return count > 0 ? 0 : 1;
}
