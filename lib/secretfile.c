/*
 * secretfile.c: the permission check for files that hold secrets (see jiceng/secretfile.h).
 *
 * Both entry points reduce to one judgement of a struct stat: a regular file whose mode has no
 * bit in 077. The path form uses stat, the descriptor form fstat.
 */
#include "jiceng/secretfile.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

static jc_status_t judge(const struct stat *st, const char *path, jc_error_t *err)
{
    if (!S_ISREG(st->st_mode))
        return jc_error_set(err, JC_ERR_IO, "'%s' is not a regular file; a secret must be kept "
                            "in one, readable by its owner only", path);
    unsigned mode = (unsigned)(st->st_mode & 07777);
    if ((mode & 077) != 0)
        return jc_error_set(err, JC_ERR_INSECURE_FILE,
                            "permissions %04o for '%s' are too open: it holds a secret and must "
                            "be readable by its owner only (chmod 600 '%s')", mode, path, path);
    return JC_OK;
}

jc_status_t jc_secret_file_check(const char *path, jc_error_t *err)
{
    if (path == NULL || *path == '\0')
        return jc_error_set(err, JC_ERR_INVALID_ARG, "jc_secret_file_check: path is required");
    struct stat st;
    if (stat(path, &st) != 0)
        return jc_error_set(err, JC_ERR_IO, "%s: %s", path, strerror(errno));
    return judge(&st, path, err);
}

jc_status_t jc_secret_fd_check(int fd, const char *path, jc_error_t *err)
{
    const char *name = path != NULL ? path : "(descriptor)";
    struct stat st;
    if (fstat(fd, &st) != 0)
        return jc_error_set(err, JC_ERR_IO, "%s: %s", name, strerror(errno));
    return judge(&st, name, err);
}
