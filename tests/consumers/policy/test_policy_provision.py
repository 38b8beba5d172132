"""APPI Art. 29 provision records: one for each disclose the policy let through, none otherwise."""

from __future__ import annotations

import datetime as dt
from typing import Any

from consumers.policy import PolicyEngine, PolicySet, SubjectRequestBook, provision_record


def test_record_for_allowed_stripe_disclosure(engine: PolicyEngine, policies: PolicySet, make_event: Any) -> None:
    """An allowed disclosure to Stripe yields a consent-based record dated in Japan time."""
    event = make_event(
        "chiba-cia", action="disclose", recipient="stripe-japan", purpose="payment_settlement",
        actor={"id": "svc", "type": "service", "roles": ["svc_payment_gateway"], "department": None},
        data_categories=["payment_token", "payment_record"],
        occurred_at=dt.datetime(2026, 11, 20, 16, 30, tzinfo=dt.UTC),  # 01:30 on the 21st in Tokyo
    )
    decision = engine.evaluate(event, SubjectRequestBook())
    record = provision_record(event, decision, policies)
    assert record is not None
    assert (record.provided_on, record.recipient, record.recipient_name) == (
        dt.date(2026, 11, 21), "stripe-japan", "Stripe Japan K.K.")
    assert (record.basis, record.categories, record.event_id) == (
        "consent", ("payment_record", "payment_token"), event["event_id"])


def test_record_carries_legal_basis(engine: PolicyEngine, policies: PolicySet, make_event: Any) -> None:
    """A disclosure to the police under a legal exception is under review and recorded with that basis."""
    event = make_event("weia", action="disclose", recipient="tokyo-metropolitan-police",
                       legal_basis="public-authority", data_categories=["name"],
                       actor={"id": "po-1", "type": "staff", "roles": ["privacy_office"], "department": None})
    decision = engine.evaluate(event, SubjectRequestBook())
    record = provision_record(event, decision, policies)
    assert decision.verdict == "review"
    assert record is not None
    assert record.basis == "public-authority"
    assert record.recipient_name is None


def test_no_record_for_violation_or_non_disclose(engine: PolicyEngine, policies: PolicySet, make_event: Any) -> None:
    """A refused disclosure and a plain read produce no provision record."""
    bad = make_event("weia", action="disclose", recipient="acme")
    read = make_event("weia")
    book = SubjectRequestBook()
    assert provision_record(bad, engine.evaluate(bad, book), policies) is None
    assert provision_record(read, engine.evaluate(read, book), policies) is None
