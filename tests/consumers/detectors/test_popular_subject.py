"""KD-POPULAR-SUBJECT, the SQL detector, against the real embedded engine."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from clickhouse_connect.driver.client import Client

from consumers.clickhouse_sink import ClickHouseBatchWriter
from consumers.detectors import DetectorThresholds, Thresholds
from consumers.detectors.popular_subject import PopularSubjectDetector
from consumers.messages import Batch, EvaluatedEvent, Partition, StoredEvent
from consumers.policy import ALLOW
from schemas.records import AccessEvent
from tests.consumers.detectors.support import MORNING, NOW, POLICIES, event

WINDOW_START = MORNING + timedelta(hours=13)
THRESHOLDS = DetectorThresholds(Thresholds(popular_actors=8), {})


def store(client: Client, events: list[AccessEvent], partition: int = 0, first_offset: int = 0) -> None:
    items = [StoredEvent.of(EvaluatedEvent(e, 3, offset, ALLOW)) for offset, e in enumerate(events, first_offset)]
    ClickHouseBatchWriter(client).write(
        Batch(Partition("events", partition), first_offset, first_offset + len(items) - 1, items, None))


def opened_by(subject: str, actors: range, start: timedelta) -> list[AccessEvent]:
    return [event(WINDOW_START + start + timedelta(minutes=i), actor=f"weia/staff-{a:04d}", subject=subject)
            for i, a in enumerate(actors)]


def detector(client: Client) -> PopularSubjectDetector:
    return PopularSubjectDetector(client, lambda: POLICIES, lambda: THRESHOLDS, clock=lambda: NOW)


def test_one_subject_opened_by_many_new_readers_is_reported_once(store_client: Client) -> None:
    """Ten staff who never opened a subject open it within the hour: one alert; a rerun adds none."""
    history = [event(MORNING + timedelta(minutes=10 * i), subject=f"client-{i % 10:06d}") for i in range(80)]
    store(store_client, history + opened_by("client-famous", range(10, 20), timedelta(minutes=5)))
    (alert,) = detector(store_client).run()
    assert (alert.rule, alert.org, alert.subject, alert.count) == ("KD-POPULAR-SUBJECT", "weia", "client-famous", 10)
    assert alert.actor is None
    assert "10" in alert.description.en


def test_reruns_and_other_consumers_agree_on_the_alert_id(store_client: Client) -> None:
    """The same finding from a rerun of another consumer carries the same alert id (no double alert)."""
    history = [event(MORNING + timedelta(minutes=10 * i), subject=f"client-{i % 10:06d}") for i in range(80)]
    store(store_client, history + opened_by("client-famous", range(10, 20), timedelta(minutes=5)))
    first = detector(store_client)
    (alert,) = first.run()
    assert first.run() == []
    (again,) = detector(store_client).run()
    assert again.alert_id == alert.alert_id


def test_a_subject_many_already_handled_is_not_reported(store_client: Client) -> None:
    """A case the same many staff worked on in the days before is routine, not curiosity."""
    history = [event(MORNING + timedelta(minutes=10 * i), subject=f"client-{i % 10:06d}") for i in range(80)]
    before = [event(MORNING + timedelta(hours=2, minutes=i), actor=f"weia/staff-{a:04d}", subject="client-case")
              for i, a in enumerate(range(10, 20))]
    store(store_client, history + before + opened_by("client-case", range(10, 20), timedelta(minutes=5)))
    assert detector(store_client).run() == []


def test_nothing_is_reported_without_twelve_hours_of_history(store_client: Client) -> None:
    """With too little history every subject would look new, so the detector waits."""
    store(store_client, opened_by("client-famous", range(10, 20), timedelta(minutes=5)))
    assert detector(store_client).run() == []


def test_a_burst_stored_behind_later_events_is_still_looked_at(store_client: Client) -> None:
    """Events stored since the last run that reach hours past a burst (a backlog caught up) still show the burst."""
    history = [event(MORNING + timedelta(minutes=10 * i), subject=f"client-{i % 10:06d}") for i in range(80)]
    store(store_client, history)
    found = detector(store_client)
    assert found.run() == []
    later = [event(WINDOW_START + timedelta(minutes=30 + 10 * i), subject=f"client-{i % 10:06d}") for i in range(24)]
    store(store_client, opened_by("client-famous", range(10, 20), timedelta(minutes=5)) + later)
    (alert,) = found.run()
    assert (alert.subject, alert.count) == ("client-famous", 10)
    assert found.run() == []


def test_a_restarted_consumer_goes_on_from_where_the_last_run_stopped(store_client: Client) -> None:
    """A burst inside the backlog a consumer restarts on is found: how far it had looked is in the store."""
    history = [event(MORNING + timedelta(minutes=10 * i), subject=f"client-{i % 10:06d}") for i in range(80)]
    store(store_client, history)
    assert detector(store_client).run() == []
    later = [event(WINDOW_START + timedelta(minutes=30 + 10 * i), subject=f"client-{i % 10:06d}") for i in range(24)]
    store(store_client, opened_by("client-famous", range(10, 20), timedelta(minutes=5)) + later)
    (alert,) = detector(store_client).run()
    assert (alert.subject, alert.count) == ("client-famous", 10)


def test_a_burst_a_lagging_partition_stores_late_is_still_found(store_client: Client) -> None:
    """Windows looked at while one partition was behind are looked at again once it has caught up."""
    history = [event(MORNING + timedelta(minutes=10 * i), subject=f"client-{i % 10:06d}") for i in range(80)]
    store(store_client, history[::2], partition=0)
    store(store_client, history[1::2], partition=1)
    found = detector(store_client)
    assert found.run() == []
    burst = MORNING + timedelta(hours=14)
    readers = opened_by("client-famous", range(10, 20), burst - WINDOW_START)
    later = [event(burst + timedelta(minutes=20 + 10 * i), subject=f"client-{i:06d}") for i in range(6)]
    store(store_client, readers[6:] + later, partition=0, first_offset=1_000)
    assert found.run() == []  # four readers so far: partition 1 has not stored its six yet
    store(store_client, readers[:6], partition=1, first_offset=1_000)
    (alert,) = found.run()
    assert (alert.subject, alert.count) == ("client-famous", 10)


def test_a_run_with_no_new_events_records_no_progress(store_client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    """Progress is written when event time has moved on, not on every run of a quiet organisation."""
    history = [event(MORNING + timedelta(minutes=10 * i), subject=f"client-{i % 10:06d}") for i in range(80)]
    store(store_client, history)
    inserted: list[str] = []
    original = store_client.insert

    def recording(table: str, *args: Any, **kwargs: Any) -> Any:
        inserted.append(table)
        return original(table, *args, **kwargs)

    monkeypatch.setattr(store_client, "insert", recording)
    found = detector(store_client)
    assert found.run() == []
    assert found.run() == []
    assert inserted == ["sql_detector_progress"]
    store(store_client, [event(MORNING + timedelta(hours=14), subject="client-000001")])
    assert found.run() == []
    assert inserted == ["sql_detector_progress", "sql_detector_progress"]


def test_a_backlog_longer_than_a_day_is_caught_up_over_several_runs(store_client: Client) -> None:
    """Each run looks at a day of windows at most and stores how far it got; the next run goes on from there."""
    history = [event(MORNING + timedelta(minutes=10 * i), subject=f"client-{i % 10:06d}") for i in range(80)]
    store(store_client, history)
    found = detector(store_client)
    assert found.run() == []
    far = WINDOW_START + timedelta(hours=30)
    later = [event(far + timedelta(hours=2, minutes=10 * i), subject=f"client-{i % 10:06d}") for i in range(6)]
    store(store_client, [event(far + timedelta(minutes=i), actor=f"weia/staff-{a:04d}", subject="client-famous")
                         for i, a in enumerate(range(10, 20))] + later)
    assert found.run() == []
    looked = store_client.query("SELECT max(looked_until) FROM sql_detector_progress").result_rows[0][0]
    assert (MORNING + timedelta(minutes=790) + timedelta(hours=24)).replace(tzinfo=None) == looked.replace(tzinfo=None)
    (alert,) = detector(store_client).run()
    assert alert.subject == "client-famous"
