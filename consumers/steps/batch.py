"""Batch step: per Kafka partition, gather events into offset ranges; flush by size or age.

A partition taken over from another consumer may have ranges that were planned (and maybe
written) but not committed. Those ranges are replayed exactly as planned, so each insert
carries the same deduplication token as before and ClickHouse drops the repeat.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from consumers.messages import Batch, Message, Partition, Step

T = TypeVar("T")


class BatchPlanner(Protocol):
    def planned(self, partition: Partition, from_offset: int) -> list[tuple[int, int]]:
        """Offset ranges already planned at or after `from_offset`, in order."""

    def plan(self, ranges: Sequence[tuple[Partition, int, int]]) -> None:
        """Record (partition, first, last) ranges before they are written, so a successor can replay them."""


@dataclass
class _Buffer(Generic[T]):
    replay: deque[tuple[int, int]]
    items: list[T] = field(default_factory=list)
    first_offset: int = -1
    last_offset: int = -1
    oldest_event_at: datetime | None = None
    started: float = 0.0


class BatchStep(Generic[T]):
    def __init__(self, planner: BatchPlanner, next_step: Step[Batch[T]], max_rows: int, max_seconds: float,
                 event_time: Callable[[T], datetime], clock: Callable[[], float] = time.monotonic) -> None:
        self._planner = planner
        self._next = next_step
        self._max_rows = max_rows
        self._max_seconds = max_seconds
        self._event_time = event_time
        self._clock = clock
        self._buffers: dict[Partition, _Buffer[T]] = {}
        self._rows = 0

    def submit(self, message: Message[T | None]) -> None:
        buffer = self._buffers.get(message.partition)
        if buffer is None:
            buffer = _Buffer(deque(self._planner.planned(message.partition, message.offset)))
            self._buffers[message.partition] = buffer
        if buffer.replay and buffer.last_offset >= 0 and message.offset > buffer.replay[0][1]:
            buffer = self._flush_replayed(message.partition, buffer)
        if buffer.first_offset < 0:
            buffer.first_offset = message.offset
            buffer.started = self._clock()
        buffer.last_offset = message.offset
        if message.payload is not None:
            buffer.items.append(message.payload)
            self._rows += 1
            at = self._event_time(message.payload)
            if buffer.oldest_event_at is None or at < buffer.oldest_event_at:
                buffer.oldest_event_at = at
        if buffer.replay and message.offset >= buffer.replay[0][1]:
            self._flush_replayed(message.partition, buffer)
        elif self._rows >= self._max_rows:
            self._flush_unplanned()

    def poll(self) -> None:
        now = self._clock()
        if any(b.first_offset >= 0 and not b.replay and now - b.started >= self._max_seconds
               for b in self._buffers.values()):
            self._flush_unplanned()
        self._next.poll()

    def join(self) -> None:
        """Flush what can be flushed; a half-replayed planned range is dropped, to be replayed whole later."""
        self._flush_unplanned()
        for partition, buffer in list(self._buffers.items()):
            if buffer.replay:
                self._rows -= len(buffer.items)
                del self._buffers[partition]
        self._next.join()

    def forget(self, partitions: set[Partition]) -> None:
        """Drop unflushed work for partitions this consumer lost without a clean hand-over."""
        for partition in partitions:
            buffer = self._buffers.pop(partition, None)
            if buffer is not None:
                self._rows -= len(buffer.items)

    def _flush_unplanned(self) -> None:
        due = [(p, b) for p, b in self._buffers.items() if b.first_offset >= 0 and not b.replay]
        # One write-ahead insert for every partition flushed now: each insert has a fixed cost.
        ranges = [(p, b.first_offset, b.last_offset) for p, b in due if b.items]
        if ranges:
            self._planner.plan(ranges)
        for partition, buffer in due:
            self._hand_on(partition, buffer, buffer.first_offset, buffer.last_offset)

    def _flush_replayed(self, partition: Partition, buffer: _Buffer[T]) -> _Buffer[T]:
        first, last = buffer.replay.popleft()
        return self._hand_on(partition, buffer, min(first, buffer.first_offset), max(last, buffer.last_offset))

    def _hand_on(self, partition: Partition, buffer: _Buffer[T], first: int, last: int) -> _Buffer[T]:
        """Pass the buffer's batch on; returns the fresh buffer that replaces it."""
        batch = Batch(partition, first, last, buffer.items, buffer.oldest_event_at)
        self._rows -= len(buffer.items)
        fresh: _Buffer[T] = _Buffer(buffer.replay)
        self._buffers[partition] = fresh
        self._next.submit(Message(partition, last, batch))
        return fresh
