/*
 * files.c: a county system's files as jiceng-access writes them (access.h): their paths, the
 * private directory, whole-file writes through a temporary file renamed into place (mode 0600,
 * fsync'd, so a crash leaves the old file or the new one, never a mix), and the text of the
 * configuration file, generated from one table of entries.
 */
#include "access.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "jiceng/secretfile.h"

/* Set one path to dir/name; JC_ERR_INVALID_ARG if it does not fit. */
static jc_status_t join(char out[JC_ACCESS_PATH_MAX], const char *dir, const char *name,
                        const char *suffix, jc_error_t *err)
{
    int n = snprintf(out, JC_ACCESS_PATH_MAX, "%s/%s%s", dir, name, suffix);
    if (n < 0 || n >= JC_ACCESS_PATH_MAX)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "path %s/%s%s is too long", dir, name,
                            suffix);
    return JC_OK;
}

jc_status_t jc_access_paths(const char *out_dir, const jc_access_county_t *c,
                            jc_access_paths_t *p, jc_error_t *err)
{
    if (out_dir == NULL || *out_dir == '\0')
        return jc_error_set(err, JC_ERR_INVALID_ARG, "no output directory");
    jc_status_t st = join(p->dir, out_dir, c->name, "", err);
    if (st == JC_OK)
        st = join(p->conf, p->dir, c->name, ".conf", err);
    if (st == JC_OK)
        st = join(p->ca, p->dir, "ca.crt", "", err);
    if (st == JC_OK)
        st = join(p->cert, p->dir, "tls.crt", "", err);
    if (st == JC_OK)
        st = join(p->key, p->dir, "tls.key", "", err);
    if (st == JC_OK)
        st = join(p->signing_key, p->dir, "signing.key", "", err);
    if (st == JC_OK)
        st = join(p->signing_key_new, p->dir, "signing.key", ".new", err);
    return st;
}

jc_status_t jc_access_private_dir(const char *dir, jc_error_t *err)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return jc_error_set(err, JC_ERR_IO, "%s: %s", dir, strerror(errno));
    struct stat st;
    if (stat(dir, &st) != 0)
        return jc_error_set(err, JC_ERR_IO, "%s: %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return jc_error_set(err, JC_ERR_IO, "%s is not a directory", dir);
    if ((st.st_mode & 077) != 0)
        return jc_error_set(err, JC_ERR_INSECURE_FILE, "permissions %04o for '%s' are too open: "
                            "it holds a county system's private keys (chmod 700 '%s')",
                            (unsigned)(st.st_mode & 07777), dir, dir);
    return JC_OK;
}

/* Does path hold exactly these len bytes? */
static bool same_content(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return false;
    char *buf = malloc(len + 1);
    size_t got = buf != NULL ? fread(buf, 1, len + 1, f) : 0;
    bool same = buf != NULL && got == len && memcmp(buf, data, len) == 0;
    if (buf != NULL)
        OPENSSL_cleanse(buf, len + 1);
    free(buf);
    fclose(f);
    return same;
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return 0;
        p += n;
        len -= (size_t)n;
    }
    return 1;
}

jc_status_t jc_access_write_private(const char *path, const void *data, size_t len,
                                    bool *changed, jc_error_t *err)
{
    if (changed != NULL)
        *changed = false;
    if (same_content(path, data, len))
        return JC_OK;
    char tmp[JC_ACCESS_PATH_MAX + 16];
    if (snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= (int)sizeof tmp)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "path %s is too long", path);
    int fd = mkstemp(tmp); /* mode 0600 */
    if (fd < 0)
        return jc_error_set(err, JC_ERR_IO, "%s: %s", tmp, strerror(errno));
    int ok = fchmod(fd, 0600) == 0 && write_all(fd, data, len) && fsync(fd) == 0;
    int saved = errno;
    if (close(fd) != 0 && ok) {
        ok = 0;
        saved = errno;
    }
    if (ok && rename(tmp, path) != 0) {
        ok = 0;
        saved = errno;
    }
    if (!ok) {
        unlink(tmp);
        return jc_error_set(err, JC_ERR_IO, "%s: %s", path, strerror(saved));
    }
    if (changed != NULL)
        *changed = true;
    return JC_OK;
}

jc_status_t jc_access_copy_private(const char *src, const char *dst, bool *changed,
                                   jc_error_t *err)
{
    FILE *f = fopen(src, "rb");
    if (f == NULL)
        return jc_error_set(err, JC_ERR_IO, "%s: %s", src, strerror(errno));
    jc_buf_t b = {0};
    char chunk[4096];
    size_t n;
    jc_status_t st = JC_OK;
    while (st == JC_OK && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (jc_buf_append(&b, chunk, n) != JC_OK)
            st = jc_error_set(err, JC_ERR_NOMEM, "out of memory reading %s", src);
    if (st == JC_OK && ferror(f))
        st = jc_error_set(err, JC_ERR_IO, "%s: read error", src);
    fclose(f);
    if (st == JC_OK)
        st = jc_access_write_private(dst, b.data, b.len, changed, err);
    jc_buf_free(&b);
    return st;
}

jc_status_t jc_access_conf_text(const jc_access_paths_t *p, const jc_access_county_t *c,
                                const char *bootstrap, jc_buf_t *out, jc_error_t *err)
{
    if (bootstrap == NULL || *bootstrap == '\0')
        return jc_error_set(err, JC_ERR_INVALID_ARG, "no Kafka bootstrap servers for %s.conf",
                            c->name);
    const char *const entries[] = {
        "kafka.bootstrap.servers", bootstrap,
        "kafka.security.protocol", "ssl",
        "kafka.ssl.ca.location", p->ca,
        "kafka.ssl.certificate.location", p->cert,
        "kafka.ssl.key.location", p->key,
        "jiceng.signing.keys", p->signing_key,
        NULL,
    };
    char head[200];
    snprintf(head, sizeof head, "# written by jiceng-access: county system %06ld, Kafka "
             "principal %s (jiceng config-file format)\n", (long)c->code, c->principal);
    jc_buf_reset(out);
    jc_status_t st = jc_buf_append_str(out, head);
    for (const char *const *e = entries; st == JC_OK && e[0] != NULL; e += 2) {
        if (strchr(e[1], '\n') != NULL)
            return jc_error_set(err, JC_ERR_INVALID_ARG, "%s: a value with a newline", e[0]);
        if ((st = jc_buf_append_str(out, e[0])) == JC_OK && (st = jc_buf_append_str(out, "=")) ==
            JC_OK && (st = jc_buf_append_str(out, e[1])) == JC_OK)
            st = jc_buf_append_str(out, "\n");
    }
    if (st != JC_OK)
        return jc_error_set(err, JC_ERR_NOMEM, "out of memory for %s.conf", c->name);
    return JC_OK;
}
