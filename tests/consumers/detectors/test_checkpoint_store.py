"""Checkpoints on the real engine: timed saves are copied a slice per tick and written off the consumer's thread."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from clickhouse_connect.driver.client import Client

from consumers.detectors import checkpoint_store
from consumers.detectors.actors import ActorDetectors, Snapshot
from consumers.detectors.checkpoint_store import CheckpointSchedule, CheckpointStore, SlicedSnapshot, snapshot_json
from consumers.messages import EvaluatedEvent, Partition
from kansa.config import StorageSettings
from kansa.storage.client import connect, scalar
from kansa.storage.migrate import migrate
from tests.consumers.detectors.support import MORNING, baseline, detectors, event

P = Partition("events", 2)
Q = Partition("events", 3)


@pytest.fixture
def settings(chdb_dir: Path) -> Iterator[StorageSettings]:
    """A migrated database of its own on the session engine."""
    storage = StorageSettings(dsn=f"chdb://{chdb_dir}", database=f"ckpt_{uuid.uuid4().hex[:8]}")
    client = connect(storage)
    migrate(client)
    yield storage
    client.command(f"DROP DATABASE IF EXISTS {storage.database}")
    client.close()


def _fed() -> ActorDetectors:
    held = detectors()
    for offset, item in enumerate(baseline(MORNING, 50)):
        held.observe_in(P, EvaluatedEvent(item, 3, offset, None))
    return held


def _crowd(actors: int, partition: Partition = P, held: ActorDetectors | None = None) -> ActorDetectors:
    held = held or detectors()
    for index in range(actors):
        item = event(MORNING, actor=f"weia/staff-{partition.number}-{index:04d}")
        held.observe_in(partition, EvaluatedEvent(item, 3, index, None))
    return held


class RecordingStore(CheckpointStore):
    """The real store, noting the thread each write ran on; can be told to fail."""

    def __init__(self, client: Client, fail: bool = False) -> None:
        super().__init__(client, "group")
        self.threads: list[str] = []
        self.fail = fail

    def write(self, snapshots: list[tuple[Partition, Snapshot]], actor_count: int) -> int:
        self.threads.append(threading.current_thread().name)
        if self.fail:
            raise ConnectionError("store down")
        return super().write(snapshots, actor_count)


def test_a_timed_save_is_written_on_another_thread_and_restores(settings: StorageSettings) -> None:
    """tick() hands the copy to the checkpoint thread; the saved state restores the same actors."""
    store = RecordingStore(connect(settings))
    schedule = CheckpointSchedule(store, _fed(), interval=0, idle_seconds=10**9, max_actors=1000)
    schedule.tick()
    schedule.close()
    assert store.threads
    assert all(name.startswith("kansa-checkpoint") for name in store.threads)
    reader = connect(settings)
    assert scalar(reader, "SELECT max(actors) FROM detector_state") == 1
    restored = CheckpointStore(reader, "group").load(P)
    assert restored is not None
    assert list(restored["actors"]["weia"]) == ["weia/staff-0001"]


def test_a_failed_timed_save_stops_the_next_tick(settings: StorageSettings) -> None:
    """The background write's error is raised on the consumer's thread at the next tick, not swallowed."""
    store = RecordingStore(connect(settings), fail=True)
    schedule = CheckpointSchedule(store, _fed(), interval=0, idle_seconds=10**9, max_actors=1000)
    schedule.tick()
    schedule.close()
    with pytest.raises(ConnectionError, match="store down"):
        schedule.tick()


def test_an_inline_save_waits_for_the_timed_one(settings: StorageSettings) -> None:
    """save() (revocation, shutdown) runs after any timed save in flight, on the caller's thread."""
    store = RecordingStore(connect(settings))
    schedule = CheckpointSchedule(store, _fed(), interval=0, idle_seconds=10**9, max_actors=1000)
    schedule.tick()
    schedule.save()
    assert store.threads[-1] == threading.current_thread().name
    assert scalar(connect(settings), "SELECT count() FROM detector_state") == 2
    schedule.close()


def test_snapshot_json_is_the_one_shot_encoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sliced encoder writes exactly what one json.dumps of the snapshot writes."""
    monkeypatch.setattr(checkpoint_store, "ACTORS_PER_SLICE", 2)
    snapshot = _crowd(5).snapshot(P)
    assert snapshot is not None
    snapshot["actors"]["empty-org"] = {}
    assert snapshot_json(snapshot) == json.dumps(snapshot, separators=(",", ":"))


def test_a_sliced_snapshot_takes_arrivals_and_leaves_out_lost_partitions() -> None:
    """Copied a slice per step; actors arriving mid-capture are in it, a partition lost mid-capture is not."""
    held = _crowd(2, Q, _crowd(3))
    capture = SlicedSnapshot(held, actors_per_step=2)
    assert capture.step() is None
    _crowd(1, P, held).observe_in(P, EvaluatedEvent(event(MORNING, actor="weia/late"), 3, 9, None))
    held.forget([Q])
    assert capture.step() is None
    taken = capture.step()
    assert taken is not None
    assert [partition for partition, _ in taken] == [P]
    assert sorted(taken[0][1]["actors"]["weia"]) == sorted([*(f"weia/staff-2-{i:04d}" for i in range(3)), "weia/late"])


def test_a_step_copies_slices_until_its_time_is_spent() -> None:
    """A step copies one slice at least, and goes on slice by slice only while its time lasts."""
    # The clock moves one second per reading: the steps copy 1, 3 and 2 actors, the last one the 7th.
    ticks = iter(range(100))
    capture = SlicedSnapshot(_crowd(7), actors_per_step=1, clock=lambda: float(next(ticks)))
    assert capture.step(0) is None
    assert capture.step(3) is None
    assert capture.step(2) is None
    taken = capture.step(0)
    assert taken is not None
    assert len(taken[0][1]["actors"]["weia"]) == 7


def test_each_actor_skips_what_it_held_when_it_was_copied() -> None:
    """Actors copied at different steps of a capture each skip, on replay, only the events their copy held."""
    def item(offset: int, actor: str) -> EvaluatedEvent:
        return EvaluatedEvent(event(MORNING + timedelta(minutes=offset), actor=actor), 3, offset, None)

    held = detectors()
    held.observe_in(P, item(0, "weia/early"))
    held.observe_in(P, item(1, "weia/late"))
    capture = SlicedSnapshot(held, actors_per_step=1)
    assert capture.step() is None  # weia/early, as of offset 1
    held.observe_in(P, item(2, "weia/early"))
    held.observe_in(P, item(3, "weia/late"))
    taken = capture.step()  # weia/late, as of offset 3
    assert taken is not None
    restored = detectors()
    restored.load(P, json.loads(snapshot_json(taken[0][1])))
    for offset, actor in ((0, "weia/early"), (1, "weia/late"), (2, "weia/early"), (3, "weia/late")):
        restored.observe_in(P, item(offset, actor))
    counts = {aid: values[2] for aid, values in restored.copy_actors(P, "weia", ["weia/early", "weia/late"]).items()}
    assert counts == {"weia/early": 2, "weia/late": 2}


def test_published_alerts_are_stored_before_each_checkpoint_row(settings: StorageSettings) -> None:
    """A timed save and an inline one both store the published alerts first, so a skipped replay loses none."""
    steps: list[str] = []

    class OrderedStore(CheckpointStore):
        def write(self, snapshots: list[tuple[Partition, Snapshot]], actor_count: int) -> int:
            steps.append("checkpoint")
            return super().write(snapshots, actor_count)

    schedule = CheckpointSchedule(OrderedStore(connect(settings), "group"), _fed(), interval=0,
                                  idle_seconds=10**9, max_actors=1000, store_alerts=lambda: steps.append("alerts"))
    schedule.tick()
    schedule.save()
    schedule.close()
    assert steps == ["alerts", "checkpoint", "alerts", "checkpoint"]


def test_a_timed_save_waits_for_its_last_slice(settings: StorageSettings) -> None:
    """Nothing is written until every slice is copied; then one row holds every actor."""
    def schedule() -> CheckpointSchedule:
        return CheckpointSchedule(CheckpointStore(connect(settings), "group"), _crowd(3), interval=0,
                                  idle_seconds=10**9, max_actors=1000, actors_per_step=1,
                                  tick_seconds=0)
    unfinished = schedule()
    unfinished.tick()
    unfinished.tick()
    unfinished.close()
    assert scalar(connect(settings), "SELECT count() FROM detector_state") == 0
    finished = schedule()
    for _ in range(3):
        finished.tick()
    finished.close()
    assert scalar(connect(settings), "SELECT max(actors) FROM detector_state") == 3
