"""Violations summary: rule breaches per organisation and rule in a period, with the alerts they raised."""

from __future__ import annotations

from typing import Any

from clickhouse_connect.driver.client import Client

from kansa.reports.document import Period, Report, Section, utc

COLUMNS = ("org", "rule", "severity", "decision", "events", "actors", "subjects", "first_seen", "last_seen")
ALERT_COLUMNS = ("org", "rule", "severity", "alerts", "open", "reportable_candidates")

# Reads the base table, not rule_hits_minutely: distinct actors and subjects need the rows.
_VIOLATIONS = """
SELECT org, rule_id, severity, decision, count(), uniqExact(actor_id), uniqExactIf(subject_id, subject_id != ''),
       min(occurred_at), max(occurred_at)
FROM access_events
ARRAY JOIN rule_ids AS rule_id
WHERE decision != 'allow' AND {orgs} AND {period}
GROUP BY org, rule_id, severity, decision
ORDER BY org, count() DESC, rule_id, severity
"""
_ALERTS = """
SELECT org, rule, severity, count(), countIf(status = 'firing'), countIf(notEmpty(appi_cases))
FROM alerts_current FINAL
WHERE {orgs} AND {period}
GROUP BY org, rule, severity
ORDER BY org, count() DESC, rule
"""


def violations_report(client: Client, period: Period, org: str | None = None) -> Report:
    params: dict[str, Any] = {"org": org or "", **period.parameters()}
    orgs = "org = {org:String}" if org else "1"
    sql = _VIOLATIONS.replace("{orgs}", orgs).replace("{period}", period.sql("occurred_at"))
    rows = [tuple(utc(v) for v in r) for r in client.query(sql, parameters=params).result_rows]
    alerts = [tuple(r) for r in client.query(
        _ALERTS.replace("{orgs}", orgs).replace("{period}", period.sql("raised_at")), parameters=params).result_rows]
    return Report(
        kind="violations", title="Violations summary" + (f" — {org}" if org else ""),
        parameters={"org": org or "all", **period.describe(), "rule_hits": sum(r[4] for r in rows)},
        sections=[Section("violations", "Rule breaches by organisation and rule", COLUMNS, rows),
                  Section("alerts", "Alerts by organisation and rule", ALERT_COLUMNS, alerts)],
        notes=["An event breaking several rules counts once under each. Times are UTC."],
    )
