"""Writes alert revisions to the `kansa.alerts` topic, the source of truth for alerts."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any

from consumers.alerts.model import Alert, Status, utc_now
from kansa import metrics
from schemas.cloudevents import ALERT_TYPE, binary_headers
from schemas.codec import AvroCodec

ALERT_SOURCE = "/kansa/consumer"


class AlertPublishError(Exception):
    """The broker did not acknowledge every alert; the caller must not commit its offsets."""


class AlertPublisher:
    """Synchronous on purpose: `publish` returns only when every alert is acknowledged."""

    def __init__(self, producer: Any, topic: str, codec: AvroCodec, *, timeout: float = 30.0,
                 known_orgs: Collection[str] | None = None, clock: Callable[[], datetime] = utc_now) -> None:
        self._producer = producer
        self._topic = topic
        self._codec = codec
        self._timeout = timeout
        self._known_orgs = frozenset(known_orgs) if known_orgs is not None else None
        self._clock = clock

    def publish(self, alerts: Sequence[Alert]) -> None:
        """Raises AlertPublishError unless the broker acknowledged all of `alerts`."""
        if not alerts:
            return
        try:
            futures = [
                self._producer.send(self._topic, key=alert.fingerprint.encode(), value=self._codec.encode(
                    alert.to_record()), headers=self._headers(alert))
                for alert in alerts
            ]
            self._producer.flush(timeout=self._timeout)
            for future in futures:
                future.get(timeout=self._timeout)
        except Exception as exc:  # kafka-python raises KafkaError subclasses and plain timeouts alike
            raise AlertPublishError(f"{len(alerts)} alert(s) not acknowledged by {self._topic}: {exc!r}") from exc
        now = self._clock()
        for alert in alerts:
            if alert.status is Status.FIRING and alert.revision == 1:
                org = alert.org if self._known_orgs is None or alert.org in self._known_orgs else "unknown"
                metrics.ALERTS_RAISED.labels(org=org, detector=alert.rule, severity=alert.severity.value).inc()
                metrics.EVENT_TO_ALERT_SECONDS.observe(max(0.0, (now - alert.window_start).total_seconds()))

    def _headers(self, alert: Alert) -> list[tuple[str, bytes]]:
        # One CloudEvent per revision: ce_id must differ between revisions of the same alert.
        return binary_headers(f"{alert.alert_id}/{alert.revision}", ALERT_SOURCE, ALERT_TYPE,
                              alert.updated_at, self._codec.writer_id)
