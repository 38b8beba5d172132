"""Test events built from the sample events in schemas/samples (the samples double as test data)."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from schemas.records import AccessEvent
from schemas.validation import access_event_from_json

SAMPLES = Path(__file__).resolve().parent.parent / "schemas" / "samples"


def sample_paths(kind: str = "valid") -> list[Path]:
    return sorted((SAMPLES / kind).glob("*.json"))


def sample_events() -> list[AccessEvent]:
    return [access_event_from_json(json.loads(p.read_text(encoding="utf-8"))) for p in sample_paths()]


def fresh_sample(name_part: str, now: datetime) -> AccessEvent:
    """The app sample whose request id contains `name_part`, as a new event at `now`, collected 30 days before."""
    (event,) = [e for e in sample_events() if e["app"] and name_part in (e["request_id"] or "")]
    fresh = copy.deepcopy(event)
    fresh["event_id"] = uuid.uuid4()
    fresh["occurred_at"] = now
    fresh["collected_at"] = now - timedelta(days=30)
    return fresh


def stream(count: int, start: datetime | None = None) -> Iterator[AccessEvent]:
    """`count` valid events cycling through the samples, each with a fresh id and its own time."""
    templates = sample_events()
    at = start or datetime.now(UTC) - timedelta(minutes=5)
    for index in range(count):
        event = copy.deepcopy(templates[index % len(templates)])
        event["event_id"] = uuid.uuid4()
        event["occurred_at"] = at + timedelta(milliseconds=index)
        yield event
