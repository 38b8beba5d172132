"""Typed views of decoded Avro records (what fastavro returns for each schema)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, TypedDict
from uuid import UUID

ActorType = Literal["staff", "service", "contractor", "third_party"]
Action = Literal["read", "search", "create", "update", "delete", "export", "print", "disclose", "other"]
Outcome = Literal["success", "denied"]
SubjectRequestKind = Literal["suspend_use", "erasure", "stop_provision", "withdraw"]

ACTIONS: tuple[Action, ...] = (
    "read", "search", "create", "update", "delete", "export", "print", "disclose", "other",
)
ACTOR_TYPES: tuple[ActorType, ...] = ("staff", "service", "contractor", "third_party")
OUTCOMES: tuple[Outcome, ...] = ("success", "denied")


class Actor(TypedDict):
    id: str
    type: ActorType
    roles: list[str]
    department: str | None


class Resource(TypedDict):
    system: str
    record_type: str


class AccessEvent(TypedDict):
    """An access event as decoded by the newest reader schema (UUID and aware UTC datetime)."""

    event_id: UUID
    occurred_at: datetime
    org: str
    app: str
    actor: Actor
    action: Action
    resource: Resource
    subject_id: str | None
    subject_key_id: str | None
    subject_count: int
    data_categories: list[str]
    purpose: str
    legal_basis: str | None
    recipient: str | None
    source_ip: str | None
    session_id: str | None
    request_id: str | None
    outcome: Outcome
    record_count: int
    collected_at: datetime | None


class SubjectRequest(TypedDict):
    request_id: UUID
    org: str
    subject_id: str
    kind: SubjectRequestKind
    effective_at: datetime
    received_at: datetime
    reference: str | None
