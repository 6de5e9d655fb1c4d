/*
 * revise.h: what the aggregator does with an event whose id its partition may have applied
 * (issue 13, corrections and withdrawals), as one pure function of the version in force (the
 * ledger's record, ledger.h) and the event's revision, content hash and county.
 */
#ifndef JC_REVISE_H
#define JC_REVISE_H

#include <stddef.h>
#include <stdint.h>

#include "ledger.h"

typedef enum jc_revise {
    JC_REVISE_APPLY,     /* an id not seen, revision 0: add its contribution */
    JC_REVISE_DUPLICATE, /* the version in force again (same revision, same content): skip */
    JC_REVISE_REPLACE,   /* a higher revision: subtract the version in force, add this one */
    JC_REVISE_REJECT,    /* *status and reason say why */
} jc_revise_t;

/* The decision on an event (event_id, revision, content hash, current county) given the
 * version in force of its id (NULL if the partition has not applied it):
 *   not seen, revision 0                    apply
 *   not seen, revision > 0                  reject JC_ERR_UNKNOWN_ORIGINAL
 *   seen, revision < the one in force       reject JC_ERR_STALE_REVISION
 *   seen, revision equal                    duplicate if the content is the same, else reject
 *                                           JC_ERR_CONFLICTING_DUPLICATE
 *   seen, revision higher                   reject JC_ERR_UNKNOWN_ORIGINAL if the version in force
 *                                           has no known contribution (a format 1 ledger entry),
 *                                           JC_ERR_COUNTY_CHANGED if its county is not the
 *                                           event's, else replace
 * A reject's reason (naming the event id and the revisions) goes into reason[size]. */
jc_revise_t jc_revise_decide(const jc_version_t *prior, const char *event_id, int32_t revision,
                             uint32_t content, int32_t county, jc_status_t *status, char *reason,
                             size_t size);

#endif
