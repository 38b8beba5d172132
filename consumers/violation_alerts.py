"""Turns policy decisions into alert candidates: one per rule hit, folded later by fingerprint."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from consumers.alerts import Alert, Kind, LocalizedText, Sensitivity, Severity, new_alert
from consumers.alerts.model import utc_now
from consumers.messages import EvaluatedEvent
from consumers.policy import PolicySet

_SENSITIVITY = {"ordinary": Sensitivity.ORDINARY, "sensitive": Sensitivity.SENSITIVE,
                "financial": Sensitivity.FINANCIAL}


class PolicyViolationAlerts:
    """A detector in form: reads the decision the evaluate step made, raises an alert per rule hit."""

    def __init__(self, policies: Callable[[], PolicySet], clock: Callable[[], datetime] = utc_now) -> None:
        self._policies = policies
        self._clock = clock

    def observe(self, item: EvaluatedEvent) -> Sequence[Alert]:
        decision = item.decision
        if not decision.hits:
            return ()
        event = item.event
        compiled = self._policies().get(event["org"])
        sensitivities = set()
        if compiled is not None:
            for category in event["data_categories"]:
                known = compiled.declared(category)
                if known is not None:
                    sensitivities.add(_SENSITIVITY[known.sensitivity])
        now = self._clock()
        alerts = []
        for hit in decision.hits:
            alerts.append(new_alert(
                kind=Kind.POLICY, rule=hit.rule_id, severity=Severity(hit.severity), org=event["org"],
                actor=event["actor"]["id"], subject=event["subject_id"], event_ids=[str(event["event_id"])],
                first_seen=event["occurred_at"], last_seen=event["occurred_at"], now=now,
                summary=LocalizedText(ja=hit.reason_ja, en=hit.reason_en, vi=hit.reason_vi),
                description=LocalizedText(
                    ja=f"{event['actor']['id']} による {event['action']}({event['app']}): {hit.reason_ja}",
                    en=f"{event['action']} by {event['actor']['id']} in {event['app']}: {hit.reason_en}",
                    vi=hit.reason_vi,
                ),
                sensitivities=sensitivities, subjects_affected=max(1, event["subject_count"]),
                data_categories=event["data_categories"], subject_key_id=event.get("subject_key_id"),
                policy_clause=hit.clause,
            ))
        return alerts
