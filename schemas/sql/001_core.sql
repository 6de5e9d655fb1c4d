-- 001_core.sql: the aggregate store.
--
-- Aggregates are daily, by the event's local date in Asia/Shanghai, per county and the event's
-- main category. Distinct counts (cadres who went down, incidents, trainees) are kept as
-- distinct (county, day, id) rows, so they stay exact for any period and region. Enum columns
-- hold the Avro symbols. Every count is bigint and never null.

create schema if not exists jiceng;

-- reference data (rows kept in step with schemas/reference/ by the migrator; events carry
-- current codes: the consumer maps older ones before aggregating)
create table jiceng.prefectures (
    code        integer primary key,
    name_zh     text not null,
    name_pinyin text not null
);
create table jiceng.counties (
    code            integer primary key,
    name_zh         text not null,
    name_pinyin     text not null,
    kind            text not null,
    prefecture_code integer not null references jiceng.prefectures (code)
);

create table jiceng.visits_daily (
    county_code        integer not null,
    day                date    not null,
    cadre_level        text    not null,
    visits             bigint  not null,
    households_visited bigint  not null,
    people_met         bigint  not null,
    deeds_done         bigint  not null,
    problems_solved    bigint  not null,
    overnight_stays    bigint  not null,
    hours_on_site      bigint  not null,
    primary key (county_code, day, cadre_level)
);
create table jiceng.visit_cadres (
    county_code integer not null,
    day         date    not null,
    cadre_id    text    not null,
    primary key (county_code, day, cadre_id)
);

create table jiceng.petitions_daily (
    county_code         integer not null,
    day                 date    not null,
    channel             text    not null,
    received            bigint  not null,
    people_received     bigint  not null,
    resolved            bigint  not null,
    resolution_seconds  bigint  not null,
    resolved_within_1d  bigint  not null,
    resolved_within_7d  bigint  not null,
    resolved_within_30d bigint  not null,
    followed_up         bigint  not null,
    followups_answered  bigint  not null,
    satisfied           bigint  not null,
    primary key (county_code, day, channel)
);

create table jiceng.disaster_responses_daily (
    county_code             integer not null,
    day                     date    not null,
    hazard                  text    not null,
    responses               bigint  not null,
    responders              bigint  not null,
    party_member_responders bigint  not null,
    people_evacuated        bigint  not null,
    people_rescued          bigint  not null,
    deaths                  bigint  not null,
    injured                 bigint  not null,
    households_assisted     bigint  not null,
    primary key (county_code, day, hazard)
);
create table jiceng.disaster_incidents (
    county_code integer not null,
    day         date    not null,
    hazard      text    not null,
    incident_id text    not null,
    primary key (county_code, day, hazard, incident_id)
);

create table jiceng.trainings_daily (
    county_code       integer not null,
    day               date    not null,
    trainee_role      text    not null,
    training_base     text    not null,
    completions       bigint  not null,
    hours             bigint  not null,
    passed            bigint  not null,
    from_poor_village bigint  not null,
    primary key (county_code, day, trainee_role, training_base)
);
create table jiceng.training_trainees (
    county_code integer not null,
    day         date    not null,
    trainee_id  text    not null,
    primary key (county_code, day, trainee_id)
);

-- Consumer progress: per (group, topic, partition) the next offset to consume, advanced only
-- in the transaction that applies the batch (compare-and-set), and the newest high watermark
-- seen, so lag = high_watermark - next_offset can be reported from PostgreSQL alone.
create table jiceng.consumer_progress (
    group_id       text    not null,
    topic          text    not null,
    partition      integer not null,
    next_offset    bigint  not null,
    high_watermark bigint  not null,
    newest_event_at timestamptz,
    updated_at     timestamptz not null default now(),
    primary key (group_id, topic, partition)
);

-- Dedup ledger: one row per partition per flushed batch, holding the event ids that batch
-- added, as 20-byte entries (16-byte UUID, 4-byte content hash, big-endian) in one bytea. A
-- consumer loads its partitions' rows within the retention window on assignment. Rows older
-- than the retention (by arrival) are deleted.
create table jiceng.dedup_ledger (
    topic       text        not null,
    partition   integer     not null,
    first_offset bigint     not null,
    entries     bytea       not null,
    created_at  timestamptz not null default now(),
    primary key (topic, partition, first_offset)
);
create index dedup_ledger_created_at on jiceng.dedup_ledger (created_at);

-- Rejected messages: kept with their bytes and the reason, in the transaction that moves the
-- offset past them.
create table jiceng.rejects (
    topic        text        not null,
    partition    integer     not null,
    kafka_offset bigint      not null,
    msg_key      bytea,
    payload      bytea,
    status       text        not null,
    reason       text        not null,
    schema_id    integer,
    event_id     text,
    rejected_at  timestamptz not null default now(),
    primary key (topic, partition, kafka_offset)
);
