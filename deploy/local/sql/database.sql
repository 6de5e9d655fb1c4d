-- database.sql: one database of the local stack, made ready for the migrations and the
-- application roles (see roles.sql). Run by deploy/local/stack as the superuser, connected to
-- that database: by `up` for database jiceng, by `db-create NAME` for a test's scratch database.
-- Idempotent.
--
--   the database        owned by jiceng_migrate; CONNECT for jiceng_aggregate and jiceng_report;
--                       TEMPORARY for jiceng_aggregate only (the health check's probe table);
--                       nothing for PUBLIC (no connect, no temporary objects)
--   schema public       no CREATE for PUBLIC
--   schema jiceng       owned by jiceng_migrate (the migrations create their objects in it);
--                       USAGE for jiceng_aggregate and jiceng_report, nothing for PUBLIC
--   jiceng_aggregate    SELECT, INSERT, UPDATE, DELETE on every table and view the migration
--                       role creates in schema jiceng (default privileges), and on those it has
--                       created already; USAGE, SELECT on its sequences. Not TRUNCATE, not
--                       REFERENCES, not TRIGGER, and nothing on objects of other owners (the
--                       signing-key table will belong to jiceng_keys).
--   jiceng_infra.seal_signing_keys()
--                       SECURITY DEFINER (owned by the superuser), EXECUTE for jiceng_migrate
--                       only: migration 004 calls it right after creating jiceng.signing_keys,
--                       which hands the table and its trigger functions to jiceng_keys (NOLOGIN)
--                       and leaves the migration role INSERT, UPDATE (valid_until) and SELECT
--                       of every column but the secret; jiceng_aggregate alone may read the
--                       secret. So no role that runs migrations or reports can read a key.
\set ON_ERROR_STOP on
set client_min_messages = warning;

do $$
declare
    db text := current_database();
begin
    execute format('alter database %I owner to jiceng_migrate', db);
    execute format('revoke all on database %I from public', db);
    execute format('grant connect on database %I to jiceng_aggregate, jiceng_report', db);
    execute format('grant temporary on database %I to jiceng_aggregate', db);
end
$$;

revoke create on schema public from public;
create schema if not exists jiceng authorization jiceng_migrate;
alter schema jiceng owner to jiceng_migrate;
revoke all on schema jiceng from public;
grant usage on schema jiceng to jiceng_aggregate, jiceng_report;

alter default privileges for role jiceng_migrate in schema jiceng
    grant select, insert, update, delete on tables to jiceng_aggregate;
alter default privileges for role jiceng_migrate in schema jiceng
    grant usage, select on sequences to jiceng_aggregate;

do $$
declare
    rel record;
begin
    for rel in select c.oid::regclass as name, c.relkind
                 from pg_class c
                where c.relnamespace = 'jiceng'::regnamespace
                  and c.relowner = 'jiceng_migrate'::regrole
                  and c.relkind in ('r', 'p', 'v', 'm', 'f', 'S')
    loop
        if rel.relkind = 'S' then
            execute format('grant usage, select on sequence %s to jiceng_aggregate', rel.name);
        else
            execute format('grant select, insert, update, delete on %s to jiceng_aggregate', rel.name);
        end if;
    end loop;
end
$$;

create schema if not exists jiceng_infra authorization postgres;
revoke all on schema jiceng_infra from public;
grant usage on schema jiceng_infra to jiceng_migrate;

create or replace function jiceng_infra.seal_signing_keys() returns void
    language plpgsql security definer set search_path = pg_catalog
    as $$
begin
    alter table jiceng.signing_keys owner to jiceng_keys;
    alter function jiceng.signing_key_notice() owner to jiceng_keys;
    alter function jiceng.signing_keys_guard() owner to jiceng_keys;
    alter function jiceng.signing_keys_notice_check() owner to jiceng_keys;
    revoke all on jiceng.signing_keys from public, jiceng_migrate, jiceng_aggregate, jiceng_report;
    grant select on jiceng.signing_keys to jiceng_aggregate;
    grant insert, update (valid_until) on jiceng.signing_keys to jiceng_migrate;
    grant select (key_id, county_code, valid_from, valid_until, created_at)
        on jiceng.signing_keys to jiceng_migrate;
end
$$;
revoke all on function jiceng_infra.seal_signing_keys() from public;
grant execute on function jiceng_infra.seal_signing_keys() to jiceng_migrate;
