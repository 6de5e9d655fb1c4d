/*
 * sign.c: record signatures (see jiceng/sign.h and docs/signing.md).
 *
 * The MAC is OpenSSL's HMAC through the EVP_MAC interface: the HMAC algorithm is fetched once
 * per process, and every key gets one EVP_MAC_CTX, keyed when the signer or keyring entry is
 * made; each record re-initialises that context with the same key (EVP_MAC_init with a NULL
 * key), which costs no key setup, then feeds the signed bytes in pieces (tag, length prefixes,
 * topic, key, value) without copying the record. Header values are formatted and parsed here,
 * strictly (lowercase hex only, exact length).
 *
 * A producer's signers (jc_signers_t) are a sorted array of signers searched by county; a
 * directory of key files is read in name order. The keyring is a sorted array of pointers to
 * entries (key and its MAC context), searched by binary search on the key id; entries never
 * move, so pointers handed out stay valid. Secrets
 * are cleansed when entries, signers or parsing buffers are released. Messages name key ids,
 * counties and times, never secrets.
 */
#include "jiceng/sign.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "jiceng/buf.h"
#include "jiceng/envfile.h"
#include "jiceng/jtime.h"
#include "jiceng/reference.h"
#include "jiceng/secretfile.h"
#include "digest.h"

static const char *const verdict_names[JC_SIGN_VERDICT_COUNT_] = {
    [JC_SIGN_OK] = "ok",
    [JC_SIGN_MISSING] = "missing",
    [JC_SIGN_MALFORMED] = "malformed",
    [JC_SIGN_UNKNOWN_KEY] = "unknown-key",
    [JC_SIGN_NOT_YET_VALID] = "not-yet-valid",
    [JC_SIGN_KEY_CLOSED] = "key-closed",
    [JC_SIGN_BAD_SIGNATURE] = "bad-signature",
    [JC_SIGN_WRONG_COUNTY] = "wrong-county",
};

const char *jc_sign_verdict_name(jc_sign_verdict_t v)
{
    if ((unsigned)v >= JC_SIGN_VERDICT_COUNT_)
        return "unknown";
    return verdict_names[v];
}

/* A refusal: JC_ERR_UNAUTHORIZED, *verdict = v, message "<verdict name>: <detail>". */
__attribute__((format(printf, 4, 5)))
static jc_status_t refuse(jc_error_t *err, jc_sign_verdict_t *verdict, jc_sign_verdict_t v,
                          const char *fmt, ...)
{
    if (verdict != NULL)
        *verdict = v;
    if (err != NULL) {
        char detail[sizeof err->message];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(detail, sizeof detail, fmt, ap);
        va_end(ap);
        jc_error_set(err, JC_ERR_UNAUTHORIZED, "%s: %s", jc_sign_verdict_name(v), detail);
    }
    return JC_ERR_UNAUTHORIZED;
}

/* The most recent libcrypto error as a jc_error_t (JC_ERR_IO: libcrypto could not work). */
static jc_status_t crypto_failed(jc_error_t *err, const char *what)
{
    char text[256];
    unsigned long e = ERR_get_error();
    ERR_error_string_n(e, text, sizeof text);
    ERR_clear_error();
    return jc_error_set(err, JC_ERR_IO, "libcrypto: %s failed: %s", what,
                        e != 0 ? text : "no reason given");
}

/* ---- the MAC -------------------------------------------------------------------------- */

static pthread_once_t hmac_once = PTHREAD_ONCE_INIT;
static EVP_MAC *hmac_alg;

static void fetch_hmac(void)
{
    hmac_alg = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
}

/* A MAC context keyed with secret, ready for mac_record. */
static jc_status_t mac_new(const unsigned char *secret, size_t secret_len, EVP_MAC_CTX **out,
                           jc_error_t *err)
{
    *out = NULL;
    if (pthread_once(&hmac_once, fetch_hmac) != 0 || hmac_alg == NULL)
        return crypto_failed(err, "fetching HMAC");
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(hmac_alg);
    if (ctx == NULL)
        return crypto_failed(err, "EVP_MAC_CTX_new");
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    if (!EVP_MAC_init(ctx, secret, secret_len, params)) {
        EVP_MAC_CTX_free(ctx);
        return crypto_failed(err, "EVP_MAC_init");
    }
    *out = ctx;
    return JC_OK;
}

static void put_u32be(unsigned char b[4], uint32_t v)
{
    b[0] = (unsigned char)(v >> 24);
    b[1] = (unsigned char)(v >> 16);
    b[2] = (unsigned char)(v >> 8);
    b[3] = (unsigned char)v;
}

/* Feed one length-prefixed field: bytes == NULL is null (prefix JC_SIGN_NULL_LEN, no bytes). */
static int feed_field(EVP_MAC_CTX *ctx, const void *bytes, size_t len)
{
    unsigned char prefix[4];
    put_u32be(prefix, bytes == NULL ? JC_SIGN_NULL_LEN : (uint32_t)len);
    if (!EVP_MAC_update(ctx, prefix, sizeof prefix))
        return 0;
    return bytes == NULL || len == 0 || EVP_MAC_update(ctx, bytes, len);
}

/* The record's arguments as jc_sign_compute documents them. */
static jc_status_t check_record_args(const char *topic, const void *key, size_t key_len,
                                     const void *value, size_t value_len, jc_error_t *err)
{
    if (topic == NULL)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "signing: the topic is required");
    if ((key == NULL && key_len != 0) || (value == NULL && value_len != 0))
        return jc_error_set(err, JC_ERR_INVALID_ARG,
                            "signing: a null key or value must have length 0");
    if (strlen(topic) >= JC_SIGN_NULL_LEN || key_len >= JC_SIGN_NULL_LEN ||
        value_len >= JC_SIGN_NULL_LEN)
        return jc_error_set(err, JC_ERR_INVALID_ARG,
                            "signing: a topic, key or value of 4 GiB or more cannot be signed");
    return JC_OK;
}

/* The MAC of one record with a keyed context (re-initialised with its key first). */
static jc_status_t mac_record(EVP_MAC_CTX *ctx, const char *topic, const void *key,
                              size_t key_len, const void *value, size_t value_len,
                              unsigned char mac[JC_SIGN_MAC_BYTES], jc_error_t *err)
{
    jc_status_t st = check_record_args(topic, key, key_len, value, value_len, err);
    if (st != JC_OK)
        return st;
    size_t out_len = 0;
    if (!EVP_MAC_init(ctx, NULL, 0, NULL) ||
        !EVP_MAC_update(ctx, (const unsigned char *)JC_SIGN_TAG, JC_SIGN_TAG_LEN) ||
        !feed_field(ctx, topic, strlen(topic)) || !feed_field(ctx, key, key_len) ||
        !feed_field(ctx, value, value_len) ||
        !EVP_MAC_final(ctx, mac, &out_len, JC_SIGN_MAC_BYTES))
        return crypto_failed(err, "HMAC-SHA256");
    if (out_len != JC_SIGN_MAC_BYTES)
        return jc_error_set(err, JC_ERR_IO, "libcrypto: HMAC-SHA256 gave %zu bytes", out_len);
    return JC_OK;
}

jc_status_t jc_sign_compute(const unsigned char *secret, size_t secret_len, const char *topic,
                            const void *key, size_t key_len, const void *value,
                            size_t value_len, unsigned char mac[JC_SIGN_MAC_BYTES],
                            jc_error_t *err)
{
    if (secret == NULL || secret_len == 0 || mac == NULL)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "jc_sign_compute: a secret is required");
    EVP_MAC_CTX *ctx;
    jc_status_t st = mac_new(secret, secret_len, &ctx, err);
    if (st != JC_OK)
        return st;
    st = mac_record(ctx, topic, key, key_len, value, value_len, mac, err);
    EVP_MAC_CTX_free(ctx);
    return st;
}

/* ---- header values -------------------------------------------------------------------- */

void jc_sign_format(const unsigned char mac[JC_SIGN_MAC_BYTES], char out[JC_SIGN_SIG_LEN + 1])
{
    size_t prefix = strlen(JC_SIGN_SIG_PREFIX);
    memcpy(out, JC_SIGN_SIG_PREFIX, prefix);
    jc_hex(mac, JC_SIGN_MAC_BYTES, out + prefix);
}

/* A hex digit's value, or -1; upper case only when upper_ok. */
/* Each byte's hex digit value plus 1 (1-16) for 0-9 and a-f, plus 17 (17-22) for A-F, 0 for
 * anything else. A table, because the aggregator decodes a 64-digit MAC per record: a branch on
 * every digit cost about 6% of its loop (perf, issue 14). */
#define D(c, v) [c] = (v) + 1
static const unsigned char hex_table[256] = {
    D('0', 0), D('1', 1), D('2', 2), D('3', 3), D('4', 4), D('5', 5), D('6', 6), D('7', 7),
    D('8', 8), D('9', 9), D('a', 10), D('b', 11), D('c', 12), D('d', 13), D('e', 14), D('f', 15),
    D('A', 26), D('B', 27), D('C', 28), D('D', 29), D('E', 30), D('F', 31),
};
#undef D

/* Decode 2*n hex digits into n bytes; 0 if any is not a hex digit (upper case ones only if
 * upper_ok). */
static int hex_decode(const char *hex, size_t n, int upper_ok, unsigned char *out)
{
    const unsigned char *h = (const unsigned char *)hex;
    unsigned bad = 0, top = upper_ok ? 32 : 16;
    for (size_t i = 0; i < n; i++) {
        unsigned hi = hex_table[h[2 * i]], lo = hex_table[h[2 * i + 1]];
        bad |= (hi == 0) | (hi > top) | (lo == 0) | (lo > top);
        out[i] = (unsigned char)(((hi - 1) & 15) << 4 | ((lo - 1) & 15));
    }
    return !bad;
}

int jc_sign_parse(const void *header, size_t len, unsigned char mac[JC_SIGN_MAC_BYTES])
{
    size_t prefix = strlen(JC_SIGN_SIG_PREFIX);
    const char *h = header;
    if (h == NULL || len != JC_SIGN_SIG_LEN || memcmp(h, JC_SIGN_SIG_PREFIX, prefix) != 0)
        return 0;
    return hex_decode(h + prefix, JC_SIGN_MAC_BYTES, 0, mac);
}

int jc_sign_key_id_valid(const void *id, size_t len)
{
    const unsigned char *s = id;
    if (s == NULL || len == 0 || len > JC_SIGN_KEY_ID_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = s[i];
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == '-';
        if (!ok)
            return 0;
    }
    return 1;
}

jc_status_t jc_sign_secret_from_hex(const char *hex, unsigned char secret[JC_SIGN_SECRET_BYTES],
                                    jc_error_t *err)
{
    if (hex == NULL || strlen(hex) != 2 * JC_SIGN_SECRET_BYTES ||
        !hex_decode(hex, JC_SIGN_SECRET_BYTES, 1, secret)) {
        OPENSSL_cleanse(secret, JC_SIGN_SECRET_BYTES);
        return jc_error_set(err, JC_ERR_PARSE, "a signing secret must be exactly %d hex digits",
                            2 * JC_SIGN_SECRET_BYTES);
    }
    return JC_OK;
}

jc_status_t jc_sign_secret_generate(unsigned char secret[JC_SIGN_SECRET_BYTES], jc_error_t *err)
{
    if (RAND_bytes(secret, JC_SIGN_SECRET_BYTES) != 1)
        return crypto_failed(err, "RAND_bytes");
    return JC_OK;
}

/* ---- producer side -------------------------------------------------------------------- */

struct jc_signer {
    char key_id[JC_SIGN_KEY_ID_MAX + 1];
    int32_t county;   /* the current code */
    EVP_MAC_CTX *mac; /* keyed with the secret; the signer keeps no other copy of it */
};

/* The current code of a signing key's county into *current, or JC_ERR_INVALID_ARG. */
static jc_status_t key_county(const char *key_id, int32_t county, int32_t *current,
                              jc_error_t *err)
{
    jc_error_t sub;
    if (jc_county_resolve(county, current, &sub) != JC_OK)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "key '%.80s': %s", key_id, sub.message);
    return JC_OK;
}

jc_status_t jc_signer_new(const char *key_id, int32_t county,
                          const unsigned char secret[JC_SIGN_SECRET_BYTES], jc_signer_t **out,
                          jc_error_t *err)
{
    if (out == NULL || secret == NULL || key_id == NULL)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "jc_signer_new: arguments are required");
    *out = NULL;
    if (!jc_sign_key_id_valid(key_id, strlen(key_id)))
        return jc_error_set(err, JC_ERR_INVALID_ARG,
                            "key id '%.80s' is not 1..%d of [A-Za-z0-9._-]", key_id,
                            JC_SIGN_KEY_ID_MAX);
    int32_t current;
    jc_status_t st = key_county(key_id, county, &current, err);
    if (st != JC_OK)
        return st;
    jc_signer_t *s = calloc(1, sizeof *s);
    if (s == NULL)
        return jc_error_set(err, JC_ERR_NOMEM, "out of memory for a signer");
    memcpy(s->key_id, key_id, strlen(key_id) + 1);
    s->county = current;
    st = mac_new(secret, JC_SIGN_SECRET_BYTES, &s->mac, err);
    if (st != JC_OK) {
        free(s);
        return st;
    }
    *out = s;
    return JC_OK;
}

void jc_signer_free(jc_signer_t *s)
{
    if (s == NULL)
        return;
    EVP_MAC_CTX_free(s->mac); /* cleanses the keyed state */
    OPENSSL_cleanse(s, sizeof *s);
    free(s);
}

const char *jc_signer_key_id(const jc_signer_t *s)
{
    return s->key_id;
}

int32_t jc_signer_county(const jc_signer_t *s)
{
    return s->county;
}

jc_status_t jc_signer_sign(jc_signer_t *s, const char *topic, const void *key, size_t key_len,
                           const void *value, size_t value_len, char sig[JC_SIGN_SIG_LEN + 1],
                           jc_error_t *err)
{
    if (s == NULL || sig == NULL)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "jc_signer_sign: arguments are required");
    unsigned char mac[JC_SIGN_MAC_BYTES];
    jc_status_t st = mac_record(s->mac, topic, key, key_len, value, value_len, mac, err);
    if (st == JC_OK)
        jc_sign_format(mac, sig);
    return st;
}

jc_status_t jc_signer_add_headers(jc_signer_t *s, rd_kafka_headers_t *hdrs, const char *topic,
                                  const void *key, size_t key_len, const void *value,
                                  size_t value_len, jc_error_t *err)
{
    if (hdrs == NULL)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "jc_signer_add_headers: no headers");
    char sig[JC_SIGN_SIG_LEN + 1];
    jc_status_t st = jc_signer_sign(s, topic, key, key_len, value, value_len, sig, err);
    if (st != JC_OK)
        return st;
    rd_kafka_resp_err_t e = rd_kafka_header_add(hdrs, JC_SIGN_HEADER_KEY_ID, -1, s->key_id, -1);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
        e = rd_kafka_header_add(hdrs, JC_SIGN_HEADER_SIG, -1, sig, JC_SIGN_SIG_LEN);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
        return jc_error_set(err, JC_ERR_KAFKA, "adding the signature headers: %s",
                            rd_kafka_err2str(e));
    return JC_OK;
}

/* What jc_signer_load collects from a key file. */
struct key_file {
    const char *path;
    char key_id[JC_SIGN_KEY_ID_MAX + 1];
    int32_t county;
    unsigned char secret[JC_SIGN_SECRET_BYTES];
    int have_id, have_county, have_secret;
};

/* A county code as a key file writes it: six digits. */
static int parse_county(const char *v, int32_t *out)
{
    if (strlen(v) != 6)
        return 0;
    int32_t n = 0;
    for (const char *c = v; *c; c++) {
        if (*c < '0' || *c > '9')
            return 0;
        n = n * 10 + (*c - '0');
    }
    *out = n;
    return 1;
}

static jc_status_t key_file_value(struct key_file *kf, const char *k, const char *v, int line,
                                  jc_error_t *err)
{
    if (strcmp(k, "key_id") == 0) {
        if (!jc_sign_key_id_valid(v, strlen(v)))
            return jc_error_set(err, JC_ERR_PARSE, "%s:%d: key_id '%.80s' is not 1..%d of "
                                "[A-Za-z0-9._-]", kf->path, line, v, JC_SIGN_KEY_ID_MAX);
        memcpy(kf->key_id, v, strlen(v) + 1);
        return JC_OK;
    }
    if (strcmp(k, "county") == 0) {
        int32_t current;
        if (!parse_county(v, &kf->county) ||
            jc_county_resolve(kf->county, &current, NULL) != JC_OK)
            return jc_error_set(err, JC_ERR_PARSE, "%s:%d: county '%.20s' is not a county's "
                                "six-digit code", kf->path, line, v);
        return JC_OK;
    }
    if (jc_sign_secret_from_hex(v, kf->secret, err) != JC_OK)
        return jc_error_set(err, JC_ERR_PARSE, "%s:%d: secret: %s", kf->path, line,
                            "not exactly 64 hex digits");
    return JC_OK;
}

static jc_status_t key_file_entry(const char *k, const char *v, int line, void *ud,
                                  jc_error_t *err)
{
    struct key_file *kf = ud;
    int *seen = strcmp(k, "key_id") == 0   ? &kf->have_id
                : strcmp(k, "county") == 0 ? &kf->have_county
                : strcmp(k, "secret") == 0 ? &kf->have_secret
                                           : NULL;
    if (seen == NULL)
        return jc_error_set(err, JC_ERR_PARSE, "%s:%d: unknown entry '%s' (a key file has "
                            "key_id, county and secret only)", kf->path, line, k);
    if (*seen)
        return jc_error_set(err, JC_ERR_PARSE, "%s:%d: %s given twice", kf->path, line, k);
    jc_status_t st = key_file_value(kf, k, v, line, err);
    *seen = st == JC_OK;
    return st;
}

jc_status_t jc_signer_load(const char *path, jc_signer_t **out, jc_error_t *err)
{
    if (out == NULL)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "jc_signer_load: out is required");
    *out = NULL;
    jc_status_t st = jc_secret_file_check(path, err);
    if (st != JC_OK)
        return st;
    struct key_file kf = {.path = path};
    st = jc_envfile_parse(path, key_file_entry, &kf, err);
    if (st == JC_OK && !(kf.have_id && kf.have_county && kf.have_secret))
        st = jc_error_set(err, JC_ERR_PARSE, "%s: a key file needs key_id=, county= and "
                          "secret=", path);
    if (st == JC_OK)
        st = jc_signer_new(kf.key_id, kf.county, kf.secret, out, err);
    OPENSSL_cleanse(&kf, sizeof kf);
    return st;
}

/* Write all of buf to fd. */
static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return 0;
        buf += n;
        len -= (size_t)n;
    }
    return 1;
}

jc_status_t jc_sign_key_file_write(const char *path, const char *key_id, int32_t county,
                                   const unsigned char secret[JC_SIGN_SECRET_BYTES],
                                   jc_error_t *err)
{
    if (path == NULL || key_id == NULL || secret == NULL)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "jc_sign_key_file_write: arguments are "
                            "required");
    if (!jc_sign_key_id_valid(key_id, strlen(key_id)))
        return jc_error_set(err, JC_ERR_INVALID_ARG, "key id '%.80s' is not 1..%d of "
                            "[A-Za-z0-9._-]", key_id, JC_SIGN_KEY_ID_MAX);
    int32_t current;
    if (key_county(key_id, county, &current, err) != JC_OK)
        return JC_ERR_INVALID_ARG;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return jc_error_set(err, JC_ERR_IO, "%s: %s", path, strerror(errno));
    char text[256];
    char hex[2 * JC_SIGN_SECRET_BYTES + 1];
    jc_hex(secret, JC_SIGN_SECRET_BYTES, hex);
    int n = snprintf(text, sizeof text, "# jiceng signing key (docs/signing.md): readable by "
                     "its owner only\nkey_id=%s\ncounty=%06ld\nsecret=%s\n", key_id,
                     (long)current, hex);
    int ok = n > 0 && (size_t)n < sizeof text && fchmod(fd, 0600) == 0 &&
             write_all(fd, text, (size_t)n) && fsync(fd) == 0;
    int saved = errno;
    OPENSSL_cleanse(text, sizeof text);
    OPENSSL_cleanse(hex, sizeof hex);
    if (close(fd) != 0 && ok) {
        ok = 0;
        saved = errno;
    }
    if (!ok) {
        unlink(path);
        return jc_error_set(err, JC_ERR_IO, "%s: %s", path, strerror(saved));
    }
    return JC_OK;
}

/* ---- a producer's signers, one per county ----------------------------------------------- */

struct jc_signers {
    jc_signer_t **v; /* sorted by county */
    size_t n, cap;
};

void jc_signers_free(jc_signers_t *set)
{
    if (set == NULL)
        return;
    for (size_t i = 0; i < set->n; i++)
        jc_signer_free(set->v[i]);
    free(set->v);
    free(set);
}

size_t jc_signers_count(const jc_signers_t *set)
{
    return set != NULL ? set->n : 0;
}

const jc_signer_t *jc_signers_at(const jc_signers_t *set, size_t i)
{
    return set != NULL && i < set->n ? set->v[i] : NULL;
}

/* The index of county's signer (*found = 1) or where it would go (*found = 0). */
static size_t signers_search(const jc_signers_t *set, int32_t county, int *found)
{
    size_t lo = 0, hi = set->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (set->v[mid]->county == county) {
            *found = 1;
            return mid;
        }
        if (set->v[mid]->county < county)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = 0;
    return lo;
}

jc_signer_t *jc_signers_find(const jc_signers_t *set, int32_t county)
{
    int found;
    if (set == NULL)
        return NULL;
    size_t i = signers_search(set, county, &found);
    return found ? set->v[i] : NULL;
}

/* Load the key file at path into set; a second key for a county is an error. */
static jc_status_t signers_add_file(jc_signers_t *set, const char *path, jc_error_t *err)
{
    jc_signer_t *s = NULL;
    jc_status_t st = jc_signer_load(path, &s, err);
    if (st != JC_OK)
        return st;
    int found;
    size_t at = signers_search(set, s->county, &found);
    if (found)
        st = jc_error_set(err, JC_ERR_INVALID_ARG, "%s: a second signing key for county %06ld "
                          "('%s'; the first is '%s'): a producer signs with one key per county",
                          path, (long)s->county, s->key_id, set->v[at]->key_id);
    if (st == JC_OK && set->n == set->cap) {
        size_t cap = set->cap ? 2 * set->cap : 16;
        jc_signer_t **v = realloc(set->v, cap * sizeof *v);
        if (v == NULL)
            st = jc_error_set(err, JC_ERR_NOMEM, "out of memory for signing keys");
        else {
            set->v = v;
            set->cap = cap;
        }
    }
    if (st != JC_OK) {
        jc_signer_free(s);
        return st;
    }
    memmove(set->v + at + 1, set->v + at, (set->n - at) * sizeof *set->v);
    set->v[at] = s;
    set->n++;
    return JC_OK;
}

static int is_key_file_name(const char *name)
{
    size_t n = strlen(name), k = strlen(JC_SIGN_KEY_FILE_SUFFIX);
    return name[0] != '.' && n > k && strcmp(name + n - k, JC_SIGN_KEY_FILE_SUFFIX) == 0;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.key names in dir, sorted (so that messages do not depend on readdir's order). */
static jc_status_t key_file_names(const char *dir, jc_buf_t *names, jc_error_t *err)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return jc_error_set(err, JC_ERR_IO, "%s: %s", dir, strerror(errno));
    jc_status_t st = JC_OK;
    struct dirent *e;
    while (st == JC_OK && (e = readdir(d)) != NULL) {
        if (!is_key_file_name(e->d_name))
            continue;
        char *copy = strdup(e->d_name);
        if (copy == NULL || jc_buf_append(names, &copy, sizeof copy) != JC_OK) {
            free(copy);
            st = jc_error_set(err, JC_ERR_NOMEM, "out of memory listing %s", dir);
        }
    }
    closedir(d);
    if (names->len > 0)
        qsort(names->data, names->len / sizeof(char *), sizeof(char *), name_cmp);
    return st;
}

static jc_status_t signers_add_dir(jc_signers_t *set, const char *dir, jc_error_t *err)
{
    jc_buf_t names = {0};
    jc_status_t st = key_file_names(dir, &names, err);
    char **v = (char **)(void *)names.data;
    size_t n = names.len / sizeof(char *);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        if (st == JC_OK && snprintf(path, sizeof path, "%s/%s", dir, v[i]) >= (int)sizeof path)
            st = jc_error_set(err, JC_ERR_IO, "%s/%s: path too long", dir, v[i]);
        if (st == JC_OK)
            st = signers_add_file(set, path, err);
        free(v[i]);
    }
    jc_buf_free(&names);
    if (st == JC_OK && set->n == 0)
        st = jc_error_set(err, JC_ERR_INVALID_ARG, "%s: no signing key files (*%s) in the "
                          "directory", dir, JC_SIGN_KEY_FILE_SUFFIX);
    return st;
}

jc_status_t jc_signers_load(const char *path, jc_signers_t **out, jc_error_t *err)
{
    if (out == NULL || path == NULL || *path == '\0')
        return jc_error_set(err, JC_ERR_INVALID_ARG, "jc_signers_load: a path is required");
    *out = NULL;
    struct stat st_path;
    if (stat(path, &st_path) != 0)
        return jc_error_set(err, JC_ERR_IO, "signing keys %s: %s", path, strerror(errno));
    jc_signers_t *set = calloc(1, sizeof *set);
    if (set == NULL)
        return jc_error_set(err, JC_ERR_NOMEM, "out of memory for signing keys");
    jc_status_t st = S_ISDIR(st_path.st_mode) ? signers_add_dir(set, path, err)
                                              : signers_add_file(set, path, err);
    if (st != JC_OK) {
        jc_signers_free(set);
        return st;
    }
    *out = set;
    return JC_OK;
}

/* ---- consumer side -------------------------------------------------------------------- */

struct entry {
    jc_sign_key_t key;
    EVP_MAC_CTX *mac;
};

struct jc_keyring {
    struct entry **v; /* sorted by key id (bytes, then length) */
    size_t n, cap;
};

jc_status_t jc_keyring_new(jc_keyring_t **out, jc_error_t *err)
{
    if (out == NULL)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "jc_keyring_new: out is required");
    *out = calloc(1, sizeof **out);
    if (*out == NULL)
        return jc_error_set(err, JC_ERR_NOMEM, "out of memory for a keyring");
    return JC_OK;
}

static void entry_free(struct entry *e)
{
    EVP_MAC_CTX_free(e->mac);
    OPENSSL_cleanse(e, sizeof *e);
    free(e);
}

void jc_keyring_free(jc_keyring_t *ring)
{
    if (ring == NULL)
        return;
    for (size_t i = 0; i < ring->n; i++)
        entry_free(ring->v[i]);
    free(ring->v);
    free(ring);
}

size_t jc_keyring_count(const jc_keyring_t *ring)
{
    return ring->n;
}

/* Order of an entry's id against (id, len): bytes first, then the shorter first. */
static int id_cmp(const struct entry *e, const void *id, size_t len)
{
    size_t elen = strlen(e->key.key_id);
    int c = memcmp(e->key.key_id, id, elen < len ? elen : len);
    if (c != 0)
        return c;
    return (elen > len) - (elen < len);
}

/* The index of the entry with this id (*found = 1) or where it would go (*found = 0). */
static size_t ring_search(const jc_keyring_t *ring, const void *id, size_t len, int *found)
{
    size_t lo = 0, hi = ring->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = id_cmp(ring->v[mid], id, len);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = 0;
    return lo;
}

static struct entry *ring_entry(const jc_keyring_t *ring, const void *id, size_t len)
{
    int found;
    size_t i = ring_search(ring, id, len, &found);
    return found ? ring->v[i] : NULL;
}

const jc_sign_key_t *jc_keyring_find(const jc_keyring_t *ring, const void *key_id,
                                     size_t id_len)
{
    if (ring == NULL || key_id == NULL)
        return NULL;
    struct entry *e = ring_entry(ring, key_id, id_len);
    return e != NULL ? &e->key : NULL;
}

/* Is key acceptable to a keyring at all? */
static jc_status_t key_acceptable(const jc_sign_key_t *key, jc_error_t *err)
{
    size_t len = strnlen(key->key_id, sizeof key->key_id);
    if (len == sizeof key->key_id || !jc_sign_key_id_valid(key->key_id, len))
        return jc_error_set(err, JC_ERR_INVALID_ARG, "key id '%.80s' is not 1..%d of "
                            "[A-Za-z0-9._-]", key->key_id, JC_SIGN_KEY_ID_MAX);
    if (key->valid_until_ms < key->valid_from_ms)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "key '%s' ends before it begins",
                            key->key_id);
    int32_t current;
    jc_error_t sub;
    if (jc_county_resolve(key->county_code, &current, &sub) != JC_OK)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "key '%s': %s", key->key_id, sub.message);
    return JC_OK;
}

/* A new entry for key, with its keyed MAC context. */
static jc_status_t entry_new(const jc_sign_key_t *key, struct entry **out, jc_error_t *err)
{
    struct entry *e = calloc(1, sizeof *e);
    if (e == NULL)
        return jc_error_set(err, JC_ERR_NOMEM, "out of memory for a key");
    e->key = *key;
    jc_status_t st = mac_new(e->key.secret, JC_SIGN_SECRET_BYTES, &e->mac, err);
    if (st != JC_OK) {
        entry_free(e);
        return st;
    }
    *out = e;
    return JC_OK;
}

static jc_status_t ring_insert(jc_keyring_t *ring, size_t at, struct entry *e, jc_error_t *err)
{
    if (ring->n == ring->cap) {
        size_t cap = ring->cap ? 2 * ring->cap : 16;
        struct entry **v = realloc(ring->v, cap * sizeof *v); /* pointers only: no secrets */
        if (v == NULL)
            return jc_error_set(err, JC_ERR_NOMEM, "out of memory for the keyring");
        ring->v = v;
        ring->cap = cap;
    }
    memmove(ring->v + at + 1, ring->v + at, (ring->n - at) * sizeof *ring->v);
    ring->v[at] = e;
    ring->n++;
    return JC_OK;
}

jc_status_t jc_keyring_put(jc_keyring_t *ring, const jc_sign_key_t *key, jc_error_t *err)
{
    if (ring == NULL || key == NULL)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "jc_keyring_put: arguments are required");
    jc_status_t st = key_acceptable(key, err);
    if (st != JC_OK)
        return st;
    int found;
    size_t at = ring_search(ring, key->key_id, strlen(key->key_id), &found);
    if (found) {
        jc_sign_key_t *old = &ring->v[at]->key;
        if (old->county_code != key->county_code ||
            CRYPTO_memcmp(old->secret, key->secret, JC_SIGN_SECRET_BYTES) != 0)
            return jc_error_set(err, JC_ERR_INVALID_ARG, "key '%s' already exists with another "
                                "secret or county: a key id is never reused", key->key_id);
        old->valid_from_ms = key->valid_from_ms;
        old->valid_until_ms = key->valid_until_ms;
        return JC_OK;
    }
    struct entry *e = NULL;
    st = entry_new(key, &e, err);
    if (st == JC_OK && (st = ring_insert(ring, at, e, err)) != JC_OK)
        entry_free(e);
    return st;
}

/* "2026-11-03T09:15:00.000+08:00 (1793668500000 ms)" for messages. */
static const char *time_text(int64_t ms, char *buf, size_t len)
{
    char iso[40];
    jc_time_format(ms, iso, sizeof iso);
    snprintf(buf, len, "%s (%lld ms)", iso, (long long)ms);
    return buf;
}

jc_status_t jc_sign_check_county(const jc_sign_key_t *key, int32_t county,
                                 jc_sign_verdict_t *verdict, jc_error_t *err)
{
    if (key == NULL)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "jc_sign_check_county: no key");
    int32_t key_county, event_county;
    if (jc_county_resolve(key->county_code, &key_county, NULL) != JC_OK)
        return refuse(err, verdict, JC_SIGN_WRONG_COUNTY, "key '%s' signs for %d, which is no "
                      "longer a county", key->key_id, (int)key->county_code);
    if (jc_county_resolve(county, &event_county, NULL) != JC_OK)
        return refuse(err, verdict, JC_SIGN_WRONG_COUNTY, "the event's county code %d is not a "
                      "county; key '%s' signs for %d", (int)county, key->key_id,
                      (int)key_county);
    if (event_county != key_county)
        return refuse(err, verdict, JC_SIGN_WRONG_COUNTY, "the event's county %d (current code "
                      "%d) is not %d, the county of key '%s'", (int)county, (int)event_county,
                      (int)key_county, key->key_id);
    if (verdict != NULL)
        *verdict = JC_SIGN_OK;
    return JC_OK;
}

/* The entry that may sign at record_ts_ms, or a refusal (the key id is already well-formed). */
static jc_status_t usable_entry(const jc_keyring_t *ring, const void *id, size_t len,
                                int64_t record_ts_ms, struct entry **out,
                                jc_sign_verdict_t *verdict, jc_error_t *err)
{
    char t1[96], t2[96];
    struct entry *e = ring_entry(ring, id, len);
    if (e == NULL)
        return refuse(err, verdict, JC_SIGN_UNKNOWN_KEY, "no signing key has id '%.*s'",
                      (int)len, (const char *)id);
    if (record_ts_ms < e->key.valid_from_ms)
        return refuse(err, verdict, JC_SIGN_NOT_YET_VALID, "key '%s' is valid from %s; the "
                      "record's timestamp is %s", e->key.key_id,
                      time_text(e->key.valid_from_ms, t1, sizeof t1),
                      time_text(record_ts_ms, t2, sizeof t2));
    if (record_ts_ms >= e->key.valid_until_ms)
        return refuse(err, verdict, JC_SIGN_KEY_CLOSED, "key '%s' was closed at %s; the "
                      "record's timestamp is %s", e->key.key_id,
                      time_text(e->key.valid_until_ms, t1, sizeof t1),
                      time_text(record_ts_ms, t2, sizeof t2));
    *out = e;
    return JC_OK;
}

jc_status_t jc_keyring_check(const jc_keyring_t *ring, const void *key_id, size_t id_len,
                             int64_t record_ts_ms, int32_t county,
                             const jc_sign_key_t **key_out, jc_sign_verdict_t *verdict,
                             jc_error_t *err)
{
    if (ring == NULL)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "jc_keyring_check: no keyring");
    if (!jc_sign_key_id_valid(key_id, id_len))
        return refuse(err, verdict, JC_SIGN_MALFORMED, "the key id is not 1..%d of "
                      "[A-Za-z0-9._-]", JC_SIGN_KEY_ID_MAX);
    struct entry *e = NULL;
    jc_status_t st = usable_entry(ring, key_id, id_len, record_ts_ms, &e, verdict, err);
    if (st == JC_OK && county != 0)
        st = jc_sign_check_county(&e->key, county, verdict, err);
    if (st != JC_OK)
        return st;
    if (key_out != NULL)
        *key_out = &e->key;
    if (verdict != NULL)
        *verdict = JC_SIGN_OK;
    return JC_OK;
}

/* The value of the idx-th header called name (present with a null value: empty). */
static int header_at(const rd_kafka_headers_t *hdrs, size_t idx, const char *name,
                     const void **value, size_t *len)
{
    const void *v = NULL;
    size_t n = 0;
    if (hdrs == NULL || rd_kafka_header_get(hdrs, idx, name, &v, &n) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return 0;
    *value = v != NULL ? v : "";
    *len = v != NULL ? n : 0;
    return 1;
}

void jc_signed_record_headers(jc_signed_record_t *rec, const rd_kafka_headers_t *hdrs)
{
    const void *extra;
    size_t extra_len;
    rec->key_id = rec->sig = NULL;
    rec->key_id_len = rec->sig_len = 0;
    header_at(hdrs, 0, JC_SIGN_HEADER_KEY_ID, &rec->key_id, &rec->key_id_len);
    header_at(hdrs, 0, JC_SIGN_HEADER_SIG, &rec->sig, &rec->sig_len);
    rec->repeated = header_at(hdrs, 1, JC_SIGN_HEADER_KEY_ID, &extra, &extra_len) ||
                    header_at(hdrs, 1, JC_SIGN_HEADER_SIG, &extra, &extra_len);
}

/* The checks on the two headers themselves; fills mac from the signature header. */
static jc_status_t headers_wellformed(const jc_signed_record_t *rec,
                                      unsigned char mac[JC_SIGN_MAC_BYTES],
                                      jc_sign_verdict_t *verdict, jc_error_t *err)
{
    if (rec->key_id == NULL || rec->sig == NULL)
        return refuse(err, verdict, JC_SIGN_MISSING, "the record has no %s header",
                      rec->key_id == NULL ? JC_SIGN_HEADER_KEY_ID : JC_SIGN_HEADER_SIG);
    if (rec->repeated)
        return refuse(err, verdict, JC_SIGN_MALFORMED, "the record has more than one %s or %s "
                      "header", JC_SIGN_HEADER_KEY_ID, JC_SIGN_HEADER_SIG);
    if (!jc_sign_key_id_valid(rec->key_id, rec->key_id_len))
        return refuse(err, verdict, JC_SIGN_MALFORMED, "the %s header is not 1..%d of "
                      "[A-Za-z0-9._-]", JC_SIGN_HEADER_KEY_ID, JC_SIGN_KEY_ID_MAX);
    if (!jc_sign_parse(rec->sig, rec->sig_len, mac))
        return refuse(err, verdict, JC_SIGN_MALFORMED, "the %s header is not \"%s\" and %d "
                      "lowercase hex digits", JC_SIGN_HEADER_SIG, JC_SIGN_SIG_PREFIX,
                      2 * JC_SIGN_MAC_BYTES);
    return JC_OK;
}

jc_status_t jc_sign_verify(jc_keyring_t *ring, const jc_signed_record_t *rec,
                           const jc_sign_key_t **key_out, jc_sign_verdict_t *verdict,
                           jc_error_t *err)
{
    if (ring == NULL || rec == NULL || rec->topic == NULL)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "jc_sign_verify: a keyring and a record "
                            "with its topic are required");
    unsigned char claimed[JC_SIGN_MAC_BYTES], actual[JC_SIGN_MAC_BYTES];
    struct entry *e = NULL;
    jc_status_t st = headers_wellformed(rec, claimed, verdict, err);
    if (st == JC_OK)
        st = usable_entry(ring, rec->key_id, rec->key_id_len, rec->timestamp_ms, &e, verdict,
                          err);
    if (st == JC_OK)
        st = mac_record(e->mac, rec->topic, rec->key, rec->key_len, rec->value, rec->value_len,
                        actual, err);
    if (st != JC_OK)
        return st;
    if (CRYPTO_memcmp(claimed, actual, JC_SIGN_MAC_BYTES) != 0)
        return refuse(err, verdict, JC_SIGN_BAD_SIGNATURE, "the signature does not match the "
                      "record under key '%s'", e->key.key_id);
    if (key_out != NULL)
        *key_out = &e->key;
    if (verdict != NULL)
        *verdict = JC_SIGN_OK;
    return JC_OK;
}
