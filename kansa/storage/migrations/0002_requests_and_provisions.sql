-- Data-subject requests (APPI Art. 35): the consumer rebuilds its request book from here at start.
CREATE TABLE IF NOT EXISTS subject_requests
(
    request_id UUID,
    org LowCardinality(String),
    subject_id String,
    kind LowCardinality(String),
    effective_at DateTime64(6, 'UTC'),
    received_at DateTime64(6, 'UTC'),
    reference String
)
ENGINE = ReplacingMergeTree
ORDER BY (org, subject_id, request_id);

-- Records of provision to third parties (APPI Art. 29). Kept at least 3 years (Art. 30 rules: 1–3 years).
CREATE TABLE IF NOT EXISTS provision_records
(
    event_id UUID,
    provided_on Date,
    occurred_at DateTime64(6, 'UTC'),
    org LowCardinality(String),
    recipient LowCardinality(String),
    recipient_name String,
    subject_id String,
    categories Array(LowCardinality(String)),
    basis LowCardinality(String),
    purpose LowCardinality(String)
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(provided_on)
ORDER BY (org, provided_on, recipient, event_id)
TTL provided_on + INTERVAL 3 YEAR + INTERVAL 30 DAY
SETTINGS non_replicated_deduplication_window = 100000;
