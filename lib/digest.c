/*
 * digest.c: bytes in lower-case hex, and SHA-256 in hex (see digest.h), with libcrypto's
 * one-shot EVP_Digest; the 32 bytes become 64 hex digits.
 */
#include "digest.h"

#include <openssl/err.h>
#include <openssl/evp.h>

void jc_hex(const void *data, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

jc_status_t jc_sha256_hex(const void *data, size_t n, char hex[JC_SHA256_HEX_SIZE],
                          jc_error_t *err)
{
    static const unsigned char nothing[1];
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!EVP_Digest(data != NULL ? data : nothing, n, md, &len, EVP_sha256(), NULL) ||
        len * 2 != JC_SHA256_HEX_LEN) {
        ERR_clear_error();
        hex[0] = '\0';
        return jc_error_set(err, JC_ERR_IO, "libcrypto: SHA-256 failed");
    }
    jc_hex(md, len, hex);
    return JC_OK;
}
