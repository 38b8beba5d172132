-- `alerts` keeps every revision: its sort key includes `revision`, so FINAL there only drops a
-- replayed copy of one revision, and an alert that fired, grew and resolved is three rows, the
-- first two still `firing`. `alerts_current` keys by alert alone, so FINAL keeps each alert's
-- newest revision: what the dashboards and reports count. The view fills it from every insert
-- into `alerts`; the INSERT copies what was stored before this migration (running it twice only
-- adds copies that FINAL and merges collapse).
CREATE TABLE IF NOT EXISTS alerts_current AS alerts
ENGINE = ReplacingMergeTree(revision)
PARTITION BY toYYYYMM(raised_at)
ORDER BY (org, alert_id);
CREATE MATERIALIZED VIEW IF NOT EXISTS alerts_current_mv TO alerts_current AS SELECT * FROM alerts;
INSERT INTO alerts_current SELECT * FROM alerts;
