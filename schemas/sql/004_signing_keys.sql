-- 004_signing_keys.sql: the county systems' signing keys (docs/signing.md), which the aggregator
-- checks every record's signature with.
--
-- A key is a key id, the county it signs for (its current six-digit code), a 32-byte secret and
-- a validity period [valid_from, valid_until) judged by the record's timestamp (null
-- valid_until: open-ended). Keys are never deleted and a key id never gets another secret or
-- county, so replaying a topic from offset 0 finds every key that was ever valid and reaches the
-- live run's verdicts.
--
-- The aggregator reads the table at database time L and judges records timestamped before
-- L + jiceng.signing_key_notice() with what it read (lib/aggregate/keys.h). That is sound only
-- if no change can take effect sooner after it commits, so the triggers below allow exactly:
--   INSERT  a new key, valid from at least the notice period after its transaction commits;
--   UPDATE  of valid_until alone, from null or to an earlier time, again at least the notice
--           period after the commit (closing a key, or shortening a grace period);
-- and refuse DELETE, TRUNCATE and every other UPDATE. The time checks run at commit (a
-- deferred constraint trigger, against clock_timestamp()), so a transaction left open cannot
-- slip a change into the past (unless its writer moves the check to the statement with SET
-- CONSTRAINTS ... IMMEDIATE and then holds the transaction open: writers are the provisioning
-- program and the superuser). Writers should ask for more than the notice, e.g. now() + 1
-- minute (docs/signing.md). The triggers bind the superuser too, short of disabling them.
--
-- Privileges: whoever can read the secrets can forge any county's records, so only the
-- aggregator may read them. Ownership and the provisioning role's rights are infrastructure
-- (deploy/local/stack hands the table and its functions to a NOLOGIN owner and grants the
-- migration role INSERT, UPDATE (valid_until) and SELECT on every column but secret); this
-- migration only takes the table away from PUBLIC and, where the aggregator's role exists,
-- leaves it SELECT and nothing else (default privileges may have given it more).

create table jiceng.signing_keys (
    key_id      text        primary key check (key_id ~ '^[A-Za-z0-9._-]{1,64}$'),
    county_code integer     not null check (county_code between 100000 and 999999),
    secret      bytea       not null check (length(secret) = 32),
    valid_from  timestamptz not null check (isfinite(valid_from)),
    valid_until timestamptz check (isfinite(valid_until)),   -- null: open-ended
    created_at  timestamptz not null default now(),
    check (valid_until >= valid_from)
);

comment on table jiceng.signing_keys is
    'County systems'' record signing keys (docs/signing.md). Never deleted; only valid_until may '
    'change, to an earlier time at least jiceng.signing_key_notice() after the commit.';

-- How long after its commit a change to jiceng.signing_keys takes effect, at the least.
create function jiceng.signing_key_notice() returns interval
    language sql immutable parallel safe
    as $$ select interval '10 seconds' $$;

-- The shape of a change: no deletion, and an update may only bring valid_until forward.
create function jiceng.signing_keys_guard() returns trigger
    language plpgsql
    as $$
begin
    if tg_op = 'DELETE' or tg_op = 'TRUNCATE' then
        raise exception 'jiceng.signing_keys: keys are never deleted (close one by setting valid_until)'
            using errcode = 'insufficient_privilege';
    end if;
    if tg_op = 'INSERT' then
        new.created_at := now();
        return new;
    end if;
    if (new.key_id, new.county_code, new.secret, new.valid_from, new.created_at)
       is distinct from (old.key_id, old.county_code, old.secret, old.valid_from, old.created_at) then
        raise exception 'jiceng.signing_keys: key %: only valid_until may change', old.key_id
            using errcode = 'insufficient_privilege';
    end if;
    if new.valid_until is distinct from old.valid_until
       and (new.valid_until is null or new.valid_until > old.valid_until) then
        raise exception 'jiceng.signing_keys: key %: valid_until may only move earlier (it is %)',
            old.key_id, coalesce(old.valid_until::text, 'open')
            using errcode = 'insufficient_privilege';
    end if;
    return new;
end
$$;

-- At commit: the change takes effect no sooner than the notice period from now.
create function jiceng.signing_keys_notice_check() returns trigger
    language plpgsql
    as $$
declare
    takes_effect timestamptz := case when tg_op = 'INSERT' then new.valid_from else new.valid_until end;
begin
    if tg_op = 'UPDATE' and new.valid_until is not distinct from old.valid_until then
        return null;
    end if;
    if takes_effect < clock_timestamp() + jiceng.signing_key_notice() then
        raise exception 'jiceng.signing_keys: key %: % % is less than % after this commit (%)',
            new.key_id, case when tg_op = 'INSERT' then 'valid_from' else 'valid_until' end,
            takes_effect, jiceng.signing_key_notice(), clock_timestamp()
            using errcode = 'check_violation',
                  hint = 'a key change takes effect in the future only: use e.g. now() + interval ''1 minute''';
    end if;
    return null;
end
$$;

create trigger signing_keys_guard
    before insert or update or delete on jiceng.signing_keys
    for each row execute function jiceng.signing_keys_guard();

create trigger signing_keys_no_truncate
    before truncate on jiceng.signing_keys
    for each statement execute function jiceng.signing_keys_guard();

create constraint trigger signing_keys_notice
    after insert or update on jiceng.signing_keys
    deferrable initially deferred
    for each row execute function jiceng.signing_keys_notice_check();

revoke all on jiceng.signing_keys from public;

-- The migration role creates the table but must not keep it: as its owner it could read every
-- secret. A superuser-owned SECURITY DEFINER function, installed per database by the
-- infrastructure (deploy/local/sql/database.sql), hands the table and its functions to the
-- NOLOGIN role jiceng_keys and grants: SELECT to jiceng_aggregate only; INSERT, UPDATE
-- (valid_until) and SELECT of every column but the secret to the migration role.
do $$
begin
    if to_regprocedure('jiceng_infra.seal_signing_keys()') is null then
        raise exception 'jiceng.signing_keys would stay readable by the migration role'
            using hint = 'a superuser installs jiceng_infra.seal_signing_keys() in this database '
                         'first (deploy/local/sql/database.sql)';
    end if;
end
$$;
select jiceng_infra.seal_signing_keys();
