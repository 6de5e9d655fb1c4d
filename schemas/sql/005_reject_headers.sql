-- 005_reject_headers.sql: a reject keeps its record's headers, so that it can be re-driven
-- exactly: key, value and headers, the signature headers included (a re-driven record is then
-- judged again, by the time the broker appends it).
--
-- jiceng.rejects.headers holds them in their order, each a jiceng.record_header (name and value
-- as bytea: a header's bytes are not necessarily text); a null value stays null, distinct from
-- an empty one, as msg_key and payload are null only for a null record key or value (from this
-- migration on: rows rejected before it have an empty key or value for a null one). A record
-- without headers has '{}'; rows rejected before this migration have null (not recorded).
-- Read them with e.g.
--   select r.kafka_offset, convert_from(h.name, 'UTF8') as name, h.value
--   from jiceng.rejects r, unnest(r.headers) with ordinality as h(name, value, n) order by 1, n;

create type jiceng.record_header as (
    name  bytea,
    value bytea
);

alter table jiceng.rejects
    add column headers jiceng.record_header[];

comment on column jiceng.rejects.headers is
    'The record''s headers in order; a null value is null, distinct from empty. Null: rejected '
    'before migration 005.';
comment on column jiceng.rejects.msg_key is
    'The record key; null for a null key (rows rejected before migration 005: empty instead).';
comment on column jiceng.rejects.payload is
    'The record value; null for a null value (rows rejected before migration 005: empty instead).';
