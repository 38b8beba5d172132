"""Data-subject requests as pure state: which restrictions bind a subject at a given time."""

from __future__ import annotations

from bisect import insort
from datetime import datetime
from typing import Literal, Protocol
from uuid import UUID

from schemas.records import SubjectRequest

Restriction = Literal["suspend_use", "erasure", "stop_provision"]

NO_RESTRICTIONS: frozenset[Restriction] = frozenset()
_RESTRICTIONS: dict[str, Restriction] = {"suspend_use": "suspend_use", "erasure": "erasure",
                                         "stop_provision": "stop_provision"}

# (effective_at, received_at, request id, kind): sorting by it replays requests in effect order,
# with received_at then id breaking ties so the answer never depends on arrival order.
_Entry = tuple[datetime, datetime, str, str]


class RestrictionSource(Protocol):
    """What the engine needs from subject-request state; SubjectRequestBook is the real one."""

    def restrictions(self, org: str, subject_id: str, at: datetime) -> frozenset[Restriction]: ...


class SubjectRequestBook:
    """Applies SubjectRequest records; `withdraw` ends every request effective before it."""

    def __init__(self) -> None:
        self._entries: dict[str, dict[str, list[_Entry]]] = {}
        self._seen: set[UUID] = set()

    def apply(self, request: SubjectRequest) -> bool:
        """Record a request; False when its request_id was already applied (a replayed message)."""
        if request["request_id"] in self._seen:
            return False
        self._seen.add(request["request_id"])
        entry = (request["effective_at"], request["received_at"], str(request["request_id"]), request["kind"])
        insort(self._entries.setdefault(request["org"], {}).setdefault(request["subject_id"], []), entry)
        return True

    def restrictions(self, org: str, subject_id: str, at: datetime) -> frozenset[Restriction]:
        """The restrictions in force for (org, subject_id) at `at`."""
        subjects = self._entries.get(org)
        entries = subjects.get(subject_id) if subjects is not None else None
        if not entries or entries[0][0] > at:
            return NO_RESTRICTIONS
        active: set[Restriction] = set()
        for effective_at, _received, _rid, kind in entries:
            if effective_at > at:
                break
            if kind == "withdraw":
                active.clear()
            else:
                active.add(_RESTRICTIONS[kind])
        return frozenset(active) if active else NO_RESTRICTIONS
