/*
 * refdata.c: when the aggregator reads the reference data again, and what it logs (see
 * refdata.h). The reading and installing itself is jiceng/reference.h's.
 */
#include "refdata.h"

#include <stdio.h>

#include "../logging.h"

_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "the request flag must be lock-free (signal handlers)");

void jc_refdata_init(jc_refdata_t *rd, int check_ms, jc_log_cb log, void *log_opaque)
{
    atomic_init(&rd->requested, 0);
    rd->check_ms = check_ms;
    rd->version = -1;
    rd->checked_ms = rd->retry_ms = 0;
    rd->log = log;
    rd->log_opaque = log_opaque;
}

void jc_refdata_request(jc_refdata_t *rd)
{
    atomic_store(&rd->requested, 1);
}

int jc_refdata_due(jc_refdata_t *rd, int64_t now_ms)
{
    return atomic_load(&rd->requested) || (rd->retry_ms != 0 && now_ms >= rd->retry_ms) ||
           (rd->check_ms >= 0 && now_ms - rd->checked_ms >= rd->check_ms);
}

/* "version V: N counties, M prefectures, K code changes" into buf. */
static const char *counts(const jc_reference_t *r, char *buf, size_t size)
{
    size_t nc, np, nch;
    jc_reference_counties(r, &nc);
    jc_reference_prefectures(r, &np);
    jc_reference_changes(r, &nch);
    snprintf(buf, size, "version %lld: %zu counties, %zu prefectures, %zu code changes",
             (long long)jc_reference_version(r), nc, np, nch);
    return buf;
}

/* Install loaded unless it equals the installed snapshot (then it is freed); *old the one it
 * replaced. 1 if installed. */
static int install(jc_reference_t *loaded, const jc_reference_t **old, size_t *differ)
{
    const jc_reference_t *cur = jc_reference_current();
    *differ = jc_reference_diff(cur, loaded);
    if (jc_reference_equal(cur, loaded) || jc_reference_install(loaded, NULL) != JC_OK) {
        jc_reference_free(loaded);
        return 0;
    }
    *old = cur;
    return 1;
}

jc_status_t jc_refdata_start(jc_refdata_t *rd, PGconn *c, jc_error_t *err)
{
    jc_reference_t *loaded = NULL;
    jc_status_t st = jc_reference_load_pg(c, &loaded, err);
    if (st != JC_OK)
        return st;
    char what[160];
    const jc_reference_t *old = NULL;
    size_t differ = 0;
    rd->version = jc_reference_version(loaded);
    counts(loaded, what, sizeof what);
    install(loaded, &old, &differ);
    jc_logf(rd->log, rd->log_opaque, JC_LOG_INFO, "reference_loaded", "reference data from "
            "PostgreSQL, %s; %zu code(s) resolve differently from the built-in data", what,
            differ);
    return JC_OK;
}

/* Read, and install if changed; why says what started it. */
static int reload(jc_refdata_t *rd, PGconn *c, int64_t now_ms, const char *why,
                  const jc_reference_t **old)
{
    jc_reference_t *loaded = NULL;
    jc_error_t err;
    if (c == NULL)
        jc_error_set(&err, JC_ERR_PG, "no connection to PostgreSQL");
    if (c == NULL || jc_reference_load_pg(c, &loaded, &err) != JC_OK) {
        rd->retry_ms = now_ms + REFDATA_RETRY_MS;
        jc_logf(rd->log, rd->log_opaque, JC_LOG_WARN, "reference_reload_failed", "reference "
                "data (%s) not read, the installed data stays; again in %d ms: %s", why,
                REFDATA_RETRY_MS, err.message);
        return 0;
    }
    char what[160];
    size_t differ = 0;
    rd->retry_ms = 0;
    rd->version = jc_reference_version(loaded);
    counts(loaded, what, sizeof what);
    int installed = install(loaded, old, &differ);
    if (installed)
        jc_logf(rd->log, rd->log_opaque, JC_LOG_INFO, "reference_reloaded", "reference data "
                "reloaded (%s), %s; installed, %zu code(s) now resolve differently", why, what,
                differ);
    else
        jc_logf(rd->log, rd->log_opaque, JC_LOG_INFO, "reference_reloaded", "reference data "
                "reloaded (%s), %s; unchanged", why, what);
    return installed;
}

int jc_refdata_between_batches(jc_refdata_t *rd, PGconn *c, int64_t now_ms,
                               const jc_reference_t **old)
{
    char why[96];
    if (atomic_exchange(&rd->requested, 0))
        snprintf(why, sizeof why, "asked");
    else if (rd->retry_ms != 0 && now_ms >= rd->retry_ms)
        snprintf(why, sizeof why, "retrying a failed read");
    else if (rd->check_ms >= 0 && now_ms - rd->checked_ms >= rd->check_ms) {
        int64_t v = 0;
        jc_error_t err;
        rd->checked_ms = now_ms;
        if (c == NULL)
            jc_error_set(&err, JC_ERR_PG, "no connection to PostgreSQL");
        if (c == NULL || jc_reference_version_pg(c, &v, &err) != JC_OK) {
            jc_logf(rd->log, rd->log_opaque, JC_LOG_WARN, "reference_reload_failed",
                    "reference version not read: %s", err.message);
            return 0;
        }
        if (v == rd->version)
            return 0;
        snprintf(why, sizeof why, "version %lld -> %lld", (long long)rd->version, (long long)v);
    } else {
        return 0;
    }
    return reload(rd, c, now_ms, why, old);
}
