-- 008_redrive.sql: a reject remembers that it was re-driven (issue 13, item 5).
--
-- `jiceng-aggregate redrive` (lib/aggregate/redrive.c) re-publishes a reject's record (key,
-- headers and value as consumed, migration 005) to its topic, waits for the broker's
-- acknowledgement and only then, in one transaction per batch, sets:
--   redriven_at         when the re-driven copy was marked (the marking transaction's now())
--   redriven_partition  the partition and offset of the new record on the same topic, so the
--   redriven_offset     copy's own verdict (applied, duplicate, or a new reject) can be found
-- A row with redriven_at set is never selected again, so a second run publishes nothing twice.
-- Rows are selected in primary-key order with FOR UPDATE SKIP LOCKED, so two runs at once never
-- publish one row each.
--
-- Privileges: the aggregator's role runs the re-drive with its own conninfo: it reads the
-- table already and may now update these three columns only.

alter table jiceng.rejects
    add column redriven_at        timestamptz,
    add column redriven_partition integer,
    add column redriven_offset    bigint;

comment on column jiceng.rejects.redriven_at is
    'When the record was re-published by `jiceng-aggregate redrive` (null: never).';
comment on column jiceng.rejects.redriven_partition is
    'The partition of the re-published copy (same topic); null: never re-driven.';
comment on column jiceng.rejects.redriven_offset is
    'The offset of the re-published copy; null: never re-driven.';

-- what a re-drive selects: rows not re-driven yet, by status
create index rejects_not_redriven on jiceng.rejects (status, topic, partition, kafka_offset)
    where redriven_at is null;

do $$
begin
    if exists (select from pg_roles where rolname = 'jiceng_aggregate') then
        grant select on jiceng.rejects to jiceng_aggregate;
        grant update (redriven_at, redriven_partition, redriven_offset)
            on jiceng.rejects to jiceng_aggregate;
    end if;
end
$$;
