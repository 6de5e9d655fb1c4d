/*
 * access.h: the pieces of jiceng-access, the administrator's provisioning program (main.c), as
 * a static library so that the unit tests reach them: a county system's identity (county.c),
 * its files (files.c) and its certificate, issued by the stack's CA through openssl (pki.c).
 *
 * A county system is provisioned into its own directory, OUT/county-CODE/ (mode 0700), every
 * file mode 0600, written to a temporary name and renamed into place:
 *
 *   county-CODE.conf   the programs' config-file format (cli.h): kafka.bootstrap.servers,
 *                      kafka.security.protocol=ssl, kafka.ssl.ca.location, .certificate.location,
 *                      .key.location and jiceng.signing.keys, all naming the files below
 *   ca.crt             the CA certificate the broker's is checked against
 *   tls.crt, tls.key   the system's TLS client certificate (CN=county-CODE,OU=county,O=jiceng,
 *                      which the broker maps to principal User:county-CODE) and private key
 *   signing.key        its signing key file (jiceng/sign.h: key_id=, county=, secret=)
 *   signing.key.new    a new signing key waiting for its valid_from (renamed to signing.key
 *                      then; found and finished by the next run if the program stopped first)
 *
 * The paths written into the .conf are where jiceng-access wrote the files; a county system that
 * installs them elsewhere edits the paths.
 */
#ifndef JICENG_ACCESS_H
#define JICENG_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jiceng/buf.h"
#include "jiceng/common.h"

/* ---- a county system's identity (county.c) ------------------------------------------ */

typedef struct jc_access_county {
    int32_t code;         /**< the current six-digit code */
    char name[32];        /**< "county-520102": the principal's name, the directory's */
    char principal[40];   /**< "User:county-520102" */
    char subject[64];     /**< "CN=county-520102,OU=county,O=jiceng" (RFC 2253 order) */
} jc_access_county_t;

/** The county system for a command-line argument: exactly six digits naming a current county.
 *  An old code is refused, naming its current code; anything else is JC_ERR_INVALID_ARG. */
jc_status_t jc_access_county_parse(const char *arg, jc_access_county_t *out, jc_error_t *err);

/* ---- its files (files.c) ------------------------------------------------------------- */

#define JC_ACCESS_PATH_MAX 1024

typedef struct jc_access_paths {
    char dir[JC_ACCESS_PATH_MAX];
    char conf[JC_ACCESS_PATH_MAX];
    char ca[JC_ACCESS_PATH_MAX];
    char cert[JC_ACCESS_PATH_MAX];
    char key[JC_ACCESS_PATH_MAX];
    char signing_key[JC_ACCESS_PATH_MAX];
    char signing_key_new[JC_ACCESS_PATH_MAX];
} jc_access_paths_t;

/** The paths of county c's files under out_dir. JC_ERR_INVALID_ARG if they do not fit. */
jc_status_t jc_access_paths(const char *out_dir, const jc_access_county_t *c,
                            jc_access_paths_t *p, jc_error_t *err);

/** Make dir with mode 0700 if it is missing (its parent must exist); an existing one must be a
 *  directory that group and others cannot enter (JC_ERR_INSECURE_FILE otherwise). */
jc_status_t jc_access_private_dir(const char *dir, jc_error_t *err);

/** Put len bytes at path, mode 0600, through a temporary file in the same directory renamed
 *  into place (so a reader never sees half a file). If path holds exactly these bytes already,
 *  nothing is written and *changed (may be NULL) is false. */
jc_status_t jc_access_write_private(const char *path, const void *data, size_t len,
                                    bool *changed, jc_error_t *err);

/** Copy src to dst as jc_access_write_private does. */
jc_status_t jc_access_copy_private(const char *src, const char *dst, bool *changed,
                                   jc_error_t *err);

/** The county system's configuration file text for p and bootstrap into out (reset first). */
jc_status_t jc_access_conf_text(const jc_access_paths_t *p, const jc_access_county_t *c,
                                const char *bootstrap, jc_buf_t *out, jc_error_t *err);

/* ---- its certificate (pki.c) --------------------------------------------------------- */

/** What jc_access_cert_check found. */
typedef struct jc_access_cert {
    bool present;            /**< the certificate and key files exist */
    bool usable;             /**< issued by the CA, with the subject asked for, not expired */
    char why[200];           /**< why not usable */
    int64_t not_after_ms;    /**< its expiry (if present) */
} jc_access_cert_t;

/** Examine the certificate at cert (and that key exists): signed by ca_dir's CA (ca.crt), with
 *  subject (RFC 2253), not expired. Errors only if a file exists but cannot be read. */
jc_status_t jc_access_cert_check(const char *ca_dir, const char *cert, const char *key,
                                 const char *subject, jc_access_cert_t *out, jc_error_t *err);

/** Issue a new EC P-256 key and a client certificate for subject (RFC 2253 order), valid for
 *  days, signed by the CA in ca_dir (deploy/local/pki's layout: ca.crt, private/ca.key
 *  encrypted with the passphrase in private/ca.pass, both mode 0600), and put them at key and
 *  cert (key first). openssl runs as a child process, reading the CA's passphrase from its file
 *  (-passin file:); no secret is ever on its command line. The CA directory is locked
 *  (private/.lock, as deploy/local/pki does) while it signs. JC_ERR_IO with openssl's message
 *  if it fails, JC_ERR_INSECURE_FILE if the CA key or passphrase file is not private. */
jc_status_t jc_access_issue_cert(const char *ca_dir, const char *subject, int days,
                                 const char *key, const char *cert, jc_error_t *err);

#endif
