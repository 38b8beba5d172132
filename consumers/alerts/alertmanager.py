"""Alertmanager API v2 client (urllib only) and the mapping from an Alert to what Alertmanager sees.

Labels are for routing and identity (alertname, severity, org, rule, actor, fingerprint);
everything meant for people goes into annotations. Alertmanager tells alerts apart by their
label set, so the kansa fingerprint is a label: two actors breaking the same rule stay two alerts.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from consumers.alerts.model import Alert, Kind, Status

ALERTNAMES = {Kind.POLICY: "KansaPolicyViolation", Kind.DETECTOR: "KansaAccessAnomaly"}
_EVIDENCE_IN_ANNOTATION = 5


class AlertmanagerUnavailableError(Exception):
    """Alertmanager did not accept the alerts (down, timeout or an error status); retry later."""


class AlertmanagerClient:
    def __init__(self, base_url: str, timeout: float = 5.0) -> None:
        self._base = base_url.rstrip("/")
        self._timeout = timeout

    def post_alerts(self, alerts: Sequence[dict[str, Any]]) -> None:
        body = json.dumps(list(alerts)).encode()
        request = urllib.request.Request(self._base + "/api/v2/alerts", data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        self._call(request)

    def get_alerts(self) -> list[dict[str, Any]]:
        """Alerts Alertmanager currently holds (active, silenced and inhibited)."""
        request = urllib.request.Request(self._base + "/api/v2/alerts", method="GET")
        result: list[dict[str, Any]] = json.loads(self._call(request))
        return result

    def _call(self, request: urllib.request.Request) -> bytes:
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                data: bytes = response.read()
                return data
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")[:500]
            where = f"{request.method} {request.full_url}"
            raise AlertmanagerUnavailableError(f"{where}: HTTP {exc.code}: {detail}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise AlertmanagerUnavailableError(f"{request.method} {request.full_url}: {exc}") from exc


def routing_labels(alert: Alert) -> dict[str, str]:
    found = {
        "alertname": ALERTNAMES[alert.kind], "severity": alert.severity.value, "org": alert.org,
        "rule": alert.rule, "kansa_fingerprint": alert.fingerprint,
    }
    if alert.actor:
        found["actor"] = alert.actor
    return found


def people_annotations(alert: Alert) -> dict[str, str]:
    found = {
        "summary": alert.summary.en, "summary_ja": alert.summary.ja,
        "description": alert.description.en, "description_ja": alert.description.ja,
        "count": str(alert.count), "subjects_affected": str(alert.subjects_affected),
        "window_start": _iso(alert.window_start), "window_end": _iso(alert.window_end),
        "evidence_event_ids": ",".join(alert.evidence_event_ids[:_EVIDENCE_IN_ANNOTATION]),
        "alert_id": alert.alert_id, "runbook_url": alert.runbook_url,
    }
    if alert.summary.vi:
        found["summary_vi"] = alert.summary.vi
    if alert.description.vi:
        found["description_vi"] = alert.description.vi
    if alert.policy_clause:
        found["policy_clause"] = alert.policy_clause
    if alert.appi:
        found["appi_cases"] = ",".join(case.value for case in alert.appi.cases)
        found["appi_preliminary_report_due"] = _iso(alert.appi.preliminary_report_due)
        found["appi_final_report_due"] = _iso(alert.appi.final_report_due)
    return found


def to_alertmanager(alert: Alert, now: datetime, hold: timedelta) -> dict[str, Any]:
    """A postable alert; a firing one ends at now + hold, so it lapses if re-sends stop (kansa died)."""
    ends_at = alert.resolved_at if alert.status is Status.RESOLVED and alert.resolved_at else now + hold
    return {
        "labels": routing_labels(alert), "annotations": people_annotations(alert),
        "startsAt": _iso(alert.raised_at), "endsAt": _iso(ends_at),
    }


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
