"""Checks that make an access event meaningful beyond what Avro types enforce, and the JSON form.

The SDK runs these before sending and the consumer runs them after decoding, so an app
with a bad build and a hand-crafted message meet the same rules.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, cast
from uuid import UUID

from schemas.errors import InvalidEvent
from schemas.records import ACTIONS, ACTOR_TYPES, OUTCOMES, AccessEvent, SubjectRequest

_REQUIRED_TEXT = ("org", "app", "purpose")
_OPTIONAL_TEXT = ("subject_id", "subject_key_id", "legal_basis", "recipient", "source_ip", "session_id", "request_id")
_MAX_TEXT = 512


def validate_access_event(event: Mapping[str, Any]) -> None:
    """Raise InvalidEvent naming the first field that breaks the contract."""
    if not isinstance(event.get("event_id"), UUID):
        raise InvalidEvent("invalid_field", "must be a UUID", "event_id")
    _aware("occurred_at", event.get("occurred_at"))
    for name in _REQUIRED_TEXT:
        _text(name, event.get(name))
    actor = event.get("actor")
    if not isinstance(actor, Mapping):
        raise InvalidEvent("invalid_field", "must be an object with id, type, roles", "actor")
    _text("actor.id", actor.get("id"))
    if actor.get("type") not in ACTOR_TYPES:
        raise InvalidEvent("invalid_field", f"must be one of {', '.join(ACTOR_TYPES)}", "actor.type")
    roles = actor.get("roles")
    if not isinstance(roles, list) or not all(isinstance(r, str) and r.strip() for r in roles):
        raise InvalidEvent("invalid_field", "must be a list of role names", "actor.roles")
    if actor.get("department") is not None:
        _text("actor.department", actor.get("department"))
    action = event.get("action")
    if action not in ACTIONS:
        raise InvalidEvent("invalid_field", f"must be one of {', '.join(ACTIONS)}", "action")
    resource = event.get("resource")
    if not isinstance(resource, Mapping):
        raise InvalidEvent("invalid_field", "must be an object with system and record_type", "resource")
    _text("resource.system", resource.get("system"))
    _text("resource.record_type", resource.get("record_type"))
    for name in _OPTIONAL_TEXT:
        if event.get(name) is not None:
            _text(name, event.get(name))
    categories = event.get("data_categories")
    if not isinstance(categories, list) or not categories or not all(isinstance(c, str) and c for c in categories):
        raise InvalidEvent("invalid_field", "must list at least one data category", "data_categories")
    for name in ("subject_count", "record_count"):
        value = event.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0 or value > 2**31 - 1:
            raise InvalidEvent("invalid_field", "must be a whole number from 0 to 2^31-1", name)
    if event.get("outcome") not in OUTCOMES:
        raise InvalidEvent("invalid_field", f"must be one of {', '.join(OUTCOMES)}", "outcome")
    if action == "disclose" and not event.get("recipient"):
        raise InvalidEvent("invalid_field", "a disclose event must name its recipient", "recipient")
    if event.get("subject_key_id") is not None and event.get("subject_id") is None:
        raise InvalidEvent("invalid_field", "set only when subject_id is a pseudonym", "subject_key_id")
    if event.get("collected_at") is not None:
        _aware("collected_at", event.get("collected_at"))


def validate_decoded(event: Mapping[str, Any]) -> None:
    """The same contract for an event Avro has already typed: only what the schema cannot say is checked
    here, cheaply; anything doubtful goes through `validate_access_event` for the precise error."""
    if not _plainly_valid(event):
        validate_access_event(event)


def _plainly_valid(event: Mapping[str, Any]) -> bool:
    # Types, enums and int ranges are the Avro schema's; the UUID and aware UTC time are the
    # logical types'. Left: blank or overlong text, empty lists, negative counts, cross-field rules.
    for name in _REQUIRED_TEXT:
        if not _plain_text(event[name]):
            return False
    for name in _OPTIONAL_TEXT:
        value = event.get(name)
        if value is not None and not _plain_text(value):
            return False
    actor, resource = event["actor"], event["resource"]
    if not (_plain_text(actor["id"]) and _plain_text(resource["system"]) and _plain_text(resource["record_type"])):
        return False
    if actor["department"] is not None and not _plain_text(actor["department"]):
        return False
    if not all(_plain_text(role) for role in actor["roles"]):
        return False
    categories = event["data_categories"]
    if not categories or not all(_plain_text(category) for category in categories):
        return False
    if event["subject_count"] < 0 or event["record_count"] < 0:
        return False
    if event["action"] == "disclose" and not event["recipient"]:
        return False
    return not (event.get("subject_key_id") is not None and event["subject_id"] is None)


def _plain_text(value: str) -> bool:
    return 0 < len(value) <= _MAX_TEXT and not value.isspace()


def access_event_from_json(obj: Any) -> AccessEvent:
    """Build an event from its JSON form (ISO-8601 times with offset, UUID strings), then validate it."""
    if not isinstance(obj, dict):
        raise InvalidEvent("bad_json", "an access event must be a JSON object")
    known = set(AccessEvent.__annotations__)
    unknown = sorted(set(obj) - known)
    if unknown:
        raise InvalidEvent("invalid_field", f"unknown field(s): {', '.join(unknown)}", unknown[0])
    event = dict(obj)
    event["event_id"] = _uuid("event_id", obj.get("event_id"))
    event["occurred_at"] = _parse_time("occurred_at", obj.get("occurred_at"))
    if obj.get("collected_at") is not None:
        event["collected_at"] = _parse_time("collected_at", obj["collected_at"])
    for name in ("subject_id", "subject_key_id", "legal_basis", "recipient", "source_ip", "session_id",
                 "request_id", "collected_at"):
        event.setdefault(name, None)
    actor = event.get("actor")
    if isinstance(actor, dict):
        event["actor"] = {"department": None, **actor}
    validate_access_event(event)
    return cast(AccessEvent, event)


def access_event_to_json(event: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON form of an event: the inverse of access_event_from_json."""
    out = dict(event)
    out["event_id"] = str(event["event_id"])
    out["occurred_at"] = event["occurred_at"].isoformat()
    if event.get("collected_at") is not None:
        out["collected_at"] = event["collected_at"].isoformat()
    return out


def subject_request_from_json(obj: Any) -> SubjectRequest:
    if not isinstance(obj, dict):
        raise InvalidEvent("bad_json", "a subject request must be a JSON object")
    request = dict(obj)
    request["request_id"] = _uuid("request_id", obj.get("request_id"))
    request["effective_at"] = _parse_time("effective_at", obj.get("effective_at"))
    request["received_at"] = _parse_time("received_at", obj.get("received_at"))
    request.setdefault("reference", None)
    for name in ("org", "subject_id"):
        _text(name, request.get(name))
    if request.get("kind") not in ("suspend_use", "erasure", "stop_provision", "withdraw"):
        raise InvalidEvent("invalid_field", "must be suspend_use, erasure, stop_provision or withdraw", "kind")
    return cast(SubjectRequest, request)


def load_json_file(path: str) -> Any:
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except OSError as exc:
        raise InvalidEvent("bad_json", f"{path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise InvalidEvent("bad_json", f"{path}: not JSON: {exc}") from exc


def _text(name: str, value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidEvent("invalid_field", "must be a non-empty string", name)
    if len(value) > _MAX_TEXT:
        raise InvalidEvent("invalid_field", f"longer than {_MAX_TEXT} characters", name)


def _aware(name: str, value: Any) -> None:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InvalidEvent("invalid_field", "must be a timezone-aware datetime", name)


def _uuid(name: str, value: Any) -> UUID:
    if isinstance(value, UUID):
        return value
    try:
        return UUID(str(value))
    except ValueError:
        raise InvalidEvent("invalid_field", f"not a UUID: {value!r}", name) from None


def _parse_time(name: str, value: Any) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise InvalidEvent("invalid_field", f"not an ISO-8601 time: {value!r}", name) from None
    if parsed.tzinfo is None:
        raise InvalidEvent("invalid_field", "needs a UTC offset (e.g. 2026-11-20T09:00:00+09:00)", name)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise InvalidEvent("invalid_field", f"out of range in UTC: {value!r}", name) from None
