-- 010_corrections.sql: corrections and withdrawals (issue 13, item 2): the aggregates keep what
-- a later revision of an event must subtract, and say how many versions in force are
-- corrections or withdrawals.
--
-- Distinct tables: `events` is the number of event versions in force for the row's key (county,
-- day[, dims], id); the aggregator adds each batch's net change and deletes a row that reaches
-- 0 in the same transaction; the report views (generated from lib/aggregate/aggregates.c by the
-- migrator) count only rows with events > 0. Every existing row stood for at least one event,
-- and before this migration nothing could remove one, so existing rows get events = 1: a
-- distinct count is exact whatever the number, since only "> 0" is read, and a later
-- correction of an event applied before this migration is rejected anyway (below).
--
-- Sums tables: `corrected` counts the versions in force with a revision above 0 that are not
-- withdrawn, `withdrawn` the withdrawn versions in force (on the withdrawn version's day and
-- dimensions, which add nothing else); both 0 for every row written before.
--
-- Dedup ledger: `format` says how `entries` is laid out. 1 (every row before this migration):
-- 20-byte entries, event id and content hash. 2 (the aggregator's rows from now on): per id its
-- version in force as a record of its revision, content hash and contribution
-- (lib/aggregate/ledger.h). A format 1 id loads as revision 0 with an unknown contribution: its
-- re-sends are still recognised, and a correction of it is rejected as unknown_original with a
-- reason saying why (docs/architecture.md, "Corrections").
--
-- Privileges: the aggregator's role deletes aggregate rows now (default privileges give it
-- that already; granted here too where the role exists).

alter table jiceng.visit_cadres add column events bigint not null default 1;
alter table jiceng.disaster_incidents add column events bigint not null default 1;
alter table jiceng.training_trainees add column events bigint not null default 1;
alter table jiceng.visit_cadres alter column events drop default;
alter table jiceng.disaster_incidents alter column events drop default;
alter table jiceng.training_trainees alter column events drop default;

alter table jiceng.visits_daily
    add column corrected bigint not null default 0,
    add column withdrawn bigint not null default 0;
alter table jiceng.petitions_daily
    add column corrected bigint not null default 0,
    add column withdrawn bigint not null default 0;
alter table jiceng.disaster_responses_daily
    add column corrected bigint not null default 0,
    add column withdrawn bigint not null default 0;
alter table jiceng.trainings_daily
    add column corrected bigint not null default 0,
    add column withdrawn bigint not null default 0;

alter table jiceng.dedup_ledger add column format smallint not null default 1
    constraint dedup_ledger_format check (format in (1, 2));

comment on column jiceng.visit_cadres.events is
    'Event versions in force for this key; the row counts as one cadre while events > 0.';
comment on column jiceng.disaster_incidents.events is
    'Event versions in force for this key; the row counts as one incident while events > 0.';
comment on column jiceng.training_trainees.events is
    'Event versions in force for this key; the row counts as one trainee while events > 0.';
comment on column jiceng.dedup_ledger.format is
    '1: 20-byte entries (event id, content hash); 2: entries of id and version record '
    '(lib/aggregate/ledger.h).';

do $$
begin
    if exists (select from pg_roles where rolname = 'jiceng_aggregate') then
        grant select, insert, update, delete on jiceng.visits_daily, jiceng.visit_cadres,
            jiceng.petitions_daily, jiceng.disaster_responses_daily, jiceng.disaster_incidents,
            jiceng.trainings_daily, jiceng.training_trainees, jiceng.dedup_ledger
            to jiceng_aggregate;
    end if;
end
$$;
