"""Evaluate step: the policy engine decides on every event; the engine can be swapped on reload."""

from __future__ import annotations

from typing import Any, Protocol

from consumers.messages import DecodedEvent, EvaluatedEvent, Message, Step
from schemas.records import AccessEvent


class Evaluator(Protocol):
    def __call__(self, event: AccessEvent) -> tuple[Any, Any]:
        """The decision for the event, and its provision record (or None)."""


class EvaluateStep:
    def __init__(self, evaluator: Evaluator, next_step: Step[EvaluatedEvent | None]) -> None:
        self._evaluator = evaluator
        self._next = next_step

    def submit(self, message: Message[DecodedEvent | None]) -> None:
        decoded = message.payload
        if decoded is None:
            self._next.submit(Message(message.partition, message.offset, None))
            return
        decision, provision = self._evaluator(decoded.event)
        evaluated = EvaluatedEvent(decoded.event, decoded.schema_id, message.offset, decision, provision, decoded.body)
        self._next.submit(Message(message.partition, message.offset, evaluated))

    def poll(self) -> None:
        self._next.poll()

    def join(self) -> None:
        self._next.join()
