/*
 * jiceng-gen: write a deterministic, seeded synthetic workload of grassroots-work events
 * (events.ndjson), its ground truth (expected/, CSV) and a manifest into a directory.
 *
 * A thin program: it turns its arguments into a gen_config_t (gen.h) and calls gen_run; the
 * model, the ground truth and the malformed records live in the jc_gen library beside it, and
 * docs/generator.md describes them. Progress goes to stderr only when stderr is a terminal.
 * Exit status: 0 written, 1 the run failed (I/O, memory), 2 usage (including a period that
 * has not ended yet).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gen.h"
#include "jiceng/jtime.h"

enum { OPT_SEED = 256, OPT_FROM, OPT_TO, OPT_MONTH, OPT_EVENTS, OPT_OUT, OPT_DUP, OPT_LATE,
       OPT_MALFORMED };

static void usage(FILE *out)
{
    fprintf(out,
            "usage: jiceng-gen --out DIR [--seed S] [--from YYYY-MM-DD --to YYYY-MM-DD |\n"
            "                  --month YYYY-MM] [--events N] [--dup-rate R] [--late-rate R]\n"
            "                  [--malformed-rate R]\n"
            "\n"
            "Writes a synthetic workload of grassroots-work events for Guizhou's 88 counties:\n"
            "DIR/events.ndjson (one record a line), DIR/expected/*.csv (the ground truth) and\n"
            "DIR/manifest.json. The same arguments always give byte-identical files.\n"
            "\n"
            "  --out DIR            directory to write (created if missing)\n"
            "  --seed S             PRNG seed, 0..2^63-1 (default %d)\n"
            "  --from D, --to D     the period, local (Asia/Shanghai) days, inclusive; it must\n"
            "                       have ended (default: the last full month)\n"
            "  --month YYYY-MM      the period is that calendar month\n"
            "  --events N           lines to write, all kinds together (default %d)\n"
            "  --dup-rate R         share of exact re-sends of earlier lines (default %g)\n"
            "  --late-rate R        share of events from 20-90 days before the period\n"
            "                       (default %g)\n"
            "  --malformed-rate R   share of malformed records (default %g)\n"
            "  -h, --help           this text\n"
            "\n"
            "exit status: 0 ok, 1 the run failed, 2 usage error\n",
            GEN_DEFAULT_SEED, GEN_DEFAULT_EVENTS, GEN_DEFAULT_DUP_RATE, GEN_DEFAULT_LATE_RATE,
            GEN_DEFAULT_MALFORMED_RATE);
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-')
        return -1;
    *out = v;
    return 0;
}

static int parse_rate(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

static int parse_day(const char *s, int32_t *day)
{
    return jc_day_parse(s, day, NULL) == JC_OK ? 0 : -1;
}

typedef struct args {
    gen_config_t cfg;
    const char *from, *to, *month;
} args_t;

static int bad_value(const char *opt, const char *value)
{
    fprintf(stderr, "jiceng-gen: bad value for --%s: '%s'\n", opt, value);
    return -1;
}

static int take_option(args_t *a, int ch, const char *value)
{
    gen_config_t *c = &a->cfg;
    switch (ch) {
    case OPT_SEED: return parse_u64(value, &c->seed) ? bad_value("seed", value) : 0;
    case OPT_EVENTS: return parse_u64(value, &c->events) ? bad_value("events", value) : 0;
    case OPT_DUP: return parse_rate(value, &c->dup_rate) ? bad_value("dup-rate", value) : 0;
    case OPT_LATE: return parse_rate(value, &c->late_rate) ? bad_value("late-rate", value) : 0;
    case OPT_MALFORMED:
        return parse_rate(value, &c->malformed_rate) ? bad_value("malformed-rate", value) : 0;
    case OPT_FROM: a->from = value; return 0;
    case OPT_TO: a->to = value; return 0;
    case OPT_MONTH: a->month = value; return 0;
    case OPT_OUT: c->out_dir = value; return 0;
    default: return -1;
    }
}

/* The period from --from/--to or --month (defaults already in a->cfg). */
static int resolve_period(args_t *a)
{
    jc_error_t err;
    if (a->month != NULL && (a->from != NULL || a->to != NULL)) {
        fprintf(stderr, "jiceng-gen: --month and --from/--to exclude each other\n");
        return -1;
    }
    if (a->month != NULL && gen_month_days(a->month, &a->cfg.from_day, &a->cfg.to_day, &err)) {
        fprintf(stderr, "jiceng-gen: --month: %s\n", err.message);
        return -1;
    }
    if ((a->from == NULL) != (a->to == NULL)) {
        fprintf(stderr, "jiceng-gen: --from and --to go together\n");
        return -1;
    }
    if (a->from != NULL && parse_day(a->from, &a->cfg.from_day))
        return bad_value("from", a->from);
    if (a->to != NULL && parse_day(a->to, &a->cfg.to_day))
        return bad_value("to", a->to);
    return 0;
}

static int parse_args(int argc, char **argv, args_t *a)
{
    static const struct option longopts[] = {
        {"seed", required_argument, NULL, OPT_SEED},
        {"from", required_argument, NULL, OPT_FROM},
        {"to", required_argument, NULL, OPT_TO},
        {"month", required_argument, NULL, OPT_MONTH},
        {"events", required_argument, NULL, OPT_EVENTS},
        {"out", required_argument, NULL, OPT_OUT},
        {"dup-rate", required_argument, NULL, OPT_DUP},
        {"late-rate", required_argument, NULL, OPT_LATE},
        {"malformed-rate", required_argument, NULL, OPT_MALFORMED},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (ch == 'h') {
            usage(stdout);
            exit(0);
        }
        if (take_option(a, ch, optarg) != 0)
            return -1;
    }
    if (optind != argc) {
        fprintf(stderr, "jiceng-gen: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    return resolve_period(a);
}

int main(int argc, char **argv)
{
    int64_t now = jc_now_ms();
    args_t a = {0};
    jc_error_t err;
    if (gen_config_defaults(&a.cfg, now, &err) != JC_OK) {
        fprintf(stderr, "jiceng-gen: %s\n", err.message);
        return 1;
    }
    if (parse_args(argc, argv, &a) != 0) {
        usage(stderr);
        return 2;
    }
    a.cfg.progress = isatty(STDERR_FILENO);
    if (gen_config_check(&a.cfg, now, &err) != JC_OK) {
        fprintf(stderr, "jiceng-gen: %s\n", err.message);
        return 2;
    }
    if (gen_run(&a.cfg, now, &err) != JC_OK) {
        fprintf(stderr, "jiceng-gen: %s\n", err.message);
        return 1;
    }
    return 0;
}
