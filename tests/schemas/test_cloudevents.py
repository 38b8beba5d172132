"""CloudEvents 1.0 Kafka binding, binary mode: the attributes each message carries as headers."""

from __future__ import annotations

from datetime import UTC, datetime

from schemas.cloudevents import (
    ACCESS_EVENT_TYPE,
    ALERT_TYPE,
    SUBJECT_REQUEST_TYPE,
    access_event_source,
    binary_headers,
    header_value,
)

WHEN = datetime(2026, 11, 20, 1, 15, 0, 250000, tzinfo=UTC)


def headers() -> list[tuple[str, bytes]]:
    source = access_event_source("weia", "hr-portal")
    return binary_headers("6f1c1a52-3f1e-4c47-9b0e-5d1b2f3a4c5d", source, ACCESS_EVENT_TYPE, WHEN, 3)


def test_required_attributes_have_the_right_values() -> None:
    """ce_specversion, ce_id, ce_source, ce_type, ce_time and content-type carry the event's values."""
    values = {key: value.decode() for key, value in headers()}
    assert values["ce_specversion"] == "1.0"
    assert values["ce_id"] == "6f1c1a52-3f1e-4c47-9b0e-5d1b2f3a4c5d"
    assert values["ce_source"] == "/orgs/weia/apps/hr-portal"
    assert values["ce_type"] == "jp.kansa.access-event.v1"
    assert values["content-type"] == "application/avro"
    assert values["ce_dataschema"] == "kansa:schema:3"


def test_ce_time_is_rfc3339_with_offset_of_the_event_time() -> None:
    """ce_time parses back to exactly the event's time and states its UTC offset."""
    ce_time = header_value(headers(), "ce_time")
    assert ce_time == "2026-11-20T01:15:00.250000+00:00"
    assert datetime.fromisoformat(ce_time) == WHEN


def test_header_names_are_unique_and_values_bytes() -> None:
    """Each attribute appears once, as bytes (what kafka-python sends)."""
    names = [key for key, _ in headers()]
    assert len(names) == len(set(names)) == 7
    assert all(isinstance(value, bytes) for _, value in headers())


def test_types_are_distinct_reverse_dns_names() -> None:
    """Access events, subject requests and alerts are told apart by ce_type alone."""
    types = {ACCESS_EVENT_TYPE, SUBJECT_REQUEST_TYPE, ALERT_TYPE}
    assert len(types) == 3
    assert all(t.startswith("jp.kansa.") for t in types)


def test_header_value_lookup() -> None:
    """header_value finds a header by name, decodes it, and gives None when absent or headers are None."""
    assert header_value(headers(), "ce_type") == ACCESS_EVENT_TYPE
    assert header_value(headers(), "ce_subject") is None
    assert header_value(None, "ce_id") is None
    assert header_value([("ce_id", b"\xff")], "ce_id") == "\ufffd"
