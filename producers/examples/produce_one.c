/*
 * produce_one: how a county system sends one event with libjiceng (jiceng/producer.h).
 *
 * It fills a jc_event_t with a cadre's field visit, sends it and then a correction of it
 * (validation, Avro encoding, signing, key and topic are the library's business) and waits for
 * the delivery reports, which say where the broker stored them. The county system connects
 * with its TLS certificate and signs with its signing key, the files jiceng-access wrote to
 * its directory DIR (ca.crt, tls.crt, tls.key, signing.key). Build against an installed
 * libjiceng with
 *     cc produce_one.c $(pkg-config --cflags --libs jiceng)
 * and run `produce_one kafka1:9093 DIR`. (Built with the project, not run by the tests.)
 */
#include <stdio.h>
#include <string.h>

#include "jiceng/jtime.h"
#include "jiceng/producer.h"

static void on_delivery(void *opaque, jc_status_t status, int32_t partition, int64_t offset,
                        const char *errstr, void *ud)
{
    (void)ud;
    const char *what = opaque;
    if (status == JC_OK)
        printf("%s delivered: partition %d, offset %lld\n", what, (int)partition,
               (long long)offset);
    else
        printf("%s NOT delivered: %s (%s)\n", what, errstr, jc_status_name(status));
}

/* A visit as the county's own system would record it. event_id must be a fresh UUID per
 * event (it is what duplicates are recognised by); a fixed one keeps the example short. */
static void make_visit(jc_event_t *ev)
{
    jc_event_init(ev, JC_VISIT);
    snprintf(ev->event_id, sizeof ev->event_id, "0190f5a2-1c2d-7abc-8def-0123456789ab");
    ev->occurred_at = jc_now_ms();
    ev->county_code = 520111; /* 花溪区 */
    snprintf(ev->source, sizeof ev->source, "花溪区网格系统");
    jc_visit_t *v = &ev->u.visit;
    snprintf(v->cadre_id, sizeof v->cadre_id, "C-001");
    v->cadre_level = JC_CADRE_TOWNSHIP;
    snprintf(v->township, sizeof v->township, "青岩镇");
    snprintf(v->village, sizeof v->village, "龙井村");
    v->households_visited = 12;
    v->people_met = 30;
    v->deeds_done = 2;
    v->problems_solved = 1;
    v->stayed_overnight = true;
    v->hours_on_site = 6;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: produce_one BOOTSTRAP DIR (DIR: the county system's files)\n");
        return 2;
    }
    char ca[1024], cert[1024], key[1024], signing[1024];
    snprintf(ca, sizeof ca, "%s/ca.crt", argv[2]);
    snprintf(cert, sizeof cert, "%s/tls.crt", argv[2]);
    snprintf(key, sizeof key, "%s/tls.key", argv[2]);
    snprintf(signing, sizeof signing, "%s/signing.key", argv[2]);
    const char *props[] = {"bootstrap.servers", argv[1], "security.protocol", "ssl",
                           "ssl.ca.location", ca, "ssl.certificate.location", cert,
                           "ssl.key.location", key, "jiceng.signing.keys", signing, NULL};
    jc_error_t err;
    jc_producer_t *p = jc_producer_new(props, on_delivery, NULL, &err);
    if (p == NULL) {
        fprintf(stderr, "produce_one: %s\n", err.message);
        return 2;
    }
    jc_event_t ev;
    make_visit(&ev);
    jc_status_t st = jc_producer_send(p, &ev, "visit C-001", &err);
    /* The county finds the cadre met 3 people, not 30. A correction is the whole event again,
     * same event_id and county, the next revision; it replaces the version in force (a
     * withdrawal is the same with ev.withdrawn = true). Same key, same partition, after it. */
    if (st == JC_OK) {
        ev.revision = 1;
        ev.u.visit.people_met = 3;
        st = jc_producer_send(p, &ev, "visit C-001 revision 1", &err);
    }
    if (st != JC_OK)
        fprintf(stderr, "produce_one: rejected: %s (%s)\n", err.message, jc_status_name(st));
    else if (jc_producer_flush(p, 30000, &err) != JC_OK)
        fprintf(stderr, "produce_one: %s\n", err.message);
    jc_producer_free(p);
    return st == JC_OK ? 0 : 1;
}
