/*
 * jiceng-gen: write a deterministic, seeded synthetic workload of grassroots-work events
 * (events.ndjson), its ground truth (expected/, CSV) and a manifest into a directory.
 *
 * A thin program: options come from the shared configuration mechanism (cli.h: defaults,
 * config file, environment, flags); it turns them into a gen_config_t (gen.h) and calls
 * gen_run. The model, the ground truth and the malformed records live in the jc_gen library
 * beside it, and docs/generator.md describes them. Progress goes to stderr only when stderr is
 * a terminal. Exit status: 0 written, 1 the run failed (I/O, memory), 2 usage (including a
 * period that has not ended yet).
 */
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include "cli.h"
#include "gen.h"
#include "jiceng/jtime.h"

#define STR_(x) #x
#define STR(x) STR_(x)

static const jc_option_t options[] = {
    {"gen.out", "out", NULL, NULL, "DIR", "directory to write (created if missing)"},
    {"gen.seed", "seed", NULL, STR(GEN_DEFAULT_SEED), "S", "PRNG seed, 0..2^63-1"},
    {"gen.from", "from", NULL, NULL, "YYYY-MM-DD",
     "first day of the period, with --to (default: the last full month)"},
    {"gen.to", "to", NULL, NULL, "YYYY-MM-DD",
     "last day of the period, inclusive; it must have ended"},
    {"gen.month", "month", NULL, NULL, "YYYY-MM", "the period is that calendar month"},
    {"gen.events", "events", NULL, STR(GEN_DEFAULT_EVENTS), "N",
     "lines to write, all kinds together"},
    {"gen.dup.rate", "dup-rate", NULL, STR(GEN_DEFAULT_DUP_RATE), "R",
     "share of exact re-sends of earlier lines"},
    {"gen.late.rate", "late-rate", NULL, STR(GEN_DEFAULT_LATE_RATE), "R",
     "share of events from 20-90 days before the period"},
    {"gen.malformed.rate", "malformed-rate", NULL, STR(GEN_DEFAULT_MALFORMED_RATE), "R",
     "share of malformed records"},
    {"gen.correction.rate", "correction-rate", NULL, STR(GEN_DEFAULT_CORRECTION_RATE), "R",
     "share of corrections (next revision of an earlier event)"},
    {"gen.withdrawal.rate", "withdrawal-rate", NULL, STR(GEN_DEFAULT_WITHDRAWAL_RATE), "R",
     "share of withdrawals of earlier events"},
    {"gen.county.move.rate", "county-move-rate", NULL, STR(GEN_DEFAULT_COUNTY_MOVE_RATE), "R",
     "share of corrections to another county (county_changed rejects)"},
};

static const jc_program_t program = {
    .name = "jiceng-gen",
    .synopsis = "--out DIR [--seed S] [--from YYYY-MM-DD --to YYYY-MM-DD | --month YYYY-MM]\n"
                "                  [--events N] [--dup-rate R] [--late-rate R]\n"
                "                  [--malformed-rate R] [--correction-rate R]\n"
                "                  [--withdrawal-rate R] [--county-move-rate R]",
    .about = "Writes a synthetic workload of grassroots-work events for Guizhou's 88 counties:\n"
             "DIR/events.ndjson (one record a line), DIR/expected/*.csv (the ground truth) and\n"
             "DIR/manifest.json. The same arguments always give byte-identical files.\n"
             "Days are local days in Asia/Shanghai.",
    .epilogue = "exit status: 0 ok, 1 the run failed, 2 usage error",
    .options = options,
    .noptions = sizeof options / sizeof options[0],
    .no_kafka = true,
};

/* The period from --from/--to or --month (the default, the last full month, already in c). */
static jc_status_t read_period(const jc_config_t *cfg, gen_config_t *c, jc_error_t *err)
{
    const char *from = jc_config_get(cfg, "gen.from"), *to = jc_config_get(cfg, "gen.to");
    const char *month = jc_config_get(cfg, "gen.month");
    if (month != NULL && (from != NULL || to != NULL))
        return jc_error_set(err, JC_ERR_INVALID_ARG, "--month and --from/--to exclude each other");
    if ((from == NULL) != (to == NULL))
        return jc_error_set(err, JC_ERR_INVALID_ARG, "--from and --to go together");
    jc_error_t bad;
    if (month != NULL && gen_month_days(month, &c->from_day, &c->to_day, &bad) != JC_OK)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "--month: %s", bad.message);
    if (from != NULL && jc_day_parse(from, &c->from_day, NULL) != JC_OK)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "--from: '%s' is not YYYY-MM-DD", from);
    if (to != NULL && jc_day_parse(to, &c->to_day, NULL) != JC_OK)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "--to: '%s' is not YYYY-MM-DD", to);
    return JC_OK;
}

/* Options into c, which holds the defaults (gen_config_defaults). */
static jc_status_t read_options(const jc_config_t *cfg, gen_config_t *c, jc_error_t *err)
{
    int noperands;
    char **operands = jc_config_operands(cfg, &noperands);
    if (noperands != 0)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "unexpected argument '%s'", operands[0]);
    long seed = 0, events = 0;
    jc_status_t st = jc_config_get_long(cfg, "gen.seed", 0, LONG_MAX, &seed, err);
    if (st == JC_OK)
        st = jc_config_get_long(cfg, "gen.events", 1, GEN_MAX_EVENTS, &events, err);
    if (st == JC_OK)
        st = jc_config_get_double(cfg, "gen.dup.rate", 0, GEN_MAX_RATE, &c->dup_rate, err);
    if (st == JC_OK)
        st = jc_config_get_double(cfg, "gen.late.rate", 0, GEN_MAX_RATE, &c->late_rate, err);
    if (st == JC_OK)
        st = jc_config_get_double(cfg, "gen.malformed.rate", 0, GEN_MAX_RATE,
                                  &c->malformed_rate, err);
    const struct {
        const char *key;
        double *rate;
    } revisions[] = {{"gen.correction.rate", &c->correction_rate},
                     {"gen.withdrawal.rate", &c->withdrawal_rate},
                     {"gen.county.move.rate", &c->county_move_rate}};
    for (size_t i = 0; st == JC_OK && i < sizeof revisions / sizeof revisions[0]; i++)
        st = jc_config_get_double(cfg, revisions[i].key, 0, GEN_MAX_RATE, revisions[i].rate, err);
    if (st == JC_OK)
        st = read_period(cfg, c, err);
    c->seed = (uint64_t)seed;
    c->events = (uint64_t)events;
    c->out_dir = jc_config_get(cfg, "gen.out");
    c->progress = isatty(STDERR_FILENO);
    return st;
}

int main(int argc, char **argv)
{
    jc_config_t *cfg = NULL;
    int rc = jc_config_main(&program, argc, argv, &cfg);
    if (rc >= 0)
        return rc;
    int64_t now = jc_now_ms();
    gen_config_t c;
    jc_error_t err;
    if (gen_config_defaults(&c, now, &err) != JC_OK)
        rc = jc_cli_fail(program.name, JC_EXIT_FAILURE, "%s", err.message);
    else if (read_options(cfg, &c, &err) != JC_OK || gen_config_check(&c, now, &err) != JC_OK)
        rc = jc_cli_fail(program.name, JC_EXIT_USAGE, "%s\n%s: see --help", err.message,
                         program.name);
    else if (gen_run(&c, now, &err) != JC_OK)
        rc = jc_cli_fail(program.name, JC_EXIT_FAILURE, "%s", err.message);
    else
        rc = JC_EXIT_OK;
    jc_config_free(cfg);
    return rc;
}
