"""Shared fixtures: the real seed policies, and a factory for events that start out policy-allowed."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from consumers.policy import PolicyEngine, PolicySet, SubjectRequestBook, load_policies
from schemas.records import AccessEvent

REPO = Path(__file__).resolve().parents[3]
POLICY_DIR = REPO / "policies"

# One allowed event per seed org; tests change one field to cross exactly one rule.
BASE_EVENTS: dict[str, dict[str, Any]] = {
    "chiba-cia": {
        "actor": {"id": "staff-0231", "type": "staff", "roles": ["consultation_counsellor"], "department": None},
        "action": "read", "purpose": "applications", "data_categories": ["name", "phone"],
    },
    "weia": {
        "actor": {"id": "counsellor-07", "type": "staff", "roles": ["harassment_counsellor"], "department": None},
        "action": "read", "purpose": "p01_consultation_service", "data_categories": ["name", "organisation"],
    },
    "izumisano-ssw": {
        "actor": {"id": "staff-nguyen", "type": "staff", "roles": ["support_counsellor"], "department": None},
        "action": "read", "purpose": "ssw_support", "data_categories": ["name", "residence_status"],
    },
}
ORGS = tuple(BASE_EVENTS)

EventFactory = Callable[..., AccessEvent]


def build_event(org: str, **changes: Any) -> AccessEvent:
    event: dict[str, Any] = {
        "event_id": uuid.UUID("00000000-0000-4000-8000-000000000001"),
        "occurred_at": datetime(2026, 11, 20, 1, 15, tzinfo=UTC),
        "org": org, "app": "test-app",
        "resource": {"system": "test", "record_type": "person"},
        "subject_id": "subject-1", "subject_key_id": None, "subject_count": 1,
        "legal_basis": None, "recipient": None, "source_ip": None, "session_id": None, "request_id": None,
        "outcome": "success", "record_count": 1, "collected_at": None,
        **copy.deepcopy(BASE_EVENTS.get(org, BASE_EVENTS["weia"])),
    }
    event.update(changes)
    return event  # type: ignore[return-value]


@pytest.fixture(scope="session")
def policies() -> PolicySet:
    return load_policies(str(POLICY_DIR))


@pytest.fixture(scope="session")
def engine(policies: PolicySet) -> PolicyEngine:
    return PolicyEngine(policies)


@pytest.fixture
def book() -> SubjectRequestBook:
    return SubjectRequestBook()


@pytest.fixture
def make_event() -> EventFactory:
    return build_event
