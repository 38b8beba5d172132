"""Policies compiled into the nested dicts and frozensets the engine's hot path reads."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from consumers.policy.errors import PolicyError
from consumers.policy.loader import load_policy_file
from consumers.policy.model import Category, Label, NeverHeld, Policy, Role

_NO_CATEGORIES: frozenset[str] = frozenset()
_NO_ACTIONS: dict[str, frozenset[str]] = {}


@dataclass(frozen=True, slots=True, eq=False)
class CompiledRole:
    role: Role
    # purpose -> action -> categories: nested so a lookup builds no tuple key.
    access: dict[str, dict[str, frozenset[str]]]
    # action -> categories over every purpose, for accesses a legal basis lifts out of purpose.
    any_purpose: dict[str, frozenset[str]]
    max_records_per_hour: int | None

    def categories(self, purpose: str, action: str) -> frozenset[str]:
        return self.access.get(purpose, _NO_ACTIONS).get(action, _NO_CATEGORIES)


@dataclass(frozen=True, slots=True, eq=False)
class CompiledPolicy:
    policy: Policy
    roles: dict[str, CompiledRole]
    retention: dict[str, timedelta]
    # Any record younger than this is within retention for every category.
    min_retention: timedelta
    sensitive: frozenset[str]
    vi: bool

    def declared(self, category: str) -> Category | NeverHeld | None:
        """The category as the policy declares it, held or never held; None if it does not."""
        return self.policy.categories.get(category) or self.policy.never_held.get(category)

    def label(self, category: str) -> Label:
        known = self.declared(category)
        return known.label if known is not None else Label(category, category, category)


def compile_policy(policy: Policy) -> CompiledPolicy:
    retention = {cid: timedelta(days=cat.retention_days) for cid, cat in policy.categories.items()}
    return CompiledPolicy(
        policy=policy,
        roles={rid: _compile_role(role) for rid, role in policy.roles.items()},
        retention=retention,
        min_retention=min(retention.values()),
        sensitive=frozenset(cid for cid, cat in policy.categories.items() if cat.sensitivity == "sensitive"),
        vi="vi" in policy.languages,
    )


def _compile_role(role: Role) -> CompiledRole:
    access: dict[str, dict[str, set[str]]] = {}
    any_purpose: dict[str, set[str]] = {}
    for grant in role.grants:
        for action in grant.actions:
            any_purpose.setdefault(action, set()).update(grant.categories)
            for purpose in grant.purposes:
                access.setdefault(purpose, {}).setdefault(action, set()).update(grant.categories)
    return CompiledRole(
        role=role,
        access={p: {a: frozenset(c) for a, c in by_action.items()} for p, by_action in access.items()},
        any_purpose={a: frozenset(c) for a, c in any_purpose.items()},
        max_records_per_hour=role.max_records_per_hour,
    )


@dataclass(frozen=True, slots=True, eq=False)
class PolicySet:
    """Every loaded organisation's compiled policy, by org id."""

    by_org: dict[str, CompiledPolicy]

    def get(self, org: str) -> CompiledPolicy | None:
        return self.by_org.get(org)

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.by_org))

    def __len__(self) -> int:
        return len(self.by_org)


def policy_files(directory: str) -> list[str]:
    return sorted(os.path.join(directory, n) for n in os.listdir(directory) if n.endswith((".yaml", ".yml")))


def load_policies(directory: str) -> PolicySet:
    """Load, validate and compile every policy file in `directory`; the first bad file raises PolicyError."""
    try:
        files = policy_files(directory)
    except OSError as exc:
        raise PolicyError(directory, None, "", f"cannot list policy directory: {exc.strerror}") from exc
    if not files:
        raise PolicyError(directory, None, "", "no policy files (*.yaml) found")
    by_org: dict[str, CompiledPolicy] = {}
    for path in files:
        policy = load_policy_file(path)
        if policy.org in by_org:
            raise PolicyError(policy.file, None, "org", f"org {policy.org!r} is already defined in another file")
        by_org[policy.org] = compile_policy(policy)
    return PolicySet(by_org)


def is_business_hours(policy: Policy | CompiledPolicy, when: datetime) -> bool:
    """True when the aware datetime `when` falls inside the organisation's declared business hours."""
    if when.tzinfo is None:
        raise ValueError("when must be timezone-aware")
    hours = (policy.policy if isinstance(policy, CompiledPolicy) else policy).business_hours
    return hours.open_at(when.astimezone(hours.zone))
