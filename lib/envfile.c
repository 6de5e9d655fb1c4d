/*
 * envfile.c: reads KEY=VALUE files (see jiceng/envfile.h for the format).
 *
 * jc_envfile_parse reads line by line with getline, trims, skips blanks and comments, checks the
 * key's characters and hands each pair to a callback; jc_envfile_load is that parse with setenv
 * as the callback.
 */
#include "jiceng/envfile.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

static int valid_key(const char *k)
{
    if (*k == '\0' || isdigit((unsigned char)*k))
        return 0;
    for (; *k; k++)
        if (!isalnum((unsigned char)*k) && *k != '_' && *k != '.' && *k != '-')
            return 0;
    return 1;
}

static jc_status_t parse_line(const char *path, int lineno, char *text, jc_envfile_cb cb,
                              void *ud, jc_error_t *err)
{
    char *s = trim(text);
    if (*s == '\0' || *s == '#')
        return JC_OK;
    char *eq = strchr(s, '=');
    if (eq == NULL)
        return jc_error_set(err, JC_ERR_PARSE, "%s:%d: expected KEY=VALUE", path, lineno);
    *eq = '\0';
    char *key = trim(s);
    if (!valid_key(key))
        return jc_error_set(err, JC_ERR_PARSE, "%s:%d: invalid key '%s'", path, lineno, key);
    return cb(key, trim(eq + 1), lineno, ud, err);
}

jc_status_t jc_envfile_parse(const char *path, jc_envfile_cb cb, void *ud, jc_error_t *err)
{
    if (path == NULL || cb == NULL)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "jc_envfile_parse: path and cb are required");
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return jc_error_set(err, JC_ERR_IO, "%s: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0;
    jc_status_t st = JC_OK;
    while (st == JC_OK && getline(&line, &cap, f) != -1)
        st = parse_line(path, ++lineno, line, cb, ud, err);
    if (st == JC_OK && ferror(f))
        st = jc_error_set(err, JC_ERR_IO, "%s: read error", path);
    free(line);
    fclose(f);
    return st;
}

static jc_status_t setenv_cb(const char *key, const char *value, int line, void *ud,
                             jc_error_t *err)
{
    (void)line;
    int overwrite = *(const int *)ud;
    if (setenv(key, value, overwrite) != 0)
        return jc_error_set(err, JC_ERR_NOMEM, "setenv %s: %s", key, strerror(errno));
    return JC_OK;
}

jc_status_t jc_envfile_load(const char *path, int overwrite, jc_error_t *err)
{
    return jc_envfile_parse(path, setenv_cb, &overwrite, err);
}

const char *jc_envfile_stack_path(const char *default_state_dir, char *buf, size_t len)
{
    const char *explicit_file = getenv("JICENG_ENV_FILE");
    const char *state = getenv("JICENG_STATE");
    int n;
    if (explicit_file != NULL && *explicit_file != '\0')
        n = snprintf(buf, len, "%s", explicit_file);
    else if (state != NULL && *state != '\0')
        n = snprintf(buf, len, "%s/stack.env", state);
    else if (default_state_dir != NULL)
        n = snprintf(buf, len, "%s/stack.env", default_state_dir);
    else
        return NULL;
    return (n < 0 || (size_t)n >= len) ? NULL : buf;
}
