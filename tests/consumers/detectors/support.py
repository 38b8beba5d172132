"""Builders for detector unit tests: events at chosen event times, a fixed clock, the real seed policies."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from consumers.alerts import Alert
from consumers.detectors import ActorDetectors, DetectorThresholds, Thresholds
from consumers.messages import EvaluatedEvent
from consumers.policy import load_policies
from schemas.records import AccessEvent
from tests.conftest import POLICY_DIR

POLICIES = load_policies(str(POLICY_DIR))
NOW = datetime(2025, 6, 4, 3, 0, tzinfo=UTC)
# Wednesday 10:00 in Tokyo: inside weia's business hours (Mon-Fri 9-18).
MORNING = datetime(2025, 6, 4, 1, 0, tzinfo=UTC)


def event(at: datetime, *, actor: str = "weia/staff-0001", role: str = "recruiter", actor_type: str = "staff",
          action: str = "read", purpose: str = "recruitment", categories: Sequence[str] = ("name",),
          subject: str | None = "client-000001", outcome: str = "success", records: int = 1) -> AccessEvent:
    data: dict[str, Any] = {
        "event_id": uuid.uuid4(), "occurred_at": at, "org": "weia", "app": "t",
        "actor": {"id": actor, "type": actor_type, "roles": [role], "department": None},
        "action": action, "resource": {"system": "t", "record_type": "person"}, "subject_id": subject,
        "subject_key_id": None, "subject_count": records, "data_categories": list(categories), "purpose": purpose,
        "legal_basis": None, "recipient": None, "source_ip": None, "session_id": None, "request_id": None,
        "outcome": outcome, "record_count": records, "collected_at": None,
    }
    return data  # type: ignore[return-value]


def detectors(**overrides: Any) -> ActorDetectors:
    thresholds = DetectorThresholds(Thresholds(**overrides), {})
    return ActorDetectors(lambda: POLICIES, lambda: thresholds, clock=lambda: NOW)


# Offsets only grow, as in a partition: a restored detector skips offsets its snapshot already holds.
_OFFSETS = itertools.count()


def feed(detector: ActorDetectors, events: Sequence[AccessEvent], partition: int = 0) -> list[Alert]:
    raised: list[Alert] = []
    for item in events:
        raised.extend(detector.observe_in(partition, EvaluatedEvent(item, 1, next(_OFFSETS), None)))
    return raised


def baseline(start: datetime, count: int, every: timedelta = timedelta(minutes=2), **fields: Any) -> list[AccessEvent]:
    """Routine reads of a small caseload, one every `every`."""
    return [event(start + i * every, subject=f"client-{i % 10:06d}", **fields) for i in range(count)]


def rules(alerts: Sequence[Alert]) -> list[str]:
    return [alert.rule for alert in alerts]
