"""BatchStep alone, with an in-memory planner and a recording next step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from consumers.messages import Batch, Message, Partition
from consumers.steps.batch import BatchStep
from tests.consumers.steps.fakes import MemoryPlanner, RecordingStep

P0 = Partition("events", 0)
P1 = Partition("events", 1)
T0 = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def make(planner: MemoryPlanner | None = None, max_rows: int = 3, max_seconds: float = 1.0,
         ) -> tuple[BatchStep[int], RecordingStep, MemoryPlanner, Clock]:
    planner = planner or MemoryPlanner()
    nxt, clock = RecordingStep(), Clock()
    step: BatchStep[int] = BatchStep(planner, nxt, max_rows, max_seconds,
                                     event_time=lambda n: T0 + timedelta(seconds=n), clock=clock)
    return step, nxt, planner, clock


def batches(nxt: RecordingStep) -> list[Batch[int]]:
    return list(nxt.payloads)


def test_flushes_when_row_limit_is_reached() -> None:
    """Reaching max_rows hands on one batch per partition, covering exactly the offsets seen."""
    step, nxt, planner, _ = make(max_rows=3)
    step.submit(Message(P0, 10, 1))
    step.submit(Message(P1, 5, 2))
    assert nxt.messages == []
    step.submit(Message(P0, 11, 3))
    got = {(b.partition, b.first_offset, b.last_offset, tuple(b.items)) for b in batches(nxt)}
    assert got == {(P0, 10, 11, (1, 3)), (P1, 5, 5, (2,))}
    assert set(planner.log) == {(P0, 10, 11), (P1, 5, 5)}
    assert planner.calls == 1


def test_flushes_by_age_on_poll() -> None:
    """A partial batch is handed on by poll() once it is max_seconds old, not before."""
    step, nxt, _, clock = make(max_rows=100, max_seconds=1.0)
    step.submit(Message(P0, 0, 7))
    clock.now = 0.9
    step.poll()
    assert nxt.messages == []
    clock.now = 1.0
    step.poll()
    assert [(b.first_offset, b.last_offset) for b in batches(nxt)] == [(0, 0)]
    assert nxt.polls == 2


def test_dead_lettered_offsets_are_committable_without_rows() -> None:
    """A None payload (dead-lettered) extends the range to commit but adds no row and no plan."""
    step, nxt, planner, clock = make(max_rows=100)
    step.submit(Message(P0, 0, None))
    step.submit(Message(P0, 1, None))
    clock.now = 5
    step.poll()
    (batch,) = batches(nxt)
    assert (batch.first_offset, batch.last_offset, batch.items) == (0, 1, [])
    assert batch.committable == {P0: 2}
    assert planner.log == []


def test_planned_ranges_replay_exactly() -> None:
    """A partition taken over replays its planned ranges with identical bounds, whatever the size limit."""
    planner = MemoryPlanner({P0: [(0, 4), (5, 6)]})
    step, nxt, _, clock = make(planner, max_rows=2)
    for offset in range(0, 9):
        step.submit(Message(P0, offset, offset))
    clock.now = 10
    step.poll()
    ranges = [(b.first_offset, b.last_offset) for b in batches(nxt)]
    assert ranges[:2] == [(0, 4), (5, 6)]
    assert ranges[2:] == [(7, 8)]
    assert [b.deduplication_token for b in batches(nxt)][:2] == ["events:0:0-4", "events:0:5-6"]


def test_replay_handles_a_gap_at_the_planned_end() -> None:
    """If the planned last offset never arrives (a gap), the range is closed by the next offset past it."""
    planner = MemoryPlanner({P0: [(0, 2)]})
    step, nxt, _, _ = make(planner, max_rows=100)
    step.submit(Message(P0, 0, 0))
    step.submit(Message(P0, 1, 1))
    step.submit(Message(P0, 3, 3))
    assert [(b.first_offset, b.last_offset, b.items) for b in batches(nxt)] == [(0, 2, [0, 1])]


def test_join_flushes_normal_work_and_drops_half_replayed_ranges() -> None:
    """join() hands on unplanned buffers but drops a half-replayed plan, so it is replayed whole later."""
    planner = MemoryPlanner({P1: [(0, 9)]})
    step, nxt, _, _ = make(planner, max_rows=100)
    step.submit(Message(P0, 3, 3))
    step.submit(Message(P1, 0, 0))
    step.join()
    assert [(b.partition, b.first_offset, b.last_offset) for b in batches(nxt)] == [(P0, 3, 3)]
    assert nxt.joins == 1


def test_plan_is_recorded_before_the_batch_moves_on() -> None:
    """The write-ahead range exists by the time the write step sees the batch."""
    planner = MemoryPlanner()
    seen: list[int] = []

    class CheckingStep(RecordingStep):
        def submit(self, message: Message[Batch[int]]) -> None:
            seen.append(len(planner.log))
            super().submit(message)

    step: BatchStep[int] = BatchStep(planner, CheckingStep(), 1, 1.0, event_time=lambda n: T0)
    step.submit(Message(P0, 0, 1))
    assert seen == [1]


def test_oldest_event_time_is_tracked() -> None:
    """A batch knows its oldest event time (for end-to-end latency)."""
    step, nxt, _, _ = make(max_rows=3)
    for offset, value in enumerate((30, 10, 20)):
        step.submit(Message(P0, offset, value))
    assert batches(nxt)[0].oldest_event_at == T0 + timedelta(seconds=10)
