/*
 * kafkatest.h: what the producer-side integration tests share: scratch topics under a prefix
 * unique to the test run (so runs never collide on the shared broker, and are deleted after),
 * the client property lists for them, the load generator's signing keys, and running a program
 * with its exit status.
 *
 * Every client connects as one of the local stack's identities (deploy/local/stack, "The
 * contract"): $JICENG_CLIENTS/NAME.conf, whose kafka.* entries (bootstrap.servers,
 * security.protocol=ssl and the ssl.* files of NAME's client certificate) become librdkafka
 * properties. "admin" makes and removes topics and reads anything; "loadgen", a county
 * principal, may only write the event topics. A prefix's topics get the role ACLs (`stack
 * grant-prefix`) when they are made here, and lose them when they are deleted.
 */
#ifndef JC_KAFKATEST_H
#define JC_KAFKATEST_H

#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "jiceng/admin.h"
#include "testenv.h"

/* The longest property list jc_test_props makes, terminating NULL included. */
#define JC_TEST_PROPS_MAX 32

/* A prefix unique to this process and moment, e.g. "jt1234-1733000000-1." (at least 64 bytes). */
void jc_test_topic_prefix(char *buf, size_t len);

/* The property list of the stack's identity (NAME.conf: "admin", "loadgen", ...) with
 * jiceng.topic.prefix set to prefix (unless NULL), NULL-terminated, in props; for "loadgen",
 * also jiceng.signing.keys, its keyring (jc_test_keyring). prefix must outlive the list. */
void jc_test_props(const char *props[JC_TEST_PROPS_MAX], const char *identity, const char *prefix);

/* A librdkafka configuration with the stack's identity's properties (NAME.conf, as for
 * jc_test_props, without any jiceng.* setting), for a plain librdkafka client. */
rd_kafka_conf_t *jc_test_rdkafka_conf(const char *identity);

/* Append name=value to a list jc_test_props made (both must outlive it). */
void jc_test_props_add(const char *props[JC_TEST_PROPS_MAX], const char *name, const char *value);

/* The load generator's keyring, a directory of one key file per county (tests/support/
 * signing-keys keyring, made once per stack state directory). */
const char *jc_test_keyring(void);

/* Create the five topics under prefix with the given partition count, as the administrator,
 * and give them the role ACLs (stack grant-prefix); fails the test if not. The prefix is
 * remembered for jc_test_topics_cleanup. */
void jc_test_topics_create(const char *prefix, int partitions);

/* Remember a prefix whose topics something else creates, for jc_test_topics_cleanup. */
void jc_test_topics_track(const char *prefix);

/* Delete the five topics under prefix and their ACLs (failures only reported) and forget it. */
void jc_test_topics_delete(const char *prefix);

/* A cmocka group teardown: delete the topics of every remembered prefix, so that a failed
 * test leaves no scratch topics behind. */
int jc_test_topics_cleanup(void **state);

/* Sum of the high watermarks of every partition of topic: how many messages it holds (asked
 * as the administrator). */
int64_t jc_test_topic_messages(const char *topic);

/* Run a shell command (printf-style); its exit status, or -1 if it did not exit normally. */
int jc_test_shell(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The whole content of a file as a NUL-terminated string (caller frees); fails if unreadable. */
char *jc_test_slurp(const char *path);

#endif
