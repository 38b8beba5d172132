"""Builds the first revision of an alert from one decision (a rule hit or a detection)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from consumers.alerts.appi import classify, most_sensitive
from consumers.alerts.fingerprint import alert_fingerprint, episode_id
from consumers.alerts.model import EVIDENCE_CAP, Alert, Kind, LocalizedText, Sensitivity, Severity, Status
from kansa.config import DEFAULT_RUNBOOK_URL


def runbook_for(rule: str, runbooks: str = DEFAULT_RUNBOOK_URL) -> str:
    """The rule's entry in docs/runbooks.md as published at `runbooks` (anchors are the lower-cased rule ids)."""
    return f"{runbooks}#{rule.lower()}"


def new_alert(*, kind: Kind, rule: str, severity: Severity, org: str, actor: str | None, subject: str | None,
              event_ids: Sequence[str], first_seen: datetime, last_seen: datetime, now: datetime,
              summary: LocalizedText, description: LocalizedText,
              sensitivities: Iterable[Sensitivity] = (), subjects_affected: int = 1,
              unjust_purpose: bool = False, data_categories: Iterable[str] = (),
              subject_key_id: str | None = None, policy_clause: str | None = None,
              runbook_url: str | None = None, count: int | None = None) -> Alert:
    """A firing alert at revision 0: the folder gives it revision 1 when it is first drained."""
    if not event_ids:
        raise ValueError("an alert needs at least one evidence event id")
    present = frozenset(sensitivities)
    fingerprint = alert_fingerprint(org, rule, actor, subject)
    return Alert(
        alert_id=episode_id(fingerprint, event_ids[0]), fingerprint=fingerprint, revision=0,
        status=Status.FIRING, kind=kind, rule=rule, severity=severity, org=org, actor=actor, subject=subject,
        subject_key_id=subject_key_id, window_start=first_seen, window_end=last_seen,
        count=len(event_ids) if count is None else count, subjects_affected=subjects_affected,
        evidence_event_ids=tuple(event_ids[:EVIDENCE_CAP]), data_categories=tuple(sorted(set(data_categories))),
        sensitivity=most_sensitive(present), suspected_unjust_purpose=unjust_purpose,
        summary=summary, description=description, policy_clause=policy_clause,
        appi=classify(present, subjects_affected, unjust_purpose, discovered_at=now),
        runbook_url=runbook_url or runbook_for(rule), raised_at=now, updated_at=now,
    )
