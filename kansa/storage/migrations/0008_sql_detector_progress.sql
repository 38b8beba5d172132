-- How far each SQL detector has looked, per organisation, in event time. Kept beside the events
-- it describes, so a consumer that restarts after an outage goes on from where the last run (of
-- any consumer) stopped instead of from the newest event, and a store that is rebuilt starts
-- afresh with its data. Readers take max(looked_until): runs only move it forward.
CREATE TABLE IF NOT EXISTS sql_detector_progress
(
    rule LowCardinality(String),
    org LowCardinality(String),
    looked_until DateTime64(6, 'UTC'),
    saved_at DateTime64(6, 'UTC') DEFAULT now64(6)
)
ENGINE = ReplacingMergeTree(looked_until)
ORDER BY (rule, org);
