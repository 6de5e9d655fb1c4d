-- 003_report_role.sql: the read-only role jiceng_report, which may read the report views of
-- 002 and nothing else.
--
-- Roles belong to the cluster, not the database, so the role may already exist (made by an
-- earlier migration of another database, or by deploy/local/stack, which gives it LOGIN and a
-- password: logging in is infrastructure, not schema). It is created NOLOGIN only if missing;
-- two databases migrating at once may race to create it, so losing that race is not an error.
-- It gets usage on schema jiceng and select on the report views, no more: the views run with
-- their owner's rights, so the base tables need no grant and stay unreadable to it.

do $$
begin
    if not exists (select from pg_roles where rolname = 'jiceng_report') then
        create role jiceng_report nologin;
    end if;
exception
    when duplicate_object or unique_violation then
        null; -- created concurrently by another database's migration
end
$$;

grant usage on schema jiceng to jiceng_report;

grant select on
    jiceng.report_counties,
    jiceng.report_visits_daily,
    jiceng.report_visits_prefecture_daily,
    jiceng.report_visits_province_daily,
    jiceng.report_visit_cadres,
    jiceng.report_petitions_daily,
    jiceng.report_petitions_prefecture_daily,
    jiceng.report_petitions_province_daily,
    jiceng.report_disaster_responses_daily,
    jiceng.report_disaster_responses_prefecture_daily,
    jiceng.report_disaster_responses_province_daily,
    jiceng.report_disaster_incidents,
    jiceng.report_trainings_daily,
    jiceng.report_trainings_prefecture_daily,
    jiceng.report_trainings_province_daily,
    jiceng.report_training_trainees,
    jiceng.report_freshness
to jiceng_report;
