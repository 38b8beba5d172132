"""The policy as loaded from YAML: immutable, every entry carrying the clause it comes from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Literal
from zoneinfo import ZoneInfo

from schemas.records import Action, ActorType

Sensitivity = Literal["ordinary", "sensitive", "financial"]
Scope = Literal["use", "provide"]
Severity = Literal["info", "warning", "critical", "page"]
Verdict = Literal["allow", "review", "violation"]

SENSITIVITIES: tuple[Sensitivity, ...] = ("ordinary", "sensitive", "financial")
SCOPES: tuple[Scope, ...] = ("use", "provide")
SEVERITIES: tuple[Severity, ...] = ("info", "warning", "critical", "page")
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
LANGUAGES: tuple[str, ...] = ("ja", "en", "vi")


@dataclass(frozen=True, slots=True)
class Label:
    ja: str
    en: str
    vi: str | None


@dataclass(frozen=True, slots=True)
class Category:
    id: str
    label: Label
    sensitivity: Sensitivity
    clause: str
    retention_days: int


@dataclass(frozen=True, slots=True)
class Purpose:
    id: str
    label: Label
    clause: str
    actions: frozenset[Action]
    categories: frozenset[str]


@dataclass(frozen=True, slots=True)
class Grant:
    actions: frozenset[Action]
    categories: frozenset[str]
    purposes: frozenset[str]


@dataclass(frozen=True, slots=True)
class Role:
    id: str
    label: Label
    clause: str
    actor_types: frozenset[ActorType]
    grants: tuple[Grant, ...]
    # Enforced by the stateful detector, not here: a stateless check cannot count per hour.
    max_records_per_hour: int | None


@dataclass(frozen=True, slots=True)
class Recipient:
    id: str
    label: Label
    clause: str
    categories: frozenset[str]
    purposes: frozenset[str]


@dataclass(frozen=True, slots=True)
class LegalException:
    id: str
    label: Label
    clause: str
    scopes: frozenset[Scope]


@dataclass(frozen=True, slots=True)
class NeverHeld:
    id: str
    label: Label
    # What a leak of it would be under APPI Rules 7 (card numbers: 財産的被害), though it should not exist.
    sensitivity: Sensitivity
    clause: str


@dataclass(frozen=True, slots=True)
class BusinessHours:
    """`closed` are whole days off on an open weekday: public holidays, the year-end closure."""

    zone: ZoneInfo
    weekdays: frozenset[int]
    start: time
    end: time
    clause: str
    closed: frozenset[date] = frozenset()

    def open_on(self, day: date) -> bool:
        return day.weekday() in self.weekdays and day not in self.closed

    def open_at(self, local: datetime) -> bool:
        """`local` is a time in `zone`."""
        return self.open_on(local.date()) and self.start <= local.time() < self.end


@dataclass(frozen=True, slots=True)
class Clauses:
    """Policy-wide clauses that rules cite when no single entry is at fault."""

    purposes: str
    third_party: str
    access_control: str
    subject_rights: str
    retention: str


# eq=False: the dict fields make a generated hash fail, and identity is what callers need.
@dataclass(frozen=True, slots=True, eq=False)
class Policy:
    org: str
    name: Label
    source: str
    file: str
    languages: frozenset[str]
    clauses: Clauses
    categories: dict[str, Category]
    purposes: dict[str, Purpose]
    roles: dict[str, Role]
    recipients: dict[str, Recipient]
    legal_exceptions: dict[str, LegalException]
    never_held: dict[str, NeverHeld]
    business_hours: BusinessHours
