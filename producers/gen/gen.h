/*
 * gen.h: jiceng-gen's engine, the seeded synthetic workload generator (docs/generator.md).
 *
 * gen_run makes one workload: DIR/events.ndjson (valid events of all four types in arrival
 * order, with exact re-sends, late events, malformed records and, at their rates, corrections,
 * withdrawals and county-moving corrections mixed in), DIR/expected/ (the ground truth as CSV,
 * computed from the model, not from the lines) and DIR/manifest.json.
 * Everything is a function of the configuration: the same configuration gives byte-identical
 * files. The program (jiceng-gen.c) only turns arguments into a gen_config_t.
 */
#ifndef GEN_GEN_H
#define GEN_GEN_H

#include <stdint.h>

#include "jiceng/common.h"

#define GEN_DEFAULT_SEED 1
#define GEN_DEFAULT_EVENTS 100000
#define GEN_MAX_EVENTS 20000000     /* about 100 bytes of memory per event */
#define GEN_MAX_DAYS 3660           /* ten years */
#define GEN_MAX_SEED INT64_MAX      /* the manifest writes the seed as a JSON integer */
#define GEN_DEFAULT_DUP_RATE 0.01
#define GEN_DEFAULT_LATE_RATE 0.005
#define GEN_DEFAULT_MALFORMED_RATE 0.001
#define GEN_DEFAULT_CORRECTION_RATE 0.0  /* corrections, withdrawals and county moves: off */
#define GEN_DEFAULT_WITHDRAWAL_RATE 0.0
#define GEN_DEFAULT_COUNTY_MOVE_RATE 0.0
#define GEN_MAX_RATE 0.3            /* each of the rates */
#define GEN_MAX_LINE_SHARE 0.9      /* re-sends, malformed records and revisions together */
#define GEN_LATE_MIN_DAYS 20        /* a late event happens this many days before the period */
#define GEN_LATE_MAX_DAYS 90        /* ... up to this many: the period starts at least this many
                                       days after the contract's earliest time */

typedef struct gen_config {
    uint64_t seed;
    int32_t from_day, to_day; /* the period: local (Asia/Shanghai) days, inclusive */
    uint64_t events;          /* lines in events.ndjson, all kinds together */
    double dup_rate, late_rate, malformed_rate; /* shares of the lines */
    double correction_rate;   /* lines that correct an earlier event (revision + 1) */
    double withdrawal_rate;   /* lines that withdraw an earlier event */
    double county_move_rate;  /* corrections that move an event to another county: rejected */
    const char *out_dir;
    int progress;             /* report progress on stderr */
} gen_config_t;

/* Defaults: seed 1, the last full calendar month before now_ms, 100000 events, the default
 * rates, no output directory. */
jc_status_t gen_config_defaults(gen_config_t *cfg, int64_t now_ms, jc_error_t *err);

/* The first and last day of the month "YYYY-MM". JC_ERR_INVALID_ARG if it is not one. */
jc_status_t gen_month_days(const char *month, int32_t *from_day, int32_t *to_day,
                           jc_error_t *err);

/* JC_ERR_INVALID_ARG, naming the problem, unless cfg can be run at now_ms: the period is at
 * most GEN_MAX_DAYS long, starts GEN_LATE_MAX_DAYS or more after the contract's earliest day
 * (JC_EARLIEST_EVENT_MS, so that no valid event, late ones included, is older) and ends
 * (midnight after to_day, Shanghai) no later than now_ms; events and rates are within their
 * limits (each at most GEN_MAX_RATE; re-sends, malformed records, corrections, withdrawals and
 * county moves together at most GEN_MAX_LINE_SHARE of the lines); out_dir is set. */
jc_status_t gen_config_check(const gen_config_t *cfg, int64_t now_ms, jc_error_t *err);

/* Check cfg (as gen_config_check) and write the workload. */
jc_status_t gen_run(const gen_config_t *cfg, int64_t now_ms, jc_error_t *err);

#endif
