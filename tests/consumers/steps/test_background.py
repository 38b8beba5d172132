"""BackgroundStep alone: hands on in order on its own thread, bounded by size, surfaces errors, stops after one."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from consumers.messages import Message, Partition
from consumers.steps.background import BackgroundStep
from tests.consumers.steps.fakes import RecordingStep

P = Partition("events", 0)


class ThreadRecordingStep(RecordingStep):
    """Remembers which thread each message arrived on."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: set[str] = set()

    def submit(self, message: Message[Any]) -> None:
        self.threads.add(threading.current_thread().name)
        super().submit(message)


class FailingStep(RecordingStep):
    """Fails on one offset, records the rest."""

    def __init__(self, fail_at: int) -> None:
        super().__init__()
        self.fail_at = fail_at

    def submit(self, message: Message[Any]) -> None:
        if message.offset == self.fail_at:
            raise ConnectionError("store down")
        super().submit(message)


class GatedStep(RecordingStep):
    """Holds every message until the test opens the gate."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()

    def submit(self, message: Message[Any]) -> None:
        self.gate.wait(timeout=10)
        super().submit(message)


def test_messages_reach_the_next_step_in_order_on_another_thread() -> None:
    """Everything submitted is handed on, in order, on the step's own thread, and join waits for it."""
    behind = ThreadRecordingStep()
    step = BackgroundStep(behind, capacity=2, name="test-writer")
    for offset in range(50):
        step.submit(Message(P, offset, offset))
    step.join()
    assert [m.offset for m in behind.messages] == list(range(50))
    assert behind.threads == {"test-writer"}
    assert behind.joins == 1
    step.close()


def test_join_waits_for_the_message_in_hand() -> None:
    """join does not return while the step behind is still handling a message."""
    behind = GatedStep()
    step = BackgroundStep(behind)
    step.submit(Message(P, 0, "batch"))
    joined = threading.Event()
    joiner = threading.Thread(target=lambda: (step.join(), joined.set()))
    joiner.start()
    assert not joined.wait(timeout=0.3)
    behind.gate.set()
    assert joined.wait(timeout=10)
    joiner.join()
    assert behind.payloads == ["batch"]
    step.close()


def test_submit_waits_while_the_rows_held_would_pass_the_capacity() -> None:
    """Sizes add up: a submit that would pass the capacity waits; an oversize one waits for an empty queue only."""
    behind = GatedStep()
    step: BackgroundStep[list[int]] = BackgroundStep(behind, capacity=10, size=lambda message: len(message.payload))
    step.submit(Message(P, 0, [0] * 6))
    step.submit(Message(P, 1, [0] * 4))
    third = threading.Thread(target=step.submit, args=(Message(P, 2, [0] * 25),))
    third.start()
    third.join(timeout=0.3)
    assert third.is_alive()
    behind.gate.set()
    third.join(timeout=10)
    assert not third.is_alive()
    step.join()
    assert [m.offset for m in behind.messages] == [0, 1, 2]
    step.close()


def test_an_error_behind_is_raised_on_the_callers_thread_and_nothing_after_it_is_handed_on() -> None:
    """A failed message stops the step: later messages are dropped and every call re-raises the error."""
    behind = FailingStep(fail_at=1)
    step = BackgroundStep(behind)
    step.submit(Message(P, 0, "first"))
    step.submit(Message(P, 1, "fails"))
    with pytest.raises(ConnectionError, match="store down"):
        step.join()
    with pytest.raises(ConnectionError):
        step.submit(Message(P, 2, "after"))
    with pytest.raises(ConnectionError):
        step.poll()
    assert behind.payloads == ["first"]
    step.close()


def test_poll_does_not_reach_the_steps_behind() -> None:
    """The steps behind run on the step's thread only; poll there would race with submit."""
    behind = RecordingStep()
    step = BackgroundStep(behind)
    step.poll()
    step.join()
    assert behind.polls == 0
    step.close()
