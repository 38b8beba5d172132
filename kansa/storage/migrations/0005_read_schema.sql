-- Read side (issue 6): retention enforced by TTL, a subject-ordered projection, and small
-- aggregate tables fed by materialised views for the dashboards. docs/storage.md explains each.

-- The day a row must be gone. The writer computes it from the policy (see consumers/rows.py);
-- the default only covers rows written before this column existed: the evidence floor.
ALTER TABLE access_events ADD COLUMN IF NOT EXISTS retain_until Date DEFAULT toDate(occurred_at) + toIntervalYear(3);
ALTER TABLE access_events MODIFY TTL retain_until;

-- "Everything done to one subject" reads a few granules of this projection instead of the
-- whole table; the optimiser picks it for WHERE org = … AND subject_id = … by itself.
ALTER TABLE access_events ADD PROJECTION IF NOT EXISTS by_subject (SELECT * ORDER BY org, subject_id, occurred_at);
ALTER TABLE access_events MATERIALIZE PROJECTION by_subject;
-- Erasure requests may delete rows with lightweight DELETE; without this a projection refuses it.
ALTER TABLE access_events MODIFY SETTING lightweight_mutation_projection_mode = 'rebuild';

-- Events per minute by org, app, decision and severity: the security overview's main series.
-- Counts only, no personal data, so they outlive the rows they summarise (25 months: year on year).
CREATE TABLE IF NOT EXISTS activity_minutely
(
    minute DateTime('UTC'),
    org LowCardinality(String),
    app LowCardinality(String),
    decision LowCardinality(String),
    severity LowCardinality(String),
    events UInt64,
    records UInt64
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(minute)
ORDER BY (org, minute, decision, severity, app)
TTL minute + INTERVAL 25 MONTH
SETTINGS non_replicated_deduplication_window = 100000;

CREATE MATERIALIZED VIEW IF NOT EXISTS activity_minutely_mv TO activity_minutely AS
SELECT toStartOfMinute(occurred_at) AS minute, org, app, decision, severity,
       count() AS events, sum(record_count) AS records
FROM access_events
GROUP BY minute, org, app, decision, severity;

-- One row per rule hit (an event breaking two rules counts once for each rule).
CREATE TABLE IF NOT EXISTS rule_hits_minutely
(
    minute DateTime('UTC'),
    org LowCardinality(String),
    rule_id LowCardinality(String),
    decision LowCardinality(String),
    severity LowCardinality(String),
    events UInt64
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(minute)
ORDER BY (org, minute, rule_id, decision, severity)
TTL minute + INTERVAL 25 MONTH
SETTINGS non_replicated_deduplication_window = 100000;

CREATE MATERIALIZED VIEW IF NOT EXISTS rule_hits_minutely_mv TO rule_hits_minutely AS
SELECT toStartOfMinute(occurred_at) AS minute, org, rule_id, decision, severity, count() AS events
FROM access_events
ARRAY JOIN rule_ids AS rule_id
GROUP BY minute, org, rule_id, decision, severity;

-- Top actors. Actor ids identify staff, so these rows live as long as the evidence floor.
CREATE TABLE IF NOT EXISTS actor_activity_hourly
(
    hour DateTime('UTC'),
    org LowCardinality(String),
    actor_id String,
    actor_type LowCardinality(String),
    decision LowCardinality(String),
    events UInt64,
    records UInt64,
    subjects UInt64
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (org, hour, actor_id, actor_type, decision)
TTL hour + INTERVAL 3 YEAR
SETTINGS non_replicated_deduplication_window = 100000;

CREATE MATERIALIZED VIEW IF NOT EXISTS actor_activity_hourly_mv TO actor_activity_hourly AS
SELECT toStartOfHour(occurred_at) AS hour, org, actor_id, actor_type, decision,
       count() AS events, sum(record_count) AS records, sum(subject_count) AS subjects
FROM access_events
GROUP BY hour, org, actor_id, actor_type, decision;

-- Disclosures per recipient, whatever the decision (provision_records holds only the lawful ones).
CREATE TABLE IF NOT EXISTS disclosures_hourly
(
    hour DateTime('UTC'),
    org LowCardinality(String),
    recipient LowCardinality(String),
    decision LowCardinality(String),
    events UInt64,
    records UInt64,
    subjects UInt64
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (org, hour, recipient, decision)
TTL hour + INTERVAL 3 YEAR
SETTINGS non_replicated_deduplication_window = 100000;

CREATE MATERIALIZED VIEW IF NOT EXISTS disclosures_hourly_mv TO disclosures_hourly AS
SELECT toStartOfHour(occurred_at) AS hour, org, recipient, decision,
       count() AS events, sum(record_count) AS records, sum(subject_count) AS subjects
FROM access_events
WHERE action = 'disclose'
GROUP BY hour, org, recipient, decision
