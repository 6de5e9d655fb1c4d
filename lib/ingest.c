/*
 * ingest.c: input files to Kafka with nothing lost (see jiceng/ingest.h).
 *
 * One pass over the inputs: each record from the reader is either rejected at once (it did not
 * parse, validate or encode) or sent. A sent record travels with a slot holding where it came
 * from and its original text; the slot comes back in the delivery callback, which counts the
 * record delivered or writes it to the rejects file as undelivered, and is then reused for a
 * later record. Slots and their text buffers therefore number at most the records librdkafka
 * holds at once, and once warm the pass allocates nothing per record. Delivery reports are
 * served every few records while reading and then until none is outstanding, which librdkafka
 * bounds by message.timeout.ms. Rejects are written with jansson, one object per line, and
 * flushed at once so that a crash loses none of them. A record the producer refuses for want of
 * a signing key for its county (JC_ERR_UNAUTHORIZED) is a reject like any other; a dry run
 * loads the signing keys too, when they are given, to find those. Progress is not shown here:
 * the caller's callback gets the counts at most every JC_INGEST_PROGRESS_MS, and once at the
 * end.
 */
#include "jiceng/ingest.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jiceng/buf.h"
#include "jiceng/codec.h"
#include "jiceng/jtime.h"
#include "jiceng/producer.h"
#include "jiceng/sign.h"
#include "jiceng/validate.h"
#include "kafkautil.h"

#define POLL_EVERY 64 /* records between serving delivery reports */

/* A sent record awaiting its delivery report. */
struct slot {
    struct slot *next_free;
    struct slot *next_all;
    const char *source;
    long line;
    jc_buf_t text;
};

struct run {
    const jc_ingest_opts_t *o;
    jc_ingest_counts_t *c;
    FILE *rejects;
    const char *rejects_path;
    jc_status_t write_status; /* the first failure to write a reject */
    jc_error_t write_err;
    struct slot *free_slots, *all_slots;
    jc_producer_t *producer;
    jc_codec_t *codec; /* dry run */
    jc_buf_t encoded;  /* dry run */
    jc_signers_t *signers; /* dry run, when jiceng.signing.keys is given */
    int64_t last_progress_ms;
};

/* ---- the rejects file ---- */

/* A JSON string of s; bytes that are not UTF-8 become '?' (messages may quote cut text). */
static json_t *json_text(const char *s)
{
    json_t *j = json_string(s);
    if (j != NULL || s == NULL)
        return j;
    char *copy = strdup(s);
    if (copy == NULL)
        return NULL;
    for (char *p = copy; *p; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    j = json_string(copy);
    free(copy);
    return j;
}

/* Add the record as "record", or as "record_hex" if it is not UTF-8 text. */
static int set_record(json_t *obj, const char *text, size_t len)
{
    json_t *j = json_stringn(text, len);
    if (j != NULL)
        return json_object_set_new(obj, "record", j);
    char *hex = malloc(2 * len + 1);
    if (hex == NULL)
        return -1;
    for (size_t i = 0; i < len; i++)
        snprintf(hex + 2 * i, 3, "%02x", (unsigned char)text[i]);
    hex[2 * len] = '\0';
    int rc = json_object_set_new(obj, "record_hex", json_string(hex));
    free(hex);
    return rc;
}

static void write_failed(struct run *r, const char *what)
{
    if (r->write_status == JC_OK)
        r->write_status = jc_error_set(&r->write_err, JC_ERR_IO, "rejects file %s: %s: %s",
                                       r->rejects_path, what, strerror(errno ? errno : EIO));
}

static void write_reject(struct run *r, const char *source, long line, jc_status_t status,
                         const char *reason, const char *text, size_t len)
{
    json_t *obj = json_object();
    errno = 0;
    if (obj == NULL || json_object_set_new(obj, "source", json_text(source)) != 0 ||
        json_object_set_new(obj, "line", json_integer(line)) != 0 ||
        json_object_set_new(obj, "status", json_string(jc_status_name(status))) != 0 ||
        json_object_set_new(obj, "reason", json_text(reason)) != 0 ||
        set_record(obj, text, len) != 0)
        write_failed(r, "out of memory");
    else if (json_dumpf(obj, r->rejects, JSON_COMPACT | JSON_PRESERVE_ORDER) != 0 ||
             fputc('\n', r->rejects) == EOF || fflush(r->rejects) != 0)
        write_failed(r, "write");
    json_decref(obj);
}

/* ---- slots for records in flight ---- */

static struct slot *take_slot(struct run *r, const char *source, const jc_record_t *rec)
{
    struct slot *s = r->free_slots;
    if (s != NULL) {
        r->free_slots = s->next_free;
    } else if ((s = calloc(1, sizeof *s)) != NULL) {
        s->next_all = r->all_slots;
        r->all_slots = s;
    } else {
        return NULL;
    }
    s->source = source;
    s->line = rec->line;
    jc_buf_reset(&s->text);
    if (jc_buf_append(&s->text, rec->text, rec->len) != JC_OK) {
        s->next_free = r->free_slots;
        r->free_slots = s;
        return NULL;
    }
    return s;
}

static void release_slot(struct run *r, struct slot *s)
{
    s->next_free = r->free_slots;
    r->free_slots = s;
}

static void free_slots(struct run *r)
{
    while (r->all_slots != NULL) {
        struct slot *s = r->all_slots;
        r->all_slots = s->next_all;
        jc_buf_free(&s->text);
        free(s);
    }
    r->free_slots = NULL;
}

static void on_delivery(void *opaque, jc_status_t status, int32_t partition, int64_t offset,
                        const char *errstr, void *ud)
{
    (void)partition;
    (void)offset;
    struct run *r = ud;
    struct slot *s = opaque;
    if (status == JC_OK) {
        r->c->delivered++;
    } else {
        char reason[512];
        snprintf(reason, sizeof reason, "not delivered: %s", errstr ? errstr : "unknown error");
        r->c->undelivered++;
        write_reject(r, s->source, s->line, status, reason, (const char *)s->text.data,
                     s->text.len);
    }
    release_slot(r, s);
}

/* ---- progress ---- */

static void report_progress(struct run *r, bool final)
{
    if (r->o->on_progress == NULL)
        return;
    int64_t now = jc_mono_ms();
    if (!final && now - r->last_progress_ms < JC_INGEST_PROGRESS_MS)
        return;
    r->last_progress_ms = now;
    r->o->on_progress(r->o->progress_opaque, r->c);
}

/* ---- records ---- */

static void reject(struct run *r, const char *source, const jc_record_t *rec, jc_status_t st,
                   const jc_error_t *e)
{
    r->c->rejected++;
    write_reject(r, source, rec->line, st, e->message, rec->text, rec->len);
}

static void check_record(struct run *r, const char *source, const jc_record_t *rec,
                         jc_event_t *ev)
{
    jc_error_t e;
    jc_status_t st = jc_event_validate(ev, jc_now_ms(), JC_DEFAULT_MAX_SKEW_MS, &e);
    if (st == JC_OK && r->signers != NULL && jc_signers_find(r->signers, ev->county_code) == NULL)
        st = jc_error_set(&e, JC_ERR_UNAUTHORIZED, "no signing key for county %d",
                          (int)ev->county_code);
    if (st == JC_OK)
        st = jc_codec_encode(r->codec, ev, &r->encoded, &e);
    if (st != JC_OK)
        reject(r, source, rec, st, &e);
    else
        r->c->valid++;
}

static void send_record(struct run *r, const char *source, const jc_record_t *rec,
                        jc_event_t *ev)
{
    jc_error_t e;
    struct slot *s = take_slot(r, source, rec);
    jc_status_t st = s ? jc_producer_send(r->producer, ev, s, &e)
                       : jc_error_set(&e, JC_ERR_NOMEM, "out of memory keeping the record");
    if (st == JC_OK) {
        r->c->valid++;
        r->c->sent++;
        return;
    }
    if (s != NULL)
        release_slot(r, s);
    if (st == JC_ERR_KAFKA || st == JC_ERR_NOMEM) {
        r->c->valid += st == JC_ERR_KAFKA;
        r->c->undelivered++;
        write_reject(r, source, rec->line, st, e.message, rec->text, rec->len);
    } else {
        reject(r, source, rec, st, &e);
    }
}

static void handle_record(struct run *r, const char *source, const jc_record_t *rec,
                          jc_event_t *ev, jc_status_t st, const jc_error_t *e)
{
    r->c->read++;
    if (st != JC_OK)
        reject(r, source, rec, st, e);
    else if (r->o->dry_run)
        check_record(r, source, rec, ev);
    else
        send_record(r, source, rec, ev);
    if (r->producer != NULL && r->c->read % POLL_EVERY == 0)
        jc_producer_poll(r->producer, 0);
    report_progress(r, false);
}

/* ---- inputs ---- */

static jc_status_t read_stream(struct run *r, FILE *in, const char *source, jc_error_t *err)
{
    jc_reader_t *reader = jc_reader_new(in, r->o->format, r->o->csv_type, err);
    if (reader == NULL)
        return err ? err->code : JC_ERR_NOMEM;
    jc_record_t rec;
    jc_event_t ev;
    jc_status_t st;
    jc_error_t e;
    while (jc_reader_next(reader, &rec, &ev, &st, &e))
        handle_record(r, source, &rec, &ev, st, &e);
    jc_reader_free(reader);
    if (st != JC_OK)
        return jc_error_set(err, st, "%s: %s", source, e.message);
    return JC_OK;
}

static jc_status_t read_input(struct run *r, const char *path, jc_error_t *err)
{
    if (strcmp(path, "-") == 0)
        return read_stream(r, stdin, "<stdin>", err);
    FILE *in = fopen(path, "r");
    if (in == NULL)
        return jc_error_set(err, JC_ERR_IO, "%s: %s", path, strerror(errno));
    jc_status_t st = read_stream(r, in, path, err);
    fclose(in);
    return st;
}

static jc_status_t read_inputs(struct run *r, jc_error_t *err)
{
    if (r->o->ninputs == 0)
        return read_input(r, "-", err);
    jc_status_t st = JC_OK;
    for (size_t i = 0; i < r->o->ninputs && st == JC_OK; i++)
        st = read_input(r, r->o->inputs[i], err);
    return st;
}

/* Serve delivery reports until every sent record has had one. */
static void drain(struct run *r)
{
    while (jc_producer_outstanding(r->producer) > 0) {
        jc_producer_flush(r->producer, JC_INGEST_PROGRESS_MS, NULL);
        report_progress(r, false);
    }
}

/* ---- the run ---- */

static jc_status_t start(struct run *r, jc_error_t *err)
{
    r->rejects = fopen(r->rejects_path, "a");
    if (r->rejects == NULL)
        return jc_error_set(err, JC_ERR_IO, "rejects file %s: %s", r->rejects_path,
                            strerror(errno));
    if (!r->o->dry_run) {
        r->producer = jc_producer_new(r->o->props, on_delivery, r, err);
        return r->producer != NULL ? JC_OK : (err ? err->code : JC_ERR_KAFKA);
    }
    const char *keys = jc_kafka_prop(r->o->props, JC_PROP_SIGNING_KEYS, NULL);
    if (keys != NULL && *keys != '\0') {
        jc_status_t st = jc_signers_load(keys, &r->signers, err);
        if (st != JC_OK)
            return st;
    }
    r->codec = jc_codec_new(err);
    return r->codec != NULL ? JC_OK : (err ? err->code : JC_ERR_NOMEM);
}

static jc_status_t finish(struct run *r, jc_status_t st, jc_error_t *err)
{
    if (r->producer != NULL)
        drain(r);
    jc_producer_free(r->producer); /* reports anything still outstanding */
    jc_codec_free(r->codec);
    jc_signers_free(r->signers);
    jc_buf_free(&r->encoded);
    free_slots(r);
    report_progress(r, true);
    if (r->rejects != NULL && fclose(r->rejects) != 0)
        write_failed(r, "close");
    if (st == JC_OK && r->write_status != JC_OK)
        st = jc_error_set(err, r->write_status, "%s", r->write_err.message);
    return st;
}

jc_status_t jc_ingest_run(const jc_ingest_opts_t *opts, jc_ingest_counts_t *counts,
                          jc_error_t *err)
{
    jc_ingest_counts_t local;
    if (counts == NULL)
        counts = &local;
    memset(counts, 0, sizeof *counts);
    if (opts == NULL || (opts->ninputs > 0 && opts->inputs == NULL) ||
        opts->rejects_path == NULL || *opts->rejects_path == '\0')
        return jc_error_set(err, JC_ERR_INVALID_ARG, "jc_ingest_run: inputs and a rejects file "
                            "are required");
    struct run r = {.o = opts, .c = counts, .rejects_path = opts->rejects_path,
                    .last_progress_ms = jc_mono_ms()};
    jc_status_t st = start(&r, err);
    if (st == JC_OK)
        st = read_inputs(&r, err);
    return finish(&r, st, err);
}
