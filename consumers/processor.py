"""The poll loop: reads Kafka, feeds the step chain, commits what the last step staged.

The loop is separate from the steps. A processing lock is held while the chain runs, so a
rebalance (which kafka-python runs on its I/O thread) waits for the chain to be idle, then
flushes and commits before the partitions go.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence, Set
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.subscription_state import AsyncConsumerRebalanceListener
from kafka.errors import CommitFailedError, KafkaError
from kafka.structs import OffsetAndMetadata

from consumers.messages import Message, Partition, RawRecord, Step
from consumers.steps.commit import OffsetLedger
from kansa import metrics

log = logging.getLogger(__name__)


class StreamProcessor:
    """Drives `chain` from `consumer` until `stop` is set.

    `housekeeping` runs under the processing lock before each batch of records (policy reloads,
    subject requests); `before_commit` runs before every commit (flush dead letters);
    `on_revoked` runs under the lock once a revocation has flushed the chain (checkpoint state);
    `after_records` runs once a poll's records are in, before `chain.poll()` may spend time writing
    a batch (publish the alerts those records raised without waiting for the store).
    """

    def __init__(self, consumer: KafkaConsumer, topic: str, chain: Step[RawRecord], ledger: OffsetLedger,
                 before_commit: Sequence[Callable[[], None]] = (),
                 on_lost: Callable[[set[Partition]], None] | None = None,
                 housekeeping: Sequence[Callable[[], None]] = (),
                 poll_timeout_ms: int = 200,
                 on_revoked: Callable[[Set[Partition]], None] | None = None,
                 after_records: Sequence[Callable[[], None]] = ()) -> None:
        self._consumer = consumer
        self._topic = topic
        self._chain = chain
        self._ledger = ledger
        self._before_commit = before_commit
        self._on_lost = on_lost
        self._housekeeping = housekeeping
        self._on_revoked = on_revoked
        self._after_records = after_records
        self._poll_timeout_ms = poll_timeout_ms
        self._lock = threading.Lock()
        self._lag_checked = 0.0

    def run(self, stop: threading.Event) -> None:
        self._consumer.subscribe([self._topic], listener=_Rebalance(self))
        try:
            while not stop.is_set():
                records = self._consumer.poll(timeout_ms=self._poll_timeout_ms)
                with self._lock:
                    for task in self._housekeeping:
                        task()
                    for tp, batch in records.items():
                        partition = Partition(tp.topic, tp.partition)
                        for record in batch:
                            self._chain.submit(Message(partition, record.offset, RawRecord(
                                record.key, record.value, list(record.headers or ()), record.timestamp,
                            )))
                    for task in self._after_records:
                        task()
                    self._chain.poll()
                self._commit_staged()
                self._report_lag()
            with self._lock:
                self._chain.join()
            self._commit_staged()
        finally:
            self._consumer.close(autocommit=False)

    def _commit_staged(self) -> None:
        # The hooks share state with the chain (dead letters awaiting acks), and a rebalance may run them on the
        # I/O thread: take the lock for them. The commit itself waits on the I/O thread, so not for that.
        with self._lock:
            staged = self._ledger.take()
            if not staged:
                return
            for hook in self._before_commit:
                hook()
        try:
            self._consumer.commit(_offsets(staged))
            metrics.COMMITS.inc()
        except CommitFailedError as exc:
            # The group moved on: the new owner replays from its committed offset and the
            # write-ahead ranges make that replay a no-op in ClickHouse.
            log.warning("commit rejected after a rebalance, new owner will replay: %s", exc)
        except KafkaError:
            self._ledger.restore(staged)
            raise

    def revoke(self, partitions: Set[Partition] = frozenset()) -> dict[TopicPartition, OffsetAndMetadata]:
        """Called from the rebalance hook: flush everything held and hand back what to commit."""
        with self._lock:
            self._chain.join()
            if self._on_revoked is not None and partitions:
                self._on_revoked(partitions)
            staged = self._ledger.take()
            if staged:
                for hook in self._before_commit:
                    hook()
        return _offsets(staged)

    def lose(self, partitions: set[Partition]) -> None:
        with self._lock:
            if self._on_lost is not None:
                self._on_lost(partitions)
            self._ledger.take()

    def _report_lag(self) -> None:
        # The high watermark arrives with every fetch response: no request of its own on this thread
        # (end_offsets held it 10-83 ms every 5 s at the end-to-end bench), and it is right on tansu,
        # whose end_offsets answers the last batch's base offset, so the lag read as 0 there.
        now = time.monotonic()
        if now - self._lag_checked < 5.0:
            return
        for tp in self._consumer.assignment():
            end = self._consumer.highwater(tp)
            if end is None:
                continue  # nothing fetched from it yet: try again at the next poll
            lag = max(0, int(end) - int(self._consumer.position(tp) or 0))
            metrics.CONSUMER_LAG.labels(tp.topic, str(tp.partition)).set(lag)
            self._lag_checked = now


class _Rebalance(AsyncConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, processor: StreamProcessor) -> None:
        self._processor = processor

    async def on_partitions_revoked(self, revoked: Any) -> None:
        offsets = self._processor.revoke({Partition(tp.topic, tp.partition) for tp in revoked})
        if offsets:
            await self._processor._consumer.commit_async(offsets)
        log.info("revoking %d partition(s): in-flight batches flushed, %d offset(s) committed before revocation",
                 len(revoked), len(offsets))

    async def on_partitions_assigned(self, assigned: Any) -> None:
        log.info("assigned %s", sorted(f"{tp.topic}/{tp.partition}" for tp in assigned))

    async def on_partitions_lost(self, lost: Any) -> None:
        self._processor.lose({Partition(tp.topic, tp.partition) for tp in lost})


def _offsets(staged: dict[Partition, int]) -> dict[TopicPartition, OffsetAndMetadata]:
    return {TopicPartition(p.topic, p.number): OffsetAndMetadata(o, "", -1) for p, o in staged.items()}
