#!/usr/bin/env bash
# test_pg.sh: PostgreSQL refuses what the security contract says it must (deploy/local/stack,
# "PostgreSQL roles"; issue 10, "Acceptance"), on a scratch database migrated by the migration
# role (lib.sh's it_init), through psql (libpq) with the stack's env file. Each refusal is paired
# with the same connection or statement that is allowed, so a check cannot pass for another
# reason (a wrong port, a typo in the SQL):
#   - connections: plaintext TCP (sslmode=disable) is refused for every application role, a
#     wrong password is refused, a server certificate not from the stack's CA fails
#     verify-full, the superuser cannot log in over TCP;
#   - no application role can gain privileges: none has a role attribute or a membership, and
#     none may create a role, give itself CREATEROLE, grant itself pg_execute_server_program,
#     run COPY ... TO PROGRAM, write a server file, create a database, ALTER SYSTEM or SET ROLE
#     to the superuser, or reach database postgres;
#   - the aggregator role reads and writes what the migration role makes, but cannot truncate,
#     alter or drop it, nor create anything;
#   - the superuser's secret differs from every application secret: it has none at all (peer
#     authentication on the private socket only), and the three application passwords differ;
#   - the report role cannot write anything: no INSERT, UPDATE, DELETE or TRUNCATE on any
#     relation of any schema, no sequence, no CREATE in any schema, no temporary table; its
#     statements stop after a minute and it has at most 10 connections;
#   - the signing keys' secrets are readable by the aggregator role only: the migration role
#     may insert a key and read everything but the secret, cannot delete one; the report role
#     cannot read the table at all; the table is owned by a role that cannot log in.
source "$(dirname "$0")/../aggregate/lib.sh"
it_init sec-pg

ROLES="jiceng_migrate jiceng_aggregate jiceng_report"
# uri ROLE [PARAMS]: ROLE's URI to the test's database
uri() { echo "postgresql://$1@127.0.0.1:$JICENG_PG_PORT/$DB?${2:-sslmode=verify-full}"; }
# as ROLE SQL: SQL as ROLE in a read-write transaction (the privileges decide, not a default)
as() { PGOPTIONS='-c default_transaction_read_only=off' psql -X -q -w -v ON_ERROR_STOP=1 -At "$(uri "$1")" -c "$2"; }
superuser() {
    runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -At -h "$JICENG_PG_SUPERUSER_SOCKET" \
        -p "$JICENG_PG_PORT" -U postgres -d "${2:-$DB}" -c "$1"
}
PWNED=/tmp/jiceng-sec-pwned-$$
# undo_escalations: what the statements below would have changed had a refusal failed
undo_escalations() {
    local r
    for r in $ROLES; do
        superuser "revoke pg_execute_server_program from $r; alter role $r nocreaterole" postgres >/dev/null 2>&1
    done
    superuser "drop role if exists sec_x" postgres >/dev/null 2>&1
    superuser "drop database if exists sec_x" postgres >/dev/null 2>&1
    superuser "alter system reset work_mem" postgres >/dev/null 2>&1
    rm -f "$PWNED"
}
it_on_cleanup undo_escalations

echo "-- connections"
for r in $ROLES; do
    it_check_ok "$r connects with TLS (verify-full) and its password from PGPASSFILE" \
        psql -X -w "$(uri "$r")" -c 'select 1'
    it_check_refused "$r over plaintext TCP (sslmode=disable) is refused" 'no encryption' \
        psql -X -w "$(uri "$r" sslmode=disable)" -c 'select 1'
done
[[ $(as jiceng_aggregate 'select ssl from pg_stat_ssl where pid = pg_backend_pid()') == t ]] \
    && it_check_pass "the connection is encrypted (pg_stat_ssl)" || it_check_fail "pg_stat_ssl says the connection is not encrypted"
printf '127.0.0.1:*:*:jiceng_aggregate:wrong-%s\n' "$RANDOM" >"$W/pgpass"
chmod 600 "$W/pgpass"
it_check_refused "a wrong password is refused" 'password authentication failed for user "jiceng_aggregate"' \
    env PGPASSFILE="$W/pgpass" psql -X -w "$(uri jiceng_aggregate)" -c 'select 1'
it_check_refused "a server certificate that the stack's CA did not issue fails verify-full" 'certificate verify failed' \
    env PGSSLROOTCERT=/etc/ssl/certs/ca-certificates.crt psql -X -w "$(uri jiceng_aggregate)" -c 'select 1'
it_check_refused "the superuser over TCP is refused" 'no pg_hba.conf entry|pg_hba.conf rejects' \
    psql -X -w "$(uri postgres)" -c 'select 1'
it_check_refused "an application role cannot reach database postgres" 'permission denied for database' \
    psql -X -w "postgresql://jiceng_aggregate@127.0.0.1:$JICENG_PG_PORT/postgres?sslmode=verify-full" -c 'select 1'

echo "-- no application role can gain privileges"
attrs=$(as jiceng_report "select count(*) from pg_roles where rolname in ('jiceng_migrate', 'jiceng_aggregate',
    'jiceng_report') and (rolsuper or rolcreaterole or rolcreatedb or rolreplication or rolbypassrls)")
[[ $attrs == 0 ]] && it_check_pass "no application role has SUPERUSER, CREATEROLE, CREATEDB, REPLICATION or BYPASSRLS" \
    || it_check_fail "$attrs application roles have a role attribute"
members=$(as jiceng_report "select count(*) from pg_auth_members a join pg_roles u on u.oid = a.member
    where u.rolname like 'jiceng%'")
[[ $members == 0 ]] && it_check_pass "no application role is a member of any role" \
    || it_check_fail "$members role memberships of application roles"
for r in $ROLES; do
    it_check_ok "$r runs a statement in a read-write transaction (the control for the refusals below)" \
        as "$r" 'select 1'
    it_check_refused "$r cannot create a role" 'permission denied to create role' as "$r" 'create role sec_x'
    it_check_refused "$r cannot give itself CREATEROLE" 'permission denied' as "$r" "alter role $r createrole"
    it_check_refused "$r cannot grant itself pg_execute_server_program" 'must have admin option|permission denied' \
        as "$r" "grant pg_execute_server_program to $r"
    it_check_refused "$r cannot COPY ... TO PROGRAM" 'pg_execute_server_program' \
        as "$r" "copy (select 1) to program 'touch $PWNED'"
    it_check_refused "$r cannot write a file on the server" 'pg_write_server_files' \
        as "$r" "copy (select 1) to '$PWNED'"
    it_check_refused "$r cannot create a database" 'permission denied to create database' as "$r" 'create database sec_x'
    it_check_refused "$r cannot ALTER SYSTEM" 'must be superuser|permission denied' as "$r" "alter system set work_mem = '1GB'"
    it_check_refused "$r cannot SET ROLE postgres" 'permission denied to set role' as "$r" 'set role postgres'
done
[[ ! -e $PWNED ]] && it_check_pass "nothing ran on the server" || it_check_fail "$PWNED exists"

echo "-- secrets"
[[ $(superuser "select count(*) from pg_authid where rolname = 'postgres' and rolpassword is null") == 1 ]] \
    && it_check_pass "the superuser has no password at all (peer authentication on the private socket only)" \
    || it_check_fail "the superuser has a password"
distinct=$(grep -v '^#' "$PGPASSFILE" | cut -d: -f5 | sort -u | wc -l)
roles_in_pgpass=$(grep -v '^#' "$PGPASSFILE" | cut -d: -f4 | sort -u | wc -l)
[[ $roles_in_pgpass == 3 && $distinct == 3 ]] && it_check_pass "the three application roles' passwords differ" \
    || it_check_fail "$roles_in_pgpass roles in $PGPASSFILE with $distinct distinct passwords"
[[ $(stat -c %a "$PGPASSFILE") == 600 ]] && it_check_pass "the password file is mode 0600" \
    || it_check_fail "$PGPASSFILE is mode $(stat -c %a "$PGPASSFILE")"

echo "-- the aggregator role: data, not schema"
it_check_ok "jiceng_migrate creates a table in schema jiceng" as jiceng_migrate 'create table jiceng.sec_dml (i int)'
it_check_ok "jiceng_aggregate may select, insert, update and delete in it" \
    as jiceng_aggregate 'insert into jiceng.sec_dml values (1); update jiceng.sec_dml set i = 2;
        select count(*) from jiceng.sec_dml; delete from jiceng.sec_dml'
it_check_refused "jiceng_aggregate cannot truncate it" 'permission denied for table sec_dml' \
    as jiceng_aggregate 'truncate jiceng.sec_dml'
it_check_refused "jiceng_aggregate cannot alter it" 'must be owner of table sec_dml' \
    as jiceng_aggregate 'alter table jiceng.sec_dml add column j int'
it_check_refused "jiceng_aggregate cannot drop it" 'must be owner of table sec_dml' as jiceng_aggregate 'drop table jiceng.sec_dml'
it_check_refused "jiceng_aggregate cannot create a table in schema jiceng" 'permission denied for schema jiceng' \
    as jiceng_aggregate 'create table jiceng.sec_x (i int)'
it_check_refused "jiceng_aggregate cannot create a table in schema public" 'permission denied for schema public' \
    as jiceng_aggregate 'create table public.sec_x (i int)'
it_check_refused "jiceng_aggregate cannot change the generations (only the migration role promotes)" \
    'permission denied for table generations' as jiceng_aggregate "update jiceng.generations set state = state"

echo "-- the report role cannot write anything but the record of its reports"
# (pg_catalog.pg_settings is UPDATE-able by everyone: an UPDATE of it is a session's SET;
# jiceng.report_runs takes one INSERT per report produced, issue 13 item 3, and nothing else)
runs=$(as jiceng_report "select has_table_privilege('jiceng_report', 'jiceng.report_runs', 'INSERT')::text
    || has_table_privilege('jiceng_report', 'jiceng.report_runs', 'SELECT,UPDATE,DELETE,TRUNCATE')::text")
[[ $runs == truefalse ]] && it_check_pass "jiceng_report may insert into jiceng.report_runs, not read, update, delete or truncate it" \
    || it_check_fail "jiceng_report on jiceng.report_runs: insert/other = $runs"
writable=$(as jiceng_report "select string_agg(n.nspname || '.' || c.relname, ' ') from pg_class c
    join pg_namespace n on n.oid = c.relnamespace where c.relkind in ('r', 'p', 'v', 'm', 'f')
    and c.oid <> 'pg_catalog.pg_settings'::regclass
    and (c.oid <> 'jiceng.report_runs'::regclass and has_table_privilege('jiceng_report', c.oid, 'INSERT')
      or has_table_privilege('jiceng_report', c.oid, 'UPDATE')
      or has_table_privilege('jiceng_report', c.oid, 'DELETE') or has_table_privilege('jiceng_report', c.oid, 'TRUNCATE'))")
[[ -z $writable ]] && it_check_pass "jiceng_report may not insert, update, delete or truncate any relation of any schema (pg_settings aside)" \
    || it_check_fail "jiceng_report may write to: $writable"
seqs=$(as jiceng_report "select count(*) from pg_class c where c.relkind = 'S'
    and (has_sequence_privilege('jiceng_report', c.oid, 'USAGE') or has_sequence_privilege('jiceng_report', c.oid, 'UPDATE'))")
[[ $seqs == 0 ]] && it_check_pass "jiceng_report may not advance any sequence" || it_check_fail "jiceng_report may use $seqs sequences"
schemas=$(as jiceng_report "select string_agg(nspname, ' ') from pg_namespace where has_schema_privilege('jiceng_report', oid, 'CREATE')")
[[ -z $schemas ]] && it_check_pass "jiceng_report may create nothing in any schema" || it_check_fail "jiceng_report may create in: $schemas"
it_check_ok "jiceng_report reads a report view (the control)" as jiceng_report 'select count(*) from jiceng.report_counties'
it_check_refused "jiceng_report cannot insert into an aggregate table" 'permission denied for table visits_daily' \
    as jiceng_report "insert into jiceng.visits_daily (county_code, day) values (520102, '2025-01-01')"
it_check_refused "jiceng_report cannot create a table in schema public" 'permission denied for schema public' \
    as jiceng_report 'create table public.sec_x (i int)'
it_check_refused "jiceng_report cannot create a temporary table" 'permission denied to create temporary tables' \
    as jiceng_report 'create temporary table sec_x (i int)'
[[ $(as jiceng_report 'show statement_timeout') == 1min ]] && it_check_pass "jiceng_report's statements stop after 1 min" \
    || it_check_fail "jiceng_report's statement_timeout is $(as jiceng_report 'show statement_timeout')"
[[ $(as jiceng_report "select rolconnlimit from pg_roles where rolname = 'jiceng_report'") == 10 ]] \
    && it_check_pass "jiceng_report has at most 10 connections" || it_check_fail "jiceng_report has no connection limit of 10"

echo "-- the signing keys' secrets: the aggregator role only"
owner=$(as jiceng_report "select r.rolcanlogin from pg_class c join pg_roles r on r.oid = c.relowner
    where c.oid = 'jiceng.signing_keys'::regclass")
[[ $owner == f ]] && it_check_pass "jiceng.signing_keys is owned by a role that cannot log in" \
    || it_check_fail "jiceng.signing_keys's owner can log in"
it_check_ok "jiceng_aggregate reads the secrets" as jiceng_aggregate 'select count(secret) from jiceng.signing_keys'
it_check_ok "jiceng_migrate reads the keys without their secrets" \
    as jiceng_migrate 'select count(*), max(key_id), max(county_code), max(valid_from), max(valid_until) from jiceng.signing_keys'
it_check_refused "jiceng_migrate cannot read the secrets" 'permission denied for table signing_keys' \
    as jiceng_migrate 'select count(secret) from jiceng.signing_keys'
it_check_refused "jiceng_report cannot read the table" 'permission denied for table signing_keys' \
    as jiceng_report 'select count(*) from jiceng.signing_keys'
it_check_ok "jiceng_migrate adds a key (valid from a minute on)" \
    as jiceng_migrate "insert into jiceng.signing_keys (key_id, county_code, secret, valid_from)
        values ('sec-test-1', 520102, decode(repeat('ab', 32), 'hex'), now() + interval '1 minute')"
it_check_refused "jiceng_migrate cannot delete a key" 'never deleted|permission denied' \
    as jiceng_migrate "delete from jiceng.signing_keys where key_id = 'sec-test-1'"
it_check_refused "jiceng_migrate cannot change a key's secret" 'only valid_until|permission denied' \
    as jiceng_migrate "update jiceng.signing_keys set secret = decode(repeat('cd', 32), 'hex') where key_id = 'sec-test-1'"
it_check_refused "jiceng_aggregate cannot add a key" 'permission denied for table signing_keys' \
    as jiceng_aggregate "insert into jiceng.signing_keys (key_id, county_code, secret, valid_from)
        values ('sec-test-2', 520102, decode(repeat('ab', 32), 'hex'), now() + interval '1 minute')"
it_check_refused "jiceng_aggregate cannot close a key" 'permission denied for table signing_keys' \
    as jiceng_aggregate "update jiceng.signing_keys set valid_until = now() + interval '1 minute' where key_id = 'sec-test-1'"
it_checks_done
echo "PASS: PostgreSQL refuses plaintext, wrong passwords and privilege escalation; the report role writes nothing; the key secrets are the aggregator's only"
