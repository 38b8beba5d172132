"""validate_decoded (the consumer's fast path) accepts and refuses exactly what validate_access_event does."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.errors import InvalidEvent
from schemas.validation import validate_access_event, validate_decoded
from tests.eventdata import sample_events

SAMPLES = sample_events()
texts = st.one_of(st.just(""), st.just("   "), st.just("\t"), st.text(max_size=8), st.just("x" * 513),
                  st.just("x" * 512), st.just(" padded "))
TEXT_FIELDS = ["org", "app", "purpose", "subject_id", "legal_basis", "recipient", "source_ip", "session_id",
               "request_id", "actor.id", "actor.department", "resource.system", "resource.record_type"]


def outcome(check: Any, event: dict[str, Any]) -> str | None:
    try:
        check(event)
    except InvalidEvent as exc:
        return exc.field or "?"
    return None


@settings(max_examples=400, deadline=None)
@given(sample=st.sampled_from(range(len(SAMPLES))),
       text_changes=st.dictionaries(st.sampled_from(TEXT_FIELDS), st.one_of(st.none(), texts), max_size=3),
       roles=st.one_of(st.none(), st.lists(texts, max_size=3)),
       categories=st.one_of(st.none(), st.lists(texts, max_size=3)),
       counts=st.tuples(st.integers(-3, 3), st.integers(-3, 3)),
       action=st.sampled_from(["read", "disclose", "export"]),
       key_id=st.one_of(st.none(), st.just("k1")))
def test_fast_path_agrees_with_the_full_check(sample: int, text_changes: dict[str, str | None],
                                              roles: list[str] | None, categories: list[str] | None,
                                              counts: tuple[int, int], action: str, key_id: str | None) -> None:
    """For Avro-typed events with blank, long or missing values, both checks give the same verdict and field."""
    event: dict[str, Any] = copy.deepcopy(dict(SAMPLES[sample]))
    for path, value in text_changes.items():
        target, _, name = path.rpartition(".")
        holder = event[target] if target else event
        if value is None and name in ("org", "app", "purpose", "id", "system", "record_type"):
            continue  # Avro makes these required strings; None cannot come out of the decoder
        holder[name] = value
    if roles is not None:
        event["actor"]["roles"] = roles
    if categories is not None:
        event["data_categories"] = categories
    event["subject_count"], event["record_count"] = counts
    event["action"] = action
    event["subject_key_id"] = key_id
    assert outcome(validate_decoded, event) == outcome(validate_access_event, event)
