-- roles.sql: the PostgreSQL roles of the local stack, run by deploy/local/stack up as the
-- superuser (through its private socket, connected to database postgres) on every start.
--
-- Roles belong to the infrastructure, not to the migrations: the migration role must not be
-- able to create roles. Every role is brought to exactly the attributes below on each run, so
-- a role someone changed by hand is put back:
--   jiceng_migrate    LOGIN: owns database jiceng and schema jiceng; runs the migrations
--   jiceng_aggregate  LOGIN: the aggregator; DML on the migration role's tables (database.sql)
--   jiceng_report     LOGIN: the reports; select on the report views (granted by migration 003),
--                     at most 10 connections, statements stopped after 60 s, no temporary
--                     objects (database.sql)
--   jiceng_keys       NOLOGIN: will own the signing-key table (docs/signing.md, "Threat model")
--   prometheus_monitor  LOGIN, at most 3 connections: prometheus-postgres-exporter
--                     (deploy/local/prometheus), not an application role; a member of
--                     pg_monitor and of nothing else, CONNECT on database postgres only; its
--                     password is in that script's own pgpass file, not with the application
--                     roles'
-- None has SUPERUSER, CREATEDB, CREATEROLE, REPLICATION or BYPASSRLS, none is a member of any
-- role (but prometheus_monitor of pg_monitor) and no role is a member of them (membership in
-- pg_execute_server_program and the like is how a role with CREATEROLE became
-- superuser-equivalent). Passwords are set separately
-- (pg-passwords.py); the superuser has none: it is reached only by peer authentication on the
-- socket (pg_hba.conf), so there is no superuser secret to leak.
\set ON_ERROR_STOP on
set client_min_messages = warning;

do $$
declare
    spec record;
    m record;
begin
    for spec in select * from (values ('jiceng_migrate', 'login', -1),
                                      ('jiceng_aggregate', 'login', -1),
                                      ('jiceng_report', 'login', 10),
                                      ('jiceng_keys', 'nologin', -1),
                                      ('prometheus_monitor', 'login', 3)) as v(name, login, conns)
    loop
        if not exists (select from pg_roles where rolname = spec.name) then
            execute format('create role %I', spec.name);
        end if;
        execute format('alter role %I %s nosuperuser nocreatedb nocreaterole noreplication '
                       'nobypassrls inherit connection limit %s', spec.name, spec.login, spec.conns);
    end loop;
    for m in select r.rolname as role, u.rolname as member
               from pg_auth_members a
               join pg_roles r on r.oid = a.roleid
               join pg_roles u on u.oid = a.member
              where u.rolname in ('jiceng_migrate', 'jiceng_aggregate', 'jiceng_report', 'jiceng_keys',
                                  'prometheus_monitor')
                 or r.rolname in ('jiceng_migrate', 'jiceng_aggregate', 'jiceng_report', 'jiceng_keys',
                                  'prometheus_monitor')
    loop
        continue when m.role = 'pg_monitor' and m.member = 'prometheus_monitor';
        execute format('revoke %I from %I cascade', m.role, m.member);
    end loop;
end
$$;

alter role jiceng_keys password null;
alter role postgres password null;
alter role jiceng_report set statement_timeout = '60s';

-- the stack's databases grant CONNECT themselves (database.sql); these two grant it to no one
-- (but database postgres to prometheus_monitor, below)
revoke all on database postgres from public;
revoke all on database template1 from public;

-- the exporter's role: the statistics views (pg_monitor), in database postgres
grant pg_monitor to prometheus_monitor;
grant connect on database postgres to prometheus_monitor;
