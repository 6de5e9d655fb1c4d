-- 012_ledger_storage.sql: the dedup ledger's entries are stored without compression (issue 14).
--
-- Each flush writes one dedup_ledger row per partition: the ids it applied with their version
-- records (format 2, about 70 bytes an id: 16 random bytes of id, a content hash and a few
-- varints), a few hundred KiB per row under a backlog. With the default storage (EXTENDED),
-- PostgreSQL tried pglz on every such value before moving it out of line: on 1,000,000 events
-- the ledger's inserts took 1.4 s of the flush thread's 4.6 s, for values that are mostly
-- random bytes. EXTERNAL keeps them out of line, uncompressed: the disk holds a little more,
-- the flush spends no CPU on compression. Generations made later copy the setting (create
-- table ... like ... including all); those that exist already are altered here too.
alter table jiceng.dedup_ledger alter column entries set storage external;

do $$
declare s text;
begin
    for s in select table_schema from information_schema.tables
             where table_name = 'dedup_ledger' and table_schema like 'jiceng\_gen\_%' loop
        execute format('alter table %I.dedup_ledger alter column entries set storage external', s);
    end loop;
end $$;
