"""CheckpointSchedule on the real engine: timed saves run off the consumer's thread, and their failures surface."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from clickhouse_connect.driver.client import Client

from consumers.detectors.actors import ActorDetectors, Snapshot
from consumers.detectors.checkpoint_store import CheckpointSchedule, CheckpointStore
from consumers.messages import EvaluatedEvent, Partition
from kansa.config import StorageSettings
from kansa.storage.client import connect, scalar
from kansa.storage.migrate import migrate
from tests.consumers.detectors.support import MORNING, baseline, detectors

P = Partition("events", 2)


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
