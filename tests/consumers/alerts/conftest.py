"""Fixtures for alert tests: a loopback webhook standing in for the pager, Kafka clients, the Alert codec."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic

from kansa.localstack.broker import LocalBroker
from schemas.codec import AvroCodec
from schemas.registry import ALERT, SchemaRegistry
from tests.consumers.alerts.alert_support import WebhookReceiver


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


@pytest.fixture(scope="session")
def codec() -> AvroCodec:
    return AvroCodec(SchemaRegistry.load(), ALERT)


@pytest.fixture
def alerts_topic(broker: LocalBroker) -> str:
    """A fresh two-partition alerts topic per test, so tests never see each other's alerts."""
    name = f"kansa.alerts.test-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    try:
        admin.create_topics([NewTopic(name, num_partitions=2, replication_factor=1)])
    finally:
        admin.close()
    return name


@pytest.fixture
def producer(broker: LocalBroker) -> Iterator[KafkaProducer]:
    client = KafkaProducer(bootstrap_servers=broker.bootstrap, linger_ms=0)
    yield client
    client.close(timeout=5)


