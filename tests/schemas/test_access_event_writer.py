"""The hand-written access-event writer: fastavro's bytes exactly, its own errors, fastavro for other schemas."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.access_event_writer import WRITTEN_FOR, AccessEventWriter, access_event_encoder
from schemas.codec import AvroCodec
from schemas.errors import InvalidEvent
from schemas.records import ACTIONS, ACTOR_TYPES, OUTCOMES
from schemas.registry import ACCESS_EVENT, SCHEMA_DIR, SchemaRegistry
from tests.eventdata import sample_events

REGISTRY = SchemaRegistry.load()
FASTAVRO = AvroCodec(REGISTRY, ACCESS_EVENT)

# Any text (multi-byte, long enough for a two-byte length), a few repeated values to exercise the caches.
texts = st.one_of(st.text(max_size=700), st.sampled_from(["weia", "hr-portal", "recruitment", "名前"]))
optional_texts = st.none() | texts
# Hypothesis takes naive bounds and draws the zone from `timezones`.
times = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),  # noqa: DTZ001
                     timezones=st.sampled_from([UTC, timezone(timedelta(hours=9)), timezone(timedelta(hours=-7))]))
counts = st.integers(0, 2**31 - 1)
OPTIONAL = ("subject_id", "subject_key_id", "legal_basis", "recipient", "source_ip", "session_id", "request_id",
            "collected_at")


@st.composite
def access_events(draw: st.DrawFn) -> dict[str, Any]:
    actor: dict[str, Any] = {"id": draw(texts), "type": draw(st.sampled_from(ACTOR_TYPES)),
                             "roles": draw(st.lists(texts, max_size=4))}
    if draw(st.booleans()):
        actor["department"] = draw(optional_texts)
    event: dict[str, Any] = {
        "event_id": draw(st.uuids()), "occurred_at": draw(times), "org": draw(texts), "app": draw(texts),
        "actor": actor, "action": draw(st.sampled_from(ACTIONS)),
        "resource": {"system": draw(texts), "record_type": draw(texts)},
        "subject_count": draw(counts), "data_categories": draw(st.lists(texts, min_size=1, max_size=5)),
        "purpose": draw(texts), "outcome": draw(st.sampled_from(OUTCOMES)), "record_count": draw(counts),
    }
    for name in OPTIONAL:
        if draw(st.booleans()):  # absent keys are Avro's null default, as fastavro writes them
            event[name] = draw(st.none() | times) if name == "collected_at" else draw(optional_texts)
    return event


@settings(max_examples=400, deadline=None)
@given(st.lists(access_events(), min_size=1, max_size=4))
def test_any_event_is_written_byte_for_byte_as_fastavro_writes_it(events: list[dict[str, Any]]) -> None:
    """Every field, null or present, times in any zone and century, counts to 2^31-1: the same bytes, cached or not."""
    writer = AccessEventWriter(FASTAVRO.writer_id)
    for event in events + events:
        assert writer.encode(event) == FASTAVRO.encode(event)


@pytest.mark.parametrize("event", sample_events(), ids=lambda e: str(e["event_id"]))
def test_the_sample_events_are_written_as_fastavro_writes_them(event: dict[str, Any]) -> None:
    """The samples in schemas/ come out byte for byte as fastavro's, and decode with the consumer's codec."""
    written = access_event_encoder(REGISTRY).encode(event)
    assert written == FASTAVRO.encode(event)
    assert FASTAVRO.decode(written)["event_id"] == event["event_id"]


@pytest.mark.parametrize(("field", "value"), [
    ("action", "peek"), ("outcome", "maybe"), ("purpose", 7), ("data_categories", None), ("event_id", None),
])
def test_what_does_not_fit_the_schema_is_an_invalid_event(field: str, value: Any) -> None:
    """An unknown symbol or a wrong type raises InvalidEvent (invalid_field), never a bare KeyError or TypeError."""
    event = {**sample_events()[0], field: value}
    with pytest.raises(InvalidEvent) as caught:
        AccessEventWriter(FASTAVRO.writer_id).encode(event)
    assert caught.value.reason == "invalid_field"


def test_the_writer_serves_only_the_schema_it_was_written_for(tmp_path: Path) -> None:
    """Today's newest access-event schema gets this writer; a registry whose newest differs gets fastavro's codec."""
    assert REGISTRY.newest(ACCESS_EVENT).fingerprint == WRITTEN_FOR
    assert isinstance(access_event_encoder(REGISTRY), AccessEventWriter)
    registry = json.loads((SCHEMA_DIR / "registry.json").read_text(encoding="utf-8"))
    registry["schemas"] = [entry for entry in registry["schemas"] if entry["id"] != 3]
    for entry in registry["schemas"]:
        (tmp_path / entry["file"]).write_text((SCHEMA_DIR / entry["file"]).read_text(encoding="utf-8"),
                                              encoding="utf-8")
    (tmp_path / "registry.json").write_text(json.dumps(registry), encoding="utf-8")
    older = access_event_encoder(SchemaRegistry.load(tmp_path))
    assert isinstance(older, AvroCodec)
    assert older.writer_id == 1
    event = {**sample_events()[0], "event_id": uuid.uuid4()}
    event.pop("subject_key_id", None)
    event.pop("collected_at", None)
    assert older.encode(event)[:5] == b"\x00\x00\x00\x00\x01"
