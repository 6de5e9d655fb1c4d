/*
 * http.c: the metrics and health endpoints of jiceng-aggregate (http.h), with libmicrohttpd's
 * own thread.
 *
 * The aggregator's thread, in the wrapped on_stats, reads the process figures, renders the
 * exposition into a scratch buffer and swaps it with the served one under the mutex, noting
 * when and whether PostgreSQL answered and the instance was in its group. A request takes the
 * mutex only to copy what it answers with. Every answer is short and built from that state
 * alone, so a request can never reach into the aggregator or block it for long.
 */
#include "http.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

#include "jiceng/buf.h"
#include "jiceng/metrics.h"
#include "jiceng/secretfile.h"

#define DEFAULT_HOST "127.0.0.1"
#define STALE_INTERVALS 3 /* /healthz: no snapshot for this many stats intervals is unhealthy */

struct jc_http {
    struct MHD_Daemon *daemon;
    pthread_mutex_t lock;
    jc_buf_t text;    /* served (under lock) */
    jc_buf_t scratch; /* rendered into by the aggregator's thread, then swapped with text */
    int have;         /* a snapshot was published */
    int64_t published_ms; /* monotonic */
    int pg_ok, subscribed;
    int64_t stale_ms;
    jc_metrics_process_t proc;
    char *user, *password; /* basic authentication; NULL: none */
    char *cert_pem, *key_pem;
    jc_aggregator_stats_cb prev; /* the on_stats that was there before, called first */
    void *prev_opaque;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the address and the secrets ---------------------------------------------------------- */

/* Split HOST:PORT (or :PORT, PORT, [V6]:PORT) into host and port. 0 if malformed. */
static int split_listen(const char *listen, char *host, size_t hostlen, char *port, size_t portlen)
{
    const char *colon = strrchr(listen, ':');
    const char *p = colon ? colon + 1 : listen;
    size_t hl = colon ? (size_t)(colon - listen) : 0;
    const char *h = listen;
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (*p == '\0' || strlen(p) >= portlen || hl >= hostlen || strspn(p, "0123456789") != strlen(p))
        return 0;
    if (hl == 0) {
        h = DEFAULT_HOST;
        hl = strlen(DEFAULT_HOST);
    }
    memcpy(host, h, hl);
    host[hl] = '\0';
    snprintf(port, portlen, "%s", p);
    return atol(p) <= 65535;
}

/* Resolve listen into *out (the first address), saying whether it is a loopback address. */
static jc_status_t resolve(const char *listen, struct sockaddr_storage *out, socklen_t *outlen,
                           int *loopback, jc_error_t *err)
{
    char host[256], port[8];
    if (listen == NULL || !split_listen(listen, host, sizeof host, port, sizeof port))
        return jc_error_set(err, JC_ERR_INVALID_ARG, "metrics.listen '%s': expected HOST:PORT, "
                            ":PORT or PORT (port 0 to 65535)", listen ? listen : "");
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    int rc = getaddrinfo(host, port, &hints, &ai);
    if (rc != 0 || ai == NULL)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "metrics.listen '%s': %s", listen,
                            rc != 0 ? gai_strerror(rc) : "no address");
    memcpy(out, ai->ai_addr, ai->ai_addrlen);
    *outlen = ai->ai_addrlen;
    freeaddrinfo(ai);
    if (out->ss_family == AF_INET)
        *loopback = (ntohl(((struct sockaddr_in *)(void *)out)->sin_addr.s_addr) >> 24) == 127;
    else
        *loopback = out->ss_family == AF_INET6 &&
                    IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)(void *)out)->sin6_addr);
    return JC_OK;
}

static int given(const char *s)
{
    return s != NULL && *s != '\0';
}

jc_status_t jc_http_check(const jc_http_config_t *hc, jc_error_t *err)
{
    struct sockaddr_storage sa;
    socklen_t len;
    int loopback = 0;
    jc_status_t st = resolve(hc->listen, &sa, &len, &loopback, err);
    if (st != JC_OK)
        return st;
    int tls = given(hc->tls_cert) || given(hc->tls_key);
    int auth = given(hc->user) || given(hc->password);
    if (tls && !(given(hc->tls_cert) && given(hc->tls_key)))
        return jc_error_set(err, JC_ERR_INVALID_ARG, "metrics TLS needs both metrics.tls.cert "
                            "and metrics.tls.key");
    if (auth && !(given(hc->user) && given(hc->password)))
        return jc_error_set(err, JC_ERR_INVALID_ARG, "metrics basic authentication needs both "
                            "metrics.auth.user and metrics.auth.password (_file)");
    if (!loopback && !(tls && auth))
        return jc_error_set(err, JC_ERR_INVALID_ARG, "metrics.listen '%s' is not a loopback "
                            "address: serving metrics there requires TLS (metrics.tls.cert, "
                            "metrics.tls.key) and basic authentication (metrics.auth.user, "
                            "metrics.auth.password_file)", hc->listen);
    if (tls && (st = jc_secret_file_check(hc->tls_key, err)) != JC_OK)
        return st;
    return JC_OK;
}

/* The whole of a small file, NUL-terminated; NULL if it cannot be read. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    jc_buf_t b = {0};
    char chunk[4096];
    size_t n;
    while (f != NULL && (n = fread(chunk, 1, sizeof chunk, f)) > 0 && b.len < (1u << 20))
        if (jc_buf_append(&b, chunk, n) != JC_OK)
            break;
    int ok = f != NULL && !ferror(f) && jc_buf_append(&b, "", 1) == JC_OK;
    if (f != NULL)
        fclose(f);
    if (!ok)
        jc_buf_free(&b);
    return (char *)b.data;
}

/* ---- answering --------------------------------------------------------------------------- */

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type,
                             const char *body, size_t len, int auth_failed)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    enum MHD_Result ret = auth_failed ? MHD_queue_basic_auth_fail_response(conn, "jiceng", r)
                                      : MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result reply_json(struct MHD_Connection *conn, const char *reason)
{
    char body[160];
    int n = reason == NULL ? snprintf(body, sizeof body, "{\"status\":\"ok\"}\n")
                           : snprintf(body, sizeof body, "{\"status\":\"unavailable\",\"reason\":\"%s\"}\n", reason);
    return reply(conn, reason == NULL ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
                 "application/json", body, (size_t)n, 0);
}

/* Why the instance is not alive (health) or not ready; NULL if it is. Under the lock. */
static const char *not_alive(const jc_http_t *h)
{
    if (!h->have)
        return "no stats from the consumer loop yet";
    if (mono_ms() - h->published_ms > h->stale_ms)
        return "the consumer loop has published no stats for 3 intervals";
    return NULL;
}

static const char *not_ready(const jc_http_t *h)
{
    const char *why = not_alive(h);
    if (why == NULL && !h->pg_ok)
        why = "PostgreSQL is unreachable";
    if (why == NULL && !h->subscribed)
        why = "not in the consumer group";
    return why;
}

/* Constant-time comparison of two NUL-terminated strings (their lengths may show). */
static int same_secret(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char d = la != lb;
    for (size_t i = 0; i < la && i < lb; i++)
        d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
}

static int authorized(const jc_http_t *h, struct MHD_Connection *conn)
{
    if (h->user == NULL)
        return 1;
    char *pass = NULL;
    char *user = MHD_basic_auth_get_username_password(conn, &pass);
    int ok = user != NULL && pass != NULL && same_secret(user, h->user) &
                                             same_secret(pass, h->password);
    MHD_free(user);
    MHD_free(pass);
    return ok;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    (void)version, (void)upload, (void)upload_size, (void)con_cls;
    jc_http_t *h = cls;
    static const char text_type[] = "text/plain; version=0.0.4; charset=utf-8";
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", "GET only\n", 9, 0);
    if (!authorized(h, conn))
        return reply(conn, MHD_HTTP_UNAUTHORIZED, "text/plain", "unauthorized\n", 13, 1);
    enum MHD_Result ret;
    pthread_mutex_lock(&h->lock);
    if (strcmp(url, "/metrics") == 0)
        ret = h->have ? reply(conn, MHD_HTTP_OK, text_type, (const char *)h->text.data, h->text.len, 0)
                      : reply_json(conn, not_alive(h));
    else if (strcmp(url, "/healthz") == 0)
        ret = reply_json(conn, not_alive(h));
    else if (strcmp(url, "/readyz") == 0)
        ret = reply_json(conn, not_ready(h));
    else
        ret = reply(conn, MHD_HTTP_NOT_FOUND, "text/plain", "not found: /metrics, /healthz, "
                    "/readyz\n", 38, 0);
    pthread_mutex_unlock(&h->lock);
    return ret;
}

/* ---- the aggregator's side --------------------------------------------------------------- */

static void on_stats(void *opaque, const jc_aggregator_stats_t *s)
{
    jc_http_t *h = opaque;
    if (h->prev != NULL)
        h->prev(h->prev_opaque, s);
    jc_metrics_process_read(&h->proc, NULL); /* on failure the figures stay as they were */
    jc_buf_reset(&h->scratch);
    int rendered = jc_metrics_render(s, &h->proc, now_ms(), &h->scratch) == JC_OK;
    pthread_mutex_lock(&h->lock);
    if (rendered) {
        jc_buf_t t = h->text;
        h->text = h->scratch;
        h->scratch = t;
        h->have = 1;
    }
    h->published_ms = mono_ms();
    h->pg_ok = s->pg_ok;
    h->subscribed = s->subscribed;
    pthread_mutex_unlock(&h->lock);
}

static void note(const jc_aggregator_config_t *c, jc_log_level_t level, const char *event,
                 const char *msg)
{
    if (c->log != NULL)
        c->log(c->log_opaque, level, event, msg);
}

/* The client certificate's expiry, read once (a failure is said, and the metric left out). */
static void read_cert(jc_http_t *h, const jc_http_config_t *hc, const jc_aggregator_config_t *c)
{
    jc_error_t err;
    char msg[600];
    if (given(hc->client_cert) &&
        jc_metrics_cert_not_after(hc->client_cert, &h->proc.cert_not_after_ms, &err) != JC_OK) {
        snprintf(msg, sizeof msg, "certificate expiry metric left out: %s", err.message);
        note(c, JC_LOG_WARN, "metrics_certificate", msg);
    }
}

static struct MHD_Daemon *start_daemon(jc_http_t *h, const jc_http_config_t *hc,
                                       jc_error_t *err)
{
    struct sockaddr_storage sa;
    socklen_t len;
    int loopback = 0;
    jc_status_t st = resolve(hc->listen, &sa, &len, &loopback, err);
    if (st != JC_OK)
        return NULL;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD;
    if (sa.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (h->cert_pem != NULL)
        flags |= MHD_USE_TLS;
    uint16_t port = ntohs(sa.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)(void *)&sa)->sin6_port
                                                   : ((struct sockaddr_in *)(void *)&sa)->sin_port);
    struct MHD_OptionItem tls[] = {
        {MHD_OPTION_HTTPS_MEM_CERT, 0, h->cert_pem},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, h->key_pem},
        {MHD_OPTION_END, 0, NULL},
    };
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, port, NULL, NULL, answer, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_CONNECTION_LIMIT, 32u, MHD_OPTION_CONNECTION_TIMEOUT, 10u,
        MHD_OPTION_ARRAY, h->cert_pem != NULL ? tls : tls + 2, MHD_OPTION_END);
    if (d == NULL)
        jc_error_set(err, JC_ERR_IO, "metrics: cannot serve on %s (address in use, or the TLS "
                     "certificate and key do not fit)", hc->listen);
    return d;
}

/* Read the secrets the server needs: TLS certificate and key; copy the credentials. */
static jc_status_t read_secrets(jc_http_t *h, const jc_http_config_t *hc, jc_error_t *err)
{
    if (given(hc->tls_cert) && ((h->cert_pem = slurp(hc->tls_cert)) == NULL ||
                                (h->key_pem = slurp(hc->tls_key)) == NULL))
        return jc_error_set(err, JC_ERR_IO, "metrics: cannot read %s or %s", hc->tls_cert,
                            hc->tls_key);
    if (given(hc->user) && ((h->password = strdup(hc->password)) == NULL ||
                            (h->user = strdup(hc->user)) == NULL))
        return jc_error_set(err, JC_ERR_NOMEM, "out of memory");
    return JC_OK;
}

jc_http_t *jc_http_start(const jc_http_config_t *hc, jc_aggregator_config_t *c, jc_error_t *err)
{
    jc_http_t *h = calloc(1, sizeof *h);
    if (h == NULL) {
        jc_error_set(err, JC_ERR_NOMEM, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&h->lock, NULL);
    h->stale_ms = (int64_t)STALE_INTERVALS * (c->stats_interval_ms > 0 ? c->stats_interval_ms : 1000);
    read_cert(h, hc, c);
    if (read_secrets(h, hc, err) != JC_OK || (h->daemon = start_daemon(h, hc, err)) == NULL) {
        jc_http_stop(h);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
    char host[256], port[8];
    split_listen(hc->listen, host, sizeof host, port, sizeof port);
    char msg[400];
    snprintf(msg, sizeof msg, "metrics on %s://%s%s%s:%u/metrics (also /healthz, /readyz)",
             h->cert_pem ? "https" : "http", strchr(host, ':') ? "[" : "", host,
             strchr(host, ':') ? "]" : "", info != NULL ? (unsigned)info->port : 0u);
    note(c, JC_LOG_INFO, "metrics_listening", msg);
    h->prev = c->on_stats;
    h->prev_opaque = c->stats_opaque;
    c->on_stats = on_stats;
    c->stats_opaque = h;
    return h;
}

void jc_http_stop(jc_http_t *h)
{
    if (h == NULL)
        return;
    if (h->daemon != NULL)
        MHD_stop_daemon(h->daemon);
    pthread_mutex_destroy(&h->lock);
    jc_buf_free(&h->text);
    jc_buf_free(&h->scratch);
    free(h->user);
    if (h->password != NULL)
        memset(h->password, 0, strlen(h->password));
    free(h->password);
    free(h->cert_pem);
    if (h->key_pem != NULL)
        memset(h->key_pem, 0, strlen(h->key_pem));
    free(h->key_pem);
    free(h);
}
