"""Saves and restores the streaming detectors' per-partition state in ClickHouse (`detector_state`)."""

from __future__ import annotations

import json
import logging
import time
import zlib
from collections.abc import Hashable, Set
from datetime import UTC, datetime

from clickhouse_connect.driver.client import Client

from consumers.detectors.actors import ActorDetectors, Snapshot
from consumers.messages import Partition
from kansa import metrics
from kansa.storage.client import TableInserter

log = logging.getLogger(__name__)


class CheckpointStore:
    def __init__(self, client: Client, consumer_group: str) -> None:
        self._client = client
        self._group = consumer_group
        self._table = TableInserter(client, "detector_state",
                                    ["consumer_group", "topic", "partition", "saved_at", "actors", "state"])

    def load(self, partition: Hashable) -> Snapshot | None:
        if not isinstance(partition, Partition):
            return None
        rows = self._client.query(
            "SELECT argMax(state, saved_at) FROM detector_state "
            "WHERE consumer_group = {g:String} AND topic = {t:String} AND partition = {p:UInt32} "
            "HAVING count() > 0",
            parameters={"g": self._group, "t": partition.topic, "p": partition.index},
        ).result_rows
        if not rows:
            return None
        raw = rows[0][0]
        data = raw.encode("latin-1") if isinstance(raw, str) else bytes(raw)
        snapshot: Snapshot = json.loads(zlib.decompress(data))
        log.info("restored detector state of %s/%d (%d orgs)", partition.topic, partition.index,
                 len(snapshot.get("actors", {})))
        return snapshot

    def save(self, detectors: ActorDetectors) -> int:
        """Write every held partition's state; returns the bytes written."""
        now = datetime.now(UTC)
        rows = []
        written = 0
        for partition in detectors.partitions():
            snapshot = detectors.snapshot(partition)
            if snapshot is None or not isinstance(partition, Partition):
                continue
            blob = zlib.compress(json.dumps(snapshot, separators=(",", ":")).encode(), 6)
            written += len(blob)
            actors = sum(len(by_actor) for by_actor in snapshot["actors"].values())
            rows.append([self._group, partition.topic, partition.index, now, actors, blob.decode("latin-1")])
        if rows:
            self._table.insert(rows)
        metrics.DETECTOR_STATE_ACTORS.set(detectors.actor_count())
        return written


class CheckpointSchedule:
    """Saves every `interval` seconds (wall clock) and on revocation; evicts idle actors before saving."""

    def __init__(self, store: CheckpointStore, detectors: ActorDetectors, interval: float,
                 idle_seconds: float, max_actors: int) -> None:
        self._store = store
        self._detectors = detectors
        self._interval = interval
        self._idle = idle_seconds
        self._max = max_actors
        self._due = time.monotonic() + interval

    def tick(self) -> None:
        if time.monotonic() >= self._due:
            self.save()

    def save(self) -> None:
        self._detectors.evict(self._idle, self._max)
        self._store.save(self._detectors)
        self._due = time.monotonic() + self._interval

    def revoked(self, partitions: Set[Partition]) -> None:
        """Save what is held, then drop the revoked partitions: a new assignment restores from the store."""
        self.save()
        self._detectors.forget(partitions)
