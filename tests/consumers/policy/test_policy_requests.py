"""SubjectRequestBook: requests bind from effective_at, withdraw ends earlier ones, replays change nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from consumers.policy import NO_RESTRICTIONS, SubjectRequestBook

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def req(kind: str, hours: int, subject: str = "s1", org: str = "weia", rid: int | None = None) -> Any:
    at = T0 + timedelta(hours=hours)
    return {"request_id": uuid.UUID(int=rid) if rid is not None else uuid.uuid4(), "org": org, "subject_id": subject,
            "kind": kind, "effective_at": at, "received_at": at, "reference": None}


def test_effective_from_effective_at() -> None:
    """A suspension is not in force before its effective time and is from then on."""
    book = SubjectRequestBook()
    book.apply(req("suspend_use", 5))
    assert book.restrictions("weia", "s1", T0 + timedelta(hours=4)) == NO_RESTRICTIONS
    assert book.restrictions("weia", "s1", T0 + timedelta(hours=5)) == {"suspend_use"}


def test_withdraw_ends_earlier_requests_only() -> None:
    """Withdraw clears the requests before it; a request effective after the withdraw stays."""
    book = SubjectRequestBook()
    for request in (req("suspend_use", 1), req("stop_provision", 2), req("withdraw", 3), req("erasure", 4)):
        book.apply(request)
    assert book.restrictions("weia", "s1", T0 + timedelta(hours=2)) == {"suspend_use", "stop_provision"}
    assert book.restrictions("weia", "s1", T0 + timedelta(hours=3)) == NO_RESTRICTIONS
    assert book.restrictions("weia", "s1", T0 + timedelta(hours=9)) == {"erasure"}


def test_scoped_to_org_and_subject() -> None:
    """A request binds only its own organisation and subject."""
    book = SubjectRequestBook()
    book.apply(req("erasure", 0))
    later = T0 + timedelta(days=1)
    assert book.restrictions("weia", "s2", later) == NO_RESTRICTIONS
    assert book.restrictions("chiba-cia", "s1", later) == NO_RESTRICTIONS


def test_replayed_request_is_ignored() -> None:
    """Applying the same request id twice (a Kafka redelivery) reports False and changes nothing."""
    book = SubjectRequestBook()
    assert book.apply(req("suspend_use", 0, rid=7)) is True
    assert book.apply(req("suspend_use", 0, rid=7)) is False


kinds = st.sampled_from(("suspend_use", "erasure", "stop_provision", "withdraw"))


@given(st.lists(st.tuples(kinds, st.integers(0, 20)), max_size=12), st.randoms(), st.integers(0, 22))
def test_arrival_order_does_not_matter(items: list[tuple[str, int]], rnd: Any, probe: int) -> None:
    """The answer depends on effective times only, never on the order requests arrive in."""
    requests = [req(kind, hours, rid=i + 1) for i, (kind, hours) in enumerate(items)]
    shuffled = list(requests)
    rnd.shuffle(shuffled)
    a, b = SubjectRequestBook(), SubjectRequestBook()
    for r in requests:
        a.apply(r)
    for r in shuffled:
        b.apply(r)
    at = T0 + timedelta(hours=probe)
    assert a.restrictions("weia", "s1", at) == b.restrictions("weia", "s1", at)
