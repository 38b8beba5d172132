"""DecodeStep alone: valid bytes become events; bad bytes go to the dead-letter sink and the stream goes on."""

from __future__ import annotations

import pytest

from consumers.messages import DecodedEvent, Message, Partition, RawRecord
from consumers.steps.decode import DecodeStep, InvalidMessageGuard, TooManyInvalidMessages
from schemas.codec import AvroCodec
from schemas.errors import InvalidEvent
from schemas.registry import ACCESS_EVENT, SchemaRegistry
from tests.consumers.steps.fakes import RecordingStep
from tests.eventdata import stream

P = Partition("events", 2)
CODEC = AvroCodec(SchemaRegistry.load(), ACCESS_EVENT)


class MemoryDeadLetters:
    def __init__(self) -> None:
        self.sent: list[tuple[int, str, str | None]] = []

    def send(self, message: Message[RawRecord], error: InvalidEvent) -> None:
        self.sent.append((message.offset, error.reason, error.field))


def raw(value: bytes | None) -> RawRecord:
    return RawRecord(b"k", value, [], 0)


def make(guard: InvalidMessageGuard | None = None) -> tuple[DecodeStep, RecordingStep, MemoryDeadLetters]:
    nxt, dlq = RecordingStep(), MemoryDeadLetters()
    return DecodeStep(CODEC, dlq, guard or InvalidMessageGuard(100, 100, 0.9), nxt), nxt, dlq


def test_valid_event_is_decoded_with_its_schema_id() -> None:
    """A framed Avro event reaches the next step as a DecodedEvent carrying the writer's schema id."""
    step, nxt, dlq = make()
    event = next(stream(1))
    step.submit(Message(P, 7, raw(CODEC.encode(event))))
    (message,) = nxt.messages
    assert isinstance(message.payload, DecodedEvent)
    assert message.payload.event["event_id"] == event["event_id"]
    assert message.payload.schema_id == CODEC.writer_id
    assert message.offset == 7
    assert dlq.sent == []


@pytest.mark.parametrize(("value", "reason"), [
    (None, "empty"), (b"", "empty"), (b"{\"json\": true}", "bad_magic"),
    (b"\x00\x00\x00\x03\xe7garbage", "unknown_schema_id"), (b"\x00\x00\x00\x00\x01\xff\xff", "avro_decode"),
])
def test_bad_bytes_go_to_dead_letters_and_offset_moves_on(value: bytes | None, reason: str) -> None:
    """Undecodable bytes are dead-lettered with their reason, and a None payload keeps the offset flowing."""
    step, nxt, dlq = make()
    step.submit(Message(P, 3, raw(value)))
    assert dlq.sent == [(3, reason, None)]
    assert [(m.offset, m.payload) for m in nxt.messages] == [(3, None)]


def test_schema_valid_but_semantically_invalid_event_is_dead_lettered() -> None:
    """An event Avro accepts but the contract refuses (disclose without recipient) is dead-lettered naming the field."""
    step, _, dlq = make()
    event = next(stream(1))
    event["action"] = "disclose"
    event["recipient"] = None
    step.submit(Message(P, 0, raw(CODEC.encode(event))))
    assert dlq.sent == [(0, "invalid_field", "recipient")]


def test_guard_stops_on_consecutive_invalid_messages() -> None:
    """N invalid messages in a row stop the consumer with a clear error."""
    step, _, _ = make(InvalidMessageGuard(max_consecutive=3, window=100, max_ratio=1.0))
    step.submit(Message(P, 0, raw(b"x")))
    step.submit(Message(P, 1, raw(b"x")))
    with pytest.raises(TooManyInvalidMessages, match="3 invalid messages in a row"):
        step.submit(Message(P, 2, raw(b"x")))


def test_guard_trips_on_ratio_over_the_window_only() -> None:
    """The ratio limit applies once the window is full, and valid messages reset the consecutive count."""
    guard = InvalidMessageGuard(max_consecutive=0, window=4, max_ratio=0.5)
    for invalid in (True, False, False, True, False, True):
        guard.record(invalid)
    with pytest.raises(TooManyInvalidMessages, match="3 of the last 4"):
        guard.record(True)


def test_guard_judges_the_ratio_when_the_window_fills_on_a_valid_message() -> None:
    """Three invalid then one valid fill a window of four at 75 %: over a 50 % limit, so it trips then."""
    guard = InvalidMessageGuard(max_consecutive=0, window=4, max_ratio=0.5)
    for invalid in (True, True, True):
        guard.record(invalid)
    with pytest.raises(TooManyInvalidMessages, match="3 of the last 4"):
        guard.record(False)


def test_guard_forgets_invalid_messages_that_left_the_window() -> None:
    """Invalid messages older than the window no longer count towards the ratio."""
    guard = InvalidMessageGuard(max_consecutive=0, window=4, max_ratio=0.5)
    for invalid in (True, True, False, False, False, False, True, False, True):
        guard.record(invalid)
    with pytest.raises(TooManyInvalidMessages, match="3 of the last 4"):
        guard.record(True)


def test_poll_and_join_pass_through() -> None:
    """poll() and join() reach the next step."""
    step, nxt, _ = make()
    step.poll()
    step.join()
    assert (nxt.polls, nxt.joins) == (1, 1)
