"""Every Prometheus metric kansa exports, in one place.

Labels are bounded by construction: org ids come from the loaded policies (anything else is
reported as `unknown`), and rule, detector, severity, decision and reason are fixed code
lists. Actor and subject ids never become labels.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
_BATCH_BUCKETS = (1, 10, 100, 1_000, 5_000, 10_000, 20_000, 50_000, 100_000)

EVENTS_CONSUMED = Counter(
    "kansa_events_consumed_total", "Valid access events consumed and stored, per org.", ["org"], registry=REGISTRY,
)
DECISIONS = Counter(
    "kansa_decisions_total", "Policy decisions by verdict (allow, review, violation).", ["org", "decision"],
    registry=REGISTRY,
)
VIOLATIONS = Counter(
    "kansa_violations_total", "Rule hits by rule and severity.", ["org", "rule", "severity"], registry=REGISTRY,
)
ALERTS_RAISED = Counter(
    "kansa_alerts_raised_total", "Alerts raised by detector or rule, and severity.", ["org", "detector", "severity"],
    registry=REGISTRY,
)
DEAD_LETTERED = Counter(
    "kansa_dead_lettered_total", "Messages sent to the dead-letter topic, by reason.", ["reason"], registry=REGISTRY,
)
BATCH_ROWS = Histogram(
    "kansa_batch_rows", "Rows per ClickHouse insert batch.", buckets=_BATCH_BUCKETS, registry=REGISTRY,
)
WRITE_SECONDS = Histogram(
    "kansa_clickhouse_write_seconds", "Time to insert one batch into ClickHouse.", ["table"],
    buckets=_LATENCY_BUCKETS, registry=REGISTRY,
)
WRITE_ERRORS = Counter(
    "kansa_clickhouse_write_errors_total", "Failed ClickHouse inserts (each is retried).", ["table"],
    registry=REGISTRY,
)
EVENT_TO_STORED_SECONDS = Histogram(
    "kansa_event_to_stored_seconds", "From an event's occurred_at to its row being in ClickHouse.",
    buckets=_LATENCY_BUCKETS, registry=REGISTRY,
)
EVENT_TO_ALERT_SECONDS = Histogram(
    "kansa_event_to_alert_seconds", "From the first evidence event's occurred_at to its alert being published.",
    buckets=_LATENCY_BUCKETS, registry=REGISTRY,
)
COMMITS = Counter(
    "kansa_offset_commits_total", "Offset commits after a successful write.", registry=REGISTRY,
)
CONSUMER_LAG = Gauge(
    "kansa_consumer_lag_messages", "Messages behind the partition end, per partition (clamped at 0).",
    ["topic", "partition"], registry=REGISTRY,
)
LAST_EVENT_TIMESTAMP = Gauge(
    "kansa_last_event_timestamp_seconds", "occurred_at of the newest event stored, per org (unix seconds).",
    ["org"], registry=REGISTRY,
)
ORG_OPEN = Gauge(
    "kansa_org_open", "1 inside the organisation's business hours as its policy declares them, else 0.",
    ["org"], registry=REGISTRY,
)
CLOSED_DAYS_END = Gauge(
    "kansa_policy_closed_on_end_timestamp_seconds",
    "Start of the day after the last date in the organisation's business_hours.closed_on (its zone), as a Unix "
    "time: past it, public holidays count as working days. No series for a policy that lists none.",
    ["org"], registry=REGISTRY,
)
DETECTOR_STATE_ACTORS = Gauge(
    "kansa_detector_state_actors", "Actors held in streaming detector state.", registry=REGISTRY,
)
ALERT_DELIVERIES = Counter(
    "kansa_alert_deliveries_total", "Alert pushes to Alertmanager by result (ok, error).", ["result"],
    registry=REGISTRY,
)
ALERT_DELIVERY_PENDING = Gauge(
    "kansa_alert_delivery_pending", "Alerts waiting to reach Alertmanager.", registry=REGISTRY,
)
POLICY_RELOADS = Counter(
    "kansa_policy_reloads_total", "Policy reloads by result (ok, error).", ["result"], registry=REGISTRY,
)
