"""AlertSink: publish sends at once, flush (before a commit) also stores; a failed store is retried, not lost."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from clickhouse_connect.driver.client import Client
from kafka import KafkaProducer

from consumers.alert_sink import AlertSink
from consumers.alerts import AlertFolder, AlertPublisher
from kansa import metrics
from kansa.config import StorageSettings
from kansa.localstack.broker import LocalBroker
from kansa.storage.client import connect, scalar
from kansa.storage.migrate import migrate
from schemas.codec import AvroCodec
from tests.consumers.alerts.alert_support import violation
from tests.consumers.alerts.test_alert_publisher import _read_all


@pytest.fixture
def store(chdb_dir: Path) -> Iterator[Client]:
    """A database of its own on the session engine, not yet migrated."""
    handle = connect(StorageSettings(dsn=f"chdb://{chdb_dir}", database=f"sink_{uuid.uuid4().hex[:8]}"))
    yield handle
    handle.command(f"DROP DATABASE IF EXISTS {handle.database}")


def _sink(producer: KafkaProducer, topic: str, codec: AvroCodec, store: Client) -> AlertSink:
    return AlertSink(AlertFolder(timedelta(minutes=15)), AlertPublisher(producer, topic, codec), store)


def _raised(org: str) -> float:
    return metrics.REGISTRY.get_sample_value(
        "kansa_alerts_raised_total", {"org": org, "detector": "KP012", "severity": "warning"}) or 0.0


def test_publish_sends_without_storing_and_flush_stores_each_alert_once(
        broker: LocalBroker, alerts_topic: str, producer: KafkaProducer, codec: AvroCodec, store: Client) -> None:
    """An alert is on the topic after publish, in the alerts table after flush, and counted once."""
    migrate(store)
    sink = _sink(producer, alerts_topic, codec, store)
    before = _raised("weia")
    sink.add(violation(org="weia"))
    sink.publish()
    assert len(_read_all(broker, alerts_topic, expected=1)) == 1
    assert scalar(store, "SELECT count() FROM alerts") == 0
    sink.flush()
    sink.flush()
    assert scalar(store, "SELECT count() FROM alerts") == 1
    assert _raised("weia") == before + 1


def test_alerts_whose_store_failed_are_stored_by_the_next_flush(
        alerts_topic: str, producer: KafkaProducer, codec: AvroCodec, store: Client) -> None:
    """A refused insert raises, keeps the published alerts, and the next flush stores them."""
    sink = _sink(producer, alerts_topic, codec, store)
    sink.add(violation(org="chiba-cia", actor="staff-1"))
    sink.publish()
    with pytest.raises(Exception, match="alerts"):
        sink.flush()
    migrate(store)
    sink.add(violation(org="chiba-cia", actor="staff-2"))
    sink.flush()
    assert sorted(row[0] for row in store.query("SELECT actor FROM alerts").result_rows) == ["staff-1", "staff-2"]


def test_alerts_link_to_their_rules_entry_in_the_configured_runbooks(
        broker: LocalBroker, alerts_topic: str, producer: KafkaProducer, codec: AvroCodec, store: Client) -> None:
    """With a runbook address set, the published and the stored alert link to address#rule-id."""
    migrate(store)
    runbooks = "https://wiki.example.org/kansa/runbooks.md"
    sink = AlertSink(AlertFolder(timedelta(minutes=15)), AlertPublisher(producer, alerts_topic, codec), store,
                     runbooks)
    sink.add(violation(org="weia"))
    sink.flush()
    published = codec.decode(_read_all(broker, alerts_topic, expected=1)[0].value)  # type: ignore[attr-defined]
    assert published["runbook_url"] == runbooks + "#kp012"
    assert scalar(store, "SELECT runbook_url FROM alerts") == runbooks + "#kp012"
