-- catalog.sql: what a restore must bring back exactly, as text to compare (test_restore.sh runs
-- it as jiceng_aggregate before the database is destroyed and after it is restored): every
-- object of schema jiceng with its owner and privileges (tables' and columns'), the functions,
-- the triggers and whether they are enabled and deferred, the schemas' owners and privileges,
-- the default privileges, and a digest of every signing key's row, secret and times included.
\pset tuples_only on
\pset format unaligned
select c.relname, c.relkind, c.relowner::regrole, c.relacl::text,
       (select string_agg(a.attname || '=' || a.attacl::text, ',' order by a.attnum)
          from pg_attribute a where a.attrelid = c.oid and a.attacl is not null)
  from pg_class c where c.relnamespace = 'jiceng'::regnamespace order by 1;
select p.proname, p.proowner::regrole, p.proacl::text, p.prosecdef
  from pg_proc p where p.pronamespace = 'jiceng'::regnamespace order by 1;
select t.tgname, t.tgrelid::regclass, t.tgenabled, t.tgdeferrable, t.tginitdeferred
  from pg_trigger t where not t.tgisinternal order by 1, 2;
select n.nspname, n.nspowner::regrole, n.nspacl::text
  from pg_namespace n where n.nspname like 'jiceng%' order by 1;
select d.defaclrole::regrole, d.defaclnamespace::regnamespace, d.defaclobjtype, d.defaclacl::text
  from pg_default_acl d order by 1, 2, 3;
select count(*), md5(string_agg(k::text, ',' order by k.key_id)) from jiceng.signing_keys k;
