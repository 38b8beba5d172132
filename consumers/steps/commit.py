"""Commit step: the last step. Offsets become committable only here, after their batch was written."""

from __future__ import annotations

import threading
from typing import Any

from consumers.messages import Batch, Message, Partition


class OffsetLedger:
    """Offsets staged for commit; the poll loop commits them between polls (or the revoke hook does)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._staged: dict[Partition, int] = {}

    def stage(self, partition: Partition, offset: int) -> None:
        with self._lock:
            if offset > self._staged.get(partition, -1):
                self._staged[partition] = offset

    def take(self) -> dict[Partition, int]:
        with self._lock:
            staged, self._staged = self._staged, {}
            return staged

    def restore(self, offsets: dict[Partition, int]) -> None:
        """Put back offsets whose commit failed for a retriable reason."""
        for partition, offset in offsets.items():
            self.stage(partition, offset)


class CommitStep:
    def __init__(self, ledger: OffsetLedger) -> None:
        self._ledger = ledger

    def submit(self, message: Message[Batch[Any]]) -> None:
        for partition, offset in message.payload.committable.items():
            self._ledger.stage(partition, offset)

    def poll(self) -> None:
        """Nothing is held here."""

    def join(self) -> None:
        """Nothing is held here."""
