"""Write step: a batch goes into ClickHouse (retried with backoff) before its offsets move on."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from consumers.messages import Batch, Message, Step

T = TypeVar("T")
log = logging.getLogger(__name__)


class BatchWriter(Protocol[T]):
    def write(self, batch: Batch[T]) -> None: ...


class WriteFailed(Exception):
    """The store kept refusing a batch past the retry budget; the consumer stops without committing it."""


class WriteStep(Generic[T]):
    def __init__(self, writer: BatchWriter[T], next_step: Step[Batch[T]], retry_seconds: float,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> None:
        self._writer = writer
        self._next = next_step
        self._retry_seconds = retry_seconds
        self._sleep = sleep
        self._clock = clock

    def submit(self, message: Message[Batch[T]]) -> None:
        batch = message.payload
        if batch.items:
            self._write_with_retry(batch)
        self._next.submit(message)

    def poll(self) -> None:
        self._next.poll()

    def join(self) -> None:
        self._next.join()

    def _write_with_retry(self, batch: Batch[T]) -> None:
        deadline = self._clock() + self._retry_seconds
        delay = 0.1
        while True:
            try:
                self._writer.write(batch)
                return
            except Exception as exc:  # any store error is retried: the token makes a retry harmless
                if self._clock() + delay > deadline:
                    raise WriteFailed(
                        f"could not write {batch.deduplication_token} ({len(batch.items)} rows) within "
                        f"{self._retry_seconds:.0f} s: {exc}"
                    ) from exc
                log.warning("write of %s failed, retrying in %.1f s: %s", batch.deduplication_token, delay, exc)
                self._sleep(delay)
                delay = min(delay * 2, 5.0)
