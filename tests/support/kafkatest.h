/*
 * kafkatest.h: what the producer-side integration tests share: scratch topics under a prefix
 * unique to the test run (so runs never collide on the shared broker, and are deleted after),
 * the client property list for them, and running a program with its exit status.
 */
#ifndef JC_KAFKATEST_H
#define JC_KAFKATEST_H

#include <stddef.h>
#include <stdint.h>

#include "jiceng/admin.h"
#include "testenv.h"

/* A prefix unique to this process and moment, e.g. "jt1234-1733000000-1." (at least 64 bytes). */
void jc_test_topic_prefix(char *buf, size_t len);

/* The property list {bootstrap.servers, <stack>, jiceng.topic.prefix, prefix, NULL}, in props
 * (5 entries); prefix must outlive it. */
void jc_test_props(const char *props[5], const char *prefix);

/* Create the five topics under prefix with the given partition count; fails the test if not.
 * The prefix is remembered for jc_test_topics_cleanup. */
void jc_test_topics_create(const char *prefix, int partitions);

/* Remember a prefix whose topics something else creates, for jc_test_topics_cleanup. */
void jc_test_topics_track(const char *prefix);

/* Delete the five topics under prefix (failures only reported) and forget it. */
void jc_test_topics_delete(const char *prefix);

/* A cmocka group teardown: delete the topics of every remembered prefix, so that a failed
 * test leaves no scratch topics behind. */
int jc_test_topics_cleanup(void **state);

/* Sum of the high watermarks of every partition of topic: how many messages it holds. */
int64_t jc_test_topic_messages(const char *topic);

/* Run a shell command (printf-style); its exit status, or -1 if it did not exit normally. */
int jc_test_shell(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The whole content of a file as a NUL-terminated string (caller frees); fails if unreadable. */
char *jc_test_slurp(const char *path);

#endif
