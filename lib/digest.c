/*
 * digest.c: SHA-256 in hex (see digest.h), with libcrypto's one-shot EVP_Digest; the 32 bytes
 * become 64 lower-case hex digits.
 */
#include "digest.h"

#include <openssl/err.h>
#include <openssl/evp.h>

jc_status_t jc_sha256_hex(const void *data, size_t n, char hex[JC_SHA256_HEX_SIZE],
                          jc_error_t *err)
{
    static const char digits[] = "0123456789abcdef";
    static const unsigned char nothing[1];
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!EVP_Digest(data != NULL ? data : nothing, n, md, &len, EVP_sha256(), NULL) ||
        len * 2 != JC_SHA256_HEX_LEN) {
        ERR_clear_error();
        hex[0] = '\0';
        return jc_error_set(err, JC_ERR_IO, "libcrypto: SHA-256 failed");
    }
    for (unsigned int i = 0; i < len; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[JC_SHA256_HEX_LEN] = '\0';
    return JC_OK;
}
