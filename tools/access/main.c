/*
 * jiceng-access: the administrator's provisioning program. It adds a county system (its TLS
 * certificate and key from the stack's CA, its Kafka ACLs, its signing key, and its client
 * files), rotates its certificate or signing key, revokes it, and lists who may do what.
 *
 * It runs as the Kafka administrator (the identity file $JICENG_ADMIN_CONFIG names, as
 * jiceng-topics does) and, for the signing keys, as the PostgreSQL migration role
 * ($JICENG_MIGRATE_CONNINFO), which may insert and close keys but not read their secrets. Every
 * command is idempotent where that makes sense: `add` completes what is missing and leaves what
 * is there (a usable certificate, the ACLs, an open key whose file is in place, an unchanged
 * config file); `revoke` twice changes nothing the second time. Each county system's files go
 * to OUT/county-CODE/ (tools/access/access.h has the layout), mode 0600 in a 0700 directory.
 *
 * Signing keys become valid only in the future (the key table refuses anything sooner than its
 * notice period: jiceng/signkeys.h). So a new key file is first written as signing.key.new,
 * the key is inserted, the program waits until the database's clock reaches the key's
 * valid_from, and only then renames the file to signing.key: a producer never finds a key that
 * is not valid yet. A run interrupted after the insert finishes the rename next time. A
 * rotation closes the old key after a grace period (default 10 minutes, longer than
 * librdkafka's delivery.timeout.ms), so records still in flight when the county system switches
 * keys are appended while the old key is valid; keys are never deleted.
 *
 * No secret is on a command line: not this program's (it takes none), not openssl's (the CA's
 * passphrase is read from its file: tools/access/pki.c), and signing secrets never leave this
 * process except to PostgreSQL, as a statement parameter over TLS.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <openssl/crypto.h>

#include "access.h"
#include "cli.h"
#include "jiceng/admin.h"
#include "jiceng/jtime.h"
#include "jiceng/sign.h"
#include "jiceng/signkeys.h"

static const jc_option_t options[] = {
    {"kafka.bootstrap.servers", "bootstrap", "JICENG_KAFKA_BOOTSTRAP", NULL, "LIST",
     "Kafka bootstrap servers (also written into each county system's config file)"},
    {"jiceng.topic.prefix", "topic-prefix", "JICENG_TOPIC_PREFIX", "", "PREFIX",
     "the ACLs name the event topics with this prefix (for scratch topics)"},
    {"pg.conninfo", "conninfo", "JICENG_MIGRATE_CONNINFO", NULL, "STR",
     "the migration role's conninfo (signing keys; password from PGPASSFILE)"},
    {"ca.dir", "ca-dir", "JICENG_PKI", NULL, "DIR",
     "the CA that issues the certificates (deploy/local/pki's layout)"},
    {"out", "out", "JICENG_CLIENTS", NULL, "DIR",
     "where each county system's files go: DIR/county-CODE/"},
    {"grace.ms", "grace-ms", NULL, "600000", "MS",
     "rotate-key: the old key stays valid this long (longer than delivery.timeout.ms)"},
    {"cert.days", "days", NULL, "825", "N", "validity of a new certificate, in days"},
    {"timeout.ms", "timeout-ms", NULL, "30000", "MS", "how long each Kafka request may take"},
};

static const jc_program_t program = {
    .name = "jiceng-access",
    .synopsis = "[OPTIONS] add|rotate-cert|rotate-key|revoke COUNTY... | "
                "grant-role|revoke-role ROLE=PRINCIPAL... | list | acls",
    .about =
        "Provisions county systems (COUNTY: a current six-digit county code).\n"
        "  add          certificate and key (CN=county-CODE,OU=county,O=jiceng) from the CA,\n"
        "               Kafka ACLs (WRITE, DESCRIBE the event topics; IDEMPOTENT_WRITE the\n"
        "               cluster), a signing key, and OUT/county-CODE/county-CODE.conf;\n"
        "               completes what is missing, changes nothing that is in place\n"
        "  rotate-cert  a new certificate and key (the old certificate stays valid until it\n"
        "               expires: Kafka checks no revocation list)\n"
        "  rotate-key   a new signing key; the old one is closed after --grace-ms\n"
        "  revoke       ACLs removed, every signing key of the county closed (files kept)\n"
        "  list         principals and their ACLs, signing keys (no secrets), certificates\n"
        "  acls         every Kafka ACL (Kafka only)\n"
        "  grant-role   ROLE=PRINCIPAL...: the role's ACLs (ROLE: county, aggregator, steward,\n"
        "               health; e.g. steward=User:steward); Kafka only\n"
        "  revoke-role  ROLE=PRINCIPAL...: the role's ACLs on the --topic-prefix topics removed,\n"
        "               and its cluster, group and health-topic ACLs once no prefix needs them\n"
        "With --topic-prefix, the ACLs name PREFIX's topics (scratch topics); revoke and\n"
        "revoke-role then keep what the principal's other prefixes still need (IDEMPOTENT_WRITE).\n"
        "The roles are described in lib/acls.c (jiceng/admin.h: \"ACLs: roles\").\n"
        "Runs as the Kafka administrator ($JICENG_ADMIN_CONFIG) and the PostgreSQL migration\n"
        "role ($JICENG_MIGRATE_CONNINFO). A new signing key is valid some seconds after it is\n"
        "made (the key table's notice period): the program waits for that before it puts the\n"
        "key file in place.",
    .epilogue = "exit status: 0 success, 1 a service or openssl failed, 2 usage or configuration "
                "error",
    .options = options,
    .noptions = sizeof options / sizeof options[0],
    .config_env = "JICENG_ADMIN_CONFIG",
};

enum need { NEED_OUT = 1, NEED_CA = 2, NEED_KAFKA = 4, NEED_PG = 8 };

/* A ROLE=PRINCIPAL operand. */
struct role_grant {
    jc_acl_role_t role;
    char principal[sizeof ((jc_acl_t *)0)->principal];
};

/* What a command works with. */
struct ctx {
    const jc_config_t *cfg;
    const char *bootstrap, *conninfo, *ca_dir, *out_dir;
    long grace_ms, days, timeout_ms;
    jc_access_county_t *counties;
    size_t ncounties;
    struct role_grant *grants; /* grant-role, revoke-role: ROLE=PRINCIPAL operands */
    size_t ngrants;
    jc_admin_t *admin;
    PGconn *pg;
};

/* ---- output ---- */

static void say_as(const char *who, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One line of output about who (a county system's name or a principal). */
static void say_as(const char *who, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%s: ", who);
    vprintf(fmt, ap);
    putchar('\n');
    va_end(ap);
    fflush(stdout);
}

#define say(c, ...) say_as((c)->name, __VA_ARGS__)

static const char *when(int64_t ms, char *buf, size_t len)
{
    if (ms == JC_SIGN_OPEN_END)
        snprintf(buf, len, "open");
    else
        jc_time_format(ms, buf, len);
    return buf;
}

/* ---- set-up ---- */

static jc_status_t read_settings(struct ctx *x, unsigned needs, jc_error_t *err)
{
    const jc_config_t *cfg = x->cfg;
    x->bootstrap = jc_config_get(cfg, "kafka.bootstrap.servers");
    x->conninfo = jc_config_get(cfg, "pg.conninfo");
    x->ca_dir = jc_config_get(cfg, "ca.dir");
    x->out_dir = jc_config_get(cfg, "out");
    jc_status_t st = jc_config_get_long(cfg, "grace.ms", 60000, 30L * 86400 * 1000, &x->grace_ms,
                                        err);
    if (st == JC_OK)
        st = jc_config_get_long(cfg, "cert.days", 1, 3650, &x->days, err);
    if (st == JC_OK)
        st = jc_config_get_long(cfg, "timeout.ms", 1000, 3600000, &x->timeout_ms, err);
    const struct {
        unsigned need;
        const char *value, *what;
    } required[] = {
        {NEED_OUT, x->out_dir, "an output directory: --out or $JICENG_CLIENTS"},
        {NEED_CA, x->ca_dir, "the CA: --ca-dir or $JICENG_PKI"},
        {NEED_KAFKA, x->bootstrap, "Kafka: --bootstrap, $JICENG_KAFKA_BOOTSTRAP or the "
                                   "administrator's config file ($JICENG_ADMIN_CONFIG)"},
        {NEED_PG, x->conninfo, "the migration role's database: --conninfo or "
                               "$JICENG_MIGRATE_CONNINFO"},
    };
    for (size_t i = 0; st == JC_OK && i < sizeof required / sizeof required[0]; i++)
        if ((needs & required[i].need) && (required[i].value == NULL || !*required[i].value))
            st = jc_error_set(err, JC_ERR_INVALID_ARG, "this command needs %s",
                              required[i].what);
    return st;
}

/* The county operands, checked, without repeats. */
static jc_status_t read_counties(struct ctx *x, char **ops, int n, jc_error_t *err)
{
    x->counties = calloc((size_t)n, sizeof *x->counties);
    if (x->counties == NULL)
        return jc_error_set(err, JC_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n; i++) {
        jc_access_county_t c;
        jc_status_t st = jc_access_county_parse(ops[i], &c, err);
        if (st != JC_OK)
            return st;
        bool seen = false;
        for (size_t k = 0; k < x->ncounties; k++)
            seen = seen || x->counties[k].code == c.code;
        if (!seen)
            x->counties[x->ncounties++] = c;
    }
    return JC_OK;
}

/* The ROLE=PRINCIPAL operands, checked (jc_acl_role_set checks the principal). */
static jc_status_t read_grants(struct ctx *x, char **ops, int n, jc_error_t *err)
{
    x->grants = calloc((size_t)n, sizeof *x->grants);
    if (x->grants == NULL)
        return jc_error_set(err, JC_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n; i++) {
        struct role_grant *g = &x->grants[x->ngrants++];
        const char *eq = strchr(ops[i], '=');
        char role[32];
        if (eq == NULL || (size_t)(eq - ops[i]) >= sizeof role)
            return jc_error_set(err, JC_ERR_INVALID_ARG, "'%s' is not ROLE=PRINCIPAL (e.g. "
                                "aggregator=User:aggregator)", ops[i]);
        snprintf(role, sizeof role, "%.*s", (int)(eq - ops[i]), ops[i]);
        jc_acl_t check[JC_ACL_SET_MAX];
        size_t nset;
        jc_status_t st = jc_acl_role_parse(role, &g->role, err);
        if (st == JC_OK)
            st = jc_acl_role_set(g->role, eq + 1, NULL, JC_ACL_SCOPE_ALL, check, &nset, err);
        if (st != JC_OK)
            return st;
        snprintf(g->principal, sizeof g->principal, "%s", eq + 1);
    }
    return JC_OK;
}

static jc_status_t connect_services(struct ctx *x, unsigned needs, jc_error_t *err)
{
    if ((needs & NEED_KAFKA) &&
        (x->admin = jc_admin_new(jc_config_client_properties(x->cfg), (int)x->timeout_ms, err)) ==
            NULL)
        return err->code;
    if (!(needs & NEED_PG))
        return JC_OK;
    x->pg = PQconnectdb(x->conninfo);
    if (PQstatus(x->pg) != CONNECTION_OK) {
        char shown[512];
        jc_error_set(err, JC_ERR_PG, "cannot connect to %s: %s",
                     jc_cli_mask(x->conninfo, shown, sizeof shown),
                     x->pg ? PQerrorMessage(x->pg) : "out of memory");
        return JC_ERR_PG;
    }
    return JC_OK;
}

/* ---- certificates ---- */

static jc_status_t ensure_files_dir(const struct ctx *x, const jc_access_county_t *c,
                                    jc_access_paths_t *p, jc_error_t *err)
{
    jc_status_t st = jc_access_paths(x->out_dir, c, p, err);
    if (st == JC_OK)
        st = jc_access_private_dir(x->out_dir, err);
    if (st == JC_OK)
        st = jc_access_private_dir(p->dir, err);
    return st;
}

static jc_status_t issue_cert(const struct ctx *x, const jc_access_county_t *c,
                              const jc_access_paths_t *p, const char *why, jc_error_t *err)
{
    jc_status_t st = jc_access_issue_cert(x->ca_dir, c->subject, (int)x->days, p->key, p->cert,
                                          err);
    jc_access_cert_t now;
    if (st == JC_OK)
        st = jc_access_cert_check(x->ca_dir, p->cert, p->key, c->subject, &now, err);
    if (st == JC_OK) {
        char t[40];
        say(c, "certificate issued (%s), %s, expires %s", why, c->subject,
            when(now.not_after_ms, t, sizeof t));
    }
    return st;
}

/* The CA certificate, and a usable certificate of the county system's own. */
static jc_status_t ensure_cert(const struct ctx *x, const jc_access_county_t *c,
                               const jc_access_paths_t *p, jc_error_t *err)
{
    char ca[JC_ACCESS_PATH_MAX + 8];
    snprintf(ca, sizeof ca, "%s/ca.crt", x->ca_dir);
    jc_access_cert_t have;
    jc_status_t st = jc_access_copy_private(ca, p->ca, NULL, err);
    if (st == JC_OK)
        st = jc_access_cert_check(x->ca_dir, p->cert, p->key, c->subject, &have, err);
    if (st != JC_OK)
        return st;
    if (!have.usable)
        return issue_cert(x, c, p, have.present ? have.why : "new", err);
    char t[40];
    say(c, "certificate unchanged, expires %s", when(have.not_after_ms, t, sizeof t));
    return JC_OK;
}

/* ---- ACLs ---- */

/* Grant role to principal on the topic prefix; one line about who. */
static jc_status_t grant_role(struct ctx *x, jc_acl_role_t role, const char *principal,
                              const char *who, jc_error_t *err)
{
    size_t created = 0;
    jc_status_t st = jc_admin_grant_role(x->admin, role, principal, &created, err);
    if (st == JC_OK && created == 0)
        say_as(who, "ACLs unchanged (role %s)", jc_acl_role_name(role));
    else if (st == JC_OK)
        say_as(who, "ACLs granted (%zu new): role %s", created, jc_acl_role_name(role));
    return st;
}

/* Revoke role from principal on the topic prefix; one line about who. */
static jc_status_t revoke_role(struct ctx *x, jc_acl_role_t role, const char *principal,
                               const char *who, jc_error_t *err)
{
    size_t deleted = 0;
    jc_status_t st = jc_admin_revoke_role(x->admin, role, principal, &deleted, err);
    if (st == JC_OK)
        say_as(who, "%zu ACLs removed (role %s)", deleted, jc_acl_role_name(role));
    return st;
}

/* ---- signing keys ---- */

enum key_action { KEY_KEEP, KEY_NEW, KEY_FINISH };

/* One county's signing key work. */
struct key_plan {
    const jc_access_county_t *c;
    jc_access_paths_t p;
    enum key_action action;
    char current[JC_SIGN_KEY_ID_MAX + 1]; /* the key in signing.key, "" if none */
    char pending[JC_SIGN_KEY_ID_MAX + 1]; /* the key in signing.key.new, "" if none */
    int64_t valid_from_ms;                /* of the pending or new key */
    unsigned char secret[JC_SIGN_SECRET_BYTES];
};

/* The key id in a key file, "" if the file is missing; a file that does not load is an error
 * unless forgive (a pending file cut short by a crash), when it counts as missing. */
static jc_status_t key_file_id(const char *path, int32_t county, bool forgive, char *id,
                               jc_error_t *err)
{
    id[0] = '\0';
    if (access(path, F_OK) != 0)
        return JC_OK;
    jc_signer_t *s = NULL;
    jc_status_t st = jc_signer_load(path, &s, err);
    if (st == JC_OK && jc_signer_county(s) != county)
        st = jc_error_set(err, JC_ERR_MISMATCH, "%s signs for county %06ld, not %06ld", path,
                          (long)jc_signer_county(s), (long)county);
    if (st == JC_OK)
        snprintf(id, JC_SIGN_KEY_ID_MAX + 1, "%s", jc_signer_key_id(s));
    jc_signer_free(s);
    return st != JC_OK && forgive ? JC_OK : st;
}

static const jc_signkey_info_t *find_key(const jc_signkey_info_t *keys, size_t n, const char *id)
{
    for (size_t i = 0; id[0] != '\0' && i < n; i++)
        if (strcmp(keys[i].key_id, id) == 0)
            return &keys[i];
    return NULL;
}

/* What to do for one county. rotate: a new key whatever the current one is. */
static jc_status_t plan_key(struct ctx *x, struct key_plan *k, bool rotate, jc_error_t *err)
{
    jc_signkey_info_t *keys = NULL;
    size_t n = 0;
    jc_status_t st = key_file_id(k->p.signing_key_new, k->c->code, true, k->pending, err);
    if (st == JC_OK)
        st = key_file_id(k->p.signing_key, k->c->code, false, k->current, err);
    if (st == JC_OK)
        st = jc_signkeys_list(x->pg, k->c->code, &keys, &n, err);
    if (st != JC_OK)
        return st;
    const jc_signkey_info_t *pending = find_key(keys, n, k->pending);
    const jc_signkey_info_t *current = find_key(keys, n, k->current);
    if (pending != NULL) {
        k->action = KEY_FINISH; /* inserted by a run that stopped before the rename */
        k->valid_from_ms = pending->valid_from_ms;
    } else if (rotate && k->current[0] == '\0') {
        st = jc_error_set(err, JC_ERR_INVALID_ARG, "%s: no signing key file (%s): add the "
                          "county system first", k->c->name, k->p.signing_key);
    } else if (!rotate && current != NULL && current->valid_until_ms == JC_SIGN_OPEN_END) {
        k->action = KEY_KEEP;
    } else {
        k->action = KEY_NEW;
        if (k->current[0] != '\0' && current == NULL && !rotate)
            say(k->c, "signing key %s is not in the key table: issuing a new one", k->current);
        else if (current != NULL && !rotate)
            say(k->c, "signing key %s is closed: issuing a new one", k->current);
    }
    free(keys);
    if (st == JC_OK && k->pending[0] != '\0' && k->action != KEY_FINISH &&
        unlink(k->p.signing_key_new) != 0)
        st = jc_error_set(err, JC_ERR_IO, "%s: %s", k->p.signing_key_new, strerror(errno));
    return st;
}

/* A new secret, written to signing.key.new under id before the key is inserted (so that a key
 * in the table always has its file, should the program stop after the insert). */
static jc_status_t write_pending(struct key_plan *k, const char *id, jc_error_t *err)
{
    unlink(k->p.signing_key_new);
    snprintf(k->pending, sizeof k->pending, "%s", id);
    return jc_sign_key_file_write(k->p.signing_key_new, id, k->c->code, k->secret, err);
}

/* The changes for the new keys (and, for a rotation, the closing of the old ones). */
static jc_status_t prepare_changes(struct ctx *x, struct key_plan *plans, size_t n, bool rotate,
                                   jc_signkey_change_t *changes, size_t *nchanges,
                                   jc_error_t *err)
{
    int64_t now = 0;
    jc_status_t st = jc_signkeys_clock(x->pg, &now, err);
    *nchanges = 0;
    for (size_t i = 0; st == JC_OK && i < n; i++) {
        struct key_plan *k = &plans[i];
        if (k->action != KEY_NEW)
            continue;
        jc_signkey_change_t *ch = &changes[(*nchanges)++];
        *ch = (jc_signkey_change_t){.op = JC_SIGNKEY_ISSUE, .county = k->c->code,
                                    .secret = k->secret};
        jc_signkey_id(k->c->code, now, ch->key_id, sizeof ch->key_id);
        st = jc_sign_secret_generate(k->secret, err);
        if (st == JC_OK)
            st = write_pending(k, ch->key_id, err);
        if (st == JC_OK && rotate && k->current[0] != '\0')
            changes[(*nchanges)++] = (jc_signkey_change_t){
                .op = JC_SIGNKEY_CLOSE, .county = k->c->code, .grace_ms = x->grace_ms,
                .only_key_id = k->current};
    }
    return st;
}

/* After the insert: the pending files hold the ids the table took (a suffix may have been
 * added), and each plan knows its valid_from. */
static jc_status_t record_changes(struct key_plan *plans, size_t n,
                                  const jc_signkey_change_t *changes, size_t nchanges,
                                  jc_error_t *err)
{
    jc_status_t st = JC_OK;
    for (size_t i = 0; st == JC_OK && i < nchanges; i++) {
        const jc_signkey_change_t *ch = &changes[i];
        for (size_t j = 0; j < n; j++) {
            struct key_plan *k = &plans[j];
            if (k->c->code != ch->county || k->action != KEY_NEW)
                continue;
            if (ch->op == JC_SIGNKEY_ISSUE) {
                k->valid_from_ms = ch->valid_from_ms;
                if (strcmp(k->pending, ch->key_id) != 0)
                    st = write_pending(k, ch->key_id, err);
            } else if (ch->closed > 0) {
                char t[40];
                say(k->c, "signing key %s closes at %s (grace period)", k->current,
                    when(ch->valid_until_ms, t, sizeof t));
            }
        }
    }
    return st;
}

/* Wait until every new key is valid, then put its file in place. */
static jc_status_t install_keys(struct ctx *x, struct key_plan *plans, size_t n, jc_error_t *err)
{
    int64_t latest = 0, now = 0;
    for (size_t i = 0; i < n; i++)
        if (plans[i].action != KEY_KEEP && plans[i].valid_from_ms > latest)
            latest = plans[i].valid_from_ms;
    if (latest == 0)
        return JC_OK;
    jc_status_t st = jc_signkeys_clock(x->pg, &now, err);
    if (st == JC_OK && latest > now) {
        printf("waiting %.1f s until the new signing keys are valid\n", (latest - now) / 1000.0);
        fflush(stdout);
        st = jc_signkeys_wait_until(x->pg, latest, err);
    }
    for (size_t i = 0; st == JC_OK && i < n; i++) {
        struct key_plan *k = &plans[i];
        if (k->action == KEY_KEEP)
            continue;
        if (rename(k->p.signing_key_new, k->p.signing_key) != 0)
            return jc_error_set(err, JC_ERR_IO, "%s: %s", k->p.signing_key, strerror(errno));
        char t[40];
        say(k->c, "signing key %s %s, valid from %s: %s", k->pending,
            k->action == KEY_FINISH ? "(issued before) in place" : "issued",
            when(k->valid_from_ms, t, sizeof t), k->p.signing_key);
    }
    return st;
}

/* Make sure each county system has a valid key in place (rotate: a new one, the old one
 * closing after the grace period). */
static jc_status_t ensure_keys(struct ctx *x, bool rotate, jc_error_t *err)
{
    struct key_plan *plans = calloc(x->ncounties, sizeof *plans);
    jc_signkey_change_t *changes = calloc(2 * x->ncounties, sizeof *changes);
    size_t nchanges = 0;
    jc_status_t st = plans && changes ? JC_OK : jc_error_set(err, JC_ERR_NOMEM, "out of memory");
    for (size_t i = 0; st == JC_OK && i < x->ncounties; i++) {
        plans[i].c = &x->counties[i];
        st = ensure_files_dir(x, plans[i].c, &plans[i].p, err);
        if (st == JC_OK)
            st = plan_key(x, &plans[i], rotate, err);
        if (st == JC_OK && plans[i].action == KEY_KEEP)
            say(plans[i].c, "signing key %s unchanged (open)", plans[i].current);
    }
    if (st == JC_OK)
        st = prepare_changes(x, plans, x->ncounties, rotate, changes, &nchanges, err);
    if (st == JC_OK)
        st = jc_signkeys_apply(x->pg, changes, nchanges, err);
    if (st == JC_OK)
        st = record_changes(plans, x->ncounties, changes, nchanges, err);
    if (st == JC_OK)
        st = install_keys(x, plans, x->ncounties, err);
    for (size_t i = 0; plans != NULL && i < x->ncounties; i++) {
        if (st != JC_OK && plans[i].action == KEY_NEW && nchanges == 0)
            unlink(plans[i].p.signing_key_new); /* nothing was inserted */
        OPENSSL_cleanse(plans[i].secret, sizeof plans[i].secret);
    }
    free(plans);
    free(changes);
    return st;
}

/* ---- the config file ---- */

static jc_status_t write_conf(const struct ctx *x, const jc_access_county_t *c,
                              const jc_access_paths_t *p, jc_error_t *err)
{
    jc_buf_t text = {0};
    bool changed = false;
    jc_status_t st = jc_access_conf_text(p, c, x->bootstrap, &text, err);
    if (st == JC_OK)
        st = jc_access_write_private(p->conf, text.data, text.len, &changed, err);
    jc_buf_free(&text);
    if (st == JC_OK)
        say(c, "config %s: %s", changed ? "written" : "unchanged", p->conf);
    return st;
}

/* ---- commands ---- */

static jc_status_t cmd_add(struct ctx *x, jc_error_t *err)
{
    jc_status_t st = JC_OK;
    jc_access_paths_t p;
    for (size_t i = 0; st == JC_OK && i < x->ncounties; i++) {
        st = ensure_files_dir(x, &x->counties[i], &p, err);
        if (st == JC_OK)
            st = ensure_cert(x, &x->counties[i], &p, err);
        if (st == JC_OK)
            st = grant_role(x, JC_ROLE_COUNTY, x->counties[i].principal, x->counties[i].name,
                            err);
    }
    if (st == JC_OK)
        st = ensure_keys(x, false, err);
    for (size_t i = 0; st == JC_OK && i < x->ncounties; i++) {
        st = jc_access_paths(x->out_dir, &x->counties[i], &p, err);
        if (st == JC_OK)
            st = write_conf(x, &x->counties[i], &p, err);
    }
    return st;
}

static jc_status_t cmd_rotate_cert(struct ctx *x, jc_error_t *err)
{
    jc_status_t st = JC_OK;
    for (size_t i = 0; st == JC_OK && i < x->ncounties; i++) {
        const jc_access_county_t *c = &x->counties[i];
        jc_access_paths_t p;
        st = jc_access_paths(x->out_dir, c, &p, err);
        if (st == JC_OK && access(p.cert, F_OK) != 0)
            st = jc_error_set(err, JC_ERR_INVALID_ARG, "%s: no certificate in %s: add the "
                              "county system first", c->name, p.dir);
        if (st == JC_OK)
            st = issue_cert(x, c, &p, "rotation", err);
        if (st == JC_OK)
            say(c, "note: the old certificate is valid until it expires (Kafka checks no "
                "revocation list); revoke the county system to take its rights away");
    }
    return st;
}

static jc_status_t cmd_rotate_key(struct ctx *x, jc_error_t *err)
{
    return ensure_keys(x, true, err);
}

static jc_status_t cmd_revoke(struct ctx *x, jc_error_t *err)
{
    jc_signkey_change_t *changes = calloc(x->ncounties, sizeof *changes);
    if (changes == NULL)
        return jc_error_set(err, JC_ERR_NOMEM, "out of memory");
    jc_status_t st = JC_OK;
    for (size_t i = 0; st == JC_OK && i < x->ncounties; i++) {
        st = revoke_role(x, JC_ROLE_COUNTY, x->counties[i].principal, x->counties[i].name, err);
        changes[i] = (jc_signkey_change_t){.op = JC_SIGNKEY_CLOSE, .county = x->counties[i].code};
    }
    if (st == JC_OK)
        st = jc_signkeys_apply(x->pg, changes, x->ncounties, err);
    for (size_t i = 0; st == JC_OK && i < x->ncounties; i++) {
        char t[40];
        if (changes[i].closed > 0)
            say(&x->counties[i], "%d signing keys close at %s", changes[i].closed,
                when(changes[i].valid_until_ms, t, sizeof t));
        else
            say(&x->counties[i], "no signing key left to close");
    }
    free(changes);
    return st;
}

static void list_acls(const jc_acl_t *acls, size_t n)
{
    printf("Kafka ACLs (principal, permission, operation, resource):\n");
    if (n == 0)
        printf("  none visible (librdkafka 2.0.2 also shows none when the broker refuses: is "
               "this identity the administrator?)\n");
    for (size_t i = 0; i < n; i++)
        printf("  %-26s %-5s %-16s %s %s%s\n", acls[i].principal, acls[i].deny ? "DENY" : "ALLOW",
               jc_acl_operation_name(acls[i].operation), jc_acl_resource_name(acls[i].resource),
               acls[i].name, acls[i].prefixed ? "*" : "");
}

static void list_keys(const jc_signkey_info_t *keys, size_t n, int64_t now)
{
    printf("signing keys (county, key id, valid from, valid until):\n");
    for (size_t i = 0; i < n; i++) {
        char from[40], until[40];
        const jc_signkey_info_t *k = &keys[i];
        const char *state = k->valid_from_ms > now                 ? "not yet valid"
                            : k->valid_until_ms == JC_SIGN_OPEN_END ? "valid"
                            : k->valid_until_ms > now              ? "valid, closing"
                                                                   : "closed";
        printf("  %06ld %-28s %s  %-29s %s\n", (long)k->county, k->key_id,
               when(k->valid_from_ms, from, sizeof from), when(k->valid_until_ms, until,
                                                               sizeof until), state);
    }
    if (n == 0)
        printf("  none\n");
}

/* The certificates of the county systems under the output directory. */
static jc_status_t list_certs(const struct ctx *x, jc_error_t *err)
{
    DIR *d = x->out_dir != NULL && x->ca_dir != NULL ? opendir(x->out_dir) : NULL;
    if (d == NULL)
        return JC_OK;
    printf("certificates in %s:\n", x->out_dir);
    struct dirent *e;
    jc_status_t st = JC_OK;
    while (st == JC_OK && (e = readdir(d)) != NULL) {
        jc_access_county_t c;
        if (strncmp(e->d_name, "county-", 7) != 0 ||
            jc_access_county_parse(e->d_name + 7, &c, NULL) != JC_OK)
            continue;
        jc_access_paths_t p;
        jc_access_cert_t have;
        char t[40];
        st = jc_access_paths(x->out_dir, &c, &p, err);
        if (st == JC_OK)
            st = jc_access_cert_check(x->ca_dir, p.cert, p.key, c.subject, &have, err);
        if (st == JC_OK)
            printf("  %-14s %s, expires %s%s%s\n", c.name, c.subject,
                   have.present ? when(have.not_after_ms, t, sizeof t) : "-",
                   have.usable ? "" : ": NOT USABLE: ", have.usable ? "" : have.why);
    }
    closedir(d);
    return st;
}

static jc_status_t cmd_list(struct ctx *x, jc_error_t *err)
{
    jc_acl_t *acls = NULL;
    jc_signkey_info_t *keys = NULL;
    size_t nacls = 0, nkeys = 0;
    int64_t now = 0;
    jc_status_t st = jc_admin_describe_acls(x->admin, NULL, &acls, &nacls, err);
    if (st == JC_OK)
        st = jc_signkeys_list(x->pg, 0, &keys, &nkeys, err);
    if (st == JC_OK)
        st = jc_signkeys_clock(x->pg, &now, err);
    if (st == JC_OK) {
        list_acls(acls, nacls);
        list_keys(keys, nkeys, now);
        st = list_certs(x, err);
    }
    free(acls);
    free(keys);
    return st;
}

static jc_status_t cmd_acls(struct ctx *x, jc_error_t *err)
{
    jc_acl_t *acls = NULL;
    size_t nacls = 0;
    jc_status_t st = jc_admin_describe_acls(x->admin, NULL, &acls, &nacls, err);
    if (st == JC_OK)
        list_acls(acls, nacls);
    free(acls);
    return st;
}

typedef jc_status_t role_fn(struct ctx *, jc_acl_role_t, const char *, const char *,
                            jc_error_t *);

/* fn (grant_role or revoke_role) for each ROLE=PRINCIPAL operand, in order. */
static jc_status_t each_grant(struct ctx *x, role_fn *fn, jc_error_t *err)
{
    jc_status_t st = JC_OK;
    for (size_t i = 0; st == JC_OK && i < x->ngrants; i++)
        st = fn(x, x->grants[i].role, x->grants[i].principal, x->grants[i].principal, err);
    return st;
}

static jc_status_t cmd_grant_role(struct ctx *x, jc_error_t *err)
{
    return each_grant(x, grant_role, err);
}

static jc_status_t cmd_revoke_role(struct ctx *x, jc_error_t *err)
{
    return each_grant(x, revoke_role, err);
}

/* What a command's operands are. */
enum operands { OPS_NONE, OPS_COUNTIES, OPS_ROLES };

static const struct command {
    const char *name;
    enum operands operands;
    unsigned needs;
    jc_status_t (*run)(struct ctx *, jc_error_t *);
} commands[] = {
    {"add", OPS_COUNTIES, NEED_OUT | NEED_CA | NEED_KAFKA | NEED_PG, cmd_add},
    {"rotate-cert", OPS_COUNTIES, NEED_OUT | NEED_CA, cmd_rotate_cert},
    {"rotate-key", OPS_COUNTIES, NEED_OUT | NEED_PG, cmd_rotate_key},
    {"revoke", OPS_COUNTIES, NEED_KAFKA | NEED_PG, cmd_revoke},
    {"list", OPS_NONE, NEED_KAFKA | NEED_PG, cmd_list},
    {"grant-role", OPS_ROLES, NEED_KAFKA, cmd_grant_role},
    {"revoke-role", OPS_ROLES, NEED_KAFKA, cmd_revoke_role},
    {"acls", OPS_NONE, NEED_KAFKA, cmd_acls},
};

static const struct command *find_command(char **ops, int n, jc_error_t *err)
{
    static const char *const operand_names[] = {"", "COUNTY", "ROLE=PRINCIPAL"};
    for (size_t i = 0; n > 0 && i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(ops[0], commands[i].name) != 0)
            continue;
        if (commands[i].operands != OPS_NONE && n < 2)
            jc_error_set(err, JC_ERR_INVALID_ARG, "%s needs at least one %s", ops[0],
                         operand_names[commands[i].operands]);
        else if (commands[i].operands == OPS_NONE && n > 1)
            jc_error_set(err, JC_ERR_INVALID_ARG, "%s takes no operand ('%s')", ops[0], ops[1]);
        else
            return &commands[i];
        return NULL;
    }
    jc_error_set(err, JC_ERR_INVALID_ARG, "expected a command: add, rotate-cert, rotate-key, "
                 "revoke, list, grant-role, revoke-role or acls%s%s%s", n > 0 ? " (not '" : "",
                 n > 0 ? ops[0] : "", n > 0 ? "')" : "");
    return NULL;
}

static int run(const jc_config_t *cfg)
{
    struct ctx x = {.cfg = cfg};
    jc_error_t err;
    int n;
    char **ops = jc_config_operands(cfg, &n);
    const struct command *cmd = find_command(ops, n, &err);
    jc_status_t st = cmd == NULL                       ? JC_ERR_INVALID_ARG
                     : cmd->operands == OPS_COUNTIES ? read_counties(&x, ops + 1, n - 1, &err)
                     : cmd->operands == OPS_ROLES    ? read_grants(&x, ops + 1, n - 1, &err)
                                                     : JC_OK;
    if (st == JC_OK)
        st = read_settings(&x, cmd->needs, &err);
    int rc = JC_EXIT_USAGE;
    if (st == JC_OK) {
        rc = JC_EXIT_FAILURE;
        if ((st = connect_services(&x, cmd->needs, &err)) == JC_OK)
            st = cmd->run(&x, &err);
    }
    if (st != JC_OK)
        jc_cli_fail(program.name, (jc_exit_t)rc, "%s%s", err.message,
                    rc == JC_EXIT_USAGE ? "\njiceng-access: see --help" : "");
    jc_admin_free(x.admin);
    PQfinish(x.pg);
    free(x.counties);
    free(x.grants);
    return st == JC_OK ? JC_EXIT_OK : rc;
}

int main(int argc, char **argv)
{
    umask(077); /* every file this program makes is its owner's only */
    jc_config_t *cfg = NULL;
    int rc = jc_config_main(&program, argc, argv, &cfg);
    if (rc >= 0)
        return rc;
    rc = run(cfg);
    jc_config_free(cfg);
    return rc;
}
