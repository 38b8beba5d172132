-- Alert revisions as published to kansa.alerts (the topic is the source of truth; this table is
-- for dashboards and reports). A replay re-inserts the same (alert_id, revision): the
-- ReplacingMergeTree keeps one.
CREATE TABLE IF NOT EXISTS alerts
(
    alert_id String,
    fingerprint String,
    revision UInt32,
    status LowCardinality(String),
    kind LowCardinality(String),
    rule LowCardinality(String),
    severity LowCardinality(String),
    org LowCardinality(String),
    actor Nullable(String),
    subject Nullable(String),
    subject_key_id Nullable(String),
    window_start DateTime64(6, 'UTC'),
    window_end DateTime64(6, 'UTC'),
    count UInt64,
    subjects_affected UInt64,
    evidence_event_ids Array(String),
    data_categories Array(LowCardinality(String)),
    sensitivity LowCardinality(String),
    suspected_unjust_purpose Bool,
    summary_ja String,
    summary_en String,
    summary_vi Nullable(String),
    description_ja String,
    description_en String,
    description_vi Nullable(String),
    policy_clause Nullable(String),
    appi_cases Array(LowCardinality(String)),
    appi_preliminary_due Nullable(DateTime64(6, 'UTC')),
    appi_final_due Nullable(DateTime64(6, 'UTC')),
    runbook_url String,
    raised_at DateTime64(6, 'UTC'),
    updated_at DateTime64(6, 'UTC'),
    resolved_at Nullable(DateTime64(6, 'UTC'))
)
ENGINE = ReplacingMergeTree(revision)
PARTITION BY toYYYYMM(raised_at)
ORDER BY (org, alert_id, revision);
