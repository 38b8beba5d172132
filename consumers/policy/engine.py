"""Evaluates access events against compiled policies: a cheap allow path, then every rule."""

from __future__ import annotations

from consumers.policy.compiled import CompiledPolicy, CompiledRole, PolicySet
from consumers.policy.decision import ALLOW, Decision, RuleHit, decide
from consumers.policy.model import LegalException
from consumers.policy.requests import NO_RESTRICTIONS, RestrictionSource
from consumers.policy.rules import RULES, Context
from schemas.records import AccessEvent

_UNKNOWN_ORG_CLAUSE = "APPI 第23条"


class PolicyEngine:
    """Stateless over events: subject-request state comes in as an argument on each call."""

    def __init__(self, policies: PolicySet) -> None:
        self.policies = policies

    def evaluate(self, event: AccessEvent, requests: RestrictionSource) -> Decision:
        cp = self.policies.by_org.get(event["org"])
        if cp is None:
            return decide([_unknown_org(event["org"])])
        if _plainly_allowed(cp, event, requests):
            return ALLOW
        return self.evaluate_all(cp, event, requests)

    def evaluate_all(self, cp: CompiledPolicy, event: AccessEvent, requests: RestrictionSource) -> Decision:
        """Run every rule; the allow shortcut must agree with this (a property test holds it to that)."""
        actor = event["actor"]
        roles = tuple(
            role for name in sorted(set(actor["roles"]))
            if (role := cp.roles.get(name)) is not None and actor["type"] in role.role.actor_types
        )
        subject = event["subject_id"]
        restrictions = (
            requests.restrictions(cp.policy.org, subject, event["occurred_at"]) if subject is not None
            else NO_RESTRICTIONS
        )
        ctx = Context(cp, event, roles, _valid_basis(cp, event), restrictions)
        return decide([hit for rule in RULES for hit in rule(ctx)])


def _plainly_allowed(cp: CompiledPolicy, event: AccessEvent, requests: RestrictionSource) -> bool:
    """The typical event, checked with set lookups and no allocation; False means 'run every rule'."""
    if event["legal_basis"] is not None or event["action"] == "disclose":
        return False
    purpose = cp.policy.purposes.get(event["purpose"])
    action, categories = event["action"], event["data_categories"]
    # A purpose's categories list sensitive ones only explicitly and never-held ones never,
    # so this one superset check also clears KP004, KP007 and KP008.
    if purpose is None or action not in purpose.actions or not purpose.categories.issuperset(categories):
        return False
    if not _roles_grant(cp, event, event["purpose"], action):
        return False
    collected = event["collected_at"]
    if collected is not None and event["occurred_at"] - collected > cp.min_retention:
        return False
    subject = event["subject_id"]
    return subject is None or not requests.restrictions(cp.policy.org, subject, event["occurred_at"])


def _roles_grant(cp: CompiledPolicy, event: AccessEvent, purpose: str, action: str) -> bool:
    actor = event["actor"]
    names = actor["roles"]
    if len(names) == 1:  # the usual case, kept free of allocation
        role = cp.roles.get(names[0])
        return (role is not None and actor["type"] in role.role.actor_types
                and role.categories(purpose, action).issuperset(event["data_categories"]))
    if not names:
        return False
    roles: list[CompiledRole] = []
    for name in names:
        role = cp.roles.get(name)
        if role is None or actor["type"] not in role.role.actor_types:
            return False
        roles.append(role)
    return all(any(c in r.categories(purpose, action) for r in roles) for c in event["data_categories"])


def _valid_basis(cp: CompiledPolicy, event: AccessEvent) -> LegalException | None:
    claimed = event["legal_basis"]
    exception = cp.policy.legal_exceptions.get(claimed) if claimed is not None else None
    scope = "provide" if event["action"] == "disclose" else "use"
    return exception if exception is not None and scope in exception.scopes else None


def _unknown_org(org: str) -> RuleHit:
    return RuleHit("KP001", "critical", _UNKNOWN_ORG_CLAUSE,
                   f"組織「{org}」のポリシーが読み込まれていません",
                   f"no policy is loaded for organisation {org!r}",
                   f"không có chính sách nào cho tổ chức {org!r}")
