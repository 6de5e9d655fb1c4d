/*
 * test_generation.c: generations (issue 13, item 4) without services.
 *
 *  - a generation's tables are derived from the aggregate description: the create-table
 *    statement of a small sums and a small distinct description, as exact text (key columns,
 *    sums bigint not null default 0, the id and events, the primary key), and the statement
 *    that adds the described columns a generation lacks;
 *  - for every real aggregate, the create statement names every described column;
 *  - the views over a generation's schema read that schema's table;
 *  - the aggregator's conninfo: a URI or a keyword conninfo comes back as keywords with
 *    search_path set to the generation's schema, options already given kept before it, quotes
 *    and backslashes escaped, and a conninfo that does not parse is refused.
 */
#include "testenv.h"

#include <stdlib.h>
#include <string.h>

#include "../../lib/aggregate/aggsql.h"
#include "jiceng/generation.h"

static const jc_agg_column_t small_columns[] = {
    {.name = "a", .op = JC_AGG_ONE, .zh = "z", .en = "e"},
    {.name = "b", .op = JC_AGG_VALUE, .field = "people_met", .zh = "z", .en = "e"},
};
static const jc_aggregate_t small_sums = {.table = "t_daily", .stem = "t", .type = JC_VISIT, .kind = JC_AGG_SUMS,
                                          .ndims = 1, .dims = {"cadre_level"}, .columns = small_columns,
                                          .ncolumns = 2, .key = "t", .zh = "z", .en = "e"};
static const jc_aggregate_t small_distinct = {.table = "t_ids", .stem = "t_ids", .type = JC_VISIT,
                                              .kind = JC_AGG_DISTINCT, .ndims = 1, .dims = {"cadre_level"},
                                              .id = "cadre_id", .key = "ids", .zh = "z", .en = "e"};

static void sql_is(jc_status_t st, const jc_buf_t *sql, const char *want)
{
    assert_int_equal(st, JC_OK);
    assert_string_equal((const char *)sql->data, want);
}

static void tables_from_the_description(void **state)
{
    (void)state;
    jc_buf_t sql = {0};
    sql_is(jc_agg_table_sql(&small_sums, "jiceng_gen_2", &sql), &sql,
           "create table jiceng_gen_2.t_daily (county_code integer not null, day date not null, "
           "cadre_level text not null, a bigint not null default 0, b bigint not null default 0, "
           "primary key (county_code, day, cadre_level));\n");
    sql_is(jc_agg_table_sql(&small_distinct, "jiceng_gen_2", &sql), &sql,
           "create table jiceng_gen_2.t_ids (county_code integer not null, day date not null, "
           "cadre_level text not null, cadre_id text not null, events bigint not null default 0, "
           "primary key (county_code, day, cadre_level, cadre_id));\n");
    sql_is(jc_agg_add_columns_sql(&small_sums, "jiceng_gen_3", &sql), &sql,
           "alter table jiceng_gen_3.t_daily add column if not exists a bigint not null default 0, "
           "add column if not exists b bigint not null default 0;\n");
    sql_is(jc_agg_add_columns_sql(&small_distinct, "jiceng_gen_3", &sql), &sql,
           "alter table jiceng_gen_3.t_ids add column if not exists events bigint not null default 0;\n");
    jc_buf_free(&sql);
}

static void every_described_column(void **state)
{
    (void)state;
    size_t n;
    const jc_aggregate_t *all = jc_aggregates(&n);
    jc_buf_t sql = {0};
    char want[128];
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(jc_agg_table_sql(&all[i], "g", &sql), JC_OK);
        for (int c = 0; c < all[i].ncolumns; c++) {
            snprintf(want, sizeof want, " %s bigint not null default 0", all[i].columns[c].name);
            assert_non_null(strstr((const char *)sql.data, want));
        }
        for (int d = 0; d < all[i].ndims; d++) {
            snprintf(want, sizeof want, " %s text not null", all[i].dims[d]);
            assert_non_null(strstr((const char *)sql.data, want));
        }
    }
    jc_buf_free(&sql);
}

static void views_over_a_generation(void **state)
{
    (void)state;
    jc_buf_t sql = {0};
    assert_int_equal(jc_agg_create_views_sql_in(&small_distinct, "jiceng_gen_4", &sql), JC_OK);
    assert_non_null(strstr((const char *)sql.data, " from jiceng_gen_4.t_ids a join jiceng.report_counties r"));
    assert_int_equal(jc_agg_create_views_sql_in(&small_sums, "jiceng_gen_4", &sql), JC_OK);
    assert_non_null(strstr((const char *)sql.data, " from jiceng_gen_4.t_daily a join jiceng.report_counties r"));
    assert_int_equal(jc_agg_create_views_sql(&small_sums, &sql), JC_OK);
    assert_non_null(strstr((const char *)sql.data, " from jiceng.t_daily a join jiceng.report_counties r"));
    jc_buf_free(&sql);
}

static void schema_names(void **state)
{
    (void)state;
    char s[JC_GENERATION_SCHEMA_MAX];
    jc_generation_schema(1, s, sizeof s);
    assert_string_equal(s, "jiceng");
    jc_generation_schema(0, s, sizeof s);
    assert_string_equal(s, "jiceng");
    jc_generation_schema(12, s, sizeof s);
    assert_string_equal(s, "jiceng_gen_12");
}

static void conninfo_is(const char *in, int n, const char *want)
{
    char *out = NULL;
    jc_error_t err;
    assert_int_equal(jc_generation_conninfo(in, n, &out, &err), JC_OK);
    assert_string_equal(out, want);
    free(out);
}

static void conninfo_with_search_path(void **state)
{
    (void)state;
    unsetenv("PGOPTIONS");
    conninfo_is("postgresql://agg@127.0.0.1:5432/jiceng?sslmode=verify-full", 2,
                "user='agg' dbname='jiceng' host='127.0.0.1' port='5432' sslmode='verify-full' "
                "options='-c search_path=jiceng_gen_2'");
    conninfo_is("host=h password='it\\'s \\\\x' options='-c work_mem=64MB'", 1,
                "password='it\\'s \\\\x' host='h' options='-c work_mem=64MB -c search_path=jiceng'");
    conninfo_is("", 3, "options='-c search_path=jiceng_gen_3'");
    conninfo_is(NULL, 1, "options='-c search_path=jiceng'");
    setenv("PGOPTIONS", "-c statement_timeout=5s", 1);
    conninfo_is("", 1, "options='-c statement_timeout=5s -c search_path=jiceng'");
    unsetenv("PGOPTIONS");
    char *out = (char *)"unchanged";
    jc_error_t err;
    assert_int_equal(jc_generation_conninfo("host='unterminated", 2, &out, &err), JC_ERR_INVALID_ARG);
    assert_null(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tables_from_the_description),
        cmocka_unit_test(every_described_column),
        cmocka_unit_test(views_over_a_generation),
        cmocka_unit_test(schema_names),
        cmocka_unit_test(conninfo_with_search_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
