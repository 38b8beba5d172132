"""Column-oriented rows for ClickHouse from evaluated events (one list per column, no per-row dicts)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from consumers.messages import Batch, EvaluatedEvent
from consumers.policy import PolicySet
from schemas.records import AccessEvent

# The access log is evidence of how personal data was handled (APPI Art. 23 security measures,
# complaints, breach reports), so a row outlives the data it describes by at least this long.
# Provision records keep the same 3 years (Art. 30 rules); docs/storage.md has the reasoning.
EVIDENCE_YEARS = 3

ACCESS_EVENT_COLUMNS = (
    "event_id", "occurred_at", "org", "app", "actor_id", "actor_type", "actor_roles", "actor_department",
    "action", "resource_system", "resource_record_type", "subject_id", "subject_key_id", "subject_count",
    "data_categories", "purpose", "legal_basis", "recipient", "source_ip", "session_id", "request_id",
    "outcome", "record_count", "collected_at", "decision", "severity", "rule_ids", "schema_id",
    "kafka_partition", "kafka_offset", "retain_until",
)


def retain_until(event: AccessEvent, policies: PolicySet | None) -> date:
    """The later of the evidence floor and the end of the longest retention among the event's categories."""
    return retention_end(event["org"], event["data_categories"], event["occurred_at"], event.get("collected_at"),
                         policies)


def retention_end(org: str, categories: Iterable[str], occurred: datetime, collected: datetime | None,
                  policies: PolicySet | None) -> date:
    """`retain_until` from the fields it reads: retention runs from collection when known, else from the access."""
    floor = _plus_years(occurred.astimezone(UTC).date(), EVIDENCE_YEARS)
    compiled = policies.get(org) if policies is not None else None
    if compiled is None:
        return floor
    periods = [compiled.retention[c] for c in categories if c in compiled.retention]
    if not periods:
        return floor
    return max(floor, ((collected or occurred) + max(periods)).date())


def _plus_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year + years, day=28)


def access_event_columns(batch: Batch[EvaluatedEvent], policies: PolicySet | None = None) -> list[list[Any]]:
    """Columns in ACCESS_EVENT_COLUMNS order; without policies every row keeps the evidence floor only."""
    columns: list[list[Any]] = [[] for _ in ACCESS_EVENT_COLUMNS]
    (event_id, occurred_at, org, app, actor_id, actor_type, actor_roles, actor_department, action,
     resource_system, resource_record_type, subject_id, subject_key_id, subject_count, data_categories,
     purpose, legal_basis, recipient, source_ip, session_id, request_id, outcome, record_count, collected_at,
     decision, severity, rule_ids, schema_id, kafka_partition, kafka_offset, retain) = columns
    partition = batch.partition.number
    for item in batch.items:
        event = item.event
        actor = event["actor"]
        resource = event["resource"]
        verdict = item.decision
        event_id.append(event["event_id"])
        occurred_at.append(event["occurred_at"])
        org.append(event["org"])
        app.append(event["app"])
        actor_id.append(actor["id"])
        actor_type.append(actor["type"])
        actor_roles.append(actor["roles"])
        actor_department.append(actor["department"] or "")
        action.append(event["action"])
        resource_system.append(resource["system"])
        resource_record_type.append(resource["record_type"])
        subject_id.append(event["subject_id"] or "")
        subject_key_id.append(event.get("subject_key_id") or "")
        subject_count.append(event["subject_count"])
        data_categories.append(event["data_categories"])
        purpose.append(event["purpose"])
        legal_basis.append(event["legal_basis"] or "")
        recipient.append(event["recipient"] or "")
        source_ip.append(event["source_ip"] or "")
        session_id.append(event["session_id"] or "")
        request_id.append(event["request_id"] or "")
        outcome.append(event["outcome"])
        record_count.append(event["record_count"])
        collected_at.append(event.get("collected_at"))
        decision.append(verdict.verdict)
        severity.append(verdict.severity or "")
        rule_ids.append([hit.rule_id for hit in verdict.hits])
        schema_id.append(item.schema_id)
        kafka_partition.append(partition)
        kafka_offset.append(item.offset)
        retain.append(retain_until(event, policies))
    return columns
