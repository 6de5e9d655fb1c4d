/*
 * testenv.h: what the integration tests share: the local stack's addresses.
 *
 * jc_test_env_load reads the env file deploy/local/stack wrote (JICENG_ENV_FILE, else
 * JICENG_STATE/stack.env, else the state directory CMake was configured with) and fails the
 * test when it is missing: an integration test that cannot reach its services fails, never
 * skips.
 */
#ifndef JC_TESTENV_H
#define JC_TESTENV_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/** Load the stack's env file into the environment (environment wins); fail the test if absent. */
void jc_test_env_load(void);

/** The value of an environment variable the stack provides; fails the test when unset. */
const char *jc_test_env(const char *key);

#endif
