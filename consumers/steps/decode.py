"""Decode step: Confluent-framed Avro bytes become validated events; bad input goes to the dead-letter topic."""

from __future__ import annotations

from collections import deque
from typing import Protocol

from consumers.messages import DecodedEvent, Message, RawRecord, Step
from consumers.stored_events import passthrough_body
from kansa import metrics
from schemas.codec import AvroCodec
from schemas.errors import InvalidEvent
from schemas.records import AccessEvent
from schemas.validation import validate_decoded


class DeadLetterSink(Protocol):
    def send(self, message: Message[RawRecord], error: InvalidEvent) -> None: ...


class TooManyInvalidMessages(Exception):
    """The share of invalid input says a producer deploy is broken; stop rather than drain into the DLQ."""


class InvalidMessageGuard:
    """Trips on N consecutive invalid messages, or on a ratio over a sliding window of recent messages.

    Only the invalid messages' positions are kept: a valid message can only lower the ratio over
    a full window, so the ratio is judged when an invalid message arrives and when the window
    first fills, and the valid path (nearly every message) is two assignments.
    """

    def __init__(self, max_consecutive: int, window: int, max_ratio: float) -> None:
        self._max_consecutive = max_consecutive
        self._window = window
        self._max_ratio = max_ratio
        self._seen = 0
        self._consecutive = 0
        self._invalid_at: deque[int] = deque()

    def record(self, invalid: bool) -> None:
        self._seen += 1
        if not invalid:
            self._consecutive = 0
            if self._seen == self._window and self._invalid_at:
                self._judge_ratio()
            return
        self._consecutive += 1
        self._invalid_at.append(self._seen)
        if self._max_consecutive and self._consecutive >= self._max_consecutive:
            raise TooManyInvalidMessages(
                f"{self._consecutive} invalid messages in a row (limit {self._max_consecutive}); "
                "stopping so a broken producer does not drain the stream into the dead-letter topic"
            )
        if self._seen >= self._window:
            self._judge_ratio()

    def _judge_ratio(self) -> None:
        while self._invalid_at and self._invalid_at[0] <= self._seen - self._window:
            self._invalid_at.popleft()
        if self._window > 0 and len(self._invalid_at) / self._window > self._max_ratio:
            raise TooManyInvalidMessages(
                f"{len(self._invalid_at)} of the last {self._window} messages were invalid "
                f"(limit {self._max_ratio:.0%}); stopping"
            )


class DecodeStep:
    def __init__(self, codec: AvroCodec, dead_letters: DeadLetterSink, guard: InvalidMessageGuard,
                 next_step: Step[DecodedEvent | None]) -> None:
        self._codec = codec
        self._dead_letters = dead_letters
        self._guard = guard
        self._next = next_step

    def submit(self, message: Message[RawRecord]) -> None:
        try:
            record = self._codec.decode(message.payload.value)
            validate_decoded(record)
        except InvalidEvent as error:
            self._dead_letters.send(message, error)
            metrics.DEAD_LETTERED.labels(error.reason).inc()
            self._guard.record(True)
            self._next.submit(Message(message.partition, message.offset, None))
            return
        self._guard.record(False)
        value: bytes = message.payload.value  # type: ignore[assignment]
        schema_id = int.from_bytes(value[1:5], "big")
        body = passthrough_body(value) if schema_id == self._codec.writer_id else b""
        event: AccessEvent = record  # type: ignore[assignment]
        self._next.submit(Message(message.partition, message.offset, DecodedEvent(event, schema_id, body)))

    def poll(self) -> None:
        self._next.poll()

    def join(self) -> None:
        self._next.join()
