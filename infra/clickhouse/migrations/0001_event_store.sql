-- The event store: every valid canonical event (EVENTS.md), once, append-only. The source of
-- truth from which every metric table is rebuilt.
--
-- * ORDER BY (org_id, event_id): the deduplication key of ReplacingMergeTree and the lookup key of
--   ingest's conflict check (same event_id, different body). Metric queries read one org's whole
--   history anyway (org chart and deal ownership are as-of joins over all time).
-- * Exact duplicates (Kafka redelivery) collapse three ways: ingest skips ids already stored,
--   insert_deduplication_token makes a retried batch a no-op (non_replicated_deduplication_window),
--   and ReplacingMergeTree merges any that slip through; readers still use FINAL or LIMIT 1 BY.
-- * The typed columns are MATERIALIZED from `payload` by ClickHouse at insert time: ingest writes
--   the envelope and the payload as sent, the table derives what the metric queries filter on.
CREATE TABLE IF NOT EXISTS {db:Identifier}.events
(
    org_id          LowCardinality(String),
    event_id        String,
    type            LowCardinality(String),
    schema_version  UInt8,
    occurred_at     DateTime64(3, 'UTC'),
    source_system   LowCardinality(String),
    source_ref      String,
    payload         String CODEC(ZSTD(3)),
    body_hash       UInt64,
    ingested_at     DateTime64(3, 'UTC') DEFAULT now64(3),

    user_id         String MATERIALIZED JSONExtractString(payload, 'user_id'),
    role            LowCardinality(String) MATERIALIZED JSONExtractString(payload, 'role'),
    manager_id      String MATERIALIZED JSONExtractString(payload, 'manager_id'),
    active          UInt8 MATERIALIZED JSONExtractBool(payload, 'active'),
    email           String MATERIALIZED JSONExtractString(payload, 'email'),
    user_timezone   String MATERIALIZED JSONExtractString(payload, 'timezone'),

    opportunity_id  String MATERIALIZED JSONExtractString(payload, 'opportunity_id'),
    account_id      String MATERIALIZED JSONExtractString(payload, 'account_id'),
    owner_id        String MATERIALIZED JSONExtractString(payload, 'owner_id'),
    stage_category  LowCardinality(String) MATERIALIZED JSONExtractString(payload, 'stage_category'),
    to_category     LowCardinality(String) MATERIALIZED JSONExtractString(payload, 'to_category'),
    changed_by      String MATERIALIZED JSONExtractString(payload, 'changed_by'),
    from_owner      String MATERIALIZED JSONExtractString(payload, 'from_owner'),
    to_owner        String MATERIALIZED JSONExtractString(payload, 'to_owner'),
    closed_by       String MATERIALIZED JSONExtractString(payload, 'closed_by'),
    outcome         LowCardinality(String) MATERIALIZED JSONExtractString(payload, 'outcome'),
    amount          Nullable(Float64) MATERIALIZED JSONExtract(payload, 'amount', 'Nullable(Float64)'),
    currency        LowCardinality(String) MATERIALIZED JSONExtractString(payload, 'currency'),

    set_by          String MATERIALIZED JSONExtractString(payload, 'set_by'),
    period_start    Nullable(Date) MATERIALIZED toDateOrNull(JSONExtractString(payload, 'period_start')),
    period_end      Nullable(Date) MATERIALIZED toDateOrNull(JSONExtractString(payload, 'period_end')),

    kind            LowCardinality(String) MATERIALIZED JSONExtractString(payload, 'kind'),
    participant_ids Array(String) MATERIALIZED JSONExtract(payload, 'participant_ids', 'Array(String)'),
    contact_ids     Array(String) MATERIALIZED JSONExtract(payload, 'contact_ids', 'Array(String)'),

    thread_id       String MATERIALIZED JSONExtractString(payload, 'thread_id'),
    sender_id       String MATERIALIZED JSONExtractString(payload, 'sender_id'),
    recipient_ids   Array(String) MATERIALIZED JSONExtract(payload, 'recipient_ids', 'Array(String)'),
    organizer_id    String MATERIALIZED JSONExtractString(payload, 'organizer_id'),
    attendee_ids    Array(String) MATERIALIZED JSONExtract(payload, 'attendee_ids', 'Array(String)'),
    from_id         String MATERIALIZED JSONExtractString(payload, 'from_id'),
    to_ids          Array(String) MATERIALIZED JSONExtract(payload, 'to_ids', 'Array(String)')
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (org_id, event_id)
SETTINGS non_replicated_deduplication_window = 10000;
