/*
 * testenv.c: loads the local stack's env file for integration tests (see testenv.h).
 */
#include "testenv.h"

#include <stdlib.h>

#include "jiceng/envfile.h"

void jc_test_env_load(void)
{
    char buf[4096];
    const char *path = jc_envfile_stack_path(JC_TEST_STATE_DIR, buf, sizeof buf);
    jc_error_t err;
    if (path == NULL)
        fail_msg("no env file path: set JICENG_ENV_FILE or JICENG_STATE");
    if (jc_envfile_load(path, 0, &err) != JC_OK)
        fail_msg("cannot load the stack's env file (is `deploy/local/stack up` running?): %s",
                 err.message);
}

const char *jc_test_env(const char *key)
{
    const char *v = getenv(key);
    if (v == NULL || *v == '\0')
        fail_msg("%s is not set: the stack's env file should define it", key);
    return v;
}
