"""Records of provision to third parties (APPI Art. 29) for disclose events the policy let through."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from consumers.policy.compiled import PolicySet
from consumers.policy.decision import Decision
from schemas.records import AccessEvent

CONSENT = "consent"


@dataclass(frozen=True, slots=True)
class ProvisionRecord:
    provided_on: date  # the organisation's local date, which is what a record-keeping duty counts in
    org: str
    recipient: str
    recipient_name: str | None  # the policy's English label for a named recipient
    subject_id: str | None
    categories: tuple[str, ...]
    basis: str  # the legal exception id, or "consent" for a named recipient declared in the policy
    event_id: UUID
    purpose: str


def provision_record(event: AccessEvent, decision: Decision, policies: PolicySet) -> ProvisionRecord | None:
    """The record for a disclose event that was allowed or is under review; None for anything else."""
    if event["action"] != "disclose" or decision.verdict == "violation" or event["recipient"] is None:
        return None
    cp = policies.get(event["org"])
    if cp is None:
        return None
    named = cp.policy.recipients.get(event["recipient"])
    return ProvisionRecord(
        provided_on=event["occurred_at"].astimezone(cp.policy.business_hours.zone).date(),
        org=event["org"],
        recipient=event["recipient"],
        recipient_name=named.label.en if named is not None else None,
        subject_id=event["subject_id"],
        categories=tuple(sorted(set(event["data_categories"]))),
        basis=event["legal_basis"] or CONSENT,
        event_id=event["event_id"],
        purpose=event["purpose"],
    )
