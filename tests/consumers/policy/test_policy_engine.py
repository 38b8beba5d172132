"""Property tests: for generated policies and events, privilege and purpose hits fire exactly when uncovered."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from consumers.policy import ALLOW, PolicyEngine, PolicySet, SubjectRequestBook
from consumers.policy.compiled import compile_policy
from consumers.policy.model import (
    SENSITIVITIES,
    BusinessHours,
    Category,
    Clauses,
    Grant,
    Label,
    Policy,
    Purpose,
    Role,
)
from schemas.records import ACTIONS

CATEGORIES = ("c0", "c1", "c2", "c3", "c4")
PURPOSES = ("p0", "p1", "p2")
ROLES = ("r0", "r1", "r2")
NON_DISCLOSE = tuple(a for a in ACTIONS if a != "disclose")


def label(text: str) -> Label:
    return Label(text, text, None)


def subsets(items: tuple[str, ...]) -> st.SearchStrategy[frozenset[str]]:
    return st.frozensets(st.sampled_from(items), min_size=1)


action_sets = st.frozensets(st.sampled_from(ACTIONS), min_size=1)
sensitivities = st.sampled_from(SENSITIVITIES)
grants = st.builds(Grant, actions=action_sets, categories=subsets(CATEGORIES), purposes=subsets(PURPOSES))


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    sensitivity = draw(st.lists(sensitivities, min_size=len(CATEGORIES), max_size=len(CATEGORIES)))
    return Policy(
        org="gen", name=label("gen"), source="generated", file="gen.yaml", languages=frozenset({"ja", "en"}),
        clauses=Clauses("P", "T", "A", "S", "R"),
        categories={c: Category(c, label(c), s, f"cat-{c}", 30) for c, s in zip(CATEGORIES, sensitivity, strict=True)},
        purposes={p: Purpose(p, label(p), f"pur-{p}", draw(action_sets), draw(subsets(CATEGORIES)))
                  for p in PURPOSES},
        roles={r: Role(r, label(r), f"role-{r}", frozenset({"staff"}), tuple(draw(st.lists(grants, min_size=1,
                                                                                            max_size=3))), None)
               for r in ROLES},
        recipients={}, legal_exceptions={}, never_held={},
        business_hours=BusinessHours(ZoneInfo("Asia/Tokyo"), frozenset(range(5)), time(9), time(18), "B"),
    )


events = st.fixed_dictionaries({
    "roles": st.lists(st.sampled_from(ROLES), min_size=1, max_size=2, unique=True),
    "action": st.sampled_from(NON_DISCLOSE),
    "purpose": st.sampled_from((*PURPOSES, "undeclared")),
    "data_categories": st.lists(st.sampled_from(CATEGORIES), min_size=1, max_size=4, unique=True),
})


def to_event(draw: dict[str, Any]) -> Any:
    return {
        "event_id": uuid.UUID(int=1), "occurred_at": datetime(2026, 1, 5, 1, tzinfo=UTC), "org": "gen", "app": "a",
        "actor": {"id": "x", "type": "staff", "roles": draw["roles"], "department": None},
        "action": draw["action"], "resource": {"system": "s", "record_type": "r"}, "subject_id": "s1",
        "subject_key_id": None, "subject_count": 1, "data_categories": draw["data_categories"],
        "purpose": draw["purpose"], "legal_basis": None, "recipient": None, "source_ip": None, "session_id": None,
        "request_id": None, "outcome": "success", "record_count": 1, "collected_at": None,
    }


def granted(policy: Policy, event: Any, category: str) -> bool:
    return any(event["action"] in g.actions and category in g.categories and event["purpose"] in g.purposes
               for r in event["actor"]["roles"] for g in policy.roles[r].grants)


@settings(max_examples=200, deadline=None)
@given(policies(), events)
def test_least_privilege_iff_uncovered(policy: Policy, drawn: dict[str, Any]) -> None:
    """KP002 fires if and only if some category has no grant for this action and purpose in any held role."""
    event = to_event(drawn)
    decision = PolicyEngine(PolicySet({"gen": compile_policy(policy)})).evaluate(event, SubjectRequestBook())
    uncovered = any(not granted(policy, event, c) for c in event["data_categories"])
    assert ("KP002" in {h.rule_id for h in decision.hits}) == uncovered


@settings(max_examples=200, deadline=None)
@given(policies(), events)
def test_purpose_hits_iff_purpose_does_not_cover(policy: Policy, drawn: dict[str, Any]) -> None:
    """KP003/KP004/KP008 fire exactly when the purpose is undeclared or misses the action or a category."""
    event = to_event(drawn)
    decision = PolicyEngine(PolicySet({"gen": compile_policy(policy)})).evaluate(event, SubjectRequestBook())
    rules = {h.rule_id for h in decision.hits}
    purpose = policy.purposes.get(event["purpose"])
    sensitive = {c for c, cat in policy.categories.items() if cat.sensitivity == "sensitive"}
    missing = set(event["data_categories"]) - (purpose.categories if purpose else set())
    assert ("KP003" in rules) == (purpose is None)
    assert ("KP008" in rules) == bool(missing & sensitive)
    assert ("KP004" in rules) == (purpose is not None and (event["action"] not in purpose.actions
                                                           or bool(missing - sensitive)))


@settings(max_examples=200, deadline=None)
@given(policies(), events)
def test_fast_path_agrees_with_every_rule(policy: Policy, drawn: dict[str, Any]) -> None:
    """The allocation-free allow path returns ALLOW only when running every rule finds nothing."""
    event = to_event(drawn)
    cp = compile_policy(policy)
    engine = PolicyEngine(PolicySet({"gen": cp}))
    fast, full = engine.evaluate(event, SubjectRequestBook()), engine.evaluate_all(cp, event, SubjectRequestBook())
    assert fast == full
    assert (fast is ALLOW) == (full.verdict == "allow")


def test_decision_order_is_deterministic(engine: PolicyEngine, make_event: Any) -> None:
    """The same violations in a different category order give the identical decision."""
    cats = ["consultation_content", "card_number_full", "payment_token", "name"]
    a = engine.evaluate(make_event("chiba-cia", purpose="resale", data_categories=cats), SubjectRequestBook())
    b = engine.evaluate(make_event("chiba-cia", purpose="resale", data_categories=cats[::-1]), SubjectRequestBook())
    assert a == b
    assert len(a.hits) >= 4
    assert [h.rule_id for h in a.hits] == sorted(h.rule_id for h in a.hits)
