/*
 * jiceng/envfile.h: KEY=VALUE files, such as the local stack's stack.env.
 *
 * The format is the common denominator of shell `source`, systemd's EnvironmentFile and
 * docker's --env-file: one KEY=VALUE per line, blank lines and lines starting with '#' ignored,
 * no quoting (the value is the rest of the line, surrounding white space trimmed). Keys are
 * letters, digits, '_', '.' and '-' and do not start with a digit ('.' and '-' are for
 * the programs' configuration files, whose keys look like "kafka.bootstrap.servers").
 */
#ifndef JICENG_ENVFILE_H
#define JICENG_ENVFILE_H

#include "jiceng/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Called once per KEY=VALUE line; line is 1-based. Return JC_OK to go on; any other status
 *  stops the parse and is returned by jc_envfile_parse. */
typedef jc_status_t (*jc_envfile_cb)(const char *key, const char *value, int line, void *ud,
                                     jc_error_t *err);

/** Parse path, calling cb for each entry. A malformed line fails with JC_ERR_PARSE and a
 *  message naming the file and line; an unreadable file with JC_ERR_IO. */
JC_API jc_status_t jc_envfile_parse(const char *path, jc_envfile_cb cb, void *ud, jc_error_t *err);

/** Load path into the process environment. A variable that is already set keeps its value
 *  unless overwrite is non-zero, so the environment takes precedence over the file. */
JC_API jc_status_t jc_envfile_load(const char *path, int overwrite, jc_error_t *err);

/** The local stack's env file: $JICENG_ENV_FILE if set, else $JICENG_STATE/stack.env if
 *  JICENG_STATE is set, else default_state_dir/stack.env. Written into buf (size len);
 *  returns buf, or NULL if it does not fit or no directory is known (default_state_dir NULL). */
JC_API const char *jc_envfile_stack_path(const char *default_state_dir, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
