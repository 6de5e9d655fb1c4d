/*
 * pki.c: a county system's TLS certificate (access.h), issued by the stack's CA.
 *
 * Checking is done in-process with libcrypto: the certificate is verified against the CA's
 * certificate for TLS client use at the current time (which also checks its signature and
 * expiry), its subject is compared in RFC 2253 form, and its private key must match it.
 *
 * Issuing runs openssl as a child (posix_spawnp, stdin and stdout /dev/null, stderr to a file
 * read back for the message), the same three steps as deploy/local/pki: genpkey (EC P-256,
 * PKCS#8 PEM, unencrypted: mode 0600 protects it, as the stack's keys), req (the request, with
 * an openssl configuration written here), x509 -req (signed by the CA, whose encrypted key's
 * passphrase openssl reads with -passin file:PATH: a path on the command line, never the
 * secret). The serial is 16 random bytes. The work happens in a scratch directory next to the
 * destination (same file system), under the CA directory's lock (flock on private/.lock, which
 * deploy/local/pki takes too); the new certificate is checked before the key and then the
 * certificate are renamed into place, and the scratch directory is removed whatever happens.
 */
#define _DEFAULT_SOURCE /* flock(2), which deploy/local/pki's flock(1) uses too */

#include "access.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "jiceng/secretfile.h"

extern char **environ;

/* The openssl configuration for the request and the client certificate's extensions (the
 * same extensions deploy/local/pki gives a client). */
static const char openssl_cnf[] =
    "[req]\n"
    "distinguished_name = dn\n"
    "prompt = no\n"
    "[dn]\n"
    "[client_ext]\n"
    "basicConstraints = critical, CA:FALSE\n"
    "keyUsage = critical, digitalSignature\n"
    "extendedKeyUsage = clientAuth\n"
    "subjectKeyIdentifier = hash\n"
    "authorityKeyIdentifier = keyid\n";

/* ---- reading certificates and keys ---- */

static X509 *read_cert(const char *path)
{
    FILE *f = fopen(path, "r");
    X509 *x = f != NULL ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f != NULL)
        fclose(f);
    ERR_clear_error();
    return x;
}

static EVP_PKEY *read_key(const char *path)
{
    FILE *f = fopen(path, "r");
    EVP_PKEY *k = f != NULL ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
    if (f != NULL)
        fclose(f);
    ERR_clear_error();
    return k;
}

/* x's subject in RFC 2253 form into buf. */
static void subject_text(X509 *x, char *buf, size_t len)
{
    buf[0] = '\0';
    BIO *b = BIO_new(BIO_s_mem());
    if (b == NULL)
        return;
    if (X509_NAME_print_ex(b, X509_get_subject_name(x), 0, XN_FLAG_RFC2253) >= 0) {
        int n = BIO_read(b, buf, (int)len - 1);
        buf[n > 0 ? n : 0] = '\0';
    }
    BIO_free(b);
}

/* Does x verify against the CA certificate ca for TLS client use, now? */
static bool verifies(X509 *ca, X509 *x, char *why, size_t len)
{
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    bool ok = false;
    if (store != NULL && ctx != NULL && X509_STORE_add_cert(store, ca) == 1 &&
        X509_STORE_CTX_init(ctx, store, x, NULL) == 1 &&
        X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT) == 1) {
        ok = X509_verify_cert(ctx) == 1;
        if (!ok)
            snprintf(why, len, "it does not verify against the CA: %s",
                     X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
    } else {
        snprintf(why, len, "libcrypto could not set up a verification");
    }
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    ERR_clear_error();
    return ok;
}

static int64_t not_after_ms(X509 *x)
{
    int days = 0, secs = 0;
    time_t now = time(NULL); /* whole seconds, as ASN1_TIME_diff counts from */
    if (ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x)) != 1)
        return 0;
    return ((int64_t)now + (int64_t)days * 86400 + secs) * 1000;
}

static void judge(X509 *ca, X509 *x, EVP_PKEY *key, const char *subject, jc_access_cert_t *out)
{
    char got[256];
    subject_text(x, got, sizeof got);
    out->not_after_ms = not_after_ms(x);
    if (!verifies(ca, x, out->why, sizeof out->why))
        return;
    if (strcmp(got, subject) != 0) {
        snprintf(out->why, sizeof out->why, "its subject is %.80s, not %.80s", got, subject);
        return;
    }
    if (key == NULL || X509_check_private_key(x, key) != 1) {
        snprintf(out->why, sizeof out->why, "its private key is missing or does not match it");
        ERR_clear_error();
        return;
    }
    out->usable = true;
}

jc_status_t jc_access_cert_check(const char *ca_dir, const char *cert, const char *key,
                                 const char *subject, jc_access_cert_t *out, jc_error_t *err)
{
    memset(out, 0, sizeof *out);
    if (access(cert, F_OK) != 0 || access(key, F_OK) != 0) {
        snprintf(out->why, sizeof out->why, "no certificate and key yet");
        return JC_OK;
    }
    out->present = true;
    char ca_path[JC_ACCESS_PATH_MAX];
    snprintf(ca_path, sizeof ca_path, "%s/ca.crt", ca_dir);
    X509 *ca = read_cert(ca_path), *x = read_cert(cert);
    EVP_PKEY *k = read_key(key);
    jc_status_t st = JC_OK;
    if (ca == NULL)
        st = jc_error_set(err, JC_ERR_IO, "%s: not a readable PEM certificate", ca_path);
    else if (x == NULL)
        snprintf(out->why, sizeof out->why, "%s is not a readable PEM certificate", cert);
    else
        judge(ca, x, k, subject, out);
    EVP_PKEY_free(k);
    X509_free(x);
    X509_free(ca);
    return st;
}

/* ---- running openssl ---- */

/* Run openssl with argv (argv[0] "openssl"), its standard error into errfile; on failure the
 * message names what and quotes openssl's first lines. */
static jc_status_t run_openssl(char *const argv[], const char *errfile, const char *what,
                               jc_error_t *err)
{
    posix_spawn_file_actions_t fa;
    if (posix_spawn_file_actions_init(&fa) != 0)
        return jc_error_set(err, JC_ERR_NOMEM, "openssl: %s: cannot set up", what);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, errfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid;
    int rc = posix_spawnp(&pid, "openssl", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return jc_error_set(err, JC_ERR_IO, "cannot run openssl (%s): %s", what, strerror(rc));
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return JC_OK;
    char text[400] = "";
    FILE *f = fopen(errfile, "r");
    if (f != NULL) {
        size_t n = fread(text, 1, sizeof text - 1, f);
        text[n] = '\0';
        fclose(f);
    }
    for (char *p = text; *p; p++)
        if (*p == '\n')
            *p = ' ';
    return jc_error_set(err, JC_ERR_IO, "openssl failed %s (status %d): %s", what,
                        WIFEXITED(status) ? WEXITSTATUS(status) : -1, text);
}

/* "CN=a,OU=b,O=c" (RFC 2253 order) -> "/O=c/OU=b/CN=a" (openssl's -subj order). */
static jc_status_t subj_arg(const char *subject, char *out, size_t len, jc_error_t *err)
{
    out[0] = '\0';
    size_t used = 0;
    const char *end = subject + strlen(subject);
    while (end > subject) {
        const char *start = end;
        while (start > subject && start[-1] != ',')
            start--;
        int n = snprintf(out + used, len - used, "/%.*s", (int)(end - start), start);
        if (n < 0 || (size_t)n >= len - used)
            return jc_error_set(err, JC_ERR_INVALID_ARG, "subject %s is too long", subject);
        used += (size_t)n;
        end = start > subject ? start - 1 : start;
    }
    return JC_OK;
}

/* Remove the scratch directory and what it holds (no subdirectories). */
static void remove_scratch(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[JC_ACCESS_PATH_MAX + 300];
    while (d != NULL && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    if (d != NULL)
        closedir(d);
    rmdir(dir);
}

struct issue {
    char dir[JC_ACCESS_PATH_MAX];     /* the scratch directory */
    char cnf[JC_ACCESS_PATH_MAX + 16], key[JC_ACCESS_PATH_MAX + 16], csr[JC_ACCESS_PATH_MAX + 16];
    char crt[JC_ACCESS_PATH_MAX + 16], errf[JC_ACCESS_PATH_MAX + 16];
    char ca_crt[JC_ACCESS_PATH_MAX], ca_key[JC_ACCESS_PATH_MAX], ca_pass[JC_ACCESS_PATH_MAX + 8];
};

static jc_status_t scratch(struct issue *w, const char *dest, const char *ca_dir, jc_error_t *err)
{
    const char *slash = strrchr(dest, '/');
    int n = snprintf(w->dir, sizeof w->dir, "%.*s/.issue.XXXXXX",
                     slash != NULL ? (int)(slash - dest) : 1, slash != NULL ? dest : ".");
    if (n < 0 || (size_t)n >= sizeof w->dir || mkdtemp(w->dir) == NULL)
        return jc_error_set(err, JC_ERR_IO, "a scratch directory next to %s: %s", dest,
                            strerror(errno));
    snprintf(w->cnf, sizeof w->cnf, "%s/openssl.cnf", w->dir);
    snprintf(w->key, sizeof w->key, "%s/leaf.key", w->dir);
    snprintf(w->csr, sizeof w->csr, "%s/leaf.csr", w->dir);
    snprintf(w->crt, sizeof w->crt, "%s/leaf.crt", w->dir);
    snprintf(w->errf, sizeof w->errf, "%s/openssl.err", w->dir);
    snprintf(w->ca_crt, sizeof w->ca_crt, "%s/ca.crt", ca_dir);
    snprintf(w->ca_key, sizeof w->ca_key, "%s/private/ca.key", ca_dir);
    snprintf(w->ca_pass, sizeof w->ca_pass, "file:%s/private/ca.pass", ca_dir);
    return jc_access_write_private(w->cnf, openssl_cnf, strlen(openssl_cnf), NULL, err);
}

/* The three openssl steps into the scratch directory. */
static jc_status_t make_key_and_cert(struct issue *w, const char *subject, int days,
                                     jc_error_t *err)
{
    char subj[256], serial[40], days_text[16];
    unsigned char rnd[16];
    jc_status_t st = subj_arg(subject, subj, sizeof subj, err);
    if (st != JC_OK)
        return st;
    if (RAND_bytes(rnd, sizeof rnd) != 1)
        return jc_error_set(err, JC_ERR_IO, "libcrypto: no random serial number");
    rnd[0] &= 0x7f; /* a positive serial */
    memcpy(serial, "0x", 3);
    for (size_t i = 0; i < sizeof rnd; i++)
        snprintf(serial + 2 + 2 * i, 3, "%02x", rnd[i]);
    snprintf(days_text, sizeof days_text, "%d", days);
    char *genpkey[] = {"openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                       "ec_paramgen_curve:P-256", "-pkeyopt", "ec_param_enc:named_curve",
                       "-out", w->key, NULL};
    char *req[] = {"openssl", "req", "-new", "-config", w->cnf, "-key", w->key, "-subj", subj,
                   "-out", w->csr, NULL};
    char *sign[] = {"openssl", "x509", "-req", "-in", w->csr, "-CA", w->ca_crt, "-CAkey",
                    w->ca_key, "-passin", w->ca_pass, "-set_serial", serial, "-days",
                    days_text, "-sha256", "-extfile", w->cnf, "-extensions", "client_ext",
                    "-out", w->crt, NULL};
    st = run_openssl(genpkey, w->errf, "generating a key", err);
    if (st == JC_OK)
        st = run_openssl(req, w->errf, "making the certificate request", err);
    if (st == JC_OK)
        st = run_openssl(sign, w->errf, "signing the certificate", err);
    return st;
}

/* Hold the CA directory's lock (deploy/local/pki's) until the descriptor is closed. */
static jc_status_t lock_ca(const char *ca_dir, int *fd, jc_error_t *err)
{
    char path[JC_ACCESS_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/private/.lock", ca_dir);
    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (*fd < 0)
        return jc_error_set(err, JC_ERR_IO, "%s: %s", path, strerror(errno));
    if (flock(*fd, LOCK_EX) != 0) {
        close(*fd);
        return jc_error_set(err, JC_ERR_IO, "lock %s: %s", path, strerror(errno));
    }
    return JC_OK;
}

/* The new certificate is what was asked for; then key and certificate go into place. */
static jc_status_t install(struct issue *w, const char *ca_dir, const char *subject,
                           const char *key, const char *cert, jc_error_t *err)
{
    jc_access_cert_t c;
    jc_status_t st = jc_access_cert_check(ca_dir, w->crt, w->key, subject, &c, err);
    if (st == JC_OK && !c.usable)
        st = jc_error_set(err, JC_ERR_IO, "the certificate openssl made is not usable: %s",
                          c.why);
    if (st == JC_OK && (chmod(w->key, 0600) != 0 || chmod(w->crt, 0600) != 0 ||
                        rename(w->key, key) != 0 || rename(w->crt, cert) != 0))
        st = jc_error_set(err, JC_ERR_IO, "installing %s and %s: %s", key, cert,
                          strerror(errno));
    return st;
}

jc_status_t jc_access_issue_cert(const char *ca_dir, const char *subject, int days,
                                 const char *key, const char *cert, jc_error_t *err)
{
    struct issue w;
    char path[JC_ACCESS_PATH_MAX + 32];
    const char *const private_files[] = {"private/ca.key", "private/ca.pass"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", ca_dir, private_files[i]);
        jc_status_t st = jc_secret_file_check(path, err);
        if (st != JC_OK)
            return st;
    }
    int lock = -1;
    jc_status_t st = lock_ca(ca_dir, &lock, err);
    if (st != JC_OK)
        return st;
    if ((st = scratch(&w, key, ca_dir, err)) == JC_OK) {
        st = make_key_and_cert(&w, subject, days, err);
        if (st == JC_OK)
            st = install(&w, ca_dir, subject, key, cert, err);
        remove_scratch(w.dir);
    }
    close(lock);
    return st;
}
