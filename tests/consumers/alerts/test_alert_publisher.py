"""AlertPublisher: alerts land on the topic keyed by fingerprint with CloudEvents headers, or publish raises."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from consumers.alerts import Alert, AlertFolder, AlertPublisher, AlertPublishError
from kansa.localstack.broker import LocalBroker
from schemas.codec import AvroCodec
from tests.consumers.alerts.alert_support import violation


def _read_all(broker: LocalBroker, topic: str, expected: int) -> list[object]:
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, enable_auto_commit=False,
                             auto_offset_reset="earliest", fetch_max_wait_ms=100)
    consumer.assign([TopicPartition(topic, p) for p in (0, 1)])
    records: list[object] = []
    deadline = time.monotonic() + 30
    while len(records) < expected and time.monotonic() < deadline:
        for batch in consumer.poll(timeout_ms=200).values():
            records.extend(batch)
    consumer.close()
    return records


def test_published_alerts_are_on_the_topic_with_key_and_headers(
        broker: LocalBroker, alerts_topic: str, producer: KafkaProducer, codec: AvroCodec) -> None:
    """Each alert revision is one message: key = fingerprint, value = Alert v1, ce_type/ce_id per revision."""
    folder = AlertFolder(timedelta(minutes=15))
    folder.add(violation(org="weia", rule="KP004"))
    folder.add(violation(org="chiba-cia", rule="KP012"))
    alerts = folder.drain()
    AlertPublisher(producer, alerts_topic, codec).publish(alerts)
    records = _read_all(broker, alerts_topic, expected=2)
    by_key = {r.key.decode(): r for r in records}  # type: ignore[attr-defined]
    assert set(by_key) == {a.fingerprint for a in alerts}
    for alert in alerts:
        record = by_key[alert.fingerprint]
        headers = dict(record.headers)  # type: ignore[attr-defined]
        assert headers["ce_type"] == b"jp.kansa.alert.v1"
        assert headers["ce_id"] == f"{alert.alert_id}/1".encode()
        assert headers["ce_dataschema"] == b"kansa:schema:4"
        assert Alert.from_record(codec.decode(record.value)) == alert  # type: ignore[attr-defined]


def test_publish_raises_when_the_broker_does_not_acknowledge(codec: AvroCodec) -> None:
    """With the broker gone, publish raises AlertPublishError instead of returning (so offsets stay uncommitted)."""
    with LocalBroker() as lonely:
        producer = KafkaProducer(bootstrap_servers=lonely.bootstrap, max_block_ms=2000, request_timeout_ms=2000,
                                 delivery_timeout_ms=3000, linger_ms=0, retries=1)
    try:
        with pytest.raises(AlertPublishError, match="not acknowledged"):
            AlertPublisher(producer, "kansa.alerts", codec, timeout=5).publish([violation()])
    finally:
        producer.close(timeout=1)
