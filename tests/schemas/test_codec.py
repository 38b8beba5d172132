"""Confluent framing and Avro body: every malformed input becomes InvalidEvent with a bounded reason."""

from __future__ import annotations

import struct
from io import BytesIO

import fastavro
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.codec import AvroCodec, avro_long
from schemas.errors import InvalidEvent
from schemas.records import AccessEvent
from schemas.registry import ACCESS_EVENT, SUBJECT_REQUEST, SchemaRegistry
from tests.eventdata import sample_events, sample_paths

REGISTRY = SchemaRegistry.load()
CODEC = AvroCodec(REGISTRY, ACCESS_EVENT)
SAMPLES = sample_events()
REASONS = {"empty", "bad_magic", "unknown_schema_id", "wrong_schema", "avro_decode", "invalid_field", "bad_json"}


def header(schema_id: int) -> bytes:
    return struct.pack(">bI", 0, schema_id)


def decode_error(data: bytes) -> InvalidEvent | None:
    """The InvalidEvent decoding raises, or None when the bytes decode to a record."""
    try:
        assert isinstance(CODEC.decode(data), dict)
    except InvalidEvent as exc:
        return exc
    return None


def reason_of(data: bytes | None) -> str:
    with pytest.raises(InvalidEvent) as caught:
        CODEC.decode(data)
    return caught.value.reason


def test_samples_exist() -> None:
    """There are valid sample events to round-trip (an empty glob would make the next test vacuous)."""
    assert len(SAMPLES) == len(sample_paths()) >= 3


@pytest.mark.parametrize("event", SAMPLES, ids=[p.stem for p in sample_paths()])
def test_every_valid_sample_round_trips(event: AccessEvent) -> None:
    """decode(encode(sample)) gives back the same event, framed with magic 0 and the newest id."""
    data = CODEC.encode(event)
    assert data[:5] == header(3)
    assert CODEC.decode(data) == event


def test_empty_value() -> None:
    """A tombstone or empty value is `empty`."""
    assert reason_of(None) == "empty"
    assert reason_of(b"") == "empty"


@pytest.mark.parametrize("data", [b"\x01\x00\x00\x00\x03\x00", b"{\"event_id\": 1}", b"\x00\x00\x03"])
def test_bad_magic_or_short_header(data: bytes) -> None:
    """A value not starting with magic byte 0 and a full 4-byte id is `bad_magic` (e.g. JSON sent raw)."""
    assert reason_of(data) == "bad_magic"


def test_unknown_schema_id() -> None:
    """An id the registry never issued is `unknown_schema_id`."""
    body = CODEC.encode(SAMPLES[0])[5:]
    assert reason_of(header(999) + body) == "unknown_schema_id"
    assert reason_of(header(0) + body) == "unknown_schema_id"


@pytest.mark.parametrize("schema_id", [2, 4])
def test_id_of_another_subject_is_wrong_schema(schema_id: int) -> None:
    """A registered id of another subject (subject request, alert) is `wrong_schema`, not decoded."""
    body = CODEC.encode(SAMPLES[0])[5:]
    assert reason_of(header(schema_id) + body) == "wrong_schema"


@pytest.mark.parametrize("cut", [1, 5, 20])
def test_truncated_body(cut: int) -> None:
    """A body cut short is `avro_decode`."""
    data = CODEC.encode(SAMPLES[0])
    assert reason_of(data[:-cut]) == "avro_decode"


def test_header_without_body() -> None:
    """Just the 5-byte header is `avro_decode`."""
    assert reason_of(header(3)) == "avro_decode"


def test_corrupt_body() -> None:
    """An event_id that is not a UUID inside valid Avro framing is `avro_decode`."""
    assert reason_of(header(3) + b"\x02x" + b"\x00" * 40) == "avro_decode"


def test_trailing_bytes() -> None:
    """Extra bytes after a complete body are `avro_decode`, so two glued messages are not half-read."""
    data = CODEC.encode(SAMPLES[0])
    with pytest.raises(InvalidEvent, match="1 trailing bytes") as caught:
        CODEC.decode(data + b"\x00")
    assert caught.value.reason == "avro_decode"


def test_encode_rejects_record_not_fitting_schema() -> None:
    """encode of a record breaking the Avro types raises InvalidEvent `invalid_field`, not a fastavro error."""
    with pytest.raises(InvalidEvent) as caught:
        CODEC.encode({**SAMPLES[0], "action": "peek"})
    assert caught.value.reason == "invalid_field"
    with pytest.raises(InvalidEvent):
        CODEC.encode({**SAMPLES[0], "subject_count": "one"})


def test_subject_request_codec_rejects_access_events() -> None:
    """The subject-request codec writes id 2 and refuses an access event's id as `wrong_schema`."""
    requests = AvroCodec(REGISTRY, SUBJECT_REQUEST)
    assert requests.writer_id == 2
    with pytest.raises(InvalidEvent) as caught:
        requests.decode(CODEC.encode(SAMPLES[0]))
    assert caught.value.reason == "wrong_schema"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_random_bytes_raise_only_invalid_event(data: bytes) -> None:
    """Arbitrary bytes either decode to a record or raise InvalidEvent with a known reason, nothing else."""
    error = decode_error(data)
    assert error is None or error.reason in REASONS


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([1, 3]), st.binary(max_size=300))
def test_random_body_behind_valid_header_raises_only_invalid_event(schema_id: int, body: bytes) -> None:
    """Arbitrary Avro bodies behind a real access-event id never escape as a fastavro exception."""
    error = decode_error(header(schema_id) + body)
    assert error is None or error.reason == "avro_decode"


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_mutated_valid_message_raises_only_invalid_event(data: st.DataObject) -> None:
    """Flipping one byte of a valid message yields a record or InvalidEvent, never another exception."""
    encoded = bytearray(CODEC.encode(data.draw(st.sampled_from(SAMPLES))))
    index = data.draw(st.integers(0, len(encoded) - 1))
    encoded[index] = data.draw(st.integers(0, 255))
    error = decode_error(bytes(encoded))
    assert error is None or error.reason in REASONS


@pytest.mark.parametrize("value", [0, 1, -1, 63, 64, -65, 1023, 1024, 2**31, 2**62, -(2**63)])
def test_avro_long_matches_fastavro(value: int) -> None:
    """The zig-zag varint is byte for byte what fastavro writes for a long."""
    buffer = BytesIO()
    fastavro.schemaless_writer(buffer, {"type": "long"}, value)
    assert avro_long(value) == buffer.getvalue()
