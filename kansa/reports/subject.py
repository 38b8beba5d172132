"""Subject access report (APPI Art. 33, GDPR Art. 15): every access to one data subject's data.

The subject id is the one stored in events: the SDK's keyed pseudonym when apps pseudonymise, so
the caller pseudonymises a requester's id with the same key first (see `stored_subject_id`).
Staff are shown by role: the subject is owed what was done and why, not who among the staff did it,
unless the organisation decides otherwise (`show_staff`).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from typing import Any

from clickhouse_connect.driver.client import Client

from kansa.reports.document import Period, Report, Section, utc
from producers.pseudonym import SubjectPseudonymiser

ACCESS_COLUMNS = ("occurred_at", "org", "app", "system", "record_type", "action", "categories", "purpose",
                  "legal_basis", "disclosure", "recipient", "recipient_name", "provision_basis", "decision",
                  "rules", "request_in_force", "actor_role", "actor_department")
REQUEST_COLUMNS = ("kind", "effective_at", "received_at", "reference")
PROVISION_COLUMNS = ("provided_on", "occurred_at", "recipient", "recipient_name", "categories", "basis", "purpose",
                     "event_id")

_ACCESSES = """
SELECT event_id, occurred_at, org, app, resource_system, resource_record_type, action, data_categories, purpose,
       legal_basis, recipient, decision, rule_ids, actor_roles, actor_type, actor_department, actor_id
FROM access_events
WHERE org = {org:String} AND subject_id = {subject:String} AND {period}
ORDER BY occurred_at, event_id
"""


def stored_subject_id(org: str, subject_id: str, pseudonymiser: SubjectPseudonymiser | None) -> str:
    """The id as the apps store it: pseudonymised exactly as the SDK does when a key is configured."""
    return pseudonymiser.pseudonym(org, subject_id) if pseudonymiser is not None else subject_id


def subject_report(client: Client, org: str, subject: str, period: Period, show_staff: bool = False) -> Report:
    params: dict[str, Any] = {"org": org, "subject": subject, **period.parameters()}
    accesses = client.query(_ACCESSES.replace("{period}", period.sql("occurred_at")), parameters=params).result_rows
    requests = [tuple(utc(v) for v in row) for row in client.query(
        "SELECT kind, effective_at, received_at, reference FROM subject_requests FINAL "
        "WHERE org = {org:String} AND subject_id = {subject:String} ORDER BY effective_at, request_id",
        parameters=params).result_rows]
    provisions = [tuple(utc(v) for v in row) for row in client.query(
        f"SELECT {', '.join(PROVISION_COLUMNS)} FROM provision_records "
        "WHERE org = {org:String} AND subject_id = {subject:String} AND "
        f"{period.sql('occurred_at')} ORDER BY occurred_at, event_id", parameters=params).result_rows]
    by_event = {row[PROVISION_COLUMNS.index("event_id")]: row for row in provisions}
    columns = ACCESS_COLUMNS + (("actor_id",) if show_staff else ())
    rows = [_access_row(row, by_event, requests, show_staff) for row in accesses]
    summary = {
        "accesses": len(rows),
        "disclosures": sum(1 for row in rows if row[ACCESS_COLUMNS.index("disclosure")]),
        "rule_breaches": sum(1 for row in rows if row[ACCESS_COLUMNS.index("decision")] == "violation"),
    }
    return Report(
        kind="subject", title=f"Subject access report — {org}",
        parameters={"org": org, "subject_id": subject, **period.describe(), **summary,
                    "staff": "identified" if show_staff else "shown by role"},
        sections=[
            Section("accesses", "Accesses to the subject's data", columns, rows),
            Section("requests", "The subject's requests (suspension of use, erasure, …)", REQUEST_COLUMNS, requests),
            Section("provisions", "Records of provision to third parties (APPI Art. 29)", PROVISION_COLUMNS,
                    provisions),
        ],
        notes=["Times are UTC. decision=violation marks an access that broke the organisation's policy; "
               "rules names the rules it broke."],
    )


def _access_row(row: Sequence[Any], provisions: dict[Any, tuple[Any, ...]], requests: list[tuple[Any, ...]],
                show_staff: bool) -> tuple[Any, ...]:
    (event_id, occurred_at, org, app, system, record_type, action, categories, purpose, legal_basis, recipient,
     decision, rules, roles, actor_type, department, actor_id) = row
    occurred_at = utc(occurred_at)
    provision = provisions.get(event_id)
    disclosure = action == "disclose"
    values: tuple[Any, ...] = (
        occurred_at, org, app, system, record_type, action, list(categories), purpose, legal_basis or None,
        disclosure, recipient or None,
        provision[PROVISION_COLUMNS.index("recipient_name")] or None if provision else None,
        provision[PROVISION_COLUMNS.index("basis")] if provision else None,
        decision, list(rules), _in_force(requests, occurred_at),
        ",".join(roles) or actor_type, department or None,
    )
    return values + ((actor_id,) if show_staff else ())


def _in_force(requests: list[tuple[Any, ...]], at: Any) -> str | None:
    """Kinds of the subject's requests already effective at `at` (requests are sorted by effective_at)."""
    effective = [row[1] for row in requests]
    kinds = sorted({row[0] for row in requests[:bisect_right(effective, at)]})
    return ",".join(kinds) or None
