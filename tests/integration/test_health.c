/*
 * test_health.c: round trips through the real local Kafka broker (produce, consume back) and
 * the real PostgreSQL (table created, written, read), and the errors when either is absent.
 */
#include "testenv.h"

#include <stdio.h>
#include <string.h>

#include "jiceng/health.h"
#include "kafkatest.h"

static void kafka_roundtrip_through_real_broker(void **state)
{
    (void)state;
    jc_health_report_t a, b;
    jc_error_t err;
    const char *bootstrap = jc_test_env("JICENG_KAFKA_BOOTSTRAP");
    const char *props[JC_TEST_PROPS_MAX];
    jc_test_props(props, "health", NULL); /* the health principal's TLS identity */
    jc_status_t st = jc_health_kafka(bootstrap, props, 20000, &a, &err);
    if (st != JC_OK)
        fail_msg("kafka round trip: %s", err.message);
    assert_int_equal(a.partition, 0);
    assert_true(a.offset >= 0);
    assert_non_null(strstr(a.server, "broker"));
    /* a second probe lands after the first: the broker really appended it */
    assert_int_equal(jc_health_kafka(bootstrap, props, 20000, &b, &err), JC_OK);
    assert_true(b.offset > a.offset);
}

/* The broker speaks TLS with client certificates only: the probe without the identity fails. */
static void kafka_refuses_a_client_without_certificate(void **state)
{
    (void)state;
    jc_health_report_t r;
    jc_error_t err;
    assert_int_not_equal(jc_health_kafka(jc_test_env("JICENG_KAFKA_BOOTSTRAP"), NULL, 5000, &r, &err),
                         JC_OK);
}

static void kafka_unreachable_fails_with_timeout(void **state)
{
    (void)state;
    jc_health_report_t r;
    jc_error_t err;
    assert_int_equal(jc_health_kafka("127.0.0.1:1", NULL, 1500, &r, &err), JC_ERR_TIMEOUT);
    assert_non_null(strstr(err.message, "127.0.0.1:1"));
    assert_int_equal(r.offset, -1);
}

static void pg_roundtrip_through_real_database(void **state)
{
    (void)state;
    jc_health_report_t r;
    jc_error_t err;
    jc_status_t st = jc_health_pg(jc_test_env("JICENG_PG_CONNINFO"), &r, &err);
    if (st != JC_OK)
        fail_msg("postgres round trip: %s", err.message);
    assert_non_null(strstr(r.server, "PostgreSQL 15"));
}

static void pg_wrong_password_fails(void **state)
{
    (void)state;
    char conninfo[512];
    snprintf(conninfo, sizeof conninfo, "host=127.0.0.1 port=%s dbname=jiceng "
             "user=jiceng_aggregate password=wrong connect_timeout=5",
             jc_test_env("JICENG_PG_PORT"));
    jc_error_t err;
    assert_int_equal(jc_health_pg(conninfo, NULL, &err), JC_ERR_PG);
    assert_non_null(strstr(err.message, "password authentication failed"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kafka_roundtrip_through_real_broker),
        cmocka_unit_test(kafka_refuses_a_client_without_certificate),
        cmocka_unit_test(kafka_unreachable_fails_with_timeout),
        cmocka_unit_test(pg_roundtrip_through_real_database),
        cmocka_unit_test(pg_wrong_password_fails),
    };
    jc_test_env_load();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
