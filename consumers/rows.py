"""Column-oriented rows for ClickHouse from evaluated events (one list per column, no per-row dicts)."""

from __future__ import annotations

from typing import Any

from consumers.messages import Batch, EvaluatedEvent

ACCESS_EVENT_COLUMNS = (
    "event_id", "occurred_at", "org", "app", "actor_id", "actor_type", "actor_roles", "actor_department",
    "action", "resource_system", "resource_record_type", "subject_id", "subject_key_id", "subject_count",
    "data_categories", "purpose", "legal_basis", "recipient", "source_ip", "session_id", "request_id",
    "outcome", "record_count", "collected_at", "decision", "severity", "rule_ids", "schema_id",
    "kafka_partition", "kafka_offset",
)


def access_event_columns(batch: Batch[EvaluatedEvent]) -> list[list[Any]]:
    """Columns in ACCESS_EVENT_COLUMNS order."""
    columns: list[list[Any]] = [[] for _ in ACCESS_EVENT_COLUMNS]
    (event_id, occurred_at, org, app, actor_id, actor_type, actor_roles, actor_department, action,
     resource_system, resource_record_type, subject_id, subject_key_id, subject_count, data_categories,
     purpose, legal_basis, recipient, source_ip, session_id, request_id, outcome, record_count, collected_at,
     decision, severity, rule_ids, schema_id, kafka_partition, kafka_offset) = columns
    partition = batch.partition.index
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
    return columns
