/*
 * keys.h: the aggregator's copy of jiceng.signing_keys (schemas/sql/004_signing_keys.sql), and
 * up to which record time it may judge.
 *
 * Every change to the table takes effect at least its notice period after it commits (the
 * table's trigger refuses anything sooner; jiceng.signing_key_notice() says how long). So keys
 * read at database time L are the whole truth for every record timestamped before L + notice:
 * a change committed later cannot reach back before that. That instant is the copy's horizon;
 * a record at or past it needs a fresh copy first (aggregator.c), and verdicts do not depend on
 * when the aggregator happened to read the table: a replay from offset 0 reaches the same ones.
 */
#ifndef JC_KEYS_H
#define JC_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "jiceng/sign.h"

typedef struct jc_keys {
    jc_keyring_t *ring;  /* NULL until loaded */
    int64_t horizon_ms;  /* records timestamped before it may be judged with ring */
    size_t skipped;      /* rows of the last load that no keyring accepts (see jc_keys_load) */
} jc_keys_t;

/* Read every signing key and the horizon in one statement into a new keyring, which replaces
 * k->ring (the old one is freed) only if the whole read succeeded. A row the keyring refuses
 * (a county code that maps to no county) is left out and counted in k->skipped, with the first
 * such refusal in *skip_err (if not NULL): those keys sign nothing. JC_ERR_PG if the read
 * failed (k unchanged). Secrets are wiped from the result and from the stack once copied. */
jc_status_t jc_keys_load(PGconn *c, jc_keys_t *k, jc_error_t *skip_err, jc_error_t *err);

/* Free the keyring (wiping its secrets). */
void jc_keys_free(jc_keys_t *k);

#endif
