/*
 * test_produce_run.c: jiceng-produce accounts for every record when a run is cut short or its
 * rejects file fails, and keeps a giant record's text bounded; no service needed (the broker
 * address is 127.0.0.1:1, where nothing listens, or the run is a --dry-run).
 *
 * Signals: the program reads its standard input from a FIFO this test holds open, so it waits
 * in read(2) once it has taken every line written; the test waits for that state (the main
 * thread's /proc/PID/syscall shows a read on fd 0, or, with librdkafka's queue full, a futex
 * wait after the FIFO is drained), then signals. No record can be delivered, and
 * message.timeout.ms is far off, so every record sent must come back in the rejects file as
 * undelivered after --stop-wait, with the summary saying where reading stopped and exit status
 * 1; a second signal must end the process at once, by that signal, saying so.
 *
 * A failing rejects file: /dev/full (every write fails with ENOSPC) must stop the run after the
 * first reject, with each record it could not take listed on stderr, counted in the summary,
 * and a non-zero exit, also for a record in flight whose delivery then fails; a small tmpfs
 * (root only: skipped for other users; a mount that fails as root fails the test) must be left holding whole lines only.
 *
 * A 2 MiB line and a 100 kB line of bytes that are not UTF-8 are kept as their first
 * JC_REJECT_RECORD_MAX bytes (whole UTF-8 characters), with record_bytes and record_sha256
 * (checked against sha256sum).
 */
#include "kafkatest.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "jiceng/buf.h"
#include "jiceng/ingest.h"
#include "jiceng/jtime.h"
#include "jiceng/ndjson.h"
#include "samples.h"

#define WAIT_LIMIT_S 120 /* how long a state the test waits for may take before it fails */

static char dir[64];

static int make_dir(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/jc_produce_run_XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int remove_dir(void **state)
{
    (void)state;
    jc_test_shell("umount '%s/small' 2>/dev/null; rm -rf '%s'", dir, dir);
    return 0;
}

/* ---- input ---- */

/* n good lines of every type in turn, seeds from seed */
static void good_lines(jc_buf_t *out, int n, uint32_t seed)
{
    for (int i = 0; i < n; i++) {
        jc_event_t ev;
        jc_test_sample(&ev, (jc_event_type_t)(i % JC_EVENT_TYPE_COUNT), seed + (uint32_t)i,
                       jc_now_ms());
        assert_int_equal(jc_ndjson_format(&ev, out, NULL), JC_OK);
    }
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* ---- running the program ---- */

struct child {
    pid_t pid;
    int fifo;        /* the write end of its standard input, or -1 */
    char err[128];   /* its stderr */
    char rejects[128];
};

/* Start jiceng-produce against no broker with the extra arguments (NULL-terminated), its
 * standard input a FIFO (fifo: the test keeps its write end) or /dev/null, its stderr a file. */
static void start(struct child *c, const char *name, bool fifo, const char *const *extra)
{
    char in[160];
    snprintf(c->err, sizeof c->err, "%s/%s.err", dir, name);
    snprintf(c->rejects, sizeof c->rejects, "%s/%s.rejects", dir, name);
    snprintf(in, sizeof in, "%s/%s.fifo", dir, name);
    if (fifo)
        assert_int_equal(mkfifo(in, 0600), 0);
    const char *argv[32] = {JC_PRODUCE_BIN, "--bootstrap", "127.0.0.1:1", "--signing-keys",
                            jc_test_keyring(), "--rejects", c->rejects};
    int n = 7;
    for (int i = 0; extra[i] != NULL; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    c->pid = fork();
    assert_true(c->pid >= 0);
    if (c->pid == 0) {
        static const char *const vars[] = {"JICENG_STATE", "JICENG_ENV_FILE",
                                           "JICENG_PRODUCE_CONFIG", "JICENG_CONFIG",
                                           "JICENG_SIGNING_KEYS", "JICENG_KAFKA_BOOTSTRAP",
                                           "JICENG_REJECTS", "JICENG_TOPIC_PREFIX"};
        for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
            unsetenv(vars[i]);
        int fd0 = open(fifo ? in : "/dev/null", O_RDONLY);
        int fd2 = open(c->err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd0 < 0 || fd2 < 0 || dup2(fd0, 0) < 0 || dup2(fd2, 2) < 0)
            _exit(126);
        execv(JC_PRODUCE_BIN, (char *const *)argv);
        _exit(127);
    }
    c->fifo = fifo ? open(in, O_WRONLY) : -1;
    if (fifo)
        assert_true(c->fifo >= 0);
}

static void feed(struct child *c, const jc_buf_t *lines)
{
    assert_int_equal(write(c->fifo, lines->data, lines->len), (ssize_t)lines->len);
}

/* Wait for the child to end; its exit status, or 128 + the signal that ended it. */
static int finish(struct child *c)
{
    int status;
    assert_int_equal(waitpid(c->pid, &status, 0), c->pid);
    if (c->fifo >= 0)
        close(c->fifo);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void pause_briefly(void)
{
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

/* Wait until ready(c) holds; fail if the child ends first or it takes WAIT_LIMIT_S. */
static void wait_for(struct child *c, bool (*ready)(const struct child *), const char *what)
{
    for (int i = 0; i < WAIT_LIMIT_S * 50; i++) {
        if (ready(c))
            return;
        int status;
        if (waitpid(c->pid, &status, WNOHANG) == c->pid)
            fail_msg("jiceng-produce ended (status 0x%x) before %s", status, what);
        pause_briefly();
    }
    fail_msg("jiceng-produce never got to %s", what);
}

/* The system call the child's main thread is in (-1 if running or unknown). */
static long main_thread_syscall(const struct child *c, long *arg0)
{
    char path[64], text[256] = "";
    snprintf(path, sizeof path, "/proc/%d/syscall", (int)c->pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    bool got = fgets(text, sizeof text, f) != NULL;
    fclose(f);
    long nr = -1;
    *arg0 = -1;
    if (got && sscanf(text, "%ld %lx", &nr, (unsigned long *)arg0) < 1)
        nr = -1;
    return nr;
}

/* The FIFO drained and the main thread in system call nr (on fd 0 for a read), twice in a
 * row (a thread just leaving the call is not taken for one waiting in it). */
static bool drained_and_in(const struct child *c, long nr)
{
    for (int i = 0; i < 2; i++) {
        int pending = -1;
        long arg0;
        if (i > 0)
            pause_briefly();
        if (ioctl(c->fifo, FIONREAD, &pending) != 0 || pending != 0 ||
            main_thread_syscall(c, &arg0) != nr || (nr == SYS_read && arg0 != 0))
            return false;
    }
    return true;
}

/* Every line written taken and handled: waiting in read(2) on its standard input for more. */
static bool reading_stdin(const struct child *c)
{
    return drained_and_in(c, SYS_read);
}

/* Every line written taken, and waiting on librdkafka (a futex), not in read(2). */
static bool waiting_for_room(const struct child *c)
{
    return drained_and_in(c, SYS_futex);
}

static bool said_stopping(const struct child *c)
{
    char *text = jc_test_slurp(c->err);
    bool yes = strstr(text, "stopping") != NULL;
    free(text);
    return yes;
}

/* ---- checking ---- */

static void expect_in(const char *path, const char *want)
{
    char *text = jc_test_slurp(path);
    if (strstr(text, want) == NULL)
        fail_msg("%s lacks '%s':\n%s", path, want, text);
    free(text);
}

static void expect_not_in(const char *path, const char *unwanted)
{
    char *text = jc_test_slurp(path);
    if (strstr(text, unwanted) != NULL)
        fail_msg("%s has '%s':\n%s", path, unwanted, text);
    free(text);
}

/* The rejects file's objects, in order, as a JSON array (every line must be one object). */
static json_t *rejects_of(const char *path)
{
    char *text = jc_test_slurp(path);
    json_t *all = json_array();
    size_t len = strlen(text);
    assert_true(len == 0 || text[len - 1] == '\n'); /* whole lines only */
    char *save = NULL;
    for (char *l = strtok_r(text, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save)) {
        json_error_t jerr;
        json_t *obj = json_loads(l, 0, &jerr);
        if (!json_is_object(obj))
            fail_msg("rejects line is not a JSON object: %s: %.200s", jerr.text, l);
        json_array_append_new(all, obj);
    }
    free(text);
    return all;
}

static long member_int(const json_t *obj, const char *name)
{
    return (long)json_integer_value(json_object_get(obj, name));
}

static const char *member_str(const json_t *obj, const char *name)
{
    const char *s = json_string_value(json_object_get(obj, name));
    return s != NULL ? s : "";
}

/* The rejects hold line `line` once, with status and a reason containing reason_part; it. */
static json_t *expect_reject(json_t *all, long line, const char *status, const char *reason_part)
{
    json_t *found = NULL;
    for (size_t i = 0; i < json_array_size(all); i++) {
        json_t *obj = json_array_get(all, i);
        if (member_int(obj, "line") != line)
            continue;
        if (found != NULL)
            fail_msg("line %ld is in the rejects twice", line);
        found = obj;
    }
    if (found == NULL)
        fail_msg("line %ld is not in the rejects", line);
    assert_string_equal(member_str(found, "status"), status);
    if (strstr(member_str(found, "reason"), reason_part) == NULL)
        fail_msg("line %ld: reason '%s' lacks '%s'", line, member_str(found, "reason"),
                 reason_part);
    return found;
}

/* ---- SIGTERM, SIGINT ---- */

static void sigterm_sends_the_summary_and_every_record_to_the_rejects_file(void **state)
{
    (void)state;
    struct child c;
    const char *const extra[] = {"-X", "message.timeout.ms=600000", "--stop-wait", "500", "-",
                                 NULL};
    start(&c, "term", true, extra);
    jc_buf_t in = {0};
    good_lines(&in, 4, 100);
    jc_buf_append_str(&in, "{\"type\":\"visit\",\n"); /* line 5: rejected at once */
    feed(&c, &in);
    wait_for(&c, reading_stdin, "reading its standard input after line 5");
    assert_int_equal(kill(c.pid, SIGTERM), 0);
    int rc = finish(&c);
    assert_int_equal(rc, 1);
    expect_in(c.err, "SIGTERM: stopping");
    expect_in(c.err, "read 5, sent 4, delivered 0, rejected 1, undelivered 4");
    expect_in(c.err, "stopped by SIGTERM");
    expect_in(c.err, "reading stopped after the record at <stdin>:5");
    json_t *all = rejects_of(c.rejects);
    assert_int_equal(json_array_size(all), 5);
    expect_reject(all, 5, "JC_ERR_PARSE", "invalid JSON");
    for (long line = 1; line <= 4; line++)
        expect_reject(all, line, "JC_ERR_KAFKA", "stopped before its delivery report");
    json_decref(all);
    jc_buf_free(&in);
}

/* With librdkafka's queue full (queue.buffering.max.messages=2) the program waits for room
 * before reading a third record; a signal there stops it without reading one more. */
static void sigint_while_the_queue_is_full_stops_before_the_next_record(void **state)
{
    (void)state;
    struct child c;
    const char *const extra[] = {"-X", "message.timeout.ms=60000", "-X",
                                 "queue.buffering.max.messages=2", "--stop-wait", "500", NULL};
    start(&c, "full", true, extra);
    jc_buf_t in = {0};
    good_lines(&in, 3, 200);
    feed(&c, &in);
    wait_for(&c, waiting_for_room, "waiting for room in librdkafka's queue");
    assert_int_equal(kill(c.pid, SIGINT), 0);
    assert_int_equal(finish(&c), 1);
    expect_in(c.err, "SIGINT: stopping");
    expect_in(c.err, "read 2, sent 2, delivered 0, rejected 0, undelivered 2");
    expect_in(c.err, "stopped by SIGINT; reading stopped after the record at <stdin>:2");
    json_t *all = rejects_of(c.rejects);
    assert_int_equal(json_array_size(all), 2);
    expect_reject(all, 1, "JC_ERR_KAFKA", "stopped before its delivery report");
    expect_reject(all, 2, "JC_ERR_KAFKA", "stopped before its delivery report");
    json_decref(all);
    jc_buf_free(&in);
}

static void a_second_signal_aborts_at_once_and_says_so(void **state)
{
    (void)state;
    struct child c;
    const char *const extra[] = {"-X", "message.timeout.ms=600000", "--stop-wait", "600000",
                                 "-", NULL};
    start(&c, "abort", true, extra);
    jc_buf_t in = {0};
    good_lines(&in, 2, 300);
    feed(&c, &in);
    wait_for(&c, reading_stdin, "reading its standard input");
    assert_int_equal(kill(c.pid, SIGINT), 0);
    wait_for(&c, said_stopping, "saying it stops");
    assert_int_equal(kill(c.pid, SIGTERM), 0);
    assert_int_equal(finish(&c), 128 + SIGTERM);
    expect_in(c.err, "second signal: aborting at once");
    expect_not_in(c.err, "read 2,"); /* no summary: it did not pretend to finish */
    jc_buf_free(&in);
}

/* ---- a rejects file that fails ---- */

/* Lines 1-6 good, bad, good, bad, bad, good; the rejects file is /dev/full (ENOSPC). */
static void full_rejects_file_input(const char *path)
{
    jc_buf_t in = {0};
    good_lines(&in, 1, 400);
    jc_buf_append_str(&in, "not json 2\n");
    good_lines(&in, 1, 401);
    jc_buf_append_str(&in, "not json 4\nnot json 5\n");
    good_lines(&in, 1, 402);
    write_file(path, in.data, in.len);
    jc_buf_free(&in);
}

static void a_full_rejects_file_stops_the_run_and_lists_what_it_lacks(void **state)
{
    (void)state;
    char input[128];
    snprintf(input, sizeof input, "%s/devfull.ndjson", dir);
    full_rejects_file_input(input);
    struct child c;
    const char *const extra[] = {"--dry-run", "--rejects", "/dev/full", input, NULL};
    start(&c, "devfull", false, extra);
    assert_int_equal(finish(&c), 2);
    expect_in(c.err, "rejects file /dev/full: write: No space left on device");
    char listed[256];
    snprintf(listed, sizeof listed, "NOT in the rejects file: %s:2: JC_ERR_PARSE: invalid JSON",
             input);
    expect_in(c.err, listed);
    expect_in(c.err, "read 2, sent 0, delivered 0, rejected 1, undelivered 0 (dry run: 1 valid, "
                     "nothing sent); 1 of them NOT in it (listed above)");
    snprintf(listed, sizeof listed, "reading stopped after the record at %s:2", input);
    expect_in(c.err, listed);
    expect_not_in(c.err, ":4:");
}

/* A record in flight when the rejects file fails is still waited for; its failure is listed. */
static void a_full_rejects_file_still_accounts_for_records_in_flight(void **state)
{
    (void)state;
    char input[128];
    snprintf(input, sizeof input, "%s/inflight.ndjson", dir);
    full_rejects_file_input(input);
    struct child c;
    const char *const extra[] = {"-X", "message.timeout.ms=2000", "--rejects", "/dev/full",
                                 input, NULL};
    start(&c, "inflight", false, extra);
    assert_int_equal(finish(&c), 2);
    char listed[256];
    snprintf(listed, sizeof listed, "NOT in the rejects file: %s:1: JC_ERR_TIMEOUT: not "
             "delivered", input);
    expect_in(c.err, listed);
    snprintf(listed, sizeof listed, "NOT in the rejects file: %s:2: JC_ERR_PARSE", input);
    expect_in(c.err, listed);
    expect_in(c.err, "read 2, sent 1, delivered 0, rejected 1, undelivered 1; 2 of them NOT in "
                     "it (listed above)");
}

/* On a small tmpfs the write that does not fit is cut off again: whole lines only, and the
 * lines there plus the one listed make every reject. */
static void a_rejects_file_on_a_full_disk_holds_whole_lines(void **state)
{
    (void)state;
    char mnt[128], input[128], rejects[160];
    snprintf(mnt, sizeof mnt, "%s/small", dir);
    assert_int_equal(mkdir(mnt, 0700), 0);
    if (geteuid() != 0)
        skip(); /* mounting needs root; as root (CI) a mount that fails is a failure, not a skip */
    if (jc_test_shell("mount -t tmpfs -o size=64k jc_test '%s'", mnt) != 0)
        fail_msg("could not mount a 64 KiB tmpfs on %s as root", mnt);
    snprintf(input, sizeof input, "%s/many.ndjson", dir);
    jc_buf_t in = {0};
    for (int i = 0; i < 200; i++) {
        jc_buf_append_str(&in, "{\"type\":\"visit\",\"village\":\"");
        for (int k = 0; k < 300; k++)
            jc_buf_append_str(&in, "村");
        jc_buf_append_str(&in, "\"}\n");
    }
    write_file(input, in.data, in.len);
    snprintf(rejects, sizeof rejects, "%s/rejects.ndjson", mnt);
    struct child c;
    const char *const extra[] = {"--dry-run", "--rejects", rejects, input, NULL};
    start(&c, "tmpfs", false, extra);
    int rc = finish(&c);
    json_t *all = rejects_of(rejects);
    size_t kept = json_array_size(all);
    json_decref(all);
    jc_test_shell("umount '%s'", mnt);
    assert_int_equal(rc, 2);
    expect_in(c.err, "No space left on device");
    assert_true(kept > 0 && kept < 200);
    char summary[160];
    snprintf(summary, sizeof summary, "read %zu, sent 0, delivered 0, rejected %zu, undelivered "
             "0", kept + 1, kept + 1);
    expect_in(c.err, summary);
    expect_in(c.err, "; 1 of them NOT in it (listed above)");
    jc_buf_free(&in);
}

/* ---- a giant record ---- */

static void expect_sha256(const char *path, const char *hex)
{
    char cmd[256], out[128] = "";
    snprintf(cmd, sizeof cmd, "sha256sum '%s'", path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    assert_non_null(fgets(out, sizeof out, p));
    assert_int_equal(pclose(p), 0);
    assert_int_equal(strncmp(out, hex, 64), 0);
    assert_int_equal(strlen(hex), 64);
}

static void a_giant_record_is_kept_as_a_prefix_with_its_length_and_hash(void **state)
{
    (void)state;
    char input[128], one[128];
    snprintf(input, sizeof input, "%s/giant.ndjson", dir);
    jc_buf_t line1 = {0}, line2 = {0}, in = {0};
    jc_buf_append_str(&line1, "{\"type\":\"visit\",\"village\":\"x");
    while (line1.len < 2 * 1024 * 1024)
        jc_buf_append_str(&line1, "村"); /* 3 bytes: the cut at 65536 splits one */
    jc_buf_append_str(&line1, "\"}");
    for (int i = 0; i < 100000; i++)
        jc_buf_append(&line2, "\xff", 1);
    jc_buf_append(&in, line1.data, line1.len);
    jc_buf_append_str(&in, "\n");
    jc_buf_append(&in, line2.data, line2.len);
    jc_buf_append_str(&in, "\nshort and bad\n");
    write_file(input, in.data, in.len);
    struct child c;
    const char *const extra[] = {"--dry-run", input, NULL};
    start(&c, "giant", false, extra);
    assert_int_equal(finish(&c), 1);
    expect_in(c.err, "read 3, sent 0, delivered 0, rejected 3");
    struct stat st;
    assert_int_equal(stat(c.rejects, &st), 0);
    assert_true(st.st_size < 4 * JC_REJECT_RECORD_MAX); /* not 2 MiB */
    json_t *all = rejects_of(c.rejects);
    assert_int_equal(json_array_size(all), 3);

    json_t *r1 = expect_reject(all, 1, "JC_ERR_TOO_LONG", "longer than");
    const char *kept = member_str(r1, "record");
    size_t n = strlen(kept);
    assert_true(n <= JC_REJECT_RECORD_MAX && n > JC_REJECT_RECORD_MAX - 3);
    assert_memory_equal(kept, line1.data, n);
    assert_int_equal(member_int(r1, "record_bytes"), (long)line1.len);
    snprintf(one, sizeof one, "%s/line1", dir);
    write_file(one, line1.data, line1.len);
    expect_sha256(one, member_str(r1, "record_sha256"));

    json_t *r2 = expect_reject(all, 2, "JC_ERR_PARSE", "invalid JSON");
    assert_null(json_object_get(r2, "record"));
    assert_int_equal(strlen(member_str(r2, "record_hex")), 2 * JC_REJECT_RECORD_MAX);
    assert_int_equal(strncmp(member_str(r2, "record_hex"), "ffffff", 6), 0);
    assert_int_equal(member_int(r2, "record_bytes"), 100000);
    snprintf(one, sizeof one, "%s/line2", dir);
    write_file(one, line2.data, line2.len);
    expect_sha256(one, member_str(r2, "record_sha256"));

    json_t *r3 = expect_reject(all, 3, "JC_ERR_PARSE", "invalid JSON");
    assert_string_equal(member_str(r3, "record"), "short and bad");
    assert_null(json_object_get(r3, "record_bytes")); /* only on a cut record */
    assert_null(json_object_get(r3, "record_sha256"));
    json_decref(all);
    jc_buf_free(&line1);
    jc_buf_free(&line2);
    jc_buf_free(&in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sigterm_sends_the_summary_and_every_record_to_the_rejects_file),
        cmocka_unit_test(sigint_while_the_queue_is_full_stops_before_the_next_record),
        cmocka_unit_test(a_second_signal_aborts_at_once_and_says_so),
        cmocka_unit_test(a_full_rejects_file_stops_the_run_and_lists_what_it_lacks),
        cmocka_unit_test(a_full_rejects_file_still_accounts_for_records_in_flight),
        cmocka_unit_test(a_rejects_file_on_a_full_disk_holds_whole_lines),
        cmocka_unit_test(a_giant_record_is_kept_as_a_prefix_with_its_length_and_hash),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
