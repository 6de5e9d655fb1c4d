-- 006_end_offsets.sql: lag that does not lie.
--
-- Before this migration the lag was high_watermark - next_offset from consumer_progress, where
-- the high watermark is noted only when a consumer flushes a batch: a stalled or dead consumer
-- showed lag 0 however much waited. Now every running consumer refreshes, on a timer and
-- whether it applies anything or not, the start and end offsets of ALL partitions of its
-- topics (not only the ones assigned to it) into jiceng.end_offsets, with the time it observed
-- them (lib/aggregate/endoffsets.c). The rows are per consumer group: a group's partitions are
-- the ones its consumers' topics have (a partition the group never consumed from counts, from
-- its start offset), and the group's next offsets are its own.
--
-- jiceng.report_consumer_lag (per group, topic, partition) and jiceng.report_freshness (per
-- group) compute lag = end offset - next offset (at least 0; from the start offset where the
-- group has not consumed yet) and say how old the figure is: lag_observed_at, when the end
-- offset was observed (the oldest over a group's partitions), and lag_age_ms, its age at the
-- query's transaction start. With no consumer running nothing refreshes the figure, so its age
-- grows: a stale figure is visible as stale. The end offset taken is the greater of the
-- refreshed one and the high watermark of the partition's last flush (end offsets only grow),
-- and a partition with no refreshed row (a database migrated while consumers of an older
-- library ran) falls back to that watermark, aged by the flush's time.
--
-- Privileges: the aggregator's role writes the table (default privileges give it that already;
-- granted here too where the role exists); the report role reads the views only, as 003 says.

create table jiceng.end_offsets (
    group_id     text        not null,
    topic        text        not null,
    partition    integer     not null,
    start_offset bigint      not null,  -- the partition's log start offset (oldest message kept)
    end_offset   bigint      not null,  -- the offset the next message appended will get
    observed_at  timestamptz not null,  -- when a consumer of the group asked the broker
    primary key (group_id, topic, partition)
);

comment on table jiceng.end_offsets is
    'Per consumer group, topic and partition: the start and end offsets a running consumer of '
    'the group last observed on the broker, and when (refreshed on a timer: lib/aggregate/endoffsets.c).';
comment on column jiceng.consumer_progress.high_watermark is
    'The high watermark noted at the group''s last flush of this partition; the lag comes from '
    'jiceng.end_offsets (migration 006), this is only its fallback.';

do $$
begin
    if exists (select from pg_roles where rolname = 'jiceng_aggregate') then
        grant select, insert, update on jiceng.end_offsets to jiceng_aggregate;
    end if;
end
$$;

create view jiceng.report_consumer_lag as
select group_id, topic, partition,
       p.next_offset,                                           -- null: never consumed
       greatest(e.end_offset, p.high_watermark)                 as end_offset,
       greatest(greatest(e.end_offset, p.high_watermark)
                - coalesce(p.next_offset, e.start_offset, 0), 0)::bigint as lag,
       coalesce(e.observed_at, p.updated_at)                    as lag_observed_at,
       round(extract(epoch from now() - coalesce(e.observed_at, p.updated_at)) * 1000)::bigint
                                                                as lag_age_ms,
       p.newest_event_at,
       p.updated_at
from jiceng.consumer_progress p
full join jiceng.end_offsets e using (group_id, topic, partition);

drop view jiceng.report_freshness;
create view jiceng.report_freshness as
select group_id,
       count(distinct topic)::bigint   as topics,
       count(*)::bigint                as partitions,
       max(newest_event_at)            as newest_event_at,
       sum(lag)::bigint                as lag,
       max(updated_at)                 as updated_at,
       min(lag_observed_at)            as lag_observed_at,
       max(lag_age_ms)                 as lag_age_ms
from jiceng.report_consumer_lag
group by group_id;

comment on view jiceng.report_consumer_lag is
    'Per consumer group, topic and partition: next offset (null: not consumed yet), end offset, '
    'lag = end - next (at least 0), when the end offset was observed and its age in ms.';
comment on view jiceng.report_freshness is
    'Per consumer group: topics, partitions, newest event applied, lag summed over partitions, '
    'last flush, and when the lag figure was observed (its oldest part) and its age in ms.';

grant select on jiceng.report_consumer_lag, jiceng.report_freshness to jiceng_report;
