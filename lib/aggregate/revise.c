/*
 * revise.c: the decision table for an event against the version in force of its id (see
 * revise.h). It reads only its arguments, so the aggregator's rules for corrections,
 * withdrawals, re-sends and their rejects are tested without Kafka or PostgreSQL
 * (tests/unit/test_dedup.c).
 */
#include "revise.h"

#include <stdio.h>

static jc_revise_t reject(jc_status_t *status, jc_status_t why)
{
    *status = why;
    return JC_REVISE_REJECT;
}

jc_revise_t jc_revise_decide(const jc_version_t *prior, const char *event_id, int32_t revision,
                             uint32_t content, int32_t county, jc_status_t *status, char *reason,
                             size_t size)
{
    *status = JC_OK;
    if (prior == NULL) {
        if (revision == 0)
            return JC_REVISE_APPLY;
        snprintf(reason, size, "event_id %s revision %d: no version of it has been applied in this "
                 "partition (its original is missing or was rejected); it can be re-driven once the "
                 "original is in", event_id, (int)revision);
        return reject(status, JC_ERR_UNKNOWN_ORIGINAL);
    }
    if (revision < prior->revision) {
        snprintf(reason, size, "event_id %s revision %d is older than the revision in force (%d)",
                 event_id, (int)revision, (int)prior->revision);
        return reject(status, JC_ERR_STALE_REVISION);
    }
    if (revision == prior->revision) {
        if (content == prior->content)
            return JC_REVISE_DUPLICATE;
        snprintf(reason, size, "event_id %s revision %d was already applied with other content; "
                 "the first one stands", event_id, (int)revision);
        return reject(status, JC_ERR_CONFLICTING_DUPLICATE);
    }
    if (!prior->known) {
        snprintf(reason, size, "event_id %s revision %d: the version in force (revision %d) was "
                 "applied before the dedup ledger kept what each event adds (a ledger entry older "
                 "than migration 010), so it cannot be subtracted", event_id, (int)revision,
                 (int)prior->revision);
        return reject(status, JC_ERR_UNKNOWN_ORIGINAL);
    }
    if (county != prior->county) {
        snprintf(reason, size, "event_id %s revision %d is of county %06d, the version in force "
                 "(revision %d) of county %06d: a correction cannot move an event to another county "
                 "(withdraw it and publish a new event)", event_id, (int)revision, (int)county,
                 (int)prior->revision, (int)prior->county);
        return reject(status, JC_ERR_COUNTY_CHANGED);
    }
    return JC_REVISE_REPLACE;
}
