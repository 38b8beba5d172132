"""Reads one policy YAML file into the model, refusing anything unknown, missing or dangling."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import date, time
from typing import cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from consumers.policy.model import (
    LANGUAGES,
    SCOPES,
    SENSITIVITIES,
    WEEKDAYS,
    BusinessHours,
    Category,
    Clauses,
    Grant,
    Label,
    LegalException,
    NeverHeld,
    Policy,
    Purpose,
    Recipient,
    Role,
    Scope,
    Sensitivity,
)
from consumers.policy.yamlnodes import Node, compose_file
from schemas.records import ACTIONS, ACTOR_TYPES, Action, ActorType

_TOP_REQUIRED = (
    "org", "name", "source", "languages", "clauses", "business_hours", "retention", "categories",
    "purposes", "roles", "recipients", "legal_exceptions", "never_held",
)
_ENTRY = ("label", "clause")


def load_policy_file(path: str) -> Policy:
    """Load and validate one file; the org id must match the file name (org.yaml)."""
    display = os.path.relpath(path) if not os.path.isabs(path) else path
    root = compose_file(path, display)
    top = root.mapping(_TOP_REQUIRED)
    org = top["org"].text()
    stem = os.path.splitext(os.path.basename(path))[0]
    if stem != org:
        raise top["org"].error(f"org {org!r} must match the file name {stem!r}.yaml")
    languages = _languages(top["languages"])
    name = _label(top["name"], languages)
    default_days, retention_clause = _retention(top["retention"])
    categories = _categories(top["categories"], languages, default_days)
    never_held = _never_held(top["never_held"], languages, categories)
    purposes = _purposes(top["purposes"], languages, categories)
    return Policy(
        org=org,
        name=name,
        source=top["source"].text(),
        file=display,
        languages=frozenset(languages),
        clauses=_clauses(top["clauses"], retention_clause),
        categories=categories,
        purposes=purposes,
        roles=_roles(top["roles"], languages, categories, purposes),
        recipients=_recipients(top["recipients"], languages, categories, purposes),
        legal_exceptions=_exceptions(top["legal_exceptions"], languages),
        never_held=never_held,
        business_hours=_business_hours(top["business_hours"]),
    )


def _languages(node: Node) -> tuple[str, ...]:
    values = _choices(node, LANGUAGES)
    if "ja" not in values or "en" not in values:
        raise node.error("labels must at least be in ja and en")
    return tuple(values)


def _label(node: Node, languages: tuple[str, ...]) -> Label:
    fields = node.mapping(languages)
    texts = {lang: fields[lang].text() for lang in languages}
    return Label(ja=texts["ja"], en=texts["en"], vi=texts.get("vi"))


def _clauses(node: Node, retention: str) -> Clauses:
    fields = node.mapping(("purposes", "third_party", "access_control", "subject_rights"))
    return Clauses(
        purposes=fields["purposes"].text(),
        third_party=fields["third_party"].text(),
        access_control=fields["access_control"].text(),
        subject_rights=fields["subject_rights"].text(),
        retention=retention,
    )


def _retention(node: Node) -> tuple[int, str]:
    fields = node.mapping(("default_days", "clause"), ("note",))
    if "note" in fields:
        fields["note"].text()
    return fields["default_days"].integer(1), fields["clause"].text()


def _categories(node: Node, languages: tuple[str, ...], default_days: int) -> dict[str, Category]:
    out: dict[str, Category] = {}
    for cid, entry in node.items().items():
        fields = entry.mapping((*_ENTRY, "sensitivity"), ("retention_days", "note"))
        days = fields["retention_days"].integer(1) if "retention_days" in fields else default_days
        out[cid] = Category(
            id=cid,
            label=_label(fields["label"], languages),
            sensitivity=cast(Sensitivity, fields["sensitivity"].choice(SENSITIVITIES)),
            clause=fields["clause"].text(),
            retention_days=days,
        )
    if not out:
        raise node.error("a policy must declare at least one data category")
    return out


def _never_held(node: Node, languages: tuple[str, ...], categories: dict[str, Category]) -> dict[str, NeverHeld]:
    out: dict[str, NeverHeld] = {}
    for nid, entry in node.items().items():
        if nid in categories:
            raise entry.error(f"{nid!r} is declared as a held category too")
        fields = entry.mapping((*_ENTRY, "sensitivity"), ("note",))
        out[nid] = NeverHeld(id=nid, label=_label(fields["label"], languages),
                             sensitivity=cast(Sensitivity, fields["sensitivity"].choice(SENSITIVITIES)),
                             clause=fields["clause"].text())
    return out


def _purposes(node: Node, languages: tuple[str, ...], categories: dict[str, Category]) -> dict[str, Purpose]:
    out: dict[str, Purpose] = {}
    for pid, entry in node.items().items():
        fields = entry.mapping((*_ENTRY, "actions", "categories"), ("note",))
        out[pid] = Purpose(
            id=pid,
            label=_label(fields["label"], languages),
            clause=fields["clause"].text(),
            actions=_actions(fields["actions"]),
            categories=_refs(fields["categories"], categories, "data category"),
        )
    if not out:
        raise node.error("a policy must declare at least one purpose of use")
    return out


def _roles(
    node: Node, languages: tuple[str, ...], categories: dict[str, Category], purposes: dict[str, Purpose]
) -> dict[str, Role]:
    out: dict[str, Role] = {}
    for rid, entry in node.items().items():
        fields = entry.mapping((*_ENTRY, "grants"), ("actor_types", "max_records_per_hour", "note"))
        types = _choices(fields["actor_types"], ACTOR_TYPES) if "actor_types" in fields else ["staff"]
        grants = tuple(_grant(g, categories, purposes) for g in fields["grants"].sequence())
        if not grants:
            raise fields["grants"].error("a role needs at least one grant")
        cap = fields["max_records_per_hour"].integer(1) if "max_records_per_hour" in fields else None
        out[rid] = Role(
            id=rid,
            label=_label(fields["label"], languages),
            clause=fields["clause"].text(),
            actor_types=frozenset(cast(list[ActorType], types)),
            grants=grants,
            max_records_per_hour=cap,
        )
    return out


def _grant(node: Node, categories: dict[str, Category], purposes: dict[str, Purpose]) -> Grant:
    fields = node.mapping(("actions", "categories", "purposes"))
    return Grant(
        actions=_actions(fields["actions"]),
        categories=_refs(fields["categories"], categories, "data category"),
        purposes=_refs(fields["purposes"], purposes, "purpose"),
    )


def _recipients(
    node: Node, languages: tuple[str, ...], categories: dict[str, Category], purposes: dict[str, Purpose]
) -> dict[str, Recipient]:
    out: dict[str, Recipient] = {}
    for rid, entry in node.items().items():
        fields = entry.mapping((*_ENTRY, "categories", "purposes"), ("note",))
        out[rid] = Recipient(
            id=rid,
            label=_label(fields["label"], languages),
            clause=fields["clause"].text(),
            categories=_refs(fields["categories"], categories, "data category"),
            purposes=_refs(fields["purposes"], purposes, "purpose"),
        )
    return out


def _exceptions(node: Node, languages: tuple[str, ...]) -> dict[str, LegalException]:
    out: dict[str, LegalException] = {}
    for eid, entry in node.items().items():
        fields = entry.mapping((*_ENTRY, "scopes"), ("note",))
        out[eid] = LegalException(
            id=eid,
            label=_label(fields["label"], languages),
            clause=fields["clause"].text(),
            scopes=frozenset(cast(list[Scope], _choices(fields["scopes"], SCOPES))),
        )
    return out


def _business_hours(node: Node) -> BusinessHours:
    fields = node.mapping(("timezone", "days", "start", "end", "clause"), ("closed_on", "note"))
    try:
        zone = ZoneInfo(fields["timezone"].text())
    except (ZoneInfoNotFoundError, ValueError):
        raise fields["timezone"].error("unknown IANA time zone") from None
    days = frozenset(WEEKDAYS.index(item.choice(WEEKDAYS)) for item in fields["days"].sequence())
    start, end = _clock(fields["start"]), _clock(fields["end"])
    if end <= start:
        raise fields["end"].error("must be later than start (overnight hours are not supported)")
    closed = frozenset(_day(item) for item in fields["closed_on"].sequence()) if "closed_on" in fields else frozenset()
    return BusinessHours(zone=zone, weekdays=days, start=start, end=end, clause=fields["clause"].text(),
                         closed=closed)


def _day(node: Node) -> date:
    try:
        return date.fromisoformat(node.text())
    except ValueError:
        raise node.error("expected a quoted date such as \"2026-01-01\"") from None


def _clock(node: Node) -> time:
    try:
        return time.fromisoformat(node.text())
    except ValueError:
        raise node.error("expected a quoted clock time such as \"09:00\"") from None


def _actions(node: Node) -> frozenset[Action]:
    return frozenset(cast(list[Action], _choices(node, ACTIONS)))


def _choices(node: Node, allowed: tuple[str, ...]) -> list[str]:
    """A non-empty list of unique values, each one of `allowed`."""
    values = node.texts()
    for item in node.sequence():
        item.choice(allowed)
    return values


def _refs(node: Node, known: Mapping[str, object], kind: str) -> frozenset[str]:
    values = node.texts()
    for item, value in zip(node.sequence(), values, strict=True):
        if value not in known:
            raise item.error(f"unknown {kind} {value!r} (declared: {', '.join(sorted(known))})")
    return frozenset(values)
