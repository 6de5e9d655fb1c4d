-- 007_status.sql: what `jiceng-aggregate status` shows per group, topic and partition
-- (issue 12, item 4), computed where the figures are, in the database's own clock.
--
-- jiceng.report_consumer_lag (006) already has the next offset, the end offset with when it
-- was observed and its age, the lag, the newest applied event (consumer_progress.newest_event_at:
-- the greatest occurred_at any flush of the partition applied, which the offset compare-and-set
-- of every flush records) and updated_at, the time of the group's last commit of the partition
-- (its flush's transaction). Two ages are added at the end of the view (CREATE OR REPLACE VIEW
-- may only append columns; report_freshness, built on it, is unchanged):
--   commit_age_ms        now() - updated_at: how long the group has not committed the
--                        partition; null if it never has (a partition only a refreshed end
--                        offset knows of). A partition with lag whose commit age keeps growing
--                        is stalled: `status --stale SECONDS` exits 1 for it.
--   newest_event_age_ms  now() - newest_event_at; null if no event was applied.
-- now() is the query's transaction start, as for lag_age_ms, so the ages of one query agree.
--
-- Privileges: the report role reads the view (granted again here; CREATE OR REPLACE keeps the
-- grants 006 gave), so an operator or a monitoring check can run `status` as jiceng_report.

create or replace view jiceng.report_consumer_lag as
select group_id, topic, partition,
       p.next_offset,                                           -- null: never consumed
       greatest(e.end_offset, p.high_watermark)                 as end_offset,
       greatest(greatest(e.end_offset, p.high_watermark)
                - coalesce(p.next_offset, e.start_offset, 0), 0)::bigint as lag,
       coalesce(e.observed_at, p.updated_at)                    as lag_observed_at,
       round(extract(epoch from now() - coalesce(e.observed_at, p.updated_at)) * 1000)::bigint
                                                                as lag_age_ms,
       p.newest_event_at,
       p.updated_at,
       round(extract(epoch from now() - p.updated_at) * 1000)::bigint      as commit_age_ms,
       round(extract(epoch from now() - p.newest_event_at) * 1000)::bigint as newest_event_age_ms
from jiceng.consumer_progress p
full join jiceng.end_offsets e using (group_id, topic, partition);

comment on view jiceng.report_consumer_lag is
    'Per consumer group, topic and partition: next offset (null: not consumed yet), end offset, '
    'lag = end - next (at least 0), when the end offset was observed and its age in ms, the '
    'newest applied event, the last commit (updated_at) and its age in ms (null: never), the '
    'newest event''s age in ms.';

grant select on jiceng.report_consumer_lag to jiceng_report;
