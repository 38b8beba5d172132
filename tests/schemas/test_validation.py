"""Contract rules beyond Avro types, checked against the valid and invalid samples beside the schemas."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.errors import InvalidEvent
from schemas.validation import access_event_from_json, access_event_to_json, load_json_file, validate_access_event
from tests.eventdata import sample_paths

VALID = sample_paths("valid")
INVALID = sample_paths("invalid")

# The defects the issue asks the invalid samples to cover, by the field each must be reported against.
REQUIRED_INVALID_FIELDS = {
    "event_id", "occurred_at", "actor.type", "actor.roles", "action", "data_categories", "subject_count",
    "recipient", "subject_key_id",
}


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def valid_raw() -> dict[str, Any]:
    return dict(load(VALID[0]))


def field_of(raw: Any) -> str | None:
    with pytest.raises(InvalidEvent) as caught:
        access_event_from_json(raw)
    return caught.value.field


def test_sample_sets_are_present_and_cover_the_required_defects() -> None:
    """Valid and invalid samples exist, and the invalid ones cover every defect the contract lists."""
    assert len(VALID) >= 3
    expected = [load(p)["expect"] for p in INVALID]
    fields = {e["field"] for e in expected}
    assert fields >= REQUIRED_INVALID_FIELDS
    assert {e["reason"] for e in expected} == {"invalid_field", "bad_json"}
    assert any(e["field"] not in REQUIRED_INVALID_FIELDS | {None} for e in expected), "no unknown-field sample"


@pytest.mark.parametrize("path", VALID, ids=[p.stem for p in VALID])
def test_valid_sample_passes(path: Path) -> None:
    """Each valid sample parses into an event with a UUID id and aware UTC times."""
    event = access_event_from_json(load(path))
    assert isinstance(event["event_id"], uuid.UUID)
    assert event["occurred_at"].utcoffset() == UTC.utcoffset(None)
    validate_access_event(event)


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_invalid_sample_fails_naming_its_field(path: Path) -> None:
    """Each invalid sample is refused with exactly its expected reason and field, named in the message."""
    sample = load(path)
    with pytest.raises(InvalidEvent) as caught:
        access_event_from_json(sample["event"])
    assert (caught.value.reason, caught.value.field) == (sample["expect"]["reason"], sample["expect"]["field"])
    if sample["expect"]["field"]:
        assert f"'{sample['expect']['field']}'" in str(caught.value)


@pytest.mark.parametrize("path", VALID, ids=[p.stem for p in VALID])
def test_json_round_trip(path: Path) -> None:
    """to_json then from_json gives back the same event, and the JSON form is plain JSON."""
    event = access_event_from_json(load(path))
    as_json = access_event_to_json(event)
    assert access_event_from_json(json.loads(json.dumps(as_json))) == event
    assert as_json["event_id"] == str(event["event_id"])


def test_offsets_are_normalised_to_utc() -> None:
    """A +09:00 time becomes the same instant in UTC."""
    event = access_event_from_json({**valid_raw(), "occurred_at": "2026-11-20T09:00:00+09:00"})
    assert event["occurred_at"] == datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
    assert event["occurred_at"].tzinfo == UTC


def test_z_suffix_accepted_and_bad_time_refused() -> None:
    """`Z` means UTC; a time that is not ISO-8601 names its field."""
    assert access_event_from_json({**valid_raw(), "occurred_at": "2026-11-20T00:00:00Z"})["occurred_at"].hour == 0
    assert field_of({**valid_raw(), "collected_at": "yesterday"}) == "collected_at"
    assert field_of({**valid_raw(), "collected_at": "2026-11-20T00:00:00"}) == "collected_at"


@pytest.mark.parametrize(("change", "field"), [
    ({"org": "  "}, "org"),
    ({"purpose": "x" * 513}, "purpose"),
    ({"actor": None}, "actor"),
    ({"resource": {"system": "hr"}}, "resource.record_type"),
    ({"record_count": 2**31}, "record_count"),
    ({"subject_count": True}, "subject_count"),
    ({"outcome": "ok"}, "outcome"),
    ({"data_categories": ["name", ""]}, "data_categories"),
    ({"source_ip": ""}, "source_ip"),
])
def test_field_rules(change: dict[str, Any], field: str) -> None:
    """Blank or over-long text, missing objects, out-of-range counts and unknown enums each name the field."""
    assert field_of({**valid_raw(), **change}) == field


def test_validate_rejects_naive_datetimes_and_string_ids() -> None:
    """validate_access_event (the SDK's check) refuses naive datetimes and string event ids."""
    event = access_event_from_json(valid_raw())
    for change, field in [({"occurred_at": datetime(2026, 11, 20)}, "occurred_at"),  # noqa: DTZ001
                          ({"collected_at": datetime(2026, 11, 20)}, "collected_at"),  # noqa: DTZ001
                          ({"event_id": str(event["event_id"])}, "event_id")]:
        with pytest.raises(InvalidEvent) as caught:
            validate_access_event({**event, **change})
        assert caught.value.field == field


def test_non_object_is_bad_json(tmp_path: Path) -> None:
    """A JSON array, or a file that is not JSON, is `bad_json` naming the file."""
    with pytest.raises(InvalidEvent) as caught:
        access_event_from_json([1, 2])
    assert caught.value.reason == "bad_json"
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(InvalidEvent, match=r"broken\.json") as caught:
        load_json_file(str(broken))
    assert caught.value.reason == "bad_json"
    with pytest.raises(InvalidEvent, match=r"missing\.json"):
        load_json_file(str(tmp_path / "missing.json"))


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+09:00", "9999-12-31T23:59:59-09:00"])
def test_time_at_the_edge_of_the_calendar_is_invalid_event(when: str) -> None:
    """A time whose UTC form falls outside the calendar is refused as InvalidEvent, not OverflowError."""
    assert field_of({**valid_raw(), "occurred_at": when}) == "occurred_at"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(valid_raw())), json_values, max_size=6))
def test_arbitrary_json_changes_raise_only_invalid_event(changes: dict[str, Any]) -> None:
    """Replacing any fields of a valid event with arbitrary JSON yields a valid event or InvalidEvent."""
    error: InvalidEvent | None = None
    try:
        access_event_from_json({**valid_raw(), **changes})
    except InvalidEvent as exc:
        error = exc
    assert error is None or (error.reason == "invalid_field" and error.field)
