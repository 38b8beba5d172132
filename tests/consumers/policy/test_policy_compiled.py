"""The seed policies as loaded and compiled: what the issue requires of each, and the business-hours helper."""

from __future__ import annotations

import glob
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from consumers.policy import PolicyEngine, PolicySet, SubjectRequestBook, is_business_hours
from schemas.validation import access_event_from_json, load_json_file

REPO = Path(__file__).resolve().parents[3]


def test_orgs_and_declared_purposes(policies: PolicySet) -> None:
    """All three seed orgs load; weia declares exactly its 13 purposes, each citing its own item."""
    assert list(policies) == ["chiba-cia", "izumisano-ssw", "weia"]
    weia = policies.by_org["weia"].policy
    assert sorted(p.clause for p in weia.purposes.values()) == sorted(f"004 Ⅰ({n})" for n in range(1, 14))


def test_chiba_recipients_and_card_numbers(policies: PolicySet) -> None:
    """Stripe gets payment data only, SelectType booking name/email, carriers name/address; no full card numbers."""
    policy = policies.by_org["chiba-cia"].policy
    assert policy.recipients["stripe-japan"].categories == {"payment_token", "payment_record"}
    assert {"name", "email"} <= policy.recipients["selecttype"].categories
    assert {"name", "address"} <= policy.recipients["delivery-carrier"].categories
    assert "card_number_full" in policy.never_held


@pytest.mark.parametrize("org", ["chiba-cia", "weia", "izumisano-ssw"])
def test_every_entry_cites_its_source(policies: PolicySet, org: str) -> None:
    """Each category, purpose, role, recipient and exception cites a seed clause or the APPI article."""
    policy = policies.by_org[org].policy
    prefix = {"chiba-cia": "002 ", "weia": "004 ", "izumisano-ssw": "000 "}[org]
    entries: list[Any] = [*policy.categories.values(), *policy.purposes.values(), *policy.roles.values(),
               *policy.recipients.values(), *policy.legal_exceptions.values(), *policy.never_held.values()]
    assert entries
    for entry in entries:
        assert entry.clause.startswith((prefix, "APPI ")), (entry.id, entry.clause)


def test_sensitive_and_caps_compiled(policies: PolicySet) -> None:
    """Consultation content is 要配慮 at every org, and role record caps survive compilation."""
    for cp in policies.by_org.values():
        assert "consultation_content" in cp.sensitive
    assert policies.by_org["weia"].roles["harassment_counsellor"].max_records_per_hour == 30
    assert policies.by_org["weia"].roles["privacy_office"].max_records_per_hour is None


@pytest.mark.parametrize("path", sorted(glob.glob(str(REPO / "schemas/samples/valid/*-*.json"))))
def test_sample_events_are_allowed(policies: PolicySet, path: str) -> None:
    """Every sample event for a seed org is valid JSON-contract input and allowed by its policy."""
    event = access_event_from_json(load_json_file(path))
    if event["org"] in policies.by_org:
        assert PolicyEngine(policies).evaluate(event, SubjectRequestBook()).verdict == "allow"


@pytest.mark.parametrize(("when", "expected"), [
    (datetime(2026, 11, 20, 0, 0, tzinfo=UTC), True),     # Fri 09:00 JST, opening time
    (datetime(2026, 11, 20, 8, 59, tzinfo=UTC), True),    # Fri 17:59 JST
    (datetime(2026, 11, 20, 9, 0, tzinfo=UTC), False),    # Fri 18:00 JST, closed
    (datetime(2026, 11, 19, 23, 59, tzinfo=UTC), False),  # Fri 08:59 JST
    (datetime(2026, 11, 21, 2, 0, tzinfo=UTC), False),    # Sat 11:00 JST
    (datetime(2026, 11, 23, 2, 0, tzinfo=UTC), False),    # Mon 11:00 JST, 勤労感謝の日 in closed_on
    (datetime(2026, 11, 24, 0, 0, tzinfo=UTC), True),     # Tue 09:00 JST, the day after
])
def test_business_hours_in_tokyo(policies: PolicySet, when: datetime, expected: bool) -> None:
    """weia's hours are weekdays 09:00-18:00 Asia/Tokyo except national holidays, in any zone given."""
    assert is_business_hours(policies.by_org["weia"], when) is expected


def test_business_hours_differ_per_org(policies: PolicySet) -> None:
    """chiba-cia opens Saturdays and closes Mondays, unlike weia."""
    saturday, monday = datetime(2026, 11, 21, 2, tzinfo=UTC), datetime(2026, 11, 23, 2, tzinfo=UTC)
    assert is_business_hours(policies.by_org["chiba-cia"].policy, saturday)
    assert not is_business_hours(policies.by_org["chiba-cia"].policy, monday)


def test_business_hours_rejects_naive(policies: PolicySet) -> None:
    """A naive datetime has no instant, so the helper refuses it."""
    with pytest.raises(ValueError, match="timezone-aware"):
        is_business_hours(policies.by_org["weia"], datetime(2026, 11, 20, 10))  # noqa: DTZ001
