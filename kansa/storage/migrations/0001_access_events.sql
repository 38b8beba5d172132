-- Every access event, with the policy decision made for it. One row per event_id:
-- inserts carry an insert_deduplication_token per Kafka partition and offset range, so
-- non_replicated_deduplication_window must stay well above the batches in flight.
CREATE TABLE IF NOT EXISTS access_events
(
    event_id UUID,
    occurred_at DateTime64(6, 'UTC'),
    stored_at DateTime64(3, 'UTC') DEFAULT now64(3),
    org LowCardinality(String),
    app LowCardinality(String),
    actor_id String,
    actor_type LowCardinality(String),
    actor_roles Array(LowCardinality(String)),
    actor_department LowCardinality(String),
    action LowCardinality(String),
    resource_system LowCardinality(String),
    resource_record_type LowCardinality(String),
    subject_id String,
    subject_key_id LowCardinality(String),
    subject_count UInt32,
    data_categories Array(LowCardinality(String)),
    purpose LowCardinality(String),
    legal_basis LowCardinality(String),
    recipient LowCardinality(String),
    source_ip String,
    session_id String,
    request_id String,
    outcome LowCardinality(String),
    record_count UInt32,
    collected_at Nullable(DateTime64(6, 'UTC')),
    decision LowCardinality(String),
    severity LowCardinality(String),
    rule_ids Array(LowCardinality(String)),
    schema_id UInt32,
    kafka_partition UInt32,
    kafka_offset UInt64,
    INDEX idx_subject subject_id TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_actor actor_id TYPE bloom_filter(0.001) GRANULARITY 1
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (org, toStartOfHour(occurred_at), actor_id, occurred_at)
SETTINGS non_replicated_deduplication_window = 100000;

-- Write-ahead record of each insert's Kafka offset range. A consumer that takes over a
-- partition replays the same ranges, so its inserts carry the same deduplication tokens.
CREATE TABLE IF NOT EXISTS ingest_batches
(
    topic LowCardinality(String),
    partition UInt32,
    first_offset UInt64,
    last_offset UInt64,
    planned_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
ORDER BY (topic, partition, first_offset)
TTL toDateTime(planned_at) + INTERVAL 30 DAY;
