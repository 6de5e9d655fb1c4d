/*
 * progress.c: a progress line on a terminal (cli.h). The line is rewritten in place with a
 * carriage return and padded so that a shorter line covers a longer one; it is shown only when
 * stderr is a terminal, so logs and pipes never receive it. Rates come from the library's
 * monotonic clock.
 */
#include "cli.h"

#include <stdarg.h>
#include <unistd.h>

#include "jiceng/jtime.h"

void jc_progress_init(jc_progress_t *p, const char *name)
{
    *p = (jc_progress_t){.name = name, .out = isatty(STDERR_FILENO) ? stderr : NULL};
    p->started_ms = p->last_ms = jc_mono_ms();
}

bool jc_progress_enabled(const jc_progress_t *p)
{
    return p->out != NULL;
}

static double per_second(uint64_t count, int64_t ms)
{
    return ms > 0 ? (double)count * 1000.0 / (double)ms : 0.0;
}

double jc_progress_rate(jc_progress_t *p, uint64_t count)
{
    int64_t now = jc_mono_ms();
    double rate = per_second(count - p->last_count, now - p->last_ms);
    p->last_ms = now;
    p->last_count = count;
    return rate;
}

double jc_progress_average(const jc_progress_t *p, uint64_t count)
{
    return per_second(count, jc_mono_ms() - p->started_ms);
}

void jc_progress_show(jc_progress_t *p, const char *fmt, ...)
{
    if (p->out == NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(p->out, "\r%s: ", p->name);
    vfprintf(p->out, fmt, ap);
    fputs("   ", p->out);
    va_end(ap);
    fflush(p->out);
    p->open = true;
}

void jc_progress_end(jc_progress_t *p)
{
    if (p->out == NULL || !p->open)
        return;
    fputc('\n', p->out);
    fflush(p->out);
    p->open = false;
}
