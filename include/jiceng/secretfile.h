/*
 * jiceng/secretfile.h: refusing a secret that others can read.
 *
 * A file that holds a secret (a signing key, a password, a configuration or env file with a
 * password in it) must be readable by its owner only, as ssh insists for private keys: a file
 * with any group or other permission bit set is refused with an error that names the file, its
 * mode and the fix. The check is on the file itself (stat follows a symbolic link to it), and it
 * must be a regular file, so /dev/stdin or a FIFO cannot stand in for one.
 */
#ifndef JICENG_SECRETFILE_H
#define JICENG_SECRETFILE_H

#include "jiceng/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Check that path is a regular file with no permission bits for group or others (mode 0600,
 *  0400 or stricter). JC_ERR_INSECURE_FILE if it has any, e.g. "permissions 0644 for 'FILE'
 *  are too open: it holds a secret and must be readable by its owner only (chmod 600 'FILE')";
 *  JC_ERR_IO if it cannot be examined or is not a regular file. */
JC_API jc_status_t jc_secret_file_check(const char *path, jc_error_t *err);

/** The same check on an open descriptor (fstat), for a caller that opened the file first and so
 *  examines exactly what it reads; path only names the file in the message. */
JC_API jc_status_t jc_secret_fd_check(int fd, const char *path, jc_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
