"""Filing data-subject requests (suspension of use, erasure, stop provision, withdraw) on their topic."""

from __future__ import annotations

from typing import Any

from schemas.cloudevents import SUBJECT_REQUEST_TYPE, binary_headers
from schemas.codec import AvroCodec
from schemas.records import SubjectRequest
from schemas.registry import SUBJECT_REQUEST, SchemaRegistry


def file_request(producer: Any, topic: str, request: SubjectRequest, timeout: float = 30.0) -> None:
    """Send and wait for the broker's acknowledgement; raises if it does not come."""
    codec = AvroCodec(SchemaRegistry.load(), SUBJECT_REQUEST)
    value = codec.encode(request)
    key = f"{request['org']}:{request['subject_id']}:{request['request_id']}".encode()
    headers = binary_headers(str(request["request_id"]), f"/orgs/{request['org']}/subject-requests",
                             SUBJECT_REQUEST_TYPE, request["received_at"], codec.writer_id)
    producer.send(topic, key=key, value=value, headers=headers).get(timeout=timeout)
