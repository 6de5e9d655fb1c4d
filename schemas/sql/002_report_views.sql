-- 002_report_views.sql: the report views, what jiceng-report (and the read-only role
-- jiceng_report of 003) reads instead of the aggregate tables.
--
-- Every aggregate is exposed at three levels, each a daily roll-up joined with the reference
-- tables so a reader never needs a base table:
--   jiceng.report_<aggregate>_daily             per county: county and prefecture codes and names
--   jiceng.report_<aggregate>_prefecture_daily  per prefecture: its code and names
--   jiceng.report_<aggregate>_province_daily    the whole province
-- with <aggregate> one of visits, petitions, disaster_responses, trainings, and the day and
-- the aggregate's category columns (cadre_level, channel, hazard, trainee_role and
-- training_base) kept, so any period is a range of days and any breakdown a group by. Sums
-- are bigint.
--
-- Distinct counts cannot be rolled up, so the distinct (county, day, id) rows are exposed as
-- they are, with the prefecture code beside the county code: count(distinct id) over any set
-- of days and counties is exact (report_visit_cadres, report_disaster_incidents,
-- report_training_trainees). report_counties lists the 88 counties with their prefecture, so
-- a report can also name the counties that reported nothing. report_freshness summarises
-- consumer_progress per consumer group: the newest aggregated event and the consumer lag.
--
-- The views run with their owner's rights: granting select on them (003) is all a reader needs.

create view jiceng.report_counties as
select c.code        as county_code,
       c.name_zh     as county_name_zh,
       c.name_pinyin as county_name_pinyin,
       c.kind        as county_kind,
       p.code        as prefecture_code,
       p.name_zh     as prefecture_name_zh,
       p.name_pinyin as prefecture_name_pinyin
from jiceng.counties c
join jiceng.prefectures p on p.code = c.prefecture_code;

-- ---- visits ---------------------------------------------------------------------------------

create view jiceng.report_visits_daily as
select r.county_code, r.county_name_zh, r.county_name_pinyin,
       r.prefecture_code, r.prefecture_name_zh, r.prefecture_name_pinyin,
       v.day, v.cadre_level, v.visits, v.households_visited, v.people_met, v.deeds_done,
       v.problems_solved, v.overnight_stays, v.hours_on_site
from jiceng.visits_daily v
join jiceng.report_counties r on r.county_code = v.county_code;

create view jiceng.report_visits_prefecture_daily as
select prefecture_code, prefecture_name_zh, prefecture_name_pinyin, day, cadre_level,
       sum(visits)::bigint             as visits,
       sum(households_visited)::bigint as households_visited,
       sum(people_met)::bigint         as people_met,
       sum(deeds_done)::bigint         as deeds_done,
       sum(problems_solved)::bigint    as problems_solved,
       sum(overnight_stays)::bigint    as overnight_stays,
       sum(hours_on_site)::bigint      as hours_on_site
from jiceng.report_visits_daily
group by prefecture_code, prefecture_name_zh, prefecture_name_pinyin, day, cadre_level;

create view jiceng.report_visits_province_daily as
select day, cadre_level,
       sum(visits)::bigint             as visits,
       sum(households_visited)::bigint as households_visited,
       sum(people_met)::bigint         as people_met,
       sum(deeds_done)::bigint         as deeds_done,
       sum(problems_solved)::bigint    as problems_solved,
       sum(overnight_stays)::bigint    as overnight_stays,
       sum(hours_on_site)::bigint      as hours_on_site
from jiceng.report_visits_daily
group by day, cadre_level;

create view jiceng.report_visit_cadres as
select r.county_code, r.prefecture_code, c.day, c.cadre_id
from jiceng.visit_cadres c
join jiceng.report_counties r on r.county_code = c.county_code;

-- ---- petitions ------------------------------------------------------------------------------

create view jiceng.report_petitions_daily as
select r.county_code, r.county_name_zh, r.county_name_pinyin,
       r.prefecture_code, r.prefecture_name_zh, r.prefecture_name_pinyin,
       p.day, p.channel, p.received, p.people_received, p.resolved, p.resolution_seconds,
       p.resolved_within_1d, p.resolved_within_7d, p.resolved_within_30d, p.followed_up,
       p.followups_answered, p.satisfied
from jiceng.petitions_daily p
join jiceng.report_counties r on r.county_code = p.county_code;

create view jiceng.report_petitions_prefecture_daily as
select prefecture_code, prefecture_name_zh, prefecture_name_pinyin, day, channel,
       sum(received)::bigint            as received,
       sum(people_received)::bigint     as people_received,
       sum(resolved)::bigint            as resolved,
       sum(resolution_seconds)::bigint  as resolution_seconds,
       sum(resolved_within_1d)::bigint  as resolved_within_1d,
       sum(resolved_within_7d)::bigint  as resolved_within_7d,
       sum(resolved_within_30d)::bigint as resolved_within_30d,
       sum(followed_up)::bigint         as followed_up,
       sum(followups_answered)::bigint  as followups_answered,
       sum(satisfied)::bigint           as satisfied
from jiceng.report_petitions_daily
group by prefecture_code, prefecture_name_zh, prefecture_name_pinyin, day, channel;

create view jiceng.report_petitions_province_daily as
select day, channel,
       sum(received)::bigint            as received,
       sum(people_received)::bigint     as people_received,
       sum(resolved)::bigint            as resolved,
       sum(resolution_seconds)::bigint  as resolution_seconds,
       sum(resolved_within_1d)::bigint  as resolved_within_1d,
       sum(resolved_within_7d)::bigint  as resolved_within_7d,
       sum(resolved_within_30d)::bigint as resolved_within_30d,
       sum(followed_up)::bigint         as followed_up,
       sum(followups_answered)::bigint  as followups_answered,
       sum(satisfied)::bigint           as satisfied
from jiceng.report_petitions_daily
group by day, channel;

-- ---- disaster responses ---------------------------------------------------------------------

create view jiceng.report_disaster_responses_daily as
select r.county_code, r.county_name_zh, r.county_name_pinyin,
       r.prefecture_code, r.prefecture_name_zh, r.prefecture_name_pinyin,
       d.day, d.hazard, d.responses, d.responders, d.party_member_responders,
       d.people_evacuated, d.people_rescued, d.deaths, d.injured, d.households_assisted
from jiceng.disaster_responses_daily d
join jiceng.report_counties r on r.county_code = d.county_code;

create view jiceng.report_disaster_responses_prefecture_daily as
select prefecture_code, prefecture_name_zh, prefecture_name_pinyin, day, hazard,
       sum(responses)::bigint               as responses,
       sum(responders)::bigint              as responders,
       sum(party_member_responders)::bigint as party_member_responders,
       sum(people_evacuated)::bigint        as people_evacuated,
       sum(people_rescued)::bigint          as people_rescued,
       sum(deaths)::bigint                  as deaths,
       sum(injured)::bigint                 as injured,
       sum(households_assisted)::bigint     as households_assisted
from jiceng.report_disaster_responses_daily
group by prefecture_code, prefecture_name_zh, prefecture_name_pinyin, day, hazard;

create view jiceng.report_disaster_responses_province_daily as
select day, hazard,
       sum(responses)::bigint               as responses,
       sum(responders)::bigint              as responders,
       sum(party_member_responders)::bigint as party_member_responders,
       sum(people_evacuated)::bigint        as people_evacuated,
       sum(people_rescued)::bigint          as people_rescued,
       sum(deaths)::bigint                  as deaths,
       sum(injured)::bigint                 as injured,
       sum(households_assisted)::bigint     as households_assisted
from jiceng.report_disaster_responses_daily
group by day, hazard;

create view jiceng.report_disaster_incidents as
select r.county_code, r.prefecture_code, i.day, i.hazard, i.incident_id
from jiceng.disaster_incidents i
join jiceng.report_counties r on r.county_code = i.county_code;

-- ---- trainings ------------------------------------------------------------------------------

create view jiceng.report_trainings_daily as
select r.county_code, r.county_name_zh, r.county_name_pinyin,
       r.prefecture_code, r.prefecture_name_zh, r.prefecture_name_pinyin,
       t.day, t.trainee_role, t.training_base, t.completions, t.hours, t.passed,
       t.from_poor_village
from jiceng.trainings_daily t
join jiceng.report_counties r on r.county_code = t.county_code;

create view jiceng.report_trainings_prefecture_daily as
select prefecture_code, prefecture_name_zh, prefecture_name_pinyin, day, trainee_role,
       training_base,
       sum(completions)::bigint       as completions,
       sum(hours)::bigint             as hours,
       sum(passed)::bigint            as passed,
       sum(from_poor_village)::bigint as from_poor_village
from jiceng.report_trainings_daily
group by prefecture_code, prefecture_name_zh, prefecture_name_pinyin, day, trainee_role,
         training_base;

create view jiceng.report_trainings_province_daily as
select day, trainee_role, training_base,
       sum(completions)::bigint       as completions,
       sum(hours)::bigint             as hours,
       sum(passed)::bigint            as passed,
       sum(from_poor_village)::bigint as from_poor_village
from jiceng.report_trainings_daily
group by day, trainee_role, training_base;

create view jiceng.report_training_trainees as
select r.county_code, r.prefecture_code, t.day, t.trainee_id
from jiceng.training_trainees t
join jiceng.report_counties r on r.county_code = t.county_code;

-- ---- freshness ------------------------------------------------------------------------------

-- Per consumer group: how far the aggregates reach (the newest event time applied) and how far
-- behind the topics they are (messages not yet applied, as of the newest high watermark each
-- partition's consumer saw). A partition never assigned to the group is not counted.
create view jiceng.report_freshness as
select group_id,
       count(distinct topic)::bigint                              as topics,
       count(*)::bigint                                           as partitions,
       max(newest_event_at)                                       as newest_event_at,
       sum(greatest(high_watermark - next_offset, 0))::bigint     as lag,
       max(updated_at)                                            as updated_at
from jiceng.consumer_progress
group by group_id;
