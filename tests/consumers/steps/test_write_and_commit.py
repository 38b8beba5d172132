"""WriteStep and CommitStep alone: retry with backoff, never pass a batch on before it is written."""

from __future__ import annotations

from typing import Any

import pytest

from consumers.messages import Batch, Message, Partition
from consumers.steps.commit import CommitStep, OffsetLedger
from consumers.steps.write import WriteFailed, WriteStep
from tests.consumers.steps.fakes import RecordingStep

P = Partition("events", 1)


class FlakyWriter:
    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.written: list[str] = []

    def write(self, batch: Batch[Any]) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("store down")
        self.written.append(batch.deduplication_token)


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def batch(first: int, last: int, items: list[int]) -> Message[Batch[int]]:
    return Message(P, last, Batch(P, first, last, items, None))


def test_write_retries_then_passes_on() -> None:
    """A failing store is retried with growing delays; the batch moves on only once written."""
    writer, time, nxt = FlakyWriter(failures=3), FakeTime(), RecordingStep()
    step = WriteStep(writer, nxt, retry_seconds=60, sleep=time.sleep, clock=time.clock)
    step.submit(batch(0, 9, [1]))
    assert writer.written == ["events:1:0-9"]
    assert time.sleeps == [0.1, 0.2, 0.4]
    assert len(nxt.messages) == 1


def test_write_gives_up_after_budget_without_passing_on() -> None:
    """Past the retry budget the step raises and the batch never reaches the commit step."""
    writer, time, nxt = FlakyWriter(failures=1000), FakeTime(), RecordingStep()
    step = WriteStep(writer, nxt, retry_seconds=5, sleep=time.sleep, clock=time.clock)
    with pytest.raises(WriteFailed, match="events:1:0-9"):
        step.submit(batch(0, 9, [1]))
    assert nxt.messages == []


def test_empty_batch_skips_the_store() -> None:
    """A batch of dead-lettered offsets only is not written, but its offsets still move on."""
    writer, nxt = FlakyWriter(failures=0), RecordingStep()
    WriteStep(writer, nxt, retry_seconds=1).submit(batch(4, 6, []))
    assert writer.written == []
    assert len(nxt.messages) == 1


def test_commit_step_stages_next_offset_and_keeps_the_highest() -> None:
    """The ledger holds last_offset + 1 per partition, never moving backwards."""
    ledger = OffsetLedger()
    step = CommitStep(ledger)
    step.submit(batch(0, 9, [1]))
    step.submit(batch(0, 4, [1]))
    assert ledger.take() == {P: 10}
    assert ledger.take() == {}


def test_ledger_restore_puts_offsets_back() -> None:
    """Offsets whose commit failed can be restored and taken again."""
    ledger = OffsetLedger()
    ledger.restore({P: 5})
    assert ledger.take() == {P: 5}
