-- 009_reference.sql: reference data a running aggregator reads from the database (issue 13,
-- item 6), so that a county or a code change added by a migration is picked up without a
-- rebuild or a restart.
--
-- jiceng.counties and jiceng.prefectures (001) are joined by the code-change chain:
--   jiceng.code_changes   one row per old code: the code it became (a county, or another old
--                         code, or a prefecture for an old prefecture code), the year and what
--                         happened. Chains are followed by the reader (lib/reference.c), which
--                         refuses a cycle.
-- `jiceng-aggregate migrate` upserts the built-in rows (schemas/reference/*.csv, embedded in
-- the library) into all three tables after the migrations, as it did for counties and
-- prefectures; rows a migration adds stay (a row that is also built in is set back to the
-- built-in values: change the CSV too).
--
--   jiceng.reference_version  one row: a counter that every change of the three tables bumps
--                         (row triggers below; an UPDATE that changes nothing does not), and
--                         when. The aggregator reads it every few seconds between batches and
--                         reloads the tables when it moved (and on SIGHUP), in one
--                         repeatable-read transaction with the version, so the version it
--                         remembers is the data it holds.
--
-- Privileges: the aggregator's role reads the four tables and writes none of them (default
-- privileges gave it write access to counties and prefectures: taken back here); changes are
-- migrations, run by the migration role, which owns them.

create table jiceng.code_changes (
    old_code integer primary key check (old_code between 100000 and 999999),
    new_code integer not null check (new_code between 100000 and 999999),
    year     integer check (year between 1949 and 2999),
    change   text not null default '',
    check (new_code <> old_code)
);

comment on table jiceng.code_changes is
    'Old county or prefecture codes and the code each became (chains are followed to a current '
    'county). Built-in rows come from schemas/reference/guizhou_code_changes.csv.';

create table jiceng.reference_version (
    one        boolean primary key default true check (one),
    version    bigint      not null default 0,
    changed_at timestamptz not null default now()
);
insert into jiceng.reference_version default values;

comment on table jiceng.reference_version is
    'Bumped by every change of jiceng.counties, jiceng.prefectures or jiceng.code_changes; '
    'running aggregators reload the reference data when it moves.';

create function jiceng.reference_changed() returns trigger
    language plpgsql
    as $$
begin
    update jiceng.reference_version set version = version + 1, changed_at = now();
    return null;
end
$$;

do $$
declare
    t text;
begin
    foreach t in array array['counties', 'prefectures', 'code_changes'] loop
        execute format('create trigger %1$s_version_ins after insert or delete on jiceng.%1$I '
                       'for each row execute function jiceng.reference_changed()', t);
        execute format('create trigger %1$s_version_upd after update on jiceng.%1$I '
                       'for each row when (old.* is distinct from new.*) '
                       'execute function jiceng.reference_changed()', t);
        execute format('create trigger %1$s_version_trunc after truncate on jiceng.%1$I '
                       'for each statement execute function jiceng.reference_changed()', t);
    end loop;
end
$$;

do $$
begin
    if exists (select from pg_roles where rolname = 'jiceng_aggregate') then
        revoke insert, update, delete, truncate
            on jiceng.counties, jiceng.prefectures, jiceng.code_changes, jiceng.reference_version
            from jiceng_aggregate;
        grant select
            on jiceng.counties, jiceng.prefectures, jiceng.code_changes, jiceng.reference_version
            to jiceng_aggregate;
    end if;
end
$$;
