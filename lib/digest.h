/*
 * digest.h: bytes in hex, and a SHA-256 digest in hex, for records kept only in part (a dead-letter copy cut to
 * fit its topic names the whole record's length and digest, so that the full bytes, kept
 * elsewhere, can be matched to it). Not installed.
 */
#ifndef JC_DIGEST_H
#define JC_DIGEST_H

#include <stddef.h>

#include "jiceng/common.h"

/* The n bytes at data as 2n lower-case hex digits at out, NUL-terminated (out holds 2n + 1):
 * the one hex encoder of the library (digests, signatures, key secrets, rejected bytes). */
void jc_hex(const void *data, size_t n, char *out);

/* Characters of a SHA-256 digest in lower-case hex, and the buffer that holds one with its NUL. */
#define JC_SHA256_HEX_LEN 64
#define JC_SHA256_HEX_SIZE (JC_SHA256_HEX_LEN + 1)

/* The SHA-256 digest of n bytes at data (data may be NULL when n is 0) into hex, lower case,
 * NUL-terminated. JC_ERR_IO if libcrypto fails (as sign.c says its failures). */
jc_status_t jc_sha256_hex(const void *data, size_t n, char hex[JC_SHA256_HEX_SIZE],
                          jc_error_t *err);

#endif
