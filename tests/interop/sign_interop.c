/*
 * sign_interop.c: the C side of the Python signature interop test (sign_interop.py).
 *
 * First line out: the two header names. Then, for each input line
 *     KEY_ID SECRET_HEX TOPIC_HEX KEY_HEX|- VALUE_HEX|- SENT_KEY_ID SIG
 * ('-' is null; empty is written as a lone '.'), it registers KEY_ID with SECRET (county 520102,
 * valid for all time) in a keyring that keeps every key seen so far, and prints the signature
 * header libjiceng computes for that record and the verdict of jc_sign_verify on the record
 * carrying SENT_KEY_ID and SIG (the headers the Python signer made, possibly tampered with).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jiceng/sign.h"

/* Decode hex (or "." for empty, "-" for null: *out = NULL) into a fresh buffer. */
static int field(const char *text, unsigned char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    if (strcmp(text, "-") == 0)
        return 1;
    size_t n = strcmp(text, ".") == 0 ? 0 : strlen(text);
    if (n % 2 != 0)
        return 0;
    *out = malloc(n / 2 + 1);
    if (*out == NULL)
        return 0;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(text + 2 * i, "%2x", &v) != 1)
            return 0;
        (*out)[i] = (unsigned char)v;
    }
    (*out)[n / 2] = '\0';
    *len = n / 2;
    return 1;
}

static int run_line(jc_keyring_t *ring, char *line)
{
    char *tok[7];
    char *save = NULL;
    for (int i = 0; i < 7; i++) {
        tok[i] = strtok_r(i == 0 ? line : NULL, " \n", &save);
        if (tok[i] == NULL)
            return 0;
    }
    unsigned char *secret, *topic, *key, *value;
    size_t secret_len, topic_len, key_len, value_len;
    if (!field(tok[1], &secret, &secret_len) || secret_len != JC_SIGN_SECRET_BYTES ||
        !field(tok[2], &topic, &topic_len) || topic == NULL || !field(tok[3], &key, &key_len) ||
        !field(tok[4], &value, &value_len))
        return 0;
    jc_error_t err;
    jc_sign_key_t k = {.county_code = 520102, .valid_from_ms = 0,
                       .valid_until_ms = JC_SIGN_OPEN_END};
    snprintf(k.key_id, sizeof k.key_id, "%s", tok[0]);
    memcpy(k.secret, secret, sizeof k.secret);
    unsigned char mac[JC_SIGN_MAC_BYTES];
    char sig[JC_SIGN_SIG_LEN + 1];
    if (jc_keyring_put(ring, &k, &err) != JC_OK ||
        jc_sign_compute(secret, secret_len, (const char *)topic, key, key_len, value, value_len,
                        mac, &err) != JC_OK) {
        fprintf(stderr, "sign_interop: %s\n", err.message);
        return 0;
    }
    jc_sign_format(mac, sig);
    jc_signed_record_t rec = {.topic = (const char *)topic, .key = key, .key_len = key_len,
                              .value = value, .value_len = value_len, .timestamp_ms = 1,
                              .key_id = tok[5], .key_id_len = strlen(tok[5]), .sig = tok[6],
                              .sig_len = strlen(tok[6])};
    jc_sign_verdict_t verdict = JC_SIGN_OK;
    jc_sign_verify(ring, &rec, NULL, &verdict, NULL);
    printf("%s %s\n", sig, jc_sign_verdict_name(verdict));
    free(secret);
    free(topic);
    free(key);
    free(value);
    return 1;
}

int main(void)
{
    jc_keyring_t *ring;
    if (jc_keyring_new(&ring, NULL) != JC_OK)
        return 1;
    printf("%s %s\n", JC_SIGN_HEADER_KEY_ID, JC_SIGN_HEADER_SIG);
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0, ok = 1;
    while (ok && getline(&line, &cap, stdin) != -1) {
        lineno++;
        ok = run_line(ring, line);
        if (!ok)
            fprintf(stderr, "sign_interop: line %d is not understood\n", lineno);
    }
    free(line);
    jc_keyring_free(ring);
    return ok ? 0 : 1;
}
