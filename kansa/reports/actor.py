"""Actor activity report: what one staff member or service did in a period, with its violations and alerts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from clickhouse_connect.driver.client import Client

from kansa.reports.document import Period, Report, Section, utc

ACCESS_COLUMNS = ("occurred_at", "app", "action", "record_type", "categories", "purpose", "subject_id",
                  "subject_count", "record_count", "recipient", "outcome", "source_ip", "decision", "severity",
                  "rules")
ALERT_COLUMNS = ("raised_at", "status", "rule", "severity", "count", "subjects_affected", "summary_en",
                 "summary_ja", "window_start", "window_end", "alert_id")

_ACCESSES = """
SELECT occurred_at, app, action, resource_record_type, data_categories, purpose, subject_id, subject_count,
       record_count, recipient, outcome, source_ip, decision, severity, rule_ids
FROM access_events
WHERE org = {org:String} AND actor_id = {actor:String} AND {period}
ORDER BY occurred_at, event_id
"""
# An alert belongs to the period when its evidence window overlaps it.
_ALERTS = """
SELECT raised_at, status, rule, severity, count, subjects_affected, summary_en, summary_ja, window_start,
       window_end, alert_id
FROM alerts_current FINAL
WHERE org = {org:String} AND actor = {actor:String} AND {period}
ORDER BY raised_at, alert_id
"""


def actor_report(client: Client, org: str, actor: str, period: Period) -> Report:
    params: dict[str, Any] = {"org": org, "actor": actor, **period.parameters()}
    accesses = [_row(r) for r in client.query(_ACCESSES.replace("{period}", period.sql("occurred_at")),
                                              parameters=params).result_rows]
    overlapping = period.overlap_sql("window_start", "window_end")
    alerts = [_row(r) for r in client.query(_ALERTS.replace("{period}", overlapping), parameters=params).result_rows]
    decision = ACCESS_COLUMNS.index("decision")
    violations = [row for row in accesses if row[decision] != "allow"]
    return Report(
        kind="actor", title=f"Actor activity report — {actor} at {org}",
        parameters={"org": org, "actor": actor, **period.describe(), "accesses": len(accesses),
                    "subjects": len({row[ACCESS_COLUMNS.index("subject_id")] for row in accesses} - {""}),
                    "violations": len(violations), "alerts": len(alerts)},
        sections=[
            Section("accesses", "Accesses", ACCESS_COLUMNS, accesses),
            Section("violations", "Accesses the policy did not allow", ACCESS_COLUMNS, violations),
            Section("alerts", "Alerts naming this actor", ALERT_COLUMNS, alerts),
        ],
        notes=["Times are UTC. Subjects appear as stored (pseudonyms when the apps pseudonymise)."],
    )


def _row(row: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(list(v) if isinstance(v, (list, tuple)) else utc(v) for v in row)
