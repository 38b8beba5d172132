"""AlertSink: publish sends at once, store inserts what was published; a failed store is retried, not lost.

And the two steps around the writer: a batch's alerts are published before it is handed on and
stored before it is written.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from clickhouse_connect.driver.client import Client
from kafka import KafkaProducer

from consumers.alert_sink import AlertsFirstWriter, AlertSink, AlertTable, PublishAlertsStep
from consumers.alerts import AlertFolder, AlertPublisher
from consumers.messages import Batch, Message, Partition
from kansa import metrics
from kansa.config import StorageSettings
from kansa.localstack.broker import LocalBroker
from kansa.storage.client import connect, scalar
from kansa.storage.migrate import migrate
from schemas.codec import AvroCodec
from tests.consumers.alerts.alert_support import violation
from tests.consumers.alerts.test_alert_publisher import _read_all
from tests.consumers.steps.fakes import RecordingStep

EVENTS = Partition("kansa.access-events", 0)


@pytest.fixture
def store(chdb_dir: Path) -> Iterator[Client]:
    """A database of its own on the session engine, not yet migrated."""
    handle = connect(StorageSettings(dsn=f"chdb://{chdb_dir}", database=f"sink_{uuid.uuid4().hex[:8]}"))
    yield handle
    handle.command(f"DROP DATABASE IF EXISTS {handle.database}")


def _sink(producer: KafkaProducer, topic: str, codec: AvroCodec) -> AlertSink:
    return AlertSink(AlertFolder(timedelta(minutes=15)), AlertPublisher(producer, topic, codec))


def _raised(org: str) -> float:
    return metrics.REGISTRY.get_sample_value(
        "kansa_alerts_raised_total", {"org": org, "detector": "KP012", "severity": "warning"}) or 0.0


def test_publish_sends_without_storing_and_store_stores_each_alert_once(
        broker: LocalBroker, alerts_topic: str, producer: KafkaProducer, codec: AvroCodec, store: Client) -> None:
    """An alert is on the topic after publish, in the alerts table after store, and counted once."""
    migrate(store)
    sink = _sink(producer, alerts_topic, codec)
    table = AlertTable(store)
    before = _raised("weia")
    sink.add(violation(org="weia"))
    sink.store(table)
    assert scalar(store, "SELECT count() FROM alerts") == 0
    sink.publish()
    assert len(_read_all(broker, alerts_topic, expected=1)) == 1
    assert scalar(store, "SELECT count() FROM alerts") == 0
    sink.store(table)
    sink.store(table)
    assert scalar(store, "SELECT count() FROM alerts") == 1
    assert _raised("weia") == before + 1


def test_alerts_whose_store_failed_are_stored_by_the_next_store(
        alerts_topic: str, producer: KafkaProducer, codec: AvroCodec, store: Client) -> None:
    """A refused insert raises, keeps the published alerts, and the next store inserts them first."""
    sink = _sink(producer, alerts_topic, codec)
    sink.add(violation(org="chiba-cia", actor="staff-1"))
    sink.publish()
    with pytest.raises(Exception, match="alerts"):
        sink.store(AlertTable(store))
    migrate(store)
    sink.add(violation(org="chiba-cia", actor="staff-2"))
    sink.publish()
    sink.store(AlertTable(store))
    assert sorted(row[0] for row in store.query("SELECT actor FROM alerts").result_rows) == ["staff-1", "staff-2"]


def test_a_batch_is_handed_on_after_its_alerts_are_published(
        broker: LocalBroker, alerts_topic: str, producer: KafkaProducer, codec: AvroCodec, store: Client) -> None:
    """The step in front of the writer publishes what was raised, then hands the batch on unchanged."""
    sink = _sink(producer, alerts_topic, codec)
    writer = RecordingStep()
    step: PublishAlertsStep[str] = PublishAlertsStep(sink, writer)
    sink.add(violation(org="weia"))
    batch = Message(EVENTS, 7, Batch(EVENTS, 0, 7, ["event"], None))
    step.submit(batch)
    assert writer.messages == [batch]
    assert len(_read_all(broker, alerts_topic, expected=1)) == 1


class _CountingWriter:
    """A batch writer that notes how many alerts the table held when each batch came."""

    def __init__(self, store: Client) -> None:
        self.store = store
        self.alerts_seen: list[int] = []

    def write(self, batch: Batch[str]) -> None:
        self.alerts_seen.append(int(scalar(self.store, "SELECT count() FROM alerts")))


def test_the_writer_stores_published_alerts_before_the_batch(
        alerts_topic: str, producer: KafkaProducer, codec: AvroCodec, store: Client) -> None:
    """Alerts published before a batch reached the writer are in the table when the batch is written."""
    migrate(store)
    sink = _sink(producer, alerts_topic, codec)
    events = _CountingWriter(store)
    writer = AlertsFirstWriter(sink, AlertTable(store), events)
    writer.write(Batch(EVENTS, 0, 0, ["event"], None))
    sink.add(violation(org="weia", actor="staff-1"))
    sink.add(violation(org="weia", actor="staff-2"))
    sink.publish()
    writer.write(Batch(EVENTS, 1, 1, ["event"], None))
    assert events.alerts_seen == [0, 2]


def test_alerts_link_to_their_rules_entry_in_the_configured_runbooks(
        broker: LocalBroker, alerts_topic: str, producer: KafkaProducer, codec: AvroCodec, store: Client) -> None:
    """With a runbook address set, the published and the stored alert link to address#rule-id."""
    migrate(store)
    runbooks = "https://wiki.example.org/kansa/runbooks.md"
    sink = AlertSink(AlertFolder(timedelta(minutes=15)), AlertPublisher(producer, alerts_topic, codec), runbooks)
    sink.add(violation(org="weia"))
    sink.publish()
    sink.store(AlertTable(store))
    published = codec.decode(_read_all(broker, alerts_topic, expected=1)[0].value)  # type: ignore[attr-defined]
    assert published["runbook_url"] == runbooks + "#kp012"
    assert scalar(store, "SELECT runbook_url FROM alerts") == runbooks + "#kp012"
