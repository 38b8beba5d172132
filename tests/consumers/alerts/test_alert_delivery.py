"""Alerts from the topic to a real Alertmanager and on to a loopback pager, with the real local broker."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from kafka import KafkaProducer

from consumers.alerts import (
    AlertDelivery,
    AlertFolder,
    AlertmanagerClient,
    AlertPublisher,
    DeliverySettings,
    Kind,
    Severity,
)
from kansa import metrics
from kansa.localstack.broker import LocalBroker
from schemas.codec import AvroCodec
from tests.consumers.alerts.alert_support import WebhookReceiver, delivery_consumer, local_config, running, violation

FAST = DeliverySettings(resend_interval=timedelta(seconds=5), backoff_initial=timedelta(seconds=0.2),
                        backoff_max=timedelta(seconds=2), poll_timeout_ms=100)
StartAlertmanager = Callable[[str], Any]
ORGS = ("izumisano-ssw", "chiba-cia", "weia")


def _delivery(broker: LocalBroker, topic: str, am_url: str, codec: AvroCodec, group: str | None = None
              ) -> tuple[AlertDelivery, Any]:
    consumer = delivery_consumer(broker, topic, group or f"kansa-alert-delivery-{uuid.uuid4().hex[:8]}")
    return AlertDelivery(consumer, AlertmanagerClient(am_url), codec, settings=FAST), consumer


def _ours(client: AlertmanagerClient, fingerprint: str) -> list[dict[str, object]]:
    return [a for a in client.get_alerts() if a["labels"].get("kansa_fingerprint") == fingerprint]


def test_published_alert_is_in_alertmanager_within_2s_and_pages(
        broker: LocalBroker, alerts_topic: str, producer: KafkaProducer, codec: AvroCodec,
        alertmanager: StartAlertmanager, webhook: WebhookReceiver) -> None:
    """A published bulk-export alert is in Alertmanager within 2 s and pages with its org, rule and summary."""
    am = alertmanager(local_config(webhook.url))
    client = AlertmanagerClient(am.url)
    delivery, consumer = _delivery(broker, alerts_topic, am.url, codec)
    folder = AlertFolder(timedelta(minutes=15))
    folder.add(violation(kind=Kind.DETECTOR, rule="KD-BULK-EXPORT", severity=Severity.PAGE, org="izumisano-ssw",
                         subject=None, subjects_affected=2_500, at=datetime.now(UTC)))
    [alert] = folder.drain()
    with running(delivery, consumer):
        AlertPublisher(producer, alerts_topic, codec).publish([alert])
        published = time.monotonic()
        while not _ours(client, alert.fingerprint) and time.monotonic() - published < 5:
            time.sleep(0.02)
        seen_after = time.monotonic() - published
        assert seen_after < 2.0, f"alert reached Alertmanager after {seen_after:.2f} s"
        assert webhook.wait_until(lambda: len(webhook.firing("/pager")) >= 1, timeout=30), am.log_text()
    [paged] = webhook.firing("/pager")
    assert paged["labels"]["org"] == "izumisano-ssw"
    assert paged["labels"]["rule"] == "KD-BULK-EXPORT"
    assert paged["annotations"]["summary"] == "KD-BULK-EXPORT violated at izumisano-ssw"
    assert paged["annotations"]["appi_cases"] == "over_1000_persons"


def test_alertmanager_down_30s_loses_nothing_and_duplicates_nothing(
        broker: LocalBroker, alerts_topic: str, producer: KafkaProducer, codec: AvroCodec,
        alertmanager: StartAlertmanager, webhook: WebhookReceiver) -> None:
    """Alerts raised while Alertmanager is down for 30 s all page once it is back, and none pages twice."""
    am = alertmanager(local_config(webhook.url))
    am.stop()
    down_since = time.monotonic()
    errors_before = metrics.REGISTRY.get_sample_value("kansa_alert_deliveries_total", {"result": "error"}) or 0.0
    delivery, consumer = _delivery(broker, alerts_topic, am.url, codec)
    publisher = AlertPublisher(producer, alerts_topic, codec)
    raised: list[str] = []
    with running(delivery, consumer):
        for i in range(10):
            folder = AlertFolder(timedelta(minutes=15))
            folder.add(violation(rule=f"KP0{i:02d}", org=ORGS[i % 3], severity=Severity.PAGE, at=datetime.now(UTC)))
            [alert] = folder.drain()
            publisher.publish([alert])  # returns although Alertmanager is down: the main stream never waits
            raised.append(alert.alert_id)
            time.sleep(max(0.0, down_since + 3 * (i + 1) - time.monotonic()))
        errors_during = metrics.REGISTRY.get_sample_value("kansa_alert_deliveries_total", {"result": "error"})
        assert errors_during is not None
        assert errors_during > errors_before
        assert webhook.notifications == []
        am.start()
        assert webhook.wait_until(
            lambda: {a["annotations"]["alert_id"] for a in webhook.firing("/pager")} >= set(raised), timeout=60,
        ), am.log_text()
        # Several group intervals and a re-send: a duplicate would have arrived by now.
        time.sleep(FAST.resend_interval.total_seconds() + 3)
    counts = Counter(a["annotations"]["alert_id"] for a in webhook.firing("/pager"))
    assert counts == Counter({alert_id: 1 for alert_id in raised})


def test_same_violation_100_times_is_one_alert_with_count_100(
        broker: LocalBroker, alerts_topic: str, producer: KafkaProducer, codec: AvroCodec,
        alertmanager: StartAlertmanager, webhook: WebhookReceiver) -> None:
    """One violation repeated 100 times is one alert in Alertmanager and one chat message, with count 100."""
    am = alertmanager(local_config(webhook.url))
    client = AlertmanagerClient(am.url)
    delivery, consumer = _delivery(broker, alerts_topic, am.url, codec)
    folder = AlertFolder(timedelta(minutes=15))
    now = datetime.now(UTC)
    for i in range(100):
        folder.add(violation(org="weia", rule="KP004", at=now + timedelta(milliseconds=i)))
    alerts = folder.drain()
    with running(delivery, consumer):
        AlertPublisher(producer, alerts_topic, codec).publish(alerts)
        assert webhook.wait_until(lambda: len(webhook.firing("/chat")) >= 1, timeout=30), am.log_text()
        held = [a for a in client.get_alerts() if a["labels"]["rule"] == "KP004"]
    assert len(held) == 1
    assert held[0]["annotations"]["count"] == "100"
    [chat] = webhook.firing("/chat")
    assert chat["annotations"]["count"] == "100"
    assert webhook.firing("/pager") == []


def test_restarted_delivery_resends_active_alerts_but_not_resolved_ones(
        broker: LocalBroker, alerts_topic: str, producer: KafkaProducer, codec: AvroCodec,
        alertmanager: StartAlertmanager, webhook: WebhookReceiver) -> None:
    """Committed offsets never pass a firing alert: a new delivery in the group re-sends it, not the resolved one."""
    group = f"kansa-alert-delivery-{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC)
    folder = AlertFolder(timedelta(minutes=15))
    folder.add(violation(org="chiba-cia", rule="KP001", at=now))
    folder.add(violation(org="chiba-cia", rule="KP002", at=now))
    firing, ended = folder.drain()
    publisher = AlertPublisher(producer, alerts_topic, codec)
    publisher.publish([firing, ended])
    publisher.publish([ended.resolve(now)])
    first_am = alertmanager(local_config(webhook.url))
    delivery, consumer = _delivery(broker, alerts_topic, first_am.url, codec, group)
    with running(delivery, consumer):
        assert webhook.wait_until(lambda: len(webhook.firing("/chat")) >= 1, timeout=30)
        deadline = time.monotonic() + 30
        while delivery.pending and time.monotonic() < deadline:
            time.sleep(0.1)
    first_am.stop()

    second_am = alertmanager(local_config(webhook.url))
    second = AlertmanagerClient(second_am.url)
    delivery, consumer = _delivery(broker, alerts_topic, second_am.url, codec, group)
    with running(delivery, consumer):
        deadline = time.monotonic() + 30
        while not second.get_alerts() and time.monotonic() < deadline:
            time.sleep(0.1)
        held = {a["labels"]["rule"] for a in second.get_alerts()}
    assert held == {"KP001"}
