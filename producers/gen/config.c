/*
 * config.c: jiceng-gen's configuration: defaults, months and the checks a run must pass
 * (see gen.h).
 *
 * Dates are handled with the library's jiceng/jtime.h (only the ground truth keeps its own
 * day arithmetic). The one rule that matters most: the period must be over. Its end is the
 * Shanghai midnight after its last day, and every valid event occurs before that, so when the
 * end is not after now, validation's future-time check can never reject a generated event.
 * Likewise at the other end: the earliest valid event (a late one) happens GEN_LATE_MAX_DAYS
 * before the period, so a period starting that long after the contract's earliest day
 * (JC_EARLIEST_EVENT_MS) can never have a generated event rejected as too early.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gen.h"
#include "jiceng/jtime.h"
#include "jiceng/validate.h"

/* The first day of the month of day. */
static jc_status_t month_start(int32_t day, int32_t *first, jc_error_t *err)
{
    char text[16];
    jc_day_format(day, text, sizeof text);
    memcpy(text + 8, "01", 3);
    return jc_day_parse(text, first, err);
}

jc_status_t gen_config_defaults(gen_config_t *cfg, int64_t now_ms, jc_error_t *err)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->seed = GEN_DEFAULT_SEED;
    cfg->events = GEN_DEFAULT_EVENTS;
    cfg->dup_rate = GEN_DEFAULT_DUP_RATE;
    cfg->late_rate = GEN_DEFAULT_LATE_RATE;
    cfg->malformed_rate = GEN_DEFAULT_MALFORMED_RATE;
    cfg->correction_rate = GEN_DEFAULT_CORRECTION_RATE;
    cfg->withdrawal_rate = GEN_DEFAULT_WITHDRAWAL_RATE;
    cfg->county_move_rate = GEN_DEFAULT_COUNTY_MOVE_RATE;
    int32_t this_month;
    jc_status_t st = month_start(jc_local_day(now_ms), &this_month, err);
    if (st != JC_OK)
        return st;
    cfg->to_day = this_month - 1;
    return month_start(cfg->to_day, &cfg->from_day, err);
}

jc_status_t gen_month_days(const char *month, int32_t *from_day, int32_t *to_day,
                           jc_error_t *err)
{
    char text[40];
    int year, mon;
    char extra;
    if (strlen(month) != 7 || month[4] != '-' ||
        sscanf(month, "%4d-%2d%c", &year, &mon, &extra) != 2 || mon < 1 || mon > 12)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "month '%s' is not YYYY-MM", month);
    snprintf(text, sizeof text, "%04d-%02d-01", year, mon);
    jc_status_t st = jc_day_parse(text, from_day, err);
    if (st != JC_OK)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "month '%s' is not YYYY-MM", month);
    snprintf(text, sizeof text, "%04d-%02d-01", mon == 12 ? year + 1 : year,
             mon == 12 ? 1 : mon + 1);
    int32_t next;
    if (jc_day_parse(text, &next, err) != JC_OK)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "month '%s' is out of range", month);
    *to_day = next - 1;
    return JC_OK;
}

static int rate_ok(double r)
{
    return !isnan(r) && r >= 0 && r <= GEN_MAX_RATE;
}

static jc_status_t check_period(const gen_config_t *cfg, int64_t now_ms, jc_error_t *err)
{
    int32_t earliest = jc_local_day(JC_EARLIEST_EVENT_MS), first = earliest + GEN_LATE_MAX_DAYS;
    char from[16], to[16], earliest_text[16], first_text[16], now_text[40];
    jc_day_format(earliest, earliest_text, sizeof earliest_text);
    jc_day_format(first, first_text, sizeof first_text);
    jc_day_format(cfg->from_day, from, sizeof from);
    jc_day_format(cfg->to_day, to, sizeof to);
    if (cfg->from_day > cfg->to_day)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "the period %s..%s ends before it starts",
                            from, to);
    if (cfg->from_day < first || (int64_t)cfg->to_day - cfg->from_day + 1 > GEN_MAX_DAYS)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "the period %s..%s must start on or after "
                            "%s (late events happen up to %d days before it, and no event may "
                            "be earlier than %s) and last at most %d days", from, to, first_text,
                            GEN_LATE_MAX_DAYS, earliest_text, GEN_MAX_DAYS);
    int64_t end_ms = ((int64_t)cfg->to_day + 1) * JC_DAY_MS - JC_SHANGHAI_OFFSET_MS;
    jc_time_format(now_ms, now_text, sizeof now_text);
    if (end_ms > now_ms)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "the period %s..%s has not ended yet (now "
                            "is %s): its events would be in the future; choose days up to "
                            "yesterday", from, to, now_text);
    return JC_OK;
}

jc_status_t gen_config_check(const gen_config_t *cfg, int64_t now_ms, jc_error_t *err)
{
    if (cfg->out_dir == NULL || cfg->out_dir[0] == '\0')
        return jc_error_set(err, JC_ERR_INVALID_ARG, "no output directory (--out DIR)");
    if (cfg->events < 1 || cfg->events > GEN_MAX_EVENTS)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "events must be 1..%d, not %llu",
                            GEN_MAX_EVENTS, (unsigned long long)cfg->events);
    if (cfg->seed > (uint64_t)GEN_MAX_SEED)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "seed must be 0..%lld",
                            (long long)GEN_MAX_SEED);
    if (!rate_ok(cfg->dup_rate) || !rate_ok(cfg->late_rate) || !rate_ok(cfg->malformed_rate) ||
        !rate_ok(cfg->correction_rate) || !rate_ok(cfg->withdrawal_rate) ||
        !rate_ok(cfg->county_move_rate))
        return jc_error_set(err, JC_ERR_INVALID_ARG, "rates must be between 0 and %g",
                            GEN_MAX_RATE);
    double share = cfg->dup_rate + cfg->malformed_rate + cfg->correction_rate +
                   cfg->withdrawal_rate + cfg->county_move_rate;
    if (share > GEN_MAX_LINE_SHARE)
        return jc_error_set(err, JC_ERR_INVALID_ARG, "re-sends, malformed records, corrections, "
                            "withdrawals and county moves add up to %g of the lines, more than %g",
                            share, GEN_MAX_LINE_SHARE);
    return check_period(cfg, now_ms, err);
}
