"""Saves and restores the streaming detectors' per-partition state in ClickHouse (`detector_state`)."""

from __future__ import annotations

import json
import logging
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable, Hashable, Set
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from clickhouse_connect.driver.client import Client

from consumers.detectors.actors import ActorDetectors, Snapshot
from consumers.messages import Partition
from kansa import metrics
from kansa.storage.client import TableInserter

log = logging.getLogger(__name__)

# Actors serialised per json.dumps call: a few milliseconds each, measured.
ACTORS_PER_SLICE = 1_000
# A timed capture copies slices of ACTORS_PER_STEP actors until TICK_SECONDS have passed, once per
# poll. 1,000 actors per tick took 4.5 ms alone but 20-89 ms on the consumer's thread at the
# end-to-end bench (it shares two cores with the producer, the broker and the writer), and the
# alerts slowest to publish were those waiting behind it (docs/performance.md, seventh round).
ACTORS_PER_STEP = 100
TICK_SECONDS = 0.004
_COMPACT = (",", ":")


class CheckpointStore:
    """Thread-safe: the schedule writes from a thread of its own while the consumer may restore."""

    def __init__(self, client: Client, consumer_group: str) -> None:
        self._lock = threading.Lock()
        self._client = client
        self._group = consumer_group
        self._table = TableInserter(client, "detector_state",
                                    ["consumer_group", "topic", "partition", "saved_at", "actors", "state"])

    def load(self, partition: Hashable) -> Snapshot | None:
        if not isinstance(partition, Partition):
            return None
        with self._lock:
            rows = self._client.query(
                "SELECT argMax(state, saved_at) FROM detector_state "
                "WHERE consumer_group = {g:String} AND topic = {t:String} AND partition = {p:UInt32} "
                "HAVING count() > 0",
                parameters={"g": self._group, "t": partition.topic, "p": partition.number},
            ).result_rows
        if not rows:
            return None
        raw = rows[0][0]
        data = raw.encode("latin-1") if isinstance(raw, str) else bytes(raw)
        snapshot: Snapshot = json.loads(zlib.decompress(data))
        log.info("restored detector state of %s/%d (%d orgs)", partition.topic, partition.number,
                 len(snapshot.get("actors", {})))
        return snapshot

    def close(self) -> None:
        with self._lock:
            self._client.close()

    def save(self, detectors: ActorDetectors) -> int:
        """Copy and write every held partition's state at once; returns the bytes written."""
        return self.write(SlicedSnapshot(detectors).rest(), detectors.actor_count())

    def write(self, snapshots: list[tuple[Partition, Snapshot]], actor_count: int) -> int:
        now = datetime.now(UTC)
        rows = []
        written = 0
        for partition, snapshot in snapshots:
            # Level 1: a third of level 6's time for a blob about a fifth larger (JSON of counters).
            blob = zlib.compress(snapshot_json(snapshot).encode(), 1)
            written += len(blob)
            actors = sum(len(by_actor) for by_actor in snapshot["actors"].values())
            rows.append([self._group, partition.topic, partition.number, now, actors, blob.decode("latin-1")])
        if rows:
            with self._lock:
                self._table.insert(rows)
        metrics.DETECTOR_STATE_ACTORS.set(actor_count)
        return written


def snapshot_json(snapshot: Snapshot) -> str:
    """`json.dumps(snapshot)` (compact), encoded a slice of actors per call.

    One call over the whole state holds the GIL for as long as it runs, and so stalls the
    consumer's thread while the checkpoint thread serialises: 150-200 ms at the end-to-end bench.
    """
    orgs = []
    for org, by_actor in snapshot["actors"].items():
        actors = list(by_actor.items())
        slices = (json.dumps(dict(actors[start:start + ACTORS_PER_SLICE]), separators=_COMPACT)[1:-1]
                  for start in range(0, len(actors), ACTORS_PER_SLICE))
        orgs.append(json.dumps(org) + ":{" + ",".join(slices) + "}")
    fields = [json.dumps(key) + ":" + json.dumps(value, separators=_COMPACT)
              for key, value in snapshot.items() if key != "actors"]
    fields.append('"actors":{' + ",".join(orgs) + "}")
    return "{" + ",".join(fields) + "}"


class SlicedSnapshot:
    """A copy of every held partition's detector state, taken a few slices of actors per step.

    Copying every actor at once stalled the consumer's thread for 350-400 ms per timed save at
    the end-to-end bench, straight into the event-to-alert p99. Each actor is copied whole, but
    actors are copied at different steps, so the checkpoint is not of one instant; a restore
    already tolerates that much, as it tolerates the events replayed since the committed offset.
    Actors that arrived during the capture are copied at the last step; partitions no longer
    held by then are left out.
    """

    def __init__(self, detectors: ActorDetectors, actors_per_step: int = ACTORS_PER_STEP,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self._detectors = detectors
        self._per_step = actors_per_step
        self._clock = clock
        partitions = [p for p in detectors.partitions() if isinstance(p, Partition)]
        self._work: deque[tuple[Partition, str, list[str]]] = deque(
            (partition, org, ids) for partition in partitions for org, ids in detectors.roster(partition))
        self._copied: dict[Partition, dict[str, dict[str, list[Any]]]] = {p: {} for p in partitions}

    def step(self, seconds: float = 0.0) -> list[tuple[Partition, Snapshot]] | None:
        """Copy slices of `actors_per_step` until `seconds` have passed (one at least).

        Returns the whole snapshot once the last slice is copied, else None.
        """
        until = self._clock() + seconds
        self._copy_slice()
        while self._work and self._clock() < until:
            self._copy_slice()
        return None if self._work else self._finish()

    def _copy_slice(self) -> None:
        budget = self._per_step
        while self._work and budget > 0:
            partition, org, ids = self._work.popleft()
            if len(ids) > budget:
                self._work.appendleft((partition, org, ids[budget:]))
                ids = ids[:budget]
            self._copied[partition].setdefault(org, {}).update(self._detectors.copy_actors(partition, org, ids))
            budget -= len(ids)

    def rest(self) -> list[tuple[Partition, Snapshot]]:
        """Copy every slice left now; the whole snapshot."""
        while (taken := self.step()) is None:
            pass
        return taken

    def _finish(self) -> list[tuple[Partition, Snapshot]]:
        held = set(self._detectors.partitions())
        taken = []
        for partition, orgs in self._copied.items():
            if partition not in held:
                continue
            for org, ids in self._detectors.roster(partition):
                copied = orgs.setdefault(org, {})
                copied.update(self._detectors.copy_actors(partition, org, [i for i in ids if i not in copied]))
            taken.append((partition, self._detectors.assemble(partition, orgs)))
        return taken


class CheckpointSchedule:
    """Saves every `interval` seconds (wall clock) and on revocation; evicts idle actors before saving.

    A timed save copies the state on the consumer's thread for `tick_seconds` per tick
    (`SlicedSnapshot`), then serialises, compresses and inserts it on a thread of its own: done
    inline and at once, that was a stall of 350-550 ms every interval, straight into the
    event-to-alert p99. Saves on revocation and shutdown are whole and inline, so a new owner
    always restores the newest state.

    `store_alerts` runs before each checkpoint row is written: a restored state skips the replayed
    events it already holds, so the alerts those events raised (published before the copy) must
    be in the `alerts` table first, or a crash would leave them only on the topic.
    """

    def __init__(self, store: CheckpointStore, detectors: ActorDetectors, interval: float,
                 idle_seconds: float, max_actors: int, actors_per_step: int = ACTORS_PER_STEP,
                 tick_seconds: float = TICK_SECONDS, store_alerts: Callable[[], None] = lambda: None) -> None:
        self._store = store
        self._store_alerts = store_alerts
        self._detectors = detectors
        self._interval = interval
        self._idle = idle_seconds
        self._max = max_actors
        self._per_step = actors_per_step
        self._tick_seconds = tick_seconds
        self._due = time.monotonic() + interval
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kansa-checkpoint")
        self._capture: SlicedSnapshot | None = None
        self._in_flight: Future[int] | None = None

    def tick(self) -> None:
        if self._in_flight is not None and self._in_flight.done():
            self._in_flight.result()  # a failed save stops the consumer, as an inline one would
            self._in_flight = None
        if self._capture is None and self._in_flight is None and time.monotonic() >= self._due:
            self._detectors.evict(self._idle, self._max)
            self._capture = SlicedSnapshot(self._detectors, self._per_step)
            self._due = time.monotonic() + self._interval
        if self._capture is not None:
            taken = self._capture.step(self._tick_seconds)
            if taken is not None:
                self._capture = None
                self._in_flight = self._writer.submit(self._write, taken, self._detectors.actor_count())

    def save(self) -> None:
        self._capture = None  # superseded by the whole copy below
        if self._in_flight is not None:
            in_flight, self._in_flight = self._in_flight, None
            in_flight.result()
        self._detectors.evict(self._idle, self._max)
        self._store_alerts()
        self._store.save(self._detectors)
        self._due = time.monotonic() + self._interval

    def _write(self, snapshots: list[tuple[Partition, Snapshot]], actor_count: int) -> int:
        self._store_alerts()
        return self._store.write(snapshots, actor_count)

    def revoked(self, partitions: Set[Partition]) -> None:
        """Save what is held, then drop the revoked partitions: a new assignment restores from the store."""
        self.save()
        self._detectors.forget(partitions)

    def close(self) -> None:
        """Wait for a save in flight, stop the writer thread and close the store's handle."""
        self._writer.shutdown(wait=True)
        self._store.close()
