"""CloudEvents 1.0 Kafka protocol binding, binary mode: event attributes travel as headers."""

from __future__ import annotations

from datetime import datetime

CONTENT_TYPE = "application/avro"
SPEC_VERSION = "1.0"
ACCESS_EVENT_TYPE = "jp.kansa.access-event.v1"
SUBJECT_REQUEST_TYPE = "jp.kansa.subject-request.v1"
ALERT_TYPE = "jp.kansa.alert.v1"

Headers = list[tuple[str, bytes]]


def binary_headers(ce_id: str, source: str, ce_type: str, time: datetime, schema_id: int) -> Headers:
    """Headers for one message; `ce_dataschema` names the registry id so readers need not parse the body."""
    return [
        ("ce_specversion", SPEC_VERSION.encode()),
        ("ce_id", ce_id.encode()),
        ("ce_source", source.encode()),
        ("ce_type", ce_type.encode()),
        ("ce_time", time.isoformat().encode()),
        ("ce_dataschema", f"kansa:schema:{schema_id}".encode()),
        ("content-type", CONTENT_TYPE.encode()),
    ]


def access_event_source(org: str, app: str) -> str:
    return f"/orgs/{org}/apps/{app}"


def header_value(headers: Headers | None, name: str) -> str | None:
    for key, value in headers or ():
        if key == name:
            return value.decode(errors="replace") if value is not None else None
    return None
