/*
 * ingest.c: input files to Kafka with nothing lost (see jiceng/ingest.h).
 *
 * One pass over the inputs: each record from the reader is either rejected at once (it did not
 * parse, validate or encode) or sent. A sent record travels with a slot holding where it came
 * from and its original text; the slot comes back in the delivery callback, which counts the
 * record delivered or writes it to the rejects file as undelivered, and is then reused for a
 * later record. Slots and their text buffers therefore number at most the records librdkafka
 * holds at once, and once warm the pass allocates nothing per record. Delivery reports are
 * served every few records while reading, and while librdkafka's queue is full (waiting here,
 * not inside jc_producer_send, so that a stop request is seen), and then until none is
 * outstanding, which librdkafka bounds by message.timeout.ms. A record the producer refuses
 * for want of a signing key for its county (JC_ERR_UNAUTHORIZED) is a reject like any other; a
 * dry run loads the signing keys too, when they are given, to find those.
 *
 * Batching: when every input is a regular file (standard input too, when it is one), no record
 * waits for a reader, and librdkafka's linger.ms is FILE_LINGER_MS instead of the producer's
 * default: fuller batches mean fewer produce requests, cheaper compression and less work for
 * the broker. A stream (a pipe, a terminal, a FIFO) keeps the default, so that a live feed is
 * not held back; the caller's own linger.ms (or queue.buffering.max.ms) wins in both cases.
 *
 * Rejects are written with jansson into one reused buffer, one object per line, and each line
 * goes to the file with a single write(2) on an O_APPEND descriptor, so that a crash loses
 * none; a record's text is cut to JC_REJECT_RECORD_MAX bytes, with its length and SHA-256. A
 * failed write is cut back off (ftruncate to the size before it), so the file holds whole
 * lines; the failure stops the reading, and from then on nothing more is written: each record
 * that should have been goes to the caller's on_unwritten instead, and is counted.
 *
 * Stopping (*opts->stop, or the rejects file failing) is checked before every record and
 * every input; after a stop request the wait for delivery reports is bounded by stop_wait_ms,
 * and what remains is purged by jc_producer_free, whose reports arrive here like any other.
 * Progress is not shown here: the caller's callback gets the counts at most every
 * JC_INGEST_PROGRESS_MS, and once at the end.
 */
#include "jiceng/ingest.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "digest.h"
#include "jiceng/buf.h"
#include "jiceng/codec.h"
#include "jiceng/jtime.h"
#include "jiceng/producer.h"
#include "jiceng/sign.h"
#include "jiceng/validate.h"
#include "kafkautil.h"

#define POLL_EVERY 64 /* records between serving delivery reports */
#define DEFAULT_QUEUE_MAX "100000" /* librdkafka's queue.buffering.max.messages */
#define FILE_LINGER_MS "50"        /* linger.ms when reading regular files only */
#define READ_BUFFER (256 * 1024)    /* stdio's buffer for an input file */

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
    int rejects;              /* the rejects file's descriptor, -1 before it is open */
    const char *rejects_path;
    jc_buf_t out;             /* the reject line being written */
    jc_status_t write_status; /* the first failure to write a reject */
    jc_error_t write_err;
    int64_t stop_asked_ms;    /* when *o->stop was first seen set; 0: not yet */
    bool purging;             /* records still in flight after a stop are being purged */
    struct slot *free_slots, *all_slots;
    jc_producer_t *producer;
    const char **props;       /* the producer's properties, when the run adds to the caller's */
    int queue_max;            /* records librdkafka holds at most */
    jc_codec_t *codec; /* dry run */
    jc_buf_t encoded;  /* dry run */
    jc_signers_t *signers; /* dry run, when jiceng.signing.keys is given */
    int64_t last_progress_ms;
};

/* ---- stopping ---- */

/* Whether reading is to stop: a stop request, or a rejects file that failed. Notes when. */
static bool should_stop(struct run *r)
{
    if (r->o->stop != NULL && *r->o->stop != 0 && r->stop_asked_ms == 0) {
        r->stop_asked_ms = jc_mono_ms();
        r->c->interrupted = true;
    }
    return r->stop_asked_ms != 0 || r->write_status != JC_OK;
}

/* Whether to stop reading here; if so, the run stopped reading early. */
static bool stop_reading(struct run *r)
{
    if (should_stop(r))
        r->c->stopped = true;
    return r->c->stopped;
}

/* After a stop request, whether the wait for delivery reports is over. */
static bool stop_wait_over(struct run *r)
{
    int wait_ms = r->o->stop_wait_ms > 0 ? r->o->stop_wait_ms : JC_INGEST_STOP_WAIT_MS;
    return should_stop(r) && r->stop_asked_ms != 0 && jc_mono_ms() - r->stop_asked_ms >= wait_ms;
}

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

/* A JSON string of the n bytes at data in lower-case hex. */
static json_t *json_hex(const char *data, size_t n)
{
    char *hex = malloc(2 * n + 1);
    if (hex == NULL)
        return NULL;
    jc_hex(data, n, hex);
    json_t *j = json_stringn(hex, 2 * n);
    free(hex);
    return j;
}

/* How much of text to keep: all of it, or JC_REJECT_RECORD_MAX bytes less the start of a
 * UTF-8 character that the cut would split. */
static size_t kept_length(const char *text, size_t len)
{
    if (len <= JC_REJECT_RECORD_MAX)
        return len;
    size_t keep = JC_REJECT_RECORD_MAX;
    for (int i = 0; i < 3 && keep > 0 && ((unsigned char)text[keep] & 0xC0) == 0x80; i++)
        keep--;
    return keep;
}

/* Add the record as "record", or as "record_hex" if it is not UTF-8 text; if it is cut, its
 * whole length and digest as "record_bytes" and "record_sha256". */
static int set_record(json_t *obj, const char *text, size_t len)
{
    size_t keep = kept_length(text, len);
    json_t *j = json_stringn(text, keep);
    if ((j != NULL ? json_object_set_new(obj, "record", j)
                   : json_object_set_new(obj, "record_hex", json_hex(text, keep))) != 0)
        return -1;
    if (keep == len)
        return 0;
    char digest[JC_SHA256_HEX_SIZE];
    if (jc_sha256_hex(text, len, digest, NULL) != JC_OK)
        return -1;
    return json_object_set_new(obj, "record_bytes", json_integer((json_int_t)len)) != 0 ||
           json_object_set_new(obj, "record_sha256", json_string(digest)) != 0 ? -1 : 0;
}

static void write_failed(struct run *r, const char *what, int errnum)
{
    if (r->write_status == JC_OK)
        r->write_status = jc_error_set(&r->write_err, JC_ERR_IO, "rejects file %s: %s: %s",
                                       r->rejects_path, what, strerror(errnum ? errnum : EIO));
}

static int append_to_buf(const char *buffer, size_t size, void *data)
{
    return jc_buf_append(data, buffer, size) == JC_OK ? 0 : -1;
}

/* The reject's line, into r->out. */
static bool format_reject(struct run *r, const char *source, long line, jc_status_t status,
                          const char *reason, const char *text, size_t len)
{
    json_t *obj = json_object();
    jc_buf_reset(&r->out);
    bool ok = obj != NULL && json_object_set_new(obj, "source", json_text(source)) == 0 &&
              json_object_set_new(obj, "line", json_integer(line)) == 0 &&
              json_object_set_new(obj, "status", json_string(jc_status_name(status))) == 0 &&
              json_object_set_new(obj, "reason", json_text(reason)) == 0 &&
              set_record(obj, text, len) == 0 &&
              json_dump_callback(obj, append_to_buf, &r->out,
                                 JSON_COMPACT | JSON_PRESERVE_ORDER) == 0 &&
              jc_buf_append(&r->out, "\n", 1) == JC_OK;
    json_decref(obj);
    return ok;
}

/* Write r->out whole, or cut the file back to where it was and say why. */
static bool append_line(struct run *r)
{
    struct stat st;
    if (fstat(r->rejects, &st) != 0) {
        write_failed(r, "fstat", errno);
        return false;
    }
    for (size_t done = 0; done < r->out.len;) {
        ssize_t n = write(r->rejects, r->out.data + done, r->out.len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : EIO;
            bool left_cut = done > 0 && ftruncate(r->rejects, st.st_size) != 0;
            write_failed(r, left_cut ? "write (and the part written could not be cut off)"
                                     : "write", e);
            return false;
        }
        done += (size_t)n;
    }
    return true;
}

static void write_reject(struct run *r, const char *source, long line, jc_status_t status,
                         const char *reason, const char *text, size_t len)
{
    if (r->write_status == JC_OK) {
        if (!format_reject(r, source, line, status, reason, text, len))
            write_failed(r, "out of memory", ENOMEM);
        else if (append_line(r))
            return;
    }
    r->c->unwritten++;
    if (r->o->on_unwritten != NULL)
        r->o->on_unwritten(r->o->unwritten_opaque, source, line, status, reason);
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
        snprintf(reason, sizeof reason, "not delivered: %s%s", errstr ? errstr : "unknown error",
                 r->purging ? " (the run was stopped before its delivery report arrived; it "
                              "may still have reached the broker: re-sending it is safe)" : "");
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
    r->c->last_source = source;
    r->c->last_line = rec->line;
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

/* Serve delivery reports while librdkafka holds all it may (so that the next send does not
 * wait inside jc_producer_send) and no stop is asked. */
static void wait_for_room(struct run *r)
{
    while (r->producer != NULL && jc_producer_outstanding(r->producer) >= r->queue_max &&
           !should_stop(r)) {
        jc_producer_poll(r->producer, JC_INGEST_PROGRESS_MS);
        report_progress(r, false);
    }
}

/* Whether to read another record. */
static bool read_on(struct run *r)
{
    wait_for_room(r);
    return !stop_reading(r);
}

static jc_status_t read_stream(struct run *r, FILE *in, const char *source, jc_error_t *err)
{
    jc_reader_t *reader = jc_reader_new(in, r->o->format, r->o->csv_type, err);
    if (reader == NULL)
        return err ? err->code : JC_ERR_NOMEM;
    jc_record_t rec;
    jc_event_t ev;
    jc_status_t st = JC_OK;
    jc_error_t e;
    while (read_on(r) && jc_reader_next(reader, &rec, &ev, &st, &e))
        handle_record(r, source, &rec, &ev, st, &e);
    jc_reader_free(reader);
    if (st != JC_OK && !stop_reading(r)) /* a signal may interrupt a read: not an error */
        return jc_error_set(err, st, "%s: %s", source, e.message);
    return JC_OK;
}

static jc_status_t read_input(struct run *r, const char *path, jc_error_t *err)
{
    if (strcmp(path, "-") == 0)
        return read_stream(r, stdin, "<stdin>", err);
    FILE *in = fopen(path, "r");
    if (in == NULL && stop_reading(r))
        return JC_OK; /* a signal may interrupt opening a FIFO */
    if (in == NULL)
        return jc_error_set(err, JC_ERR_IO, "%s: %s", path, strerror(errno));
    char *buffer = malloc(READ_BUFFER); /* fewer read(2) calls; without it, stdio's own */
    if (buffer != NULL && setvbuf(in, buffer, _IOFBF, READ_BUFFER) != 0) {
        free(buffer);
        buffer = NULL;
    }
    jc_status_t st = read_stream(r, in, path, err);
    fclose(in);
    free(buffer);
    return st;
}

static jc_status_t read_inputs(struct run *r, jc_error_t *err)
{
    if (r->o->ninputs == 0)
        return read_input(r, "-", err);
    jc_status_t st = JC_OK;
    for (size_t i = 0; i < r->o->ninputs && st == JC_OK && !stop_reading(r); i++)
        st = read_input(r, r->o->inputs[i], err);
    return st;
}

/* Serve delivery reports until every sent record has had one, or a stop request's wait for
 * them is over. */
static void drain(struct run *r)
{
    while (jc_producer_outstanding(r->producer) > 0 && !stop_wait_over(r)) {
        jc_producer_flush(r->producer, JC_INGEST_PROGRESS_MS, NULL);
        report_progress(r, false);
    }
}

/* ---- the run ---- */

/* Whether the input named path ("-": standard input) is a regular file. */
static bool regular_file(const char *path)
{
    struct stat st;
    int rc = strcmp(path, "-") == 0 ? fstat(STDIN_FILENO, &st) : stat(path, &st);
    return rc == 0 && S_ISREG(st.st_mode);
}

static bool only_regular_files(const jc_ingest_opts_t *o)
{
    if (o->ninputs == 0)
        return regular_file("-");
    for (size_t i = 0; i < o->ninputs; i++)
        if (!regular_file(o->inputs[i]))
            return false;
    return true;
}

/* The producer's properties: the caller's, after linger.ms = FILE_LINGER_MS when only regular
 * files are read (later properties win, so the caller's own setting stays). */
static jc_status_t producer_props(struct run *r, const char *const **out, jc_error_t *err)
{
    const char *const *props = r->o->props;
    *out = props;
    if (!only_regular_files(r->o))
        return JC_OK;
    size_t n = 0;
    while (props != NULL && props[n] != NULL)
        n++;
    r->props = malloc((n + 3) * sizeof *r->props);
    if (r->props == NULL)
        return jc_error_set(err, JC_ERR_NOMEM, "out of memory for the producer's properties");
    r->props[0] = "linger.ms";
    r->props[1] = FILE_LINGER_MS;
    for (size_t i = 0; i < n; i++)
        r->props[2 + i] = props[i];
    r->props[2 + n] = NULL;
    *out = r->props;
    return JC_OK;
}

static jc_status_t start(struct run *r, jc_error_t *err)
{
    r->rejects = open(r->rejects_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
    if (r->rejects < 0)
        return jc_error_set(err, JC_ERR_IO, "rejects file %s: %s", r->rejects_path,
                            strerror(errno));
    if (!r->o->dry_run) {
        r->queue_max = atoi(jc_kafka_prop(r->o->props, "queue.buffering.max.messages",
                                          DEFAULT_QUEUE_MAX));
        if (r->queue_max <= 0)
            r->queue_max = INT_MAX; /* librdkafka refuses such a value anyway */
        const char *const *props;
        jc_status_t st = producer_props(r, &props, err);
        if (st != JC_OK)
            return st;
        r->producer = jc_producer_new(props, on_delivery, r, err);
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
    r->purging = jc_producer_outstanding(r->producer) > 0;
    jc_producer_free(r->producer); /* reports anything still outstanding */
    free(r->props);
    jc_codec_free(r->codec);
    jc_signers_free(r->signers);
    jc_buf_free(&r->encoded);
    free_slots(r);
    jc_buf_free(&r->out);
    should_stop(r); /* a stop asked at the very end still counts */
    report_progress(r, true);
    if (r->rejects >= 0 && close(r->rejects) != 0)
        write_failed(r, "close", errno);
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
    struct run r = {.o = opts, .c = counts, .rejects = -1, .rejects_path = opts->rejects_path,
                    .last_progress_ms = jc_mono_ms()};
    jc_status_t st = start(&r, err);
    if (st == JC_OK)
        st = read_inputs(&r, err);
    return finish(&r, st, err);
}
