"""Detect step: every detector sees every evaluated event; the alerts they raise go to the alert sink.

It is the last step that reads the decoded event: it hands on only what the store needs (`StoredEvent`).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Protocol

from consumers.alerts import Alert
from consumers.messages import EvaluatedEvent, Message, Step, StoredEvent


class Detector(Protocol):
    """Pure over (event, own state): no Kafka, no ClickHouse. May return several alerts or none."""

    def observe(self, item: EvaluatedEvent) -> Sequence[Alert]: ...


class PartitionedDetector(Protocol):
    """A detector whose state is kept per Kafka partition (the partition owns its actors' events)."""

    def observe_in(self, partition: Hashable, item: EvaluatedEvent) -> Sequence[Alert]: ...


class DetectStep:
    def __init__(self, detectors: Sequence[Detector], raise_alert: Callable[[Alert], None],
                 next_step: Step[StoredEvent | None],
                 partitioned: Sequence[PartitionedDetector] = ()) -> None:
        self._detectors = detectors
        self._partitioned = partitioned
        self._raise = raise_alert
        self._next = next_step

    def submit(self, message: Message[EvaluatedEvent | None]) -> None:
        item = message.payload
        if item is None:
            self._next.submit(Message(message.partition, message.offset, None))
            return
        for detector in self._detectors:
            for alert in detector.observe(item):
                self._raise(alert)
        for partitioned in self._partitioned:
            for alert in partitioned.observe_in(message.partition, item):
                self._raise(alert)
        self._next.submit(Message(message.partition, message.offset, StoredEvent.of(item)))

    def poll(self) -> None:
        self._next.poll()

    def join(self) -> None:
        self._next.join()
