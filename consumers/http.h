/*
 * http.h: jiceng-aggregate's metrics and health endpoints (libmicrohttpd), program-side: the
 * library renders the exposition (jiceng/metrics.h), this serves it.
 *
 *   GET /metrics   the Prometheus text exposition of the latest stats snapshot
 *   GET /healthz   200 {"status":"ok"} while the consumer loop published a snapshot within 3
 *                  stats intervals, else 503 {"status":"unavailable","reason":"..."}
 *   GET /readyz    200 when, besides, PostgreSQL answered last time it was asked and the
 *                  instance is in its group (holding partitions or waiting for them); else 503
 *
 * The server's thread never touches the aggregator: jc_http_attach wraps the configuration's
 * on_stats, which (in the aggregator's thread) renders the snapshot and swaps it in under a
 * mutex; requests copy the latest text under the same mutex.
 *
 * Bound to a loopback address (127.0.0.0/8, ::1) it may run plain; bound to any other it
 * requires TLS (certificate and key files) and basic authentication (a user and a password,
 * which the program reads from an owner-only file): jc_http_check refuses otherwise.
 */
#ifndef JICENG_HTTP_H
#define JICENG_HTTP_H

#include <stddef.h>

#include "jiceng/aggregator.h"

typedef struct jc_http_config {
    const char *listen;        /**< HOST:PORT, :PORT or PORT (host 127.0.0.1); [V6]:PORT */
    const char *tls_cert;      /**< PEM certificate file (with tls_key: HTTPS) */
    const char *tls_key;       /**< PEM private key file (owner-only permissions) */
    const char *user;          /**< basic authentication user (with password_file) */
    const char *password;      /**< its password */
    const char *client_cert;   /**< Kafka client certificate, for its expiry metric; may be NULL */
} jc_http_config_t;

typedef struct jc_http jc_http_t;

/** Check the configuration without starting anything: the address parses and resolves, TLS and
 *  authentication are complete where given and present off loopback, the key file is
 *  owner-only. JC_ERR_INVALID_ARG or JC_ERR_INSECURE_FILE (a usage error) with a message. */
jc_status_t jc_http_check(const jc_http_config_t *hc, jc_error_t *err);

/** Start serving (after jc_http_check) and wrap c's on_stats (set it first). Reports the bound
 *  address through c's log callback (event metrics_listening, "http://HOST:PORT"). NULL with err
 *  set if the server cannot start. */
jc_http_t *jc_http_start(const jc_http_config_t *hc, jc_aggregator_config_t *c, jc_error_t *err);

/** Stop serving and free (NULL is fine). */
void jc_http_stop(jc_http_t *h);

#endif
