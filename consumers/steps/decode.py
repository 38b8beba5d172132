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
    """Trips on N consecutive invalid messages, or on a ratio over a sliding window of recent messages."""

    def __init__(self, max_consecutive: int, window: int, max_ratio: float) -> None:
        self._max_consecutive = max_consecutive
        self._window: deque[bool] = deque(maxlen=window)
        self._max_ratio = max_ratio
        self._consecutive = 0
        self._invalid_in_window = 0

    def record(self, invalid: bool) -> None:
        if len(self._window) == self._window.maxlen and self._window[0]:
            self._invalid_in_window -= 1
        self._window.append(invalid)
        if invalid:
            self._invalid_in_window += 1
            self._consecutive += 1
        else:
            self._consecutive = 0
        if self._max_consecutive and self._consecutive >= self._max_consecutive:
            raise TooManyInvalidMessages(
                f"{self._consecutive} invalid messages in a row (limit {self._max_consecutive}); "
                "stopping so a broken producer does not drain the stream into the dead-letter topic"
            )
        full = len(self._window) == self._window.maxlen
        if full and self._invalid_in_window / len(self._window) > self._max_ratio:
            raise TooManyInvalidMessages(
                f"{self._invalid_in_window} of the last {len(self._window)} messages were invalid "
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
