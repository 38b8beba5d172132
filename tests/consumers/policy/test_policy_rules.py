"""Each rule KP001-KP011 on events from every seed org: the allowed side, and the hit with its clause."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from consumers.alerts import AppiCase, Sensitivity
from consumers.messages import EvaluatedEvent
from consumers.policy import Decision, PolicyEngine, PolicySet, SubjectRequestBook
from consumers.violation_alerts import PolicyViolationAlerts

ORGS = ("chiba-cia", "weia", "izumisano-ssw")
ACCESS_CONTROL = {"chiba-cia": "002 第8条1", "weia": "004 Ⅱ", "izumisano-ssw": "000 Điều 5"}
PURPOSES = {"chiba-cia": "002 第4条", "weia": "004 Ⅰ", "izumisano-ssw": "000 Điều 3.1"}
THIRD_PARTY = {"chiba-cia": "002 第7条", "weia": "004 Ⅱ", "izumisano-ssw": "000 Điều 3.2"}
SUBJECT_RIGHTS = {"chiba-cia": "002 第9条", "weia": "004 Ⅵ", "izumisano-ssw": "000 Điều 9"}
RETENTION = {"chiba-cia": ("002 第8条4", 5), "weia": ("004 Ⅱ", 3), "izumisano-ssw": ("000 Điều 5", 5)}
LAW = {"chiba-cia": "002 第7条 但書1; APPI 第18条3項1号・第27条1項1号",
       "weia": "004 Ⅱ(8); APPI 第18条3項1号・第27条1項1号",
       "izumisano-ssw": "APPI 第18条3項1号・第27条1項1号"}
NOW = datetime(2026, 11, 20, 1, 15, tzinfo=UTC)


def clauses(decision: Decision, rule_id: str) -> list[str]:
    return [hit.clause for hit in decision.hits if hit.rule_id == rule_id]


def actor(role: str, kind: str = "staff") -> dict[str, Any]:
    return {"id": "a-1", "type": kind, "roles": [role], "department": None}


def request(org: str, kind: str, at: datetime, subject: str = "subject-1") -> Any:
    return {"request_id": uuid.uuid4(), "org": org, "subject_id": subject, "kind": kind,
            "effective_at": at, "received_at": at, "reference": None}


@pytest.mark.parametrize("org", ORGS)
def test_base_event_is_allowed(engine: PolicyEngine, book: SubjectRequestBook, make_event: Any, org: str) -> None:
    """The starting event of every rule test is allowed, so each test crosses exactly what it changes."""
    assert engine.evaluate(make_event(org), book).verdict == "allow"


def test_kp001_unknown_org(engine: PolicyEngine, book: SubjectRequestBook, make_event: Any) -> None:
    """An event for an organisation with no loaded policy is a KP001 violation."""
    decision = engine.evaluate(make_event("org-999"), book)
    assert decision.verdict == "violation"
    assert clauses(decision, "KP001") == ["APPI 第23条"]


@pytest.mark.parametrize("org", ORGS)
def test_kp001_unknown_role(engine: PolicyEngine, book: SubjectRequestBook, make_event: Any, org: str) -> None:
    """A role the policy does not define is a KP001 violation citing the access-control clause."""
    decision = engine.evaluate(make_event(org, actor=actor("janitor")), book)
    assert clauses(decision, "KP001") == [ACCESS_CONTROL[org]]
    assert "janitor" in decision.hits[0].reason_en


@pytest.mark.parametrize(("org", "role", "clause"), [
    ("chiba-cia", "svc_mailer", "002 第4条"),
    ("weia", "svc_newsletter", "004 Ⅰ(5)"),
    ("izumisano-ssw", "svc_notifier", "000 Điều 3.1"),
])
def test_kp001_service_role_held_by_staff(
    engine: PolicyEngine, book: SubjectRequestBook, make_event: Any, org: str, role: str, clause: str
) -> None:
    """A service-account role held by a staff actor is KP001, citing the role's own clause."""
    event = make_event(org, actor=actor(role), data_categories=["name"])
    assert clauses(engine.evaluate(event, book), "KP001") == [clause]


LEAST_PRIVILEGE = [
    # (org, role, action, purpose, categories allowed, categories denied)
    ("chiba-cia", "volunteer_coordinator", "read", "applications", ["name", "phone"], ["name", "consultation_content"]),
    ("weia", "harassment_counsellor", "read", "p01_consultation_service", ["consultation_content"], ["billing_info"]),
    ("izumisano-ssw", "interpreter", "read", "ssw_support", ["consultation_content"], ["address"]),
]


@pytest.mark.parametrize(("org", "role", "action", "purpose", "allowed", "denied"), LEAST_PRIVILEGE)
def test_kp002_least_privilege(
    engine: PolicyEngine, book: SubjectRequestBook, make_event: Any,
    org: str, role: str, action: str, purpose: str, allowed: list[str], denied: list[str],
) -> None:
    """A role may touch only the categories its grants list; one more category is KP002 and nothing else."""
    base = {"actor": actor(role), "action": action, "purpose": purpose}
    assert engine.evaluate(make_event(org, data_categories=allowed, **base), book).verdict == "allow"
    decision = engine.evaluate(make_event(org, data_categories=denied, **base), book)
    assert [h.rule_id for h in decision.hits] == ["KP002"]
    assert clauses(decision, "KP002") == [ACCESS_CONTROL[org]]


@pytest.mark.parametrize("org", ORGS)
def test_kp002_action_not_granted(engine: PolicyEngine, book: SubjectRequestBook, make_event: Any, org: str) -> None:
    """Export is granted to none of the counsellor roles, so exporting is KP002 even on allowed categories."""
    decision = engine.evaluate(make_event(org, action="export"), book)
    assert ACCESS_CONTROL[org] in clauses(decision, "KP002")


@pytest.mark.parametrize("org", ORGS)
def test_kp003_undeclared_purpose(engine: PolicyEngine, book: SubjectRequestBook, make_event: Any, org: str) -> None:
    """A purpose the organisation never declared is 目的外利用 (KP003) citing its purposes clause."""
    decision = engine.evaluate(make_event(org, purpose="resale_to_brokers"), book)
    assert decision.verdict == "violation"
    assert clauses(decision, "KP003") == [PURPOSES[org]]


@pytest.mark.parametrize(("org", "changes", "clause"), [
    ("chiba-cia", {"actor": actor("member_services"), "purpose": "registration_continuation",
                   "data_categories": ["name", "birth_date"]}, "002 第4条1"),
    ("weia", {"purpose": "p06_important_notices", "data_categories": ["name", "organisation"]}, "004 Ⅰ(6)"),
    ("izumisano-ssw", {"purpose": "identity_verification", "action": "create"}, "000 Điều 3.1"),
])
def test_kp004_purpose_does_not_cover(
    engine: PolicyEngine, book: SubjectRequestBook, make_event: Any, org: str, changes: dict[str, Any], clause: str
) -> None:
    """A declared purpose used for a category or action it does not list is KP004 citing that purpose."""
    decision = engine.evaluate(make_event(org, **changes), book)
    assert clause in clauses(decision, "KP004")


def test_kp004_alone_when_grant_is_wider_than_purpose(
    engine: PolicyEngine, book: SubjectRequestBook, make_event: Any
) -> None:
    """Registration continuation covers contact details only, even for a role granted birth dates (002 第4条1)."""
    event = make_event("chiba-cia", actor=actor("member_services"), purpose="registration_continuation",
                       data_categories=["birth_date"])
    decision = engine.evaluate(event, book)
    assert [(h.rule_id, h.severity) for h in decision.hits] == [("KP004", "warning")]


@pytest.mark.parametrize("org", ORGS)
def test_kp005_unnamed_recipient(engine: PolicyEngine, book: SubjectRequestBook, make_event: Any, org: str) -> None:
    """Disclosing to a recipient the policy does not name, without a legal basis, pages (KP005)."""
    event = make_event(org, action="disclose", recipient="acme-list-brokers")
    decision = engine.evaluate(event, book)
    assert decision.severity == "page"
    assert clauses(decision, "KP005") == [THIRD_PARTY[org]]


@pytest.mark.parametrize("org", ORGS)
def test_kp005_lifted_by_legal_basis(engine: PolicyEngine, book: SubjectRequestBook, make_event: Any, org: str) -> None:
    """The same disclosure under a valid legal exception (e.g. police inquiry) is review, not KP005."""
    event = make_event(org, action="disclose", recipient="osaka-prefectural-police", legal_basis="public-authority")
    decision = engine.evaluate(event, book)
    assert "KP005" not in [h.rule_id for h in decision.hits]


def test_kp006_allowed_stripe_disclosure(engine: PolicyEngine, book: SubjectRequestBook, make_event: Any) -> None:
    """Stripe may receive the payment token for payment settlement (002 第7条1)."""
    event = make_event("chiba-cia", actor=actor("svc_payment_gateway", "service"), action="disclose",
                       recipient="stripe-japan", purpose="payment_settlement", data_categories=["payment_token"])
    assert engine.evaluate(event, book).verdict == "allow"


@pytest.mark.parametrize(("recipient", "purpose", "categories", "clause"), [
    ("stripe-japan", "payment_settlement", ["name", "payment_token"], "002 第7条1"),
    ("selecttype", "payment_settlement", ["name", "email"], "002 第7条2"),
    ("delivery-carrier", "inquiries_and_delivery", ["name", "address", "phone"], "002 第6条1"),
])
def test_kp006_named_recipient_out_of_scope(
    engine: PolicyEngine, book: SubjectRequestBook, make_event: Any,
    recipient: str, purpose: str, categories: list[str], clause: str,
) -> None:
    """A named recipient receiving a category or purpose outside its entry is KP006 citing that entry."""
    event = make_event("chiba-cia", action="disclose", recipient=recipient, purpose=purpose,
                       data_categories=categories)
    assert clause in clauses(engine.evaluate(event, book), "KP006")


@pytest.mark.parametrize("org", ["weia", "izumisano-ssw"])
def test_kp006_needs_a_named_recipient(
    engine: PolicyEngine, book: SubjectRequestBook, make_event: Any, org: str
) -> None:
    """Orgs whose seed names no recipient can only breach KP005, never KP006."""
    decision = engine.evaluate(make_event(org, action="disclose", recipient="stripe-japan"), book)
    assert [h.rule_id for h in decision.hits if h.rule_id in ("KP005", "KP006")] == ["KP005"]


def test_kp007_never_held_card_number(engine: PolicyEngine, book: SubjectRequestBook, make_event: Any) -> None:
    """chiba-cia states it never holds full card numbers: touching one pages (KP007) even via Stripe's role."""
    event = make_event("chiba-cia", actor=actor("svc_payment_gateway", "service"), purpose="payment_settlement",
                       data_categories=["payment_token", "card_number_full"])
    decision = engine.evaluate(event, book)
    assert [(h.rule_id, h.clause, h.severity) for h in decision.hits] == [("KP007", "002 第7条1", "page")]


def test_kp007_alert_carries_the_financial_appi_case(
    policies: PolicySet, engine: PolicyEngine, book: SubjectRequestBook, make_event: Any
) -> None:
    """A card number is never held, yet its alert is `financial` and a 財産的被害 case with report deadlines."""
    event = make_event("chiba-cia", actor=actor("svc_payment_gateway", "service"), purpose="payment_settlement",
                       data_categories=["card_number_full"])
    item = EvaluatedEvent(event, 1, 0, engine.evaluate(event, book))
    [alert] = PolicyViolationAlerts(lambda: policies).observe(item)
    assert (alert.rule, alert.sensitivity) == ("KP007", Sensitivity.FINANCIAL)
    assert alert.appi is not None
    assert alert.appi.cases == (AppiCase.FINANCIAL_DAMAGE,)


@pytest.mark.parametrize(("org", "changes", "clause"), [
    ("chiba-cia", {"purpose": "inquiries_and_delivery"}, "002 第3条3"),
    ("weia", {"purpose": "p07_inquiries"}, "004 Ⅰ(1)"),
    ("izumisano-ssw", {"purpose": "statistics"}, "000 Điều 3.1"),
])
def test_kp008_sensitive_without_covering_purpose(
    engine: PolicyEngine, book: SubjectRequestBook, make_event: Any, org: str, changes: dict[str, Any], clause: str
) -> None:
    """Consultation content (要配慮) under a purpose that does not name it is KP008; under one that does, allowed."""
    allowed = make_event(org, data_categories=["consultation_content"])
    assert engine.evaluate(allowed, book).verdict == "allow"
    decision = engine.evaluate(make_event(org, data_categories=["consultation_content"], **changes), book)
    assert clauses(decision, "KP008") == [clause]
    assert "KP004" not in [h.rule_id for h in decision.hits]


@pytest.mark.parametrize("org", ORGS)
@pytest.mark.parametrize("kind", ["suspend_use", "erasure"])
def test_kp009_suspended_subject(
    engine: PolicyEngine, book: SubjectRequestBook, make_event: Any, org: str, kind: str
) -> None:
    """Reading a subject under an active suspension or erasure request is KP009 citing the subject-rights clause."""
    book.apply(request(org, kind, NOW - timedelta(days=1)))
    decision = engine.evaluate(make_event(org), book)
    assert clauses(decision, "KP009") == [SUBJECT_RIGHTS[org]]
    assert engine.evaluate(make_event(org, subject_id="someone-else"), book).verdict == "allow"


@pytest.mark.parametrize("org", ORGS)
def test_kp009_not_yet_effective_or_withdrawn(
    engine: PolicyEngine, book: SubjectRequestBook, make_event: Any, org: str
) -> None:
    """A request binds only from effective_at, and a later withdraw ends it."""
    book.apply(request(org, "suspend_use", NOW + timedelta(hours=1)))
    assert engine.evaluate(make_event(org), book).verdict == "allow"
    assert engine.evaluate(make_event(org, occurred_at=NOW + timedelta(hours=2)), book).verdict == "violation"
    book.apply(request(org, "withdraw", NOW + timedelta(hours=3)))
    assert engine.evaluate(make_event(org, occurred_at=NOW + timedelta(hours=4)), book).verdict == "allow"


@pytest.mark.parametrize("org", ORGS)
def test_kp009_stop_provision_binds_disclose_only(
    engine: PolicyEngine, book: SubjectRequestBook, make_event: Any, org: str
) -> None:
    """A stop-provision request leaves reads alone but makes a disclosure KP009."""
    book.apply(request(org, "stop_provision", NOW - timedelta(days=1)))
    assert engine.evaluate(make_event(org), book).verdict == "allow"
    event = make_event(org, action="disclose", recipient="acme", legal_basis=None)
    assert clauses(engine.evaluate(event, book), "KP009") == [SUBJECT_RIGHTS[org]]


def test_kp009_delete_honours_erasure(engine: PolicyEngine, book: SubjectRequestBook, make_event: Any) -> None:
    """Deleting a subject's data is how an erasure request is honoured, so it is not KP009."""
    book.apply(request("weia", "erasure", NOW - timedelta(days=1)))
    event = make_event("weia", actor=actor("recruiter"), action="delete", purpose="p13_recruitment_selection",
                       data_categories=["applicant_record"])
    assert engine.evaluate(event, book).verdict == "allow"


@pytest.mark.parametrize("org", ORGS)
def test_kp010_retention(engine: PolicyEngine, book: SubjectRequestBook, make_event: Any, org: str) -> None:
    """A record older than its category's retention is KP010 citing the retention clause; a day younger is fine."""
    clause, years = RETENTION[org]
    limit = timedelta(days=365 * years)
    fresh = make_event(org, collected_at=NOW - limit + timedelta(days=1))
    assert engine.evaluate(fresh, book).verdict == "allow"
    decision = engine.evaluate(make_event(org, collected_at=NOW - limit - timedelta(days=1)), book)
    assert clauses(decision, "KP010") == [clause]


def test_kp010_per_category_retention(engine: PolicyEngine, book: SubjectRequestBook, make_event: Any) -> None:
    """Room bookings keep one year, not the five-year default, so a two-year-old booking is KP010."""
    event = make_event("chiba-cia", actor=actor("room_booking_clerk"), data_categories=["booking_details"],
                       collected_at=NOW - timedelta(days=730))
    assert "booking_details" in engine.evaluate(event, book).hits[0].reason_en


@pytest.mark.parametrize("org", ORGS)
def test_kp011_valid_legal_basis_is_review(
    engine: PolicyEngine, book: SubjectRequestBook, make_event: Any, org: str
) -> None:
    """A known legal basis lifts purpose and recipient limits, and the decision is review with KP011 info."""
    event = make_event(org, purpose="court_order", action="read", legal_basis="based-on-law")
    decision = engine.evaluate(event, book)
    assert (decision.verdict, decision.severity) == ("review", "info")
    assert clauses(decision, "KP011") == [LAW[org]]


@pytest.mark.parametrize("org", ORGS)
def test_kp011_unknown_legal_basis(engine: PolicyEngine, book: SubjectRequestBook, make_event: Any, org: str) -> None:
    """An unknown legal basis id is a KP011 violation and lifts nothing (KP003 still fires)."""
    event = make_event(org, purpose="court_order", legal_basis="because-i-said-so")
    decision = engine.evaluate(event, book)
    assert decision.verdict == "violation"
    assert clauses(decision, "KP011") == [THIRD_PARTY[org]]
    assert "KP003" in [h.rule_id for h in decision.hits]


def test_kp011_use_only_exception_cannot_disclose(
    engine: PolicyEngine, book: SubjectRequestBook, make_event: Any
) -> None:
    """izumisano-ssw's 'centre rights' case permits use beyond purpose, never provision to a third party."""
    event = make_event("izumisano-ssw", action="disclose", recipient="debt-collector", legal_basis="centre-rights")
    decision = engine.evaluate(event, book)
    assert clauses(decision, "KP011") == ["000 Điều 3.2(2)"]
    assert "KP005" in [h.rule_id for h in decision.hits]


@pytest.mark.parametrize("org", ORGS)
def test_kp011_legal_basis_keeps_least_privilege(
    engine: PolicyEngine, book: SubjectRequestBook, make_event: Any, org: str
) -> None:
    """A legal basis never widens a role: an un-granted action stays KP002."""
    decision = engine.evaluate(make_event(org, action="export", legal_basis="based-on-law"), book)
    assert decision.verdict == "violation"
    assert "KP002" in [h.rule_id for h in decision.hits]


@pytest.mark.parametrize("org", ORGS)
def test_reasons_are_multilingual(engine: PolicyEngine, book: SubjectRequestBook, make_event: Any, org: str) -> None:
    """Every hit has Japanese and English reasons, and Vietnamese exactly for izumisano-ssw."""
    decision = engine.evaluate(make_event(org, purpose="resale", data_categories=["consultation_content"]), book)
    assert decision.hits
    for hit in decision.hits:
        assert hit.reason_ja
        assert hit.reason_en
        assert hit.reason_ja != hit.reason_en
        assert (hit.reason_vi is not None) == (org == "izumisano-ssw")
