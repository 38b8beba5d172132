"""Fake neighbours for testing one step alone."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from consumers.messages import Message, Partition


class RecordingStep:
    """A next step that keeps what it is given and counts poll/join calls."""

    def __init__(self) -> None:
        self.messages: list[Message[Any]] = []
        self.polls = 0
        self.joins = 0

    def submit(self, message: Message[Any]) -> None:
        self.messages.append(message)

    def poll(self) -> None:
        self.polls += 1

    def join(self) -> None:
        self.joins += 1

    @property
    def payloads(self) -> list[Any]:
        return [m.payload for m in self.messages]


class MemoryPlanner:
    """Write-ahead ranges kept in a dict, as ClickHouseBatchPlanner keeps them in a table."""

    def __init__(self, ranges: dict[Partition, list[tuple[int, int]]] | None = None) -> None:
        self.ranges = ranges or {}
        self.log: list[tuple[Partition, int, int]] = []
        self.calls = 0

    def planned(self, partition: Partition, from_offset: int) -> list[tuple[int, int]]:
        return [r for r in self.ranges.get(partition, []) if r[1] >= from_offset]

    def plan(self, ranges: Sequence[tuple[Partition, int, int]]) -> None:
        self.calls += 1
        for partition, first_offset, last_offset in ranges:
            self.log.append((partition, first_offset, last_offset))
            self.ranges.setdefault(partition, []).append((first_offset, last_offset))
